/* forward.c — outgoing HTTP: libcurl multi on its own thread, answers delivered on the loop. */
#include "forward.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "errors.h"
#include "log.h"
#include "util.h"

#define MOD                "forward"
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_MS 1000
#define POLL_MS            1000 /* curl_multi_poll also wakes for curl's own timers */
/* Connections kept alive in the multi's cache (to the leader, mostly): more than the agents a
 * follower serves, or each of their writes pays a TLS handshake (50 simulated nodes did). */
#define MAX_IDLE_CONNS 128

/* Where a call is; every transition happens under f->mu. */
enum call_state {
	CALL_QUEUED, /* in f->queued: sent, not yet taken by the curl thread */
	CALL_ACTIVE, /* taken: the curl thread owns it and its easy handle */
	CALL_DONE,   /* in f->done: finished, holds no curl resource, waits for the loop */
};

TAILQ_HEAD(call_list, api_fwd_call);

struct api_fwd_call {
	TAILQ_ENTRY(api_fwd_call) link; /* in exactly one list at a time */
	struct api_fwd *f;
	enum call_state state; /* under f->mu */
	bool cancelled;        /* under f->mu; set only while ACTIVE */
	api_fwd_cb cb;
	void *ud;
	long timeout_ms;
	uint64_t sent_ms;
	/* Curl thread only while ACTIVE. */
	CURL *easy;
	struct curl_slist *slist;
	bool toobig, nomem;
	/* The answer. */
	int error;
	long status;
	char errbuf[CURL_ERROR_SIZE];
	char **headers;
	size_t n_headers, cap_headers;
	char *resp;
	size_t resp_len, resp_cap;
	/* The request, copied by api_fwd_send into the same allocation (see call_new). */
	const char *method, *url, *body;
	size_t body_len, n_req_headers;
	const char *req_headers[];
};

struct api_fwd {
	uv_loop_t *loop;
	uv_async_t async; /* the curl thread's nudge: something is in done, or it exited */
	pthread_t thread;
	CURLM *multi;
	long connect_timeout_ms;
	char *ca_file, *cert_file, *key_file;
	pthread_mutex_t mu;
	struct call_list queued; /* under mu */
	struct call_list done;   /* under mu */
	bool quit;               /* under mu: api_fwd_stop ran */
	bool reap;               /* under mu: an ACTIVE call was cancelled */
	bool exited;             /* under mu: no more curl_multi_wakeup (the multi is going away) */
	struct call_list active; /* curl thread only */
	/* Loop thread only. */
	bool stopping, closing;
	api_fwd_done_cb done_cb;
	void *done_ud;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rv;

/* curl_global_init must run once per process, before any other curl call. */
static void global_init(void)
{
	global_rv = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- Plain memory (either thread) ---------------------------------------------------------- */

/* p with room for need elements of size elem (capacity *cap); NULL on allocation failure, when p
 * is left as it was. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap;

	if (need <= n)
		return p;
	while (n < need)
		n = n == 0 ? 16 : 2 * n;
	if ((p = realloc(p, n * elem)) != NULL)
		*cap = n;
	return p;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Frees a call that holds no curl resource. */
static void call_free(struct api_fwd_call *c)
{
	free_lines(c->headers, c->n_headers);
	free(c->resp);
	free(c);
}

static void fwd_free(struct api_fwd *f)
{
	pthread_mutex_destroy(&f->mu);
	free(f->ca_file);
	free(f->cert_file);
	free(f->key_file);
	free(f);
}

/* Only called with f->mu held: after exited the multi handle may be gone. */
static void wake_locked(struct api_fwd *f)
{
	if (!f->exited)
		curl_multi_wakeup(f->multi);
}

/* ---- Curl thread: transfers ---------------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct api_fwd_call *c = ud;
	size_t n = size * nmemb;
	char *p;

	if (n > API_FWD_MAX_BODY - c->resp_len) {
		c->toobig = true;
		return 0;
	}
	if ((p = grow(c->resp, &c->resp_cap, c->resp_len + n + 1, 1)) == NULL) {
		c->nomem = true;
		return 0;
	}
	c->resp = p;
	memcpy(c->resp + c->resp_len, data, n);
	c->resp_len += n;
	c->resp[c->resp_len] = '\0';
	return n;
}

/* Keeps "Name: value" lines; a status line starts a new response (after a 1xx), so the lines
 * collected so far belonged to an interim one. */
static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct api_fwd_call *c = ud;
	size_t n = size * nmemb, len = n;
	char **v;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		free_lines(c->headers, c->n_headers);
		c->headers = NULL;
		c->n_headers = c->cap_headers = 0;
		return n;
	}
	if (len == 0)
		return n;
	if ((v = grow(c->headers, &c->cap_headers, c->n_headers + 1, sizeof *v)) != NULL)
		c->headers = v;
	if (v == NULL || (v[c->n_headers] = strndup(line, len)) == NULL) {
		c->nomem = true;
		return 0;
	}
	c->n_headers++;
	return n;
}

