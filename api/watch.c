/* watch.c — the life of watches: starting one (its query, the initial ADDED events or the resume
 * from a resourceVersion), delivering each applied command's changes to every open watch in one
 * pass over the change log, bookmarks and timeouts on one timer per watch, and the end.
 *
 * Every replica serves watches from its own store (dispatch.c sends them nowhere else): a
 * follower's watch sees changes as that follower applies them. Nothing polls: api_on_applied calls
 * api_watch_notify after each applied command. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "watch_internal.h"

#define DEFAULT_BOOKMARK_MS 60000u
/* kube-apiserver ends a watch without timeoutSeconds after minRequestTimeout (1800 s) times a
 * random factor in [1, 2), so that clients do not all re-watch at once. */
#define MIN_REQUEST_TIMEOUT_MS (1800u * 1000u)

/* The bookmark period: 60 s, or STSD_WATCH_BOOKMARK_MS (read once) in builds with test hooks. */
static unsigned bookmark_every(void)
{
#ifdef STSD_TEST_HOOKS
	static long env = -1;

	if (env < 0) {
		const char *v = getenv("STSD_WATCH_BOOKMARK_MS");
		env = v ? atol(v) : 0;
		env = env > 0 ? env : 0;
	}
	if (env > 0)
		return (unsigned)env;
#endif
	return DEFAULT_BOOKMARK_MS;
}

static struct api_watchers *watchers(struct api_server *s)
{
	if (s->watchers == NULL && (s->watchers = calloc(1, sizeof *s->watchers)) != NULL) {
		s->watchers->s = s;
		s->watchers->bookmark_every_ms = bookmark_every();
	}
	return s->watchers;
}

/* ---- The end of a watch -----------------------------------------------------------------------
 */

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Release w; its request is finished or gone. The memory goes with the timer's close. */
static void destroy(struct watch *w)
{
	struct api_watchers *ws = w->ws;

	if (w->prev)
		w->prev->next = w->next;
	else
		ws->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	ws->count--;
	api_label_selector_free(w->labels);
	api_field_selector_free(w->fields);
	json_decref(w->selected);
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, timer_closed);
}

/* End w's stream and release it. The client sees a clean end and re-lists or re-watches. */
static void finish(struct watch *w, enum watch_failure why)
{
	static const char *const names[] = {"end",   "slow_client", "gone",
	                                    "nomem", "expired",     "error"};

	if (why == WATCH_SLOW)
		w->ws->slow_closed++;
	if (why != WATCH_OK && why != WATCH_GONE)
		log_info("api", "event=watch_ended resource=%s ns=%s why=%s pos=%" PRIu64,
		         w->res->plural, *w->ns ? w->ns : "*", names[why], w->pos);
	if (w->req)
		api_stream_end(w->req);
	destroy(w);
}

/* The client went away (or the server stops the connection). */
static void req_closed(void *ud, struct api_req *r)
{
	struct watch *w = ud;

	(void)r;
	w->req = NULL;
	if (!w->starting) /* a starting watch is released when its start returns to the loop */
		destroy(w);
}

/* Tell the client why, then end (EXPIRED: its position left the change log). */
static void fail(struct watch *w, enum watch_failure why, uint64_t compacted)
{
	char msg[128];

	if (why == WATCH_EXPIRED) {
		snprintf(msg, sizeof msg, "too old resource version: %" PRIu64 " (%" PRIu64 ")",
		         w->pos, compacted);
		watch_send_status(w, 410, "Expired", msg);
	} else if (why == WATCH_ERROR) {
		watch_send_status(w, 500, "InternalError", "the store could not be read");
	}
	finish(w, why);
}

/* ---- Timer: bookmarks and the deadline ---------------------------------------------------------
 */

static void timer_cb(uv_timer_t *t);

