/* commit.c — commit_bench: write latency with one client and throughput with many concurrent
 * clients, on a 3-member cluster of stsd (ConfigMap creates) and of etcd (puts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

#define PROG           "commit_bench"
#define WARMUP_OPS     100
#define WARMUP_MS      1000 /* of each throughput run, not counted */
#define WRITE_TIMEOUT  10000
#define SETTLE_TIMEOUT 30000

static const char usage[] =
    "Usage: commit_bench [--ops N] [--clients N] [--duration S] [--system stsd|etcd|both]\n"
    "                    [--dir DIR] [--keep]\n"
    "\n"
    "Start a 3-member cluster of stsd (stsctl dev up, stsctl beside this binary) and of etcd\n"
    "(etcd from PATH, its default timers), one after the other, and measure writes over HTTP/1.1\n"
    "+ JSON: stsd creates ConfigMaps (POST /api/v1/namespaces/default/configmaps), etcd puts keys\n"
    "through its gateway (POST /v3/kv/put), each with a 100-byte value under a fresh name.\n"
    "\n"
    "  latency     one client, N sequential writes to the leader, then N to a follower (which\n"
    "              forwards them): min, median, p99\n"
    "  throughput  C concurrent clients (one connection each, libcurl multi) writing for S seconds\n"
    "              after a 1 s warm-up, all to the leader, then spread over the 3 members:\n"
    "              acknowledged writes per second, median and p99 latency\n"
    "\n"
    "Prints one line per figure, then the stsd/etcd ratios and PASS/MISS against the target\n"
    "(throughput at least etcd's). A missed target does not change the exit status; a failed\n"
    "write does (exit 1).\n"
    "\n"
    "  --ops N        sequential writes per latency figure, 1..1000000 (default 1000)\n"
    "  --clients N    concurrent clients for throughput, 1..1024 (default 64)\n"
    "  --duration S   seconds of each throughput figure, 1..3600 (default 10)\n"
    "  --system S     stsd, etcd or both (default both)\n"
    "  --dir DIR      parent of the temporary cluster directories (default /tmp), removed at the\n"
    "                 end, also on failure\n"
    "  --keep         keep the temporary directory (data and logs) at the end\n"
    "  -h, --help     show this help and exit\n";

enum figure_id { LAT_LEADER, LAT_FOLLOWER, TPUT_LEADER, TPUT_ALL, FIGURES };

static const char *const figure_names[FIGURES] = {"latency_leader", "latency_follower",
                                                  "throughput_leader", "throughput_all"};

struct figure {
	bool ran;
	size_t ok, unavailable, timeouts, errors;
	double per_s;
	struct bench_stats lat; /* ms */
	char first_error[256];
};

struct result {
	bool ran, broken;
	struct figure f[FIGURES];
};

static size_t failures(const struct figure *f)
{
	return f->unavailable + f->timeouts + f->errors;
}

static void count(struct figure *f, enum bench_outcome out, CURL *h, const struct bench_req *r)
{
	long status = 0;

	if (out == BENCH_OK) {
		f->ok++;
		return;
	}
	*(out == BENCH_TIMEOUT       ? &f->timeouts
	  : out == BENCH_UNAVAILABLE ? &f->unavailable
	                             : &f->errors) += 1;
	if (f->first_error[0] != '\0')
		return;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	snprintf(f->first_error, sizeof f->first_error, "status %ld at %.80s: %.100s", status,
	         r->url, r->resp);
}

/* ops sequential writes to member; latencies into f->lat when f is not NULL (else a warm-up). */
static void sequential(struct bench_cluster *c, CURL *h, int member, long ops, struct figure *f)
{
	struct figure scratch = {.ran = false};
	struct bench_samples lat = {.n = 0};
	struct bench_req r = {.hdrs = NULL};
	long status;

	for (long i = 0; i < ops; i++) {
		uint64_t t = util_now_mono_ns();
		enum bench_outcome out =
		    bench_write(h, &r, c->sys, c->m[member].api, WRITE_TIMEOUT, &status);
		if (out == BENCH_OK)
			bench_samples_add(&lat, (double)(util_now_mono_ns() - t) / 1e6);
		count(f ? f : &scratch, out, h, &r);
		if (bench_interrupted())
			bench_poll_sleep(0);
	}
	bench_req_free(&r);
	if (f != NULL && lat.n > 0)
		bench_stats_of(lat.v, lat.n, &f->lat);
	if (f != NULL)
		f->ran = true;
	free(lat.v);
}

/* --- throughput: many clients on one libcurl multi handle --- */

