/* test_forward.c — the forwarder against real HTTP servers: answers, methods and bodies, big
 * bodies, refused, hung and closed connections, concurrency, keep-alive, cancel and stop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "errors.h"
#include "forward.h"
#include "httpd.h"
#include "util.h"

#define MIB      (1024u * 1024u)
#define MAX_GOT  64
#define WAIT_MS  10000
#define QUIET_MS 100

/* What one callback saw, copied out of the response. */
struct got {
	struct fx *fx;
	int calls;
	int error;
	long status;
	char errmsg[256];
	char headers[4096]; /* the header lines, each followed by '\n' */
	char *body;
	size_t body_len;
	bool nul_terminated;
	uint64_t at_ms;
};

struct fx {
	uv_loop_t loop;
	uv_timer_t tick; /* bounds each loop turn of a wait */
	struct api_fwd *f;
	struct httpd *h;
	struct got got[MAX_GOT];
	pthread_t loop_thread;
	int answered;
	int off_loop;         /* callbacks that ran on another thread */
	bool stopped;         /* the done callback ran */
	int answered_at_done; /* callbacks that had run by then */
};

/* ---- The server ---------------------------------------------------------------------------- */

/* /echo answers with the request's body and X- headers naming what arrived; /created with a 201,
 * a Warning and a JSON body; /hang never answers; /close hangs up. */
static enum httpd_action handle(void *data, const struct httpd_request *req,
                                struct httpd_reply *rep)
{
	static const char json[] = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\"}}";

	(void)data;
	if (strncmp(req->path, "/hang", 5) == 0)
		return HTTPD_HANG;
	if (strncmp(req->path, "/close", 6) == 0)
		return HTTPD_CLOSE;
	if (strncmp(req->path, "/created", 8) == 0) {
		rep->status = 201;
		rep->content_type = "application/json";
		rep->body = json;
		rep->body_len = strlen(json);
		snprintf(rep->headers, sizeof rep->headers, "Warning: 299 - \"deprecated\"\r\n");
		return HTTPD_REPLY;
	}
	if (strncmp(req->path, "/echo", 5) != 0) {
		rep->status = 404;
		return HTTPD_REPLY;
	}
	if ((rep->body = malloc(req->body_len + 1)) == NULL)
		return HTTPD_CLOSE; /* no cmocka assertion off the test's thread */
	memcpy((char *)rep->body, req->body, req->body_len);
	rep->body_len = req->body_len;
	rep->free_body = true;
	snprintf(rep->headers, sizeof rep->headers,
	         "X-Method: %.15s\r\nX-Len: %zu\r\nX-Type: %.60s\r\nX-Auth: %.60s\r\n", req->method,
	         req->body_len, req->content_type, req->authorization);
	return HTTPD_REPLY;
}

/* ---- Loop, callbacks, waits ---------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until cond(fx, arg) holds or ms pass; returns the last value of cond. */
static bool wait_for(struct fx *fx, bool (*cond)(struct fx *, long), long arg, unsigned ms)
{
	uint64_t end = util_now_mono_ms() + ms;

	while (!cond(fx, arg) && util_now_mono_ms() < end) {
		uv_update_time(&fx->loop); /* else a stale clock fires the tick before the poll */
		uv_timer_start(&fx->tick, on_tick, 2, 0);
		uv_run(&fx->loop, UV_RUN_ONCE);
	}
	uv_timer_stop(&fx->tick);
	return cond(fx, arg);
}

static bool never(struct fx *fx, long arg)
{
	(void)fx, (void)arg;
	return false;
}

static bool answered(struct fx *fx, long n)
{
	return fx->answered >= n;
}

static bool stopped(struct fx *fx, long arg)
{
	(void)arg;
	return fx->stopped;
}

static bool requests(struct fx *fx, long n)
{
	return httpd_requests(fx->h) >= (unsigned)n;
}

