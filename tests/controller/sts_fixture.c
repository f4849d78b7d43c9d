/* sts_fixture.c — the fixture of the StatefulSet planner tests (sts_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "sts_fixture.h"

json_t *J(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, 0, &err);

	if (v == NULL)
		fail_msg("bad JSON in test: %s: %s", err.text, text);
	return v;
}

json_t *at(const json_t *v, const char *path)
{
	char key[128];

	while (v && *path) {
		size_t n = strcspn(path, ".");
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(key))
		                     : json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return (json_t *)v;
}

const char *S(const json_t *v, const char *path)
{
	return json_string_value(at(v, path));
}

long long I(const json_t *v, const char *path)
{
	return (long long)json_integer_value(at(v, path));
}

void set_path(json_t *obj, const char *path, json_t *val)
{
	char parent[128];
	const char *dot = strrchr(path, '.');

	if (dot == NULL) {
		json_object_set_new(obj, path, val);
		return;
	}
	snprintf(parent, sizeof parent, "%.*s", (int)(dot - path), path);
	json_object_set_new(at(obj, parent), dot + 1, val);
}

/* ---- Fixture --------------------------------------------------------------------------------- */

void use_revisions(struct fx *f, const char *current, const char *update)
{
	json_decref(f->rev.current_template);
	json_decref(f->rev.update_template);
	snprintf(f->rev.current, sizeof f->rev.current, "%s", current);
	snprintf(f->rev.update, sizeof f->rev.update, "%s", update);
	/* Only the image differs between the two revisions of these tests. */
	f->rev.current_template = json_deep_copy(at(f->set, "spec.template"));
	f->rev.update_template = json_deep_copy(at(f->set, "spec.template"));
	json_object_set_new(at(f->rev.current_template, "spec.containers.0"), "image",
	                    json_string(strcmp(current, "web-a") == 0 ? "nginx:1" : "nginx:2"));
	json_object_set_new(at(f->rev.update_template, "spec.containers.0"), "image",
	                    json_string(strcmp(update, "web-a") == 0 ? "nginx:1" : "nginx:2"));
}

struct fx *fx_new(int replicas, const char *policy)
{
	struct fx *f = test_calloc(1, sizeof *f);
	char text[2048];

	snprintf(
	    text, sizeof text,
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
	    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"set-uid\","
	    "\"generation\":1,\"resourceVersion\":\"10\"},"
	    "\"spec\":{\"replicas\":%d,\"serviceName\":\"nginx\",\"podManagementPolicy\":\"%s\","
	    "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"},"
	    "\"annotations\":{\"note\":\"x\"}},"
	    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1\"}]}},"
	    "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}},"
	    "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\","
	    "\"whenScaled\":\"Retain\"},\"revisionHistoryLimit\":10},"
	    "\"status\":{\"replicas\":0,\"availableReplicas\":0}}",
	    replicas, policy);
	f->set = J(text);
	f->now = NOW;
	f->rv_seq = 100;
	use_revisions(f, "web-a", "web-a");
	return f;
}

void fx_free(struct fx *f)
{
	json_decref(f->set);
	for (size_t i = 0; i < f->n_pods; i++)
		json_decref(f->pods[i]);
	for (size_t i = 0; i < f->n_pvcs; i++)
		json_decref(f->pvcs[i]);
	json_decref(f->rev.current_template);
	json_decref(f->rev.update_template);
	ctl_plan_free(&f->plan);
	test_free(f);
}

struct ctl_sts_input fx_input(struct fx *f)
{
	struct ctl_sts_input in = {
	    .set = f->set,
	    .pods = (const json_t *const *)f->pods,
	    .n_pods = f->n_pods,
	    .pvcs = (const json_t *const *)f->pvcs,
	    .n_pvcs = f->n_pvcs,
	    .claims = f->claims,
	    .n_claims = f->n_claims,
	    .rev = &f->rev,
	    .now = f->now,
	};
	return in;
}

