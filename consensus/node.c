/* node.c — starting and stopping raft on the loop, its status, and leadership changes derived from
 * raft_state() (this raft version has no state-change callback). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "log.h"

#define SWEEP_MS 100

const char *cons_role_name(enum cons_role role)
{
	static const char *const names[] = {"unavailable", "follower", "candidate", "leader"};
	return role <= CONS_LEADER ? names[role] : "unavailable";
}

uint64_t cons_id(const struct cons *c)
{
	return c->id;
}

void cons_set_callbacks(struct cons *c, cons_leader_cb leader, cons_applied_cb applied, void *ud)
{
	c->on_leader = leader;
	c->on_applied = applied;
	c->cb_ud = ud;
}

static enum cons_role role_of(int state)
{
	switch (state) {
	case RAFT_FOLLOWER:
		return CONS_FOLLOWER;
	case RAFT_CANDIDATE:
		return CONS_CANDIDATE;
	case RAFT_LEADER:
		return CONS_LEADER;
	default:
		return CONS_UNAVAILABLE;
	}
}

static const struct raft_server *self_in_configuration(struct cons *c)
{
	for (unsigned i = 0; i < c->raft.configuration.n; i++)
		if (c->raft.configuration.servers[i].id == c->id)
			return &c->raft.configuration.servers[i];
	return NULL;
}

void cons_status(struct cons *c, struct cons_status *st)
{
	const struct raft_server *self = self_in_configuration(c);
	const char *addr;
	raft_id leader;

	memset(st, 0, sizeof *st);
	raft_leader(&c->raft, &leader, &addr);
	st->id = c->id;
	st->role = role_of(raft_state(&c->raft));
	st->term = c->raft.current_term;
	st->leader_id = leader;
	st->commit_index = c->raft.commit_index;
	st->last_index = raft_last_index(&c->raft);
	st->last_applied = raft_last_applied(&c->raft);
	st->voter = self && self->role == RAFT_VOTER;
	if (st->role == CONS_LEADER)
		st->ready = c->leader_ready;
	else
		st->ready = leader != 0 && self != NULL && st->last_applied >= st->commit_index;
	st->snapshots_taken = c->fsm.snapshots_taken;
	st->snapshots_restored = c->fsm.snapshots_restored;
	st->snapshots_skipped = c->fsm.snapshots_skipped;
	st->proposals = c->proposals;
	st->entries = c->groups;
}

static void issue_election_barrier(struct cons *c);

/* The election barrier proves every entry of earlier terms is applied: only then does a new leader
 * serve reads, report ready or reconcile (raft 0.15 appends no no-op entry on election). */
static void election_barrier_cb(struct raft_barrier *req, int status)
{
	struct cons *c = req->data;

	c->election_barrier_pending = false;
	if (c->stopping || !c->raft_leader || c->leader_ready)
		return;
	if (status != 0 || c->raft.current_term != c->leader_term) {
		issue_election_barrier(c);
		return;
	}
	c->leader_ready = true;
	log_info("cons", "event=leader_ready id=%llu term=%llu applied=%llu",
	         (unsigned long long)c->id, (unsigned long long)c->leader_term,
	         (unsigned long long)raft_last_applied(&c->raft));
	cons_leader_gained(c);
	if (c->on_leader)
		c->on_leader(c->cb_ud, true);
}

static void issue_election_barrier(struct cons *c)
{
	int rv;

	if (c->election_barrier_pending || raft_state(&c->raft) != RAFT_LEADER)
		return;
	c->election_barrier.data = c;
	rv = raft_barrier(&c->raft, &c->election_barrier, election_barrier_cb);
	if (rv == 0)
		c->election_barrier_pending = true;
	else
		log_warn("cons", "event=election_barrier_failed err=\"%s\"", raft_strerror(rv));
}

static void leadership_lost(struct cons *c)
{
	bool was_ready = c->leader_ready;

	c->raft_leader = false;
	c->leader_ready = false;
	cons_barriers_fail(c, STSD_LEADERSHIPLOST);
	log_info("cons", "event=leadership_lost id=%llu term=%llu", (unsigned long long)c->id,
	         (unsigned long long)c->raft.current_term);
	if (was_ready && c->on_leader)
		c->on_leader(c->cb_ud, false);
}

