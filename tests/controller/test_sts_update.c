/* test_sts_update.c — the StatefulSet planner's updates and storage against upstream's scenarios
 * (pkg/controller/statefulset/stateful_set_control_test.go): rolling updates with partition and
 * maxUnavailable, OnDelete, minReadySeconds, slow-start batches, PVCs and their retention. */
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

/* ---- Updates --------------------------------------------------------------------------------- */

/* TestStatefulSetControlRollingUpdate: highest outdated pod first, one at a time, each
 * replacement healthy before the next; status.currentRevision moves when all are updated. */
static void test_rolling_update(void **state)
{
	struct fx *f = rolled(3, "OrderedReady");
	const json_t *st;
	(void)state;

	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	st = new_status(f);
	assert_int_equal(I(st, "currentReplicas"), 2); /* the deletion is counted at once */
	assert_int_equal(I(st, "updatedReplicas"), 0);
	assert_string_equal(S(st, "currentRevision"), "web-a");
	assert_string_equal(S(st, "updateRevision"), "web-b");
	apply(f);
	/* The replacement is created at the update revision. */
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-2");
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-b");
	assert_string_equal(
	    S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj, "spec.containers.0.image"), "nginx:2");
	apply(f);
	/* Not ready yet: wait. */
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL) + count(f, CTL_CREATE, NULL), 0);
	make_ready(f, "web-2");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	apply(f);
	sync_set(f);
	apply(f);
	make_ready(f, "web-1");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-0");
	apply(f);
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-0");
	apply(f);
	make_ready(f, "web-0");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	st = new_status(f);
	assert_string_equal(S(st, "currentRevision"), "web-b");
	assert_string_equal(S(st, "updateRevision"), "web-b");
	assert_int_equal(I(st, "currentReplicas"), 3);
	assert_int_equal(I(st, "updatedReplicas"), 3);
	fx_free(f);
}

/* completeRollingUpdate needs spec.replicas pods updated and ready, not only the created ones. */
static void test_rollout_completes_at_spec_replicas(void **state)
{
	struct fx *f = fx_new(3, "OrderedReady");
	(void)state;

	use_revisions(f, "web-a", "web-b");
	add_pod(f, 0, "web-b", "Running", true);
	set_path(f->set, "status.currentRevision", json_string("web-a"));
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_string_equal(S(new_status(f), "currentRevision"), "web-a");
	assert_int_equal(I(new_status(f), "updatedReplicas"), 1);
	apply(f);
	make_ready(f, "web-1");
	sync_set(f);
	apply(f);
	make_ready(f, "web-2");
	sync_set(f);
	assert_string_equal(S(new_status(f), "currentRevision"), "web-b");
	assert_int_equal(I(new_status(f), "currentReplicas"), 3);
	fx_free(f);
}

/* Parallel rolling update (no maxUnavailable): still one pod at a time, waiting for health. */
static void test_rolling_update_parallel(void **state)
{
	struct fx *f = rolled(3, "Parallel");
	(void)state;

	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-2");
	apply(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 0); /* the new web-2 is not healthy yet */
	fx_free(f);
}

/* TestStatefulSetControlRollingUpdateWithPartition: ordinals below the partition keep the
 * current revision, also when recreated. */
static void test_partition(void **state)
{
	struct fx *f = rolled(4, "OrderedReady");
	(void)state;

	set_path(f->set, "spec.updateStrategy.rollingUpdate.partition", json_integer(2));
	for (int round = 3; round >= 2; round--) {
		char name[16];
		snprintf(name, sizeof name, "web-%d", round);
		sync_set(f);
		assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
		assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), name);
		apply(f);
		sync_set(f);
		apply(f);
		make_ready(f, name);
	}
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	assert_string_equal(S(pod(f, "web-1"), "metadata.labels.controller-revision-hash"),
	                    "web-a");
	assert_string_equal(S(pod(f, "web-2"), "metadata.labels.controller-revision-hash"),
	                    "web-b");
	assert_int_equal(I(new_status(f), "updatedReplicas"), 2);
	assert_int_equal(I(new_status(f), "currentReplicas"), 2);
	assert_string_equal(S(new_status(f), "currentRevision"), "web-a");
	/* A pod below the partition that disappears comes back at the current revision. */
	remove_pod(f, "web-1");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-a");
	assert_string_equal(
	    S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj, "spec.containers.0.image"), "nginx:1");
	fx_free(f);
}

