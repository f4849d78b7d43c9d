/* identity_check.h — the identity checker of `stsctl inspect identities`: replays a store's change
 * log and checks DESIGN.md's invariant, at most one holder per StatefulSet identity (namespace,
 * set, ordinal), as the log shows it (docs/decisions/010-statefulset-departures.md, The identity
 * checker). Reads only; no I/O but through the reader. */
#ifndef STSCTL_IDENTITY_CHECK_H
#define STSCTL_IDENTITY_CHECK_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* What a check found. violations is an array of objects {revision, kind, namespace, set,
 * ordinal, podUID, message}, in log order; kind is one of:
 *  - "double-acquire": a claim ADDED for a pod uid while another uid held it (no release between);
 *  - "holder-switch":  a claim MODIFIED to another pod uid (the holder changed without a release);
 *  - "foreign-release": a claim DELETED naming another uid than the holder's;
 *  - "pod-without-claim": a pod of the identity ADDED in a revision after which its own uid did
 *    not hold the claim. */
struct idcheck_result {
	uint64_t identities; /* identities seen (claims or pods of a StatefulSet) */
	uint64_t holders;    /* claim acquisitions (ADDED claim changes) */
	uint64_t changes;    /* change log entries scanned */
	uint64_t first_revision, last_revision; /* of the entries scanned; 0 when none */
	uint64_t compacted; /* the log starts after this revision: earlier history is unknown */
	json_t *violations; /* owned */
};

/* Replay the change log of r (every entry it still holds) into *out, which the caller frees with
 * idcheck_result_free (also after a failure). A claim whose first change in the log is not its
 * acquisition (it was acquired before the compacted revision) is taken as held by the uid that
 * change names. Returns 0, STSD_NOMEM, or a store error (store_errmsg). */
int idcheck_run(struct store_reader *r, struct idcheck_result *out);
void idcheck_result_free(struct idcheck_result *res);

/* The result as one JSON object (summary fields and "violations"); new reference or NULL. */
json_t *idcheck_result_json(const struct idcheck_result *res);
/* One line per violation, then a summary line. */
void idcheck_print_text(const struct idcheck_result *res, FILE *out);

#endif
