/* test_ssa.c — server-side apply, managedFields and field sets (api/ssa.c, api/fieldset.c) over a
 * local StatefulSet-like schema: create, re-apply, pruning, shared ownership, conflicts and
 * force, keyed lists and sets, Update tracking, the FieldsV1 encoding, and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "fieldset.h"
#include "ssa.h"

/* ---- A StatefulSet fragment ------------------------------------------------------------------ */

static const struct api_field port_fields[] = {
    {"containerPort", &api_schema_int, 0},
    {"name", &api_schema_string, 0},
    {"protocol", &api_schema_string, 0},
    {NULL, NULL, 0},
};
static const struct api_schema port = {SCH_OBJECT, port_fields, NULL, NULL, 0};
static const struct api_schema ports = {SCH_ARRAY, NULL, &port, "containerPort", PATCH_MERGE};
static const struct api_schema args = {SCH_ARRAY, NULL, &api_schema_string, NULL, 0};
static const struct api_field container_fields[] = {
    {"name", &api_schema_string, 0},
    {"image", &api_schema_string, 0},
    {"args", &args, 0},
    {"ports", &ports, 0},
    {NULL, NULL, 0},
};
static const struct api_schema container = {SCH_OBJECT, container_fields, NULL, NULL, 0};
static const struct api_schema containers = {SCH_ARRAY, NULL, &container, "name", PATCH_MERGE};
static const struct api_field pod_spec_fields[] = {
    {"containers", &containers, 0},
    {NULL, NULL, 0},
};
static const struct api_schema pod_spec = {SCH_OBJECT, pod_spec_fields, NULL, NULL, 0};
static const struct api_field tmeta_fields[] = {
    {"labels", &api_schema_string_map, 0},
    {"creationTimestamp", &api_schema_time, 0},
    {NULL, NULL, 0},
};
static const struct api_schema tmeta = {SCH_OBJECT, tmeta_fields, NULL, NULL, 0};
static const struct api_field template_fields[] = {
    {"metadata", &tmeta, 0},
    {"spec", &pod_spec, 0},
    {NULL, NULL, 0},
};
static const struct api_schema template = {SCH_OBJECT, template_fields, NULL, NULL, 0};
static const struct api_field spec_fields[] = {
    {"replicas", &api_schema_int, 0},
    {"serviceName", &api_schema_string, 0},
    {"selector", &api_schema_any, 0},
    {"template", &template, 0},
    {NULL, NULL, 0},
};
static const struct api_schema spec = {SCH_OBJECT, spec_fields, NULL, NULL, 0};
static const struct api_schema finalizers = {SCH_ARRAY, NULL, &api_schema_string, NULL,
                                             PATCH_MERGE};
static const struct api_schema any_list = {SCH_ARRAY, NULL, &api_schema_any, NULL, 0};
static const struct api_field meta_fields[] = {
    {"name", &api_schema_string, 0},
    {"namespace", &api_schema_string, 0},
    {"uid", &api_schema_string, 0},
    {"resourceVersion", &api_schema_string, 0},
    {"generation", &api_schema_int, 0},
    {"creationTimestamp", &api_schema_time, 0},
    {"labels", &api_schema_string_map, 0},
    {"annotations", &api_schema_string_map, 0},
    {"finalizers", &finalizers, 0},
    {"managedFields", &any_list, 0},
    {NULL, NULL, 0},
};
static const struct api_schema meta = {SCH_OBJECT, meta_fields, NULL, NULL, 0};
static const struct api_field status_fields[] = {
    {"replicas", &api_schema_int, 0},
    {NULL, NULL, 0},
};
static const struct api_schema status = {SCH_OBJECT, status_fields, NULL, NULL, 0};
static const struct api_field sts_fields[] = {
    {"apiVersion", &api_schema_string, 0},
    {"kind", &api_schema_string, 0},
    {"metadata", &meta, 0},
    {"spec", &spec, 0},
    {"status", &status, 0},
    {NULL, NULL, 0},
};
static const struct api_schema sts = {SCH_OBJECT, sts_fields, NULL, NULL, 0};

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define T1           "2026-01-01T00:00:00Z"
#define T2           "2026-01-02T00:00:00Z"
#define T3           "2026-01-03T00:00:00Z"

/* The seed's nginx StatefulSet as kubectl sends it; %d is replicas. */
#define NGINX                                                                                     \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\","    \
	"\"namespace\":\"default\",\"creationTimestamp\":null},\"spec\":{\"replicas\":%d,"        \
	"\"serviceName\":\"nginx\",\"selector\":{\"matchLabels\":{\"app\":\"nginx\"}},"           \
	"\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":\"nginx\"}}," \
	"\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"%s\",\"ports\":[{"             \
	"\"containerPort\":80,\"name\":\"web\"}]}]}}},\"status\":{}}"

