/* forward.h — outgoing HTTP requests of a replica, answered on its libuv loop: a follower
 * forwarding a write or a linearizable read to the leader, and a replica talking to its peers
 * (join, member record). libcurl's multi interface runs on a thread of its own (curl_multi_poll),
 * so no curl socket is ever watched by a uv_poll (the fd-reuse hazard of HTTP-NOTES.md cannot
 * arise); requests reach it through a locked queue and curl_multi_wakeup, answers come back through
 * a uv_async.
 *
 * Threads: every function here is called on the loop thread given to api_fwd_start, and every
 * callback runs on it. Callbacks follow libuv's rule: if api_fwd_send returns 0 its callback runs
 * exactly once (unless the call is cancelled first), never from inside api_fwd_send. */
#ifndef STSD_API_FORWARD_H
#define STSD_API_FORWARD_H

#include <stddef.h>

#include <uv.h>

/* Answers larger than this fail with STSD_TOOBIG (a forwarded list of 10,000 pods is ~30 MiB). */
#define API_FWD_MAX_BODY ((size_t)64 << 20)

struct api_fwd;
struct api_fwd_call;

/* Every field may be 0 / NULL for its default. Strings are copied. */
struct api_fwd_options {
	long connect_timeout_ms; /* TCP connect; 1000 */
	/* TLS (issue 5): CA bundle that verifies peers, and this replica's client certificate. */
	const char *ca_file, *cert_file, *key_file;
};

/* One request. Everything is copied by api_fwd_send: the caller may free it on return. Headers
 * go out as given: a caller relaying a client's request drops its hop-by-hop headers (Host,
 * Content-Length, Transfer-Encoding, Connection, Expect) first, as api/dispatch.c does. */
struct api_fwd_request {
	const char *method;         /* "GET", "POST", ... */
	const char *url;            /* absolute: "http://127.0.0.1:6443/api/v1/...?..." */
	const char *const *headers; /* "Name: value" lines sent as they are */
	size_t n_headers;
	const void *body; /* may be NULL when body_len is 0 */
	size_t body_len;
	long timeout_ms; /* the whole exchange; 0: 30000 */
};

/* The answer. Valid during the callback only. */
struct api_fwd_response {
	/* STSD_OK when the peer answered (whatever the status); otherwise STSD_IO (could not
	 * connect, connection reset, malformed answer), STSD_TIMEOUT, STSD_TOOBIG, STSD_NOMEM or
	 * STSD_SHUTDOWN (api_fwd_stop ran first). */
	int error;
	const char *errmsg; /* "" when error is STSD_OK; curl's reason otherwise */
	long status;        /* HTTP status; 0 unless error is STSD_OK */
	const char *const
	    *headers; /* response header lines "Name: value" (no status line, no CRLF) */
	size_t n_headers;
	const char *body; /* NUL-terminated (the NUL is not counted); "" when empty */
	size_t body_len;
};

typedef void (*api_fwd_cb)(void *ud, const struct api_fwd_response *resp);
typedef void (*api_fwd_done_cb)(void *ud);

/* Start the forwarder's thread and its uv_async on loop. Returns 0, STSD_NOMEM or STSD_IO (thread
 * or curl initialisation failed), with the reason in err. */
int api_fwd_start(uv_loop_t *loop, const struct api_fwd_options *o, struct api_fwd **out, char *err,
                  size_t errlen);

/* Queue req. On 0, cb(ud, resp) runs later on the loop thread, once; *call (if not NULL) is a
 * handle for api_fwd_cancel, valid until cb runs or the call is cancelled. Returns STSD_INVALID
 * (no method or URL, a method not in upper-case letters, CR or LF in the URL or a header, a NULL
 * body with a length), STSD_NOMEM or STSD_SHUTDOWN (stopping), with no callback. */
int api_fwd_send(struct api_fwd *f, const struct api_fwd_request *req, api_fwd_cb cb, void *ud,
                 struct api_fwd_call **call);

/* The caller lost interest (its client went away): cb will not run. The transfer is aborted
 * promptly, but a write that reached the peer may still be applied there: the outcome is unknown.
 * call must be one whose callback has not run yet. */
void api_fwd_cancel(struct api_fwd_call *call);

/* Stop: answers already received are delivered as they came; calls not yet answered complete with
 * STSD_SHUTDOWN (their callbacks run first), the thread
 * is joined, the uv handle closed; then done(ud) runs (never from inside this call) and f is
 * freed. Call at most once. */
void api_fwd_stop(struct api_fwd *f, api_fwd_done_cb done, void *ud);

#endif
