/* fuzz_command.c — libFuzzer target: raw Raft log entry bytes through the path the FSM takes.
 *
 * The input is one log entry as raft hands it to fsm_apply: the "STE1" framing
 * (cons_entry_payload), the protobuf Entry of group-committed commands and each Command's ops
 * (proto_entry_decode), then the store batches applied to a fresh store (store_apply_many), as
 * consensus/fsm.c's apply_entry does. A committed entry is replayed by every replica, so bytes
 * that crash any of these steps would take the whole cluster down.
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks these properties (abort() on a
 * violation, which libFuzzer reports as a crash with the input saved):
 *  - every decoded op carries non-NULL resource, namespace and name (the store reads them);
 *  - a decoded command re-encodes (proto_command_build, the proposer's encoder) into bytes that
 *    decode to the same command, and a rebuilt entry (cons_entry_build) frames and decodes
 *    again: the proposer and the appliers agree on what a command means;
 *  - the store answers bad ops with typed results (res[i].status), never an I/O-level error,
 *    also when the entry is applied a second time on top of its own effects.
 *
 * The store lives in a directory made at start-up (setup_store_dir) and is recreated for every
 * input, so that a crash reproduces from its input alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "internal.h"
#include "log.h"
#include "proto.h"
#include "store.h"

/* Each failed check names itself before aborting, so the crash report says which one. */
#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_command: check failed: %s (%s:%d)\n", #cond, \
			        __FILE__, __LINE__);                                       \
			abort();                                                           \
		}                                                                          \
	} while (0)

static char store_dir[256];

/* TMPDIR first (scripts/run-fuzz points it into its scratch directory, which it removes even
 * after a crash), else /dev/shm: on tmpfs LMDB's syncs cost nothing. */
static int setup_store_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(store_dir, sizeof store_dir, "%s/stsd-fuzz-command-XXXXXX", base);
	return mkdtemp(store_dir) ? 0 : -1;
}

