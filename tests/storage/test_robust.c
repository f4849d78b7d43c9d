/* test_robust.c — the store under bad data and exhausted space: damaged envelopes read back as
 * errors, the map grows by itself, a full map limit or a full disk is an error that changes
 * nothing. (This test opens the LMDB file directly, as only a storage test may, to plant damaged
 * values.) */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"

/* Overwrite the raw value of key in table with val (the store must be closed). */
static void plant(const char *dir, const char *table, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	mdb_env_set_mapsize(env, (size_t)256 << 20);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Apply one op at the next revision and return store_apply's own result: damage in the store is an
 * error of the replica (CORRUPT), not a typed outcome of the command. */
static int apply_raw(struct fixture *f, const struct store_op *op)
{
	struct store_batch b = {.revision = f->rev + 1, .now = 1, .ops = op, .n_ops = 1};
	struct store_result res;
	int rv = store_apply(f->s, &b, &res);

	store_result_free(&res);
	return rv;
}

static int count(void *ud, const struct store_object *o)
{
	(void)o;
	++*(int *)ud;
	return 0;
}

static void damaged_values_read_as_errors(void **state)
{
	struct fixture *f = *state;
	static const char key[] = "configmaps\0default\0a";
	static const char pkey[] = "pods\0default\0p";
	const char *values[] = {"",
	                        "\x01",
	                        "garbage that is not protobuf at all",
	                        "\x08\x01\x7a\xff\xff\xff\xff\x0f", /* json length beyond the end */
	                        "\x08\x02\x10\x01",                 /* a future format version */
	                        "\x10\x05"};                        /* no format field */
	struct store_list_request req = {.resource = "configmaps"};
	struct store_list_page page;
	struct store_reader *r;
	struct store_object o;
	char err[256];

	assert_int_equal(fx_create(f, "configmaps", "default", "a", "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "p", "{\"spec\":{\"nodeName\":\"n\"}}"),
	                 STSD_OK);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int n = 0;
		store_close(f->s);
		plant(f->dir, "objects", key, sizeof key - 1, values[i], strlen(values[i]));
		plant(f->dir, "objects", pkey, sizeof pkey - 1, values[i], strlen(values[i]));
		assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
		assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
		int rv = store_get(r, "configmaps", "default", "a", &o);
		assert_true(rv == STSD_CORRUPT || rv == STSD_UNSUPPORTED);
		rv = store_list(r, &req, count, &n, &page);
		assert_true(rv == STSD_CORRUPT || rv == STSD_UNSUPPORTED);
		rv = store_list_pods_on_node(r, "n", count, &n);
		assert_true(rv == STSD_CORRUPT || rv == STSD_UNSUPPORTED);
		store_read_end(r);
		/* Writing over it fails cleanly too, and changes nothing (not even the index). */
		struct store_op op = {.type = STORE_OP_UPDATE,
		                      .resource = "configmaps",
		                      .ns = "default",
		                      .name = "a",
		                      .json = "{}",
		                      .json_len = 2};
		rv = apply_raw(f, &op);
		assert_true(rv == STSD_CORRUPT || rv == STSD_UNSUPPORTED);
		assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
		assert_int_equal(store_reader_applied_index(r), 2);
		store_read_end(r);
	}
}

static void damaged_claims_and_changes(void **state)
{
	struct fixture *f = *state;
	static const char ckey[] = "default\0web\0\0\0\0\0";
	unsigned char chkey[12] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct store_reader *r;
	struct store_claim c;
	char err[256];

	struct store_op op = {.type = STORE_OP_CLAIM_ACQUIRE,
	                      .ns = "default",
	                      .name = "web",
	                      .claim = {.pod_uid = "u"}};
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	store_close(f->s);
	plant(f->dir, "claims", ckey, sizeof ckey - 1, "\x08\x01\x28\x07", 4); /* state 7 */
	plant(f->dir, "changes", chkey, sizeof chkey, "\xff\xff", 2);
	assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_claim_get(r, "default", "web", 0, &c), STSD_CORRUPT);
	assert_int_equal(store_changes(r, 0, 0, NULL, NULL), STSD_CORRUPT);
	store_read_end(r);
	op.type = STORE_OP_CLAIM_RELEASE;
	assert_int_equal(apply_raw(f, &op), STSD_CORRUPT);
}

