/* options.c — stsd's option table, and parsing it from flags and a YAML config file (libfyaml). */
#include <errno.h>
#include <libfyaml.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"

enum opt_type { OPT_STR, OPT_LONG, OPT_BOOL }; /* OPT_BOOL: a flag without a value */

struct option_row {
	const char *name; /* flag without "--", also the config file's key */
	enum opt_type type;
	size_t offset, size; /* into struct stsd_options */
	const char *def;     /* default as text, NULL for none */
	long min, max;       /* numbers */
	const char *arg, *help;
};

#define OPT(name, type, field, def, min, max, arg, help)                                \
	{                                                                               \
		name, type, offsetof(struct stsd_options, field),                       \
		    sizeof(((struct stsd_options *)0)->field), def, min, max, arg, help \
	}

static const struct option_row table[] = {
    OPT("id", OPT_STR, id_text, NULL, 0, 0, "N",
        "this replica's id, a positive number unique in the cluster (required)"),
    OPT("raft-address", OPT_STR, raft_address, NULL, 0, 0, "HOST:PORT",
        "where the other replicas reach this one's Raft (required)"),
    OPT("api-address", OPT_STR, api_address, "127.0.0.1:6443", 0, 0, "HOST:PORT",
        "where clients reach this replica's API"),
    OPT("data-dir", OPT_STR, data_dir, NULL, 0, 0, "DIR",
        "this replica's data: DIR/store (LMDB) and DIR/raft (required)"),
    OPT("bootstrap", OPT_STR, bootstrap, NULL, 0, 0, "ID=HOST:PORT,...",
        "first start of a new cluster: every voter's id and Raft address"),
    OPT("join", OPT_STR, join, NULL, 0, 0, "URL,...",
        "join a running cluster through any member's API address"),
    OPT("election-timeout", OPT_LONG, election_timeout_ms, "250", 50, 60000, "MS",
        "Raft election timeout (randomised up to twice this)"),
    OPT("heartbeat", OPT_LONG, heartbeat_ms, "50", 10, 10000, "MS", "Raft heartbeat interval"),
    OPT("snapshot-threshold", OPT_LONG, snapshot_threshold, "8192", 16, 100000000, "N",
        "log entries between snapshots"),
    OPT("snapshot-trailing", OPT_LONG, snapshot_trailing, "2048", 0, 100000000, "N",
        "log entries kept behind a snapshot (for slow followers)"),
    OPT("watch-history", OPT_LONG, watch_history_s, "300", 10, 86400, "S",
        "how long changes stay resumable by watches (older resourceVersions get 410)"),
    OPT("propose-timeout", OPT_LONG, propose_timeout_ms, "10000", 100, 600000, "MS",
        "how long a write waits to commit before answering 504"),
    OPT("connect-retry", OPT_LONG, connect_retry_ms, "100", 10, 60000, "MS",
        "delay before reconnecting to a peer"),
    OPT("tls-cert-file", OPT_STR, tls_cert_file, NULL, 0, 0, "FILE",
        "serving certificate (PEM, with serverAuth and clientAuth: it also authenticates this "
        "replica to the others); re-read on SIGHUP"),
    OPT("tls-private-key-file", OPT_STR, tls_key_file, NULL, 0, 0, "FILE",
        "its private key; re-read on SIGHUP"),
    OPT("client-ca-file", OPT_STR, client_ca_file, NULL, 0, 0, "FILE",
        "CA bundle that client certificates (users, nodes, replicas) must chain to; also "
        "verifies the other replicas' serving certificates; re-read on SIGHUP"),
    OPT("token-auth-file", OPT_STR, token_file, NULL, 0, 0, "FILE",
        "bearer tokens, one per line: token,user,uid,\"group1,group2\" (kube-apiserver's "
        "format); re-read on SIGHUP"),
    OPT("insecure-http", OPT_BOOL, insecure_http, NULL, 0, 0, "",
        "serve plain HTTP instead of TLS, on a loopback --api-address only (debugging)"),
    OPT("node-grace-period", OPT_LONG, node_grace_ms, "40000", 1000, 3600000, "MS",
        "a node whose lease has not renewed this long (on the leader's clock) is NotReady"),
    OPT("node-fence-after", OPT_LONG, fence_after_ms, "15000", 1000, 3600000, "MS",
        "how long after its lease runs out an agent's shims kill its pods; with the lease "
        "duration and --node-fence-margin, when a silent node's pods are replaced"),
    OPT("node-fence-margin", OPT_LONG, fence_margin_ms, "5000", 0, 3600000, "MS",
        "added to the fence time for clock rates and delays"),
    OPT("cluster-cidr", OPT_STR, cluster_cidr, "10.244.0.0/16", 0, 0, "CIDR",
        "the pod network; each node gets a share as spec.podCIDR"),
    OPT("node-cidr-mask-size", OPT_LONG, node_cidr_mask, "24", 8, 30, "N",
        "prefix length of each node's pod CIDR"),
    OPT("controller-workers", OPT_LONG, controller_workers, "2", 1, 64, "N",
        "syncs the leader's controller plans at once"),
    OPT("event-ttl", OPT_LONG, event_ttl_s, "3600", 1, 31536000, "S",
        "Events are deleted this long after they were made"),
    OPT("no-controller", OPT_BOOL, no_controller, NULL, 0, 0, "",
        "never reconcile, even as leader (store and API only; for tests and debugging)"),
    OPT("log-level", OPT_STR, log_level, "info", 0, 0, "LEVEL", "debug, info, warn or error"),
    OPT("config", OPT_STR, config, NULL, 0, 0, "FILE",
        "YAML file of these options (keys as the flags); flags win"),
};

