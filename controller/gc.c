/* gc.c — the garbage collector's planner (gc.h): dependents of a gone owner, foreground and
 * orphan deletion of a terminating one.
 *
 * Upstream read (through the search tool and the docs, not copied):
 * pkg/controller/garbagecollector/garbagecollector.go (attemptToDeleteItem: a dependent's
 * references split into solid (owner exists), dangling (owner gone) and waiting (owner being
 * deleted in foreground); with a solid owner left the others are removed by a patch, else the
 * dependent is deleted; processDeletingDependentsItem: the foregroundDeletion finalizer goes once
 * no dependent with blockOwnerDeletion is left; orphanDependents then removeFinalizer) and
 * Kubernetes docs "Garbage Collection" / "Use Cascading Deletion".
 *
 * Decisions where gc.h leaves room:
 * - STSD_INVALID also when the input is NULL, an owner that is not gone has no name or
 *   owner_resource, or its metadata.finalizers hold neither finalizer. An owner that is neither
 *   gone nor terminating with one of the two finalizers is STSD_INVALID (the header's list);
 *   "nothing to do" (say, no dependents) is 0 with an empty plan.
 * - Both finalizers (the API refuses that combination): orphan first, the safer one; it leaves
 *   foregroundDeletion in place (CTL_UPDATE) and the next plan finishes the deletion.
 * - Another owner "still alive" is an entry whose owners_alive is true and whose uid is not the
 *   owner's. With owners_alive NULL, other owners count as alive (unknown: never delete what a
 *   live owner may hold; the last owner's own collection deletes it). When a dependent is kept,
 *   its reference to the owner and every reference known dead are removed, as upstream removes
 *   dangling and waiting references together.
 * - Foreground applies the same rule (upstream does): a dependent with another live owner loses
 *   the reference instead of being deleted. Every dependent in deps whose reference to the owner
 *   has blockOwnerDeletion true blocks the finalizer in this plan, whatever this plan does to it:
 *   the finalizer goes in a later plan, once deps holds none of them.
 * - Orphan removes only the references to the owner, from every dependent, terminating or not
 *   (a terminating one with finalizers of its own may outlive the owner). */
#include "gc.h"

#include <string.h>

#include "errors.h"

#define FIN_FOREGROUND "foregroundDeletion"
#define FIN_ORPHAN     "orphan"

enum gc_mode { GC_BACKGROUND, GC_FOREGROUND, GC_ORPHAN };

struct gc_sync {
	const struct ctl_gc_input *in;
	struct ctl_plan *plan;
	const char *uid;
	bool error;
};

static const json_t *refs_of(const json_t *obj)
{
	return json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
}

static bool ref_is(const json_t *ref, const char *uid)
{
	const char *u = ctl_str(ref, "uid");

	return u != NULL && strcmp(u, uid) == 0;
}

static bool names_owner(const json_t *obj, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(refs_of(obj), i, r)
	{
		if (ref_is(r, uid))
			return true;
	}
	return false;
}

/* Whether obj's reference to uid asks the owner to wait for it. */
static bool blocks(const json_t *obj, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(refs_of(obj), i, r)
	{
		if (ref_is(r, uid) && json_is_true(json_object_get(r, "blockOwnerDeletion")))
			return true;
	}
	return false;
}

static bool terminating(const json_t *obj)
{
	const json_t *ts = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");

	return ts != NULL && !json_is_null(ts);
}

/* Entry i of a dependent's references names an owner that is gone. */
static bool ref_dead(const struct ctl_gc_dependent *d, size_t i, const json_t *ref, const char *uid)
{
	if (ref_is(ref, uid))
		return true;
	return d->owners_alive != NULL && !d->owners_alive[i];
}

static bool other_owner_alive(const struct ctl_gc_dependent *d, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(refs_of(d->obj), i, r)
	{
		if (!ref_dead(d, i, r, uid))
			return true;
	}
	return false;
}

/* A deep copy of d's object without the references to uid (and, if dead_too, without those
 * known dead); ownerReferences dropped when it ends up empty. NULL on out of memory. */
