/* test_client_watch.c — client_list_watch against a scripted HTTP server: paging, line splitting,
 * bookmarks, replayed events, HTTP 410 and ERROR events (410 and others), the re-list diff, an
 * expired continue token, hard refusals, the callback's value and a prompt stop during a watch that
 * never answers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client.h"
#include "errors.h"
#include "httpd.h"
#include "util.h"
#include "watch.h"

/* One expected request (its target must contain `want`) and the answer to it. */
struct step {
	const char *want;
	int status;
	const char *body;
};

struct script {
	const struct step *steps;
	size_t n, next;
	char mismatch[1200]; /* the first request that did not match, "" when none */
};

static enum httpd_action serve(void *data, const struct httpd_request *req, struct httpd_reply *rep)
{
	struct script *s = data;
	const struct step *st;

	if (s->next >= s->n)
		return HTTPD_HANG; /* past the script: a watch that never answers */
	st = &s->steps[s->next++];
	if (strstr(req->path, st->want) == NULL && s->mismatch[0] == '\0')
		snprintf(s->mismatch, sizeof s->mismatch, "step %zu: %s lacks %s", s->next - 1,
		         req->path, st->want);
	rep->status = st->status;
	rep->content_type = "application/json";
	rep->body = st->body;
	rep->body_len = strlen(st->body);
	return HTTPD_REPLY;
}

#define OBJ(name, rv)                                                                           \
	"{\"metadata\":{\"name\":\"" name "\",\"uid\":\"u-" name "\",\"resourceVersion\":\"" rv \
	"\"}}"
#define EV(type, name, rv) "{\"type\":\"" type "\",\"object\":" OBJ(name, rv) "}"
#define STATUS(code, msg) \
	"{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":" #code ",\"message\":\"" msg "\"}"

/* What the callback saw, "TYPE name rv;" each. */
struct seen {
	char log[4096];
	int answer_on_added; /* non-zero: return it on the first ADDED */
	volatile int stop;
	int ret;
};

static int record(void *ud, const char *type, const json_t *obj)
{
	struct seen *s = ud;
	const json_t *m = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *rv = json_string_value(json_object_get(m, "resourceVersion"));

	snprintf(s->log + strlen(s->log), sizeof s->log - strlen(s->log), "%s%s%s%s%s;", type,
	         name ? " " : "", name ? name : "", rv ? " " : "", rv ? rv : "");
	return strcmp(type, "ADDED") == 0 ? s->answer_on_added : 0;
}

static const struct client_watch_options opts = {
    .watch_timeout_s = 1, .page_limit = 2, .backoff_ms = 1, .backoff_max_ms = 5};

/* A client over a dead port, then the server: the first request fails over. */
static struct client *client_for(struct httpd *h)
{
	char dead[64];
	const char *urls[2] = {dead, httpd_url(h)};
	struct client_options o = {.deadline_ms = 5000, .backoff_ms = 1};
	struct client *c;
	char err[256];

	snprintf(dead, sizeof dead, "http://127.0.0.1:%d", httpd_dead_port());
	assert_int_equal(client_create(urls, 2, &o, &c, err, sizeof err), STSD_OK);
	return c;
}

static void events_resume_relist(void **state)
{
	static const struct step steps[] = {
	    {"?labelSelector=app%3Dx&limit=2", 200,
	     "{\"items\":[" OBJ("a", "5") "],\"metadata\":{\"resourceVersion\":\"10\","
	                                  "\"continue\":\"tok/1\"}}"},
	    {"labelSelector=app%3Dx&limit=2&continue=tok%2F1", 200,
	     "{\"items\":[" OBJ("b", "6") "],\"metadata\":{\"resourceVersion\":\"11\"}}"},
	    /* from the first page's rv; a replay, a bookmark, CRLF, an empty line, no last LF */
	    {"labelSelector=app%3Dx&watch=true&resourceVersion=10&allowWatchBookmarks=true&"
	     "timeoutSeconds=1",
	     200,
	     EV("ADDED", "c", "11") "\n" EV("ADDED", "c", "11") "\n" EV(
	         "BOOKMARK", "", "12") "\n" EV("MODIFIED", "a", "13") "\r\n\n" EV("DELETED", "b",
	                                                                          "14")},
	    {"resourceVersion=14&", 410, STATUS(410, "too old")},
	    {"limit=2", 200,
	     "{\"items\":[" OBJ("c", "20") "," OBJ("d", "21") "],\"metadata\":{"
	                                                      "\"resourceVersion\":\"30\"}}"},
	    {"resourceVersion=30&", 200,
	     "{\"type\":\"ERROR\",\"object\":" STATUS(500, "boom") "}\n"},
	    {"resourceVersion=30&", 200,
	     "{\"type\":\"ERROR\",\"object\":" STATUS(410, "too old") "}\n"},
	    /* a continue token gone (410): one whole list instead */
	    {"limit=2", 200,
	     "{\"items\":[" OBJ("c", "20") "],\"metadata\":{\"resourceVersion\":\"40\","
	                                   "\"continue\":\"t2\"}}"},
	    {"limit=2&continue=t2", 410, STATUS(410, "continue expired")},
	    {"limit=0", 200,
	     "{\"items\":[" OBJ("c", "20") "," OBJ("d", "21") "],\"metadata\":{"
	                                                      "\"resourceVersion\":\"40\"}}"},
	    {"resourceVersion=40&", 200, "not json\n"},
	    {"resourceVersion=40&", 403, STATUS(403, "forbidden here")},
	};
	struct script s = {.steps = steps, .n = sizeof steps / sizeof *steps};
	struct seen seen = {0};
	struct httpd *h;
	struct client *c;
	char err[512] = "";

	(void)state;
	assert_int_equal(httpd_start("127.0.0.1", 0, serve, &s, &h), 0);
	c = client_for(h);
	assert_int_equal(client_list_watch_opts(c, "/api/v1/configmaps?labelSelector=app%3Dx",
	                                        &opts, record, &seen, NULL, err, sizeof err),
	                 STSD_INVALID);
	httpd_stop(h);
	client_destroy(c);
	assert_string_equal(s.mismatch, "");
	assert_int_equal(s.next, s.n);
	assert_non_null(strstr(err, "forbidden here"));
	assert_string_equal(seen.log, "ADDED a 5;ADDED b 6;SYNCED;"
	                              "ADDED c 11;MODIFIED a 13;DELETED b 14;"
	                              "MODIFIED c 20;ADDED d 21;DELETED a 13;SYNCED;"
	                              "SYNCED;");
}

