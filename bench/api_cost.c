/* api_cost.c — api_cost_bench: what serving the API costs on a 3-member cluster of stsd, against
 * etcd in the same run: loading 10,000 pods, listing them (whole, by label, in pages, as a Table,
 * from a follower), and creating objects with 100 watches open against none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_cost.h"
#include "util.h"

#define PROG             COST_PROG
#define LOAD_INFLIGHT    32
#define LIST_REPS        20
#define WRITERS          32
#define WARMUP_MS        1000 /* of each throughput figure, not counted */
#define SETTLE_TIMEOUT   60000
#define OPEN_TIMEOUT_MS  300000 /* for the watches to open and send their initial events */
#define DRAIN_TIMEOUT_MS 60000  /* for the watches to deliver every write after the last one */
#define POLL_MS          50
#define TARGET_TPUT      0.9 /* writes/s with the watches open over without, at least */

static const char usage[] =
    "Usage: api_cost_bench [--pods N] [--watches N] [--duration S] [--system stsd|etcd|both]\n"
    "                      [--dir DIR] [--keep]\n"
    "\n"
    "Start a 3-member cluster of stsd (stsctl dev up, stsctl beside this binary) and of etcd\n"
    "(etcd from PATH, its default timers), one after the other, and measure over HTTP/1.1 + JSON:\n"
    "\n"
    "  load        N pods of ~1.5 KB (labels app=bench-0..9, half bound to a node) created by 32\n"
    "              concurrent requests to the leader; etcd: puts of the same JSON under\n"
    "              /registry/pods/default/: pods per second\n"
    "  lists       20 reads each of all pods from the leader as JSON, with labelSelector=\n"
    "              app=bench-3, in pages of 500, as a Table, and from a follower with\n"
    "              resourceVersion=0; etcd: a range over the keys from the leader, and a\n"
    "              serializable one from a follower: median and p99 ms, answer bytes, and the\n"
    "              serving process's peak memory growth (/proc/PID/status VmHWM, reset first)\n"
    "  watches     32 clients creating ConfigMaps on the leader (etcd: puts) for S seconds after\n"
    "              a 1 s warm-up with no watch open, then the same with N watches open over the\n"
    "              3 members (half on those ConfigMaps from resourceVersion=0, half on pods with\n"
    "              fieldSelector=spec.nodeName=...; etcd: on the key prefixes): writes per second\n"
    "              both ways, and whether every watch received every write\n"
    "\n"
    "Prints one line per figure, the stsd/etcd ratios, and PASS/MISS against the targets (with\n"
    "the watches open at least 0.9 of the writes per second without, every event delivered; a\n"
    "plain list's peak memory growth below what a tree of the whole answer takes). A missed\n"
    "target does not change the exit status; a failed request or a wrong answer does (exit 1).\n"
    "\n"
    "  --pods N       pods to load and list, 1..1000000 (default 10000)\n"
    "  --watches N    watches to open, 0..1000 (default 100)\n"
    "  --duration S   seconds of each throughput figure, 1..3600 (default 10)\n"
    "  --system S     stsd, etcd or both (default both)\n"
    "  --dir DIR      parent of the temporary cluster directories (default /tmp), removed at the\n"
    "                 end, also on failure\n"
    "  --keep         keep the temporary directory (data and logs) at the end\n"
    "  -h, --help     show this help and exit\n";

struct cost_opts {
	struct bench_opts b;
	long pods, watches;
};

enum { TPUT_UNWATCHED, TPUT_WATCHED, TPUTS };

/* What the watches received during the watched throughput figure. */
struct watch_sum {
	bool ran;
	long n, open, server_open, complete, ended, errors;
	long long expected, delivered;       /* writes' events, over the ConfigMap watches */
	long long initial_expected, initial; /* rv=0's synthetic ADDED, over the pod watches */
	double open_ms, drain_ms, cpu_s;     /* open: until every watch has its initial events */
	long open_elections;
	size_t bytes;
};

struct result {
	bool ran, broken;
	int leader, follower;
	struct cost_writes load;
	struct cost_list_fig lists[COST_LISTS];
	struct cost_writes tput[TPUTS];
	struct watch_sum w;
};

/* --- options --- */

