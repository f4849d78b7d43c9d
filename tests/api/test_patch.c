/* test_patch.c — the three patch formats: strategic merge patch against a PodSpec-like schema
 * (tests/fuzz/fuzz_schemas.c), JSON patch and JSON merge patch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/fuzz_schemas.h"
#include "errors.h"
#include "patch.h"

static const struct api_schema *const sts = &fuzz_schema_statefulset;

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	if (!v)
		fail_msg("bad test JSON (%s): %s", e.text, s);
	return v;
}

static void assert_json(const json_t *got, const char *want)
{
	json_t *w = parse(want);
	if (!json_equal(got, w)) {
		char *s = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(stderr, "got:  %s\nwant: %s\n", s, want);
		free(s);
		json_decref(w);
		fail_msg("unexpected result");
	}
	json_decref(w);
}

/* Whether any key of v (at any depth) starts with '$'. */
static int has_directive(const json_t *v)
{
	const char *k;
	json_t *child;
	size_t i;

	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, child)
		{
			if (k[0] == '$' || has_directive(child))
				return 1;
		}
	if (json_is_array(v))
		json_array_foreach(v, i, child)
		{
			if (has_directive(child))
				return 1;
		}
	return 0;
}

/* Apply a strategic merge patch and compare; the inputs must stay untouched. */
static void smp_ok(const char *doc, const char *patch, const struct api_schema *sch,
                   const char *want)
{
	json_t *d = parse(doc), *p = parse(patch), *out = NULL;
	char err[256];

	int rc = api_strategic_patch(d, p, sch, &out, err, sizeof err);
	if (rc)
		fail_msg("patch failed (%d): %s", rc, err);
	assert_json(out, want);
	assert_false(has_directive(out));
	assert_json(d, doc);
	assert_json(p, patch);
	json_decref(d);
	json_decref(p);
	json_decref(out);
}

static void smp_fails(const char *doc, const char *patch, const struct api_schema *sch,
                      const char *msg)
{
	json_t *d = parse(doc), *p = parse(patch), *out = NULL;
	char err[256];

	assert_int_equal(api_strategic_patch(d, p, sch, &out, err, sizeof err), STSD_INVALID);
	assert_null(out);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not mention \"%s\"", err, msg);
	json_decref(d);
	json_decref(p);
}

#define STS_WITH(spec)                                                                          \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"}," \
	"\"spec\":{\"replicas\":3,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"   \
	"\"spec\":" spec "}}}"
#define STS_PATCH(spec) "{\"spec\":{\"template\":{\"spec\":" spec "}}}"

/* ---- Strategic merge patch ------------------------------------------------------------------- */

/* The seed case: a patch naming the container by its merge key changes only the image. */
static void smp_container_image(void **state)
{
	(void)state;
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.20\","
	                "\"ports\":[{\"containerPort\":80,\"name\":\"web\"}]}]}"),
	       "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\","
	       "\"image\":\"nginx:1.21\"}]}}}}",
	       sts,
	       STS_WITH("{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.21\","
	                "\"ports\":[{\"containerPort\":80,\"name\":\"web\"}]}]}"));
}

/* kubectl rollout undo sends a ControllerRevision's data: the template is replaced whole. */
static void smp_rollout_undo_replace(void **state)
{
	(void)state;
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.21\","
	                "\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},{\"name\":\"side\"}]}"),
	       "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{\"labels\":"
	       "{\"app\":\"web\",\"v\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
	       "\"image\":\"nginx:1.20\"}]}}}}",
	       sts,
	       "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":"
	       "\"web\"},\"spec\":{\"replicas\":3,\"template\":{\"metadata\":{\"labels\":{\"app\":"
	       "\"web\",\"v\":\"1\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
	       "\"nginx:1.20\"}]}}}}");
	/* At the top level too. */
	smp_ok("{\"a\":1,\"b\":{\"c\":2}}", "{\"$patch\":\"replace\",\"b\":{\"d\":3}}", NULL,
	       "{\"b\":{\"d\":3}}");
}

static void smp_delete_directive(void **state)
{
	(void)state;
	/* A list item by merge key (all duplicates go). */
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"a\"}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"b\"}]}"));
	/* An object: left empty, as upstream does. */
	smp_ok("{\"metadata\":{\"labels\":{\"a\":\"1\"},\"name\":\"x\"}}",
	       "{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}", sts,
	       "{\"metadata\":{\"labels\":{},\"name\":\"x\"}}");
	/* A list item's replace: the patch's items are the list. */
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}"),
	       STS_PATCH("{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"c\"}]}"));
}

