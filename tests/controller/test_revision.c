/* test_revision.c — StatefulSet revision history: golden hashes, create/reuse/rollback, collisions,
 * truncation and bad input (controller/revision.h). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "revision.h"

#define TPL_V(img)                                                                                                  \
	"{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"" img \
	"\"}]}}"

/* A stored StatefulSet "default/web" with template image img and optional status/spec extras. */
static json_t *mkset(const char *img, const char *current, int64_t limit)
{
	char tpl[512];
	json_t *set, *t;

	snprintf(tpl, sizeof tpl, TPL_V("%s"), img);
	t = json_loads(tpl, 0, NULL);
	assert_non_null(t);
	set = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:i, s:o}, s:{}}", "apiVersion",
	                "apps/v1", "kind", "StatefulSet", "metadata", "name", "web", "namespace",
	                "default", "uid", "uid-web", "annotations", "kubernetes.io/change-cause",
	                "test", "spec", "replicas", 3, "template", t, "status");
	assert_non_null(set);
	if (current != NULL)
		json_object_set_new(json_object_get(set, "status"), "currentRevision",
		                    json_string(current));
	if (limit != INT64_MIN)
		json_object_set_new(json_object_get(set, "spec"), "revisionHistoryLimit",
		                    json_integer(limit));
	return set;
}

static json_t *mktpl(const char *img)
{
	char tpl[512];
	json_t *t;

	snprintf(tpl, sizeof tpl, TPL_V("%s"), img);
	t = json_loads(tpl, 0, NULL);
	assert_non_null(t);
	return t;
}

/* What the store would hold after a CREATE of obj: rv, uid, creationTimestamp. */
static json_t *stored(const json_t *obj, uint64_t rv)
{
	json_t *o = json_deep_copy(obj);
	json_t *meta = json_object_get(o, "metadata");
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRIu64, rv);
	json_object_set_new(meta, "resourceVersion", json_string(buf));
	json_object_set_new(meta, "creationTimestamp", json_string("2026-11-27T10:00:00Z"));
	return o;
}

/* A stored revision of set "web" for template image img, numbered number. */
static json_t *mkrev(const char *img, int64_t number, uint64_t rv)
{
	json_t *set = mkset(img, NULL, INT64_MIN);
	struct ctl_plan plan = {0};
	struct ctl_revisions r;
	json_t *rev;

	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 1);
	rev = stored(plan.a[0].obj, rv);
	json_object_set_new(rev, "revision", json_integer(number));
	ctl_plan_free(&plan);
	ctl_revisions_free(&r);
	json_decref(set);
	return rev;
}

static const char *name_of(const json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
}

static void free_all(json_t **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
}

/* ---- hashing ---- */

/* The canonical bytes and the hashes are pinned forever: if this test fails, revision names of
 * every existing StatefulSet would change and every set would roll (kubernetes #134773). The
 * expected hashes were computed independently (Python: FNV-1 32 over these bytes + the decimal
 * collision count, then SafeEncodeString of the decimal) and agree with stsd. */
struct golden {
	const char *tpl;   /* the pod template, as JSON text */
	const char *bytes; /* the canonical serialization of its revision data */
	const char *hash0; /* hash with collision count 0 */
	const char *hash1; /* hash with collision count 1 */
};

static const struct golden goldens[] = {
    {"{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\","
     "\"image\":\"nginx:1.25\"}]}}",
     "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{\"labels\":{\"app\":\"web\"}},"
     "\"spec\":{\"containers\":[{\"image\":\"nginx:1.25\",\"name\":\"web\"}]}}}}",
     "57766f7c78", "57766f7c79"},
    {"{}", "{\"spec\":{\"template\":{\"$patch\":\"replace\"}}}", "589f85db5b", "589f85db5c"},
    /* Unicode, escapes, a slash, a control character, a real, an integer, bool and null. */
    {"{\"metadata\":{\"labels\":{\"z\":\"caf\xc3\xa9\",\"a\":\"x/y\"},\"annotations\":{\"n\":"
     "\"l1\\nl2\\t\\\"q\\\"\\\\\\u0001\"}},\"spec\":{\"terminationGracePeriodSeconds\":30,"
     "\"x\":0.5,\"y\":1.0,\"hostNetwork\":false,\"nodeName\":null}}",
     "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{\"annotations\":{\"n\":"
     "\"l1\\nl2\\t\\\"q\\\"\\\\\\u0001\"},\"labels\":{\"a\":\"x/y\",\"z\":\"caf\xc3\xa9\"}},"
     "\"spec\":{\"hostNetwork\":false,\"nodeName\":null,\"terminationGracePeriodSeconds\":30,"
     "\"x\":0.5,\"y\":1.0}}}}",
     "578bf9bf9f", "578bf9bf9d"},
};

