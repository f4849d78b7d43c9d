/* codec.c — between proto.h's plain C records and protobuf-c's generated messages. */
#include "proto.h"

#include <string.h>

#include "errors.h"
#include "pb.h"
#include "stsd.pb-c.h"

static void *arena_pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* released with the arena */
}

ProtobufCMessage *proto_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                               struct arena *a)
{
	ProtobufCAllocator alloc = {arena_pb_alloc, arena_pb_free, a};

	return protobuf_c_message_unpack(desc, &alloc, len, buf);
}

static char *str(const char *s)
{
	return (char *)(s ? s : "");
}

static ProtobufCBinaryData bytes(const void *p, size_t len)
{
	ProtobufCBinaryData b = {len, (uint8_t *)(p ? p : "")};
	return b;
}

/* A record without a format is garbage that happened to parse; a newer format is refused. */
static int check_format(uint32_t format)
{
	if (format == 0)
		return STSD_CORRUPT;
	return format == PROTO_FORMAT ? STSD_OK : STSD_UNSUPPORTED;
}

/* ObjectEnvelope */

static void object_fill(const struct proto_object *o, Stsd__ObjectEnvelope *m)
{
	stsd__object_envelope__init(m);
	m->format = PROTO_FORMAT;
	m->resource_version = o->resource_version;
	m->uid = str(o->uid);
	m->generation = o->generation;
	m->creation_time = o->creation_time;
	m->json = bytes(o->json, o->json_len);
}

size_t proto_object_size(const struct proto_object *o)
{
	Stsd__ObjectEnvelope m;

	object_fill(o, &m);
	return stsd__object_envelope__get_packed_size(&m);
}

void proto_object_pack(const struct proto_object *o, void *buf)
{
	Stsd__ObjectEnvelope m;

	object_fill(o, &m);
	stsd__object_envelope__pack(&m, buf);
}

int proto_object_decode(const void *buf, size_t len, struct arena *a, struct proto_object *out)
{
	Stsd__ObjectEnvelope *m =
	    (Stsd__ObjectEnvelope *)proto_unpack(&stsd__object_envelope__descriptor, buf, len, a);
	int rv;

	if (m == NULL)
		return STSD_CORRUPT;
	if ((rv = check_format(m->format)) != STSD_OK)
		return rv;
	/* The JSON is the last field packed: a record cut anywhere lacks it or has it short. */
	if (m->json.len == 0 || m->resource_version == 0)
		return STSD_CORRUPT;
	out->resource_version = m->resource_version;
	out->uid = m->uid;
	out->generation = m->generation;
	out->creation_time = m->creation_time;
	out->json = (const char *)m->json.data;
	out->json_len = m->json.len;
	return STSD_OK;
}

/* ClaimRecord */

static void claim_fill(const struct proto_claim *c, Stsd__ClaimRecord *m)
{
	stsd__claim_record__init(m);
	m->format = PROTO_FORMAT;
	m->pod_uid = str(c->pod_uid);
	m->pod_name = str(c->pod_name);
	m->node = str(c->node);
	m->state = (Stsd__ClaimState)c->state;
	m->revision = c->revision;
}

static int claim_out(const Stsd__ClaimRecord *m, struct proto_claim *out)
{
	int rv = check_format(m->format);

	if (rv != STSD_OK)
		return rv;
	/* revision (never 0: a Raft index) is packed last, so a cut record lacks it. */
	if ((m->state != STSD__CLAIM_STATE__CLAIM_STATE_HELD &&
	     m->state != STSD__CLAIM_STATE__CLAIM_STATE_RELEASING) ||
	    m->revision == 0 || *m->pod_uid == '\0')
		return STSD_CORRUPT;
	out->pod_uid = m->pod_uid;
	out->pod_name = m->pod_name;
	out->node = m->node;
	out->state = (enum proto_claim_state)m->state;
	out->revision = m->revision;
	return STSD_OK;
}

size_t proto_claim_size(const struct proto_claim *c)
{
	Stsd__ClaimRecord m;

	claim_fill(c, &m);
	return stsd__claim_record__get_packed_size(&m);
}

void proto_claim_pack(const struct proto_claim *c, void *buf)
{
	Stsd__ClaimRecord m;

	claim_fill(c, &m);
	stsd__claim_record__pack(&m, buf);
}

int proto_claim_decode(const void *buf, size_t len, struct arena *a, struct proto_claim *out)
{
	Stsd__ClaimRecord *m =
	    (Stsd__ClaimRecord *)proto_unpack(&stsd__claim_record__descriptor, buf, len, a);

	return m ? claim_out(m, out) : STSD_CORRUPT;
}

/* ChangeRecord */

static void change_fill(const struct proto_change *c, Stsd__ChangeRecord *m, Stsd__ClaimRecord *cm)
{
	stsd__change_record__init(m);
	m->format = PROTO_FORMAT;
	m->type = (Stsd__ChangeType)c->type;
	m->resource = str(c->resource);
	m->namespace_ = str(c->ns);
	m->name = str(c->name);
	m->json = bytes(c->json, c->json_len);
	m->ordinal = c->ordinal;
	if (c->has_claim) {
		claim_fill(&c->claim, cm);
		m->claim = cm;
	}
}

size_t proto_change_size(const struct proto_change *c)
{
	Stsd__ChangeRecord m;
	Stsd__ClaimRecord cm;

	change_fill(c, &m, &cm);
	return stsd__change_record__get_packed_size(&m);
}

void proto_change_pack(const struct proto_change *c, void *buf)
{
	Stsd__ChangeRecord m;
	Stsd__ClaimRecord cm;

	change_fill(c, &m, &cm);
	stsd__change_record__pack(&m, buf);
}