/* ---- Helpers --------------------------------------------------------------------------------- */

static json_t *parse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *parse(const char *fmt, ...)
{
	char text[8192];
	json_error_t e;
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	v = json_loads(text, JSON_DECODE_ANY, &e);
	if (v == NULL)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

static json_t *nginx(int replicas, const char *image)
{
	return parse(NGINX, replicas, image);
}

/* The value at a dotted path of objects, borrowed. */
static json_t *at(const json_t *v, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof buf, "%s", path);
	for (k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	return (json_t *)v;
}

static json_t *entry(const json_t *obj, const char *manager, const char *op)
{
	json_t *e;
	size_t i;

	json_array_foreach(at(obj, "metadata.managedFields"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "manager")), manager) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "operation")), op) == 0)
			return e;
	}
	return NULL;
}

/* Whether manager's op entry owns the FieldsV1 path (elements separated by '|'). */
static bool owns(const json_t *obj, const char *manager, const char *op, const char *path)
{
	json_t *e = entry(obj, manager, op), *v = json_object_get(e, "fieldsV1");
	char buf[512], *save = NULL, *k;

	snprintf(buf, sizeof buf, "%s", path);
	for (k = strtok_r(buf, "|", &save); k && v; k = strtok_r(NULL, "|", &save))
		v = json_object_get(v, k);
	return v != NULL;
}

static void assert_json(const json_t *v, const char *want)
{
	json_t *w = parse("%s", want);
	char *got = json_dumps(v, JSON_SORT_KEYS);

	if (!json_equal(v, w))
		fail_msg("got %s\nwant %s", got, want);
	free(got);
	json_decref(w);
}

static int apply(const json_t *live, const json_t *cfg, const char *manager, bool force,
                 const char *now, json_t **out, json_t **conflicts)
{
	char err[512] = "";
	json_t *c = NULL;
	int rc = api_ssa_apply(live, cfg, manager, force, &sts, "apps/v1", now, out, &c, err,
	                       sizeof err);

	if (rc != 0)
		assert_non_null(err[0] ? err : NULL);
	if (rc != STSD_CONFLICT)
		assert_null(c);
	if (conflicts != NULL)
		*conflicts = c;
	else
		json_decref(c);
	return rc;
}

/* Apply that must succeed; returns the result and takes live. */
static json_t *apply_ok(json_t *live, json_t *cfg, const char *manager, bool force, const char *now)
{
	json_t *out = NULL;

	assert_int_equal(apply(live, cfg, manager, force, now, &out, NULL), 0);
	assert_non_null(out);
	json_decref(live);
	json_decref(cfg);
	return out;
}

/* ---- Apply ----------------------------------------------------------------------------------- */

static void test_create_via_apply(void **state)
{
	json_t *out = apply_ok(NULL, nginx(3, "nginx:1.25"), "kubectl", false, T1), *e;
	char *v1;

	(void)state;
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 3);
	assert_null(at(out, "status"));
	assert_null(at(out, "metadata.creationTimestamp"));
	assert_string_equal(json_string_value(at(out, "metadata.name")), "web");
	assert_int_equal(json_array_size(at(out, "metadata.managedFields")), 1);
	e = entry(out, "kubectl", "Apply");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "apiVersion")), "apps/v1");
	assert_string_equal(json_string_value(json_object_get(e, "time")), T1);
	assert_string_equal(json_string_value(json_object_get(e, "fieldsType")), "FieldsV1");
	/* What Kubernetes writes for this apply, byte for byte in our canonical order. */
	v1 = json_dumps(json_object_get(e, "fieldsV1"), JSON_COMPACT);
	assert_string_equal(
	    v1,
	    "{\"f:spec\":{\"f:replicas\":{},\"f:selector\":{\"f:matchLabels\":{\".\":{},\"f:app\":{}}},"
	    "\"f:serviceName\":{},\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
	    "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
	    "\"f:image\":{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80}\":{"
	    "\".\":{},\"f:containerPort\":{},\"f:name\":{}}}}}}}}}");
	free(v1);
	json_decref(out);
}

static void test_reapply_same_is_noop(void **state)
{
	json_t *one = apply_ok(NULL, nginx(3, "nginx:1.25"), "kubectl", false, T1);
	json_t *copy = json_deep_copy(one);
	json_t *two = apply_ok(copy, nginx(3, "nginx:1.25"), "kubectl", false, T2);

	(void)state;
	assert_true(json_equal(one, two)); /* not even the time moved */
	json_decref(one);
	json_decref(two);
}

