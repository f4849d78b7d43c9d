/* watch.c — list + watch with resume and re-list on 410 (client-go's reflector, cache/reflector.go:
 * ListAndWatch, watchHandler), over client_stream. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "internal.h"
#include "log.h"
#include "util.h"
#include "watch.h"

#define DEFAULT_WATCH_TIMEOUT_S 300
#define DEFAULT_PAGE_LIMIT      500
#define DEFAULT_BACKOFF_MS      200
#define DEFAULT_BACKOFF_MAX_MS  30000
/* A watch's transfer may outlast its timeoutSeconds by this much before libcurl ends it. */
#define STREAM_GRACE_S 30
#define RV_MAX         32

/* Why the current stream or list ended, beyond what client_stream says. */
enum lw_end {
	END_NONE,
	END_EXPIRED, /* 410: list again */
	END_FAILED,  /* an ERROR event or a bad line: resume after a back-off */
	END_HARD,    /* the server refuses for good: return hard */
	END_CB,      /* the callback returned cb_rv */
};

struct lw {
	struct client *c;
	struct client_watch_options o;
	char *base;  /* path up to '?' */
	char *query; /* after '?', "" when none */
	client_watch_cb cb;
	void *ud;
	const volatile int *stop;
	json_t *known;   /* uid -> the last state delivered */
	char rv[RV_MAX]; /* where the next watch starts */
	enum lw_end end; /* of the last list or stream */
	int hard;        /* END_HARD: the code to return */
	int cb_rv;       /* END_CB: the callback's value */
	size_t lines;    /* events of the current stream */
	int failures;    /* in a row */
	uint64_t rand;   /* xorshift state for watch timeouts */
	char *err;
	size_t errlen;
};

static bool stopped(const struct lw *w)
{
	return w->stop != NULL && *w->stop != 0;
}

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* The key of an object in known: its uid, else namespace/name (an object without a uid is not
 * one this server makes, but must not crash the loop). */
static void obj_key(const json_t *obj, char *out, size_t len)
{
	const char *uid = meta_str(obj, "uid"), *ns = meta_str(obj, "namespace");

	if (uid != NULL && *uid != '\0')
		snprintf(out, len, "%s", uid);
	else
		snprintf(out, len, "%s/%s", ns != NULL ? ns : "",
		         meta_str(obj, "name") != NULL ? meta_str(obj, "name") : "");
}

