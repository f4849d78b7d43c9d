/* apply.c — store_apply: a batch of operations at one revision, all-or-nothing, plus object ops. */
#include "apply.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "document.h"
#include "util.h"

static bool is_typed_failure(int rv)
{
	return rv == STSD_NOTFOUND || rv == STSD_EXISTS || rv == STSD_CONFLICT ||
	       rv == STSD_INVALID;
}

void apply_give_json(struct apply *ap, struct store_op_result *out, char *json, size_t len)
{
	if (ap->b->want_objects) {
		out->json = json;
		out->json_len = len;
	} else {
		free(json);
	}
}

/* A uid every replica derives alike: a UUID (version 4 layout) from the revision, op and key. */
static void derive_uid(const struct apply *ap, const MDB_val *key, char out[37])
{
	unsigned char seed[12], h[32];
	gnutls_hash_hd_t hd;
	char hex[33];

	util_put_be64(seed, ap->b->revision);
	util_put_be32(seed + 8, (uint32_t)(ap->op_base + ap->op_index));
	gnutls_hash_init(&hd, GNUTLS_DIG_SHA256);
	gnutls_hash(hd, seed, sizeof seed);
	gnutls_hash(hd, key->mv_data, key->mv_size);
	gnutls_hash_deinit(hd, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	util_hex(h, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static int put_envelope(struct apply *ap, MDB_val *k, const struct proto_object *po, unsigned flags)
{
	MDB_val v = {proto_object_size(po), NULL};
	int rc = mdb_put(ap->txn, ap->s->dbi[TBL_OBJECTS], k, &v, flags | MDB_RESERVE);

	if (rc)
		return store_mdb_err(ap->s, rc, "put object");
	proto_object_pack(po, v.mv_data);
	return STSD_OK;
}

static int log_object(struct apply *ap, const struct store_op *op, enum proto_change_type type,
                      const char *json, size_t len)
{
	struct proto_change c = {.type = type,
	                         .resource = op->resource,
	                         .ns = op->ns,
	                         .name = op->name,
	                         .json = json,
	                         .json_len = len};

	return store_log_change(ap->s, ap->txn, ap->b->revision, ap->seq, &c);
}

static bool is_pod(const struct store_op *op)
{
	return strcmp(op->resource, "pods") == 0;
}

/* The current envelope of op's object: STSD_OK, or NOTFOUND (recorded). */
static int get_current(struct apply *ap, const struct store_op *op, MDB_val *k, struct arena *a,
                       struct store_object *cur)
{
	MDB_val v;
	int rc = mdb_get(ap->txn, ap->s->dbi[TBL_OBJECTS], k, &v);

	if (rc == MDB_NOTFOUND)
		return store_fail(ap->s, STSD_NOTFOUND, "%s \"%s\" not found", op->resource,
		                  op->name);
	if (rc)
		return store_mdb_err(ap->s, rc, "get object");
	return store_decode_object(ap->s, &v, a, cur);
}

static int check_expectations(struct apply *ap, const struct store_op *op,
                              const struct store_object *cur)
{
	if (op->expect_rv && op->expect_rv != cur->resource_version)
		return store_fail(ap->s, STSD_CONFLICT,
		                  "%s \"%s\": resourceVersion %llu expected, %llu stored",
		                  op->resource, op->name, (unsigned long long)op->expect_rv,
		                  (unsigned long long)cur->resource_version);
	if (op->expect_uid && strcmp(op->expect_uid, cur->uid) != 0)
		return store_fail(ap->s, STSD_CONFLICT, "%s \"%s\": uid %s expected, %s stored",
		                  op->resource, op->name, op->expect_uid, cur->uid);
	return STSD_OK;
}

/* Serialise d and store it under k with its envelope; *json receives the serialisation. */
static int store_doc(struct apply *ap, MDB_val *k, struct doc *d, const struct proto_object *meta,
                     unsigned flags, char **json, size_t *len)
{
	struct proto_object po = *meta;
	int rv;

	*json = doc_dump(d, len);
	if (*json == NULL)
		return store_fail(ap->s, STSD_NOMEM, "serialise object");
	po.json = *json;
	po.json_len = *len;
	if ((rv = put_envelope(ap, k, &po, flags)) != STSD_OK) {
		free(*json);
		*json = NULL;
	}
	return rv;
}

static int op_create(struct apply *ap, const struct store_op *op, MDB_val *k,
                     struct store_op_result *out)
{
	struct proto_object meta = {.resource_version = ap->b->revision,
	                            .creation_time = ap->b->now};
	char uid[37], ts[32], *json;
	struct doc d;
	size_t len;
	MDB_val v;
	int rc = mdb_get(ap->txn, ap->s->dbi[TBL_OBJECTS], k, &v), rv;

	if (rc == 0)
		return store_fail(ap->s, STSD_EXISTS, "%s \"%s\" already exists", op->resource,
		                  op->name);
	if (rc != MDB_NOTFOUND)
		return store_mdb_err(ap->s, rc, "get object");
	if ((rv = doc_parse(ap->s, op->json, op->json_len, &d)) != STSD_OK)
		return rv;
	if ((rv = doc_check_identity(ap->s, &d, op->ns, op->name)) != STSD_OK)
		goto out;
	if (op->uid)
		snprintf(uid, sizeof uid, "%s", op->uid);
	else
		derive_uid(ap, k, uid);
	meta.uid = uid;
	meta.generation = doc_has_spec(&d) ? 1 : 0;
	util_format_rfc3339(ap->b->now, ts, sizeof ts);
	doc_set_meta_string(&d, "uid", uid);
	doc_set_meta_string(&d, "creationTimestamp", ts);
	doc_del_meta(&d, "deletionTimestamp");
	doc_del_meta(&d, "generation");
	if (meta.generation)
		doc_set_meta_int(&d, "generation", meta.generation);
	doc_set_rv(&d, ap->b->revision);
	if ((rv = store_doc(ap, k, &d, &meta, MDB_NOOVERWRITE, &json, &len)) != STSD_OK)
		goto out;
	if (is_pod(op))
		rv = store_index_pod(ap->s, ap->txn, op->ns, op->name, NULL, doc_node_name(&d));
	if (rv == STSD_OK)
		rv = log_object(ap, op, PROTO_CHANGE_ADDED, json, len);
	out->resource_version = ap->b->revision;
	out->changed = true;
	apply_give_json(ap, out, json, len);
out:
	doc_free(&d);
	return rv;
}

/* Carry the fields an update may not change from the stored object (old) into the new one (d). */
static int keep_immutable(struct apply *ap, const struct store_op *op,
                          const struct store_object *cur, struct doc *old, struct doc *d)
{
	const char *uid = doc_meta_string(d, "uid");
	json_t *del = json_object_get(old->meta, "deletionTimestamp");

	if (uid && strcmp(uid, cur->uid) != 0)
		return store_fail(ap->s, STSD_CONFLICT,
		                  "%s \"%s\": uid %s in the object, %s stored", op->resource,
		                  op->name, uid, cur->uid);
	doc_set_meta_string(d, "uid", cur->uid);
	json_object_set(d->meta, "creationTimestamp",
	                json_object_get(old->meta, "creationTimestamp"));
	if (del)
		json_object_set(d->meta, "deletionTimestamp", del);
	return STSD_OK;
}

/* The generation after an update: bumped on a spec change or when deletion begins. */
static int64_t next_generation(const struct store_object *cur, const struct doc *old,
                               const struct doc *d)
{
	bool deletion_starts = !json_object_get(old->meta, "deletionTimestamp") &&
	                       json_object_get(d->meta, "deletionTimestamp");

	if (cur->generation == 0 && !doc_has_spec(d))
		return 0;
	if (cur->generation == 0)
		return 1;
	return (deletion_starts || !doc_spec_equal(old, d)) ? cur->generation + 1 : cur->generation;
}

static int op_update(struct apply *ap, const struct store_op *op, MDB_val *k,
                     const struct store_object *cur, struct doc *old, struct store_op_result *out)
{
	struct proto_object meta = {.resource_version = ap->b->revision,
	                            .uid = cur->uid,
	                            .creation_time = cur->creation_time};
	struct doc d;
	char *json;
	size_t len;
	int rv;

	if ((rv = doc_parse(ap->s, op->json, op->json_len, &d)) != STSD_OK)
		return rv;
	if ((rv = doc_check_identity(ap->s, &d, op->ns, op->name)) != STSD_OK ||
	    (rv = keep_immutable(ap, op, cur, old, &d)) != STSD_OK)
		goto out;
	meta.generation = next_generation(cur, old, &d);
	doc_del_meta(&d, "generation");
	if (meta.generation)
		doc_set_meta_int(&d, "generation", meta.generation);
	doc_set_rv(&d, cur->resource_version);
	out->resource_version = cur->resource_version;
	if (json_equal(d.root, old->root)) {
		/* A no-op: nothing written, no new revision. */
		apply_give_json(ap, out,
		                ap->b->want_objects ? strndup(cur->json, cur->json_len) : NULL,
		                cur->json_len);
		goto out;
	}
	doc_set_rv(&d, ap->b->revision);
	if ((rv = store_doc(ap, k, &d, &meta, 0, &json, &len)) != STSD_OK)
		goto out;
	if (is_pod(op))
		rv = store_index_pod(ap->s, ap->txn, op->ns, op->name, doc_node_name(old),
		                     doc_node_name(&d));
	if (rv == STSD_OK)
		rv = log_object(ap, op, PROTO_CHANGE_MODIFIED, json, len);
	out->resource_version = ap->b->revision;
	out->changed = true;
	apply_give_json(ap, out, json, len);
out:
	doc_free(&d);
	return rv;
}

static int op_delete(struct apply *ap, const struct store_op *op, MDB_val *k, struct doc *old,
                     struct store_op_result *out)
{
	int rc = mdb_del(ap->txn, ap->s->dbi[TBL_OBJECTS], k, NULL), rv = STSD_OK;
	char *json;
	size_t len;

	if (rc)
		return store_mdb_err(ap->s, rc, "delete object");
	/* Watchers see the deleted object at the deletion's revision, as in Kubernetes. */
	doc_set_rv(old, ap->b->revision);
	if ((json = doc_dump(old, &len)) == NULL)
		return store_fail(ap->s, STSD_NOMEM, "serialise deleted object");
	if (is_pod(op))
		rv = store_index_pod(ap->s, ap->txn, op->ns, op->name, doc_node_name(old), NULL);
	if (rv == STSD_OK)
		rv = log_object(ap, op, PROTO_CHANGE_DELETED, json, len);
	out->resource_version = ap->b->revision;
	out->changed = true;
	apply_give_json(ap, out, json, len);
	return rv;
}

/* Operations on an existing object: preconditions, then update / delete / assert. */
static int op_existing(struct apply *ap, const struct store_op *op, MDB_val *k,
                       struct store_op_result *out)
{
	struct store_object cur;
	struct arena a;
	struct doc old = {0};
	int rv;

	arena_init(&a, 1024);
	rv = get_current(ap, op, k, &a, &cur);
	if (op->type == STORE_OP_ASSERT && op->expect_absent) {
		if (rv == STSD_OK)
			rv = store_fail(ap->s, STSD_EXISTS, "%s \"%s\" exists", op->resource,
			                op->name);
		else if (rv == STSD_NOTFOUND)
			rv = STSD_OK;
		goto out;
	}
	if (rv || (rv = check_expectations(ap, op, &cur)) != STSD_OK)
		goto out;
	out->resource_version = cur.resource_version;
	if (op->type == STORE_OP_ASSERT)
		goto out;
	if ((rv = doc_parse(ap->s, cur.json, cur.json_len, &old)) != STSD_OK) {
		rv = store_fail(ap->s, STSD_CORRUPT, "stored %s \"%s\" is not valid JSON",
		                op->resource, op->name);
		goto out;
	}
	rv = op->type == STORE_OP_UPDATE ? op_update(ap, op, k, &cur, &old, out)
	                                 : op_delete(ap, op, k, &old, out);
out:
	doc_free(&old);
	arena_close(&a);
	return rv;
}

int apply_object_op(struct apply *ap, const struct store_op *op, struct store_op_result *out)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k = {store_object_key(kb, op->resource, op->ns, op->name), kb};

	if (k.mv_size == 0)
		return store_fail(ap->s, STSD_INVALID,
		                  "invalid object key (resource, namespace, name)");
	if (op->type == STORE_OP_CREATE)
		return op_create(ap, op, &k, out);
	return op_existing(ap, op, &k, out);
}

static int apply_op(struct apply *ap, const struct store_op *op, struct store_op_result *out)
{
	switch (op->type) {
	case STORE_OP_CREATE:
	case STORE_OP_UPDATE:
	case STORE_OP_DELETE:
	case STORE_OP_ASSERT:
		return op->resource ? apply_object_op(ap, op, out)
		                    : store_fail(ap->s, STSD_INVALID, "object op without resource");
	case STORE_OP_CLAIM_ACQUIRE:
	case STORE_OP_CLAIM_SET:
	case STORE_OP_CLAIM_RELEASE:
	case STORE_OP_CLAIM_ASSERT:
		return apply_claim_op(ap, op, out);
	}
	return store_fail(ap->s, STSD_INVALID, "unknown op type %d", (int)op->type);
}

static void free_objects(struct store_result *res)
{
	for (size_t i = 0; i < res->n_objects; i++)
		free(res->objects[i].json);
	free(res->objects);
	res->objects = NULL;
	res->n_objects = 0;
}

/* Run the ops in a child transaction; a typed failure rolls them back into the result. */
static int run_ops(struct store *s, MDB_txn *parent, const struct store_batch *b, size_t op_base,
                   uint32_t *seq, struct store_result *res)
{
	struct apply ap = {.s = s, .b = b, .op_base = op_base, .seq = seq};
	struct store_op_result scratch; /* when the proposer wants no objects */
	int rc = mdb_txn_begin(s->env, parent, 0, &ap.txn), rv = STSD_OK;

	if (rc)
		return store_mdb_err(s, rc, "begin batch");
	for (ap.op_index = 0; ap.op_index < b->n_ops && rv == STSD_OK; ap.op_index++) {
		memset(&scratch, 0, sizeof scratch);
		rv = apply_op(&ap, &b->ops[ap.op_index],
		              res->objects ? &res->objects[ap.op_index] : &scratch);
	}
	if (rv != STSD_OK) {
		mdb_txn_abort(ap.txn);
		if (!is_typed_failure(rv))
			return rv;
		res->status = rv;
		res->failed_op = ap.op_index - 1;
		snprintf(res->message, sizeof res->message, "%s", store_errmsg(s));
		free_objects(res);
		return STSD_OK;
	}
	rc = mdb_txn_commit(ap.txn);
	return rc ? store_mdb_err(s, rc, "commit batch") : STSD_OK;
}

struct many {
	const struct store_batch *b;
	size_t n;
	struct store_result *res;
};

static int start_result(struct store *s, const struct store_batch *b, struct store_result *res)
{
	/* A retry after the map grew starts from a clean result. */
	free_objects(res);
	memset(res, 0, sizeof *res);
	if (!b->want_objects)
		return STSD_OK;
	res->objects = calloc(b->n_ops ? b->n_ops : 1, sizeof *res->objects);
	if (res->objects == NULL)
		return store_fail(s, STSD_NOMEM, "batch results");
	res->n_objects = b->n_ops;
	return STSD_OK;
}

static int apply_batches(struct store *s, MDB_txn *txn, void *ctx)
{
	const struct many *m = ctx;
	uint64_t applied, revision = m->b[0].revision;
	size_t op_base = 0;
	uint32_t seq = 0;
	int rv;

	for (size_t i = 0; i < m->n; i++) {
		free_objects(&m->res[i]);
		memset(&m->res[i], 0, sizeof m->res[i]);
	}
	if ((rv = store_meta_get(s, txn, META_APPLIED, &applied)) != STSD_OK)
		return rv;
	for (size_t i = 0; i < m->n; i++) {
		if (revision <= applied) {
			m->res[i].skipped = true;
			continue;
		}
		if (m->b[i].revision != revision)
			return store_fail(s, STSD_INVALID,
			                  "batches of one transaction at two revisions");
		if ((rv = start_result(s, &m->b[i], &m->res[i])) != STSD_OK ||
		    (rv = run_ops(s, txn, &m->b[i], op_base, &seq, &m->res[i])) != STSD_OK)
			return rv;
		op_base += m->b[i].n_ops;
	}
	return revision <= applied ? STSD_OK : store_meta_put(s, txn, META_APPLIED, revision);
}

int store_apply_many(struct store *s, const struct store_batch *b, size_t n,
                     struct store_result *res)
{
	struct many m = {b, n, res};
	int rv;

	for (size_t i = 0; i < n; i++)
		memset(&res[i], 0, sizeof res[i]);
	if (n == 0)
		return store_fail(s, STSD_INVALID, "no batch to apply");
	rv = store_write_txn(s, apply_batches, &m);
	if (rv != STSD_OK)
		for (size_t i = 0; i < n; i++)
			free_objects(&res[i]);
	return rv;
}

int store_apply(struct store *s, const struct store_batch *b, struct store_result *res)
{
	return store_apply_many(s, b, 1, res);
}

void store_result_free(struct store_result *res)
{
	free_objects(res);
}