static void smp_set_element_order(void **state)
{
	(void)state;
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}"),
	       STS_PATCH("{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
	                 "{\"name\":\"b\"}],\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
	       sts,
	       STS_WITH("{\"containers\":[{\"name\":\"c\"},{\"name\":\"a\",\"image\":\"x\"},"
	                "{\"name\":\"b\"}]}"));
	/* Upstream's case: the order names an item absent from the list. */
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"1\"},{\"name\":\"3\"}]}"),
	       STS_PATCH("{\"$setElementOrder/containers\":[{\"name\":\"3\"},{\"name\":\"2\"},"
	                 "{\"name\":\"1\"}],\"containers\":[{\"name\":\"3\",\"image\":\"3\"},"
	                 "{\"name\":\"1\",\"image\":\"1\"}]}"),
	       sts,
	       STS_WITH("{\"containers\":[{\"name\":\"3\",\"image\":\"3\"},{\"name\":\"1\","
	                "\"image\":\"1\"}]}"));
	/* Primitives. */
	smp_ok("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
	       "{\"metadata\":{\"$setElementOrder/finalizers\":[\"c\",\"b\",\"a\"]}}", sts,
	       "{\"metadata\":{\"finalizers\":[\"c\",\"b\",\"a\"]}}");
	/* The patch list must follow the order. */
	smp_fails(
	    STS_WITH("{\"containers\":[{\"name\":\"1\"},{\"name\":\"3\"},{\"name\":\"2\"}]}"),
	    STS_PATCH("{\"$setElementOrder/containers\":[{\"name\":\"1\"},{\"name\":\"2\"},"
	              "{\"name\":\"3\"}],\"containers\":[{\"name\":\"3\"},{\"name\":\"1\"}]}"),
	    sts, "does not match");
	smp_fails("{}", "{\"$setElementOrder/x\":{}}", sts, "must be a list");
	smp_fails("{}", "{\"$setElementOrder\":[]}", sts, "invalid directive");
}

/* Without $setElementOrder, upstream keeps the patch's order for the items it names and puts new
 * items before the server-only items that follow (kubectl patch adds a container first). */
static void smp_list_order_without_directive(void **state)
{
	(void)state;
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"1\"},{\"name\":\"2\",\"image\":\"b\"},"
	                "{\"name\":\"3\"}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"3\",\"image\":\"c\"},{\"name\":\"1\","
	                 "\"image\":\"a\"}]}"),
	       sts,
	       STS_WITH("{\"containers\":[{\"name\":\"2\",\"image\":\"b\"},{\"name\":\"3\","
	                "\"image\":\"c\"},{\"name\":\"1\",\"image\":\"a\"}]}"));
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"nginx\"}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"redis\",\"image\":\"redis\"}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"redis\",\"image\":\"redis\"},"
	                "{\"name\":\"nginx\"}]}"));
}

static void smp_retain_keys(void **state)
{
	(void)state;
	smp_ok(
	    STS_WITH("{\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"o\","
	             "\"secret\":{}}]}"),
	    STS_PATCH("{\"volumes\":[{\"name\":\"data\",\"$retainKeys\":[\"name\",\"configMap\"],"
	              "\"configMap\":{\"name\":\"cm\"}}]}"),
	    sts,
	    STS_WITH("{\"volumes\":[{\"name\":\"data\",\"configMap\":{\"name\":\"cm\"}},"
	             "{\"name\":\"o\",\"secret\":{}}]}"));
	smp_fails(STS_WITH("{\"volumes\":[]}"),
	          STS_PATCH("{\"volumes\":[{\"name\":\"data\",\"$retainKeys\":[\"name\"],"
	                    "\"secret\":{}}]}"),
	          sts, "not in $retainKeys");
	smp_fails("{}", "{\"$retainKeys\":\"name\"}", sts, "must be a list");
}

static void smp_delete_from_primitive_list(void **state)
{
	(void)state;
	smp_ok("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
	       "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\",\"x\"]}}", sts,
	       "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
	/* Nothing to delete from: the directive is dropped. */
	smp_ok("{\"metadata\":{}}",
	       "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}", sts,
	       "{\"metadata\":{}}");
	smp_fails("{}", "{\"$deleteFromPrimitiveList/finalizers\":\"b\"}", sts, "must be a list");
}

static void smp_null_deletes(void **state)
{
	(void)state;
	smp_ok("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
	       "{\"metadata\":{\"labels\":{\"a\":null,\"zz\":null}}}", sts,
	       "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}");
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"args\":[\"-v\"]}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"a\",\"args\":null}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"));
}

