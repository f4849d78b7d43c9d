/* inspect.c — `stsctl inspect DATA_DIR`: what a replica's store holds, read offline like mdb_stat.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "log.h"
#include "store.h"
#include "stsctl.h"
#include "util.h"

static const char usage[] =
    "Usage: stsctl inspect DATA_DIR [-o text|json]\n"
    "       stsctl inspect identities DATA_DIR [-o text|json]\n"
    "\n"
    "Print what a replica's store holds: the applied index, the digest, object counts per\n"
    "resource, the ordinal claims and the change log range. Reads the store read-only; safe\n"
    "while the replica runs. DATA_DIR is a replica's --data-dir (holding store/) or the\n"
    "store directory itself.\n"
    "\n"
    "inspect identities replays the store's change log and checks that every StatefulSet\n"
    "identity (namespace, set, ordinal) had one claim holder at a time and that every pod of it\n"
    "was added while its own uid held the claim: one line per violation, then a summary; exit\n"
    "status 1 when any violation is found.\n";

static const char *state_name(enum store_claim_state st)
{
	return st == STORE_CLAIM_HELD ? "held" : st == STORE_CLAIM_RELEASING ? "releasing" : "?";
}

static int add_count(void *ud, const char *resource, uint64_t count)
{
	json_object_set_new(ud, resource, json_integer((json_int_t)count));
	return 0;
}

static int add_claim(void *ud, const struct store_claim_entry *c)
{
	json_array_append_new(ud, json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:I}", "namespace", c->ns,
	                                    "set", c->set, "ordinal", (int)c->ordinal, "pod",
	                                    c->claim.pod_name, "podUID", c->claim.pod_uid, "node",
	                                    c->claim.node, "state", state_name(c->claim.state),
	                                    "revision", (json_int_t)c->claim.revision));
	return 0;
}

/* Everything inspect reports, gathered from one read view. */
static int gather(struct store *s, const char *dir, json_t *out)
{
	unsigned char digest[STORE_DIGEST_LEN];
	char hex[2 * STORE_DIGEST_LEN + 1];
	json_t *counts = json_object(), *claims = json_array();
	struct store_reader *r;
	struct store_stats st;
	int rv;

	if ((rv = store_read_begin(s, &r)) != STSD_OK)
		return rv;
	if ((rv = store_stats(r, &st, add_count, counts)) == STSD_OK &&
	    (rv = store_digest(r, digest)) == STSD_OK)
		rv = store_claims_list(r, NULL, NULL, add_claim, claims);
	util_hex(digest, sizeof digest, hex);
	json_object_set_new(out, "store", json_string(dir));
	json_object_set_new(out, "appliedIndex",
	                    json_integer((json_int_t)store_reader_applied_index(r)));
	json_object_set_new(out, "digest", json_string(hex));
	json_object_set_new(out, "mapSize", json_integer((json_int_t)store_map_size(s)));
	json_object_set_new(out, "objects", json_integer((json_int_t)st.objects));
	json_object_set_new(out, "resources", counts);
	json_object_set_new(out, "claims", claims);
	json_object_set_new(out, "changeLog",
	                    json_pack("{s:I,s:I,s:I,s:I}", "entries", (json_int_t)st.changes,
	                              "firstRevision", (json_int_t)st.first_change, "lastRevision",
	                              (json_int_t)st.last_change, "compactedRevision",
	                              (json_int_t)store_reader_compacted(r)));
	store_read_end(r);
	return rv;
}

