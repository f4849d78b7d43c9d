/* http_request.c — one HTTP request: body intake with its limit, the handler call, suspension while
 * an answer or stream data is awaited, hang-up detection, and completion.
 *
 * What libmicrohttpd 0.9.75 does, checked by tests/api/test_http.c:
 * - A response cannot be queued while the body streams in (MHD_queue_response returns MHD_NO), and
 *   leaving upload data unconsumed makes MHD answer 500 itself. So a body that outgrows the limit
 * is dropped (not buffered) from then on and 413 is queued when it ends, or the connection is
 * closed once as much again has been dropped. A Content-Length over the limit gets 413 at once,
 * before any "100 Continue".
 * - Suspending from inside the content reader and returning 0 works (microhttpd.h allows
 *   MHD_suspend_connection from "the MHD_AccessHandlerCallback or MHD_ContentReaderCallback"): the
 *   reader is not called again until the resume, so an idle stream costs nothing.
 * - After a resume, MHD calls the access handler again (request fully received, no response yet)
 *   or the content reader; either is where an answer or stream data is picked up.
 * - "While a connection is suspended, MHD will not detect disconnects by the client"
 *   (microhttpd.h, MHD_suspend_connection). A suspended request therefore watches its socket with
 *   a uv_poll for UV_DISCONNECT (EPOLLRDHUP); on a hang-up it resumes the connection, the access
 *   handler or reader then ends it, and MHD's request-completed callback runs on_close. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "http_internal.h"
#include "log.h"
#include "util.h"

/* MHD's block size hint for streamed responses. */
#define STREAM_BLOCK (16 * 1024)
/* A drained buffer larger than this gives its memory back (idle watches stay small). */
#define BUF_KEEP (16 * 1024)

/* ---- Buffers ----------------------------------------------------------------------------------
 */

