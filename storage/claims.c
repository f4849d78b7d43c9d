/* claims.c — ordinal claims: (namespace, set, ordinal) -> {pod uid, node, state}, compare-and-set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"

static int put_claim(struct apply *ap, MDB_val *k, const struct proto_claim *pc)
{
	MDB_val v = {proto_claim_size(pc), NULL};
	int rc = mdb_put(ap->txn, ap->s->dbi[TBL_CLAIMS], k, &v, MDB_RESERVE);

	if (rc)
		return store_mdb_err(ap->s, rc, "put claim");
	proto_claim_pack(pc, v.mv_data);
	return STSD_OK;
}

static int log_claim(struct apply *ap, const struct store_op *op, enum proto_change_type type,
                     const struct proto_claim *pc)
{
	struct proto_change c = {.type = type,
	                         .resource = STORE_CLAIMS_RESOURCE,
	                         .ns = op->ns,
	                         .name = op->name,
	                         .ordinal = op->ordinal,
	                         .has_claim = true,
	                         .claim = *pc};

	return store_log_change(ap->s, ap->txn, ap->b->revision, ap->seq, &c);
}

static const char *state_name(enum store_claim_state st)
{
	return st == STORE_CLAIM_HELD ? "held" : st == STORE_CLAIM_RELEASING ? "releasing" : "none";
}

static int check_claim(struct apply *ap, const struct store_op *op, const struct store_claim *cur)
{
	if (op->expect_pod_uid && strcmp(op->expect_pod_uid, cur->pod_uid) != 0)
		return store_fail(ap->s, STSD_CONFLICT, "claim %s/%s/%u held by pod uid %s, not %s",
		                  op->ns ? op->ns : "", op->name, op->ordinal, cur->pod_uid,
		                  op->expect_pod_uid);
	if (op->expect_state != STORE_CLAIM_NONE && op->expect_state != cur->state)
		return store_fail(ap->s, STSD_CONFLICT, "claim %s/%s/%u is %s, not %s",
		                  op->ns ? op->ns : "", op->name, op->ordinal,
		                  state_name(cur->state), state_name(op->expect_state));
	return STSD_OK;
}

/* Fault hook, compiled only with STSD_TEST_HOOKS: STSD_FAULT_SKIP_CLAIM_CHECK=1 in the environment
 * makes an acquire overwrite a held claim, the double holder the identity checker (stsctl inspect
 * identities) must catch. Read at every acquire so that a test can turn it on and off. */
static bool fault_skip_claim_check(void)
{
#ifdef STSD_TEST_HOOKS
	const char *v = getenv("STSD_FAULT_SKIP_CLAIM_CHECK");

	return v != NULL && strcmp(v, "1") == 0;
#else
	return false;
#endif
}

static int claim_acquire(struct apply *ap, const struct store_op *op, MDB_val *k,
                         const struct store_claim *cur)
{
	struct proto_claim pc = {.pod_uid = op->claim.pod_uid,
	                         .pod_name = op->claim.pod_name,
	                         .node = op->claim.node,
	                         .state = op->claim.state ? (enum proto_claim_state)op->claim.state
	                                                  : PROTO_CLAIM_HELD,
	                         .revision = ap->b->revision};
	int rv;

	if (cur && !fault_skip_claim_check())
		return store_fail(ap->s, STSD_CONFLICT, "claim %s/%s/%u is %s by pod %s (uid %s)",
		                  op->ns ? op->ns : "", op->name, op->ordinal,
		                  state_name(cur->state), cur->pod_name, cur->pod_uid);
	if (pc.pod_uid == NULL || *pc.pod_uid == '\0')
		return store_fail(ap->s, STSD_INVALID, "claim without a pod uid");
	if ((rv = put_claim(ap, k, &pc)) != STSD_OK)
		return rv;
	return log_claim(ap, op, PROTO_CHANGE_ADDED, &pc);
}

