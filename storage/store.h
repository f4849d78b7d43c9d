/* store.h — the stsd storage engine: objects, change log, ordinal claims, indexes, snapshots,
 * digest.
 *
 * Pure local storage on LMDB (no network, no Raft). The Raft state machine writes into it through
 * store_apply, one batch per committed entry; everything else reads through a store_reader, a
 * consistent view that never blocks the writer and may move between threads.
 *
 * Threads: one writer at a time (store_apply, store_compact, store_snapshot_import are called from
 * the loop thread); readers from any thread. A thread must not hold a reader while it writes: the
 * map may have to grow, which waits for every reader to end (the write then fails with STSD_BUSY
 * instead of deadlocking).
 *
 * Errors: functions return 0 (STSD_OK) or a code of common/errors.h; store_errmsg() has the detail
 * of the last error of the calling thread's most recent call on this store. */
#ifndef STSD_STORE_H
#define STSD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_reader;

/* Maximum length of a continue token, including its NUL. */
#define STORE_TOKEN_MAX 1024
/* Longest resource, namespace or name the key encoding takes (LMDB keys are at most 511 bytes). */
#define STORE_NAME_MAX 253
/* Resource name under which claim changes appear in the change log. */
#define STORE_CLAIMS_RESOURCE "ordinalclaims"

struct store_options {
	size_t map_size;       /* initial map size in bytes; 0 = 256 MiB */
	size_t max_map_size;   /* growth stops here (STSD_NOSPACE); 0 = no limit */
	bool read_only;        /* for offline inspection of a replica's data directory */
	unsigned grow_wait_ms; /* how long growth waits for readers to end; 0 = 30 s */
};

/* Open (creating if needed, unless read_only) the store in directory dir; opts may be NULL for the
 * defaults. On success *out owns the store until store_close. On failure err (if not NULL) says
 * why. */
int store_open(const char *dir, const struct store_options *opts, struct store **out, char *err,
               size_t errlen);
/* Close the store. Every reader must have ended. */
void store_close(struct store *s);
/* Detail of the calling thread's last storage error (thread-local buffer; s may be NULL). */
const char *store_errmsg(const struct store *s);
/* Flush everything committed to disk (MDB_NOMETASYNC leaves the last meta page unsynced). Call
 * before letting Raft drop log entries that the store covers. */
int store_sync(struct store *s);
/* Current map size in bytes (grows on demand). */
size_t store_map_size(const struct store *s);

/* ---- Objects and claims ------------------------------------------------------------------------
 */

enum store_claim_state {
	STORE_CLAIM_NONE = 0,      /* in preconditions: any state */
	STORE_CLAIM_HELD = 1,      /* a pod of this identity may run */
	STORE_CLAIM_RELEASING = 2, /* pod object gone, its processes not yet proven gone */
};

struct store_claim {
	const char *pod_uid;
	const char *pod_name;
	const char *node;
	enum store_claim_state state;
	uint64_t revision; /* output only: revision of the last change */
};

/* A stored object as a reader sees it. Pointers are borrowed (see each read function). */
struct store_object {
	const char *resource;
	const char *ns; /* "" for cluster-scoped objects */
	const char *name;
	uint64_t resource_version;
	const char *uid;
	int64_t generation; /* 0 when the object has no spec */
	int64_t creation_time;
	const char *json; /* the object, metadata included; not NUL-terminated */
	size_t json_len;
};

/* ---- Write batches
 * ------------------------------------------------------------------------------- */

enum store_op_type {
	/* Objects (resource, ns, name). */
	STORE_OP_CREATE, /* fails EXISTS if present */
	STORE_OP_UPDATE, /* fails NOTFOUND if absent; a no-op update writes nothing */
	STORE_OP_DELETE, /* fails NOTFOUND if absent */
	STORE_OP_ASSERT, /* precondition only: present with expect_*, or absent (expect_absent) */
	/* Ordinal claims (ns, name = set name, ordinal). */
	STORE_OP_CLAIM_ACQUIRE, /* fails CONFLICT if any claim is held for the identity; state HELD
	                         */
	STORE_OP_CLAIM_SET,     /* compare-and-set: fails NOTFOUND if absent, CONFLICT if expect_*
	                           differ */
	STORE_OP_CLAIM_RELEASE, /* compare-and-delete, as CLAIM_SET */
	STORE_OP_CLAIM_ASSERT,  /* precondition only, as CLAIM_SET; or absent (expect_absent) */
};

