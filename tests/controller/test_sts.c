/* test_sts.c — the StatefulSet planner against upstream's scenarios
 * (pkg/controller/statefulset/stateful_set_control_test.go): creation and scaling under
 * OrderedReady and Parallel, failed pods, ordinals.start, plus stsd's ordinal claims, a set being
 * deleted, identity drift and bad input. Updates and PVCs: test_sts_update.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "sts_fixture.h"

/* ---- Creation -------------------------------------------------------------------------------- */

/* TestStatefulSetControlCreatesPods / ScalesUp under OrderedReady: one pod per sync, each waiting
 * for its predecessor to be Running and Ready. */
static void test_ordered_creation(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	const struct ctl_action *a;
	const json_t *st;
	(void)state;

	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	a = &f->plan.a[nth(f, CTL_CREATE, "pods", 0)];
	assert_string_equal(a->name, "web-0");
	assert_string_equal(a->ns, "default");
	assert_int_equal(a->expect_rv, 0);
	assert_true(a->claim);
	assert_string_equal(a->claim_set, "web");
	assert_int_equal(a->claim_ordinal, 0);
	assert_non_null(event(f, "SuccessfulCreate"));
	assert_string_equal(event(f, "SuccessfulCreate")->message,
	                    "create Pod web-0 in StatefulSet web successful");
	assert_string_equal(event(f, "SuccessfulCreate")->resource, "statefulsets");
	/* The first sync writes the status: revisions, collisionCount, observedGeneration. */
	st = new_status(f);
	assert_non_null(st);
	assert_int_equal(f->plan.a[nth(f, CTL_UPDATE_STATUS, "statefulsets", 0)].expect_rv, 10);
	assert_int_equal(I(st, "observedGeneration"), 1);
	assert_int_equal(I(st, "replicas"), 0);
	assert_string_equal(S(st, "currentRevision"), "web-a");
	assert_string_equal(S(st, "updateRevision"), "web-a");
	assert_non_null(at(st, "collisionCount"));
	apply(f);

	/* web-0 Pending: creation halts. */
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 0);
	assert_int_equal(I(new_status(f), "replicas"), 1);
	apply(f);
	/* Running but not Ready: still halted. */
	set_path(pod(f, "web-0"), "status.phase", json_string("Running"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 0);
	assert_null(new_status(f)); /* nothing changed */

	make_ready(f, "web-0");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_int_equal(I(new_status(f), "readyReplicas"), 1);
	assert_int_equal(I(new_status(f), "availableReplicas"), 1);
	apply(f);
	make_ready(f, "web-1");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2");
	apply(f);
	make_ready(f, "web-2");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	st = new_status(f);
	assert_int_equal(I(st, "replicas"), 3);
	assert_int_equal(I(st, "readyReplicas"), 3);
	assert_int_equal(I(st, "currentReplicas"), 3);
	assert_int_equal(I(st, "updatedReplicas"), 3);
	apply(f);
	sync_set(f);
	assert_int_equal(f->plan.n, 0); /* steady state: no writes at all */
	fx_free(f);
}

