/* tls.c — tls_bench: small GETs over kept-alive TLS connections and the rate of full TLS
 * handshakes, against the leaders of a 3-member stsd cluster and a 3-member etcd cluster that run
 * side by side, their figures interleaved round by round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"
#include "util.h"

#define PROG              "tls_bench"
#define WARMUP_MS         1000 /* of each figure, not counted: connections open, caches fill */
#define REQ_TIMEOUT_MS    10000
#define SETTLE_TIMEOUT    30000
#define MAX_LEVELS        2
#define MAX_ROUNDS        20
#define DEFAULT_ROUNDS    3
#define MAX_FAILURE_LINES 5 /* of each figure and round */
#define OBJECT_KEY        "bench/tls/object"
/* etcd's object: a value the size of stsd's answer for namespace default (~230 bytes of JSON) */
#define OBJECT_VALUE                                                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\",\"uid\":" \
	"\"0a74d486-38ee-4971-beea-9f18620dda51\",\"creationTimestamp\":\"2026-11-27T12:31:11Z\","  \
	"\"resourceVersion\":\"3\"},\"status\":{\"phase\":\"Active\"}}"

static const char usage[] =
    "Usage: tls_bench [--clients N] [--duration S] [--rounds R] [--system stsd|etcd|both]\n"
    "                 [--dir DIR] [--keep]\n"
    "\n"
    "Start a 3-member cluster of stsd (stsctl dev up: TLS, the admin's client certificate) and of\n"
    "etcd (etcd from PATH: https client URLs with --client-cert-auth and certificates of a CA made\n"
    "like stsd's, ECDSA P-256; peers on plain http), both running side by side, and send small\n"
    "requests over HTTP/1.1 with the client certificate to each leader (the member all three\n"
    "name; looked up again before every figure, and a figure during which it lost its term is\n"
    "flagged):\n"
    "\n"
    "  keepalive_version  C connections, each kept alive and reused: stsd GET /version, etcd GET\n"
    "                     /version (TLS and HTTP with nothing behind them)\n"
    "  keepalive_object   the same with an object read that goes through the leader's read\n"
    "                     barrier: stsd GET /api/v1/namespaces/default, etcd a linearizable\n"
    "                     POST /v3/kv/range of one ~230-byte key\n"
    "  handshake_version  a new connection and a full handshake per request (no session\n"
    "                     resumption), C at a time: GET /version\n"
    "\n"
    "Each figure runs S seconds after a 1 s warm-up, at C = 8 and 32 (or --clients), R rounds;\n"
    "within a round each figure runs on one system right after the other (the order alternates\n"
    "by round), so that a busy moment of the machine hits both. Prints a line per figure and\n"
    "round, then per figure the median over the rounds of requests/s, p50 and p99 latency, the\n"
    "CPU the servers and this client spent per request, and tables with the stsd/etcd ratios\n"
    "(the median of the rounds' ratios, and their range). Exit 1 when a request fails or a\n"
    "cluster breaks.\n"
    "\n"
    "  --clients N    concurrent connections, 1..1024 (default: 8, then 32)\n"
    "  --duration S   seconds of each figure, 1..3600 (default 10)\n"
    "  --rounds R     rounds, 1..20 (default 3)\n"
    "  --system S     stsd, etcd or both (default both)\n"
    "  --dir DIR      parent of the temporary cluster directories (default /tmp), removed at the\n"
    "                 end, also on failure\n"
    "  --keep         keep the temporary directory (data, logs, certificates) at the end\n"
    "  -h, --help     show this help and exit\n";

enum figure_id { KA_VERSION, KA_OBJECT, HANDSHAKE, FIGURES };

static const char *const figure_names[FIGURES] = {"keepalive_version", "keepalive_object",
                                                  "handshake_version"};

/* One figure of one system at one concurrency, over the rounds. */
struct figure {
	int rounds;
	double per_s[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS]; /* each round's */
	/* summed over the rounds: answers inside the windows, failed requests (anywhere: each
	 * breaks the run), all answers and new connections */
	size_t ok, failed, ok_all, connects;
	int elections; /* rounds in which the leader lost its leadership */
	double leader_cpu_s, members_cpu_s, client_cpu_s;
	char first_error[256];
};