/* One sync into a fresh plan. */
void sync_set(struct fx *f)
{
	struct ctl_sts_input in = fx_input(f);

	ctl_plan_free(&f->plan);
	assert_int_equal(ctl_sts_plan(&in, &f->plan), STSD_OK);
	assert_false(f->plan.oom);
}

static size_t find_obj(json_t **objs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(S(objs[i], "metadata.name"), name) == 0)
			return i;
	return SIZE_MAX;
}

json_t *pod(struct fx *f, const char *name)
{
	size_t i = find_obj(f->pods, f->n_pods, name);

	return i == SIZE_MAX ? NULL : f->pods[i];
}

json_t *pvc(struct fx *f, const char *name)
{
	size_t i = find_obj(f->pvcs, f->n_pvcs, name);

	return i == SIZE_MAX ? NULL : f->pvcs[i];
}

static void stamp(struct fx *f, json_t *obj)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%d", ++f->rv_seq);
	json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion", json_string(buf));
}

static void add_pod_obj(struct fx *f, json_t *p)
{
	char uid[32];

	snprintf(uid, sizeof uid, "uid-%d", ++f->uid_seq);
	json_object_set_new(json_object_get(p, "metadata"), "uid", json_string(uid));
	stamp(f, p);
	set_path(p, "status", J("{\"phase\":\"Pending\"}"));
	assert_true(f->n_pods < MAX_OBJS);
	f->pods[f->n_pods++] = p;
}

void remove_pod(struct fx *f, const char *name)
{
	size_t i = find_obj(f->pods, f->n_pods, name);

	assert_true(i != SIZE_MAX);
	json_decref(f->pods[i]);
	f->pods[i] = f->pods[--f->n_pods];
}

static const char *kind_name(enum ctl_kind kind)
{
	static const char *const names[] = {"CREATE", "UPDATE", "DELETE", "UPDATE_STATUS", "EVENT"};

	return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* The fixture's object that action a is about, or NULL. */
static const json_t *target(struct fx *f, const struct ctl_action *a)
{
	const json_t *o = NULL;

	if (strcmp(a->resource, "pods") == 0)
		o = pod(f, a->name);
	else if (strcmp(a->resource, "persistentvolumeclaims") == 0)
		o = pvc(f, a->name);
	else if (strcmp(a->resource, "statefulsets") == 0)
		o = strcmp(a->name, S(f->set, "metadata.name")) == 0 ? f->set : NULL;
	else
		fail_msg("plan: %s on unknown resource %s", kind_name(a->kind), a->resource);
	if (o && strcmp(a->ns, S(o, "metadata.namespace") ? S(o, "metadata.namespace") : "") != 0)
		o = NULL;
	return o;
}

static unsigned long long obj_rv(const json_t *o)
{
	const char *rv = S(o, "metadata.resourceVersion");

	return rv ? strtoull(rv, NULL, 10) : 0;
}

/* What the store checks before it applies a command (DESIGN.md, Data flow of a write:
 * preconditions are checked inside apply). Returns false, with why, if it would refuse
 * action i. */
static bool action_ok(struct fx *f, size_t i, char *why, size_t len)
{
	const struct ctl_action *a = &f->plan.a[i];
	const json_t *cur;

	if (a->kind == CTL_EVENT || a->kind == CTL_RELEASE_CLAIM)
		return true; /* the StatefulSet planner plans no claim release */
	for (size_t j = 0; j < i; j++) {
		const struct ctl_action *b = &f->plan.a[j];
		if (b->kind != CTL_EVENT && strcmp(b->resource, a->resource) == 0 &&
		    strcmp(b->ns, a->ns) == 0 && strcmp(b->name, a->name) == 0) {
			snprintf(why, len,
			         "plan action %zu (%s %s %s/%s) acts again on the object of action "
			         "%zu (%s): its precondition was computed from the same snapshot",
			         i, kind_name(a->kind), a->resource, a->ns, a->name, j,
			         kind_name(b->kind));
			return false;
		}
	}
	cur = target(f, a);
	if (a->kind == CTL_CREATE) {
		if (cur != NULL) {
			snprintf(why, len, "plan action %zu: CREATE %s %s/%s, which already exists",
			         i, a->resource, a->ns, a->name);
			return false;
		}
		for (size_t k = 0; a->claim && k < f->n_claims; k++) {
			if (f->claims[k].ordinal != a->claim_ordinal)
				continue;
			snprintf(why, len,
			         "plan action %zu: CREATE pods %s/%s takes ordinal %u, whose claim "
			         "is held by uid %s",
			         i, a->ns, a->name, a->claim_ordinal, f->claims[k].pod_uid);
			return false;
		}
		return true;
	}
	if (cur == NULL) {
		snprintf(why, len, "plan action %zu: %s %s %s/%s, which does not exist", i,
		         kind_name(a->kind), a->resource, a->ns, a->name);
		return false;
	}
	if ((a->kind != CTL_DELETE || a->expect_rv != 0) && a->expect_rv != obj_rv(cur)) {
		snprintf(why, len,
		         "plan action %zu: %s %s %s/%s expects resourceVersion %llu, the object "
		         "has %llu",
		         i, kind_name(a->kind), a->resource, a->ns, a->name,
		         (unsigned long long)a->expect_rv, obj_rv(cur));
		return false;
	}
	return true;
}

bool fx_plan_ok(struct fx *f, char *why, size_t len)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (!action_ok(f, i, why, len))
			return false;
	return true;
}

