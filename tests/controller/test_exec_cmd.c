/* test_exec_cmd.c — plans into commands (controller/exec_cmd.c): a pod and its claim share one
 * command, bound pods are marked rather than removed, a removed pod takes its claim along as the
 * API's delete does, a fenced pod goes with its claim released, Events become objects, and big
 * plans are cut into commands without splitting a pod from its claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "exec_internal.h"

#define UID "11111111-1111-4111-8111-111111111111"

static json_t *pod(const char *name, const char *node, const char *phase)
{
	json_t *p = json_pack("{s:{s:s,s:s,s:s,s:s,s:{s:s},s:[{s:s,s:s,s:s,s:b}]},s:{},s:{s:s}}",
	                      "metadata", "name", name, "namespace", "default", "uid", UID,
	                      "resourceVersion", "7", "labels", "apps.kubernetes.io/pod-index", "0",
	                      "ownerReferences", "kind", "StatefulSet", "name", "web", "uid", "set",
	                      "controller", 1, "spec", "status", "phase", phase);
	if (node)
		json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
	return p;
}

struct env_ud {
	json_t *pod;
	int claim_state;
};

static const json_t *lookup(void *ud, const char *resource, const char *name)
{
	struct env_ud *e = ud;
	(void)resource;
	return e->pod && strcmp(ctl_str(e->pod, "metadata.name"), name) == 0 ? e->pod : NULL;
}

static int claim_of(void *ud, const char *set, uint32_t ordinal, const char **uid)
{
	struct env_ud *e = ud;
	(void)set;
	(void)ordinal;
	*uid = UID;
	return e->claim_state;
}

static struct cmd_env env_for(struct env_ud *e)
{
	return (struct cmd_env){.now = 1000,
	                        .component = "statefulset-controller",
	                        .lookup = lookup,
	                        .claim_of = claim_of,
	                        .ud = e};
}

static void test_create_pod_takes_claim(void **state)
{
	struct ctl_plan plan = {0};
	struct ctl_cmds cs = {0};
	struct env_ud e = {0};
	struct cmd_env env = env_for(&e);
	struct ctl_action *a;
	json_t *p = pod("web-0", "n1", "Pending");

	(void)state;
	json_object_del(json_object_get(p, "metadata"), "uid");
	a = ctl_plan_add(&plan, CTL_CREATE, "pods", "default", "web-0", p);
	a->claim = true;
	snprintf(a->claim_set, sizeof a->claim_set, "web");
	a->claim_ordinal = 0;
	assert_int_equal(cmd_from_plan(&cs, &plan, &env), STSD_OK);
	assert_int_equal(cs.n, 1);
	assert_int_equal(cs.c[0].n, 2);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_CREATE);
	assert_non_null(cs.c[0].ops[0].uid);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_ACQUIRE);
	/* The claim names the pod's own uid and node. */
	assert_string_equal(cs.c[0].ops[1].claim.pod_uid, cs.c[0].ops[0].uid);
	assert_string_equal(cs.c[0].ops[1].claim.node, "n1");
	assert_string_equal(cs.c[0].ops[1].name, "web");
	cmd_free(&cs);
	ctl_plan_free(&plan);
}

/* An orphan adopted without a claim takes the free one in the same command. */
static void test_adoption_takes_claim(void **state)
{
	struct ctl_plan plan = {0};
	struct ctl_cmds cs = {0};
	struct env_ud e = {0};
	struct cmd_env env = env_for(&e);
	struct ctl_action *a;

	(void)state;
	a = ctl_plan_add(&plan, CTL_UPDATE, "pods", "default", "web-0",
	                 pod("web-0", "n1", "Running"));
	a->expect_rv = 7;
	a->claim = true;
	snprintf(a->claim_set, sizeof a->claim_set, "web");
	assert_int_equal(cmd_from_plan(&cs, &plan, &env), STSD_OK);
	assert_int_equal(cs.n, 1);
	assert_int_equal(cs.c[0].n, 2);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_UPDATE);
	assert_int_equal(cs.c[0].ops[0].expect_rv, 7);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_ACQUIRE);
	assert_string_equal(cs.c[0].ops[1].claim.pod_uid, UID);
	assert_string_equal(cs.c[0].ops[1].claim.node, "n1");
	cmd_free(&cs);
	ctl_plan_free(&plan);
}

