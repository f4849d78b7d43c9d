/* authz.c — the authorization rule table: who may do what, one row per permission, so that a
 * reviewer can audit it row by row.
 *
 * The node rows follow kube-apiserver's node authorizer (plugin/pkg/auth/authorizer/node/
 * node_authorizer.go: own Node object by name, node lease in kube-node-lease by name, pods by the
 * spec.nodeName field selector, secrets/configmaps/PVCs/PVs only when a pod bound to the node
 * references them) without its admission half: where Kubernetes lets NodeRestriction check
 * creates and status updates, the row checks the name or the pod's binding itself. The discovery
 * row is system:discovery + system:public-info-viewer. Refusals are worded as apiserver's
 * responsewriters.forbiddenMessage, followed by ": " and the failing row's reason. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"

/* ---- Requests as the rows see them ----------------------------------------------------------- */

/* The request with every string present ("" for absent), and the asking node, if any. */
struct authz_ctx {
	const struct auth_user *u;
	struct authz_request rq;
	const struct authz_graph *g;
	const char *node; /* NAME of system:node:NAME in system:nodes, else NULL */
	char *reason;
	size_t reasonlen;
};

/* What a row's condition found. */
enum authz_check {
	CHECK_OK,
	CHECK_FAIL,       /* the request itself breaks the condition */
	CHECK_FAIL_GRAPH, /* only what the store holds now refuses it */
};

typedef enum authz_check (*authz_check_cb)(struct authz_ctx *c);

enum authz_who {
	WHO_ADMIN,         /* in AUTH_ADMIN_GROUP */
	WHO_AUTHENTICATED, /* in AUTH_AUTHENTICATED_GROUP */
	WHO_REPLICA,       /* in AUTH_REPLICAS_GROUP */
	WHO_NODE,          /* system:node:NAME in system:nodes */
};

enum authz_kind {
	KIND_RESOURCE,
	KIND_PATH, /* non-resource */
	KIND_ANY,
};

struct authz_rule {
	enum authz_who who;
	enum authz_kind kind;
	const char *const *verbs;        /* "*" for any */
	const char *const *groups;       /* API groups; "" is core */
	const char *const *resources;    /* plurals */
	const char *const *subresources; /* "" for the object itself */
	const char *const *paths;        /* non-resource: exact, or ending in a slash and a star for
	                                    everything under it */
	authz_check_cb check;            /* NULL: the row allows whatever it matches */
};

/* ---- Matching -------------------------------------------------------------------------------- */

static bool listed(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, "*") == 0 || strcmp(*list, s) == 0)
			return true;
	return false;
}

/* A path with no empty, "." or ".." segment: only such paths are matched by a pattern that is not
 * "*", so "/api/../metrics" cannot pass as discovery whatever the router makes of it. */