static void hash_golden(void **state)
{
	char h[16];

	(void)state;
	for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		const struct golden *g = &goldens[i];
		json_t *t = json_loads(g->tpl, 0, NULL);
		json_t *set = json_pack("{s:{s:o}}", "spec", "template", t);
		json_t *data = ctl_revision_data(set);
		char *bytes;

		assert_non_null(data);
		bytes = json_dumps(data, JSON_SORT_KEYS | JSON_COMPACT);
		assert_string_equal(bytes, g->bytes);
		free(bytes);
		ctl_revision_hash(data, 0, h);
		assert_string_equal(h, g->hash0);
		ctl_revision_hash(data, 1, h);
		assert_string_equal(h, g->hash1);
		json_decref(data);
		json_decref(set);
	}
	/* No data: FNV-1 over "0" alone. */
	ctl_revision_hash(NULL, 0, h);
	assert_string_equal(h, "d8bfb7bc");
}

static void hash_ignores_key_order(void **state)
{
	json_t *a = json_loads(
	    "{\"spec\":{\"template\":{\"b\":1,\"a\":{\"y\":[1,2],\"x\":\"s\"}}}}", 0, NULL);
	json_t *b = json_loads(
	    "{\"spec\":{\"template\":{\"a\":{\"x\":\"s\",\"y\":[1,2]},\"b\":1}}}", 0, NULL);
	json_t *c = json_loads(
	    "{\"spec\":{\"template\":{\"a\":{\"x\":\"s\",\"y\":[2,1]},\"b\":1}}}", 0, NULL);
	char ha[16], hb[16], hc[16], hb1[16];

	(void)state;
	ctl_revision_hash(a, 0, ha);
	ctl_revision_hash(b, 0, hb);
	ctl_revision_hash(c, 0, hc);
	ctl_revision_hash(b, 1, hb1);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc); /* array order is data */
	assert_string_not_equal(hb, hb1);
	for (const char *p = ha; *p; p++)
		assert_non_null(strchr("bcdfghjklmnpqrstvwxz2456789", *p));
	assert_true(strlen(ha) >= 1 && strlen(ha) <= 10);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ---- planning ---- */

static void new_set_creates_revision_1(void **state)
{
	json_t *set = mkset("nginx:1.25", NULL, INT64_MIN);
	json_t *data = ctl_revision_data(set);
	json_t *tpl = mktpl("nginx:1.25");
	struct ctl_plan plan = {0};
	struct ctl_revisions r;
	const json_t *obj, *ref;
	char hash[16], name[64];

	(void)state;
	ctl_revision_hash(data, 0, hash);
	snprintf(name, sizeof name, "web-%s", hash);
	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_CREATE);
	assert_string_equal(plan.a[0].resource, "controllerrevisions");
	assert_string_equal(plan.a[0].ns, "default");
	assert_string_equal(plan.a[0].name, name);
	obj = plan.a[0].obj;
	assert_string_equal(ctl_str(obj, "apiVersion"), "apps/v1");
	assert_string_equal(ctl_str(obj, "kind"), "ControllerRevision");
	assert_string_equal(ctl_str(obj, "metadata.name"), name);
	assert_string_equal(ctl_str(obj, "metadata.namespace"), "default");
	assert_string_equal(ctl_str(obj, "metadata.labels.app"), "web");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_object_get(obj, "metadata"), "labels"),
	                        "controller.kubernetes.io/hash")),
	                    hash);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_object_get(obj, "metadata"), "annotations"),
	                        "kubernetes.io/change-cause")),
	                    "test");
	ref =
	    json_array_get(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), 0);
	assert_string_equal(ctl_str(ref, "apiVersion"), "apps/v1");
	assert_string_equal(ctl_str(ref, "kind"), "StatefulSet");
	assert_string_equal(ctl_str(ref, "name"), "web");
	assert_string_equal(ctl_str(ref, "uid"), "uid-web");
	assert_true(json_is_true(json_object_get(ref, "controller")));
	assert_true(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
	assert_int_equal(ctl_int(obj, "revision", 0), 1);
	assert_true(json_equal(json_object_get(obj, "data"), data));
	assert_string_equal(r.update, name);
	assert_string_equal(r.current, name);
	assert_int_equal(r.update_number, 1);
	assert_int_equal(r.collision_count, 0);
	assert_true(json_equal(r.update_template, tpl));
	assert_true(json_equal(r.current_template, tpl));
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(tpl);
	json_decref(data);
	json_decref(set);
}