/* What the run measures, on which clusters, and what came of it. */
struct run {
	long clients[MAX_LEVELS];
	int nlevels, nsys, started;
	long duration_s, rounds;
	enum bench_system sys[BENCH_SYSTEMS]; /* the systems measured, in start order */
	const char *tmp;
	struct bench_cluster *c[BENCH_SYSTEMS];
	int leader[BENCH_SYSTEMS];
	struct figure f[BENCH_SYSTEMS][FIGURES][MAX_LEVELS];
	bool broken;
};

/* --- one client: an easy handle doing the same request again and again --- */

struct slot {
	CURL *h;
	struct bench_req r; /* the answer's start (for errors), when the request started */
};

/* What figure id asks of sys: the URL on api and etcd's range body (NULL: a GET). */
static const char *request_of(enum bench_system sys, enum figure_id id, const char *api, char *url,
                              size_t len)
{
	static char range[128];
	char bkey[64];

	if (id != KA_OBJECT) {
		snprintf(url, len, BENCH_SCHEME "%s/version", api);
		return NULL;
	}
	if (sys == BENCH_STSD) {
		snprintf(url, len, BENCH_SCHEME "%s/api/v1/namespaces/default", api);
		return NULL;
	}
	bench_b64(OBJECT_KEY, strlen(OBJECT_KEY), bkey);
	snprintf(range, sizeof range, "{\"key\":\"%s\"}", bkey); /* linearizable by default */
	snprintf(url, len, BENCH_SCHEME "%s/v3/kv/range", api);
	return range;
}

/* Set s up for figure id's request to api; the options stay for every repetition. */
static void slot_init(struct slot *s, enum bench_system sys, enum figure_id id, const char *api,
                      struct curl_slist *json)
{
	char url[128];
	const char *post = request_of(sys, id, api, url, sizeof url);

	if ((s->h = bench_curl_new(sys)) == NULL)
		bench_fail("curl_easy_init failed");
	curl_easy_setopt(s->h, CURLOPT_URL, url); /* libcurl copies it */
	if (post != NULL) {
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, json);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	if (id == HANDSHAKE) {
		/* every request a new TCP connection and a full handshake: no pooled connection, no
		 * session ticket or ID resumed */
		curl_easy_setopt(s->h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(s->h, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(s->h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	}
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, bench_req_sink);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->r);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)REQ_TIMEOUT_MS);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
}

static void slot_reset(struct slot *s)
{
	s->r.resp_len = 0;
	s->r.resp[0] = '\0';
	s->r.started_ns = util_now_mono_ns();
}

