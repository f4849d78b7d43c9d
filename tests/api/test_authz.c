/* test_authz.c — the authorization rule table (api/authz.c), row by row: each row's allowed case
 * and its refusals, the refusal wording, and DENY_GRAPH (the store refused) against DENY (the
 * rules refused), over a fake graph of a few pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

/* ---- A fake graph ---------------------------------------------------------------------------- */

struct fake_pod {
	const char *ns, *name, *node;
	const char *secret, *configmap, *pvc, *pv; /* what it uses (pv: its PVC's volumeName) */
};

static const struct fake_pod pods[] = {
    {"default", "web-0", "a", "web-pass", "web-conf", "data-web-0", "pv-1"},
    {"default", "web-1", "b", "web-pass", NULL, "data-web-1", "pv-2"},
    {"db", "db-0", "b", "db-pass", "db-conf", "data-db-0", "pv-3"},
};
#define N_PODS (sizeof pods / sizeof pods[0])

static unsigned graph_calls;

static bool eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool fake_pod_on_node(void *ud, const char *ns, const char *name, const char *node)
{
	size_t i;

	graph_calls++;
	for (i = 0; i < N_PODS; i++)
		if (eq(pods[i].ns, ns) && eq(pods[i].name, name) && eq(pods[i].node, node))
			return true;
	return false;
}

static bool fake_node_uses(void *ud, const char *node, const char *resource, const char *ns,
                           const char *name)
{
	size_t i;

	graph_calls++;
	for (i = 0; i < N_PODS; i++) {
		const struct fake_pod *p = &pods[i];
		if (!eq(p->node, node))
			continue;
		if (eq(resource, "persistentvolumes") ? eq(p->pv, name)
		    : !eq(p->ns, ns)                  ? false
		    : eq(resource, "secrets")         ? eq(p->secret, name)
		    : eq(resource, "configmaps")
		        ? eq(p->configmap, name)
		        : eq(resource, "persistentvolumeclaims") && eq(p->pvc, name))
			return true;
	}
	return false;
}

static bool fake_node_has_pod_in(void *ud, const char *node, const char *ns)
{
	size_t i;

	graph_calls++;
	for (i = 0; i < N_PODS; i++)
		if (eq(pods[i].node, node) && eq(pods[i].ns, ns))
			return true;
	return false;
}

/* Force-deleted pods whose claim is "releasing" on a node: default/web-5 on node a. */
static bool fake_pod_gone_releasing_on(void *ud, const char *ns, const char *name, const char *node)
{
	graph_calls++;
	return eq(ns, "default") && eq(name, "web-5") && eq(node, "a");
}

static const struct authz_graph graph = {fake_pod_on_node, fake_node_uses, fake_node_has_pod_in,
                                         NULL, fake_pod_gone_releasing_on};

/* ---- Users and requests ---------------------------------------------------------------------- */

/* A user with groups (NULL-terminated). */
static struct auth_user user(const char *name, ...)
{
	struct auth_user u;
	const char *g;
	va_list ap;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	va_start(ap, name);
	while ((g = va_arg(ap, const char *)) != NULL)
		auth_user_add_group(&u, g);
	va_end(ap);
	return u;
}

static struct auth_user node_user(const char *node)
{
	char name[AUTH_NAME_MAX];

	snprintf(name, sizeof name, AUTH_NODE_PREFIX "%s", node);
	return user(name, AUTH_NODES_GROUP, AUTH_AUTHENTICATED_GROUP, NULL);
}

static struct authz_request res(const char *verb, const char *group, const char *resource,
                                const char *sub, const char *ns, const char *name)
{
	struct authz_request rq = {.resource_request = true,
	                           .verb = verb,
	                           .path = "/api/v1/x",
	                           .group = group,
	                           .resource = resource,
	                           .subresource = sub,
	                           .ns = ns,
	                           .name = name,
	                           .field_selector = ""};
	return rq;
}

static struct authz_request list(const char *verb, const char *resource, const char *ns,
                                 const char *selector)
{
	struct authz_request rq = res(verb, "", resource, "", ns, "");
	rq.field_selector = selector;
	return rq;
}

static struct authz_request path(const char *verb, const char *p)
{
	struct authz_request rq = {.resource_request = false, .verb = verb, .path = p};
	return rq;
}

static char why[1024];

static enum authz_decision decide(struct auth_user u, struct authz_request rq)
{
	return authz_decide(&u, &rq, &graph, why, sizeof why);
}

