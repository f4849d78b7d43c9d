/* queue.c — the work queue: an open-addressing hash table of keys, a FIFO of ready keys and an
 * unordered list of delayed ones (few: requeues and backoffs), scanned when a timer fires. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

enum key_state { K_IDLE, K_READY, K_RUNNING, K_DELAYED };

struct entry {
	char *key; /* NULL: empty slot */
	enum key_state state;
	bool dirty;        /* added while running */
	uint32_t failures; /* consecutive failed syncs */
	uint64_t due_ms;   /* K_DELAYED, or a delay requested while running */
	bool due_set;
	struct entry *next; /* ready FIFO */
};

struct ctl_queue {
	struct entry *slots;
	size_t cap, used;
	struct entry *head, *tail;
	struct entry **delayed;
	size_t n_delayed, cap_delayed;
	size_t n_ready, n_running;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct entry *slot_of(struct entry *slots, size_t cap, const char *key)
{
	size_t i = hash(key) & (cap - 1);
	while (slots[i].key && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct ctl_queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 256;
	struct entry *slots = calloc(cap, sizeof *slots);

	if (slots == NULL)
		return STSD_NOMEM;
	/* Entries move (the old slots stay readable until the end): rebuild the FIFO and the
	 * delayed list with the new addresses. */
	struct entry *old_head = q->head;
	q->head = q->tail = NULL;
	for (size_t i = 0; i < q->cap; i++)
		if (q->slots[i].key)
			*slot_of(slots, cap, q->slots[i].key) = q->slots[i];
	for (struct entry *e = old_head; e; e = e->next) {
		struct entry *n = slot_of(slots, cap, e->key);
		n->next = NULL;
		if (q->tail)
			q->tail->next = n;
		else
			q->head = n;
		q->tail = n;
	}
	for (size_t i = 0; i < q->n_delayed; i++)
		q->delayed[i] = slot_of(slots, cap, q->delayed[i]->key);
	free(q->slots);
	q->slots = slots;
	q->cap = cap;
	return STSD_OK;
}

static struct entry *find(const struct ctl_queue *q, const char *key)
{
	struct entry *e;

	if (q->cap == 0)
		return NULL;
	e = slot_of(q->slots, q->cap, key);
	return e->key ? e : NULL;
}

static struct entry *get(struct ctl_queue *q, const char *key)
{
	struct entry *e = find(q, key);

	if (e)
		return e;
	if ((q->used + 1) * 4 > q->cap * 3 && grow(q) != STSD_OK)
		return NULL;
	e = slot_of(q->slots, q->cap, key);
	memset(e, 0, sizeof *e);
	if ((e->key = strdup(key)) == NULL)
		return NULL;
	q->used++;
	return e;
}

struct ctl_queue *ctl_queue_new(void)
{
	return calloc(1, sizeof(struct ctl_queue));
}

void ctl_queue_clear(struct ctl_queue *q)
{
	for (size_t i = 0; i < q->cap; i++)
		free(q->slots[i].key);
	free(q->slots);
	free(q->delayed);
	memset(q, 0, sizeof *q);
}

void ctl_queue_free(struct ctl_queue *q)
{
	if (q == NULL)
		return;
	ctl_queue_clear(q);
	free(q);
}

static void push_ready(struct ctl_queue *q, struct entry *e)
{
	e->state = K_READY;
	e->next = NULL;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->n_ready++;
}

static void unlist_delayed(struct ctl_queue *q, struct entry *e)
{
	for (size_t i = 0; i < q->n_delayed; i++)
		if (q->delayed[i] == e) {
			q->delayed[i] = q->delayed[--q->n_delayed];
			return;
		}
}

int ctl_queue_add(struct ctl_queue *q, const char *key)
{
	struct entry *e = get(q, key);

	if (e == NULL)
		return STSD_NOMEM;
	switch (e->state) {
	case K_READY:
		break;
	case K_RUNNING:
		e->dirty = true;
		break;
	case K_DELAYED:
		unlist_delayed(q, e);
		/* fall through */
	case K_IDLE:
		push_ready(q, e);
		break;
	}
	return STSD_OK;
}

static int delay(struct ctl_queue *q, struct entry *e, uint64_t due)
{
	if (q->n_delayed == q->cap_delayed) {
		size_t cap = q->cap_delayed ? 2 * q->cap_delayed : 64;
		struct entry **d = realloc(q->delayed, cap * sizeof *d);
		if (d == NULL)
			return STSD_NOMEM;
		q->delayed = d;
		q->cap_delayed = cap;
	}
	e->state = K_DELAYED;
	e->due_ms = due;
	q->delayed[q->n_delayed++] = e;
	return STSD_OK;
}

int ctl_queue_add_after(struct ctl_queue *q, const char *key, uint64_t now_ms, uint64_t delay_ms)
{
	struct entry *e;
	uint64_t due = now_ms + delay_ms;

	if (delay_ms == 0)
		return ctl_queue_add(q, key);
	if ((e = get(q, key)) == NULL)
		return STSD_NOMEM;
	switch (e->state) {
	case K_READY:
		return STSD_OK;
	case K_DELAYED:
		if (due < e->due_ms)
			e->due_ms = due;
		return STSD_OK;
	case K_RUNNING:
		if (!e->due_set || due < e->due_ms)
			e->due_ms = due;
		e->due_set = true;
		return STSD_OK;
	case K_IDLE:
		break;
	}
	return delay(q, e, due);
}

uint64_t ctl_queue_tick(struct ctl_queue *q, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < q->n_delayed;) {
		struct entry *e = q->delayed[i];
		if (e->due_ms <= now_ms) {
			q->delayed[i] = q->delayed[--q->n_delayed];
			push_ready(q, e);
			continue;
		}
		if (e->due_ms - now_ms < next)
			next = e->due_ms - now_ms;
		i++;
	}
	return next;
}

const char *ctl_queue_pop(struct ctl_queue *q)
{
	struct entry *e = q->head;

	if (e == NULL)
		return NULL;
	q->head = e->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n_ready--;
	e->state = K_RUNNING;
	e->dirty = false;
	e->due_set = false;
	q->n_running++;
	return e->key;
}

void ctl_queue_done(struct ctl_queue *q, const char *key, bool failed, uint64_t now_ms)
{
	struct entry *e = find(q, key);
	uint64_t backoff;

	if (e == NULL || e->state != K_RUNNING)
		return;
	q->n_running--;
	e->state = K_IDLE;
	if (failed) {
		uint32_t n = e->failures < 20 ? e->failures : 20;
		backoff = (uint64_t)CTL_QUEUE_BASE_MS << n;
		backoff = backoff < CTL_QUEUE_MAX_MS ? backoff : CTL_QUEUE_MAX_MS;
		e->failures++;
		/* Something changed while it ran (a user's edit): that is news the retry should not
		 * wait out, as client-go's queue re-adds a dirty key at once. */
		if (e->dirty || delay(q, e, now_ms + backoff) != STSD_OK)
			push_ready(q, e);
		return;
	}
	e->failures = 0;
	if (e->dirty)
		push_ready(q, e);
	else if (e->due_set && delay(q, e, e->due_ms) != STSD_OK)
		push_ready(q, e);
}

size_t ctl_queue_ready(const struct ctl_queue *q)
{
	return q->n_ready;
}

size_t ctl_queue_running(const struct ctl_queue *q)
{
	return q->n_running;
}

size_t ctl_queue_delayed(const struct ctl_queue *q)
{
	return q->n_delayed;
}

uint64_t ctl_queue_failures(const struct ctl_queue *q, const char *key)
{
	const struct entry *e = find(q, key);
	return e ? e->failures : 0;
}
