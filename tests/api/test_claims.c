/* test_claims.c — what removing a pod does to its ordinal claim (../shared/DESIGN.md, Identity):
 * a pod never bound to a node releases it in the same command, and so does its own node's
 * removal (the confirmation that its processes are gone); anyone else's removal of a bound pod
 * turns it "releasing" (its processes may still run until the node confirms or is fenced), and the
 * node's later confirmation of the gone pod releases it, only with matching name, uid, node and
 * state; a pod that is not the claim's holder, or holds none, changes nothing. Checked against a
 * real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"
#include "objects.h"

#define UID   "11111111-1111-4111-8111-111111111111"
#define OTHER "22222222-2222-4222-8222-222222222222"

/* A pod of set web with ordinal 0, uid uid, bound to node (NULL: not bound). */
static json_t *pod(const char *uid, const char *node)
{
	json_t *p =
	    json_pack("{s:{s:s,s:s,s:{s:s},s:[{s:s,s:s,s:b}]},s:{}}", "metadata", "name", "web-0",
	              "uid", uid, "labels", "apps.kubernetes.io/pod-index", "0", "ownerReferences",
	              "kind", "StatefulSet", "name", "web", "controller", 1, "spec");
	if (node)
		json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
	return p;
}

static void acquire(struct fixture *f, const char *uid, const char *node)
{
	struct store_op op = {.type = STORE_OP_CLAIM_ACQUIRE,
	                      .ns = "default",
	                      .name = "web",
	                      .ordinal = 0,
	                      .claim = {.pod_uid = uid, .pod_name = "web-0", .node = node}};
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
}

/* Who removes the pod: an admin, a node agent, or a name without the nodes group. */
static struct auth_user user(const char *name, const char *group)
{
	struct auth_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	if (group)
		auth_user_add_group(&u, group);
	auth_user_add_group(&u, AUTH_AUTHENTICATED_GROUP);
	return u;
}

#define ADMIN  user("admin", AUTH_ADMIN_GROUP)
#define NODE_A user(AUTH_NODE_PREFIX "node-a", AUTH_NODES_GROUP)
#define NODE_B user(AUTH_NODE_PREFIX "node-b", AUTH_NODES_GROUP)

/* The state of web-0's claim (NONE: no claim left). */
static enum store_claim_state claim_state(struct fixture *f)
{
	struct store_reader *rd;
	struct store_claim cl;
	enum store_claim_state st = STORE_CLAIM_NONE;

	assert_int_equal(store_read_begin(f->s, &rd), STSD_OK);
	if (store_claim_get(rd, "default", "web", 0, &cl) == STSD_OK)
		st = cl.state;
	store_read_end(rd);
	return st;
}

/* A call on pods of namespace default by u, over f's store. */
static void pods_call(struct api_call *c, struct api_server *s, struct fixture *f,
                      struct auth_user u)
{
	*s = (struct api_server){.store = f->s};
	*c = (struct api_call){.s = s, .user = u};
	c->rt.res = api_resource_find("", "pods");
	snprintf(c->rt.ns, sizeof c->rt.ns, "default");
}

/* The claim's state after applying the op that removing p by u goes with. */
static enum store_claim_state removed_by(struct fixture *f, json_t *p, struct auth_user u,
                                         bool *changed)
{
	struct api_server s;
	struct api_call c;
	struct store_op op;

	pods_call(&c, &s, f, u);
	*changed = api_obj_claim_op(&c, p, &op);
	if (*changed)
		assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	return claim_state(f);
}

/* Removed by the controller (our own proposals carry no user). */
static enum store_claim_state after_removal(struct fixture *f, json_t *p, bool *changed)
{
	return removed_by(f, p, (struct auth_user){0}, changed);
}

static void unbound_pod_releases(void **state)
{
	struct fixture *f = *state;
	json_t *p = pod(UID, NULL);
	bool changed;

	acquire(f, UID, "");
	assert_int_equal(after_removal(f, p, &changed), STORE_CLAIM_NONE);
	assert_true(changed);
	json_decref(p);
}

static void bound_pod_turns_releasing(void **state)
{
	struct fixture *f = *state;
	json_t *p = pod(UID, "node-a");
	bool changed;

	acquire(f, UID, "node-a");
	assert_int_equal(after_removal(f, p, &changed), STORE_CLAIM_RELEASING);
	assert_true(changed);
	/* Removed again (already releasing): nothing more to do. */
	assert_int_equal(after_removal(f, p, &changed), STORE_CLAIM_RELEASING);
	assert_false(changed);
	json_decref(p);
}

static void other_holder_untouched(void **state)
{
	struct fixture *f = *state;
	json_t *p = pod(UID, "node-a"),
	       *bare = json_pack("{s:{s:s,s:s}}", "metadata", "name", "web-0", "uid", UID);
	bool changed;

	acquire(f, OTHER, "node-b");
	assert_int_equal(after_removal(f, p, &changed), STORE_CLAIM_HELD);
	assert_false(changed);
	/* No controller owner or ordinal label: no identity, no claim op. */
	assert_int_equal(after_removal(f, bare, &changed), STORE_CLAIM_HELD);
	assert_false(changed);
	json_decref(p);
	json_decref(bare);
}