/* The executor of the tests: the store's checks first (fx_plan_ok), then deletions remove
 * pods at once (as upstream's fake does). */
void apply(struct fx *f)
{
	char why[1024];

	if (!fx_plan_ok(f, why, sizeof why))
		fail_msg("the store would refuse this plan: %s", why);
	for (size_t i = 0; i < f->plan.n; i++) {
		struct ctl_action *a = &f->plan.a[i];
		bool is_pod = strcmp(a->resource, "pods") == 0;
		json_t **objs = is_pod ? f->pods : f->pvcs;
		size_t *n = is_pod ? &f->n_pods : &f->n_pvcs, k;

		switch (a->kind) {
		case CTL_CREATE:
			if (is_pod) {
				add_pod_obj(f, json_deep_copy(a->obj));
			} else {
				json_t *o = json_deep_copy(a->obj);
				stamp(f, o);
				f->pvcs[f->n_pvcs++] = o;
			}
			break;
		case CTL_UPDATE:
			k = find_obj(objs, *n, a->name);
			assert_true(k != SIZE_MAX);
			json_decref(objs[k]);
			objs[k] = json_deep_copy(a->obj);
			stamp(f, objs[k]);
			break;
		case CTL_DELETE:
			remove_pod(f, a->name);
			break;
		case CTL_UPDATE_STATUS:
			json_object_set(f->set, "status", json_object_get(a->obj, "status"));
			stamp(f, f->set);
			break;
		case CTL_EVENT:
		case CTL_RELEASE_CLAIM:
			break;
		}
	}
}

/* Give the fixture a pod as the controller would have made it, in phase. */
json_t *add_pod(struct fx *f, int ord, const char *rev, const char *phase, bool ready)
{
	const json_t *tmpl =
	    strcmp(rev, f->rev.update) == 0 ? f->rev.update_template : f->rev.current_template;
	json_t *p = ctl_sts_new_pod(f->set, rev, tmpl, (uint32_t)ord);

	assert_non_null(p);
	add_pod_obj(f, p);
	json_object_set_new(json_object_get(p, "status"), "phase", json_string(phase));
	if (ready)
		set_path(p, "status.conditions",
		         J("[{\"type\":\"Ready\",\"status\":\"True\","
		           "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"}]"));
	return p;
}

void make_ready(struct fx *f, const char *name)
{
	json_t *p = pod(f, name);

	assert_non_null(p);
	set_path(p, "status.phase", json_string("Running"));
	set_path(p, "status.conditions",
	         J("[{\"type\":\"Ready\",\"status\":\"True\","
	           "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"}]"));
}