#define ALLOWED(u, rq)      assert_int_equal(decide(u, rq), AUTHZ_ALLOW)
#define DENIED(u, rq)       assert_int_equal(decide(u, rq), AUTHZ_DENY)
#define DENIED_GRAPH(u, rq) assert_int_equal(decide(u, rq), AUTHZ_DENY_GRAPH)
#define WHY(text)           assert_string_equal(why, text)

/* ---- Identity -------------------------------------------------------------------------------- */

static void node_name_needs_user_and_group(void **state)
{
	struct auth_user a = node_user("a");
	struct auth_user no_group = user("system:node:a", AUTH_AUTHENTICATED_GROUP, NULL);
	struct auth_user empty = user("system:node:", AUTH_NODES_GROUP, NULL);
	struct auth_user other = user("alice", AUTH_NODES_GROUP, NULL);

	assert_string_equal(authz_node_name(&a), "a");
	assert_null(authz_node_name(&no_group));
	assert_null(authz_node_name(&empty));
	assert_null(authz_node_name(&other));
	assert_null(authz_node_name(NULL));
}

/* ---- Row: admins ----------------------------------------------------------------------------- */

static void admin_may_do_anything(void **state)
{
	struct auth_user admin = user("admin", AUTH_ADMIN_GROUP, AUTH_AUTHENTICATED_GROUP, NULL);
	struct authz_request rq = res("delete", "", "secrets", "", "db", "db-pass");

	ALLOWED(admin, rq);
	ALLOWED(admin, res("deletecollection", "apps", "statefulsets", "", "", ""));
	ALLOWED(admin, res("update", "", "pods", "status", "default", "web-1"));
	ALLOWED(admin, list("list", "pods", "", ""));
	ALLOWED(admin, path("get", "/metrics"));
	ALLOWED(admin, path("get", "/debug/raft"));
	ALLOWED(admin, path("post", "/stsd/v1/members"));
	/* no graph needed */
	assert_int_equal(authz_decide(&admin, &rq, NULL, why, sizeof why), AUTHZ_ALLOW);
	/* the group, not the name, makes an admin */
	struct auth_user named = user("system:masters", AUTH_AUTHENTICATED_GROUP, NULL);
	DENIED(named, rq);
}

/* ---- Row: any authenticated user: discovery -------------------------------------------------- */

static void discovery_for_everyone_authenticated(void **state)
{
	struct auth_user alice = user("alice", AUTH_AUTHENTICATED_GROUP, NULL);
	struct auth_user nobody = user("nobody", NULL);
	const char *open[] = {
	    "/api",     "/api/v1",  "/apis",  "/apis/apps/v1", "/openapi/v2", "/openapi/v3/api/v1",
	    "/version", "/healthz", "/livez", "/readyz"};
	const char *closed[] = {"/metrics",         "/debug/raft",     "/debug/pprof",
	                        "/stsd/v1/members", "/api/../metrics", "/apis/./x",
	                        "/api//v1",         "/apiv1",          "/healthz/etcd"};
	size_t i;

	for (i = 0; i < sizeof open / sizeof open[0]; i++) {
		ALLOWED(alice, path("get", open[i]));
		DENIED(nobody, path("get", open[i])); /* no system:authenticated */
	}
	for (i = 0; i < sizeof closed / sizeof closed[0]; i++)
		DENIED(alice, path("get", closed[i]));
	DENIED(alice, path("post", "/api"));
	DENIED(alice, path("get", "/metrics"));
	WHY("User \"alice\" cannot get path \"/metrics\"");
	/* discovery is not a licence to read resources */
	DENIED(alice, list("list", "pods", "default", ""));
	WHY("User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace "
	    "\"default\"");
	DENIED(nobody, path("get", "/version"));
	WHY("User \"nobody\" cannot get path \"/version\"");
}

/* ---- Row: replicas --------------------------------------------------------------------------- */

static void replicas_may_call_members_only(void **state)
{
	struct auth_user r =
	    user("stsd-replica-1", AUTH_REPLICAS_GROUP, AUTH_AUTHENTICATED_GROUP, NULL);

	ALLOWED(r, path("get", "/stsd/v1/members"));
	ALLOWED(r, path("post", "/stsd/v1/members"));
	ALLOWED(r, path("delete", "/stsd/v1/members/3"));
	ALLOWED(r, path("put", "/stsd/v1/members/3/address"));
	ALLOWED(r, path("get", "/version")); /* as anyone authenticated */
	DENIED(r, path("get", "/stsd/v1/membersx"));
	DENIED(r, path("post", "/stsd/v1/other"));
	DENIED(r, path("get", "/stsd/v1/members/../leader"));
	DENIED(r, path("get", "/metrics"));
	DENIED(r, path("get", "/debug/raft"));
	DENIED(r, res("get", "", "pods", "", "default", "web-0"));
	DENIED(r, res("create", "", "nodes", "", "", "stsd-replica-1"));
}