static long parse_count(const char *name, const char *v, long min, long max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (end == v || *end != '\0' || n < min || n > max) {
		fprintf(stderr, PROG ": %s must be an integer in %ld..%ld, not '%s'\n", name, min,
		        max, v);
		exit(2);
	}
	return n;
}

/* --pods and --watches are this benchmark's own; the rest goes to bench_parse_opts. */
static void parse_opts(int argc, char **argv, struct cost_opts *o)
{
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int n = 0;

	if (rest == NULL)
		bench_fail("out of memory");
	o->pods = 10000;
	o->watches = 100;
	rest[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool pods = strcmp(a, "--pods") == 0, watches = strcmp(a, "--watches") == 0;
		bool valued = strcmp(a, "--dir") == 0 || strcmp(a, "--system") == 0 ||
		              strcmp(a, "--duration") == 0;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if ((pods || watches) && i + 1 >= argc) {
			fprintf(stderr, PROG ": missing value after '%s' (try --help)\n", a);
			exit(2);
		}
		if (pods)
			o->pods = parse_count(a, argv[++i], 1, 1000000);
		else if (watches)
			o->watches = parse_count(a, argv[++i], 0, 1000);
		else
			rest[n++] = argv[i];
		if (valued && i + 1 < argc) /* its value is never one of ours */
			rest[n++] = argv[++i];
	}
	bench_parse_opts(n, rest, BENCH_OPT_DURATION, usage, &o->b);
	free(rest);
}

/* --- the phases --- */

/* The highest term any member reports (0 if none answers): elections between two readings. */
static uint64_t cluster_term(struct bench_cluster *c)
{
	struct bench_status st;
	uint64_t term = 0;

	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (bench_cluster_status(c, i, &st) == 0 && st.term > term)
			term = st.term;
	return term;
}

/* Wait for a settled cluster and note its leader (a figure may have cost it an election). */
static bool settle(struct bench_cluster *c, struct result *res)
{
	if (bench_cluster_settle(c, SETTLE_TIMEOUT, &res->leader) != 0) {
		fprintf(stderr, PROG ": error: %s\n", c->err);
		res->broken = true;
		return false;
	}
	res->follower = (res->leader + 1) % BENCH_MEMBERS;
	return true;
}

static bool make_namespaces(struct bench_cluster *c, int leader)
{
	static const char *const names[] = {COST_NS_PLAIN, COST_NS_WATCH};
	char url[128], body[256];
	long status;

	snprintf(url, sizeof url, BENCH_SCHEME "%s/api/v1/namespaces", c->m[leader].api);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(
		    body, sizeof body,
		    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}",
		    names[i]);
		if ((status = cost_post(c->h, url, body)) != 201) {
			fprintf(stderr, PROG ": error: create namespace %s: status %ld\n", names[i],
			        status);
			return false;
		}
	}
	return true;
}

static void load(struct bench_cluster *c, const struct cost_opts *o, struct result *res)
{
	char pod[COST_BODY_MAX];
	struct cost_writes *l = &res->load;

	cost_load(c->sys, c->m[res->leader].api, o->pods, LOAD_INFLIGHT, l);
	printf(PROG ": load system=%s objects=%zu inflight=%d pod_bytes=%zu elapsed_s=%.2f "
	            "per_s=%.0f errors=%zu",
	       bench_system_name(c->sys), l->ok, LOAD_INFLIGHT, cost_pod_json(1, pod, sizeof pod),
	       l->elapsed_s, l->per_s, l->failed);
	if (l->lat.n > 0)
		printf(" median_ms=%.2f p99_ms=%.2f", l->lat.median, l->lat.p99);
	if (l->first_error[0] != '\0')
		printf(" first_error=\"%s\"", l->first_error);
	printf("\n");
	res->broken |= l->failed > 0 || l->ok != (size_t)o->pods;
}

static void lists(struct bench_cluster *c, const struct cost_opts *o, struct result *res)
{
	for (int k = 0; k < COST_LISTS; k++) {
		int member;
		uint64_t term;
		if (!cost_list_applies(c->sys, (enum cost_list_id)k) || !settle(c, res))
			continue;
		member = k == LIST_FOLLOWER ? res->follower : res->leader;
		term = cluster_term(c);
		cost_list_figure(c, member, (enum cost_list_id)k, o->pods, LIST_REPS,
		                 &res->lists[k]);
		res->lists[k].elections = (long)(cluster_term(c) - term);
		cost_list_print(c->sys, (enum cost_list_id)k, member, &res->lists[k]);
		res->broken |= res->lists[k].errors > 0;
	}
}