/* TestStatefulSetControlRollingUpdateWithMaxUnavailable (burst, 6 replicas, partition 3,
 * maxUnavailable 2): two at a time, unavailable pods use up the budget. */
static void test_max_unavailable(void **state)
{
	struct fx *f = rolled(6, "Parallel");
	(void)state;

	set_path(f->set, "spec.updateStrategy.rollingUpdate",
	         J("{\"partition\":3,\"maxUnavailable\":2}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 2);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-5");
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 1), "web-4");
	assert_int_equal(I(new_status(f), "currentReplicas"), 4);
	apply(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 2);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 0); /* 2 missing = 2 unavailable */
	apply(f);
	/* web-4 ready, web-5 not: one more may go (web-3), even though web-5 is not ready. */
	make_ready(f, "web-4");
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-3");
	apply(f);
	sync_set(f);
	apply(f);
	make_all_ready(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0); /* the partition holds 0..2 */
	fx_free(f);

	/* A percent rounds down, at least 1: 50% of 5 -> 2; 10% of 5 -> 1. */
	f = rolled(5, "Parallel");
	set_path(f->set, "spec.updateStrategy.rollingUpdate",
	         J("{\"partition\":0,\"maxUnavailable\":\"50%\"}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 2);
	set_path(f->set, "spec.updateStrategy.rollingUpdate.maxUnavailable", json_string("10%"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 1);
	/* Already one unavailable of maxUnavailable 1: nothing more. */
	set_path(pod(f, "web-0"), "status.phase", json_string("Pending"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, "pods"), 0);
	fx_free(f);
}

/* TestStatefulSetControlOnDeleteUpdate: a template change deletes nothing; pods recreated after
 * a manual delete get the update revision. */
static void test_on_delete(void **state)
{
	struct fx *f = rolled(3, "OrderedReady");
	(void)state;

	set_path(f->set, "spec.updateStrategy", J("{\"type\":\"OnDelete\"}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	assert_string_equal(S(new_status(f), "currentRevision"), "web-a");
	apply(f);
	remove_pod(f, "web-1");
	sync_set(f);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-1");
	assert_string_equal(S(f->plan.a[nth(f, CTL_CREATE, "pods", 0)].obj,
	                      "metadata.labels.controller-revision-hash"),
	                    "web-b");
	apply(f);
	make_all_ready(f);
	sync_set(f);
	assert_int_equal(I(new_status(f), "updatedReplicas"), 1);
	assert_int_equal(I(new_status(f), "currentReplicas"), 2);
	assert_string_equal(S(new_status(f), "currentRevision"), "web-a"); /* never completes */
	fx_free(f);
}

/* ---- PVCs and retention ---------------------------------------------------------------------- */

/* TestStatefulSetControl...PVC: claims are created before their pod, named
 * <claim>-<set>-<ordinal>, labelled template labels + selector; never updated otherwise. */
static void test_pvcs_created_first(void **state)
{
	struct fx *f = fx_new(2, "OrderedReady");
	const json_t *c;
	size_t ipvc, ipod;
	(void)state;

	with_claims(f, "Retain", "Retain");
	sync_set(f);
	ipvc = nth(f, CTL_CREATE, "persistentvolumeclaims", 0);
	ipod = nth(f, CTL_CREATE, "pods", 0);
	assert_true(ipvc != SIZE_MAX && ipod != SIZE_MAX && ipvc < ipod);
	c = f->plan.a[ipvc].obj;
	assert_string_equal(f->plan.a[ipvc].name, "data-web-0");
	assert_false(f->plan.a[ipvc].claim);
	assert_string_equal(S(c, "metadata.name"), "data-web-0");
	assert_string_equal(S(c, "metadata.namespace"), "default");
	assert_string_equal(S(c, "metadata.labels.tier"), "db");
	assert_string_equal(S(c, "metadata.labels.app"), "web"); /* matchLabels win */
	assert_string_equal(S(c, "spec.resources.requests.storage"), "1Gi");
	assert_null(at(c, "metadata.ownerReferences"));
	assert_string_equal(
	    S(f->plan.a[ipod].obj, "spec.volumes.0.persistentVolumeClaim.claimName"), "data-web-0");
	assert_string_equal(event(f, "SuccessfulCreate")->message,
	                    "create Claim data-web-0 Pod web-0 in StatefulSet web success");
	apply(f);
	/* Pending pod: its missing claims are created again (someone deleted it). */
	json_decref(f->pvcs[0]);
	f->n_pvcs = 0;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "persistentvolumeclaims"), 1);
	apply(f);
	/* Existing claims are never updated (Retain/Retain: no ownerRefs wanted). */
	make_ready(f, "web-0");
	set_path(at(pvc(f, "data-web-0"), "spec"), "storageClassName", json_string("other"));
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 0);
	assert_int_equal(count(f, CTL_CREATE, "persistentvolumeclaims"), 1); /* data-web-1 */
	fx_free(f);
}

/* A claim being deleted blocks its pod (FailedCreate). */
static void test_pvc_being_deleted(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	const struct ctl_action *e;
	json_t *c;
	(void)state;

	with_claims(f, "Retain", "Retain");
	c = J("{\"metadata\":{\"name\":\"data-web-0\",\"namespace\":\"default\","
	      "\"resourceVersion\":\"5\",\"deletionTimestamp\":\"2027-01-01T00:00:00Z\"}}");
	f->pvcs[f->n_pvcs++] = c;
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	e = event(f, "FailedCreate");
	assert_non_null(e);
	assert_string_equal(e->event_type, "Warning");
	assert_string_equal(e->message, "create Pod web-0 in StatefulSet web failed error: pvc "
	                                "data-web-0 is being deleted");
	fx_free(f);
}

/* persistentVolumeClaimRetentionPolicy: whenDeleted=Delete -> the set owns the claims of pods in
 * range; whenScaled=Delete -> a condemned pod owns its claims. */
static void test_retention_owner_refs(void **state)
{
	struct fx *f = fx_new(2, "OrderedReady");
	const json_t *c;
	json_t *p;
	(void)state;

	with_claims(f, "Delete", "Retain");
	sync_set(f);
	c = f->plan.a[nth(f, CTL_CREATE, "persistentvolumeclaims", 0)].obj;
	assert_true(owned_by(c, "set-uid"));
	assert_string_equal(S(c, "metadata.ownerReferences.0.kind"), "StatefulSet");
	assert_string_equal(S(c, "metadata.ownerReferences.0.apiVersion"), "apps/v1");
	assert_string_equal(S(c, "metadata.ownerReferences.0.name"), "web");
	apply(f);
	make_ready(f, "web-0");
	/* An existing claim without the ref is updated (whole object, expected rv). */
	json_object_del(at(pvc(f, "data-web-0"), "metadata"), "ownerReferences");
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 1);
	assert_string_equal(nth_name(f, CTL_UPDATE, "persistentvolumeclaims", 0), "data-web-0");
	assert_true(
	    owned_by(f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 0)].obj, "set-uid"));
	assert_int_equal(f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 0)].expect_rv,
	                 strtoull(S(pvc(f, "data-web-0"), "metadata.resourceVersion"), NULL, 10));
	apply(f);
	make_all_ready(f);

	/* Delete/Delete, scale 2 -> 1: web-1's claim moves from the set to the pod, then the pod
	 * is deleted (claims fixed before the scale down). */
	set_path(f->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
	         json_string("Delete"));
	set_path(f->set, "spec.replicas", json_integer(1));
	sync_set(f);
	p = pod(f, "web-1");
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 1);
	c = f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 0)].obj;
	assert_string_equal(S(c, "metadata.name"), "data-web-1");
	assert_false(owned_by(c, "set-uid"));
	assert_true(owned_by(c, S(p, "metadata.uid")));
	assert_string_equal(S(c, "metadata.ownerReferences.0.kind"), "Pod");
	assert_string_equal(S(c, "metadata.ownerReferences.0.name"), "web-1");
	assert_true(nth(f, CTL_UPDATE, "persistentvolumeclaims", 0) <
	            nth(f, CTL_DELETE, "pods", 0));
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	apply(f);
	/* Scale back up: the claim still owned by the old web-1 is stale and blocks the new one. */
	set_path(f->set, "spec.replicas", json_integer(2));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	fx_free(f);
}