static void smp_lists_by_strategy(void **state)
{
	(void)state;
	/* Finalizers: an ordered set. */
	smp_ok("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
	       "{\"metadata\":{\"finalizers\":[\"b\",\"c\",\"c\"]}}", sts,
	       "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}");
	/* Upstream's case: the patch's order wins for the values it names. */
	smp_ok("{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
	       "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}", sts,
	       "{\"metadata\":{\"finalizers\":[\"b\",\"c\",\"a\"]}}");
	/* Args: replaced whole. */
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\",\"args\":[\"x\",\"y\"]}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"a\",\"args\":[\"z\"]}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"a\",\"args\":[\"z\"]}]}"));
	/* Ports by containerPort (80.0 is 80, as Go's float64 sees it), env by name. */
	smp_ok(STS_WITH("{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80},"
	                "{\"containerPort\":443}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80.0,"
	                 "\"name\":\"http\"}],\"env\":[{\"name\":\"A\",\"value\":\"2\"}]}]}"),
	       sts,
	       STS_WITH("{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80.0,"
	                "\"name\":\"http\"},{\"containerPort\":443}],\"env\":[{\"name\":\"A\","
	                "\"value\":\"2\"}]}]}"));
	/* No schema: lists replace, maps merge. */
	smp_ok("{\"l\":[1,2],\"m\":{\"a\":1}}", "{\"l\":[3],\"m\":{\"b\":2}}", NULL,
	       "{\"l\":[3],\"m\":{\"a\":1,\"b\":2}}");
	/* Types that differ: the patch wins. */
	smp_ok(STS_WITH("{\"containers\":\"oops\"}"),
	       STS_PATCH("{\"containers\":[{\"name\":\"a\"}]}"), sts,
	       STS_WITH("{\"containers\":[{\"name\":\"a\"}]}"));
	smp_ok("{\"metadata\":[1]}", "{\"metadata\":{\"name\":\"x\"}}", sts,
	       "{\"metadata\":{\"name\":\"x\"}}");
}

/* A patch creating fields the original lacks still has its directives applied, never copied. */
static void smp_no_directive_leaks(void **state)
{
	(void)state;
	smp_ok("{}",
	       STS_PATCH("{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
	                 "\"containers\":[{\"name\":\"a\",\"$retainKeys\":[\"name\"]},{\"name\":"
	                 "\"b\",\"env\":[{\"name\":\"X\",\"$patch\":\"delete\"}]},{\"name\":\"c\","
	                 "\"$patch\":\"delete\"}],\"volumes\":[{\"$patch\":\"replace\"},"
	                 "{\"name\":\"v\"}],\"nodeSelector\":{\"$patch\":\"replace\",\"k\":\"v\"},"
	                 "\"$deleteFromPrimitiveList/x\":[1]}"),
	       sts,
	       STS_PATCH("{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"env\":[]}],"
	                 "\"volumes\":[{\"name\":\"v\"}],\"nodeSelector\":{\"k\":\"v\"}}"));
	/* Inside a list that is replaced whole. */
	smp_ok("{}", "{\"tolerations\":[{\"$patch\":\"replace\",\"key\":\"k\"}]}",
	       &fuzz_schema_pod_spec, "{\"tolerations\":[{\"key\":\"k\"}]}");
}

static void smp_errors(void **state)
{
	(void)state;
	smp_fails("{}", "[]", sts, "must be a JSON object");
	smp_fails("{}", "\"x\"", sts, "must be a JSON object");
	smp_fails("{\"spec\":{}}", "{\"spec\":{\"$patch\":\"bogus\"}}", sts,
	          "spec: unknown patch type: bogus");
	smp_fails("{}", "{\"$patch\":7}", sts, "unknown patch type");
	smp_fails(STS_WITH("{\"containers\":[]}"),
	          STS_PATCH("{\"containers\":[{\"image\":\"x\"}]}"), sts,
	          "spec.template.spec.containers[0]: does not contain declared merge key: name");
	smp_fails(STS_WITH("{}"), STS_PATCH("{\"containers\":[\"nginx\"]}"), sts,
	          "must hold objects");
	smp_fails(STS_WITH("{}"), STS_PATCH("{\"containers\":[{\"$patch\":\"merge\"}]}"), sts,
	          "cannot yet be specified");
	smp_fails(STS_WITH("{}"), STS_PATCH("{\"containers\":[{\"$patch\":\"delete\"}]}"), sts,
	          "merge key");
	smp_fails("{}", "{\"metadata\":{\"finalizers\":[{\"a\":1}]}}", sts, "primitives");
}