/* CPU used by every member so far; [BENCH_MEMBERS] is their sum. */
static void members_cpu(const struct bench_cluster *c, double cpu[BENCH_MEMBERS + 1])
{
	cpu[BENCH_MEMBERS] = 0;
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		cpu[i] = c->m[i].pid > 0 ? bench_cpu_s(c->m[i].pid) : 0;
		cpu[BENCH_MEMBERS] += cpu[i];
	}
}

/* A throughput figure on the leader, with the elections and the members' CPU it went with. */
static void throughput(struct bench_cluster *c, struct result *res, const char *ns,
                       const struct cost_opts *o, struct cost_writes *t)
{
	double before[BENCH_MEMBERS + 1], after[BENCH_MEMBERS + 1];
	uint64_t term = cluster_term(c);

	members_cpu(c, before);
	cost_throughput(c->sys, c->m[res->leader].api, ns, WRITERS, WARMUP_MS, o->b.duration_s, t);
	members_cpu(c, after);
	t->elections = (long)(cluster_term(c) - term);
	t->cpu_s = after[BENCH_MEMBERS] - before[BENCH_MEMBERS];
	t->leader_cpu_s = after[res->leader] - before[res->leader];
}

static void print_tput(enum bench_system sys, long watches, const struct cost_opts *o,
                       const struct cost_writes *t)
{
	printf(PROG ": throughput system=%s watches=%ld clients=%d duration_s=%ld ops=%zu "
	            "ops_per_s=%.0f acked_total=%zu errors=%zu elections=%ld",
	       bench_system_name(sys), watches, WRITERS, o->b.duration_s, t->ok_window, t->per_s,
	       t->ok, t->failed, t->elections);
	/* per acknowledged write, warm-up and tail included, as the CPU readings are */
	if (t->ok > 0)
		printf(" members_cpu_s=%.2f leader_cpu_s=%.2f members_cpu_us_per_write=%.0f "
		       "leader_cpu_us_per_write=%.0f",
		       t->cpu_s, t->leader_cpu_s, t->cpu_s * 1e6 / (double)t->ok,
		       t->leader_cpu_s * 1e6 / (double)t->ok);
	if (t->lat.n > 0)
		printf(" median_ms=%.2f p99_ms=%.2f max_ms=%.2f", t->lat.median, t->lat.p99,
		       t->lat.max);
	if (t->first_error[0] != '\0')
		printf(" first_error=\"%s\"", t->first_error);
	printf("\n");
}

/* Watch i: every third on each member; even ones on the watched ConfigMaps, odd ones on pods. */
static void watch_target(const struct bench_cluster *c, long pods, size_t i, struct cost_watch *w)
{
	const char *api = c->m[i % BENCH_MEMBERS].api;
	char key[96], end[96], bkey[160], bend[160];
	long node = (long)(i / 2) % COST_NODES;

	w->member = (int)(i % BENCH_MEMBERS);
	w->on_pods = i % 2 == 1;
	if (c->sys == BENCH_STSD) {
		if (w->on_pods)
			snprintf(w->url, sizeof w->url,
			         BENCH_SCHEME
			         "%s/api/v1/namespaces/default/pods?watch=true&resourceVersion=0&"
			         "fieldSelector=spec.nodeName%%3Dnode-%02ld",
			         api, node);
		else
			snprintf(w->url, sizeof w->url,
			         BENCH_SCHEME "%s/api/v1/namespaces/" COST_NS_WATCH
			                      "/configmaps?watch=true&resourceVersion=0",
			         api);
		w->initial = w->on_pods ? cost_pods_on_node(pods, node) : 0;
		return;
	}
	/* etcd sends no initial state without a start revision: both kinds start empty */
	snprintf(key, sizeof key, "%s",
	         w->on_pods ? "/registry/pods/default/" : "/bench/" COST_NS_WATCH "/");
	snprintf(end, sizeof end, "%s", key);
	end[strlen(end) - 1]++;
	bench_b64(key, strlen(key), bkey);
	bench_b64(end, strlen(end), bend);
	snprintf(w->url, sizeof w->url, BENCH_SCHEME "%s/v3/watch", api);
	snprintf(w->post, sizeof w->post,
	         "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}", bkey, bend);
	w->initial = 0;
}

