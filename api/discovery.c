/* discovery.c — /version, discovery (/api, /apis, resource lists) and the OpenAPI v3 documents,
 * all generated from the resource table. kubectl's use of each is in ../shared/KUBECTL.md. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"

/* kubectl's dispatcher picks its binary by the server's minor version (KUBECTL.md). */
#define KUBE_MINOR "32"

static json_t *verbs_of(unsigned bits)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {VERB_CREATE, "create"},
	    {VERB_DELETE, "delete"},
	    {VERB_DELETECOLLECTION, "deletecollection"},
	    {VERB_GET, "get"},
	    {VERB_LIST, "list"},
	    {VERB_PATCH, "patch"},
	    {VERB_UPDATE, "update"},
	    {VERB_WATCH, "watch"},
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (bits & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}

static json_t *strings(const char *const *list, size_t max)
{
	json_t *a = json_array();

	for (size_t i = 0; i < max && list[i]; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

static json_t *resource_entry(const struct api_resource *res)
{
	json_t *e = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", res->plural, "singularName",
	                      res->singular, "namespaced", res->namespaced, "kind", res->kind,
	                      "verbs", verbs_of(res->verbs));

	if (res->short_names[0])
		json_object_set_new(e, "shortNames", strings(res->short_names, 4));
	if (res->categories[0])
		json_object_set_new(e, "categories", strings(res->categories, 2));
	return e;
}

static bool group_has(const char *group, const char *version)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].group, group) == 0 &&
		    (!version || strcmp(t[i].version, version) == 0))
			return true;
	return false;
}

static void resource_list(struct api_req *r, const struct route *rt)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *list = json_array();
	char gv[96];

	if (!group_has(rt->group, rt->version)) {
		json_decref(list);
		api_fail(r, API_NOT_FOUND, NULL,
		         "the server could not find the requested resource");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].group, rt->group) == 0 && strcmp(t[i].version, rt->version) == 0)
			json_array_append_new(list, resource_entry(&t[i]));
	if (*rt->group)
		snprintf(gv, sizeof gv, "%s/%s", rt->group, rt->version);
	else
		snprintf(gv, sizeof gv, "%s", rt->version);
	api_reply_json(r, 200,
	               json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
	                         "groupVersion", gv, "resources", list));
}

/* The named groups (not the core group) of the table, each with its one version. */
static json_t *group_entry(const char *group, const char *version)
{
	char gv[96];

	snprintf(gv, sizeof gv, "%s/%s", group, version);
	return json_pack("{s:s,s:[{s:s,s:s}],s:{s:s,s:s}}", "name", group, "versions",
	                 "groupVersion", gv, "version", version, "preferredVersion", "groupVersion",
	                 gv, "version", version);
}

static void group_list(struct api_req *r)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *groups = json_array();

	for (size_t i = 0; i < n; i++) {
		bool seen = !*t[i].group;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(t[j].group, t[i].group) == 0;
		if (!seen)
			json_array_append_new(groups, group_entry(t[i].group, t[i].version));
	}
	api_reply_json(r, 200,
	               json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1",
	                         "groups", groups));
}

static void one_group(struct api_req *r, const struct route *rt)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);

	for (size_t i = 0; i < n; i++) {
		if (*rt->group && strcmp(t[i].group, rt->group) == 0) {
			json_t *g = group_entry(t[i].group, t[i].version);
			json_object_set_new(g, "kind", json_string("APIGroup"));
			json_object_set_new(g, "apiVersion", json_string("v1"));
			api_reply_json(r, 200, g);
			return;
		}
	}
	api_fail(r, API_NOT_FOUND, NULL, "the server could not find the requested resource");
}

static void versions(struct api_server *s, struct api_req *r)
{
	api_reply_json(r, 200,
	               json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions",
	                         "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
	                         "serverAddress", s->api_address));
}

static void version(struct api_req *r)
{
	api_reply_json(r, 200,
	               json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor",
	                         KUBE_MINOR, "gitVersion", "v1." KUBE_MINOR ".0", "gitCommit",
	                         "stsd-" STSD_VERSION, "gitTreeState", "clean", "buildDate",
	                         "1970-01-01T00:00:00Z", "goVersion", "none", "compiler", "gcc",
	                         "platform", "linux/amd64", "stsdVersion", STSD_VERSION));
}

/* ---- OpenAPI v3 ------------------------------------------------------------------------------
 * Just enough for kubectl: per kind, the object path with a patch operation that carries the GVK
 * extension and the fieldValidation parameter, so kubectl leaves validation to the server. No
 * requestBody: kubectl computes strategic merge patches from its compiled-in types. */

static json_t *patch_operation(const struct api_resource *res)
{
	return json_pack("{s:{s:s,s:s,s:s},s:[{s:s,s:s,s:{s:s}}],s:{s:{s:s}}}",
	                 "x-kubernetes-group-version-kind", "group", res->group, "version",
	                 res->version, "kind", res->kind, "parameters", "name", "fieldValidation",
	                 "in", "query", "schema", "type", "string", "responses", "200",
	                 "description", "OK");
}

static json_t *openapi_doc(const char *group, const char *version)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *paths = json_object();
	char path[256], prefix[96];

	if (*group)
		snprintf(prefix, sizeof prefix, "/apis/%s/%s", group, version);
	else
		snprintf(prefix, sizeof prefix, "/api/%s", version);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].group, group) != 0 || strcmp(t[i].version, version) != 0)
			continue;
		snprintf(path, sizeof path, "%s%s/%s/{name}", prefix,
		         t[i].namespaced ? "/namespaces/{namespace}" : "", t[i].plural);
		json_object_set_new(paths, path,
		                    json_pack("{s:o}", "patch", patch_operation(&t[i])));
	}
	return json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{}}}", "openapi", "3.0.0", "info", "title",
	                 "Kubernetes", "version", "v1." KUBE_MINOR ".0", "paths", paths,
	                 "components", "schemas");
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

static void openapi_index(struct api_req *r)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *paths = json_object();
	char key[128], url[256], hash[17];

	for (size_t i = 0; i < n; i++) {
		json_t *doc = openapi_doc(t[i].group, t[i].version);
		if (*t[i].group)
			snprintf(key, sizeof key, "apis/%s/%s", t[i].group, t[i].version);
		else
			snprintf(key, sizeof key, "api/%s", t[i].version);
		doc_hash(doc, hash);
		json_decref(doc);
		snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", key, hash);
		json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
	}
	api_reply_json(r, 200, json_pack("{s:o}", "paths", paths));
}

static void openapi_gv(struct api_req *r, const struct route *rt)
{
	const char *group = *rt->group ? rt->group : "";

	if (!group_has(group, rt->version)) {
		api_fail(r, API_NOT_FOUND, NULL, "no OpenAPI document for this group version");
		return;
	}
	api_reply_json(r, 200, openapi_doc(group, rt->version));
}

void api_handle_discovery(struct api_server *s, struct api_req *r, const struct route *rt)
{
	switch (rt->kind) {
	case ROUTE_VERSION:
		version(r);
		break;
	case ROUTE_API_VERSIONS:
		versions(s, r);
		break;
	case ROUTE_API_GROUPS:
		group_list(r);
		break;
	case ROUTE_API_GROUP:
		one_group(r, rt);
		break;
	case ROUTE_RESOURCE_LIST:
		resource_list(r, rt);
		break;
	case ROUTE_OPENAPI_INDEX:
		openapi_index(r);
		break;
	default:
		openapi_gv(r, rt);
		break;
	}
}
