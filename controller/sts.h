/* sts.h — the StatefulSet planner: one sync of one set (../shared/STATEFULSET.md, Sync steps,
 * Status, Pods and PVCs), as upstream apps/v1 computes it. Pure: no I/O. */
#ifndef STSD_CONTROLLER_STS_H
#define STSD_CONTROLLER_STS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "revision.h"

/* stsd's opt-ins on a StatefulSet (docs/decisions/010-statefulset-departures.md), as annotations
 * whose value is exactly "true":
 * - PAUSED: the rolling update replaces no pod (as if partition = replicas); scaling goes on.
 *   Set and removed by `stsctl rollout pause|resume`; status.conditions holds CONDITION_PAUSED
 *   while it is on, and events RolloutPaused / RolloutResumed mark the changes.
 * - REPLACE_UNREADY: the way out of a broken revision (upstream #67250): the rolling update may
 *   delete a pod that is not at the update revision and has never been Ready, instead of waiting
 *   for it to become Ready. */
#define CTL_STS_ANNOTATION_PAUSED          "stsd.io/rollout-paused"
#define CTL_STS_ANNOTATION_REPLACE_UNREADY "stsd.io/replace-unready-pods"
#define CTL_STS_CONDITION_PAUSED           "stsd.io/RolloutPaused"

/* An ordinal claim of the set, as the store holds it (storage/store.h, claims). */
enum ctl_claim_state { CTL_CLAIM_HELD, CTL_CLAIM_RELEASING };
struct ctl_claim {
	uint32_t ordinal;
	const char *pod_uid;
	enum ctl_claim_state state;
};

struct ctl_sts_input {
	const json_t *set;
	const json_t *const *pods; /* pods the set controls (controller ownerRef = set uid) */
	size_t n_pods;
	const json_t *const *pvcs; /* PVCs of the set's namespace */
	size_t n_pvcs;
	const struct ctl_claim *claims; /* the set's ordinal claims */
	size_t n_claims;
	const struct ctl_revisions *rev; /* from ctl_revisions_plan */
	int64_t now;                     /* Unix seconds: availability (minReadySeconds) */
};

/* One sync: append pod and PVC creations (a pod creation takes its ordinal claim: claim,
 * claim_set, claim_ordinal), deletions, updates (identity/storage drift), the status update
 * (only when it changes) and events (SuccessfulCreate, SuccessfulDelete, RecreatingFailedPod,
 * FailedCreate...) to plan. A missing ordinal that still has any claim (RELEASING, or held by a
 * pod that is not this set's pod at that ordinal) gets no new pod — its old copy may still run
 * (DESIGN.md, Identity) — and a Warning FailedCreate event says so. Returns 0, STSD_INVALID (a
 * set without a name, or no rev) or STSD_NOMEM. The choices where upstream versions differ are
 * listed in sts.c's header comment. Parallel creations come in slow-start order; the executor
 * applies them in batches (1, 2, 4 ...). */
int ctl_sts_plan(const struct ctl_sts_input *in, struct ctl_plan *plan);

/* The pod of ordinal at revision (name <set>-<ordinal>, hostname, subdomain, the three labels,
 * controller ownerRef, one volume per claim template pointing at its PVC). New reference. */
json_t *ctl_sts_new_pod(const json_t *set, const char *revision, const json_t *template,
                        uint32_t ordinal);

/* The status upstream would compute for in (observedGeneration, replicas, readyReplicas,
 * availableReplicas, currentReplicas, updatedReplicas, currentRevision, updateRevision,
 * collisionCount), plus the CTL_STS_CONDITION_PAUSED condition while paused. New reference. */
json_t *ctl_sts_status(const struct ctl_sts_input *in);

#endif