/* The pod's own node removing it confirms that its processes are gone: released at once. Anyone
 * else's removal (an admin's force delete, another node, a user merely named like the node)
 * leaves it "releasing"; a later removal changes nothing more. */
static void removal_by_whom(void **state)
{
	const struct {
		struct auth_user u;
		enum store_claim_state want;
	} cases[] = {
	    {ADMIN, STORE_CLAIM_RELEASING},
	    {NODE_B, STORE_CLAIM_RELEASING},
	    {user(AUTH_NODE_PREFIX "node-a", NULL), STORE_CLAIM_RELEASING},
	    {user(AUTH_NODE_PREFIX "node-a", AUTH_ADMIN_GROUP), STORE_CLAIM_RELEASING},
	    {NODE_A, STORE_CLAIM_NONE},
	};
	bool changed;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fixture *f = *state;
		json_t *p = pod(UID, "node-a");
		acquire(f, UID, "node-a");
		assert_int_equal(removed_by(f, p, cases[i].u, &changed), cases[i].want);
		assert_true(changed);
		/* Releasing already: only the gone-pod confirmation ends it. */
		assert_int_equal(removed_by(f, p, NODE_A, &changed), cases[i].want);
		assert_false(changed);
		json_decref(p);
		fx_teardown(state);
		fx_setup(state);
	}
}

/* Force-deleted by an admin: "releasing", until node-a confirms the pod that is gone. */
static void force_deleted(struct fixture *f)
{
	json_t *p = pod(UID, "node-a");
	bool changed;

	acquire(f, UID, "node-a");
	assert_int_equal(removed_by(f, p, ADMIN, &changed), STORE_CLAIM_RELEASING);
	json_decref(p);
}

/* api_obj_gone_claim_op by u for pod name with uid: whether it offered an op; the op applied. */
static bool gone_confirm(struct fixture *f, struct auth_user u, const char *name, const char *uid)
{
	struct api_server s;
	struct api_call c;
	struct store_op op;
	char set[STORE_NAME_MAX + 1];
	bool ok;

	pods_call(&c, &s, f, u);
	ok = api_obj_gone_claim_op(&c, name, uid, set, sizeof set, &op);
	if (ok) {
		assert_string_equal(set, "web");
		assert_int_equal(op.type, STORE_OP_CLAIM_RELEASE);
		assert_int_equal(op.expect_state, STORE_CLAIM_RELEASING);
		assert_string_equal(op.expect_pod_uid, uid);
		assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	}
	return ok;
}

static void gone_pod_confirmed_by_its_node(void **state)
{
	struct fixture *f = *state;

	force_deleted(f);
	assert_false(gone_confirm(f, NODE_B, "web-0", UID));
	assert_false(gone_confirm(f, NODE_A, "web-0", OTHER));
	assert_false(gone_confirm(f, NODE_A, "web-1", UID));
	assert_false(gone_confirm(f, NODE_A, "web-00", UID));
	assert_false(gone_confirm(f, NODE_A, "web0", UID));
	assert_false(gone_confirm(f, NODE_A, "web-0", ""));
	assert_false(gone_confirm(f, NODE_A, "web-0", NULL));
	assert_false(gone_confirm(f, ADMIN, "web-0", UID));
	assert_false(gone_confirm(f, user(AUTH_NODE_PREFIX "node-a", NULL), "web-0", UID));
	assert_int_equal(claim_state(f), STORE_CLAIM_RELEASING);
	assert_true(gone_confirm(f, NODE_A, "web-0", UID));
	assert_int_equal(claim_state(f), STORE_CLAIM_NONE);
	assert_false(gone_confirm(f, NODE_A, "web-0", UID)); /* nothing left to release */
}

/* Only a "releasing" claim of a pod that is gone: not a held one, not while a pod of that name
 * exists; and an op that a change overtook fails its preconditions. */
static void gone_confirm_needs_releasing_and_no_pod(void **state)
{
	struct fixture *f = *state;
	struct api_server s;
	struct api_call c;
	struct store_op op, take;
	char set[STORE_NAME_MAX + 1];

	acquire(f, UID, "node-a");
	assert_false(gone_confirm(f, NODE_A, "web-0", UID)); /* held */
	assert_int_equal(claim_state(f), STORE_CLAIM_HELD);
	fx_teardown(state);
	fx_setup(state);
	f = *state;
	force_deleted(f);
	assert_int_equal(fx_create(f, "pods", "default", "web-0", "{\"spec\":{}}"), STSD_OK);
	assert_false(gone_confirm(f, NODE_A, "web-0", UID)); /* a pod of the name exists */
	assert_int_equal(fx_delete(f, "pods", "default", "web-0"), STSD_OK);
	pods_call(&c, &s, f, NODE_A);
	assert_true(api_obj_gone_claim_op(&c, "web-0", UID, set, sizeof set, &op));
	take = op; /* the node is fenced meanwhile: the claim goes */
	take.expect_pod_uid = NULL;
	assert_int_equal(fx_apply(f, &take, 1, NULL), STSD_OK);
	assert_int_not_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	assert_int_equal(claim_state(f), STORE_CLAIM_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(unbound_pod_releases, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(bound_pod_turns_releasing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(other_holder_untouched, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(removal_by_whom, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(gone_pod_confirmed_by_its_node, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(gone_confirm_needs_releasing_and_no_pod, fx_setup,
	                                    fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
