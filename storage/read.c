/* read.c — readers: get, list with continue tokens, pods by node, claims, the change log, stats. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

/* Keep up to this many ended readers (with reset transactions) for reuse. */
#define READER_POOL_MAX 16

/* Enter the gate and take a pooled reader, or a new one (txn NULL). */
static struct store_reader *reader_take(struct store *s)
{
	struct store_reader *r;

	pthread_mutex_lock(&s->gate);
	s->readers++;
	r = s->pool;
	if (r) {
		s->pool = r->next;
		s->pool_len--;
	}
	pthread_mutex_unlock(&s->gate);
	if (r == NULL && (r = calloc(1, sizeof *r)) != NULL) {
		r->s = s;
		arena_init(&r->arena, 8192);
	}
	return r;
}

/* Leave the gate, pooling r (its transaction reset) or freeing it. */
static void reader_give(struct store *s, struct store_reader *r)
{
	bool pooled = false;

	pthread_mutex_lock(&s->gate);
	if (r && r->txn && s->pool_len < READER_POOL_MAX) {
		mdb_txn_reset(r->txn);
		arena_reset(&r->arena);
		r->next = s->pool;
		s->pool = r;
		s->pool_len++;
		pooled = true;
	}
	if (--s->readers == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->gate);
	if (r && !pooled) {
		if (r->txn)
			mdb_txn_abort(r->txn);
		arena_close(&r->arena);
		free(r);
	}
}

static int reader_txn(struct store *s, struct store_reader *r)
{
	int rc;

	if (r->txn)
		return mdb_txn_renew(r->txn);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
	if (rc == MDB_MAP_RESIZED && s->read_only) {
		/* The server grew the map under an offline reader; this process has no other txn.
		 */
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
	}
	if (rc)
		r->txn = NULL;
	return rc;
}

int store_read_begin(struct store *s, struct store_reader **out)
{
	struct store_reader *r = reader_take(s);
	int rc, rv;

	if (r == NULL) {
		reader_give(s, NULL);
		return store_fail(s, STSD_NOMEM, "reader");
	}
	if ((rc = reader_txn(s, r)) != 0) {
		if (r->txn) {
			mdb_txn_abort(r->txn);
			r->txn = NULL;
		}
		reader_give(s, r);
		return store_mdb_err(s, rc, "begin read");
	}
	if ((rv = store_meta_get(s, r->txn, META_APPLIED, &r->applied_index)) != STSD_OK ||
	    (rv = store_meta_get(s, r->txn, META_COMPACTED, &r->compacted)) != STSD_OK) {
		store_read_end(r);
		return rv;
	}
	*out = r;
	return STSD_OK;
}

void store_read_end(struct store_reader *r)
{
	if (r)
		reader_give(r->s, r);
}

uint64_t store_reader_applied_index(const struct store_reader *r)
{
	return r->applied_index;
}

uint64_t store_reader_compacted(const struct store_reader *r)
{
	return r->compacted;
}

/* Fill o from a key/value pair of the objects table, decoding into r's arena. */
static int object_from_kv(struct store_reader *r, const MDB_val *k, const MDB_val *v,
                          struct store_object *o)
{
	int rv = store_split_object_key(k, &r->arena, &o->resource, &o->ns, &o->name);

	if (rv)
		return store_fail(r->s, rv, "malformed object key (%zu bytes)", k->mv_size);
	return store_decode_object(r->s, v, &r->arena, o);
}

