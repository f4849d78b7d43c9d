/* test_objects.c — object operations: metadata the store maintains, preconditions, generation
 * rules, no-op updates, typed results and all-or-nothing batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"

#define CM_A \
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"1\"}}"
#define STS(img, replicas)                                                                    \
	"{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\",\"labels\":{\"x\":\"1\"}}," \
	"\"spec\":{\"replicas\":" replicas ",\"image\":\"" img "\"},\"status\":{\"replicas\":0}}"

static void create_sets_metadata(void **state)
{
	struct fixture *f = *state;
	struct store_object meta;
	char *json;

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	json = fx_get(f, "configmaps", "default", "a", &meta);
	assert_non_null(json);
	free(json);
	assert_int_equal(meta.resource_version, f->rev);
	assert_int_equal(meta.creation_time, 1764072000);
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "resourceVersion"), "1");
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "namespace"), "default");
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "creationTimestamp"),
	                    "2025-11-25T12:00:00Z");
	/* A uid derived from the revision: a UUID, the same on every replica. */
	assert_int_equal(strlen(fx_meta(f, "configmaps", "default", "a", "uid")), 36);
	/* No spec, no generation (as ConfigMaps in Kubernetes). */
	assert_null(fx_meta(f, "configmaps", "default", "a", "generation"));
}

static void create_uses_given_uid_and_drops_client_fields(void **state)
{
	struct fixture *f = *state;
	const char *json =
	    "{\"metadata\":{\"name\":\"b\",\"uid\":\"client\",\"generation\":7,"
	    "\"deletionTimestamp\":\"2020-01-01T00:00:00Z\",\"resourceVersion\":\"99\"},"
	    "\"spec\":{}}";
	struct store_op op = {.type = STORE_OP_CREATE,
	                      .resource = "things",
	                      .ns = "ns",
	                      .name = "b",
	                      .json = json,
	                      .json_len = strlen(json),
	                      .uid = "u-1"};

	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	assert_string_equal(fx_meta(f, "things", "ns", "b", "uid"), "u-1");
	assert_string_equal(fx_meta(f, "things", "ns", "b", "generation"), "1");
	assert_string_equal(fx_meta(f, "things", "ns", "b", "resourceVersion"), "1");
	assert_null(fx_meta(f, "things", "ns", "b", "deletionTimestamp"));
}

static void derived_uids_differ(void **state)
{
	struct fixture *f = *state;
	char uid[64];

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	strcpy(uid, fx_meta(f, "configmaps", "default", "a", "uid"));
	assert_int_equal(fx_delete(f, "configmaps", "default", "a"), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	assert_string_not_equal(uid, fx_meta(f, "configmaps", "default", "a", "uid"));
}

static void typed_results(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_EXISTS);
	assert_int_equal(fx_update(f, "configmaps", "default", "zz", CM_A, 0), STSD_NOTFOUND);
	assert_int_equal(fx_delete(f, "configmaps", "default", "zz"), STSD_NOTFOUND);
	/* Stale resourceVersion. */
	assert_int_equal(fx_update(f, "configmaps", "default", "a",
	                           "{\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"2\"}}", 999),
	                 STSD_CONFLICT);
	/* Bad input: not JSON, not an object, metadata not an object, name mismatch, namespace
	 * mismatch, empty name, overlong name. */
	assert_int_equal(fx_create(f, "configmaps", "default", "b", "{nope"), STSD_INVALID);
	assert_int_equal(fx_create(f, "configmaps", "default", "b", "[1,2]"), STSD_INVALID);
	assert_int_equal(fx_create(f, "configmaps", "default", "b", "{\"metadata\":3}"),
	                 STSD_INVALID);
	assert_int_equal(
	    fx_create(f, "configmaps", "default", "b", "{\"metadata\":{\"name\":\"c\"}}"),
	    STSD_INVALID);
	assert_int_equal(
	    fx_create(f, "configmaps", "default", "b", "{\"metadata\":{\"namespace\":\"other\"}}"),
	    STSD_INVALID);
	assert_int_equal(fx_create(f, "configmaps", "default", "", "{}"), STSD_INVALID);
	char longname[400];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(fx_create(f, "configmaps", "default", longname, "{}"), STSD_INVALID);
	/* Duplicate keys are refused rather than silently resolved. */
	assert_int_equal(fx_create(f, "configmaps", "default", "d", "{\"a\":1,\"a\":2}"),
	                 STSD_INVALID);
	/* None of it changed the stored object. */
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "resourceVersion"), "1");
}

