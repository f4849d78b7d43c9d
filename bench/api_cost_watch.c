/* api_cost_watch.c — api_cost_bench's open watches: streams read on a thread of their own (its own
 * libcurl multi handle), so that reading them does not hold up the writers, and counted.
 *
 * stsd sends one JSON event per line (../shared/KUBECTL.md, Watch): lines are counted and an
 * ERROR event is told by its type. etcd's gateway sends one JSON message per response of its
 * watch stream, each carrying any number of events, every one with a "kv" member: those are
 * counted (keys and values are base64, so the pattern cannot occur inside them). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_cost.h"

#define POLL_MS 100

struct sink_ctx {
	enum bench_system sys;
	struct cost_watch *w;
};

struct cost_watches {
	enum bench_system sys;
	struct cost_watch *w;
	size_t n;
	CURLM *multi;
	CURL **hs;
	struct sink_ctx *ctx; /* one per watch: what its callbacks feed */
	struct curl_slist *hdrs;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	double cpu_s;
};

static const char etcd_event[] = "\"kv\":";

/* A whole stsd event line (its first bytes in w->line) has arrived. */
static void stsd_line_done(struct cost_watch *w)
{
	w->line[w->line_len] = '\0';
	if (w->line_len > 0)
		atomic_fetch_add(&w->events, 1);
	if (strstr(w->line, "\"ERROR\"") != NULL)
		atomic_fetch_add(&w->errors, 1);
	w->line_len = 0;
}

static void stsd_feed(struct cost_watch *w, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n')
			stsd_line_done(w);
		else if (w->line_len < sizeof w->line - 1)
			w->line[w->line_len++] = p[i];
	}
}

/* Count "kv": across chunk boundaries: w->match is how much of it the stream has just matched. */
static void etcd_feed(struct cost_watch *w, const char *p, size_t len)
{
	const size_t plen = sizeof etcd_event - 1;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == etcd_event[w->match])
			w->match++;
		else
			w->match = p[i] == etcd_event[0];
		if ((size_t)w->match == plen) {
			atomic_fetch_add(&w->events, 1);
			w->match = 0;
		}
	}
	/* a watch the server cancels says so; it then receives nothing more */
	if (memmem(p, len, "\"canceled\":true", 15) != NULL)
		atomic_fetch_add(&w->errors, 1);
}

static size_t on_stream(char *data, size_t size, size_t n, void *ud)
{
	struct sink_ctx *ctx = ud;
	size_t len = size * n;

	atomic_fetch_add(&ctx->w->bytes, len);
	if (ctx->sys == BENCH_STSD)
		stsd_feed(ctx->w, data, len);
	else
		etcd_feed(ctx->w, data, len);
	return len;
}

/* The status line of the answer: the stream is open once it says 200. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct sink_ctx *ctx = ud;
	size_t len = size * n;
	long status;

	if (len > 9 && strncmp(data, "HTTP/", 5) == 0 && sscanf(data + 9, "%ld", &status) == 1)
		atomic_store(&ctx->w->status, status);
	return len;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *reader(void *ud)
{
	struct cost_watches *ws = ud;
	int running = 0, queued;
	double cpu0 = thread_cpu_s();
	CURLMsg *msg;

	while (!atomic_load(&ws->stop)) {
		curl_multi_perform(ws->multi, &running);
		while ((msg = curl_multi_info_read(ws->multi, &queued)) != NULL) {
			char *priv = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			atomic_store(&((struct sink_ctx *)priv)->w->ended, true);
			curl_multi_remove_handle(ws->multi, msg->easy_handle);
		}
		curl_multi_poll(ws->multi, NULL, 0, POLL_MS, NULL);
	}
	ws->cpu_s = thread_cpu_s() - cpu0;
	return NULL;
}

static bool open_one(struct cost_watches *ws, size_t i)
{
	CURL *h = bench_curl_new(ws->sys);

	if (h == NULL)
		return false;
	ws->hs[i] = h;
	curl_easy_setopt(h, CURLOPT_URL, ws->w[i].url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, ws->hdrs);
	if (ws->sys == BENCH_ETCD) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, ws->w[i].post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, -1L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &ws->ctx[i]);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &ws->ctx[i]);
	curl_easy_setopt(h, CURLOPT_PRIVATE, &ws->ctx[i]);
	return curl_multi_add_handle(ws->multi, h) == CURLM_OK;
}

struct cost_watches *cost_watches_start(enum bench_system sys, struct cost_watch *w, size_t n)
{
	struct cost_watches *ws = calloc(1, sizeof *ws);

	if (ws == NULL)
		return NULL;
	*ws = (struct cost_watches){.sys = sys, .w = w, .n = n};
	ws->multi = curl_multi_init();
	ws->hs = calloc(n ? n : 1, sizeof *ws->hs);
	ws->ctx = calloc(n ? n : 1, sizeof *ws->ctx);
	ws->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (ws->multi == NULL || ws->hs == NULL || ws->ctx == NULL || ws->hdrs == NULL)
		bench_fail("out of memory for %zu watches", n);
	for (size_t i = 0; i < n; i++)
		ws->ctx[i] = (struct sink_ctx){.sys = sys, .w = &w[i]};
	curl_multi_setopt(ws->multi, CURLMOPT_MAXCONNECTS, (long)n);
	for (size_t i = 0; i < n; i++)
		if (!open_one(ws, i))
			bench_fail("cannot open watch %zu (%s)", i, w[i].url);
	if (pthread_create(&ws->thread, NULL, reader, ws) != 0) {
		cost_watches_stop(ws, NULL);
		return NULL;
	}
	ws->started = true;
	return ws;
}

void cost_watches_stop(struct cost_watches *ws, double *cpu_s)
{
	if (ws->started) {
		atomic_store(&ws->stop, true);
		curl_multi_wakeup(ws->multi);
		pthread_join(ws->thread, NULL);
	}
	if (cpu_s != NULL)
		*cpu_s = ws->cpu_s;
	for (size_t i = 0; i < ws->n; i++) {
		if (ws->hs[i] == NULL)
			continue;
		curl_multi_remove_handle(ws->multi, ws->hs[i]);
		curl_easy_cleanup(ws->hs[i]);
	}
	curl_multi_cleanup(ws->multi);
	curl_slist_free_all(ws->hdrs);
	free(ws->hs);
	free(ws->ctx);
	free(ws);
}