/* CreateStatefulPod calls UpdatePodClaimForRetentionPolicy right after the pod: a claim kept
 * from an earlier pod gets the set's reference in the same sync as its new pod. */
static void test_reused_claim_owned_on_create(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	const struct ctl_action *u;
	(void)state;

	with_claims(f, "Delete", "Retain");
	f->pvcs[f->n_pvcs++] = J("{\"metadata\":{\"name\":\"data-web-0\",\"namespace\":\"default\","
	                         "\"resourceVersion\":\"7\"}}");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 1);
	assert_int_equal(count(f, CTL_CREATE, "persistentvolumeclaims"), 0);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 1);
	assert_true(nth(f, CTL_CREATE, "pods", 0) <
	            nth(f, CTL_UPDATE, "persistentvolumeclaims", 0));
	u = &f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 0)];
	assert_string_equal(u->name, "data-web-0");
	assert_int_equal(u->expect_rv, 7);
	assert_true(owned_by(u->obj, "set-uid"));
	assert_true(json_is_true(at(u->obj, "metadata.ownerReferences.0.controller")));
	apply(f);
	make_ready(f, "web-0");
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 0);
	fx_free(f);
}

/* isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod (recent upstream): controller
 * references; a stale reference (the set's name, another uid) or another controller leaves the
 * claim alone; our own reference next to another controller is removed, not made controller. */
