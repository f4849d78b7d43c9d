/* identity_dup.c — for identity.sh's negative part: proposes a second holder for an identity
 * straight to a stopped replica's store, as a command that slipped past the claim check would.
 *
 * The controller's planner never proposes an acquire while a claim is held (controller/sts.c,
 * claim_blocked), so STSD_FAULT_SKIP_CLAIM_CHECK in a running stsd alone produces no double
 * holder. This program applies the one command that would — CLAIM_ACQUIRE for a new pod uid on
 * an identity whose claim exists — through the store's own apply, at the next revision. Without
 * STSD_FAULT_SKIP_CLAIM_CHECK=1 (builds with STSD_TEST_HOOKS) the store must refuse it; with it,
 * the claim is overwritten and `stsctl inspect identities` must report the double holder.
 *
 * Usage: identity_dup DATA_DIR NAMESPACE SET ORDINAL
 * Exit: 0 the acquire was applied, 3 the store refused it (CONFLICT), 1 any other failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "errors.h"
#include "store.h"

#define INTRUDER_UID "identity-dup-intruder"

/* Print the claim the store holds for the identity; false when there is none. */
static bool show_claim(struct store *s, const char *ns, const char *set, uint32_t ord,
                       uint64_t *applied)
{
	struct store_reader *r;
	struct store_claim c;
	int rv;

	if (store_read_begin(s, &r) != STSD_OK)
		return false;
	*applied = store_reader_applied_index(r);
	rv = store_claim_get(r, ns, set, ord, &c);
	if (rv == STSD_OK)
		printf("identity_dup: claim %s/%s/%u state=%d pod=%s uid=%s applied=%llu\n", ns,
		       set, ord, (int)c.state, c.pod_name ? c.pod_name : "",
		       c.pod_uid ? c.pod_uid : "", (unsigned long long)*applied);
	else
		fprintf(stderr, "identity_dup: no claim %s/%s/%u: %s\n", ns, set, ord,
		        stsd_strerror(rv));
	store_read_end(r);
	return rv == STSD_OK;
}

static int acquire(struct store *s, const char *ns, const char *set, uint32_t ord, uint64_t applied)
{
	struct store_op op = {.type = STORE_OP_CLAIM_ACQUIRE,
	                      .ns = ns,
	                      .name = set,
	                      .ordinal = ord,
	                      .claim = {.pod_uid = INTRUDER_UID,
	                                .pod_name = "intruder",
	                                .node = "nowhere",
	                                .state = STORE_CLAIM_HELD}};
	struct store_batch b = {
	    .revision = applied + 1, .now = (int64_t)time(NULL), .ops = &op, .n_ops = 1};
	struct store_result res = {0};
	int rv = store_apply(s, &b, &res), out;

	if (rv != STSD_OK) {
		fprintf(stderr, "identity_dup: apply: %s: %s\n", stsd_strerror(rv),
		        store_errmsg(s));
		out = 1;
	} else if (res.status == STSD_CONFLICT) {
		printf("identity_dup: refused: %s\n", res.message);
		out = 3;
	} else if (res.status != STSD_OK || res.skipped) {
		fprintf(stderr, "identity_dup: unexpected result %s (skipped=%d): %s\n",
		        stsd_strerror(res.status), (int)res.skipped, res.message);
		out = 1;
	} else {
		printf("identity_dup: applied: uid %s acquired %s/%s/%u at revision %llu\n",
		       INTRUDER_UID, ns, set, ord, (unsigned long long)b.revision);
		out = 0;
	}
	store_result_free(&res);
	return out;
}

/* The store of a replica's data directory: DATA_DIR/store, or DATA_DIR itself (as stsctl inspect
 * finds it); false when neither holds a data.mdb (store_open would make an empty one). */
static bool store_path(const char *data_dir, char *out, size_t len)
{
	char probe[4200];
	struct stat st;

	snprintf(out, len, "%s/store", data_dir);
	snprintf(probe, sizeof probe, "%s/data.mdb", out);
	if (stat(probe, &st) == 0)
		return true;
	snprintf(out, len, "%s", data_dir);
	snprintf(probe, sizeof probe, "%s/data.mdb", out);
	return stat(probe, &st) == 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct store *s;
	uint64_t applied = 0;
	char err[512], *end;
	unsigned long ord;
	int rv;

	if (argc != 5) {
		fprintf(stderr, "usage: identity_dup DATA_DIR NAMESPACE SET ORDINAL\n");
		return 1;
	}
	ord = strtoul(argv[4], &end, 10);
	if (*argv[4] == '\0' || *end != '\0' || ord > UINT32_MAX) {
		fprintf(stderr, "identity_dup: bad ordinal '%s'\n", argv[4]);
		return 1;
	}
	if (!store_path(argv[1], path, sizeof path)) {
		fprintf(stderr, "identity_dup: %s holds no store\n", argv[1]);
		return 1;
	}
	if (store_open(path, NULL, &s, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "identity_dup: open %s: %s\n", argv[1], err);
		return 1;
	}
	rv = show_claim(s, argv[2], argv[3], (uint32_t)ord, &applied)
	         ? acquire(s, argv[2], argv[3], (uint32_t)ord, applied)
	         : 1;
	if (rv == 0 && store_sync(s) != STSD_OK)
		rv = 1;
	store_close(s);
	return rv;
}
