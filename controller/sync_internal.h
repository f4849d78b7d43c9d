/* sync_internal.h — what the StatefulSet sync (sync_sts.c) shares with placement
 * (sync_place.c) and collection (sync_gc.c). Worker threads only. */
#ifndef STSD_CONTROLLER_SYNC_INTERNAL_H
#define STSD_CONTROLLER_SYNC_INTERNAL_H

#include <jansson.h>

#include "exec_internal.h"
#include "sts.h"

/* One StatefulSet's snapshot, read from one store view. */
struct snap {
	char ns[254], name[254];
	json_t *set;        /* NULL when gone */
	bool terminating;   /* deletionTimestamp set */
	json_t *pods;       /* pods it controls (after ClaimPods) */
	json_t *candidates; /* every pod named <set>-... */
	json_t *revs;       /* its ControllerRevisions */
	json_t *pvcs;       /* its templates' PVCs */
	json_t *claims;     /* [{ordinal, uid, node, releasing}] */
	struct ctl_claim *claim_v;
	size_t n_claim_v;
	json_t *binds;       /* pods of the set placed by sync_place: the pod as bound */
	json_t *orphan_revs; /* ControllerRevisions named <set>-... without a controller */
};

int snap_init(struct snap *sn, const char *ns, const char *name);
void snap_free(struct snap *sn);
/* Objects of resource in ns whose names start with prefix, parsed, appended to into. */
int snap_list_prefix(struct store_reader *rd, const char *resource, const char *ns,
                     const char *prefix, json_t *into);
/* The set's claims into sn->claims. */
int snap_read_claims(struct store_reader *rd, struct snap *sn);
/* One object, parsed (NULL when absent or malformed). */
json_t *snap_get(struct store_reader *rd, const char *resource, const char *ns, const char *name);

/* ClaimPods' two writes (sync_gc.c): take an orphan (controller ownerReference to the set), let go
 * of a pod whose labels no longer match (the reference removed). sync_adopt takes an object of
 * any resource (pods, ControllerRevisions); claim_ordinal, when not NULL, makes the adoption take
 * the pod's claim (CLAIM_ACQUIRE in the same command: a pod of the set always holds one). */
void sync_adopt(struct ctl_plan *plan, const struct snap *sn, const char *resource,
                const json_t *obj, const uint32_t *claim_ordinal);
void sync_release_pod(struct ctl_plan *plan, const struct snap *sn, const json_t *pod);
/* A terminating set: foreground deletion or orphaning of its dependents (gc.h). */
int sync_gc_owner(const struct ctl_shared *sh, struct snap *sn, struct ctl_plan *plan);

/* Place the pods plan creates and the set's pods still unbound: choose nodes, bind their
 * volumes, or say why not (FailedScheduling) and ask for a retry (sync_place.c). */
int sync_place(const struct ctl_shared *sh, struct snap *sn, struct ctl_plan *plan, int64_t now);
/* The plan into w's commands (cmd_from_plan with the snapshot's lookups), plus the bindings
 * sync_place recorded. */
int sync_commands(struct snap *sn, struct ctl_plan *plan, struct work *w, int64_t now);

/* Pod CIDRs (sync_cidr.c): a node without one gets the lowest free subnet, with an allocation
 * object that makes it unique; a node that is gone frees its allocations. */
void sync_plan_cidr(const struct ctl_shared *sh, struct store_reader *rd, const json_t *node,
                    struct ctl_plan *plan);
void sync_release_cidrs(struct store_reader *rd, const char *node, struct ctl_plan *plan);

#endif
