/* test_gc.c — the garbage collector's planner (controller/gc.h) against upstream's cases
 * (pkg/controller/garbagecollector: background collection, foreground deletion waiting for
 * blockOwnerDeletion dependents, orphaning), idempotence through a tiny executor, bad input and
 * odd JSON. JSON helpers (J, at, S, set_path) come from sts_fixture.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "gc.h"
#include "sts_fixture.h"

#define MAXD 16

struct gfx {
	json_t *owner;
	bool owner_gone;
	struct ctl_gc_dependent deps[MAXD];
	json_t *objs[MAXD];
	bool alive[MAXD][4];
	size_t n;
	struct ctl_plan plan;
};

static struct gfx *gfx_new(const char *finalizers)
{
	struct gfx *f = test_calloc(1, sizeof *f);
	char text[1024];

	snprintf(text, sizeof text,
	         "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{"
	         "\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"set-uid\","
	         "\"resourceVersion\":\"10\"%s%s%s}}",
	         finalizers ? ",\"deletionTimestamp\":\"2027-01-15T08:00:00Z\"" : "",
	         finalizers ? ",\"finalizers\":" : "", finalizers ? finalizers : "");
	f->owner = J(text);
	f->owner_gone = finalizers == NULL;
	return f;
}

static void gfx_free(struct gfx *f)
{
	json_decref(f->owner);
	for (size_t i = 0; i < f->n; i++)
		json_decref(f->objs[i]);
	ctl_plan_free(&f->plan);
	test_free(f);
}

/* A dependent with the given ownerReferences (JSON text), rv 100 + its index. alive: "" for
 * owners_alive NULL, else one 'y'/'n' per reference. */
static json_t *dep(struct gfx *f, const char *resource, const char *name, const char *refs,
                   const char *alive)
{
	char text[2048];

	assert_true(f->n < MAXD);
	snprintf(text, sizeof text,
	         "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"dep-%zu\","
	         "\"resourceVersion\":\"%zu\",\"ownerReferences\":%s},\"spec\":{\"x\":1}}",
	         name, f->n, 100 + f->n, refs);
	f->objs[f->n] = J(text);
	f->deps[f->n].resource = resource;
	f->deps[f->n].obj = f->objs[f->n];
	for (size_t i = 0; i < 4 && alive[i]; i++)
		f->alive[f->n][i] = alive[i] == 'y';
	f->deps[f->n].owners_alive = *alive ? f->alive[f->n] : NULL;
	return f->objs[f->n++];
}

/* The owner's controller reference, blocking or not. */
static const char *set_ref(bool block)
{
	return block ? "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"web\","
	               "\"uid\":\"set-uid\",\"controller\":true,\"blockOwnerDeletion\":true}"
	             : "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"web\","
	               "\"uid\":\"set-uid\"}";
}

static int gplan_rc(struct gfx *f)
{
	struct ctl_gc_input in = {
	    .owner_resource = "statefulsets",
	    .owner = f->owner,
	    .owner_gone = f->owner_gone,
	    .deps = f->deps,
	    .n_deps = f->n,
	};

	ctl_plan_free(&f->plan);
	return ctl_gc_plan(&in, &f->plan);
}

static void gplan(struct gfx *f)
{
	assert_int_equal(gplan_rc(f), STSD_OK);
	assert_false(f->plan.oom);
}

static const struct ctl_action *gact(const struct gfx *f, enum ctl_kind kind, const char *name)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.a[i].kind == kind && strcmp(f->plan.a[i].name, name) == 0)
			return &f->plan.a[i];
	return NULL;
}

static size_t gcount(const struct gfx *f, enum ctl_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < f->plan.n; i++)
		n += f->plan.a[i].kind == kind;
	return n;
}

static bool names(const json_t *obj, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(at(obj, "metadata.ownerReferences"), i, r)
	{
		if (S(r, "uid") && strcmp(S(r, "uid"), uid) == 0)
			return true;
	}
	return false;
}

