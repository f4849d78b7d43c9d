/* test_http.c — the HTTP server layer against real HTTP: echo, deferred answers, body limits,
 * streaming, hang-ups, keep-alive, concurrency, malformed input, stop, and an idle CPU check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "errors.h"
#include "http.h"
#include "http_fixture.h"
#include "http_handlers.h"
#include "log.h"
#include "util.h"

#define MIB (1024u * 1024u)

/* ---- Requests and answers ---------------------------------------------------------------------
 */

static void get_echoes_query_and_headers(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/echo/a%20b?x=1&y=two%2Fthree&flag&X=upper");
	c.header = "X-Test: hello";
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.status, 200);
	assert_non_null(strstr(c.resp.data, "method=GET\npath=/echo/a b\nx=1\nflag=\n"
	                                    "missing=(none)\nhdr=hello\nbody=0\n"));
	assert_non_null(strstr(c.resp.data, "q:\nx=1\ny=two/three\nflag=\nX=upper\nh:\n"));
	assert_non_null(strstr(c.resp.data, "X-Test=hello\n"));
	assert_non_null(strstr(c.hdrs.data, "X-Echo: yes\r\n"));
	assert_non_null(strcasestr(c.hdrs.data, "Content-Type: text/plain\r\n"));
	call_free(&c);
	assert_int_equal(fx->handled, 1);
}

static void post_echoes_body(void **state)
{
	struct fx *fx = started(state, NULL);
	size_t sizes[] = {1, 200 * 1024, API_HTTP_MAX_BODY}; /* the limit itself is allowed */
	char *body = malloc(API_HTTP_MAX_BODY);
	struct call c;

	for (size_t i = 0; i < API_HTTP_MAX_BODY; i++)
		body[i] = (char)(i * 7 + i / 251); /* NULs included */
	for (size_t i = 0; i < 3; i++) {
		call_init(&c, fx, "/body");
		c.body = body;
		c.body_len = sizes[i];
		run_call(fx, &c);
		assert_int_equal(c.rc, CURLE_OK);
		assert_int_equal(c.status, 200);
		assert_int_equal(c.resp.len, sizes[i]);
		assert_memory_equal(c.resp.data, body, sizes[i]);
		call_free(&c);
	}
	call_init(&c, fx, "/body"); /* chunked, within the limit */
	c.chunked_len = MIB;
	run_call(fx, &c);
	assert_int_equal(c.status, 200);
	assert_int_equal(c.resp.len, MIB);
	assert_int_equal(c.resp.data[MIB - 1], 'u');
	call_free(&c);
	free(body);
}

static void answers_later_from_a_timer(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/later");
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.status, 503);
	assert_string_equal(c.resp.data, "{\"kind\":\"Status\",\"code\":503}");
	assert_non_null(strstr(c.hdrs.data, "Retry-After: 1\r\n"));
	assert_int_equal(fx->answered_late, 1);
	assert_int_equal(fx->suspended_seen, 1); /* it waited suspended */
	assert_int_equal(fx->closes, 0);
	assert_int_equal(stats(fx).suspended, 0);
	call_free(&c);
}

/* ---- Body limit -------------------------------------------------------------------------------
 */

static const char status_413[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"the request body is too large (limit 3145728 bytes)\","
    "\"reason\":\"RequestEntityTooLarge\",\"code\":413}";

static void still_serves(struct fx *fx)
{
	struct call c;

	call_init(&c, fx, "/echo?x=after");
	run_call(fx, &c);
	assert_int_equal(c.status, 200);
	assert_non_null(strstr(c.resp.data, "x=after\n"));
	call_free(&c);
}

static void rejects_large_content_length(void **state)
{
	struct fx *fx = started(state, NULL);
	char *body = calloc(1, API_HTTP_MAX_BODY + 1);
	struct call c;

	call_init(&c, fx, "/body");
	c.body = body;
	c.body_len = API_HTTP_MAX_BODY + 1;
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.status, 413);
	assert_string_equal(c.resp.data, status_413);
	assert_non_null(strcasestr(c.hdrs.data, "Content-Type: application/json\r\n"));
	assert_int_equal(fx->handled, 0);
	call_free(&c);
	free(body);
	still_serves(fx);
}

static void rejects_large_chunked_body(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/body");
	c.chunked_len = 4 * MIB;
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.status, 413);
	assert_string_equal(c.resp.data, status_413);
	call_free(&c);
	/* Past twice the limit the server stops reading and hangs up (no answer can be queued
	 * while a body streams in). */
	call_init(&c, fx, "/body");
	c.chunked_len = 64 * MIB;
	run_call(fx, &c);
	assert_true(c.rc != CURLE_OK || c.status == 413);
	assert_true(c.sent < 64 * MIB);
	call_free(&c);
	assert_int_equal(fx->handled, 0);
	still_serves(fx);
}

