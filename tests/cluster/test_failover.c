/* test_failover.c — three stsd processes; writers increment counters while the leader is
 * SIGKILLed five times in a row (and restarted each time); no acknowledged increment is lost or
 * applied twice on any replica, and the replicas' digests converge. argv[1]: stsd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"
#include "util.h"
#include "writers.h"

#define ROUNDS     5
#define WRITERS    3
#define RECOVER_MS 10000 /* generous: speed is the failover benchmark's business */
#define READY_MS   15000

static const char *stsd;

/* Kill the leader while writes flow; a new one must take writes within RECOVER_MS. */
static void kill_leader(struct cluster_test *t, int round)
{
	struct harness *h = t->h;
	uint64_t leader, t_kill, took, before;

	writers_wait_progress(t->w, util_now_mono_ms(), RECOVER_MS);
	writers_wait_acked(t->w, writers_acked(t->w) + 20, RECOVER_MS);
	leader = harness_wait_leader(h, 0, RECOVER_MS);
	before = writers_acked(t->w);
	t_kill = util_now_mono_ms();
	harness_kill(h, leader);
	harness_wait_leader(h, leader, RECOVER_MS);
	took = writers_wait_progress(t->w, t_kill, RECOVER_MS);
	harness_log(h,
	            "round %d: writes succeed again %llu ms after SIGKILL of leader %llu (%llu "
	            "acknowledged before)",
	            round, (unsigned long long)took, (unsigned long long)leader,
	            (unsigned long long)before);
	harness_start(h, leader);
	harness_wait_ready(h, leader, READY_MS);
	harness_wait_caught_up(h, leader, RECOVER_MS);
}

static void survives_five_leader_kills(void **state)
{
	struct cluster_test *t = *state;

	t->h = harness_create(stsd, "failover", 3, 3, NULL);
	harness_start_cluster(t->h, READY_MS);
	t->w = writers_start(t->h, "counter", WRITERS);
	for (int round = 1; round <= ROUNDS; round++)
		kill_leader(t, round);
	writers_wait_progress(t->w, util_now_mono_ms(), RECOVER_MS);
	cluster_test_settle(t);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "survives_five_leader_kills",
	                         survives_five_leader_kills);
}
