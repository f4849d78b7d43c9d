/* cons.h — the replicated state machine: canonical raft (libuv I/O, TCP transport) in front of the
 * store. Commands proposed on the leader are applied by every replica's FSM to its store in one
 * transaction each; this module is the only one that includes <raft.h>.
 *
 * Everything here runs on the loop thread given to cons_start. Callbacks follow libuv's rule: if a
 * call returns 0 its callback runs exactly once, never from inside the call; if it fails, never. */
#ifndef STSD_CONS_H
#define STSD_CONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"

struct cons;

struct cons_peer {
	uint64_t id;
	const char *raft_address; /* "HOST:PORT" */
};

struct cons_options {
	uint64_t id;
	const char *raft_address; /* this replica's, "HOST:PORT" */
	const char *api_address;  /* recorded in this replica's member record */
	const char *raft_dir;     /* raft_uv's directory (created if missing) */
	struct store *store;      /* applied state; owned by the caller, outlives the cons */
	/* First start of a new cluster: every voter. Ignored when the raft directory holds a
	 * cluster. */
	const struct cons_peer *bootstrap;
	size_t n_bootstrap;
	unsigned election_timeout_ms;         /* 0 = 300 */
	unsigned heartbeat_ms;                /* 0 = 50 */
	unsigned snapshot_threshold;          /* entries between snapshots; 0 = 8192 */
	unsigned snapshot_trailing;           /* entries kept behind a snapshot; 0 = 2048 */
	unsigned propose_timeout_ms;          /* 0 = 10000 */
	unsigned connect_retry_ms;            /* 0 = 100 */
	unsigned install_snapshot_timeout_ms; /* leader resends an unanswered snapshot; 0 = 5000 */
};

enum cons_role {
	CONS_UNAVAILABLE = 0,
	CONS_FOLLOWER,
	CONS_CANDIDATE,
	CONS_LEADER,
};

/* "leader", "follower", "candidate", "unavailable". */
const char *cons_role_name(enum cons_role role);

struct cons_status {
	uint64_t id;
	enum cons_role role;
	uint64_t term;
	uint64_t leader_id; /* 0 when none is known */
	uint64_t commit_index, last_index, last_applied;
	/* A leader is ready once its election barrier applied; a follower once it knows a leader,
	 * belongs to the configuration and has applied everything it knows to be committed. */
	bool ready;
	bool voter;
	uint64_t snapshots_taken, snapshots_restored, snapshots_skipped;
	uint64_t proposals, entries; /* proposals accepted here, log entries they went out in */
};

/* Start raft on loop: open (or bootstrap) the raft directory, restore the latest snapshot unless
 * the store already covers it, listen on the raft address. */
int cons_start(uv_loop_t *loop, const struct cons_options *o, struct cons **out, char *err,
               size_t errlen);
/* Stop: pending proposals and barriers complete with STSD_SHUTDOWN, then done(ud) runs once all
 * handles are closed and c is freed. */
void cons_stop(struct cons *c, void (*done)(void *ud), void *ud);

void cons_status(struct cons *c, struct cons_status *st);
uint64_t cons_id(const struct cons *c);

/* Called on the loop thread: leader_cb(true) once this replica is leader and its election barrier
 * applied (it may then serve reads and reconcile), leader_cb(false) as soon as it is not;
 * applied_cb after every command applied to the store (watchers and reconcilers wake up on it). */
typedef void (*cons_leader_cb)(void *ud, bool leader);
typedef void (*cons_applied_cb)(void *ud, uint64_t revision);
void cons_set_callbacks(struct cons *c, cons_leader_cb leader, cons_applied_cb applied, void *ud);

/* ---- Proposals ------------------------------------------------------------------------------ */

/* The outcome of a committed command. objects (n_objects entries, one per op) are valid during
 * the callback only. */
struct cons_result {
	int status; /* STSD_OK or the typed failure: NOTFOUND, EXISTS, CONFLICT, INVALID */
	size_t failed_op;
	const char *message;
	uint64_t revision; /* the command's Raft index */
	const struct store_op_result *objects;
	size_t n_objects;
};