static void drop_dep(struct gfx *f, size_t i)
{
	json_decref(f->objs[i]);
	for (size_t j = i; j + 1 < f->n; j++) {
		f->objs[j] = f->objs[j + 1];
		f->deps[j] = f->deps[j + 1];
		memcpy(f->alive[j], f->alive[j + 1], sizeof f->alive[j]);
		if (f->deps[j].owners_alive)
			f->deps[j].owners_alive = f->alive[j];
	}
	f->n--;
}

static size_t dep_index(const struct gfx *f, const char *resource, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->deps[i].resource, resource) == 0 &&
		    strcmp(S(f->objs[i], "metadata.name"), name) == 0)
			return i;
	fail_msg("no dependent %s %s", resource, name);
	return 0;
}

/* The executor: preconditions checked, a deleted dependent turns terminating (it goes later,
 * as a bound pod does), a dependent that stops naming the owner leaves deps (the executor looks
 * them up by the owner's uid), a deleted owner is gone. */
static void gapply(struct gfx *f)
{
	for (size_t k = 0; k < f->plan.n; k++) {
		const struct ctl_action *a = &f->plan.a[k];
		size_t i;

		for (size_t j = k + 1; j < f->plan.n; j++)
			if (strcmp(a->resource, f->plan.a[j].resource) == 0 &&
			    strcmp(a->name, f->plan.a[j].name) == 0)
				fail_msg("two actions on %s %s", a->resource, a->name);
		assert_string_equal(a->ns, "default");
		if (strcmp(a->resource, "statefulsets") == 0) {
			assert_int_equal(a->expect_rv, ctl_rv(f->owner));
			assert_true(a->kind == CTL_UPDATE || a->kind == CTL_DELETE);
			if (a->kind == CTL_DELETE) {
				f->owner_gone = true;
			} else {
				json_decref(f->owner);
				f->owner = json_deep_copy(a->obj);
			}
			continue;
		}
		i = dep_index(f, a->resource, a->name);
		assert_int_equal(a->expect_rv, ctl_rv(f->objs[i]));
		if (a->kind == CTL_DELETE) {
			assert_false(a->force);
			set_path(at(f->objs[i], "metadata"), "deletionTimestamp",
			         json_string("2027-01-15T08:00:01Z"));
			continue;
		}
		assert_int_equal(a->kind, CTL_UPDATE);
		json_decref(f->objs[i]);
		f->objs[i] = json_deep_copy(a->obj);
		f->deps[i].obj = f->objs[i];
		if (!names(f->objs[i], "set-uid"))
			drop_dep(f, i);
	}
}

static void gconverges(struct gfx *f)
{
	gplan(f);
	gapply(f);
	gplan(f);
	if (f->plan.n != 0)
		fail_msg("not idempotent: %zu actions, first kind %d on %s", f->plan.n,
		         (int)f->plan.a[0].kind, f->plan.a[0].name);
}

/* ---- Background ------------------------------------------------------------------------------ */