static void test_apply_removes_field_it_stopped_applying(void **state)
{
	json_t *cfg = nginx(3, "nginx:1.25"), *out;

	(void)state;
	json_object_set_new(at(cfg, "spec.template.metadata.labels"), "tier", json_string("web"));
	json_object_set_new(at(cfg, "metadata"), "labels", json_pack("{s:s}", "team", "a"));
	out = apply_ok(NULL, cfg, "kubectl", false, T1);
	assert_non_null(at(out, "spec.template.metadata.labels.tier"));
	assert_true(owns(out, "kubectl", "Apply", "f:metadata|f:labels|f:team"));

	cfg = nginx(3, "nginx:1.25");
	json_object_del(at(cfg, "spec"), "serviceName");
	out = apply_ok(out, cfg, "kubectl", false, T2);
	assert_null(at(out, "spec.serviceName"));
	assert_null(at(out, "spec.template.metadata.labels.tier"));
	assert_string_equal(json_string_value(at(out, "spec.template.metadata.labels.app")),
	                    "nginx");
	assert_null(at(out, "metadata.labels")); /* emptied by the prune: gone */
	assert_false(owns(out, "kubectl", "Apply", "f:spec|f:serviceName"));
	assert_false(owns(out, "kubectl", "Apply", "f:metadata"));
	assert_string_equal(
	    json_string_value(json_object_get(entry(out, "kubectl", "Apply"), "time")), T2);
	json_decref(out);
}

static void test_apply_keeps_field_another_manager_owns(void **state)
{
	json_t *out = apply_ok(NULL, nginx(3, "nginx:1.25"), "a", false, T1), *cfg;

	(void)state;
	/* b applies the same replicas: shared, no conflict. */
	out = apply_ok(out, parse("{\"spec\":{\"replicas\":3}}"), "b", false, T2);
	assert_true(owns(out, "a", "Apply", "f:spec|f:replicas"));
	assert_true(owns(out, "b", "Apply", "f:spec|f:replicas"));

	/* a stops applying replicas and serviceName: replicas stays (b owns it). */
	cfg = nginx(3, "nginx:1.25");
	json_object_del(at(cfg, "spec"), "replicas");
	json_object_del(at(cfg, "spec"), "serviceName");
	out = apply_ok(out, cfg, "a", false, T3);
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 3);
	assert_null(at(out, "spec.serviceName"));
	assert_false(owns(out, "a", "Apply", "f:spec|f:replicas"));
	assert_true(owns(out, "b", "Apply", "f:spec|f:replicas"));

	/* An Update owner protects a field just the same. */
	json_t *old = json_deep_copy(out);
	json_object_set_new(at(out, "spec"), "serviceName", json_string("edited"));
	api_managed_fields_update(old, out, "editor", &sts, "apps/v1", T3);
	json_decref(old);
	cfg = nginx(3, "nginx:1.25"); /* a applies serviceName again, then drops it */
	json_object_set_new(at(cfg, "spec"), "serviceName", json_string("edited"));
	out = apply_ok(out, cfg, "a", false, T3);
	cfg = nginx(3, "nginx:1.25");
	json_object_del(at(cfg, "spec"), "serviceName");
	out = apply_ok(out, cfg, "a", false, T3);
	assert_string_equal(json_string_value(at(out, "spec.serviceName")), "edited");
	json_decref(out);
}

static void test_conflict_and_force(void **state)
{
	json_t *live = apply_ok(NULL, nginx(3, "nginx:1.25"), "a", false, T1), *out = NULL, *c;
	json_t *cfg = parse("{\"spec\":{\"replicas\":5,\"template\":{\"spec\":{\"containers\":["
	                    "{\"name\":\"nginx\",\"image\":\"nginx:1.26\"}]}}}}");

	(void)state;
	assert_int_equal(apply(live, cfg, "b", false, T2, &out, &c), STSD_CONFLICT);
	assert_null(out);
	assert_json(c, "[{\"manager\":\"a\",\"field\":\".spec.replicas\"},"
	               "{\"manager\":\"a\",\"field\":"
	               "\".spec.template.spec.containers[name=\\\"nginx\\\"].image\"}]");
	json_decref(c);

	out = apply_ok(live, cfg, "b", true, T2);
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 5);
	assert_false(owns(out, "a", "Apply", "f:spec|f:replicas"));
	assert_true(owns(out, "b", "Apply", "f:spec|f:replicas"));
	assert_true(owns(out, "a", "Apply", "f:spec|f:serviceName"));
	/* a's entry lost fields to b: its time stays (only the applier's moves). */
	assert_string_equal(json_string_value(json_object_get(entry(out, "a", "Apply"), "time")),
	                    T1);
	json_decref(out);
}