int store_get(struct store_reader *r, const char *resource, const char *ns, const char *name,
              struct store_object *out)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k = {store_object_key(kb, resource, ns, name), kb}, v;
	int rc;

	arena_reset(&r->arena);
	if (k.mv_size == 0)
		return store_fail(r->s, STSD_INVALID, "invalid object key");
	rc = mdb_get(r->txn, r->s->dbi[TBL_OBJECTS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return store_fail(r->s, STSD_NOTFOUND, "%s \"%s\" not found", resource, name);
	if (rc)
		return store_mdb_err(r->s, rc, "get");
	return object_from_kv(r, &k, &v, out);
}

static bool has_prefix(const MDB_val *k, const unsigned char *prefix, size_t len)
{
	return k->mv_size >= len && memcmp(k->mv_data, prefix, len) == 0;
}

/* Where a list starts: the prefix itself, or just after the key a continue token names. */
static int list_start(struct store_reader *r, const struct store_list_request *req,
                      const unsigned char *prefix, size_t plen, unsigned char *start, size_t *slen)
{
	const char *tok = req->continue_token;
	unsigned char raw[STORE_TOKEN_MAX];
	struct proto_continue t;
	long n;

	if (tok == NULL || *tok == '\0') {
		memcpy(start, prefix, plen);
		*slen = plen;
		return STSD_OK;
	}
	if (strlen(tok) >= STORE_TOKEN_MAX || (n = util_b64url_decode(tok, strlen(tok), raw)) < 0 ||
	    proto_continue_decode(raw, (size_t)n, &r->arena, &t) != STSD_OK)
		return store_fail(r->s, STSD_INVALID, "continue token is malformed");
	if (strcmp(t.resource, req->resource) != 0 || t.after_len > STORE_KEY_MAX ||
	    !has_prefix(&(MDB_val){t.after_len, (void *)t.after}, prefix, plen))
		return store_fail(r->s, STSD_INVALID, "continue token belongs to another list");
	memcpy(start, t.after, t.after_len);
	*slen = t.after_len;
	return STSD_OK;
}

static void make_token(struct store_reader *r, const char *resource, const MDB_val *last, char *out)
{
	struct proto_continue t = {.resource = resource,
	                           .after = last->mv_data,
	                           .after_len = last->mv_size,
	                           .revision = r->applied_index};
	unsigned char raw[STORE_TOKEN_MAX];
	size_t n = proto_continue_size(&t);

	proto_continue_pack(&t, raw);
	util_b64url_encode(raw, n, out);
}

int store_list(struct store_reader *r, const struct store_list_request *req, store_object_cb cb,
               void *ud, struct store_list_page *page)
{
	unsigned char prefix[STORE_KEY_MAX], start[STORE_KEY_MAX];
	size_t plen = store_object_prefix(prefix, req->resource, req->ns), slen = 0;
	size_t nlen = req->name_prefix ? strlen(req->name_prefix) : 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rv, rc;

	arena_reset(&r->arena);
	if (plen == 0 || (req->name_prefix && req->ns == NULL) || plen + nlen > STORE_KEY_MAX)
		return store_fail(r->s, STSD_INVALID, "invalid resource, namespace or name prefix");
	memcpy(prefix + plen, req->name_prefix ? req->name_prefix : "", nlen);
	plen += nlen;
	/* Before page is cleared: the token may be the previous page's next_token. */
	if ((rv = list_start(r, req, prefix, plen, start, &slen)) != STSD_OK)
		return rv;
	memset(page, 0, sizeof *page);
	page->revision = r->applied_index;
	if ((rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_OBJECTS], &cur)))
		return store_mdb_err(r->s, rc, "list");
	k = (MDB_val){slen, start};
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	/* A token names the last key returned: resume after it. */
	if (rc == 0 && slen != plen && k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; rc == 0 && has_prefix(&k, prefix, plen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_object o;
		if (req->limit && page->count == req->limit) {
			MDB_val last = {slen, start};
			make_token(r, req->resource, &last, page->next_token);
			break;
		}
		arena_reset(&r->arena);
		if ((rv = object_from_kv(r, &k, &v, &o)) != STSD_OK)
			break;
		if ((rv = cb(ud, &o)) == STORE_SKIP)
			rv = STSD_OK;
		else if (rv != 0)
			break;
		else
			page->count++;
		memcpy(start, k.mv_data, k.mv_size);
		slen = k.mv_size;
	}
	mdb_cursor_close(cur);
	if (rv == STSD_OK && rc && rc != MDB_NOTFOUND)
		rv = store_mdb_err(r->s, rc, "list");
	return rv;
}

