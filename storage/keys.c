/* keys.c — the byte layout of every table's keys, and decoding of stored values. */
#include <string.h>

#include "internal.h"
#include "util.h"

/* Append s and a NUL separator at buf[off]; returns the new offset or 0 if it would not fit. */
static size_t put_part(unsigned char *buf, size_t off, const char *s, bool terminate)
{
	size_t len = s ? strlen(s) : 0;

	if (len > STORE_NAME_MAX || off + len + 1 > STORE_KEY_MAX)
		return 0;
	memcpy(buf + off, s ? s : "", len);
	off += len;
	if (terminate)
		buf[off++] = '\0';
	return off;
}

size_t store_object_key(unsigned char *buf, const char *resource, const char *ns, const char *name)
{
	size_t off;

	if (!resource || !*resource || !name || !*name)
		return 0;
	if (!(off = put_part(buf, 0, resource, true)) || !(off = put_part(buf, off, ns, true)))
		return 0;
	return put_part(buf, off, name, false);
}

size_t store_object_prefix(unsigned char *buf, const char *resource, const char *ns)
{
	size_t off;

	if (!resource || !*resource || !(off = put_part(buf, 0, resource, true)))
		return 0;
	return ns ? put_part(buf, off, ns, true) : off;
}

size_t store_claim_prefix(unsigned char *buf, const char *ns, const char *set)
{
	size_t off = put_part(buf, 0, ns, true);

	return (off && set) ? put_part(buf, off, set, true) : off;
}

size_t store_claim_key(unsigned char *buf, const char *ns, const char *set, uint32_t ordinal)
{
	size_t off;

	if (!set || !*set || !(off = store_claim_prefix(buf, ns, set)))
		return 0;
	util_put_be32(buf + off, ordinal);
	return off + 4;
}

size_t store_node_key(unsigned char *buf, const char *node, const char *ns, const char *name)
{
	size_t off;

	if (!node || !*node || !(off = put_part(buf, 0, node, true)) ||
	    !(off = put_part(buf, off, ns, true)))
		return 0;
	return put_part(buf, off, name, false);
}

void store_change_key(unsigned char buf[12], uint64_t revision, uint32_t seq)
{
	util_put_be64(buf, revision);
	util_put_be32(buf + 8, seq);
}

/* Cut the next NUL-terminated part off [*p, end); NULL if there is no NUL. */
static const char *next_part(struct arena *a, const unsigned char **p, const unsigned char *end)
{
	const unsigned char *nul = memchr(*p, '\0', (size_t)(end - *p));
	const char *out;

	if (nul == NULL)
		return NULL;
	out = arena_strndup(a, (const char *)*p, (size_t)(nul - *p));
	*p = nul + 1;
	return out;
}

int store_split_object_key(const MDB_val *k, struct arena *a, const char **resource,
                           const char **ns, const char **name)
{
	const unsigned char *p = k->mv_data, *end = p + k->mv_size;

	if (!(*resource = next_part(a, &p, end)) || !(*ns = next_part(a, &p, end)))
		return STSD_CORRUPT;
	if (p >= end || memchr(p, '\0', (size_t)(end - p)))
		return STSD_CORRUPT;
	*name = arena_strndup(a, (const char *)p, (size_t)(end - p));
	return *name ? STSD_OK : STSD_NOMEM;
}

int store_split_claim_key(const MDB_val *k, struct arena *a, const char **ns, const char **set,
                          uint32_t *ordinal)
{
	const unsigned char *p = k->mv_data, *end = p + k->mv_size;

	if (!(*ns = next_part(a, &p, end)) || !(*set = next_part(a, &p, end)) || end - p != 4)
		return STSD_CORRUPT;
	*ordinal = util_get_be32(p);
	return STSD_OK;
}

int store_decode_object(struct store *s, const MDB_val *v, struct arena *a, struct store_object *o)
{
	struct proto_object po;
	int rv = proto_object_decode(v->mv_data, v->mv_size, a, &po);

	if (rv)
		return store_fail(s, rv, "object envelope (%zu bytes): %s", v->mv_size,
		                  stsd_strerror(rv));
	o->resource_version = po.resource_version;
	o->uid = po.uid;
	o->generation = po.generation;
	o->creation_time = po.creation_time;
	o->json = po.json;
	o->json_len = po.json_len;
	return STSD_OK;
}

int store_decode_claim(struct store *s, const MDB_val *v, struct arena *a, struct store_claim *c)
{
	struct proto_claim pc;
	int rv = proto_claim_decode(v->mv_data, v->mv_size, a, &pc);

	if (rv)
		return store_fail(s, rv, "claim record (%zu bytes): %s", v->mv_size,
		                  stsd_strerror(rv));
	c->pod_uid = pc.pod_uid;
	c->pod_name = pc.pod_name;
	c->node = pc.node;
	c->state = (enum store_claim_state)pc.state;
	c->revision = pc.revision;
	return STSD_OK;
}