static void test_keyed_list_item_removal(void **state)
{
	json_t *cfg = nginx(3, "nginx:1.25"), *out, *old, *side;

	(void)state;
	json_array_append_new(at(cfg, "spec.template.spec.containers"),
	                      parse("{\"name\":\"side\",\"image\":\"busybox\",\"args\":[\"x\"]}"));
	out = apply_ok(NULL, cfg, "a", false, T1);
	assert_int_equal(json_array_size(at(out, "spec.template.spec.containers")), 2);

	/* a stops applying the sidecar: it goes whole. */
	out = apply_ok(out, nginx(3, "nginx:1.25"), "a", false, T2);
	assert_int_equal(json_array_size(at(out, "spec.template.spec.containers")), 1);
	assert_false(
	    owns(out, "a", "Apply", "f:spec|f:template|f:spec|f:containers|k:{\"name\":\"side\"}"));

	/* Again, but an Update manager changed the sidecar's image meanwhile: the item stays
	 * with what that manager owns (and its key), the rest of a's fields go. */
	cfg = nginx(3, "nginx:1.25");
	json_array_append_new(at(cfg, "spec.template.spec.containers"),
	                      parse("{\"name\":\"side\",\"image\":\"busybox\",\"args\":[\"x\"]}"));
	out = apply_ok(out, cfg, "a", false, T2);
	old = json_deep_copy(out);
	side = json_array_get(at(out, "spec.template.spec.containers"), 1);
	json_object_set_new(side, "image", json_string("busybox:2"));
	api_managed_fields_update(old, out, "editor", &sts, "apps/v1", T2);
	json_decref(old);
	out = apply_ok(out, nginx(3, "nginx:1.25"), "a", false, T3);
	assert_int_equal(json_array_size(at(out, "spec.template.spec.containers")), 2);
	side = json_array_get(at(out, "spec.template.spec.containers"), 1);
	assert_json(side, "{\"name\":\"side\",\"image\":\"busybox:2\"}");

	/* A port dropped from a kept container goes, its siblings stay. */
	cfg = nginx(3, "nginx:1.25");
	json_array_append_new(
	    at(json_array_get(at(cfg, "spec.template.spec.containers"), 0), "ports"),
	    parse("{\"containerPort\":443,\"name\":\"tls\"}"));
	out = apply_ok(out, cfg, "a", false, T3);
	assert_int_equal(json_array_size(at(
	                     json_array_get(at(out, "spec.template.spec.containers"), 0), "ports")),
	                 2);
	out = apply_ok(out, nginx(3, "nginx:1.25"), "a", false, T3);
	assert_json(at(json_array_get(at(out, "spec.template.spec.containers"), 0), "ports"),
	            "[{\"containerPort\":80,\"name\":\"web\"}]");
	json_decref(out);
}

static void test_list_merge_order_and_sets(void **state)
{
	json_t *live =
	    parse("{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"keep\"]},"
	          "\"spec\":{\"template\":{\"spec\":{\"containers\":["
	          "{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"}]}}}}");
	json_t *cfg = parse("{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"mine\"]},"
	                    "\"spec\":{\"template\":{\"spec\":{\"containers\":["
	                    "{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"c\",\"image\":\"3\"}],"
	                    "\"unknownField\":[1,2]}}}}");
	json_t *out;

	(void)state;
	api_managed_fields_update(NULL, live, "other", &sts, "apps/v1", T1);
	out = apply_ok(live, cfg, "m", false, T1);
	assert_json(at(out, "spec.template.spec.containers"),
	            "[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"},"
	            "{\"name\":\"c\",\"image\":\"3\"}]");
	assert_json(at(out, "metadata.finalizers"), "[\"keep\",\"mine\"]");
	assert_true(owns(out, "m", "Apply", "f:metadata|f:finalizers|v:\"mine\""));
	assert_false(owns(out, "m", "Apply", "f:metadata|f:finalizers|v:\"keep\""));
	assert_true(owns(out, "m", "Apply", "f:spec|f:template|f:spec|f:unknownField"));

	/* Dropping the set member removes it; what "other" owns stays (item a too: shared). */
	cfg = parse("{\"metadata\":{\"name\":\"x\"}}");
	out = apply_ok(out, cfg, "m", false, T2);
	assert_json(at(out, "metadata.finalizers"), "[\"keep\"]");
	assert_json(at(out, "spec.template.spec.containers"),
	            "[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"}]");
	assert_null(at(out, "spec.template.spec.unknownField"));
	assert_null(entry(out, "m", "Apply")); /* nothing left: the entry is dropped */
	json_decref(out);
}

