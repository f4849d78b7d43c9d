/* schemas_pod.c — PodSpec, Container and PodStatus of k8s.io/api/core/v1 at v0.32, with the merge
 * keys kubectl's strategic merge patches rely on (../shared/KUBECTL.md, Strategic merge patch). */
#include "schemas_def.h"

#define PORT     (&api_schema_int_or_string)
#define SELECTOR (&api_schema_label_selector)

/* ---- Container pieces ------------------------------------------------------------------------ */

OBJECT(container_port, F("name", STR), F("hostPort", INT), F("containerPort", INT),
       F("protocol", STR), F("hostIP", STR));
MERGE_LIST(container_ports, &container_port, "containerPort");

OBJECT(env_var, F("name", STR), F("value", STR), F("valueFrom", &api_schema_env_var_source));
MERGE_LIST(env_vars, &env_var, "name");
OBJECT(env_ref, F("name", STR), F("optional", BOOL));
OBJECT(env_from, F("prefix", STR), F("configMapRef", &env_ref), F("secretRef", &env_ref));
LIST(env_froms, &env_from);

OBJECT(resource_claim, F("name", STR), F("request", STR));
LIST(resource_claims, &resource_claim);
OBJECT(resources, F("limits", QMAP), F("requests", QMAP), F("claims", &resource_claims));
OBJECT(resize_policy, F("resourceName", STR), F("restartPolicy", STR));
LIST(resize_policies, &resize_policy);

OBJECT(volume_mount, F("name", STR), F("readOnly", BOOL), F("recursiveReadOnly", STR),
       F("mountPath", STR), F("subPath", STR), F("mountPropagation", STR), F("subPathExpr", STR));
MERGE_LIST(volume_mounts, &volume_mount, "mountPath");
OBJECT(volume_device, F("name", STR), F("devicePath", STR));
MERGE_LIST(volume_devices, &volume_device, "devicePath");

/* Probes and lifecycle handlers. */
OBJECT(exec_action, F("command", STRLIST));
OBJECT(http_header, F("name", STR), F("value", STR));
LIST(http_headers, &http_header);
OBJECT(http_get, F("path", STR), F("port", PORT), F("host", STR), F("scheme", STR),
       F("httpHeaders", &http_headers));
OBJECT(tcp_socket, F("port", PORT), F("host", STR));
OBJECT(grpc_action, F("port", INT), F("service", STR));
OBJECT(sleep_action, F("seconds", INT));
OBJECT(probe, F("exec", &exec_action), F("httpGet", &http_get), F("tcpSocket", &tcp_socket),
       F("grpc", &grpc_action), F("initialDelaySeconds", INT), F("timeoutSeconds", INT),
       F("periodSeconds", INT), F("successThreshold", INT), F("failureThreshold", INT),
       F("terminationGracePeriodSeconds", INT));
OBJECT(lifecycle_handler, F("exec", &exec_action), F("httpGet", &http_get),
       F("tcpSocket", &tcp_socket), F("sleep", &sleep_action));
OBJECT(lifecycle, F("postStart", &lifecycle_handler), F("preStop", &lifecycle_handler));

/* Security contexts. */
OBJECT(capabilities, F("add", STRLIST), F("drop", STRLIST));
OBJECT(selinux_options, F("user", STR), F("role", STR), F("type", STR), F("level", STR));
OBJECT(windows_options, F("gmsaCredentialSpecName", STR), F("gmsaCredentialSpec", STR),
       F("runAsUserName", STR), F("hostProcess", BOOL));
OBJECT(profile, F("type", STR), F("localhostProfile", STR));
OBJECT(security_context, F("capabilities", &capabilities), F("privileged", BOOL),
       F("seLinuxOptions", &selinux_options), F("windowsOptions", &windows_options),
       F("runAsUser", INT), F("runAsGroup", INT), F("runAsNonRoot", BOOL),
       F("readOnlyRootFilesystem", BOOL), F("allowPrivilegeEscalation", BOOL), F("procMount", STR),
       F("seccompProfile", &profile), F("appArmorProfile", &profile));
OBJECT(sysctl, F("name", STR), F("value", STR));
LIST(sysctls, &sysctl);
OBJECT(pod_security_context, F("seLinuxOptions", &selinux_options),
       F("windowsOptions", &windows_options), F("runAsUser", INT), F("runAsGroup", INT),
       F("runAsNonRoot", BOOL), F("supplementalGroups", &api_schema_int_list),
       F("supplementalGroupsPolicy", STR), F("fsGroup", INT), F("sysctls", &sysctls),
       F("fsGroupChangePolicy", STR), F("seccompProfile", &profile), F("appArmorProfile", &profile),
       F("seLinuxChangePolicy", STR));