static void map_grows_by_itself(void **state)
{
	struct fixture *f = *state;
	struct store_options opts = {.map_size = 1 << 20};
	char json[4200], name[32], err[256];
	struct store_list_request req = {.resource = "configmaps"};
	struct store_list_page page;
	struct store_reader *r;
	int n = 0;

	store_close(f->s);
	fx_rmrf(f->dir);
	assert_int_equal(store_open(f->dir, &opts, &f->s, err, sizeof err), STSD_OK);
	snprintf(json, sizeof json, "{\"data\":{\"k\":\"%4000d\"}}", 7);
	/* ~8 MB through a 1 MiB map. */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "cm-%d", i);
		assert_int_equal(fx_create(f, "configmaps", "default", name, json), STSD_OK);
	}
	assert_true(store_map_size(f->s) >= (size_t)8 << 20);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, count, &n, &page), STSD_OK);
	assert_int_equal(store_reader_applied_index(r), 2000);
	store_read_end(r);
	assert_int_equal(n, 2000);
}

/* Write 4 KiB objects until the store refuses; return how many were acknowledged. */
static int write_until_full(struct fixture *f, int *last_rv)
{
	char json[4200], name[32];
	int i;

	snprintf(json, sizeof json, "{\"data\":{\"k\":\"%4000d\"}}", 7);
	for (i = 0; i < 100000; i++) {
		struct store_op op = {.type = STORE_OP_CREATE,
		                      .resource = "configmaps",
		                      .ns = "default",
		                      .name = name,
		                      .json = json,
		                      .json_len = strlen(json)};
		struct store_batch b = {.revision = f->rev + 1, .now = 1, .ops = &op, .n_ops = 1};
		struct store_result res;

		snprintf(name, sizeof name, "cm-%d", i);
		*last_rv = store_apply(f->s, &b, &res);
		store_result_free(&res);
		if (*last_rv != STSD_OK)
			return i;
		f->rev++;
	}
	return i;
}

/* After a refused write the store still holds exactly the acknowledged writes, also reopened. */
static void check_intact(struct fixture *f, int acked, const struct store_options *opts)
{
	struct store_list_request req = {.resource = "configmaps"};
	struct store_list_page page;
	struct store_reader *r;
	char err[256];
	int n = 0;

	store_close(f->s);
	assert_int_equal(store_open(f->dir, opts, &f->s, err, sizeof err), STSD_OK);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, count, &n, &page), STSD_OK);
	assert_int_equal(store_reader_applied_index(r), (uint64_t)acked);
	store_read_end(r);
	assert_int_equal(n, acked);
}

static void map_limit_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct store_options opts = {.map_size = 1 << 20, .max_map_size = 4 << 20};
	struct store_reader *r;
	char err[256];
	int rv, acked;

	store_close(f->s);
	fx_rmrf(f->dir);
	assert_int_equal(store_open(f->dir, &opts, &f->s, err, sizeof err), STSD_OK);
	acked = write_until_full(f, &rv);
	assert_int_equal(rv, STSD_NOSPACE);
	assert_true(acked > 100);
	assert_non_null(strstr(store_errmsg(f->s), "limit"));
	/* Reads still work; a reader held on this thread makes growth refuse, not deadlock. */
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_reader_applied_index(r), (uint64_t)acked);
	store_read_end(r);
	check_intact(f, acked, &opts);
}