/* ---- Update ---------------------------------------------------------------------------------- */

static void test_update_tracks_and_transfers(void **state)
{
	json_t *obj = nginx(1, "nginx:1.25"), *old;

	(void)state;
	json_object_del(obj, "status");
	json_object_set_new(at(obj, "metadata"), "uid", json_string("u-1"));
	json_object_set_new(
	    at(obj, "metadata"), "annotations",
	    json_pack("{s:s}", "kubectl.kubernetes.io/last-applied-configuration", "{}"));
	api_managed_fields_update(NULL, obj, "kubectl-client-side-apply", &sts, "apps/v1", T1);
	assert_int_equal(json_array_size(at(obj, "metadata.managedFields")), 1);
	assert_true(owns(obj, "kubectl-client-side-apply", "Update", "f:spec|f:replicas"));
	assert_true(owns(obj, "kubectl-client-side-apply", "Update",
	                 "f:metadata|f:annotations|.")); /* a new map is a member itself */
	assert_false(owns(obj, "kubectl-client-side-apply", "Update", "f:metadata|f:uid"));
	assert_false(owns(obj, "kubectl-client-side-apply", "Update", "f:metadata|f:name"));
	assert_false(owns(obj, "kubectl-client-side-apply", "Update", "f:spec|."));
	assert_true(owns(obj, "kubectl-client-side-apply", "Update",
	                 "f:spec|f:template|f:spec|f:containers|k:{\"name\":\"nginx\"}|."));

	/* A no-op write changes nothing, not even the time. */
	old = json_deep_copy(obj);
	api_managed_fields_update(old, obj, "kubectl-client-side-apply", &sts, "apps/v1", T2);
	assert_true(json_equal(old, obj));

	/* kubectl-scale changes replicas: it takes the field over. */
	json_object_set_new(at(obj, "spec"), "replicas", json_integer(5));
	api_managed_fields_update(old, obj, "kubectl-scale", &sts, "apps/v1", T2);
	json_decref(old);
	assert_true(owns(obj, "kubectl-scale", "Update", "f:spec|f:replicas"));
	assert_false(owns(obj, "kubectl-client-side-apply", "Update", "f:spec|f:replicas"));
	assert_true(owns(obj, "kubectl-client-side-apply", "Update", "f:spec|f:serviceName"));
	assert_string_equal(json_string_value(json_object_get(
	                        entry(obj, "kubectl-client-side-apply", "Update"), "time")),
	                    T1);

	/* A removal leaves every set; a status change is not tracked. */
	old = json_deep_copy(obj);
	json_object_del(at(obj, "spec"), "replicas");
	json_object_set_new(obj, "status", json_pack("{s:i}", "replicas", 2));
	api_managed_fields_update(old, obj, "kubectl-edit", &sts, "apps/v1", T3);
	json_decref(old);
	assert_null(entry(obj, "kubectl-scale", "Update")); /* emptied: dropped */
	assert_null(entry(obj, "kubectl-edit", "Update"));  /* changed nothing of its own */
	assert_int_equal(json_array_size(at(obj, "metadata.managedFields")), 1);
	json_decref(obj);
}

static void test_update_takes_given_managed_fields(void **state)
{
	json_t *obj = nginx(1, "nginx:1.25"), *old, *mf;

	(void)state;
	api_managed_fields_update(NULL, obj, "kubectl-client-side-apply", &sts, "apps/v1", T1);
	old = json_deep_copy(obj);
	/* A client rewrites ownership (kubectl's upgrade to server-side apply does this). */
	mf = parse("[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"apps/v1\","
	           "\"time\":\"" T1 "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{"
	           "\"f:replicas\":{}}}}]");
	json_object_set_new(at(obj, "metadata"), "managedFields", mf);
	api_managed_fields_update(old, obj, "kubectl", &sts, "apps/v1", T2);
	assert_int_equal(json_array_size(at(obj, "metadata.managedFields")), 1);
	assert_true(owns(obj, "kubectl", "Apply", "f:spec|f:replicas"));
	/* A client that sends none keeps the stored ones. */
	json_object_del(at(old, "metadata"), "managedFields");
	json_decref(old);
	old = json_deep_copy(obj);
	json_object_del(at(obj, "metadata"), "managedFields");
	api_managed_fields_update(old, obj, "kubectl", &sts, "apps/v1", T2);
	assert_true(json_equal(old, obj));
	json_decref(old);
	json_decref(obj);
}