static void on_answer(void *ud, const struct api_fwd_response *r)
{
	struct got *g = ud;
	size_t used = 0;

	g->fx->off_loop += !pthread_equal(pthread_self(), g->fx->loop_thread);
	g->fx->answered++;
	g->calls++;
	g->error = r->error;
	g->status = r->status;
	g->at_ms = util_now_mono_ms();
	snprintf(g->errmsg, sizeof g->errmsg, "%s", r->errmsg);
	for (size_t i = 0; i < r->n_headers && used < sizeof g->headers; i++)
		used += (size_t)snprintf(g->headers + used, sizeof g->headers - used, "%s\n",
		                         r->headers[i]);
	free(g->body);
	g->body = malloc(r->body_len + 1);
	assert_non_null(g->body);
	memcpy(g->body, r->body, r->body_len + 1);
	g->body_len = r->body_len;
	g->nul_terminated = r->body[r->body_len] == '\0';
}

static void on_done(void *ud)
{
	struct fx *fx = ud;

	fx->off_loop += !pthread_equal(pthread_self(), fx->loop_thread);
	fx->stopped = true;
	fx->answered_at_done = fx->answered;
}

/* ---- Fixture ------------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char err[256];

	assert_non_null(fx);
	fx->loop_thread = pthread_self();
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->tick), 0);
	for (int i = 0; i < MAX_GOT; i++)
		fx->got[i].fx = fx;
	assert_int_equal(httpd_start("127.0.0.1", 0, handle, fx, &fx->h), 0);
	assert_int_equal(api_fwd_start(&fx->loop, NULL, &fx->f, err, sizeof err), 0);
	uv_run(&fx->loop, UV_RUN_NOWAIT); /* registers the async's fd with the loop's backend */
	*state = fx;
	return 0;
}

/* Stop the forwarder (unless the test did) and check that the loop closes with nothing left. */
static int teardown(void **state)
{
	struct fx *fx = *state;

	if (!fx->stopped) {
		api_fwd_stop(fx->f, on_done, fx);
		assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	}
	httpd_stop(fx->h);
	uv_close((uv_handle_t *)&fx->tick, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	assert_int_equal(fx->off_loop, 0);
	for (int i = 0; i < MAX_GOT; i++)
		free(fx->got[i].body);
	free(fx);
	return 0;
}

static void url(char *buf, size_t len, struct fx *fx, const char *path)
{
	snprintf(buf, len, "%s%s", httpd_url(fx->h), path);
}

/* Send method path with body (a string, or NULL) and the given headers; answer into got[i]. */
static void send_to(struct fx *fx, int i, const char *method, const char *path, const char *body,
                    const char *const *headers, size_t n_headers)
{
	char u[256];
	struct api_fwd_request req = {
	    method, u, headers, n_headers, body, body != NULL ? strlen(body) : 0, 0};

	url(u, sizeof u, fx, path);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[i], NULL), 0);
}

/* Whether line is one of the answer's header lines, whole. */
static bool has_line(const struct got *g, const char *line)
{
	char want[512];

	snprintf(want, sizeof want, "%s\n", line);
	if (strncmp(g->headers, want, strlen(want)) == 0)
		return true;
	snprintf(want, sizeof want, "\n%s\n", line);
	return strstr(g->headers, want) != NULL;
}

/* ---- Raw sockets, for what httpd cannot do or show ---------------------------------------- */

static int raw_listen(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static bool readable(int fd, uint64_t end)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t now = util_now_mono_ms();

	return now < end && poll(&p, 1, (int)(end - now)) == 1;
}