/* LMDB's two files; the directory itself stays for the next input. */
static void remove_store_files(void)
{
	char path[300];

	snprintf(path, sizeof path, "%s/data.mdb", store_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", store_dir);
	unlink(path);
}

static void cleanup_at_exit(void)
{
	remove_store_files();
	rmdir(store_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A store opens per input: its info lines would drown the fuzzer's. */
	log_set_level(LOG_ERROR);
	if (setup_store_dir() != 0) {
		perror("fuzz_command: mkdtemp");
		abort();
	}
	atexit(cleanup_at_exit);
	return 0;
}

static int same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void check_same_op(const struct proto_op *a, const struct proto_op *b)
{
	CHECK(a->type == b->type);
	CHECK(same_str(a->resource, b->resource) && same_str(a->ns, b->ns));
	CHECK(same_str(a->name, b->name) && same_str(a->uid, b->uid));
	CHECK(a->json_len == b->json_len);
	CHECK(a->json_len == 0 || memcmp(a->json, b->json, a->json_len) == 0);
	CHECK(a->expect_rv == b->expect_rv && same_str(a->expect_uid, b->expect_uid));
	CHECK(!a->expect_absent == !b->expect_absent && a->ordinal == b->ordinal);
	CHECK(same_str(a->claim_pod_uid, b->claim_pod_uid));
	CHECK(same_str(a->claim_pod_name, b->claim_pod_name));
	CHECK(same_str(a->claim_node, b->claim_node) && a->claim_state == b->claim_state);
	CHECK(same_str(a->expect_pod_uid, b->expect_pod_uid) && a->expect_state == b->expect_state);
}

static void check_same_command(const struct proto_command *a, const struct proto_command *b)
{
	CHECK(a->now == b->now && a->proposer == b->proposer && a->proposal == b->proposal);
	CHECK(a->n_ops == b->n_ops);
	for (size_t i = 0; i < a->n_ops; i++)
		check_same_op(&a->ops[i], &b->ops[i]);
}

/* Re-encode one decoded command, decode it again and compare; returns the encoding (malloc'd). */
static char *round_trip(const struct proto_command *c, struct arena *a, size_t *len)
{
	struct proto_command_msg *m;
	struct proto_command again;
	char *buf;

	CHECK(proto_command_build(c, a, &m) == STSD_OK);
	*len = proto_command_msg_size(m);
	buf = malloc(*len ? *len : 1);
	CHECK(buf != NULL);
	proto_command_msg_pack(m, buf);
	CHECK(proto_command_decode(buf, *len, a, &again) == STSD_OK);
	check_same_command(c, &again);
	return buf;
}

/* The commands re-encoded and gathered into one entry again decode to the same commands. */
static void check_entry_round_trip(const struct proto_command *cmds, size_t n, struct arena *a)
{
	char **enc = calloc(n, sizeof *enc);
	size_t *lens = calloc(n, sizeof *lens);
	struct raft_buffer entry;
	struct proto_command *again;
	const void *payload;
	size_t payload_len, n_again = 0;

	CHECK(enc != NULL && lens != NULL);
	for (size_t i = 0; i < n; i++)
		enc[i] = round_trip(&cmds[i], a, &lens[i]);
	CHECK(cons_entry_build(enc, lens, n, &entry) == STSD_OK);
	CHECK(entry.len % 8 == 0); /* raft's transport needs it (consensus/entry.c) */
	CHECK(cons_entry_payload(entry.base, entry.len, &payload, &payload_len) == STSD_OK);
	CHECK(proto_entry_decode(payload, payload_len, a, &again, &n_again) == STSD_OK);
	CHECK(n_again == n);
	for (size_t i = 0; i < n; i++)
		check_same_command(&cmds[i], &again[i]);
	raft_free(entry.base);
	for (size_t i = 0; i < n; i++)
		free(enc[i]);
	free(enc);
	free(lens);
}

/* A decoded op as the store takes it, through the FSM's own mapping; the fields it must hold. */
static void to_store_op(const struct proto_op *p, struct store_op *s)
{
	CHECK(p->resource != NULL && p->ns != NULL && p->name != NULL);
	CHECK(p->type >= PROTO_OP_CREATE && p->type <= PROTO_OP_CLAIM_ASSERT);
	cons_op_to_store(p, s);
}

/* One store batch per command (revision set by apply_at). */
static struct store_batch *make_batches(const struct proto_command *cmds, size_t n, struct arena *a)
{
	struct store_batch *b = arena_alloc(a, n * sizeof *b);

	CHECK(b != NULL);
	for (size_t i = 0; i < n; i++) {
		struct store_op *ops = arena_alloc(a, (cmds[i].n_ops + 1) * sizeof *ops);
		CHECK(ops != NULL);
		for (size_t k = 0; k < cmds[i].n_ops; k++)
			to_store_op(&cmds[i].ops[k], &ops[k]);
		b[i] = (struct store_batch){.now = cmds[i].now,
		                            .ops = ops,
		                            .n_ops = cmds[i].n_ops,
		                            .want_objects = i % 2 == 0};
	}
	return b;
}

static void apply_at(struct store *s, struct store_batch *b, size_t n, uint64_t rev,
                     struct store_result *res)
{
	for (size_t i = 0; i < n; i++)
		b[i].revision = rev;
	/* Only I/O-level errors may come back; bad ops are typed results inside res. */
	CHECK(store_apply_many(s, b, n, res) == STSD_OK);
	for (size_t i = 0; i < n; i++) {
		CHECK(!res[i].skipped); /* rev is above the applied index */
		store_result_free(&res[i]);
	}
}

/* Apply the commands as one group-committed entry at revision 1 of a fresh store, then once more
 * at revision 2 on top of their own effects: creates meet existing objects, and updates, deletes
 * and claim changes find what the first pass made. */
static void apply_to_store(const struct proto_command *cmds, size_t n, struct arena *a)
{
	struct store_batch *b = make_batches(cmds, n, a);
	struct store_result *res = arena_alloc(a, n * sizeof *res);
	struct store *s;
	char err[256];

	CHECK(res != NULL);
	remove_store_files();
	if (store_open(store_dir, NULL, &s, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "fuzz_command: store_open %s: %s\n", store_dir, err);
		abort();
	}
	apply_at(s, b, n, 1, res);
	apply_at(s, b, n, 2, res);
	store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_command *cmds;
	const void *payload;
	size_t payload_len, n = 0;
	struct arena a;

	if (cons_entry_payload(data, size, &payload, &payload_len) != STSD_OK)
		return 0;
	arena_init(&a, 4096);
	if (proto_entry_decode(payload, payload_len, &a, &cmds, &n) == STSD_OK && n > 0) {
		check_entry_round_trip(cmds, n, &a);
		apply_to_store(cmds, n, &a);
	}
	arena_close(&a);
	return 0;
}