/* rv is STSD_OK (see res), STSD_LEADERSHIPLOST or STSD_TIMEOUT (the outcome is unknown: the
 * command may still commit), STSD_NOTLEADER (leadership was lost before the command went out:
 * it was not applied), or STSD_SHUTDOWN. */
typedef void (*cons_propose_cb)(void *ud, int rv, const struct cons_result *res);

/* Replicate ops as one command; the FSM applies them all-or-nothing at the entry's index.
 * Commands proposed during one loop turn go out together in one log entry (group commit): they
 * share its index as their revision, each all-or-nothing on its own. Returns
 * STSD_NOTLEADER (not leader, or its election barrier has not applied yet: no callback),
 * STSD_NOMEM, STSD_TOOBIG; STSD_OK and cb later otherwise. The ops are copied. */
int cons_propose(struct cons *c, const struct store_op *ops, size_t n_ops, cons_propose_cb cb,
                 void *ud);

/* Commit latency of this replica's proposals (submission to apply), for /metrics: a Prometheus
 * histogram with these upper bounds in seconds (buckets are not cumulative here). */
#define CONS_LATENCY_BUCKETS 12
extern const double cons_latency_bounds[CONS_LATENCY_BUCKETS];
struct cons_latency {
	uint64_t buckets[CONS_LATENCY_BUCKETS + 1]; /* the last one: above every bound */
	uint64_t count;
	double sum_seconds;
};
void cons_get_latency(const struct cons *c, struct cons_latency *out);

/* ---- Linearizable reads ------------------------------------------------------------------- */

/* rv STSD_OK once this leader has proven it still leads and applied every entry committed before
 * the call; otherwise STSD_LEADERSHIPLOST or STSD_SHUTDOWN. Concurrent callers share barriers:
 * callers arriving while one is in flight wait for the next, which is issued when it completes. */
typedef void (*cons_barrier_cb)(void *ud, int rv);
int cons_barrier(struct cons *c, cons_barrier_cb cb, void *ud);

/* ---- Membership ----------------------------------------------------------------------------- */

/* Members are raft configuration entries plus a record in the store (resource "members", name the
 * decimal id: {"spec":{"id":N,"raftAddress":..,"apiAddress":..}}), so every replica can name the
 * leader's API address. */
#define CONS_MEMBERS_RESOURCE "members"

struct cons_member {
	uint64_t id;
	char raft_address[256];
	char api_address[256];
	bool voter; /* in the raft configuration as a voter */
	bool in_configuration;
};

/* The leader's id and API address (from its member record): STSD_UNAVAILABLE when no leader is
 * known, STSD_NOTFOUND when its record is not (yet) applied here. */
int cons_leader(struct cons *c, uint64_t *id, char *api_address, size_t len);
/* Members: the union of the raft configuration and the member records, ordered by id. Returns the
 * count written (at most max). */
size_t cons_members(struct cons *c, struct cons_member *out, size_t max);

typedef void (*cons_change_cb)(void *ud, int rv);
/* Leader only (else STSD_NOTLEADER). Add id as a non-voter, promote it to voter once it caught up,
 * and record its member record. */
int cons_add_member(struct cons *c, uint64_t id, const char *raft_address, const char *api_address,
                    cons_change_cb cb, void *ud);
/* Delete id's member record, then remove id from the configuration (the leader itself included:
 * it steps down once the new configuration commits). STSD_NOTFOUND when id is not a member. */
int cons_remove_member(struct cons *c, uint64_t id, cons_change_cb cb, void *ud);
/* Hand leadership to id (0: the most up-to-date voter). */
int cons_transfer(struct cons *c, uint64_t id, cons_change_cb cb, void *ud);
/* Write (or refresh) the member record of an existing configuration member: how a follower's API
 * address reaches the store (it asks the leader through the API, which calls this). */
int cons_record_member(struct cons *c, uint64_t id, const char *raft_address,
                       const char *api_address, cons_change_cb cb, void *ud);

#endif