static void arm(struct watch *w)
{
	uint64_t now = uv_now(w->timer.loop), next = w->deadline_ms;

	if (w->bookmarks && w->bookmark_ms < next)
		next = w->bookmark_ms;
	uv_timer_start(&w->timer, timer_cb, next > now ? next - now : 0, 0);
}

static void timer_cb(uv_timer_t *t)
{
	struct watch *w = t->data;
	uint64_t now = uv_now(t->loop);
	enum watch_failure f;

	if (now >= w->deadline_ms) {
		finish(w, WATCH_OK); /* timeoutSeconds: a clean end, as kube-apiserver does */
		return;
	}
	if (w->bookmarks && now >= w->bookmark_ms) {
		if ((f = watch_send_bookmark(w, false)) != WATCH_OK) {
			finish(w, f);
			return;
		}
		w->bookmark_ms = now + w->ws->bookmark_every_ms;
	}
	arm(w);
}

static uint64_t default_timeout_ms(void)
{
	uint64_t x = uv_hrtime() * 0x9E3779B97F4A7C15ull;

	x ^= x >> 31;
	return MIN_REQUEST_TIMEOUT_MS + x % MIN_REQUEST_TIMEOUT_MS;
}

/* ---- Query ------------------------------------------------------------------------------------
 */

struct watch_params {
	bool initial;        /* resourceVersion "" or "0": ADDED for what exists, then changes */
	bool initial_end;    /* sendInitialEvents=true: a BOOKMARK marks the end of those */
	uint64_t rv;         /* otherwise: changes after this one */
	uint64_t timeout_ms; /* 0: the default */
};