static int raw_accept(int lfd)
{
	int fd;

	assert_true(readable(lfd, util_now_mono_ms() + WAIT_MS));
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* Read one request (head and Content-Length body) into buf, NUL-terminated; returns its length. */
static size_t raw_request(int fd, char *buf, size_t cap)
{
	uint64_t end = util_now_mono_ms() + WAIT_MS;
	size_t len = 0, want = SIZE_MAX;
	char *head, *cl;
	ssize_t n;

	while (len < want && readable(fd, end) && (n = recv(fd, buf + len, cap - 1 - len, 0)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (want == SIZE_MAX && (head = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = (size_t)(head + 4 - buf) +
			       (cl != NULL ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	assert_int_equal(len, want);
	return len;
}

/* Whether the peer closed fd within ms. */
static bool raw_closed(int fd, unsigned ms)
{
	uint64_t end = util_now_mono_ms() + ms;
	char b[256];

	while (readable(fd, end))
		if (recv(fd, b, sizeof b, 0) <= 0)
			return true;
	return false;
}

static int occurrences(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strcasestr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static void raw_send(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* ---- Tests --------------------------------------------------------------------------------- */

static void test_answer(void **state)
{
	static const char *const hdrs[] = {"Accept: application/json"};
	struct fx *fx = *state;
	struct got *g = &fx->got[0];

	send_to(fx, 0, "GET", "/created", NULL, hdrs, 1);
	assert_int_equal(fx->answered, 0); /* never from inside api_fwd_send */
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(g->error, STSD_OK);
	assert_string_equal(g->errmsg, "");
	assert_int_equal(g->status, 201);
	assert_true(has_line(g, "Warning: 299 - \"deprecated\""));
	assert_true(has_line(g, "Content-Type: application/json"));
	assert_true(has_line(g, "Content-Length: 42"));
	assert_null(strstr(g->headers, "HTTP/"));
	assert_null(strchr(g->headers, '\r'));
	assert_null(strstr(g->headers, "\n\n"));
	assert_int_equal(g->body_len, 42);
	assert_string_equal(g->body, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\"}}");
	assert_true(g->nul_terminated);
}

/* Every method arrives as itself with its body (or none), and curl adds no Content-Type. */
static void test_methods(void **state)
{
	static const char *const json[] = {"Content-Type: application/json",
	                                   "Authorization: Bearer t0k"};
	static const char *const patch[] = {"Content-Type: application/merge-patch+json"};
	static const struct {
		const char *method, *body;
		const char *const *headers;
		size_t n;
		const char *type, *auth;
	} cases[] = {
	    {"GET", NULL, NULL, 0, "", ""},
	    {"GET", "{\"selector\":1}", json, 2, "application/json", "Bearer t0k"},
	    {"DELETE", NULL, NULL, 0, "", ""},
	    {"DELETE", "{\"propagationPolicy\":\"Foreground\"}", json, 1, "application/json", ""},
	    {"POST", "{\"kind\":\"Pod\"}", json, 2, "application/json", "Bearer t0k"},
	    {"POST", NULL, NULL, 0, "", ""},
	    {"PUT", "{\"spec\":{\"replicas\":3}}", json, 1, "application/json", ""},
	    {"PATCH", "{\"spec\":{\"replicas\":5}}", patch, 1, "application/merge-patch+json", ""},
	    {"POST", "a=b", NULL, 0, "", ""},
	};
	struct fx *fx = *state;
	const int n = (int)(sizeof cases / sizeof cases[0]);
	char line[256];

	for (int i = 0; i < n; i++)
		send_to(fx, i, cases[i].method, "/echo", cases[i].body, cases[i].headers,
		        cases[i].n);
	assert_true(wait_for(fx, answered, n, WAIT_MS));
	for (int i = 0; i < n; i++) {
		const struct got *g = &fx->got[i];
		const char *body = cases[i].body != NULL ? cases[i].body : "";

		assert_int_equal(g->error, STSD_OK);
		assert_int_equal(g->status, 200);
		snprintf(line, sizeof line, "X-Method: %s", cases[i].method);
		assert_true(has_line(g, line));
		snprintf(line, sizeof line, "X-Type: %s", cases[i].type);
		assert_true(has_line(g, line));
		snprintf(line, sizeof line, "X-Auth: %s", cases[i].auth);
		assert_true(has_line(g, line));
		assert_string_equal(g->body, body);
	}
}

/* The request's own head: no Expect (curl 7.88 asks for a 100 above 1 MiB: a round trip, or a
 * one-second wait), no form Content-Type, the length. */
static void test_request_head(void **state)
{
	struct fx *fx = *state;
	char u[128], *body = calloc(1, MIB + 1), *buf = malloc(2 * MIB);
	struct api_fwd_request req = {"POST", u, NULL, 0, body, MIB + 1, 0};
	int port, lfd = raw_listen(&port), fd;

	assert_non_null(body);
	assert_non_null(buf);
	snprintf(u, sizeof u, "http://127.0.0.1:%d/raw", port);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	fd = raw_accept(lfd);
	raw_request(fd, buf, 2 * MIB);
	*strstr(buf, "\r\n\r\n") = '\0';
	assert_null(strcasestr(buf, "\r\nExpect:"));
	assert_null(strcasestr(buf, "\r\nContent-Type:"));
	assert_non_null(strcasestr(buf, "\r\nContent-Length: 1048577"));
	assert_int_equal(occurrences(buf, "\r\nAccept:"), 1); /* curl's default, and only that */
	assert_non_null(strstr(buf, "\r\nAccept: */*"));
	assert_int_equal(strncmp(buf, "POST /raw HTTP/1.1\r\n", 20), 0);
	raw_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].status, 200);
	close(fd);
	close(lfd);
	free(body);
	free(buf);
}

/* Header lines of an interim 1xx answer are not the answer's. The caller's Accept replaces
 * curl's. */
static void test_interim_answer(void **state)
{
	static const char *const hdrs[] = {"Accept: application/json"};
	struct fx *fx = *state;
	char buf[4096];
	struct api_fwd_request req = {"GET", buf, hdrs, 1, NULL, 0, 0};
	int port, lfd = raw_listen(&port), fd;

	snprintf(buf, sizeof buf, "http://127.0.0.1:%d/raw", port);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	fd = raw_accept(lfd);
	raw_request(fd, buf, sizeof buf);
	assert_non_null(strstr(buf, "\r\nAccept: application/json\r\n"));
	assert_null(strstr(buf, "*/*"));
	raw_send(fd, "HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
	             "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 2\r\n\r\nok");
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].status, 200);
	assert_string_equal(fx->got[0].headers, "X-Final: 1\nContent-Length: 2\n");
	assert_string_equal(fx->got[0].body, "ok");
	close(fd);
	close(lfd);
}

/* HEAD reads no body even when the answer announces one. */
static void test_head(void **state)
{
	struct fx *fx = *state;
	char buf[4096];
	struct api_fwd_request req = {"HEAD", buf, NULL, 0, NULL, 0, 2000};
	int port, lfd = raw_listen(&port), fd;

	snprintf(buf, sizeof buf, "http://127.0.0.1:%d/raw", port);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	fd = raw_accept(lfd);
	raw_request(fd, buf, sizeof buf);
	assert_int_equal(strncmp(buf, "HEAD /raw HTTP/1.1\r\n", 20), 0);
	raw_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].error, STSD_OK);
	assert_int_equal(fx->got[0].status, 200);
	assert_int_equal(fx->got[0].body_len, 0);
	assert_string_equal(fx->got[0].body, "");
	close(fd);
	close(lfd);
}

static char pattern(size_t i)
{
	return (char)('a' + (i * 7 + i / 4096) % 26);
}

/* 1 MiB up and the same back; the caller's buffer is gone as soon as api_fwd_send returns. */
static void test_big_body(void **state)
{
	struct fx *fx = *state;
	char u[256], *body = malloc(MIB);
	struct api_fwd_request req = {"PUT", u, NULL, 0, body, MIB, 0};
	const struct got *g = &fx->got[0];

	assert_non_null(body);
	for (size_t i = 0; i < MIB; i++)
		body[i] = pattern(i);
	url(u, sizeof u, fx, "/echo");
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	free(body);
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(g->error, STSD_OK);
	assert_true(has_line(g, "X-Len: 1048576"));
	assert_int_equal(g->body_len, MIB);
	for (size_t i = 0; i < MIB; i++)
		if (g->body[i] != pattern(i))
			fail_msg("byte %zu differs", i);
	assert_true(g->nul_terminated);
}

/* An answer announcing more than API_FWD_MAX_BODY fails before its body is read. */
static void test_toobig(void **state)
{
	struct fx *fx = *state;
	char buf[4096];
	struct api_fwd_request req = {"GET", buf, NULL, 0, NULL, 0, 0};
	int port, lfd = raw_listen(&port), fd;

	snprintf(buf, sizeof buf, "http://127.0.0.1:%d/raw", port);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	fd = raw_accept(lfd);
	raw_request(fd, buf, sizeof buf);
	snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\nabc",
	         API_FWD_MAX_BODY + 1);
	raw_send(fd, buf);
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].error, STSD_TOOBIG);
	assert_int_equal(fx->got[0].status, 0);
	assert_int_equal(fx->got[0].body_len, 0);
	close(fd);
	close(lfd);
}