/* The pod object: identity, labels, ownerRef, template, hostname, subdomain, claim volumes. */
static void test_new_pod_object(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	json_t *p;
	(void)state;

	set_path(
	    at(f->set, "spec"), "volumeClaimTemplates",
	    J("[{\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}]"));
	set_path(f->set, "spec.template.spec.volumes",
	         J("[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"cfg\",\"emptyDir\":{}}]"));
	p = ctl_sts_new_pod(f->set, "web-a", at(f->set, "spec.template"), 7);
	assert_non_null(p);
	assert_string_equal(S(p, "apiVersion"), "v1");
	assert_string_equal(S(p, "kind"), "Pod");
	assert_string_equal(S(p, "metadata.name"), "web-7");
	assert_string_equal(S(p, "metadata.namespace"), "default");
	assert_string_equal(S(p, "metadata.labels.app"), "web");
	assert_string_equal(json_string_value(json_object_get(
	                        at(p, "metadata.labels"), "statefulset.kubernetes.io/pod-name")),
	                    "web-7");
	assert_string_equal(json_string_value(json_object_get(at(p, "metadata.labels"),
	                                                      "apps.kubernetes.io/pod-index")),
	                    "7");
	assert_string_equal(S(p, "metadata.labels.controller-revision-hash"), "web-a");
	assert_string_equal(S(p, "metadata.annotations.note"), "x");
	assert_string_equal(S(p, "metadata.ownerReferences.0.apiVersion"), "apps/v1");
	assert_string_equal(S(p, "metadata.ownerReferences.0.kind"), "StatefulSet");
	assert_string_equal(S(p, "metadata.ownerReferences.0.name"), "web");
	assert_string_equal(S(p, "metadata.ownerReferences.0.uid"), "set-uid");
	assert_true(json_is_true(at(p, "metadata.ownerReferences.0.controller")));
	assert_true(json_is_true(at(p, "metadata.ownerReferences.0.blockOwnerDeletion")));
	assert_string_equal(S(p, "spec.hostname"), "web-7");
	assert_string_equal(S(p, "spec.subdomain"), "nginx");
	assert_string_equal(S(p, "spec.containers.0.image"), "nginx:1");
	/* The claim's volume replaces the template volume of the same name. */
	assert_int_equal(json_array_size(at(p, "spec.volumes")), 2);
	assert_string_equal(S(p, "spec.volumes.0.name"), "data");
	assert_string_equal(S(p, "spec.volumes.0.persistentVolumeClaim.claimName"), "data-web-7");
	assert_null(at(p, "spec.volumes.0.emptyDir"));
	assert_string_equal(S(p, "spec.volumes.1.name"), "cfg");
	assert_null(at(p, "status"));
	json_decref(p);
	p = J("{}");
	assert_null(ctl_sts_new_pod(p, "web-a", NULL, 0)); /* no name: no pod */
	json_decref(p);
	fx_free(f);
}

/* TestStatefulSetControlBurstScaling: Parallel creates every missing pod in one sync, without
 * waiting for readiness. */
static void test_parallel_burst(void **state)
{
	struct fx *f = fx_new(5, "Parallel");
	(void)state;

	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 5);
	for (size_t i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof name, "web-%zu", i);
		assert_string_equal(nth_name(f, CTL_CREATE, "pods", i), name);
		assert_int_equal(f->plan.a[nth(f, CTL_CREATE, "pods", i)].claim_ordinal, i);
	}
	apply(f);
	/* Scale down in Parallel: every condemned pod goes at once, ready or not. */
	set_path(f->set, "spec.replicas", json_integer(2));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 3);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-4");
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 2), "web-2");
	fx_free(f);
}

/* TestStatefulSetControlScalesDown under OrderedReady: highest first, one per sync, waiting for
 * the terminating one. */