/* The acceptance path: a set made by client-side apply, then `kubectl apply --server-side`. */
static void test_client_side_then_server_side(void **state)
{
	json_t *live = nginx(1, "nginx:1.25"), *out = NULL, *c = NULL, *cfg;

	(void)state;
	json_object_del(live, "status");
	json_object_set_new(at(live, "metadata"), "annotations",
	                    json_pack("{s:s}", LAST_APPLIED, "{\"client\":\"side\"}\n"));
	api_managed_fields_update(NULL, live, "kubectl-client-side-apply", &sts, "apps/v1", T1);
	live = apply_ok(live, nginx(1, "nginx:1.25"), "kubectl", false, T2);
	assert_true(owns(live, "kubectl", "Apply", "f:spec|f:replicas"));
	assert_true(owns(live, "kubectl-client-side-apply", "Update", "f:spec|f:replicas"));

	cfg = nginx(4, "nginx:1.25");
	assert_int_equal(apply(live, cfg, "kubectl", false, T3, &out, &c), STSD_CONFLICT);
	assert_json(c,
	            "[{\"manager\":\"kubectl-client-side-apply\",\"field\":\".spec.replicas\"}]");
	json_decref(c);
	out = apply_ok(live, cfg, "kubectl", true, T3);
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 4);
	assert_false(owns(out, "kubectl-client-side-apply", "Update", "f:spec|f:replicas"));

	/* The annotation now holds what kubectl applied (lastAppliedUpdater). */
	json_t *la = parse("%s", json_string_value(json_object_get(at(out, "metadata.annotations"),
	                                                           LAST_APPLIED)));
	assert_int_equal(json_integer_value(at(la, "spec.replicas")), 4);
	assert_null(at(la, "metadata.annotations"));
	json_decref(la);

	/* kubectl then saves the annotation under a manager of its own: same value, no conflict. */
	cfg = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{"
	            "\"name\":\"web\",\"namespace\":\"default\",\"annotations\":{}}}");
	json_object_set(at(cfg, "metadata.annotations"), LAST_APPLIED,
	                json_object_get(at(out, "metadata.annotations"), LAST_APPLIED));
	out = apply_ok(out, cfg, "kubectl-last-applied", false, T3);
	assert_true(
	    owns(out, "kubectl-last-applied", "Apply", "f:metadata|f:annotations|f:" LAST_APPLIED));
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 4);
	json_decref(out);
}

/* kubectl scale writes through the scale subresource as its own manager. */
static void test_scale_subresource_owner(void **state)
{
	json_t *live = apply_ok(NULL, nginx(3, "nginx:1.25"), "kubectl", false, T1);
	json_t *old = json_deep_copy(live), *out = NULL, *c = NULL, *e;

	(void)state;
	json_object_set_new(at(live, "spec"), "replicas", json_integer(5));
	api_managed_fields_update_sub(old, live, "kubectl-scale", "scale", &sts, "apps/v1", T2);
	json_decref(old);
	e = entry(live, "kubectl-scale", "Update");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "subresource")), "scale");
	assert_true(owns(live, "kubectl-scale", "Update", "f:spec|f:replicas"));
	assert_false(owns(live, "kubectl", "Apply", "f:spec|f:replicas"));

	/* The same manager through the main resource is another entry. */
	old = json_deep_copy(live);
	json_object_set_new(at(live, "spec"), "serviceName", json_string("other"));
	api_managed_fields_update(old, live, "kubectl-scale", &sts, "apps/v1", T2);
	json_decref(old);
	assert_int_equal(json_array_size(at(live, "metadata.managedFields")), 3);

	json_t *cfg = nginx(3, "nginx:1.25");
	assert_int_equal(apply(live, cfg, "kubectl", false, T3, &out, &c), STSD_CONFLICT);
	json_decref(cfg);
	assert_json(c, "[{\"manager\":\"kubectl-scale\",\"field\":\".spec.replicas\","
	               "\"subresource\":\"scale\"},{\"manager\":\"kubectl-scale\","
	               "\"field\":\".spec.serviceName\"}]");
	json_decref(c);
	json_decref(live);
}

/* ---- Field sets ------------------------------------------------------------------------------ */

