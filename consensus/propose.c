/* propose.c — proposals (a command in, its apply result out) and shared read barriers. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"
#include "util.h"

/* Raft accepts entries of any size, but a command beyond this is a client error, not a log entry.
 */
#define MAX_COMMAND_BYTES ((size_t)8 << 20)

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

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct proposal *p = req->data;
	int rv = cons_raft_err(status);

	(void)result;
	pending_remove(p->c, p);
	/* Applied here means the FSM saw it; a status of 0 without that cannot happen, but if raft
	 * ever reported success for an entry our FSM did not match, the outcome is unknown. */
	if (rv == STSD_OK && !p->applied)
		rv = STSD_LEADERSHIPLOST;
	answer(p, rv);
	store_result_free(&p->result);
	free(p);
}

/* Encode ops into a raft-owned buffer. */
static int encode(struct cons *c, uint64_t id, const struct store_op *ops, size_t n,
                  struct raft_buffer *buf)
{
	struct proto_op *pops = arena_alloc(&c->arena, (n ? n : 1) * sizeof *pops);
	struct proto_command cmd = {util_now_unix(), c->id, id, pops, n};
	struct proto_command_msg *m;

	if (pops == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct store_op *s = &ops[i];
		pops[i] = (struct proto_op){
		    .type = (enum proto_op_type)(s->type - STORE_OP_CREATE + PROTO_OP_CREATE),
		    .resource = s->resource,
		    .ns = s->ns,
		    .name = s->name,
		    .json = s->json,
		    .json_len = s->json_len,
		    .uid = s->uid,
		    .expect_rv = s->expect_rv,
		    .expect_uid = s->expect_uid,
		    .expect_absent = s->expect_absent,
		    .ordinal = s->ordinal,
		    .claim_pod_uid = s->claim.pod_uid,
		    .claim_pod_name = s->claim.pod_name,
		    .claim_node = s->claim.node,
		    .claim_state = (enum proto_claim_state)s->claim.state,
		    .expect_pod_uid = s->expect_pod_uid,
		    .expect_state = (enum proto_claim_state)s->expect_state};
	}
	if (proto_command_build(&cmd, &c->arena, &m) != STSD_OK)
		return STSD_NOMEM;
	buf->len = proto_command_msg_size(m);
	if (buf->len > MAX_COMMAND_BYTES)
		return STSD_TOOBIG;
	if ((buf->base = raft_malloc(buf->len)) == NULL)
		return STSD_NOMEM;
	proto_command_msg_pack(m, buf->base);
	return STSD_OK;
}

int cons_propose(struct cons *c, const struct store_op *ops, size_t n_ops, cons_propose_cb cb,
                 void *ud)
{
	struct raft_buffer buf;
	struct proposal *p;
	int rv;

	if (!c->leader_ready || raft_state(&c->raft) != RAFT_LEADER)
		return STSD_NOTLEADER;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return STSD_NOMEM;
	arena_reset(&c->arena);
	if ((rv = encode(c, c->next_proposal + 1, ops, n_ops, &buf)) != STSD_OK) {
		free(p);
		return rv;
	}
	p->c = c;
	p->id = ++c->next_proposal;
	p->cb = cb;
	p->ud = ud;
	p->req.data = p;
	p->started_ns = util_now_mono_ns();
	p->deadline_ms = util_now_mono_ms() + c->propose_timeout_ms;
	if ((rv = raft_apply(&c->raft, &p->req, &buf, 1, apply_cb)) != 0) {
		raft_free(buf.base);
		free(p);
		return cons_raft_err(rv);
	}
	pending_add(c, p);
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