/* A line for a failed request, with wall-clock times to match against the servers' logs. */
static void print_failure(const struct slot *s, CURLcode rc, long status)
{
	double ms = (double)(util_now_mono_ns() - s->r.started_ns) / 1e6;
	char now[40];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(now, sizeof now, "%02d:%02d:%02d.%03ldZ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         ts.tv_nsec / 1000000);
	printf(PROG ": failure at=%s after_ms=%.1f error=\"%s\" status=%ld\n", now, ms,
	       curl_easy_strerror(rc), status);
}

/* Whether the transfer of s ended in a 200; else the reason goes to f->first_error. */
static bool answered(struct slot *s, CURLcode rc, struct figure *f)
{
	long status = 0;

	if (rc == CURLE_OK)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return true;
	if (f->failed++ == 0)
		snprintf(f->first_error, sizeof f->first_error, "%s, status %ld: %.120s",
		         rc == CURLE_OK ? "answered" : curl_easy_strerror(rc), status, s->r.resp);
	if (f->failed <= MAX_FAILURE_LINES)
		print_failure(s, rc, status);
	return false;
}

/* --- a figure: C clients on one multi handle for the warm-up and the window --- */

struct load {
	CURLM *multi;
	struct slot *slots;
	long n, inflight;
	uint64_t begin, end; /* the counted window, CLOCK_MONOTONIC ns */
	size_t ok;           /* answers inside it */
	struct figure *f;
	struct bench_samples lat;
};

static void arm(struct load *l, struct slot *s)
{
	slot_reset(s);
	if (curl_multi_add_handle(l->multi, s->h) != CURLM_OK)
		bench_fail("curl_multi_add_handle failed");
	l->inflight++;
}

static void finished(void *ud, CURLMsg *msg, uint64_t now)
{
	struct load *l = ud;
	char *priv = NULL;
	long connects = 0;
	struct slot *s;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
	s = (struct slot *)priv;
	curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
	curl_multi_remove_handle(l->multi, s->h);
	l->inflight--;
	l->f->connects += (size_t)connects;
	if (answered(s, msg->data.result, l->f)) {
		l->f->ok_all++;
		if (now >= l->begin && now <= l->end) {
			l->ok++;
			bench_samples_add(&l->lat, (double)(now - s->r.started_ns) / 1e6);
		}
	}
	if (now < l->end)
		arm(l, s);
}

static double client_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU time the members have used so far (seconds); the leader's alone goes to *leader_s. */
static double members_cpu_s(const struct bench_cluster *c, int leader, double *leader_s)
{
	double sum = 0;

	for (int i = 0; i < BENCH_MEMBERS; i++) {
		double v = c->m[i].pid > 0 ? bench_cpu_s(c->m[i].pid) : 0;
		sum += v > 0 ? v : 0;
		if (i == leader)
			*leader_s = v;
	}
	return sum;
}

/* The round l measured becomes round f->rounds of f. */
static void record_round(struct figure *f, struct load *l, long seconds)
{
	struct bench_stats st = {.n = 0};
	int r = f->rounds++;

	if (l->lat.n > 0)
		bench_stats_of(l->lat.v, l->lat.n, &st);
	f->ok += l->ok;
	f->per_s[r] = (double)l->ok / (double)seconds;
	f->p50[r] = st.median;
	f->p99[r] = st.p99;
}

/* One round of figure id: clients connections to the leader of c for the warm-up and seconds. */
static void run_figure(struct bench_cluster *c, int leader, enum figure_id id, long clients,
                       long seconds, struct figure *f)
{
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	struct load l = {.n = clients, .f = f};
	double lead0 = 0, lead1 = 0, all0, cli0 = client_cpu_s();

	l.multi = curl_multi_init();
	l.slots = calloc((size_t)clients, sizeof *l.slots);
	if (l.multi == NULL || l.slots == NULL || json == NULL)
		bench_fail("out of memory for %ld clients", clients);
	curl_multi_setopt(l.multi, CURLMOPT_MAXCONNECTS, clients);
	curl_multi_setopt(l.multi, CURLMOPT_MAX_HOST_CONNECTIONS, clients);
	for (long k = 0; k < clients; k++)
		slot_init(&l.slots[k], c->sys, id, c->m[leader].api, json);
	all0 = members_cpu_s(c, leader, &lead0);
	l.begin = util_now_mono_ns() + WARMUP_MS * 1000000ull;
	l.end = l.begin + (uint64_t)seconds * 1000000000ull;
	for (long k = 0; k < clients; k++)
		arm(&l, &l.slots[k]);
	bench_multi_drive(l.multi, &l.inflight, finished, &l);
	f->members_cpu_s += members_cpu_s(c, leader, &lead1) - all0;
	f->leader_cpu_s += lead1 - lead0;
	f->client_cpu_s += client_cpu_s() - cli0;
	record_round(f, &l, seconds);
	for (long k = 0; k < clients; k++)
		curl_easy_cleanup(l.slots[k].h);
	curl_multi_cleanup(l.multi);
	curl_slist_free_all(json);
	free(l.slots);
	free(l.lat.v);
}

/* --- set-up and checks --- */

/* One request of figure id, its answer checked for what it must hold (a wrong URL or a 200 with
 * an error inside must not pass as a fast figure). */
static bool probe(struct bench_cluster *c, int leader, enum figure_id id)
{
	static const char *const want[BENCH_SYSTEMS][FIGURES] = {
	    {"\"gitVersion\"", "\"kind\":\"Namespace\"", "\"gitVersion\""},
	    {"\"etcdserver\"", "\"count\":\"1\"", "\"etcdserver\""}};
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	struct figure scratch = {.rounds = 0};
	struct slot s = {.h = NULL};
	bool ok;

	slot_init(&s, c->sys, id, c->m[leader].api, json);
	slot_reset(&s);
	ok = answered(&s, curl_easy_perform(s.h), &scratch) && strstr(s.r.resp, want[c->sys][id]);
	if (!ok)
		fprintf(stderr, PROG ": error: %s %s: expected %s in the answer: %s %s\n",
		        bench_system_name(c->sys), figure_names[id], want[c->sys][id],
		        scratch.first_error, s.r.resp);
	curl_easy_cleanup(s.h);
	curl_slist_free_all(json);
	return ok;
}

/* etcd's object: one put of OBJECT_VALUE under OBJECT_KEY, on the leader. */
static bool put_object(struct bench_cluster *c, int leader)
{
	char url[128], bkey[64], bval[2 * sizeof OBJECT_VALUE], body[3 * sizeof OBJECT_VALUE];
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	struct figure scratch = {.rounds = 0};
	struct slot s = {.h = bench_curl_new(c->sys)};
	bool ok;

	if (s.h == NULL)
		bench_fail("curl_easy_init failed");
	bench_b64(OBJECT_KEY, strlen(OBJECT_KEY), bkey);
	bench_b64(OBJECT_VALUE, strlen(OBJECT_VALUE), bval);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", bkey, bval);
	snprintf(url, sizeof url, BENCH_SCHEME "%s/v3/kv/put", c->m[leader].api);
	curl_easy_setopt(s.h, CURLOPT_URL, url);
	curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, json);
	curl_easy_setopt(s.h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, bench_req_sink);
	curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s.r);
	curl_easy_setopt(s.h, CURLOPT_TIMEOUT_MS, (long)REQ_TIMEOUT_MS);
	ok = answered(&s, curl_easy_perform(s.h), &scratch);
	if (!ok)
		fprintf(stderr, PROG ": error: etcd put %s: %s\n", OBJECT_KEY, scratch.first_error);
	curl_easy_cleanup(s.h);
	curl_slist_free_all(json);
	return ok;
}