static void test_fieldsv1_round_trip(void **state)
{
	const char *text =
	    "{\"f:metadata\":{\"f:finalizers\":{\".\":{},\"v:\\\"a\\\"\":{}},\"f:labels\":{\".\":{},"
	    "\"f:app\":{}}},\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{"
	    "\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}";
	json_t *in = parse("%s", text), *set = NULL, *enc, *paths, *shuffled;
	char err[256], *dumped;

	(void)state;
	assert_int_equal(api_fieldset_from_fieldsv1(in, &set, err, sizeof err), 0);
	enc = api_fieldset_to_fieldsv1(set);
	dumped = json_dumps(enc, JSON_COMPACT);
	assert_string_equal(dumped, text);
	free(dumped);
	paths = api_fieldset_paths(set);
	assert_json(paths, "[\".metadata.finalizers\",\".metadata.finalizers[=\\\"a\\\"]\","
	                   "\".metadata.labels\",\".metadata.labels.app\","
	                   "\".spec.template.spec.containers[name=\\\"nginx\\\"]\","
	                   "\".spec.template.spec.containers[name=\\\"nginx\\\"].image\","
	                   "\".spec.template.spec.containers[name=\\\"nginx\\\"].name\"]");
	json_decref(paths);
	json_decref(enc);
	json_decref(set);

	/* Any key order reads the same; "." alone is a leaf; unknown kinds are dropped. */
	shuffled = parse("{\"f:spec\":{\"f:b\":{\".\":{}},\"f:a\":{},\"z:later\":{}}}");
	assert_int_equal(api_fieldset_from_fieldsv1(shuffled, &set, err, sizeof err), 0);
	enc = api_fieldset_to_fieldsv1(set);
	dumped = json_dumps(enc, JSON_COMPACT);
	assert_string_equal(dumped, "{\"f:spec\":{\"f:a\":{},\"f:b\":{}}}");
	free(dumped);
	json_decref(enc);
	json_decref(set);
	json_decref(shuffled);

	const char *bad[] = {"[]", "{\"f:a\":1}", "{\"bad\":{}}", "{\"f:a\":{\"x\":{}}}", "\"s\""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *b = parse("%s", bad[i]);
		set = (json_t *)1;
		assert_int_equal(api_fieldset_from_fieldsv1(b, &set, err, sizeof err),
		                 STSD_INVALID);
		assert_null(set);
		json_decref(b);
	}
	json_decref(in);
}

static void test_set_algebra(void **state)
{
	json_t *a = NULL, *b = NULL, *r;
	json_t *ta = parse("{\"f:x\":{},\"f:m\":{\".\":{},\"f:k\":{}},\"f:s\":{\"f:p\":{}}}");
	json_t *tb = parse("{\"f:x\":{},\"f:m\":{\"f:j\":{}},\"f:s\":{\"f:q\":{}}}");
	char err[128];

	(void)state;
	assert_int_equal(api_fieldset_from_fieldsv1(ta, &a, err, sizeof err), 0);
	assert_int_equal(api_fieldset_from_fieldsv1(tb, &b, err, sizeof err), 0);
	r = api_fieldset_union(a, b);
	assert_json(r, "{\"f:x\":{},\"f:m\":{\".\":{},\"f:k\":{},\"f:j\":{}},"
	               "\"f:s\":{\"f:p\":{},\"f:q\":{}}}");
	json_decref(r);
	r = api_fieldset_difference(a, b);
	assert_json(r, "{\"f:m\":{\".\":{},\"f:k\":{}},\"f:s\":{\"f:p\":{}}}");
	json_decref(r);
	r = api_fieldset_difference(b, a);
	assert_json(r, "{\"f:m\":{\"f:j\":{}},\"f:s\":{\"f:q\":{}}}");
	json_decref(r);
	r = api_fieldset_intersection(a, b);
	assert_json(r, "{\"f:x\":{}}");
	json_decref(r);
	r = api_fieldset_difference(a, a);
	assert_true(api_fieldset_empty(r));
	json_decref(r);
	/* A member that loses its children is still a leaf member. */
	json_t *leafonly = parse("{\"f:m\":{\"f:k\":{}}}"), *lo = NULL;
	assert_int_equal(api_fieldset_from_fieldsv1(leafonly, &lo, err, sizeof err), 0);
	r = api_fieldset_difference(a, lo);
	assert_json(r, "{\"f:x\":{},\"f:m\":{},\"f:s\":{\"f:p\":{}}}");
	json_decref(r);
	json_decref(lo);
	json_decref(leafonly);
	json_decref(a);
	json_decref(b);
	json_decref(ta);
	json_decref(tb);
}

/* ---- Malformed input ------------------------------------------------------------------------- */

static void expect_invalid(const json_t *live, const char *cfg_text)
{
	json_t *cfg = parse("%s", cfg_text), *out = (json_t *)1;

	assert_int_equal(apply(live, cfg, "m", false, T1, &out, NULL), STSD_INVALID);
	assert_null(out);
	json_decref(cfg);
}