struct store_op {
	enum store_op_type type;
	const char *resource; /* objects only */
	const char *ns;       /* "" or NULL for cluster-scoped */
	const char *name;     /* object name, or the set name for claims */
	/* CREATE, UPDATE: the object's JSON (an object; metadata.name, if given, must equal name).
	 */
	const char *json;
	size_t json_len;
	/* CREATE: uid for the new object; NULL derives one from the revision (same on every
	 * replica). */
	const char *uid;
	/* Preconditions (UPDATE, DELETE, ASSERT; claims use expect_pod_uid / expect_state). */
	uint64_t expect_rv;     /* 0 = any */
	const char *expect_uid; /* NULL = any */
	bool expect_absent;     /* ASSERT, CLAIM_ASSERT */
	/* Claims. */
	uint32_t ordinal;
	/* ACQUIRE: the new claim (state NONE means HELD). SET: the fields to change; NULL fields
	 * and state NONE keep their stored values. */
	struct store_claim claim;
	const char *expect_pod_uid;          /* NULL = any */
	enum store_claim_state expect_state; /* NONE = any */
};

struct store_batch {
	uint64_t
	    revision; /* the Raft index; must exceed the applied index, else the batch is skipped */
	int64_t now;  /* unix seconds from the proposer, for creationTimestamp */
	const struct store_op *ops;
	size_t n_ops;
	bool
	    want_objects; /* fill store_result.objects (the proposer wants them; followers don't) */
};

struct store_op_result {
	uint64_t resource_version; /* of the object after the op (for DELETE, the deletion's) */
	bool changed;              /* false for a no-op update or a precondition */
	char *json; /* want_objects: the object after the op (before it, for DELETE) */
	size_t json_len;
};

struct store_result {
	int status;       /* STSD_OK, or NOTFOUND/EXISTS/CONFLICT/INVALID for a failed op */
	size_t failed_op; /* index of the op that failed, when status != OK */
	bool skipped;     /* the revision was at or below the applied index: nothing done */
	char message[256];
	struct store_op_result *objects; /* want_objects and status OK: n_ops entries */
	size_t n_objects;
};

/* Apply a batch all-or-nothing in one transaction at revision b->revision, which also becomes the
 * applied index (also when a precondition fails: the entry was applied, its result is the failure).
 * Every changed object gets resourceVersion = revision; each change is appended to the change log
 * in the same transaction. Returns STSD_OK with the typed outcome in res->status, or an I/O-level
 * error (NOSPACE, IO, NOMEM, BUSY) with nothing written and the applied index unchanged. res must
 * be released with store_result_free. */
int store_apply(struct store *s, const struct store_batch *b, struct store_result *res);
/* Apply n batches (n >= 1) of one revision in one transaction: each batch is all-or-nothing with
 * its own result in res[i] (a failed precondition rolls back only its batch), the applied index
 * moves once, change log entries are numbered across the batches. This is group commit: one
 * Raft entry carrying several clients' commands costs one sync. All b[i].revision must be equal
 * (else STSD_INVALID); an I/O-level error leaves everything unwritten. */
int store_apply_many(struct store *s, const struct store_batch *b, size_t n,
                     struct store_result *res);
void store_result_free(struct store_result *res);

/* ---- Readers
 * ------------------------------------------------------------------------------------- */

/* A consistent read view. Ends with store_read_end; may be used from any one thread at a time. */
int store_read_begin(struct store *s, struct store_reader **out);
void store_read_end(struct store_reader *r);
/* The applied index and the compacted revision (the change log holds revisions above it) of this
 * view. */
uint64_t store_reader_applied_index(const struct store_reader *r);
uint64_t store_reader_compacted(const struct store_reader *r);

/* Get one object. *out's pointers stay valid until the next call on r or store_read_end. */
int store_get(struct store_reader *r, const char *resource, const char *ns, const char *name,
              struct store_object *out);

/* Called per item; the item is valid during the call only. A non-zero return stops the iteration
 * and becomes the iterating function's return value, except STORE_SKIP from a store_list callback:
 * the item was filtered out (not counted against the limit; a continue token still resumes after
 * it). */
typedef int (*store_object_cb)(void *ud, const struct store_object *o);
#define STORE_SKIP 0x5ca1ab1e

struct store_list_request {
	const char *resource;
	const char *ns;             /* NULL = every namespace */
	const char *name_prefix;    /* NULL = every name; else only names starting with it (ns
	                               required) */
	const char *continue_token; /* NULL or "" = from the start */
	size_t limit;               /* 0 = no limit */
};