static void test_refused(void **state)
{
	struct fx *fx = *state;
	char u[128];
	struct api_fwd_request req = {"GET", u, NULL, 0, NULL, 0, 0};
	uint64_t start = util_now_mono_ms();

	snprintf(u, sizeof u, "http://127.0.0.1:%d/x", httpd_dead_port());
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].error, STSD_IO);
	assert_int_equal(fx->got[0].status, 0);
	assert_string_not_equal(fx->got[0].errmsg, "");
	assert_int_equal(fx->got[0].body_len, 0);
	assert_true(fx->got[0].at_ms - start < 900); /* refused, not the 1 s connect timeout */
}

static void test_timeout(void **state)
{
	struct fx *fx = *state;
	char u[256];
	struct api_fwd_request req = {"GET", u, NULL, 0, NULL, 0, 300};
	uint64_t start = util_now_mono_ms();

	url(u, sizeof u, fx, "/hang");
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], NULL), 0);
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].error, STSD_TIMEOUT);
	assert_int_equal(fx->got[0].status, 0);
	assert_string_not_equal(fx->got[0].errmsg, "");
	assert_true(fx->got[0].at_ms - start >= 290);
	assert_true(fx->got[0].at_ms - start < 3000);
}

static void test_closed(void **state)
{
	struct fx *fx = *state;

	send_to(fx, 0, "POST", "/close", "{}", NULL, 0);
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	assert_int_equal(fx->got[0].error, STSD_IO);
	assert_int_equal(fx->got[0].status, 0);
	assert_string_not_equal(fx->got[0].errmsg, "");
	assert_string_equal(fx->got[0].headers, "");
}

