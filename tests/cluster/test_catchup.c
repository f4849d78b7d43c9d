/* test_catchup.c — a replica restarted after SIGKILL catches up soon, also when the logs are
 * compacted so often that it needs a snapshot from the leader while it is taking one of its own.
 * The leader is killed and restarted ten times under writes. argv[1]: stsd.
 *
 * Fails against stsd as of this writing: a follower busy persisting its own snapshot drops the
 * leader's InstallSnapshot (raft answers RAFT_BUSY and sends nothing back), and the leader only
 * retries after raft's install-snapshot timeout, 30 s by default, which stsd does not set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"
#include "util.h"
#include "writers.h"

#define ROUNDS     10
#define WRITERS    3
#define RECOVER_MS 10000
#define READY_MS   15000

static const char *stsd;

/* A snapshot every 64 entries keeping 16: a replica down for a second needs a snapshot. */
static const char *const flags[] = {"--snapshot-threshold", "64", "--snapshot-trailing", "16",
                                    NULL};

static void restart_leader(struct cluster_test *t, int round)
{
	struct harness *h = t->h;
	uint64_t leader, t_kill;

	writers_wait_acked(t->w, writers_acked(t->w) + 20, RECOVER_MS);
	leader = harness_wait_leader(h, 0, RECOVER_MS);
	t_kill = util_now_mono_ms();
	harness_kill(h, leader);
	harness_wait_leader(h, leader, RECOVER_MS);
	writers_wait_progress(t->w, t_kill, RECOVER_MS);
	harness_start(h, leader);
	harness_wait_ready(h, leader, READY_MS);
	harness_log(h, "round %d: replica %llu restarted", round, (unsigned long long)leader);
	harness_wait_caught_up(h, leader, RECOVER_MS);
}

static void restarted_replica_catches_up(void **state)
{
	struct cluster_test *t = *state;

	t->h = harness_create(stsd, "catchup", 3, 3, flags);
	harness_start_cluster(t->h, READY_MS);
	t->w = writers_start(t->h, "counter", WRITERS);
	for (int round = 1; round <= ROUNDS; round++)
		restart_leader(t, round);
	cluster_test_settle(t);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "restarted_replica_catches_up",
	                         restarted_replica_catches_up);
}
