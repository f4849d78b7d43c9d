/* snapshot.c — streaming a consistent copy of the store out, and replacing the store with one.
 *
 * Stream: the magic "STSDSNP1", then frames of (be32 length, protobuf bytes): one SnapshotHeader,
 * every SnapshotRecord of the objects and claims tables in key order, and an empty frame at the
 * end. The change log and the pods-by-node index are not carried: the index is rebuilt on import,
 * and the change log of the importing replica starts at the snapshot's applied index. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "document.h"
#include "internal.h"
#include "util.h"

#define SNAP_MAGIC     "STSDSNP1"
#define SNAP_MAGIC_LEN 8
#define OUT_BUF        (64 * 1024)
#define LOAD_CHUNK     10000

/* Buffered frame writer. */
struct out {
	store_write_cb w;
	void *ud;
	unsigned char buf[OUT_BUF];
	size_t used;
	int rv;
};

static void out_flush(struct out *o)
{
	if (o->rv == 0 && o->used)
		o->rv = o->w(o->ud, o->buf, o->used);
	o->used = 0;
}

static void out_write(struct out *o, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (o->used + len > OUT_BUF)
		out_flush(o);
	if (len > OUT_BUF) {
		if (o->rv == 0)
			o->rv = o->w(o->ud, p, len);
		return;
	}
	memcpy(o->buf + o->used, p, len);
	o->used += len;
}

static void out_frame(struct out *o, const void *p, size_t len)
{
	unsigned char hdr[4];

	util_put_be32(hdr, (uint32_t)len);
	out_write(o, hdr, 4);
	out_write(o, p, len);
}

static int export_table(struct store_reader *r, int table, enum proto_snapshot_table tag,
                        struct out *o)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(r->txn, r->s->dbi[table], &cur);

	if (rc)
		return store_mdb_err(r->s, rc, "snapshot export");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && o->rv == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct proto_snapshot_record rec = {tag, k.mv_data, k.mv_size, v.mv_data,
		                                    v.mv_size};
		size_t n = proto_snapshot_record_size(&rec);
		void *buf;

		arena_reset(&r->arena);
		if ((buf = arena_alloc(&r->arena, n)) == NULL) {
			mdb_cursor_close(cur);
			return store_fail(r->s, STSD_NOMEM, "snapshot export");
		}
		proto_snapshot_record_pack(&rec, buf);
		out_frame(o, buf, n);
	}
	mdb_cursor_close(cur);
	return (rc && rc != MDB_NOTFOUND) ? store_mdb_err(r->s, rc, "snapshot export") : STSD_OK;
}

int store_snapshot_export(struct store_reader *r, store_write_cb w, void *ud)
{
	struct proto_snapshot_header h = {.applied_index = r->applied_index};
	struct out *o = calloc(1, sizeof *o);
	unsigned char hbuf[128];
	MDB_stat ms;
	int rv;

	if (o == NULL)
		return store_fail(r->s, STSD_NOMEM, "snapshot export");
	o->w = w;
	o->ud = ud;
	mdb_stat(r->txn, r->s->dbi[TBL_OBJECTS], &ms);
	h.object_count = ms.ms_entries;
	mdb_stat(r->txn, r->s->dbi[TBL_CLAIMS], &ms);
	h.claim_count = ms.ms_entries;
	if ((rv = store_digest_txn(r->s, r->txn, h.digest)) == STSD_OK) {
		out_write(o, SNAP_MAGIC, SNAP_MAGIC_LEN);
		proto_snapshot_header_pack(&h, hbuf);
		out_frame(o, hbuf, proto_snapshot_header_size(&h));
		rv = export_table(r, TBL_OBJECTS, PROTO_TABLE_OBJECTS, o);
	}
	if (rv == STSD_OK)
		rv = export_table(r, TBL_CLAIMS, PROTO_TABLE_CLAIMS, o);
	if (rv == STSD_OK) {
		out_frame(o, NULL, 0);
		out_flush(o);
		if (o->rv)
			rv =
			    store_fail(r->s, STSD_IO, "snapshot export: writer failed (%d)", o->rv);
	}
	free(o);
	return rv;
}

