/* stsagent — the node agent of stsd. Only simulated nodes exist so far (--simulate): nodes that
 * register, renew their leases and drive their pods' status without running anything (KWOK's
 * idea), for tests and benchmarks. Options are a table: parsing and --help come from it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "log.h"
#include "sim.h"

#define MAX_NODES 10000
#define MAX_URLS  16

struct args {
	bool simulate;
	const char *name, *prefix, *kubeconfig, *cert_dir, *server, *log_level, *data_dir;
	long nodes;
	struct sim_config cfg;
};

enum kind { FLAG, STRING, COUNT, MILLIS, SECONDS };

struct option {
	const char *name, *arg, *help;
	enum kind kind;
	size_t off; /* into struct args */
};

#define OPT(name, arg, kind, field, help)                           \
	{                                                           \
		name, arg, help, kind, offsetof(struct args, field) \
	}

static const struct option options[] = {
    OPT("--simulate", NULL, FLAG, simulate,
        "simulated nodes, which run nothing (required for now)"),
    OPT("--name", "NODE", STRING, name, "one node of this name"),
    OPT("--nodes", "N", COUNT, nodes, "N nodes named PREFIX-0 .. PREFIX-(N-1)"),
    OPT("--name-prefix", "PREFIX", STRING, prefix, "prefix of the --nodes names (default sim)"),
    OPT("--kubeconfig", "FILE", STRING, kubeconfig, "server and credentials (default $KUBECONFIG)"),
    OPT("--cert-dir", "DIR", STRING, cert_dir,
        "certificates: node NODE uses DIR/NODE.crt and .key"),
    OPT("--server", "URL[,URL]", STRING, server, "the replicas (default: the kubeconfig's)"),
    OPT("--cpu", "QTY", STRING, cfg.cpu, "capacity and allocatable cpu (default 8)"),
    OPT("--memory", "QTY", STRING, cfg.memory, "capacity and allocatable memory (default 32Gi)"),
    OPT("--pods", "N", STRING, cfg.pods, "capacity and allocatable pods (default 110)"),
    OPT("--ready-after", "DURATION", MILLIS, cfg.ready_after_ms,
        "from Running to Ready (default 200ms)"),
    OPT("--terminate-after", "DURATION", MILLIS, cfg.terminate_ms,
        "from a deletion to its confirmation (default 100ms)"),
    OPT("--lease-duration", "DURATION", SECONDS, cfg.lease_s,
        "leaseDurationSeconds, renewed every quarter (default 40s)"),
    OPT("--data-dir", "DIR", STRING, data_dir, "the agent's own directory (created if missing)"),
    OPT("--log-level", "LEVEL", STRING, log_level, "debug, info, warn or error (default info)"),
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
	fputs("Usage: stsagent --simulate (--name NODE | --nodes N) [OPTIONS]\n\n"
	      "The node agent of stsd. Only simulated nodes exist so far: they register, renew\n"
	      "their leases and drive the status of the pods bound to them like a fast kubelet\n"
	      "(Running, then Ready after --ready-after; deletions confirmed after\n"
	      "--terminate-after), without running anything. A pod steers its own with\n"
	      "annotations: " SIM_ANN_READY ": \"false\" keeps it unready, " SIM_ANN_PHASE
	      ": \"Failed\"\nor \"Succeeded\" ends it.\n\nOptions:\n",
	      f);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[64];
		snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].arg ? " " : "",
		         options[i].arg ? options[i].arg : "");
		fprintf(f, "      %-28s %s\n", left, options[i].help);
	}
	fprintf(f, "  -h, %-28s %s\n      %-28s %s\n", "--help", "show this help and exit",
	        "--version", "print the version and exit");
}

/* "200ms", "1.5s", "40s", "2m", or seconds without a unit, into milliseconds. */
static bool parse_duration(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0 || v > 1e9)
		return false;
	if (strcmp(end, "ms") == 0)
		*ms = (long)v;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		*ms = (long)(v * 1000);
	else if (strcmp(end, "m") == 0)
		*ms = (long)(v * 60000);
	else
		return false;
	return true;
}

static bool set_value(const struct option *o, const char *v, struct args *a)
{
	void *field = (char *)a + o->off;
	long n;
	char *end;

	switch (o->kind) {
	case STRING:
		*(const char **)field = v;
		return *v != '\0';
	case COUNT:
		errno = 0;
		n = strtol(v, &end, 10);
		*(long *)field = n;
		return errno == 0 && *end == '\0' && n >= 1 && n <= MAX_NODES;
	case MILLIS:
		return parse_duration(v, (long *)field);
	case SECONDS:
		if (!parse_duration(v, &n) || n < 1000)
			return false;
		*(long *)field = n / 1000;
		return true;
	default:
		*(bool *)field = true;
		return true;
	}
}

