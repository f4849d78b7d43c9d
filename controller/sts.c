/* sts.c — one sync of one StatefulSet, as upstream apps/v1 performs it
 * (../shared/STATEFULSET.md, Sync steps; upstream pkg/controller/statefulset/
 * stateful_set_control.go: updateStatefulSet, processReplica, processCondemned, runForAll,
 * slowStartBatch, updateStatefulSetAfterInvariantEstablished).
 *
 * Where stsd differs, on purpose:
 * - A missing ordinal with a claim (RELEASING, or HELD by a pod that is not at this ordinal)
 *   gets no pod (its old copy may still run: DESIGN.md, Identity), with a FailedCreate Warning
 *   once per sync; OrderedReady stops there.
 * - Ordinals stop at INT32_MAX (validation refuses ordinals.start + replicas beyond it).
 * - A Failed or Succeeded pod is deleted (with upstream's former RecreatingFailedPod event) and
 *   replaced by a later sync, once it is gone and its claim released (upstream >= 1.31 also
 *   waits for the next sync).
 * - maxUnavailable is honoured whenever spec.updateStrategy.rollingUpdate.maxUnavailable is set
 *   (upstream: behind the MaxUnavailableStatefulSet gate); without it the one-at-a-time rolling
 *   update of the gate-off code runs.
 * - Storage drift creates the missing PVCs but does not rewrite the pod's volumes (pod specs are
 *   immutable); identity drift rewrites labels, hostname and subdomain only.
 * - A Parallel sync visits at most STS_MAX_NEW missing replicas, so that absurd replica counts
 *   cannot make one sync unbounded; the next sync continues.
 * - Two opt-in annotations (sts.h; docs/decisions/010-statefulset-departures.md): a paused
 *   rollout (the rolling update holds as if partition = replicas), and the way out of a broken
 *   revision (upstream #67250: a pod that never became Ready at an outdated revision is replaced
 *   instead of waited for). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "sts_internal.h"

#define STS_MAX_BATCH 500  /* upstream MaxBatchSize */
#define STS_MAX_NEW   5000 /* missing replicas visited per sync */

enum step { STEP_CONTINUE, STEP_BLOCK, STEP_ERROR };

static bool outdated(const struct sts_sync *s, const json_t *pod);
static void count_update_delete(struct sts_sync *s, const json_t *pod);
typedef enum step (*step_fn)(struct sts_sync *s, size_t i);

/* runForAll: OrderedReady stops at the first step that blocks; Parallel runs slow-start batches
 * (1, 2, 4, ... at most 500) and stops after a batch in which a step failed. The executor applies
 * the resulting actions in plan order. Returns true when the sync must stop here. */
static bool run_for_all(struct sts_sync *s, size_t n, step_fn fn)
{
	size_t done = 0, batch = n < 1 ? n : 1;

	if (s->monotonic) {
		for (size_t i = 0; i < n; i++)
			if (fn(s, i) != STEP_CONTINUE || s->error)
				return true;
		return false;
	}
	while (batch > 0) {
		bool failed = false;
		for (size_t k = 0; k < batch; k++)
			failed |= fn(s, done + k) == STEP_ERROR;
		if (failed || s->error)
			return true;
		done += batch;
		batch = 2 * batch < n - done ? 2 * batch : n - done;
		batch = batch < STS_MAX_BATCH ? batch : STS_MAX_BATCH;
	}
	return false;
}

static int cmp_pod(const void *a, const void *b)
{
	int64_t x = ((const struct sts_pod *)a)->ord, y = ((const struct sts_pod *)b)->ord;

	return (x > y) - (x < y);
}

static const json_t *find_pod(const struct sts_sync *s, int64_t ord)
{
	struct sts_pod key = {NULL, ord};
	const struct sts_pod *p = bsearch(&key, s->pods, s->n_pods, sizeof key, cmp_pod);

	return p ? p->obj : NULL;
}

