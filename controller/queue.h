/* queue.h — the controller's work queue, keyed by strings ("s\tNS\tNAME" for a StatefulSet...),
 * as client-go's rate-limited work queue behaves:
 * - a key is queued at most once; adding a key that is being worked on marks it dirty, and it is
 *   queued again when its worker is done (one sync per key at a time);
 * - a failed sync comes back after a per-key backoff (CTL_QUEUE_BASE_MS * 2^failures, at most
 *   CTL_QUEUE_MAX_MS), reset by the next success — at once if it was added while it ran;
 * - a key may be added after a delay (a requeue for minReadySeconds); the earliest due time wins.
 * Time is passed in (monotonic ms), so the queue is a plain value that tests drive directly.
 * Threads: one (the loop thread). */
#ifndef STSD_CONTROLLER_QUEUE_H
#define STSD_CONTROLLER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_QUEUE_BASE_MS 5
#define CTL_QUEUE_MAX_MS  30000

struct ctl_queue;

struct ctl_queue *ctl_queue_new(void);
void ctl_queue_free(struct ctl_queue *q);
/* Forget every key (leadership lost): keys being worked on are forgotten too, and their done
 * calls are then ignored. */
void ctl_queue_clear(struct ctl_queue *q);

/* Queue key now. 0 or STSD_NOMEM. */
int ctl_queue_add(struct ctl_queue *q, const char *key);
/* Queue key at now_ms + delay_ms unless it is already queued to run earlier. */
int ctl_queue_add_after(struct ctl_queue *q, const char *key, uint64_t now_ms, uint64_t delay_ms);
/* Move the delayed keys that are due to the ready list; returns the ms until the next delayed
 * key is due (UINT64_MAX when there is none). */
uint64_t ctl_queue_tick(struct ctl_queue *q, uint64_t now_ms);
/* The next ready key, now being worked on; NULL when none is ready. The string stays valid until
 * ctl_queue_done for it (or ctl_queue_clear). */
const char *ctl_queue_pop(struct ctl_queue *q);
/* The work on key ended. failed: retry after its backoff; else its failures are forgotten. A key
 * added meanwhile is queued again at once. */
void ctl_queue_done(struct ctl_queue *q, const char *key, bool failed, uint64_t now_ms);

size_t ctl_queue_ready(const struct ctl_queue *q);   /* keys ready to run */
size_t ctl_queue_running(const struct ctl_queue *q); /* keys being worked on */
size_t ctl_queue_delayed(const struct ctl_queue *q); /* keys waiting for their due time */
uint64_t ctl_queue_failures(const struct ctl_queue *q, const char *key);

#endif