static void smp_deep_and_large(void **state)
{
	json_t *patch = json_object(), *v = patch, *doc, *out = NULL, *list, *plist;
	char err[256], name[32];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		json_t *child = json_object();
		json_object_set_new(v, "a", child);
		v = child;
	}
	assert_int_equal(api_strategic_patch(NULL, patch, sts, &out, err, sizeof err),
	                 STSD_INVALID);
	assert_non_null(strstr(err, "nested"));
	assert_int_equal(api_merge_patch(NULL, patch, &out, err, sizeof err), STSD_INVALID);
	json_decref(patch);

	/* 5000 containers merged with 5000 (half new): fast enough with indexes. */
	list = json_array();
	plist = json_array();
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "c%d", i);
		json_array_append_new(list, json_pack("{ss}", "name", name));
		snprintf(name, sizeof name, "c%d", i + 2500);
		json_array_append_new(plist, json_pack("{ssss}", "name", name, "image", "x"));
	}
	doc = json_pack("{s{s{s{so}}}}", "spec", "template", "spec", "containers", list);
	patch = json_pack("{s{s{s{so}}}}", "spec", "template", "spec", "containers", plist);
	assert_int_equal(api_strategic_patch(doc, patch, sts, &out, err, sizeof err), 0);
	list = json_object_get(
	    json_object_get(json_object_get(json_object_get(out, "spec"), "template"), "spec"),
	    "containers");
	assert_int_equal(json_array_size(list), 7500);
	/* c0..c2499 were before c2500, the first patch item: they keep their place. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
	                    "c0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2500), "image")),
	                    "x");
	json_decref(out);
	json_decref(doc);
	json_decref(patch);
}

/* ---- JSON patch ------------------------------------------------------------------------------ */

static void jp_ok(const char *doc, const char *patch, const char *want)
{
	json_t *d = parse(doc), *p = parse(patch), *out = NULL;
	char err[256];
	int bad = -1;

	if (api_json_patch(d, p, &out, &bad, err, sizeof err))
		fail_msg("json patch failed: %s", err);
	assert_int_equal(bad, 0);
	assert_json(out, want);
	assert_json(d, doc);
	json_decref(d);
	json_decref(p);
	json_decref(out);
}

static void jp_fails(const char *doc, const char *patch, int want_bad, const char *msg)
{
	json_t *d = parse(doc), *p = parse(patch), *out = NULL;
	char err[256];
	int bad = -1;

	assert_int_equal(api_json_patch(d, p, &out, &bad, err, sizeof err), STSD_INVALID);
	assert_null(out);
	assert_int_equal(bad, want_bad);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not mention \"%s\"", err, msg);
	assert_json(d, doc);
	json_decref(d);
	json_decref(p);
}

static void json_patch_ops(void **state)
{
	(void)state;
	jp_ok("{\"a\":{\"b\":1},\"l\":[1,2]}",
	      "[{\"op\":\"add\",\"path\":\"/a/c\",\"value\":2},"
	      "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0},"
	      "{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3},"
	      "{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":{\"x\":true}},"
	      "{\"op\":\"remove\",\"path\":\"/l/1\"},"
	      "{\"op\":\"test\",\"path\":\"/l\",\"value\":[0,2,3]},"
	      "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/copy\"},"
	      "{\"op\":\"move\",\"from\":\"/a/c\",\"path\":\"/moved\"}]",
	      "{\"a\":{\"b\":{\"x\":true}},\"l\":[0,2,3],\"copy\":{\"b\":{\"x\":true},\"c\":2},"
	      "\"moved\":2}");
	/* ~1 is '/', ~0 is '~' (kubectl users patch annotations like this). */
	jp_ok("{\"metadata\":{\"annotations\":{\"a/b\":\"1\",\"c~d\":\"2\"}}}",
	      "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"x\"},"
	      "{\"op\":\"remove\",\"path\":\"/metadata/annotations/c~0d\"}]",
	      "{\"metadata\":{\"annotations\":{\"a/b\":\"x\"}}}");
	/* The whole document; an empty patch. */
	jp_ok("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
	jp_ok("{\"a\":1}", "[]", "{\"a\":1}");
	jp_ok("{\"spec\":{\"replicas\":1}}",
	      "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5}]",
	      "{\"spec\":{\"replicas\":5}}");
}

static void json_patch_errors(void **state)
{
	(void)state;
	/* Malformed: 400. */
	jp_fails("{}", "{\"op\":\"add\"}", 1, "list of operations");
	jp_fails("{}", "[{\"path\":\"/a\",\"value\":1}]", 1, "missing op");
	jp_fails("{}", "[{\"op\":\"add\",\"value\":1}]", 1, "missing path");
	jp_fails("{}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", 1, "unexpected op");
	jp_fails("{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", 1, "needs a value");
	jp_fails("{}", "[{\"op\":\"move\",\"path\":\"/a\"}]", 1, "missing from");
	jp_fails("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", 1, "invalid JSON pointer");
	jp_fails("{}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", 1, "invalid escape");
	jp_fails("{}", "[7]", 1, "not an object");
	/* Not applicable: 422. */
	jp_fails("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", 0, "test failed");
	jp_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", 0, "missing path: /b");
	jp_fails("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", 0,
	         "missing path");
	jp_fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]", 0,
	         "missing path");
	jp_fails("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":1}]", 0,
	         "missing path");
	jp_fails("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/01\"}]", 0, "missing path");
	jp_fails("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-1\"}]", 0, "missing path");
	jp_fails("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", 0,
	         "inside");
	jp_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", 0, "whole document");
	/* A failure leaves no partial result (checked in jp_fails), even after good operations. */
	jp_fails("{\"a\":1}",
	         "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"test\",\"path\":\"/b\","
	         "\"value\":2}]",
	         0, "test failed");
}