static bool in_range(const struct sts_sync *s, int64_t ord)
{
	return ord >= s->start && ord < s->start + s->replicas;
}

/* ---- Actions --------------------------------------------------------------------------------- */

static void delete_pod(struct sts_sync *s, const json_t *pod)
{
	const char *name = ctl_str(pod, "metadata.name");
	struct ctl_action *a = ctl_plan_add(s->plan, CTL_DELETE, "pods", s->ns, name, NULL);

	if (a == NULL) {
		s->error = true;
		return;
	}
	a->expect_rv = ctl_rv(pod);
	ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal", "SuccessfulDelete",
	               "delete Pod %s in StatefulSet %s successful", name, s->name);
}

static void create_pod(struct sts_sync *s, int64_t ord, const char *name)
{
	const json_t *tmpl;
	const char *rev = sts_revision_for(s, ord, &tmpl);
	json_t *pod = ctl_sts_new_pod(s->in->set, rev, tmpl, (uint32_t)ord);
	struct ctl_action *a;

	if (pod == NULL ||
	    (a = ctl_plan_add(s->plan, CTL_CREATE, "pods", s->ns, name, pod)) == NULL) {
		s->error = true;
		return;
	}
	a->claim = true;
	snprintf(a->claim_set, sizeof a->claim_set, "%s", s->name);
	a->claim_ordinal = (uint32_t)ord;
	ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal", "SuccessfulCreate",
	               "create Pod %s in StatefulSet %s successful", name, s->name);
}

/* The way out of a broken revision (upstream #67250): with CTL_STS_ANNOTATION_REPLACE_UNREADY,
 * a pod the rolling update would replace (RollingUpdate, not paused, at or above the partition,
 * not at the update revision) that is not Ready and has never been Ready is deleted rather than
 * waited for: it serves nothing, so replacing it costs no availability. Without the annotation
 * an OrderedReady update waits for it forever, as upstream does. */
static bool replaceable(const struct sts_sync *s, const json_t *pod, int64_t ord)
{
	return s->replace_unready && !s->on_delete && !s->paused &&
	       ord >= s->start + (s->has_rolling ? s->partition : 0) && outdated(s, pod) &&
	       !sts_running_ready(pod) && sts_never_ready(pod);
}

static void replace_unready(struct sts_sync *s, const json_t *pod)
{
	ctl_plan_event(
	    s->plan, "statefulsets", s->ns, s->name, "Warning", "ReplacingUnreadyPod",
	    "StatefulSet %s/%s is replacing Pod %s, which never became Ready at revision "
	    "%s, with revision %s (%s)",
	    s->ns, s->name, ctl_str(pod, "metadata.name"), sts_revision(pod), s->in->rev->update,
	    CTL_STS_ANNOTATION_REPLACE_UNREADY);
	delete_pod(s, pod);
	count_update_delete(s, pod);
}

/* ---- Replicas -------------------------------------------------------------------------------- */

/* A missing ordinal with any claim at all gets no pod (DESIGN.md, Identity): the pod that holds
 * it is not this ordinal's pod (there is none), and its old copy may still run; the store would
 * refuse the creation anyway. Said once per sync, for the first such ordinal, as a Warning: a
 * silent stall would look like a controller bug. */
static bool claim_blocked(struct sts_sync *s, int64_t ord, const char *name)
{
	const struct ctl_claim *c = NULL;

	for (size_t i = 0; i < s->in->n_claims && c == NULL; i++)
		if ((int64_t)s->in->claims[i].ordinal == ord)
			c = &s->in->claims[i];
	if (c == NULL)
		return false;
	if (!s->claim_event) {
		s->claim_event = true;
		ctl_plan_event(
		    s->plan, "statefulsets", s->ns, s->name, "Warning", "FailedCreate",
		    "create Pod %s in StatefulSet %s failed error: the identity of ordinal %lld is "
		    "still claimed by pod uid %s (%s)",
		    name, s->name, (long long)ord, sts_nz(c->pod_uid),
		    c->state == CTL_CLAIM_RELEASING
		        ? "releasing: waiting for its node to confirm termination or be fenced"
		        : "held by a pod that is not this set's pod at this ordinal");
	}
	return true;
}