static void same_template_plans_nothing(void **state)
{
	json_t *rev = mkrev("nginx:1.25", 1, 5);
	json_t *set = mkset("nginx:1.25", name_of(rev), INT64_MIN);
	const json_t *revs[1] = {rev};
	struct ctl_plan plan = {0};
	struct ctl_revisions r;

	(void)state;
	/* A stored revision comes back with its keys in another order: still equal. */
	json_object_set_new(
	    rev, "data",
	    json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":"
	               "\"nginx:1.25\",\"name\":\"web\"}]},\"metadata\":{\"labels\":{"
	               "\"app\":\"web\"}},\"$patch\":\"replace\"}}}",
	               0, NULL));
	assert_int_equal(ctl_revisions_plan(set, revs, 1, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 0);
	assert_string_equal(r.update, name_of(rev));
	assert_string_equal(r.current, name_of(rev));
	assert_int_equal(r.update_number, 1);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(set);
	json_decref(rev);
}

static void template_change_creates_revision_2(void **state)
{
	json_t *r1 = mkrev("nginx:1.25", 1, 5);
	json_t *set = mkset("nginx:1.26", name_of(r1), INT64_MIN);
	json_t *t1 = mktpl("nginx:1.25"), *t2 = mktpl("nginx:1.26");
	const json_t *revs[1] = {r1};
	struct ctl_plan plan = {0};
	struct ctl_revisions r;

	(void)state;
	assert_int_equal(ctl_revisions_plan(set, revs, 1, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_CREATE);
	assert_int_equal(ctl_int(plan.a[0].obj, "revision", 0), 2);
	assert_string_equal(r.update, plan.a[0].name);
	assert_string_not_equal(r.update, name_of(r1));
	assert_string_equal(r.current, name_of(r1));
	assert_int_equal(r.update_number, 2);
	assert_true(json_equal(r.current_template, t1));
	assert_true(json_equal(r.update_template, t2));
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);

	/* Without status.currentRevision (or naming a revision that is gone) current = update. */
	json_object_set_new(json_object_get(set, "status"), "currentRevision",
	                    json_string("web-gone"));
	assert_int_equal(ctl_revisions_plan(set, revs, 1, NULL, 0, &plan, &r), STSD_OK);
	assert_string_equal(r.current, r.update);
	assert_true(json_equal(r.current_template, t2));
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(t1);
	json_decref(t2);
	json_decref(set);
	json_decref(r1);
}

