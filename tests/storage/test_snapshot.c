/* test_snapshot.c — the digest, and snapshot export/import: round trip, export under concurrent
 * writes, atomic replacement, and refusal of damaged snapshots. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static int buf_write(void *ud, const void *p, size_t len)
{
	struct buf *b = ud;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

static void fill(struct fixture *f, int n)
{
	char name[32], json[128];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "web-%d", i);
		snprintf(json, sizeof json, "{\"spec\":{\"nodeName\":\"n%d\"}}", i % 3);
		assert_int_equal(fx_create(f, "pods", "default", name, json), STSD_OK);
		struct store_op claim = {.type = STORE_OP_CLAIM_ACQUIRE,
		                         .ns = "default",
		                         .name = "web",
		                         .ordinal = (uint32_t)i,
		                         .claim = {.pod_uid = name, .pod_name = name, .node = "n"}};
		assert_int_equal(fx_apply(f, &claim, 1, NULL), STSD_OK);
	}
}

static void export_to(struct store *s, struct buf *b, unsigned char digest[32])
{
	struct store_reader *r;

	assert_int_equal(store_read_begin(s, &r), STSD_OK);
	if (digest)
		assert_int_equal(store_digest(r, digest), STSD_OK);
	assert_int_equal(store_snapshot_export(r, buf_write, b), STSD_OK);
	store_read_end(r);
}

static void digest_tracks_content(void **state)
{
	struct fixture *f = *state;
	unsigned char d0[32], d1[32], d2[32], d3[32];
	uint64_t removed;

	assert_int_equal(fx_create(f, "configmaps", "default", "a", "{\"data\":{\"k\":\"abc\"}}"),
	                 STSD_OK);
	fx_digest(f->s, d0, NULL);
	/* One byte of data changes it. */
	assert_int_equal(
	    fx_update(f, "configmaps", "default", "a", "{\"data\":{\"k\":\"abd\"}}", 0), STSD_OK);
	fx_digest(f->s, d1, NULL);
	assert_memory_not_equal(d0, d1, 32);
	/* So does a claim. */
	struct store_op claim = {.type = STORE_OP_CLAIM_ACQUIRE,
	                         .ns = "default",
	                         .name = "web",
	                         .claim = {.pod_uid = "u"}};
	assert_int_equal(fx_apply(f, &claim, 1, NULL), STSD_OK);
	fx_digest(f->s, d2, NULL);
	assert_memory_not_equal(d1, d2, 32);
	/* The change log is not part of it. */
	assert_int_equal(store_compact(f->s, 100, &removed), STSD_OK);
	assert_true(removed > 0);
	fx_digest(f->s, d3, NULL);
	assert_memory_equal(d2, d3, 32);
}

static void round_trip(void **state)
{
	struct fixture *f = *state, g = {0};
	unsigned char da[32], db[32];
	struct store_snapshot_info info;
	struct buf b = {0};
	struct store_reader *r;
	uint64_t applied;
	char err[256];

	fill(f, 30);
	export_to(f->s, &b, da);
	assert_int_equal(store_snapshot_peek(b.data, b.len, &info), STSD_OK);
	assert_int_equal(info.applied_index, f->rev);
	assert_int_equal(info.objects, 30);
	assert_int_equal(info.claims, 30);

	/* Import over a store that already holds other data. */
	fx_tmpdir(g.dir, sizeof g.dir);
	assert_int_equal(store_open(g.dir, NULL, &g.s, err, sizeof err), STSD_OK);
	assert_int_equal(fx_create(&g, "configmaps", "default", "stale", "{}"), STSD_OK);
	assert_int_equal(store_snapshot_import(g.s, b.data, b.len), STSD_OK);
	fx_digest(g.s, db, &applied);
	assert_memory_equal(da, db, 32);
	assert_int_equal(applied, f->rev);
	assert_null(fx_get(&g, "configmaps", "default", "stale", NULL));

	/* The index was rebuilt; the change log starts at the snapshot. */
	assert_int_equal(store_read_begin(g.s, &r), STSD_OK);
	assert_int_equal(store_reader_compacted(r), f->rev);
	assert_int_equal(store_changes(r, f->rev - 1, 0, NULL, NULL), STSD_EXPIRED);
	store_read_end(r);

	/* Writes continue after the snapshot's index, and survive a reopen. */
	g.rev = applied;
	assert_int_equal(fx_create(&g, "configmaps", "default", "next", "{}"), STSD_OK);
	store_close(g.s);
	assert_int_equal(store_open(g.dir, NULL, &g.s, err, sizeof err), STSD_OK);
	assert_non_null(fx_meta(&g, "configmaps", "default", "next", "uid"));
	store_close(g.s);
	fx_rmrf(g.dir);
	free(b.data);
}

static int count_pod(void *ud, const struct store_object *o)
{
	(void)o;
	++*(int *)ud;
	return 0;
}

