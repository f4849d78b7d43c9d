/* dev.c — `stsctl dev up|down|restart`: a local cluster of stsd replicas in one directory. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dev.h"
#include "errors.h"
#include "stsctl.h"
#include "util.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DOWN_TIMEOUT_MS    10000

static const char usage[] =
    "Usage: stsctl dev COMMAND --dir DIR [OPTIONS]\n"
    "\n"
    "A local stsd cluster for development, kept in one directory.\n"
    "\n"
    "Commands:\n"
    "  up       start a new cluster in DIR (which must not exist or be empty)\n"
    "  down     stop the cluster of DIR\n"
    "  restart  start one stopped replica again\n"
    "\n"
    "Run 'stsctl dev COMMAND --help' for a command's options.\n";

static const char up_usage[] =
    "Usage: stsctl dev up --dir DIR [--replicas N] [--stsd PATH] [--timeout SECONDS]\n"
    "                     [--simulated-agents N]\n"
    "\n"
    "Start N stsd replicas on free loopback ports, bootstrapped as one cluster, and wait until a\n"
    "leader is elected and every replica is ready. DIR must not exist or be empty; it receives\n"
    "cluster.json (replicas, pids, addresses, paths of the credentials), kubeconfig,\n"
    "replica-<id>/ (data directories), replica-<id>.log and pki/. The replicas keep running after\n"
    "stsctl exits: stop them with 'stsctl dev down --dir DIR'.\n"
    "\n"
    "The replicas serve https only and require credentials. pki/ holds a new cluster CA\n"
    "(ca.crt, ca.key), each replica's certificate (replica-<id>.crt/.key, serving and client),\n"
    "an admin client certificate in group system:masters (admin.crt, admin.key), and a token\n"
    "file with one admin token (tokens.csv; the token alone in admin.token). DIR/kubeconfig\n"
    "embeds the CA and the admin certificate: 'export KUBECONFIG=DIR/kubeconfig' and kubectl\n"
    "works as it is; curl --cacert DIR/pki/ca.crt -H \"Authorization: Bearer $(cat\n"
    "DIR/pki/admin.token)\" https://... works too. Keys, tokens and the kubeconfig are mode 0600.\n"
    "\n"
    "Once the replicas serve, the StorageClasses the seed manifests use are created: standard\n"
    "(the default class), fast-ssd and encrypted-ssd (stsd.io/local, volumes under DIR/volumes)\n"
    "and shared (stsd.io/shared-path, under DIR/shared).\n"
    "\n"
    "Options:\n"
    "      --dir DIR          the cluster directory (required)\n"
    "      --replicas N       how many replicas, 1 to 9 (default 3)\n"
    "      --stsd PATH        the stsd binary (default $STSD_BIN/stsd, else stsd beside stsctl)\n"
    "      --timeout SECONDS  how long to wait for readiness (default 30)\n"
    "      --simulated-agents N\n"
    "                         also start N simulated nodes sim-0 .. sim-(N-1) (one stsagent\n"
    "                         --simulate process, node certificates in pki/nodes/, log\n"
    "                         agent-sim.log) and wait until every one is Ready\n"
    "      --stsd-arg ARG     pass ARG to every replica's stsd (repeatable; kept for\n"
    "                         'dev restart'), e.g. --stsd-arg=--node-grace-period=5000\n"
    "  -h, --help             show this help and exit\n";

static const char down_usage[] =
    "Usage: stsctl dev down --dir DIR\n"
    "\n"
    "Stop every process recorded in DIR/cluster.json: SIGTERM, then SIGKILL after 10 s. The\n"
    "directory and its data stay.\n";

static const char restart_usage[] =
    "Usage: stsctl dev restart --dir DIR --id N [--timeout SECONDS]\n"
    "\n"
    "Start stopped replica N of DIR again, on its data directory and with the flags it had, and\n"
    "wait until it is ready (default 30 s). Refuses when the replica is still running.\n";

/* What every dev command takes. */
struct dev_args {
	const char *dir;
	const char *stsd;
	long replicas;
	long id;
	long timeout_ms;
	long agents;                              /* --simulated-agents */
	const char *stsd_args[DEV_MAX_STSD_ARGS]; /* --stsd-arg, repeatable */
	size_t n_stsd_args;
};

