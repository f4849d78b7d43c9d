/* client.c — one HTTP attempt through libcurl (whole answers or streamed lines), and failover
 * with back-off. Creating and freeing a client: client_setup.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "errors.h"
#include "internal.h"
#include "util.h"

/* What the caller asked for, as client_request received it. */
struct request {
	const char *method;
	const char *path;
	const void *body;
	size_t len;
	const char *content_type;
};

/* What client_stream adds to a request: where lines go, and when to give up. */
struct stream {
	client_line_cb cb; /* NULL: collect the body as client_request does */
	void *ud;
	const volatile int *stop; /* may be NULL */
	long timeout_ms;          /* one attempt's whole transfer */
	bool started;             /* a 2xx body is being streamed: never retried from here */
	bool cancelled;           /* *stop or the callback ended it */
	size_t scanned;           /* bytes of the held partial line known to have no '\n' */
};

/* The body and headers of one attempt as libcurl delivers them. */
struct sink {
	struct client_response *resp;
	struct stream *st; /* NULL for a plain request */
	CURL *curl;
	size_t cap;
	bool toobig;
	bool nomem;
};

/* Hand every complete line held in r->body to the stream's callback and keep the rest. A '\r'
 * before the '\n' is dropped. False when the callback asked to end. */
static bool emit_lines(struct stream *st, struct client_response *r)
{
	size_t start = 0, len;
	char *nl;

	while ((nl = memchr(r->body + st->scanned, '\n', r->body_len - st->scanned)) != NULL) {
		len = (size_t)(nl - (r->body + start));
		*nl = '\0';
		if (len > 0 && r->body[start + len - 1] == '\r')
			r->body[start + --len] = '\0';
		st->scanned = (size_t)(nl - r->body) + 1;
		if (st->cb(st->ud, r->body + start, len) != 0) {
			st->cancelled = true;
			return false;
		}
		start = st->scanned;
	}
	memmove(r->body, r->body + start, r->body_len - start);
	r->body_len -= start;
	st->scanned = r->body_len;
	return true;
}

/* The last line of a stream that ended without a '\n'. write_cb always leaves room for a NUL. */
static bool emit_tail(struct stream *st, struct client_response *r)
{
	size_t len = r->body_len;

	if (len == 0)
		return true;
	r->body[len] = '\0';
	if (r->body[len - 1] == '\r')
		r->body[--len] = '\0';
	r->body_len = 0;
	st->scanned = 0;
	if (st->cb(st->ud, r->body, len) != 0) {
		st->cancelled = true;
		return false;
	}
	return true;
}

/* Whether this write is part of a 2xx body that client_stream splits into lines. */
static bool streaming(struct sink *s)
{
	long status = 0;

	if (s->st == NULL || s->st->cb == NULL)
		return false;
	if (!s->st->started) {
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
		s->st->started = status >= 200 && status < 300;
	}
	return s->st->started;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	struct client_response *r = s->resp;
	size_t n = size * nmemb, cap = s->cap;
	bool lines = streaming(s);
	char *p;

	if (r->body_len + n > CLIENT_MAX_BODY) {
		s->toobig = true;
		return 0;
	}
	while (r->body_len + n + 1 > cap)
		cap = cap == 0 ? 4096 : 2 * cap;
	if (cap != s->cap) {
		if ((p = realloc(r->body, cap)) == NULL) {
			s->nomem = true;
			return 0;
		}
		r->body = p;
		s->cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	if (lines && !emit_lines(s->st, r))
		return 0; /* CURLE_WRITE_ERROR ends the transfer */
	return n;
}

/* libcurl calls this about once a second even when no data flows: the stop flag is seen. */
static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct stream *st = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (st->stop != NULL && *st->stop != 0) {
		st->cancelled = true;
		return 1;
	}
	return 0;
}

/* The value of header line `line` when it is header `name`, trimmed into out; false otherwise. */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && isspace((unsigned char)*line))
		line++, n--;
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	snprintf(out, len, "%.*s", (int)n, line);
	return true;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct client_response *r = ((struct sink *)ud)->resp;
	size_t n = size * nmemb;
	char value[32], *end;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
		r->content_type[0] = '\0';
		r->retry_after = -1;
	} else if (header_value(line, n, "Retry-After", value, sizeof value)) {
		long v = strtol(value, &end, 10);
		r->retry_after = end != value && *end == '\0' && v >= 0 ? v : -1;
	} else {
		header_value(line, n, "Content-Type", r->content_type, sizeof r->content_type);
	}
	return n;
}

