/* schemas.h — the schemas of every resource of the table (schemas_*.c), the pieces they share, and
 * the documents generated from the table (discovery.c, openapi.c), reachable for tests.
 *
 * Schemas are static data: fields by JSON name with their type, protobuf tag (only where kubectl's
 * typed clients send protobuf: ConfigMap, Secret, Service, Namespace and ObjectMeta), and, for
 * lists, the strategic-merge key and strategy (the +patchMergeKey/+patchStrategy of
 * k8s.io/api 1.32). A list without PATCH_MERGE is replaced whole by a strategic merge patch (args,
 * command, accessModes, volumeClaimTemplates). */
#ifndef STSD_API_SCHEMAS_H
#define STSD_API_SCHEMAS_H

#include <jansson.h>
#include <stdbool.h>

#include "schema.h"

/* ---- Shared pieces (schemas_meta.c) ---------------------------------------------------------- */
extern const struct api_schema api_schema_int_or_string, api_schema_quantity, api_schema_number;
extern const struct api_schema api_schema_base64_map, api_schema_quantity_map;
extern const struct api_schema api_schema_string_set; /* a list of strings merged as a set */
extern const struct api_schema api_schema_int_list;
extern const struct api_schema api_schema_label_selector;   /* metav1.LabelSelector */
extern const struct api_schema api_schema_conditions;       /* []metav1.Condition, merged by type */
extern const struct api_schema api_schema_object_reference; /* core/v1 ObjectReference */
extern const struct api_schema api_schema_local_object_reference; /* {name} */
extern const struct api_schema api_schema_node_selector;          /* core/v1 NodeSelector */
extern const struct api_schema api_schema_node_selector_term;

/* ---- Pods (schemas_pod.c, schemas_volume.c) ----------------------------------------------------
 */
extern const struct api_schema api_schema_pod_spec, api_schema_pod_status,
    api_schema_pod_template_spec, api_schema_container;
extern const struct api_schema api_schema_volume;       /* core/v1 Volume */
extern const struct api_schema api_schema_key_to_paths; /* []KeyToPath */
extern const struct api_schema api_schema_env_var_source;

/* ---- Resources (schemas_core.c, schemas_apps.c, schemas_other.c) ------------------------------
 */
extern const struct api_schema api_schema_pvc_spec; /* PersistentVolumeClaimSpec */
extern const struct api_schema api_schema_statefulset, api_schema_controllerrevision;
extern const struct api_schema api_schema_pod, api_schema_service, api_schema_endpoints,
    api_schema_pvc, api_schema_pv, api_schema_configmap, api_schema_secret, api_schema_event,
    api_schema_namespace, api_schema_node;
extern const struct api_schema api_schema_endpointslice, api_schema_storageclass, api_schema_lease;

/* ---- Generated documents (discovery.c, openapi.c) ---------------------------------------------
 * Each returns a new JSON value (NULL when the group/version is not served). */

/* Which discovery format an Accept header asks for. */
enum api_discovery_format {
	DISCOVERY_LEGACY,  /* APIVersions / APIGroupList */
	DISCOVERY_V2BETA1, /* apidiscovery.k8s.io/v2beta1 APIGroupDiscoveryList */
	DISCOVERY_V2,      /* apidiscovery.k8s.io/v2 APIGroupDiscoveryList */
};
enum api_discovery_format api_discovery_format_of(const char *accept);
/* APIResourceList of group ("" for core) and version, with subresource entries. */
json_t *api_discovery_resource_list(const char *group, const char *version);
/* APIGroupDiscoveryList of the core group (core true: /api) or of the named groups (/apis). */
json_t *api_discovery_aggregated(bool core, enum api_discovery_format fmt);
/* The /openapi/v3 index, and one group-version document. */
json_t *api_openapi_index(void);
json_t *api_openapi_doc(const char *group, const char *version);
/* The OpenAPI v3 schema of sch, every nested schema inline. */
json_t *api_openapi_schema(const struct api_schema *sch);

struct api_req;
struct route;
/* Answer ROUTE_OPENAPI_INDEX or ROUTE_OPENAPI_GV (openapi.c, called by discovery.c). */
void api_openapi_answer(struct api_req *r, const struct route *rt);

#endif