int store_list_pods_on_node(struct store_reader *r, const char *node, store_object_cb cb, void *ud)
{
	unsigned char prefix[STORE_KEY_MAX];
	size_t plen;
	MDB_cursor *cur;
	MDB_val k, v;
	int rv = STSD_OK, rc;

	if (node == NULL || !*node || strlen(node) > STORE_NAME_MAX)
		return store_fail(r->s, STSD_INVALID, "invalid node name");
	plen = strlen(node) + 1;
	memcpy(prefix, node, plen);
	if ((rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_PODS_BY_NODE], &cur)))
		return store_mdb_err(r->s, rc, "pods on node");
	k = (MDB_val){plen, prefix};
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && has_prefix(&k, prefix, plen); rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* node \0 ns \0 name -> pods \0 ns \0 name */
		unsigned char ob[STORE_KEY_MAX];
		size_t rest = k.mv_size - plen;
		MDB_val ok = {5 + rest, ob}, ov;
		struct store_object o;

		memcpy(ob, "pods", 5);
		memcpy(ob + 5, (unsigned char *)k.mv_data + plen, rest);
		arena_reset(&r->arena);
		if ((rc = mdb_get(r->txn, r->s->dbi[TBL_OBJECTS], &ok, &ov))) {
			rv = store_mdb_err(r->s, rc, "pods on node: indexed pod missing");
			break;
		}
		if ((rv = object_from_kv(r, &ok, &ov, &o)) != STSD_OK || (rv = cb(ud, &o)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rv == STSD_OK && rc && rc != MDB_NOTFOUND)
		rv = store_mdb_err(r->s, rc, "pods on node");
	return rv;
}

int store_claim_get(struct store_reader *r, const char *ns, const char *set, uint32_t ordinal,
                    struct store_claim *out)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k = {store_claim_key(kb, ns, set, ordinal), kb}, v;
	int rc;

	arena_reset(&r->arena);
	if (k.mv_size == 0)
		return store_fail(r->s, STSD_INVALID, "invalid claim key");
	rc = mdb_get(r->txn, r->s->dbi[TBL_CLAIMS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return store_fail(r->s, STSD_NOTFOUND, "claim %s/%s/%u not found", ns, set,
		                  ordinal);
	if (rc)
		return store_mdb_err(r->s, rc, "get claim");
	return store_decode_claim(r->s, &v, &r->arena, out);
}

int store_claims_list(struct store_reader *r, const char *ns, const char *set, store_claim_cb cb,
                      void *ud)
{
	unsigned char prefix[STORE_KEY_MAX];
	size_t plen = ns ? store_claim_prefix(prefix, ns, set) : 0;
	MDB_cursor *cur;
	MDB_val k = {plen, prefix}, v;
	int rv = STSD_OK, rc;

	if (ns && plen == 0)
		return store_fail(r->s, STSD_INVALID, "invalid claim prefix");
	if ((rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_CLAIMS], &cur)))
		return store_mdb_err(r->s, rc, "claims");
	rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0 && has_prefix(&k, prefix, plen);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_claim_entry e;
		arena_reset(&r->arena);
		rv = store_split_claim_key(&k, &r->arena, &e.ns, &e.set, &e.ordinal);
		if (rv)
			rv = store_fail(r->s, rv, "malformed claim key");
		if (rv || (rv = store_decode_claim(r->s, &v, &r->arena, &e.claim)) != STSD_OK ||
		    (rv = cb(ud, &e)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rv == STSD_OK && rc && rc != MDB_NOTFOUND)
		rv = store_mdb_err(r->s, rc, "claims");
	return rv;
}

static int change_from_kv(struct store_reader *r, const MDB_val *k, const MDB_val *v,
                          struct store_change *c)
{
	struct proto_change pc;
	int rv;