/* Copies that double the document each time are stopped. */
static void json_patch_copy_bomb(void **state)
{
	json_t *patch = json_array(), *doc = json_pack("{si}", "a", 1), *out = NULL;
	char err[256];
	int bad = -1;

	(void)state;
	for (int i = 0; i < 64; i++) {
		char path[16];
		snprintf(path, sizeof path, "/x%d", i);
		json_array_append_new(
		    patch, json_pack("{ssssss}", "op", "copy", "from", "", "path", path));
	}
	assert_int_equal(api_json_patch(doc, patch, &out, &bad, err, sizeof err), STSD_INVALID);
	assert_int_equal(bad, 0);
	assert_non_null(strstr(err, "copies exceed"));
	json_decref(patch);
	json_decref(doc);
}

/* ---- Merge patch ----------------------------------------------------------------------------- */

static void mp_ok(const char *doc, const char *patch, const char *want)
{
	json_t *d = parse(doc), *p = parse(patch), *out = NULL;
	char err[256];

	if (api_merge_patch(d, p, &out, err, sizeof err))
		fail_msg("merge patch failed: %s", err);
	assert_json(out, want);
	assert_json(d, doc);
	json_decref(d);
	json_decref(p);
	json_decref(out);
}

/* Examples from RFC 7386's appendix A (those with an object patch). */
static void merge_patch_rfc(void **state)
{
	json_t *d = parse("{}"), *p = parse("[1]"), *out = NULL;
	char err[256];

	(void)state;
	mp_ok("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	mp_ok("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
	mp_ok("{\"a\":\"b\"}", "{\"a\":null}", "{}");
	mp_ok("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
	mp_ok("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	mp_ok("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
	mp_ok("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
	mp_ok("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
	mp_ok("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
	mp_ok("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
	mp_ok("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
	/* kubectl scale's patch. */
	mp_ok("{\"spec\":{\"replicas\":1,\"selector\":{}}}", "{\"spec\":{\"replicas\":5}}",
	      "{\"spec\":{\"replicas\":5,\"selector\":{}}}");
	assert_int_equal(api_merge_patch(d, p, &out, err, sizeof err), STSD_INVALID);
	assert_null(out);
	json_decref(d);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(smp_container_image),
	    cmocka_unit_test(smp_rollout_undo_replace),
	    cmocka_unit_test(smp_delete_directive),
	    cmocka_unit_test(smp_set_element_order),
	    cmocka_unit_test(smp_list_order_without_directive),
	    cmocka_unit_test(smp_retain_keys),
	    cmocka_unit_test(smp_delete_from_primitive_list),
	    cmocka_unit_test(smp_null_deletes),
	    cmocka_unit_test(smp_lists_by_strategy),
	    cmocka_unit_test(smp_no_directive_leaks),
	    cmocka_unit_test(smp_errors),
	    cmocka_unit_test(smp_deep_and_large),
	    cmocka_unit_test(json_patch_ops),
	    cmocka_unit_test(json_patch_errors),
	    cmocka_unit_test(json_patch_copy_bomb),
	    cmocka_unit_test(merge_patch_rfc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
