/* reconcile_http.c — reconcile_bench's HTTP (bulk sends, GETs, a watch thread) and its /proc
 * readings (reconcile.h). */
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "reconcile.h"
#include "util.h"

#define MAX_PARALLEL 64
#define MAX_TRIES    20
#define SEND_TIMEOUT 10000

/* A growable answer buffer. */
struct buf {
	char *p;
	size_t n, cap;
};

static size_t buf_sink(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t len = size * nmemb;

	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *ud)
{
	(void)data;
	(void)ud;
	return size * nmemb;
}

char *rc_get_text(const char *api, const char *path, long timeout_ms)
{
	CURL *h = bench_curl_new(BENCH_STSD);
	struct buf b = {0};
	char url[512];
	long status = 0;

	if (h == NULL)
		return NULL;
	snprintf(url, sizeof url, BENCH_SCHEME "%s%s", api, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(h) != CURLE_OK ||
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
		free(b.p);
		b.p = NULL;
	}
	curl_easy_cleanup(h);
	return b.p;
}

json_t *rc_get_json(const char *api, const char *path, long timeout_ms)
{
	char *text = rc_get_text(api, path, timeout_ms);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	return j;
}

double rc_metric(const char *metrics, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = metrics; p != NULL && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

/* One slot of the bulk sender: a handle, its headers, the request it carries. */
struct slot {
	CURL *h;
	struct curl_slist *hdrs;
	struct rc_req *r;
};

static void slot_load(struct slot *s, const char *api, struct rc_req *r)
{
	char url[256], ct[96];

	s->r = r;
	r->tries++;
	curl_slist_free_all(s->hdrs);
	snprintf(ct, sizeof ct, "Content-Type: %s", r->ctype);
	s->hdrs = curl_slist_append(NULL, ct);
	snprintf(url, sizeof url, BENCH_SCHEME "%s%s", api, r->path);
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)SEND_TIMEOUT);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, discard);
}

/* Whether a finished request is done (else it goes again). */
static bool finished(struct rc_req *r, CURLcode rc, long status)
{
	bool retry = rc != CURLE_OK || status == 429 || status >= 500;

	if (r->tries > 1 && strcmp(r->method, "POST") == 0 && status == 409)
		status = 201; /* an earlier attempt committed */
	r->status = rc == CURLE_OK ? status : 0;
	return !retry || r->tries >= MAX_TRIES;
}

size_t rc_send_many(const char *api, struct rc_req *reqs, size_t n, int parallel)
{
	struct slot slots[MAX_PARALLEL] = {{0}};
	CURLM *m = curl_multi_init();
	size_t next = 0, ok = 0, live = 0;
	int running = 0, left;

	parallel = parallel < 1 ? 1 : parallel > MAX_PARALLEL ? MAX_PARALLEL : parallel;
	for (int i = 0; i < parallel; i++) {
		slots[i].h = bench_curl_new(BENCH_STSD);
		curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, &slots[i]);
		if (next < n) {
			slot_load(&slots[i], api, &reqs[next++]);
			curl_multi_add_handle(m, slots[i].h);
			live++;
		}
	}
	while (live > 0) {
		CURLMsg *msg;

		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(m, s->h);
			live--;
			if (finished(s->r, msg->data.result, status)) {
				ok += s->r->status >= 200 && s->r->status < 300;
				if (next >= n)
					continue;
				slot_load(s, api, &reqs[next++]);
			} else {
				bench_poll_sleep(20);
				slot_load(s, api, s->r);
			}
			curl_multi_add_handle(m, s->h);
			live++;
		}
	}
	for (int i = 0; i < parallel; i++) {
		curl_slist_free_all(slots[i].hdrs);
		curl_easy_cleanup(slots[i].h);
	}
	curl_multi_cleanup(m);
	return ok;
}

/* ---- The watch --------------------------------------------------------------------------------
 */