static size_t plan_delete(struct ctl_cmds *cs, struct env_ud *e, bool force)
{
	struct ctl_plan plan = {0};
	struct cmd_env env = env_for(e);
	struct ctl_action *a = ctl_plan_add(&plan, CTL_DELETE, "pods", "default", "web-0", NULL);

	a->expect_rv = 7;
	a->force = force;
	if (force) {
		a->claim = true;
		snprintf(a->claim_set, sizeof a->claim_set, "web");
		snprintf(a->claim_uid, sizeof a->claim_uid, UID);
	}
	assert_int_equal(cmd_from_plan(cs, &plan, &env), STSD_OK);
	ctl_plan_free(&plan);
	return cmd_count_ops(cs);
}

static void test_delete_bound_pod_marks(void **state)
{
	struct ctl_cmds cs = {0};
	struct env_ud e = {pod("web-0", "n1", "Running"), 1};
	json_t *marked;

	(void)state;
	assert_int_equal(plan_delete(&cs, &e, false), 1);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_UPDATE);
	assert_int_equal(cs.c[0].ops[0].expect_rv, 7);
	marked = json_loadb(cs.c[0].ops[0].json, cs.c[0].ops[0].json_len, 0, NULL);
	assert_string_equal(ctl_str(marked, "metadata.deletionTimestamp"), "1970-01-01T00:17:10Z");
	assert_int_equal(ctl_int(marked, "metadata.deletionGracePeriodSeconds", -1), 30);
	json_decref(marked);
	cmd_free(&cs);
	/* Already marked: nothing more to do. */
	json_object_set_new(json_object_get(e.pod, "metadata"), "deletionTimestamp",
	                    json_string("1970-01-01T00:17:10Z"));
	assert_int_equal(plan_delete(&cs, &e, false), 0);
	cmd_free(&cs);
	json_decref(e.pod);
}

static void test_delete_removes_and_claims(void **state)
{
	struct ctl_cmds cs = {0};
	struct env_ud e = {pod("web-0", NULL, "Pending"), 1};

	(void)state;
	/* Never bound: removed, claim released in the same command. */
	assert_int_equal(plan_delete(&cs, &e, false), 2);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_DELETE);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_RELEASE);
	assert_string_equal(cs.c[0].ops[1].expect_pod_uid, UID);
	cmd_free(&cs);
	json_decref(e.pod);
	/* Bound but finished: removed at once, its claim "releasing" until its node confirms. */
	e.pod = pod("web-0", "n1", "Failed");
	assert_int_equal(plan_delete(&cs, &e, false), 2);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_SET);
	assert_int_equal(cs.c[0].ops[1].claim.state, STORE_CLAIM_RELEASING);
	assert_int_equal(cs.c[0].ops[1].expect_state, STORE_CLAIM_HELD);
	cmd_free(&cs);
	/* A claim held by someone else is not touched. */
	e.claim_state = 2;
	assert_int_equal(plan_delete(&cs, &e, false), 1);
	cmd_free(&cs);
	json_decref(e.pod);
}

static void test_fenced_delete(void **state)
{
	struct ctl_cmds cs = {0};
	struct env_ud e = {pod("web-0", "n1", "Running"), 1};

	(void)state;
	assert_int_equal(plan_delete(&cs, &e, true), 2);
	assert_int_equal(cs.n, 1);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_DELETE);
	assert_int_equal(cs.c[0].ops[0].expect_rv, 7);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_RELEASE);
	assert_string_equal(cs.c[0].ops[1].expect_pod_uid, UID);
	cmd_free(&cs);
	json_decref(e.pod);
}

