/* propose.c — proposals (a command in, its apply result out), gathered into one log entry per
 * loop turn (group commit: one entry, one store transaction, one sync on every replica), and
 * shared read barriers. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"
#include "util.h"

int cons_raft_err(int rv)
{
	switch (rv) {
	case 0:
		return STSD_OK;
	case RAFT_NOTLEADER:
		return STSD_NOTLEADER;
	case RAFT_LEADERSHIPLOST:
		return STSD_LEADERSHIPLOST;
	case RAFT_SHUTDOWN:
		return STSD_SHUTDOWN;
	case RAFT_NOMEM:
		return STSD_NOMEM;
	case RAFT_TOOBIG:
		return STSD_TOOBIG;
	case RAFT_BUSY:
	case RAFT_CANTCHANGE:
		return STSD_BUSY;
	case RAFT_NOTFOUND:
	case RAFT_BADID:
		return STSD_NOTFOUND;
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return STSD_EXISTS;
	case RAFT_NOSPACE:
		return STSD_NOSPACE;
	default:
		return STSD_IO;
	}
}

static void pending_add(struct cons *c, struct proposal *p)
{
	p->prev = c->pending_tail;
	p->next = NULL;
	if (c->pending_tail)
		c->pending_tail->next = p;
	else
		c->pending_head = p;
	c->pending_tail = p;
}

static void pending_remove(struct cons *c, struct proposal *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->pending_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->pending_tail = p->prev;
	p->prev = p->next = NULL;
}

/* Commands apply in submission order, so the one being applied is almost always the head. */
struct proposal *cons_pending_find(struct cons *c, uint64_t proposal_id)
{
	for (struct proposal *p = c->pending_head; p; p = p->next)
		if (p->id == proposal_id)
			return p;
	return NULL;
}

static void answer(struct proposal *p, int rv)
{
	struct cons_result res = {0};
	cons_propose_cb cb = p->cb;

	if (cb == NULL)
		return;
	p->cb = NULL;
	if (rv == STSD_OK) {
		res.status = p->result.status;
		res.failed_op = p->result.failed_op;
		res.message = p->result.message;
		res.revision = p->revision;
		res.objects = p->result.objects;
		res.n_objects = p->result.n_objects;
	}
	cb(p->ud, rv, rv == STSD_OK ? &res : NULL);
}

const double cons_latency_bounds[CONS_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,   0.25,   0.5,   1,    2.5,   10};

static void record_latency(struct cons_latency *l, uint64_t ns)
{
	double s = ns / 1e9;
	size_t i = 0;

	while (i < CONS_LATENCY_BUCKETS && s > cons_latency_bounds[i])
		i++;
	l->buckets[i]++;
	l->count++;
	l->sum_seconds += s;
}

void cons_get_latency(const struct cons *c, struct cons_latency *out)
{
	*out = c->latency;
}

void cons_proposal_free(struct proposal *p)
{
	store_result_free(&p->result);
	free(p->cmd);
	free(p);
}

static void group_cb(struct raft_apply *req, int status, void *result)
{
	struct group *g = req->data;
	int rv = cons_raft_err(status);

	(void)result;
	for (size_t i = 0; i < g->n; i++) {
		struct proposal *p = g->props[i];
		int prv = rv;
		pending_remove(g->c, p);
		/* Applied here means the FSM saw it; success without that cannot happen, but if
		 * raft ever reported it, the outcome is unknown. */
		if (prv == STSD_OK && !p->applied)
			prv = STSD_LEADERSHIPLOST;
		if (prv == STSD_OK)
			record_latency(&g->c->latency, util_now_mono_ns() - p->started_ns);
		answer(p, prv);
		cons_proposal_free(p);
	}
	free(g);
}

/* Take up to CONS_MAX_GROUP queued proposals (at most CONS_MAX_ENTRY bytes, at least one). */
static struct group *take_group(struct cons *c)
{
	size_t n = 0, bytes = 0;
	struct group *g;

	for (struct proposal *p = c->queue_head; p && n < CONS_MAX_GROUP; p = p->queue_next) {
		if (n > 0 && bytes + p->cmd_len > CONS_MAX_ENTRY)
			break;
		bytes += p->cmd_len;
		n++;
	}
	if ((g = malloc(sizeof *g + n * sizeof g->props[0])) == NULL)
		return NULL;
	g->c = c;
	g->n = n;
	g->req.data = g;
	for (size_t i = 0; i < n; i++) {
		g->props[i] = c->queue_head;
		c->queue_head = c->queue_head->queue_next;
	}
	if (c->queue_head == NULL)
		c->queue_tail = NULL;
	return g;
}

/* The group could not go out: its proposals were never submitted, so never applied. */
static void group_failed(struct group *g, int rv)
{
	for (size_t i = 0; i < g->n; i++) {
		pending_remove(g->c, g->props[i]);
		answer(g->props[i], rv);
		cons_proposal_free(g->props[i]);
	}
	free(g);
}

