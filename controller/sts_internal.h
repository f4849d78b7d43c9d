/* sts_internal.h — what the files of the StatefulSet planner share (sts.c: the sync steps,
 * sts_pod.c: pods, claims and their predicates, sts_status.c: the status). Not a public API. */
#ifndef STSD_CONTROLLER_STS_INTERNAL_H
#define STSD_CONTROLLER_STS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sts.h"

#define STS_LABEL_POD_NAME  "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION  "controller-revision-hash"

/* A pod of the set with a valid ordinal. */
struct sts_pod {
	const json_t *obj;
	int64_t ord;
};

/* The replica counts of a status (StatefulSetStatus, without the revisions). */
struct sts_counts {
	int64_t replicas, ready, available, current, updated;
};

/* One sync in progress: the input, the facts derived from the set, and the plan. */
struct sts_sync {
	const struct ctl_sts_input *in;
	struct ctl_plan *plan;
	const char *ns, *name, *uid, *service;
	int64_t start, replicas, min_ready, partition;
	bool monotonic, on_delete, has_rolling;
	bool paused;          /* CTL_STS_ANNOTATION_PAUSED: the rolling update holds */
	bool replace_unready; /* CTL_STS_ANNOTATION_REPLACE_UNREADY */
	struct sts_pod *pods; /* valid ordinals, ascending */
	size_t n_pods;
	struct sts_pod *condemned; /* ordinals outside the range, descending */
	size_t n_condemned;
	const json_t *first_unhealthy; /* NULL: none, or a replica not created yet */
	size_t missing_seen;           /* missing replicas visited (bounds a Parallel sync) */
	struct sts_counts counts;
	bool claim_event; /* the FailedCreate event of a claimed ordinal is planned already */
	bool error;       /* a step failed (out of memory): stop and report */
};

static inline const char *sts_nz(const char *s)
{
	return s ? s : "";
}

/* ---- sts_pod.c: pods ------------------------------------------------------------------------ */

/* The ordinal of pod if its name is exactly <set>-<canonical decimal int32>, else -1. */
int64_t sts_ordinal(const json_t *pod, const char *set);
const char *sts_phase(const json_t *pod);
bool sts_created(const json_t *pod);
bool sts_terminating(const json_t *pod);
bool sts_running_ready(const json_t *pod);
bool sts_available(const json_t *pod, int64_t min_ready, int64_t now);
/* Upstream isUnavailable: not (Running, Ready, not terminating and available); NULL (a replica
 * not created yet) is unavailable. */
/* Seconds until a Ready pod becomes available (minReadySeconds), 0 when it is already or is not
 * Ready: the sync asks to be run again then (upstream requeues after minReadySeconds). */
int64_t sts_available_in(const json_t *pod, int64_t min_ready, int64_t now);
bool sts_unavailable(const json_t *pod, int64_t min_ready, int64_t now);
const char *sts_revision(const json_t *pod);
/* RFC 3339 UTC ("2026-01-02T03:04:05Z", fraction or offset accepted) to Unix seconds; false if
 * malformed. */
bool sts_parse_time(const char *s, int64_t *out);

/* The revision (and its template) a new pod of ordinal gets (upstream newVersionedStatefulSetPod).
 */
/* The controller ownerReference of a pod of set (new reference). */
json_t *sts_controller_ref(const json_t *set);
const char *sts_revision_for(const struct sts_sync *s, int64_t ord, const json_t **tmpl);

/* Whether pod is not Ready and has never been Ready since it started (the way out of a broken
 * revision): no Ready condition at all, or one that is not True and last changed no later than
 * STS_NEVER_READY_SLACK seconds after the pod started (status.startTime, else
 * metadata.creationTimestamp). A pod that was Ready and lost it has a later transition; when in
 * doubt (times missing or malformed) the pod counts as having been Ready. */
#define STS_NEVER_READY_SLACK 5
bool sts_never_ready(const json_t *pod);

/* ---- sts_pod.c: claims (PVCs) --------------------------------------------------------------- */

/* The PVC named <claim>-<set>-<ordinal> among in->pvcs, or NULL. */
const json_t *sts_find_pvc(const struct sts_sync *s, const char *claim, int64_t ord);
/* Create the missing PVCs of ordinal (with their events); *deleting is the name of one that is
 * being deleted (it blocks the pod), else NULL. */
void sts_create_missing_pvcs(struct sts_sync *s, int64_t ord, const char *pod_name,
                             const char **deleting);
/* Upstream PodClaimIsStale: whenScaled=Delete and a PVC of ordinal is owned by another pod of the
 * same name. */
bool sts_pvc_stale(const struct sts_sync *s, int64_t ord, const char *pod_uid);
/* Update the existing PVCs of the pod pod_name of ordinal whose ownerRefs do not match the
 * retention policy (upstream UpdatePodClaimForRetentionPolicy); pod_uid NULL or "" for a pod
 * this plan creates. Claims the plan already acts on are left for the next sync. */
void sts_fix_pvc_owners(struct sts_sync *s, const char *pod_name, const char *pod_uid, int64_t ord);
/* Whether pod's volumes point at its PVCs (upstream storageMatches). */
bool sts_storage_matches(const struct sts_sync *s, const json_t *pod, int64_t ord);
/* Whether pod carries its identity; if not, *fixed is the pod as it must become (new ref). */
bool sts_identity_matches(const struct sts_sync *s, const json_t *pod, int64_t ord, json_t **fixed);

/* ---- sts_status.c --------------------------------------------------------------------------- */

/* Count the pods of s (upstream computeReplicaStatus). */
void sts_count(struct sts_sync *s);
/* The status to write (rolling update completion applied); new reference or NULL. */
json_t *sts_status_json(const struct sts_sync *s);
/* Append CTL_UPDATE_STATUS when status differs from the set's. */
void sts_plan_status(struct sts_sync *s, const json_t *status);
/* The RolloutPaused / RolloutResumed event when s->paused differs from the stored status (its
 * CTL_STS_CONDITION_PAUSED condition). */
void sts_plan_pause_event(struct sts_sync *s);

#endif