static void watch_line(struct rc_watch *w, const char *line, size_t len)
{
	json_t *e = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(e, "type"));
	json_t *meta = json_object_get(json_object_get(e, "object"), "metadata");
	const char *rvs = json_string_value(json_object_get(meta, "resourceVersion"));
	uint64_t rv = rvs ? strtoull(rvs, NULL, 10) : 0, after = w->after;

	w->events++;
	if (rv > w->last_rv)
		w->last_rv = rv;
	if (type != NULL && strcmp(type, w->want) == 0 && after > 0 && rv > after &&
	    w->hit_ns == 0) {
		w->hit_rv = rv;
		w->hit_ns = util_now_mono_ns();
	}
	json_decref(e);
}

static size_t watch_sink(char *data, size_t size, size_t nmemb, void *ud)
{
	struct rc_watch *w = ud;
	size_t len = size * nmemb;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			watch_line(w, w->line, w->line_len);
			w->line_len = 0;
		} else if (w->line_len < sizeof w->line - 1) {
			w->line[w->line_len++] = data[i];
		}
	}
	return len;
}

static int watch_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return ((struct rc_watch *)ud)->stop ? 1 : 0;
}

/* Watch until stopped; a stream that ends (the replica closed it, or failed over) is resumed
 * from the last resourceVersion seen, as a client would. */
static void *watch_main(void *ud)
{
	struct rc_watch *w = ud;
	CURL *h = bench_curl_new(BENCH_STSD);
	char url[320];

	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 600000L);
	while (!w->stop) {
		snprintf(url, sizeof url, "%s&resourceVersion=%llu", w->url,
		         (unsigned long long)w->last_rv);
		curl_easy_setopt(h, CURLOPT_URL, url);
		w->line_len = 0;
		curl_easy_perform(h);
		if (!w->stop) {
			w->reconnects++;
			usleep(50000);
		}
	}
	curl_easy_cleanup(h);
	return NULL;
}

int rc_watch_start(struct rc_watch *w, const char *api, const char *path, uint64_t rv,
                   const char *want)
{
	snprintf(w->url, sizeof w->url, BENCH_SCHEME "%s%s", api, path);
	w->want = want;
	w->last_rv = rv;
	w->reconnects = 0;
	w->after = w->hit_ns = w->hit_rv = w->events = 0;
	w->stop = 0;
	w->line_len = 0;
	w->started = pthread_create(&w->thread, NULL, watch_main, w) == 0;
	return w->started ? 0 : -1;
}

void rc_watch_stop(struct rc_watch *w)
{
	if (!w->started)
		return;
	w->stop = 1;
	pthread_join(w->thread, NULL);
	w->started = false;
}

/* ---- /proc ------------------------------------------------------------------------------------
 */

long rc_rss_anon_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

struct thread_cpu {
	int tid;
	char comm[32];
	double cpu_s;
};

/* utime + stime of /proc/PID/task/TID/stat in seconds (fields 14 and 15, after the comm). */
static bool read_thread(pid_t pid, int tid, struct thread_cpu *t)
{
	char path[96], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, tid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (open == NULL || close == NULL)
		return false;
	snprintf(t->comm, sizeof t->comm, "%.*s", (int)(close - open - 1), open + 1);
	p = close + 2;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return false;
	t->tid = tid;
	t->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return true;
}

static int by_cpu(const void *a, const void *b)
{
	double x = ((const struct thread_cpu *)a)->cpu_s, y = ((const struct thread_cpu *)b)->cpu_s;
	return x < y ? 1 : x > y ? -1 : 0;
}

void rc_print_threads(const char *prog, int member, pid_t pid, int n)
{
	struct thread_cpu t[256];
	char path[64];
	struct dirent *d;
	size_t k = 0;
	DIR *dir;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL && k < sizeof t / sizeof t[0])
		if (d->d_name[0] != '.' && read_thread(pid, atoi(d->d_name), &t[k]))
			k++;
	closedir(dir);
	qsort(t, k, sizeof t[0], by_cpu);
	for (size_t i = 0; i < k && (int)i < n; i++)
		printf("%s: threads member=%d tid=%d comm=%s cpu_s=%.2f\n", prog, member, t[i].tid,
		       t[i].comm, t[i].cpu_s);
}