#define N_OPTIONS (sizeof table / sizeof table[0])

static void usage(FILE *out)
{
	char flag[64];

	fputs("Usage: stsd --id N --raft-address HOST:PORT --data-dir DIR [OPTIONS]\n"
	      "\n"
	      "One replica of stsd, a highly available StatefulSet control plane: Raft\n"
	      "consensus with the other replicas, the store, and the Kubernetes-shaped API.\n"
	      "Start a new cluster with --bootstrap on every replica, add one with --join.\n"
	      "\n"
	      "Options:\n",
	      out);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		snprintf(flag, sizeof flag, "--%s %s", table[i].name, table[i].arg);
		fprintf(out, "  %-34s %s", flag, table[i].help);
		if (table[i].def)
			fprintf(out, " (default %s)", table[i].def);
		fputc('\n', out);
	}
	fputs("  -h, --help                         show this help and exit\n"
	      "      --version                      print the version and exit\n"
	      "\nSignals: SIGTERM or SIGINT stop the replica cleanly; SIGHUP re-reads the\n"
	      "certificates, the client CA and the token file.\n",
	      out);
}

static int set_value(struct stsd_options *o, size_t i, const char *v, const char *source)
{
	const struct option_row *row = &table[i];
	char *p = (char *)o + row->offset, *end;
	long n;

	if (row->type == OPT_BOOL) {
		bool on = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		if (!on && strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
			fprintf(stderr, "stsd: %s --%s: '%s' is not true or false\n", source,
			        table[i].name, v);
			return 2;
		}
		*(bool *)p = on;
		return 0;
	}
	if (row->type == OPT_STR) {
		if (strlen(v) >= row->size) {
			fprintf(stderr, "stsd: %s --%s: value too long\n", source, table[i].name);
			return 2;
		}
		strcpy(p, v);
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < row->min || n > row->max) {
		fprintf(stderr, "stsd: %s --%s: '%s' is not a number from %ld to %ld\n", source,
		        table[i].name, v, row->min, row->max);
		return 2;
	}
	*(long *)p = n;
	return 0;
}

static int find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* A YAML scalar, or a sequence of scalars joined with commas. */
static bool node_text(struct fy_node *n, char *buf, size_t len)
{
	struct fy_node *item;
	void *it = NULL;
	size_t l, used = 0;
	const char *s;

	if (fy_node_is_scalar(n)) {
		s = fy_node_get_scalar(n, &l);
		return s && (size_t)snprintf(buf, len, "%.*s", (int)l, s) < len;
	}
	if (!fy_node_is_sequence(n))
		return false;
	buf[0] = '\0';
	while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
		if (!fy_node_is_scalar(item) || (s = fy_node_get_scalar(item, &l)) == NULL)
			return false;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%.*s",
		                         used ? "," : "", (int)l, s);
		if (used >= len)
			return false;
	}
	return true;
}

static int load_config(struct stsd_options *o, const char *file)
{
	struct fy_document *doc = fy_document_build_from_file(NULL, file);
	struct fy_node *root = doc ? fy_document_root(doc) : NULL;
	struct fy_node_pair *pair;
	void *it = NULL;
	char value[4096];
	int rv = 0;

	if (doc == NULL || (root && !fy_node_is_mapping(root))) {
		fprintf(stderr, "stsd: --config %s: not a readable YAML mapping of options\n",
		        file);
		fy_document_destroy(doc);
		return 2;
	}
	while (rv == 0 && root && (pair = fy_node_mapping_iterate(root, &it)) != NULL) {
		size_t kl;
		const char *key = fy_node_get_scalar(fy_node_pair_key(pair), &kl);
		int i = key ? find_option(key, kl) : -1;
		if (i < 0 || strcmp(table[i].name, "config") == 0) {
			fprintf(stderr, "stsd: --config %s: unknown option '%.*s'\n", file,
			        key ? (int)kl : 1, key ? key : "?");
			rv = 2;
		} else if (!node_text(fy_node_pair_value(pair), value, sizeof value)) {
			fprintf(stderr, "stsd: --config %s: '%s' needs a scalar or a list\n", file,
			        table[i].name);
			rv = 2;
		} else {
			rv = set_value(o, (size_t)i, value, file);
		}
	}
	fy_document_destroy(doc);
	return rv;
}