static void update_keeps_identity_and_bumps_rv(void **state)
{
	struct fixture *f = *state;
	char uid[64], created[64];

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	strcpy(uid, fx_meta(f, "configmaps", "default", "a", "uid"));
	strcpy(created, fx_meta(f, "configmaps", "default", "a", "creationTimestamp"));
	assert_int_equal(
	    fx_update(
	        f, "configmaps", "default", "a",
	        "{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"1999-01-01T00:00:00Z\"},"
	        "\"data\":{\"k\":\"2\"}}",
	        1),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "resourceVersion"), "2");
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "uid"), uid);
	assert_string_equal(fx_meta(f, "configmaps", "default", "a", "creationTimestamp"), created);
	/* A different uid in the body is a conflict, not a silent overwrite. */
	assert_int_equal(fx_update(f, "configmaps", "default", "a",
	                           "{\"metadata\":{\"name\":\"a\",\"uid\":\"other\"}}", 0),
	                 STSD_CONFLICT);
}

static void generation_rules(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fx_create(f, "statefulsets", "default", "web", STS("a", "1")), STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "1");
	/* Status only: new rv, same generation. */
	assert_int_equal(
	    fx_update(
	        f, "statefulsets", "default", "web",
	        "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\",\"labels\":{\"x\":\"1\"}},"
	        "\"spec\":{\"replicas\":1,\"image\":\"a\"},\"status\":{\"replicas\":1}}",
	        0),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "1");
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "resourceVersion"), "2");
	/* Metadata only (a label): same generation. */
	assert_int_equal(
	    fx_update(
	        f, "statefulsets", "default", "web",
	        "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\",\"labels\":{\"x\":\"2\"}},"
	        "\"spec\":{\"replicas\":1,\"image\":\"a\"},\"status\":{\"replicas\":1}}",
	        0),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "1");
	/* Spec: bumped. A client-supplied generation is ignored. */
	assert_int_equal(
	    fx_update(f, "statefulsets", "default", "web",
	              "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\",\"generation\":40},"
	              "\"spec\":{\"replicas\":3,\"image\":\"a\"},\"status\":{\"replicas\":1}}",
	              0),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "2");
	/* Deletion starting (deletionTimestamp set) bumps it too, and it cannot be unset. */
	assert_int_equal(
	    fx_update(
	        f, "statefulsets", "default", "web",
	        "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
	        "\"spec\":{\"replicas\":3,\"image\":\"a\"},\"status\":{\"replicas\":1}}",
	        0),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "3");
	assert_int_equal(
	    fx_update(f, "statefulsets", "default", "web",
	              "{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\"},"
	              "\"spec\":{\"replicas\":3,\"image\":\"a\"},\"status\":{\"replicas\":2}}",
	              0),
	    STSD_OK);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "deletionTimestamp"),
	                    "2026-01-01T00:00:00Z");
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "3");
}

static void noop_update_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_result res;
	struct store_op op = {.type = STORE_OP_UPDATE,
	                      .resource = "statefulsets",
	                      .ns = "default",
	                      .name = "web",
	                      .json = STS("a", "1"),
	                      .json_len = strlen(STS("a", "1"))};
	struct store_reader *r;
	struct store_stats st;

	assert_int_equal(fx_create(f, "statefulsets", "default", "web", STS("a", "1")), STSD_OK);
	assert_int_equal(fx_apply(f, &op, 1, &res), STSD_OK);
	assert_false(res.objects[0].changed);
	assert_int_equal(res.objects[0].resource_version, 1);
	assert_non_null(res.objects[0].json);
	assert_non_null(strstr(res.objects[0].json, "\"resourceVersion\":\"1\""));
	store_result_free(&res);
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "resourceVersion"), "1");
	assert_string_equal(fx_meta(f, "statefulsets", "default", "web", "generation"), "1");
	/* The applied index moved (the entry was applied), the change log did not. */
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_reader_applied_index(r), 2);
	assert_int_equal(store_stats(r, &st, NULL, NULL), STSD_OK);
	assert_int_equal(st.changes, 1);
	store_read_end(r);
}