struct load {
	struct bench_cluster *c;
	CURLM *multi;
	CURL **hs;
	struct bench_req *reqs;
	long n;
	const int *targets;
	int ntargets;
	long inflight;
	uint64_t begin, end; /* the counted window, CLOCK_MONOTONIC ns */
	struct figure *f;
	struct bench_samples lat;
};

static void arm(struct load *l, long k)
{
	int member = l->targets[k % l->ntargets];

	bench_req_write(l->hs[k], &l->reqs[k], l->c->sys, l->c->m[member].api, WRITE_TIMEOUT);
	if (curl_multi_add_handle(l->multi, l->hs[k]) != CURLM_OK)
		bench_fail("curl_multi_add_handle failed");
	l->inflight++;
}

/* A write finished: count it if it ended inside the window, and start the client's next one. */
static void finished(void *ud, CURLMsg *msg, uint64_t now)
{
	struct load *l = ud;
	struct bench_req *r;
	enum bench_outcome out;
	char *priv = NULL;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
	r = (struct bench_req *)priv;
	out = bench_req_outcome(l->c->sys, msg->easy_handle, msg->data.result);
	curl_multi_remove_handle(l->multi, msg->easy_handle);
	l->inflight--;
	if (now >= l->begin && now <= l->end) {
		count(l->f, out, msg->easy_handle, r);
		if (out == BENCH_OK)
			bench_samples_add(&l->lat, (double)(now - r->started_ns) / 1e6);
	}
	if (now < l->end)
		arm(l, r - l->reqs);
}

static void drive(struct load *l)
{
	for (long k = 0; k < l->n; k++)
		arm(l, k);
	bench_multi_drive(l->multi, &l->inflight, finished, l);
}

static void throughput(struct bench_cluster *c, long clients, long seconds, const int *targets,
                       int ntargets, struct figure *f)
{
	struct load l = {.c = c, .n = clients, .targets = targets, .ntargets = ntargets, .f = f};

	l.multi = curl_multi_init();
	l.hs = calloc((size_t)clients, sizeof *l.hs);
	l.reqs = calloc((size_t)clients, sizeof *l.reqs);
	if (l.multi == NULL || l.hs == NULL || l.reqs == NULL)
		bench_fail("out of memory for %ld clients", clients);
	curl_multi_setopt(l.multi, CURLMOPT_MAXCONNECTS, clients);
	for (long k = 0; k < clients; k++)
		if ((l.hs[k] = bench_curl_new(c->sys)) == NULL)
			bench_fail("curl_easy_init failed");
	l.begin = util_now_mono_ns() + WARMUP_MS * 1000000ull;
	l.end = l.begin + (uint64_t)seconds * 1000000000ull;
	drive(&l);
	f->ran = true;
	f->per_s = (double)f->ok / (double)seconds;
	if (l.lat.n > 0)
		bench_stats_of(l.lat.v, l.lat.n, &f->lat);
	for (long k = 0; k < clients; k++) {
		curl_easy_cleanup(l.hs[k]);
		bench_req_free(&l.reqs[k]);
	}
	curl_multi_cleanup(l.multi);
	free(l.hs);
	free(l.reqs);
	free(l.lat.v);
}

/* --- reporting --- */

static void print_figure(enum bench_system sys, enum figure_id id, const struct figure *f,
                         const struct bench_opts *o)
{
	const char *target = id == LAT_LEADER || id == TPUT_LEADER ? "leader"
	                     : id == LAT_FOLLOWER                  ? "follower"
	                                                           : "all";

	if (id == LAT_LEADER || id == LAT_FOLLOWER)
		printf(PROG ": latency system=%s target=%s ops=%zu", bench_system_name(sys), target,
		       f->ok);
	else
		printf(PROG ": throughput system=%s target=%s clients=%ld duration_s=%ld ops=%zu "
		            "ops_per_s=%.0f",
		       bench_system_name(sys), target, o->clients, o->duration_s, f->ok, f->per_s);
	printf(" unavailable=%zu timeouts=%zu errors=%zu", f->unavailable, f->timeouts, f->errors);
	if (f->ok > 0)
		printf(" min_ms=%.2f median_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f",
		       f->lat.min, f->lat.median, f->lat.p99, f->lat.max, f->lat.mean);
	if (f->first_error[0] != '\0')
		printf(" first_error=\"%s\"", f->first_error);
	printf("\n");
}