static void index_rebuilt_on_import(void **state)
{
	struct fixture *f = *state, g = {0};
	struct store_reader *r;
	struct buf b = {0};
	char err[256];
	int n = 0;

	fill(f, 9);
	export_to(f->s, &b, NULL);
	fx_tmpdir(g.dir, sizeof g.dir);
	assert_int_equal(store_open(g.dir, NULL, &g.s, err, sizeof err), STSD_OK);
	assert_int_equal(store_snapshot_import(g.s, b.data, b.len), STSD_OK);
	assert_int_equal(store_read_begin(g.s, &r), STSD_OK);
	assert_int_equal(store_list_pods_on_node(r, "n1", count_pod, &n), STSD_OK);
	store_read_end(r);
	assert_int_equal(n, 3);
	store_close(g.s);
	fx_rmrf(g.dir);
	free(b.data);
}

struct exporter {
	struct store_reader *r;
	struct buf b;
	int rv;
};

static void *export_thread(void *arg)
{
	struct exporter *e = arg;

	e->rv = store_snapshot_export(e->r, buf_write, &e->b);
	return NULL;
}

static void export_under_concurrent_writes(void **state)
{
	struct fixture *f = *state, g = {0};
	unsigned char at_view[32], imported[32], now[32];
	struct exporter e = {0};
	pthread_t t;
	char err[256];

	fill(f, 200);
	/* The view is taken here; the export runs on another thread while writes go on. */
	assert_int_equal(store_read_begin(f->s, &e.r), STSD_OK);
	assert_int_equal(store_digest(e.r, at_view), STSD_OK);
	assert_int_equal(pthread_create(&t, NULL, export_thread, &e), 0);
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof name, "during-%d", i);
		assert_int_equal(fx_create(f, "configmaps", "default", name, "{}"), STSD_OK);
		snprintf(name, sizeof name, "{\"spec\":{\"v\":%d}}", i);
		assert_int_equal(fx_update(f, "pods", "default", "web-1", name, 0), STSD_OK);
	}
	pthread_join(t, NULL);
	store_read_end(e.r);
	assert_int_equal(e.rv, STSD_OK);
	fx_digest(f->s, now, NULL);
	assert_memory_not_equal(at_view, now, 32);

	fx_tmpdir(g.dir, sizeof g.dir);
	assert_int_equal(store_open(g.dir, NULL, &g.s, err, sizeof err), STSD_OK);
	assert_int_equal(store_snapshot_import(g.s, e.b.data, e.b.len), STSD_OK);
	fx_digest(g.s, imported, NULL);
	assert_memory_equal(at_view, imported, 32);
	store_close(g.s);
	fx_rmrf(g.dir);
	free(e.b.data);
}

/* A damaged snapshot is refused and leaves the importing store exactly as it was. */
static void expect_refused(struct fixture *g, const unsigned char *data, size_t len)
{
	unsigned char before[32], after[32];
	uint64_t a0, a1;

	fx_digest(g->s, before, &a0);
	assert_int_not_equal(store_snapshot_import(g->s, data, len), STSD_OK);
	fx_digest(g->s, after, &a1);
	assert_memory_equal(before, after, 32);
	assert_int_equal(a0, a1);
}

static void damaged_snapshots_are_refused(void **state)
{
	struct fixture *f = *state, g = {0};
	struct buf b = {0};
	unsigned char *copy;
	char err[256];

	fill(f, 20);
	export_to(f->s, &b, NULL);
	fx_tmpdir(g.dir, sizeof g.dir);
	assert_int_equal(store_open(g.dir, NULL, &g.s, err, sizeof err), STSD_OK);
	assert_int_equal(fx_create(&g, "configmaps", "default", "keep", "{}"), STSD_OK);
	copy = malloc(b.len);

	expect_refused(&g, b.data, 0);
	expect_refused(&g, (const unsigned char *)"garbage!garbage!", 16);
	/* Every truncation point. */
	for (size_t cut = 0; cut < b.len; cut += 7)
		expect_refused(&g, b.data, cut);
	/* A flipped byte anywhere after the magic: a bad frame, a bad record or a wrong digest. */
	for (size_t at = 8; at < b.len; at += 13) {
		memcpy(copy, b.data, b.len);
		copy[at] ^= 0x20;
		if (store_snapshot_import(g.s, copy, b.len) == STSD_OK)
			fail_msg("flipped byte at %zu was accepted", at);
		/* The store was swapped in only if accepted: still the old content. */
		assert_non_null(fx_meta(&g, "configmaps", "default", "keep", "uid"));
	}
	/* The intact one still imports. */
	assert_int_equal(store_snapshot_import(g.s, b.data, b.len), STSD_OK);
	assert_null(fx_get(&g, "configmaps", "default", "keep", NULL));
	free(copy);
	store_close(g.s);
	fx_rmrf(g.dir);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(digest_tracks_content, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(round_trip, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(index_rebuilt_on_import, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(export_under_concurrent_writes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(damaged_snapshots_are_refused, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
