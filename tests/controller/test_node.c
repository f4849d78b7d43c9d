/* test_node.c — the node lifecycle planner (controller/node.h): Ready Unknown and the unreachable
 * taints after silence (upstream nodelifecycle's tryUpdateNodeHealth), pods marked not ready
 * (MarkPodsNotReady), fencing (claims released, pods deleted with force, pinned pods waiting),
 * idempotence through a tiny executor, bad input, allocation failures. ctl_node_cidr:
 * test_node_cidr.c. The fixture is node_fixture.c; JSON helpers (J, at, S, set_path) come from
 * sts_fixture.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "node_fixture.h"
#include "sts_fixture.h"

/* ---- Health ---------------------------------------------------------------------------------- */

/* A node that renews costs nothing: no action, only a requeue at the grace deadline. */
static void test_healthy_node_no_action(void **state)
{
	struct nfx *f = nfx_new();
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	f->silent_ms = 1500;
	plan_node(f);
	assert_int_equal(f->plan.n, 0);
	assert_int_equal(f->plan.requeue_after_s, 39); /* ceil(38.5 s) */
	f->silent_ms = GRACE - 1;
	plan_node(f);
	assert_int_equal(f->plan.n, 0);
	nfx_free(f);
}

/* tryUpdateNodeHealth: Ready becomes Unknown, the unreachable taints are added, pods are marked
 * not ready (MarkPodsNotReady), one NodeNotReady event. */
