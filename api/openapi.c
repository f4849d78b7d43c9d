/* openapi.c — the OpenAPI v3 documents (/openapi/v3 and one per group-version), generated from the
 * resource table and its schemas.
 *
 * kubectl reads them twice (../shared/KUBECTL.md, OpenAPI): create/apply look for a `patch`
 * operation carrying x-kubernetes-group-version-kind and a fieldValidation parameter, and then
 * leave validation to the server; `kubectl explain` walks components.schemas from the component
 * whose x-kubernetes-group-version-kind names the kind. The patch operation has no requestBody on
 * purpose: kubectl then computes strategic merge patches from its compiled-in types rather than
 * from these schemas (its patcher only trusts a document whose patch operation declares
 * application/strategic-merge-patch+json). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "schemas.h"

#define KUBE_VERSION "v1.32.0"

/* Shared schemas that become components of their own (as upstream names them), so a document
 * holds each once; the others are written inline. Resource schemas are components too. */
static const struct {
	const struct api_schema *sch;
	const char *name;
} named[] = {
    {&api_schema_object_meta, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
    {&api_schema_label_selector, "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"},
    {&api_schema_pod_template_spec, "io.k8s.api.core.v1.PodTemplateSpec"},
    {&api_schema_pod_spec, "io.k8s.api.core.v1.PodSpec"},
    {&api_schema_pod_status, "io.k8s.api.core.v1.PodStatus"},
    {&api_schema_container, "io.k8s.api.core.v1.Container"},
    {&api_schema_volume, "io.k8s.api.core.v1.Volume"},
    {&api_schema_pvc_spec, "io.k8s.api.core.v1.PersistentVolumeClaimSpec"},
    {&api_schema_object_reference, "io.k8s.api.core.v1.ObjectReference"},
    {&api_schema_node_selector, "io.k8s.api.core.v1.NodeSelector"},
    {&api_schema_quantity, "io.k8s.apimachinery.pkg.api.resource.Quantity"},
    {&api_schema_int_or_string, "io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
};

/* "io.k8s.api.apps.v1.StatefulSet": the package is the group's first label, core for "". */
static void resource_name(const struct api_resource *res, char *buf, size_t len)
{
	size_t pkg = strcspn(res->group, ".");

	if (*res->group)
		snprintf(buf, len, "io.k8s.api.%.*s.%s.%s", (int)pkg, res->group, res->version,
		         res->kind);
	else
		snprintf(buf, len, "io.k8s.api.core.%s.%s", res->version, res->kind);
}

static const struct api_resource *resource_of(const struct api_schema *sch)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].schema == sch)
			return &t[i];
	return NULL;
}

/* The component name of sch, or NULL when it is written inline. */
static const char *component_name(const struct api_schema *sch, char *buf, size_t len)
{
	const struct api_resource *res = resource_of(sch);

	if (res) {
		resource_name(res, buf, len);
		return buf;
	}
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (named[i].sch == sch)
			return named[i].name;
	return NULL;
}

static json_t *gvk(const struct api_resource *res)
{
	return json_pack("{s:s,s:s,s:s}", "group", res->group, "kind", res->kind, "version",
	                 res->version);
}

/* components NULL: everything inline. */
static json_t *schema_json(json_t *components, const struct api_schema *sch, bool root);

static json_t *object_json(json_t *components, const struct api_schema *sch)
{
	json_t *props = json_object();

	for (const struct api_field *f = sch->fields; f && f->name; f++)
		json_object_set_new(props, f->name, schema_json(components, f->schema, false));
	return json_pack("{s:s,s:o}", "type", "object", "properties", props);
}

static json_t *array_json(json_t *components, const struct api_schema *sch)
{
	json_t *a = json_pack("{s:s,s:o}", "type", "array", "items",
	                      schema_json(components, sch->item, false));

	if (sch->strategy & PATCH_MERGE)
		json_object_set_new(
		    a, "x-kubernetes-patch-strategy",
		    json_string(sch->strategy & PATCH_RETAIN_KEYS ? "merge,retainKeys" : "merge"));
	if (sch->merge_key)
		json_object_set_new(a, "x-kubernetes-patch-merge-key", json_string(sch->merge_key));
	return a;
}