static void rollback_renumbers(void **state)
{
	json_t *v[3] = {mkrev("a:1", 1, 11), mkrev("a:2", 2, 12), mkrev("a:3", 3, 13)};
	json_t *set = mkset("a:1", name_of(v[2]), INT64_MIN);
	const json_t *revs[3] = {v[2], v[0], v[1]}; /* any order */
	struct ctl_plan plan = {0};
	struct ctl_revisions r;

	(void)state;
	assert_int_equal(ctl_revisions_plan(set, revs, 3, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_UPDATE);
	assert_string_equal(plan.a[0].name, name_of(v[0]));
	assert_int_equal(plan.a[0].expect_rv, 11);
	assert_int_equal(ctl_int(plan.a[0].obj, "revision", 0), 4);
	assert_true(
	    json_equal(json_object_get(plan.a[0].obj, "data"), json_object_get(v[0], "data")));
	assert_string_equal(r.update, name_of(v[0]));
	assert_string_equal(r.current, name_of(v[2]));
	assert_int_equal(r.update_number, 4);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(set);
	free_all(v, 3);
}

static void collision_bumps_count(void **state)
{
	json_t *set = mkset("a:2", NULL, INT64_MIN);
	json_t *data = ctl_revision_data(set);
	json_t *squatter = mkrev("a:1", 1, 7);
	const json_t *revs[1] = {squatter};
	struct ctl_plan plan = {0};
	struct ctl_revisions r;
	char h0[16], h1[16], h2[16], name[64];

	(void)state;
	/* A revision holding other data already has the name a:2 would get at count 0. */
	ctl_revision_hash(data, 0, h0);
	ctl_revision_hash(data, 1, h1);
	ctl_revision_hash(data, 2, h2);
	snprintf(name, sizeof name, "web-%s", h0);
	json_object_set_new(json_object_get(squatter, "metadata"), "name", json_string(name));
	assert_int_equal(ctl_revisions_plan(set, revs, 1, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(r.collision_count, 1);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_CREATE);
	snprintf(name, sizeof name, "web-%s", h1);
	assert_string_equal(plan.a[0].name, name);
	assert_string_equal(r.update, name);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(plan.a[0].obj, "metadata"), "labels"),
	        "controller.kubernetes.io/hash")),
	    h1);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);

	/* status.collisionCount is the starting point: at 2 there is no collision. */
	json_object_set_new(json_object_get(set, "status"), "collisionCount", json_integer(2));
	assert_int_equal(ctl_revisions_plan(set, revs, 1, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(r.collision_count, 2);
	snprintf(name, sizeof name, "web-%s", h2);
	assert_string_equal(plan.a[0].name, name);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(data);
	json_decref(squatter);
	json_decref(set);
}

/* 15 revisions r1..r15 of images a:1..a:15; the set is at a:15, status.currentRevision r14 and a
 * pod still runs r2. Runs one plan with limit and returns the deleted revisions' numbers. */
static size_t truncate_with(int64_t limit, int64_t *deleted, size_t max)
{
	json_t *v[15];
	const json_t *revs[15];
	json_t *pod, *set;
	const json_t *pods[1];
	struct ctl_plan plan = {0};
	struct ctl_revisions r;
	size_t n = 0;
	char img[16];

	for (int i = 0; i < 15; i++) {
		snprintf(img, sizeof img, "a:%d", i + 1);
		v[i] = mkrev(img, i + 1, (uint64_t)(100 + i));
		revs[14 - i] = v[i];
	}
	set = mkset("a:15", name_of(v[13]), limit);
	pod = json_pack("{s:{s:s, s:{s:s}}}", "metadata", "name", "web-0", "labels",
	                "controller-revision-hash", name_of(v[1]));
	pods[0] = pod;
	assert_int_equal(ctl_revisions_plan(set, revs, 15, pods, 1, &plan, &r), STSD_OK);
	assert_string_equal(r.update, name_of(v[14]));
	assert_string_equal(r.current, name_of(v[13]));
	for (size_t i = 0; i < plan.n; i++) {
		assert_int_equal(plan.a[i].kind, CTL_DELETE);
		assert_string_equal(plan.a[i].resource, "controllerrevisions");
		for (int j = 0; j < 15; j++)
			if (strcmp(plan.a[i].name, name_of(v[j])) == 0) {
				assert_int_equal(plan.a[i].expect_rv, 100 + j);
				assert_true(n < max);
				deleted[n++] = j + 1;
			}
	}
	assert_int_equal(n, plan.n);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(pod);
	json_decref(set);
	free_all(v, 15);
	return n;
}

static void truncation_keeps_live(void **state)
{
	int64_t d[16];

	(void)state;
	/* Default 10: 12 non-live (all but 15, 14 and 2), the two oldest go. */
	assert_int_equal(truncate_with(INT64_MIN, d, 16), 2);
	assert_int_equal(d[0], 1);
	assert_int_equal(d[1], 3);
	/* Limit 0: every non-live one, oldest first. */
	assert_int_equal(truncate_with(0, d, 16), 12);
	assert_int_equal(d[0], 1);
	assert_int_equal(d[1], 3);
	assert_int_equal(d[11], 13);
	/* Limit 11: one. Limit 12 or a negative limit: none. */
	assert_int_equal(truncate_with(11, d, 16), 1);
	assert_int_equal(d[0], 1);
	assert_int_equal(truncate_with(12, d, 16), 0);
	assert_int_equal(truncate_with(-1, d, 16), 0);
}

static void long_name_truncated(void **state)
{
	char longname[241];
	json_t *set = mkset("a:1", NULL, INT64_MIN);
	struct ctl_plan plan = {0};
	struct ctl_revisions r;

	(void)state;
	memset(longname, 'x', 240);
	longname[240] = '\0';
	json_object_set_new(json_object_get(set, "metadata"), "name", json_string(longname));
	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_true(strlen(plan.a[0].name) <= 253);
	assert_int_equal(strspn(plan.a[0].name, "x"), 223);
	assert_int_equal(plan.a[0].name[223], '-');
	assert_string_equal(r.update, plan.a[0].name);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	json_decref(set);
}

static void bad_input(void **state)
{
	json_t *set = mkset("a:1", NULL, INT64_MIN);
	json_t *junk[4];
	const json_t *revs[4];
	struct ctl_plan plan = {0};
	struct ctl_revisions r;

	(void)state;
	assert_int_equal(ctl_revisions_plan(NULL, NULL, 0, NULL, 0, &plan, &r), STSD_INVALID);
	assert_null(r.current_template);
	json_object_del(json_object_get(set, "spec"), "template");
	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_INVALID);
	assert_int_equal(plan.n, 0);
	assert_null(r.update_template);
	assert_null(ctl_revision_data(set));
	json_object_set_new(json_object_get(set, "spec"), "template", json_string("nope"));
	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_INVALID);
	json_object_set_new(json_object_get(set, "spec"), "template", mktpl("a:1"));
	json_object_del(json_object_get(set, "metadata"), "uid");
	assert_int_equal(ctl_revisions_plan(set, NULL, 0, NULL, 0, &plan, &r), STSD_INVALID);
	assert_int_equal(plan.n, 0);
	json_object_set_new(json_object_get(set, "metadata"), "uid", json_string("uid-web"));

	/* Garbage revisions and pods: skipped or treated as different data, never a crash. The
	 * current revision names one without data: it cannot be restored, current = update. */
	junk[0] = json_string("not an object");
	junk[1] = json_pack("{s:{}}", "metadata");
	junk[2] = json_pack("{s:{s:s}, s:{s:{}}, s:s}", "metadata", "name", "web-junk", "data",
	                    "spec", "revision", "seven");
	junk[3] = json_pack("{s:{s:i}}", "metadata", "name", 5);
	for (int i = 0; i < 4; i++)
		revs[i] = junk[i];
	json_object_set_new(json_object_get(set, "status"), "currentRevision",
	                    json_string("web-junk"));
	assert_int_equal(ctl_revisions_plan(set, revs, 4, revs, 4, &plan, &r), STSD_OK);
	assert_int_equal(plan.a[0].kind, CTL_CREATE);
	assert_string_equal(r.current, r.update);
	assert_non_null(r.current_template);
	ctl_revisions_free(&r);
	ctl_plan_free(&plan);
	free_all(junk, 4);
	json_decref(set);
}