static void test_background(void **state)
{
	struct gfx *f = gfx_new(NULL);
	char refs[1024];
	const struct ctl_action *a;
	const json_t *r;
	(void)state;

	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	dep(f, "pods", "web-0", refs, "");
	snprintf(refs, sizeof refs,
	         "[%s,{\"kind\":\"Pod\",\"name\":\"web-0\",\"uid\":\"pod-uid\"}]", set_ref(false));
	dep(f, "persistentvolumeclaims", "data-web-0", refs, "ny");
	snprintf(refs, sizeof refs,
	         "[{\"kind\":\"X\",\"name\":\"x\",\"uid\":\"x\"},%s,{\"kind\":\"Y\",\"name\":\"y\","
	         "\"uid\":\"y\"}]",
	         set_ref(true));
	dep(f, "persistentvolumeclaims", "data-web-1", refs, "nny");
	snprintf(refs, sizeof refs, "[%s,{\"kind\":\"Z\",\"name\":\"z\",\"uid\":\"z\"}]",
	         set_ref(true));
	dep(f, "controllerrevisions", "web-abc", refs, "");
	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	set_path(at(dep(f, "pods", "web-2", refs, ""), "metadata"), "deletionTimestamp",
	         json_string("2027-01-15T07:00:00Z"));
	dep(f, "pods", "web-3", "[{\"kind\":\"Other\",\"name\":\"o\",\"uid\":\"o\"}]", "y");
	snprintf(refs, sizeof refs, "[%s,{\"kind\":\"W\",\"name\":\"w\",\"uid\":\"w\"}]",
	         set_ref(false));
	dep(f, "persistentvolumeclaims", "data-web-2", refs, "nn");
	gplan(f);

	assert_int_equal(f->plan.n, 5);
	a = gact(f, CTL_DELETE, "web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "pods");
	assert_string_equal(a->ns, "default");
	assert_int_equal(a->expect_rv, 100);
	assert_false(a->force);
	assert_false(a->claim);
	a = gact(f, CTL_UPDATE, "data-web-0");
	assert_non_null(a);
	assert_string_equal(a->resource, "persistentvolumeclaims");
	assert_int_equal(a->expect_rv, 101);
	r = at(a->obj, "metadata.ownerReferences");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(S(r, "0.uid"), "pod-uid");
	assert_int_equal(I(a->obj, "spec.x"), 1); /* the rest of the object as it was */
	assert_string_equal(S(a->obj, "metadata.resourceVersion"), "101");
	/* Dangling references go with the owner's; the live one stays. */
	a = gact(f, CTL_UPDATE, "data-web-1");
	r = at(a->obj, "metadata.ownerReferences");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(S(r, "0.uid"), "y");
	/* owners_alive unknown: the other owner counts as alive. */
	a = gact(f, CTL_UPDATE, "web-abc");
	assert_non_null(a);
	assert_string_equal(a->resource, "controllerrevisions");
	assert_int_equal(json_array_size(at(a->obj, "metadata.ownerReferences")), 1);
	assert_string_equal(S(a->obj, "metadata.ownerReferences.0.uid"), "z");
	a = gact(f, CTL_DELETE, "data-web-2");
	assert_non_null(a);
	assert_int_equal(a->expect_rv, 106);
	assert_null(gact(f, CTL_DELETE, "web-2")); /* already terminating */
	assert_null(gact(f, CTL_DELETE, "web-3")); /* not ours */
	assert_null(gact(f, CTL_UPDATE, "web-3"));
	/* The borrowed input is untouched. */
	assert_int_equal(json_array_size(at(f->objs[1], "metadata.ownerReferences")), 2);
	gconverges(f);
	gfx_free(f);
}

/* Nothing to do is not an error; a gone owner needs no name. */
static void test_background_nothing(void **state)
{
	struct gfx *f = gfx_new(NULL);
	(void)state;

	gplan(f);
	assert_int_equal(f->plan.n, 0);
	json_object_del(at(f->owner, "metadata"), "name");
	gplan(f);
	assert_int_equal(f->plan.n, 0);
	gfx_free(f);
}

/* ---- Foreground ------------------------------------------------------------------------------ */

/* Dependents go first; blocking ones (terminating included) hold the finalizer; then the owner
 * with no other finalizer is deleted. */
static void test_foreground(void **state)
{
	struct gfx *f = gfx_new("[\"foregroundDeletion\"]");
	char refs[1024];
	const struct ctl_action *a;
	(void)state;

	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	dep(f, "pods", "web-0", refs, "");
	snprintf(refs, sizeof refs, "[%s]", set_ref(false));
	dep(f, "controllerrevisions", "web-abc", refs, "y");
	gplan(f);
	assert_int_equal(f->plan.n, 2);
	assert_int_equal(gact(f, CTL_DELETE, "web-0")->expect_rv, 100);
	assert_int_equal(gact(f, CTL_DELETE, "web-abc")->expect_rv, 101);
	assert_int_equal(gcount(f, CTL_UPDATE), 0); /* the finalizer waits for web-0 */
	gapply(f);
	gplan(f);
	assert_int_equal(f->plan.n, 0); /* web-0 terminating: still blocks */

	drop_dep(f, 0); /* web-0 gone */
	gplan(f);
	assert_int_equal(f->plan.n, 1);
	a = gact(f, CTL_DELETE, "web");
	assert_non_null(a);
	assert_string_equal(a->resource, "statefulsets");
	assert_string_equal(a->ns, "default");
	assert_int_equal(a->expect_rv, 10);
	gfx_free(f);
}

/* No blocking dependent: dependents and the finalizer in one plan; another finalizer keeps the
 * owner (CTL_UPDATE without foregroundDeletion). */
static void test_foreground_other_finalizer(void **state)
{
	struct gfx *f = gfx_new("[\"example.com/keep\",\"foregroundDeletion\",\"z/last\"]");
	char refs[1024];
	const struct ctl_action *a;
	const json_t *fins;
	(void)state;

	snprintf(refs, sizeof refs, "[%s]", set_ref(false));
	dep(f, "pods", "web-0", refs, "");
	gplan(f);
	assert_int_equal(f->plan.n, 2);
	assert_non_null(gact(f, CTL_DELETE, "web-0"));
	a = gact(f, CTL_UPDATE, "web");
	assert_non_null(a);
	assert_string_equal(a->resource, "statefulsets");
	assert_int_equal(a->expect_rv, 10);
	fins = at(a->obj, "metadata.finalizers");
	assert_int_equal(json_array_size(fins), 2);
	assert_string_equal(S(fins, "0"), "example.com/keep");
	assert_string_equal(S(fins, "1"), "z/last");
	assert_non_null(at(a->obj, "metadata.deletionTimestamp"));
	gapply(f);
	/* Terminating without either finalizer: not the collector's business. */
	assert_int_equal(gplan_rc(f), STSD_INVALID);
	gfx_free(f);
}

/* A dependent another live owner holds loses the reference instead of being deleted; it blocks
 * until it has left deps. */
static void test_foreground_shared_dependent(void **state)
{
	struct gfx *f = gfx_new("[\"foregroundDeletion\"]");
	char refs[1024];
	const struct ctl_action *a;
	(void)state;

	snprintf(refs, sizeof refs, "[{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"pod-uid\"},%s]",
	         set_ref(true));
	dep(f, "persistentvolumeclaims", "data", refs, "yy");
	gplan(f);
	assert_int_equal(f->plan.n, 1);
	a = gact(f, CTL_UPDATE, "data");
	assert_non_null(a);
	assert_int_equal(json_array_size(at(a->obj, "metadata.ownerReferences")), 1);
	assert_string_equal(S(a->obj, "metadata.ownerReferences.0.uid"), "pod-uid");
	gapply(f);
	assert_int_equal(f->n, 0);
	gplan(f);
	assert_int_equal(f->plan.n, 1);
	assert_non_null(gact(f, CTL_DELETE, "web"));
	gfx_free(f);
}

/* ---- Orphan ---------------------------------------------------------------------------------- */

static void test_orphan(void **state)
{
	struct gfx *f = gfx_new("[\"orphan\"]");
	char refs[1024];
	const struct ctl_action *a;
	(void)state;

	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	dep(f, "pods", "web-0", refs, "");
	snprintf(refs, sizeof refs, "[%s,{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"dead\"}]",
	         set_ref(true));
	dep(f, "persistentvolumeclaims", "data", refs, "nn");
	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	set_path(at(dep(f, "pods", "web-1", refs, ""), "metadata"), "deletionTimestamp",
	         json_string("2027-01-15T07:00:00Z"));
	gplan(f);
	assert_int_equal(f->plan.n, 4);
	assert_int_equal(gcount(f, CTL_DELETE), 1); /* the owner only */
	a = gact(f, CTL_UPDATE, "web-0");
	assert_non_null(a);
	assert_int_equal(a->expect_rv, 100);
	assert_null(at(a->obj, "metadata.ownerReferences")); /* emptied: dropped */
	assert_non_null(at(a->obj, "metadata.uid"));
	/* Only the owner's reference goes, dead or not the others stay. */
	a = gact(f, CTL_UPDATE, "data");
	assert_int_equal(json_array_size(at(a->obj, "metadata.ownerReferences")), 1);
	assert_string_equal(S(a->obj, "metadata.ownerReferences.0.uid"), "dead");
	assert_non_null(gact(f, CTL_UPDATE, "web-1")); /* terminating: orphaned all the same */
	a = gact(f, CTL_DELETE, "web");
	assert_non_null(a);
	assert_string_equal(a->resource, "statefulsets");
	assert_int_equal(a->expect_rv, 10);
	gapply(f);
	assert_int_equal(f->n, 0);
	gfx_free(f);
}

/* Both finalizers (the API refuses it): orphan first, foregroundDeletion kept; the next plan
 * finishes with nothing left to wait for. */
static void test_orphan_and_foreground(void **state)
{
	struct gfx *f = gfx_new("[\"foregroundDeletion\",\"orphan\"]");
	char refs[1024];
	const struct ctl_action *a;
	(void)state;

	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	dep(f, "pods", "web-0", refs, "");
	gplan(f);
	assert_int_equal(f->plan.n, 2);
	assert_non_null(gact(f, CTL_UPDATE, "web-0"));
	a = gact(f, CTL_UPDATE, "web");
	assert_non_null(a);
	assert_int_equal(json_array_size(at(a->obj, "metadata.finalizers")), 1);
	assert_string_equal(S(a->obj, "metadata.finalizers.0"), "foregroundDeletion");
	gapply(f);
	gplan(f);
	assert_int_equal(f->plan.n, 1);
	assert_non_null(gact(f, CTL_DELETE, "web"));
	gfx_free(f);
}

/* ---- Bad input ------------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
	struct gfx *f = gfx_new("[\"orphan\"]");
	struct ctl_gc_input in = {.owner_resource = "statefulsets", .owner = f->owner};
	json_t *o;
	(void)state;

	assert_int_equal(ctl_gc_plan(NULL, &f->plan), STSD_INVALID);
	assert_int_equal(ctl_gc_plan(&in, NULL), STSD_INVALID);
	in.n_deps = 2;
	assert_int_equal(ctl_gc_plan(&in, &f->plan), STSD_INVALID);
	in.n_deps = 0;
	in.owner_resource = NULL;
	assert_int_equal(ctl_gc_plan(&in, &f->plan), STSD_INVALID);
	in.owner = NULL;
	in.owner_gone = true;
	assert_int_equal(ctl_gc_plan(&in, &f->plan), STSD_INVALID);
	static const char *const owners[] = {
	    "[]",
	    "{}",
	    "{\"metadata\":{\"uid\":5}}",
	    "{\"metadata\":{\"uid\":\"\"}}",
	    /* not gone, not terminating */
	    "{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"finalizers\":[\"orphan\"]}}",
	    /* terminating without either finalizer, or with finalizers of odd types */
	    "{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"deletionTimestamp\":\"t\"}}",
	    "{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"deletionTimestamp\":\"t\","
	    "\"finalizers\":\"orphan\"}}",
	    "{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"deletionTimestamp\":\"t\","
	    "\"finalizers\":[1,null,{\"orphan\":1}]}}",
	    "{\"metadata\":{\"name\":\"web\",\"uid\":\"u\",\"deletionTimestamp\":null,"
	    "\"finalizers\":[\"orphan\"]}}",
	    /* no name to act on */
	    "{\"metadata\":{\"uid\":\"u\",\"deletionTimestamp\":\"t\",\"finalizers\":[\"orphan\"]}}",
	};
	for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
		o = J(owners[i]);
		in = (struct ctl_gc_input){.owner_resource = "statefulsets", .owner = o};
		if (ctl_gc_plan(&in, &f->plan) != STSD_INVALID)
			fail_msg("accepted owner %s", owners[i]);
		assert_int_equal(f->plan.n, 0);
		json_decref(o);
	}
	gfx_free(f);
}