/* --- reporting --- */

/* Order statistics of the rounds' values v[0..n-1] (n >= 1). */
static struct bench_stats over_rounds(const double *v, int n)
{
	double tmp[MAX_ROUNDS];
	struct bench_stats st;

	memcpy(tmp, v, (size_t)n * sizeof *v);
	bench_stats_of(tmp, (size_t)n, &st);
	return st;
}

static double per_req_us(double cpu_s, size_t n)
{
	return n > 0 ? cpu_s * 1e6 / (double)n : 0;
}

static void print_round(enum bench_system sys, enum figure_id id, long clients,
                        const struct figure *f)
{
	int r = f->rounds - 1;

	printf(PROG ": round=%d system=%s figure=%s clients=%ld req_per_s=%.0f p50_ms=%.2f "
	            "p99_ms=%.2f failed_so_far=%zu\n",
	       f->rounds, bench_system_name(sys), figure_names[id], clients, f->per_s[r], f->p50[r],
	       f->p99[r], f->failed);
}

static void print_figure(enum bench_system sys, enum figure_id id, long clients,
                         const struct figure *f)
{
	struct bench_stats rate = over_rounds(f->per_s, f->rounds);

	printf(PROG ": figure system=%s figure=%s clients=%ld rounds=%d req_per_s=%.0f "
	            "req_per_s_min=%.0f req_per_s_max=%.0f p50_ms=%.2f p99_ms=%.2f connects=%zu "
	            "answers=%zu leader_cpu_us_per_req=%.0f members_cpu_us_per_req=%.0f "
	            "client_cpu_us_per_req=%.0f failed=%zu leadership_lost_rounds=%d",
	       bench_system_name(sys), figure_names[id], clients, f->rounds, rate.median, rate.min,
	       rate.max, over_rounds(f->p50, f->rounds).median,
	       over_rounds(f->p99, f->rounds).median, f->connects, f->ok_all,
	       per_req_us(f->leader_cpu_s, f->ok_all), per_req_us(f->members_cpu_s, f->ok_all),
	       per_req_us(f->client_cpu_s, f->ok_all), f->failed, f->elections);
	if (f->first_error[0] != '\0')
		printf(" first_error=\"%s\"", f->first_error);
	printf("\n");
}

