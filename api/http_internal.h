/* http_internal.h — what http_server.c (daemon, loop) and http_request.c (requests, answers) share.
 */
#ifndef STSD_API_HTTP_INTERNAL_H
#define STSD_API_HTTP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>
#include <uv.h>

#include "http.h"

/* A growable byte buffer; bytes [off, len) are pending. */
struct http_buf {
	char *data;
	size_t off, len, cap;
};

/* Lifecycle of a request. Legal transitions (asserted by req_set_state):
 *   RECEIVING -> REJECTED (413, the handler never sees it)
 *   RECEIVING -> HANDLING -> ANSWERED
 *                         -> STREAMING -> ENDED
 * REJECTED, ANSWERED and ENDED are "finished": on_close is no longer due. */
enum req_state {
	REQ_RECEIVING,
	REQ_REJECTED,
	REQ_HANDLING,
	REQ_ANSWERED,
	REQ_STREAMING,
	REQ_ENDED,
};

struct http_header {
	struct http_header *next;
	char *value; /* points into name's allocation */
	char name[];
};

struct api_req {
	struct api_http *h;
	struct MHD_Connection *conn;
	struct api_req *prev, *next; /* the server's live requests */
	const char *method, *path;   /* owned by MHD, valid until completion */
	uint64_t start_ns;
	enum req_state state;
	bool suspended;  /* MHD_suspend_connection in force */
	bool gone;       /* the client hung up while we waited: end at the next chance */
	bool in_handler; /* inside the handler call: answers are picked up when it returns */
	unsigned status;
	size_t body_max, discarded;
	struct http_buf body;      /* the request body */
	struct http_buf stream;    /* streamed bytes not yet taken by MHD */
	struct MHD_Response *resp; /* made but not yet queued */
	struct http_header *headers;
	api_req_close_cb on_close;
	void *close_ud;
	void *data;
	uv_poll_t *watch; /* hang-up detector while suspended, made on first suspension */
};

struct http_tls_creds; /* http_tls.c */

/* What a connection carries across its requests (the socket context of MHD's notify). */
struct http_conn {
	void *data; /* api_req_set_conn_data */
};

struct api_http {
	uv_loop_t *loop;
	struct MHD_Daemon *daemon;
	uv_poll_t poll;   /* MHD's epoll descriptor */
	uv_timer_t timer; /* MHD_get_timeout, "run soon" after a resume, and the stop step */
	api_http_handler_cb handler;
	void *ud;
	struct api_http_options opt;
	unsigned port;
	struct api_req *reqs; /* live requests */
	struct api_http_stats stats;
	bool in_run;          /* inside MHD_run */
	bool kick;            /* MHD_run must run again soon */
	unsigned zero_streak; /* MHD_get_timeout answered 0 this many times in a row (http_arm) */
	bool stopping;
	unsigned closing; /* uv handles whose close callback is still due */
	api_http_done_cb done;
	void *done_ud;
	char last_log[256]; /* MHD's last message, for api_http_start's error */
	/* TLS (http_tls.c); tls is NULL for plain HTTP. */
	struct http_tls_creds *tls; /* the current generation */
	char *tls_files[2];         /* certificate and key files, read again on reload */
	char *tls_trust_pem;        /* client CAs, given to MHD so that it asks for certificates */
	struct api_http *tls_next;  /* in the registry the handshake callback searches */
};

/* ---- http_server.c ---- */
/* Make sure MHD_run runs soon (after a resume), without waiting for network activity. */
void http_kick(struct api_http *h);
/* A uv handle of h (or of one of its requests) is closing; http_handle_closed when it has. */
void http_handle_closing(struct api_http *h);
void http_handle_closed(struct api_http *h);

/* ---- http_tls.c ---- */
/* Load t's certificate and key into h (h->tls) and keep the file names; STSD_INVALID/IO/NOMEM. */
int http_tls_init(struct api_http *h, const struct api_http_tls *t, char *err, size_t errlen);
/* Make h findable by the handshake callback (once its daemon runs). */
void http_tls_register(struct api_http *h);
/* Unregister and free h's TLS state (safe without TLS). */
void http_tls_free(struct api_http *h);
/* The gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK. */
void *http_tls_callback(void);

/* ---- http_request.c ---- */
/* The MHD access handler and request-completed callback (cls is the server). */
enum MHD_Result req_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *data, size_t *size, void **con_cls);
void req_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode toe);
/* Resume a suspended request (it is ending or has something to send). */
void req_resume(struct api_req *r);
/* Buffer helpers. */
int http_buf_append(struct http_buf *b, const void *data, size_t len);
void http_buf_free(struct http_buf *b);

#endif