static bool is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* The options, in the order of the bits that say which a command takes. */
enum { OPT_DIR, OPT_STSD, OPT_REPLICAS, OPT_ID, OPT_TIMEOUT, OPT_AGENTS, OPT_STSD_ARG, OPT_COUNT };
static const char *const option_names[OPT_COUNT] = {
    "--dir", "--stsd", "--replicas", "--id", "--timeout", "--simulated-agents", "--stsd-arg"};
#define UP_OPTIONS                                                                 \
	(1u << OPT_DIR | 1u << OPT_STSD | 1u << OPT_REPLICAS | 1u << OPT_TIMEOUT | \
	 1u << OPT_AGENTS | 1u << OPT_STSD_ARG)
#define DOWN_OPTIONS    (1u << OPT_DIR)
#define RESTART_OPTIONS (1u << OPT_DIR | 1u << OPT_ID | 1u << OPT_TIMEOUT)

static bool set_option(int k, const char *v, struct dev_args *a)
{
	switch (k) {
	case OPT_DIR:
		a->dir = v;
		return true;
	case OPT_STSD:
		a->stsd = v;
		return true;
	case OPT_REPLICAS:
		if (cli_parse_int(v, 1, DEV_MAX_REPLICAS, &a->replicas))
			return true;
		fprintf(stderr, "stsctl dev: --replicas must be 1 to %d, not '%s'\n",
		        DEV_MAX_REPLICAS, v);
		return false;
	case OPT_ID:
		if (cli_parse_int(v, 1, 1000000, &a->id))
			return true;
		fprintf(stderr, "stsctl dev: bad --id '%s'\n", v);
		return false;
	case OPT_STSD_ARG:
		if (a->n_stsd_args < DEV_MAX_STSD_ARGS) {
			a->stsd_args[a->n_stsd_args++] = v;
			return true;
		}
		fprintf(stderr, "stsctl dev: at most %d --stsd-arg\n", DEV_MAX_STSD_ARGS);
		return false;
	case OPT_AGENTS:
		if (cli_parse_int(v, 0, 1000, &a->agents))
			return true;
		fprintf(stderr, "stsctl dev: --simulated-agents must be 0 to 1000, not '%s'\n", v);
		return false;
	default:
		if (cli_parse_duration(v, &a->timeout_ms))
			return true;
		fprintf(stderr, "stsctl dev: bad --timeout '%s' (seconds)\n", v);
		return false;
	}
}

/* Parse the option at argv[*i] if it is one of the allowed bits: 1 parsed, 0 not an allowed
 * option, -1 bad value (reported). */
static int parse_option(int argc, char **argv, int *i, unsigned allowed, struct dev_args *a)
{
	const char *v;

	for (int k = 0; k < OPT_COUNT; k++) {
		int rv;

		if ((allowed & (1u << k)) == 0 ||
		    (rv = cli_option(argc, argv, i, option_names[k], &v)) == 0)
			continue;
		return rv < 0 || !set_option(k, v, a) ? -1 : 1;
	}
	return 0;
}

/* Parse the allowed options (bits of OPT_*); an exit status (0 go on, 2 usage error) or -1 after
 * --help. */
static int parse_args(int argc, char **argv, const char *help, unsigned allowed, struct dev_args *a)
{
	*a = (struct dev_args){.replicas = 3, .timeout_ms = DEFAULT_TIMEOUT_MS};
	for (int i = 0; i < argc; i++) {
		int rv;

		if (is_help(argv[i])) {
			fputs(help, stdout);
			return -1;
		}
		if ((rv = parse_option(argc, argv, &i, allowed, a)) == 1)
			continue;
		if (rv == 0)
			fprintf(stderr, "stsctl dev: unexpected argument '%s'\n", argv[i]);
		fputs(help, stderr);
		return 2;
	}
	if (a->dir == NULL) {
		fprintf(stderr, "stsctl dev: --dir DIR is required\n%s", help);
		return 2;
	}
	return 0;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static bool is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return false;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* DIR must not exist or be empty. */
static bool dir_usable(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0 || is_empty_dir(dir))
		return true;
	fprintf(stderr,
	        "stsctl dev up: %s is not an empty directory; choose a new one (or stop and remove "
	        "the old cluster: stsctl dev down --dir %s && rm -rf %s)\n",
	        dir, dir, dir);
	return false;
}

/* Create DIR; its absolute path goes to out. */
static bool create_dir(const char *dir, char *out)
{
	if (make_dirs(dir) != 0 || realpath(dir, out) == NULL) {
		fprintf(stderr, "stsctl dev up: cannot create %s: %s\n", dir, strerror(errno));
		return false;
	}
	return true;
}