static void callback_value_and_bad_path(void **state)
{
	static const struct step steps[] = {
	    {"limit=2", 200,
	     "{\"items\":[" OBJ("a", "5") "],\"metadata\":{\"resourceVersion\":\"10\"}}"},
	};
	struct script s = {.steps = steps, .n = 1};
	struct seen seen = {.answer_on_added = 9};
	struct httpd *h;
	struct client *c;
	char err[512] = "";

	(void)state;
	assert_int_equal(httpd_start("127.0.0.1", 0, serve, &s, &h), 0);
	c = client_for(h);
	assert_int_equal(
	    client_list_watch(c, "/api/v1/configmaps", record, &seen, NULL, err, sizeof err), 9);
	assert_string_equal(seen.log, "ADDED a 5;");
	assert_int_equal(
	    client_list_watch(c, "api/v1/configmaps", record, &seen, NULL, err, sizeof err),
	    STSD_INVALID);
	assert_int_equal(client_list_watch(c, NULL, record, &seen, NULL, err, sizeof err),
	                 STSD_INVALID);
	httpd_stop(h);
	client_destroy(c);
}

struct run {
	struct client *c;
	struct seen *seen;
	bool done;
	pthread_mutex_t mu;
};

static void *run(void *ud)
{
	struct run *r = ud;
	char err[256];
	int ret = client_list_watch_opts(r->c, "/api/v1/pods", &opts, record, r->seen,
	                                 &r->seen->stop, err, sizeof err);

	pthread_mutex_lock(&r->mu);
	r->seen->ret = ret;
	r->done = true;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static bool is_done(struct run *r)
{
	bool done;

	pthread_mutex_lock(&r->mu);
	done = r->done;
	pthread_mutex_unlock(&r->mu);
	return done;
}

/* The watch request is never answered: *stop still ends the loop within about a second. */
static void stop_while_hung(void **state)
{
	static const struct step steps[] = {
	    {"limit=2", 200, "{\"items\":[],\"metadata\":{\"resourceVersion\":\"10\"}}"},
	};
	struct script s = {.steps = steps, .n = 1};
	struct seen seen = {0};
	struct run r = {.seen = &seen, .mu = PTHREAD_MUTEX_INITIALIZER};
	uint64_t deadline, t0;
	struct httpd *h;
	pthread_t th;

	(void)state;
	assert_int_equal(httpd_start("127.0.0.1", 0, serve, &s, &h), 0);
	r.c = client_for(h);
	assert_int_equal(pthread_create(&th, NULL, run, &r), 0);
	deadline = util_now_mono_ms() + 10000;
	while (httpd_requests(h) < 2) { /* the list, then the watch that hangs */
		assert_true(util_now_mono_ms() < deadline);
		struct timespec ts = {.tv_nsec = 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	t0 = util_now_mono_ms();
	seen.stop = 1;
	while (!is_done(&r)) {
		assert_true(util_now_mono_ms() - t0 < 2500);
		struct timespec ts = {.tv_nsec = 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	pthread_join(th, NULL);
	assert_int_equal(seen.ret, 0);
	assert_string_equal(seen.log, "SYNCED;");
	httpd_stop(h);
	client_destroy(r.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(events_resume_relist),
	    cmocka_unit_test(callback_value_and_bad_path),
	    cmocka_unit_test(stop_while_hung),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