/* ---- out of memory: fail the n-th jansson allocation until a run succeeds ---- */

static long alloc_budget = -1;

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void oom_sweep(void **state)
{
	json_t *v[3] = {mkrev("a:1", 1, 11), mkrev("a:2", 2, 12), mkrev("a:3", 3, 13)};
	const json_t *revs[3] = {v[0], v[1], v[2]};
	json_t *set = mkset("a:4", name_of(v[1]), 1);
	int rc = STSD_NOMEM;
	int failures = 0;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (long budget = 0; budget < 10000 && rc != STSD_OK; budget++) {
		struct ctl_plan plan = {0};
		struct ctl_revisions r;

		alloc_budget = budget;
		rc = ctl_revisions_plan(set, revs, 3, NULL, 0, &plan, &r);
		alloc_budget = -1;
		assert_true(rc == STSD_OK || rc == STSD_NOMEM);
		failures += rc == STSD_NOMEM;
		if (rc == STSD_OK) {
			assert_int_equal(plan.n, 2); /* CREATE r4, DELETE r1 */
			assert_non_null(r.current_template);
			assert_non_null(r.update_template);
		} else {
			assert_null(r.current_template);
			assert_null(r.update_template);
		}
		ctl_revisions_free(&r);
		ctl_plan_free(&plan);
	}
	json_set_alloc_funcs(malloc, free);
	assert_int_equal(rc, STSD_OK);
	assert_true(failures > 10); /* the sweep did reach the planner's allocations */
	json_decref(set);
	free_all(v, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hash_golden),
	    cmocka_unit_test(hash_ignores_key_order),
	    cmocka_unit_test(new_set_creates_revision_1),
	    cmocka_unit_test(same_template_plans_nothing),
	    cmocka_unit_test(template_change_creates_revision_2),
	    cmocka_unit_test(rollback_renumbers),
	    cmocka_unit_test(collision_bumps_count),
	    cmocka_unit_test(truncation_keeps_live),
	    cmocka_unit_test(long_name_truncated),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(oom_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