static void batch_is_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_result res;
	unsigned char before[32], after[32];
	uint64_t applied;
	struct store_op ops[3] = {
	    {.type = STORE_OP_CREATE,
	     .resource = "configmaps",
	     .ns = "default",
	     .name = "x",
	     .json = "{}",
	     .json_len = 2},
	    {.type = STORE_OP_CLAIM_ACQUIRE,
	     .ns = "default",
	     .name = "web",
	     .ordinal = 0,
	     .claim = {.pod_uid = "u0", .pod_name = "web-0", .node = "n1"}},
	    {.type = STORE_OP_UPDATE,
	     .resource = "configmaps",
	     .ns = "default",
	     .name = "missing",
	     .json = "{}",
	     .json_len = 2},
	};

	fx_digest(f->s, before, NULL);
	assert_int_equal(fx_apply(f, ops, 3, &res), STSD_NOTFOUND);
	assert_int_equal(res.failed_op, 2);
	assert_non_null(strstr(res.message, "missing"));
	assert_null(res.objects);
	store_result_free(&res);
	fx_digest(f->s, after, &applied);
	assert_memory_equal(before, after, 32);
	assert_int_equal(applied, 1); /* the failed entry still counts as applied */
	assert_null(fx_get(f, "configmaps", "default", "x", NULL));

	/* The same batch without the failing op commits both, at one revision. */
	assert_int_equal(fx_apply(f, ops, 2, &res), STSD_OK);
	assert_int_equal(res.objects[0].resource_version, 2);
	assert_int_equal(res.objects[1].resource_version, 2);
	store_result_free(&res);
}

static void later_ops_see_earlier_ones(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[3] = {
	    {.type = STORE_OP_CREATE,
	     .resource = "configmaps",
	     .ns = "default",
	     .name = "x",
	     .json = "{\"data\":{}}",
	     .json_len = 11},
	    {.type = STORE_OP_UPDATE,
	     .resource = "configmaps",
	     .ns = "default",
	     .name = "x",
	     .json = "{\"data\":{\"a\":\"b\"}}",
	     .json_len = 18},
	    {.type = STORE_OP_ASSERT,
	     .resource = "configmaps",
	     .ns = "default",
	     .name = "x",
	     .expect_rv = 1},
	};

	char *json;

	assert_int_equal(fx_apply(f, ops, 3, NULL), STSD_OK);
	json = fx_get(f, "configmaps", "default", "x", NULL);
	assert_non_null(strstr(json, "\"a\":\"b\""));
	free(json);
}

static void preconditions(void **state)
{
	struct fixture *f = *state;
	char uid[64];
	struct store_op op = {
	    .type = STORE_OP_ASSERT, .resource = "configmaps", .ns = "default", .name = "a"};

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	strcpy(uid, fx_meta(f, "configmaps", "default", "a", "uid"));
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	op.expect_uid = uid;
	op.expect_rv = 1;
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	op.expect_uid = "someone-else";
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_CONFLICT);
	op.expect_uid = NULL;
	op.expect_rv = 2;
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_CONFLICT);
	op.expect_rv = 0;
	op.expect_absent = true;
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_EXISTS);
	op.name = "nope";
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	op.expect_absent = false;
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_NOTFOUND);
	/* Delete with a uid precondition. */
	struct store_op del = {.type = STORE_OP_DELETE,
	                       .resource = "configmaps",
	                       .ns = "default",
	                       .name = "a",
	                       .expect_uid = "wrong"};
	assert_int_equal(fx_apply(f, &del, 1, NULL), STSD_CONFLICT);
	del.expect_uid = uid;
	assert_int_equal(fx_apply(f, &del, 1, NULL), STSD_OK);
}

