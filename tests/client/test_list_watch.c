/* test_list_watch.c — client_list_watch against a real three-replica TLS cluster: the initial list
 * and SYNCED, events in order, a resume without loss or duplicates after SIGKILL of the replica
 * the watch was connected to, a re-list with the right ADDED/MODIFIED/DELETED diff after a 410,
 * label selectors, a prompt stop, the callback's value and a refused client. argv[1]: stsd. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "errors.h"
#include "harness.h"
#include "util.h"
#include "watch.h"
#include "writers.h"

#define READY_MS   20000
#define EVENT_MS   20000
#define EXPIRE_MS  90000 /* history 10 s, sampled every 10 s; a restarted replica starts over */
#define CONFIGMAPS "/api/v1/namespaces/default/configmaps"
#define MAX_EVENTS 512

static const char *stsd;
static const char *const flags[] = {"--watch-history", "10", NULL};

struct event {
	char type[16];
	char name[64];
	uint64_t rv;
};

/* One client_list_watch on its own thread, recording what it delivers. */
struct watcher {
	pthread_t thread;
	struct client *c;
	const char *path;
	struct client_watch_options o;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct event ev[MAX_EVENTS];
	size_t n, synced;
	bool done;
	int ret;
	char err[512];
	/* The 410 hook: armed by the test, it pauses the loop before a watch, then swaps in rv. */
	bool armed, paused, go;
	char ancient[32];
};

static uint64_t rv_of(const json_t *obj)
{
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));

	return rv != NULL ? strtoull(rv, NULL, 10) : 0;
}

static int record(void *ud, const char *type, const json_t *obj)
{
	struct watcher *w = ud;
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	pthread_mutex_lock(&w->mu);
	if (w->n < MAX_EVENTS) {
		struct event *e = &w->ev[w->n++];
		snprintf(e->type, sizeof e->type, "%s", type);
		snprintf(e->name, sizeof e->name, "%s", name != NULL ? name : "");
		e->rv = obj != NULL ? rv_of(obj) : 0;
	}
	w->synced += strcmp(type, "SYNCED") == 0;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void hook(void *ud, char *rv, size_t len)
{
	struct watcher *w = ud;
	struct timespec until;

	pthread_mutex_lock(&w->mu);
	if (w->armed) {
		w->armed = false;
		w->paused = true;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60; /* a failed test must not hang the thread for ever */
		while (!w->go && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
			;
		snprintf(rv, len, "%s", w->ancient);
	}
	pthread_mutex_unlock(&w->mu);
}

static void *run(void *ud)
{
	struct watcher *w = ud;
	char err[512] = "";
	int ret =
	    client_list_watch_opts(w->c, w->path, &w->o, record, w, &w->stop, err, sizeof err);

	pthread_mutex_lock(&w->mu);
	w->ret = ret;
	snprintf(w->err, sizeof w->err, "%s", err);
	w->done = true;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static struct watcher *watcher_start(struct harness *h, const char *path)
{
	struct watcher *w = calloc(1, sizeof *w);

	assert_non_null(w);
	w->c = harness_client(h, 10000);
	w->path = path;
	w->o =
	    (struct client_watch_options){.watch_timeout_s = 2,
	                                  .page_limit = 1, /* every object on a page of its own */
	                                  .backoff_ms = 50,
	                                  .backoff_max_ms = 500,
	                                  .before_watch = hook,
	                                  .hook_ud = w};
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	assert_int_equal(pthread_create(&w->thread, NULL, run, w), 0);
	return w;
}

/* Stop w and wait for its thread; asserts it ends within 3 s and returned 0. */
static void watcher_stop(struct harness *h, struct watcher *w)
{
	uint64_t t0 = util_now_mono_ms();
	bool done = false;

	w->stop = 1;
	while (!done && util_now_mono_ms() - t0 < 3000) {
		pthread_mutex_lock(&w->mu);
		done = w->done;
		pthread_mutex_unlock(&w->mu);
		if (!done)
			harness_nap(10);
	}
	harness_log(h, "watcher %s stopped in %llu ms", w->path,
	            (unsigned long long)(util_now_mono_ms() - t0));
	assert_true(done);
	pthread_join(w->thread, NULL);
	assert_int_equal(w->ret, 0);
	client_destroy(w->c);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* Poll until pred(w, arg) holds (under w's lock); fails after ms. */
static void wait_for(struct watcher *w, bool (*pred)(struct watcher *, const void *),
                     const void *arg, long ms, const char *what)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)ms;
	bool ok;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		ok = pred(w, arg);
		pthread_mutex_unlock(&w->mu);
		if (ok)
			return;
		if (w->done)
			fail_msg("watcher ended (%d: %s) waiting for %s", w->ret, w->err, what);
		if (util_now_mono_ms() > deadline)
			fail_msg("timed out waiting for %s (%zu events)", what, w->n);
		harness_nap(20);
	}
}

static bool has_synced(struct watcher *w, const void *arg)
{
	return w->synced >= *(const size_t *)arg;
}

/* An event of name with an rv of at least the one wanted. */
struct seen {
	const char *name;
	uint64_t rv;
};

static bool saw(struct watcher *w, const void *arg)
{
	const struct seen *s = arg;

	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->ev[i].name, s->name) == 0 && w->ev[i].rv >= s->rv)
			return true;
	return false;
}