static enum step create_replica(struct sts_sync *s, int64_t ord)
{
	const char *deleting;
	char name[512];

	if (++s->missing_seen > STS_MAX_NEW)
		return STEP_ERROR;
	snprintf(name, sizeof name, "%s-%lld", s->name, (long long)ord);
	if (claim_blocked(s, ord, name) || sts_pvc_stale(s, ord, NULL))
		return STEP_BLOCK;
	/* CreateStatefulPod: the PVCs first; one being deleted blocks the pod. */
	sts_create_missing_pvcs(s, ord, name, &deleting);
	if (s->error)
		return STEP_ERROR;
	if (deleting != NULL) {
		ctl_plan_event(
		    s->plan, "statefulsets", s->ns, s->name, "Warning", "FailedCreate",
		    "create Pod %s in StatefulSet %s failed error: pvc %s is being deleted", name,
		    s->name, deleting);
		return STEP_ERROR;
	}
	create_pod(s, ord, name);
	/* CreateStatefulPod then sets the retention ownerRefs of the claims that existed already
	 * (UpdatePodClaimForRetentionPolicy); the new ones were created with them. */
	if (!s->error)
		sts_fix_pvc_owners(s, name, NULL, ord);
	if (s->error)
		return STEP_ERROR;
	return s->monotonic ? STEP_BLOCK : STEP_CONTINUE;
}

/* Bring an existing replica's identity, storage and claim owners in line with the set. */
static enum step enforce_invariants(struct sts_sync *s, const json_t *pod, int64_t ord)
{
	const char *name = ctl_str(pod, "metadata.name"), *deleting;
	json_t *fixed;
	struct ctl_action *a;

	sts_fix_pvc_owners(s, name, ctl_str(pod, "metadata.uid"), ord);
	if (!s->error && !sts_terminating(pod) && !sts_identity_matches(s, pod, ord, &fixed)) {
		a = fixed ? ctl_plan_add(s->plan, CTL_UPDATE, "pods", s->ns, name, fixed) : NULL;
		if (a == NULL) {
			s->error = true;
			return STEP_ERROR;
		}
		a->expect_rv = ctl_rv(pod);
		ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal",
		               "SuccessfulUpdate", "update Pod %s in StatefulSet %s successful",
		               name, s->name);
	}
	/* UpdateStatefulPod creates the claims of a pod whose volumes drifted (a Pending pod's were
	 * just created: not twice in one plan). */
	if (!s->error && strcmp(sts_phase(pod), "Pending") != 0 &&
	    !sts_storage_matches(s, pod, ord))
		sts_create_missing_pvcs(s, ord, name, &deleting);
	return s->error ? STEP_ERROR : STEP_CONTINUE;
}

static enum step existing_replica(struct sts_sync *s, const json_t *pod, int64_t ord)
{
	const char *phase = sts_phase(pod), *name = ctl_str(pod, "metadata.name"), *deleting;

	if (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0) {
		if (!sts_terminating(pod)) {
			ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Warning",
			               "RecreatingFailedPod",
			               "StatefulSet %s/%s is recreating failed Pod %s", s->ns,
			               s->name, name);
			delete_pod(s, pod);
		}
		return s->error ? STEP_ERROR : STEP_BLOCK; /* replaced once it is gone */
	}
	if (strcmp(phase, "Pending") == 0) {
		sts_create_missing_pvcs(s, ord, name, &deleting);
		if (s->error || deleting != NULL)
			return STEP_ERROR;
	}
	/* OrderedReady: every predecessor Running, Ready and available before going on (unless it
	 * is a broken pod the way out replaces: the update continues once its successor is up). */
	if (s->monotonic && (sts_terminating(pod) || !sts_running_ready(pod) ||
	                     !sts_available(pod, s->min_ready, s->in->now))) {
		if (replaceable(s, pod, ord))
			replace_unready(s, pod);
		return s->error ? STEP_ERROR : STEP_BLOCK;
	}
	return enforce_invariants(s, pod, ord);
}

