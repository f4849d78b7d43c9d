/* test_membership.c — membership changes under writes: grow 3 -> 5 by --join (the joiners start
 * from a snapshot: the logs are compacted by then), shrink 5 -> 3 by removing two of the original
 * followers; the remaining three (two of them new) then elect a leader without the removed ones,
 * and every acknowledged increment is on each. argv[1]: stsd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness.h"
#include "util.h"
#include "writers.h"

#define WRITERS    2
#define RECOVER_MS 10000
#define CHANGE_MS  20000
#define READY_MS   15000

static const char *stsd;

/* Logs compacted past their start before the joiners come (so they start from a snapshot), yet a
 * trailing log long enough that a replica down for a second catches up from it. */
static const char *const flags[] = {"--snapshot-threshold", "128", "--snapshot-trailing", "512",
                                    NULL};

static void grow(struct cluster_test *t, uint64_t id)
{
	uint64_t t0 = util_now_mono_ms();

	harness_start(t->h, id);
	harness_wait_member(t->h, id, HARNESS_VOTER, CHANGE_MS);
	harness_wait_ready(t->h, id, READY_MS);
	harness_wait_caught_up(t->h, id, RECOVER_MS);
	writers_wait_progress(t->w, util_now_mono_ms(), RECOVER_MS);
	harness_log(t->h, "replica %llu joined as a voter in %llu ms", (unsigned long long)id,
	            (unsigned long long)(util_now_mono_ms() - t0));
	assert_true(harness_metric(t->h, id, "stsd_snapshots_restored_total") >= 1);
}

static void shrink(struct cluster_test *t, uint64_t id)
{
	uint64_t t0 = util_now_mono_ms();

	harness_remove_member(t->h, id);
	harness_wait_member(t->h, id, HARNESS_GONE, CHANGE_MS);
	harness_stop(t->h, id);
	writers_wait_progress(t->w, util_now_mono_ms(), RECOVER_MS);
	harness_log(t->h, "replica %llu removed and stopped in %llu ms", (unsigned long long)id,
	            (unsigned long long)(util_now_mono_ms() - t0));
}

/* The two lowest of the original replicas 1..3 that do not lead. */
static void pick_followers(uint64_t leader, uint64_t out[2])
{
	size_t n = 0;

	for (uint64_t id = 1; id <= 3 && n < 2; id++)
		if (id != leader)
			out[n++] = id;
}

/* With two of five gone, only a three-member configuration can still elect a leader. */
static void kill_leader_of_three(struct cluster_test *t)
{
	uint64_t leader = harness_wait_leader(t->h, 0, RECOVER_MS), t_kill;

	t_kill = util_now_mono_ms();
	harness_kill(t->h, leader);
	harness_wait_leader(t->h, leader, RECOVER_MS);
	harness_log(t->h, "writes succeed %llu ms after the kill of leader %llu",
	            (unsigned long long)writers_wait_progress(t->w, t_kill, RECOVER_MS),
	            (unsigned long long)leader);
	harness_start(t->h, leader);
	harness_wait_ready(t->h, leader, READY_MS);
	harness_wait_caught_up(t->h, leader, RECOVER_MS);
}

static void grows_to_five_and_shrinks_to_three(void **state)
{
	struct cluster_test *t = *state;
	uint64_t leader, gone[2];

	t->h = harness_create(stsd, "membership", 5, 3, flags);
	harness_start_cluster(t->h, READY_MS);
	t->w = writers_start(t->h, "counter", WRITERS);
	writers_wait_acked(t->w, 400, 30000); /* two entries each: a GET's barrier, the PUT */
	grow(t, 4);
	grow(t, 5);
	harness_assert_voters(t->h, 5);
	leader = harness_wait_leader(t->h, 0, RECOVER_MS);
	pick_followers(leader, gone);
	shrink(t, gone[0]);
	shrink(t, gone[1]);
	harness_assert_voters(t->h, 3);
	kill_leader_of_three(t);
	writers_wait_acked(t->w, writers_acked(t->w) + 20, RECOVER_MS);
	cluster_test_settle(t);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "grows_to_five_and_shrinks_to_three",
	                         grows_to_five_and_shrinks_to_three);
}