static bool is_paused(struct watcher *w, const void *arg)
{
	(void)arg;
	return w->paused;
}

static void wait_seen(struct watcher *w, const char *name, uint64_t rv)
{
	struct seen s = {name, rv};
	char what[128];

	snprintf(what, sizeof what, "%s at rv %llu", name, (unsigned long long)rv);
	wait_for(w, saw, &s, EVENT_MS, what);
}

/* ---- Writes ------------------------------------------------------------------------------- */

/* POST (create) or PUT (update) configmap name in ns with data {"v": value} and, when label is
 * not NULL, the label app=label; returns the new resourceVersion. */
static uint64_t cm_write(struct client *c, const char *method, const char *ns, const char *name,
                         const char *value, const char *label)
{
	json_t *body = json_pack("{s:{s:s,s:{}},s:{s:s}}", "metadata", "name", name, "labels",
	                         "data", "v", value);
	json_t *out = NULL;
	char path[200];
	uint64_t rv;
	int code;

	if (label != NULL)
		json_object_set_new(json_object_get(json_object_get(body, "metadata"), "labels"),
		                    "app", json_string(label));
	if (strcmp(method, "POST") == 0)
		snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
	else
		snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/%s", ns, name);
	code = client_json(c, method, path, body, &out);
	if (code != STSD_OK)
		fail_msg("%s %s: %s", method, path, client_errmsg(c));
	rv = rv_of(out);
	json_decref(body);
	json_decref(out);
	assert_true(rv > 0);
	return rv;
}

static uint64_t cm_create(struct client *c, const char *name, const char *label)
{
	return cm_write(c, "POST", "default", name, "0", label);
}

static uint64_t cm_update(struct client *c, const char *name, const char *value, const char *label)
{
	return cm_write(c, "PUT", "default", name, value, label);
}

static void cm_delete(struct client *c, const char *name)
{
	char path[200];

	snprintf(path, sizeof path, "%s/%s", CONFIGMAPS, name);
	if (client_json(c, "DELETE", path, NULL, NULL) != STSD_OK)
		fail_msg("DELETE %s: %s", path, client_errmsg(c));
}

/* ---- Scenarios ------------------------------------------------------------------------------ */

/* The names the server lists now, sorted into one comma-separated string. */
static void server_names(struct client *c, const char *path, char *out, size_t len)
{
	json_t *list = NULL, *it;
	size_t i;

	assert_int_equal(client_get_json(c, path, &list), STSD_OK);
	out[0] = '\0';
	json_array_foreach(json_object_get(list, "items"), i, it)
	{
		const char *n =
		    json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
		snprintf(out + strlen(out), len - strlen(out), "%s,", n);
	}
	json_decref(list);
}

/* What w delivered before its first SYNCED, as server_names formats it (lists are in key order,
 * and so is the loop's first delivery). */
static void initial_names(struct watcher *w, char *out, size_t len)
{
	out[0] = '\0';
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n && strcmp(w->ev[i].type, "SYNCED") != 0; i++) {
		assert_string_equal(w->ev[i].type, "ADDED");
		snprintf(out + strlen(out), len - strlen(out), "%s,", w->ev[i].name);
	}
	pthread_mutex_unlock(&w->mu);
}

