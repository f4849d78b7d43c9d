/* test_authz_store.c — the node authorizer's graph over a real store (api/authz_store.c): which
 * pods are bound where, every place a pod spec names a Secret, ConfigMap or PVC, PVs through
 * their claims, namespaces with a node's pods, force-deleted pods whose ordinal claim is still
 * "releasing" on a node; and one decision taken through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "errors.h"
#include "helpers.h"

/* web-0 names an object in every place the graph looks. */
static const char web0[] =
    "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"default\"},\"spec\":{"
    "\"nodeName\":\"a\","
    "\"volumes\":[{\"name\":\"v1\",\"secret\":{\"secretName\":\"s-vol\"}},"
    "{\"name\":\"v2\",\"configMap\":{\"name\":\"cm-vol\"}},"
    "{\"name\":\"v3\",\"projected\":{\"sources\":[{\"secret\":{\"name\":\"s-proj\"}},"
    "{\"configMap\":{\"name\":\"cm-proj\"}},{\"downwardAPI\":{}}]}},"
    "{\"name\":\"v4\",\"persistentVolumeClaim\":{\"claimName\":\"data-web-0\"}}],"
    "\"containers\":[{\"name\":\"c\",\"env\":["
    "{\"name\":\"A\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s-env\",\"key\":\"k\"}}},"
    "{\"name\":\"B\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm-env\",\"key\":\"k\"}}},"
    "{\"name\":\"C\",\"value\":\"plain\"}]}],"
    "\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{\"secretRef\":{\"name\":\"s-init\"}},"
    "{\"configMapRef\":{\"name\":\"cm-init\"}}]}],"
    "\"ephemeralContainers\":[{\"name\":\"e\",\"env\":[{\"name\":\"D\",\"valueFrom\":"
    "{\"secretKeyRef\":{\"name\":\"s-eph\",\"key\":\"k\"}}}]}],"
    "\"imagePullSecrets\":[{\"name\":\"s-pull\"}]}}";

static const char web1[] =
    "{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"nodeName\":\"b\",\"volumes\":["
    "{\"name\":\"v1\",\"secret\":{\"secretName\":\"s-b\"}},"
    "{\"name\":\"v2\",\"persistentVolumeClaim\":{\"claimName\":\"data-web-1\"}}]}}";

static const char db0[] = "{\"metadata\":{\"name\":\"db-0\"},\"spec\":{\"nodeName\":\"a\","
                          "\"imagePullSecrets\":[{\"name\":\"db-pass\"}]}}";

static const char unbound[] = "{\"metadata\":{\"name\":\"lost\"},\"spec\":{\"volumes\":["
                              "{\"name\":\"v1\",\"secret\":{\"secretName\":\"s-unbound\"}}]}}";

struct env {
	struct fixture *f;
	struct store_reader *rd;
	struct authz_graph g;
};

static int setup(void **state)
{
	static struct env e;
	struct fixture *f;

	fx_setup(state);
	f = *state;
	assert_int_equal(fx_create(f, "pods", "default", "web-0", web0), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "web-1", web1), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "db", "db-0", db0), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "lost", unbound), STSD_OK);
	assert_int_equal(fx_create(f, "persistentvolumeclaims", "default", "data-web-0",
	                           "{\"spec\":{\"volumeName\":\"pv-1\"}}"),
	                 STSD_OK);
	assert_int_equal(fx_create(f, "persistentvolumeclaims", "default", "data-web-1",
	                           "{\"spec\":{\"volumeName\":\"pv-2\"}}"),
	                 STSD_OK);
	memset(&e, 0, sizeof e);
	e.f = f;
	assert_int_equal(store_read_begin(f->s, &e.rd), STSD_OK);
	authz_graph_from_store(&e.g, e.rd);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	store_read_end(e->rd);
	*state = e->f;
	return fx_teardown(state);
}

static bool uses(struct env *e, const char *node, const char *res, const char *ns, const char *name)
{
	return e->g.node_uses(e->g.ud, node, res, ns, name);
}