/* Append len bytes, keeping a NUL after them. */
int http_buf_append(struct http_buf *b, const void *data, size_t len)
{
	size_t need = b->len + len + 1;

	if (need > b->cap && b->off > 0) { /* reuse the consumed front first */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		need = b->len + len + 1;
	}
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return STSD_NOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void http_buf_free(struct http_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Mark n pending bytes as taken. */
static void http_buf_consume(struct http_buf *b, size_t n)
{
	b->off += n;
	if (b->off < b->len)
		return;
	if (b->cap > BUF_KEEP)
		http_buf_free(b);
	b->off = b->len = 0;
}

/* ---- Lifecycle --------------------------------------------------------------------------------
 */

static const char *const state_names[] = {"receiving", "rejected",  "handling",
                                          "answered",  "streaming", "ended"};

static void req_set_state(struct api_req *r, enum req_state to)
{
	static const unsigned legal[] = {
	    [REQ_RECEIVING] = 1u << REQ_REJECTED | 1u << REQ_HANDLING,
	    [REQ_HANDLING] = 1u << REQ_ANSWERED | 1u << REQ_STREAMING,
	    [REQ_STREAMING] = 1u << REQ_ENDED,
	};

	if (!(legal[r->state] & (1u << to))) {
		log_error("http", "event=bad_transition from=%s to=%s", state_names[r->state],
		          state_names[to]);
		assert(!"illegal request state transition");
	}
	r->state = to;
}

static bool req_finished(const struct api_req *r)
{
	return r->state == REQ_REJECTED || r->state == REQ_ANSWERED || r->state == REQ_ENDED;
}

static struct api_req *req_new(struct api_http *h, struct MHD_Connection *c, const char *url,
                               const char *method)
{
	struct api_req *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->h = h;
	r->conn = c;
	r->method = method;
	r->path = url;
	r->start_ns = util_now_mono_ns();
	r->state = REQ_RECEIVING;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	h->stats.requests++;
	h->stats.live++;
	return r;
}

static void on_watch_closed(uv_handle_t *handle)
{
	struct api_req *r = handle->data;
	struct api_http *h = r->h;

	free(r->watch);
	free(r);
	http_handle_closed(h);
}

static void req_free(struct api_req *r)
{
	struct api_http *h = r->h;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	h->stats.live--;
	http_buf_free(&r->body);
	http_buf_free(&r->stream);
	if (r->resp)
		MHD_destroy_response(r->resp);
	for (struct http_header *x = r->headers, *nx; x; x = nx) {
		nx = x->next;
		free(x);
	}
	if (!r->watch) {
		free(r);
		return;
	}
	http_handle_closing(h);
	uv_close((uv_handle_t *)r->watch, on_watch_closed);
}

/* ---- Suspension and hang-ups ------------------------------------------------------------------
 */

static void on_hangup(uv_poll_t *p, int status, int events)
{
	struct api_req *r = p->data;

	if (status == 0 && !(events & UV_DISCONNECT))
		return;
	log_debug("http", "event=client_gone method=%s state=%s", r->method, state_names[r->state]);
	r->gone = true;
	req_resume(r);
}

/* Watch the suspended connection's socket for a hang-up (MHD does not, see the file comment). */
static void watch_start(struct api_req *r)
{
	const union MHD_ConnectionInfo *ci;

	if (!r->watch) {
		ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		r->watch = ci ? malloc(sizeof *r->watch) : NULL;
		if (!r->watch || uv_poll_init_socket(r->h->loop, r->watch, ci->connect_fd) != 0) {
			log_warn("http", "event=hangup_watch_failed method=%s", r->method);
			free(r->watch);
			r->watch = NULL;
			return;
		}
		r->watch->data = r;
	}
	(void)uv_poll_start(r->watch, UV_DISCONNECT, on_hangup);
}

/* Only from the access handler or the content reader (microhttpd.h: the only safe places). */
static void req_suspend(struct api_req *r)
{
	assert(!r->suspended);
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	r->h->stats.suspended++;
	watch_start(r);
}

void req_resume(struct api_req *r)
{
	if (!r->suspended)
		return;
	/* Stop watching before MHD may close (and the kernel reuse) the descriptor. */
	if (r->watch)
		uv_poll_stop(r->watch);
	r->suspended = false;
	r->h->stats.suspended--;
	MHD_resume_connection(r->conn);
	http_kick(r->h);
}

/* ---- Intake -----------------------------------------------------------------------------------
 */

static struct MHD_Response *make_413(size_t limit)
{
	struct MHD_Response *resp;
	char body[256];
	int n;

	n = snprintf(
	    body, sizeof body,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	    "\"message\":\"the request body is too large (limit %zu bytes)\","
	    "\"reason\":\"RequestEntityTooLarge\",\"code\":413}",
	    limit);
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

static void req_reject(struct api_req *r, const char *why)
{
	char q[256];

	log_info("http", "event=body_too_large method=%s path=%s limit=%zu how=%s", r->method,
	         log_quote(q, sizeof q, r->path), r->h->opt.max_body, why);
	http_buf_free(&r->body);
	req_set_state(r, REQ_REJECTED);
	r->status = 413;
	r->resp = make_413(r->h->opt.max_body);
}

/* The gate refused r before its body: answer status with json (may be NULL), discard the body. */
static void req_refuse(struct api_req *r, unsigned status, const char *json)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    json ? strlen(json) : 0, (void *)(json ? json : ""), MHD_RESPMEM_MUST_COPY);

	if (resp && json)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	req_set_state(r, REQ_REJECTED);
	r->status = status;
	r->resp = resp;
}

/* Queue the answer if there is one, else wait suspended for it. */
static enum MHD_Result req_queue(struct api_req *r)
{
	enum MHD_Result ret;

	if (!r->resp) {
		if (r->state != REQ_HANDLING)
			return MHD_NO; /* out of memory making the answer: close */
		req_suspend(r);
		return MHD_YES;
	}
	ret = MHD_queue_response(r->conn, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static enum MHD_Result req_begin(struct api_http *h, struct MHD_Connection *c, const char *url,
                                 const char *method, void **con_cls)
{
	struct api_req *r = req_new(h, c, url, method);
	const char *cl;

	if (!r)
		return MHD_NO;
	*con_cls = r;
	if (h->stopping)
		return MHD_NO;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > h->opt.max_body) {
		req_reject(r, "content_length");
		return req_queue(r);
	}
	if (h->opt.gate) {
		char *json = NULL;
		unsigned status = h->opt.gate(h->ud, r, &json);

		if (status) {
			req_refuse(r, status, json);
			free(json);
			return req_queue(r);
		}
	}
	return MHD_YES;
}

/* A piece of the body: keep it, or once over the limit drop it (a response cannot be queued before
 * the body ends), closing the connection when the client keeps on sending. */
static enum MHD_Result req_take_body(struct api_req *r, const char *data, size_t size)
{
	size_t max = r->h->opt.max_body;

	if (r->state == REQ_RECEIVING && r->body.len + size > max)
		req_reject(r, "streamed");
	if (r->state == REQ_REJECTED) {
		r->discarded += size;
		return r->discarded > max ? MHD_NO : MHD_YES;
	}
	return http_buf_append(&r->body, data, size) == 0 ? MHD_YES : MHD_NO;
}

static void req_dispatch(struct api_req *r)
{
	req_set_state(r, REQ_HANDLING);
	r->in_handler = true;
	r->h->handler(r->h->ud, r);
	r->in_handler = false;
}

enum MHD_Result req_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *data, size_t *size, void **con_cls)
{
	struct api_http *h = cls;
	struct api_req *r = *con_cls;

	(void)version;
	if (!r)
		return req_begin(h, c, url, method, con_cls);
	if (h->stopping || r->gone)
		return MHD_NO;
	if (*size > 0) {
		size_t n = *size;

		*size = 0;
		return req_take_body(r, data, n);
	}
	if (r->state == REQ_RECEIVING)
		req_dispatch(r);
	return req_queue(r);
}

static const char *term_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return "ok";
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
		return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		return "read_error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client_abort";
	}
	return "unknown";
}

