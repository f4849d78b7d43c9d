/* http.h — the HTTP/1.1 server of the API: libmicrohttpd driven by a libuv loop, one callback per
 * request.
 *
 * Threads: everything here runs on (and must be called from) the thread that runs the loop given to
 * api_http_start. Nothing blocks: a handler that cannot answer at once returns and answers later
 * (the connection waits suspended, costing no CPU), and streamed responses (watches, logs -f) are
 * written piece by piece as data becomes available.
 *
 * Request lifetime: a struct api_req is handed to the handler once its whole body has arrived. It
 * stays valid until the handler finishes it (api_respond or api_stream_end) or until its on_close
 * callback returns, whichever comes first; after that the handler must not touch it again. A
 * handler that keeps r beyond its own call must register on_close (api_req_on_close), since a
 * client may go away at any moment.
 *
 * Errors: functions return 0 (STSD_OK) or a code of common/errors.h. */
#ifndef STSD_API_HTTP_H
#define STSD_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Default limits (used when an option is 0). */
#define API_HTTP_MAX_BODY        (3u * 1024 * 1024) /* like kube-apiserver's 3 MiB */
#define API_HTTP_IDLE_TIMEOUT_S  120u
#define API_HTTP_MAX_CONNECTIONS 1024u
#define API_HTTP_CONN_MEMORY     (32u * 1024)        /* headers + I/O buffers of one connection */
#define API_HTTP_MAX_STREAM_Q    (16u * 1024 * 1024) /* bytes queued on one streamed response */

/* TLS of a listener. The files are PEM; they are read at start and again by api_http_reload_tls
 * (SIGHUP), which new handshakes use at once while open connections keep theirs. */
struct api_http_tls {
	const char *cert_file; /* serving certificate, optionally followed by its chain */
	const char *key_file;  /* its private key */
	const char
	    *client_ca_file; /* CAs whose client certificates are requested (NULL: none are;
	                      * verifying them is the handler's job, see api_req_peer_cert) */
};

struct api_req;

/* Called once a request's headers are complete, before any of its body is read: 0 lets it in;
 * otherwise the request is answered with that status and *json (malloc'd, freed by the server;
 * may stay NULL for an empty body) and its body is discarded unread. The request functions that
 * read headers, path, query, peer certificates and connection data work here; the body does not
 * exist yet. */
typedef unsigned (*api_http_gate_cb)(void *ud, struct api_req *r, char **json);

/* Frees what a handler attached to a connection (api_req_set_conn_data) when it closes. */
typedef void (*api_conn_free_cb)(void *conn_data);

struct api_http_options {
	const char
	    *address;    /* "HOST:PORT": IPv4 literal, "localhost" or "" (any); port 0 picks one */
	size_t max_body; /* larger request bodies get 413 while they stream in */
	unsigned idle_timeout_s; /* idle keep-alive connections are closed after this (not suspended
	                            ones) */
	unsigned max_connections;
	size_t conn_memory;      /* per-connection memory limit (request headers must fit in it) */
	size_t max_stream_queue; /* api_stream_write fails with STSD_BUSY beyond this */
	const struct api_http_tls *tls; /* NULL: plain HTTP */
	api_conn_free_cb conn_free;     /* may be NULL when no connection data is attached */
	api_http_gate_cb gate;          /* may be NULL: every request is let in */
};

struct api_http;
struct api_req;

/* Called on the loop thread once per request, when its body is complete. */
typedef void (*api_http_handler_cb)(void *ud, struct api_req *req);
/* Called once when a request ends before its handler finished it (see api_req_on_close). */
typedef void (*api_req_close_cb)(void *ud, struct api_req *req);
/* Called by the iteration functions with each (name, value) pair; value is "" for a bare "?flag".
 */
typedef void (*api_req_pair_cb)(void *ud, const char *name, const char *value);
/* Called by api_http_stop once everything is freed. */
typedef void (*api_http_done_cb)(void *ud);

/* Counters of one server, for tests and metrics. */
struct api_http_stats {
	uint64_t runs;        /* MHD_run calls: stays flat while the server is idle */
	uint64_t connections; /* connections accepted so far */
	uint64_t requests;    /* requests received so far (handled or rejected) */
	uint64_t live;        /* requests not yet completed */
	uint64_t suspended;   /* of those, waiting suspended for an answer or stream data */
	uint64_t by_class[6]; /* answers by status class: [2] counts 2xx ... [5] 5xx */
};

/* Start listening on o->address and serve requests on loop, calling handler(ud, req) for each. On
 * success *out owns the server until api_http_stop's done callback runs. On failure (bad address,
 * address in use, daemon start failure) nothing is left running and err (if not NULL) says why:
 * STSD_INVALID for a bad option, STSD_IO otherwise. */