/* ---- Streaming and hang-ups -------------------------------------------------------------------
 */

static void streams_chunks_in_order(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/stream");
	c.track_rx = true;
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OK);
	assert_int_equal(c.status, 200);
	assert_string_equal(c.resp.data, "one\ntwo\nthree\n");
	assert_non_null(strcasestr(c.hdrs.data, "Transfer-Encoding: chunked\r\n"));
	assert_int_equal(fx->suspended_seen, 1); /* waited in the content reader, suspended */
	assert_int_equal(fx->closes, 0);
	assert_true(fx_wait(fx, no_live_request, 5000));
	call_free(&c);
}

static void stream_hangup_calls_on_close_once(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/hold");
	c.abort_after = 6; /* "first\n", then hang up */
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_WRITE_ERROR);
	assert_string_equal(c.resp.data, "first\n");
	assert_true(fx_wait(fx, one_close, 5000));
	fx_quiet(fx, 100);
	assert_int_equal(fx->closes, 1);
	assert_int_equal(fx->nheld, 0);
	assert_int_equal(stats(fx).live, 0);
	call_free(&c);
}

static void pending_hangup_calls_on_close(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call c;

	call_init(&c, fx, "/pending");
	c.timeout_ms = 300;
	run_call(fx, &c);
	assert_int_equal(c.rc, CURLE_OPERATION_TIMEDOUT);
	assert_true(fx_wait(fx, one_close, 5000));
	fx_quiet(fx, 100);
	assert_int_equal(fx->closes, 1);
	assert_int_equal(stats(fx).live, 0);
	call_free(&c);
}

/* ---- Connections ------------------------------------------------------------------------------
 */

struct keepalive {
	struct fx *fx;
	int ok;
	long connects;
};

static void *keepalive_thread(void *arg)
{
	struct keepalive *k = arg;
	CURL *e = curl_easy_init();
	char path[64], want[64];

	for (int i = 0; i < 200; i++) {
		struct call c;
		long n = 0;

		snprintf(path, sizeof path, "/echo?x=%d", i);
		snprintf(want, sizeof want, "\nx=%d\n", i);
		call_init(&c, k->fx, path);
		call_perform(&c, e);
		curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &n);
		k->connects += n;
		if (c.rc == CURLE_OK && c.status == 200 && strstr(c.resp.data, want))
			k->ok++;
		call_free(&c);
	}
	curl_easy_cleanup(e);
	fx_client_done(k->fx);
	return NULL;
}

static void keeps_one_connection_alive(void **state)
{
	struct fx *fx = started(state, NULL);
	struct keepalive k = {.fx = fx};

	fx_spawn(fx, keepalive_thread, &k);
	fx_join(fx);
	assert_int_equal(k.ok, 200);
	assert_int_equal(k.connects, 1);
	assert_int_equal(stats(fx).connections, 1);
	assert_int_equal(stats(fx).requests, 200);
}

#define CONCURRENT 50

struct many {
	struct fx *fx;
	int ok;
};

static void *many_thread(void *arg)
{
	struct many *m = arg;
	struct call c[CONCURRENT];
	CURL *e[CONCURRENT];
	CURLM *multi = curl_multi_init();
	int running = 1;

	for (int i = 0; i < CONCURRENT; i++) {
		call_init(&c[i], m->fx, "/barrier");
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e[i], CURLOPT_PRIVATE, &c[i]);
		call_setup(&c[i], e[i]);
		curl_multi_add_handle(multi, e[i]);
	}
	while (running > 0 && curl_multi_perform(multi, &running) == CURLM_OK)
		curl_multi_poll(multi, NULL, 0, 1000, NULL);
	for (int i = 0; i < CONCURRENT; i++) {
		long status = 0;

		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && strcmp(c[i].resp.data, "ok") == 0)
			m->ok++;
		curl_multi_remove_handle(multi, e[i]);
		curl_easy_cleanup(e[i]);
		call_free(&c[i]);
	}
	curl_multi_cleanup(multi);
	fx_client_done(m->fx);
	return NULL;
}

static void serves_many_concurrent_connections(void **state)
{
	struct fx *fx = started(state, NULL);
	struct many m = {.fx = fx};

	fx->barrier_n = CONCURRENT; /* nobody is answered until all are waiting at once */
	fx_spawn(fx, many_thread, &m);
	fx_join(fx);
	assert_int_equal(m.ok, CONCURRENT);
	assert_int_equal(stats(fx).connections, CONCURRENT);
	assert_int_equal(fx->closes, 0);
}

