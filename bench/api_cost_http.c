/* api_cost_http.c — api_cost_bench's HTTP and process plumbing: the objects it writes, concurrent
 * writes on one libcurl multi handle, reads that keep their whole answer, /proc memory figures. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_cost.h"
#include "util.h"

#define WRITE_TIMEOUT_MS 10000
#define READ_TIMEOUT_MS  120000
#define VALUE_LEN        100

/* --- objects --- */

/* A pod shaped like an application replica: labels, one container with ports, env, resources and
 * probes. %s is the spec's nodeName member, or "". */
static const char pod_fmt[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%05ld\","
    "\"namespace\":\"default\",\"labels\":{\"app\":\"bench-%ld\",\"tier\":\"backend\","
    "\"track\":\"stable\",\"pod-index\":\"%ld\"},\"annotations\":{\"bench.stsd.io/owner\":"
    "\"api_cost_bench\",\"bench.stsd.io/description\":\"a pod shaped like a typical "
    "application replica\"}},\"spec\":{%s\"restartPolicy\":\"Always\","
    "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"containers\":[{"
    "\"name\":\"app\",\"image\":\"registry.example.com/bench/app:1.%ld.0\","
    "\"imagePullPolicy\":\"IfNotPresent\",\"command\":[\"/usr/local/bin/app\"],\"args\":["
    "\"--listen=:8080\",\"--metrics=:9090\",\"--log-level=info\",\"--shard=%ld\"],\"ports\":["
    "{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},{\"name\":\"metrics\","
    "\"containerPort\":9090,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"POD_INDEX\","
    "\"value\":\"%ld\"},{\"name\":\"APP_MODE\",\"value\":\"production\"},{\"name\":"
    "\"CACHE_SIZE\",\"value\":\"256Mi\"},{\"name\":\"UPSTREAM_URL\",\"value\":"
    "\"http://upstream.default.svc.cluster.local:8080/api/v1\"},{\"name\":\"DATABASE_HOST\","
    "\"value\":\"db-0.db.default.svc.cluster.local\"},{\"name\":\"FEATURE_FLAGS\",\"value\":"
    "\"alpha=false,beta=true,gamma=false\"},{\"name\":\"JAVA_OPTS\",\"value\":\"-Xms128m "
    "-Xmx256m -XX:+UseG1GC\"}],\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":"
    "\"128Mi\"},\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},\"readinessProbe\":{"
    "\"httpGet\":{\"path\":\"/healthz\",\"port\":8080},\"initialDelaySeconds\":5,"
    "\"periodSeconds\":10},\"livenessProbe\":{\"httpGet\":{\"path\":\"/livez\",\"port\":8080},"
    "\"periodSeconds\":20,\"failureThreshold\":3}}]}}";

size_t cost_pod_json(long i, char *buf, size_t len)
{
	char node[48] = "";
	int n;

	if (i % 2 == 0)
		snprintf(node, sizeof node, "\"nodeName\":\"node-%02ld\",", (i / 2) % COST_NODES);
	n = snprintf(buf, len, pod_fmt, i, i % 10, i, node, i % 7, i % 16, i);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

long cost_pods_on_node(long pods, long k)
{
	long n = 0;

	for (long i = 0; i < pods; i += 2)
		n += (i / 2) % COST_NODES == k;
	return n;
}

/* --- concurrent writes --- */

struct slot {
	CURL *h;
	char url[256];
	char body[COST_BODY_MAX];
	size_t body_len;
	char resp[512];
	size_t resp_len;
	uint64_t started_ns;
};

/* A run of writes: the load (a fixed number) or a throughput figure (a time window). */
struct writer {
	enum bench_system sys;
	const char *api, *ns;
	CURLM *multi;
	struct slot *slots;
	struct curl_slist *hdrs;
	long nslots, inflight;
	long total, issued;  /* load: how many to send; throughput: total < 0 */
	uint64_t begin, end; /* throughput: the counted window, CLOCK_MONOTONIC ns */
	struct cost_writes *out;
	struct bench_samples lat;
};

static uint64_t next_seq;

static size_t slot_sink(char *data, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;
	size_t len = size * n, room = sizeof s->resp - 1 - s->resp_len;

	memcpy(s->resp + s->resp_len, data, len < room ? len : room);
	s->resp_len += len < room ? len : room;
	s->resp[s->resp_len] = '\0';
	return len;
}

/* An etcd put of value (len bytes) under key, as the gateway's JSON. */
static size_t etcd_put_body(const char *key, const char *value, size_t len, char *out, size_t cap)
{
	char bkey[256], *bval = malloc(4 * (len / 3 + 1) + 1);
	int n;

	if (bval == NULL)
		bench_fail("out of memory");
	bench_b64(key, strlen(key), bkey);
	bench_b64(value, len, bval);
	n = snprintf(out, cap, "{\"key\":\"%s\",\"value\":\"%s\"}", bkey, bval);
	free(bval);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void make_pod(struct writer *w, struct slot *s, long i)
{
	char pod[COST_BODY_MAX], key[64];
	size_t len = cost_pod_json(i, pod, sizeof pod);

	if (w->sys == BENCH_STSD) {
		snprintf(s->url, sizeof s->url, BENCH_SCHEME "%s/api/v1/namespaces/default/pods",
		         w->api);
		memcpy(s->body, pod, len + 1);
		s->body_len = len;
	} else {
		snprintf(s->url, sizeof s->url, BENCH_SCHEME "%s/v3/kv/put", w->api);
		snprintf(key, sizeof key, "/registry/pods/default/pod-%05ld", i);
		s->body_len = etcd_put_body(key, pod, len, s->body, sizeof s->body);
	}
	if (len == 0 || s->body_len == 0)
		bench_fail("pod %ld does not fit in %d bytes", i, COST_BODY_MAX);
}

static void make_configmap(struct writer *w, struct slot *s)
{
	char name[48], key[128], value[VALUE_LEN + 1];

	memset(value, 'v', VALUE_LEN);
	value[VALUE_LEN] = '\0';
	snprintf(name, sizeof name, "cm-%" PRIu64, ++next_seq);
	if (w->sys == BENCH_STSD) {
		snprintf(s->url, sizeof s->url, BENCH_SCHEME "%s/api/v1/namespaces/%s/configmaps",
		         w->api, w->ns);
		s->body_len = (size_t)snprintf(
		    s->body, sizeof s->body,
		    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
		    "\"data\":{\"k\":\"%s\"}}",
		    name, value);
	} else {
		snprintf(s->url, sizeof s->url, BENCH_SCHEME "%s/v3/kv/put", w->api);
		snprintf(key, sizeof key, "/bench/%s/%s", w->ns, name);
		s->body_len = etcd_put_body(key, value, VALUE_LEN, s->body, sizeof s->body);
	}
}

/* Start slot k's next write, unless the run is over. */
static void arm(struct writer *w, long k)
{
	struct slot *s = &w->slots[k];

	if (w->total >= 0 && w->issued >= w->total)
		return;
	if (w->total >= 0)
		make_pod(w, s, w->issued);
	else
		make_configmap(w, s);
	w->issued++;
	s->resp_len = 0;
	s->resp[0] = '\0';
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->body_len);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, slot_sink);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)WRITE_TIMEOUT_MS);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	s->started_ns = util_now_mono_ns();
	if (curl_multi_add_handle(w->multi, s->h) != CURLM_OK)
		bench_fail("curl_multi_add_handle failed");
	w->inflight++;
}

