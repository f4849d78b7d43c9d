/* reconcile.c — reconcile_bench: the StatefulSet controller at scale. 1,000 StatefulSets x 10
 * replicas (Parallel) on 50 simulated nodes: how long creating the sets takes, how long until all
 * 10,000 pods are Ready; then, twice, how long after a SIGKILL of the leader its successor's
 * controller acts; and each replica's RssAnon. The controller's own figures (ctl_controller_stats)
 * are not exposed outside stsd, so its first action is seen from outside: the successor's log and
 * the first controller write on a watch. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "reconcile.h"
#include "util.h"

#define PROG           "reconcile_bench"
#define REPLICAS       10
#define NODES          "50"
#define NODE_PODS      "250" /* the agent's default 110 would seat only 5,500 pods */
#define READY_DEADLINE 600000
/* Sets scaled 10 -> 11 just before the kill: work for the successor. */
#define FAILOVER_SCALED 300
#define TARGET_READY_S  30.0
#define TARGET_ACT_MS   1000.0
#define TARGET_RSS_MIB  200.0
#define SETS_PATH       "/apis/apps/v1/namespaces/default/statefulsets"

static const char usage[] =
    "Usage: reconcile_bench [--ops SETS] [--clients N] [--dir DIR] [--keep]\n"
    "\n"
    "Start a 3-replica stsd cluster with 50 simulated nodes (stsctl dev up --simulated-agents 50,\n"
    "the agent then restarted with --pods " NODE_PODS "), create SETS StatefulSets of 10 replicas\n"
    "(Parallel) with N requests in flight, and report: the creation time, the time until every\n"
    "set reports readyReplicas 10 (pods/s), where the replicas' CPU went (per thread); then two\n"
    "failover rounds: the leader is SIGKILLed (round 0: a replica the simulated nodes do not talk\n"
    "to; round 1: replica 1, the one they all use, made leader first with `stsctl members\n"
    "transfer`), 300 sets having been scaled to 11 just before, and the bench reports when the\n"
    "successor logs leadership, leader_ready and controller event=started, and when its\n"
    "controller's first write (a pod ADDED or a set MODIFIED) arrives on a watch; and each\n"
    "replica's RssAnon. Targets: all Ready < 30 s, successor acting\n"
    "< 1 s, RssAnon < 200 MiB.\n"
    "\n"
    "  --ops SETS    StatefulSets to create (default 1000)\n"
    "  --clients N   creation requests in flight (default 16)\n"
    "  --dir DIR     parent of the temporary cluster directory (default /tmp)\n"
    "  --keep        keep the temporary directory (data and logs) at the end\n"
    "  -h, --help    show this help and exit\n";

struct run {
	struct bench_cluster c;
	pid_t agent;
	long sets;
	int leader;
	int killed;  /* index of the member the last failover killed */
	long scaled; /* sets scaled to REPLICAS + 1 so far */
	char follower_api[64];
};

/* ---- The cluster: stsctl dev up with simulated nodes ------------------------------------------
 */

static const char *sibling(const char *prog)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
	char *slash;

	if (n <= 0)
		return prog;
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, prog);
	return path;
}