void make_all_ready(struct fx *f)
{
	for (size_t i = 0; i < f->n_pods; i++)
		make_ready(f, S(f->pods[i], "metadata.name"));
}

/* ---- Looking at plans ------------------------------------------------------------------------ */

size_t count(const struct fx *f, enum ctl_kind kind, const char *resource)
{
	size_t n = 0;

	for (size_t i = 0; i < f->plan.n; i++)
		n += f->plan.a[i].kind == kind &&
		     (resource == NULL || strcmp(f->plan.a[i].resource, resource) == 0);
	return n;
}

/* The index of the n-th action of kind on resource, or SIZE_MAX. */
size_t nth(const struct fx *f, enum ctl_kind kind, const char *resource, size_t n)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.a[i].kind == kind && strcmp(f->plan.a[i].resource, resource) == 0 &&
		    n-- == 0)
			return i;
	return SIZE_MAX;
}

const char *nth_name(const struct fx *f, enum ctl_kind kind, const char *resource, size_t n)
{
	size_t i = nth(f, kind, resource, n);

	return i == SIZE_MAX ? "(none)" : f->plan.a[i].name;
}

const struct ctl_action *event(const struct fx *f, const char *reason)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.a[i].kind == CTL_EVENT && strcmp(f->plan.a[i].reason, reason) == 0)
			return &f->plan.a[i];
	return NULL;
}

/* The status the plan writes, or NULL. */
const json_t *new_status(const struct fx *f)
{
	size_t i = nth(f, CTL_UPDATE_STATUS, "statefulsets", 0);

	return i == SIZE_MAX ? NULL : json_object_get(f->plan.a[i].obj, "status");
}

void set_template_image(struct fx *f, const char *image)
{
	set_path(f->set, "spec.template.spec.containers.0.image", json_string(image));
	set_path(f->set, "metadata.generation", json_integer(I(f->set, "metadata.generation") + 1));
}

/* Three ready pods at web-a, template changed to web-b. */
struct fx *rolled(int replicas, const char *policy)
{
	struct fx *f = fx_new(replicas, policy);

	for (int i = 0; i < replicas; i++)
		add_pod(f, i, "web-a", "Running", true);
	set_path(f->set, "status", J("{\"replicas\":3,\"readyReplicas\":3}"));
	set_template_image(f, "nginx:2");
	use_revisions(f, "web-a", "web-b");
	return f;
}

void with_claims(struct fx *f, const char *when_deleted, const char *when_scaled)
{
	set_path(at(f->set, "spec"), "volumeClaimTemplates",
	         J("[{\"metadata\":{\"name\":\"data\",\"labels\":{\"tier\":\"db\",\"app\":\"x\"}},"
	           "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
	           "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}]"));
	set_path(f->set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
	         json_string(when_deleted));
	set_path(f->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
	         json_string(when_scaled));
}

bool owned_by(const json_t *obj, const char *uid)
{
	const json_t *refs = at(obj, "metadata.ownerReferences"), *r;
	size_t i;

	json_array_foreach(refs, i, r)
	{
		if (strcmp(S(r, "uid"), uid) == 0)
			return true;
	}
	return false;
}

/* ---- Allocation failures --------------------------------------------------------------------- */

static long alloc_budget = -1; /* jansson allocations left before they fail; -1: no limit */

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

long fx_alloc_sweep(const struct fx_sweep *sw, const void *arg, size_t want)
{
	int rc = STSD_NOMEM;
	long k;

	for (k = 0; k < 100000 && rc != STSD_OK; k++) {
		void *fixture = sw->make(arg);
		size_t n = 0;
		json_set_alloc_funcs(failing_malloc, free);
		alloc_budget = k;
		rc = sw->plan(fixture, &n);
		alloc_budget = -1;
		json_set_alloc_funcs(malloc, free);
		sw->drop(fixture);
		if (rc == STSD_OK)
			assert_int_equal(n, want);
		else
			assert_int_equal(rc, STSD_NOMEM);
	}
	assert_int_equal(rc, STSD_OK);
	return k - 1;
}
