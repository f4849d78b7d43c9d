/* test_sts_departures.c — where the StatefulSet planner goes further than upstream, on purpose
 * (docs/decisions/010-statefulset-departures.md): a paused rollout (stsd.io/rollout-paused) and
 * the way out of a broken revision (stsd.io/replace-unready-pods, upstream #67250). */
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

static void annotate(struct fx *f, const char *key, const char *value)
{
	json_t *meta = at(f->set, "metadata"), *ann = json_object_get(meta, "annotations");

	if (ann == NULL) {
		json_object_set_new(meta, "annotations", json_object());
		ann = json_object_get(meta, "annotations");
	}
	if (value == NULL)
		json_object_del(ann, key);
	else
		json_object_set_new(ann, key, json_string(value));
}

/* The condition of type in the status status, or NULL. */
static const json_t *condition(const json_t *status, const char *type)
{
	size_t i;
	const json_t *c;

	json_array_foreach(json_object_get(status, "conditions"), i, c)
	{
		if (strcmp(S(c, "type"), type) == 0)
			return c;
	}
	return NULL;
}

/* ---- Pause ----------------------------------------------------------------------------------- */

/* Paused: no pod replaced for the update, updateRevision still moves, the condition and the
 * RolloutPaused event appear once; kubectl rollout status keeps reading the upstream fields
 * (updatedReplicas below replicas - partition: "Waiting for partitioned roll out to finish"). */
static void test_pause_holds_rollout(void **state)
{
	struct fx *f = rolled(3, "OrderedReady");
	const json_t *st, *c;
	(void)state;

	annotate(f, "stsd.io/rollout-paused", "true");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	st = new_status(f);
	assert_non_null(st);
	assert_string_equal(S(st, "updateRevision"), "web-b");
	assert_string_equal(S(st, "currentRevision"), "web-a");
	assert_int_equal(I(st, "updatedReplicas"), 0);
	assert_int_equal(I(st, "currentReplicas"), 3);
	assert_int_equal(I(st, "readyReplicas"), 3);
	c = condition(st, "stsd.io/RolloutPaused");
	assert_non_null(c);
	assert_string_equal(S(c, "status"), "True");
	assert_string_equal(S(c, "reason"), "Paused");
	assert_non_null(S(c, "message"));
	assert_string_equal(S(c, "lastTransitionTime"), "2027-01-15T08:00:00Z");
	assert_non_null(event(f, "RolloutPaused"));
	assert_string_equal(event(f, "RolloutPaused")->event_type, "Normal");
	apply(f);

	/* Still paused: nothing to do, nothing to say, the status stands. */
	f->now += 600;
	sync_set(f);
	assert_int_equal(f->plan.n, 0);

	/* Scaling goes on, at the current revision (as if partition = replicas); down too. */
	set_path(f->set, "spec.replicas", json_integer(4));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-a");
	assert_null(event(f, "RolloutPaused"));
	apply(f);
	make_all_ready(f);
	set_path(f->set, "spec.replicas", json_integer(3));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-3");
	apply(f);

	/* Resumed: the update goes on, the condition goes, RolloutResumed says so. */
	annotate(f, "stsd.io/rollout-paused", NULL);
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	assert_null(json_object_get(new_status(f), "conditions"));
	assert_non_null(event(f, "RolloutResumed"));
	assert_null(event(f, "RolloutPaused"));
	apply(f);
	sync_set(f);
	assert_null(event(f, "RolloutResumed"));
	fx_free(f);
}

/* Only "true" pauses; other conditions in the status are someone else's and stay. */
static void test_pause_value_and_other_conditions(void **state)
{
	struct fx *f = rolled(3, "OrderedReady");
	(void)state;

	annotate(f, "stsd.io/rollout-paused", "false");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_null(event(f, "RolloutPaused"));

	annotate(f, "stsd.io/rollout-paused", "true");
	set_path(f->set, "status.conditions",
	         J("[{\"type\":\"Other\",\"status\":\"True\",\"reason\":\"X\"}]"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(new_status(f), "conditions")), 2);
	assert_non_null(condition(new_status(f), "Other"));
	apply(f);
	annotate(f, "stsd.io/rollout-paused", NULL);
	sync_set(f);
	assert_int_equal(json_array_size(json_object_get(new_status(f), "conditions")), 1);
	assert_non_null(condition(new_status(f), "Other"));
	assert_non_null(event(f, "RolloutResumed"));
	fx_free(f);
}

/* maxUnavailable, Parallel: paused deletes nothing either; a pod gone missing comes back at the
 * current revision. OnDelete is not affected (the user replaces pods). */
static void test_pause_max_unavailable_and_missing(void **state)
{
	struct fx *f = rolled(4, "Parallel");
	(void)state;

	set_path(f->set, "spec.updateStrategy.rollingUpdate",
	         J("{\"partition\":0,\"maxUnavailable\":2}"));
	annotate(f, "stsd.io/rollout-paused", "true");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	apply(f);
	remove_pod(f, "web-1");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-a");
	fx_free(f);

	f = rolled(3, "OrderedReady");
	set_path(f->set, "spec.updateStrategy", J("{\"type\":\"OnDelete\"}"));
	annotate(f, "stsd.io/rollout-paused", "true");
	remove_pod(f, "web-2");
	sync_set(f);
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-b");
	fx_free(f);
}

/* ---- The way out of a broken revision (#67250) ----------------------------------------------- */