static void print_text(json_t *o)
{
	json_t *cl = json_object_get(o, "changeLog"), *v;
	const char *k;
	size_t i;

	printf("store:           %s\n", json_string_value(json_object_get(o, "store")));
	printf("applied index:   %lld\n", json_integer_value(json_object_get(o, "appliedIndex")));
	printf("digest:          %s\n", json_string_value(json_object_get(o, "digest")));
	printf("map size:        %lld bytes\n", json_integer_value(json_object_get(o, "mapSize")));
	printf("objects:         %lld\n", json_integer_value(json_object_get(o, "objects")));
	json_object_foreach(json_object_get(o, "resources"), k, v)
	    printf("  %-28s %lld\n", k, json_integer_value(v));
	printf("claims:          %zu\n", json_array_size(json_object_get(o, "claims")));
	json_array_foreach(json_object_get(o, "claims"), i, v)
	{
		printf("  %s/%s/%lld  %-9s pod=%s uid=%s node=%s revision=%lld\n",
		       json_string_value(json_object_get(v, "namespace")),
		       json_string_value(json_object_get(v, "set")),
		       json_integer_value(json_object_get(v, "ordinal")),
		       json_string_value(json_object_get(v, "state")),
		       json_string_value(json_object_get(v, "pod")),
		       json_string_value(json_object_get(v, "podUID")),
		       json_string_value(json_object_get(v, "node")),
		       json_integer_value(json_object_get(v, "revision")));
	}
	printf("change log:      %lld entries, revisions %lld..%lld, compacted up to %lld\n",
	       json_integer_value(json_object_get(cl, "entries")),
	       json_integer_value(json_object_get(cl, "firstRevision")),
	       json_integer_value(json_object_get(cl, "lastRevision")),
	       json_integer_value(json_object_get(cl, "compactedRevision")));
}

/* DATA_DIR/store if it exists, else DATA_DIR itself. */
static void store_dir(const char *data_dir, char *out, size_t len)
{
	struct stat st;

	snprintf(out, len, "%s/store/data.mdb", data_dir);
	if (stat(out, &st) == 0)
		snprintf(out, len, "%s/store", data_dir);
	else
		snprintf(out, len, "%s", data_dir);
}

int inspect_open(const char *cmd, const char *data_dir, struct store **out, char *path, size_t len)
{
	struct store_options opts = {.read_only = true};
	char err[512], probe[4200];
	struct stat st;

	store_dir(data_dir, path, len);
	snprintf(probe, sizeof probe, "%s/data.mdb", path);
	if (stat(probe, &st) != 0) {
		fprintf(stderr, "%s: %s holds no store (no data.mdb in it or in store/)\n", cmd,
		        data_dir);
		return 1;
	}
	log_set_level(LOG_WARN);
	if (store_open(path, &opts, out, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

/* Parse "DATA_DIR [-o text|json]" (any order). An exit status (0 go on, 2 usage error printed)
 * or -1 after --help. */
int inspect_args(const char *cmd, int argc, char **argv, const char **dir, const char **format)
{
	*dir = NULL;
	*format = "text";
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return -1;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			*format = argv[++i];
		} else if (argv[i][0] != '-' && *dir == NULL) {
			*dir = argv[i];
		} else {
			fprintf(stderr, "%s: unexpected argument '%s'\n%s", cmd, argv[i], usage);
			return 2;
		}
	}
	if (*dir == NULL || (strcmp(*format, "text") != 0 && strcmp(*format, "json") != 0)) {
		fputs(usage, stderr);
		return 2;
	}
	return 0;
}

int stsctl_inspect(int argc, char **argv)
{
	const char *dir, *format;
	char path[4096];
	struct store *s;
	json_t *out;
	int rv;

	if (argc > 0 && strcmp(argv[0], "identities") == 0)
		return stsctl_inspect_identities(argc - 1, argv + 1);
	if ((rv = inspect_args("stsctl inspect", argc, argv, &dir, &format)) != 0)
		return rv < 0 ? 0 : rv;
	if ((rv = inspect_open("stsctl inspect", dir, &s, path, sizeof path)) != 0)
		return rv;
	out = json_object();
	rv = gather(s, path, out);
	store_close(s);
	if (rv != STSD_OK) {
		fprintf(stderr, "stsctl inspect: %s: %s\n", stsd_strerror(rv), store_errmsg(NULL));
		json_decref(out);
		return 1;
	}
	if (strcmp(format, "json") == 0) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(out);
	}
	json_decref(out);
	return 0;
}