	if (k->mv_size != 12)
		return store_fail(r->s, STSD_CORRUPT, "change key of %zu bytes", k->mv_size);
	if ((rv = proto_change_decode(v->mv_data, v->mv_size, &r->arena, &pc)) != STSD_OK)
		return store_fail(r->s, rv, "change record: %s", stsd_strerror(rv));
	memset(c, 0, sizeof *c);
	c->revision = util_get_be64(k->mv_data);
	c->seq = util_get_be32((unsigned char *)k->mv_data + 8);
	c->type = (enum store_change_type)pc.type;
	c->resource = pc.resource;
	c->ns = pc.ns;
	c->name = pc.name;
	c->json = pc.json;
	c->json_len = pc.json_len;
	c->is_claim = pc.has_claim;
	c->ordinal = pc.ordinal;
	if (pc.has_claim) {
		c->claim =
		    (struct store_claim){pc.claim.pod_uid, pc.claim.pod_name, pc.claim.node,
		                         (enum store_claim_state)pc.claim.state, pc.claim.revision};
	}
	return STSD_OK;
}

int store_changes(struct store_reader *r, uint64_t after, size_t limit, store_change_cb cb,
                  void *ud)
{
	unsigned char kb[12];
	MDB_cursor *cur;
	MDB_val k = {sizeof kb, kb}, v;
	size_t n = 0;
	int rv = STSD_OK, rc;

	if (after < r->compacted)
		return store_fail(r->s, STSD_EXPIRED,
		                  "revision %llu is compacted (oldest kept: %llu)",
		                  (unsigned long long)after, (unsigned long long)r->compacted);
	if (after == UINT64_MAX)
		return STSD_OK;
	store_change_key(kb, after + 1, 0);
	if ((rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_CHANGES], &cur)))
		return store_mdb_err(r->s, rc, "changes");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && (!limit || n < limit);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
		struct store_change c;
		arena_reset(&r->arena);
		if ((rv = change_from_kv(r, &k, &v, &c)) != STSD_OK || (rv = cb(ud, &c)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rv == STSD_OK && rc && rc != MDB_NOTFOUND)
		rv = store_mdb_err(r->s, rc, "changes");
	return rv;
}

/* Count object keys per resource, reporting each resource's total through cb. */
static int count_resources(struct store_reader *r, store_count_cb cb, void *ud)
{
	char current[STORE_NAME_MAX + 1] = "";
	uint64_t count = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rv = STSD_OK, rc;

	if ((rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_OBJECTS], &cur)))
		return store_mdb_err(r->s, rc, "stats");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t len = strnlen(k.mv_data, k.mv_size);
		if (len > STORE_NAME_MAX) {
			rv = store_fail(r->s, STSD_CORRUPT, "malformed object key");
			break;
		}
		if (strlen(current) != len || memcmp(current, k.mv_data, len) != 0) {
			if (count && (rv = cb(ud, current, count)) != 0)
				break;
			memcpy(current, k.mv_data, len);
			current[len] = '\0';
			count = 0;
		}
		count++;
	}
	mdb_cursor_close(cur);
	if (rv == STSD_OK && count)
		rv = cb(ud, current, count);
	return rv;
}

static int change_bound(struct store_reader *r, MDB_cursor_op op, uint64_t *out)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(r->txn, r->s->dbi[TBL_CHANGES], &cur);

	if (rc)
		return store_mdb_err(r->s, rc, "stats");
	rc = mdb_cursor_get(cur, &k, &v, op);
	*out = (rc == 0 && k.mv_size == 12) ? util_get_be64(k.mv_data) : 0;
	mdb_cursor_close(cur);
	return (rc && rc != MDB_NOTFOUND) ? store_mdb_err(r->s, rc, "stats") : STSD_OK;
}

int store_stats(struct store_reader *r, struct store_stats *st, store_count_cb cb, void *ud)
{
	MDB_stat ms;
	int rv;

	memset(st, 0, sizeof *st);
	mdb_stat(r->txn, r->s->dbi[TBL_OBJECTS], &ms);
	st->objects = ms.ms_entries;
	mdb_stat(r->txn, r->s->dbi[TBL_CLAIMS], &ms);
	st->claims = ms.ms_entries;
	mdb_stat(r->txn, r->s->dbi[TBL_CHANGES], &ms);
	st->changes = ms.ms_entries;
	if ((rv = change_bound(r, MDB_FIRST, &st->first_change)) != STSD_OK ||
	    (rv = change_bound(r, MDB_LAST, &st->last_change)) != STSD_OK)
		return rv;
	return cb ? count_resources(r, cb, ud) : STSD_OK;
}
