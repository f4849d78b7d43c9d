/* test_changes.c — the change log: one entry per change in the writing transaction, read from a
 * revision, compaction and 410-style expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"

struct log {
	char items[64][160];
	uint64_t revs[64];
	size_t n;
};

static const char *type_name(enum store_change_type t)
{
	return t == STORE_ADDED ? "ADDED" : t == STORE_MODIFIED ? "MODIFIED" : "DELETED";
}

static int collect(void *ud, const struct store_change *c)
{
	struct log *l = ud;
	char rv[32] = "";
	const char *p;

	if (!c->is_claim && (p = strstr(c->json, "\"resourceVersion\":\"")))
		sscanf(p + 19, "%31[0-9]", rv);
	if (c->is_claim)
		snprintf(l->items[l->n], 160, "%llu.%u %s %s %s/%s/%u %s",
		         (unsigned long long)c->revision, c->seq, type_name(c->type), c->resource,
		         c->ns, c->name, c->ordinal, c->claim.pod_uid);
	else
		snprintf(l->items[l->n], 160, "%llu.%u %s %s %s/%s rv=%s",
		         (unsigned long long)c->revision, c->seq, type_name(c->type), c->resource,
		         c->ns, c->name, rv);
	l->revs[l->n++] = c->revision;
	return 0;
}

static int read_log(struct fixture *f, uint64_t after, size_t limit, struct log *l)
{
	struct store_reader *r;
	int rv;

	l->n = 0;
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	rv = store_changes(r, after, limit, collect, l);
	store_read_end(r);
	return rv;
}

static void every_change_is_logged(void **state)
{
	struct fixture *f = *state;
	struct log l;
	struct store_op batch[2] = {
	    {.type = STORE_OP_CLAIM_ACQUIRE,
	     .ns = "default",
	     .name = "web",
	     .ordinal = 0,
	     .claim = {.pod_uid = "p1", .pod_name = "web-0"}},
	    {.type = STORE_OP_CREATE,
	     .resource = "pods",
	     .ns = "default",
	     .name = "web-0",
	     .json = "{}",
	     .json_len = 2},
	};
	struct store_op release = {
	    .type = STORE_OP_CLAIM_RELEASE, .ns = "default", .name = "web", .ordinal = 0};

	assert_int_equal(fx_create(f, "configmaps", "default", "a", "{\"data\":{}}"), STSD_OK);
	assert_int_equal(fx_update(f, "configmaps", "default", "a", "{\"data\":{\"x\":\"y\"}}", 0),
	                 STSD_OK);
	/* A no-op update and a failed precondition log nothing. */
	assert_int_equal(fx_update(f, "configmaps", "default", "a", "{\"data\":{\"x\":\"y\"}}", 0),
	                 STSD_OK);
	assert_int_equal(fx_update(f, "configmaps", "default", "a", "{}", 99), STSD_CONFLICT);
	assert_int_equal(fx_apply(f, batch, 2, NULL), STSD_OK);
	assert_int_equal(fx_delete(f, "configmaps", "default", "a"), STSD_OK);
	assert_int_equal(fx_apply(f, &release, 1, NULL), STSD_OK);

	assert_int_equal(read_log(f, 0, 0, &l), STSD_OK);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.items[0], "1.0 ADDED configmaps default/a rv=1");
	assert_string_equal(l.items[1], "2.0 MODIFIED configmaps default/a rv=2");
	assert_string_equal(l.items[2], "5.0 ADDED ordinalclaims default/web/0 p1");
	assert_string_equal(l.items[3], "5.1 ADDED pods default/web-0 rv=5");
	/* The deleted object carries the deletion's revision. */
	assert_string_equal(l.items[4], "6.0 DELETED configmaps default/a rv=6");
	assert_string_equal(l.items[5], "7.0 DELETED ordinalclaims default/web/0 p1");

	/* From a revision: strictly after it; limit caps the count. */
	assert_int_equal(read_log(f, 2, 0, &l), STSD_OK);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.revs[0], 5);
	assert_int_equal(read_log(f, 0, 2, &l), STSD_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(read_log(f, 7, 0, &l), STSD_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(read_log(f, 1000, 0, &l), STSD_OK);
	assert_int_equal(l.n, 0);
}

static void compaction_expires_old_revisions(void **state)
{
	struct fixture *f = *state;
	struct store_reader *r;
	struct store_stats st;
	uint64_t removed;
	char name[16];
	struct log l;

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "cm-%02d", i);
		assert_int_equal(fx_create(f, "configmaps", "default", name, "{}"), STSD_OK);
	}
	assert_int_equal(store_compact(f->s, 15, &removed), STSD_OK);
	assert_int_equal(removed, 15);
	/* Revisions at or above the floor are still readable; below it is expired. */
	assert_int_equal(read_log(f, 15, 0, &l), STSD_OK);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.revs[0], 16);
	assert_int_equal(read_log(f, 14, 0, &l), STSD_EXPIRED);
	assert_int_equal(read_log(f, 0, 0, &l), STSD_EXPIRED);
	/* Compacting below the floor again is a no-op; beyond the applied index is capped. */
	assert_int_equal(store_compact(f->s, 3, &removed), STSD_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_compact(f->s, 1000, &removed), STSD_OK);
	assert_int_equal(removed, 5);
	assert_int_equal(read_log(f, 20, 0, &l), STSD_OK);
	assert_int_equal(read_log(f, 19, 0, &l), STSD_EXPIRED);
	/* Objects are untouched; new writes keep logging. */
	assert_int_equal(fx_create(f, "configmaps", "default", "after", "{}"), STSD_OK);
	assert_int_equal(read_log(f, 20, 0, &l), STSD_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_stats(r, &st, NULL, NULL), STSD_OK);
	assert_int_equal(st.objects, 21);
	assert_int_equal(st.changes, 1);
	assert_int_equal(st.first_change, 21);
	assert_int_equal(store_reader_compacted(r), 20);
	store_read_end(r);
}

static void compaction_in_chunks(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[100];
	char names[100][16];
	uint64_t removed;
	struct log l;

	/* 25,000 entries: more than one compaction transaction. */
	for (int b = 0; b < 250; b++) {
		for (int i = 0; i < 100; i++) {
			snprintf(names[i], 16, "c-%05d", b * 100 + i);
			ops[i] = (struct store_op){.type = STORE_OP_CREATE,
			                           .resource = "configmaps",
			                           .ns = "default",
			                           .name = names[i],
			                           .json = "{}",
			                           .json_len = 2};
		}
		assert_int_equal(fx_apply(f, ops, 100, NULL), STSD_OK);
	}
	assert_int_equal(store_compact(f->s, 240, &removed), STSD_OK);
	assert_int_equal(removed, 24000);
	assert_int_equal(read_log(f, 240, 10, &l), STSD_OK);
	assert_int_equal(l.n, 10);
	assert_int_equal(l.revs[0], 241);
	assert_int_equal(read_log(f, 239, 10, &l), STSD_EXPIRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(every_change_is_logged, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(compaction_expires_old_revisions, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(compaction_in_chunks, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
