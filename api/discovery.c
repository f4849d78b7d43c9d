/* discovery.c — /version and discovery (/api, /apis, /apis/GROUP, resource lists; legacy and
 * aggregated v2), generated from the resource table. kubectl's use of each is in
 * ../shared/KUBECTL.md; the OpenAPI documents are in openapi.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "schemas.h"

/* kubectl's dispatcher picks its binary by the server's minor version (KUBECTL.md). */
#define KUBE_MINOR "32"

#define DISCOVERY_TYPE "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"

/* The subresources the table can announce, with what discovery says of each (as upstream's
 * /api/v1 and /apis/apps/v1 do). kind NULL: the resource's own kind. */
static const struct subresource {
	unsigned bit;
	const char *name, *group, *version, *kind;
	unsigned verbs;
} subresources[] = {
    {SUB_STATUS, "status", NULL, NULL, NULL, VERB_GET | VERB_PATCH | VERB_UPDATE},
    {SUB_SCALE, "scale", "autoscaling", "v1", "Scale", VERB_GET | VERB_PATCH | VERB_UPDATE},
    {SUB_LOG, "log", NULL, NULL, "Pod", VERB_GET},
    {SUB_EXEC, "exec", NULL, NULL, "PodExecOptions", VERB_CREATE | VERB_GET},
};
#define N_SUBRESOURCES (sizeof subresources / sizeof subresources[0])

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

static void add_names(json_t *e, const struct api_resource *res)
{
	if (res->short_names[0])
		json_object_set_new(e, "shortNames", strings(res->short_names, 4));
	if (res->categories[0])
		json_object_set_new(e, "categories", strings(res->categories, 2));
}

/* ---- Legacy: APIResourceList ----------------------------------------------------------------- */

static json_t *resource_entry(const struct api_resource *res)
{
	json_t *e = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", res->plural, "singularName",
	                      res->singular, "namespaced", res->namespaced, "kind", res->kind,
	                      "verbs", verbs_of(res->verbs));

	add_names(e, res);
	return e;
}

/* "statefulsets/scale": singularName is empty for subresources, group and version only when
 * they differ from the resource's. */
static json_t *subresource_entry(const struct api_resource *res, const struct subresource *sub)
{
	char name[128];
	json_t *e;

	snprintf(name, sizeof name, "%s/%s", res->plural, sub->name);
	e = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", name, "singularName", "", "namespaced",
	              res->namespaced, "kind", sub->kind ? sub->kind : res->kind, "verbs",
	              verbs_of(sub->verbs));
	if (sub->group) {
		json_object_set_new(e, "group", json_string(sub->group));
		json_object_set_new(e, "version", json_string(sub->version));
	}
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

json_t *api_discovery_resource_list(const char *group, const char *version)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *list;
	char gv[96];

	if (!group_has(group, version))
		return NULL;
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].group, group) != 0 || strcmp(t[i].version, version) != 0)
			continue;
		json_array_append_new(list, resource_entry(&t[i]));
		for (size_t j = 0; j < N_SUBRESOURCES; j++)
			if (t[i].subresources & subresources[j].bit)
				json_array_append_new(list,
				                      subresource_entry(&t[i], &subresources[j]));
	}
	snprintf(gv, sizeof gv, "%s%s%s", group, *group ? "/" : "", version);
	return json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
	                 "groupVersion", gv, "resources", list);
}

/* ---- Aggregated discovery (apidiscovery.k8s.io v2 / v2beta1) --------------------------------- */

static json_t *response_kind(const char *group, const char *version, const char *kind)
{
	return json_pack("{s:s,s:s,s:s}", "group", group, "version", version, "kind", kind);
}

static json_t *aggregated_resource(const struct api_resource *res)
{
	json_t *subs = json_array();
	json_t *e = json_pack("{s:s,s:o,s:s,s:s,s:o}", "resource", res->plural, "responseKind",
	                      response_kind(res->group, res->version, res->kind), "scope",
	                      res->namespaced ? "Namespaced" : "Cluster", "singularResource",
	                      res->singular, "verbs", verbs_of(res->verbs));

	add_names(e, res);
	for (size_t j = 0; j < N_SUBRESOURCES; j++) {
		const struct subresource *s = &subresources[j];
		if (!(res->subresources & s->bit))
			continue;
		json_array_append_new(
		    subs, json_pack("{s:s,s:o,s:o}", "subresource", s->name, "responseKind",
		                    response_kind(s->group ? s->group : res->group,
		                                  s->version ? s->version : res->version,
		                                  s->kind ? s->kind : res->kind),
		                    "verbs", verbs_of(s->verbs)));
	}
	if (json_array_size(subs))
		json_object_set_new(e, "subresources", subs);
	else
		json_decref(subs);
	return e;
}

