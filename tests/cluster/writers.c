/* writers.c — counter writers for cluster tests: threads that increment ConfigMap counters with
 * optimistic concurrency and know exactly how many increments landed. */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util.h"
#include "writers.h"

#define REQUEST_DEADLINE_MS 15000
/* How long a stopping writer keeps trying to read its counter back. */
#define RESOLVE_MS 30000

struct writer {
	struct writers *ws;
	pthread_t thread;
	bool started;
	char name[64], path[160];
	struct client *c;
	uint64_t acked; /* increments known to have landed: the counter's value */
	bool pending;   /* an attempt to write acked + 1 may have landed */
	uint64_t ok, ambiguous, conflicts, landed_unseen;
	_Atomic uint64_t last_ok_start_ms; /* start of the latest PUT answered 200 */
	_Atomic uint64_t acked_shared;
	char error[512];  /* the first error; the writer stops at it */
	char answer[400]; /* the last failed request's answer or transport error */
};

struct writers {
	struct harness *h;
	size_t n;
	struct writer w[WRITERS_MAX];
	atomic_bool stop, abort, failed;
	bool stopped;
};

static void failf(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(struct writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->error, sizeof w->error, fmt, ap);
	va_end(ap);
	atomic_store(&w->ws->failed, true);
	harness_log(w->ws->h, "writer %s: ERROR: %s", w->name, w->error);
}

static void nap(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- One writer ------------------------------------------------------------------------------ */

/* Send method path with a JSON body (or none): the HTTP status, or 0 when no replica answered
 * before the deadline. A 2xx body is parsed into *out when out is not NULL; any other answer is
 * kept in w->answer for error messages. */
static long send_json(struct writer *w, const char *method, const char *path, json_t *body,
                      json_t **out)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct client_response resp;
	long status;

	if (out)
		*out = NULL;
	if (client_request(w->c, method, path, text, text ? strlen(text) : 0,
	                   text ? "application/json" : NULL, &resp) != 0) {
		snprintf(w->answer, sizeof w->answer, "%s", client_errmsg(w->c));
		free(text);
		return 0;
	}
	free(text);
	status = resp.status;
	if (status / 100 == 2 && out)
		*out = json_loadb(resp.body, resp.body_len, 0, NULL);
	else if (status / 100 != 2)
		snprintf(w->answer, sizeof w->answer, "%ld %.*s", status, 300, resp.body);
	client_response_free(&resp);
	return status;
}

/* No answer, 503 or 504: the request may or may not have taken effect. */
static bool in_doubt(long status)
{
	return status == 0 || status == 503 || status == 504;
}

static bool create_counter(struct writer *w)
{
	json_t *body =
	    json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", w->name, "data", "n", "0");
	long status;

	do {
		status = send_json(w, "POST", "/api/v1/namespaces/default/configmaps", body, NULL);
	} while (in_doubt(status) && !atomic_load(&w->ws->abort));
	json_decref(body);
	/* 409 AlreadyExists: an attempt in doubt, retried by the client, got there first. */
	if (status != 201 && status != 409 && !atomic_load(&w->ws->abort))
		failf(w, "create: %s", w->answer);
	return status == 201 || status == 409;
}

/* GET the counter (retrying until an answer, the abort, or give_up_ms): its value and
 * resourceVersion. */
static bool read_counter(struct writer *w, uint64_t *value, char *rv, size_t len, long give_up_ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)give_up_ms;
	json_t *obj = NULL;
	const char *n, *v;
	long status;

	while ((status = send_json(w, "GET", w->path, NULL, &obj)) != 200) {
		if (!in_doubt(status)) {
			failf(w, "read: %s", w->answer);
			return false;
		}
		if (atomic_load(&w->ws->abort) || util_now_mono_ms() >= deadline) {
			if (!atomic_load(&w->ws->abort))
				failf(w, "no answer to a read for %ld ms: %s", give_up_ms,
				      w->answer);
			return false;
		}
	}
	n = json_string_value(json_object_get(json_object_get(obj, "data"), "n"));
	v = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	if (n == NULL || v == NULL) {
		failf(w, "read: the counter has no data.n or metadata.resourceVersion");
		json_decref(obj);
		return false;
	}
	*value = strtoull(n, NULL, 10);
	snprintf(rv, len, "%s", v);
	json_decref(obj);
	return true;
}

