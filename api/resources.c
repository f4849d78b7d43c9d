/* resources.c — the declarative table of API resources; discovery and OpenAPI are generated from
 * it (discovery.c), fieldValidation checks against its schemas. Later resources are rows here. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "hooks.h"
#include "schema.h"

#define CRUD (VERB_GET | VERB_LIST | VERB_CREATE | VERB_UPDATE | VERB_DELETE)

/* ---- Schemas --------------------------------------------------------------------------------- */

static const struct api_schema base64_map_item = {SCH_BASE64, NULL, NULL};
static const struct api_schema base64_map = {SCH_MAP, NULL, &base64_map_item};

/* Tags from k8s.io/api/core/v1/generated.proto; apiVersion and kind travel in the envelope. */
static const struct api_field configmap_fields[] = {
    {"apiVersion", &api_schema_string, 0},
    {"kind", &api_schema_string, 0},
    {"metadata", &api_schema_object_meta, 1},
    {"data", &api_schema_string_map, 2},
    {"binaryData", &base64_map, 3},
    {"immutable", &api_schema_bool, 4},
    {NULL, NULL, 0},
};
static const struct api_schema configmap = {SCH_OBJECT, configmap_fields, NULL};

static const struct api_field namespace_spec_fields[] = {
    {"finalizers", &api_schema_string_list, 1},
    {NULL, NULL, 0},
};
static const struct api_schema namespace_spec = {SCH_OBJECT, namespace_spec_fields, NULL};
static const struct api_field namespace_status_fields[] = {
    {"phase", &api_schema_string, 1},
    {"conditions", &api_schema_any, 2},
    {NULL, NULL, 0},
};
static const struct api_schema namespace_status = {SCH_OBJECT, namespace_status_fields, NULL};
static const struct api_field namespace_fields[] = {
    {"apiVersion", &api_schema_string, 0},    {"kind", &api_schema_string, 0},
    {"metadata", &api_schema_object_meta, 1}, {"spec", &namespace_spec, 2},
    {"status", &namespace_status, 3},         {NULL, NULL, 0},
};
static const struct api_schema namespace_ = {SCH_OBJECT, namespace_fields, NULL};

/* ---- The table ------------------------------------------------------------------------------- */

static const struct api_resource table[] = {
    {
        .group = "",
        .version = "v1",
        .kind = "Namespace",
        .plural = "namespaces",
        .singular = "namespace",
        .short_names = {"ns"},
        .namespaced = false,
        .verbs = CRUD,
        .name_max = 63,
        .schema = &namespace_,
        .defaults = api_namespace_defaults,
    },
    {
        .group = "",
        .version = "v1",
        .kind = "ConfigMap",
        .plural = "configmaps",
        .singular = "configmap",
        .short_names = {"cm"},
        .namespaced = true,
        .verbs = CRUD,
        .name_max = 253,
        .schema = &configmap,
        .validate = api_configmap_validate,
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