static enum step process_replica(struct sts_sync *s, size_t i)
{
	int64_t ord = s->start + (int64_t)i;
	const json_t *pod = find_pod(s, ord);

	return pod ? existing_replica(s, pod, ord) : create_replica(s, ord);
}

/* ---- Condemned ------------------------------------------------------------------------------- */

static enum step fix_condemned_claims(struct sts_sync *s, size_t i)
{
	const json_t *pod = s->condemned[i].obj;

	sts_fix_pvc_owners(s, ctl_str(pod, "metadata.name"), ctl_str(pod, "metadata.uid"),
	                   s->condemned[i].ord);
	return s->error ? STEP_ERROR : STEP_CONTINUE;
}

/* processCondemned: highest first; OrderedReady deletes one per sync, and only while every other
 * pod is healthy (the first unhealthy pod itself may go). */
static enum step process_condemned(struct sts_sync *s, size_t i)
{
	const json_t *pod = s->condemned[i].obj;

	if (sts_terminating(pod))
		return s->monotonic ? STEP_BLOCK : STEP_CONTINUE;
	if (s->monotonic && pod != s->first_unhealthy &&
	    (!sts_running_ready(pod) || !sts_available(pod, s->min_ready, s->in->now)))
		return STEP_BLOCK;
	delete_pod(s, pod);
	return s->error ? STEP_ERROR : STEP_BLOCK;
}

/* ---- Rolling update -------------------------------------------------------------------------- */

/* An outdated pod the update may delete: not terminating, not Failed/Succeeded (processReplica
 * already deletes those), and not already acted on in this plan (an identity fix planned from the
 * same snapshot: a delete after it could never meet its precondition). */
static bool outdated(const struct sts_sync *s, const json_t *pod)
{
	const char *phase = sts_phase(pod);

	return pod != NULL && strcmp(sts_revision(pod), s->in->rev->update) != 0 &&
	       !sts_terminating(pod) && strcmp(phase, "Failed") != 0 &&
	       strcmp(phase, "Succeeded") != 0 &&
	       !ctl_plan_touches(s->plan, "pods", s->ns, ctl_str(pod, "metadata.name"));
}

/* The status counts after deleting pod for the update: it leaves currentReplicas only if it was
 * at the current revision (upstream decrements unconditionally, and its status validation then
 * refuses the negative count; ours would have written it). */
static void count_update_delete(struct sts_sync *s, const json_t *pod)
{
	if (strcmp(sts_revision(pod), s->in->rev->current) == 0 && s->counts.current > 0)
		s->counts.current--;
}

/* getStatefulSetMaxUnavailable: an int, or a percent of spec.replicas rounded down; at least 1. */
static int64_t max_unavailable(const json_t *v, int64_t replicas)
{
	int64_t n = 1;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		long pct = strtol(json_string_value(v), &end, 10);
		if (end != json_string_value(v) && strcmp(end, "%") == 0 && pct > 0 && pct <= 100)
			n = pct * replicas / 100;
	}
	return n < 1 ? 1 : n;
}