static void measure(struct bench_cluster *c, const struct bench_opts *o, struct result *res)
{
	static const int all[BENCH_MEMBERS] = {0, 1, 2};
	CURL *h = bench_curl_new(c->sys);
	int leader;

	if (h == NULL)
		bench_fail("curl_easy_init failed");
	if (bench_cluster_settle(c, SETTLE_TIMEOUT, &leader) != 0) {
		fprintf(stderr, PROG ": error: %s\n", c->err);
		res->broken = true;
		curl_easy_cleanup(h);
		return;
	}
	sequential(c, h, leader, WARMUP_OPS, NULL);
	sequential(c, h, leader, o->ops, &res->f[LAT_LEADER]);
	sequential(c, h, (leader + 1) % BENCH_MEMBERS, o->ops, &res->f[LAT_FOLLOWER]);
	curl_easy_cleanup(h);
	for (int k = LAT_LEADER; k <= LAT_FOLLOWER; k++)
		print_figure(c->sys, (enum figure_id)k, &res->f[k], o);
	throughput(c, o->clients, o->duration_s, &leader, 1, &res->f[TPUT_LEADER]);
	print_figure(c->sys, TPUT_LEADER, &res->f[TPUT_LEADER], o);
	throughput(c, o->clients, o->duration_s, all, BENCH_MEMBERS, &res->f[TPUT_ALL]);
	print_figure(c->sys, TPUT_ALL, &res->f[TPUT_ALL], o);
	res->broken |= !bench_check_state(c);
}

struct run {
	const struct bench_opts *o;
	struct result *res;
};

/* The figures, then whether any of them failed (the logs are dumped then). */
static void run_measure(struct bench_cluster *c, void *ud)
{
	struct run *r = ud;
	struct result *res = r->res;

	measure(c, r->o, res);
	for (int k = 0; k < FIGURES; k++)
		res->broken |= res->f[k].ran && (res->f[k].ok == 0 || failures(&res->f[k]) > 0);
}

static void run_system(enum bench_system sys, const char *tmp, const struct bench_opts *o,
                       struct result *res)
{
	struct run r = {o, res};

	res->ran = true;
	bench_with_cluster(sys, tmp, run_measure, &r, &res->broken);
}

static void print_verdicts(const struct result *stsd, const struct result *etcd)
{
	const struct figure *s = stsd->f, *e = etcd->f;

	for (int k = 0; k < FIGURES; k++) {
		bool tput = k == TPUT_LEADER || k == TPUT_ALL;
		if (s[k].ok == 0 || e[k].ok == 0)
			continue;
		if (!tput) {
			printf(PROG ": ratio figure=%s median_stsd_over_etcd=%.3f "
			            "p99_stsd_over_etcd=%.3f\n",
			       figure_names[k], s[k].lat.median / e[k].lat.median,
			       s[k].lat.p99 / e[k].lat.p99);
			continue;
		}
		printf(PROG ": ratio figure=%s ops_per_s_stsd_over_etcd=%.3f\n", figure_names[k],
		       s[k].per_s / e[k].per_s);
		printf(PROG ": target figure=%s stsd_ops_per_s=%.0f etcd_ops_per_s=%.0f "
		            "target=>=etcd result=%s\n",
		       figure_names[k], s[k].per_s, e[k].per_s,
		       bench_verdict(failures(&s[k]) == 0 && s[k].per_s >= e[k].per_s));
	}
}

int main(int argc, char **argv)
{
	static struct result res[BENCH_SYSTEMS];
	struct bench_opts o;
	uint64_t t0 = util_now_mono_ms();
	const char *tmp;
	bool broken = false;

	bench_init(PROG);
	bench_parse_opts(argc, argv, BENCH_OPT_OPS | BENCH_OPT_CLIENTS | BENCH_OPT_DURATION, usage,
	                 &o);
	tmp = bench_tmp_make(o.dir, o.keep);
	bench_print_machine(o.dir);
	printf(PROG ": config ops=%ld clients=%ld duration_s=%ld warmup_ms=%d value_bytes=%d "
	            "members=%d\n",
	       o.ops, o.clients, o.duration_s, WARMUP_MS, BENCH_VALUE_LEN, BENCH_MEMBERS);
	for (int s = 0; s < BENCH_SYSTEMS; s++) {
		if (o.systems[s])
			run_system((enum bench_system)s, tmp, &o, &res[s]);
		broken |= res[s].broken;
	}
	print_verdicts(&res[BENCH_STSD], &res[BENCH_ETCD]);
	bench_finish();
	printf(PROG ": done elapsed_s=%.1f status=%s\n", (util_now_mono_ms() - t0) / 1e3,
	       broken ? "broken" : "ok");
	return broken ? 1 : 0;
}