static void watch_cb(uv_check_t *h)
{
	struct cons *c = h->data;
	bool leader = raft_state(&c->raft) == RAFT_LEADER;

	if (c->raft_leader && (!leader || c->raft.current_term != c->leader_term))
		leadership_lost(c);
	if (leader && !c->raft_leader) {
		c->raft_leader = true;
		c->leader_term = c->raft.current_term;
		log_info("cons", "event=leadership_gained id=%llu term=%llu",
		         (unsigned long long)c->id, (unsigned long long)c->leader_term);
		issue_election_barrier(c);
	}
	cons_flush(c); /* what this loop turn's I/O callbacks proposed goes out as one entry */
}

static void flush_cb(uv_prepare_t *h)
{
	cons_flush(h->data); /* what timers and idle callbacks proposed, before the loop polls */
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return stsd_errf(err, errlen, STSD_IO, "cons: mkdir %s: %s", dir, strerror(errno));
	return STSD_OK;
}

static void apply_options(struct cons *c, const struct cons_options *o)
{
	raft_set_election_timeout(&c->raft, o->election_timeout_ms ? o->election_timeout_ms : 300);
	raft_set_heartbeat_timeout(&c->raft, o->heartbeat_ms ? o->heartbeat_ms : 50);
	raft_set_snapshot_threshold(&c->raft, o->snapshot_threshold ? o->snapshot_threshold : 8192);
	raft_set_snapshot_trailing(&c->raft, o->snapshot_trailing ? o->snapshot_trailing : 2048);
	raft_set_pre_vote(&c->raft, true);
	/* A follower busy taking its own snapshot drops an incoming InstallSnapshot without an
	 * answer (raft 0.15, "already taking or installing snapshot"); the leader resends only
	 * after this timeout, 30 s by default. 5 s bounds that stall and still leaves a store of
	 * hundreds of MB time to arrive and import before the leader gives up on it
	 * (docs/decisions/004). */
	raft_set_install_snapshot_timeout(
	    &c->raft, o->install_snapshot_timeout_ms ? o->install_snapshot_timeout_ms : 5000);
	raft_uv_set_connect_retry_delay(&c->io, o->connect_retry_ms ? o->connect_retry_ms : 100);
	c->propose_timeout_ms = o->propose_timeout_ms ? o->propose_timeout_ms : 10000;
}

static int bootstrap(struct cons *c, const struct cons_options *o, char *err, size_t errlen)
{
	struct raft_configuration conf;
	int rv = 0;

	if (o->n_bootstrap == 0)
		return STSD_OK;
	raft_configuration_init(&conf);
	for (size_t i = 0; i < o->n_bootstrap && rv == 0; i++)
		rv = raft_configuration_add(&conf, o->bootstrap[i].id, o->bootstrap[i].raft_address,
		                            RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&c->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP) {
		log_info("cons",
		         "event=bootstrap_skipped reason=\"raft directory holds a cluster\"");
		return STSD_OK;
	}
	if (rv != 0)
		return stsd_errf(err, errlen, cons_raft_err(rv), "cons: bootstrap: %s",
		                 raft_strerror(rv));
	log_info("cons", "event=bootstrapped voters=%zu", o->n_bootstrap);
	return STSD_OK;
}

static void free_cons(struct cons *c)
{
	/* Anything raft did not call back for is released here. */
	while (c->pending_head) {
		struct proposal *p = c->pending_head;
		c->pending_head = p->next;
		cons_proposal_free(p);
	}
	arena_close(&c->arena);
	cons_fsm_close(&c->fsm);
	free(c->raft_address);
	free(c->api_address);
	free(c->raft_dir);
	free(c);
}

static void start_failed_cb(struct raft *r)
{
	struct cons *c = r->data;

	raft_uv_close(&c->io);
	raft_uv_tcp_close(&c->transport);
	free_cons(c);
}

/* Set up raft_uv and raft. A failure before raft_init returns a positive code with nothing left
 * open; after it, a negative one: closing continues on the loop, which frees c. */