static bool path_clean(const char *p)
{
	if (p[0] != '/')
		return false;
	while (*p == '/') {
		const char *seg = p + 1, *next = strchr(seg, '/');
		size_t n = next ? (size_t)(next - seg) : strlen(seg);
		if ((n == 0 && next != NULL) || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		p = seg + n;
	}
	return true;
}

static bool path_listed(const char *const *list, const char *path)
{
	for (; list != NULL && *list != NULL; list++) {
		size_t n = strlen(*list);
		if (strcmp(*list, "*") == 0)
			return true;
		if (!path_clean(path))
			continue;
		if (n >= 2 && strcmp(*list + n - 2, "/*") == 0) {
			if (strncmp(path, *list, n - 1) == 0)
				return true; /* the pattern for /api covers "/api/" and all under it
				              */
		} else if (strcmp(*list, path) == 0) {
			return true;
		}
	}
	return false;
}

static bool who_matches(const struct authz_rule *r, const struct authz_ctx *c)
{
	switch (r->who) {
	case WHO_ADMIN:
		return auth_user_in(c->u, AUTH_ADMIN_GROUP);
	case WHO_AUTHENTICATED:
		return auth_user_in(c->u, AUTH_AUTHENTICATED_GROUP);
	case WHO_REPLICA:
		return auth_user_in(c->u, AUTH_REPLICAS_GROUP);
	case WHO_NODE:
		return c->node != NULL;
	}
	return false;
}

static bool request_matches(const struct authz_rule *r, const struct authz_ctx *c)
{
	const struct authz_request *q = &c->rq;

	if (!listed(r->verbs, q->verb))
		return false;
	if (!q->resource_request)
		return r->kind != KIND_RESOURCE && path_listed(r->paths, q->path);
	return r->kind != KIND_PATH && listed(r->groups, q->group) &&
	       listed(r->resources, q->resource) && listed(r->subresources, q->subresource);
}

/* ---- Row conditions -------------------------------------------------------------------------- */

static enum authz_check fail(struct authz_ctx *c, enum authz_check how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum authz_check fail(struct authz_ctx *c, enum authz_check how, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (c->reasonlen > 0)
		vsnprintf(c->reason, c->reasonlen, fmt, ap);
	va_end(ap);
	return how;
}

/* Own Node object: by name (as upstream's authorizeNode, but also for create and status, which
 * upstream leaves to NodeRestriction). */
static enum authz_check node_is_own(struct authz_ctx *c)
{
	if (strcmp(c->rq.name, c->node) == 0)
		return CHECK_OK;
	if (c->rq.name[0] == '\0')
		return fail(c, CHECK_FAIL,
		            "node '%s' cannot %s all nodes, only its own Node object", c->node,
		            c->rq.verb);
	return fail(c, CHECK_FAIL, "node '%s' cannot %s '%s', only its own Node object", c->node,
	            c->rq.verb, c->rq.name);
}

/* Listing nodes: only the own one, pinned by exactly this selector. */
static enum authz_check node_list_own(struct authz_ctx *c)
{
	char want[AUTH_NAME_MAX + 32];

	snprintf(want, sizeof want, "metadata.name=%s", c->node);
	if (strcmp(c->rq.field_selector, want) == 0)
		return CHECK_OK;
	return fail(c, CHECK_FAIL, "can only %s its own Node object with fieldSelector %s",
	            c->rq.verb, want);
}

/* Wording of upstream's authorizeLease. */
static enum authz_check lease_is_own(struct authz_ctx *c)
{
	if (strcmp(c->rq.ns, AUTH_NODE_LEASE_NS) != 0)
		return fail(c, CHECK_FAIL, "can only access leases in the \"%s\" system namespace",
		            AUTH_NODE_LEASE_NS);
	if (strcmp(c->rq.name, c->node) != 0)
		return fail(c, CHECK_FAIL,
		            "can only access node lease with the same name as the requesting node");
	return CHECK_OK;
}

/* The field selector has exactly one spec.nodeName term, "=" or "==" this node; other terms
 * only narrow the result (terms are ANDed). Anything we are unsure how the API reads (escapes,
 * "!=" on spec.nodeName, a second nodeName term) refuses. Term splitting as the API's field
 * selector parser: the first "!=", "==" or "=" splits key from value. */
static bool selector_pins_node(const char *sel, const char *node)
{
	unsigned found = 0;

	if (strchr(sel, '\\') != NULL)
		return false;
	while (*sel != '\0') {
		const char *end = strchr(sel, ','), *op;
		size_t n = end ? (size_t)(end - sel) : strlen(sel), klen = 0, oplen = 0;

		for (op = sel; op < sel + n && oplen == 0; op++) {
			if (strncmp(op, "!=", 2) == 0 || strncmp(op, "==", 2) == 0)
				oplen = 2;
			else if (*op == '=')
				oplen = 1;
			klen = (size_t)(op - sel);
		}
		if (n > 0 && oplen == 0)
			return false; /* the API refuses it; so do we */
		if (n > 0 && klen == strlen("spec.nodeName") &&
		    strncmp(sel, "spec.nodeName", klen) == 0) {
			const char *v = sel + klen + oplen;
			size_t vlen = n - klen - oplen;
			if (sel[klen] == '!' || vlen != strlen(node) || strncmp(v, node, vlen) != 0)
				return false;
			found++;
		}
		sel += n + (end ? 1 : 0);
	}
	return found == 1;
}

static enum authz_check pods_list_own(struct authz_ctx *c)
{
	if (selector_pins_node(c->rq.field_selector, c->node))
		return CHECK_OK;
	return fail(c, CHECK_FAIL, "can only %s pods with fieldSelector spec.nodeName=%s",
	            c->rq.verb, c->node);
}

/* Pod ns/name is bound to this node (graph). */
static enum authz_check pod_is_bound(struct authz_ctx *c)
{
	const char *what = strcmp(c->rq.subresource, "status") == 0 ? "the status of pods" : "pods";
	enum authz_check how = CHECK_FAIL_GRAPH;

	if (c->rq.ns[0] == '\0' || c->rq.name[0] == '\0')
		how = CHECK_FAIL;
	else if (c->g != NULL && c->g->pod_on_node != NULL &&
	         c->g->pod_on_node(c->g->ud, c->rq.ns, c->rq.name, c->node))
		return CHECK_OK;
	return fail(c, how, "can only %s %s bound to node \"%s\"", c->rq.verb, what, c->node);
}

/* A delete: of a pod bound to this node, or the confirmation of a force-deleted pod whose claim
 * still names this node as "releasing" (../shared/DESIGN.md, Identity). Kubernetes' node
 * authorizer has no such case: its claims do not exist. The handler checks the uid. */
static enum authz_check pod_is_bound_or_releasing(struct authz_ctx *c)
{
	enum authz_check got = pod_is_bound(c);

	if (got != CHECK_FAIL_GRAPH || c->g == NULL || c->g->pod_gone_releasing_on == NULL ||
	    !c->g->pod_gone_releasing_on(c->g->ud, c->rq.ns, c->rq.name, c->node))
		return got;
	return CHECK_OK;
}

/* Secrets, configmaps, PVCs (namespaced) and PVs (cluster-scoped) a pod of this node uses. */
static enum authz_check used_by_pods(struct authz_ctx *c)
{
	bool pv = strcmp(c->rq.resource, "persistentvolumes") == 0;
	enum authz_check how = CHECK_FAIL_GRAPH;

	if (c->rq.name[0] == '\0' || (pv ? c->rq.ns[0] != '\0' : c->rq.ns[0] == '\0'))
		how = CHECK_FAIL;
	else if (c->g != NULL && c->g->node_uses != NULL &&
	         c->g->node_uses(c->g->ud, c->node, c->rq.resource, c->rq.ns, c->rq.name))
		return CHECK_OK;
	return fail(c, how, "no relationship found between node '%s' and this object", c->node);
}

/* Services and endpoints of a namespace the node's pods run in. */
static enum authz_check ns_has_pods(struct authz_ctx *c)
{
	enum authz_check how = CHECK_FAIL_GRAPH;

	if (c->rq.ns[0] == '\0')
		how = CHECK_FAIL;
	else if (c->g != NULL && c->g->node_has_pod_in != NULL &&
	         c->g->node_has_pod_in(c->g->ud, c->node, c->rq.ns))
		return CHECK_OK;
	return fail(c, how, "can only read %s in namespaces where pods bound to node \"%s\" run",
	            c->rq.resource, c->node);
}

/* ---- The table ------------------------------------------------------------------------------- */

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALL    L("*")
#define NONE   L("")

/* who, verbs, API groups, resources, subresources, condition */
#define RES(who, verbs, groups, resources, subs, check)                         \
	{                                                                       \
		who, KIND_RESOURCE, verbs, groups, resources, subs, NULL, check \
	}
/* who, verbs, paths (non-resource) */
#define PATH(who, verbs, paths)                                      \
	{                                                            \
		who, KIND_PATH, verbs, NULL, NULL, NULL, paths, NULL \
	}

static const struct authz_rule rules[] = {
    /* Admins: everything, resource and non-resource. */
    {WHO_ADMIN, KIND_ANY, ALL, ALL, ALL, ALL, ALL, NULL},

    /* Everyone authenticated: discovery, OpenAPI, version and health (not /metrics, not
     * /debug/..., not /stsd/...). */
    PATH(WHO_AUTHENTICATED, L("get"),
         L("/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/",
           "/healthz", "/livez", "/readyz")),

    /* Replicas: the membership endpoints. */
    PATH(WHO_REPLICA, ALL, L("/stsd/v1/members", "/stsd/v1/members/*")),

    /* Node agents. Their own Node: */
    RES(WHO_NODE, L("create"), NONE, L("nodes"), NONE, node_is_own),
    RES(WHO_NODE, L("get", "update", "patch"), NONE, L("nodes"), L("", "status"), node_is_own),
    RES(WHO_NODE, L("list", "watch"), NONE, L("nodes"), NONE, node_list_own),
    /* ...their Lease, kube-node-lease/NAME: */
    RES(WHO_NODE, L("get", "create", "update", "patch"), L("coordination.k8s.io"), L("leases"),
        NONE, lease_is_own),
    /* ...the pods bound to them: read, report status, confirm termination: */
    RES(WHO_NODE, L("get"), NONE, L("pods"), NONE, pod_is_bound),
    RES(WHO_NODE, L("list", "watch"), NONE, L("pods"), NONE, pods_list_own),
    RES(WHO_NODE, L("update", "patch"), NONE, L("pods"), L("status"), pod_is_bound),
    RES(WHO_NODE, L("delete"), NONE, L("pods"), NONE, pod_is_bound_or_releasing),
    /* ...events, anywhere: */
    RES(WHO_NODE, L("create", "update", "patch"), L("", "events.k8s.io"), L("events"), NONE, NULL),
    /* ...what their pods use: */
    RES(WHO_NODE, L("get"), NONE, L("secrets", "configmaps", "persistentvolumeclaims"), NONE,
        used_by_pods),
    RES(WHO_NODE, L("get"), NONE, L("persistentvolumes"), NONE, used_by_pods),
    /* ...services and endpoints of the namespaces their pods run in: */
    RES(WHO_NODE, L("get", "list", "watch"), NONE, L("services", "endpoints"), NONE, ns_has_pods),
};

/* ---- Deciding -------------------------------------------------------------------------------- */

const char *authz_node_name(const struct auth_user *u)
{
	size_t n = strlen(AUTH_NODE_PREFIX);

	if (u == NULL || strncmp(u->name, AUTH_NODE_PREFIX, n) != 0 || u->name[n] == '\0' ||
	    !auth_user_in(u, AUTH_NODES_GROUP))
		return NULL;
	return u->name + n;
}

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

/* apiserver's forbiddenMessage (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/
 * errors.go), then ": reason" when a row matched but its condition failed. */
static void forbidden(const struct authz_ctx *c, const char *reason, char *why, size_t whylen)
{
	const struct authz_request *q = &c->rq;
	int n;

	if (why == NULL || whylen == 0)
		return;
	if (!q->resource_request)
		n = snprintf(why, whylen, "User \"%s\" cannot %s path \"%s\"", c->u->name, q->verb,
		             q->path);
	else
		n = snprintf(why, whylen,
		             "User \"%s\" cannot %s resource \"%s%s%s\" in API group "
		             "\"%s\"%s%s%s",
		             c->u->name, q->verb, q->resource, q->subresource[0] ? "/" : "",
		             q->subresource, q->group,
		             q->ns[0] ? " in the namespace \"" : " at the cluster scope", q->ns,
		             q->ns[0] ? "\"" : "");
	if (reason[0] != '\0' && n > 0 && (size_t)n < whylen)
		snprintf(why + n, whylen - (size_t)n, ": %s", reason);
}

enum authz_decision authz_decide(const struct auth_user *u, const struct authz_request *rq,
                                 const struct authz_graph *g, char *why, size_t whylen)
{
	char reason[512] = "", first[512] = "";
	struct authz_ctx c = {.u = u, .g = g, .reason = reason, .reasonlen = sizeof reason};
	bool graph = false, failed = false;
	static const struct auth_user nobody;
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (u == NULL)
		c.u = u = &nobody; /* refused below: in no group */
	if (rq == NULL)
		return AUTHZ_DENY;
	c.rq = *rq;
	c.rq.verb = str(rq->verb);
	c.rq.path = str(rq->path);
	c.rq.group = str(rq->group);
	c.rq.resource = str(rq->resource);
	c.rq.subresource = str(rq->subresource);
	c.rq.ns = str(rq->ns);
	c.rq.name = str(rq->name);
	c.rq.field_selector = str(rq->field_selector);
	c.node = authz_node_name(u);
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		enum authz_check got;
		if (!who_matches(&rules[i], &c) || !request_matches(&rules[i], &c))
			continue;
		reason[0] = '\0';
		got = rules[i].check != NULL ? rules[i].check(&c) : CHECK_OK;
		if (got == CHECK_OK)
			return AUTHZ_ALLOW;
		if (!failed)
			memcpy(first, reason, sizeof first);
		failed = true;
		/* Another store (the leader's) might allow what this one's graph refuses. */
		graph = graph || got == CHECK_FAIL_GRAPH;
	}
	forbidden(&c, first, why, whylen);
	return graph ? AUTHZ_DENY_GRAPH : AUTHZ_DENY;
}