static int submit(struct cons *c, struct group *g)
{
	char *cmds[CONS_MAX_GROUP];
	size_t lens[CONS_MAX_GROUP];
	struct raft_buffer buf;
	int rv;

	for (size_t i = 0; i < g->n; i++) {
		cmds[i] = g->props[i]->cmd;
		lens[i] = g->props[i]->cmd_len;
	}
	if ((rv = cons_entry_build(cmds, lens, g->n, &buf)) != STSD_OK)
		return rv;
	for (size_t i = 0; i < g->n; i++) {
		free(g->props[i]->cmd);
		g->props[i]->cmd = NULL;
	}
	if ((rv = raft_apply(&c->raft, &g->req, &buf, 1, group_cb)) != 0) {
		raft_free(buf.base);
		return rv == RAFT_NOTLEADER ? STSD_NOTLEADER : cons_raft_err(rv);
	}
	c->groups++;
	return STSD_OK;
}

void cons_flush(struct cons *c)
{
	while (c->queue_head) {
		struct group *g = take_group(c);
		int rv = g ? submit(c, g) : STSD_NOMEM;

		if (g == NULL) { /* answer them all rather than leave them waiting */
			cons_fail_queue(c, rv);
			return;
		}
		if (rv != STSD_OK)
			group_failed(g, rv);
	}
}

int cons_propose(struct cons *c, const struct store_op *ops, size_t n_ops, cons_propose_cb cb,
                 void *ud)
{
	struct proposal *p;
	int rv;

	if (!c->leader_ready || raft_state(&c->raft) != RAFT_LEADER)
		return STSD_NOTLEADER;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return STSD_NOMEM;
	arena_reset(&c->arena);
	if ((rv = cons_command_encode(c->id, c->next_proposal + 1, util_now_unix(), ops, n_ops,
	                              &c->arena, &p->cmd, &p->cmd_len)) != STSD_OK) {
		free(p);
		return rv;
	}
	p->c = c;
	p->id = ++c->next_proposal;
	p->cb = cb;
	p->ud = ud;
	p->started_ns = util_now_mono_ns();
	p->deadline_ms = util_now_mono_ms() + c->propose_timeout_ms;
	pending_add(c, p);
	if (c->queue_tail)
		c->queue_tail->queue_next = p;
	else
		c->queue_head = p;
	c->queue_tail = p;
	c->proposals++;
	return STSD_OK;
}

/* Proposals past their deadline are answered TIMEOUT; raft's callback still frees them later. */
void cons_sweep_cb(uv_timer_t *t)
{
	struct cons *c = t->data;
	uint64_t now = util_now_mono_ms();

	for (struct proposal *p = c->pending_head; p && p->deadline_ms <= now; p = p->next)
		answer(p, STSD_TIMEOUT);
}

void cons_fail_all(struct cons *c, int rv)
{
	for (struct proposal *p = c->pending_head; p; p = p->next)
		answer(p, rv);
}

void cons_fail_queue(struct cons *c, int rv)
{
	while (c->queue_head) {
		struct proposal *p = c->queue_head;
		c->queue_head = p->queue_next;
		pending_remove(c, p);
		answer(p, rv);
		cons_proposal_free(p);
	}
	c->queue_tail = NULL;
}

/* ---- Shared read barriers ---- */

static int issue_read_barrier(struct cons *c);

static void run_waiters(struct barrier_waiter *w, int rv)
{
	while (w) {
		struct barrier_waiter *next = w->next;
		w->cb(w->ud, rv);
		free(w);
		w = next;
	}
}

static void read_barrier_cb(struct raft_barrier *req, int status)
{
	struct cons *c = req->data;
	struct barrier_waiter *done = c->in_flight;

	c->read_barrier_pending = false;
	c->in_flight = NULL;
	run_waiters(done, cons_raft_err(status));
	if (c->queued && !c->stopping && issue_read_barrier(c) != STSD_OK) {
		struct barrier_waiter *failed = c->in_flight;
		c->in_flight = NULL;
		run_waiters(failed, STSD_LEADERSHIPLOST);
	}
}

/* Move the queued waiters behind a new barrier. On failure they stay in in_flight. */
static int issue_read_barrier(struct cons *c)
{
	int rv;

	c->in_flight = c->queued;
	c->queued = NULL;
	c->read_barrier.data = c;
	rv = raft_barrier(&c->raft, &c->read_barrier, read_barrier_cb);
	if (rv != 0)
		return cons_raft_err(rv);
	c->read_barrier_pending = true;
	return STSD_OK;
}

int cons_barrier(struct cons *c, cons_barrier_cb cb, void *ud)
{
	struct barrier_waiter *w;

	if (!c->leader_ready || raft_state(&c->raft) != RAFT_LEADER)
		return STSD_NOTLEADER;
	if ((w = malloc(sizeof *w)) == NULL)
		return STSD_NOMEM;
	w->cb = cb;
	w->ud = ud;
	w->next = c->queued;
	c->queued = w;
	if (!c->read_barrier_pending) {
		/* Nothing in flight, so w is the only waiter: on failure it gets no callback. */
		int rv = issue_read_barrier(c);
		if (rv != STSD_OK) {
			c->in_flight = NULL;
			free(w);
			return rv;
		}
	}
	return STSD_OK;
}

void cons_barriers_fail(struct cons *c, int rv)
{
	struct barrier_waiter *q = c->queued;

	c->queued = NULL;
	run_waiters(q, rv);
}