static void test_event_and_release(void **state)
{
	struct ctl_plan plan = {0};
	struct ctl_cmds cs = {0};
	struct env_ud e = {pod("web-0", "n1", "Running"), 1};
	struct cmd_env env = env_for(&e);
	struct ctl_action *a;
	json_t *ev;

	(void)state;
	ctl_plan_event(&plan, "pods", "default", "web-0", "Warning", "FailedScheduling", "no %s",
	               "nodes");
	a = ctl_plan_add(&plan, CTL_RELEASE_CLAIM, "pods", "default", "web-0", NULL);
	snprintf(a->claim_set, sizeof a->claim_set, "web");
	a->claim_ordinal = 3;
	snprintf(a->claim_uid, sizeof a->claim_uid, UID);
	assert_int_equal(cmd_from_plan(&cs, &plan, &env), STSD_OK);
	assert_int_equal(cs.c[0].n, 2);
	assert_int_equal(cs.c[0].ops[0].type, STORE_OP_CREATE);
	assert_string_equal(cs.c[0].ops[0].resource, "events");
	assert_int_equal(strncmp(cs.c[0].ops[0].name, "web-0.", 6), 0);
	ev = json_loadb(cs.c[0].ops[0].json, cs.c[0].ops[0].json_len, 0, NULL);
	assert_string_equal(ctl_str(ev, "involvedObject.kind"), "Pod");
	assert_string_equal(ctl_str(ev, "involvedObject.uid"), UID);
	assert_string_equal(ctl_str(ev, "reason"), "FailedScheduling");
	assert_string_equal(ctl_str(ev, "message"), "no nodes");
	assert_string_equal(ctl_str(ev, "type"), "Warning");
	json_decref(ev);
	assert_int_equal(cs.c[0].ops[1].type, STORE_OP_CLAIM_RELEASE);
	assert_int_equal(cs.c[0].ops[1].ordinal, 3);
	cmd_free(&cs);
	ctl_plan_free(&plan);
	json_decref(e.pod);
}

static void test_big_plan_is_cut(void **state)
{
	struct ctl_plan plan = {0};
	struct ctl_cmds cs = {0};
	struct env_ud e = {0};
	struct cmd_env env = env_for(&e);
	char name[32];
	size_t total = 0;

	(void)state;
	for (int i = 0; i < 3001; i++) {
		struct ctl_action *a;
		snprintf(name, sizeof name, "web-%d", i);
		a = ctl_plan_add(&plan, CTL_CREATE, "pods", "default", name,
		                 pod(name, NULL, "Pending"));
		a->claim = true;
		snprintf(a->claim_set, sizeof a->claim_set, "web");
		a->claim_ordinal = (uint32_t)i;
	}
	assert_int_equal(cmd_from_plan(&cs, &plan, &env), STSD_OK);
	assert_true(cs.n >= 3);
	for (size_t c = 0; c < cs.n; c++) {
		assert_true(cs.c[c].n <= 2000);
		assert_int_equal(cs.c[c].n % 2, 0); /* never a pod without its claim */
		for (size_t i = 0; i < cs.c[c].n; i += 2) {
			assert_int_equal(cs.c[c].ops[i].type, STORE_OP_CREATE);
			assert_int_equal(cs.c[c].ops[i + 1].type, STORE_OP_CLAIM_ACQUIRE);
		}
		total += cs.c[c].n;
	}
	assert_int_equal(total, 6002);
	/* A precondition every command carries (a node sync's lease), and absence for rv 0. */
	assert_int_equal(cmd_assert_all(&cs, "leases", "kube-node-lease", "n1", 9), STSD_OK);
	for (size_t c = 0; c < cs.n; c++) {
		const struct store_op *op = &cs.c[c].ops[cs.c[c].n - 1];
		assert_int_equal(op->type, STORE_OP_ASSERT);
		assert_string_equal(op->name, "n1");
		assert_int_equal(op->expect_rv, 9);
		assert_false(op->expect_absent);
	}
	assert_int_equal(cmd_assert_all(&cs, "leases", "kube-node-lease", "n1", 0), STSD_OK);
	assert_true(cs.c[0].ops[cs.c[0].n - 1].expect_absent);
	cmd_free(&cs);
	ctl_plan_free(&plan);
	/* A plan an allocation failure left incomplete is never turned into commands. */
	plan.oom = true;
	assert_int_equal(cmd_from_plan(&cs, &plan, &env), STSD_NOMEM);
	assert_int_equal(cs.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_create_pod_takes_claim),
	                                   cmocka_unit_test(test_adoption_takes_claim),
	                                   cmocka_unit_test(test_delete_bound_pod_marks),
	                                   cmocka_unit_test(test_delete_removes_and_claims),
	                                   cmocka_unit_test(test_fenced_delete),
	                                   cmocka_unit_test(test_event_and_release),
	                                   cmocka_unit_test(test_big_plan_is_cut)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