/* One argument (and its value): 1 parsed, 0 --help/--version done, -1 bad (reported). */
static int parse_one(int argc, char **argv, int *i, struct args *a)
{
	for (size_t k = 0; k < N_OPTIONS; k++) {
		const struct option *o = &options[k];
		size_t len = strlen(o->name);
		const char *v = NULL;

		if (strncmp(argv[*i], o->name, len) != 0 ||
		    (argv[*i][len] != '\0' && (argv[*i][len] != '=' || o->kind == FLAG)))
			continue;
		if (o->kind != FLAG)
			v = argv[*i][len] == '=' ? argv[*i] + len + 1
			    : *i + 1 < argc      ? argv[++*i]
			                         : NULL;
		if (o->kind != FLAG && v == NULL) {
			fprintf(stderr, "stsagent: %s needs a value (try --help)\n", o->name);
			return -1;
		}
		if (set_value(o, v, a))
			return 1;
		fprintf(stderr, "stsagent: bad value '%s' for %s (try --help)\n", v, o->name);
		return -1;
	}
	if (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[*i], "--version") == 0) {
		printf("stsagent %s\n", STSD_VERSION);
		return 0;
	}
	fprintf(stderr, "stsagent: unknown option '%s' (try --help)\n", argv[*i]);
	return -1;
}

/* An exit status: 2 for a usage error, 0 after --help; -1 to go on. */
static int parse_args(int argc, char **argv, struct args *a)
{
	*a = (struct args){.prefix = "sim",
	                   .cfg = {.cpu = "8",
	                           .memory = "32Gi",
	                           .pods = "110",
	                           .ready_after_ms = 200,
	                           .terminate_ms = 100,
	                           .lease_s = 40}};
	for (int i = 1; i < argc; i++) {
		int rv = parse_one(argc, argv, &i, a);
		if (rv <= 0)
			return rv < 0 ? 2 : 0;
	}
	if (!a->simulate) {
		fprintf(stderr, "stsagent: only simulated agents exist so far: pass --simulate\n");
		return 2;
	}
	if ((a->name == NULL) == (a->nodes == 0)) {
		fprintf(stderr, "stsagent: give one of --name NODE or --nodes N\n");
		return 2;
	}
	if (a->log_level != NULL && log_parse_level(a->log_level) < 0) {
		fprintf(stderr, "stsagent: bad --log-level '%s'\n", a->log_level);
		return 2;
	}
	return -1;
}

/* Split --server (modified in place) or take the kubeconfig's server. */
static size_t server_urls(char *server, const struct kubeconfig *kc, const char **urls)
{
	size_t n = 0;

	if (server == NULL) {
		urls[0] = kc->server;
		return kc->server != NULL ? 1 : 0;
	}
	for (char *save = NULL, *t = strtok_r(server, ",", &save); t != NULL && n < MAX_URLS;
	     t = strtok_r(NULL, ",", &save))
		urls[n++] = t;
	return n;
}

static volatile int stop_flag;

/* Start every node; on failure, stop the ones started. */
static bool start_nodes(const struct args *a, struct sim_node **nodes, size_t n)
{
	char err[512], name[300];

	for (size_t i = 0; i < n; i++) {
		if (a->name != NULL)
			snprintf(name, sizeof name, "%s", a->name);
		else
			snprintf(name, sizeof name, "%s-%zu", a->prefix, i);
		if (sim_node_start(&a->cfg, name, (unsigned)i, &nodes[i], err, sizeof err) == 0)
			continue;
		fprintf(stderr, "stsagent: %s\n", err);
		stop_flag = 1;
		while (i-- > 0)
			sim_node_stop(nodes[i]);
		return false;
	}
	return true;
}

/* Block SIGINT and SIGTERM in every thread and wait for one here. */
static int run(struct args *a, size_t n)
{
	struct sim_node **nodes = calloc(n, sizeof *nodes);
	sigset_t set;
	int sig = 0;

	if (nodes == NULL)
		return 1;
	a->cfg.stop = &stop_flag;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!start_nodes(a, nodes, n)) {
		free(nodes);
		return 1;
	}
	log_info("sim",
	         "event=started nodes=%zu ready_after_ms=%ld terminate_after_ms=%ld "
	         "lease_s=%ld",
	         n, a->cfg.ready_after_ms, a->cfg.terminate_ms, a->cfg.lease_s);
	sigwait(&set, &sig);
	log_info("sim", "event=stopping signal=%d", sig);
	stop_flag = 1;
	for (size_t i = 0; i < n; i++)
		sim_node_stop(nodes[i]);
	free(nodes);
	log_info("sim", "event=stopped");
	return 0;
}

int main(int argc, char **argv)
{
	struct kubeconfig kc = {0};
	const char *urls[MAX_URLS];
	struct args a;
	char err[1024];
	int rv;

	if ((rv = parse_args(argc, argv, &a)) >= 0)
		return rv;
	if (a.log_level != NULL)
		log_set_level((enum log_level)log_parse_level(a.log_level));
	if (a.data_dir != NULL && mkdir(a.data_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "stsagent: cannot create %s: %s\n", a.data_dir, strerror(errno));
		return 1;
	}
	if (kubeconfig_load(a.kubeconfig, NULL, &kc, err, sizeof err) != STSD_OK &&
	    (a.kubeconfig != NULL || a.server == NULL)) {
		fprintf(stderr, "stsagent: %s\n", err);
		kubeconfig_free(&kc);
		return 1;
	}
	a.cfg.kc = &kc;
	a.cfg.cert_dir = a.cert_dir;
	a.cfg.urls = urls;
	if ((a.cfg.n_urls = server_urls((char *)a.server, &kc, urls)) == 0) {
		fprintf(stderr, "stsagent: no server: pass --server URL or a kubeconfig\n");
		kubeconfig_free(&kc);
		return 2;
	}
	rv = run(&a, a.name != NULL ? 1 : (size_t)a.nodes);
	kubeconfig_free(&kc);
	return rv;
}
