/* api_internal.h — what the files of the API layer share: the server, a routed request, a call in
 * flight, the resource table, and the answer helpers.
 *
 * The request path, file by file: http_server.c/http_request.c (HTTP) -> server.c (entry, stats)
 * -> router.c (URL -> route) -> dispatch.c (local, barrier, or forward to the leader) ->
 * handlers_*.c -> consensus/ (cons_propose, cons_barrier). */
#ifndef STSD_API_API_INTERNAL_H
#define STSD_API_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "auth.h"
#include "forward.h"
#include "http.h"
#include "store.h"

/* A request arriving from another replica carries this header (its value: the sender's id); it is
 * never forwarded again, so two replicas that disagree about the leader cannot loop. */
#define API_FORWARDED_HEADER "X-Stsd-Forwarded-By"

/* ---- Resource table (resources.c) ---------------------------------------------------------- */

enum api_verb {
	VERB_GET = 1u << 0,
	VERB_LIST = 1u << 1,
	VERB_CREATE = 1u << 2,
	VERB_UPDATE = 1u << 3,
	VERB_DELETE = 1u << 4,
	VERB_PATCH = 1u << 5,
	VERB_WATCH = 1u << 6,
	VERB_DELETECOLLECTION = 1u << 7,
};

struct api_schema;    /* schema.c */
struct api_table_def; /* table.h */
struct api_invalid;

/* Subresources a resource serves (discovery announces them; router accepts only these). */
enum api_subresource {
	SUB_STATUS = 1u << 0, /* NAME/status: get, update, patch of .status only */
	SUB_SCALE = 1u << 1,  /* NAME/scale: autoscaling/v1 Scale */
	SUB_LOG = 1u << 2,    /* pods/NAME/log (proxied to the node's agent) */
	SUB_EXEC = 1u << 3,   /* pods/NAME/exec (proxied to the node's agent) */
};