/* Run argv to completion with its output in log; its exit status, or -1. */
static int run_wait(char *const argv[], const char *log)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);
		if (f == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void load_member(struct bench_member *m, json_t *o)
{
	m->id = (int)json_integer_value(json_object_get(o, "id"));
	m->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	m->raft_id = (uint64_t)m->id;
	snprintf(m->api, sizeof m->api, "%s", json_string_value(json_object_get(o, "apiAddress")));
	snprintf(m->data_dir, sizeof m->data_dir, "%s",
	         json_string_value(json_object_get(o, "dataDir")));
	snprintf(m->log, sizeof m->log, "%s", json_string_value(json_object_get(o, "log")));
}

static json_t *load_record(struct run *r)
{
	char path[PATH_MAX + 16];
	json_t *doc, *reps;

	snprintf(path, sizeof path, "%s/cluster.json", r->c.dir);
	doc = json_load_file(path, 0, NULL);
	reps = json_object_get(doc, "replicas");
	if (json_array_size(reps) != BENCH_MEMBERS)
		bench_fail("%s: not a 3-replica cluster record", path);
	for (size_t i = 0; i < BENCH_MEMBERS; i++)
		load_member(&r->c.m[i], json_array_get(reps, i));
	bench_tls_set(BENCH_STSD, json_string_value(json_object_get(doc, "caFile")),
	              json_string_value(json_object_get(doc, "adminCertFile")),
	              json_string_value(json_object_get(doc, "adminKeyFile")));
	return doc;
}

/* The agent again, with room for NODE_PODS pods per node; cluster.json gets its pid so that
 * `dev down` (and bench_fail) stop it. */
static void restart_agent(struct run *r, json_t *doc)
{
	json_t *agent = json_array_get(json_object_get(doc, "agents"), 0);
	json_t *args = json_object_get(agent, "args");
	const char *log = json_string_value(json_object_get(agent, "log"));
	char *argv[64], path[PATH_MAX + 16];
	size_t n = json_array_size(args), i;
	pid_t old = (pid_t)json_integer_value(json_object_get(agent, "pid"));

	if (n == 0 || n > 60 || log == NULL)
		bench_fail("cluster.json: no simulated agent recorded");
	kill(old, SIGTERM);
	waitpid(old, NULL, 0); /* ours: we are the subreaper dev up's children fall to */
	for (i = 0; i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(args, i));
	argv[i++] = "--pods";
	argv[i++] = NODE_PODS;
	argv[i] = NULL;
	if ((r->agent = fork()) == 0) {
		if (freopen(log, "a", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		setsid();
		execv(argv[0], argv);
		_exit(127);
	}
	json_object_set_new(agent, "pid", json_integer(r->agent));
	snprintf(path, sizeof path, "%s/cluster.json", r->c.dir);
	if (r->agent < 0 || json_dump_file(doc, path, JSON_INDENT(2)) != 0)
		bench_fail("restarting the agent failed");
}

/* Poll until every node reports allocatable pods NODE_PODS and Ready. */
static void await_nodes(struct run *r)
{
	uint64_t deadline = util_now_mono_ms() + 60000;

	for (;;) {
		json_t *l = rc_get_json(r->c.m[0].api, "/api/v1/nodes", 5000), *n;
		size_t i, good = 0;

		json_array_foreach(json_object_get(l, "items"), i, n)
		{
			const char *pods = json_string_value(json_object_get(
			    json_object_get(json_object_get(n, "status"), "allocatable"), "pods"));
			good += pods != NULL && strcmp(pods, NODE_PODS) == 0;
		}
		json_decref(l);
		if (good == (size_t)atoi(NODES))
			return;
		if (util_now_mono_ms() > deadline)
			bench_fail("only %zu of " NODES " nodes allow " NODE_PODS
			           " pods after 60 s",
			           good);
		bench_poll_sleep(200);
	}
}

static void start_cluster(struct run *r, const char *tmp)
{
	char log[PATH_MAX + 16];
	char *argv[] = {(char *)sibling("stsctl"), "dev", "up",        "--dir", r->c.dir,
	                "--simulated-agents",      NODES, "--timeout", "180",   NULL};
	json_t *doc;
	int leader;

	r->c.sys = BENCH_STSD;
	snprintf(r->c.dir, sizeof r->c.dir, "%s/stsd", tmp);
	snprintf(r->c.helper_log, sizeof r->c.helper_log, "%s/stsctl.log", tmp);
	snprintf(log, sizeof log, "%s/stsctl.log", tmp);
	argv[4] = r->c.dir;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	bench_track_cluster(&r->c, true);
	if (run_wait(argv, log) != 0)
		bench_fail("stsctl dev up --simulated-agents " NODES " failed (see %s)", log);
	doc = load_record(r);
	restart_agent(r, doc);
	json_decref(doc);
	await_nodes(r);
	if (bench_cluster_settle(&r->c, 30000, &leader) != 0)
		bench_fail("the cluster did not settle: %s", r->c.err);
	r->leader = leader;
	snprintf(r->follower_api, sizeof r->follower_api, "%s",
	         r->c.m[(leader + 1) % BENCH_MEMBERS].api);
}

/* ---- Phase 1: creation and readiness ----------------------------------------------------------
 */

static struct rc_req *set_requests(long n)
{
	struct rc_req *q = calloc((size_t)n, sizeof *q);

	for (long i = 0; q != NULL && i < n; i++) {
		char body[1024];
		snprintf(
		    body, sizeof body,
		    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":"
		    "\"s%04ld\"},\"spec\":{\"replicas\":%d,\"serviceName\":\"s%04ld\","
		    "\"podManagementPolicy\":\"Parallel\",\"selector\":{\"matchLabels\":{\"app\":"
		    "\"s%04ld\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"s%04ld\"}},"
		    "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":"
		    "\"registry.example/app:1\"}]}}}}",
		    i, REPLICAS, i, i, i);
		q[i] = (struct rc_req){
		    .method = "POST", .ctype = "application/json", .body = strdup(body)};
		snprintf(q[i].path, sizeof q[i].path, SETS_PATH);
	}
	return q;
}

static void free_requests(struct rc_req *q, long n)
{
	for (long i = 0; q != NULL && i < n; i++)
		free(q[i].body);
	free(q);
}

/* Sum of status.readyReplicas over the sets, and how many sets have all `want` Ready. */
static long ready_pods(const char *api, long *full, int want)
{
	json_t *l = rc_get_json(api, SETS_PATH, 20000), *s;
	long sum = 0;
	size_t i;

	*full = 0;
	if (l == NULL)
		return -1;
	json_array_foreach(json_object_get(l, "items"), i, s)
	{
		json_int_t ready = json_integer_value(
		    json_object_get(json_object_get(s, "status"), "readyReplicas"));
		sum += ready;
		*full += ready == want;
	}
	json_decref(l);
	return sum;
}

static void print_cpu(const struct run *r, const char *when)
{
	printf(PROG ": cpu when=%s", when);
	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (r->c.m[i].pid > 0)
			printf(" replica%d_s=%.1f", r->c.m[i].id, bench_cpu_s(r->c.m[i].pid));
	printf(" agent_s=%.1f\n", bench_cpu_s(r->agent));
}

/* Returns the seconds from the first create until all pods were Ready (-1: deadline). */
static double create_and_wait(struct run *r, long clients)
{
	struct rc_req *q = set_requests(r->sets);
	uint64_t t0 = util_now_mono_ms(), created, next_print = 0;
	long want = r->sets * REPLICAS, sum = 0, full = 0;
	size_t ok;

	if (q == NULL)
		bench_fail("out of memory");
	ok = rc_send_many(r->c.m[r->leader].api, q, (size_t)r->sets, (int)clients);
	created = util_now_mono_ms();
	free_requests(q, r->sets);
	printf(PROG ": created sets=%zu of=%ld creation_s=%.2f sets_per_s=%.1f\n", ok, r->sets,
	       (created - t0) / 1e3, ok / ((created - t0) / 1e3));
	if ((long)ok != r->sets)
		bench_fail("only %zu of %ld StatefulSets were created", ok, r->sets);
	while (util_now_mono_ms() - t0 < READY_DEADLINE) {
		uint64_t now;
		sum = ready_pods(r->follower_api, &full, REPLICAS);
		now = util_now_mono_ms();
		if (sum >= want && full == r->sets)
			break;
		if (now >= next_print) {
			printf(PROG ": progress elapsed_s=%.1f ready_pods=%ld sets_ready=%ld\n",
			       (now - t0) / 1e3, sum, full);
			print_cpu(r, "progress");
			next_print = now + 5000;
		}
		bench_poll_sleep(250);
	}
	if (sum < want || full != r->sets)
		return -1;
	return (util_now_mono_ms() - t0) / 1e3;
}

/* Per replica: connections accepted, answers, forwards, Raft entries and proposals (group commit)
 * and the mean proposal latency: where the requests went and what each one cost. */
static void print_http(const struct run *r, const char *when)
{
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		char *m = r->c.m[i].pid > 0 ? rc_get_text(r->c.m[i].api, "/metrics", 5000) : NULL;
		double n = m ? rc_metric(m, "stsd_proposal_duration_seconds_count") : -1;

		if (m == NULL)
			continue;
		printf(PROG
		       ": http when=%s replica=%d connections=%.0f forwarded=%.0f proposals=%.0f "
		       "raft_entries=%.0f commit_index=%.0f proposal_mean_ms=%.1f\n",
		       when, r->c.m[i].id, rc_metric(m, "stsd_http_connections_total"),
		       rc_metric(m, "stsd_forwarded_requests_total"),
		       rc_metric(m, "stsd_proposals_total"),
		       rc_metric(m, "stsd_proposal_entries_total"),
		       rc_metric(m, "stsd_raft_commit_index"),
		       n > 0 ? 1e3 * rc_metric(m, "stsd_proposal_duration_seconds_sum") / n : -1.0);
		free(m);
	}
}

/* ---- Phase 2: the successor's first controller action -----------------------------------------
 */

/* Milliseconds of the "ts=YYYY-MM-DDTHH:MM:SS.mmmZ" of the first line of log at or after since_ms
 * (unix ms) that contains needle; -1 if none. */
static int64_t log_time(const char *log, const char *needle, int64_t since_ms)
{
	char line[2048];
	FILE *f = fopen(log, "r");
	int64_t found = -1;

	while (f != NULL && found < 0 && fgets(line, sizeof line, f) != NULL) {
		struct tm tm = {0};
		int ms;
		if (strstr(line, needle) == NULL ||
		    sscanf(line, "ts=%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
			continue;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		int64_t t = (int64_t)timegm(&tm) * 1000 + ms;
		if (t >= since_ms)
			found = t;
	}
	if (f != NULL)
		fclose(f);
	return found;
}

static int64_t unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Scale sets [first, first + n) to `to` replicas, n = FAILOVER_SCALED or half the sets; returns n.
 */
static long scale_some(struct run *r, long first, int to)
{
	struct rc_req q[FAILOVER_SCALED];
	char body[64];
	long n = r->sets / 2 < FAILOVER_SCALED ? r->sets / 2 : FAILOVER_SCALED;

	snprintf(body, sizeof body, "{\"spec\":{\"replicas\":%d}}", to);
	for (long i = 0; i < n; i++) {
		q[i] = (struct rc_req){
		    .method = "PATCH", .ctype = "application/merge-patch+json", .body = body};
		snprintf(q[i].path, sizeof q[i].path, SETS_PATH "/s%04ld", first + i);
	}
	if (n > 0 && (long)rc_send_many(r->c.m[r->leader].api, q, (size_t)n, 16) != n)
		bench_fail("scaling %ld sets before the kill failed", n);
	return n > 0 ? n : 0;
}

/* The largest lastIndex of the members still running: whatever the successor writes comes after. */
static uint64_t survivors_last_index(struct run *r)
{
	char path[] = "/debug/raft";
	uint64_t max = 0;

	for (int i = 0; i < BENCH_MEMBERS; i++) {
		json_t *j;
		if (r->c.m[i].pid <= 0 || (j = rc_get_json(r->c.m[i].api, path, 1000)) == NULL)
			continue;
		uint64_t li = (uint64_t)json_integer_value(json_object_get(j, "lastIndex"));
		max = li > max ? li : max;
		json_decref(j);
	}
	return max;
}

/* One line of the survivors' Raft view: "id:role/leader/commit" each. */
static void print_timeline(struct run *r, uint64_t t_kill)
{
	printf(PROG ": timeline t_ms=%.0f", (util_now_mono_ns() - t_kill) / 1e6);
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		json_t *j =
		    r->c.m[i].pid > 0 ? rc_get_json(r->c.m[i].api, "/debug/raft", 500) : NULL;
		if (j == NULL) {
			printf(" %d:-", r->c.m[i].id);
			continue;
		}
		printf(" %d:%s/leader=%lld/commit=%lld", r->c.m[i].id,
		       json_string_value(json_object_get(j, "role")),
		       (long long)json_integer_value(json_object_get(j, "leaderId")),
		       (long long)json_integer_value(json_object_get(j, "commitIndex")));
		json_decref(j);
	}
	putchar('\n');
}

/* The new leader among the survivors (index), or -1. */
static int find_leader(struct run *r)
{
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		struct bench_status bs;
		if (r->c.m[i].pid > 0 && bench_cluster_status(&r->c, i, &bs) == 0 && bs.leader)
			return i;
	}
	return -1;
}

static void print_log_times(const struct run *r, int next, int64_t kill_unix)
{
	const char *log = r->c.m[next].log;
	int64_t gained = log_time(log, "event=leadership_gained", kill_unix);
	int64_t ready = log_time(log, "event=leader_ready", kill_unix);
	int64_t started = log_time(log, "mod=controller event=started", kill_unix);

	printf(PROG ": failover_log leadership_gained_ms=%lld leader_ready_ms=%lld "
	            "controller_started_ms=%lld (the new leader's log, wall clock from the kill)\n",
	       gained >= 0 ? (long long)(gained - kill_unix) : -1LL,
	       ready >= 0 ? (long long)(ready - kill_unix) : -1LL,
	       started >= 0 ? (long long)(started - kill_unix) : -1LL);
}

static double since_ms(uint64_t ns, uint64_t t0)
{
	return ns ? (ns - t0) / 1e6 : -1.0;
}

static void failover(struct run *r, long first_set)
{
	struct rc_watch *pods = calloc(1, sizeof *pods), *sets = calloc(1, sizeof *sets);
	json_t *st = rc_get_json(r->follower_api, "/debug/raft", 2000);
	uint64_t applied = (uint64_t)json_integer_value(json_object_get(st, "appliedIndex"));
	uint64_t t_kill, after, t_leader = 0, next_line = 0;
	int killed = r->killed = r->leader, next = -1;
	int64_t kill_unix;
	double first;

	json_decref(st);
	if (pods == NULL || sets == NULL ||
	    rc_watch_start(pods, r->follower_api, "/api/v1/namespaces/default/pods?watch=true",
	                   applied, "ADDED") != 0 ||
	    rc_watch_start(sets, r->follower_api, SETS_PATH "?watch=true", applied, "MODIFIED") !=
	        0)
		bench_fail("cannot start the watches");
	bench_poll_sleep(300); /* the watches are open */
	r->scaled += scale_some(r, first_set, REPLICAS + 1);
	kill_unix = unix_ms();
	t_kill = util_now_mono_ns();
	if (bench_cluster_kill(&r->c, killed) != 0)
		bench_fail("%s", r->c.err);
	after = survivors_last_index(r);
	pods->after = sets->after = after;
	while (util_now_mono_ns() - t_kill < 90000000000ULL &&
	       (t_leader == 0 || (pods->hit_ns == 0 && sets->hit_ns == 0))) {
		if (t_leader == 0 && (next = find_leader(r)) >= 0)
			t_leader = util_now_mono_ns();
		if (util_now_mono_ns() >= next_line) {
			print_timeline(r, t_kill);
			next_line = util_now_mono_ns() +
			            (util_now_mono_ns() - t_kill < 5000000000ULL ? 500000000ULL
			                                                         : 2000000000ULL);
		}
		bench_poll_sleep(5);
	}
	print_timeline(r, t_kill);
	if (next >= 0)
		print_log_times(r, next, kill_unix);
	printf(PROG ": failover killed=%d new_leader=%d after_index=%llu leader_seen_ms=%.0f "
	            "first_pod_added_ms=%.0f (rv %llu) first_set_write_ms=%.0f (rv %llu) "
	            "watch_reconnects=%u+%u\n",
	       r->c.m[killed].id, next >= 0 ? r->c.m[next].id : -1, (unsigned long long)after,
	       since_ms(t_leader, t_kill), since_ms(pods->hit_ns, t_kill),
	       (unsigned long long)pods->hit_rv, since_ms(sets->hit_ns, t_kill),
	       (unsigned long long)sets->hit_rv, pods->reconnects, sets->reconnects);
	first = since_ms(pods->hit_ns, t_kill);
	if (sets->hit_ns && (first < 0 || since_ms(sets->hit_ns, t_kill) < first))
		first = since_ms(sets->hit_ns, t_kill);
	printf(PROG ": target figure=successor_first_action_ms value=%.0f target=<%.0f result=%s\n",
	       first, TARGET_ACT_MS, bench_verdict(first >= 0 && first < TARGET_ACT_MS));
	rc_watch_stop(pods);
	rc_watch_stop(sets);
	free(pods);
	free(sets);
	r->leader = next;
	/* keep polling the surviving follower: lists of 1,000 sets would load the new leader */
	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (i != next && r->c.m[i].pid > 0)
			snprintf(r->follower_api, sizeof r->follower_api, "%s", r->c.m[i].api);
}

/* Make member id lead (only_if_1: only when member 1 leads now), then settle. */
static void lead_on(struct run *r, int id, bool only_if_1)
{
	char dir_log[PATH_MAX + 32], ids[16];
	char *argv[] = {
	    (char *)sibling("stsctl"), "members", "transfer", "--dir", r->c.dir, "--id", ids, NULL};
	int leader;

	if (bench_cluster_settle(&r->c, 60000, &leader) != 0)
		bench_fail("the cluster did not settle: %s", r->c.err);
	if (!only_if_1 || r->c.m[leader].id == 1) {
		snprintf(ids, sizeof ids, "%d", id);
		snprintf(dir_log, sizeof dir_log, "%s", r->c.helper_log);
		if (r->c.m[leader].id != id && run_wait(argv, dir_log) != 0)
			bench_fail("stsctl members transfer --id %d failed (see %s)", id, dir_log);
		if (bench_cluster_settle(&r->c, 60000, &leader) != 0)
			bench_fail("the cluster did not settle: %s", r->c.err);
	}
	r->leader = leader;
	/* watch and poll on a follower */
	snprintf(r->follower_api, sizeof r->follower_api, "%s",
	         r->c.m[(leader + 1) % BENCH_MEMBERS].api);
	printf(PROG ": leader replica=%d\n", r->c.m[leader].id);
}

/* Wait until every set scaled so far reports its new pod Ready. */
static void await_scaled(struct run *r)
{
	uint64_t t = util_now_mono_ms();
	long want = r->sets * REPLICAS + r->scaled, full;

	while (ready_pods(r->follower_api, &full, REPLICAS) < want &&
	       util_now_mono_ms() - t < 120000)
		bench_poll_sleep(250);
	printf(PROG ": after_failover scaled_sets_ready_s=%.2f\n", (util_now_mono_ms() - t) / 1e3);
}

/* ---- Main -------------------------------------------------------------------------------------
 */

static bool print_rss(const struct run *r, const char *when)
{
	bool ok = true;

	for (int i = 0; i < BENCH_MEMBERS; i++) {
		long kib = r->c.m[i].pid > 0 ? rc_rss_anon_kib(r->c.m[i].pid) : -1;
		if (kib < 0)
			continue;
		printf(PROG ": rss when=%s replica=%d rss_anon_mib=%.1f\n", when, r->c.m[i].id,
		       kib / 1024.0);
		ok &= kib / 1024.0 < TARGET_RSS_MIB;
	}
	printf(PROG ": rss when=%s agent rss_anon_mib=%.1f\n", when,
	       rc_rss_anon_kib(r->agent) / 1024.0);
	return ok;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct bench_opts o;
	uint64_t t0 = util_now_mono_ms();
	const char *tmp;
	double ready_s;
	bool rss_ok;

	bench_init(PROG);
	bench_parse_opts(argc, argv, BENCH_OPT_OPS | BENCH_OPT_CLIENTS, usage, &o);
	r.sets = o.given & BENCH_OPT_OPS ? o.ops : 1000;
	tmp = bench_tmp_make(o.dir, o.keep);
	bench_print_machine(o.dir);
	printf(PROG ": config sets=%ld replicas=%d nodes=" NODES " node_pods=" NODE_PODS
	            " clients=%ld\n",
	       r.sets, REPLICAS, o.given & BENCH_OPT_CLIENTS ? o.clients : 16);
	start_cluster(&r, tmp);
	bench_print_load("before");
	print_cpu(&r, "before");
	ready_s = create_and_wait(&r, o.given & BENCH_OPT_CLIENTS ? o.clients : 16);
	print_cpu(&r, "ready");
	for (int i = 0; i < BENCH_MEMBERS; i++)
		rc_print_threads(PROG, r.c.m[i].id, r.c.m[i].pid, 6);
	rc_print_threads(PROG, 0, r.agent, 3);
	bench_print_load("ready");
	printf(PROG ": ready pods=%ld ready_s=%.2f pods_per_s=%.0f\n", r.sets * REPLICAS, ready_s,
	       ready_s > 0 ? r.sets * REPLICAS / ready_s : 0.0);
	printf(PROG ": target figure=all_ready_s value=%.2f target=<%.0f result=%s\n", ready_s,
	       TARGET_READY_S, bench_verdict(ready_s > 0 && ready_s < TARGET_READY_S));
	print_http(&r, "ready");
	rss_ok = print_rss(&r, "ready");
	/* Round 0 kills a leader the simulated nodes do not talk to; round 1 the one they all use
	 * (replica 1, the first of their --server list), whose clients then move at once. */
	for (int round = 0; round < 2; round++) {
		printf(PROG ": failover_round=%d kill=%s\n", round,
		       round ? "the replica the nodes use" : "a replica the nodes do not use");
		lead_on(&r, round ? 1 : 2, round == 0);
		failover(&r, round * (r.sets / 2 < FAILOVER_SCALED ? r.sets / 2 : FAILOVER_SCALED));
		await_scaled(&r);
		rss_ok &= print_rss(&r, round ? "end" : "after_round0");
		if (round == 0 && bench_cluster_restart(&r.c, r.killed) != 0)
			bench_fail("restart member %d: %s", r.c.m[r.killed].id, r.c.err);
	}
	printf(PROG ": target figure=rss_anon_mib target=<%.0f result=%s\n", TARGET_RSS_MIB,
	       bench_verdict(rss_ok));
	bench_cluster_stop(&r.c);
	bench_finish();
	printf(PROG ": done elapsed_s=%.1f status=%s\n", (util_now_mono_ms() - t0) / 1e3,
	       ready_s > 0 ? "ok" : "broken");
	return ready_s > 0 ? 0 : 1;
}
