/* fsm.c — the raft FSM: commands applied to the store, snapshots out of and into it. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"
#include "util.h"

/* A decoded command's ops as the store takes them (pointers into the decode arena). */
void cons_op_to_store(const struct proto_op *p, struct store_op *s)
{
	memset(s, 0, sizeof *s);
	s->type = (enum store_op_type)(p->type - PROTO_OP_CREATE + STORE_OP_CREATE);
	s->resource = p->resource;
	s->ns = p->ns;
	s->name = p->name;
	s->json = p->json;
	s->json_len = p->json_len;
	s->uid = p->uid;
	s->expect_rv = p->expect_rv;
	s->expect_uid = p->expect_uid;
	s->expect_absent = p->expect_absent;
	s->ordinal = p->ordinal;
	s->claim.pod_uid = p->claim_pod_uid;
	s->claim.pod_name = p->claim_pod_name;
	s->claim.node = p->claim_node;
	s->claim.state = (enum store_claim_state)p->claim_state;
	s->expect_pod_uid = p->expect_pod_uid;
	s->expect_state = (enum store_claim_state)p->expect_state;
}

/* The batches of an entry's commands, and the proposals of ours among them. */
static int prepare_batches(struct cons_fsm *f, uint64_t index, const struct proto_command *cmds,
                           size_t n, struct store_batch *b, struct proposal **props)
{
	for (size_t i = 0; i < n; i++) {
		struct store_op *ops = NULL;
		if (cmds[i].n_ops &&
		    (ops = arena_alloc(&f->arena, cmds[i].n_ops * sizeof *ops)) == NULL)
			return RAFT_NOMEM;
		for (size_t k = 0; k < cmds[i].n_ops; k++)
			cons_op_to_store(&cmds[i].ops[k], &ops[k]);
		props[i] = f->owner && cmds[i].proposer == f->id
		               ? cons_pending_find(f->owner, cmds[i].proposal)
		               : NULL;
		b[i] =
		    (struct store_batch){.revision = index,
		                         .now = cmds[i].now,
		                         .ops = ops,
		                         .n_ops = cmds[i].n_ops,
		                         .want_objects = props[i] != NULL && props[i]->cb != NULL};
	}
	return 0;
}

/* Apply one committed entry at index: its commands in one store transaction, each all-or-nothing.
 * An entry that does not decode is applied as an empty batch on every replica alike (so the
 * applied index still moves); only store I/O errors are fatal for the state machine. */
static int apply_entry(struct cons_fsm *f, uint64_t index, const struct raft_buffer *buf)
{
	static const struct proto_command empty = {0};
	const struct proto_command *cmds = &empty;
	struct proto_command *decoded;
	struct store_batch *b;
	struct store_result *res;
	struct proposal **props;
	const void *payload;
	size_t len, n = 1;
	int rv;

	arena_reset(&f->arena);
	if (cons_entry_payload(buf->base, buf->len, &payload, &len) != STSD_OK ||
	    proto_entry_decode(payload, len, &f->arena, &decoded, &n) != STSD_OK || n == 0) {
		log_error("cons", "event=bad_entry index=%llu len=%zu", (unsigned long long)index,
		          buf->len);
		n = 1;
	} else {
		cmds = decoded;
	}
	b = arena_alloc(&f->arena, n * sizeof *b);
	res = arena_alloc(&f->arena, n * sizeof *res);
	props = arena_alloc(&f->arena, n * sizeof *props);
	if (!b || !res || !props || prepare_batches(f, index, cmds, n, b, props) != 0)
		return RAFT_NOMEM;
	if ((rv = store_apply_many(f->store, b, n, res)) != STSD_OK) {
		log_error("cons", "event=apply_failed index=%llu err=%s detail=\"%s\"",
		          (unsigned long long)index, stsd_errname(rv), store_errmsg(f->store));
		return RAFT_IOERR;
	}
	for (size_t i = 0; i < n; i++) {
		if (props[i] == NULL) {
			store_result_free(&res[i]);
			continue;
		}
		props[i]->result = res[i];
		props[i]->applied = true;
		props[i]->revision = index;
	}
	return 0;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct cons_fsm *f = fsm->data;
	/* raft 0.15 does not pass the index: it is the one after the last applied (pinned by
	 * tests/consensus/test_fixture.c). */
	uint64_t index = raft_last_applied(f->raft) + 1;
	int rv = apply_entry(f, index, buf);

	*result = NULL; /* results travel through the proposal, which followers do not have */
	if (rv == 0 && f->owner && f->owner->on_applied)
		f->owner->on_applied(f->owner->cb_ud, index);
	return rv;
}

struct snap_buf {
	struct raft_buffer b;
	size_t cap;
};