/* Account for a value read back: false (error recorded) when it cannot be explained. */
static bool resolve(struct writer *w, uint64_t value)
{
	if (value == w->acked)
		return true;
	if (value == w->acked + 1 && w->pending) {
		w->acked++;
		w->landed_unseen++;
		w->pending = false;
		atomic_store(&w->acked_shared, w->acked);
		return true;
	}
	failf(w, "read %" PRIu64 " but %" PRIu64 " increments were acknowledged%s", value, w->acked,
	      w->pending ? " and one more was in doubt" : "");
	return false;
}

static long put_counter(struct writer *w, uint64_t value, const char *rv)
{
	char n[24];
	json_t *body;
	long status;

	snprintf(n, sizeof n, "%" PRIu64, value);
	body = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", w->name, "resourceVersion",
	                 rv, "data", "n", n);
	status = send_json(w, "PUT", w->path, body, NULL);
	json_decref(body);
	return status;
}

/* After a 409 the counter must have moved on by our earlier attempt; false when it did not. */
static bool resolve_conflict(struct writer *w)
{
	uint64_t value;
	char rv[32];

	if (!read_counter(w, &value, rv, sizeof rv, RESOLVE_MS))
		return false;
	if (value == w->acked) {
		failf(w, "409 on an update to %" PRIu64 ", yet the counter still reads %" PRIu64,
		      w->acked + 1, value);
		return false;
	}
	return resolve(w, value);
}

/* One increment attempt; false when the writer must stop. */
static bool increment(struct writer *w)
{
	uint64_t value, start;
	char rv[32];
	long status;

	if (!read_counter(w, &value, rv, sizeof rv, RESOLVE_MS) || !resolve(w, value))
		return false;
	start = util_now_mono_ms();
	status = put_counter(w, value + 1, rv);
	if (status == 200) {
		w->acked = value + 1;
		w->pending = false;
		w->ok++;
		atomic_store(&w->acked_shared, w->acked);
		atomic_store(&w->last_ok_start_ms, start);
	} else if (status == 409) {
		/* Nobody else writes this counter: an earlier attempt of ours got there first. */
		w->conflicts++;
		w->pending = true;
		return resolve_conflict(w);
	} else if (in_doubt(status)) {
		w->ambiguous++;
		w->pending = true;
	} else {
		failf(w, "update to %" PRIu64 ": %s", value + 1, w->answer);
		return false;
	}
	return true;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t value;
	char rv[32];

	if (!create_counter(w))
		return NULL;
	while (!atomic_load(&w->ws->stop) && increment(w))
		;
	/* The last attempt may be in doubt: a linearizable read settles it. */
	if (w->error[0] == '\0' && !atomic_load(&w->ws->abort) &&
	    read_counter(w, &value, rv, sizeof rv, RESOLVE_MS))
		resolve(w, value);
	return NULL;
}

/* ---- The group ------------------------------------------------------------------------------- */

struct writers *writers_start(struct harness *h, const char *prefix, size_t n)
{
	struct writers *ws = calloc(1, sizeof *ws);

	assert_non_null(ws);
	assert_true(n >= 1 && n <= WRITERS_MAX);
	ws->h = h;
	ws->n = n;
	for (size_t i = 0; i < n; i++) {
		struct writer *w = &ws->w[i];
		w->ws = ws;
		snprintf(w->name, sizeof w->name, "%s-%zu", prefix, i);
		snprintf(w->path, sizeof w->path, "/api/v1/namespaces/default/configmaps/%s-%zu",
		         prefix, i);
		assert_non_null(w->c = harness_client(h, REQUEST_DEADLINE_MS));
		assert_int_equal(pthread_create(&w->thread, NULL, writer_main, w), 0);
		w->started = true;
	}
	harness_log(h, "%zu writers started", n);
	return ws;
}

static uint64_t last_ok_start(struct writers *ws)
{
	uint64_t last = 0;

	for (size_t i = 0; i < ws->n; i++) {
		uint64_t t = atomic_load(&ws->w[i].last_ok_start_ms);
		last = t > last ? t : last;
	}
	return last;
}

static void assert_no_error(struct writers *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		if (ws->w[i].error[0])
			fail_msg("writer %s: %s", ws->w[i].name, ws->w[i].error);
}