/* A pod that started at startTime and never became Ready (kubelet's Ready=False since start). */
static void never_ready(struct fx *f, const char *name)
{
	json_t *p = pod(f, name);

	assert_non_null(p);
	set_path(p, "status",
	         J("{\"phase\":\"Running\",\"startTime\":\"2027-01-15T07:00:00Z\","
	           "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
	           "\"reason\":\"ContainersNotReady\","
	           "\"lastTransitionTime\":\"2027-01-15T07:00:01Z\"}]}"));
}

/* Roll 3 Ready pods at web-a to the broken web-b: web-2 is replaced and never becomes Ready,
 * then the template is fixed (web-c). */
static struct fx *broken_rollout(void)
{
	struct fx *f = rolled(3, "OrderedReady");

	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	apply(f);
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2");
	apply(f);
	never_ready(f, "web-2");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL) + count(f, CTL_CREATE, NULL), 0);
	/* The fix: a new update revision; web-2 is outdated now. */
	set_template_image(f, "nginx:3");
	use_revisions(f, "web-a", "web-c");
	return f;
}

/* Upstream #67250 reproduced: without the annotation the update waits forever for web-2; with
 * it, web-2 is replaced at the fixed revision and the update goes on. */
static void test_broken_revision_way_out(void **state)
{
	struct fx *f = broken_rollout();
	const struct ctl_action *e;
	(void)state;

	for (int i = 0; i < 5; i++) {
		f->now += 3600;
		sync_set(f);
		assert_int_equal(count(f, CTL_DELETE, NULL) + count(f, CTL_CREATE, NULL), 0);
	}
	annotate(f, "stsd.io/replace-unready-pods", "true");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	e = event(f, "ReplacingUnreadyPod");
	assert_non_null(e);
	assert_string_equal(e->event_type, "Warning");
	assert_non_null(strstr(e->message, "web-b"));
	assert_non_null(strstr(e->message, "web-c"));
	assert_int_equal(I(new_status(f), "currentReplicas"), 2);
	apply(f);
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2");
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-c");
	apply(f);
	make_ready(f, "web-2");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	assert_null(event(f, "ReplacingUnreadyPod"));
	fx_free(f);
}

/* Only a pod that has never been Ready goes: one that was Ready and lost it is waited for, as
 * upstream does; an unscheduled pod (no Ready condition) goes. */
static void test_way_out_needs_never_ready(void **state)
{
	struct fx *f = broken_rollout();
	(void)state;

	annotate(f, "stsd.io/replace-unready-pods", "true");
	/* Ready=False since an hour after it started: it was Ready in between. */
	set_path(pod(f, "web-2"), "status.conditions.0.lastTransitionTime",
	         json_string("2027-01-15T08:00:00Z"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	/* No time to judge by: counted as having been Ready. */
	json_object_del(json_object_get(pod(f, "web-2"), "status"), "startTime");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	/* Never scheduled: Pending without any Ready condition. */
	set_path(pod(f, "web-2"), "status", J("{\"phase\":\"Pending\"}"));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	fx_free(f);
}

/* The way out stays inside the rolling update's rules: not below the partition, not while
 * paused, not for a pod already at the update revision, not with OnDelete. */
static void test_way_out_limits(void **state)
{
	struct fx *f = broken_rollout();
	(void)state;

	annotate(f, "stsd.io/replace-unready-pods", "true");
	set_path(f->set, "spec.updateStrategy.rollingUpdate.partition", json_integer(3));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	set_path(f->set, "spec.updateStrategy.rollingUpdate.partition", json_integer(0));
	annotate(f, "stsd.io/rollout-paused", "true");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	annotate(f, "stsd.io/rollout-paused", NULL);
	set_path(f->set, "spec.updateStrategy", J("{\"type\":\"OnDelete\"}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	fx_free(f);

	/* Not fixed yet: web-2 is at the update revision, there is nothing better to run. */
	f = rolled(3, "OrderedReady");
	annotate(f, "stsd.io/replace-unready-pods", "true");
	sync_set(f);
	apply(f);
	sync_set(f);
	apply(f);
	never_ready(f, "web-2");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL) + count(f, CTL_CREATE, NULL), 0);
	fx_free(f);
}

/* maxUnavailable 1: the broken pod uses up the budget upstream (stuck); the way out replaces it
 * and it stays counted, so no other pod goes in the same sync. */
static void test_way_out_max_unavailable(void **state)
{
	struct fx *f = rolled(3, "Parallel");
	(void)state;

	set_path(f->set, "spec.updateStrategy.rollingUpdate",
	         J("{\"partition\":0,\"maxUnavailable\":1}"));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	apply(f);
	sync_set(f);
	apply(f);
	never_ready(f, "web-2");
	set_template_image(f, "nginx:3");
	use_revisions(f, "web-a", "web-c");
	/* Parallel without the annotation: web-2 is outdated and the highest; the one-at-a-time
	 * update would take it, but maxUnavailable counts it as the one unavailable pod. */
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	annotate(f, "stsd.io/replace-unready-pods", "true");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	assert_non_null(event(f, "ReplacingUnreadyPod"));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pause_holds_rollout),
	    cmocka_unit_test(test_pause_value_and_other_conditions),
	    cmocka_unit_test(test_pause_max_unavailable_and_missing),
	    cmocka_unit_test(test_broken_revision_way_out),
	    cmocka_unit_test(test_way_out_needs_never_ready),
	    cmocka_unit_test(test_way_out_limits),
	    cmocka_unit_test(test_way_out_max_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
