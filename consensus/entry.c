/* entry.c — commands (batches of store ops) encoded, several of them gathered into one Raft log
 * entry (group commit), and the entry's framing.
 *
 * raft 0.15's libuv transport requires every entry buffer to be a multiple of 8 bytes: the
 * receiver sizes an AppendEntries payload as the sum of the entries' lengths but walks it with
 * each entry padded to 8 (uvDecodeMessage vs uvDecodeEntriesBatch in src/uv_encoding.c), so an
 * odd-sized entry shifts every later entry of the batch and reads past the buffer (found by
 * ASan on a replica joining a cluster; docs/decisions/004-consensus.md). An entry is therefore
 * [4 bytes magic "STE1"][be32 length of the protobuf Entry][Entry][zeros up to a multiple of 8]. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util.h"

#define ENTRY_MAGIC  "STE1"
#define ENTRY_HEADER CONS_ENTRY_HEADER

size_t cons_entry_size(size_t payload)
{
	return (ENTRY_HEADER + payload + 7) & ~(size_t)7;
}

void cons_entry_frame(void *buf, size_t payload)
{
	unsigned char *p = buf;
	size_t total = cons_entry_size(payload);

	memcpy(p, ENTRY_MAGIC, 4);
	util_put_be32(p + 4, (uint32_t)payload);
	memset(p + ENTRY_HEADER + payload, 0, total - ENTRY_HEADER - payload);
}

int cons_entry_payload(const void *buf, size_t len, const void **payload, size_t *payload_len)
{
	const unsigned char *p = buf;
	uint32_t n;

	if (len < ENTRY_HEADER || memcmp(p, ENTRY_MAGIC, 4) != 0)
		return STSD_CORRUPT;
	n = util_get_be32(p + 4);
	if ((size_t)n > len - ENTRY_HEADER)
		return STSD_CORRUPT;
	*payload = p + ENTRY_HEADER;
	*payload_len = n;
	return STSD_OK;
}

int cons_command_encode(uint64_t proposer, uint64_t id, int64_t now, const struct store_op *ops,
                        size_t n, struct arena *a, char **out, size_t *len)
{
	struct proto_op *pops = arena_alloc(a, (n ? n : 1) * sizeof *pops);
	struct proto_command cmd = {now, proposer, id, pops, n};
	struct proto_command_msg *m;

	if (pops == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct store_op *s = &ops[i];
		pops[i] = (struct proto_op){
		    .type = (enum proto_op_type)(s->type - STORE_OP_CREATE + PROTO_OP_CREATE),
		    .resource = s->resource,
		    .ns = s->ns,
		    .name = s->name,
		    .json = s->json,
		    .json_len = s->json_len,
		    .uid = s->uid,
		    .expect_rv = s->expect_rv,
		    .expect_uid = s->expect_uid,
		    .expect_absent = s->expect_absent,
		    .ordinal = s->ordinal,
		    .claim_pod_uid = s->claim.pod_uid,
		    .claim_pod_name = s->claim.pod_name,
		    .claim_node = s->claim.node,
		    .claim_state = (enum proto_claim_state)s->claim.state,
		    .expect_pod_uid = s->expect_pod_uid,
		    .expect_state = (enum proto_claim_state)s->expect_state};
	}
	if (proto_command_build(&cmd, a, &m) != STSD_OK)
		return STSD_NOMEM;
	*len = proto_command_msg_size(m);
	if (*len > CONS_MAX_COMMAND)
		return STSD_TOOBIG;
	if ((*out = malloc(*len ? *len : 1)) == NULL)
		return STSD_NOMEM;
	proto_command_msg_pack(m, *out);
	return STSD_OK;
}

int cons_entry_build(char *const *cmds, const size_t *lens, size_t n, struct raft_buffer *buf)
{
	size_t payload = 0, at = ENTRY_HEADER;

	for (size_t i = 0; i < n; i++)
		payload += proto_entry_item_size(lens[i]);
	buf->len = cons_entry_size(payload);
	if ((buf->base = raft_malloc(buf->len)) == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < n; i++)
		at += proto_entry_put_item((char *)buf->base + at, cmds[i], lens[i]);
	cons_entry_frame(buf->base, payload);
	return STSD_OK;
}