uint64_t writers_wait_progress(struct writers *ws, uint64_t since_ms, long timeout_ms)
{
	uint64_t deadline = since_ms + (uint64_t)timeout_ms;

	while (last_ok_start(ws) < since_ms) {
		if (atomic_load(&ws->failed))
			assert_no_error(ws);
		harness_check_alive(ws->h);
		if (util_now_mono_ms() >= deadline)
			fail_msg("no write succeeded within %ld ms (acknowledged so far: %" PRIu64
			         ")",
			         timeout_ms, writers_acked(ws));
		nap(20);
	}
	return util_now_mono_ms() - since_ms;
}

uint64_t writers_acked(struct writers *ws)
{
	uint64_t total = 0;

	for (size_t i = 0; i < ws->n; i++)
		total += atomic_load(&ws->w[i].acked_shared);
	return total;
}

void writers_wait_acked(struct writers *ws, uint64_t target, long timeout_ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)timeout_ms;

	while (writers_acked(ws) < target) {
		if (atomic_load(&ws->failed))
			assert_no_error(ws);
		harness_check_alive(ws->h);
		if (util_now_mono_ms() >= deadline)
			fail_msg("only %" PRIu64 " of %" PRIu64
			         " increments acknowledged after %ld ms",
			         writers_acked(ws), target, timeout_ms);
		nap(20);
	}
}

static void join_all(struct writers *ws)
{
	for (size_t i = 0; i < ws->n; i++) {
		if (ws->w[i].started)
			pthread_join(ws->w[i].thread, NULL);
		ws->w[i].started = false;
	}
}

void writers_stop(struct writers *ws)
{
	atomic_store(&ws->stop, true);
	join_all(ws);
	ws->stopped = true;
	for (size_t i = 0; i < ws->n; i++) {
		struct writer *w = &ws->w[i];
		harness_log(ws->h,
		            "writer %s: %" PRIu64 " acknowledged (%" PRIu64
		            " answered 200, %" PRIu64 " seen only on read-back), %" PRIu64
		            " ambiguous, %" PRIu64 " conflicts%s",
		            w->name, w->acked, w->ok, w->landed_unseen, w->ambiguous, w->conflicts,
		            w->pending ? ", last attempt did not land" : "");
	}
	assert_no_error(ws);
}

void writers_check(struct writers *ws)
{
	char path[200];

	assert_true(ws->stopped);
	for (uint64_t id = 1; id <= ws->h->n; id++) {
		if (!harness_running(ws->h, id))
			continue;
		for (size_t i = 0; i < ws->n; i++) {
			json_t *obj;
			const char *n;
			snprintf(path, sizeof path, "%s?resourceVersion=0", ws->w[i].path);
			assert_int_equal(harness_get(ws->h, id, path, &obj), 0);
			n = json_string_value(json_object_get(json_object_get(obj, "data"), "n"));
			assert_non_null(n);
			if (strtoull(n, NULL, 10) != ws->w[i].acked)
				fail_msg("replica %llu holds %s = %s, but %" PRIu64
				         " increments were acknowledged",
				         (unsigned long long)id, ws->w[i].name, n, ws->w[i].acked);
			json_decref(obj);
		}
	}
	harness_log(ws->h, "every replica holds the %" PRIu64 " acknowledged increments",
	            writers_acked(ws));
}

void writers_destroy(struct writers *ws)
{
	if (ws == NULL)
		return;
	atomic_store(&ws->abort, true);
	atomic_store(&ws->stop, true);
	join_all(ws);
	for (size_t i = 0; i < ws->n; i++)
		client_destroy(ws->w[i].c);
	free(ws);
}

int cluster_test_setup(void **state)
{
	*state = calloc(1, sizeof(struct cluster_test));
	return *state ? 0 : -1;
}

int cluster_test_teardown(void **state)
{
	struct cluster_test *t = *state;

	writers_destroy(t->w);
	harness_destroy(t->h);
	free(t);
	return 0;
}

void cluster_test_settle(struct cluster_test *t)
{
	writers_stop(t->w);
	harness_wait_converged(t->h, 20000);
	writers_check(t->w);
}

int cluster_test_main(int argc, char **argv, const char **stsd, const char *name,
                      void (*test)(void **state))
{
	const struct CMUnitTest tests[] = {
	    {name, test, cluster_test_setup, cluster_test_teardown, NULL},
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s STSD\n", argv[0]);
		return 2;
	}
	*stsd = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
