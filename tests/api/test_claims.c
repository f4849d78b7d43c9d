/* test_claims.c — what removing a pod does to its ordinal claim (../shared/DESIGN.md, Identity):
 * a pod never bound to a node releases it in the same command; a bound pod's claim turns
 * "releasing" (its processes may still run until the node confirms or is fenced); a pod that is
 * not the claim's holder, or holds none, changes nothing. Checked against a real store. */
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

/* The claim's state after applying the op that removing p goes with (NONE: no claim left). */
static enum store_claim_state after_removal(struct fixture *f, json_t *p, bool *changed)
{
	struct api_server s = {.store = f->s};
	struct api_call c = {.s = &s};
	struct store_reader *rd;
	struct store_claim cl;
	struct store_op op;
	enum store_claim_state st = STORE_CLAIM_NONE;

	c.rt.res = api_resource_find("", "pods");
	snprintf(c.rt.ns, sizeof c.rt.ns, "default");
	*changed = api_obj_claim_op(&c, p, &op);
	if (*changed)
		assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	assert_int_equal(store_read_begin(f->s, &rd), STSD_OK);
	if (store_claim_get(rd, "default", "web", 0, &cl) == STSD_OK)
		st = cl.state;
	store_read_end(rd);
	return st;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(unbound_pod_releases, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(bound_pod_turns_releasing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(other_holder_untouched, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
