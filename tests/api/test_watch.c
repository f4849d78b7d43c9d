/* test_watch.c — watches (api/watch.c) over a real HTTP server and a real store in a temporary
 * directory: initial ADDED events, changes, resume, 410 for a compacted or replaced change log,
 * selectors (objects entering and leaving the selection, also across a resume), bookmarks,
 * timeoutSeconds, slow and departed clients, and bad queries. The test plays consensus: it applies
 * batches to the store and calls api_watch_notify as api_on_applied does. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_internal.h"
#include "errors.h"
#include "helpers.h"
#include "http_fixture.h"
#include "log.h"
#include "watch.h"

struct wt {
	struct fx fx;
	struct fixture st;
	struct api_server *s;
};

static struct wt *g;

static void handler(void *ud, struct api_req *r)
{
	struct route rt;

	(void)ud;
	api_route(api_req_path(r), &rt);
	if (rt.kind != ROUTE_OBJECTS)
		api_respond(r, 404, NULL, "", 0);
	else
		api_watch_start(g->s, r, &rt);
}

static void start(const struct api_http_options *o)
{
	char err[256];

	g = calloc(1, sizeof *g);
	assert_non_null(g);
	fx_init(&g->fx);
	fx_start(&g->fx, o, handler);
	fx_tmpdir(g->st.dir, sizeof g->st.dir);
	assert_int_equal(store_open(g->st.dir, NULL, &g->st.s, err, sizeof err), STSD_OK);
	g->s = calloc(1, sizeof *g->s);
	assert_non_null(g->s);
	g->s->loop = &g->fx.loop;
	g->s->http = g->fx.h;
	g->s->store = g->st.s;
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	start(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_watch_close_all(g->s);
	fx_finish(&g->fx);
	store_close(g->st.s);
	fx_rmrf(g->st.dir);
	free(g->s);
	free(g);
	g = NULL;
	return 0;
}

/* ---- Helpers ----------------------------------------------------------------------------------
 */

static struct call *watch(const char *path, const char *header)
{
	struct call *c = calloc(1, sizeof *c);

	assert_non_null(c);
	call_init(c, &g->fx, path);
	c->header = header;
	c->timeout_ms = 20000;
	fx_spawn(&g->fx, call_thread, c);
	return c;
}

static size_t want_watches;

static bool watches_are(struct fx *fx)
{
	(void)fx;
	return api_watch_count(g->s) == want_watches;
}

static void await_watches(size_t n)
{
	want_watches = n;
	assert_true(fx_wait(&g->fx, watches_are, 10000));
}

/* Apply and tell the watches, as consensus and api_on_applied do. */
static void cm(const char *op, const char *ns, const char *name, const char *labels)
{
	char json[512];

	snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"data\":{}}",
	         name, labels ? labels : "{}");
	if (strcmp(op, "create") == 0)
		assert_int_equal(fx_create(&g->st, "configmaps", ns, name, json), STSD_OK);
	else if (strcmp(op, "update") == 0)
		assert_int_equal(fx_update(&g->st, "configmaps", ns, name, json, 0), STSD_OK);
	else
		assert_int_equal(fx_delete(&g->st, "configmaps", ns, name), STSD_OK);
	api_watch_notify(g->s, g->st.rev);
}

/* "TYPE name" per event line ("ERROR 410", "BOOKMARK rv"), space-joined, into out. */
static void summary(const struct call *c, char *out, size_t len)
{
	const char *p = c->resp.data ? c->resp.data : "";
	size_t n = 0;

	out[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		json_t *e = json_loadb(p, l, 0, NULL), *o = json_object_get(e, "object");
		const char *type = json_string_value(json_object_get(e, "type"));
		json_t *meta = json_object_get(o, "metadata");
		char what[300];

		if (json_object_get(o, "rows")) /* a Table: the name of its row's object */
			meta = json_object_get(
			    json_object_get(json_array_get(json_object_get(o, "rows"), 0),
			                    "object"),
			    "metadata");

		assert_non_null(type);
		if (strcmp(type, "ERROR") == 0)
			snprintf(what, sizeof what, "ERROR %d",
			         (int)json_integer_value(json_object_get(o, "code")));
		else if (strcmp(type, "BOOKMARK") == 0)
			snprintf(what, sizeof what, "BOOKMARK");
		else
			snprintf(what, sizeof what, "%s %s", type,
			         json_string_value(json_object_get(meta, "name")));
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", what);
		json_decref(e);
		p += l + (nl ? 1 : 0);
	}
}

/* End every watch, wait for the clients, and check what c received. */
static void expect(struct call *c, const char *want)
{
	char got[4096];

	api_watch_close_all(g->s);
	fx_join(&g->fx);
	assert_int_equal(c->rc, CURLE_OK);
	assert_int_equal(c->status, 200);
	summary(c, got, sizeof got);
	assert_string_equal(got, want);
	call_free(c);
	free(c);
}