static json_t *without_refs(const struct ctl_gc_dependent *d, const char *uid, bool dead_too)
{
	json_t *copy = json_deep_copy(d->obj), *meta = json_object_get(copy, "metadata");
	json_t *refs = json_array(), *r;
	size_t i;
	int rc = copy == NULL || refs == NULL || !json_is_object(meta);

	json_array_foreach(refs_of(d->obj), i, r)
	{
		if (ref_is(r, uid) || (dead_too && ref_dead(d, i, r, uid)))
			continue;
		rc |= json_array_append_new(refs, json_deep_copy(r));
	}
	if (rc == 0 && json_array_size(refs) == 0)
		json_object_del(meta, "ownerReferences");
	else if (rc == 0)
		rc = json_object_set(meta, "ownerReferences", refs);
	json_decref(refs);
	if (rc != 0) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

static void add(struct gc_sync *s, enum ctl_kind kind, const char *resource, const json_t *obj,
                json_t *copy)
{
	struct ctl_action *a =
	    ctl_plan_add(s->plan, kind, resource, ctl_str(obj, "metadata.namespace"),
	                 ctl_str(obj, "metadata.name"), copy);

	if (a == NULL) {
		s->error = true;
		return;
	}
	a->expect_rv = ctl_rv(obj);
}

static void update_without(struct gc_sync *s, const struct ctl_gc_dependent *d, bool dead_too)
{
	json_t *copy = without_refs(d, s->uid, dead_too);

	if (copy == NULL) {
		s->error = true;
		return;
	}
	add(s, CTL_UPDATE, d->resource, d->obj, copy);
}

/* A dependent the planner may act on: an object with a name, naming the owner, not yet acted
 * on in this plan (deps listed twice). */
static bool actionable(const struct gc_sync *s, const struct ctl_gc_dependent *d)
{
	const char *name = ctl_str(d->obj, "metadata.name");

	return d->resource != NULL && json_is_object(d->obj) && name != NULL && *name != '\0' &&
	       names_owner(d->obj, s->uid) &&
	       !ctl_plan_touches(s->plan, d->resource, ctl_str(d->obj, "metadata.namespace"), name);
}

/* Background, and foreground's dependents: delete, or only drop the reference when another
 * owner still holds the dependent. */
static void collect(struct gc_sync *s, const struct ctl_gc_dependent *d)
{
	if (terminating(d->obj))
		return;
	if (other_owner_alive(d, s->uid))
		update_without(s, d, true);
	else
		add(s, CTL_DELETE, d->resource, d->obj, NULL);
}

static bool has_finalizer(const json_t *obj, const char *fin)
{
	const json_t *f;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f)
	{
		if (json_is_string(f) && strcmp(json_string_value(f), fin) == 0)
			return true;
	}
	return false;
}

/* The owner without fin: CTL_DELETE when no finalizer is left, else CTL_UPDATE. */
static void remove_finalizer(struct gc_sync *s, const char *fin)
{
	const json_t *owner = s->in->owner, *f;
	json_t *copy, *fins = json_array();
	size_t i;
	int rc = fins == NULL;

	if (ctl_plan_touches(s->plan, s->in->owner_resource, ctl_str(owner, "metadata.namespace"),
	                     ctl_str(owner, "metadata.name"))) {
		json_decref(fins);
		return; /* a dependent that is its own owner: the next plan */
	}
	json_array_foreach(json_object_get(json_object_get(owner, "metadata"), "finalizers"), i, f)
	{
		if (!(json_is_string(f) && strcmp(json_string_value(f), fin) == 0))
			rc |= json_array_append_new(fins, json_deep_copy(f));
	}
	if (rc == 0 && json_array_size(fins) == 0) {
		json_decref(fins);
		add(s, CTL_DELETE, s->in->owner_resource, owner, NULL);
		return;
	}
	copy = rc == 0 ? json_deep_copy(owner) : NULL;
	if (copy == NULL ||
	    json_object_set(json_object_get(copy, "metadata"), "finalizers", fins) != 0) {
		json_decref(copy);
		json_decref(fins);
		s->error = true;
		return;
	}
	json_decref(fins);
	add(s, CTL_UPDATE, s->in->owner_resource, owner, copy);
}

static int mode_of(const struct ctl_gc_input *in, enum gc_mode *mode)
{
	const char *name = ctl_str(in->owner, "metadata.name");

	if (in->owner_gone) {
		*mode = GC_BACKGROUND;
		return 0;
	}
	if (!terminating(in->owner) || in->owner_resource == NULL || name == NULL || *name == '\0')
		return STSD_INVALID;
	if (has_finalizer(in->owner, FIN_ORPHAN))
		*mode = GC_ORPHAN;
	else if (has_finalizer(in->owner, FIN_FOREGROUND))
		*mode = GC_FOREGROUND;
	else
		return STSD_INVALID;
	return 0;
}

int ctl_gc_plan(const struct ctl_gc_input *in, struct ctl_plan *plan)
{
	struct gc_sync s = {.in = in, .plan = plan};
	enum gc_mode mode;
	bool blocked = false;

	if (in == NULL || plan == NULL || !json_is_object(in->owner) ||
	    (in->n_deps > 0 && in->deps == NULL))
		return STSD_INVALID;
	s.uid = ctl_str(in->owner, "metadata.uid");
	if (s.uid == NULL || *s.uid == '\0' || mode_of(in, &mode) != 0)
		return STSD_INVALID;
	for (size_t i = 0; i < in->n_deps && !s.error; i++) {
		const struct ctl_gc_dependent *d = &in->deps[i];

		if (mode == GC_FOREGROUND && json_is_object(d->obj) && blocks(d->obj, s.uid))
			blocked = true;
		if (!actionable(&s, d))
			continue;
		if (mode == GC_ORPHAN)
			update_without(&s, d, false);
		else
			collect(&s, d);
	}
	if (!s.error && mode == GC_ORPHAN)
		remove_finalizer(&s, FIN_ORPHAN);
	else if (!s.error && mode == GC_FOREGROUND && !blocked)
		remove_finalizer(&s, FIN_FOREGROUND);
	return s.error || plan->oom ? STSD_NOMEM : 0;
}