static json_t *schema_body(json_t *components, const struct api_schema *sch)
{
	switch (sch->type) {
	case SCH_ANY:
		return json_pack("{s:b}", "x-kubernetes-preserve-unknown-fields", 1);
	case SCH_STRING:
		return json_pack("{s:s}", "type", "string");
	case SCH_INT:
		return json_pack("{s:s,s:s}", "type", "integer", "format", "int64");
	case SCH_BOOL:
		return json_pack("{s:s}", "type", "boolean");
	case SCH_OBJECT:
		return object_json(components, sch);
	case SCH_MAP:
		return json_pack("{s:s,s:o}", "type", "object", "additionalProperties",
		                 schema_json(components, sch->item, false));
	case SCH_ARRAY:
		return array_json(components, sch);
	case SCH_BASE64:
		return json_pack("{s:s,s:s}", "type", "string", "format", "byte");
	case SCH_TIME:
		return json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
	case SCH_INT_OR_STRING:
		return json_pack("{s:s,s:b}", "format", "int-or-string",
		                 "x-kubernetes-int-or-string", 1);
	case SCH_QUANTITY:
		return json_pack("{s:[{s:s},{s:s}]}", "oneOf", "type", "string", "type", "number");
	case SCH_NUMBER:
		return json_pack("{s:s,s:s}", "type", "number", "format", "double");
	}
	return json_object();
}

static json_t *schema_json(json_t *components, const struct api_schema *sch, bool root)
{
	char buf[160], ref[200];
	const char *name = components && !root ? component_name(sch, buf, sizeof buf) : NULL;
	const struct api_resource *res;
	json_t *body;

	if (name == NULL)
		return schema_body(components, sch);
	if (json_object_get(components, name) == NULL) {
		json_object_set_new(components, name, json_object()); /* schemas form no cycles */
		body = schema_body(components, sch);
		if ((res = resource_of(sch)) != NULL)
			json_object_set_new(body, "x-kubernetes-group-version-kind",
			                    json_pack("[o]", gvk(res)));
		json_object_set_new(components, name, body);
	}
	snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
	return json_pack("{s:s}", "$ref", ref);
}

json_t *api_openapi_schema(const struct api_schema *sch)
{
	return schema_json(NULL, sch, true);
}

/* ---- Paths ----------------------------------------------------------------------------------- */

static json_t *query_param(const char *name)
{
	return json_pack("{s:s,s:s,s:{s:s,s:b}}", "name", name, "in", "query", "schema", "type",
	                 "string", "uniqueItems", 1);
}

static json_t *path_param(const char *name)
{
	return json_pack("{s:s,s:s,s:b,s:{s:s}}", "name", name, "in", "path", "required", 1,
	                 "schema", "type", "string");
}

/* "AppsV1", "CoreV1", "StorageV1". */
static void group_camel(const struct api_resource *res, char *buf, size_t len)
{
	size_t pkg = strcspn(res->group, ".");

	snprintf(buf, len, "%.*s%s", (int)(*res->group ? pkg : 4),
	         *res->group ? res->group : "core", res->version);
	buf[0] = (char)toupper((unsigned char)buf[0]);
	for (char *p = buf + 1; *p; p++)
		if (isdigit((unsigned char)p[1]) && *p == 'v')
			*p = 'V';
}

/* One operation: action is Kubernetes' x-kubernetes-action; writes carry fieldValidation. */
static json_t *operation(const struct api_resource *res, const char *verb, const char *action,
                         const char *ref, bool write, bool body)
{
	char id[160], gc[64];
	json_t *params = json_array();
	json_t *op;

	group_camel(res, gc, sizeof gc);
	snprintf(id, sizeof id, "%s%s%s%s", verb, gc, res->namespaced ? "Namespaced" : "",
	         res->kind);
	if (write) {
		json_array_append_new(params, query_param("fieldValidation"));
		json_array_append_new(params, query_param("fieldManager"));
		json_array_append_new(params, query_param("dryRun"));
	}
	op = json_pack("{s:s,s:s,s:o,s:o,s:{s:{s:s,s:{s:{s:{s:s}}}}}}", "operationId", id,
	               "x-kubernetes-action", action, "x-kubernetes-group-version-kind", gvk(res),
	               "parameters", params, "responses", "200", "description", "OK", "content",
	               "application/json", "schema", "$ref", ref);
	if (body)
		json_object_set_new(op, "requestBody",
		                    json_pack("{s:{s:{s:{s:s}}},s:b}", "content",
		                              "application/json", "schema", "$ref", ref, "required",
		                              1));
	return op;
}