/* One APIGroupDiscovery: the group's one version with its resources. */
static json_t *aggregated_group(const char *group, const char *version)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *resources = json_array(), *meta = json_pack("{s:n}", "creationTimestamp");

	if (*group)
		json_object_set_new(meta, "name", json_string(group));
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].group, group) == 0 && strcmp(t[i].version, version) == 0)
			json_array_append_new(resources, aggregated_resource(&t[i]));
	return json_pack("{s:o,s:[{s:s,s:o,s:s}]}", "metadata", meta, "versions", "version",
	                 version, "resources", resources, "freshness", "Current");
}

json_t *api_discovery_aggregated(bool core, enum api_discovery_format fmt)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	json_t *items = json_array();

	for (size_t i = 0; i < n; i++) {
		bool seen = core != !*t[i].group;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(t[j].group, t[i].group) == 0;
		if (!seen)
			json_array_append_new(items, aggregated_group(t[i].group, t[i].version));
	}
	return json_pack("{s:s,s:s,s:{},s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
	                 fmt == DISCOVERY_V2 ? "apidiscovery.k8s.io/v2"
	                                     : "apidiscovery.k8s.io/v2beta1",
	                 "metadata", "items", items);
}

/* Whether the media range [p, end) has parameter name=value (spaces around ';' ignored). */
static bool has_param(const char *p, const char *end, const char *param)
{
	size_t len = strlen(param);

	for (const char *q = p; q && q < end; q = memchr(q, ';', (size_t)(end - q))) {
		if (*q == ';')
			q++;
		while (q < end && *q == ' ')
			q++;
		if ((size_t)(end - q) >= len && strncmp(q, param, len) == 0 &&
		    (q + len == end || q[len] == ';' || q[len] == ' '))
			return true;
	}
	return false;
}

enum api_discovery_format api_discovery_format_of(const char *accept)
{
	const char *p = accept;

	/* The first acceptable media range wins: kubectl lists them in its order of preference. */
	while (p && *p) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (has_param(p, end, "g=apidiscovery.k8s.io") &&
		    has_param(p, end, "as=APIGroupDiscoveryList")) {
			if (has_param(p, end, "v=v2"))
				return DISCOVERY_V2;
			if (has_param(p, end, "v=v2beta1"))
				return DISCOVERY_V2BETA1;
		}
		p = *end ? end + 1 : end;
	}
	return DISCOVERY_LEGACY;
}

/* Answer /api or /apis in the aggregated format if Accept asks for it; false when it does not. */
static bool aggregated(struct api_req *r, bool core)
{
	enum api_discovery_format fmt = api_discovery_format_of(api_req_header(r, "Accept"));
	char type[128];
	json_t *doc;
	char *text;

	if (fmt == DISCOVERY_LEGACY)
		return false;
	doc = api_discovery_aggregated(core, fmt);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text == NULL) {
		api_fail(r, API_INTERNAL, NULL, "out of memory");
		return true;
	}
	snprintf(type, sizeof type, DISCOVERY_TYPE, fmt == DISCOVERY_V2 ? "v2" : "v2beta1");
	api_req_add_header(r, "Vary", "Accept");
	api_respond(r, 200, type, text, strlen(text));
	free(text);
	return true;
}

/* ---- Legacy: APIVersions, APIGroupList, APIGroup --------------------------------------------- */

static void resource_list(struct api_req *r, const struct route *rt)
{
	json_t *list = api_discovery_resource_list(rt->group, rt->version);

	if (list == NULL)
		api_fail(r, API_NOT_FOUND, NULL,
		         "the server could not find the requested resource");
	else
		api_reply_json(r, 200, list);
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
	json_t *groups;

	if (aggregated(r, false))
		return;
	groups = json_array();
	for (size_t i = 0; i < n; i++) {
		bool seen = !*t[i].group;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(t[j].group, t[i].group) == 0;
		if (!seen)
			json_array_append_new(groups, group_entry(t[i].group, t[i].version));
	}
	api_req_add_header(r, "Vary", "Accept");
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
	if (aggregated(r, true))
		return;
	api_req_add_header(r, "Vary", "Accept");
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
	case ROUTE_OPENAPI_V2:
		api_openapi_v2_answer(r);
		break;
	default:
		api_openapi_answer(r, rt);
		break;
	}
}