static bool make_slist(struct api_fwd_call *c)
{
	struct curl_slist *next;

	for (size_t i = 0; i < c->n_req_headers; i++) {
		if ((next = curl_slist_append(c->slist, c->req_headers[i])) == NULL)
			return false;
		c->slist = next;
	}
	return true;
}

/* HEAD must not wait for a body; other methods go out as named. POST, PUT and PATCH always carry
 * a Content-Length, other methods only when they have a body. The body is the call's own copy,
 * alive until the easy handle is cleaned up, so curl need not copy it again. */
static void set_method(struct api_fwd_call *c)
{
	const char *m = c->method;

	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_NOBODY, 1L);
		return;
	}
	if (c->body_len > 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "PATCH") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	}
	curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, m);
}

static void set_tls(const struct api_fwd *f, CURL *e)
{
	if (f->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	if (f->cert_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, f->cert_file);
	if (f->key_file != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, f->key_file);
}

static void set_transfer(const struct api_fwd *f, struct api_fwd_call *c)
{
	CURL *e = c->easy;

	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* Reuse only connections idle for less than the peers' own idle timeout (30 s with TLS,
	 * api/http_server.c): curl's default (118 s) reused connections the leader had already
	 * closed, and a forward over one failed ("Send failure", bench/tls). */
	curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, 20L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, f->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->slist);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)API_FWD_MAX_BODY);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	set_tls(f, e);
	set_method(c);
}

static bool start_call(struct api_fwd *f, struct api_fwd_call *c)
{
	if ((c->easy = curl_easy_init()) == NULL || !make_slist(c))
		return false;
	set_transfer(f, c);
	return curl_multi_add_handle(f->multi, c->easy) == CURLM_OK;
}

