/* internal.h — the state shared by consensus/'s files. */
#ifndef STSD_CONS_INTERNAL_H
#define STSD_CONS_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>

#include "cons.h"
#include "errors.h"
#include "proto.h"

/* A proposal from cons_propose until raft's apply callback. */
struct proposal {
	struct raft_apply req;
	struct cons *c;
	uint64_t id;
	uint64_t deadline_ms;
	cons_propose_cb cb; /* NULL once answered (timeout) */
	void *ud;
	bool applied; /* the FSM applied it here and filled result */
	struct store_result result;
	uint64_t revision;
	uint64_t started_ns;
	struct proposal *prev, *next; /* pending list, in submission order */
};

/* A waiter of a shared barrier. */
struct barrier_waiter {
	cons_barrier_cb cb;
	void *ud;
	struct barrier_waiter *next;
};

/* The FSM: applies commands to the store. Separate from struct cons so that the deterministic tests
 * can run it under raft_fixture, whose raft instances the fixture owns. */
struct cons_fsm {
	struct raft_fsm fsm;
	struct raft *raft;
	struct store *store;
	uint64_t id;
	struct cons *owner; /* NULL under the fixture: no proposals to answer, no callbacks */
	struct arena arena; /* command decodes */
	uint64_t snapshots_taken, snapshots_restored, snapshots_skipped;
};

struct cons {
	uv_loop_t *loop;
	struct raft raft;
	struct raft_io io;
	struct raft_uv_transport transport;
	struct cons_fsm fsm;
	struct store *store;
	uint64_t id;
	char *raft_address, *api_address, *raft_dir;
	unsigned propose_timeout_ms;

	uv_check_t watch; /* derives leadership changes from raft_state() after each loop turn */
	uv_timer_t sweep; /* expires proposals past their deadline */
	bool stopping;    /* cons_stop was called */
	int closing;      /* handles still to close during cons_stop */
	void (*stop_done)(void *);
	void *stop_ud;

	cons_leader_cb on_leader;
	cons_applied_cb on_applied;
	void *cb_ud;

	/* Leadership as reported: raft says leader at leader_term, and the election barrier
	 * applied. */
	bool raft_leader;
	uint64_t leader_term;
	bool leader_ready;
	struct raft_barrier election_barrier;
	bool election_barrier_pending;

	/* Proposals. */
	uint64_t next_proposal;
	struct proposal *pending_head, *pending_tail;

	/* Shared read barriers: one in flight, waiters for it and for the next one. */
	struct raft_barrier read_barrier;
	bool read_barrier_pending;
	struct barrier_waiter *in_flight, *queued;

	struct arena arena; /* proposal encodes */
};

/* fsm.c */
void cons_fsm_init(struct cons_fsm *f, struct raft *raft, struct store *store, uint64_t id,
                   struct cons *owner);
void cons_fsm_close(struct cons_fsm *f);
/* propose.c */
struct proposal *cons_pending_find(struct cons *c, uint64_t proposal_id);
void cons_fail_all(struct cons *c, int rv);
void cons_sweep_cb(uv_timer_t *t);
void cons_barriers_fail(struct cons *c, int rv);
/* members.c */
void cons_leader_gained(struct cons *c);
/* Map a RAFT_* code to STSD_*. */
int cons_raft_err(int rv);

#endif