/* The stsd/etcd ratio of requests/s of each round (both measured back to back). */
static struct bench_stats ratios(const struct figure *s, const struct figure *e)
{
	double v[MAX_ROUNDS];
	int n = s->rounds < e->rounds ? s->rounds : e->rounds;

	for (int r = 0; r < n; r++)
		v[r] = e->per_s[r] > 0 ? s->per_s[r] / e->per_s[r] : 0;
	return over_rounds(v, n);
}

/* "| req/s | p50 | p99" of f, medians over the rounds. */
static void print_cells(const struct figure *f)
{
	if (f->rounds == 0) {
		printf(" | - | - | -");
		return;
	}
	printf(" | %.0f | %.2f | %.2f", over_rounds(f->per_s, f->rounds).median,
	       over_rounds(f->p50, f->rounds).median, over_rounds(f->p99, f->rounds).median);
}

/* The cells after "| figure | clients" of one row: stsd's figure s beside etcd's e. */
typedef void (*row_cb)(const struct figure *s, const struct figure *e);

static void rate_row(const struct figure *s, const struct figure *e)
{
	print_cells(s);
	print_cells(e);
	if (s->rounds > 0 && e->rounds > 0) {
		struct bench_stats q = ratios(s, e);
		printf(" | %.2f (%.2f–%.2f) |\n", q.median, q.min, q.max);
	} else {
		printf(" | - |\n");
	}
}

static void cpu_row(const struct figure *s, const struct figure *e)
{
	printf(" | %.0f | %.0f | %.0f | %.0f | %.0f, %.0f |\n",
	       per_req_us(s->leader_cpu_s, s->ok_all), per_req_us(s->members_cpu_s, s->ok_all),
	       per_req_us(e->leader_cpu_s, e->ok_all), per_req_us(e->members_cpu_s, e->ok_all),
	       per_req_us(s->client_cpu_s, s->ok_all), per_req_us(e->client_cpu_s, e->ok_all));
}

/* A Markdown table (for docs/benchmarks.md): a row per figure and concurrency. */
static void print_table(const struct run *run, const char *header, row_cb row)
{
	printf("\n| figure | clients | %s |\n|---|---:", header);
	for (const char *p = header; (p = strstr(p, " | ")) != NULL; p += 3)
		printf("|---:");
	printf("|---:|\n");
	for (int id = 0; id < FIGURES; id++) {
		for (int k = 0; k < run->nlevels; k++) {
			printf("| %s | %ld", figure_names[id], run->clients[k]);
			row(&run->f[BENCH_STSD][id][k], &run->f[BENCH_ETCD][id][k]);
		}
	}
}