static void test_bad_shapes(void **state)
{
	json_t *live = apply_ok(NULL, nginx(3, "nginx:1.25"), "a", false, T1), *out = NULL, *c;
	char err[256];

	(void)state;
	expect_invalid(NULL, "[]");
	expect_invalid(NULL, "\"x\"");
	expect_invalid(live, "{\"spec\":[]}");
	expect_invalid(live, "{\"metadata\":\"x\"}");
	expect_invalid(live, "{\"spec\":{\"template\":{\"spec\":{\"containers\":{}}}}}");
	expect_invalid(live,
	               "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":1}]}}}}");
	expect_invalid(live, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[7]}}}}");
	expect_invalid(live, "{\"spec\":{\"template\":{\"spec\":{\"containers\":["
	                     "{\"name\":\"a\"},{\"name\":\"a\"}]}}}}");
	expect_invalid(live, "{\"metadata\":{\"finalizers\":[{\"a\":1}]}}");
	expect_invalid(live, "{\"metadata\":{\"labels\":[1]}}");
	expect_invalid(live, "{\"metadata\":{\"managedFields\":[]}}");
	c = parse("{\"spec\":{}}");
	assert_int_equal(
	    api_ssa_apply(live, c, "", false, &sts, "apps/v1", T1, &out, NULL, err, sizeof err),
	    STSD_INVALID);
	assert_int_equal(api_ssa_apply(live, c, "bad\xff", false, &sts, "apps/v1", T1, &out, NULL,
	                               err, sizeof err),
	                 STSD_INVALID);
	assert_int_equal(
	    api_ssa_apply(c, c, "m", false, NULL, "apps/v1", T1, &out, NULL, err, sizeof err),
	    0); /* no schema: everything free-form */
	json_decref(out);
	json_t *arr = parse("[1]");
	assert_int_equal(
	    api_ssa_apply(arr, c, "m", false, &sts, "apps/v1", T1, &out, NULL, err, sizeof err),
	    STSD_INVALID);
	json_decref(arr);
	json_decref(c);

	/* Garbage in the stored object: managedFields of the wrong shapes, a spec of the wrong
	 * type, an unkeyed list item. Apply still gives a sane result. */
	json_t *junk = parse(
	    "{\"metadata\":{\"name\":\"web\",\"managedFields\":[1,{\"manager\":\"x\"},"
	    "{\"manager\":\"y\",\"operation\":\"Update\",\"fieldsV1\":{\"f:a\":3}},"
	    "{\"manager\":\"z\",\"operation\":\"Update\",\"fieldsV1\":{\"f:spec\":{\"f:x\":{}}}}]},"
	    "\"spec\":[1,2],\"status\":5}");
	out = apply_ok(junk, nginx(2, "n"), "m", false, T1);
	assert_int_equal(json_integer_value(at(out, "spec.replicas")), 2);
	assert_non_null(entry(out, "z", "Update"));
	assert_null(entry(out, "y", "Update"));
	assert_int_equal(json_integer_value(at(out, "status")), 5);
	json_decref(out);
	junk = parse("{\"metadata\":{\"managedFields\":\"no\"},\"spec\":{\"template\":{\"spec\":{"
	             "\"containers\":[{\"image\":\"nameless\"},5,{\"name\":\"nginx\"}]}}}}");
	out = apply_ok(junk, nginx(2, "n"), "m", false, T1);
	assert_int_equal(json_array_size(at(out, "spec.template.spec.containers")), 3);
	json_decref(out);

	/* Update over odd values never crashes. */
	json_t *odd = parse("{\"metadata\":5,\"spec\":{\"template\":[]}}");
	json_t *odd2 = parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[1,{}]}}}}");
	api_managed_fields_update(odd, odd2, "w", &sts, "apps/v1", T1);
	api_managed_fields_update(odd2, odd, "w", &sts, "apps/v1", T1);
	api_managed_fields_update(NULL, odd, "", &sts, "apps/v1", T1);
	api_managed_fields_update(NULL, odd, "w", NULL, NULL, NULL);
	json_decref(odd);
	json_decref(odd2);
	json_decref(live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_via_apply),
	    cmocka_unit_test(test_reapply_same_is_noop),
	    cmocka_unit_test(test_apply_removes_field_it_stopped_applying),
	    cmocka_unit_test(test_apply_keeps_field_another_manager_owns),
	    cmocka_unit_test(test_conflict_and_force),
	    cmocka_unit_test(test_keyed_list_item_removal),
	    cmocka_unit_test(test_list_merge_order_and_sets),
	    cmocka_unit_test(test_update_tracks_and_transfers),
	    cmocka_unit_test(test_update_takes_given_managed_fields),
	    cmocka_unit_test(test_client_side_then_server_side),
	    cmocka_unit_test(test_scale_subresource_owner),
	    cmocka_unit_test(test_fieldsv1_round_trip),
	    cmocka_unit_test(test_set_algebra),
	    cmocka_unit_test(test_bad_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