/* Removing the easy handle leaves its connection in the multi's cache for the next call. */
static void release_easy(struct api_fwd *f, struct api_fwd_call *c)
{
	if (c->easy != NULL) {
		curl_multi_remove_handle(f->multi, c->easy);
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	curl_slist_free_all(c->slist);
	c->slist = NULL;
}

/* The outcome of a finished transfer, with the reason in c->errbuf. */
static int judge(struct api_fwd_call *c, CURLcode rc)
{
	if (c->nomem || rc == CURLE_OUT_OF_MEMORY)
		return stsd_errf(c->errbuf, sizeof c->errbuf, STSD_NOMEM, "out of memory");
	if (c->toobig || rc == CURLE_FILESIZE_EXCEEDED)
		return stsd_errf(c->errbuf, sizeof c->errbuf, STSD_TOOBIG, "answer over %zu bytes",
		                 API_FWD_MAX_BODY);
	if (rc == CURLE_OK) {
		c->errbuf[0] = '\0';
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		return STSD_OK;
	}
	if (c->errbuf[0] == '\0')
		snprintf(c->errbuf, sizeof c->errbuf, "%s", curl_easy_strerror(rc));
	return rc == CURLE_OPERATION_TIMEDOUT ? STSD_TIMEOUT : STSD_IO;
}

static void log_outcome(const struct api_fwd_call *c)
{
	unsigned long long ms = (unsigned long long)(util_now_mono_ms() - c->sent_ms);
	char msg[CURL_ERROR_SIZE + 8];

	if (c->error == STSD_OK)
		log_debug(MOD, "event=forward_done method=%s url=%s status=%ld ms=%llu", c->method,
		          c->url, c->status, ms);
	else
		log_warn(MOD, "event=forward_failed method=%s url=%s err=%s msg=%s ms=%llu",
		         c->method, c->url, stsd_errname(c->error),
		         log_quote(msg, sizeof msg, c->errbuf), ms);
}

/* Hand a finished call to the loop, or free it when the loop lost interest. */
static void finish(struct api_fwd *f, struct api_fwd_call *c, CURLcode rc)
{
	bool cancelled;

	c->error = judge(c, rc);
	release_easy(f, c);
	TAILQ_REMOVE(&f->active, c, link);
	log_outcome(c);
	pthread_mutex_lock(&f->mu);
	if (!(cancelled = c->cancelled)) {
		c->state = CALL_DONE;
		TAILQ_INSERT_TAIL(&f->done, c, link);
	}
	pthread_mutex_unlock(&f->mu);
	if (cancelled)
		call_free(c);
	else
		uv_async_send(&f->async);
}

static void drain(struct api_fwd *f)
{
	CURLMsg *m;
	CURLcode rc;
	char *c;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result; /* m is gone once the handle is removed */
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
		finish(f, (struct api_fwd_call *)c, rc);
	}
}

/* Move what api_fwd_send queued into fresh (unless stopping); returns quit, sets *reap. */
static bool take(struct api_fwd *f, struct call_list *fresh, bool *reap)
{
	struct api_fwd_call *c;
	bool quit;

	pthread_mutex_lock(&f->mu);
	quit = f->quit;
	*reap = f->reap;
	f->reap = false;
	while (!quit && (c = TAILQ_FIRST(&f->queued)) != NULL) {
		TAILQ_REMOVE(&f->queued, c, link);
		c->state = CALL_ACTIVE;
		TAILQ_INSERT_TAIL(fresh, c, link);
	}
	pthread_mutex_unlock(&f->mu);
	return quit;
}

static void start_all(struct api_fwd *f, struct call_list *fresh)
{
	struct api_fwd_call *c;

	while ((c = TAILQ_FIRST(fresh)) != NULL) {
		TAILQ_REMOVE(fresh, c, link);
		TAILQ_INSERT_TAIL(&f->active, c, link);
		if (!start_call(f, c))
			finish(f, c, CURLE_OUT_OF_MEMORY);
	}
}

/* Frees every call of list, aborting its transfer. */
static void free_calls(struct api_fwd *f, struct call_list *list)
{
	struct api_fwd_call *c;

	while ((c = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, c, link);
		release_easy(f, c);
		call_free(c);
	}
}

/* Abort the transfers api_fwd_cancel marked. */
static void reap_cancelled(struct api_fwd *f)
{
	struct api_fwd_call *c, *next;
	struct call_list doomed;

	TAILQ_INIT(&doomed);
	pthread_mutex_lock(&f->mu);
	for (c = TAILQ_FIRST(&f->active); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->cancelled) {
			TAILQ_REMOVE(&f->active, c, link);
			TAILQ_INSERT_TAIL(&doomed, c, link);
		}
	}
	pthread_mutex_unlock(&f->mu);
	free_calls(f, &doomed);
}