static bool is_true(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* A field selector that is only metadata.name=X pins the name: no parsing of objects then. */
static void pin_name(struct watch *w, const char *text)
{
	const char *name = api_field_selector_name(w->fields);

	if (name == NULL || strchr(text, ',') != NULL || strlen(name) > STORE_NAME_MAX)
		return;
	if (*w->name && strcmp(w->name, name) != 0)
		return; /* two names: the selector keeps matching nothing */
	snprintf(w->name, sizeof w->name, "%s", name);
	api_field_selector_free(w->fields);
	w->fields = NULL;
}

static bool parse_selectors(struct watch *w, struct api_req *r)
{
	const char *ls = api_req_query(r, "labelSelector"), *fs = api_req_query(r, "fieldSelector");
	char err[512];

	if (ls && *ls && api_label_selector_parse(ls, &w->labels, err, sizeof err) != STSD_OK) {
		api_fail(r, API_BAD_REQUEST, NULL, "%s", err);
		return false;
	}
	if (w->labels && api_label_selector_empty(w->labels)) {
		api_label_selector_free(w->labels);
		w->labels = NULL;
	}
	if (fs && *fs &&
	    api_field_selector_parse(fs, w->res, &w->fields, err, sizeof err) != STSD_OK) {
		api_fail(r, API_BAD_REQUEST, NULL, "%s", err);
		return false;
	}
	if (w->fields)
		pin_name(w, fs);
	if (watch_filtered(w) && (w->selected = json_object()) == NULL) {
		api_fail_code(r, STSD_NOMEM, "watch");
		return false;
	}
	return true;
}

/* The watch's options from the query and Accept; answers 400 and returns false when bad. */
static bool parse_query(struct watch *w, struct api_req *r, struct watch_params *p)
{
	const char *rv = api_req_query(r, "resourceVersion");
	const char *to = api_req_query(r, "timeoutSeconds");
	const char *inc = api_req_query(r, "includeObject");
	uint64_t secs = 0;

	/* sendInitialEvents (WatchList) asks for the initial events whatever the rv; this store's
	 * view is as fresh as this replica has. */
	p->initial_end = is_true(api_req_query(r, "sendInitialEvents"));
	p->initial = rv == NULL || *rv == '\0' || strcmp(rv, "0") == 0;
	if (!p->initial && !api_parse_u64(rv, &p->rv)) {
		api_fail(r, API_BAD_REQUEST, NULL, "invalid resource version \"%s\"", rv);
		return false;
	}
	if (to && *to && (!api_parse_u64(to, &secs) || secs > UINT32_MAX)) {
		api_fail(r, API_BAD_REQUEST, NULL, "timeoutSeconds must be a non-negative integer");
		return false;
	}
	p->initial = p->initial || p->initial_end;
	p->timeout_ms = secs * 1000;
	w->bookmarks = is_true(api_req_query(r, "allowWatchBookmarks"));
	w->table = api_table_wanted(api_req_header(r, "Accept"));
	if (!api_table_object_parse(inc, &w->inc)) {
		api_fail(r, API_BAD_REQUEST, NULL,
		         "includeObject must be one of None, Metadata or Object, not \"%s\"", inc);
		return false;
	}
	return parse_selectors(w, r);
}

/* ---- Initial events and resume ----------------------------------------------------------------
 */

struct pass {
	struct watch *w;
	uint64_t emit_after; /* changes at or below only update the selection */
	enum watch_failure f;
};

/* One existing object: a synthetic ADDED (send), or only its place in the selection. */
static int existing(void *ud, const struct store_object *so, bool send)
{
	struct pass *p = ud;
	struct watch_obj o = {.json = so->json, .len = so->json_len};
	bool sel = watch_concerns(p->w, so->ns, so->name) && watch_selects(p->w, &o);

	if (sel && watch_filtered(p->w))
		watch_select(p->w, so->ns, so->name);
	if (sel && send)
		p->f = watch_send(p->w, "ADDED", &o);
	watch_obj_free(&o);
	return p->f == WATCH_OK ? 0 : -1;
}

static int existing_send(void *ud, const struct store_object *so)
{
	return existing(ud, so, true);
}

static int existing_seed(void *ud, const struct store_object *so)
{
	return existing(ud, so, false);
}

/* Every object of rd that w selects: ADDED events (send) or the selection as of rd. */
static enum watch_failure list_existing(struct watch *w, struct store_reader *rd, bool send)
{
	struct pass p = {w, 0, WATCH_OK};
	struct store_list_request lr = {.resource = w->res->plural};
	struct store_list_page page;
	struct store_object so;
	bool one = *w->name && (!w->res->namespaced || *w->ns);
	const char *node = strcmp(w->res->plural, "pods") == 0 && *w->res->group == '\0'
	                       ? api_field_selector_equal(w->fields, "spec.nodeName")
	                       : NULL;
	int rv;

	if (one) { /* a pinned name in one namespace: one lookup, not a list */
		rv = store_get(rd, w->res->plural, w->res->namespaced ? w->ns : "", w->name, &so);
		if (rv == STSD_OK)
			(send ? existing_send : existing_seed)(&p, &so);
		rv = rv == STSD_NOTFOUND ? STSD_OK : rv;
	} else if (node && *node) { /* an agent's watch of its pods: the pods-by-node index */
		rv = store_list_pods_on_node(rd, node, send ? existing_send : existing_seed, &p);
	} else {
		lr.ns = w->res->namespaced && *w->ns ? w->ns : NULL;
		rv = store_list(rd, &lr, send ? existing_send : existing_seed, &p, &page);
	}
	if (p.f != WATCH_OK)
		return p.f;
	return rv == STSD_OK ? WATCH_OK : WATCH_ERROR;
}

static int replay_change(void *ud, const struct store_change *c)
{
	struct pass *p = ud;
	struct watch *w = p->w;
	struct watch_obj o = {.json = c->json, .len = c->json_len};
	const char *type;

	if (c->is_claim || strcmp(c->resource, w->res->plural) != 0 ||
	    !watch_concerns(w, c->ns, c->name))
		return 0;
	type = watch_event_type(w, c->type, c->ns, c->name, &o);
	if (type && c->revision > p->emit_after)
		p->f = watch_send(w, type, &o);
	watch_obj_free(&o);
	return p->f == WATCH_OK ? 0 : -1;
}

/* Resume after rv n. A selector-filtered watch must know what it selected at n to tell an object
 * leaving the selection (DELETED) from one it never had: it replays the log from its start,
 * silently up to n; afterwards its selection is rebuilt exactly from the current objects. */
static enum watch_failure resume(struct watch *w, struct store_reader *rd, uint64_t n)
{
	uint64_t applied = store_reader_applied_index(rd);
	struct pass p = {w, n, WATCH_OK};
	int rv = STSD_OK;

	w->from = n;
	w->pos = applied;
	if (n < applied && !watch_filtered(w)) {
		rv = store_changes(rd, n, 0, replay_change, &p);
	} else if (n < applied) {
		w->replaying = true;
		rv = store_changes(rd, store_reader_compacted(rd), 0, replay_change, &p);
		w->replaying = false;
	}
	if (p.f != WATCH_OK)
		return p.f;
	if (rv != STSD_OK)
		return WATCH_ERROR;
	if (!watch_filtered(w))
		return WATCH_OK;
	json_object_clear(w->selected);
	return list_existing(w, rd, false);
}

/* The first events from one consistent view of store; sets w's position. Returns why w must
 * end (an expired resourceVersion, an unreadable store, a client too slow for the initial
 * events), with the view's compacted revision in *compacted. Runs on the thread pool for most
 * watches: it touches only w and the store. */
static enum watch_failure begin_view(struct watch *w, struct store *store,
                                     const struct watch_params *p, uint64_t *compacted_out)
{
	struct store_reader *rd;
	enum watch_failure f;
	uint64_t compacted = 0;

	*compacted_out = 0;
	if (store_read_begin(store, &rd) != STSD_OK)
		return WATCH_ERROR;
	compacted = store_reader_compacted(rd);
	if (p->initial) {
		w->pos = w->from = store_reader_applied_index(rd);
		f = list_existing(w, rd, true);
		if (f == WATCH_OK && p->initial_end)
			f = watch_send_bookmark(w, true);
	} else if (p->rv < compacted) {
		w->pos = p->rv;
		f = WATCH_EXPIRED;
	} else {
		f = resume(w, rd, p->rv);
	}
	store_read_end(rd);
	*compacted_out = compacted;
	return f;
}

/* The watch runs from now on: timers armed, notify takes it into account. */
static void go(struct watch *w, const struct watch_params *p)
{
	uv_loop_t *loop = w->ws->s->loop;

	w->deadline_ms = uv_now(loop) + (p->timeout_ms ? p->timeout_ms : default_timeout_ms());
	w->bookmark_ms = uv_now(loop) + w->ws->bookmark_every_ms;
	arm(w);
	log_debug("api", "event=watch_started resource=%s ns=%s pos=%" PRIu64 " from=%" PRIu64,
	          w->res->plural, *w->ns ? w->ns : "*", w->pos, w->from);
}

/* ---- Starting off the loop --------------------------------------------------------------------
 * A watch from resourceVersion 0 of a large collection sends an event per object, and a
 * selector-filtered resume replays the change log: like a list, that may take long enough to
 * stop Raft's heartbeats on the loop. It runs on the thread pool into a buffer; the loop then
 * writes the buffer, takes the watch into notify and catches it up. */
/* Starts running on the thread pool at once. A filtered watch's start replays the change log,
 * and fifty agents resuming together after a failover would take every pool thread — and with
 * them Raft's disk writes, which run there too (commits stalled for seconds). */
#define WATCH_MAX_STARTS 2

struct start_job {
	uv_work_t work;
	struct start_job *next; /* waiting for a running slot */
	struct watch *w;
	struct store *store;
	struct watch_params p;
	struct api_buf events;
	enum watch_failure f;
	uint64_t compacted;
};

static void start_work(uv_work_t *work)
{
	struct start_job *j = work->data;

	j->f = begin_view(j->w, j->store, &j->p, &j->compacted);
}

static void start_done(uv_work_t *work, int status);

/* Run waiting starts while slots are free. A start whose client left meanwhile ends at once. */
static void launch_waiting(struct api_watchers *ws)
{
	while (ws->waiting && ws->running < WATCH_MAX_STARTS) {
		struct start_job *j = ws->waiting;
		if ((ws->waiting = j->next) == NULL)
			ws->waiting_tail = NULL;
		ws->running++;
		if (j->w->req == NULL ||
		    uv_queue_work(ws->s->loop, &j->work, start_work, start_done) != 0) {
			j->f = j->w->req == NULL ? WATCH_GONE : WATCH_ERROR;
			start_done(&j->work, 0); /* re-enters: the loop goes on with the next */
			return;
		}
	}
}

static void start_done(uv_work_t *work, int status)
{
	struct start_job *j = work->data;
	struct watch *w = j->w;
	struct api_watchers *ws = w->ws;
	struct api_server *s = ws->s;
	enum watch_failure f = status ? WATCH_GONE : j->f;

	w->starting = false;
	w->capture = NULL;
	ws->starting--;
	ws->running--;
	if (w->req == NULL || s->stopping) {
		if (w->req)
			api_stream_end(w->req);
		destroy(w);
	} else {
		if (f == WATCH_OK && j->events.len)
			f = watch_write(w, j->events.data, j->events.len);
		if (f != WATCH_OK) {
			fail(w, f, j->compacted);
		} else {
			go(w, &j->p);
			api_watch_notify(s, 0); /* what applied meanwhile goes out now */
		}
	}
	api_buf_free(&j->events);
	free(j);
	launch_waiting(ws);
	if (s->stopping && s->watchers && s->watchers->head == NULL &&
	    s->watchers->waiting == NULL) {
		free(s->watchers);
		s->watchers = NULL;
	}
	api_server_read_done(s);
}

/* Whether w's start is one store lookup (a pinned name) or nothing to read at all. */
static bool cheap_start(const struct watch *w, const struct watch_params *p)
{
	if (!p->initial)
		return !watch_filtered(w); /* a plain resume reads only the changes after rv */
	return *w->name && (!w->res->namespaced || *w->ns);
}

static void begin(struct watch *w, const struct watch_params *p)
{
	struct api_server *s = w->ws->s;
	struct start_job *j;
	uint64_t compacted;
	enum watch_failure f;

	if (!cheap_start(w, p) && (j = calloc(1, sizeof *j)) != NULL) {
		j->w = w;
		j->store = s->store;
		j->p = *p;
		j->work.data = j;
		w->starting = true;
		w->capture = &j->events;
		s->reads++;
		w->ws->starting++;
		if (w->ws->waiting_tail)
			w->ws->waiting_tail->next = j;
		else
			w->ws->waiting = j;
		w->ws->waiting_tail = j;
		launch_waiting(w->ws);
		return;
	}
	if ((f = begin_view(w, s->store, p, &compacted)) != WATCH_OK)
		fail(w, f, compacted);
	else
		go(w, p);
}

static struct watch *watch_new(struct api_watchers *ws, const struct route *rt)
{
	struct watch *w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	w->ws = ws;
	w->res = rt->res;
	snprintf(w->ns, sizeof w->ns, "%s", rt->res->namespaced ? rt->ns : "");
	snprintf(w->name, sizeof w->name, "%s", rt->name);
	uv_timer_init(ws->s->loop, &w->timer);
	w->timer.data = w;
	w->next = ws->head;
	if (ws->head)
		ws->head->prev = w;
	ws->head = w;
	ws->count++;
	return w;
}

void api_watch_start(struct api_server *s, struct api_req *r, const struct route *rt)
{
	struct api_watchers *ws;
	struct watch_params p;
	struct watch *w;

	if (s->stopping) {
		api_fail(r, API_UNAVAILABLE, NULL, "this replica is shutting down");
		return;
	}
	if ((ws = watchers(s)) == NULL || (w = watch_new(ws, rt)) == NULL) {
		api_fail_code(r, STSD_NOMEM, "watch");
		return;
	}
	if (!parse_query(w, r, &p)) {
		destroy(w);
		return;
	}
	if (api_stream_start(r, 200, "application/json") != STSD_OK) {
		api_fail_code(r, STSD_NOMEM, "watch");
		destroy(w);
		return;
	}
	w->req = r;
	api_req_on_close(r, req_closed, w);
	begin(w, &p);
}

/* ---- Delivery ---------------------------------------------------------------------------------
 */

/* One change to every watch that has not seen it; its JSON is parsed at most once. */
static int deliver(void *ud, const struct store_change *c)
{
	struct api_watchers *ws = ud;
	struct watch_obj o = {.json = c->json, .len = c->json_len};
	const char *type;

	if (c->is_claim)
		return 0;
	for (struct watch *w = ws->head; w; w = w->next) {
		if (w->starting || w->failed || c->revision <= w->pos ||
		    strcmp(c->resource, w->res->plural) != 0 || !watch_concerns(w, c->ns, c->name))
			continue;
		type = watch_event_type(w, c->type, c->ns, c->name, &o);
		if (type && c->revision > w->from)
			w->failed = watch_send(w, type, &o);
	}
	watch_obj_free(&o);
	return 0;
}

/* End the watches that failed during delivery. */
static void reap(struct api_watchers *ws, uint64_t compacted)
{
	struct watch *w = ws->head, *next;

	for (; w; w = next) {
		next = w->next;
		if (w->failed == WATCH_EXPIRED || w->failed == WATCH_ERROR)
			fail(w, w->failed, compacted);
		else if (w->failed != WATCH_OK)
			finish(w, w->failed);
	}
}

void api_watch_notify(struct api_server *s, uint64_t revision)
{
	struct api_watchers *ws = s->watchers;
	struct store_reader *rd;
	uint64_t applied, compacted, lowest = UINT64_MAX;
	int rv = STSD_OK;

	(void)revision; /* the reader's view may be further on: all of it is delivered */
	if (ws == NULL || ws->head == NULL || store_read_begin(s->store, &rd) != STSD_OK)
		return;
	applied = store_reader_applied_index(rd);
	compacted = store_reader_compacted(rd);
	/* After a snapshot install the log restarts at the snapshot: older positions are gone. */
	for (struct watch *w = ws->head; w; w = w->next)
		if (w->starting)
			continue;
		else if (w->pos < compacted)
			w->failed = WATCH_EXPIRED;
		else if (w->pos < applied && w->pos < lowest)
			lowest = w->pos;
	if (lowest != UINT64_MAX)
		rv = store_changes(rd, lowest, 0, deliver, ws);
	for (struct watch *w = ws->head; w; w = w->next) {
		if (w->starting)
			continue;
		if (rv != STSD_OK && !w->failed && w->pos < applied)
			w->failed = WATCH_ERROR;
		if (!w->failed && w->pos < applied)
			w->pos = applied;
	}
	store_read_end(rd);
	reap(ws, compacted);
}

void api_watch_close_all(struct api_server *s)
{
	struct api_watchers *ws = s->watchers;

	struct watch *w, *next;

	if (ws == NULL)
		return;
	for (w = ws->head; w; w = next) {
		next = w->next;
		if (!w->starting) /* those end when their start returns (start_done) */
			finish(w, WATCH_OK);
	}
	if (ws->head == NULL) {
		free(ws);
		s->watchers = NULL;
	}
}

size_t api_watch_count(const struct api_server *s)
{
	return s->watchers ? s->watchers->count - s->watchers->starting : 0;
}

uint64_t api_watch_slow_closed(const struct api_server *s)
{
	return s->watchers ? s->watchers->slow_closed : 0;
}