static void test_grace_marks_node_and_pods(void **state)
{
	struct nfx *f = nfx_new();
	const struct ctl_action *a;
	const json_t *n, *c, *t;
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	npod(f, "done", "u1", "Succeeded", false);
	npod(f, "failed", "u2", "Failed", false);
	set_path(at(npod(f, "web-1", "u3", "Running", true), "metadata"), "deletionTimestamp",
	         json_string("2027-01-15T07:59:00Z"));
	set_path(npod(f, "elsewhere", "u4", "Running", true), "spec.nodeName", json_string("n2"));
	json_object_del(at(npod(f, "pending", "u5", "Pending", false), "status"), "conditions");
	f->silent_ms = GRACE;
	plan_node(f);

	a = act(f, CTL_UPDATE, "n1");
	assert_non_null(a);
	assert_string_equal(a->resource, "nodes");
	assert_string_equal(a->ns, "");
	assert_int_equal(a->expect_rv, 5);
	n = a->obj;
	c = cond(n, "Ready");
	assert_string_equal(S(c, "status"), "Unknown");
	assert_string_equal(S(c, "reason"), "NodeStatusUnknown");
	assert_string_equal(S(c, "message"), "Kubelet stopped posting node status.");
	assert_string_equal(S(c, "lastTransitionTime"), NOW_STR);
	assert_string_equal(S(c, "lastHeartbeatTime"), "2026-11-27T13:59:00Z");
	assert_string_equal(S(cond(n, "MemoryPressure"), "status"), "False"); /* untouched */
	assert_int_equal(json_array_size(at(n, "spec.taints")), 3);
	assert_non_null(taint(n, "dedicated", "NoSchedule"));
	t = taint(n, "node.kubernetes.io/unreachable", "NoSchedule");
	assert_non_null(t);
	assert_null(at(t, "timeAdded"));
	assert_int_equal(json_object_size(t), 2);
	t = taint(n, "node.kubernetes.io/unreachable", "NoExecute");
	assert_non_null(t);
	assert_string_equal(S(t, "timeAdded"), NOW_STR);
	/* The input is borrowed: untouched. */
	assert_string_equal(S(cond(f->node, "Ready"), "status"), "True");

	a = nevent(f, "NodeNotReady");
	assert_non_null(a);
	assert_string_equal(a->resource, "nodes");
	assert_string_equal(a->name, "n1");
	assert_string_equal(a->event_type, "Normal");
	assert_string_equal(a->message, "Node n1 status is now: NodeNotReady");

	/* web-0 and the terminating web-1; not the finished, the foreign or the never-ready. */
	assert_int_equal(ncount(f, CTL_UPDATE_STATUS), 2);
	a = act(f, CTL_UPDATE_STATUS, "web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "pods");
	assert_string_equal(a->ns, "default");
	assert_int_equal(a->expect_rv, 20);
	c = cond(a->obj, "Ready");
	assert_string_equal(S(c, "status"), "False");
	assert_string_equal(S(c, "reason"), "NodeNotReady");
	assert_string_equal(S(c, "message"), "Node is not ready");
	assert_string_equal(S(c, "lastTransitionTime"), NOW_STR);
	assert_string_equal(S(cond(a->obj, "PodScheduled"), "status"), "True");
	assert_non_null(act(f, CTL_UPDATE_STATUS, "web-1"));
	assert_int_equal(act(f, CTL_UPDATE_STATUS, "web-1")->expect_rv, 23);
	assert_int_equal(ncount(f, CTL_DELETE) + ncount(f, CTL_RELEASE_CLAIM), 0);
	assert_int_equal(f->plan.n, 4);
	/* Not fenced yet: come back when it would be. */
	assert_int_equal(f->plan.requeue_after_s, 50);
	converges(f);
	nfx_free(f);
}

/* A pod already Ready=False for another reason keeps its lastTransitionTime; one already marked
 * NodeNotReady is left alone. */
static void test_pod_already_not_ready(void **state)
{
	struct nfx *f = nfx_new();
	const json_t *c;
	(void)state;

	npod(f, "probe-failed", "u0", "Running", false);
	c = cond(npod(f, "marked", "u1", "Running", false), "Ready");
	json_object_set_new((json_t *)c, "reason", json_string("NodeNotReady"));
	f->silent_ms = GRACE + 1;
	plan_node(f);
	assert_int_equal(ncount(f, CTL_UPDATE_STATUS), 1);
	c = cond(act(f, CTL_UPDATE_STATUS, "probe-failed")->obj, "Ready");
	assert_string_equal(S(c, "reason"), "NodeNotReady");
	assert_string_equal(S(c, "lastTransitionTime"), "2026-11-27T10:00:00Z");
	nfx_free(f);
}

/* Half done (Ready already Unknown, one taint there): only the missing taint, no second event
 * and no new lastTransitionTime. */
static void test_partial_state_completed(void **state)
{
	struct nfx *f = nfx_new();
	const json_t *n;
	json_t *c = cond(f->node, "Ready");
	(void)state;

	json_object_set_new(c, "status", json_string("Unknown"));
	json_array_append_new(
	    at(f->node, "spec.taints"),
	    J("{\"key\":\"node.kubernetes.io/unreachable\","
	      "\"effect\":\"NoExecute\",\"timeAdded\":\"2027-01-15T07:00:00Z\"}"));
	f->silent_ms = GRACE + 5000;
	plan_node(f);
	assert_int_equal(f->plan.n, 1);
	n = act(f, CTL_UPDATE, "n1")->obj;
	assert_string_equal(S(cond(n, "Ready"), "lastTransitionTime"), "2026-11-27T10:00:00Z");
	assert_string_equal(S(taint(n, "node.kubernetes.io/unreachable", "NoExecute"), "timeAdded"),
	                    "2027-01-15T07:00:00Z");
	assert_non_null(taint(n, "node.kubernetes.io/unreachable", "NoSchedule"));
	assert_int_equal(json_array_size(at(n, "spec.taints")), 3);
	assert_null(nevent(f, "NodeNotReady"));
	converges(f);
	nfx_free(f);
}

/* A node whose agent never posted Ready: upstream adds the condition (NodeStatusNeverUpdated,
 * lastHeartbeatTime = creationTimestamp); no spec or status at all is fine too. */
static void test_never_posted(void **state)
{
	struct nfx *f = nfx_new();
	const json_t *n, *c;
	(void)state;

	json_object_del(f->node, "status");
	json_object_del(f->node, "spec");
	f->silent_ms = GRACE;
	plan_node(f);
	n = act(f, CTL_UPDATE, "n1")->obj;
	c = cond(n, "Ready");
	assert_non_null(c);
	assert_string_equal(S(c, "status"), "Unknown");
	assert_string_equal(S(c, "reason"), "NodeStatusNeverUpdated");
	assert_string_equal(S(c, "message"), "Kubelet never posted node status.");
	assert_string_equal(S(c, "lastHeartbeatTime"), "2026-01-01T00:00:00Z");
	assert_string_equal(S(c, "lastTransitionTime"), NOW_STR);
	assert_int_equal(json_array_size(at(n, "spec.taints")), 2);
	assert_non_null(nevent(f, "NodeNotReady"));
	converges(f);
	nfx_free(f);
}

/* Renewing again: the two unreachable taints go (the agent re-posts Ready itself); other
 * taints stay; an emptied list is dropped. */
static void test_recovery_removes_taints(void **state)
{
	struct nfx *f = nfx_new();
	const json_t *n;
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	f->silent_ms = FENCE - 1;
	converges(f); /* tainted, Ready Unknown */
	assert_non_null(taint(f->node, "node.kubernetes.io/unreachable", "NoExecute"));
	f->silent_ms = 200;
	plan_node(f);
	assert_int_equal(f->plan.n, 1);
	n = act(f, CTL_UPDATE, "n1")->obj;
	assert_int_equal(act(f, CTL_UPDATE, "n1")->expect_rv, 6);
	assert_int_equal(json_array_size(at(n, "spec.taints")), 1);
	assert_string_equal(S(n, "spec.taints.0.key"), "dedicated");
	/* The condition is the agent's to fix. */
	assert_string_equal(S(cond(n, "Ready"), "status"), "Unknown");
	converges(f);

	/* Only unreachable taints: spec.taints goes away. */
	json_object_del(at(f->node, "spec"), "taints");
	f->silent_ms = GRACE;
	converges(f);
	f->silent_ms = 0;
	plan_node(f);
	assert_null(at(act(f, CTL_UPDATE, "n1")->obj, "spec.taints"));
	assert_non_null(at(act(f, CTL_UPDATE, "n1")->obj, "spec"));
	nfx_free(f);
}

/* ---- Fencing --------------------------------------------------------------------------------- */

static void assert_claim(const struct ctl_action *a, const char *set, uint32_t ord, const char *uid)
{
	assert_true(a->claim);
	assert_string_equal(a->claim_set, set);
	assert_int_equal(a->claim_ordinal, ord);
	assert_string_equal(a->claim_uid, uid);
}

/* Past fence_ms: a holder that exists is deleted with force and releases its claim; claims
 * without a pod are released alone; pods holding no claim go too; one NodeFenced event. */
static void test_fence_releases(void **state)
{
	struct nfx *f = nfx_new();
	const struct ctl_action *a;
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	npod(f, "db-2", "u2", "Running", true);
	set_path(at(npod(f, "web-1", "u1", "Running", true), "metadata"), "deletionTimestamp",
	         json_string("2027-01-15T07:00:00Z"));
	npod(f, "bare", "u9", "Running", true);
	nclaim(f, "web", 0, "u0", "web-0", false);
	nclaim(f, "web", 1, "u1", "web-1", false);
	nclaim(f, "db", 2, "u2", "db-2", false);
	nclaim(f, "web", 3, "u3", "web-3", true);  /* RELEASING */
	nclaim(f, "web", 4, "u4", "web-4", false); /* HELD, its pod deleted */
	f->silent_ms = FENCE;
	plan_node(f);

	assert_int_equal(ncount(f, CTL_DELETE), 4);
	a = act(f, CTL_DELETE, "web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "pods");
	assert_string_equal(a->ns, "default");
	assert_int_equal(a->expect_rv, 20);
	assert_true(a->force);
	assert_claim(a, "web", 0, "u0");
	a = act(f, CTL_DELETE, "web-1"); /* terminating: still removed at once */
	assert_int_equal(a->expect_rv, 22);
	assert_true(a->force);
	assert_claim(a, "web", 1, "u1");
	assert_claim(act(f, CTL_DELETE, "db-2"), "db", 2, "u2");
	a = act(f, CTL_DELETE, "bare");
	assert_int_equal(a->expect_rv, 23);
	assert_true(a->force);
	assert_false(a->claim);
	assert_string_equal(a->claim_uid, "");

	assert_int_equal(ncount(f, CTL_RELEASE_CLAIM), 2);
	a = act(f, CTL_RELEASE_CLAIM, "web-3");
	assert_non_null(a);
	assert_string_equal(a->ns, "default");
	assert_null(a->obj);
	assert_claim(a, "web", 3, "u3");
	assert_claim(act(f, CTL_RELEASE_CLAIM, "web-4"), "web", 4, "u4");

	/* Deleted pods get no status update in the same plan. */
	assert_int_equal(ncount(f, CTL_UPDATE_STATUS), 0);
	assert_non_null(act(f, CTL_UPDATE, "n1"));
	a = nevent(f, "NodeFenced");
	assert_non_null(a);
	assert_string_equal(a->resource, "nodes");
	assert_string_equal(a->name, "n1");
	assert_string_equal(a->event_type, "Normal");
	assert_string_equal(a->message, "Node n1 is fenced (no lease renewal for 90000 ms): "
	                                "released 5 ordinal claims, deleted 4 pods");
	assert_int_equal(f->plan.requeue_after_s, 0);
	converges(f);
	assert_int_equal(f->n_pods, 0);
	assert_int_equal(f->n_claims, 0);
	nfx_free(f);
}

/* A pinned pod stays, claim included: the annotation and one Warning, combined with its
 * not-ready mark in one write; nothing released means no NodeFenced event. */
static void test_fence_pinned_waits(void **state)
{
	struct nfx *f = nfx_new();
	const struct ctl_action *a;
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	f->pinned[0] = true;
	npod(f, "cache", "u5", "Running", true); /* no claim, pinned too */
	f->pinned[1] = true;
	nclaim(f, "web", 0, "u0", "web-0", false);
	f->silent_ms = FENCE + 1000;
	plan_node(f);
	assert_int_equal(ncount(f, CTL_DELETE) + ncount(f, CTL_RELEASE_CLAIM), 0);
	assert_int_equal(ncount(f, CTL_UPDATE_STATUS), 0);
	a = act(f, CTL_UPDATE, "web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "pods");
	assert_int_equal(a->expect_rv, 20);
	assert_false(a->force);
	assert_string_equal(json_string_value(json_object_get(at(a->obj, "metadata.annotations"),
	                                                      "stsd.io/waiting-for-node")),
	                    "n1");
	assert_string_equal(S(cond(a->obj, "Ready"), "status"), "False");
	assert_string_equal(S(cond(a->obj, "Ready"), "reason"), "NodeNotReady");
	assert_non_null(act(f, CTL_UPDATE, "cache"));
	a = act(f, CTL_EVENT, "web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "pods");
	assert_string_equal(a->ns, "default");
	assert_string_equal(a->event_type, "Warning");
	assert_string_equal(a->reason, "WaitingForNode");
	assert_non_null(strstr(a->message, "local volume"));
	assert_non_null(act(f, CTL_EVENT, "cache"));
	assert_null(nevent(f, "NodeFenced"));
	converges(f); /* annotated: no second event, no second write */
	assert_int_equal(f->n_claims, 1);
	assert_int_equal(f->n_pods, 2);

	/* Annotated already but still Ready (the agent wrote it back): only the status mark. */
	set_path(cond(f->pods[0], "Ready"), "status", json_string("True"));
	plan_node(f);
	assert_int_equal(f->plan.n, 1);
	assert_non_null(act(f, CTL_UPDATE_STATUS, "web-0"));
	nfx_free(f);
}

/* A claim's holder is found by uid and namespace; a holder bound to another node is a
 * contradiction nobody acts on; a claim without uid cannot be released by holder. */
static void test_fence_odd_claims(void **state)
{
	struct nfx *f = nfx_new();
	(void)state;

	set_path(npod(f, "web-0", "u0", "Running", true), "spec.nodeName", json_string("n2"));
	nclaim(f, "web", 0, "u0", "web-0", false);
	nclaim(f, "web", 1, NULL, "web-1", false);
	nclaim(f, "web", 2, "", "web-2", false);
	nclaim(f, NULL, 3, "u3", "web-3", false);
	f->claims[f->n_claims - 1].pod_name = NULL;
	nclaim(f, "web", 4, "u4", NULL, true); /* no pod name: released all the same */
	f->silent_ms = FENCE;
	plan_node(f);
	assert_int_equal(ncount(f, CTL_DELETE), 0);
	assert_int_equal(ncount(f, CTL_RELEASE_CLAIM), 1);
	assert_claim(act(f, CTL_RELEASE_CLAIM, ""), "web", 4, "u4");
	assert_string_equal(nevent(f, "NodeFenced")->message,
	                    "Node n1 is fenced (no lease renewal for 90000 ms): released 1 ordinal "
	                    "claims, deleted 0 pods");
	nfx_free(f);
}

/* fence_ms below grace_ms (a misconfiguration): fencing still happens, Ready is left alone. */
static void test_fence_before_grace(void **state)
{
	struct nfx *f = nfx_new();
	(void)state;

	npod(f, "web-0", "u0", "Running", true);
	nclaim(f, "web", 0, "u0", "web-0", false);
	f->cfg.fence_ms = 1000;
	f->silent_ms = 2000;
	plan_node(f);
	assert_int_equal(f->plan.n, 2);
	assert_non_null(act(f, CTL_DELETE, "web-0"));
	assert_non_null(nevent(f, "NodeFenced"));
	nfx_free(f);
}

/* ---- Bad input ------------------------------------------------------------------------------- */

static int plan_rc(struct nfx *f)
{
	struct ctl_node_input in = nfx_input(f);

	ctl_plan_free(&f->plan);
	return ctl_node_plan(&in, &f->plan);
}

static void test_bad_input(void **state)
{
	struct nfx *f = nfx_new();
	struct ctl_node_input in = nfx_input(f);
	json_t *keep = f->node;
	(void)state;

	assert_int_equal(ctl_node_plan(NULL, &f->plan), STSD_INVALID);
	assert_int_equal(ctl_node_plan(&in, NULL), STSD_INVALID);
	in.cfg = NULL;
	assert_int_equal(ctl_node_plan(&in, &f->plan), STSD_INVALID);
	in = nfx_input(f);
	in.n_pods = 1;
	in.pods = NULL;
	assert_int_equal(ctl_node_plan(&in, &f->plan), STSD_INVALID);
	in = nfx_input(f);
	in.n_claims = 1;
	in.claims = NULL;
	assert_int_equal(ctl_node_plan(&in, &f->plan), STSD_INVALID);
	f->node = json_string("n1");
	assert_int_equal(plan_rc(f), STSD_INVALID);
	json_decref(f->node);
	const char *bad[] = {"[1,2]",
	                     "[\"n1\"]",
	                     "{}",
	                     "{\"metadata\":[]}",
	                     "{\"metadata\":{\"name\":7}}",
	                     "{\"metadata\":{\"name\":\"\"}}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->node = J(bad[i]);
		f->silent_ms = FENCE;
		assert_int_equal(plan_rc(f), STSD_INVALID);
		assert_int_equal(f->plan.n, 0);
		json_decref(f->node);
	}
	f->node = keep;
	nfx_free(f);
}

/* Odd JSON types anywhere: no crash, the odd parts replaced or skipped. */
static void test_odd_types(void **state)
{
	static const char *const nodes[] = {
	    "{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":7},\"spec\":5,\"status\":\"x\"}",
	    "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":{\"a\":1}},"
	    "\"status\":{\"conditions\":5}}",
	    "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[1,null,{\"key\":3}]},"
	    "\"status\":{\"conditions\":[\"Ready\",{\"type\":\"Ready\",\"status\":4}]}}",
	};
	(void)state;

	for (size_t k = 0; k < sizeof nodes / sizeof nodes[0]; k++) {
		struct nfx *f = nfx_new();
		json_t *p;

		json_decref(f->node);
		f->node = J(nodes[k]);
		f->pods[f->n_pods++] = J("[1]");
		f->pods[f->n_pods++] =
		    J("{\"metadata\":{\"name\":5},\"spec\":{\"nodeName\":\"n1\"}}");
		p = npod(f, "p", "u1", "Running", true);
		set_path(p, "status", json_string("weird"));
		p = npod(f, "q", "u2", "Running", true);
		set_path(p, "metadata.annotations", json_integer(1));
		f->pinned[3] = true;
		p = npod(f, "r", "u3", "Running", true);
		set_path(at(p, "status"), "conditions", J("[{\"type\":\"Ready\"},7]"));
		nclaim(f, "web", 0, "u1", "p", false);
		f->silent_ms = FENCE;
		assert_int_equal(plan_rc(f), STSD_OK);
		assert_non_null(act(f, CTL_UPDATE, "n1"));
		assert_non_null(cond(act(f, CTL_UPDATE, "n1")->obj, "Ready"));
		assert_int_equal(json_array_size(at(act(f, CTL_UPDATE, "n1")->obj, "spec.taints")),
		                 k == 2 ? 5 : 2);
		assert_non_null(act(f, CTL_DELETE, "p"));
		assert_non_null(act(f, CTL_UPDATE, "q")); /* annotations replaced by an object */
		assert_non_null(act(f, CTL_DELETE, "r"));
		converges(f);
		nfx_free(f);
	}
}

/* ---- Allocation failures --------------------------------------------------------------------- */

static struct nfx *busy_node(int64_t silent_ms)
{
	struct nfx *f = nfx_new();

	npod(f, "web-0", "u0", "Running", true);
	npod(f, "web-1", "u1", "Running", true);
	f->pinned[1] = true;
	npod(f, "bare", "u9", "Running", true);
	nclaim(f, "web", 0, "u0", "web-0", false);
	nclaim(f, "web", 1, "u1", "web-1", false);
	nclaim(f, "web", 2, "u2", "web-2", true);
	f->silent_ms = silent_ms;
	return f;
}

static void *busy_make(const void *silence)
{
	return busy_node(*(const int64_t *)silence);
}

static int busy_plan(void *fixture, size_t *n)
{
	struct nfx *f = fixture;
	struct ctl_node_input in = nfx_input(f);
	int rc = ctl_node_plan(&in, &f->plan);

	*n = f->plan.n;
	return rc;
}

static void busy_drop(void *fixture)
{
	nfx_free(fixture);
}

/* Every jansson allocation of a busy plan (past grace; fenced with a pinned pod) failing in
 * turn: STSD_NOMEM, never a crash or a leak (ASan); the whole plan once the budget suffices. */
static void test_alloc_failures(void **state)
{
	const int64_t silences[] = {GRACE, FENCE};
	(void)state;

	for (size_t s = 0; s < 2; s++) {
		struct nfx *f = busy_node(silences[s]);
		size_t want;

		plan_node(f);
		want = f->plan.n;
		assert_true(want >= 4);
		nfx_free(f);
		/* the sweep did fail allocations */
		assert_true(fx_alloc_sweep(&(struct fx_sweep){busy_make, busy_plan, busy_drop},
		                           &silences[s], want) > 10);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthy_node_no_action),
	    cmocka_unit_test(test_grace_marks_node_and_pods),
	    cmocka_unit_test(test_pod_already_not_ready),
	    cmocka_unit_test(test_partial_state_completed),
	    cmocka_unit_test(test_never_posted),
	    cmocka_unit_test(test_recovery_removes_taints),
	    cmocka_unit_test(test_fence_releases),
	    cmocka_unit_test(test_fence_pinned_waits),
	    cmocka_unit_test(test_fence_odd_claims),
	    cmocka_unit_test(test_fence_before_grace),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_odd_types),
	    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