/* Under f->mu: every call of list completes with STSD_SHUTDOWN, or goes to doomed if cancelled. */
static void shut_list(struct api_fwd *f, struct call_list *list, struct call_list *doomed)
{
	struct api_fwd_call *c;

	while ((c = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, c, link);
		if (c->cancelled) {
			TAILQ_INSERT_TAIL(doomed, c, link);
			continue;
		}
		c->error = stsd_errf(c->errbuf, sizeof c->errbuf, STSD_SHUTDOWN, "stopped");
		c->state = CALL_DONE;
		TAILQ_INSERT_TAIL(&f->done, c, link);
	}
}

static void shutdown_all(struct api_fwd *f)
{
	struct api_fwd_call *c;
	struct call_list doomed;

	TAILQ_INIT(&doomed);
	for (c = TAILQ_FIRST(&f->active); c != NULL; c = TAILQ_NEXT(c, link))
		release_easy(f, c);
	pthread_mutex_lock(&f->mu);
	shut_list(f, &f->active, &doomed);
	shut_list(f, &f->queued, &doomed);
	f->exited = true;
	pthread_mutex_unlock(&f->mu);
	free_calls(f, &doomed);
	curl_multi_cleanup(f->multi);
	f->multi = NULL;
	uv_async_send(&f->async);
}

static void *run(void *arg)
{
	struct api_fwd *f = arg;
	struct call_list fresh;
	bool reap;
	int running;

	TAILQ_INIT(&fresh);
	for (;;) {
		bool quit = take(f, &fresh, &reap);

		if (reap)
			reap_cancelled(f);
		if (quit)
			break;
		start_all(f, &fresh);
		curl_multi_perform(f->multi, &running);
		drain(f);
		curl_multi_poll(f->multi, NULL, 0, POLL_MS, NULL);
	}
	shutdown_all(f);
	return NULL;
}

/* ---- Loop thread --------------------------------------------------------------------------- */

/* Pop one finished call; NULL when none, with *exited telling whether the thread is gone. */
static struct api_fwd_call *pop_done(struct api_fwd *f, bool *exited)
{
	struct api_fwd_call *c;

	pthread_mutex_lock(&f->mu);
	if ((c = TAILQ_FIRST(&f->done)) != NULL)
		TAILQ_REMOVE(&f->done, c, link);
	*exited = f->exited;
	pthread_mutex_unlock(&f->mu);
	return c;
}

/* A failed call shows no status, headers or body, whatever arrived before the failure. */
static void deliver(struct api_fwd_call *c)
{
	bool ok = c->error == STSD_OK;
	struct api_fwd_response r = {
	    .error = c->error,
	    .errmsg = ok ? "" : c->errbuf,
	    .status = ok ? c->status : 0,
	    .headers = ok ? (const char *const *)c->headers : NULL,
	    .n_headers = ok ? c->n_headers : 0,
	    .body = ok && c->resp != NULL ? c->resp : "",
	    .body_len = ok ? c->resp_len : 0,
	};

	c->cb(c->ud, &r);
}

static void on_closed(uv_handle_t *h)
{
	struct api_fwd *f = h->data;
	api_fwd_done_cb done = f->done_cb;
	void *ud = f->done_ud;

	fwd_free(f);
	log_debug(MOD, "event=forward_stopped");
	if (done != NULL)
		done(ud);
}

/* One call at a time: a callback may cancel a call still in f->done. */
static void on_async(uv_async_t *a)
{
	struct api_fwd *f = a->data;
	struct api_fwd_call *c;
	bool exited;

	while ((c = pop_done(f, &exited)) != NULL) {
		deliver(c);
		call_free(c);
	}
	if (exited && !f->closing) {
		f->closing = true;
		pthread_join(f->thread, NULL);
		uv_close((uv_handle_t *)&f->async, on_closed);
	}
}

static void on_failed_close(uv_handle_t *h)
{
	fwd_free(h->data);
}