static void test_claim_owners_as_upstream(void **state)
{
	struct fx *f = fx_new(3, "Parallel");
	const json_t *c;
	size_t i;
	(void)state;

	with_claims(f, "Delete", "Retain");
	add_pod(f, 0, "web-a", "Running", true);
	add_pod(f, 1, "web-a", "Running", true);
	f->pvcs[f->n_pvcs++] =
	    J("{\"metadata\":{\"name\":\"data-web-0\",\"namespace\":\"default\","
	      "\"resourceVersion\":\"7\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
	      "\"kind\":\"StatefulSet\",\"name\":\"web\",\"uid\":\"old-set-uid\"}]}}");
	f->pvcs[f->n_pvcs++] =
	    J("{\"metadata\":{\"name\":\"data-web-1\",\"namespace\":\"default\","
	      "\"resourceVersion\":\"8\",\"ownerReferences\":[{\"apiVersion\":\"example.com/v1\","
	      "\"kind\":\"Backup\",\"name\":\"b\",\"uid\":\"b-uid\",\"controller\":true}]}}");
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 0);
	c = f->plan.a[nth(f, CTL_CREATE, "persistentvolumeclaims", 0)].obj;
	assert_string_equal(S(c, "metadata.name"), "data-web-2");
	assert_string_equal(S(c, "metadata.ownerReferences.0.uid"), "set-uid");
	assert_true(json_is_true(at(c, "metadata.ownerReferences.0.controller")));
	assert_true(json_is_true(at(c, "metadata.ownerReferences.0.blockOwnerDeletion")));
	apply(f);

	/* Our reference, but not as controller: made one. Ours next to another controller: gone. */
	set_path(pvc(f, "data-web-0"), "metadata.ownerReferences",
	         J("[{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"web\","
	           "\"uid\":\"set-uid\"}]"));
	json_array_append_new(at(pvc(f, "data-web-1"), "metadata.ownerReferences"),
	                      J("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
	                        "\"name\":\"web\",\"uid\":\"set-uid\",\"controller\":false}"));
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 2);
	for (i = 0; i < 2; i++) {
		c = f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", i)].obj;
		assert_int_equal(json_array_size(at(c, "metadata.ownerReferences")), 1);
		if (strcmp(S(c, "metadata.name"), "data-web-0") == 0) {
			assert_string_equal(S(c, "metadata.ownerReferences.0.uid"), "set-uid");
			assert_true(json_is_true(at(c, "metadata.ownerReferences.0.controller")));
			assert_true(
			    json_is_true(at(c, "metadata.ownerReferences.0.blockOwnerDeletion")));
		} else {
			assert_string_equal(S(c, "metadata.name"), "data-web-1");
			assert_string_equal(S(c, "metadata.ownerReferences.0.uid"), "b-uid");
		}
	}
	apply(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 0);
	fx_free(f);
}

/* slowStartBatch: Parallel runs batches of 1, 2, 4, ...; a failure (here a claim being deleted at
 * ordinal 2, in the second batch) stops the batches after it, and the rest of the sync. */