static int start_raft(struct cons *c, const struct cons_options *o, char *err, size_t errlen)
{
	int rv;

	if ((rv = raft_uv_tcp_init(&c->transport, c->loop)) != 0)
		return stsd_errf(err, errlen, STSD_IO, "cons: tcp transport: %s",
		                 raft_strerror(rv));
	if ((rv = raft_uv_init(&c->io, c->loop, c->raft_dir, &c->transport)) != 0) {
		raft_uv_tcp_close(&c->transport);
		return stsd_errf(err, errlen, STSD_IO, "cons: raft_uv %s: %s", c->raft_dir,
		                 c->io.errmsg);
	}
	if ((rv = raft_init(&c->raft, &c->io, &c->fsm.fsm, c->id, c->raft_address)) != 0) {
		stsd_errf(err, errlen, STSD_IO, "cons: raft_init: %s", raft_errmsg(&c->raft));
		raft_uv_close(&c->io);
		raft_uv_tcp_close(&c->transport);
		return STSD_IO;
	}
	c->raft.data = c;
	apply_options(c, o);
	if ((rv = bootstrap(c, o, err, errlen)) == STSD_OK && (rv = raft_start(&c->raft)) != 0)
		rv = stsd_errf(err, errlen, STSD_IO, "cons: raft_start: %s", raft_errmsg(&c->raft));
	if (rv != 0) {
		raft_close(&c->raft, start_failed_cb);
		return -rv; /* negative: c now belongs to the closing loop */
	}
	return STSD_OK;
}

int cons_start(uv_loop_t *loop, const struct cons_options *o, struct cons **out, char *err,
               size_t errlen)
{
	struct cons *c;
	int rv;

	if (o->id == 0 || !o->raft_address || !o->raft_dir || !o->store)
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "cons: id, raft address, dir, store required");
	if ((rv = make_dir(o->raft_dir, err, errlen)) != STSD_OK)
		return rv;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return STSD_NOMEM;
	c->loop = loop;
	c->id = o->id;
	c->store = o->store;
	c->raft_address = strdup(o->raft_address);
	c->api_address = strdup(o->api_address ? o->api_address : "");
	c->raft_dir = strdup(o->raft_dir);
	arena_init(&c->arena, 64 * 1024);
	cons_fsm_init(&c->fsm, &c->raft, c->store, c->id, c);
	if ((rv = start_raft(c, o, err, errlen)) != STSD_OK) {
		if (rv > 0)
			free_cons(c);
		return rv < 0 ? -rv : rv;
	}
	uv_check_init(loop, &c->watch);
	c->watch.data = c;
	uv_check_start(&c->watch, watch_cb);
	uv_prepare_init(loop, &c->flush);
	c->flush.data = c;
	uv_prepare_start(&c->flush, flush_cb);
	uv_timer_init(loop, &c->sweep);
	c->sweep.data = c;
	uv_timer_start(&c->sweep, cons_sweep_cb, SWEEP_MS, SWEEP_MS);
	log_info("cons", "event=started id=%llu raft_address=%s dir=%s", (unsigned long long)c->id,
	         c->raft_address, c->raft_dir);
	*out = c;
	return STSD_OK;
}

static void maybe_done(struct cons *c)
{
	void (*done)(void *) = c->stop_done;
	void *ud = c->stop_ud;

	if (--c->closing > 0)
		return;
	free_cons(c);
	if (done)
		done(ud);
}

static void handle_closed(uv_handle_t *h)
{
	maybe_done(h->data);
}

static void raft_closed(struct raft *r)
{
	struct cons *c = r->data;

	raft_uv_close(&c->io);
	raft_uv_tcp_close(&c->transport);
	maybe_done(c);
}

void cons_stop(struct cons *c, void (*done)(void *ud), void *ud)
{
	c->stop_done = done;
	c->stop_ud = ud;
	c->stopping = true;
	c->closing = 4; /* watch, flush, sweep, raft */
	log_info("cons", "event=stopping id=%llu", (unsigned long long)c->id);
	cons_fail_queue(c, STSD_SHUTDOWN);
	cons_fail_all(c, STSD_SHUTDOWN);
	cons_barriers_fail(c, STSD_SHUTDOWN);
	uv_check_stop(&c->watch);
	uv_close((uv_handle_t *)&c->watch, handle_closed);
	uv_prepare_stop(&c->flush);
	uv_close((uv_handle_t *)&c->flush, handle_closed);
	uv_timer_stop(&c->sweep);
	uv_close((uv_handle_t *)&c->sweep, handle_closed);
	raft_close(&c->raft, raft_closed);
}