/* ---- Rows: a node's own Node ----------------------------------------------------------------- */

static void node_creates_only_its_own_node(void **state)
{
	struct auth_user a = node_user("a");
	struct auth_user no_group = user("system:node:a", AUTH_AUTHENTICATED_GROUP, NULL);

	ALLOWED(a, res("create", "", "nodes", "", "", "a"));
	DENIED(a, res("create", "", "nodes", "", "", "b"));
	WHY("User \"system:node:a\" cannot create resource \"nodes\" in API group \"\" at the "
	    "cluster scope: node 'a' cannot create 'b', only its own Node object");
	DENIED(no_group, res("create", "", "nodes", "", "", "a"));
	WHY("User \"system:node:a\" cannot create resource \"nodes\" in API group \"\" at the "
	    "cluster scope");
	DENIED(a, res("create", "", "nodes", "status", "", "a"));
}

static void node_reads_and_updates_its_own_node(void **state)
{
	struct auth_user a = node_user("a");
	const char *verbs[] = {"get", "update", "patch"};
	size_t i;

	for (i = 0; i < 3; i++) {
		ALLOWED(a, res(verbs[i], "", "nodes", "", "", "a"));
		ALLOWED(a, res(verbs[i], "", "nodes", "status", "", "a"));
		DENIED(a, res(verbs[i], "", "nodes", "", "", "b"));
		DENIED(a, res(verbs[i], "", "nodes", "status", "", "b"));
	}
	WHY("User \"system:node:a\" cannot patch resource \"nodes/status\" in API group \"\" at "
	    "the cluster scope: node 'a' cannot patch 'b', only its own Node object");
	DENIED(a, res("delete", "", "nodes", "", "", "a"));
	WHY("User \"system:node:a\" cannot delete resource \"nodes\" in API group \"\" at the "
	    "cluster scope");
	DENIED(a, res("get", "", "nodes", "proxy", "", "a"));
	DENIED(a, res("get", "apps", "nodes", "", "", "a"));
}

static void node_lists_only_its_own_node(void **state)
{
	struct auth_user a = node_user("a");

	ALLOWED(a, list("list", "nodes", "", "metadata.name=a"));
	ALLOWED(a, list("watch", "nodes", "", "metadata.name=a"));
	DENIED(a, list("list", "nodes", "", ""));
	WHY("User \"system:node:a\" cannot list resource \"nodes\" in API group \"\" at the "
	    "cluster scope: can only list its own Node object with fieldSelector "
	    "metadata.name=a");
	DENIED(a, list("watch", "nodes", "", "metadata.name=b"));
	DENIED(a, list("list", "nodes", "", "metadata.name=ab"));
	DENIED(a, list("list", "nodes", "", "metadata.name=a,metadata.name=b"));
	DENIED(a, list("list", "nodes", "", "metadata.name!=a"));
}

/* ---- Row: the node's Lease ------------------------------------------------------------------- */

static void node_uses_only_its_own_lease(void **state)
{
	struct auth_user a = node_user("a");
	const char *verbs[] = {"get", "create", "update", "patch"};
	size_t i;

	for (i = 0; i < 4; i++) {
		ALLOWED(
		    a, res(verbs[i], "coordination.k8s.io", "leases", "", AUTH_NODE_LEASE_NS, "a"));
		DENIED(a,
		       res(verbs[i], "coordination.k8s.io", "leases", "", AUTH_NODE_LEASE_NS, "b"));
	}
	WHY("User \"system:node:a\" cannot patch resource \"leases\" in API group "
	    "\"coordination.k8s.io\" in the namespace \"kube-node-lease\": can only access node "
	    "lease with the same name as the requesting node");
	DENIED(a, res("update", "coordination.k8s.io", "leases", "", "default", "a"));
	WHY("User \"system:node:a\" cannot update resource \"leases\" in API group "
	    "\"coordination.k8s.io\" in the namespace \"default\": can only access leases in the "
	    "\"kube-node-lease\" system namespace");
	DENIED(a, res("delete", "coordination.k8s.io", "leases", "", AUTH_NODE_LEASE_NS, "a"));
	DENIED(a, list("list", "leases", AUTH_NODE_LEASE_NS, ""));
	DENIED(a, res("get", "", "leases", "", AUTH_NODE_LEASE_NS, "a"));
	DENIED(node_user("b"),
	       res("get", "coordination.k8s.io", "leases", "", AUTH_NODE_LEASE_NS, "a"));
}