/* argv of replica i: the stsd flags of the server's contract, with its TLS material. */
static char **replica_argv(const struct dev_cluster *cl, const char *stsd,
                           const struct dev_replica *r, const char *bootstrap,
                           const struct dev_args *a)
{
	char id[16], cert[PATH_MAX + 32], key[PATH_MAX + 32];
	const char *words[] = {stsd,
	                       "--id",
	                       id,
	                       "--raft-address",
	                       r->raft_address,
	                       "--api-address",
	                       r->api_address,
	                       "--data-dir",
	                       r->data_dir,
	                       "--bootstrap",
	                       bootstrap,
	                       "--log-level",
	                       "info",
	                       "--tls-cert-file",
	                       cert,
	                       "--tls-private-key-file",
	                       key,
	                       "--client-ca-file",
	                       cl->ca_file,
	                       "--token-auth-file",
	                       cl->token_file};
	size_t n = sizeof words / sizeof words[0];
	char **argv = calloc(n + a->n_stsd_args + 1, sizeof *argv);

	snprintf(id, sizeof id, "%d", r->id);
	snprintf(cert, sizeof cert, "%.4000s/pki/replica-%d.crt", cl->dir, r->id);
	snprintf(key, sizeof key, "%.4000s/pki/replica-%d.key", cl->dir, r->id);
	for (size_t i = 0; argv != NULL && i < n + a->n_stsd_args; i++) {
		if ((argv[i] = strdup(i < n ? words[i] : a->stsd_args[i - n])) == NULL) {
			while (i-- > 0)
				free(argv[i]);
			free(argv);
			return NULL;
		}
	}
	return argv;
}

/* Replicas 1..n with free ports, data directories, logs and command lines. */
static bool plan(struct dev_cluster *cl, size_t n, const char *stsd, const struct dev_args *a)
{
	int ports[2 * DEV_MAX_REPLICAS];
	char err[256] = "out of memory", bootstrap[1024] = "";

	if (dev_free_ports(ports, 2 * n, err, sizeof err) != STSD_OK ||
	    (cl->replicas = calloc(n, sizeof *cl->replicas)) == NULL) {
		fprintf(stderr, "stsctl dev up: %s\n", err);
		return false;
	}
	for (cl->n = 0; cl->n < n; cl->n++) {
		struct dev_replica *r = &cl->replicas[cl->n];
		size_t used = strlen(bootstrap);

		r->id = (int)cl->n + 1;
		snprintf(r->raft_address, sizeof r->raft_address, "127.0.0.1:%d", ports[2 * cl->n]);
		snprintf(r->api_address, sizeof r->api_address, "127.0.0.1:%d",
		         ports[2 * cl->n + 1]);
		snprintf(r->data_dir, sizeof r->data_dir, "%.4000s/replica-%d", cl->dir, r->id);
		snprintf(r->log, sizeof r->log, "%.4000s/replica-%d.log", cl->dir, r->id);
		snprintf(bootstrap + used, sizeof bootstrap - used, "%s%d=%s", used > 0 ? "," : "",
		         r->id, r->raft_address);
	}
	for (size_t i = 0; i < n; i++) {
		if ((cl->replicas[i].argv =
		         replica_argv(cl, stsd, &cl->replicas[i], bootstrap, a)) == NULL) {
			fprintf(stderr, "stsctl dev up: out of memory\n");
			return false;
		}
	}
	return true;
}

static bool start_replica(struct dev_replica *r)
{
	char err[512];

	printf("starting replica %d (api %s, raft %s, log %s)\n", r->id, r->api_address,
	       r->raft_address, r->log);
	if (make_dirs(r->data_dir) != 0) {
		fprintf(stderr, "stsctl dev: cannot create %s: %s\n", r->data_dir, strerror(errno));
		return false;
	}
	if (dev_spawn(r->argv, r->log, &r->pid, err, sizeof err) != STSD_OK) {
		r->pid = 0;
		fprintf(stderr, "stsctl dev: replica %d: %s\n", r->id, err);
		return false;
	}
	return true;
}