/* 50 calls in flight at once, each answered exactly once with its own body. */
static void test_concurrent(void **state)
{
	struct fx *fx = *state;
	char body[16];

	for (int i = 0; i < 50; i++) {
		snprintf(body, sizeof body, "call-%d", i);
		send_to(fx, i, "POST", "/echo", body, NULL, 0);
	}
	assert_true(wait_for(fx, answered, 50, WAIT_MS));
	api_fwd_stop(fx->f, on_done, fx); /* any stray second answer comes before done */
	assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	assert_int_equal(fx->answered, 50);
	for (int i = 0; i < 50; i++) {
		snprintf(body, sizeof body, "call-%d", i);
		assert_int_equal(fx->got[i].calls, 1);
		assert_int_equal(fx->got[i].error, STSD_OK);
		assert_string_equal(fx->got[i].body, body);
	}
}

/* Calls one after the other share one connection. */
static void test_keepalive(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 3; i++) {
		send_to(fx, i, "GET", "/echo", NULL, NULL, 0);
		assert_true(wait_for(fx, answered, i + 1, WAIT_MS));
		assert_int_equal(fx->got[i].status, 200);
	}
	assert_int_equal(httpd_connections(fx->h), 1);
}

/* Cancelled before the curl thread took it (or just after): no callback, nothing leaks. */
static void test_cancel_queued(void **state)
{
	struct fx *fx = *state;
	struct api_fwd_request req = {"POST", NULL, NULL, 0, "{}", 2, 0};
	struct api_fwd_call *call;
	char u[256];

	url(u, sizeof u, fx, "/echo");
	req.url = u;
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], &call), 0);
	api_fwd_cancel(call);
	send_to(fx, 1, "GET", "/echo", NULL, NULL, 0); /* a later call still works */
	assert_true(wait_for(fx, answered, 1, WAIT_MS));
	wait_for(fx, never, 0, QUIET_MS);
	assert_int_equal(fx->got[0].calls, 0);
	assert_int_equal(fx->got[1].calls, 1);
}