/* ---- Malformed input --------------------------------------------------------------------------
 */

static const char *const garbage[] = {
    "GARBAGE\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nno colon in this header\r\n\r\n",
    "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
    "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nxx\r\n",
    "\x01\x02\x03\xff\xfe\x00\x00\r\n\r\n",
    "",
};

struct raw {
	struct fx *fx;
	int closed;
	char first[8][64]; /* first line of each answer */
};

static void *raw_thread(void *arg)
{
	struct raw *w = arg;
	size_t n = sizeof garbage / sizeof *garbage, big_len = 64 * 1024;
	char *big = malloc(big_len + 64);
	bool closed;

	for (size_t i = 0; i <= n; i++) {
		const char *data = i < n ? garbage[i] : big;
		size_t len = i < n ? strlen(garbage[i]) : big_len + 32;
		char *got;

		if (i == 5)
			len = 11; /* the NULs count */
		if (i == n) {     /* headers larger than the connection's memory */
			memcpy(big, "GET / HTTP/1.1\r\nX-Big: ", 23);
			memset(big + 23, 'b', big_len);
			memcpy(big + 23 + big_len, "\r\n\r\n", 5);
		}
		if (len == 0) { /* connect and hang up at once */
			free(raw_exchange(w->fx, NULL, 0, 0, &closed));
			continue;
		}
		got = raw_exchange(w->fx, data, len, 5000, &closed);
		w->closed += closed;
		snprintf(w->first[i], sizeof w->first[i], "%.*s", (int)strcspn(got, "\r\n"), got);
		free(got);
	}
	free(big);
	fx_client_done(w->fx);
	return NULL;
}

static void survives_malformed_requests(void **state)
{
	struct fx *fx = started(state, NULL);
	struct raw w = {.fx = fx};
	size_t n = sizeof garbage / sizeof *garbage;

	fx_spawn(fx, raw_thread, &w);
	fx_join(fx);
	for (size_t i = 0; i <= n; i++)
		print_message("malformed[%zu]: \"%s\"\n", i, w.first[i]);
	assert_int_equal(w.closed,
	                 (int)n); /* the server hung up on every one that said something */
	assert_int_equal(fx->handled, 0);
	still_serves(fx);
	assert_true(fx_wait(fx, no_live_request, 5000));
}

/* ---- Stop -------------------------------------------------------------------------------------
 */

static void stop_ends_pending_requests(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call a, b;

	call_init(&a, fx, "/pending");
	call_init(&b, fx, "/hold");
	fx_spawn(fx, call_thread, &a);
	fx_spawn(fx, call_thread, &b);
	assert_true(fx_wait(fx, two_suspended, 10000));
	fx_stop(fx);
	assert_int_equal(fx->closes_at_stop, 2); /* on_close before done */
	assert_int_equal(fx->nheld, 0);
	fx_join(fx);
	assert_int_not_equal(a.rc, CURLE_OK);
	assert_int_not_equal(b.rc, CURLE_OK);
	assert_string_equal(b.resp.data, "first\n");
	call_free(&a);
	call_free(&b);
}

static void stop_from_handler(void *ud, struct api_req *r)
{
	struct fx *fx = ud;

	fx->handled++;
	api_respond(r, 200, "text/plain", "bye", 3);
	fx_stop_async(fx);
}

static void stops_from_inside_a_handler(void **state)
{
	struct fx *fx = *state;
	struct call c;

	fx_start(fx, NULL, stop_from_handler);
	call_init(&c, fx, "/");
	fx_spawn(fx, call_thread, &c);
	fx_await_stop(fx);
	fx_join(fx);
	assert_int_equal(fx->handled, 1);
	call_free(&c);
}

/* ---- Idleness and timeouts --------------------------------------------------------------------
 */

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void stays_idle_when_idle(void **state)
{
	struct fx *fx = started(state, NULL);
	struct call a, b;
	uint64_t runs, cpu;

	call_init(&a, fx, "/pending");
	call_init(&b, fx, "/hold"); /* an idle watch: suspended in the content reader */
	fx_spawn(fx, call_thread, &a);
	fx_spawn(fx, call_thread, &b);
	assert_true(fx_wait(fx, two_suspended, 10000));
	fx_quiet(fx, 20); /* let the last bytes go out */
	runs = stats(fx).runs;
	cpu = cpu_us();
	fx_quiet(fx, 200);
	print_message("idle 200 ms: %llu MHD_run calls, %llu us CPU\n",
	              (unsigned long long)(stats(fx).runs - runs),
	              (unsigned long long)(cpu_us() - cpu));
	assert_true(stats(fx).runs - runs <= 2);
	assert_true(cpu_us() - cpu < 50000);
	fx_stop(fx);
	assert_int_equal(fx->closes, 2);
	fx_join(fx);
	call_free(&a);
	call_free(&b);
}