void req_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
	struct api_req *r = *con_cls;
	char q[512];

	(void)cls;
	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	if (r->suspended) { /* only if MHD completes a suspended connection (it should not) */
		uv_poll_stop(r->watch);
		r->suspended = false;
		r->h->stats.suspended--;
	}
	if (!req_finished(r) && r->on_close) {
		api_req_close_cb cb = r->on_close;

		r->on_close = NULL;
		cb(r->close_ud, r);
	}
	log_debug("http",
	          "event=request method=%s path=%s status=%u state=%s term=%s bytes_in=%zu "
	          "duration_ms=%.1f",
	          r->method, log_quote(q, sizeof q, r->path), r->status, state_names[r->state],
	          term_name(toe), r->body.len, (double)(util_now_mono_ns() - r->start_ns) / 1e6);
	req_free(r);
}

/* ---- Answers ----------------------------------------------------------------------------------
 */

void api_req_add_header(struct api_req *r, const char *name, const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
	struct http_header *x = malloc(sizeof *x + nl + vl);

	assert(r->state == REQ_HANDLING);
	if (!x) {
		log_error("http", "event=add_header_failed err=nomem");
		return;
	}
	memcpy(x->name, name, nl);
	x->value = x->name + nl;
	memcpy(x->value, value, vl);
	x->next = r->headers;
	r->headers = x;
}

/* Give resp the content type and the added headers, then hold it for req_queue. */
static void req_set_response(struct api_req *r, unsigned status, const char *content_type,
                             struct MHD_Response *resp)
{
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (struct http_header *x = r->headers; x; x = x->next)
		if (MHD_add_response_header(resp, x->name, x->value) != MHD_YES)
			log_warn("http", "event=bad_header name=%s", x->name);
	r->status = status;
	r->resp = resp;
	r->h->stats.by_class[status / 100 < 6 ? status / 100 : 0]++;
	/* Inside the handler, req_access queues it on return; otherwise the resumed access handler
	 * does. */
	req_resume(r);
}