static bool parse_rv(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Whether obj is no newer than what was delivered as old: the same resourceVersion or, as this
 * server's are numbers (Kubernetes calls them opaque), a lower one — a replay. */
static bool not_newer(const json_t *obj, const json_t *old)
{
	const char *a = meta_str(obj, "resourceVersion"), *b = meta_str(old, "resourceVersion");
	uint64_t x, y;

	if (a == NULL || b == NULL)
		return false;
	if (parse_rv(a, &x) && parse_rv(b, &y))
		return x <= y;
	return strcmp(a, b) == 0;
}

static bool rv_differs(const json_t *a, const json_t *b)
{
	const char *x = meta_str(a, "resourceVersion"), *y = meta_str(b, "resourceVersion");

	return x == NULL || y == NULL || strcmp(x, y) != 0;
}

static int deliver(struct lw *w, const char *type, const json_t *obj)
{
	int rv = w->cb(w->ud, type, obj);

	if (rv != 0) {
		w->end = END_CB;
		w->cb_rv = rv;
	}
	return rv;
}

/* ---- URLs ----------------------------------------------------------------------------------- */

static int split_path(struct lw *w, const char *path)
{
	const char *q;
	size_t n;

	if (w->c == NULL || w->cb == NULL)
		return stsd_errf(w->err, w->errlen, STSD_INVALID,
		                 "list-watch: no client or callback");
	if (path == NULL || path[0] != '/')
		return stsd_errf(w->err, w->errlen, STSD_INVALID,
		                 "list-watch: path '%s' does not start with '/'",
		                 path != NULL ? path : "(null)");
	q = strchr(path, '?');
	n = q != NULL ? (size_t)(q - path) : strlen(path);
	w->base = strndup(path, n);
	w->query = strdup(q != NULL ? q + 1 : "");
	return w->base != NULL && w->query != NULL ? STSD_OK : STSD_NOMEM;
}

/* base?query&extra into a malloc'd string (NULL on allocation failure). */
static char *make_url(const struct lw *w, const char *extra)
{
	size_t len = strlen(w->base) + strlen(w->query) + strlen(extra) + 3;
	char *url = malloc(len);

	if (url != NULL)
		snprintf(url, len, "%s?%s%s%s", w->base, w->query, *w->query ? "&" : "", extra);
	return url;
}

/* ---- LIST ----------------------------------------------------------------------------------- */

/* The outcome of a non-2xx answer: END_EXPIRED for 410, END_HARD when retrying cannot help,
 * else a failure to retry. The Status message goes to err. */
static int http_failure(struct lw *w, const char *what, const struct client_response *r)
{
	json_t *st = json_loadb(r->body, r->body_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(st, "message"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	long s = r->status;
	int code = STSD_IO;

	stsd_errf(w->err, w->errlen, STSD_IO, "%s: %s (%ld %s)", what,
	          msg != NULL ? msg : "no Status message", s, reason != NULL ? reason : "");
	json_decref(st);
	if (s == 410) {
		w->end = END_EXPIRED;
		return STSD_EXPIRED;
	}
	if (s == 400 || s == 401 || s == 403 || s == 404 || s == 422) {
		code = s == 404 ? STSD_NOTFOUND : STSD_INVALID;
		w->end = END_HARD;
		w->hard = code;
	} else {
		w->end = END_FAILED;
	}
	return code;
}

/* What one list page brought: its items are added to fresh (uid -> object) and order. */
struct page {
	json_t *fresh, *order;
	char rv[RV_MAX]; /* of the first page: the watch starts there */
	char *token;     /* continue token of the next page, NULL when done */
};

static int take_page(struct lw *w, json_t *list, struct page *p)
{
	json_t *items = json_object_get(list, "items"), *it;
	const char *rv = meta_str(list, "resourceVersion"), *tok = meta_str(list, "continue");
	char key[300];
	size_t i;

	if (!json_is_array(items) || rv == NULL || strlen(rv) >= RV_MAX)
		return stsd_errf(w->err, w->errlen, STSD_CORRUPT,
		                 "list %s: no items or resourceVersion", w->base);
	if (p->rv[0] == '\0')
		snprintf(p->rv, sizeof p->rv, "%s", rv);
	json_array_foreach(items, i, it)
	{
		obj_key(it, key, sizeof key);
		if (json_object_set(p->fresh, key, it) != 0 || json_array_append(p->order, it) != 0)
			return STSD_NOMEM;
	}
	free(p->token);
	p->token = tok != NULL && *tok != '\0' ? strdup(tok) : NULL;
	return tok != NULL && *tok != '\0' && p->token == NULL ? STSD_NOMEM : STSD_OK;
}

/* GET one page (after p->token, limit items; 0: all) into p. */
static int get_page(struct lw *w, struct page *p, long limit)
{
	struct client_response r = {.retry_after = -1};
	char extra[64], *tok = NULL, *more = NULL, *url;
	json_t *list;
	int rv;

	snprintf(extra, sizeof extra, "limit=%ld", limit);
	if (p->token != NULL && (tok = curl_easy_escape(w->c->curl, p->token, 0)) != NULL &&
	    asprintf(&more, "%s&continue=%s", extra, tok) < 0)
		more = NULL;
	curl_free(tok);
	if ((url = make_url(w, more != NULL ? more : extra)) == NULL || (p->token && !more)) {
		free(more), free(url);
		return STSD_NOMEM;
	}
	free(more);
	rv = client_stream(w->c, "GET", url, 0, NULL, NULL, w->stop, &r);
	if (rv != STSD_OK) {
		stsd_errf(w->err, w->errlen, rv, "%s", client_errmsg(w->c));
	} else if (r.status < 200 || r.status >= 300) {
		rv = http_failure(w, url, &r);
	} else if ((list = json_loadb(r.body, r.body_len, 0, NULL)) == NULL) {
		rv = stsd_errf(w->err, w->errlen, STSD_CORRUPT, "GET %s: bad JSON", url);
	} else {
		rv = take_page(w, list, p);
		json_decref(list);
	}
	client_response_free(&r);
	free(url);
	return rv;
}

/* Every page. A continue token the server no longer knows (410) makes a whole list in one go, as
 * client-go does. */
static int list_all(struct lw *w, struct page *p)
{
	long limit = w->o.page_limit;
	int rv;

	for (;;) {
		rv = get_page(w, p, limit);
		if (rv == STSD_EXPIRED && limit > 0 && p->rv[0] != '\0') {
			log_info("client", "event=list_continue_expired path=%s", w->base);
			json_object_clear(p->fresh);
			json_array_clear(p->order);
			p->rv[0] = '\0';
			free(p->token);
			p->token = NULL;
			limit = 0;
			w->end = END_NONE;
			continue;
		}
		if (rv != STSD_OK || p->token == NULL || stopped(w))
			return rv;
	}
}

/* Deliver the difference between known and the list, then SYNCED; known becomes the list. */
static int deliver_diff(struct lw *w, struct page *p)
{
	const char *key;
	json_t *it, *old;
	char k[300];
	size_t i;

	json_array_foreach(p->order, i, it)
	{
		obj_key(it, k, sizeof k);
		old = json_object_get(w->known, k);
		if (old == NULL ? deliver(w, "ADDED", it) != 0
		                : rv_differs(it, old) && deliver(w, "MODIFIED", it) != 0)
			return STSD_OK;
	}
	json_object_foreach(w->known, key, old)
	{
		if (json_object_get(p->fresh, key) == NULL && deliver(w, "DELETED", old) != 0)
			return STSD_OK;
	}
	json_decref(w->known);
	w->known = json_incref(p->fresh);
	deliver(w, "SYNCED", NULL);
	return STSD_OK;
}

static int relist(struct lw *w)
{
	struct page p = {.fresh = json_object(), .order = json_array()};
	int rv = STSD_NOMEM;

	w->end = END_NONE;
	if (p.fresh != NULL && p.order != NULL && (rv = list_all(w, &p)) == STSD_OK &&
	    !stopped(w)) {
		snprintf(w->rv, sizeof w->rv, "%s", p.rv);
		log_info("client", "event=listed path=%s items=%zu rv=%s", w->base,
		         json_array_size(p.order), w->rv);
		rv = deliver_diff(w, &p);
	}
	if (w->end == END_EXPIRED) /* a fresh list cannot be too old: do not loop on it */
		w->end = END_FAILED;
	json_decref(p.fresh);
	json_decref(p.order);
	free(p.token);
	return rv;
}

/* ---- WATCH ---------------------------------------------------------------------------------- */

/* An ERROR event: its Status says whether to list again. */
static int watch_error(struct lw *w, const json_t *status)
{
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	const char *msg = json_string_value(json_object_get(status, "message"));

	stsd_errf(w->err, w->errlen, STSD_IO, "watch %s from %s: ERROR %lld: %s", w->base, w->rv,
	          (long long)code, msg != NULL ? msg : "");
	w->end = code == 410 ? END_EXPIRED : END_FAILED;
	return 1;
}

/* ADDED / MODIFIED / DELETED against known: a replay of what was delivered is dropped, and the
 * type follows known (an ADDED of a known object is a MODIFIED, a DELETED of an unknown one
 * nothing), so the callback's view stays consistent. */
static int watch_change(struct lw *w, const char *type, json_t *obj)
{
	json_t *old;
	char k[300];

	obj_key(obj, k, sizeof k);
	old = json_object_get(w->known, k);
	if (strcmp(type, "DELETED") == 0) {
		if (old == NULL)
			return 0;
		json_object_del(w->known, k); /* obj still holds its reference */
		return deliver(w, "DELETED", obj);
	}
	if (old != NULL && not_newer(obj, old))
		return 0;
	if (json_object_set(w->known, k, obj) != 0) {
		w->end = END_HARD;
		w->hard = STSD_NOMEM;
		return 1;
	}
	return deliver(w, old != NULL ? "MODIFIED" : "ADDED", obj);
}

static int on_line(void *ud, const char *line, size_t len)
{
	struct lw *w = ud;
	json_t *ev, *obj;
	const char *type, *rv;
	int out = 0;

	if (len == 0)
		return 0;
	ev = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	rv = meta_str(obj, "resourceVersion");
	w->lines++;
	if (type == NULL || !json_is_object(obj)) {
		stsd_errf(w->err, w->errlen, STSD_CORRUPT, "watch %s: bad event '%.80s'", w->base,
		          line);
		w->end = END_FAILED;
		out = 1;
	} else if (strcmp(type, "ERROR") == 0) {
		out = watch_error(w, obj);
	} else if (rv == NULL || strlen(rv) >= RV_MAX) {
		stsd_errf(w->err, w->errlen, STSD_CORRUPT, "watch %s: %s without resourceVersion",
		          w->base, type);
		w->end = END_FAILED;
		out = 1;
	} else {
		if (strcmp(type, "BOOKMARK") != 0)
			out = watch_change(w, type, obj);
		snprintf(w->rv, sizeof w->rv, "%s", rv);
	}
	json_decref(ev);
	return out;
}

/* timeoutSeconds in [t, 2t), so that many watchers do not all come back at once. */
static long watch_timeout(struct lw *w)
{
	long t = w->o.watch_timeout_s;

	w->rand ^= w->rand << 13;
	w->rand ^= w->rand >> 7;
	w->rand ^= w->rand << 17;
	return t + (long)(w->rand % (uint64_t)t);
}

/* One watch from w->rv until it ends; w->end says how when client_stream does not. */
static int watch_once(struct lw *w)
{
	struct client_response r = {.retry_after = -1};
	long t = watch_timeout(w);
	uint64_t t0 = util_now_mono_ms();
	char extra[128], *url;
	int rv;

	if (w->o.before_watch != NULL)
		w->o.before_watch(w->o.hook_ud, w->rv, sizeof w->rv);
	snprintf(extra, sizeof extra,
	         "watch=true&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%ld", w->rv,
	         t);
	if ((url = make_url(w, extra)) == NULL)
		return STSD_NOMEM;
	w->end = END_NONE;
	w->lines = 0;
	log_debug("client", "event=watch_start path=%s rv=%s url=%s", w->base, w->rv,
	          client_current_url(w->c));
	rv = client_stream(w->c, "GET", url, (t + STREAM_GRACE_S) * 1000, on_line, w, w->stop, &r);
	if (w->end != END_NONE) {
		rv = STSD_OK;
	} else if (rv != STSD_OK) {
		stsd_errf(w->err, w->errlen, rv, "%s", client_errmsg(w->c));
	} else if (r.status < 200 || r.status >= 300) {
		rv = http_failure(w, url, &r);
	} else if (w->lines == 0 && util_now_mono_ms() - t0 < 1000) {
		/* Not even a bookmark before a clean end: a server that would be hammered by an
		 * immediate resume (client-go's "very short watch"). */
		stsd_errf(w->err, w->errlen, STSD_IO, "watch %s: very short watch", w->base);
		w->end = END_FAILED;
	}
	client_response_free(&r);
	free(url);
	return rv;
}

/* ---- The loop ------------------------------------------------------------------------------- */

/* Sleep before the next try: none after the first failure in a row (the next replica may well
 * answer), then backoff_ms doubling up to backoff_max_ms. Wakes on *stop. */
static void back_off(struct lw *w)
{
	long wait = w->o.backoff_ms;

	if (++w->failures < 2)
		return;
	for (int i = 2; i < w->failures && wait < w->o.backoff_max_ms; i++)
		wait *= 2;
	wait = wait < w->o.backoff_max_ms ? wait : w->o.backoff_max_ms;
	log_info("client", "event=list_watch_backoff path=%s failures=%d wait_ms=%ld err=\"%s\"",
	         w->base, w->failures, wait, w->err);
	for (uint64_t end = util_now_mono_ms() + (uint64_t)wait;
	     !stopped(w) && util_now_mono_ms() < end;) {
		struct timespec ts = {.tv_nsec = 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* What to do after a list or a watch ended with rv: return (true, *out set) or go on. */
static bool finished(struct lw *w, int rv, bool *need_list, int *out)
{
	if (w->end == END_CB || w->end == END_HARD || rv == STSD_NOMEM || stopped(w)) {
		*out = w->end == END_CB     ? w->cb_rv
		       : w->end == END_HARD ? w->hard
		       : stopped(w)         ? STSD_OK
		                            : rv;
		return true;
	}
	if (w->end == END_EXPIRED) {
		log_info("client", "event=watch_expired path=%s rv=%s: listing again", w->base,
		         w->rv);
		*need_list = true;
		return false;
	}
	if (rv == STSD_OK && w->end == END_NONE) {
		w->failures = 0;
		*need_list = false;
		return false;
	}
	if (w->lines > 0) /* the stream worked for a while: a fresh failure, not a repeated one */
		w->failures = 0;
	log_info("client", "event=list_watch_failed path=%s rv=%s err=\"%s\"", w->base, w->rv,
	         w->err);
	back_off(w);
	return false;
}

static void set_defaults(struct client_watch_options *o, const struct client_watch_options *in)
{
	static const struct client_watch_options none;

	*o = in != NULL ? *in : none;
	o->watch_timeout_s = o->watch_timeout_s > 0 ? o->watch_timeout_s : DEFAULT_WATCH_TIMEOUT_S;
	o->page_limit = o->page_limit > 0 ? o->page_limit : DEFAULT_PAGE_LIMIT;
	o->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : DEFAULT_BACKOFF_MS;
	o->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
}

int client_list_watch_opts(struct client *c, const char *path,
                           const struct client_watch_options *opts, client_watch_cb cb, void *ud,
                           const volatile int *stop, char *err, size_t errlen)
{
	struct lw w = {.c = c, .cb = cb, .ud = ud, .stop = stop, .err = err, .errlen = errlen};
	bool need_list = true;
	int rv, out = STSD_OK;

	set_defaults(&w.o, opts);
	w.rand = util_now_mono_ns() ^ (uint64_t)(uintptr_t)&w;
	w.rand = w.rand != 0 ? w.rand : 1;
	if ((rv = split_path(&w, path)) != STSD_OK || (w.known = json_object()) == NULL) {
		out = rv != STSD_OK ? rv : STSD_NOMEM;
		if (out == STSD_NOMEM)
			stsd_errf(err, errlen, out, "list-watch: out of memory");
	}
	while (out == STSD_OK && !stopped(&w)) {
		if (need_list) {
			rv = relist(&w);
			if (rv == STSD_OK && w.end == END_NONE) {
				need_list = false;
				w.failures = 0;
				continue;
			}
			w.lines = 0;
		} else {
			rv = watch_once(&w);
		}
		if (finished(&w, rv, &need_list, &out))
			break;
	}
	json_decref(w.known);
	free(w.base);
	free(w.query);
	return out;
}

int client_list_watch(struct client *c, const char *path, client_watch_cb cb, void *ud,
                      const volatile int *stop, char *err, size_t errlen)
{
	return client_list_watch_opts(c, path, NULL, cb, ud, stop, err, errlen);
}
