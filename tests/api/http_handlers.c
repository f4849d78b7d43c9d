/* http_handlers.c — the handler test_http.c serves (echo, deferred answers, streams, held
 * requests, a barrier) and the fixture steps and wait conditions its tests share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "http.h"
#include "http_fixture.h"
#include "http_handlers.h"
#include "log.h"
#include "util.h"

/* ---- Handlers ---------------------------------------------------------------------------------
 */

/* A request answered later from a timer; closed with the timer. */
struct job {
	uv_timer_t timer;
	struct fx *fx;
	struct api_req *r;
	int step;
	size_t written;
};

static void job_freed(uv_handle_t *h)
{
	free(h->data);
}

static void job_close(struct job *j)
{
	uv_close((uv_handle_t *)&j->timer, job_freed);
}

static void job_on_close(void *ud, struct api_req *r)
{
	struct job *j = ud;

	(void)r;
	j->fx->closes++;
	job_close(j);
}

static struct job *job_new(struct fx *fx, struct api_req *r)
{
	struct job *j = calloc(1, sizeof *j);

	assert_non_null(j);
	j->fx = fx;
	j->r = r;
	uv_timer_init(&fx->loop, &j->timer);
	j->timer.data = j;
	api_req_on_close(r, job_on_close, j);
	return j;
}

static void echo_pair(void *ud, const char *k, const char *v)
{
	char line[512];

	snprintf(line, sizeof line, "%s=%s\n", k, v);
	dbuf_add(ud, line, strlen(line));
}

static void echo_header(void *ud, const char *k, const char *v)
{
	if (strncmp(k, "X-", 2) == 0)
		echo_pair(ud, k, v);
}

/* Lines "method=", "path=", the looked-up fields, then "q:" query and "h:" X- header pairs. */
static void handle_echo(struct fx *fx, struct api_req *r)
{
	struct dbuf out = {0};
	char line[1024];
	const char *miss = api_req_query(r, "missing");
	size_t len;

	api_req_body(r, &len);
	snprintf(
	    line, sizeof line, "method=%s\npath=%s\nx=%s\nflag=%s\nmissing=%s\nhdr=%s\nbody=%zu\n",
	    api_req_method(r), api_req_path(r), api_req_query(r, "x"), api_req_query(r, "flag"),
	    miss ? miss : "(none)", api_req_header(r, "x-test"), len);
	dbuf_add(&out, line, strlen(line));
	dbuf_add(&out, "q:\n", 3);
	api_req_foreach_query(r, echo_pair, &out);
	dbuf_add(&out, "h:\n", 3);
	api_req_foreach_header(r, echo_header, &out);
	api_req_add_header(r, "X-Echo", "yes");
	api_respond(r, 200, "text/plain", out.data, out.len);
	dbuf_free(&out);
	(void)fx;
}

static void later_fire(uv_timer_t *t)
{
	struct job *j = t->data;
	struct api_http_stats st;
	static const char body[] = "{\"kind\":\"Status\",\"code\":503}";

	api_http_get_stats(j->fx->h, &st);
	j->fx->suspended_seen = st.suspended;
	j->fx->answered_late++;
	api_req_add_header(j->r, "Retry-After", "1");
	api_respond(j->r, 503, "application/json", body, strlen(body));
	job_close(j);
}

static const char *const chunks[] = {"one\n", "two\n", "three\n"};

/* Each chunk is written only once the client holds the previous one: proves prompt flushing. */
static void stream_tick(uv_timer_t *t)
{
	struct job *j = t->data;
	struct api_http_stats st;

	if (atomic_load(&j->fx->client_rx) < j->written) {
		uv_timer_start(&j->timer, stream_tick, 5, 0);
		return;
	}
	api_http_get_stats(j->fx->h, &st);
	j->fx->suspended_seen = st.suspended; /* suspended in the content reader */
	assert_int_equal(api_stream_write(j->r, chunks[j->step], strlen(chunks[j->step])), 0);
	j->written += strlen(chunks[j->step]);
	if (++j->step < 3) {
		uv_timer_start(&j->timer, stream_tick, 20, 0);
		return;
	}
	api_stream_end(j->r);
	job_close(j);
}

