/* test_queue.c — the controller's work queue (controller/queue.h): one entry per key, dirty keys
 * come back after their sync, failures back off and reset, delays keep the earliest due time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "queue.h"

static void test_dedup_and_order(void **state)
{
	struct ctl_queue *q = ctl_queue_new();

	(void)state;
	assert_int_equal(ctl_queue_add(q, "a"), STSD_OK);
	assert_int_equal(ctl_queue_add(q, "b"), STSD_OK);
	assert_int_equal(ctl_queue_add(q, "a"), STSD_OK);
	assert_int_equal(ctl_queue_ready(q), 2);
	assert_string_equal(ctl_queue_pop(q), "a");
	assert_string_equal(ctl_queue_pop(q), "b");
	assert_null(ctl_queue_pop(q));
	assert_int_equal(ctl_queue_running(q), 2);
	ctl_queue_free(q);
}

static void test_dirty_while_running(void **state)
{
	struct ctl_queue *q = ctl_queue_new();

	(void)state;
	ctl_queue_add(q, "s");
	assert_string_equal(ctl_queue_pop(q), "s");
	/* Added while its sync runs: not ready twice, ready again once the sync ends. */
	ctl_queue_add(q, "s");
	ctl_queue_add(q, "s");
	assert_int_equal(ctl_queue_ready(q), 0);
	assert_null(ctl_queue_pop(q));
	ctl_queue_done(q, "s", false, 0);
	assert_int_equal(ctl_queue_ready(q), 1);
	assert_string_equal(ctl_queue_pop(q), "s");
	ctl_queue_done(q, "s", false, 0);
	assert_int_equal(ctl_queue_ready(q), 0);
	ctl_queue_free(q);
}

static void test_backoff(void **state)
{
	struct ctl_queue *q = ctl_queue_new();
	uint64_t now = 1000;

	(void)state;
	ctl_queue_add(q, "k");
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t wait = (uint64_t)CTL_QUEUE_BASE_MS << i;
		assert_string_equal(ctl_queue_pop(q), "k");
		ctl_queue_done(q, "k", true, now);
		assert_int_equal(ctl_queue_failures(q, "k"), i + 1);
		assert_int_equal(ctl_queue_delayed(q), 1);
		assert_int_equal(ctl_queue_tick(q, now + wait - 1), 1);
		assert_int_equal(ctl_queue_ready(q), 0);
		assert_int_equal(ctl_queue_tick(q, now + wait), UINT64_MAX);
		assert_int_equal(ctl_queue_ready(q), 1);
		now += wait;
	}
	/* A success forgets the failures. */
	assert_string_equal(ctl_queue_pop(q), "k");
	ctl_queue_done(q, "k", false, now);
	assert_int_equal(ctl_queue_failures(q, "k"), 0);
	/* The backoff stops growing at the maximum. */
	for (int i = 0; i < 40; i++) {
		ctl_queue_add(q, "k");
		ctl_queue_tick(q, UINT64_MAX / 2);
		assert_non_null(ctl_queue_pop(q));
		ctl_queue_done(q, "k", true, now);
	}
	assert_int_equal(ctl_queue_tick(q, now), CTL_QUEUE_MAX_MS);
	/* A failure of a sync that was added to meanwhile comes back at once. */
	ctl_queue_add(q, "d");
	assert_string_equal(ctl_queue_pop(q), "d");
	ctl_queue_add(q, "d");
	ctl_queue_done(q, "d", true, now);
	assert_int_equal(ctl_queue_failures(q, "d"), 1);
	assert_string_equal(ctl_queue_pop(q), "d");
	ctl_queue_free(q);
}

static void test_delays(void **state)
{
	struct ctl_queue *q = ctl_queue_new();

	(void)state;
	ctl_queue_add_after(q, "x", 0, 500);
	ctl_queue_add_after(q, "x", 0, 900); /* later: the earlier due time stays */
	ctl_queue_add_after(q, "x", 0, 200); /* earlier: wins */
	assert_int_equal(ctl_queue_delayed(q), 1);
	assert_int_equal(ctl_queue_tick(q, 100), 100);
	assert_int_equal(ctl_queue_tick(q, 200), UINT64_MAX);
	assert_string_equal(ctl_queue_pop(q), "x");
	/* A delay asked while running applies after the sync ends. */
	ctl_queue_add_after(q, "x", 200, 50);
	ctl_queue_done(q, "x", false, 210);
	assert_int_equal(ctl_queue_delayed(q), 1);
	assert_int_equal(ctl_queue_tick(q, 250), UINT64_MAX);
	assert_int_equal(ctl_queue_ready(q), 1);
	/* An add now beats a delay. */
	ctl_queue_add_after(q, "y", 0, 1000);
	ctl_queue_add(q, "y");
	assert_int_equal(ctl_queue_delayed(q), 0);
	assert_int_equal(ctl_queue_ready(q), 2);
	ctl_queue_free(q);
}

static void test_many_keys_and_clear(void **state)
{
	struct ctl_queue *q = ctl_queue_new();
	char key[32];

	(void)state;
	/* Growth moves entries: the FIFO and the delayed list must survive it. */
	ctl_queue_add_after(q, "late", 0, 10);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "s\tns\t%d", i);
		assert_int_equal(ctl_queue_add(q, key), STSD_OK);
	}
	assert_int_equal(ctl_queue_ready(q), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "s\tns\t%d", i);
		assert_string_equal(ctl_queue_pop(q), key);
	}
	assert_int_equal(ctl_queue_tick(q, 10), UINT64_MAX);
	assert_string_equal(ctl_queue_pop(q), "late");
	ctl_queue_clear(q);
	assert_int_equal(ctl_queue_ready(q) + ctl_queue_running(q) + ctl_queue_delayed(q), 0);
	ctl_queue_done(q, "late", false, 0); /* forgotten: ignored */
	assert_null(ctl_queue_pop(q));
	ctl_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup_and_order), cmocka_unit_test(test_dirty_while_running),
	    cmocka_unit_test(test_backoff), cmocka_unit_test(test_delays),
	    cmocka_unit_test(test_many_keys_and_clear)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
