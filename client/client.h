/* client.h — blocking HTTP client of the stsd API with failover across replicas (libcurl).
 *
 * A client holds the base URLs of the replicas ("http://127.0.0.1:6443"), one current URL and one
 * reused CURL handle (keep-alive). A request goes to the current replica; on a connection failure,
 * a timeout, an empty reply or a 503 it moves on to the next one, backing off (doubling, capped)
 * each time every replica has failed once, until the request's overall deadline. The replica that
 * answered stays current for the next request.
 *
 * A client is used by one thread at a time; separate clients may run in separate threads. Used by
 * stsctl, tests and agents — never by the controller (DESIGN.md). */
#ifndef STSD_CLIENT_H
#define STSD_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct client;

/* Responses larger than this fail with STSD_TOOBIG. */
#define CLIENT_MAX_BODY (64UL << 20)

/* Every field may be left 0 / NULL for its default. The strings are copied by client_create. */
struct client_options {
	long timeout_ms;         /* one attempt, whole transfer (CURLOPT_TIMEOUT_MS); 10000 */
	long connect_timeout_ms; /* one attempt, TCP connect (CURLOPT_CONNECTTIMEOUT_MS); 1000 */
	long deadline_ms;        /* every attempt of one request together; 30000 */
	long backoff_ms;         /* first wait once every replica has failed; 50 */
	long backoff_max_ms;     /* cap of the doubling wait (and of a 503's Retry-After); 1000 */
	int max_attempts;        /* attempts per request; 0: as many as fit before the deadline */
	/* Credentials, for https:// URLs and authenticated servers (the TLS issue fills these in
	 * from kubeconfig). They are applied in one place, client.c:set_credentials. */
	const char *ca_file;   /* PEM bundle that verifies the servers; NULL: system CAs */
	const char *cert_file; /* PEM client certificate; NULL: none */
	const char *key_file;  /* PEM key of cert_file */
	const char *token;     /* bearer token sent as Authorization; NULL: none */
	/* The same PEM material in memory (kubeconfig *-data fields), copied by client_create. A
	 * blob takes precedence over the file of the same role. */
	const char *ca_pem; /* PEM CA bundle (CURLOPT_CAINFO_BLOB); NULL: ca_file */
	size_t ca_pem_len;
	const char *cert_pem; /* PEM client certificate (CURLOPT_SSLCERT_BLOB); NULL: cert_file */
	size_t cert_pem_len;
	const char *key_pem; /* PEM key of the client certificate (CURLOPT_SSLKEY_BLOB) */
	size_t key_pem_len;
	bool insecure_skip_verify; /* do not verify the server's certificate (kubeconfig's
	                            * insecure-skip-tls-verify); for debugging only */
};

/* One HTTP answer. body is malloc'd and NUL-terminated (the NUL is not counted in body_len), never
 * NULL after a successful client_request; free it with client_response_free. */
struct client_response {
	long status;            /* HTTP status code */
	char *body;             /* response body */
	size_t body_len;        /* its length */
	char content_type[128]; /* Content-Type header, "" when absent */
	long retry_after;       /* Retry-After in seconds, -1 when absent */
	const char *base_url;   /* the replica that answered; valid until client_destroy */
};

/* Make a client over n base URLs (n >= 1), tried in the given order. A URL without a scheme gets
 * "http://"; a trailing '/' is dropped. opts may be NULL. On success *out is the client, freed by
 * client_destroy. Returns STSD_INVALID (no URL, empty URL, bad option, a token or client
 * certificate with a plain http:// URL that is not loopback, a token with a control character)
 * with the reason in err,
 * or STSD_NOMEM. */
int client_create(const char *const *urls, size_t n, const struct client_options *opts,
                  struct client **out, char *err, size_t errlen);

/* Close the client's connections and free it. NULL is a no-op. */
void client_destroy(struct client *c);

/* The message of the client's last failure ("GET /readyz: ..."); "" before any. Valid until the
 * next call on c. */
const char *client_errmsg(const struct client *c);