struct store_list_page {
	size_t count;                     /* items delivered */
	uint64_t revision;                /* applied index of the view */
	char next_token[STORE_TOKEN_MAX]; /* "" when the list is complete */
};

/* List objects of a resource in key order (namespace, name). A continue token is opaque, bound to
 * the resource and namespace it came from (else STSD_INVALID), and resumes after the last key
 * returned. */
int store_list(struct store_reader *r, const struct store_list_request *req, store_object_cb cb,
               void *ud, struct store_list_page *page);

/* Pods whose spec.nodeName is node, in (namespace, name) order, through the pods-by-node index. */
int store_list_pods_on_node(struct store_reader *r, const char *node, store_object_cb cb, void *ud);

struct store_claim_entry {
	const char *ns;
	const char *set;
	uint32_t ordinal;
	struct store_claim claim;
};
typedef int (*store_claim_cb)(void *ud, const struct store_claim_entry *c);

/* One claim; NOTFOUND if none. *out valid until the next call on r. */
int store_claim_get(struct store_reader *r, const char *ns, const char *set, uint32_t ordinal,
                    struct store_claim *out);
/* Claims in (namespace, set, ordinal) order, limited to ns and set when not NULL. */
int store_claims_list(struct store_reader *r, const char *ns, const char *set, store_claim_cb cb,
                      void *ud);

/* ---- Change log
 * ---------------------------------------------------------------------------------- */

enum store_change_type {
	STORE_ADDED = 1,
	STORE_MODIFIED = 2,
	STORE_DELETED = 3,
};

struct store_change {
	uint64_t revision;
	uint32_t seq; /* order within the revision */
	enum store_change_type type;
	const char *resource; /* STORE_CLAIMS_RESOURCE for claim changes */
	const char *ns;
	const char *name; /* object name, or set name */
	const char *json; /* objects: the object after the change (the last state, for DELETED) */
	size_t json_len;
	bool is_claim;
	uint32_t ordinal;
	struct store_claim claim; /* claims: the claim after (the last state, for DELETED) */
};
typedef int (*store_change_cb)(void *ud, const struct store_change *c);

/* Deliver changes with revision > after, oldest first, at most limit (0 = all). STSD_EXPIRED when
 * after < the compacted revision (those changes are gone). */
int store_changes(struct store_reader *r, uint64_t after, size_t limit, store_change_cb cb,
                  void *ud);
/* Remove change log entries with revision <= upto (capped at the applied index). Runs in bounded
 * transactions; *removed (if not NULL) counts the entries removed. */
int store_compact(struct store *s, uint64_t upto, uint64_t *removed);

/* ---- Digest, statistics, snapshots
 * --------------------------------------------------------------- */

#define STORE_DIGEST_LEN 32
/* SHA-256 over the objects and claims tables (keys and values, in order) of this view; equal views
 * give equal digests, one changed byte changes it. Pair it with store_reader_applied_index. */
int store_digest(struct store_reader *r, unsigned char out[STORE_DIGEST_LEN]);

struct store_stats {
	uint64_t objects, claims, changes;
	uint64_t first_change, last_change; /* revisions; 0 when the log is empty */
};
typedef int (*store_count_cb)(void *ud, const char *resource, uint64_t count);
/* Totals of this view, and the object count per resource (in resource order) through cb if not
 * NULL. */
int store_stats(struct store_reader *r, struct store_stats *st, store_count_cb cb, void *ud);

typedef int (*store_write_cb)(void *ud, const void *buf, size_t len);
/* Stream a snapshot of r's view (a header with its applied index and digest, then every object and
 * claim) through w. Safe on any thread while the writer continues. */
int store_snapshot_export(struct store_reader *r, store_write_cb w, void *ud);

struct store_snapshot_info {
	uint64_t applied_index;
	uint64_t objects, claims;
};
/* Read only the header of a snapshot stream. */
int store_snapshot_peek(const void *buf, size_t len, struct store_snapshot_info *info);
/* Replace the whole store with a snapshot, atomically: either the old store or the new one survives
 * a crash. The snapshot's digest is verified before the switch (STSD_CORRUPT otherwise, store
 * unchanged). The change log starts empty at the snapshot's applied index. Waits for every reader
 * to end. */
int store_snapshot_import(struct store *s, const void *buf, size_t len);

#endif
