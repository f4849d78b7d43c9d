/* writers.h — counter writers for cluster tests: threads that increment ConfigMap counters with
 * optimistic concurrency and know exactly how many increments landed. */
#ifndef STSD_TEST_WRITERS_H
#define STSD_TEST_WRITERS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define WRITERS_MAX 8

struct writers;

/* Start n writers (n <= WRITERS_MAX), each owning ConfigMap "PREFIX-i" in namespace default
 * (created with value 0 when absent), each with its own failing-over client over every slot of h.
 * Writer i loops: GET its counter, PUT value+1 with the resourceVersion it read. An answer-less
 * failure, a 503 or 504 is ambiguous and a 409 can only mean an earlier ambiguous attempt landed:
 * the next (linearizable) GET resolves both, and a value that is neither the acknowledged count nor
 * one more after an ambiguous attempt is recorded as an error (a lost or doubled write). */
struct writers *writers_start(struct harness *h, const char *prefix, size_t n);

/* Wait until some writer's PUT that started at or after since_ms was answered 200 (writes work
 * again); fails the test after timeout_ms, or at once if a writer recorded an error. Returns how
 * long it took from since_ms. */
uint64_t writers_wait_progress(struct writers *w, uint64_t since_ms, long timeout_ms);

/* Increments acknowledged so far, all writers together. */
uint64_t writers_acked(struct writers *w);
/* Wait until writers_acked reaches target; fails the test after timeout_ms or on a writer's
 * error. */
void writers_wait_acked(struct writers *w, uint64_t target, long timeout_ms);

/* Stop the writers, let each resolve its last ambiguous attempt by a linearizable read, and
 * assert that none recorded an error. */
void writers_stop(struct writers *w);

/* After writers_stop: assert that every running replica's own copy (resourceVersion=0) of every
 * counter equals the writer's acknowledged count. Call once the replicas have converged. */
void writers_check(struct writers *w);

/* Stop (without waiting for resolution when not stopped yet) and free; NULL is a no-op. */
void writers_destroy(struct writers *w);

/* The state of one cluster test, for cmocka's setup and teardown: teardown stops the writers,
 * then kills the cluster and (unless harness_finish ran) reports its logs, pass or fail. */
struct cluster_test {
	struct harness *h;
	struct writers *w;
};
int cluster_test_setup(void **state);
int cluster_test_teardown(void **state);

/* The end every counter test shares: stop the writers, wait until the replicas converge, check
 * every counter on every replica. */
void cluster_test_settle(struct cluster_test *t);

/* main() of a test file with one cluster test: argv[1] is the stsd binary, stored in *stsd. */
int cluster_test_main(int argc, char **argv, const char **stsd, const char *name,
                      void (*test)(void **state));

#endif