static void initial_list(struct harness *h, struct watcher *w, struct client *wc)
{
	size_t one = 1;
	char want[1024], got[1024];

	wait_for(w, has_synced, &one, EVENT_MS, "the first SYNCED");
	server_names(wc, CONFIGMAPS, want, sizeof want);
	initial_names(w, got, sizeof got);
	harness_log(h, "initial list: %s", got);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "k-pre-1,"));
}

/* The events of w from index `from` on whose name is name. */
static size_t events_of(struct watcher *w, size_t from, const char *name, struct event *out,
                        size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&w->mu);
	for (size_t i = from; i < w->n && n < max; i++)
		if (strcmp(w->ev[i].name, name) == 0)
			out[n++] = w->ev[i];
	pthread_mutex_unlock(&w->mu);
	return n;
}

static size_t n_events(struct watcher *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

static size_t n_synced(struct watcher *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->synced;
	pthread_mutex_unlock(&w->mu);
	return n;
}

static void expect(const struct event *e, const char *type, const char *name, uint64_t rv)
{
	assert_string_equal(e->type, type);
	assert_string_equal(e->name, name);
	if (rv != 0)
		assert_int_equal(e->rv, rv);
}

/* Creates, updates and deletes arrive as events, in order. */
static void events_in_order(struct harness *h, struct watcher *w, struct client *wc)
{
	size_t from = n_events(w);
	uint64_t r1, r2, r3;
	struct event ev[8];

	r1 = cm_create(wc, "k-a", NULL);
	r2 = cm_update(wc, "k-a", "1", NULL);
	r3 = cm_create(wc, "k-b", NULL);
	cm_delete(wc, "k-a");
	wait_seen(w, "k-b", r3);
	wait_seen(w, "k-a", r3 + 1);
	pthread_mutex_lock(&w->mu);
	assert_true(w->n - from >= 4);
	memcpy(ev, &w->ev[from], 4 * sizeof *ev);
	pthread_mutex_unlock(&w->mu);
	expect(&ev[0], "ADDED", "k-a", r1);
	expect(&ev[1], "MODIFIED", "k-a", r2);
	expect(&ev[2], "ADDED", "k-b", r3);
	expect(&ev[3], "DELETED", "k-a", 0);
	assert_true(ev[3].rv > r3);
	harness_log(h, "events in order: k-a %llu %llu, k-b %llu, k-a deleted at %llu",
	            (unsigned long long)r1, (unsigned long long)r2, (unsigned long long)r3,
	            (unsigned long long)ev[3].rv);
}

/* The replica serving w's watch: the one with an open watch (w is the only watcher then). */
static uint64_t watch_replica(struct harness *h)
{
	uint64_t deadline = util_now_mono_ms() + EVENT_MS, found = 0;

	while (util_now_mono_ms() < deadline) {
		size_t n = 0;
		for (uint64_t id = 1; id <= 3; id++)
			if (harness_running(h, id) && harness_metric(h, id, "stsd_api_watches") > 0)
				n++, found = id;
		if (n == 1)
			return found;
		harness_nap(20);
	}
	fail_msg("no single replica serves the watch");
	return 0;
}

/* SIGKILL of the watch's replica: the loop resumes elsewhere from its last resourceVersion, and
 * every acknowledged update arrives once, in order, without a re-list. */
static void survives_kill(struct harness *h, struct watcher *w, struct client *wc)
{
	enum { BEFORE = 5, AFTER = 15 };
	uint64_t acked[BEFORE + AFTER], victim = 0;
	struct event ev[MAX_EVENTS];
	size_t from, synced, n, j = 0;
	char v[16];

	from = n_events(w);
	synced = n_synced(w);
	cm_create(wc, "k-kill", NULL);
	for (int i = 0; i < BEFORE + AFTER; i++) {
		if (i == BEFORE) {
			wait_seen(w, "k-kill", acked[i - 1]);
			victim = watch_replica(h);
			harness_log(h, "killing replica %llu, which serves the watch",
			            (unsigned long long)victim);
			harness_kill(h, victim);
		}
		snprintf(v, sizeof v, "%d", i + 1);
		acked[i] = cm_update(wc, "k-kill", v, NULL);
	}
	wait_seen(w, "k-kill", acked[BEFORE + AFTER - 1]);
	n = events_of(w, from, "k-kill", ev, MAX_EVENTS);
	for (size_t i = 0; i < n; i++) { /* strictly increasing: nothing twice */
		assert_string_equal(ev[i].type, i == 0 ? "ADDED" : "MODIFIED");
		if (i > 0)
			assert_true(ev[i].rv > ev[i - 1].rv);
	}
	for (size_t i = 0; i < n && j < BEFORE + AFTER; i++) /* every acknowledged one */
		j += ev[i].rv == acked[j];
	harness_log(h, "after the kill: %zu events, %zu of %d acknowledged updates seen", n, j,
	            BEFORE + AFTER);
	assert_int_equal(j, BEFORE + AFTER);
	assert_int_equal(n_synced(w), synced); /* resumed, not listed again */
	harness_start(h, victim);
	harness_wait_ready(h, victim, READY_MS);
}

/* Whether a watch from rv answers 410 on every replica. */
static bool expired_everywhere(struct harness *h, const char *rv)
{
	char path[256];

	snprintf(path, sizeof path, "%s?watch=1&timeoutSeconds=1&resourceVersion=%s", CONFIGMAPS,
	         rv);
	for (uint64_t id = 1; id <= 3; id++) {
		struct client_response r = {0};
		bool gone;
		if (client_request(h->r[id - 1].c, "GET", path, NULL, 0, NULL, &r) != STSD_OK)
			return false;
		gone = r.body != NULL && strstr(r.body, "\"code\":410") != NULL;
		client_response_free(&r);
		if (!gone)
			return false;
	}
	return true;
}

/* Writes elsewhere (namespace ticks) move the applied index until rv leaves every replica's
 * history. */
static void wait_expired(struct harness *h, struct client *wc, const char *rv)
{
	uint64_t t0 = util_now_mono_ms();
	char v[32];

	for (unsigned i = 0; !expired_everywhere(h, rv); i++) {
		assert_true(util_now_mono_ms() - t0 < EXPIRE_MS);
		snprintf(v, sizeof v, "%u", i);
		cm_write(wc, "PUT", "ticks", "tick", v, NULL);
		harness_nap(200);
	}
	harness_log(h, "rv %s expired on every replica after %llu ms", rv,
	            (unsigned long long)(util_now_mono_ms() - t0));
}

/* A watch from an expired resourceVersion (410) makes the loop list again and deliver what
 * changed meanwhile: exactly one ADDED, one MODIFIED, one DELETED, then SYNCED. */
static void relists_on_410(struct harness *h, struct watcher *w, struct client *wc,
                           const char *ancient)
{
	size_t from, synced;
	uint64_t r_new, r_upd;
	struct event ev[8];

	wait_seen(w, "k-del", cm_create(wc, "k-del", NULL));
	wait_seen(w, "k-upd", cm_create(wc, "k-upd", NULL));
	wait_expired(h, wc, ancient);
	pthread_mutex_lock(&w->mu);
	snprintf(w->ancient, sizeof w->ancient, "%s", ancient);
	w->armed = true;
	pthread_mutex_unlock(&w->mu);
	wait_for(w, is_paused, NULL, EVENT_MS, "the loop to pause before a watch");
	from = n_events(w);
	synced = n_synced(w);
	r_new = cm_create(wc, "k-new", NULL);
	r_upd = cm_update(wc, "k-upd", "2", NULL);
	cm_delete(wc, "k-del");
	pthread_mutex_lock(&w->mu);
	w->go = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	synced++;
	wait_for(w, has_synced, &synced, EVENT_MS, "SYNCED after the re-list");
	pthread_mutex_lock(&w->mu);
	assert_int_equal(w->n - from, 4);
	memcpy(ev, &w->ev[from], 4 * sizeof *ev);
	pthread_mutex_unlock(&w->mu);
	/* Listed objects in key order, then the vanished ones. */
	expect(&ev[0], "ADDED", "k-new", r_new);
	expect(&ev[1], "MODIFIED", "k-upd", r_upd);
	expect(&ev[2], "DELETED", "k-del", 0);
	expect(&ev[3], "SYNCED", "", 0);
	harness_log(h, "re-list after 410: ADDED k-new, MODIFIED k-upd, DELETED k-del, SYNCED");
}

/* A label selector filters the list and the events; an object leaving it is DELETED. */
static void label_selector(struct harness *h, struct client *wc)
{
	struct watcher *s = watcher_start(h, CONFIGMAPS "?labelSelector=app%3Dsel");
	size_t one = 1, from;
	uint64_t r1, r2, r3;
	struct event ev[8];
	char got[1024];

	wait_for(s, has_synced, &one, EVENT_MS, "SYNCED of the selector watch");
	initial_names(s, got, sizeof got);
	assert_string_equal(got, "k-pre-sel,");
	from = n_events(s);
	r1 = cm_create(wc, "k-sel-1", "sel");
	cm_create(wc, "k-nosel", "other");
	r2 = cm_update(wc, "k-sel-1", "1", "other"); /* leaves the selection */
	r3 = cm_create(wc, "k-sel-2", "sel");
	wait_seen(s, "k-sel-2", r3);
	pthread_mutex_lock(&s->mu);
	assert_int_equal(s->n - from, 3);
	memcpy(ev, &s->ev[from], 3 * sizeof *ev);
	pthread_mutex_unlock(&s->mu);
	expect(&ev[0], "ADDED", "k-sel-1", r1);
	expect(&ev[1], "DELETED", "k-sel-1", r2);
	expect(&ev[2], "ADDED", "k-sel-2", r3);
	harness_log(h, "label selector: only app=sel objects, k-sel-1 deleted when relabelled");
	watcher_stop(h, s);
}

static int answer_7(void *ud, const char *type, const json_t *obj)
{
	(void)ud, (void)obj;
	return strcmp(type, "SYNCED") == 0 ? 7 : 0;
}

/* The callback's non-zero value ends the loop; a client without a certificate is refused. */
static void returns(struct harness *h)
{
	struct client_options o = {.deadline_ms = 5000};
	struct client *c = harness_client(h, 5000), *anon;
	char err[512] = "";

	assert_int_equal(client_list_watch(c, CONFIGMAPS, answer_7, NULL, NULL, err, sizeof err),
	                 7);
	client_destroy(c);
	harness_credentials(h, &o);
	o.cert_file = o.key_file = NULL;
	assert_int_equal(client_create(h->urls, 3, &o, &anon, err, sizeof err), STSD_OK);
	assert_int_equal(client_list_watch(anon, CONFIGMAPS, answer_7, NULL, NULL, err, sizeof err),
	                 STSD_INVALID);
	harness_log(h, "anonymous: %s", err);
	assert_true(strstr(err, "401") != NULL || strstr(err, "403") != NULL);
	client_destroy(anon);
	assert_int_equal(client_list_watch(anon = harness_client(h, 5000), "api/v1/configmaps",
	                                   answer_7, NULL, NULL, err, sizeof err),
	                 STSD_INVALID);
	client_destroy(anon);
}

static void list_watch(void **state)
{
	struct cluster_test *t = *state;
	struct harness *h;
	struct watcher *w;
	struct client *wc;
	char ancient[32];
	json_t *ns;

	setenv("STSD_WATCH_BOOKMARK_MS", "500", 1); /* bookmarks keep a quiet watch's rv recent */
	t->h = h = harness_create(stsd, "list-watch", 3, 3, flags);
	harness_start_cluster(h, READY_MS);
	wc = harness_client(h, 30000);
	snprintf(ancient, sizeof ancient, "%llu",
	         (unsigned long long)cm_create(wc, "k-pre-1", NULL));
	cm_create(wc, "k-pre-2", NULL);
	cm_create(wc, "k-pre-sel", "sel");
	ns = json_pack("{s:{s:s}}", "metadata", "name", "ticks");
	assert_int_equal(client_json(wc, "POST", "/api/v1/namespaces", ns, NULL), STSD_OK);
	json_decref(ns);
	cm_write(wc, "POST", "ticks", "tick", "0", NULL);

	w = watcher_start(h, CONFIGMAPS);
	initial_list(h, w, wc);
	events_in_order(h, w, wc);
	survives_kill(h, w, wc);
	relists_on_410(h, w, wc, ancient);
	label_selector(h, wc);
	watcher_stop(h, w);
	returns(h);
	client_destroy(wc);
	harness_finish(h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "list_watch", list_watch);
}
