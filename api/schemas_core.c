/* schemas_core.c — the core/v1 resources besides the pod's insides: Pod, Service, Endpoints,
 * PersistentVolumeClaim, PersistentVolume, ConfigMap, Secret, Event, Namespace, Node. Protobuf tags
 * (k8s.io/api/core/v1/generated.proto) are given for the kinds kubectl's typed clients send as
 * protobuf (kubectl create configmap/secret/service/namespace); elsewhere they are 0. */
#include "schemas_def.h"

#define OBJREF (&api_schema_object_reference)

/* ---- Pod ------------------------------------------------------------------------------------- */

OBJECT_PUBLIC(api_schema_pod, TYPE_META, F("metadata", META), F("spec", &api_schema_pod_spec),
              F("status", &api_schema_pod_status));

/* ---- Service (tagged) ------------------------------------------------------------------------ */

OBJECT(service_port, T("name", STR, 1), T("protocol", STR, 2), T("appProtocol", STR, 6),
       T("port", INT, 3), T("targetPort", &api_schema_int_or_string, 4), T("nodePort", INT, 5));
static const struct api_schema service_ports = {SCH_ARRAY, NULL, &service_port, "port",
                                                PATCH_MERGE};
OBJECT(client_ip_config, T("timeoutSeconds", INT, 1));
OBJECT(session_affinity_config, T("clientIP", &client_ip_config, 1));
OBJECT(service_spec, T("ports", &service_ports, 1), T("selector", STRMAP, 2),
       T("clusterIP", STR, 3), T("clusterIPs", STRLIST, 18), T("type", STR, 4),
       T("externalIPs", STRLIST, 5), T("sessionAffinity", STR, 7), T("loadBalancerIP", STR, 8),
       T("loadBalancerSourceRanges", STRLIST, 9), T("externalName", STR, 10),
       T("externalTrafficPolicy", STR, 11), T("healthCheckNodePort", INT, 12),
       T("publishNotReadyAddresses", BOOL, 13),
       T("sessionAffinityConfig", &session_affinity_config, 14), T("ipFamilies", STRLIST, 19),
       T("ipFamilyPolicy", STR, 17), T("allocateLoadBalancerNodePorts", BOOL, 20),
       T("loadBalancerClass", STR, 21), T("internalTrafficPolicy", STR, 22),
       T("trafficDistribution", STR, 23));
OBJECT(port_status, T("port", INT, 1), T("protocol", STR, 2), T("error", STR, 3));
LIST(port_statuses, &port_status);
OBJECT(lb_ingress, T("ip", STR, 1), T("hostname", STR, 2), T("ipMode", STR, 3),
       T("ports", &port_statuses, 4));
LIST(lb_ingresses, &lb_ingress);
OBJECT(lb_status, T("ingress", &lb_ingresses, 1));
OBJECT(service_status, T("loadBalancer", &lb_status, 1),
       T("conditions", &api_schema_conditions, 2));
OBJECT_PUBLIC(api_schema_service, TYPE_META, T("metadata", META, 1), T("spec", &service_spec, 2),
              T("status", &service_status, 3));

/* ---- Endpoints ------------------------------------------------------------------------------- */

OBJECT(endpoint_address, F("ip", STR), F("hostname", STR), F("nodeName", STR),
       F("targetRef", OBJREF));
LIST(endpoint_addresses, &endpoint_address);
OBJECT(endpoint_port, F("name", STR), F("port", INT), F("protocol", STR), F("appProtocol", STR));
LIST(endpoint_ports, &endpoint_port);
OBJECT(endpoint_subset, F("addresses", &endpoint_addresses),
       F("notReadyAddresses", &endpoint_addresses), F("ports", &endpoint_ports));
LIST(endpoint_subsets, &endpoint_subset);
OBJECT_PUBLIC(api_schema_endpoints, TYPE_META, F("metadata", META),
              F("subsets", &endpoint_subsets));

/* ---- PersistentVolumeClaim ------------------------------------------------------------------- */

OBJECT(typed_local_ref, F("apiGroup", STR), F("kind", STR), F("name", STR));
OBJECT(typed_ref, F("apiGroup", STR), F("kind", STR), F("name", STR), F("namespace", STR));
OBJECT(volume_resources, F("limits", QMAP), F("requests", QMAP));
/* accessModes has no merge strategy upstream: a patch replaces the list. */
OBJECT_PUBLIC(api_schema_pvc_spec, F("accessModes", STRLIST),
              F("selector", &api_schema_label_selector), F("resources", &volume_resources),
              F("volumeName", STR), F("storageClassName", STR), F("volumeMode", STR),
              F("dataSource", &typed_local_ref), F("dataSourceRef", &typed_ref),
              F("volumeAttributesClassName", STR));