static void note_error(struct writer *w, CURL *h, const struct slot *s)
{
	long status = 0;

	w->out->failed++;
	if (w->out->first_error[0] != '\0')
		return;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	snprintf(w->out->first_error, sizeof w->out->first_error, "status %ld at %.80s: %.120s",
	         status, s->url, s->resp);
}

static void finished(void *ud, CURLMsg *msg, uint64_t now)
{
	struct writer *w = ud;
	char *priv = NULL;
	struct slot *s;
	bool in_window = w->total >= 0 || (now >= w->begin && now <= w->end);

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
	s = (struct slot *)priv;
	curl_multi_remove_handle(w->multi, msg->easy_handle);
	w->inflight--;
	if (bench_req_outcome(w->sys, msg->easy_handle, msg->data.result) != BENCH_OK) {
		note_error(w, msg->easy_handle, s);
	} else {
		w->out->ok++;
		w->out->ok_window += in_window;
		if (in_window)
			bench_samples_add(&w->lat, (double)(now - s->started_ns) / 1e6);
	}
	if (w->total >= 0 || now < w->end)
		arm(w, s - w->slots);
}

static void drive(struct writer *w)
{
	for (long k = 0; k < w->nslots; k++)
		arm(w, k);
	bench_multi_drive(w->multi, &w->inflight, finished, w);
}

static void writer_run(struct writer *w, long nslots)
{
	w->nslots = nslots;
	w->multi = curl_multi_init();
	w->slots = calloc((size_t)nslots, sizeof *w->slots);
	w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	w->hdrs = curl_slist_append(w->hdrs, "Expect:");
	if (w->multi == NULL || w->slots == NULL || w->hdrs == NULL)
		bench_fail("out of memory for %ld clients", nslots);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, nslots);
	for (long k = 0; k < nslots; k++)
		if ((w->slots[k].h = bench_curl_new(w->sys)) == NULL)
			bench_fail("curl_easy_init failed");
	drive(w);
	if (w->lat.n > 0)
		bench_stats_of(w->lat.v, w->lat.n, &w->out->lat);
	for (long k = 0; k < nslots; k++)
		curl_easy_cleanup(w->slots[k].h);
	curl_multi_cleanup(w->multi);
	curl_slist_free_all(w->hdrs);
	free(w->slots);
	free(w->lat.v);
}

void cost_load(enum bench_system sys, const char *api, long n, long inflight,
               struct cost_writes *out)
{
	struct writer w = {.sys = sys, .api = api, .total = n, .out = out};
	uint64_t t0 = util_now_mono_ns();