#define CMS "/api/v1/namespaces/default/configmaps"

/* ---- Tests ------------------------------------------------------------------------------------
 */

static void initial_then_changes(void **state)
{
	struct call *c;

	(void)state;
	cm("create", "default", "a", NULL);
	cm("create", "other", "b", NULL);
	c = watch(CMS "?watch=true&resourceVersion=0", NULL);
	await_watches(1);
	cm("create", "default", "c", NULL);
	cm("update", "default", "a", "{\"x\":\"1\"}");
	cm("create", "other", "d", NULL);
	cm("delete", "default", "a", NULL);
	expect(c, "ADDED a,ADDED c,MODIFIED a,DELETED a");
}

static void all_namespaces(void **state)
{
	struct call *c;

	(void)state;
	cm("create", "default", "a", NULL);
	c = watch("/api/v1/configmaps?watch=1", NULL);
	await_watches(1);
	cm("create", "other", "b", NULL);
	expect(c, "ADDED a,ADDED b");
}

static void resume_after_rv(void **state)
{
	struct call *c;
	char path[256];
	uint64_t rv;

	(void)state;
	cm("create", "default", "a", NULL);
	rv = g->st.rev;
	cm("create", "default", "b", NULL);
	cm("update", "default", "a", "{\"v\":\"2\"}");
	snprintf(path, sizeof path, CMS "?watch=true&resourceVersion=%llu", (unsigned long long)rv);
	c = watch(path, NULL);
	await_watches(1);
	cm("delete", "default", "b", NULL);
	expect(c, "ADDED b,MODIFIED a,DELETED b");
}

/* A client ahead of this replica (its rv came from the leader) gets nothing it already has. */
static void resume_ahead(void **state)
{
	struct call *c;
	char path[256];

	(void)state;
	cm("create", "default", "a", NULL);
	snprintf(path, sizeof path, CMS "?watch=true&resourceVersion=%llu",
	         (unsigned long long)g->st.rev + 1);
	c = watch(path, NULL);
	await_watches(1);
	cm("create", "default", "b", NULL); /* the revision the client already has */
	cm("create", "default", "c", NULL);
	expect(c, "ADDED c");
}

static bool clients_done(struct fx *fx)
{
	return atomic_load(&fx->clients_done) == fx->threads;
}

static void expired_rv(void **state)
{
	struct call *c;
	uint64_t removed;

	(void)state;
	cm("create", "default", "a", NULL);
	cm("create", "default", "b", NULL);
	assert_int_equal(store_compact(g->st.s, 2, &removed), STSD_OK);
	c = watch(CMS "?watch=true&resourceVersion=1", NULL);
	assert_true(fx_wait(&g->fx, clients_done, 10000)); /* the stream ends by itself */
	assert_true(strstr(c->resp.data, "\"reason\":\"Expired\"") != NULL);
	assert_true(strstr(c->resp.data, "too old resource version: 1 (2)") != NULL);
	expect(c, "ERROR 410");
}

/* The log compacted under an open watch (as a snapshot install replaces it): 410, then the end. */
static void expired_under_watch(void **state)
{
	struct call *c;
	uint64_t removed;

	(void)state;
	cm("create", "default", "a", NULL);
	c = watch(CMS "?watch=true", NULL);
	await_watches(1);
	fx_create(&g->st, "configmaps", "default", "b", "{\"metadata\":{\"name\":\"b\"}}");
	assert_int_equal(store_compact(g->st.s, g->st.rev, &removed), STSD_OK);
	api_watch_notify(g->s, g->st.rev);
	assert_int_equal(api_watch_count(g->s), 0);
	expect(c, "ADDED a,ERROR 410");
}

static void bad_queries(void **state)
{
	struct call *c[3];

	(void)state;
	c[0] = watch(CMS "?watch=true&resourceVersion=abc", NULL);
	c[1] = watch(CMS "?watch=true&timeoutSeconds=-1", NULL);
	c[2] = watch(CMS "?watch=true&labelSelector=a%20in%20(", NULL);
	fx_join(&g->fx);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i]->status, 400);
		call_free(c[i]);
		free(c[i]);
	}
	assert_int_equal(api_watch_count(g->s), 0);
}