static void handle_stream(struct fx *fx, struct api_req *r)
{
	struct job *j = job_new(fx, r);

	assert_int_equal(api_stream_start(r, 200, "application/json"), 0);
	stream_tick(&j->timer);
}

static void counted_close(void *ud, struct api_req *r)
{
	struct fx *fx = ud;

	for (int i = 0; i < fx->nheld; i++)
		if (fx->held[i] == r)
			fx->held[i] = fx->held[--fx->nheld];
	fx->closes++;
}

static void hold(struct fx *fx, struct api_req *r)
{
	assert_true(fx->nheld < FX_MAX_HELD);
	fx->held[fx->nheld++] = r;
	api_req_on_close(r, counted_close, fx);
}

static void handle_barrier(struct fx *fx, struct api_req *r)
{
	hold(fx, r);
	if (fx->nheld < fx->barrier_n)
		return;
	while (fx->nheld > 0)
		api_respond(fx->held[--fx->nheld], 200, "text/plain", "ok", 2);
}

void test_handler(void *ud, struct api_req *r)
{
	struct fx *fx = ud;
	const char *p = api_req_path(r);
	size_t len;
	const char *body;

	fx->handled++;
	if (strncmp(p, "/echo", 5) == 0) {
		handle_echo(fx, r);
	} else if (strcmp(p, "/body") == 0) {
		body = api_req_body(r, &len);
		assert_int_equal(body[len], '\0');
		api_respond(r, 200, "application/octet-stream", body, len);
	} else if (strcmp(p, "/later") == 0) {
		uv_timer_start(&job_new(fx, r)->timer, later_fire, 50, 0);
	} else if (strcmp(p, "/stream") == 0) {
		handle_stream(fx, r);
	} else if (strcmp(p, "/hold") == 0) { /* a watch with nothing more to say */
		assert_int_equal(api_stream_start(r, 200, "application/json"), 0);
		assert_int_equal(api_stream_write(r, "first\n", 6), 0);
		hold(fx, r);
	} else if (strcmp(p, "/pending") == 0) { /* a proposal that never commits */
		hold(fx, r);
	} else if (strcmp(p, "/barrier") == 0) {
		handle_barrier(fx, r);
	} else {
		api_respond(r, 404, NULL, NULL, 0);
	}
}

/* ---- Fixture and conditions -------------------------------------------------------------------
 */

int http_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);

	fx_init(fx);
	*state = fx;
	return 0;
}

int http_teardown(void **state)
{
	struct fx *fx = *state;

	fx_finish(fx);
	free(fx);
	return 0;
}

struct fx *started(void **state, const struct api_http_options *o)
{
	struct fx *fx = *state;

	fx_start(fx, o, test_handler);
	return fx;
}

struct api_http_stats stats(struct fx *fx)
{
	struct api_http_stats st;

	api_http_get_stats(fx->h, &st);
	return st;
}

bool one_client_done(struct fx *fx)
{
	return atomic_load(&fx->clients_done) >= 1;
}

bool all_clients_done(struct fx *fx)
{
	return atomic_load(&fx->clients_done) == fx->threads;
}

bool one_close(struct fx *fx)
{
	return fx->closes >= 1;
}

bool two_suspended(struct fx *fx)
{
	return stats(fx).suspended == 2;
}

bool no_live_request(struct fx *fx)
{
	return stats(fx).live == 0;
}

/* Run one call to the end in a client thread while the loop serves. */
void run_call(struct fx *fx, struct call *c)
{
	fx_spawn(fx, call_thread, c);
	assert_true(fx_wait(fx, all_clients_done, 60000));
	fx_join(fx);
}