struct idle_conn {
	struct fx *fx;
	bool closed;
	uint64_t ms;
};

static void *idle_conn_thread(void *arg)
{
	struct idle_conn *ic = arg;
	uint64_t t0 = util_now_mono_ms();

	free(raw_exchange(ic->fx, NULL, 0, 10000, &ic->closed));
	ic->ms = util_now_mono_ms() - t0;
	fx_client_done(ic->fx);
	return NULL;
}

static bool one_suspended(struct fx *fx)
{
	return stats(fx).suspended == 1;
}

static void times_out_idle_connections_only(void **state)
{
	struct api_http_options o = {.address = "127.0.0.1:0", .idle_timeout_s = 1};
	struct fx *fx = started(state, &o);
	struct idle_conn ic = {.fx = fx};
	struct call a;

	call_init(&a, fx, "/pending");
	fx_spawn(fx, call_thread, &a);
	assert_true(fx_wait(fx, one_suspended, 10000));
	fx_spawn(fx, idle_conn_thread, &ic);
	assert_true(fx_wait(fx, one_client_done, 10000));
	assert_true(ic.closed);
	assert_true(ic.ms >= 900 && ic.ms < 5000);
	/* The suspended request outlived the idle timeout. */
	assert_int_equal(fx->closes, 0);
	assert_int_equal(stats(fx).live, 1);
	fx_stop(fx);
	assert_int_equal(fx->closes, 1);
	fx_join(fx);
	call_free(&a);
}

/* ---- Start errors and stream back-pressure ----------------------------------------------------
 */

static void refuses_bad_addresses(void **state)
{
	struct fx *fx = started(state, NULL);
	const char *bad[] = {"nonsense", "127.0.0.1:", "127.0.0.1:70000", "256.1.1.1:80", "::1:80"};
	struct api_http_options o = {0};
	struct api_http *h = NULL;
	char err[256], addr[64];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		o.address = bad[i];
		assert_int_equal(
		    api_http_start(&fx->loop, &o, test_handler, fx, &h, err, sizeof err),
		    STSD_INVALID);
	}
	snprintf(addr, sizeof addr, "127.0.0.1:%u", fx->port); /* in use */
	o.address = addr;
	assert_int_equal(api_http_start(&fx->loop, &o, test_handler, fx, &h, err, sizeof err),
	                 STSD_IO);
	print_message("in use: %s\n", err);
	assert_non_null(strstr(err, addr));
	assert_null(h);
	still_serves(fx);
}

static void busy_handler(void *ud, struct api_req *r)
{
	char block[64];

	(void)ud;
	memset(block, 'z', sizeof block);
	assert_int_equal(api_stream_start(r, 200, "text/plain"), 0);
	assert_int_equal(api_stream_write(r, block, sizeof block), 0);
	assert_int_equal(api_stream_write(r, block, sizeof block), STSD_BUSY);
	api_stream_end(r);
}

static void stream_queue_is_bounded(void **state)
{
	struct api_http_options o = {.address = "127.0.0.1:0", .max_stream_queue = 100};
	struct fx *fx = *state;
	struct call c;

	fx_start(fx, &o, busy_handler);
	call_init(&c, fx, "/");
	run_call(fx, &c);
	assert_int_equal(c.status, 200);
	assert_int_equal(c.resp.len, 64);
	call_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(get_echoes_query_and_headers, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(post_echoes_body, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(answers_later_from_a_timer, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(rejects_large_content_length, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(rejects_large_chunked_body, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(streams_chunks_in_order, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(stream_hangup_calls_on_close_once, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(pending_hangup_calls_on_close, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(keeps_one_connection_alive, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(serves_many_concurrent_connections, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(survives_malformed_requests, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(stop_ends_pending_requests, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(stops_from_inside_a_handler, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(stays_idle_when_idle, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(times_out_idle_connections_only, http_setup,
	                                    http_teardown),
	    cmocka_unit_test_setup_teardown(refuses_bad_addresses, http_setup, http_teardown),
	    cmocka_unit_test_setup_teardown(stream_queue_is_bounded, http_setup, http_teardown),
	};
	const char *level = getenv("STSD_LOG_LEVEL"), *only = getenv("STSD_TEST_FILTER");
	int rc;

	if (only) /* a test name, wildcards allowed */
		cmocka_set_test_filter(only);

	log_set_level(level && log_parse_level(level) >= 0 ? (enum log_level)log_parse_level(level)
	                                                   : LOG_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