static void reader_on_writer_thread_does_not_deadlock(void **state)
{
	struct fixture *f = *state;
	struct store_options opts = {.map_size = 1 << 20, .grow_wait_ms = 100};
	struct store_reader *r;
	char err[256];
	int rv, acked;

	store_close(f->s);
	fx_rmrf(f->dir);
	assert_int_equal(store_open(f->dir, &opts, &f->s, err, sizeof err), STSD_OK);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	acked = write_until_full(f, &rv);
	assert_int_equal(rv, STSD_BUSY);
	assert_non_null(strstr(store_errmsg(f->s), "still open"));
	store_read_end(r);
	check_intact(f, acked, &opts);
}

struct reader_thread {
	struct store *s;
	struct store_reader *handed; /* begun here, ended by the main thread */
	volatile int phase;
};

/* Holds a reader while the main thread's write waits to grow the map, begins and ends a second one
 * meanwhile (nested readers must not deadlock), then ends the first. Also begins one that the main
 * thread ends (a reader may move between threads). */
static void *reader_thread(void *arg)
{
	struct reader_thread *t = arg;
	struct store_reader *a, *b;
	struct timespec ts = {0, 50 * 1000000L};

	assert_int_equal(store_read_begin(t->s, &t->handed), STSD_OK);
	assert_int_equal(store_read_begin(t->s, &a), STSD_OK);
	t->phase = 1;
	nanosleep(&ts, NULL); /* the writer is now growing, or about to: either order must work */
	assert_int_equal(store_read_begin(t->s, &b), STSD_OK);
	store_read_end(b);
	store_read_end(a);
	t->phase = 2;
	return NULL;
}

static void readers_across_threads(void **state)
{
	struct fixture *f = *state;
	struct store_options opts = {.map_size = 1 << 20};
	struct reader_thread t = {0};
	pthread_t th;
	char err[256];
	int rv;

	store_close(f->s);
	fx_rmrf(f->dir);
	assert_int_equal(store_open(f->dir, &opts, &f->s, err, sizeof err), STSD_OK);
	t.s = f->s;
	assert_int_equal(pthread_create(&th, NULL, reader_thread, &t), 0);
	while (t.phase == 0)
		sched_yield();
	/* The reader handed over from the other thread ends here, before the map has to grow. */
	store_read_end(t.handed);
	/* Grows the map several times; waits for the other thread's readers, never deadlocks. */
	for (int i = 0; i < 400; i++) {
		char name[32], json[4200];
		snprintf(name, sizeof name, "cm-%d", i);
		snprintf(json, sizeof json, "{\"data\":{\"k\":\"%4000d\"}}", i);
		rv = fx_create(f, "configmaps", "default", name, json);
		assert_int_equal(rv, STSD_OK);
	}
	pthread_join(th, NULL);
	assert_int_equal(t.phase, 2);
	assert_true(store_map_size(f->s) > (size_t)1 << 20);
}

static void full_disk_is_an_error(void **state)
{
	struct fixture *f = *state;
	char mnt[200], err[256];
	int rv, acked;

	fx_tmpdir(mnt, sizeof mnt);
	if (mount("stsd-test", mnt, "tmpfs", 0, "size=3m") != 0) {
		fprintf(stderr, "# skipped: cannot mount a small tmpfs (%s)\n", strerror(errno));
		rmdir(mnt);
		skip();
	}
	store_close(f->s);
	fx_rmrf(f->dir);
	snprintf(f->dir, sizeof f->dir, "%s/store", mnt);
	assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
	acked = write_until_full(f, &rv);
	assert_int_equal(rv, STSD_NOSPACE);
	assert_true(acked > 50);
	check_intact(f, acked, NULL);
	/* Space freed (a compaction, an operator): writing resumes. */
	assert_int_equal(store_compact(f->s, (uint64_t)acked, NULL), STSD_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(umount(mnt), 0);
	rmdir(mnt);
	fx_tmpdir(f->dir, sizeof f->dir);
	assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(damaged_values_read_as_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(damaged_claims_and_changes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(map_grows_by_itself, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(map_limit_is_an_error, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(reader_on_writer_thread_does_not_deadlock, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(readers_across_threads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(full_disk_is_an_error, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
