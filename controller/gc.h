/* gc.h — the garbage collector's planner for objects owned through ownerReferences
 * (upstream pkg/controller/garbagecollector; Kubernetes docs "Garbage Collection").
 *
 * Pure (plan.h). The executor finds an owner's dependents (stsd's controllers own: pods,
 * PersistentVolumeClaims and ControllerRevisions by their StatefulSet, PVCs by their pod when
 * whenScaled is Delete) and asks what to do with them:
 * - Background (the owner is gone): every dependent whose ownerReferences name the owner's uid is
 *   deleted (CTL_DELETE, expect_rv as seen) when that was its only owner still alive, else the
 *   reference is removed (CTL_UPDATE).
 * - Foreground (the owner is terminating: deletionTimestamp and the finalizer
 *   "foregroundDeletion"): its dependents are deleted; once none is left with
 *   blockOwnerDeletion true (dependents already terminating still count), the finalizer is removed
 *   (CTL_UPDATE of the owner, or CTL_DELETE of it when that was its last finalizer: a terminating
 *   object without finalizers is gone).
 * - Orphan (terminating with the finalizer "orphan"): the reference to the owner is removed from
 *   every dependent (CTL_UPDATE), then the finalizer as above, in the same plan.
 * A dependent already terminating is not deleted again. An owner with both finalizers (which the
 * API refuses) is orphaned first; foregroundDeletion stays for the next plan. */
#ifndef STSD_CONTROLLER_GC_H
#define STSD_CONTROLLER_GC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

struct ctl_gc_dependent {
	const char *resource; /* plural: "pods", "persistentvolumeclaims", ... */
	const json_t *obj;
	/* Per entry of obj's metadata.ownerReferences, in order: whether that owner still exists
	 * (the executor looked it up by uid). NULL: only the owner below is known, and gone. */
	const bool *owners_alive;
};

struct ctl_gc_input {
	const char *owner_resource; /* "statefulsets", "pods" */
	const json_t *owner;        /* its last state (from the change log) or its current one */
	bool owner_gone;            /* deleted: background collection */
	const struct ctl_gc_dependent *deps; /* objects whose ownerReferences name owner's uid */
	size_t n_deps;
};

/* Plan the collection (see the file comment). Returns 0, STSD_INVALID (owner without uid, or
 * neither gone nor terminating with one of the two finalizers: nothing to do is 0 with an empty
 * plan, not an error) or STSD_NOMEM. */
int ctl_gc_plan(const struct ctl_gc_input *in, struct ctl_plan *plan);

#endif