/* The base URL requests go to first (the last one that answered). Valid until client_destroy. */
const char *client_current_url(const struct client *c);

/* Send method (GET, POST, PUT, PATCH, DELETE...) for path (starting with '/', query string
 * included) with len bytes of body (body may be NULL when len is 0) and, when content_type is not
 * NULL, that Content-Type. Fails over and retries as described above.
 *
 * *resp is output only (its previous content is not freed). Returns 0 when some replica answered,
 * whatever the status: *resp holds the answer, which the caller frees with client_response_free
 * (a 503 only once the deadline or max_attempts is reached). Otherwise *resp is empty (nothing to
 * free) and the reason is in
 * client_errmsg: STSD_TIMEOUT (the deadline passed without an answer), STSD_IO (max_attempts used
 * up without an answer; or at once, without retrying, when the server's certificate does not
 * verify or our TLS material is unusable), STSD_TOOBIG (body over CLIENT_MAX_BODY), STSD_INVALID
 * (bad path or method), STSD_NOMEM.
 *
 * A request that timed out may still have been applied by the server before it is sent again to
 * another replica: non-idempotent callers (POST) must expect AlreadyExists on a retry. */
int client_request(struct client *c, const char *method, const char *path, const void *body,
                   size_t len, const char *content_type, struct client_response *resp);

/* One line of a streamed answer: len bytes at line, NUL-terminated, without the '\n' (nor a '\r'
 * before it); valid during the call only. A non-zero return ends the stream. */
typedef int (*client_line_cb)(void *ud, const char *line, size_t len);

/* Send method for path (no body) and stream the answer: when it is 2xx and line_cb is not NULL,
 * every line of the body goes to line_cb as it arrives (a last line without '\n' too), and
 * resp->body keeps nothing; otherwise the body is collected into resp as client_request does.
 * Until some replica answers, fails over and backs off as client_request does. One attempt may
 * last timeout_ms (0: the client's timeout_ms), not cut by the deadline. While it waits (for an
 * answer, for data, between attempts), *stop is checked at least once a second (stop may be
 * NULL). Used for watches (lines of JSON events) and for lists that must stop on request.
 *
 * Returns 0 when an answer came and ended cleanly: *resp holds its status and headers (and the
 * body when not streamed), freed by client_response_free. Otherwise *resp is empty and the reason
 * is in client_errmsg: STSD_SHUTDOWN (*stop became non-zero, or line_cb returned non-zero),
 * STSD_IO when the connection broke after a 2xx answer had started (the next request goes to
 * the next replica first: the caller resumes from the last line it got), or the errors of
 * client_request (STSD_TOOBIG: one line over CLIENT_MAX_BODY). */
int client_stream(struct client *c, const char *method, const char *path, long timeout_ms,
                  client_line_cb line_cb, void *ud, const volatile int *stop,
                  struct client_response *resp);

/* Free resp's body and clear it. Safe on a cleared or zeroed response. */
void client_response_free(struct client_response *resp);

/* Send method for path with body (a JSON value, or NULL for no body) as application/json and
 * parse the answer. Returns 0 on a 2xx answer; *out (when out is not NULL) is then the parsed body,
 * owned by the caller (json_decref), or NULL when the body was empty. On any other status, returns
 * the code matching it — STSD_INVALID (400, 422), STSD_NOTFOUND (404), STSD_EXISTS (409
 * AlreadyExists), STSD_CONFLICT (other 409), STSD_EXPIRED (410), STSD_TOOBIG (413), STSD_BUSY
 * (429), STSD_UNAVAILABLE (503), STSD_TIMEOUT (504), STSD_IO (others) — with the server's Status
 * message in client_errmsg. STSD_CORRUPT when a 2xx body is not JSON; transport errors as
 * client_request. */
int client_json(struct client *c, const char *method, const char *path, const json_t *body,
                json_t **out);

/* client_json for GET. */
int client_get_json(struct client *c, const char *path, json_t **out);

/* The error code client_json returns for an HTTP status and a Status reason (reason may be NULL);
 * 0 for 2xx. */
int client_status_code(long status, const char *reason);

#endif
