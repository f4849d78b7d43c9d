/* maintain.c — change log compaction and the store digest. */
#include <gnutls/crypto.h>
#include <string.h>

#include "internal.h"
#include "util.h"

/* Entries removed per transaction, so that compaction never holds the writer for long. */
#define COMPACT_CHUNK 10000

struct compact_ctx {
	uint64_t upto;
	uint64_t removed;
	bool done;
};

static int compact_chunk(struct store *s, MDB_txn *txn, void *vctx)
{
	struct compact_ctx *c = vctx;
	uint64_t applied, compacted, upto = c->upto, n = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rv, rc;

	if ((rv = store_meta_get(s, txn, META_APPLIED, &applied)) != STSD_OK ||
	    (rv = store_meta_get(s, txn, META_COMPACTED, &compacted)) != STSD_OK)
		return rv;
	if (upto > applied)
		upto = applied;
	if (upto <= compacted) {
		c->done = true;
		return STSD_OK;
	}
	if ((rc = mdb_cursor_open(txn, s->dbi[TBL_CHANGES], &cur)))
		return store_mdb_err(s, rc, "compact");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < COMPACT_CHUNK;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || util_get_be64(k.mv_data) > upto)
			break;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_mdb_err(s, rc, "compact");
	c->removed += n;
	if (n < COMPACT_CHUNK) {
		/* Everything at or below upto is gone: record the new floor. */
		c->done = true;
		return store_meta_put(s, txn, META_COMPACTED, upto);
	}
	return STSD_OK;
}

int store_compact(struct store *s, uint64_t upto, uint64_t *removed)
{
	struct compact_ctx c = {.upto = upto};
	int rv = STSD_OK;

	while (!c.done && rv == STSD_OK)
		rv = store_write_txn(s, compact_chunk, &c);
	if (removed)
		*removed = c.removed;
	return rv;
}

static int hash_table(struct store *s, MDB_txn *txn, int table, gnutls_hash_hd_t hd)
{
	unsigned char tag = (unsigned char)table, len[4];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, s->dbi[table], &cur);

	if (rc)
		return store_mdb_err(s, rc, "digest");
	gnutls_hash(hd, &tag, 1);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* Length-prefixed, so that moving a byte between key and value changes the digest.
		 */
		util_put_be32(len, (uint32_t)k.mv_size);
		gnutls_hash(hd, len, 4);
		gnutls_hash(hd, k.mv_data, k.mv_size);
		util_put_be32(len, (uint32_t)v.mv_size);
		gnutls_hash(hd, len, 4);
		gnutls_hash(hd, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	return (rc && rc != MDB_NOTFOUND) ? store_mdb_err(s, rc, "digest") : STSD_OK;
}

int store_digest_txn(struct store *s, MDB_txn *txn, unsigned char out[STORE_DIGEST_LEN])
{
	gnutls_hash_hd_t hd;
	int rv;

	if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
		return store_fail(s, STSD_NOMEM, "digest: hash init");
	rv = hash_table(s, txn, TBL_OBJECTS, hd);
	if (rv == STSD_OK)
		rv = hash_table(s, txn, TBL_CLAIMS, hd);
	gnutls_hash_deinit(hd, out);
	return rv;
}

int store_digest(struct store_reader *r, unsigned char out[STORE_DIGEST_LEN])
{
	return store_digest_txn(r->s, r->txn, out);
}