static void pods_bound_to_nodes(void **state)
{
	struct env *e = *state;
	const struct authz_graph *g = &e->g;

	assert_true(g->pod_on_node(g->ud, "default", "web-0", "a"));
	assert_false(g->pod_on_node(g->ud, "default", "web-0", "b"));
	assert_true(g->pod_on_node(g->ud, "default", "web-1", "b"));
	assert_true(g->pod_on_node(g->ud, "db", "db-0", "a"));
	assert_false(g->pod_on_node(g->ud, "default", "db-0", "a"));
	assert_false(g->pod_on_node(g->ud, "default", "nosuch", "a"));
	assert_false(g->pod_on_node(g->ud, "default", "lost", ""));
}

static void secrets_every_place_a_pod_names_them(void **state)
{
	struct env *e = *state;
	const char *used[] = {"s-vol", "s-proj", "s-env", "s-init", "s-eph", "s-pull"};
	size_t i;

	for (i = 0; i < sizeof used / sizeof used[0]; i++) {
		if (!uses(e, "a", "secrets", "default", used[i]))
			fail_msg("secret %s not found", used[i]);
		assert_false(uses(e, "b", "secrets", "default", used[i]));
		assert_false(uses(e, "a", "secrets", "db", used[i])); /* other namespace */
		assert_false(uses(e, "a", "configmaps", "default", used[i]));
	}
	assert_false(uses(e, "a", "secrets", "default", "s-b"));
	assert_true(uses(e, "b", "secrets", "default", "s-b"));
	assert_true(uses(e, "a", "secrets", "db", "db-pass"));
	assert_false(uses(e, "a", "secrets", "default", "db-pass"));
	assert_false(uses(e, "a", "secrets", "default", "s-unbound"));
	assert_false(uses(e, "", "secrets", "default", "s-unbound"));
	assert_false(uses(e, "a", "secrets", "default", "plain"));
}

static void configmaps_and_claims(void **state)
{
	struct env *e = *state;
	const char *used[] = {"cm-vol", "cm-proj", "cm-env", "cm-init"};
	size_t i;

	for (i = 0; i < sizeof used / sizeof used[0]; i++) {
		if (!uses(e, "a", "configmaps", "default", used[i]))
			fail_msg("configmap %s not found", used[i]);
		assert_false(uses(e, "a", "secrets", "default", used[i]));
	}
	assert_true(uses(e, "a", "persistentvolumeclaims", "default", "data-web-0"));
	assert_false(uses(e, "a", "persistentvolumeclaims", "default", "data-web-1"));
	assert_true(uses(e, "b", "persistentvolumeclaims", "default", "data-web-1"));
	assert_false(uses(e, "a", "services", "default", "web"));
}

static void volumes_through_their_claims(void **state)
{
	struct env *e = *state;

	assert_true(uses(e, "a", "persistentvolumes", "", "pv-1"));
	assert_false(uses(e, "a", "persistentvolumes", "", "pv-2"));
	assert_true(uses(e, "b", "persistentvolumes", "", "pv-2"));
	assert_false(uses(e, "a", "persistentvolumes", "", "pv-9"));
	assert_false(uses(e, "c", "persistentvolumes", "", "pv-1"));
}

static void namespaces_of_a_nodes_pods(void **state)
{
	struct env *e = *state;
	const struct authz_graph *g = &e->g;

	assert_true(g->node_has_pod_in(g->ud, "a", "default"));
	assert_true(g->node_has_pod_in(g->ud, "a", "db"));
	assert_false(g->node_has_pod_in(g->ud, "b", "db"));
	assert_false(g->node_has_pod_in(g->ud, "a", "kube-system"));
	assert_false(g->node_has_pod_in(g->ud, "", "default"));
}

static void decision_through_the_store(void **state)
{
	struct env *e = *state;
	struct auth_user u = {.name = "system:node:a"};
	struct authz_request ok = {.resource_request = true,
	                           .verb = "get",
	                           .path = "/api/v1/namespaces/default/secrets/s-env",
	                           .group = "",
	                           .resource = "secrets",
	                           .subresource = "",
	                           .ns = "default",
	                           .name = "s-env"};
	struct authz_request other = ok;
	char why[512];

	other.name = "s-b";
	auth_user_add_group(&u, AUTH_NODES_GROUP);
	assert_int_equal(authz_decide(&u, &ok, &e->g, why, sizeof why), AUTHZ_ALLOW);
	assert_int_equal(authz_decide(&u, &other, &e->g, why, sizeof why), AUTHZ_DENY_GRAPH);
}

