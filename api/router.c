/* router.c — a decoded URL path to a route: fixed endpoints, discovery, OpenAPI, the resources of
 * the table (Kubernetes' /api/v1/... and /apis/GROUP/VERSION/... shapes) and /stsd/v1/members. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"

#define MAX_SEGMENTS 10

struct fixed_route {
	const char *path;
	enum route_kind kind;
};

static const struct fixed_route fixed[] = {
    {"/healthz", ROUTE_HEALTHZ},
    {"/livez", ROUTE_LIVEZ},
    {"/readyz", ROUTE_READYZ},
    {"/metrics", ROUTE_METRICS},
    {"/debug/raft", ROUTE_DEBUG_RAFT},
    {"/version", ROUTE_VERSION},
    {"/api", ROUTE_API_VERSIONS},
    {"/apis", ROUTE_API_GROUPS},
    {"/openapi/v3", ROUTE_OPENAPI_INDEX},
    {"/openapi/v2", ROUTE_OPENAPI_V2},
};

struct segments {
	char buf[2048];
	const char *s[MAX_SEGMENTS];
	int n;
};

/* Split path on '/', dropping empty segments; false when it has too many or is too long. */
static bool split(const char *path, struct segments *sg)
{
	char *save = NULL, *tok;

	sg->n = 0;
	if (strlen(path) >= sizeof sg->buf)
		return false;
	strcpy(sg->buf, path);
	for (tok = strtok_r(sg->buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (sg->n == MAX_SEGMENTS)
			return false;
		sg->s[sg->n++] = tok;
	}
	return true;
}

static bool copy(char *dst, size_t len, const char *src)
{
	return (size_t)snprintf(dst, len, "%s", src) < len;
}

static void not_found(struct route *rt, const char *why)
{
	rt->kind = ROUTE_NOTFOUND;
	rt->error = why;
}

/* Whether res announces subresource sub (discovery lists the same ones). */
static bool sub_served(const struct api_resource *res, const char *sub)
{
	static const struct {
		const char *name;
		unsigned bit;
	} subs[] = {
	    {"status", SUB_STATUS}, {"scale", SUB_SCALE}, {"log", SUB_LOG}, {"exec", SUB_EXEC}};

	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(subs[i].name, sub) == 0)
			return (res->subresources & subs[i].bit) != 0;
	return false;
}

/* The rest of a resource path after the group/version prefix: [namespaces/NS/]PLURAL[/NAME[/SUB]],
 * where namespaces/NAME[/SUB] is the namespace object itself when no resource follows. */
static void resource_path(const char *group, const char **s, int n, struct route *rt)
{
	const struct api_resource *res;
	bool in_ns = n >= 3 && strcmp(s[0], "namespaces") == 0 &&
	             (res = api_resource_find(group, s[2])) != NULL && res->namespaced;

	if (in_ns) {
		if (!copy(rt->ns, sizeof rt->ns, s[1]))
			return not_found(rt, "namespace name too long");
		s += 2;
		n -= 2;
	}
	if (n < 1 || n > 3 || (res = api_resource_find(group, s[0])) == NULL)
		return not_found(rt, "the server could not find the requested resource");
	if (in_ns != res->namespaced && n > 1 && res->namespaced)
		return not_found(rt, "the server could not find the requested resource");
	rt->kind = ROUTE_OBJECTS;
	rt->res = res;
	if (n >= 2 && !copy(rt->name, sizeof rt->name, s[1]))
		return not_found(rt, "name too long");
	if (n == 3 && (!sub_served(res, s[2]) || !copy(rt->sub, sizeof rt->sub, s[2])))
		return not_found(rt, "the server could not find the requested resource");
}

static void members_path(const char **s, int n, struct route *rt)
{
	rt->kind = ROUTE_MEMBERS;
	if (n >= 1 && !api_parse_u64(s[0], &rt->member_id))
		return not_found(rt, "member ids are decimal numbers");
	if (n == 2 && !copy(rt->sub, sizeof rt->sub, s[1]))
		return not_found(rt, "unknown member action");
	if (n > 2)
		not_found(rt, "unknown member path");
}

static void versioned(const char *group, const char *version, const char **s, int n,
                      struct route *rt)
{
	copy(rt->group, sizeof rt->group, group);
	copy(rt->version, sizeof rt->version, version);
	if (n == 0) {
		rt->kind = ROUTE_RESOURCE_LIST;
		return;
	}
	resource_path(group, s, n, rt);
	if (rt->kind == ROUTE_OBJECTS && strcmp(rt->res->version, version) != 0)
		not_found(rt, "the server could not find the requested resource");
}

static void openapi_path(const char **s, int n, struct route *rt)
{
	if (n == 1 && strcmp(s[0], "api") == 0)
		return not_found(rt, "unknown OpenAPI document");
	if (n == 2 && strcmp(s[0], "api") == 0) {
		rt->kind = ROUTE_OPENAPI_GV;
		copy(rt->version, sizeof rt->version, s[1]);
	} else if (n == 3 && strcmp(s[0], "apis") == 0) {
		rt->kind = ROUTE_OPENAPI_GV;
		copy(rt->group, sizeof rt->group, s[1]);
		copy(rt->version, sizeof rt->version, s[2]);
	} else {
		not_found(rt, "unknown OpenAPI document");
	}
}

void api_route(const char *path, struct route *rt)
{
	struct segments sg;
	const char **s = sg.s;

	size_t len = strlen(path);

	memset(rt, 0, sizeof *rt);
	if (len > 1 && path[len - 1] == '/')
		len--; /* "/healthz/" is "/healthz" */
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		if (strlen(fixed[i].path) == len && strncmp(path, fixed[i].path, len) == 0) {
			rt->kind = fixed[i].kind;
			return;
		}
	}
	if (!split(path, &sg) || sg.n < 2)
		return not_found(rt, "the server could not find the requested resource");
	if (strcmp(s[0], "api") == 0 && strcmp(s[1], "v1") == 0)
		return versioned("", "v1", s + 2, sg.n - 2, rt);
	if (strcmp(s[0], "apis") == 0 && sg.n == 2) {
		rt->kind = ROUTE_API_GROUP;
		copy(rt->group, sizeof rt->group, s[1]);
		return;
	}
	if (strcmp(s[0], "apis") == 0)
		return versioned(s[1], s[2], s + 3, sg.n - 3, rt);
	if (sg.n >= 2 && strcmp(s[0], "openapi") == 0 && strcmp(s[1], "v3") == 0)
		return openapi_path(s + 2, sg.n - 2, rt);
	if (sg.n >= 3 && strcmp(s[0], "stsd") == 0 && strcmp(s[1], "v1") == 0 &&
	    strcmp(s[2], "members") == 0)
		return members_path(s + 3, sg.n - 3, rt);
	not_found(rt, "the server could not find the requested resource");
}