/* Whether every watch is open and has its initial events (stsd: and every member counts them). */
static bool all_open(struct bench_cluster *c, struct cost_watch *w, size_t n, struct watch_sum *s)
{
	s->open = 0;
	for (size_t i = 0; i < n; i++)
		s->open += atomic_load(&w[i].status) == 200 && !atomic_load(&w[i].ended) &&
		           atomic_load(&w[i].events) >= w[i].initial;
	s->server_open = -1;
	if (c->sys == BENCH_STSD) {
		s->server_open = 0;
		for (int m = 0; m < BENCH_MEMBERS; m++)
			s->server_open += cost_metric(c->h, c->m[m].api, "stsd_api_watches");
	}
	return s->open == (long)n && (c->sys != BENCH_STSD || s->server_open == (long)n);
}

static bool wait_open(struct bench_cluster *c, struct cost_watch *w, size_t n, struct watch_sum *s)
{
	uint64_t deadline = util_now_mono_ms() + OPEN_TIMEOUT_MS;

	while (!all_open(c, w, n, s)) {
		if (util_now_mono_ms() > deadline)
			return false;
		bench_poll_sleep(POLL_MS);
	}
	return true;
}

/* What watch i should have received once every acknowledged write reached it. */
static long long due(const struct cost_watch *w, size_t acked)
{
	return w->initial + (w->on_pods ? 0 : (long long)acked);
}

/* Wait until every ConfigMap watch has an event per acknowledged write (or the deadline). */
static void wait_delivered(struct cost_watch *w, size_t n, size_t acked, struct watch_sum *s)
{
	uint64_t t0 = util_now_mono_ns(), deadline = util_now_mono_ms() + DRAIN_TIMEOUT_MS;
	bool done = false;

	while (!done && util_now_mono_ms() <= deadline) {
		done = true;
		for (size_t i = 0; i < n && done; i++)
			done = atomic_load(&w[i].events) >= due(&w[i], acked) ||
			       atomic_load(&w[i].ended);
		if (!done)
			bench_poll_sleep(1);
	}
	s->drain_ms = (double)(util_now_mono_ns() - t0) / 1e6;
}

static void sum_watches(const struct cost_watch *w, size_t n, size_t acked, struct watch_sum *s)
{
	for (size_t i = 0; i < n; i++) {
		long ev = atomic_load(&w[i].events);
		bool ended = atomic_load(&w[i].ended);
		s->ended += ended;
		s->errors += atomic_load(&w[i].errors);
		s->bytes += atomic_load(&w[i].bytes);
		s->complete += !ended && atomic_load(&w[i].errors) == 0 && ev == due(&w[i], acked);
		if (w[i].on_pods) {
			s->initial_expected += w[i].initial;
			s->initial += ev;
		} else {
			s->expected += (long long)acked;
			s->delivered += ev - w[i].initial;
		}
	}
}

static void print_watches(enum bench_system sys, const struct watch_sum *s)
{
	printf(PROG ": watches system=%s watches=%ld open=%ld server_open=%ld complete=%ld "
	            "ended=%ld errors=%ld delivered=%lld expected=%lld pod_initial=%lld "
	            "pod_initial_expected=%lld open_ms=%.0f open_elections=%ld drain_ms=%.0f "
	            "stream_mib=%.1f client_cpu_s=%.2f\n",
	       bench_system_name(sys), s->n, s->open, s->server_open, s->complete, s->ended,
	       s->errors, s->delivered, s->expected, s->initial, s->initial_expected, s->open_ms,
	       s->open_elections, s->drain_ms, (double)s->bytes / 1048576.0, s->cpu_s);
}