OBJECT(pvc_condition, F("type", STR), F("status", STR), F("lastProbeTime", TIME),
       F("lastTransitionTime", TIME), F("reason", STR), F("message", STR));
MERGE_LIST(pvc_conditions, &pvc_condition, "type");
OBJECT(modify_volume_status, F("targetVolumeAttributesClassName", STR), F("status", STR));
OBJECT(pvc_status, F("phase", STR), F("accessModes", STRLIST), F("capacity", QMAP),
       F("conditions", &pvc_conditions), F("allocatedResources", QMAP),
       F("allocatedResourceStatuses", STRMAP), F("currentVolumeAttributesClassName", STR),
       F("modifyVolumeStatus", &modify_volume_status));
OBJECT_PUBLIC(api_schema_pvc, TYPE_META, F("metadata", META), F("spec", &api_schema_pvc_spec),
              F("status", &pvc_status));

/* ---- PersistentVolume ------------------------------------------------------------------------
 * The sources a node agent can serve are typed (hostPath, local, nfs, csi); the in-tree vendor
 * sources of PersistentVolumeSource (awsElasticBlockStore, rbd, iscsi, ...) are free-form. */

OBJECT(pv_host_path, F("path", STR), F("type", STR));
OBJECT(pv_local, F("path", STR), F("fsType", STR));
OBJECT(pv_nfs, F("server", STR), F("path", STR), F("readOnly", BOOL));
OBJECT(secret_ref, F("name", STR), F("namespace", STR));
OBJECT(pv_csi, F("driver", STR), F("volumeHandle", STR), F("readOnly", BOOL), F("fsType", STR),
       F("volumeAttributes", STRMAP), F("controllerPublishSecretRef", &secret_ref),
       F("nodeStageSecretRef", &secret_ref), F("nodePublishSecretRef", &secret_ref),
       F("controllerExpandSecretRef", &secret_ref), F("nodeExpandSecretRef", &secret_ref));
OBJECT(volume_node_affinity, F("required", &api_schema_node_selector));
#define ANY (&api_schema_any)
OBJECT(pv_spec, F("capacity", QMAP), F("hostPath", &pv_host_path), F("local", &pv_local),
       F("nfs", &pv_nfs), F("csi", &pv_csi), F("gcePersistentDisk", ANY),
       F("awsElasticBlockStore", ANY), F("glusterfs", ANY), F("rbd", ANY), F("iscsi", ANY),
       F("cinder", ANY), F("cephfs", ANY), F("fc", ANY), F("flocker", ANY), F("flexVolume", ANY),
       F("azureFile", ANY), F("vsphereVolume", ANY), F("quobyte", ANY), F("azureDisk", ANY),
       F("photonPersistentDisk", ANY), F("portworxVolume", ANY), F("scaleIO", ANY),
       F("storageos", ANY), F("accessModes", STRLIST), F("claimRef", OBJREF),
       F("persistentVolumeReclaimPolicy", STR), F("storageClassName", STR),
       F("mountOptions", STRLIST), F("volumeMode", STR), F("nodeAffinity", &volume_node_affinity),
       F("volumeAttributesClassName", STR));
OBJECT(pv_status, F("phase", STR), F("message", STR), F("reason", STR),
       F("lastPhaseTransitionTime", TIME));
OBJECT_PUBLIC(api_schema_pv, TYPE_META, F("metadata", META), F("spec", &pv_spec),
              F("status", &pv_status));

/* ---- ConfigMap and Secret (tagged) ----------------------------------------------------------- */

OBJECT_PUBLIC(api_schema_configmap, TYPE_META, T("metadata", META, 1), T("data", STRMAP, 2),
              T("binaryData", &api_schema_base64_map, 3), T("immutable", BOOL, 4));
OBJECT_PUBLIC(api_schema_secret, TYPE_META, T("metadata", META, 1), T("immutable", BOOL, 5),
              T("data", &api_schema_base64_map, 2), T("stringData", STRMAP, 4), T("type", STR, 3));

/* ---- Event ----------------------------------------------------------------------------------- */

