/* internal.h — the state shared by consensus/'s files. */
#ifndef STSD_CONS_INTERNAL_H
#define STSD_CONS_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>

#include "cons.h"
#include "errors.h"
#include "proto.h"

/* A proposal from cons_propose until its entry's apply callback (or until stop). */
struct proposal {
	struct cons *c;
	uint64_t id;
	uint64_t deadline_ms;
	cons_propose_cb cb; /* NULL once answered (timeout) */
	void *ud;
	bool applied; /* the FSM applied it here and filled result */
	struct store_result result;
	uint64_t revision;
	uint64_t started_ns;
	char *cmd; /* the encoded command, until its entry is built */
	size_t cmd_len;
	struct proposal *prev, *next; /* pending list, in submission order */
	struct proposal *queue_next;  /* proposals not yet in an entry */
};

/* The proposals that went out in one log entry. */
struct group {
	struct raft_apply req;
	struct cons *c;
	size_t n;
	struct proposal *props[];
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

	/* Proposals: every unanswered one is pending; those not yet in an entry are also queued,
	 * and go out together at the end of the loop turn (group commit). */
	uint64_t next_proposal;
	struct proposal *pending_head, *pending_tail;
	struct proposal *queue_head, *queue_tail;
	uv_prepare_t flush; /* sends what the timers queued before the loop polls */

	/* Shared read barriers: one in flight, waiters for it and for the next one. */
	struct raft_barrier read_barrier;
	bool read_barrier_pending;
	struct barrier_waiter *in_flight, *queued;

	struct arena arena; /* proposal encodes */
	struct cons_latency latency;
	uint64_t proposals, groups; /* proposals accepted, entries they went out in */
};

/* fsm.c: a decoded op as the store applies it (pointers borrowed from p). */
void cons_op_to_store(const struct proto_op *p, struct store_op *s);

/* entry.c: a command inside a log entry, padded to 8 bytes. The payload goes at offset 8. */
#define CONS_ENTRY_HEADER 8
size_t cons_entry_size(size_t payload);
void cons_entry_frame(void *buf, size_t payload);
int cons_entry_payload(const void *buf, size_t len, const void **payload, size_t *payload_len);
/* A command beyond this is a client error, not a log entry; an entry gathers commands up to
 * CONS_MAX_ENTRY bytes or CONS_MAX_GROUP commands. */
#define CONS_MAX_COMMAND ((size_t)8 << 20)
#define CONS_MAX_ENTRY   ((size_t)4 << 20)
#define CONS_MAX_GROUP   1024
/* Encode ops as a command (proposer, proposal id, now) into *out (malloc'd, *len bytes); the
 * encoding's scratch comes from a. STSD_TOOBIG beyond CONS_MAX_COMMAND, STSD_NOMEM. */
int cons_command_encode(uint64_t proposer, uint64_t id, int64_t now, const struct store_op *ops,
                        size_t n, struct arena *a, char **out, size_t *len);
/* One framed log entry (raft-owned buffer) holding n encoded commands. */
int cons_entry_build(char *const *cmds, const size_t *lens, size_t n, struct raft_buffer *buf);
/* fsm.c */
void cons_fsm_init(struct cons_fsm *f, struct raft *raft, struct store *store, uint64_t id,
                   struct cons *owner);
void cons_fsm_close(struct cons_fsm *f);
/* propose.c */
struct proposal *cons_pending_find(struct cons *c, uint64_t proposal_id);
void cons_fail_all(struct cons *c, int rv);
void cons_sweep_cb(uv_timer_t *t);
/* Send the queued proposals as log entries (from the loop's prepare and check phases). */
void cons_flush(struct cons *c);
void cons_proposal_free(struct proposal *p);
/* Answer and free the proposals not yet sent. */
void cons_fail_queue(struct cons *c, int rv);
void cons_barriers_fail(struct cons *c, int rv);
/* members.c */
void cons_leader_gained(struct cons *c);
/* Map a RAFT_* code to STSD_*. */
int cons_raft_err(int rv);

#endif