static bool append(struct curl_slist **h, const char *line)
{
	struct curl_slist *next = curl_slist_append(*h, line);

	if (next == NULL)
		return false;
	*h = next;
	return true;
}

/* One in-memory PEM option. CURL_BLOB_NOCOPY: the client owns the bytes until it is destroyed. */
static void set_blob(CURL *curl, CURLoption opt, const char *pem, size_t len)
{
	struct curl_blob blob = {.data = (void *)pem, .len = len, .flags = CURL_BLOB_NOCOPY};

	curl_easy_setopt(curl, opt, &blob);
}

/* The CA, the client certificate and its key: a blob if given, else a file. */
static void set_tls(struct client *c)
{
	const struct client_options *o = &c->opts;

	if (o->ca_pem != NULL)
		set_blob(c->curl, CURLOPT_CAINFO_BLOB, o->ca_pem, o->ca_pem_len);
	else if (o->ca_file != NULL)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_pem != NULL) {
		set_blob(c->curl, CURLOPT_SSLCERT_BLOB, o->cert_pem, o->cert_pem_len);
		curl_easy_setopt(c->curl, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (o->cert_file != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, o->cert_file);
	}
	if (o->key_pem != NULL) {
		set_blob(c->curl, CURLOPT_SSLKEY_BLOB, o->key_pem, o->key_pem_len);
		curl_easy_setopt(c->curl, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (o->key_file != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, o->key_file);
	}
	if (o->insecure_skip_verify) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* TLS material and the bearer token, when configured. The only place credentials are applied
 * (client_create has checked where they may go). */
static int set_credentials(struct client *c, struct curl_slist **headers)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t len;
	char *auth;
	bool ok;

	set_tls(c);
	if (c->opts.token == NULL)
		return STSD_OK;
	len = sizeof prefix + strlen(c->opts.token); /* no fixed buffer: a long token stays whole */
	if ((auth = malloc(len)) == NULL)
		return STSD_NOMEM;
	snprintf(auth, len, "%s%s", prefix, c->opts.token);
	ok = append(headers, auth);
	memset(auth, 0, len);
	free(auth);
	return ok ? STSD_OK : STSD_NOMEM;
}

/* Request headers: Content-Type (or none: curl would send a form type), no Expect: 100-continue
 * (an extra round trip for bodies over 1 KiB). NULL on allocation failure. */
static struct curl_slist *make_headers(const char *content_type)
{
	struct curl_slist *h = NULL;
	char ct[256];

	snprintf(ct, sizeof ct, "Content-Type:%s%s", content_type != NULL ? " " : "",
	         content_type != NULL ? content_type : "");
	if (!append(&h, ct) || !append(&h, "Expect:") ||
	    !append(&h, "Accept: application/json, */*")) {
		curl_slist_free_all(h);
		return NULL;
	}
	return h;
}

static void set_method(CURL *curl, const struct request *q)
{
	const char *method = q->method;
	size_t len = q->len;

	if (strcmp(method, "GET") == 0 && len == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		return;
	}
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, len > 0 ? q->body : "");
	}
}

/* Options of one attempt at url within timeout_ms. curl_easy_reset keeps the connection cache. */
static int set_transfer(struct client *c, const char *url, long timeout_ms, struct sink *s,
                        struct curl_slist **headers)
{
	CURL *curl = c->curl;

	curl_easy_reset(curl);
	if (set_credentials(c, headers) != STSD_OK)
		return STSD_NOMEM;
	c->curl_err[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_URL, url);
	/* Below the servers' idle timeout (30 s with TLS): never reuse a connection they closed. */
	curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, 20L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	                 c->opts.connect_timeout_ms < timeout_ms ? c->opts.connect_timeout_ms
	                                                         : timeout_ms);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "stsd-client/" STSD_VERSION);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, s);
	if (s->st != NULL) { /* long-lived: notice a dead peer, and the caller's stop flag */
		curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, s->st);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	}
	return STSD_OK;
}

/* The body as a NUL-terminated string, "" when there was none. */
static int finish_body(struct client_response *r)
{
	if (r->body == NULL && (r->body = malloc(1)) == NULL)
		return STSD_NOMEM;
	r->body[r->body_len] = '\0';
	return STSD_OK;
}

/* Whether cc is a TLS failure of our configuration or of the server's certificate (not of the
 * network): retrying another replica or later would not help. */
static bool tls_misconfigured(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CERTPROBLEM ||
	       cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CIPHER ||
	       cc == CURLE_SSL_ENGINE_NOTFOUND;
}