/* Cancelled while the peer holds the request: no callback, and the connection goes promptly. */
static void test_cancel_in_flight(void **state)
{
	struct fx *fx = *state;
	char buf[4096];
	struct api_fwd_request req = {"GET", buf, NULL, 0, NULL, 0, 0};
	struct api_fwd_call *call;
	int port, lfd = raw_listen(&port), fd;

	snprintf(buf, sizeof buf, "http://127.0.0.1:%d/raw", port);
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], &call), 0);
	fd = raw_accept(lfd);
	raw_request(fd, buf, sizeof buf);
	api_fwd_cancel(call);
	assert_true(raw_closed(fd, 2000));
	wait_for(fx, never, 0, QUIET_MS);
	api_fwd_stop(fx->f, on_done, fx);
	assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	assert_int_equal(fx->got[0].calls, 0);
	close(fd);
	close(lfd);
}

/* Cancelled when the answer already waits in the completed queue: it is dropped. The loop does
 * not run until its backend fd turns readable, which only the forwarder's uv_async does. */
static void test_cancel_answered(void **state)
{
	struct fx *fx = *state;
	char u[256];
	struct api_fwd_request req = {"GET", u, NULL, 0, NULL, 0, 0};
	struct api_fwd_call *call;

	url(u, sizeof u, fx, "/created");
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[0], &call), 0);
	assert_true(readable(uv_backend_fd(&fx->loop), util_now_mono_ms() + WAIT_MS));
	assert_int_equal(httpd_requests(fx->h), 1);
	api_fwd_cancel(call);
	wait_for(fx, never, 0, QUIET_MS);
	api_fwd_stop(fx->f, on_done, fx);
	assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	assert_int_equal(fx->got[0].calls, 0);
}

/* Stop with calls in flight and one just queued: each gets STSD_SHUTDOWN once, then done runs;
 * sends in between are refused. */
static void test_stop_pending(void **state)
{
	struct fx *fx = *state;
	char u[256];
	struct api_fwd_request req = {"GET", u, NULL, 0, NULL, 0, 0};

	for (int i = 0; i < 5; i++)
		send_to(fx, i, "GET", "/hang", NULL, NULL, 0);
	assert_true(wait_for(fx, requests, 5, WAIT_MS));
	send_to(fx, 5, "POST", "/hang", "{}", NULL, 0);
	api_fwd_stop(fx->f, on_done, fx);
	assert_false(fx->stopped); /* never from inside api_fwd_stop */
	assert_int_equal(fx->answered, 0);
	url(u, sizeof u, fx, "/echo");
	assert_int_equal(api_fwd_send(fx->f, &req, on_answer, &fx->got[6], NULL), STSD_SHUTDOWN);
	assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	assert_int_equal(fx->answered_at_done, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(fx->got[i].calls, 1);
		assert_int_equal(fx->got[i].error, STSD_SHUTDOWN);
		assert_int_equal(fx->got[i].status, 0);
		assert_string_equal(fx->got[i].headers, "");
	}
	assert_int_equal(fx->got[6].calls, 0);
}

/* Stop with nothing pending still waits for the loop: done is never called from inside. */
static void test_stop_idle(void **state)
{
	struct fx *fx = *state;

	api_fwd_stop(fx->f, on_done, fx);
	assert_false(fx->stopped);
	assert_true(wait_for(fx, stopped, 0, WAIT_MS));
	assert_int_equal(fx->answered_at_done, 0);
}

static void test_invalid(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {"X-Evil: a\r\nHost: b"};
	const char *u = httpd_url(fx->h);
	const struct api_fwd_request reqs[] = {
	    {NULL, u, NULL, 0, NULL, 0, 0},     {"", u, NULL, 0, NULL, 0, 0},
	    {"GET", NULL, NULL, 0, NULL, 0, 0}, {"GET", "", NULL, 0, NULL, 0, 0},
	    {"POST", u, NULL, 0, NULL, 5, 0},   {"GET", u, bad, 1, NULL, 0, 0},
	    {"GE T", u, NULL, 0, NULL, 0, 0},
	};

	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
		assert_int_equal(api_fwd_send(fx->f, &reqs[i], on_answer, &fx->got[0], NULL),
		                 STSD_INVALID);
	wait_for(fx, never, 0, QUIET_MS);
	assert_int_equal(fx->answered, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interim_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_toobig, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