static void print_summary(const struct run *run)
{
	bool both = run->nsys == BENCH_SYSTEMS;

	for (int j = 0; j < run->nsys; j++)
		for (int id = 0; id < FIGURES; id++)
			for (int k = 0; k < run->nlevels; k++)
				if (run->f[run->sys[j]][id][k].rounds > 0)
					print_figure(run->sys[j], (enum figure_id)id,
					             run->clients[k], &run->f[run->sys[j]][id][k]);
	for (int id = 0; both && id < FIGURES; id++) {
		for (int k = 0; k < run->nlevels; k++) {
			const struct figure *s = &run->f[BENCH_STSD][id][k],
			                    *e = &run->f[BENCH_ETCD][id][k];
			if (s->rounds == 0 || e->rounds == 0)
				continue;
			struct bench_stats q = ratios(s, e);
			printf(PROG ": ratio figure=%s clients=%ld req_per_s_stsd_over_etcd=%.3f "
			            "min=%.3f max=%.3f leader_cpu_per_req_stsd_over_etcd=%.3f\n",
			       figure_names[id], run->clients[k], q.median, q.min, q.max,
			       per_req_us(s->leader_cpu_s, s->ok_all) /
			           per_req_us(e->leader_cpu_s, e->ok_all));
		}
	}
	print_table(
	    run,
	    "stsd req/s | stsd p50 ms | stsd p99 ms | etcd req/s | etcd p50 ms | etcd p99 ms "
	    "| stsd/etcd req/s (range)",
	    rate_row);
	print_table(
	    run,
	    "stsd leader µs/req | stsd 3 members µs/req | etcd leader µs/req | etcd 3 members "
	    "µs/req | client µs/req (stsd, etcd)",
	    cpu_row);
	printf("\n");
}

/* --- the run: both clusters, the rounds --- */

/* Settle sys's cluster, find its leader, make etcd's object, check every request once. */
static bool prepare(struct run *run, enum bench_system sys)
{
	struct bench_cluster *c = run->c[sys];
	int *leader = &run->leader[sys];

	if (bench_cluster_settle(c, SETTLE_TIMEOUT, leader) != 0) {
		fprintf(stderr, PROG ": error: %s\n", c->err);
		return false;
	}
	printf(PROG ": progress system=%s leader=member-%d api=%s\n", bench_system_name(sys),
	       c->m[*leader].id, c->m[*leader].api);
	if (sys == BENCH_ETCD && !put_object(c, *leader))
		return false;
	for (int id = 0; id < FIGURES; id++)
		if (!probe(c, *leader, (enum figure_id)id))
			return false;
	return true;
}

/* One round of every figure at every concurrency, each on one system right after the other. */
/* The leader of sys's cluster right now, and its term; a leader that moved since the last figure
 * is said. False when the cluster does not settle. */
static bool current_leader(struct run *run, enum bench_system sys, uint64_t *term)
{
	struct bench_cluster *c = run->c[sys];
	struct bench_status st;
	int leader, was = run->leader[sys];

	if (bench_cluster_settle(c, SETTLE_TIMEOUT, &leader) != 0 ||
	    bench_cluster_status(c, leader, &st) != 0) {
		fprintf(stderr, PROG ": error: %s\n", c->err);
		return false;
	}
	if (leader != was)
		printf(PROG ": progress system=%s leader moved from member-%d to member-%d\n",
		       bench_system_name(sys), c->m[was].id, c->m[leader].id);
	run->leader[sys] = leader;
	*term = st.term;
	return true;
}

/* Whether the leader of the figure just run still leads in the same term; else the figure partly
 * measured a follower forwarding (stsd) or an election, and says so. */
static void check_leadership(struct run *run, enum bench_system sys, uint64_t term,
                             struct figure *f)
{
	struct bench_cluster *c = run->c[sys];
	struct bench_status st;

	if (bench_cluster_status(c, run->leader[sys], &st) == 0 && st.leader && st.term == term)
		return;
	f->elections++;
	printf(PROG
	       ": progress system=%s warning=\"member-%d lost the leadership (term %llu) during "
	       "the figure\"\n",
	       bench_system_name(sys), c->m[run->leader[sys]].id, (unsigned long long)term);
}

/* Figure id at concurrency level k on sys, on the current leader. */
static void one_figure(struct run *run, enum bench_system sys, enum figure_id id, int k)
{
	struct figure *f = &run->f[sys][id][k];
	uint64_t term = 0;

	if (!current_leader(run, sys, &term)) {
		run->broken = true;
		return;
	}
	printf(PROG ": progress round=%d system=%s figure=%s clients=%ld duration_s=%ld "
	            "leader=member-%d\n",
	       f->rounds + 1, bench_system_name(sys), figure_names[id], run->clients[k],
	       run->duration_s, run->c[sys]->m[run->leader[sys]].id);
	run_figure(run->c[sys], run->leader[sys], id, run->clients[k], run->duration_s, f);
	check_leadership(run, sys, term, f);
	print_round(sys, id, run->clients[k], f);
	/* failed requests are counted and fail the run at the end; a figure without a single
	 * answer means the cluster is gone */
	run->broken = f->per_s[f->rounds - 1] == 0;
}