static void add_paths(json_t *paths, const struct api_resource *res, const char *prefix,
                      const char *ref)
{
	char path[256];
	json_t *coll, *item, *ns = res->namespaced ? path_param("namespace") : NULL;

	snprintf(path, sizeof path, "%s%s/%s", prefix,
	         res->namespaced ? "/namespaces/{namespace}" : "", res->plural);
	coll = json_pack("{s:o,s:o,s:o}", "get", operation(res, "list", "list", ref, false, false),
	                 "post", operation(res, "create", "post", ref, true, true), "delete",
	                 operation(res, "deleteCollection", "deletecollection", ref, false, false));
	item =
	    json_pack("{s:o,s:o,s:o,s:o}", "get", operation(res, "read", "get", ref, false, false),
	              "put", operation(res, "replace", "put", ref, true, true), "patch",
	              operation(res, "patch", "patch", ref, true, false), "delete",
	              operation(res, "delete", "delete", ref, false, false));
	json_object_set_new(item, "parameters", json_pack("[o]", path_param("name")));
	if (ns) {
		json_object_set_new(coll, "parameters", json_pack("[O]", ns));
		json_array_insert_new(json_object_get(item, "parameters"), 0, ns);
	}
	json_object_set_new(paths, path, coll);
	snprintf(path + strlen(path), sizeof path - strlen(path), "/{name}");
	json_object_set_new(paths, path, item);
}

json_t *api_openapi_doc(const char *group, const char *version)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *paths = json_object(), *components = json_object(), *ref;
	char prefix[96];
	bool any = false;

	if (*group)
		snprintf(prefix, sizeof prefix, "/apis/%s/%s", group, version);
	else
		snprintf(prefix, sizeof prefix, "/api/%s", version);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].group, group) != 0 || strcmp(t[i].version, version) != 0)
			continue;
		any = true;
		ref = schema_json(components, t[i].schema, false);
		add_paths(paths, &t[i], prefix, json_string_value(json_object_get(ref, "$ref")));
		json_decref(ref);
	}
	if (!any) {
		json_decref(paths);
		json_decref(components);
		return NULL;
	}
	return json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:o}}", "openapi", "3.0.0", "info", "title",
	                 "Kubernetes", "version", KUBE_VERSION, "paths", paths, "components",
	                 "schemas", components);
}

/* A short hash of a document, so kubectl's cache notices when it changes. */
static void doc_hash(json_t *doc, char out[17])
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	uint64_t h = 1469598103934665603ull;

	for (const char *p = text ? text : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	free(text);
	snprintf(out, 17, "%016" PRIX64, h);
}

json_t *api_openapi_index(void)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *paths = json_object();
	char key[128], url[256], hash[17];

	for (size_t i = 0; i < n; i++) {
		json_t *doc;
		if (*t[i].group)
			snprintf(key, sizeof key, "apis/%s/%s", t[i].group, t[i].version);
		else
			snprintf(key, sizeof key, "api/%s", t[i].version);
		if (json_object_get(paths, key))
			continue;
		doc = api_openapi_doc(t[i].group, t[i].version);
		doc_hash(doc, hash);
		json_decref(doc);
		snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", key, hash);
		json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
	}
	return json_pack("{s:o}", "paths", paths);
}

void api_openapi_answer(struct api_req *r, const struct route *rt)
{
	json_t *doc;

	if (rt->kind == ROUTE_OPENAPI_INDEX) {
		api_reply_json(r, 200, api_openapi_index());
		return;
	}
	if ((doc = api_openapi_doc(rt->group, rt->version)) == NULL) {
		api_fail(r, API_NOT_FOUND, NULL, "no OpenAPI document for this group version");
		return;
	}
	api_reply_json(r, 200, doc);
}