/* ---- Rows: pods ------------------------------------------------------------------------------ */

static void node_gets_only_pods_bound_to_it(void **state)
{
	struct auth_user a = node_user("a");
	struct auth_user no_group = user("system:node:a", AUTH_AUTHENTICATED_GROUP, NULL);
	struct authz_request rq = res("get", "", "pods", "", "default", "web-0");

	ALLOWED(a, rq);
	DENIED_GRAPH(a, res("get", "", "pods", "", "default", "web-1")); /* on node b */
	WHY("User \"system:node:a\" cannot get resource \"pods\" in API group \"\" in the "
	    "namespace \"default\": can only get pods bound to node \"a\"");
	DENIED_GRAPH(a, res("get", "", "pods", "", "default", "web-9")); /* no such pod */
	DENIED_GRAPH(a, res("get", "", "pods", "", "db", "web-0"));
	ALLOWED(node_user("b"), res("get", "", "pods", "", "default", "web-1"));
	/* without a graph the row cannot allow, and says it was the graph */
	assert_int_equal(authz_decide(&a, &rq, NULL, why, sizeof why), AUTHZ_DENY_GRAPH);
	DENIED(no_group, rq);
	DENIED(a, res("get", "", "pods", "log", "default", "web-0"));
	DENIED(a, res("get", "", "pods", "exec", "default", "web-0"));
	DENIED(a, res("create", "", "pods", "", "default", "web-2"));
	DENIED(a, res("update", "", "pods", "", "default", "web-0"));
	DENIED(a, res("patch", "", "pods", "", "default", "web-0"));
}

static void node_lists_pods_only_by_its_node_name(void **state)
{
	struct auth_user a = node_user("a");
	const char *good[] = {"spec.nodeName=a", "spec.nodeName==a",
	                      "status.phase=Running,spec.nodeName=a",
	                      "spec.nodeName=a,metadata.name!=web-1", "spec.nodeName=a,"};
	const char *bad[] = {"spec.nodeName=b",
	                     "spec.nodeName!=a",
	                     "spec.nodeName=a,spec.nodeName=a",
	                     "spec.nodeName=a,spec.nodeName!=b",
	                     "spec.nodeName=a,spec.nodeName=b",
	                     "spec.nodeName=ab",
	                     "spec.nodeName=",
	                     "spec.nodeName",
	                     "spec.nodeName=a\\,b",
	                     "spec.nodeName=a,junk",
	                     "metadata.name=a",
	                     "spec.nodeNames=a",
	                     ""};
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ALLOWED(a, list("list", "pods", "", good[i]));
		ALLOWED(a, list("watch", "pods", "default", good[i]));
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		DENIED(a, list("list", "pods", "", bad[i]));
		DENIED(a, list("watch", "pods", "default", bad[i]));
	}
	DENIED(a, list("list", "pods", "", NULL));
	WHY("User \"system:node:a\" cannot list resource \"pods\" in API group \"\" at the "
	    "cluster scope: can only list pods with fieldSelector spec.nodeName=a");
	DENIED(a, list("deletecollection", "pods", "default", "spec.nodeName=a"));
}

static void node_updates_status_of_its_pods_only(void **state)
{
	struct auth_user a = node_user("a");

	ALLOWED(a, res("update", "", "pods", "status", "default", "web-0"));
	ALLOWED(a, res("patch", "", "pods", "status", "default", "web-0"));
	DENIED_GRAPH(a, res("patch", "", "pods", "status", "default", "web-1"));
	WHY("User \"system:node:a\" cannot patch resource \"pods/status\" in API group \"\" in the "
	    "namespace \"default\": can only patch the status of pods bound to node \"a\"");
	DENIED_GRAPH(a, res("update", "", "pods", "status", "db", "db-0"));
	DENIED(a, res("get", "", "pods", "status", "default", "web-0"));
	DENIED(a, res("update", "", "pods", "status", "default", ""));
}