static char *dup_or_null(const char *s, bool *nomem)
{
	char *d = s != NULL ? strdup(s) : NULL;

	*nomem = *nomem || (s != NULL && d == NULL);
	return d;
}

static struct api_fwd *fwd_new(uv_loop_t *loop, const struct api_fwd_options *o)
{
	static const struct api_fwd_options none;
	struct api_fwd *f = calloc(1, sizeof *f);
	bool nomem = false;

	if (f == NULL)
		return NULL;
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		return NULL;
	}
	o = o != NULL ? o : &none;
	f->loop = loop;
	f->connect_timeout_ms =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
	f->ca_file = dup_or_null(o->ca_file, &nomem);
	f->cert_file = dup_or_null(o->cert_file, &nomem);
	f->key_file = dup_or_null(o->key_file, &nomem);
	TAILQ_INIT(&f->queued);
	TAILQ_INIT(&f->done);
	TAILQ_INIT(&f->active);
	if (nomem) {
		fwd_free(f);
		return NULL;
	}
	return f;
}

/* The multi handle is made here, before the thread exists, and from then on used only by the
 * thread (pthread_create orders the hand-over): no curl handle is ever shared between threads.
 * On failure f is freed (by the close callback once the async exists). */
static int fwd_launch(struct api_fwd *f, char *err, size_t errlen)
{
	int rv;

	if ((f->multi = curl_multi_init()) == NULL) {
		fwd_free(f);
		return stsd_errf(err, errlen, STSD_IO, "forward: curl_multi_init failed");
	}
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)MAX_IDLE_CONNS);
	if ((rv = uv_async_init(f->loop, &f->async, on_async)) != 0) {
		curl_multi_cleanup(f->multi);
		fwd_free(f);
		return stsd_errf(err, errlen, STSD_IO, "forward: uv_async_init: %s",
		                 uv_strerror(rv));
	}
	f->async.data = f;
	if ((rv = pthread_create(&f->thread, NULL, run, f)) != 0) {
		curl_multi_cleanup(f->multi);
		uv_close((uv_handle_t *)&f->async, on_failed_close);
		return stsd_errf(err, errlen, STSD_IO, "forward: pthread_create: %s", strerror(rv));
	}
	return STSD_OK;
}

int api_fwd_start(uv_loop_t *loop, const struct api_fwd_options *o, struct api_fwd **out, char *err,
                  size_t errlen)
{
	struct api_fwd *f;
	int rv;

	pthread_once(&global_once, global_init);
	if (global_rv != CURLE_OK)
		return stsd_errf(err, errlen, STSD_IO, "forward: curl_global_init: %s",
		                 curl_easy_strerror(global_rv));
	if ((f = fwd_new(loop, o)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "forward: out of memory");
	if ((rv = fwd_launch(f, err, errlen)) != STSD_OK)
		return rv;
	*out = f;
	log_debug(MOD, "event=forward_started connect_timeout_ms=%ld tls=%s", f->connect_timeout_ms,
	          f->ca_file != NULL ? "yes" : "no");
	return STSD_OK;
}

static int check_request(const struct api_fwd_request *r)
{
	const char *m = r->method;

	if (m == NULL || m[0] == '\0' || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(m))
		return STSD_INVALID;
	if (r->url == NULL || r->url[0] == '\0' || strpbrk(r->url, " \r\n") != NULL)
		return STSD_INVALID;
	if ((r->body_len > 0 && r->body == NULL) || (r->n_headers > 0 && r->headers == NULL))
		return STSD_INVALID;
	for (size_t i = 0; i < r->n_headers; i++)
		if (r->headers[i] == NULL || strpbrk(r->headers[i], "\r\n") != NULL)
			return STSD_INVALID;
	return STSD_OK;
}

/* Headers curl adds on its own unless the caller set them, sent empty to stop it: "Expect:
 * 100-continue" (a round trip, or a one-second wait, for big bodies) and a form Content-Type. */
static const char *const suppressed[] = {"Expect:", "Content-Type:"};

static bool has_header(const struct api_fwd_request *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strncasecmp(r->headers[i], name, strlen(name)) == 0)
			return true;
	return false;
}