static void test_ordered_scale_down(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	const struct ctl_action *e;
	(void)state;

	for (int i = 0; i < 5; i++)
		add_pod(f, i, "web-a", "Running", true);
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-4");
	assert_int_equal(f->plan.a[nth(f, CTL_DELETE, "pods", 0)].expect_rv,
	                 strtoull(S(pod(f, "web-4"), "metadata.resourceVersion"), NULL, 10));
	e = event(f, "SuccessfulDelete");
	assert_non_null(e);
	assert_string_equal(e->message, "delete Pod web-4 in StatefulSet web successful");
	/* Condemned pods still count in status.replicas. */
	assert_int_equal(I(new_status(f), "replicas"), 5);

	/* web-4 terminating: wait. */
	set_path(at(pod(f, "web-4"), "metadata"), "deletionTimestamp",
	         json_string("2027-01-01T00:00:00Z"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	/* Terminating pods count in replicas but not in currentReplicas. */
	assert_int_equal(I(new_status(f), "replicas"), 5);
	assert_int_equal(I(new_status(f), "currentReplicas"), 4);
	remove_pod(f, "web-4");
	/* An unhealthy replica blocks the scale down (OrderedReady stops at it). */
	set_path(pod(f, "web-1"), "status.conditions.0.status", json_string("False"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	make_ready(f, "web-1");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-3");
	fx_free(f);
}

/* A 2-replica OrderedReady set with four pods at web-a: web-N is Running and Ready where
 * healthy[N], else Pending. */
static struct fx *four_pods(const bool healthy[4])
{
	struct fx *f = fx_new(2, "OrderedReady");

	for (int i = 0; i < 4; i++)
		add_pod(f, i, "web-a", healthy[i] ? "Running" : "Pending", healthy[i]);
	return f;
}

/* Deletes web-3, then (once applied) web-2. */
static void deletes_3_then_2(struct fx *f)
{
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-3");
	apply(f);
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	fx_free(f);
}

/* processCondemned: the first unhealthy pod itself may be deleted. */
static void test_scale_down_unhealthy_condemned(void **state)
{
	struct fx *f;
	(void)state;

	deletes_3_then_2(four_pods((const bool[4]){true, true, true, false}));
	deletes_3_then_2(four_pods((const bool[4]){true, true, false, true}));
	/* Both unhealthy: web-3 is not the first unhealthy (web-2 is), so nothing goes. */
	f = four_pods((const bool[4]){true, true, false, false});
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	fx_free(f);
}

/* ---- Failed pods, ordinals.start, availability -------------------------------------------------
 */

/* TestStatefulSetControlReplacesPods / RecreatesFailedPod: a Failed (or Succeeded) pod is
 * deleted, and replaced once it is gone. */
static void test_failed_pod_recreated(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	const struct ctl_action *e;
	(void)state;

	add_pod(f, 0, "web-a", "Running", true);
	add_pod(f, 1, "web-a", "Failed", false);
	add_pod(f, 2, "web-a", "Running", true);
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	e = event(f, "RecreatingFailedPod");
	assert_non_null(e);
	assert_string_equal(e->event_type, "Warning");
	assert_string_equal(e->message, "StatefulSet default/web is recreating failed Pod web-1");
	/* Still terminating: no second delete, no new pod. */
	set_path(at(pod(f, "web-1"), "metadata"), "deletionTimestamp",
	         json_string("2027-01-01T00:00:00Z"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL) + count(f, CTL_CREATE, NULL), 0);
	remove_pod(f, "web-1");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	/* Succeeded is treated the same. */
	apply(f);
	set_path(pod(f, "web-1"), "status.phase", json_string("Succeeded"));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	fx_free(f);
}

/* TestStatefulSetStartOrdinal: pods cover [start, start+replicas); others are condemned. */
static void test_ordinals_start(void **state)
{
	struct fx *f = fx_new(2, "OrderedReady");
	(void)state;

	set_path(at(f->set, "spec"), "ordinals", J("{\"start\":5}"));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-5");
	assert_int_equal(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].claim_ordinal, 5);
	apply(f);
	make_ready(f, "web-5");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-6");
	apply(f);
	make_ready(f, "web-6");
	/* Moving the start to 6 condemns web-5 and asks for web-7 first (scale up before down). */
	set_path(f->set, "spec.ordinals.start", json_integer(6));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-7");
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	apply(f);
	make_ready(f, "web-7");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-5");
	/* Names that are not <set>-<ordinal> are ignored. */
	add_pod(f, 9, "web-a", "Running", true);
	set_path(at(pod(f, "web-9"), "metadata"), "name", json_string("web-09"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-5");
	fx_free(f);
}

/* minReadySeconds: Ready since less than minReadySeconds is not available; OrderedReady waits. */
static void test_min_ready_seconds(void **state)
{
	struct fx *f = fx_new(2, "OrderedReady");
	json_t *p;
	(void)state;

	set_path(at(f->set, "spec"), "minReadySeconds", json_integer(10));
	p = add_pod(f, 0, "web-a", "Running", true);
	/* Ready at 1800001800 (2027-01-15T08:30:00Z), 5 s before now. */
	f->now = 1800001800 + 5;
	set_path(p, "status.conditions.0.lastTransitionTime", json_string("2027-01-15T08:30:00Z"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	assert_int_equal(I(new_status(f), "readyReplicas"), 1);
	assert_int_equal(I(new_status(f), "availableReplicas"), 0);
	apply(f);
	f->now = 1800001800 + 11;
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_int_equal(I(new_status(f), "availableReplicas"), 1);
	fx_free(f);
}

/* ---- Claims (identity), a set being deleted, identity drift, bad input ------------------------
 */

static void test_claims_block_recreation(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	json_t *p0;
	(void)state;

	p0 = add_pod(f, 0, "web-a", "Running", true);
	/* Ordinal 0's claim held by its live pod: fine. Ordinal 1's old pod is gone from the store
	 * but its claim is still releasing: no new web-1, and OrderedReady stops there. */
	f->claims[f->n_claims++] = (struct ctl_claim){0, S(p0, "metadata.uid"), CTL_CLAIM_HELD};
	f->claims[f->n_claims++] = (struct ctl_claim){1, "old-uid", CTL_CLAIM_RELEASING};
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	/* Held by a uid that is no live pod of the set: blocked too. */
	f->claims[1].state = CTL_CLAIM_HELD;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	/* Parallel: the other ordinals go ahead. */
	set_path(f->set, "spec.podManagementPolicy", json_string("Parallel"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2");
	/* Released: web-1 comes back. */
	f->n_claims = 1;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 2);
	fx_free(f);
}

static size_t events_of(const struct fx *f, const char *reason)
{
	size_t n = 0;

	for (size_t i = 0; i < f->plan.n; i++)
		n += f->plan.a[i].kind == CTL_EVENT && strcmp(f->plan.a[i].reason, reason) == 0;
	return n;
}

/* A missing ordinal with any claim gets no pod, even a claim held by a live pod of the set (it is
 * not at this ordinal: the store would refuse the creation), and says why once per sync. */
static void test_any_claim_blocks_missing_ordinal(void **state)
{
	struct fx *f = fx_new(3, "Parallel");
	const struct ctl_action *e;
	const char *uid0;
	(void)state;

	uid0 = S(add_pod(f, 0, "web-a", "Running", true), "metadata.uid");
	f->claims[f->n_claims++] = (struct ctl_claim){0, uid0, CTL_CLAIM_HELD};
	f->claims[f->n_claims++] = (struct ctl_claim){1, uid0, CTL_CLAIM_HELD};
	f->claims[f->n_claims++] = (struct ctl_claim){2, "old-uid", CTL_CLAIM_RELEASING};
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 0);
	assert_int_equal(events_of(f, "FailedCreate"), 1); /* two ordinals, one warning */
	e = event(f, "FailedCreate");
	assert_string_equal(e->event_type, "Warning");
	assert_string_equal(e->name, "web");
	assert_non_null(strstr(e->message, "create Pod web-1 in StatefulSet web failed"));
	assert_non_null(strstr(e->message, "ordinal 1 is still claimed by pod uid"));
	assert_non_null(strstr(e->message, uid0));
	apply(f);
	/* Ordinal 1 released: web-1 comes; ordinal 2's old copy is still releasing. */
	f->claims[1] = f->claims[2];
	f->n_claims = 2;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_int_equal(events_of(f, "FailedCreate"), 1);
	e = event(f, "FailedCreate");
	assert_non_null(strstr(e->message, "ordinal 2 is still claimed by pod uid old-uid "
	                                   "(releasing: waiting for its node to confirm "
	                                   "termination or be fenced)"));
	apply(f);
	/* Nothing blocked: no warning. */
	f->n_claims = 1;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_int_equal(events_of(f, "FailedCreate"), 0);
	apply(f);
	fx_free(f);
}

/* Ordinals stop at INT32_MAX: past it a pod name is no ordinal, and the planner would create the
 * same unrecognisable pod every sync (validation refuses such a set; this one predates it). */
static void test_ordinals_stop_at_int32_max(void **state)
{
	struct fx *f = fx_new(5, "Parallel");
	(void)state;

	set_path(at(f->set, "spec"), "ordinals", J("{\"start\":2147483646}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 2);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2147483646");
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 1), "web-2147483647");
	assert_int_equal(f->plan.a[nth(f, CTL_CREATE, "pods", 1)].claim_ordinal, 2147483647u);
	apply(f);
	make_all_ready(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	apply(f);
	fx_free(f);
}

/* The fixture's executor refuses what the store would: a stale resourceVersion, a second action
 * on one object, a CREATE of an existing object or of a claimed ordinal. */
static void test_fixture_refuses_bad_plans(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	struct ctl_action *a;
	json_t *p;
	char why[1024];
	(void)state;

	p = add_pod(f, 0, "web-a", "Running", true);
	a = ctl_plan_add(&f->plan, CTL_UPDATE, "pods", "default", "web-0", json_deep_copy(p));
	a->expect_rv = ctl_rv(p) - 1;
	assert_false(fx_plan_ok(f, why, sizeof why));
	assert_non_null(strstr(why, "expects resourceVersion"));
	a->expect_rv = ctl_rv(p);
	assert_true(fx_plan_ok(f, why, sizeof why));
	a = ctl_plan_add(&f->plan, CTL_DELETE, "pods", "default", "web-0", NULL);
	a->expect_rv = ctl_rv(p);
	assert_false(fx_plan_ok(f, why, sizeof why));
	assert_non_null(strstr(why, "acts again on the object of action 0"));
	ctl_plan_free(&f->plan);

	ctl_plan_add(&f->plan, CTL_CREATE, "pods", "default", "web-0", json_deep_copy(p));
	assert_false(fx_plan_ok(f, why, sizeof why));
	assert_non_null(strstr(why, "already exists"));
	ctl_plan_free(&f->plan);

	a = ctl_plan_add(&f->plan, CTL_CREATE, "pods", "default", "web-1", json_deep_copy(p));
	a->claim = true;
	a->claim_ordinal = 1;
	assert_true(fx_plan_ok(f, why, sizeof why));
	f->claims[f->n_claims++] = (struct ctl_claim){1, "old-uid", CTL_CLAIM_RELEASING};
	assert_false(fx_plan_ok(f, why, sizeof why));
	assert_non_null(strstr(why, "held by uid old-uid"));
	ctl_plan_free(&f->plan);

	a = ctl_plan_add(&f->plan, CTL_UPDATE_STATUS, "statefulsets", "default", "web",
	                 json_deep_copy(f->set));
	a->expect_rv = 9;
	assert_false(fx_plan_ok(f, why, sizeof why));
	a->expect_rv = 10;
	assert_true(fx_plan_ok(f, why, sizeof why));
	ctl_plan_add(&f->plan, CTL_UPDATE, "persistentvolumeclaims", "default", "data-web-0",
	             json_deep_copy(p));
	assert_false(fx_plan_ok(f, why, sizeof why));
	assert_non_null(strstr(why, "does not exist"));
	fx_free(f);
}

static void test_deleted_set_status_only(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	(void)state;

	add_pod(f, 0, "web-a", "Running", true);
	add_pod(f, 4, "web-a", "Failed", false);
	set_path(at(f->set, "metadata"), "deletionTimestamp", json_string("2027-01-01T00:00:00Z"));
	sync_set(f);
	assert_int_equal(f->plan.n, 1);
	assert_int_equal(f->plan.a[0].kind, CTL_UPDATE_STATUS);
	assert_string_equal(f->plan.a[0].resource, "statefulsets");
	assert_string_equal(f->plan.a[0].name, "web");
	assert_int_equal(f->plan.a[0].expect_rv, 10);
	/* The whole set, with the new status. */
	assert_string_equal(S(f->plan.a[0].obj, "spec.template.spec.containers.0.image"),
	                    "nginx:1");
	assert_int_equal(I(new_status(f), "replicas"), 2);
	assert_int_equal(I(new_status(f), "readyReplicas"), 1);
	apply(f);
	sync_set(f);
	assert_int_equal(f->plan.n, 0);
	fx_free(f);
}

/* Identity drift is fixed by an update of labels, hostname and subdomain only. */
static void test_identity_drift(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	json_t *p, *fixed;
	size_t i;
	(void)state;

	p = add_pod(f, 0, "web-a", "Running", true);
	json_object_del(at(p, "metadata.labels"), "statefulset.kubernetes.io/pod-name");
	json_object_del(at(p, "spec"), "subdomain");
	set_path(p, "spec.containers.0.image", json_string("edited"));
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "pods"), 1);
	i = nth(f, CTL_UPDATE, "pods", 0);
	fixed = f->plan.a[i].obj;
	assert_int_equal(f->plan.a[i].expect_rv,
	                 strtoull(S(p, "metadata.resourceVersion"), NULL, 10));
	assert_string_equal(
	    json_string_value(json_object_get(at(fixed, "metadata.labels"),
	                                      "statefulset.kubernetes.io/pod-name")),
	    "web-0");
	/* Labels only: hostname and subdomain are creation-only (upstream's initIdentity). */
	assert_null(S(fixed, "spec.subdomain"));
	assert_string_equal(S(fixed, "spec.containers.0.image"), "edited"); /* not the template */
	assert_string_equal(S(fixed, "metadata.uid"), S(p, "metadata.uid"));
	assert_non_null(event(f, "SuccessfulUpdate"));
	apply(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "pods"), 0);
	fx_free(f);
}

/* Review findings: one plan never acts twice on a pod (the second precondition could never hold),
 * and currentReplicas never goes below zero. */
static void test_one_action_per_pod(void **state)
{
	struct fx *f = rolled(3, "Parallel");
	const json_t *st;
	(void)state;

	set_path(pod(f, "web-2"), "status.phase", json_string("Failed"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	fx_free(f);

	f = rolled(3, "OrderedReady");
	json_object_del(at(pod(f, "web-2"), "metadata.labels"), "apps.kubernetes.io/pod-index");
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "pods") + count(f, CTL_DELETE, "pods"), 1);
	fx_free(f);

	f = rolled(3, "OrderedReady");
	use_revisions(f, "web-z", "web-b"); /* current is neither the pods' nor the update's */
	sync_set(f);
	st = new_status(f);
	assert_true(st == NULL || ctl_int(st, "currentReplicas", 0) >= 0);
	fx_free(f);
}

static void test_requeue_for_min_ready(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	(void)state;

	set_path(f->set, "spec.minReadySeconds", json_integer(30));
	add_pod(f, 0, "web-a", "Running", true);
	set_path(pod(f, "web-0"), "status.conditions",
	         J("[{\"type\":\"Ready\",\"status\":\"True\","
	           "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"}]"));
	f->now = 1577836800 + 10; /* Ready for 10 s of 30 */
	sync_set(f);
	assert_int_equal(f->plan.requeue_after_s, 21);
	fx_free(f);
}

static void test_bad_input(void **state)
{
	struct fx *f = fx_new(2, "OrderedReady");
	struct ctl_sts_input in;
	json_t *st, *odd;
	(void)state;

	/* Pods with odd names, statuses and conditions do not crash the planner. */
	odd = J("{\"metadata\":{\"name\":\"web-\"},\"status\":{\"phase\":3,\"conditions\":{}}}");
	f->pods[f->n_pods++] = odd;
	f->pods[f->n_pods++] = J("{\"metadata\":{\"name\":\"web-99999999999\"}}");
	f->pods[f->n_pods++] = J("{\"metadata\":{\"name\":7}}");
	f->pods[f->n_pods++] = J("[]");
	set_path(f->set, "spec.replicas", json_string("many"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1); /* replicas falls back to 1 */
	/* No name or no revisions: INVALID, and the status is NULL. */
	in = fx_input(f);
	in.rev = NULL;
	ctl_plan_free(&f->plan);
	assert_int_equal(ctl_sts_plan(&in, &f->plan), STSD_INVALID);
	assert_null(ctl_sts_status(&in));
	in = fx_input(f);
	st = ctl_sts_status(&in);
	assert_non_null(st);
	assert_int_equal(I(st, "replicas"), 0);
	json_decref(st);
	/* An absurd Parallel replica count: one sync stays bounded (5000 new pods at most). */
	set_path(f->set, "spec.replicas", json_integer(INT32_MAX));
	set_path(f->set, "spec.podManagementPolicy", json_string("Parallel"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 5000);
	json_object_del(at(f->set, "metadata"), "name");
	in = fx_input(f);
	assert_int_equal(ctl_sts_plan(&in, &f->plan), STSD_INVALID);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ordered_creation),
	    cmocka_unit_test(test_new_pod_object),
	    cmocka_unit_test(test_parallel_burst),
	    cmocka_unit_test(test_ordered_scale_down),
	    cmocka_unit_test(test_scale_down_unhealthy_condemned),
	    cmocka_unit_test(test_failed_pod_recreated),
	    cmocka_unit_test(test_ordinals_start),
	    cmocka_unit_test(test_min_ready_seconds),
	    cmocka_unit_test(test_claims_block_recreation),
	    cmocka_unit_test(test_any_claim_blocks_missing_ordinal),
	    cmocka_unit_test(test_ordinals_stop_at_int32_max),
	    cmocka_unit_test(test_fixture_refuses_bad_plans),
	    cmocka_unit_test(test_deleted_set_status_only),
	    cmocka_unit_test(test_identity_drift),
	    cmocka_unit_test(test_one_action_per_pod),
	    cmocka_unit_test(test_requeue_for_min_ready),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