int proto_change_decode(const void *buf, size_t len, struct arena *a, struct proto_change *out)
{
	Stsd__ChangeRecord *m =
	    (Stsd__ChangeRecord *)proto_unpack(&stsd__change_record__descriptor, buf, len, a);
	int rv;

	if (m == NULL)
		return STSD_CORRUPT;
	if ((rv = check_format(m->format)) != STSD_OK)
		return rv;
	if (m->type < STSD__CHANGE_TYPE__CHANGE_TYPE_ADDED ||
	    m->type > STSD__CHANGE_TYPE__CHANGE_TYPE_DELETED)
		return STSD_CORRUPT;
	memset(out, 0, sizeof *out);
	out->type = (enum proto_change_type)m->type;
	out->resource = m->resource;
	out->ns = m->namespace_;
	out->name = m->name;
	out->json = (const char *)m->json.data;
	out->json_len = m->json.len;
	out->ordinal = m->ordinal;
	if (m->claim) {
		out->has_claim = true;
		return claim_out(m->claim, &out->claim);
	}
	return STSD_OK;
}

/* SnapshotHeader */

static void header_fill(const struct proto_snapshot_header *h, Stsd__SnapshotHeader *m)
{
	stsd__snapshot_header__init(m);
	m->format = PROTO_FORMAT;
	m->applied_index = h->applied_index;
	m->object_count = h->object_count;
	m->claim_count = h->claim_count;
	m->digest = bytes(h->digest, sizeof h->digest);
}

size_t proto_snapshot_header_size(const struct proto_snapshot_header *h)
{
	Stsd__SnapshotHeader m;

	header_fill(h, &m);
	return stsd__snapshot_header__get_packed_size(&m);
}

void proto_snapshot_header_pack(const struct proto_snapshot_header *h, void *buf)
{
	Stsd__SnapshotHeader m;

	header_fill(h, &m);
	stsd__snapshot_header__pack(&m, buf);
}

int proto_snapshot_header_decode(const void *buf, size_t len, struct arena *a,
                                 struct proto_snapshot_header *out)
{
	Stsd__SnapshotHeader *m =
	    (Stsd__SnapshotHeader *)proto_unpack(&stsd__snapshot_header__descriptor, buf, len, a);
	int rv;

	if (m == NULL)
		return STSD_CORRUPT;
	if ((rv = check_format(m->format)) != STSD_OK)
		return rv;
	if (m->digest.len != sizeof out->digest)
		return STSD_CORRUPT;
	out->applied_index = m->applied_index;
	out->object_count = m->object_count;
	out->claim_count = m->claim_count;
	memcpy(out->digest, m->digest.data, sizeof out->digest);
	return STSD_OK;
}

/* SnapshotRecord */

static void record_fill(const struct proto_snapshot_record *r, Stsd__SnapshotRecord *m)
{
	stsd__snapshot_record__init(m);
	m->table = (Stsd__SnapshotTable)r->table;
	m->key = bytes(r->key, r->key_len);
	m->value = bytes(r->value, r->value_len);
}

size_t proto_snapshot_record_size(const struct proto_snapshot_record *r)
{
	Stsd__SnapshotRecord m;

	record_fill(r, &m);
	return stsd__snapshot_record__get_packed_size(&m);
}

void proto_snapshot_record_pack(const struct proto_snapshot_record *r, void *buf)
{
	Stsd__SnapshotRecord m;

	record_fill(r, &m);
	stsd__snapshot_record__pack(&m, buf);
}

int proto_snapshot_record_decode(const void *buf, size_t len, struct arena *a,
                                 struct proto_snapshot_record *out)
{
	Stsd__SnapshotRecord *m =
	    (Stsd__SnapshotRecord *)proto_unpack(&stsd__snapshot_record__descriptor, buf, len, a);

	if (m == NULL)
		return STSD_CORRUPT;
	if (m->table != STSD__SNAPSHOT_TABLE__SNAPSHOT_TABLE_OBJECTS &&
	    m->table != STSD__SNAPSHOT_TABLE__SNAPSHOT_TABLE_CLAIMS)
		return STSD_CORRUPT;
	out->table = (enum proto_snapshot_table)m->table;
	out->key = m->key.data;
	out->key_len = m->key.len;
	out->value = m->value.data;
	out->value_len = m->value.len;
	return STSD_OK;
}

/* ContinueToken */

static void continue_fill(const struct proto_continue *t, Stsd__ContinueToken *m)
{
	stsd__continue_token__init(m);
	m->format = PROTO_FORMAT;
	m->resource = str(t->resource);
	m->namespace_ = str(t->ns);
	m->after = bytes(t->after, t->after_len);
	m->revision = t->revision;
}

size_t proto_continue_size(const struct proto_continue *t)
{
	Stsd__ContinueToken m;

	continue_fill(t, &m);
	return stsd__continue_token__get_packed_size(&m);
}

void proto_continue_pack(const struct proto_continue *t, void *buf)
{
	Stsd__ContinueToken m;

	continue_fill(t, &m);
	stsd__continue_token__pack(&m, buf);
}

int proto_continue_decode(const void *buf, size_t len, struct arena *a, struct proto_continue *out)
{
	Stsd__ContinueToken *m =
	    (Stsd__ContinueToken *)proto_unpack(&stsd__continue_token__descriptor, buf, len, a);
	int rv;

	if (m == NULL)
		return STSD_CORRUPT;
	if ((rv = check_format(m->format)) != STSD_OK)
		return rv;
	out->resource = m->resource;
	out->ns = m->namespace_;
	out->after = m->after.data;
	out->after_len = m->after.len;
	out->revision = m->revision;
	return STSD_OK;
}