/* Odd dependents: skipped, never a crash; a dependent listed twice is acted on once; a garbage
 * reference entry counts as an owner alive when owners_alive is NULL (c), dead when it says so
 * (d). */
static void test_odd_dependents(void **state)
{
	struct gfx *f = gfx_new(NULL);
	char refs[1024];
	(void)state;

	dep(f, "pods", "a", "{\"uid\":\"set-uid\"}", "");
	dep(f, "pods", "b", "[1,\"set-uid\",{\"uid\":5},null]", "");
	dep(f, "pods", "c", "[1,{\"uid\":\"set-uid\"}]", ""); /* garbage entry counts alive */
	dep(f, "pods", "d", "[1,{\"uid\":\"set-uid\"}]", "nn");
	snprintf(refs, sizeof refs, "[%s]", set_ref(true));
	dep(f, "pods", "e", refs, "");
	f->deps[f->n] = f->deps[f->n - 1]; /* listed twice */
	f->objs[f->n] = json_incref(f->objs[f->n - 1]);
	f->n++;
	json_object_del(at(dep(f, "pods", "noname", refs, ""), "metadata"), "name");
	set_path(dep(f, "pods", "badmeta", refs, ""), "metadata", json_integer(3));
	dep(f, "pods", "nores", refs, "");
	f->deps[f->n - 1].resource = NULL;
	f->objs[f->n] = json_string("x");
	f->deps[f->n] = (struct ctl_gc_dependent){.resource = "pods", .obj = f->objs[f->n]};
	f->n++;
	f->objs[f->n] = NULL;
	f->deps[f->n] = (struct ctl_gc_dependent){.resource = "pods", .obj = NULL};
	f->n++;
	gplan(f);
	assert_int_equal(f->plan.n, 3);
	assert_non_null(gact(f, CTL_UPDATE, "c"));
	assert_int_equal(
	    json_array_size(at(gact(f, CTL_UPDATE, "c")->obj, "metadata.ownerReferences")), 1);
	assert_non_null(gact(f, CTL_DELETE, "d"));
	assert_non_null(gact(f, CTL_DELETE, "e"));
	/* a (references not an array), b (no entry an object with our uid), e listed twice, no
	 * name, odd metadata, no resource, not objects: nothing. */
	assert_null(gact(f, CTL_DELETE, "a"));
	assert_null(gact(f, CTL_UPDATE, "b"));
	gfx_free(f);
}

