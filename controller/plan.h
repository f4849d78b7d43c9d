/* plan.h — what every planner of the controller shares: the actions a plan is made of.
 *
 * The controller is a pure planner plus a thin executor (../shared/DESIGN.md, The controller).
 * A planner takes a snapshot of stored objects (jansson values, borrowed) and the time, and
 * appends actions to a plan; it does no I/O and keeps no state between calls. The executor
 * (a later step) turns each action into a conditional Raft command: expect_rv is the
 * resourceVersion the object must still have (0: it must not exist yet), and a pod creation
 * carries its ordinal claim.
 *
 * Threads: none of its own; plans are plain values. */
#ifndef STSD_CONTROLLER_PLAN_H
#define STSD_CONTROLLER_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_kind {
	CTL_CREATE, /* obj is the whole new object (no resourceVersion, uid, creationTimestamp) */
	CTL_UPDATE, /* obj is the whole object as it must become; expect_rv its current rv */
	CTL_DELETE, /* resource/ns/name; expect_rv the rv seen (0: any) */
	CTL_UPDATE_STATUS, /* obj is the whole object with the new .status; expect_rv as seen */
	CTL_EVENT,         /* a core/v1 Event about resource/ns/name: type, reason, message */
	CTL_RELEASE_CLAIM, /* release the claim (ns, claim_set, claim_ordinal) held by claim_uid,
	                      HELD or RELEASING (a fenced node's: its processes are proven gone) */
};

struct ctl_action {
	enum ctl_kind kind;
	char resource[32]; /* plural, as the store names it: "pods", "controllerrevisions", ... */
	char ns[254];
	char name[254];
	json_t *obj;        /* owned by the plan (CREATE, UPDATE, UPDATE_STATUS), else NULL */
	uint64_t expect_rv; /* see the file comment */
	/* CREATE of a pod of a StatefulSet: the ordinal claim it takes (set name, ordinal). */
	bool claim;
	char claim_set[254];
	uint32_t claim_ordinal;
	char claim_uid[64]; /* RELEASE_CLAIM, and DELETE with force: the holder's pod uid */
	/* DELETE of a pod: remove the object at once, bound or not, and release its claim in the
	 * same command (its node is proven fenced: nothing of it can run). Without force, the
	 * executor deletes a pod as the API does: a bound, unfinished pod is only marked and goes
	 * when its node confirms. */
	bool force;
	/* EVENT */
	char event_type[16]; /* "Normal" or "Warning" */
	char reason[64];     /* "SuccessfulCreate", ... */
	char message[512];
};

struct ctl_plan {
	struct ctl_action *a;
	size_t n, cap;
	bool oom; /* an allocation failed: the plan is incomplete and must not be executed */
	/* > 0: sync again after this many seconds even if nothing changes (a Ready pod becomes
	 * available once minReadySeconds pass: upstream requeues for it too). */
	int64_t requeue_after_s;
};

/* Append an action (its obj is stolen, may be NULL); returns it for the caller to fill in, or
 * NULL on out of memory (oom set, obj released). */
struct ctl_action *ctl_plan_add(struct ctl_plan *p, enum ctl_kind kind, const char *resource,
                                const char *ns, const char *name, json_t *obj);
/* An EVENT action about resource ns/name. */
void ctl_plan_event(struct ctl_plan *p, const char *resource, const char *ns, const char *name,
                    const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Whether the plan already has an action on resource ns/name (a second one, planned from the
 * same snapshot, would carry a precondition the first makes false). */
bool ctl_plan_touches(const struct ctl_plan *p, const char *resource, const char *ns,
                      const char *name);
/* Ask for another sync after seconds (the earliest request wins). */
void ctl_plan_requeue(struct ctl_plan *p, int64_t seconds);
/* Release every action and empty the plan. */
void ctl_plan_free(struct ctl_plan *p);

/* Small JSON helpers every planner uses. */
/* The string at a dotted path ("metadata.labels" is not a string; "spec.nodeName" is), or NULL. */
const char *ctl_str(const json_t *obj, const char *path);
/* The value at a dotted path (any type), or NULL. */
const json_t *ctl_obj(const json_t *obj, const char *path);
/* The integer at a dotted path, or def when absent or not an integer. */
int64_t ctl_int(const json_t *obj, const char *path, int64_t def);
/* metadata.resourceVersion as a number (0 when absent). */
uint64_t ctl_rv(const json_t *obj);

#endif