/* CLAIM_SET: fields left NULL (or state NONE) keep their stored value. */
static int claim_set(struct apply *ap, const struct store_op *op, MDB_val *k,
                     const struct store_claim *cur)
{
	struct proto_claim pc = {
	    .pod_uid = op->claim.pod_uid ? op->claim.pod_uid : cur->pod_uid,
	    .pod_name = op->claim.pod_name ? op->claim.pod_name : cur->pod_name,
	    .node = op->claim.node ? op->claim.node : cur->node,
	    .state = (enum proto_claim_state)(op->claim.state ? op->claim.state : cur->state),
	    .revision = ap->b->revision};
	int rv = put_claim(ap, k, &pc);

	return rv ? rv : log_claim(ap, op, PROTO_CHANGE_MODIFIED, &pc);
}

static int claim_release(struct apply *ap, const struct store_op *op, MDB_val *k,
                         const struct store_claim *cur)
{
	struct proto_claim pc = {.pod_uid = cur->pod_uid,
	                         .pod_name = cur->pod_name,
	                         .node = cur->node,
	                         .state = (enum proto_claim_state)cur->state,
	                         .revision = ap->b->revision};
	int rc = mdb_del(ap->txn, ap->s->dbi[TBL_CLAIMS], k, NULL);

	if (rc)
		return store_mdb_err(ap->s, rc, "delete claim");
	return log_claim(ap, op, PROTO_CHANGE_DELETED, &pc);
}

static int claim_dispatch(struct apply *ap, const struct store_op *op, MDB_val *k,
                          const struct store_claim *cur)
{
	int rv;

	if (op->type == STORE_OP_CLAIM_ACQUIRE)
		return claim_acquire(ap, op, k, cur);
	if (op->type == STORE_OP_CLAIM_ASSERT && op->expect_absent)
		return cur ? store_fail(ap->s, STSD_EXISTS, "claim %s/%s/%u exists",
		                        op->ns ? op->ns : "", op->name, op->ordinal)
		           : STSD_OK;
	if (cur == NULL)
		return store_fail(ap->s, STSD_NOTFOUND, "claim %s/%s/%u not found",
		                  op->ns ? op->ns : "", op->name, op->ordinal);
	if ((rv = check_claim(ap, op, cur)) != STSD_OK)
		return rv;
	if (op->type == STORE_OP_CLAIM_SET)
		return claim_set(ap, op, k, cur);
	if (op->type == STORE_OP_CLAIM_RELEASE)
		return claim_release(ap, op, k, cur);
	return STSD_OK; /* CLAIM_ASSERT */
}

int apply_claim_op(struct apply *ap, const struct store_op *op, struct store_op_result *out)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k = {store_claim_key(kb, op->ns, op->name, op->ordinal), kb}, v;
	struct store_claim cur;
	struct arena a;
	int rc, rv;

	if (k.mv_size == 0 || op->ns == NULL || *op->ns == '\0')
		return store_fail(ap->s, STSD_INVALID,
		                  "invalid claim key (namespace, set, ordinal)");
	if (op->claim.state > STORE_CLAIM_RELEASING)
		return store_fail(ap->s, STSD_INVALID, "invalid claim state %d",
		                  (int)op->claim.state);
	rc = mdb_get(ap->txn, ap->s->dbi[TBL_CLAIMS], &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return store_mdb_err(ap->s, rc, "get claim");
	arena_init(&a, 256);
	rv = rc == 0 ? store_decode_claim(ap->s, &v, &a, &cur) : STSD_OK;
	if (rv == STSD_OK)
		rv = claim_dispatch(ap, op, &k, rc == 0 ? &cur : NULL);
	if (rv == STSD_OK && op->type != STORE_OP_CLAIM_ASSERT) {
		out->resource_version = ap->b->revision;
		out->changed = true;
	}
	arena_close(&a);
	return rv;
}