/* ---- Allocation failures --------------------------------------------------------------------- */

/* Owner with finalizers (NULL: gone) and dependents to delete and to update. */
static struct gfx *busy_owner(const char *finalizers)
{
	struct gfx *f = gfx_new(finalizers);
	char refs[1024];

	snprintf(refs, sizeof refs, "[%s]", set_ref(false));
	dep(f, "pods", "web-0", refs, "");
	snprintf(refs, sizeof refs, "[%s,{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"p\"}]",
	         set_ref(false));
	dep(f, "persistentvolumeclaims", "data", refs, "ny");
	return f;
}

static void *busy_make(const void *finalizers)
{
	return busy_owner(finalizers);
}

static int busy_plan(void *fixture, size_t *n)
{
	struct gfx *f = fixture;
	int rc = gplan_rc(f);

	*n = f->plan.n;
	return rc;
}

static void busy_drop(void *fixture)
{
	gfx_free(fixture);
}

/* Every jansson allocation failing in turn, in the three modes: STSD_NOMEM, never a crash or a
 * leak (ASan); the whole plan once the budget suffices. */
static void test_alloc_failures(void **state)
{
	const char *const modes[] = {NULL, "[\"foregroundDeletion\",\"keep\"]",
	                             "[\"orphan\",\"keep\"]"};
	(void)state;

	for (size_t m = 0; m < 3; m++) {
		struct gfx *f = busy_owner(modes[m]);
		size_t want;

		gplan(f);
		want = f->plan.n;
		assert_true(want >= 2);
		gfx_free(f);
		/* the sweep did fail allocations */
		assert_true(fx_alloc_sweep(&(struct fx_sweep){busy_make, busy_plan, busy_drop},
		                           modes[m], want) > 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_background),
	    cmocka_unit_test(test_background_nothing),
	    cmocka_unit_test(test_foreground),
	    cmocka_unit_test(test_foreground_other_finalizer),
	    cmocka_unit_test(test_foreground_shared_dependent),
	    cmocka_unit_test(test_orphan),
	    cmocka_unit_test(test_orphan_and_foreground),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_odd_dependents),
	    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