static void rolling_update(struct sts_sync *s)
{
	const json_t *mu = json_object_get(
	    json_object_get(json_object_get(json_object_get(s->in->set, "spec"), "updateStrategy"),
	                    "rollingUpdate"),
	    "maxUnavailable");
	int64_t min = s->has_rolling ? s->partition : 0, unavailable = 0, budget, t;

	if (s->paused)
		return; /* as if partition = replicas */
	if (mu == NULL || json_is_null(mu)) {
		/* Delete the highest outdated pod, or wait for an unhealthy one above the
		 * partition. */
		for (t = s->replicas - 1; t >= min; t--) {
			const json_t *pod = find_pod(s, s->start + t);
			if (pod &&
			    ctl_plan_touches(s->plan, "pods", s->ns, ctl_str(pod, "metadata.name")))
				return; /* acted on this sync (failed, identity): the update waits
				         */
			if (replaceable(s, pod, s->start + t)) {
				replace_unready(s, pod);
				return;
			}
			if (outdated(s, pod)) {
				delete_pod(s, pod);
				count_update_delete(s, pod);
				return;
			}
			if (sts_unavailable(pod, s->min_ready, s->in->now))
				return;
		}
		return;
	}
	/* updateStatefulSetAfterInvariantEstablished: unavailable pods among all replicas use up
	 * the budget; the rest goes to outdated pods, highest first, down to the partition. */
	for (t = 0; t < s->replicas; t++)
		unavailable += sts_unavailable(find_pod(s, s->start + t), s->min_ready, s->in->now);
	/* The way out: broken pods go whatever the budget (they are unavailable already, and
	 * stay counted so: their replacements are not Ready yet either). */
	for (t = s->replicas - 1; t >= min && !s->error; t--) {
		const json_t *pod = find_pod(s, s->start + t);
		if (replaceable(s, pod, s->start + t))
			replace_unready(s, pod);
	}
	budget = max_unavailable(mu, s->replicas) - unavailable;
	for (t = s->replicas - 1; t >= min && budget > 0; t--) {
		const json_t *pod = find_pod(s, s->start + t);
		if (outdated(s, pod)) {
			delete_pod(s, pod);
			count_update_delete(s, pod);
			budget--;
		}
	}
}

/* ---- The sync -------------------------------------------------------------------------------- */

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Whether the set's annotation key is exactly "true" (as kubectl writes booleans). */
static bool annotation_true(const json_t *set, const char *key)
{
	const char *v = json_string_value(
	    json_object_get(json_object_get(json_object_get(set, "metadata"), "annotations"), key));

	return v != NULL && strcmp(v, "true") == 0;
}

static bool read_set(struct sts_sync *s)
{
	const json_t *set = s->in->set;
	const char *policy = ctl_str(set, "spec.podManagementPolicy");
	const char *type = ctl_str(set, "spec.updateStrategy.type");

	s->name = ctl_str(set, "metadata.name");
	if (s->name == NULL || s->in->rev == NULL)
		return false;
	s->ns = sts_nz(ctl_str(set, "metadata.namespace"));
	s->uid = sts_nz(ctl_str(set, "metadata.uid"));
	s->service = ctl_str(set, "spec.serviceName");
	s->replicas = clamp(ctl_int(set, "spec.replicas", 1), 0, INT32_MAX);
	s->start = clamp(ctl_int(set, "spec.ordinals.start", 0), 0, INT32_MAX);
	/* Ordinals past INT32_MAX name pods that sts_ordinal cannot recognise: one would be
	 * created every sync. Validation refuses such a set; an older stored one is cut here. */
	s->replicas =
	    s->replicas < INT32_MAX - s->start + 1 ? s->replicas : INT32_MAX - s->start + 1;
	s->min_ready = clamp(ctl_int(set, "spec.minReadySeconds", 0), 0, INT32_MAX);
	s->monotonic = policy == NULL || strcmp(policy, "Parallel") != 0;
	s->on_delete = type != NULL && strcmp(type, "OnDelete") == 0;
	s->has_rolling =
	    !s->on_delete &&
	    json_is_object(json_object_get(
	        json_object_get(json_object_get(set, "spec"), "updateStrategy"), "rollingUpdate"));
	s->partition =
	    clamp(ctl_int(set, "spec.updateStrategy.rollingUpdate.partition", 0), 0, INT32_MAX);
	s->paused = annotation_true(set, CTL_STS_ANNOTATION_PAUSED);
	s->replace_unready = annotation_true(set, CTL_STS_ANNOTATION_REPLACE_UNREADY);
	return true;
}