/* Objects entering and leaving a label selection: ADDED and DELETED, as Kubernetes sends. */
static void label_selector(void **state)
{
	struct call *c;

	(void)state;
	cm("create", "default", "x", "{\"app\":\"web\"}");
	cm("create", "default", "y", "{\"app\":\"db\"}");
	c = watch(CMS "?watch=true&labelSelector=app%3Dweb", NULL);
	await_watches(1);
	cm("update", "default", "x", "{\"app\":\"db\"}");
	cm("update", "default", "y", "{\"app\":\"web\"}");
	cm("update", "default", "x", "{\"app\":\"db\",\"v\":\"2\"}");
	cm("update", "default", "y", "{\"app\":\"web\",\"v\":\"2\"}");
	cm("delete", "default", "y", NULL);
	cm("delete", "default", "x", NULL);
	expect(c, "ADDED x,DELETED x,ADDED y,MODIFIED y,DELETED y");
}

/* A resumed selector watch knows what it selected at its rv: x left the selection after it. */
static void label_selector_resume(void **state)
{
	struct call *c;
	char path[256];
	uint64_t rv;

	(void)state;
	cm("create", "default", "z", "{\"app\":\"db\"}");
	cm("create", "default", "x", "{\"app\":\"web\"}");
	rv = g->st.rev;
	cm("update", "default", "x", "{\"app\":\"db\"}");
	cm("update", "default", "z", "{\"app\":\"db\",\"v\":\"2\"}");
	snprintf(path, sizeof path, CMS "?watch=true&labelSelector=app%%3Dweb&resourceVersion=%llu",
	         (unsigned long long)rv);
	c = watch(path, NULL);
	await_watches(1);
	cm("update", "default", "z", "{\"app\":\"web\"}");
	expect(c, "DELETED x,ADDED z");
}

static void field_selector_name(void **state)
{
	struct call *c, *named;
	char got[512];

	(void)state;
	cm("create", "default", "web", NULL);
	cm("create", "default", "other", NULL);
	c = watch(CMS "?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dweb", NULL);
	named = watch(CMS "/web?watch=true", NULL); /* the legacy form names it in the path */
	await_watches(2);
	cm("update", "default", "other", NULL);
	cm("update", "default", "web", "{\"a\":\"b\"}");
	cm("delete", "default", "web", NULL);
	api_watch_close_all(g->s);
	fx_join(&g->fx);
	summary(named, got, sizeof got);
	assert_string_equal(got, "ADDED web,MODIFIED web,DELETED web");
	call_free(named);
	free(named);
	expect(c, "ADDED web,MODIFIED web,DELETED web");
}

static void pod(const char *op, const char *name, const char *node, const char *label)
{
	char json[512];

	snprintf(json, sizeof json,
	         "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"note\":\"%s\"}},"
	         "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\"}]}}",
	         name, label, node);
	if (strcmp(op, "create") == 0)
		assert_int_equal(fx_create(&g->st, "pods", "default", name, json), STSD_OK);
	else
		assert_int_equal(fx_update(&g->st, "pods", "default", name, json, 0), STSD_OK);
	api_watch_notify(g->s, g->st.rev);
}

/* An agent's watch (fieldSelector spec.nodeName=n1), resumed: the raw-JSON look for "n1" that
 * spares parsing other nodes' pods must not change what it selects — a pod on n2 whose label
 * mentions n1 is still parsed and left out, one on n10 (a longer name) too. */
static void field_selector_node(void **state)
{
	struct call *c;
	char path[256];
	uint64_t rv;

	(void)state;
	pod("create", "a", "n1", "x");
	rv = g->st.rev;
	pod("create", "b", "n2", "n1");
	pod("create", "d", "n10", "x");
	pod("update", "a", "n1", "y");
	snprintf(path, sizeof path,
	         "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%%3Dn1&resourceVersion=%llu",
	         (unsigned long long)rv);
	c = watch(path, NULL);
	await_watches(1);
	pod("create", "e", "n1", "x");
	pod("update", "b", "n2", "n1-again");
	expect(c, "MODIFIED a,ADDED e");
}

/* Bookmarks every STSD_WATCH_BOOKMARK_MS (set in main), then the end after timeoutSeconds. */
static void bookmarks_and_timeout(void **state)
{
	struct call *c;
	char got[4096];
	json_t *e;

	(void)state;
#ifndef STSD_TEST_HOOKS
	skip(); /* the bookmark period is 60 s without the test hook */
#endif
	cm("create", "default", "a", NULL);
	c = watch(CMS "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1", NULL);
	assert_true(fx_wait(&g->fx, clients_done, 10000)); /* ended by the server */
	assert_int_equal(api_watch_count(g->s), 0);
	summary(c, got, sizeof got);
	assert_true(strncmp(got, "ADDED a,BOOKMARK,BOOKMARK", 25) == 0);
	e = json_loads(strchr(c->resp.data, '\n') + 1, JSON_DISABLE_EOF_CHECK, NULL);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(e, "object"), "metadata"), "resourceVersion")),
	    "1");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "object"), "kind")), "ConfigMap");
	json_decref(e);
	expect(c, got);
}

static bool none_open(struct fx *fx)
{
	(void)fx;
	return api_watch_count(g->s) == 0;
}