static void watched(struct bench_cluster *c, const struct cost_opts *o, struct result *res)
{
	size_t n = (size_t)o->watches;
	struct cost_watch *w = calloc(n ? n : 1, sizeof *w);
	struct watch_sum *s = &res->w;
	struct cost_watches *ws;
	uint64_t term, t0;

	if (w == NULL)
		bench_fail("out of memory for %zu watches", n);
	*s = (struct watch_sum){.ran = true, .n = o->watches};
	for (size_t i = 0; i < n; i++)
		watch_target(c, o->pods, i, &w[i]);
	term = cluster_term(c);
	t0 = util_now_mono_ns();
	if ((ws = cost_watches_start(c->sys, w, n)) == NULL)
		bench_fail("cannot start the watch thread");
	if (!wait_open(c, w, n, s)) {
		fprintf(stderr,
		        PROG ": error: %ld of %zu watches open (server says %ld) after %d ms\n",
		        s->open, n, s->server_open, OPEN_TIMEOUT_MS);
		res->broken = true;
	}
	s->open_ms = (double)(util_now_mono_ns() - t0) / 1e6;
	s->open_elections = (long)(cluster_term(c) - term);
	/* opening them may have cost an election: write to whoever leads now */
	if (!settle(c, res))
		bench_fail("no leader after the watches opened");
	throughput(c, res, COST_NS_WATCH, o, &res->tput[TPUT_WATCHED]);
	print_tput(c->sys, o->watches, o, &res->tput[TPUT_WATCHED]);
	wait_delivered(w, n, res->tput[TPUT_WATCHED].ok, s);
	cost_watches_stop(ws, &s->cpu_s);
	sum_watches(w, n, res->tput[TPUT_WATCHED].ok, s);
	print_watches(c->sys, s);
	res->broken |= s->complete != s->n && res->tput[TPUT_WATCHED].failed == 0;
	free(w);
}

static void throughputs(struct bench_cluster *c, const struct cost_opts *o, struct result *res)
{
	if (!settle(c, res))
		return;
	throughput(c, res, COST_NS_PLAIN, o, &res->tput[TPUT_UNWATCHED]);
	print_tput(c->sys, 0, o, &res->tput[TPUT_UNWATCHED]);
	if (!settle(c, res))
		return;
	watched(c, o, res);
	for (int k = 0; k < TPUTS; k++)
		res->broken |= res->tput[k].ok_window == 0 || res->tput[k].failed > 0;
}

static void measure(struct bench_cluster *c, const struct cost_opts *o, struct result *res)
{
	if (!settle(c, res))
		return;
	if (c->sys == BENCH_STSD && !make_namespaces(c, res->leader)) {
		res->broken = true;
		return;
	}
	bench_print_load("start");
	load(c, o, res);
	/* a settled cluster: the follower holds every pod before it is listed */
	if (!settle(c, res))
		return;
	lists(c, o, res);
	bench_print_load("lists_done");
	throughputs(c, o, res);
	bench_print_load("end");
	res->broken |= !bench_check_state(c);
}

struct run {
	const struct cost_opts *o;
	struct result *res;
};

static void run_measure(struct bench_cluster *c, void *ud)
{
	struct run *r = ud;

	measure(c, r->o, r->res);
}

static void run_system(enum bench_system sys, const char *tmp, const struct cost_opts *o,
                       struct result *res)
{
	struct run r = {o, res};

	res->ran = true;
	bench_with_cluster(sys, tmp, run_measure, &r, &res->broken);
}

/* --- verdicts --- */

static void print_ratios(const struct result *s, const struct result *e)
{
	static const int cmp[] = {LIST_PLAIN, LIST_FOLLOWER};

	for (size_t k = 0; k < sizeof cmp / sizeof cmp[0]; k++) {
		const struct cost_list_fig *a = &s->lists[cmp[k]], *b = &e->lists[cmp[k]];
		if (a->lat.n == 0 || b->lat.n == 0)
			continue;
		printf(PROG ": ratio figure=%s median_stsd_over_etcd=%.3f p99_stsd_over_etcd=%.3f "
		            "bytes_stsd_over_etcd=%.3f\n",
		       cost_list_names[cmp[k]], a->lat.median / b->lat.median,
		       a->lat.p99 / b->lat.p99, (double)a->bytes / (double)b->bytes);
	}
	if (s->load.ok > 0 && e->load.ok > 0)
		printf(PROG ": ratio figure=load per_s_stsd_over_etcd=%.3f\n",
		       s->load.per_s / e->load.per_s);
	for (int k = 0; k < TPUTS; k++)
		if (s->tput[k].ok_window > 0 && e->tput[k].ok_window > 0)
			printf(PROG ": ratio figure=throughput_%s ops_per_s_stsd_over_etcd=%.3f\n",
			       k == TPUT_WATCHED ? "watched" : "unwatched",
			       s->tput[k].per_s / e->tput[k].per_s);
}