/* Walk the flags: --config first (to load), then the rest (which override). */
static int parse_flags(int argc, char **argv, struct stsd_options *o, bool config_pass)
{
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a], *name = arg + 2, *eq, *v;
		int i;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("stsd %s\n", STSD_VERSION);
			return 1;
		}
		eq = strchr(name, '=');
		if (strncmp(arg, "--", 2) != 0 ||
		    (i = find_option(name, eq ? (size_t)(eq - name) : strlen(name))) < 0) {
			fprintf(stderr, "stsd: unknown option '%s' (try --help)\n", arg);
			return 2;
		}
		if (!eq && table[i].type != OPT_BOOL && a + 1 == argc) {
			fprintf(stderr, "stsd: --%s needs a value (try --help)\n", table[i].name);
			return 2;
		}
		v = eq ? eq + 1 : table[i].type == OPT_BOOL ? "true" : argv[++a];
		if (config_pass != (strcmp(table[i].name, "config") == 0))
			continue;
		if (set_value(o, (size_t)i, v, "flag") != 0)
			return 2;
	}
	return 0;
}

/* "1=h:p,2=h:p" into peers. */
static int parse_bootstrap(struct stsd_options *o)
{
	char copy[sizeof o->bootstrap], *save = NULL, *tok;

	strcpy(copy, o->bootstrap);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned long long id = eq ? strtoull(tok, &end, 10) : 0;
		size_t k = o->n_peers;
		if (!eq || end != eq || id == 0 || !eq[1] || k == STSD_MAX_PEERS ||
		    strlen(eq + 1) >= sizeof o->peer_addresses[0]) {
			fprintf(stderr, "stsd: --bootstrap: '%s' is not ID=HOST:PORT\n", tok);
			return 2;
		}
		strcpy(o->peer_addresses[k], eq + 1);
		o->peers[k] = (struct cons_peer){(uint64_t)id, o->peer_addresses[k]};
		o->n_peers++;
	}
	return 0;
}

static int parse_join(struct stsd_options *o)
{
	char copy[sizeof o->join], *save = NULL, *tok;

	strcpy(copy, o->join);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_joins == STSD_MAX_PEERS || strlen(tok) >= sizeof o->join_urls[0]) {
			fprintf(stderr, "stsd: --join: too many or too long URLs\n");
			return 2;
		}
		strcpy(o->join_urls[o->n_joins], tok);
		o->joins[o->n_joins] = o->join_urls[o->n_joins];
		o->n_joins++;
	}
	return 0;
}

static int check(struct stsd_options *o)
{
	char *end;
	bool self = false;

	o->id = strtoull(o->id_text, &end, 10);
	if (!*o->id_text || *o->id_text == '-' || *end || o->id == 0 || !*o->raft_address ||
	    !*o->data_dir) {
		fputs("stsd: --id (a positive number), --raft-address and --data-dir are required "
		      "(try --help)\n",
		      stderr);
		return 2;
	}
	if (parse_bootstrap(o) || parse_join(o))
		return 2;
	for (size_t i = 0; i < o->n_peers; i++)
		self |= o->peers[i].id == o->id;
	if (o->n_peers && !self) {
		fprintf(stderr, "stsd: --bootstrap must list this replica (id %llu)\n",
		        (unsigned long long)o->id);
		return 2;
	}
	if (o->n_peers && o->n_joins) {
		fputs("stsd: --bootstrap starts a new cluster, --join enters one: not both\n",
		      stderr);
		return 2;
	}
	if (o->heartbeat_ms * 2 > o->election_timeout_ms) {
		fputs("stsd: --heartbeat must be at most half of --election-timeout\n", stderr);
		return 2;
	}
	if (log_parse_level(o->log_level) < 0) {
		fprintf(stderr, "stsd: --log-level '%s': use debug, info, warn or error\n",
		        o->log_level);
		return 2;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct stsd_options *o)
{
	int rv;

	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (table[i].def && (rv = set_value(o, i, table[i].def, "default")) != 0)
			return rv;
	if ((rv = parse_flags(argc, argv, o, true)) != 0)
		return rv;
	if (*o->config && (rv = load_config(o, o->config)) != 0)
		return rv;
	if ((rv = parse_flags(argc, argv, o, false)) != 0)
		return rv;
	return check(o);
}
