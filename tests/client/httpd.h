/* httpd.h — a throwaway HTTP/1.1 server for tests: one thread, poll(2), keep-alive, one handler.
 *
 * Good enough for the client's tests and for fake_stsd: requests with Content-Length bodies,
 * answers with Content-Length, and the misbehaviours a client must survive (never answering,
 * closing the connection instead of answering). */
#ifndef STSD_TEST_HTTPD_H
#define STSD_TEST_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;

struct httpd_request {
	char method[16];
	char path[1024];
	char content_type[128];  /* "" when absent */
	char authorization[256]; /* "" when absent */
	const char *body;        /* body_len bytes, NUL-terminated; valid during the handler only */
	size_t body_len;
};

/* What the handler fills in. body is copied after the handler returns; when free_body is set the
 * server frees it. headers are extra header lines, each ending in "\r\n". */
struct httpd_reply {
	int status;
	const char *content_type;
	const char *body;
	size_t body_len;
	bool free_body;
	char headers[256];
};

enum httpd_action {
	HTTPD_REPLY, /* send the reply */
	HTTPD_HANG,  /* never answer this connection (a client must time out) */
	HTTPD_CLOSE, /* close the connection without an answer */
};

/* Called on the server's thread for every request; status defaults to 200, content_type to
 * "text/plain". */
typedef enum httpd_action (*httpd_handler_cb)(void *data, const struct httpd_request *req,
                                              struct httpd_reply *rep);

/* Listen on host:port (port 0: any free port) and serve from a new thread. Returns 0, or -1 with
 * errno set when the address cannot be bound. */
int httpd_start(const char *host, int port, httpd_handler_cb handler, void *data,
                struct httpd **out);

/* Stop the thread, close every connection, free the server. */
void httpd_stop(struct httpd *h);

/* The port it listens on. */
int httpd_port(const struct httpd *h);
/* "http://127.0.0.1:PORT" in a static-per-server buffer. */
const char *httpd_url(const struct httpd *h);
/* Requests handled and connections accepted so far. */
unsigned httpd_requests(const struct httpd *h);
unsigned httpd_connections(const struct httpd *h);

/* A loopback port that refuses connections (bound once, then closed). */
int httpd_dead_port(void);

#endif