void api_respond(struct api_req *r, unsigned status, const char *content_type, const void *body,
                 size_t len)
{
	struct MHD_Response *resp;

	req_set_state(r, REQ_ANSWERED);
	resp =
	    MHD_create_response_from_buffer(len, (void *)(len ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (!resp) { /* req_queue closes the connection */
		log_error("http", "event=respond_failed err=nomem status=%u", status);
		req_resume(r);
		return;
	}
	req_set_response(r, status, content_type, resp);
}

/* MHD's content reader for streamed answers. Returning 0 makes MHD call again on every MHD_run, so
 * with nothing queued the connection is suspended first; a write or the end resumes it. */
static ssize_t req_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_req *r = cls;
	size_t n = r->stream.len - r->stream.off;

	(void)pos;
	if (r->gone || r->h->stopping)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n > 0) {
		n = n < max ? n : max;
		memcpy(buf, r->stream.data + r->stream.off, n);
		http_buf_consume(&r->stream, n);
		return (ssize_t)n;
	}
	if (r->state == REQ_ENDED)
		return MHD_CONTENT_READER_END_OF_STREAM;
	req_suspend(r);
	return 0;
}

int api_stream_start(struct api_req *r, unsigned status, const char *content_type)
{
	struct MHD_Response *resp;

	assert(r->state == REQ_HANDLING);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, req_read, r, NULL);
	if (!resp)
		return STSD_NOMEM;
	req_set_state(r, REQ_STREAMING);
	req_set_response(r, status, content_type, resp);
	return 0;
}

int api_stream_write(struct api_req *r, const void *data, size_t len)
{
	assert(r->state == REQ_STREAMING);
	if (r->gone || r->h->stopping)
		return STSD_SHUTDOWN;
	if (len == 0)
		return 0;
	if (r->stream.len - r->stream.off + len > r->h->opt.max_stream_queue)
		return STSD_BUSY;
	if (http_buf_append(&r->stream, data, len))
		return STSD_NOMEM;
	req_resume(r);
	return 0;
}

void api_stream_end(struct api_req *r)
{
	req_set_state(r, REQ_ENDED);
	req_resume(r);
}

void api_req_on_close(struct api_req *r, api_req_close_cb cb, void *ud)
{
	r->on_close = cb;
	r->close_ud = ud;
}

/* ---- Fields -----------------------------------------------------------------------------------
 */

const char *api_req_method(const struct api_req *r)
{
	return r->method;
}

const char *api_req_path(const struct api_req *r)
{
	return r->path;
}

struct query_find {
	const char *name, *value;
	bool found;
};

static enum MHD_Result query_find_one(void *cls, enum MHD_ValueKind kind, const char *k,
                                      const char *v)
{
	struct query_find *f = cls;

	(void)kind;
	if (strcmp(k, f->name) != 0)
		return MHD_YES;
	f->value = v ? v : "";
	f->found = true;
	return MHD_NO;
}

/* MHD's own lookup compares names without case; query arguments are case-sensitive. */
const char *api_req_query(const struct api_req *r, const char *name)
{
	struct query_find f = {.name = name};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_find_one, &f);
	return f.found ? f.value : NULL;
}

const char *api_req_header(const struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *api_req_body(const struct api_req *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

struct pair_iter {
	api_req_pair_cb cb;
	void *ud;
};

static enum MHD_Result pair_one(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct pair_iter *it = cls;

	(void)kind;
	it->cb(it->ud, k, v ? v : "");
	return MHD_YES;
}

void api_req_foreach_query(const struct api_req *r, api_req_pair_cb cb, void *ud)
{
	struct pair_iter it = {cb, ud};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, pair_one, &it);
}

void api_req_foreach_header(const struct api_req *r, api_req_pair_cb cb, void *ud)
{
	struct pair_iter it = {cb, ud};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, pair_one, &it);
}

void *api_req_get_data(const struct api_req *r)
{
	return r->data;
}

void api_req_set_data(struct api_req *r, void *p)
{
	r->data = p;
}

static struct http_conn *conn_of(const struct api_req *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void *api_req_get_conn_data(const struct api_req *r)
{
	struct http_conn *hc = conn_of(r);

	return hc ? hc->data : NULL;
}

/* Without a holder (its allocation failed when the connection opened) nothing is kept: the
 * handler recomputes what it wanted to cache. */
void api_req_set_conn_data(struct api_req *r, void *p)
{
	struct http_conn *hc = conn_of(r);

	if (hc == NULL) {
		if (p && r->h->opt.conn_free)
			r->h->opt.conn_free(p);
		return;
	}
	if (hc->data && hc->data != p && r->h->opt.conn_free)
		r->h->opt.conn_free(hc->data);
	hc->data = p;
}
