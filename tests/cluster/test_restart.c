/* test_restart.c — restarts from disk (raft_uv segments and snapshots, the LMDB store) under
 * writes: each replica in turn is SIGKILLed, misses writes and comes back on its data; then all
 * three at once. No acknowledged increment is lost or doubled and digests converge. argv[1]: stsd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"
#include "util.h"
#include "writers.h"

#define WRITERS    3
#define MISSED     150 /* increments a killed replica misses: more than a snapshot's worth */
#define RECOVER_MS 10000
#define READY_MS   15000

static const char *stsd;

/* Frequent snapshots, so that a restart loads a snapshot and the log segments after it; a long
 * trailing log, so that a replica that missed a few hundred entries catches up from the log
 * (installs are test_snapshot's and test_catchup's business). */
static const char *const flags[] = {"--snapshot-threshold", "128", "--snapshot-trailing", "1024",
                                    NULL};

static void kill_and_restart(struct cluster_test *t, uint64_t id)
{
	struct harness *h = t->h;
	uint64_t t_kill, took;

	writers_wait_acked(t->w, writers_acked(t->w) + 30, RECOVER_MS);
	t_kill = util_now_mono_ms();
	harness_kill(h, id);
	took = writers_wait_progress(t->w, t_kill, RECOVER_MS);
	harness_log(h, "replica %llu down: writes succeed %llu ms after the kill",
	            (unsigned long long)id, (unsigned long long)took);
	writers_wait_acked(t->w, writers_acked(t->w) + MISSED, 30000);
	harness_start(h, id);
	harness_wait_ready(h, id, READY_MS);
	harness_wait_caught_up(h, id, RECOVER_MS);
}

/* Every replica down at once, then all back: acknowledged means on disk on a majority. */
static void kill_all_and_restart(struct cluster_test *t)
{
	struct harness *h = t->h;
	uint64_t t_start;

	writers_wait_acked(t->w, writers_acked(t->w) + 30, RECOVER_MS);
	for (uint64_t id = 1; id <= 3; id++)
		harness_kill(h, id);
	for (uint64_t id = 1; id <= 3; id++)
		harness_start(h, id);
	t_start = util_now_mono_ms();
	for (uint64_t id = 1; id <= 3; id++)
		harness_wait_ready(h, id, READY_MS);
	harness_wait_leader(h, 0, RECOVER_MS);
	harness_log(h, "whole cluster back: writes succeed %llu ms after the restart",
	            (unsigned long long)writers_wait_progress(t->w, t_start, RECOVER_MS));
}

static void restarts_each_replica_from_disk(void **state)
{
	struct cluster_test *t = *state;
	size_t snapshots = 0, n;

	t->h = harness_create(stsd, "restart", 3, 3, flags);
	harness_start_cluster(t->h, READY_MS);
	t->w = writers_start(t->h, "counter", WRITERS);
	for (uint64_t id = 1; id <= 3; id++)
		kill_and_restart(t, id);
	kill_all_and_restart(t);
	writers_wait_acked(t->w, writers_acked(t->w) + 30, RECOVER_MS);
	cluster_test_settle(t);
	for (uint64_t id = 1; id <= 3; id++) {
		harness_log_has(t->h, id, "event=snapshot_taken", &n);
		snapshots += n;
	}
	harness_log(t->h, "%zu snapshots taken in all", snapshots);
	assert_true(snapshots > 0);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "restarts_each_replica_from_disk",
	                         restarts_each_replica_from_disk);
}