/* Stop the replicas we started (pid set), after a failure. */
static void stop_started(const struct dev_replica *replicas, size_t count)
{
	struct dev_proc procs[DEV_MAX_REPLICAS];
	size_t n = 0;

	for (size_t i = 0; i < count && n < DEV_MAX_REPLICAS; i++) {
		if (replicas[i].pid <= 0)
			continue;
		procs[n] =
		    (struct dev_proc){.pid = replicas[i].pid, .marker = replicas[i].data_dir};
		snprintf(procs[n++].name, sizeof procs[0].name, "replica %d", replicas[i].id);
	}
	if (n > 0)
		printf("stopping what was started\n");
	dev_stop(procs, n, 5000, stdout);
}

/* Stop the simulated agent we started (pid > 0), after a failure. */
static void stop_agent(pid_t pid)
{
	struct dev_proc p = {.name = "agent sim", .pid = pid};

	if (pid > 0)
		dev_stop(&p, 1, 5000, stdout);
}

static bool record(struct dev_cluster *cl)
{
	char err[512];

	if (dev_cluster_save(cl, err, sizeof err) != STSD_OK ||
	    dev_write_kubeconfig(cl, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "stsctl dev up: %s\n", err);
		return false;
	}
	return true;
}

/* The cluster's CA and credentials in DIR/pki. */
static bool make_pki(struct dev_cluster *cl, size_t replicas)
{
	char err[PATH_MAX + 256];

	printf("creating a CA and certificates in %s/pki\n", cl->dir);
	if (dev_pki_create(cl, replicas, err, sizeof err) == STSD_OK)
		return true;
	fprintf(stderr, "stsctl dev up: %s\n", err);
	return false;
}

static void print_usage_hints(const struct dev_cluster *cl, uint64_t took_ms)
{
	printf("\ncluster ready in %.1f s: %zu replica(s) in %s (https, admin credentials in "
	       "%s/pki)\n",
	       took_ms / 1000.0, cl->n, cl->dir, cl->dir);
	printf("  export KUBECONFIG=%s/kubeconfig\n", cl->dir);
	printf("  kubectl get configmaps\n");
	printf("  curl --cacert %s/pki/ca.crt -H \"Authorization: Bearer $(cat "
	       "%s/pki/admin.token)\" https://%s/version\n",
	       cl->dir, cl->dir, cl->replicas[0].api_address);
	printf("  stsctl members --dir %s\n", cl->dir);
	printf("  stsctl dev down --dir %s\n", cl->dir);
}

static int up(int argc, char **argv)
{
	struct dev_cluster cl = {0};
	char stsd[PATH_MAX], err[PATH_MAX + 256];
	uint64_t t0 = util_now_mono_ms();
	bool want[DEV_MAX_REPLICAS] = {false}, ok = true;
	struct dev_args a;
	pid_t agent = 0;
	int rv;

	if ((rv = parse_args(argc, argv, up_usage, UP_OPTIONS, &a)) != 0)
		return rv < 0 ? 0 : rv;
	if (!dir_usable(a.dir))
		return 1;
	if (dev_find_stsd(a.stsd, stsd, sizeof stsd, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "stsctl dev up: %s\n", err);
		return 1;
	}
	if (!create_dir(a.dir, cl.dir) || !make_pki(&cl, (size_t)a.replicas) ||
	    !plan(&cl, (size_t)a.replicas, stsd, &a)) {
		dev_cluster_free(&cl);
		return 1;
	}
	dev_catch_signals();
	for (size_t i = 0; i < cl.n && ok; i++)
		ok = want[i] = start_replica(&cl.replicas[i]);
	ok = ok && record(&cl) && dev_wait_ready(&cl, want, a.timeout_ms, true);
	ok = ok && dev_storage_up(&cl, a.timeout_ms);
	ok = ok && (a.agents == 0 || dev_agents_up(&cl, a.agents, a.timeout_ms, &agent));
	if (ok) {
		print_usage_hints(&cl, util_now_mono_ms() - t0);
	} else {
		stop_agent(agent);
		stop_started(cl.replicas, cl.n);
		fprintf(stderr, "stsctl dev up: the cluster did not start; logs are in %s\n",
		        cl.dir);
	}
	dev_cluster_free(&cl);
	return ok ? 0 : 1;
}

static bool load(const char *cmd, const char *dir, struct dev_cluster *cl)
{
	char err[PATH_MAX + 256];

	if (dev_cluster_load(dir, cl, err, sizeof err) == STSD_OK)
		return true;
	fprintf(stderr, "%s: %s\n", cmd, err);
	dev_cluster_free(cl);
	return false;
}