/* What a finished curl_easy_perform means: 0 with *retry false for an answer to keep, 0 with
 * *retry true for a failure worth another replica (reason in errmsg), or a fatal code. */
static int judge(struct client *c, CURLcode cc, const char *base, struct sink *s, bool *retry)
{
	struct client_response *r = s->resp;

	*retry = false;
	if (s->nomem || cc == CURLE_OUT_OF_MEMORY)
		return client_errorf(c, STSD_NOMEM, "%s: out of memory", base);
	if (s->toobig)
		return client_errorf(c, STSD_TOOBIG, "%s: response over %lu bytes", base,
		                     CLIENT_MAX_BODY);
	if (s->st != NULL && s->st->cancelled)
		return client_errorf(c, STSD_SHUTDOWN, "%s: stream ended by its caller", base);
	if (s->st != NULL && s->st->started && cc != CURLE_OK) {
		/* Lines went out already: the caller resumes, preferably on another replica. */
		c->current = (c->current + 1) % c->n_urls;
		return client_errorf(c, STSD_IO, "%s: stream broken: %s", base,
		                     c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(cc));
	}
	if (tls_misconfigured(cc)) /* every replica would fail alike: say so at once */
		return client_errorf(c, STSD_IO, "%s: %s", base,
		                     c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(cc));
	if (cc != CURLE_OK) {
		*retry = true;
		return client_errorf(c, STSD_OK, "%s: %s", base,
		                     c->curl_err[0] != '\0' ? c->curl_err : curl_easy_strerror(cc));
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	*retry = r->status == 503;
	if (*retry)
		client_errorf(c, STSD_OK, "%s: 503 Service Unavailable", base);
	if (s->st != NULL && s->st->started && !emit_tail(s->st, r))
		return client_errorf(c, STSD_SHUTDOWN, "%s: stream ended by its caller", base);
	return finish_body(r);
}

/* One attempt at the current replica. */
static int attempt(struct client *c, const struct request *q, struct stream *st, long timeout_ms,
                   struct client_response *r, bool *retry)
{
	const char *base = c->urls[c->current];
	struct sink s = {.resp = r, .st = st, .curl = c->curl};
	struct curl_slist *headers;
	char *url;
	int rv;

	client_response_free(r);
	r->base_url = base;
	if (st != NULL)
		st->started = st->cancelled = false, st->scanned = 0;
	if ((url = malloc(strlen(base) + strlen(q->path) + 1)) == NULL ||
	    (headers = make_headers(q->content_type)) == NULL) {
		free(url);
		return client_errorf(c, STSD_NOMEM, "%s: out of memory", base);
	}
	sprintf(url, "%s%s", base, q->path);
	if (set_transfer(c, url, timeout_ms, &s, &headers) == STSD_OK) {
		set_method(c->curl, q);
		rv = judge(c, curl_easy_perform(c->curl), base, &s, retry);
	} else {
		rv = client_errorf(c, STSD_NOMEM, "%s: out of memory", base);
	}
	curl_slist_free_all(headers);
	free(url);
	if (rv != STSD_OK || (*retry && r->status != 503))
		client_response_free(r);
	return rv;
}

/* Sleep ms, in slices of at most 100 ms while *stop (may be NULL) stays 0. */
static void sleep_ms(long ms, const volatile int *stop)
{
	while (ms > 0 && (stop == NULL || *stop == 0)) {
		long slice = stop != NULL && ms > 100 ? 100 : ms;
		struct timespec ts = {.tv_sec = slice / 1000, .tv_nsec = (slice % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		ms -= slice;
	}
}

static long remaining_ms(uint64_t deadline)
{
	uint64_t now = util_now_mono_ms();

	return now >= deadline ? 0 : (long)(deadline - now);
}

/* The timeout of the next attempt: the configured one, or what is left before the deadline (at
 * least 1 ms: 0 would mean none to libcurl). A stream's own timeout is not cut by the deadline,
 * which bounds only the wait for an answer. */
static long attempt_timeout(const struct client *c, const struct stream *st, uint64_t deadline)
{
	long left = remaining_ms(deadline);

	if (st != NULL && st->timeout_ms > 0)
		return st->timeout_ms;
	left = left > 0 ? left : 1;
	return c->opts.timeout_ms < left ? c->opts.timeout_ms : left;
}

static int check_request(struct client *c, const struct request *q)
{
	const char *method = q->method, *path = q->path;

	if (path == NULL || path[0] != '/')
		return client_errorf(c, STSD_INVALID, "client: path '%s' does not start with '/'",
		                     path != NULL ? path : "(null)");
	if (method == NULL || method[0] == '\0' ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
		return client_errorf(c, STSD_INVALID, "client: bad method '%s'",
		                     method != NULL ? method : "(null)");
	if (q->len > 0 && q->body == NULL)
		return client_errorf(c, STSD_INVALID, "client: %zu bytes of NULL body", q->len);
	return STSD_OK;
}

/* Back-off state across the attempts of one request. */
struct retry {
	int attempts;
	size_t failed_in_round;
	long backoff_ms;
};

/* After a failed attempt: move to the next replica, and wait once every replica has failed in
 * this round (at least a 503's Retry-After, capped). False when no attempt is left. */
static bool next_attempt(struct client *c, struct retry *rt, long retry_after, uint64_t deadline,
                         const volatile int *stop)
{
	long wait;

	if (c->opts.max_attempts > 0 && rt->attempts >= c->opts.max_attempts)
		return false;
	c->current = (c->current + 1) % c->n_urls;
	if (++rt->failed_in_round < c->n_urls)
		return remaining_ms(deadline) > 0;
	rt->failed_in_round = 0;
	wait = rt->backoff_ms;
	if (retry_after > 0 && retry_after * 1000 > wait)
		wait = retry_after * 1000;
	wait = wait < c->opts.backoff_max_ms ? wait : c->opts.backoff_max_ms;
	wait = wait < remaining_ms(deadline) ? wait : remaining_ms(deadline);
	sleep_ms(wait, stop);
	rt->backoff_ms = rt->backoff_ms * 2 < c->opts.backoff_max_ms ? rt->backoff_ms * 2
	                                                             : c->opts.backoff_max_ms;
	return remaining_ms(deadline) > 0 && (stop == NULL || *stop == 0);
}

static int no_answer(struct client *c, const struct request *q, const struct retry *rt,
                     uint64_t start, uint64_t deadline)
{
	char last[sizeof c->errmsg];

	snprintf(last, sizeof last, "%s", c->errmsg);
	return client_errorf(c, remaining_ms(deadline) == 0 ? STSD_TIMEOUT : STSD_IO,
	                     "%s %s: no answer from %zu server(s) in %d attempt(s) over %llu ms; "
	                     "last: %s",
	                     q->method, q->path, c->n_urls, rt->attempts,
	                     (unsigned long long)(util_now_mono_ms() - start), last);
}

/* client_request, and client_stream when st is not NULL. */
static int perform(struct client *c, const struct request q, struct stream *st,
                   struct client_response *resp)
{
	const volatile int *stop = st != NULL ? st->stop : NULL;
	uint64_t start = util_now_mono_ms(), deadline = start + (uint64_t)c->opts.deadline_ms;
	struct client_response r = {.retry_after = -1}, held = {.retry_after = -1};
	struct retry rt = {.backoff_ms = c->opts.backoff_ms};
	bool retry;
	int rv;

	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
	c->errmsg[0] = '\0';
	if ((rv = check_request(c, &q)) != STSD_OK)
		return rv;
	do {
		rt.attempts++;
		rv = attempt(c, &q, st, attempt_timeout(c, st, deadline), &r, &retry);
		if (rv != STSD_OK || !retry)
			break;
		if (r.status == 503) { /* kept in case no replica answers better */
			client_response_free(&held);
			held = r;
			memset(&r, 0, sizeof r);
		}
	} while (next_attempt(c, &rt, held.retry_after, deadline, stop));
	if (rv == STSD_OK && !retry) {
		client_response_free(&held);
		*resp = r;
		return STSD_OK;
	}
	if (rv == STSD_OK && stop != NULL && *stop != 0) {
		client_response_free(&held);
		return client_errorf(c, STSD_SHUTDOWN, "%s %s: stopped by the caller", q.method,
		                     q.path);
	}
	if (rv == STSD_OK && held.status == 503) {
		*resp = held;
		return STSD_OK;
	}
	client_response_free(&held);
	return rv != STSD_OK ? rv : no_answer(c, &q, &rt, start, deadline);
}

int client_request(struct client *c, const char *method, const char *path, const void *body,
                   size_t len, const char *content_type, struct client_response *resp)
{
	return perform(c, (struct request){method, path, body, len, content_type}, NULL, resp);
}

int client_stream(struct client *c, const char *method, const char *path, long timeout_ms,
                  client_line_cb line_cb, void *ud, const volatile int *stop,
                  struct client_response *resp)
{
	struct stream st = {.cb = line_cb, .ud = ud, .stop = stop, .timeout_ms = timeout_ms};

	return perform(c, (struct request){method, path, NULL, 0, NULL}, &st, resp);
}