/* Frame reader over an in-memory stream. */
struct in {
	const unsigned char *p, *end;
};

/* Next frame; returns 1 with the frame, 0 at the end frame, -1 if truncated. */
static int in_frame(struct in *in, const void **frame, size_t *len)
{
	uint32_t n;

	if (in->end - in->p < 4)
		return -1;
	n = util_get_be32(in->p);
	in->p += 4;
	if (n == 0)
		return 0;
	if ((size_t)(in->end - in->p) < n)
		return -1;
	*frame = in->p;
	*len = n;
	in->p += n;
	return 1;
}

static int read_header(const void *buf, size_t len, struct arena *a,
                       struct proto_snapshot_header *h, struct in *in)
{
	const void *frame;
	size_t flen;

	if (len < SNAP_MAGIC_LEN || memcmp(buf, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		return STSD_CORRUPT;
	in->p = (const unsigned char *)buf + SNAP_MAGIC_LEN;
	in->end = (const unsigned char *)buf + len;
	if (in_frame(in, &frame, &flen) != 1)
		return STSD_CORRUPT;
	return proto_snapshot_header_decode(frame, flen, a, h);
}

int store_snapshot_peek(const void *buf, size_t len, struct store_snapshot_info *info)
{
	struct proto_snapshot_header h;
	struct arena a;
	struct in in;
	int rv;

	arena_init(&a, 512);
	rv = read_header(buf, len, &a, &h, &in);
	arena_close(&a);
	if (rv == STSD_OK)
		*info =
		    (struct store_snapshot_info){h.applied_index, h.object_count, h.claim_count};
	return rv;
}

struct load {
	struct proto_snapshot_header h;
	struct in pos;  /* committed position */
	struct in next; /* position reached by the current chunk */
	uint64_t objects, claims;
	bool done;
	struct arena arena;
};

/* Index a pod record while loading. */
static int load_index(struct store *t, MDB_txn *txn, struct load *l, const MDB_val *k,
                      const MDB_val *v)
{
	const char *res, *ns, *name;
	struct store_object o;
	struct doc d;
	int rv;

	if (k->mv_size < 5 || memcmp(k->mv_data, "pods", 5) != 0)
		return STSD_OK;
	if ((rv = store_split_object_key(k, &l->arena, &res, &ns, &name)) != STSD_OK ||
	    (rv = store_decode_object(t, v, &l->arena, &o)) != STSD_OK ||
	    (rv = doc_parse(t, o.json, o.json_len, &d)) != STSD_OK)
		return store_fail(t, STSD_CORRUPT, "snapshot: bad pod record");
	rv = store_index_pod(t, txn, ns, name, NULL, doc_node_name(&d));
	doc_free(&d);
	return rv;
}

static int load_record(struct store *t, MDB_txn *txn, struct load *l, const void *frame,
                       size_t flen)
{
	struct proto_snapshot_record rec;
	MDB_val k, v;
	int table, rc;

	arena_reset(&l->arena);
	if (proto_snapshot_record_decode(frame, flen, &l->arena, &rec) != STSD_OK)
		return store_fail(t, STSD_CORRUPT, "snapshot: bad record");
	if (rec.key_len == 0 || rec.key_len > STORE_KEY_MAX)
		return store_fail(t, STSD_CORRUPT, "snapshot: bad key length");
	table = rec.table == PROTO_TABLE_OBJECTS ? TBL_OBJECTS : TBL_CLAIMS;
	k = (MDB_val){rec.key_len, (void *)rec.key};
	v = (MDB_val){rec.value_len, (void *)rec.value};
	/* Records arrive in key order; MDB_APPEND refuses any that do not. */
	if ((rc = mdb_put(txn, t->dbi[table], &k, &v, MDB_APPEND)))
		return rc == MDB_KEYEXIST
		           ? store_fail(t, STSD_CORRUPT, "snapshot: keys out of order")
		           : store_mdb_err(t, rc, "snapshot load");
	if (table == TBL_CLAIMS) {
		l->claims++;
		return STSD_OK;
	}
	l->objects++;
	return load_index(t, txn, l, &k, &v);
}

static int load_chunk(struct store *t, MDB_txn *txn, void *vctx)
{
	struct load *l = vctx;
	uint64_t objects = l->objects, claims = l->claims;
	int rv = STSD_OK;

	l->next = l->pos;
	for (int i = 0; i < LOAD_CHUNK && rv == STSD_OK; i++) {
		const void *frame;
		size_t flen;
		int f = in_frame(&l->next, &frame, &flen);
		if (f < 0)
			rv = store_fail(t, STSD_CORRUPT, "snapshot: truncated");
		else if (f == 0) {
			l->done = true;
			break;
		} else
			rv = load_record(t, txn, l, frame, flen);
	}
	if (rv == STSD_OK && l->done) {
		if ((rv = store_meta_put(t, txn, META_APPLIED, l->h.applied_index)) == STSD_OK)
			rv = store_meta_put(t, txn, META_COMPACTED, l->h.applied_index);
	}
	if (rv != STSD_OK) {
		/* The chunk is rolled back; so are its counts. */
		l->objects = objects;
		l->claims = claims;
		l->done = false;
	}
	return rv;
}

static int verify_loaded(struct store *t, struct load *l)
{
	unsigned char digest[STORE_DIGEST_LEN];
	struct store_reader *r;
	int rv;

	if (l->objects != l->h.object_count || l->claims != l->h.claim_count)
		return store_fail(
		    t, STSD_CORRUPT,
		    "snapshot: %llu objects and %llu claims, header says %llu and %llu",
		    (unsigned long long)l->objects, (unsigned long long)l->claims,
		    (unsigned long long)l->h.object_count, (unsigned long long)l->h.claim_count);
	if ((rv = store_read_begin(t, &r)) != STSD_OK)
		return rv;
	rv = store_digest(r, digest);
	store_read_end(r);
	if (rv == STSD_OK && memcmp(digest, l->h.digest, sizeof digest) != 0)
		rv = store_fail(t, STSD_CORRUPT, "snapshot: digest mismatch");
	return rv;
}

static void remove_dir(const char *dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Build the snapshot's store in tmpdir and check it against the header. */
static int build_store(struct store *s, const char *tmpdir, struct load *l, size_t len)
{
	struct store_options opts = {.map_size = len * 2 + ((size_t)64 << 20),
	                             .max_map_size = s->max_map_size};
	char err[256];
	struct store *t;
	int rv = store_open(tmpdir, &opts, &t, err, sizeof err);

	if (rv != STSD_OK)
		return store_fail(s, rv, "snapshot import: %s", err);
	while (rv == STSD_OK && !l->done) {
		rv = store_write_txn(t, load_chunk, l);
		if (rv == STSD_OK)
			l->pos = l->next;
	}
	if (rv == STSD_OK)
		rv = verify_loaded(t, l);
	if (rv == STSD_OK)
		rv = store_sync(t);
	store_close(t);
	return rv;
}

int store_snapshot_import(struct store *s, const void *buf, size_t len)
{
	char tmpdir[PATH_MAX - 16], data[PATH_MAX];
	struct load l = {0};
	int rv;

	if (s->read_only)
		return store_fail(s, STSD_INVALID, "store opened read-only");
	arena_init(&l.arena, 4096);
	if ((rv = read_header(buf, len, &l.arena, &l.h, &l.pos)) != STSD_OK) {
		arena_close(&l.arena);
		return store_fail(s, rv, "snapshot import: bad header");
	}
	snprintf(tmpdir, sizeof tmpdir, "%s/import.tmp", s->dir);
	snprintf(data, sizeof data, "%s/data.mdb", tmpdir);
	remove_dir(tmpdir);
	rv = build_store(s, tmpdir, &l, len);
	arena_close(&l.arena);
	if (rv == STSD_OK)
		rv = store_env_swap(s, data);
	remove_dir(tmpdir);
	return rv;
}