/* Field errors of an object, gathered into one 422 Invalid answer (validate.c). */
struct api_invalid {
	json_t *causes;   /* [{reason, message, field}] */
	char first[1024]; /* "field: message" of the first cause */
	size_t n;
};
void api_invalid_add(struct api_invalid *inv, const char *reason, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "Invalid value: \"v\": why" under field. */
void api_invalid_value(struct api_invalid *inv, const char *field, const char *value,
                       const char *why);
/* Answer 422 with inv's causes (and release them); kind and name say what was invalid. */
void api_fail_invalid(struct api_req *r, const char *kind, const char *name,
                      struct api_invalid *inv);
void api_invalid_free(struct api_invalid *inv);
/* Name rules: DNS-1123 label (max 63) or subdomain (max 253); NULL when valid, else why. */
const char *api_check_name(const char *name, unsigned max);

/* One resource of the API. Discovery and OpenAPI are generated from these rows. */
struct api_resource {
	const char *group; /* "" for the core group */
	const char *version;
	const char *kind;
	const char *plural; /* also the store's resource name */
	const char *singular;
	const char *short_names[4]; /* NULL-terminated */
	const char *categories[2];  /* NULL-terminated */
	bool namespaced;
	unsigned verbs;    /* enum api_verb bits that discovery announces */
	unsigned name_max; /* 63 for DNS labels (namespaces), 253 for DNS subdomains */
	const struct api_schema *schema; /* top-level fields, for fieldValidation */
	unsigned subresources;           /* enum api_subresource bits */
	/* Field selectors this resource answers besides metadata.name and metadata.namespace:
	 * dotted JSON paths ("spec.nodeName"), NULL-terminated. */
	const char *field_selectors[12];
	const struct api_table_def *table; /* columns and cells of `kubectl get`; NULL: Name, Age */
	/* Fill in defaults of a new object (may be NULL). */
	void (*defaults)(json_t *obj);
	/* Check an object; old is the stored one on update, NULL on create (may be NULL). */
	void (*validate)(json_t *obj, json_t *old, struct api_invalid *inv);
};

/* The resource with this group and plural, or NULL. */
const struct api_resource *api_resource_find(const char *group, const char *plural);
/* Rows of the table, in discovery order. */
const struct api_resource *api_resources(size_t *n);
/* "v1" or "apps/v1". */
void api_resource_gv(const struct api_resource *res, char *buf, size_t len);

/* ---- Routes (router.c) ----------------------------------------------------------------------- */

enum route_kind {
	ROUTE_NOTFOUND,
	ROUTE_HEALTHZ,
	ROUTE_LIVEZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_DEBUG_RAFT,
	ROUTE_VERSION,
	ROUTE_API_VERSIONS,  /* /api */
	ROUTE_API_GROUPS,    /* /apis */
	ROUTE_API_GROUP,     /* /apis/GROUP */
	ROUTE_RESOURCE_LIST, /* /api/v1, /apis/GROUP/VERSION */
	ROUTE_OPENAPI_INDEX, /* /openapi/v3 */
	ROUTE_OPENAPI_V2,    /* /openapi/v2 (protobuf, for kubectl 1.27 and 1.28) */
	ROUTE_OPENAPI_GV,    /* /openapi/v3/api/v1, /openapi/v3/apis/GROUP/VERSION */
	ROUTE_OBJECTS,       /* a resource collection or object */
	ROUTE_MEMBERS,       /* /stsd/v1/members[/ID[/transfer|/record]] */
};

struct route {
	enum route_kind kind;
	const struct api_resource *res; /* ROUTE_OBJECTS */
	char group[64], version[16];    /* discovery and OpenAPI routes */
	char ns[STORE_NAME_MAX + 1];    /* "" for cluster-scoped or all namespaces */
	char name[STORE_NAME_MAX + 1];  /* "" for a collection */
	char sub[32];                   /* subresource or member action, "" for none */
	uint64_t member_id;             /* ROUTE_MEMBERS with an id */
	const char *error;              /* ROUTE_NOTFOUND: why, for the Status message */
};

/* Parse a decoded URL path. Never fails: unknown paths give ROUTE_NOTFOUND. */
void api_route(const char *path, struct route *rt);

/* ---- The server (server.c) ------------------------------------------------------------------ */

struct api_call;

struct api_stats {
	uint64_t forwarded, forward_failed;
	uint64_t unauthorized, forbidden; /* 401 and 403 answers of access.c */
};

struct api_access; /* access.c */

struct api_server {
	uv_loop_t *loop;
	struct api_http *http;
	struct api_fwd *fwd;
	struct cons *cons;
	struct store *store;
	uint64_t id;
	char *api_address, *raft_address;
	char **join;
	unsigned n_join, join_next;
	unsigned forward_timeout_ms;
	char *(*extra_metrics)(void *ud); /* api_options */
	void *extra_metrics_ud;
	struct api_stats stats;
	struct api_call *calls; /* in flight: barrier, proposal or forward */
	uv_timer_t tick;        /* member record, join, default namespaces */
	uv_timer_t notify;      /* watches get applied changes in batches (server.c) */
	bool notify_due;        /* a notify timer is armed */
	bool leader;            /* cons reported leadership (election barrier applied) */
	bool member_call;       /* a join or record request is in flight */
	bool joined;            /* seen in the raft configuration since this start */
	uint64_t member_next_ms;
	bool sweep_due;          /* objects of deleted namespaces may remain */
	bool namespaces_pending; /* the default namespaces' command is in flight */
	bool stopping;
	int closing;
	void (*stop_done)(void *);
	void *stop_ud;
	struct api_watchers *watchers; /* open watches (watch.c); NULL until the first */
	unsigned reads;            /* reads running on the thread pool; stopping waits for them */
	struct api_access *access; /* credentials this replica accepts and uses */
	const char *scheme;        /* "https", or "http" with --insecure-http: of every replica */
};

/* A read that ran on the thread pool ended (its call freed): the server may finish stopping. */
void api_server_read_done(struct api_server *s);

/* ---- Calls in flight (dispatch.c) ------------------------------------------------------------
 * A call outlives its request's handler when it waits on the leader (barrier, proposal) or on a
 * forwarded answer. If the client goes away first, req becomes NULL and the call is freed when its
 * operation completes (proposals and barriers always call back; a forward is cancelled). */
typedef void (*api_call_fn)(struct api_call *c);
typedef void (*api_result_fn)(struct api_call *c, const struct cons_result *res);

struct api_call {
	struct api_server *s;
	struct api_req *req; /* NULL once the client is gone */
	struct route rt;
	api_call_fn next;         /* what runs after the barrier */
	api_result_fn on_result;  /* what answers an applied proposal */
	struct api_fwd_call *fwd; /* forward in flight */
	json_t *obj;              /* the object a write carries (owned) */
	char *json;               /* its encoding (owned) */
	int ns_op;                /* index of the op asserting the namespace, -1 for none */
	int main_op;              /* index of the op whose object answers the request */
	api_call_fn retry;        /* runs the request again after a Conflict, or NULL */
	int attempt;              /* retries so far */
	int part;                 /* enum write_part of a patch (objects.h) */
	bool managed;             /* obj's managedFields are final (server-side apply) */
	bool creating;            /* the write creates the object (201) */
	struct auth_user user;    /* who asked (forwarded with the request); empty for our own */
	char claim_set[254];      /* the set name a claim op of this call points to */
	struct api_call *prev, *next_call;
};

/* Route a request: local, after a barrier on the leader, forwarded to the leader, or 503. */
void api_dispatch(struct api_server *s, struct api_req *r);
/* A call for r (on_close registered); NULL on out of memory (then r was answered). r and rt may
 * be NULL for the server's own proposals: such a call is detached (s NULL) if the server stops
 * before consensus calls back. */
struct api_call *api_call_new(struct api_server *s, struct api_req *r, const struct route *rt);
/* Release a call: its request must be answered (or gone). */
void api_call_free(struct api_call *c);
/* Run fn once this leader has proven it leads (a shared barrier); forwards or answers 503 when it
 * does not lead. */
void api_after_barrier(struct api_call *c, api_call_fn fn);
/* Forward the call's request to the leader and relay the answer; 503 when there is none. The call
 * is freed once answered. */
void api_forward(struct api_call *c);
/* Whether this replica leads and may serve linearizable reads and writes now. */
bool api_leading(const struct api_server *s);
/* Propose ops (copied) for c; done answers the applied result, errors are answered here. The call
 * is freed after done returns. */
void api_propose(struct api_call *c, const struct store_op *ops, size_t n, api_result_fn done);

/* ---- Authentication and authorization (access.c) ------------------------------------------ */

enum api_access_result {
	ACCESS_OK,             /* go on as u */
	ACCESS_ANSWERED,       /* refused: r was answered (401, 403) */
	ACCESS_LEADER_DECIDES, /* refused by what this (follower's) store holds: forward it */
};

/* Load the token file and the client CA of o into s->access (STSD_INVALID/IO with the reason). */
int api_access_start(struct api_server *s, const struct api_options *o, char *err, size_t errlen);
/* Read them again (SIGHUP); on failure the old ones stay. */
int api_access_reload(struct api_server *s, char *err, size_t errlen);
void api_access_free(struct api_server *s);
/* The conn_free of the HTTP server: what access.c keeps per connection. */
void api_access_conn_free(void *p);
/* The HTTP server's gate (api_http_gate_cb, ud the server): 401 before the body is read when r
 * brings no usable credentials for a path that needs them. */
unsigned api_access_gate(void *ud, struct api_req *r, char **json);
/* Authenticate and authorize r (routed as rt); would_forward: this replica would forward r to
 * the leader. */
enum api_access_result api_access_check(struct api_server *s, struct api_req *r,
                                        const struct route *rt, bool would_forward,
                                        struct auth_user *u);
/* Authorize c's user again (a retry after a conflict runs on newer objects, which rules about
 * stored objects may judge differently); answers 403 and returns false when refused. Calls
 * without a user (the server's own) pass. */
bool api_access_recheck(struct api_call *c);
/* Whether a client's header must not travel with a forward (its credentials, identity headers). */
bool api_access_forward_skips(const char *header);
/* Header lines ("Name: value", into store) naming u for the leader, and this replica's own
 * credentials when they are a token; returns how many (at most max). */
#define API_FWD_LINE 1024
size_t api_access_forward_lines(const struct api_server *s, const struct auth_user *u,
                                char (*store)[API_FWD_LINE], size_t max);
/* "Authorization: Bearer ..." for this replica's own calls, or NULL (it uses its certificate). */
const char *api_access_peer_auth(const struct api_server *s);

/* ---- Answers (status.c) ---------------------------------------------------------------------- */

/* Reasons of metav1.Status, with their HTTP codes. */
#define API_REASONS(X)                                    \
	X(BAD_REQUEST, "BadRequest", 400)                 \
	X(UNAUTHORIZED, "Unauthorized", 401)              \
	X(FORBIDDEN, "Forbidden", 403)                    \
	X(NOT_FOUND, "NotFound", 404)                     \
	X(METHOD_NOT_ALLOWED, "MethodNotAllowed", 405)    \
	X(NOT_ACCEPTABLE, "NotAcceptable", 406)           \
	X(ALREADY_EXISTS, "AlreadyExists", 409)           \
	X(CONFLICT, "Conflict", 409)                      \
	X(GONE, "Expired", 410)                           \
	X(TOO_LARGE, "RequestEntityTooLarge", 413)        \
	X(UNSUPPORTED_MEDIA, "UnsupportedMediaType", 415) \
	X(INVALID, "Invalid", 422)                        \
	X(TOO_MANY, "TooManyRequests", 429)               \
	X(INTERNAL, "InternalError", 500)                 \
	X(UNAVAILABLE, "ServiceUnavailable", 503)         \
	X(TIMEOUT, "Timeout", 504)

enum api_reason {
#define API_REASON_ENUM(name, text, code) API_##name,
	API_REASONS(API_REASON_ENUM)
#undef API_REASON_ENUM
};

/* Answer r with a metav1.Status of failure. details (may be NULL) is stolen. A 503 carries
 * Retry-After: 1. */
void api_fail(struct api_req *r, enum api_reason reason, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The text of such a Status (malloc'd; NULL on out of memory), for answers made outside a
 * handler (the HTTP gate). */
char *api_status_text(enum api_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* details {name, group, kind} for a resource. */
json_t *api_details(const struct api_resource *res, const char *name);
/* Answer a JSON value (stolen) with status. */
void api_reply_json(struct api_req *r, unsigned status, json_t *v);
/* Answer raw JSON text. */
void api_reply_raw(struct api_req *r, unsigned status, const char *json, size_t len);
/* Answer text/plain. */
void api_reply_text(struct api_req *r, unsigned status, const char *text);
/* The answer for a store/consensus error code (not a typed result). */
void api_fail_code(struct api_req *r, int code, const char *what);

/* ---- Handlers -------------------------------------------------------------------------------- */

/* handlers_health.c */
void api_handle_health(struct api_server *s, struct api_req *r, const struct route *rt);
/* openapi_v2.c */
void api_openapi_v2_answer(struct api_req *r);
/* discovery.c */
void api_handle_discovery(struct api_server *s, struct api_req *r, const struct route *rt);
/* handlers_objects.c: reads run after the barrier (or locally for resourceVersion=0) */
bool api_objects_is_read(struct api_req *r, const struct route *rt);
void api_objects_read(struct api_call *c);
void api_objects_write(struct api_call *c);
/* members.c */
bool api_members_is_read(struct api_req *r);
void api_members_read(struct api_server *s, struct api_req *r, const struct route *rt);
void api_members_write(struct api_call *c);
void api_members_tick(struct api_server *s);
/* namespaces.c */
/* On the leader: propose the default namespaces that are missing (one command in flight). */
void api_namespaces_ensure(struct api_server *s);
/* Whether the default namespace exists here (a replica is not ready without it). */
bool api_namespaces_ready(struct api_server *s);
/* Ops deleting namespace c->rt.name and what it holds (the namespace's own op last); *ops is
 * malloc'd, strings included. */
int api_namespace_delete_ops(struct api_call *c, struct store_op **ops, size_t *n);
void api_namespaces_sweep(struct api_server *s);

/* ---- Helpers (util.c) ------------------------------------------------------------------------ */

/* A growable text buffer; on out of memory it stays as it was and oom is set. */
struct api_buf {
	char *data;
	size_t len, cap;
	bool oom;
};
void api_buf_add(struct api_buf *b, const void *data, size_t len);
void api_buf_printf(struct api_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void api_buf_free(struct api_buf *b);

/* Percent-encode s for a URL path or query component into buf; false if it does not fit. */
bool api_urlencode(const char *s, char *buf, size_t len);
/* len bytes from the kernel's random source. */
void api_random_bytes(void *buf, size_t len);
/* A random RFC 4122 version 4 UUID (36 characters + NUL). */
void api_new_uid(char out[37]);
/* Whether v nests objects and arrays at most max levels deep. Request bodies are held to
 * API_MAX_DEPTH so that no recursive walk over them (schema, patch, apply) exhausts the stack. */
#define API_MAX_DEPTH 100
bool api_json_depth_ok(const json_t *v, unsigned max);
/* Parse a decimal uint64 ("" or junk: false). */
bool api_parse_u64(const char *s, uint64_t *out);

#endif