static void test_parallel_slow_start(void **state)
{
	struct fx *f = fx_new(8, "Parallel");
	(void)state;

	with_claims(f, "Retain", "Retain");
	add_pod(f, 9, "web-a", "Running", true); /* condemned, untouched this sync */
	f->pvcs[f->n_pvcs++] = J("{\"metadata\":{\"name\":\"data-web-2\",\"namespace\":\"default\","
	                         "\"deletionTimestamp\":\"2027-01-01T00:00:00Z\"}}");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 2);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 0), "web-0");
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 1), "web-1");
	assert_int_equal(count(f, CTL_DELETE, NULL), 0);
	/* At ordinal 5 (third batch: 3..6), the batch completes: 0..6 but 5. */
	json_object_set_new(at(f->pvcs[0], "metadata"), "name", json_string("data-web-5"));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 6);
	assert_string_equal(nth_name(f, CTL_CREATE, "pods", 5), "web-6");
	fx_free(f);
}

/* whenScaled=Delete, whenDeleted=Retain: no set ref ever; a condemned pod owns its claims. */
static void test_retention_scaled_only(void **state)
{
	struct fx *f = fx_new(1, "Parallel");
	const json_t *c;
	(void)state;

	with_claims(f, "Retain", "Delete");
	add_pod(f, 0, "web-a", "Running", true);
	add_pod(f, 1, "web-a", "Running", true);
	for (int i = 0; i < 2; i++) {
		char text[256];
		snprintf(
		    text, sizeof text,
		    "{\"metadata\":{\"name\":\"data-web-%d\",\"namespace\":\"default\","
		    "\"resourceVersion\":\"7\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
		    "\"kind\":\"StatefulSet\",\"name\":\"web\",\"uid\":\"set-uid\"}]}}",
		    i);
		f->pvcs[f->n_pvcs++] = J(text);
	}
	sync_set(f);
	assert_int_equal(count(f, CTL_UPDATE, "persistentvolumeclaims"), 2);
	c = f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 0)].obj;
	assert_string_equal(S(c, "metadata.name"), "data-web-0");
	assert_null(at(c, "metadata.ownerReferences")); /* in range: nobody owns it */
	c = f->plan.a[nth(f, CTL_UPDATE, "persistentvolumeclaims", 1)].obj;
	assert_string_equal(S(c, "metadata.name"), "data-web-1");
	assert_false(owned_by(c, "set-uid"));
	assert_true(owned_by(c, S(pod(f, "web-1"), "metadata.uid")));
	assert_string_equal(nth_name(f, CTL_DELETE, "pods", 0), "web-1");
	/* A claim owned by a pod of the same name that is gone is stale: no new pod over it. */
	apply(f);
	set_path(f->set, "spec.replicas", json_integer(2));
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "pods"), 0);
	fx_free(f);
}

/* Storage drift: the missing claims are created; the pod's volumes are not rewritten. */
static void test_storage_drift(void **state)
{
	struct fx *f = fx_new(1, "OrderedReady");
	(void)state;

	add_pod(f, 0, "web-a", "Running", true); /* made before the set had claim templates */
	with_claims(f, "Retain", "Retain");
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, "persistentvolumeclaims"), 1);
	assert_string_equal(nth_name(f, CTL_CREATE, "persistentvolumeclaims", 0), "data-web-0");
	assert_int_equal(count(f, CTL_UPDATE, "pods"), 0);
	apply(f);
	sync_set(f);
	assert_int_equal(count(f, CTL_CREATE, NULL), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rolling_update),
	    cmocka_unit_test(test_rollout_completes_at_spec_replicas),
	    cmocka_unit_test(test_rolling_update_parallel),
	    cmocka_unit_test(test_partition),
	    cmocka_unit_test(test_max_unavailable),
	    cmocka_unit_test(test_on_delete),
	    cmocka_unit_test(test_pvcs_created_first),
	    cmocka_unit_test(test_pvc_being_deleted),
	    cmocka_unit_test(test_retention_owner_refs),
	    cmocka_unit_test(test_reused_claim_owned_on_create),
	    cmocka_unit_test(test_claim_owners_as_upstream),
	    cmocka_unit_test(test_retention_scaled_only),
	    cmocka_unit_test(test_storage_drift),
	    cmocka_unit_test(test_parallel_slow_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