/* Copy len bytes of s to *p, NUL-terminated, and move *p past them; returns the copy. */
static const char *put(char **p, const void *s, size_t len)
{
	char *d = *p;

	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	*p = d + len + 1;
	return d;
}

/* The request in one allocation: the header pointers, then the strings and the body. */
static struct api_fwd_call *call_new(const struct api_fwd_request *r)
{
	size_t n = r->n_headers + 2, size = sizeof(struct api_fwd_call) + n * sizeof(char *) +
	                                    strlen(r->method) + strlen(r->url) + r->body_len + 3;
	struct api_fwd_call *c;
	char *p;

	for (size_t i = 0; i < r->n_headers; i++)
		size += strlen(r->headers[i]) + 1;
	if ((c = calloc(1, size)) == NULL)
		return NULL;
	p = (char *)&c->req_headers[n];
	c->method = put(&p, r->method, strlen(r->method));
	c->url = put(&p, r->url, strlen(r->url));
	c->body = put(&p, r->body, c->body_len = r->body_len);
	for (size_t i = 0; i < r->n_headers; i++)
		c->req_headers[c->n_req_headers++] = put(&p, r->headers[i], strlen(r->headers[i]));
	for (size_t i = 0; i < 2; i++)
		if (!has_header(r, suppressed[i]))
			c->req_headers[c->n_req_headers++] = suppressed[i];
	return c;
}

int api_fwd_send(struct api_fwd *f, const struct api_fwd_request *req, api_fwd_cb cb, void *ud,
                 struct api_fwd_call **call)
{
	struct api_fwd_call *c;
	int rv;

	assert(cb != NULL);
	if (f->stopping)
		return STSD_SHUTDOWN;
	if ((rv = check_request(req)) != STSD_OK)
		return rv;
	if ((c = call_new(req)) == NULL)
		return STSD_NOMEM;
	c->f = f;
	c->cb = cb;
	c->ud = ud;
	c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->sent_ms = util_now_mono_ms();
	log_debug(MOD, "event=forward_send method=%s url=%s body=%zu", c->method, c->url,
	          c->body_len);
	pthread_mutex_lock(&f->mu);
	c->state = CALL_QUEUED;
	TAILQ_INSERT_TAIL(&f->queued, c, link);
	wake_locked(f);
	pthread_mutex_unlock(&f->mu);
	if (call != NULL)
		*call = c;
	return STSD_OK;
}

void api_fwd_cancel(struct api_fwd_call *c)
{
	struct api_fwd *f = c->f;
	bool drop = true;

	/* Logged first: once marked, an ACTIVE call belongs to the curl thread, which frees it. */
	log_debug(MOD, "event=forward_cancelled method=%s url=%s", c->method, c->url);
	pthread_mutex_lock(&f->mu);
	assert(!c->cancelled);
	if (c->state == CALL_QUEUED) {
		TAILQ_REMOVE(&f->queued, c, link);
	} else if (c->state == CALL_DONE) {
		TAILQ_REMOVE(&f->done, c, link);
	} else {
		drop = false;
		c->cancelled = true;
		f->reap = true;
		wake_locked(f);
	}
	pthread_mutex_unlock(&f->mu);
	if (drop)
		call_free(c);
}

void api_fwd_stop(struct api_fwd *f, api_fwd_done_cb done, void *ud)
{
	assert(!f->stopping);
	f->stopping = true;
	f->done_cb = done;
	f->done_ud = ud;
	log_debug(MOD, "event=forward_stopping");
	pthread_mutex_lock(&f->mu);
	f->quit = true;
	wake_locked(f);
	pthread_mutex_unlock(&f->mu);
}
