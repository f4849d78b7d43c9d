/* resources.c — the declarative table of API resources: discovery and OpenAPI are generated from
 * it (discovery.c, openapi.c), the router serves what it lists, fieldValidation and patches follow
 * its schemas (schemas_*.c). Short names and categories are upstream's (kubectl api-resources
 * against Kubernetes 1.32); namespaces announce no deletecollection, as upstream. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "hooks.h"
#include "schemas.h"
#include "table.h"

#define ALL_VERBS                                                                      \
	(VERB_GET | VERB_LIST | VERB_CREATE | VERB_UPDATE | VERB_DELETE | VERB_PATCH | \
	 VERB_WATCH | VERB_DELETECOLLECTION)

static const struct api_resource table[] = {
    /* ---- apps/v1 ---- */
    {
        .group = "apps",
        .version = "v1",
        .kind = "StatefulSet",
        .plural = "statefulsets",
        .singular = "statefulset",
        .short_names = {"sts"},
        .categories = {"all"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_statefulset,
        .subresources = SUB_STATUS | SUB_SCALE,
        .table = &api_table_statefulsets,
        .defaults = api_statefulset_defaults,
        .validate = api_statefulset_validate,
    },
    {
        .group = "apps",
        .version = "v1",
        .kind = "ControllerRevision",
        .plural = "controllerrevisions",
        .singular = "controllerrevision",
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_controllerrevision,
        .table = &api_table_controllerrevisions,
        .validate = api_controllerrevision_validate,
    },
    /* ---- core v1 ---- */
    {
        .group = "",
        .version = "v1",
        .kind = "Pod",
        .plural = "pods",
        .singular = "pod",
        .short_names = {"po"},
        .categories = {"all"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_pod,
        .subresources = SUB_STATUS | SUB_LOG | SUB_EXEC,
        .field_selectors = {"spec.nodeName", "status.phase", "spec.restartPolicy",
                            "spec.schedulerName", "spec.serviceAccountName", "status.podIP",
                            "status.nominatedNodeName"},
        .table = &api_table_pods,
        .defaults = api_pod_defaults,
        .validate = api_pod_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Service",
        .plural = "services",
        .singular = "service",
        .short_names = {"svc"},
        .categories = {"all"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 63,
        .schema = &api_schema_service,
        .subresources = SUB_STATUS,
        .table = &api_table_services,
        .defaults = api_service_defaults,
        .validate = api_service_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Endpoints",
        .plural = "endpoints",
        .singular = "endpoints",
        .short_names = {"ep"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_endpoints,
        .table = &api_table_endpoints,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "PersistentVolumeClaim",
        .plural = "persistentvolumeclaims",
        .singular = "persistentvolumeclaim",
        .short_names = {"pvc"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_pvc,
        .subresources = SUB_STATUS,
        .table = &api_table_pvcs,
        .defaults = api_pvc_defaults,
        .validate = api_pvc_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "PersistentVolume",
        .plural = "persistentvolumes",
        .singular = "persistentvolume",
        .short_names = {"pv"},
        .namespaced = false,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_pv,
        .subresources = SUB_STATUS,
        .table = &api_table_pvs,
        .defaults = api_pv_defaults,
        .validate = api_pv_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "ConfigMap",
        .plural = "configmaps",
        .singular = "configmap",
        .short_names = {"cm"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_configmap,
        .table = &api_table_configmaps,
        .validate = api_configmap_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Secret",
        .plural = "secrets",
        .singular = "secret",
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_secret,
        .field_selectors = {"type"},
        .table = &api_table_secrets,
        .defaults = api_secret_defaults,
        .validate = api_secret_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Event",
        .plural = "events",
        .singular = "event",
        .short_names = {"ev"},
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_event,
        .field_selectors = {"involvedObject.kind", "involvedObject.namespace",
                            "involvedObject.name", "involvedObject.uid",
                            "involvedObject.apiVersion", "involvedObject.resourceVersion",
                            "involvedObject.fieldPath", "reason", "reportingComponent", "source",
                            "type"},
        .table = &api_table_events,
        .defaults = api_event_defaults,
        .validate = api_event_validate,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Namespace",
        .plural = "namespaces",
        .singular = "namespace",
        .short_names = {"ns"},
        .namespaced = false,
        .verbs = ALL_VERBS & ~VERB_DELETECOLLECTION,
        .name_max = 63,
        .schema = &api_schema_namespace,
        .subresources = SUB_STATUS,
        .field_selectors = {"status.phase"},
        .table = &api_table_namespaces,
        .defaults = api_namespace_defaults,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "Node",
        .plural = "nodes",
        .singular = "node",
        .short_names = {"no"},
        .namespaced = false,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_node,
        .subresources = SUB_STATUS,
        .field_selectors = {"spec.unschedulable"},
        .table = &api_table_nodes,
        .validate = api_node_validate,
    },
    /* ---- discovery.k8s.io/v1 ---- */
    {
        .group = "discovery.k8s.io",
        .version = "v1",
        .kind = "EndpointSlice",
        .plural = "endpointslices",
        .singular = "endpointslice",
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_endpointslice,
        .field_selectors = {"addressType"},
        .table = &api_table_endpointslices,
    },
    /* ---- storage.k8s.io/v1 ---- */
    {
        .group = "storage.k8s.io",
        .version = "v1",
        .kind = "StorageClass",
        .plural = "storageclasses",
        .singular = "storageclass",
        .short_names = {"sc"},
        .namespaced = false,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_storageclass,
        .table = &api_table_storageclasses,
        .defaults = api_storageclass_defaults,
        .validate = api_storageclass_validate,
    },
    /* ---- coordination.k8s.io/v1 ---- */
    {
        .group = "coordination.k8s.io",
        .version = "v1",
        .kind = "Lease",
        .plural = "leases",
        .singular = "lease",
        .namespaced = true,
        .verbs = ALL_VERBS,
        .name_max = 253,
        .schema = &api_schema_lease,
        .table = &api_table_leases,
        .validate = api_lease_validate,
    },
};

const struct api_resource *api_resources(size_t *n)
{
	*n = sizeof table / sizeof table[0];
	return table;
}

const struct api_resource *api_resource_find(const char *group, const char *plural)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].group, group) == 0 && strcmp(table[i].plural, plural) == 0)
			return &table[i];
	return NULL;
}

void api_resource_gv(const struct api_resource *res, char *buf, size_t len)
{
	if (*res->group)
		snprintf(buf, len, "%s/%s", res->group, res->version);
	else
		snprintf(buf, len, "%s", res->version);
}
