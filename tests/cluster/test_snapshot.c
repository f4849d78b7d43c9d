/* test_snapshot.c — a replica that was down while the others compacted their logs past its last
 * entry catches up by snapshot install, under writes, and restarts on the installed snapshot
 * afterwards. argv[1]: stsd. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "errors.h"
#include "harness.h"
#include "util.h"
#include "writers.h"

#define THRESHOLD  32
#define TRAILING   8
#define OBJECTS    150 /* ConfigMaps created while the replica is down */
#define RECOVER_MS 10000
#define READY_MS   15000

static const char *stsd;

static const char *const flags[] = {"--snapshot-threshold", "32", "--snapshot-trailing", "8", NULL};

static void nap(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Create ConfigMaps obj-0..obj-(n-1), each holding its own name. */
static void create_objects(struct harness *h, size_t n)
{
	struct client *c = harness_client(h, 15000);
	char name[32];

	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof name, "obj-%zu", i);
		json_t *body =
		    json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", name, "data", "name", name);
		int rv =
		    client_json(c, "POST", "/api/v1/namespaces/default/configmaps", body, NULL);
		json_decref(body);
		/* AlreadyExists: our own earlier attempt, retried by the client, got there. */
		if (rv != STSD_OK && rv != STSD_EXISTS)
			fail_msg("create %s: %s", name, client_errmsg(c));
	}
	client_destroy(c);
}

/* Wait until every running replica's latest snapshot lies well past index + trailing: the entries
 * after index are gone from their logs, so only a snapshot can bring a replica at index up. */
static void wait_compacted_past(struct harness *h, uint64_t index, long timeout_ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)timeout_ms;
	uint64_t want = index + TRAILING + THRESHOLD;
	bool all;

	do {
		all = true;
		for (uint64_t id = 1; id <= h->n; id++)
			if (harness_running(h, id) &&
			    harness_log_last_value(h, id, "event=snapshot_taken", "raft_index") <
			        want)
				all = false;
		if (!all && util_now_mono_ms() >= deadline)
			fail_msg("the replicas' snapshots did not pass index %" PRIu64 " in %ld ms",
			         want, timeout_ms);
		if (!all)
			nap(50);
	} while (!all);
	harness_log(h, "every running replica has a snapshot past index %" PRIu64, want);
}

/* Wait until replica id reports a snapshot installed (its log says so too). */
static void wait_restored(struct harness *h, uint64_t id, long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms();

	while (harness_metric(h, id, "stsd_snapshots_restored_total") < 1) {
		harness_check_alive(h);
		if (util_now_mono_ms() - t0 >= (uint64_t)timeout_ms)
			fail_msg("replica %llu installed no snapshot within %ld ms of being ready",
			         (unsigned long long)id, timeout_ms);
		nap(50);
	}
	harness_log(h, "replica %llu installed a snapshot (%llu ms after it was ready)",
	            (unsigned long long)id, (unsigned long long)(util_now_mono_ms() - t0));
	assert_true(harness_log_has(h, id, "event=snapshot_restored", NULL));
}

/* Every ConfigMap obj-i is in replica id's own store. */
static void check_objects(struct harness *h, uint64_t id, size_t n)
{
	char path[160];
	json_t *obj;

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path,
		         "/api/v1/namespaces/default/configmaps/obj-%zu?resourceVersion=0", i);
		if (harness_get(h, id, path, &obj) != 0)
			fail_msg("replica %llu lacks obj-%zu", (unsigned long long)id, i);
		json_decref(obj);
	}
}

static void catches_up_by_snapshot(void **state)
{
	struct cluster_test *t = *state;
	struct harness *h;
	uint64_t leader, lagging, index;

	t->h = h = harness_create(stsd, "snapshot", 3, 3, flags);
	leader = harness_start_cluster(h, READY_MS);
	t->w = writers_start(h, "counter", 2);
	writers_wait_acked(t->w, 20, RECOVER_MS);
	lagging = leader == 3 ? 2 : 3;
	index = (uint64_t)harness_raft_field(h, lagging, "lastIndex");
	harness_kill(h, lagging);
	harness_log(h, "replica %llu down at log index %" PRIu64, (unsigned long long)lagging,
	            index);
	create_objects(h, OBJECTS);
	wait_compacted_past(h, index, 30000);

	harness_start(h, lagging);
	harness_wait_ready(h, lagging, READY_MS);
	wait_restored(h, lagging, RECOVER_MS);
	harness_wait_caught_up(h, lagging, RECOVER_MS);
	writers_wait_progress(t->w, util_now_mono_ms(), RECOVER_MS);
	writers_wait_acked(t->w, writers_acked(t->w) + 2 * THRESHOLD, 30000);
	cluster_test_settle(t);
	check_objects(h, lagging, OBJECTS);

	/* And back once more, this time from the snapshot it installed. */
	harness_kill(h, lagging);
	harness_start(h, lagging);
	harness_wait_ready(h, lagging, READY_MS);
	harness_wait_converged(h, 20000);
	writers_check(t->w);
	check_objects(h, lagging, OBJECTS);
	harness_finish(h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "catches_up_by_snapshot",
	                         catches_up_by_snapshot);
}
