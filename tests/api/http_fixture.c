/* http_fixture.c — the HTTP test harness: loop driving, client threads, libcurl calls, raw sockets.
 */
#include "http_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

void dbuf_add(struct dbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		assert_non_null(b->data);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void dbuf_free(struct dbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* ---- Loop -------------------------------------------------------------------------------------
 */

static void on_wake(uv_async_t *a)
{
	(void)a; /* only ends uv_run(UV_RUN_ONCE) so the waiter looks again */
}

static void on_deadline(uv_timer_t *t)
{
	(void)t;
}

void fx_init(struct fx *fx)
{
	memset(fx, 0, sizeof *fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_async_init(&fx->loop, &fx->wake, on_wake), 0);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->deadline), 0);
	fx->wake.data = fx;
	fx->deadline.data = fx;
}

void fx_start(struct fx *fx, const struct api_http_options *o, api_http_handler_cb handler)
{
	struct api_http_options def = {.address = "127.0.0.1:0"};
	char err[256] = "";
	int rc;

	rc = api_http_start(&fx->loop, o ? o : &def, handler, fx, &fx->h, err, sizeof err);
	if (rc)
		fail_msg("api_http_start: %s", err);
	fx->port = api_http_port(fx->h);
	assert_true(fx->port > 0);
}

/* The deadline is re-armed on every round: libuv times timers from its cached loop time, so one
 * armed once may fire before end, and the next uv_run would then block without a timer. */
bool fx_wait(struct fx *fx, bool (*cond)(struct fx *fx), unsigned ms)
{
	uint64_t end = util_now_mono_ms() + ms, now;

	while (!cond(fx) && (now = util_now_mono_ms()) < end) {
		uv_update_time(&fx->loop);
		uv_timer_start(&fx->deadline, on_deadline, end - now, 0);
		uv_run(&fx->loop, UV_RUN_ONCE);
	}
	uv_timer_stop(&fx->deadline);
	return cond(fx);
}

static bool never(struct fx *fx)
{
	(void)fx;
	return false;
}

void fx_quiet(struct fx *fx, unsigned ms)
{
	fx_wait(fx, never, ms);
}

static void on_stopped(void *ud)
{
	struct fx *fx = ud;

	fx->stopped = true;
	fx->closes_at_stop = fx->closes;
}

static bool is_stopped(struct fx *fx)
{
	return fx->stopped;
}

void fx_stop_async(struct fx *fx)
{
	api_http_stop(fx->h, on_stopped, fx);
	assert_false(fx->stopped); /* never from inside the call */
	fx->stopping = true;
}

void fx_await_stop(struct fx *fx)
{
	assert_true(fx_wait(fx, is_stopped, 10000));
	fx->h = NULL;
}

void fx_stop(struct fx *fx)
{
	fx_stop_async(fx);
	fx_await_stop(fx);
}

void fx_spawn(struct fx *fx, void *(*fn)(void *), void *arg)
{
	assert_true(fx->threads < FX_MAX_THREADS);
	assert_int_equal(pthread_create(&fx->th[fx->threads], NULL, fn, arg), 0);
	fx->threads++;
}

void fx_client_done(struct fx *fx)
{
	atomic_fetch_add(&fx->clients_done, 1);
	uv_async_send(&fx->wake);
}

static bool clients_done(struct fx *fx)
{
	return atomic_load(&fx->clients_done) == fx->threads;
}

void fx_join(struct fx *fx)
{
	assert_true(fx_wait(fx, clients_done, 60000));
	for (int i = 0; i < fx->threads; i++)
		pthread_join(fx->th[i], NULL);
	fx->threads = 0;
	atomic_store(&fx->clients_done, 0);
}

void fx_finish(struct fx *fx)
{
	if (fx->h && !fx->stopping)
		fx_stop_async(fx);
	if (fx->h)
		fx_await_stop(fx);
	fx_join(fx);
	uv_close((uv_handle_t *)&fx->wake, NULL);
	uv_close((uv_handle_t *)&fx->deadline, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
}

/* ---- libcurl ----------------------------------------------------------------------------------
 */

void call_init(struct call *c, struct fx *fx, const char *path)
{
	memset(c, 0, sizeof *c);
	c->fx = fx;
	snprintf(c->url, sizeof c->url, "http://127.0.0.1:%u%s", fx->port, path);
}

void call_free(struct call *c)
{
	curl_slist_free_all(c->hl);
	c->hl = NULL;
	dbuf_free(&c->resp);
	dbuf_free(&c->hdrs);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct call *c = ud;

	dbuf_add(&c->resp, p, size * n);
	if (c->track_rx) {
		atomic_store(&c->fx->client_rx, c->resp.len);
		uv_async_send(&c->fx->wake);
	}
	if (c->abort_after && c->resp.len >= c->abort_after)
		return 0; /* curl hangs up */
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	dbuf_add(&((struct call *)ud)->hdrs, p, size * n);
	return size * n;
}

static size_t on_upload(char *p, size_t size, size_t n, void *ud)
{
	struct call *c = ud;
	size_t k = c->chunked_len - c->sent;

	if (k > size * n)
		k = size * n;
	memset(p, 'u', k);
	c->sent += k;
	return k;
}

void call_setup(struct call *c, CURL *e)
{
	struct curl_slist *hl = NULL;

	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms ? c->timeout_ms : 20000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	if (c->header)
		hl = curl_slist_append(hl, c->header);
	if (c->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	} else if (c->chunked_len) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(e, CURLOPT_READDATA, c);
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	if (c->method)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	c->hl = hl;
}

void call_perform(struct call *c, CURL *e)
{
	call_setup(c, e);
	c->rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
}

void *call_thread(void *arg)
{
	struct call *c = arg;
	CURL *e = curl_easy_init();

	call_perform(c, e);
	curl_easy_cleanup(e);
	fx_client_done(c->fx);
	return NULL;
}

/* ---- Raw sockets ------------------------------------------------------------------------------
 */

static int raw_connect(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* Blocking: only from a client thread, while the loop serves in the test's thread. */
char *raw_exchange(struct fx *fx, const void *data, size_t n, unsigned ms, bool *closed)
{
	struct dbuf in = {0};
	uint64_t end = util_now_mono_ms() + ms;
	int fd = raw_connect(fx->port);
	char buf[4096];

	*closed = false;
	if (n > 0) /* a failure here means an early refusal: read what the server said */
		(void)send(fd, data, n, MSG_NOSIGNAL);
	while (!*closed) {
		uint64_t now = util_now_mono_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			break;
		got = recv(fd, buf, sizeof buf, 0);
		if (got <= 0)
			*closed = true;
		else
			dbuf_add(&in, buf, (size_t)got);
	}
	close(fd);
	dbuf_add(&in, "", 0);
	return in.data;
}