/* Step 1: the pods with a valid ordinal (ascending) and the condemned among them (descending). */
static bool split_pods(struct sts_sync *s)
{
	size_t n = s->in->n_pods;

	s->pods = calloc(n ? n : 1, sizeof *s->pods);
	s->condemned = calloc(n ? n : 1, sizeof *s->condemned);
	if (s->pods == NULL || s->condemned == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		int64_t ord = sts_ordinal(s->in->pods[i], s->name);
		if (ord >= 0)
			s->pods[s->n_pods++] = (struct sts_pod){s->in->pods[i], ord};
	}
	qsort(s->pods, s->n_pods, sizeof *s->pods, cmp_pod);
	for (size_t i = s->n_pods; i-- > 0;)
		if (!in_range(s, s->pods[i].ord))
			s->condemned[s->n_condemned++] = s->pods[i];
	return true;
}

/* Step 3: the lowest unhealthy replica (NULL when it is one not created yet), else the lowest
 * unhealthy condemned pod. */
static void find_first_unhealthy(struct sts_sync *s)
{
	int64_t expect = s->start;

	s->first_unhealthy = NULL;
	for (size_t i = 0; i < s->n_pods; i++) {
		if (!in_range(s, s->pods[i].ord))
			continue;
		if (s->pods[i].ord != expect)
			return;
		if (sts_unavailable(s->pods[i].obj, s->min_ready, s->in->now)) {
			s->first_unhealthy = s->pods[i].obj;
			return;
		}
		expect++;
	}
	if (expect < s->start + s->replicas)
		return;
	for (size_t i = s->n_condemned; i-- > 0;) {
		if (sts_unavailable(s->condemned[i].obj, s->min_ready, s->in->now)) {
			s->first_unhealthy = s->condemned[i].obj;
			return;
		}
	}
}

/* Steps 5-10. */
static void plan_pods(struct sts_sync *s)
{
	if (run_for_all(s, (size_t)s->replicas, process_replica))
		return;
	if (run_for_all(s, s->n_condemned, fix_condemned_claims))
		return;
	/* Scaling goes before updates. */
	if (run_for_all(s, s->n_condemned, process_condemned))
		return;
	if (s->on_delete)
		return;
	rolling_update(s);
}

static int sync(const struct ctl_sts_input *in, struct ctl_plan *plan, bool write_status,
                json_t **status)
{
	struct sts_sync s = {.in = in, .plan = plan};
	int rc = STSD_OK;

	*status = NULL;
	if (in == NULL || plan == NULL || !json_is_object(in->set) || !read_set(&s))
		return STSD_INVALID;
	if (!split_pods(&s)) {
		rc = STSD_NOMEM;
		goto out;
	}
	sts_count(&s);
	find_first_unhealthy(&s);
	/* Step 4: a set being deleted only gets its status. */
	if (!sts_terminating(in->set))
		plan_pods(&s);
	*status = sts_status_json(&s);
	if (*status != NULL && write_status && !s.error) {
		sts_plan_status(&s, *status);
		sts_plan_pause_event(&s);
	}
	for (size_t i = 0; i < in->n_pods; i++) {
		int64_t wait = sts_available_in(in->pods[i], s.min_ready, in->now);
		if (wait > 0)
			ctl_plan_requeue(plan, wait);
	}
	if (s.error || *status == NULL || plan->oom)
		rc = STSD_NOMEM;
out:
	if (rc == STSD_NOMEM)
		plan->oom = true; /* never execute a plan an allocation failure cut short */
	free(s.pods);
	free(s.condemned);
	return rc;
}

int ctl_sts_plan(const struct ctl_sts_input *in, struct ctl_plan *plan)
{
	json_t *status;
	int rc = sync(in, plan, true, &status);

	json_decref(status);
	return rc;
}

json_t *ctl_sts_status(const struct ctl_sts_input *in)
{
	struct ctl_plan scratch = {0};
	json_t *status;

	if (sync(in, &scratch, false, &status) != STSD_OK) {
		json_decref(status);
		status = NULL;
	}
	ctl_plan_free(&scratch);
	return status;
}