static int snap_write(void *ud, const void *data, size_t len)
{
	struct snap_buf *sb = ud;

	if (sb->b.len + len > sb->cap) {
		size_t cap = (sb->b.len + len) * 2;
		void *p = raft_realloc(sb->b.base, cap);
		if (p == NULL)
			return -1;
		sb->b.base = p;
		sb->cap = cap;
	}
	memcpy((char *)sb->b.base + sb->b.len, data, len);
	sb->b.len += len;
	return 0;
}

/* A snapshot is the store's export at its applied index (never ahead of raft's last applied).
 * The store is synced first, so that raft may drop the log entries the snapshot covers. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cons_fsm *f = fsm->data;
	struct snap_buf sb = {{NULL, 0}, 0};
	struct store_reader *r;
	uint64_t t0 = util_now_mono_ns();
	int rv = store_sync(f->store);

	if (rv == STSD_OK && (rv = store_read_begin(f->store, &r)) == STSD_OK) {
		rv = store_snapshot_export(r, snap_write, &sb);
		store_read_end(r);
	}
	/* Hand raft a buffer of exactly the snapshot's size. */
	if (rv == STSD_OK && sb.b.len < sb.cap) {
		void *exact = raft_realloc(sb.b.base, sb.b.len ? sb.b.len : 1);
		if (exact)
			sb.b.base = exact;
	}
	if (rv != STSD_OK || (*bufs = raft_malloc(sizeof **bufs)) == NULL) {
		log_error("cons", "event=snapshot_failed err=%s detail=\"%s\"", stsd_errname(rv),
		          store_errmsg(f->store));
		raft_free(sb.b.base);
		return RAFT_IOERR;
	}
	(*bufs)[0] = sb.b;
	*n_bufs = 1;
	f->snapshots_taken++;
	log_info("cons", "event=snapshot_taken raft_index=%llu bytes=%zu duration_ms=%.1f",
	         (unsigned long long)raft_last_applied(f->raft), sb.b.len,
	         (util_now_mono_ns() - t0) / 1e6);
	return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	(void)fsm;
	for (unsigned i = 0; i < *n_bufs; i++)
		raft_free((*bufs)[i].base);
	raft_free(*bufs);
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* raft restores the latest snapshot on every start; the store persists, so a snapshot it already
 * covers is skipped. The buffer is ours to free. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct cons_fsm *f = fsm->data;
	struct store_snapshot_info info;
	struct store_reader *r;
	uint64_t applied = 0;
	int rv = store_snapshot_peek(buf->base, buf->len, &info);

	if (rv == STSD_OK && (rv = store_read_begin(f->store, &r)) == STSD_OK) {
		applied = store_reader_applied_index(r);
		store_read_end(r);
	}
	if (rv == STSD_OK && applied >= info.applied_index) {
		f->snapshots_skipped++;
		log_info("cons",
		         "event=snapshot_restore_skipped snapshot_index=%llu store_index=%llu",
		         (unsigned long long)info.applied_index, (unsigned long long)applied);
	} else if (rv == STSD_OK &&
	           (rv = store_snapshot_import(f->store, buf->base, buf->len)) == STSD_OK) {
		f->snapshots_restored++;
		log_info("cons", "event=snapshot_restored index=%llu objects=%llu claims=%llu",
		         (unsigned long long)info.applied_index, (unsigned long long)info.objects,
		         (unsigned long long)info.claims);
		/* The store jumped: watchers learn now that their position may be gone. */
		if (f->owner && f->owner->on_applied)
			f->owner->on_applied(f->owner->cb_ud, info.applied_index);
	}
	raft_free(buf->base);
	if (rv != STSD_OK) {
		log_error("cons", "event=restore_failed err=%s detail=\"%s\"", stsd_errname(rv),
		          store_errmsg(f->store));
		return RAFT_IOERR;
	}
	return 0;
}

void cons_fsm_init(struct cons_fsm *f, struct raft *raft, struct store *store, uint64_t id,
                   struct cons *owner)
{
	memset(f, 0, sizeof *f);
	f->raft = raft;
	f->store = store;
	f->id = id;
	f->owner = owner;
	arena_init(&f->arena, 64 * 1024);
	/* Version 2: a synchronous snapshot plus finalize. Version 3's snapshot_async crashed
	 * under this raft version's fixture (docs/decisions/004-consensus.md). */
	f->fsm.version = 2;
	f->fsm.data = f;
	f->fsm.apply = fsm_apply;
	f->fsm.snapshot = fsm_snapshot;
	f->fsm.snapshot_finalize = fsm_snapshot_finalize;
	f->fsm.restore = fsm_restore;
}

void cons_fsm_close(struct cons_fsm *f)
{
	arena_close(&f->arena);
}