	*out = (struct cost_writes){.ok = 0};
	writer_run(&w, inflight < n ? inflight : n);
	out->elapsed_s = (double)(util_now_mono_ns() - t0) / 1e9;
	out->per_s = out->elapsed_s > 0 ? (double)out->ok / out->elapsed_s : 0;
}

void cost_throughput(enum bench_system sys, const char *api, const char *ns, long clients,
                     unsigned warmup_ms, long seconds, struct cost_writes *out)
{
	struct writer w = {.sys = sys, .api = api, .ns = ns, .total = -1, .out = out};

	*out = (struct cost_writes){.ok = 0};
	w.begin = util_now_mono_ns() + warmup_ms * 1000000ull;
	w.end = w.begin + (uint64_t)seconds * 1000000000ull;
	writer_run(&w, clients);
	out->elapsed_s = (double)seconds;
	out->per_s = (double)out->ok_window / (double)seconds;
}

/* --- reads --- */

static size_t get_sink(char *data, size_t size, size_t n, void *ud)
{
	struct cost_get *g = ud;
	size_t len = size * n;

	if (g->len + len + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 1 << 20;
		char *p;
		while (cap < g->len + len + 1)
			cap *= 2;
		if ((p = realloc(g->body, cap)) == NULL) {
			g->oom = true;
			return 0;
		}
		g->body = p;
		g->cap = cap;
	}
	memcpy(g->body + g->len, data, len);
	g->len += len;
	g->body[g->len] = '\0';
	return len;
}

int cost_get_run(struct cost_get *g, const char *url, const char *accept, const char *post)
{
	struct curl_slist *hdrs = NULL;
	char line[160];
	uint64_t t0;
	CURLcode rc;

	if (g->h == NULL)
		bench_fail("curl_easy_init failed");
	if (accept != NULL) {
		snprintf(line, sizeof line, "Accept: %s", accept);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (post != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	g->len = 0;
	g->status = 0;
	curl_easy_setopt(g->h, CURLOPT_URL, url);
	curl_easy_setopt(g->h, CURLOPT_HTTPHEADER, hdrs);
	if (post != NULL) {
		curl_easy_setopt(g->h, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(g->h, CURLOPT_POSTFIELDSIZE, -1L);
	} else {
		curl_easy_setopt(g->h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(g->h, CURLOPT_WRITEFUNCTION, get_sink);
	curl_easy_setopt(g->h, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(g->h, CURLOPT_TIMEOUT_MS, (long)READ_TIMEOUT_MS);
	t0 = util_now_mono_ns();
	rc = curl_easy_perform(g->h);
	g->ms = (double)(util_now_mono_ns() - t0) / 1e6;
	curl_easy_setopt(g->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (g->oom)
		bench_fail("out of memory for a %zu-byte answer from %s", g->len, url);
	if (g->body == NULL)
		get_sink("", 1, 0, g); /* an empty answer is still a string */
	if (rc != CURLE_OK)
		return -1;
	curl_easy_getinfo(g->h, CURLINFO_RESPONSE_CODE, &g->status);
	return 0;
}

void cost_get_free(struct cost_get *g)
{
	if (g->h != NULL)
		curl_easy_cleanup(g->h);
	free(g->body);
	*g = (struct cost_get){.h = NULL};
}

long cost_post(CURL *h, const char *url, const char *body)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	struct slot s = {.resp_len = 0};
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, -1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, slot_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)WRITE_TIMEOUT_MS);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return status;
}

long cost_metric(CURL *h, const char *api, const char *name)
{
	struct cost_get g = {.h = h};
	char url[128];
	size_t nlen = strlen(name);
	long v = -1;

	snprintf(url, sizeof url, BENCH_SCHEME "%s/metrics", api);
	if (cost_get_run(&g, url, NULL, NULL) == 0 && g.status == 200) {
		for (char *p = g.body; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			if (strncmp(p, name, nlen) == 0 && (p[nlen] == ' ' || p[nlen] == '{')) {
				char *sp = strchr(p, ' ');
				v = sp ? strtol(sp + 1, NULL, 10) : -1;
				break;
			}
		}
	}
	free(g.body);
	return v;
}

/* --- process memory --- */

void cost_mem_read(pid_t pid, struct cost_mem *m)
{
	char path[64], line[256];
	FILE *f;

	*m = (struct cost_mem){.rss_kb = -1, .hwm_kb = -1, .anon_kb = -1};
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		sscanf(line, "VmRSS: %ld", &m->rss_kb);
		sscanf(line, "VmHWM: %ld", &m->hwm_kb);
		sscanf(line, "RssAnon: %ld", &m->anon_kb);
	}
	fclose(f);
}

bool cost_mem_reset_peak(pid_t pid)
{
	char path[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
	if ((f = fopen(path, "w")) == NULL)
		return false;
	/* "5" resets the peak resident set size to the current one (proc(5), since Linux 4.0) */
	ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}
