/* test_remove_leader.c — removing the member that leads, under writes: another replica takes
 * over, the removed one disappears from the members list and stops cleanly, and the two left
 * hold every acknowledged increment. argv[1]: stsd.
 *
 * Fails against stsd as of this writing: the configuration change commits, but the leader has
 * stepped down before it proposes the deletion of its member record (NOTLEADER, answered 503), so
 * the record stays listed, and a retried DELETE answers 404. */
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
#define READY_MS   15000

static const char *stsd;

static void removes_the_leader(void **state)
{
	struct cluster_test *t = *state;
	uint64_t leader, t_remove;

	t->h = harness_create(stsd, "remove-leader", 3, 3, NULL);
	leader = harness_start_cluster(t->h, READY_MS);
	t->w = writers_start(t->h, "counter", WRITERS);
	writers_wait_acked(t->w, 20, RECOVER_MS);
	t_remove = util_now_mono_ms();
	harness_remove_member(t->h, leader);
	harness_wait_leader(t->h, leader, RECOVER_MS);
	harness_log(t->h, "writes succeed %llu ms after removing leader %llu",
	            (unsigned long long)writers_wait_progress(t->w, t_remove, RECOVER_MS),
	            (unsigned long long)leader);
	harness_wait_member(t->h, leader, HARNESS_OUT_OF_CONF, RECOVER_MS);
	harness_stop(t->h, leader);
	writers_wait_acked(t->w, writers_acked(t->w) + 20, RECOVER_MS);
	cluster_test_settle(t);
	/* Its member record goes with it, as for any other removed member. */
	harness_wait_member(t->h, leader, HARNESS_GONE, RECOVER_MS);
	harness_assert_voters(t->h, 2);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "removes_the_leader", removes_the_leader);
}