static void print_targets(enum bench_system sys, const struct result *r, long watches)
{
	const struct cost_list_fig *p = &r->lists[LIST_PLAIN];
	const struct cost_writes *t = r->tput;
	long growth = p->after.hwm_kb - (p->peak_reset ? p->before.rss_kb : p->before.hwm_kb);
	bool all = r->w.ran && r->w.complete == r->w.n;
	double ratio;

	if (t[TPUT_UNWATCHED].per_s > 0 && r->w.ran) {
		ratio = t[TPUT_WATCHED].per_s / t[TPUT_UNWATCHED].per_s;
		/* the target is stsd's; etcd's figure is there to compare with */
		printf(PROG ": %s system=%s figure=throughput_watched watches=%ld "
		            "ops_per_s_watched_over_unwatched=%.3f delivered=%s",
		       sys == BENCH_STSD ? "target" : "ratio", bench_system_name(sys), watches,
		       ratio, all ? "all" : "partial");
		/* what the watches cost the servers per write, whatever the client's share of CPU
		 */
		if (t[TPUT_WATCHED].ok > 0 && t[TPUT_UNWATCHED].ok > 0 &&
		    t[TPUT_UNWATCHED].cpu_s > 0)
			printf(" members_cpu_per_write_watched_over_unwatched=%.3f",
			       (t[TPUT_WATCHED].cpu_s / (double)t[TPUT_WATCHED].ok) /
			           (t[TPUT_UNWATCHED].cpu_s / (double)t[TPUT_UNWATCHED].ok));
		if (sys == BENCH_STSD)
			printf(" target=>=%.1f result=%s", TARGET_TPUT,
			       bench_verdict(all && ratio >= TARGET_TPUT));
		printf("\n");
	}
	if (sys == BENCH_STSD && p->lat.n > 0 && p->tree_kb > 0 && p->after.hwm_kb >= 0)
		printf(PROG ": target system=stsd figure=list_plain_memory peak_growth_mib=%.1f "
		            "tree_mib=%.1f target=<tree result=%s\n",
		       growth / 1024.0, p->tree_kb / 1024.0, bench_verdict(growth < p->tree_kb));
}

int main(int argc, char **argv)
{
	static struct result res[BENCH_SYSTEMS];
	struct cost_opts o;
	uint64_t t0 = util_now_mono_ms();
	const char *tmp;
	bool broken = false;
	char pod[COST_BODY_MAX];

	bench_init(PROG);
	parse_opts(argc, argv, &o);
	tmp = bench_tmp_make(o.b.dir, o.b.keep);
	bench_print_machine(o.b.dir);
	printf(PROG ": config pods=%ld pod_bytes=%zu watches=%ld duration_s=%ld clients=%d "
	            "load_inflight=%d list_reps=%d warmup_ms=%d members=%d\n",
	       o.pods, cost_pod_json(1, pod, sizeof pod), o.watches, o.b.duration_s, WRITERS,
	       LOAD_INFLIGHT, LIST_REPS, WARMUP_MS, BENCH_MEMBERS);
	for (int s = 0; s < BENCH_SYSTEMS; s++) {
		if (o.b.systems[s])
			run_system((enum bench_system)s, tmp, &o, &res[s]);
		broken |= res[s].broken;
	}
	print_ratios(&res[BENCH_STSD], &res[BENCH_ETCD]);
	for (int s = 0; s < BENCH_SYSTEMS; s++)
		if (res[s].ran)
			print_targets((enum bench_system)s, &res[s], o.watches);
	bench_finish();
	printf(PROG ": done elapsed_s=%.1f status=%s\n", (util_now_mono_ms() - t0) / 1e3,
	       broken ? "broken" : "ok");
	return broken ? 1 : 0;
}
