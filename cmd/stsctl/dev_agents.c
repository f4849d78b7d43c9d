/* dev_agents.c — simulated nodes for a dev cluster (`stsctl dev up --simulated-agents N`): their
 * certificates, one stsagent process that runs them all, its record in cluster.json, and the
 * wait until every node is Ready. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dev.h"
#include "errors.h"
#include "pki.h"
#include "util.h"

#define AGENT_NAME       "sim"
#define POLL_INTERVAL_MS 100
#define LOG_TAIL_LINES   20

/* DIR/pki/nodes/sim-<i>.{crt,key}: client certificates the node authorizer knows as node sim-<i>.
 */
static bool issue_node_certs(const struct dev_cluster *cl, long n)
{
	char pki[PATH_MAX + 8], dir[PATH_MAX + 16], out[PATH_MAX + 64], cn[64], err[PATH_MAX + 256];

	snprintf(pki, sizeof pki, "%.4000s/pki", cl->dir);
	snprintf(dir, sizeof dir, "%.4000s/nodes", pki);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "stsctl dev up: cannot create %s: %s\n", dir, strerror(errno));
		return false;
	}
	for (long i = 0; i < n; i++) {
		struct pki_cert_request rq = {
		    .ca_dir = pki, .out = out, .cn = cn, .orgs = {"system:nodes"}, .client = true};

		snprintf(out, sizeof out, "%.4000s/" AGENT_NAME "-%ld", dir, i);
		snprintf(cn, sizeof cn, "system:node:" AGENT_NAME "-%ld", i);
		if (pki_issue(&rq, err, sizeof err) != STSD_OK) {
			fprintf(stderr, "stsctl dev up: %s\n", err);
			return false;
		}
	}
	return true;
}

/* The command line: every replica's URL, the node certificates, and the data directory as the
 * marker dev down looks for before it signals the pid. */
static json_t *agent_args(const struct dev_cluster *cl, const char *bin, long n,
                          const char *data_dir)
{
	char servers[DEV_MAX_REPLICAS * 96] = "", count[24], path[PATH_MAX + 32];
	json_t *a;

	for (size_t i = 0; i < cl->n; i++) {
		size_t used = strlen(servers);
		char url[96];
		dev_cluster_url(cl, cl->replicas[i].api_address, url, sizeof url);
		snprintf(servers + used, sizeof servers - used, "%s%s", used ? "," : "", url);
	}
	snprintf(count, sizeof count, "%ld", n);
	snprintf(path, sizeof path, "%.4000s/kubeconfig", cl->dir);
	a = json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s]", bin, "--simulate", "--nodes", count,
	              "--name-prefix", AGENT_NAME, "--kubeconfig", path, "--server", servers,
	              "--data-dir", data_dir, "--cert-dir");
	snprintf(path, sizeof path, "%.4000s/pki/nodes", cl->dir);
	json_array_append_new(a, json_string(path));
	return a;
}

/* argv from the JSON array (borrowing its strings); NULL when out of memory. */
static char **borrow_argv(const json_t *args)
{
	size_t n = json_array_size(args);
	char **argv = calloc(n + 1, sizeof *argv);

	for (size_t i = 0; argv != NULL && i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(args, i));
	return argv;
}

/* Start the agent and add it to cluster.json's "agents" (saved). */
static bool start_agent(struct dev_cluster *cl, long n, pid_t *pid, char *log, size_t loglen)
{
	char bin[PATH_MAX], data_dir[PATH_MAX + 16], err[PATH_MAX + 256];
	json_t *args, *agents = json_object_get(cl->doc, "agents");
	char **argv;
	bool ok;

	if (dev_find_binary("stsagent", NULL, NULL, bin, sizeof bin, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "stsctl dev up: %s\n", err);
		return false;
	}
	snprintf(data_dir, sizeof data_dir, "%.4000s/agent-" AGENT_NAME, cl->dir);
	snprintf(log, loglen, "%.4000s/agent-" AGENT_NAME ".log", cl->dir);
	if ((mkdir(data_dir, 0755) != 0 && errno != EEXIST) || !json_is_array(agents) ||
	    (args = agent_args(cl, bin, n, data_dir)) == NULL ||
	    (argv = borrow_argv(args)) == NULL) {
		fprintf(stderr, "stsctl dev up: cannot prepare the agent in %s\n", data_dir);
		return false;
	}
	printf("starting %ld simulated node(s) (stsagent, log %s)\n", n, log);
	ok = dev_spawn(argv, log, pid, err, sizeof err) == STSD_OK;
	free(argv);
	if (!ok) {
		fprintf(stderr, "stsctl dev up: stsagent: %s\n", err);
		json_decref(args);
		return false;
	}
	json_array_append_new(agents, json_pack("{s:s,s:i,s:b,s:i,s:s,s:s,s:o}", "name", AGENT_NAME,
	                                        "pid", (int)*pid, "simulated", 1, "nodes", (int)n,
	                                        "dataDir", data_dir, "log", log, "args", args));
	if (dev_cluster_save(cl, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "stsctl dev up: %s\n", err);
		return false;
	}
	return true;
}