/* The fields of Container; an EphemeralContainer has them plus targetContainerName. */
#define CONTAINER_FIELDS                                                                          \
	F("name", STR), F("image", STR), F("command", STRLIST), F("args", STRLIST),               \
	    F("workingDir", STR), F("ports", &container_ports), F("envFrom", &env_froms),         \
	    F("env", &env_vars), F("resources", &resources), F("resizePolicy", &resize_policies), \
	    F("restartPolicy", STR), F("volumeMounts", &volume_mounts),                           \
	    F("volumeDevices", &volume_devices), F("livenessProbe", &probe),                      \
	    F("readinessProbe", &probe), F("startupProbe", &probe), F("lifecycle", &lifecycle),   \
	    F("terminationMessagePath", STR), F("terminationMessagePolicy", STR),                 \
	    F("imagePullPolicy", STR), F("securityContext", &security_context), F("stdin", BOOL), \
	    F("stdinOnce", BOOL), F("tty", BOOL)

OBJECT_PUBLIC(api_schema_container, CONTAINER_FIELDS);
MERGE_LIST(containers, &api_schema_container, "name");
OBJECT(ephemeral_container, CONTAINER_FIELDS, F("targetContainerName", STR));
MERGE_LIST(ephemeral_containers, &ephemeral_container, "name");

/* ---- Scheduling ------------------------------------------------------------------------------ */

OBJECT(preferred_term, F("weight", INT), F("preference", &api_schema_node_selector_term));
LIST(preferred_terms, &preferred_term);
OBJECT(node_affinity,
       F("requiredDuringSchedulingIgnoredDuringExecution", &api_schema_node_selector),
       F("preferredDuringSchedulingIgnoredDuringExecution", &preferred_terms));
OBJECT(pod_affinity_term, F("labelSelector", SELECTOR), F("namespaces", STRLIST),
       F("topologyKey", STR), F("namespaceSelector", SELECTOR), F("matchLabelKeys", STRLIST),
       F("mismatchLabelKeys", STRLIST));
LIST(pod_affinity_terms, &pod_affinity_term);
OBJECT(weighted_term, F("weight", INT), F("podAffinityTerm", &pod_affinity_term));
LIST(weighted_terms, &weighted_term);
OBJECT(pod_affinity, F("requiredDuringSchedulingIgnoredDuringExecution", &pod_affinity_terms),
       F("preferredDuringSchedulingIgnoredDuringExecution", &weighted_terms));
OBJECT(affinity, F("nodeAffinity", &node_affinity), F("podAffinity", &pod_affinity),
       F("podAntiAffinity", &pod_affinity));

OBJECT(toleration, F("key", STR), F("operator", STR), F("value", STR), F("effect", STR),
       F("tolerationSeconds", INT));
LIST(tolerations, &toleration);
OBJECT(host_alias, F("ip", STR), F("hostnames", STRLIST));
MERGE_LIST(host_aliases, &host_alias, "ip");
OBJECT(spread_constraint, F("maxSkew", INT), F("topologyKey", STR), F("whenUnsatisfiable", STR),
       F("labelSelector", SELECTOR), F("minDomains", INT), F("nodeAffinityPolicy", STR),
       F("nodeTaintsPolicy", STR), F("matchLabelKeys", STRLIST));
MERGE_LIST(spread_constraints, &spread_constraint, "topologyKey");
OBJECT(dns_option, F("name", STR), F("value", STR));
LIST(dns_options, &dns_option);
OBJECT(dns_config, F("nameservers", STRLIST), F("searches", STRLIST), F("options", &dns_options));
OBJECT(readiness_gate, F("conditionType", STR));
LIST(readiness_gates, &readiness_gate);
MERGE_LIST(image_pull_secrets, &api_schema_local_object_reference, "name");
OBJECT(pod_os, F("name", STR));
OBJECT(scheduling_gate, F("name", STR));
MERGE_LIST(scheduling_gates, &scheduling_gate, "name");
OBJECT(pod_resource_claim, F("name", STR), F("resourceClaimName", STR),
       F("resourceClaimTemplateName", STR));
static const struct api_schema pod_resource_claims = {SCH_ARRAY, NULL, &pod_resource_claim, "name",
                                                      PATCH_MERGE | PATCH_RETAIN_KEYS};