/* The agents recorded in cluster.json ("agents": [{"pid": N, ...}]), as processes to stop. */
static size_t agent_procs(const struct dev_cluster *cl, struct dev_proc *procs, size_t max)
{
	json_t *o;
	size_t i, n = 0;

	json_array_foreach(json_object_get(cl->doc, "agents"), i, o)
	{
		const char *name = json_string_value(json_object_get(o, "name"));
		json_int_t pid = json_integer_value(json_object_get(o, "pid"));

		if (pid <= 0 || n == max)
			continue;
		procs[n] = (struct dev_proc){
		    .pid = (pid_t)pid, .marker = json_string_value(json_object_get(o, "dataDir"))};
		snprintf(procs[n++].name, sizeof procs[0].name, "agent %s",
		         name != NULL ? name : "?");
	}
	return n;
}

static int down(int argc, char **argv)
{
	struct dev_proc procs[64];
	struct dev_cluster cl = {0};
	struct dev_args a;
	size_t n;
	int rv;

	if ((rv = parse_args(argc, argv, down_usage, DOWN_OPTIONS, &a)) != 0)
		return rv < 0 ? 0 : rv;
	if (!load("stsctl dev down", a.dir, &cl))
		return 1;
	n = agent_procs(&cl, procs, 64 - DEV_MAX_REPLICAS);
	for (size_t i = 0; i < cl.n && i < DEV_MAX_REPLICAS; i++, n++) {
		procs[n] =
		    (struct dev_proc){.pid = cl.replicas[i].pid, .marker = cl.replicas[i].data_dir};
		snprintf(procs[n].name, sizeof procs[0].name, "replica %d", cl.replicas[i].id);
	}
	dev_stop(procs, n, DOWN_TIMEOUT_MS, stdout);
	printf("cluster in %s stopped (its data and logs stay)\n", a.dir);
	dev_cluster_free(&cl);
	return 0;
}

/* Whether replica r (NULL: not found) can be started again; says why not. */
static bool can_restart(const struct dev_replica *r, long id, const char *dir)
{
	if (r == NULL)
		fprintf(stderr, "stsctl dev restart: no replica %ld in %s/cluster.json\n", id, dir);
	else if (dev_running(r->pid, r->data_dir))
		fprintf(stderr,
		        "stsctl dev restart: replica %d is still running (pid %d); stop it first "
		        "(kill %d)\n",
		        r->id, (int)r->pid, (int)r->pid);
	else if (r->argv == NULL)
		fprintf(stderr, "stsctl dev restart: replica %d has no \"args\" in cluster.json\n",
		        r->id);
	else
		return true;
	return false;
}

static int restart(int argc, char **argv)
{
	struct dev_cluster cl = {0};
	bool want[DEV_MAX_REPLICAS] = {false}, ok, started = false;
	struct dev_replica *r;
	char err[PATH_MAX + 256];
	struct dev_args a;
	int rv;

	if ((rv = parse_args(argc, argv, restart_usage, RESTART_OPTIONS, &a)) != 0)
		return rv < 0 ? 0 : rv;
	if (a.id == 0) {
		fprintf(stderr, "stsctl dev restart: --id N is required\n%s", restart_usage);
		return 2;
	}
	if (!load("stsctl dev restart", a.dir, &cl))
		return 1;
	r = dev_cluster_find(&cl, (int)a.id);
	if (cl.n > DEV_MAX_REPLICAS)
		fprintf(stderr, "stsctl dev restart: more than %d replicas in %s/cluster.json\n",
		        DEV_MAX_REPLICAS, a.dir);
	ok = cl.n <= DEV_MAX_REPLICAS && can_restart(r, a.id, a.dir);
	if (ok) {
		dev_catch_signals();
		want[r - cl.replicas] = true;
		ok = started = start_replica(r);
	}
	if (ok && dev_cluster_save(&cl, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "stsctl dev restart: %s\n", err);
		ok = false;
	}
	if (ok)
		printf("waiting for replica %d (pid %d) to be ready ...\n", r->id, (int)r->pid);
	ok = ok && dev_wait_ready(&cl, want, a.timeout_ms, false);
	if (!ok && started)
		stop_started(r, 1);
	dev_cluster_free(&cl);
	return ok ? 0 : 1;
}

int stsctl_dev(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {{"up", up}, {"down", down}, {"restart", restart}};

	setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines show as they happen */
	if (argc < 1 || is_help(argv[0])) {
		fputs(usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "stsctl dev: unknown command '%s'\n%s", argv[0], usage);
	return 2;
}
