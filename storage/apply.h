/* apply.h — the state of one store_apply batch, shared by the object and claim operations. */
#ifndef STSD_STORAGE_APPLY_H
#define STSD_STORAGE_APPLY_H

#include "internal.h"

struct apply {
	struct store *s;
	MDB_txn *txn; /* child transaction holding the batch's operations */
	const struct store_batch *b;
	size_t op_index;
	size_t op_base; /* ops of the earlier batches of the same revision (for derived uids) */
	uint32_t *seq;  /* next change log sequence number within the revision */
};

/* Object operations (apply.c). Each returns STSD_OK, a typed failure (NOTFOUND, EXISTS, CONFLICT,
 * INVALID) with the reason recorded, or an I/O-level error. out receives the op's result. */
int apply_object_op(struct apply *ap, const struct store_op *op, struct store_op_result *out);
/* Claim operations (claims.c), same contract. */
int apply_claim_op(struct apply *ap, const struct store_op *op, struct store_op_result *out);

/* Hand json (malloc'd, consumed) to out when the proposer wants objects, else free it. */
void apply_give_json(struct apply *ap, struct store_op_result *out, char *json, size_t len);

#endif