OBJECT(event_source, F("component", STR), F("host", STR));
OBJECT(event_series, F("count", INT), F("lastObservedTime", TIME));
/* eventTime is a MicroTime: an RFC 3339 string with microseconds, checked as a time. */
OBJECT_PUBLIC(api_schema_event, TYPE_META, F("metadata", META), F("involvedObject", OBJREF),
              F("reason", STR), F("message", STR), F("source", &event_source),
              F("firstTimestamp", TIME), F("lastTimestamp", TIME), F("count", INT), F("type", STR),
              F("eventTime", TIME), F("series", &event_series), F("action", STR),
              F("related", OBJREF), F("reportingComponent", STR), F("reportingInstance", STR));

/* ---- Namespace (tagged) ---------------------------------------------------------------------- */

OBJECT(namespace_spec, T("finalizers", STRLIST, 1));
OBJECT(namespace_condition, T("type", STR, 1), T("status", STR, 2),
       T("lastTransitionTime", TIME, 4), T("reason", STR, 5), T("message", STR, 6));
MERGE_LIST(namespace_conditions, &namespace_condition, "type");
OBJECT(namespace_status, T("phase", STR, 1), T("conditions", &namespace_conditions, 2));
OBJECT_PUBLIC(api_schema_namespace, TYPE_META, T("metadata", META, 1),
              T("spec", &namespace_spec, 2), T("status", &namespace_status, 3));

/* ---- Node ------------------------------------------------------------------------------------ */

OBJECT(taint, F("key", STR), F("value", STR), F("effect", STR), F("timeAdded", TIME));
LIST(taints, &taint);
OBJECT(configmap_node_source, F("namespace", STR), F("name", STR), F("uid", STR),
       F("resourceVersion", STR), F("kubeletConfigKey", STR));
OBJECT(node_config_source, F("configMap", &configmap_node_source));
OBJECT(node_spec, F("podCIDR", STR), F("podCIDRs", &api_schema_string_set), F("providerID", STR),
       F("unschedulable", BOOL), F("taints", &taints), F("configSource", &node_config_source),
       F("externalID", STR));
OBJECT(node_condition, F("type", STR), F("status", STR), F("lastHeartbeatTime", TIME),
       F("lastTransitionTime", TIME), F("reason", STR), F("message", STR));
MERGE_LIST(node_conditions, &node_condition, "type");
OBJECT(node_address, F("type", STR), F("address", STR));
MERGE_LIST(node_addresses, &node_address, "type");
OBJECT(daemon_endpoint, F("Port", INT));
OBJECT(daemon_endpoints, F("kubeletEndpoint", &daemon_endpoint));
OBJECT(node_swap, F("capacity", INT));
OBJECT(node_info, F("machineID", STR), F("systemUUID", STR), F("bootID", STR),
       F("kernelVersion", STR), F("osImage", STR), F("containerRuntimeVersion", STR),
       F("kubeletVersion", STR), F("kubeProxyVersion", STR), F("operatingSystem", STR),
       F("architecture", STR), F("swap", &node_swap));
OBJECT(container_image, F("names", STRLIST), F("sizeBytes", INT));
LIST(container_images, &container_image);
OBJECT(attached_volume, F("name", STR), F("devicePath", STR));
LIST(attached_volumes, &attached_volume);
OBJECT(node_config_status, F("assigned", &node_config_source), F("active", &node_config_source),
       F("lastKnownGood", &node_config_source), F("error", STR));
OBJECT(runtime_features, F("recursiveReadOnlyMounts", BOOL), F("userNamespaces", BOOL));
OBJECT(runtime_handler, F("name", STR), F("features", &runtime_features));
LIST(runtime_handlers, &runtime_handler);
OBJECT(node_features, F("supplementalGroupsPolicy", BOOL));
OBJECT(node_status, F("capacity", QMAP), F("allocatable", QMAP), F("phase", STR),
       F("conditions", &node_conditions), F("addresses", &node_addresses),
       F("daemonEndpoints", &daemon_endpoints), F("nodeInfo", &node_info),
       F("images", &container_images), F("volumesInUse", STRLIST),
       F("volumesAttached", &attached_volumes), F("config", &node_config_status),
       F("runtimeHandlers", &runtime_handlers), F("features", &node_features));
OBJECT_PUBLIC(api_schema_node, TYPE_META, F("metadata", META), F("spec", &node_spec),
              F("status", &node_status));