static void node_confirms_termination_of_its_pods_only(void **state)
{
	struct auth_user a = node_user("a");

	ALLOWED(a, res("delete", "", "pods", "", "default", "web-0"));
	DENIED_GRAPH(a, res("delete", "", "pods", "", "default", "web-1"));
	WHY("User \"system:node:a\" cannot delete resource \"pods\" in API group \"\" in the "
	    "namespace \"default\": can only delete pods bound to node \"a\"");
	DENIED(a, res("deletecollection", "", "pods", "", "default", ""));
	DENIED(a, res("delete", "", "pods", "status", "default", "web-0"));
}

/* A force-deleted pod whose claim still names the node as "releasing": the node may confirm its
 * end (a delete), and do nothing else with it; another node may not. */
static void node_confirms_gone_pod_releasing_on_it(void **state)
{
	struct auth_user a = node_user("a"), b = node_user("b");

	ALLOWED(a, res("delete", "", "pods", "", "default", "web-5"));
	DENIED_GRAPH(b, res("delete", "", "pods", "", "default", "web-5"));
	WHY("User \"system:node:b\" cannot delete resource \"pods\" in API group \"\" in the "
	    "namespace \"default\": can only delete pods bound to node \"b\"");
	DENIED_GRAPH(a, res("delete", "", "pods", "", "db", "web-5"));
	DENIED_GRAPH(a, res("get", "", "pods", "", "default", "web-5"));
	DENIED_GRAPH(a, res("update", "", "pods", "status", "default", "web-5"));
	DENIED_GRAPH(a, res("patch", "", "pods", "status", "default", "web-5"));
	DENIED(a, res("delete", "", "pods", "status", "default", "web-5"));
	DENIED(a, res("update", "", "pods", "", "default", "web-5"));
	/* Without the graph (or without its new lookup), nothing is allowed. */
	struct authz_graph older = graph;
	struct authz_request rq = res("delete", "", "pods", "", "default", "web-5");
	older.pod_gone_releasing_on = NULL;
	assert_int_equal(authz_decide(&a, &rq, &older, why, sizeof why), AUTHZ_DENY_GRAPH);
	assert_int_equal(authz_decide(&a, &rq, NULL, why, sizeof why), AUTHZ_DENY_GRAPH);
}

/* ---- Row: events ----------------------------------------------------------------------------- */

static void node_writes_events_anywhere(void **state)
{
	struct auth_user a = node_user("a");
	const char *verbs[] = {"create", "update", "patch"};
	size_t i;

	for (i = 0; i < 3; i++) {
		ALLOWED(a, res(verbs[i], "", "events", "", "default", "web-0.1"));
		ALLOWED(a, res(verbs[i], "events.k8s.io", "events", "", "db", "db-0.1"));
	}
	DENIED(a, res("get", "", "events", "", "default", "web-0.1"));
	DENIED(a, res("delete", "events.k8s.io", "events", "", "default", "web-0.1"));
	DENIED(a, res("create", "apps", "events", "", "default", "web-0.1"));
	DENIED(user("system:node:a", NULL), res("create", "", "events", "", "default", "x"));
}

/* ---- Rows: what the node's pods use ---------------------------------------------------------- */

static void node_reads_secrets_configmaps_pvcs_its_pods_use(void **state)
{
	struct auth_user a = node_user("a");

	ALLOWED(a, res("get", "", "secrets", "", "default", "web-pass"));
	ALLOWED(a, res("get", "", "configmaps", "", "default", "web-conf"));
	ALLOWED(a, res("get", "", "persistentvolumeclaims", "", "default", "data-web-0"));
	DENIED_GRAPH(a, res("get", "", "secrets", "", "db", "db-pass")); /* node b's pod */
	WHY("User \"system:node:a\" cannot get resource \"secrets\" in API group \"\" in the "
	    "namespace \"db\": no relationship found between node 'a' and this object");
	DENIED_GRAPH(a, res("get", "", "secrets", "", "db", "web-pass")); /* other namespace */
	DENIED_GRAPH(a, res("get", "", "configmaps", "", "db", "db-conf"));
	DENIED_GRAPH(a, res("get", "", "persistentvolumeclaims", "", "default", "data-web-1"));
	DENIED(a, list("list", "secrets", "default", ""));
	DENIED(a, list("watch", "configmaps", "default", ""));
	DENIED(a, res("update", "", "secrets", "", "default", "web-pass"));
	DENIED(a, res("get", "", "secrets", "", "", "web-pass"));
	DENIED(a, res("get", "", "secrets", "", "default", ""));
	DENIED(user("system:node:a", AUTH_AUTHENTICATED_GROUP, NULL),
	       res("get", "", "secrets", "", "default", "web-pass"));
}

