/* internal.h — what the storage engine's files share: the store struct, tables, key encodings. */
#ifndef STSD_STORAGE_INTERNAL_H
#define STSD_STORAGE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

#include "arena.h"
#include "errors.h"
#include "proto.h"
#include "store.h"

#define STORE_DEFAULT_MAP_SIZE ((size_t)256 << 20)
#define STORE_KEY_MAX          511

/* Named tables. */
enum store_table {
	TBL_OBJECTS,      /* resource \0 ns \0 name -> ObjectEnvelope */
	TBL_CHANGES,      /* be64 revision, be32 seq -> ChangeRecord */
	TBL_CLAIMS,       /* ns \0 set \0 be32 ordinal -> ClaimRecord */
	TBL_META,         /* name -> value (applied_index, compacted: be64) */
	TBL_PODS_BY_NODE, /* node \0 ns \0 name -> "" */
	TBL_COUNT,
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[TBL_COUNT];
	char *dir;
	bool read_only;
	size_t map_size, max_map_size;
	unsigned grow_wait_ms;
	/* The reader gate: growing the map or swapping in a snapshot needs every read transaction
	 * ended. A mutex and a count rather than a rwlock, so that a reader may end on another
	 * thread than the one that began it, and a thread may hold two readers without deadlocking.
	 */
	pthread_mutex_t gate;
	pthread_cond_t idle;       /* broadcast when readers drops to 0 */
	unsigned readers;          /* open readers */
	struct store_reader *pool; /* ended readers with reset transactions, for reuse */
	unsigned pool_len;
};

struct store_reader {
	struct store *s;
	struct store_reader *next; /* in the pool */
	MDB_txn *txn;
	uint64_t applied_index, compacted;
	struct arena arena; /* decodes of the current item */
};

/* Translate an LMDB or errno code into STSD_*, recording the detail "<what>: <mdb_strerror>". */
int store_mdb_err(struct store *s, int rc, const char *what);
/* Record a detail message and return code. */
int store_fail(struct store *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Close the reader gate: wait (at most grow_wait_ms) until no reader is open, then return with the
 * gate held so that no reader begins until store_gate_open. STSD_BUSY on timeout. */
int store_gate_close(struct store *s, const char *what);
void store_gate_open(struct store *s);
/* Abort and free every pooled reader (gate held). */
void store_pool_drain(struct store *s);

/* Open the named tables inside txn (creating them unless read-only). */
int store_open_tables(struct store *s, MDB_txn *txn);
/* Run fn in a write transaction, committing when it returns STSD_OK; on MDB_MAP_FULL the map is
 * grown and fn runs again from scratch. */
typedef int (*store_txn_fn)(struct store *s, MDB_txn *txn, void *ctx);
int store_write_txn(struct store *s, store_txn_fn fn, void *ctx);

/* Replace the environment's data file with data_file (rename) and reopen; waits for all readers. */
int store_env_swap(struct store *s, const char *data_file);

/* Meta values (be64). A missing value reads as 0. */
int store_meta_get(struct store *s, MDB_txn *txn, const char *name, uint64_t *out);
int store_meta_put(struct store *s, MDB_txn *txn, const char *name, uint64_t value);
#define META_APPLIED   "applied_index"
#define META_COMPACTED "compacted"
#define META_FORMAT    "format"

/* Key encodings. Each returns the key length, or 0 if a part is too long or contains a NUL. */
size_t store_object_key(unsigned char *buf, const char *resource, const char *ns, const char *name);
/* Prefix of every key of resource (and of ns, if not NULL). */
size_t store_object_prefix(unsigned char *buf, const char *resource, const char *ns);
size_t store_claim_key(unsigned char *buf, const char *ns, const char *set, uint32_t ordinal);
size_t store_claim_prefix(unsigned char *buf, const char *ns, const char *set);
size_t store_node_key(unsigned char *buf, const char *node, const char *ns, const char *name);
void store_change_key(unsigned char buf[12], uint64_t revision, uint32_t seq);

/* Split an object key into its parts (NUL-terminated copies in a). Returns STSD_CORRUPT if
 * malformed. */
int store_split_object_key(const MDB_val *k, struct arena *a, const char **resource,
                           const char **ns, const char **name);
int store_split_claim_key(const MDB_val *k, struct arena *a, const char **ns, const char **set,
                          uint32_t *ordinal);

/* Decode an objects-table value into o (resource/ns/name left to the caller). */
int store_decode_object(struct store *s, const MDB_val *v, struct arena *a, struct store_object *o);
int store_decode_claim(struct store *s, const MDB_val *v, struct arena *a, struct store_claim *c);

/* Move a pod's entry in the pods-by-node index from old_node to new_node (either may be NULL: not
 * bound) (index.c). */
int store_index_pod(struct store *s, MDB_txn *txn, const char *ns, const char *name,
                    const char *old_node, const char *new_node);

/* Append a change record; *seq advances (changelog.c). */
int store_log_change(struct store *s, MDB_txn *txn, uint64_t revision, uint32_t *seq,
                     const struct proto_change *c);

/* The digest of the tables as txn sees them (digest.c). */
int store_digest_txn(struct store *s, MDB_txn *txn, unsigned char out[STORE_DIGEST_LEN]);

#endif