static void client_gone(void **state)
{
	struct call *c;

	(void)state;
	cm("create", "default", "a", NULL);
	c = calloc(1, sizeof *c);
	call_init(c, &g->fx, CMS "?watch=true");
	c->abort_after = 1;
	fx_spawn(&g->fx, call_thread, c);
	fx_join(&g->fx);
	assert_true(fx_wait(&g->fx, none_open, 10000));
	cm("create", "default", "b", NULL); /* nobody to tell: must not touch the old request */
	call_free(c);
	free(c);
}

/* The initial events overflow a small stream queue: the watch ends and is counted. */
static void slow_client(void **state)
{
	struct api_http_options o = {.address = "127.0.0.1:0", .max_stream_queue = 4096};
	struct call *c;
	char name[32];

	teardown(state);
	start(&o);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "cm-%03d", i);
		cm("create", "default", name, NULL);
	}
	c = watch(CMS "?watch=true", NULL);
	fx_join(&g->fx);
	assert_int_equal(api_watch_count(g->s), 0);
	assert_int_equal(api_watch_slow_closed(g->s), 1);
	assert_int_equal(c->status, 200);
	assert_true(c->resp.len <= 4096);
	call_free(c);
	free(c);
}

/* Many watches: one pass over the log per notify, every watch gets its events. */
static void many_watches(void **state)
{
	struct call *c[12];
	char got[256];

	(void)state;
	for (int i = 0; i < 12; i++)
		c[i] = watch(i % 2 ? CMS "?watch=true" : CMS "?watch=true&labelSelector=app", NULL);
	await_watches(12);
	cm("create", "default", "a", "{\"app\":\"x\"}");
	cm("create", "default", "b", NULL);
	api_watch_close_all(g->s);
	fx_join(&g->fx);
	for (int i = 0; i < 12; i++) {
		summary(c[i], got, sizeof got);
		assert_string_equal(got, i % 2 ? "ADDED a,ADDED b" : "ADDED a");
		call_free(c[i]);
		free(c[i]);
	}
}

/* Table events: one row each, columnDefinitions only in the first (as kube-apiserver). */
static void table_events(void **state)
{
	struct call *c;
	json_t *e1, *e2;
	const char *second;

	(void)state;
	cm("create", "default", "a", NULL);
	c = watch(CMS "?watch=true", "Accept: application/json;as=Table;v=v1;g=meta.k8s.io");
	await_watches(1);
	cm("create", "default", "b", NULL);
	api_watch_close_all(g->s);
	fx_join(&g->fx);
	assert_non_null(c->resp.data);
	e1 = json_loads(c->resp.data, JSON_DISABLE_EOF_CHECK, NULL);
	second = strchr(c->resp.data, '\n');
	assert_non_null(second);
	e2 = json_loads(second + 1, JSON_DISABLE_EOF_CHECK, NULL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e1, "object"), "kind")), "Table");
	assert_true(json_array_size(
	                json_object_get(json_object_get(e1, "object"), "columnDefinitions")) > 0);
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(e2, "object"), "columnDefinitions")),
	    0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(e2, "object"), "rows")),
	                 1);
	json_decref(e1);
	json_decref(e2);
	expect(c, "ADDED a,ADDED b");
}

/* WatchList (sendInitialEvents): the initial events end with an annotated BOOKMARK. */
static void send_initial_events(void **state)
{
	struct call *c;

	(void)state;
	cm("create", "default", "a", NULL);
	c = watch(CMS "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
	              "&resourceVersionMatch=NotOlderThan",
	          NULL);
	await_watches(1);
	cm("create", "default", "b", NULL);
	api_watch_close_all(g->s);
	fx_join(&g->fx);
	assert_non_null(strstr(c->resp.data, "\"k8s.io/initial-events-end\":\"true\""));
	expect(c, "ADDED a,BOOKMARK,ADDED b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(initial_then_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(all_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(resume_after_rv, setup, teardown),
	    cmocka_unit_test_setup_teardown(resume_ahead, setup, teardown),
	    cmocka_unit_test_setup_teardown(expired_rv, setup, teardown),
	    cmocka_unit_test_setup_teardown(expired_under_watch, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(label_selector, setup, teardown),
	    cmocka_unit_test_setup_teardown(label_selector_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(field_selector_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(field_selector_node, setup, teardown),
	    cmocka_unit_test_setup_teardown(bookmarks_and_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(slow_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(many_watches, setup, teardown),
	    cmocka_unit_test_setup_teardown(table_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(send_initial_events, setup, teardown),
	};

	/* Bookmarks every 300 ms: the timeoutSeconds=1 watch sees at least two. */
	setenv("STSD_WATCH_BOOKMARK_MS", "300", 1);
	curl_global_init(CURL_GLOBAL_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