static void node_reads_pvs_of_its_pods_claims(void **state)
{
	struct auth_user a = node_user("a");

	ALLOWED(a, res("get", "", "persistentvolumes", "", "", "pv-1"));
	DENIED_GRAPH(a, res("get", "", "persistentvolumes", "", "", "pv-2"));
	DENIED_GRAPH(a, res("get", "", "persistentvolumes", "", "", "pv-9"));
	DENIED(a, list("list", "persistentvolumes", "", ""));
	DENIED(a, res("delete", "", "persistentvolumes", "", "", "pv-1"));
}

static void node_reads_services_where_its_pods_run(void **state)
{
	struct auth_user a = node_user("a");
	struct auth_user b = node_user("b");

	ALLOWED(a, res("get", "", "services", "", "default", "web"));
	ALLOWED(a, list("list", "services", "default", ""));
	ALLOWED(a, list("watch", "endpoints", "default", ""));
	ALLOWED(b, list("list", "endpoints", "db", ""));
	DENIED_GRAPH(a, list("list", "services", "db", ""));
	WHY("User \"system:node:a\" cannot list resource \"services\" in API group \"\" in the "
	    "namespace \"db\": can only read services in namespaces where pods bound to node \"a\" "
	    "run");
	DENIED(a, list("list", "services", "", "")); /* across namespaces */
	DENIED(a, res("create", "", "services", "", "default", "web"));
	DENIED(a, res("get", "discovery.k8s.io", "endpointslices", "", "default", "web"));
}

/* ---- Everything else ------------------------------------------------------------------------- */

static void node_is_refused_everything_else(void **state)
{
	struct auth_user a = node_user("a");
	unsigned before = graph_calls;

	DENIED(a, res("get", "", "namespaces", "", "", "default"));
	WHY("User \"system:node:a\" cannot get resource \"namespaces\" in API group \"\" at the "
	    "cluster scope");
	DENIED(a, res("create", "apps", "statefulsets", "", "default", "web"));
	DENIED(a, res("get", "apps", "statefulsets", "scale", "default", "web"));
	DENIED(a, path("get", "/metrics"));
	DENIED(a, path("get", "/debug/raft"));
	DENIED(a, path("get", "/stsd/v1/members"));
	ALLOWED(a, path("get", "/apis"));
	/* rows that did not match never asked the graph */
	assert_int_equal(graph_calls, before);
}

static void no_user_no_request_refused(void **state)
{
	struct authz_request rq = path("get", "/version");

	assert_int_equal(authz_decide(NULL, &rq, &graph, why, sizeof why), AUTHZ_DENY);
	assert_int_equal(authz_decide(NULL, NULL, &graph, why, sizeof why), AUTHZ_DENY);
	/* a small or absent buffer is never overrun */
	struct auth_user a = node_user("a");
	struct authz_request sec = res("get", "", "secrets", "", "db", "db-pass");
	char small[8];
	assert_int_equal(authz_decide(&a, &sec, &graph, small, sizeof small), AUTHZ_DENY_GRAPH);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(authz_decide(&a, &sec, &graph, NULL, 0), AUTHZ_DENY_GRAPH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(node_name_needs_user_and_group),
	    cmocka_unit_test(admin_may_do_anything),
	    cmocka_unit_test(discovery_for_everyone_authenticated),
	    cmocka_unit_test(replicas_may_call_members_only),
	    cmocka_unit_test(node_creates_only_its_own_node),
	    cmocka_unit_test(node_reads_and_updates_its_own_node),
	    cmocka_unit_test(node_lists_only_its_own_node),
	    cmocka_unit_test(node_uses_only_its_own_lease),
	    cmocka_unit_test(node_gets_only_pods_bound_to_it),
	    cmocka_unit_test(node_lists_pods_only_by_its_node_name),
	    cmocka_unit_test(node_updates_status_of_its_pods_only),
	    cmocka_unit_test(node_confirms_termination_of_its_pods_only),
	    cmocka_unit_test(node_confirms_gone_pod_releasing_on_it),
	    cmocka_unit_test(node_writes_events_anywhere),
	    cmocka_unit_test(node_reads_secrets_configmaps_pvcs_its_pods_use),
	    cmocka_unit_test(node_reads_pvs_of_its_pods_claims),
	    cmocka_unit_test(node_reads_services_where_its_pods_run),
	    cmocka_unit_test(node_is_refused_everything_else),
	    cmocka_unit_test(no_user_no_request_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