static const struct api_schema volumes = {SCH_ARRAY, NULL, &api_schema_volume, "name",
                                          PATCH_MERGE | PATCH_RETAIN_KEYS};

OBJECT_PUBLIC(api_schema_pod_spec, F("volumes", &volumes), F("initContainers", &containers),
              F("containers", &containers), F("ephemeralContainers", &ephemeral_containers),
              F("restartPolicy", STR), F("terminationGracePeriodSeconds", INT),
              F("activeDeadlineSeconds", INT), F("dnsPolicy", STR), F("nodeSelector", STRMAP),
              F("serviceAccountName", STR), F("serviceAccount", STR),
              F("automountServiceAccountToken", BOOL), F("nodeName", STR), F("hostNetwork", BOOL),
              F("hostPID", BOOL), F("hostIPC", BOOL), F("shareProcessNamespace", BOOL),
              F("securityContext", &pod_security_context),
              F("imagePullSecrets", &image_pull_secrets), F("hostname", STR), F("subdomain", STR),
              F("affinity", &affinity), F("schedulerName", STR), F("tolerations", &tolerations),
              F("hostAliases", &host_aliases), F("priorityClassName", STR), F("priority", INT),
              F("dnsConfig", &dns_config), F("readinessGates", &readiness_gates),
              F("runtimeClassName", STR), F("enableServiceLinks", BOOL), F("preemptionPolicy", STR),
              F("overhead", QMAP), F("topologySpreadConstraints", &spread_constraints),
              F("setHostnameAsFQDN", BOOL), F("os", &pod_os), F("hostUsers", BOOL),
              F("schedulingGates", &scheduling_gates), F("resourceClaims", &pod_resource_claims),
              F("resources", &resources));

OBJECT_PUBLIC(api_schema_pod_template_spec, F("metadata", &api_schema_object_meta),
              F("spec", &api_schema_pod_spec));

/* ---- PodStatus ------------------------------------------------------------------------------- */

OBJECT(state_waiting, F("reason", STR), F("message", STR));
OBJECT(state_running, F("startedAt", TIME));
OBJECT(state_terminated, F("exitCode", INT), F("signal", INT), F("reason", STR), F("message", STR),
       F("startedAt", TIME), F("finishedAt", TIME), F("containerID", STR));
OBJECT(container_state, F("waiting", &state_waiting), F("running", &state_running),
       F("terminated", &state_terminated));
OBJECT(mount_status, F("name", STR), F("mountPath", STR), F("readOnly", BOOL),
       F("recursiveReadOnly", STR));
LIST(mount_statuses, &mount_status);
OBJECT(linux_user, F("uid", INT), F("gid", INT), F("supplementalGroups", &api_schema_int_list));
OBJECT(container_user, F("linux", &linux_user));
OBJECT(resource_health, F("resourceID", STR), F("health", STR));
LIST(resource_healths, &resource_health);
OBJECT(resource_status, F("name", STR), F("resources", &resource_healths));
LIST(resource_statuses, &resource_status);
OBJECT(container_status, F("name", STR), F("state", &container_state),
       F("lastState", &container_state), F("ready", BOOL), F("restartCount", INT), F("image", STR),
       F("imageID", STR), F("containerID", STR), F("started", BOOL), F("allocatedResources", QMAP),
       F("resources", &resources), F("volumeMounts", &mount_statuses), F("user", &container_user),
       F("allocatedResourcesStatus", &resource_statuses));
LIST(container_statuses, &container_status);

OBJECT(pod_condition, F("type", STR), F("status", STR), F("lastProbeTime", TIME),
       F("lastTransitionTime", TIME), F("reason", STR), F("message", STR));
MERGE_LIST(pod_conditions, &pod_condition, "type");
OBJECT(pod_ip, F("ip", STR));
MERGE_LIST(pod_ips, &pod_ip, "ip");
OBJECT(claim_status, F("name", STR), F("resourceClaimName", STR));
MERGE_LIST(claim_statuses, &claim_status, "name");

OBJECT_PUBLIC(api_schema_pod_status, F("phase", STR), F("conditions", &pod_conditions),
              F("message", STR), F("reason", STR), F("nominatedNodeName", STR), F("hostIP", STR),
              F("hostIPs", &pod_ips), F("podIP", STR), F("podIPs", &pod_ips), F("startTime", TIME),
              F("initContainerStatuses", &container_statuses),
              F("containerStatuses", &container_statuses), F("qosClass", STR),
              F("ephemeralContainerStatuses", &container_statuses), F("resize", STR),
              F("resourceClaimStatuses", &claim_statuses));
