/* index.c — the pods-by-node index and the change log: secondary records written with each change.
 */
#include <string.h>

#include "internal.h"

int store_index_pod(struct store *s, MDB_txn *txn, const char *ns, const char *name,
                    const char *old_node, const char *new_node)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k = {0, kb}, v = {0, ""};
	int rc;

	if (old_node && new_node && strcmp(old_node, new_node) == 0)
		return STSD_OK;
	if (old_node) {
		if (!(k.mv_size = store_node_key(kb, old_node, ns, name)))
			return store_fail(s, STSD_INVALID, "invalid node index key");
		rc = mdb_del(txn, s->dbi[TBL_PODS_BY_NODE], &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return store_mdb_err(s, rc, "unindex pod");
	}
	if (new_node) {
		if (!(k.mv_size = store_node_key(kb, new_node, ns, name)))
			return store_fail(s, STSD_INVALID, "spec.nodeName too long");
		rc = mdb_put(txn, s->dbi[TBL_PODS_BY_NODE], &k, &v, 0);
		if (rc)
			return store_mdb_err(s, rc, "index pod");
	}
	return STSD_OK;
}

int store_log_change(struct store *s, MDB_txn *txn, uint64_t revision, uint32_t *seq,
                     const struct proto_change *c)
{
	unsigned char kb[12];
	MDB_val k = {sizeof kb, kb}, v = {proto_change_size(c), NULL};
	int rc;

	store_change_key(kb, revision, (*seq)++);
	/* Revisions only grow, so every entry lands at the end of the table. */
	rc = mdb_put(txn, s->dbi[TBL_CHANGES], &k, &v, MDB_APPEND | MDB_RESERVE);
	if (rc)
		return store_mdb_err(s, rc, "append change");
	proto_change_pack(c, v.mv_data);
	return STSD_OK;
}