int api_http_start(uv_loop_t *loop, const struct api_http_options *o, api_http_handler_cb handler,
                   void *ud, struct api_http **out, char *err, size_t errlen);
/* Read the TLS files again; handshakes from now on use them. On failure (unreadable, key not
 * matching) the server keeps what it had and err says why. STSD_INVALID without TLS. */
int api_http_reload_tls(struct api_http *h, char *err, size_t errlen);
/* The port the server listens on (the one the kernel chose when the address had port 0). */
unsigned api_http_port(const struct api_http *h);
/* Copy the server's counters into *st. */
void api_http_get_stats(const struct api_http *h, struct api_http_stats *st);
/* Stop asynchronously: stop accepting, end every connection, close the uv handles. Requests that
 * the handler has not finished get their on_close callback first; then done(ud) runs once (never
 * from inside this call) and h is freed. Call at most once. */
void api_http_stop(struct api_http *h, api_http_done_cb done, void *ud);

/* ---- Request --------------------------------------------------------------------------------- */

/* The method ("GET"), valid as long as r. */
const char *api_req_method(const struct api_req *r);
/* The URL path without the query, percent-decoded ("/api/v1/namespaces/default/pods"). */
const char *api_req_path(const struct api_req *r);
/* The decoded value of query argument name (exact match): "" for a bare "?name", NULL if absent. */
const char *api_req_query(const struct api_req *r, const char *name);
/* The value of header name (case-insensitive), NULL if absent. */
const char *api_req_header(const struct api_req *r, const char *name);
/* The whole body, NUL-terminated for convenience (which does not count in *len); "" when empty.
 * len may be NULL. */
const char *api_req_body(const struct api_req *r, size_t *len);
/* Every query argument, then every header, in the order received (to forward a request verbatim).
 */
void api_req_foreach_query(const struct api_req *r, api_req_pair_cb cb, void *ud);
void api_req_foreach_header(const struct api_req *r, api_req_pair_cb cb, void *ud);
/* Whether r came over TLS. */
bool api_req_tls(const struct api_req *r);
/* Certificate i (0 = the client's own, then its chain) that the client presented in the TLS
 * handshake, in DER: false when there is none (no TLS, no certificate, i out of range). The
 * handshake proved the client holds the key; whether a CA vouches for it is for the caller to
 * check. */
bool api_req_peer_cert(const struct api_req *r, size_t i, const unsigned char **der, size_t *len);
/* The handler's own pointer for r's connection, kept across the requests of a keep-alive
 * connection (NULL until set); freed with the options' conn_free when the connection closes. */
void *api_req_get_conn_data(const struct api_req *r);
void api_req_set_conn_data(struct api_req *r, void *p);
/* The handler's own pointer for this request (NULL until set). */
void *api_req_get_data(const struct api_req *r);
void api_req_set_data(struct api_req *r, void *p);
/* Register cb(ud, r), called exactly once if the request ends before the handler finished it: the
 * client went away, or the server is stopping. r is still valid inside cb and never after; cb must
 * not answer r. A later call replaces the callback. */
void api_req_on_close(struct api_req *r, api_req_close_cb cb, void *ud);

/* ---- Answering ---------------------------------------------------------------------------------
 * Exactly one of api_respond or api_stream_start per request, inside the handler or later from the
 * loop thread (a handler that returns without answering leaves the connection suspended until the
 * answer comes). */

/* Add a response header (name and value are copied), before api_respond or api_stream_start. */
void api_req_add_header(struct api_req *r, const char *name, const char *value);
/* Answer with status and body (copied; content_type may be NULL for none). This finishes r: the
 * handler must not touch it again. */
void api_respond(struct api_req *r, unsigned status, const char *content_type, const void *body,
                 size_t len);
/* Begin a streamed answer (chunked transfer encoding). Returns STSD_NOMEM if the response cannot be
 * made, in which case the handler should try api_respond. */
int api_stream_start(struct api_req *r, unsigned status, const char *content_type);
/* Queue len bytes (copied) on a streamed answer; they are sent promptly. Returns STSD_BUSY when
 * more than max_stream_queue bytes wait for a slow client, STSD_SHUTDOWN when the connection is
 * already doomed (client gone or server stopping, on_close will follow), STSD_NOMEM. */
int api_stream_write(struct api_req *r, const void *data, size_t len);
/* End a streamed answer once the queued bytes are sent. This finishes r. */
void api_stream_end(struct api_req *r);

#endif
