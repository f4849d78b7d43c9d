/* proto.h — encoding and decoding of stsd's stored records (proto/stsd.proto), in plain C types.
 *
 * The generated protobuf-c code stays inside proto/. Encoding: *_size gives the exact packed size
 * and
 * *_pack writes that many bytes into the caller's buffer. Decoding: *_decode parses buf and points
 * the output's strings and bytes into memory taken from the caller's arena (valid until the arena
 * is reset); it returns STSD_OK, STSD_CORRUPT for bytes that are not a valid record, or
 * STSD_UNSUPPORTED for a record of a format version this build does not know. Strings given to
 * *_pack may be NULL (empty). */
#ifndef STSD_PROTO_H
#define STSD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define PROTO_FORMAT 1

struct proto_object {
	uint64_t resource_version;
	const char *uid;
	int64_t generation; /* 0: not tracked (the object has no spec) */
	int64_t creation_time;
	const char *json;
	size_t json_len;
};

enum proto_claim_state {
	PROTO_CLAIM_NONE = 0,
	PROTO_CLAIM_HELD = 1,
	PROTO_CLAIM_RELEASING = 2,
};

struct proto_claim {
	const char *pod_uid;
	const char *pod_name;
	const char *node;
	enum proto_claim_state state;
	uint64_t revision;
};

enum proto_change_type {
	PROTO_CHANGE_ADDED = 1,
	PROTO_CHANGE_MODIFIED = 2,
	PROTO_CHANGE_DELETED = 3,
};

struct proto_change {
	enum proto_change_type type;
	const char *resource;
	const char *ns;
	const char *name;
	const char *json; /* objects only */
	size_t json_len;
	uint32_t ordinal; /* claims only */
	bool has_claim;   /* claims only */
	struct proto_claim claim;
};

enum proto_snapshot_table {
	PROTO_TABLE_OBJECTS = 1,
	PROTO_TABLE_CLAIMS = 2,
};

struct proto_snapshot_header {
	uint64_t applied_index;
	uint64_t object_count;
	uint64_t claim_count;
	unsigned char digest[32];
};

struct proto_snapshot_record {
	enum proto_snapshot_table table;
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
};

struct proto_continue {
	const char *resource;
	const char *ns;
	const void *after;
	size_t after_len;
	uint64_t revision;
};

enum proto_op_type {
	PROTO_OP_CREATE = 1,
	PROTO_OP_UPDATE = 2,
	PROTO_OP_DELETE = 3,
	PROTO_OP_ASSERT = 4,
	PROTO_OP_CLAIM_ACQUIRE = 5,
	PROTO_OP_CLAIM_SET = 6,
	PROTO_OP_CLAIM_RELEASE = 7,
	PROTO_OP_CLAIM_ASSERT = 8,
};

/* One operation of a Raft command (mirrors storage's store_op; NULL strings are "not given"). */
struct proto_op {
	enum proto_op_type type;
	const char *resource;
	const char *ns;
	const char *name;
	const char *json;
	size_t json_len;
	const char *uid;
	uint64_t expect_rv;
	const char *expect_uid;
	bool expect_absent;
	uint32_t ordinal;
	const char *claim_pod_uid;
	const char *claim_pod_name;
	const char *claim_node;
	enum proto_claim_state claim_state;
	const char *expect_pod_uid;
	enum proto_claim_state expect_state;
};

/* A Raft log entry's command. */
struct proto_command {
	int64_t now;
	uint64_t proposer;
	uint64_t proposal;
	const struct proto_op *ops;
	size_t n_ops;
};

/* Encoding a command builds the protobuf message once (in a): size it, then pack it. */
struct proto_command_msg;
int proto_command_build(const struct proto_command *c, struct arena *a,
                        struct proto_command_msg **out);
size_t proto_command_msg_size(const struct proto_command_msg *m);
void proto_command_msg_pack(const struct proto_command_msg *m, void *buf);
/* Decode; out->ops is an array in a. STSD_CORRUPT for an op of unknown type or without its keys. */
int proto_command_decode(const void *buf, size_t len, struct arena *a, struct proto_command *out);

/* A Raft log entry carries several encoded commands (group commit): the entry's bytes are the
 * concatenation of its items. proto_entry_item_size is an item's size for a command of len bytes;
 * proto_entry_put_item writes it at out and returns its size. */
size_t proto_entry_item_size(size_t len);
size_t proto_entry_put_item(void *out, const void *command, size_t len);
/* Decode an entry: *cmds (n of them) and their strings live in a. STSD_CORRUPT when the entry or
 * a command does not decode, STSD_UNSUPPORTED for a command of another format. */
int proto_entry_decode(const void *buf, size_t len, struct arena *a, struct proto_command **cmds,
                       size_t *n);

size_t proto_object_size(const struct proto_object *o);
void proto_object_pack(const struct proto_object *o, void *buf);
int proto_object_decode(const void *buf, size_t len, struct arena *a, struct proto_object *out);

size_t proto_claim_size(const struct proto_claim *c);
void proto_claim_pack(const struct proto_claim *c, void *buf);
int proto_claim_decode(const void *buf, size_t len, struct arena *a, struct proto_claim *out);

size_t proto_change_size(const struct proto_change *c);
void proto_change_pack(const struct proto_change *c, void *buf);
int proto_change_decode(const void *buf, size_t len, struct arena *a, struct proto_change *out);

size_t proto_snapshot_header_size(const struct proto_snapshot_header *h);
void proto_snapshot_header_pack(const struct proto_snapshot_header *h, void *buf);
int proto_snapshot_header_decode(const void *buf, size_t len, struct arena *a,
                                 struct proto_snapshot_header *out);

size_t proto_snapshot_record_size(const struct proto_snapshot_record *r);
void proto_snapshot_record_pack(const struct proto_snapshot_record *r, void *buf);
int proto_snapshot_record_decode(const void *buf, size_t len, struct arena *a,
                                 struct proto_snapshot_record *out);

size_t proto_continue_size(const struct proto_continue *t);
void proto_continue_pack(const struct proto_continue *t, void *buf);
int proto_continue_decode(const void *buf, size_t len, struct arena *a, struct proto_continue *out);

#endif