/* Whether node obj is one of ours and has Ready True. */
static bool node_ready(const json_t *obj)
{
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	json_t *c;
	size_t i;

	if (name == NULL || strncmp(name, AGENT_NAME "-", strlen(AGENT_NAME) + 1) != 0)
		return false;
	json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t != NULL && s != NULL && strcmp(t, "Ready") == 0)
			return strcmp(s, "True") == 0;
	}
	return false;
}

/* How many of our nodes are Ready (-1 when the list failed). */
static long count_ready(struct client *c)
{
	json_t *list = NULL, *o;
	long ready = 0;
	size_t i;

	if (client_get_json(c, "/api/v1/nodes", &list) != STSD_OK)
		return -1;
	json_array_foreach(json_object_get(list, "items"), i, o) ready += node_ready(o);
	json_decref(list);
	return ready;
}

static struct client *admin_client(const struct dev_cluster *cl)
{
	struct client_options o = {.timeout_ms = 2000, .deadline_ms = 3000};
	char urls[DEV_MAX_REPLICAS][96], err[256];
	const char *u[DEV_MAX_REPLICAS];
	struct client *c = NULL;

	dev_cluster_client_options(cl, &o);
	for (size_t i = 0; i < cl->n && i < DEV_MAX_REPLICAS; i++) {
		dev_cluster_url(cl, cl->replicas[i].api_address, urls[i], sizeof urls[i]);
		u[i] = urls[i];
	}
	if (client_create(u, cl->n < DEV_MAX_REPLICAS ? cl->n : DEV_MAX_REPLICAS, &o, &c, err,
	                  sizeof err) != STSD_OK)
		fprintf(stderr, "stsctl dev up: %s\n", err);
	return c;
}

/* Poll the node list until n of ours are Ready; false on timeout, signal or the agent's exit. */
static bool wait_nodes(const struct dev_cluster *cl, long n, pid_t pid, const char *log,
                       long timeout_ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)timeout_ms;
	struct client *c = admin_client(cl);
	long ready = -1;
	int st;

	while (c != NULL && (ready = count_ready(c)) < n) {
		const char *why = dev_interrupted()                ? "interrupted"
		                  : dev_exited(pid, &st)           ? "stsagent exited"
		                  : util_now_mono_ms() >= deadline ? "timed out"
		                                                   : NULL;
		if (why != NULL) {
			fprintf(stderr,
			        "stsctl dev up: %s with %ld of %ld simulated node(s) Ready\n", why,
			        ready < 0 ? 0 : ready, n);
			dev_log_tail(log, LOG_TAIL_LINES, stderr);
			break;
		}
		dev_nap(POLL_INTERVAL_MS);
	}
	client_destroy(c);
	if (ready >= n)
		printf("%ld simulated node(s) Ready\n", n);
	return ready >= n;
}

bool dev_agents_up(struct dev_cluster *cl, long n, long timeout_ms, pid_t *pid)
{
	char log[PATH_MAX + 32];

	*pid = 0;
	printf("issuing node certificates in %s/pki/nodes\n", cl->dir);
	return issue_node_certs(cl, n) && start_agent(cl, n, pid, log, sizeof log) &&
	       wait_nodes(cl, n, *pid, log, timeout_ms);
}
