/* dev_wait.c — waiting for dev replicas to be ready: /readyz polled (https with the cluster's CA)
 * with a deadline, the leader announced from /debug/raft, an exited replica or a timeout reported
 * with the end of its log. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "dev.h"
#include "errors.h"
#include "util.h"

#define POLL_INTERVAL_MS 100
#define LOG_TAIL_LINES   20

/* What we know of one replica while waiting. */
struct probe {
	struct client *c; /* one attempt per call, short timeouts */
	bool waiting;     /* part of this wait */
	bool ready;
	char last[256]; /* the last /readyz outcome, for the failure report */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

void dev_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool dev_interrupted(void)
{
	return interrupted != 0;
}

static bool open_probes(const struct dev_cluster *cl, const bool *want, struct probe *p)
{
	struct client_options o = {
	    .timeout_ms = 1000, .connect_timeout_ms = 500, .deadline_ms = 1000, .max_attempts = 1};
	char url[128], err[256];

	/* /readyz is anonymous; /debug/raft (the leader) needs the admin certificate. */
	dev_cluster_client_options(cl, &o);
	for (size_t i = 0; i < cl->n; i++) {
		const char *urls[] = {url};

		dev_cluster_url(cl, cl->replicas[i].api_address, url, sizeof url);
		p[i].waiting = want[i];
		snprintf(p[i].last, sizeof p[i].last, "no answer yet");
		if (client_create(urls, 1, &o, &p[i].c, err, sizeof err) != STSD_OK) {
			fprintf(stderr, "stsctl dev: %s\n", err);
			return false;
		}
	}
	return true;
}

static void close_probes(const struct dev_cluster *cl, struct probe *p)
{
	for (size_t i = 0; i < cl->n; i++)
		client_destroy(p[i].c);
}

/* A replica of ours that exited while we wait: report it with its log. */
static bool check_exits(const struct dev_cluster *cl, const struct probe *p)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct dev_replica *r = &cl->replicas[i];
		int st;

		if (!p[i].waiting || !dev_exited(r->pid, &st))
			continue;
		if (WIFSIGNALED(st))
			fprintf(stderr,
			        "replica %d (pid %d) was killed by signal %d before it was "
			        "ready\n",
			        r->id, (int)r->pid, WTERMSIG(st));
		else
			fprintf(stderr,
			        "replica %d (pid %d) exited with status %d before it was ready\n",
			        r->id, (int)r->pid, WEXITSTATUS(st));
		dev_log_tail(r->log, LOG_TAIL_LINES, stderr);
		return true;
	}
	return false;
}

static void probe_ready(const struct dev_cluster *cl, struct probe *p)
{
	struct client_response resp = {0};

	for (size_t i = 0; i < cl->n; i++) {
		if (!p[i].waiting || p[i].ready)
			continue;
		if (client_request(p[i].c, "GET", "/readyz", NULL, 0, NULL, &resp) != STSD_OK) {
			snprintf(p[i].last, sizeof p[i].last, "%s", client_errmsg(p[i].c));
			continue;
		}
		snprintf(p[i].last, sizeof p[i].last, "GET /readyz: %ld %.*s", resp.status,
		         (int)strcspn(resp.body, "\r\n"), resp.body);
		if (resp.status == 200) {
			p[i].ready = true;
			printf("replica %d ready\n", cl->replicas[i].id);
		}
		client_response_free(&resp);
	}
}

/* Whether some replica reports itself leader on /debug/raft; announces it. */
static bool find_leader(const struct dev_cluster *cl, struct probe *p)
{
	for (size_t i = 0; i < cl->n; i++) {
		json_t *j = NULL;
		const char *role;

		if (client_get_json(p[i].c, "/debug/raft", &j) != STSD_OK)
			continue;
		role = json_string_value(json_object_get(j, "role"));
		if (role != NULL && strcmp(role, "leader") == 0) {
			printf("leader elected: replica %d (term %lld)\n", cl->replicas[i].id,
			       (long long)json_integer_value(json_object_get(j, "term")));
			json_decref(j);
			return true;
		}
		json_decref(j);
	}
	return false;
}

static bool all_ready(const struct dev_cluster *cl, const struct probe *p)
{
	for (size_t i = 0; i < cl->n; i++)
		if (p[i].waiting && !p[i].ready)
			return false;
	return true;
}

static void report_not_ready(const struct dev_cluster *cl, const struct probe *p, long timeout_ms)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct dev_replica *r = &cl->replicas[i];

		if (!p[i].waiting || p[i].ready)
			continue;
		fprintf(stderr, "replica %d (pid %d, api %s) is not ready after %.1f s; last: %s\n",
		        r->id, (int)r->pid, r->api_address, timeout_ms / 1000.0, p[i].last);
		dev_log_tail(r->log, LOG_TAIL_LINES, stderr);
	}
}

/* One round of the wait: 1 done, -1 failed (reported), 0 keep going. */
static int round_once(const struct dev_cluster *cl, struct probe *p, bool *leader)
{
	if (dev_interrupted()) {
		fprintf(stderr, "stsctl dev: interrupted\n");
		return -1;
	}
	if (check_exits(cl, p))
		return -1;
	if (!*leader)
		*leader = find_leader(cl, p);
	probe_ready(cl, p);
	return all_ready(cl, p) ? 1 : 0;
}

bool dev_wait_ready(const struct dev_cluster *cl, const bool *want, long timeout_ms,
                    bool announce_leader)
{
	struct probe p[DEV_MAX_REPLICAS] = {{0}};
	uint64_t deadline = util_now_mono_ms() + (uint64_t)timeout_ms;
	bool leader = !announce_leader;
	int done = 0;

	if (cl->n > DEV_MAX_REPLICAS)
		return false;
	if (!open_probes(cl, want, p)) {
		close_probes(cl, p);
		return false;
	}
	if (announce_leader)
		printf("waiting for a leader ...\n");
	while ((done = round_once(cl, p, &leader)) == 0) {
		if (util_now_mono_ms() >= deadline) {
			report_not_ready(cl, p, timeout_ms);
			done = -1;
			break;
		}
		dev_nap(POLL_INTERVAL_MS);
	}
	close_probes(cl, p);
	return done == 1;
}
