/* schemas_other.c — the resources of the smaller groups: discovery.k8s.io/v1 EndpointSlice,
 * storage.k8s.io/v1 StorageClass, coordination.k8s.io/v1 Lease (k8s.io/api at v0.32). */
#include "schemas_def.h"

/* ---- EndpointSlice --------------------------------------------------------------------------- */

OBJECT(endpoint_conditions, F("ready", BOOL), F("serving", BOOL), F("terminating", BOOL));
OBJECT(for_zone, F("name", STR));
LIST(for_zones, &for_zone);
OBJECT(for_node, F("name", STR));
LIST(for_nodes, &for_node);
OBJECT(endpoint_hints, F("forZones", &for_zones), F("forNodes", &for_nodes));
OBJECT(endpoint, F("addresses", STRLIST), F("conditions", &endpoint_conditions), F("hostname", STR),
       F("targetRef", &api_schema_object_reference), F("deprecatedTopology", STRMAP),
       F("nodeName", STR), F("zone", STR), F("hints", &endpoint_hints));
LIST(endpoints, &endpoint);
OBJECT(endpoint_port, F("name", STR), F("protocol", STR), F("port", INT), F("appProtocol", STR));
LIST(endpoint_ports, &endpoint_port);
OBJECT_PUBLIC(api_schema_endpointslice, TYPE_META, F("metadata", META), F("addressType", STR),
              F("endpoints", &endpoints), F("ports", &endpoint_ports));

/* ---- StorageClass ---------------------------------------------------------------------------- */

OBJECT(topology_requirement, F("key", STR), F("values", STRLIST));
LIST(topology_requirements, &topology_requirement);
OBJECT(topology_term, F("matchLabelExpressions", &topology_requirements));
LIST(topology_terms, &topology_term);
OBJECT_PUBLIC(api_schema_storageclass, TYPE_META, F("metadata", META), F("provisioner", STR),
              F("parameters", STRMAP), F("reclaimPolicy", STR), F("mountOptions", STRLIST),
              F("allowVolumeExpansion", BOOL), F("volumeBindingMode", STR),
              F("allowedTopologies", &topology_terms));

/* ---- Lease ----------------------------------------------------------------------------------- */

/* acquireTime and renewTime are MicroTimes (RFC 3339 with microseconds). */
OBJECT(lease_spec, F("holderIdentity", STR), F("leaseDurationSeconds", INT), F("acquireTime", TIME),
       F("renewTime", TIME), F("leaseTransitions", INT), F("strategy", STR),
       F("preferredHolder", STR));
OBJECT_PUBLIC(api_schema_lease, TYPE_META, F("metadata", META), F("spec", &lease_spec));