static void old_revisions_are_skipped(void **state)
{
	struct fixture *f = *state;
	struct store_op op = {.type = STORE_OP_CREATE,
	                      .resource = "configmaps",
	                      .ns = "default",
	                      .name = "late",
	                      .json = "{}",
	                      .json_len = 2};
	struct store_batch b = {.revision = 1, .now = 1, .ops = &op, .n_ops = 1};
	struct store_result res;

	assert_int_equal(fx_create(f, "configmaps", "default", "a", CM_A), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "default", "b", CM_A), STSD_INVALID);
	/* Revision 1 is covered: replaying it (a restart replaying the Raft log) does nothing. */
	assert_int_equal(store_apply(f->s, &b, &res), STSD_OK);
	assert_true(res.skipped);
	store_result_free(&res);
	assert_null(fx_get(f, "configmaps", "default", "late", NULL));
}

static void cluster_scoped_keys(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    fx_create(f, "namespaces", "", "prod", "{\"metadata\":{\"name\":\"prod\"}}"), STSD_OK);
	assert_null(fx_meta(f, "namespaces", "", "prod", "namespace"));
	assert_int_equal(fx_create(f, "nodes", NULL, "n1", "{\"metadata\":{\"namespace\":\"x\"}}"),
	                 STSD_INVALID);
}

/* Group commit: batches of one revision in one transaction, each all-or-nothing on its own. */
static void many_batches_commit_independently(void **state)
{
	struct fixture *f = *state;
	struct store_op a = {.type = STORE_OP_CREATE,
	                     .resource = "configmaps",
	                     .ns = "default",
	                     .name = "a",
	                     .json = "{}",
	                     .json_len = 2};
	struct store_op bad = {.type = STORE_OP_UPDATE,
	                       .resource = "configmaps",
	                       .ns = "default",
	                       .name = "missing",
	                       .json = "{}",
	                       .json_len = 2};
	struct store_op c[2] = {{.type = STORE_OP_CREATE,
	                         .resource = "configmaps",
	                         .ns = "default",
	                         .name = "c1",
	                         .json = "{}",
	                         .json_len = 2},
	                        {.type = STORE_OP_CREATE,
	                         .resource = "configmaps",
	                         .ns = "default",
	                         .name = "c2",
	                         .json = "{}",
	                         .json_len = 2}};
	struct store_batch b[3] = {{.revision = 7, .ops = &a, .n_ops = 1, .want_objects = true},
	                           {.revision = 7, .ops = &bad, .n_ops = 1},
	                           {.revision = 7, .ops = c, .n_ops = 2, .want_objects = true}};
	struct store_result res[3];
	struct store_object meta;
	uint64_t applied;
	unsigned char d[32];

	assert_int_equal(store_apply_many(f->s, b, 3, res), STSD_OK);
	assert_int_equal(res[0].status, STSD_OK);
	assert_int_equal(res[1].status, STSD_NOTFOUND);
	assert_int_equal(res[2].status, STSD_OK);
	assert_int_equal(res[2].objects[1].resource_version, 7);
	for (int i = 0; i < 3; i++)
		store_result_free(&res[i]);
	free(fx_get(f, "configmaps", "default", "c2", &meta));
	assert_int_equal(meta.resource_version, 7);
	char *json = fx_get(f, "configmaps", "default", "a", NULL);
	assert_non_null(json);
	free(json);
	fx_digest(f->s, d, &applied);
	assert_int_equal(applied, 7);
	/* Three changes at revision 7, numbered across the batches (no key collides). */
	struct store_reader *r;
	struct store_stats st;
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_stats(r, &st, NULL, NULL), STSD_OK);
	store_read_end(r);
	assert_int_equal(st.changes, 3);
	/* The same revision again is skipped as a whole; two revisions at once are refused. */
	assert_int_equal(store_apply_many(f->s, b, 3, res), STSD_OK);
	assert_true(res[0].skipped && res[2].skipped);
	b[0].revision = b[1].revision = 8;
	assert_int_equal(store_apply_many(f->s, b, 3, res), STSD_INVALID);
	fx_digest(f->s, d, &applied);
	assert_int_equal(applied, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(create_sets_metadata, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(create_uses_given_uid_and_drops_client_fields, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(derived_uids_differ, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(typed_results, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(update_keeps_identity_and_bumps_rv, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(generation_rules, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(noop_update_writes_nothing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(batch_is_all_or_nothing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(later_ops_see_earlier_ones, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(preconditions, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(old_revisions_are_skipped, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(cluster_scoped_keys, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(many_batches_commit_independently, fx_setup,
	                                    fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