/* ---- pod_gone_releasing_on ------------------------------------------------------------------ */

static void claim_key_of_pod_names(void **state)
{
	char set[16];
	uint32_t ord = 99;

	(void)state;
	assert_true(authz_pod_claim_key("web-0", set, sizeof set, &ord));
	assert_string_equal(set, "web");
	assert_int_equal(ord, 0);
	assert_true(authz_pod_claim_key("my-app-12", set, sizeof set, &ord));
	assert_string_equal(set, "my-app");
	assert_int_equal(ord, 12);
	assert_true(authz_pod_claim_key("w-4294967295", set, sizeof set, &ord));
	assert_int_equal(ord, UINT32_MAX);
	const char *bad[] = {"web",    "web-",         "-1",
	                     "web-01", "web-1a",       "web-+1",
	                     "web- 1", "w-4294967296", "w-99999999999999999999",
	                     ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (authz_pod_claim_key(bad[i], set, sizeof set, &ord))
			fail_msg("\"%s\" has a claim key", bad[i]);
	assert_false(authz_pod_claim_key(NULL, set, sizeof set, &ord));
	assert_false(authz_pod_claim_key("abcdefghijklmnop-1", set, sizeof set, &ord)); /* 16 */
	assert_true(authz_pod_claim_key("abcdefghijklmno-1", set, sizeof set, &ord));   /* 15 */
}

/* A claim of default/SET ordinal ord for pod, held on node, then "releasing" if asked. */
static void claim(struct fixture *f, const char *set, uint32_t ord, const char *pod,
                  const char *node, bool releasing)
{
	struct store_op op = {.type = STORE_OP_CLAIM_ACQUIRE,
	                      .ns = "default",
	                      .name = set,
	                      .ordinal = ord,
	                      .claim = {.pod_uid = "u-1", .pod_name = pod, .node = node}};

	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	op.type = STORE_OP_CLAIM_SET;
	op.claim = (struct store_claim){.state = STORE_CLAIM_RELEASING};
	if (releasing)
		assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
}

static void gone_pods_releasing_on_a_node(void **state)
{
	struct env *e = *state;
	struct store_reader *rd;
	struct authz_graph g;

	/* setup's view predates these claims: a view of its own */
	claim(e->f, "web", 5, "web-5", "a", true);
	claim(e->f, "web", 6, "web-6", "a", false);         /* held: its pod may run */
	claim(e->f, "web", 0, "web-0", "a", true);          /* web-0 exists */
	claim(e->f, "odd", 1, "other-1", "a", true);        /* names another pod */
	claim(e->f, "nodeless", 2, "nodeless-2", "", true); /* no node */
	assert_int_equal(store_read_begin(e->f->s, &rd), STSD_OK);
	authz_graph_from_store(&g, rd);
	assert_true(g.pod_gone_releasing_on(g.ud, "default", "web-5", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-5", "b"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-5", ""));
	assert_false(g.pod_gone_releasing_on(g.ud, "db", "web-5", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-6", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-0", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "odd-1", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "nodeless-2", ""));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-7", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web-05", "a"));
	assert_false(g.pod_gone_releasing_on(g.ud, "default", "web", "a"));
	store_read_end(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pods_bound_to_nodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(secrets_every_place_a_pod_names_them, setup, teardown),
	    cmocka_unit_test_setup_teardown(configmaps_and_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(volumes_through_their_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(namespaces_of_a_nodes_pods, setup, teardown),
	    cmocka_unit_test_setup_teardown(decision_through_the_store, setup, teardown),
	    cmocka_unit_test(claim_key_of_pod_names),
	    cmocka_unit_test_setup_teardown(gone_pods_releasing_on_a_node, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