/* One round of every figure at every concurrency, each on one system right after the other. */
static void run_round(struct run *run, int round)
{
	for (int k = 0; k < run->nlevels && !run->broken; k++) {
		for (int id = 0; id < FIGURES && !run->broken; id++) {
			for (int j = 0; j < run->nsys && !run->broken; j++) {
				/* alternate who goes first, so that neither always runs second */
				int pos = round % 2 ? run->nsys - 1 - j : j;
				one_figure(run, run->sys[pos], (enum figure_id)id, k);
			}
		}
	}
}

/* Requests that failed in any figure of the run. */
static size_t failures(const struct run *run)
{
	size_t n = 0;

	for (int j = 0; j < run->nsys; j++)
		for (int id = 0; id < FIGURES; id++)
			for (int k = 0; k < run->nlevels; k++)
				n += run->f[run->sys[j]][id][k].failed;
	return n;
}

static void measure_all(struct run *run)
{
	for (int j = 0; j < run->nsys && !run->broken; j++)
		run->broken = !prepare(run, run->sys[j]);
	bench_print_load("start");
	for (int r = 0; r < run->rounds && !run->broken; r++)
		run_round(run, r);
	bench_print_load("end");
	for (int j = 0; j < run->nsys; j++)
		run->broken |= !bench_check_state(run->c[run->sys[j]]);
	/* failed requests break the run too: the clusters' logs are then dumped */
	run->broken |= failures(run) > 0;
}

static void start_next(struct run *run);

/* A cluster is up: start the next system's, or measure once all are. */
static void started(struct bench_cluster *c, void *ud)
{
	struct run *run = ud;

	run->c[c->sys] = c;
	run->started++;
	start_next(run);
}

static void start_next(struct run *run)
{
	enum bench_system sys;

	if (run->started == run->nsys) {
		measure_all(run);
		return;
	}
	sys = run->sys[run->started];
	printf(PROG ": progress system=%s starting a 3-member cluster\n", bench_system_name(sys));
	bench_with_cluster(sys, run->tmp, started, run, &run->broken);
}

static void configure(int argc, char **argv, struct run *run)
{
	struct bench_opts o;

	bench_parse_opts(argc, argv, BENCH_OPT_CLIENTS | BENCH_OPT_DURATION | BENCH_OPT_ROUNDS,
	                 usage, &o);
	*run = (struct run){.clients = {8, 32}, .nlevels = 2, .duration_s = o.duration_s};
	if (o.given & BENCH_OPT_CLIENTS)
		run->clients[0] = o.clients, run->nlevels = 1;
	run->rounds = o.given & BENCH_OPT_ROUNDS ? o.rounds : DEFAULT_ROUNDS;
	if (run->rounds > MAX_ROUNDS) {
		fprintf(stderr, PROG ": --rounds must be at most %d\n", MAX_ROUNDS);
		exit(2);
	}
	for (int s = 0; s < BENCH_SYSTEMS; s++)
		if (o.systems[s])
			run->sys[run->nsys++] = (enum bench_system)s;
	run->tmp = bench_tmp_make(o.dir, o.keep);
}

int main(int argc, char **argv)
{
	static struct run run;
	size_t failed;

	bench_init(PROG);
	configure(argc, argv, &run);
	bench_print_machine(run.tmp);
	start_next(&run);
	failed = failures(&run);
	print_summary(&run);
	bench_finish();
	if (run.broken || failed > 0)
		fprintf(stderr, PROG ": error: the run broke or %zu requests failed (see above)\n",
		        failed);
	return run.broken || failed > 0 ? 1 : 0;
}
