/* command.c — the Raft command (a batch of operations) between proto.h and protobuf-c. */
#include <string.h>

#include "errors.h"
#include "pb.h"
#include "proto.h"
#include "stsd.pb-c.h"

struct proto_command_msg {
	Stsd__Command m;
};

static char *str(const char *s)
{
	return (char *)(s ? s : "");
}

/* An OptString in a for a given string, NULL for an absent one. */
static Stsd__OptString *opt(struct arena *a, const char *s)
{
	Stsd__OptString *o;

	if (s == NULL || (o = arena_alloc(a, sizeof *o)) == NULL)
		return NULL;
	stsd__opt_string__init(o);
	o->value = (char *)s;
	return o;
}

static int op_fill(const struct proto_op *op, struct arena *a, Stsd__Op *m)
{
	stsd__op__init(m);
	m->type = (Stsd__OpType)op->type;
	m->resource = str(op->resource);
	m->namespace_ = str(op->ns);
	m->name = str(op->name);
	m->json.data = (uint8_t *)(op->json ? op->json : "");
	m->json.len = op->json ? op->json_len : 0;
	m->uid = opt(a, op->uid);
	m->expect_rv = op->expect_rv;
	m->expect_uid = opt(a, op->expect_uid);
	m->expect_absent = op->expect_absent;
	m->ordinal = op->ordinal;
	m->claim_pod_uid = opt(a, op->claim_pod_uid);
	m->claim_pod_name = opt(a, op->claim_pod_name);
	m->claim_node = opt(a, op->claim_node);
	m->claim_state = (Stsd__ClaimState)op->claim_state;
	m->expect_pod_uid = opt(a, op->expect_pod_uid);
	m->expect_state = (Stsd__ClaimState)op->expect_state;
	/* Every given optional string must have made it into the arena. */
	if ((op->uid && !m->uid) || (op->expect_uid && !m->expect_uid) ||
	    (op->claim_pod_uid && !m->claim_pod_uid) ||
	    (op->claim_pod_name && !m->claim_pod_name) || (op->claim_node && !m->claim_node) ||
	    (op->expect_pod_uid && !m->expect_pod_uid))
		return STSD_NOMEM;
	return STSD_OK;
}

int proto_command_build(const struct proto_command *c, struct arena *a,
                        struct proto_command_msg **out)
{
	struct proto_command_msg *msg = arena_alloc(a, sizeof *msg);
	Stsd__Op *ops = arena_alloc(a, (c->n_ops ? c->n_ops : 1) * sizeof *ops);
	Stsd__Op **ptrs = arena_alloc(a, (c->n_ops ? c->n_ops : 1) * sizeof *ptrs);

	if (msg == NULL || ops == NULL || ptrs == NULL)
		return STSD_NOMEM;
	stsd__command__init(&msg->m);
	msg->m.format = PROTO_FORMAT;
	msg->m.now = c->now;
	msg->m.proposer = c->proposer;
	msg->m.proposal = c->proposal;
	for (size_t i = 0; i < c->n_ops; i++) {
		if (op_fill(&c->ops[i], a, &ops[i]) != STSD_OK)
			return STSD_NOMEM;
		ptrs[i] = &ops[i];
	}
	msg->m.n_ops = c->n_ops;
	msg->m.ops = ptrs;
	*out = msg;
	return STSD_OK;
}

size_t proto_command_msg_size(const struct proto_command_msg *m)
{
	return stsd__command__get_packed_size(&m->m);
}

void proto_command_msg_pack(const struct proto_command_msg *m, void *buf)
{
	stsd__command__pack(&m->m, buf);
}

static const char *opt_value(const Stsd__OptString *o)
{
	return o ? o->value : NULL;
}

static bool valid_state(Stsd__ClaimState st)
{
	return st >= STSD__CLAIM_STATE__CLAIM_STATE_NONE &&
	       st <= STSD__CLAIM_STATE__CLAIM_STATE_RELEASING;
}

static int op_out(const Stsd__Op *m, struct proto_op *op)
{
	if (m->type < STSD__OP_TYPE__OP_TYPE_CREATE ||
	    m->type > STSD__OP_TYPE__OP_TYPE_CLAIM_ASSERT || !valid_state(m->claim_state) ||
	    !valid_state(m->expect_state) || *m->name == '\0')
		return STSD_CORRUPT;
	memset(op, 0, sizeof *op);
	op->type = (enum proto_op_type)m->type;
	op->resource = m->resource;
	op->ns = m->namespace_;
	op->name = m->name;
	op->json = (const char *)m->json.data;
	op->json_len = m->json.len;
	op->uid = opt_value(m->uid);
	op->expect_rv = m->expect_rv;
	op->expect_uid = opt_value(m->expect_uid);
	op->expect_absent = m->expect_absent;
	op->ordinal = m->ordinal;
	op->claim_pod_uid = opt_value(m->claim_pod_uid);
	op->claim_pod_name = opt_value(m->claim_pod_name);
	op->claim_node = opt_value(m->claim_node);
	op->claim_state = (enum proto_claim_state)m->claim_state;
	op->expect_pod_uid = opt_value(m->expect_pod_uid);
	op->expect_state = (enum proto_claim_state)m->expect_state;
	return STSD_OK;
}

int proto_command_decode(const void *buf, size_t len, struct arena *a, struct proto_command *out)
{
	Stsd__Command *m = (Stsd__Command *)proto_unpack(&stsd__command__descriptor, buf, len, a);
	struct proto_op *ops;

	if (m == NULL || m->format == 0)
		return STSD_CORRUPT;
	if (m->format != PROTO_FORMAT)
		return STSD_UNSUPPORTED;
	if ((ops = arena_alloc(a, (m->n_ops ? m->n_ops : 1) * sizeof *ops)) == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < m->n_ops; i++)
		if (op_out(m->ops[i], &ops[i]) != STSD_OK)
			return STSD_CORRUPT;
	out->now = m->now;
	out->proposer = m->proposer;
	out->proposal = m->proposal;
	out->ops = ops;
	out->n_ops = m->n_ops;
	return STSD_OK;
}

/* ---- Entries: Entry { repeated bytes commands = 1 } written by hand, item by item ---------- */

static size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t proto_entry_item_size(size_t len)
{
	return 1 + varint_size(len) + len;
}

size_t proto_entry_put_item(void *out, const void *command, size_t len)
{
	unsigned char *p = out;
	uint64_t v = len;

	*p++ = (1 << 3) | 2; /* field 1, length-delimited */
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	memcpy(p, command, len);
	return (size_t)(p - (unsigned char *)out) + len;
}

int proto_entry_decode(const void *buf, size_t len, struct arena *a, struct proto_command **cmds,
                       size_t *n)
{
	Stsd__Entry *e = (Stsd__Entry *)proto_unpack(&stsd__entry__descriptor, buf, len, a);
	int rv;

	if (e == NULL)
		return STSD_CORRUPT;
	if ((*cmds = arena_alloc(a, (e->n_commands ? e->n_commands : 1) * sizeof **cmds)) == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < e->n_commands; i++)
		if ((rv = proto_command_decode(e->commands[i].data, e->commands[i].len, a,
		                               &(*cmds)[i])) != STSD_OK)
			return rv;
	*n = e->n_commands;
	return STSD_OK;
}
