/* http_fixture.h — test harness for the HTTP server: a uv loop in the test's thread, clients
 * (libcurl or raw sockets) in threads of their own, and deadline waits instead of sleeps. */
#ifndef STSD_TEST_HTTP_FIXTURE_H
#define STSD_TEST_HTTP_FIXTURE_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "http.h"

#define FX_MAX_THREADS 16
#define FX_MAX_HELD    64

/* A growable byte string. */
struct dbuf {
	char *data;
	size_t len, cap;
};

struct fx {
	uv_loop_t loop;
	uv_async_t wake;     /* client threads nudge the loop after changing something */
	uv_timer_t deadline; /* ends a wait */
	struct api_http *h;
	unsigned port;
	bool stopping; /* api_http_stop called */
	bool stopped;  /* its done callback ran */
	int closes_at_stop;
	pthread_t th[FX_MAX_THREADS];
	int threads;
	atomic_int clients_done;
	atomic_size_t client_rx; /* bytes a streaming client has received */
	/* Handler side (loop thread only). */
	int handled, closes, answered_late;
	uint64_t suspended_seen; /* stats.suspended when a deferred answer was given */
	struct api_req *held[FX_MAX_HELD];
	int nheld, barrier_n;
};

/* One HTTP call made with libcurl from a client thread. */
struct call {
	struct fx *fx;
	char url[512];
	const char *method; /* NULL: GET, or POST when there is a body */
	const char *body;   /* sent with Content-Length */
	size_t body_len;
	size_t chunked_len; /* > 0: upload that many bytes with chunked encoding instead */
	const char *header; /* one extra request header line, or NULL */
	long timeout_ms;    /* 0: 20 s */
	size_t abort_after; /* > 0: hang up once this many response bytes arrived */
	bool track_rx;      /* publish received bytes in fx->client_rx */
	/* Results. */
	CURLcode rc;
	long status;
	struct dbuf resp, hdrs;
	size_t sent;
	struct curl_slist *hl; /* request headers, freed by call_free */
};

void dbuf_add(struct dbuf *b, const void *p, size_t n);
void dbuf_free(struct dbuf *b);

/* Loop, async and timer set up; no server yet. */
void fx_init(struct fx *fx);
/* Start the server on 127.0.0.1:0 with o (NULL: defaults) and the test handler. */
void fx_start(struct fx *fx, const struct api_http_options *o, api_http_handler_cb handler);
/* Stop the server (if running), wait for every client thread, close everything and assert the loop
 * closes cleanly. */
void fx_finish(struct fx *fx);
/* Stop the server and wait for done; or the two halves. */
void fx_stop(struct fx *fx);
void fx_stop_async(struct fx *fx);
void fx_await_stop(struct fx *fx);
/* Run the loop until *cond is true or ms pass; returns the last value of cond. */
bool fx_wait(struct fx *fx, bool (*cond)(struct fx *fx), unsigned ms);
/* Run the loop for ms (to assert that something does not happen). */
void fx_quiet(struct fx *fx, unsigned ms);
/* Start a client thread running fn(arg); it must call fx_client_done at its end. */
void fx_spawn(struct fx *fx, void *(*fn)(void *), void *arg);
void fx_client_done(struct fx *fx);
/* Wait until every spawned client thread finished and join them. */
void fx_join(struct fx *fx);

/* Prepare c for path on fx's server. */
void call_init(struct call *c, struct fx *fx, const char *path);
/* Set e's options for c (for a multi handle). */
void call_setup(struct call *c, CURL *e);
/* Perform c on easy handle e (reused for keep-alive); call_free releases the results. */
void call_perform(struct call *c, CURL *e);
void call_free(struct call *c);
/* A thread body performing the struct call given as arg on a handle of its own. */
void *call_thread(void *arg);

/* Raw TCP: connect to the server, send n bytes (unless n == 0), and read until the server closes
 * or ms pass. Returns the bytes received (NUL-terminated, caller frees) and sets *closed. */
char *raw_exchange(struct fx *fx, const void *data, size_t n, unsigned ms, bool *closed);

#endif
