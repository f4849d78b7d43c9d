/* revision.h — StatefulSet revision history: ControllerRevisions named by a stable hash of the
 * pod template, collisions, rollback renumbering and truncation (../shared/STATEFULSET.md,
 * Revisions). Pure: no I/O. */
#ifndef STSD_CONTROLLER_REVISION_H
#define STSD_CONTROLLER_REVISION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* What the StatefulSet planner needs to know about revisions after ctl_revisions_plan. */
struct ctl_revisions {
	char current[254];        /* status.currentRevision, or the update revision */
	char update[254];         /* the revision new pods get */
	json_t *current_template; /* spec.template of the current revision (owned, a copy) */
	json_t *update_template;  /* spec.template of the update revision (owned, a copy) */
	int64_t collision_count;  /* status.collisionCount to write */
	int64_t update_number; /* .revision of the update revision (for status/rollout history) */
};

/* The data a revision of set stores and hashes: {"spec":{"template":{...,"$patch":"replace"}}}
 * (new reference). */
json_t *ctl_revision_data(const json_t *set);

/* The revision hash of data with collision_count: safe-encoded decimal FNV-1 32-bit over the
 * canonical (sorted keys, compact) serialization of data, with collision_count mixed in as
 * upstream does (controller/history). out holds at most 15 characters + NUL. Byte-stable across
 * stsd versions: golden values are pinned by tests/controller/test_revision.c. */
void ctl_revision_hash(const json_t *data, int64_t collision_count, char out[16]);

/* Plan the revisions of set given its existing ControllerRevisions (revs: those whose controller
 * owner is the set) and pods (for revisions still referenced by controller-revision-hash):
 * create the update revision if no revision holds the same data (CREATE, with the set as
 * controller owner and labels = template labels + controller.kubernetes.io/hash); renumber an
 * older equal revision to max+1 on rollback (UPDATE); bump the collision count when a revision of
 * the computed name holds different data; delete the oldest revisions beyond
 * spec.revisionHistoryLimit (default 10) that are neither current, update nor referenced by a pod
 * (DELETE). Fills *out (release with ctl_revisions_free). Returns 0, STSD_INVALID (a set without
 * name, uid or an object template; nothing planned) or STSD_NOMEM. New revisions copy the set's
 * annotations, as upstream's newRevision does (kubectl rollout history reads change-cause). */
int ctl_revisions_plan(const json_t *set, const json_t *const *revs, size_t n_revs,
                       const json_t *const *pods, size_t n_pods, struct ctl_plan *plan,
                       struct ctl_revisions *out);
void ctl_revisions_free(struct ctl_revisions *r);

#endif
