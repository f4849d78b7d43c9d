/* dispatch.c — where a request is served: here (health, discovery, reads that accept any
 * resourceVersion), here after a barrier (linearizable reads on the leader), as a proposal (writes
 * on the leader), or forwarded to the leader (everything else on a follower); and the life of a
 * call that waits for one of those. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "log.h"

/* ---- Calls ----------------------------------------------------------------------------------- */

static void call_closed(void *ud, struct api_req *r)
{
	struct api_call *c = ud;

	c->req = NULL;
	if (c->fwd) { /* a forward can be called off; barriers and proposals always call back */
		api_fwd_cancel(c->fwd);
		c->fwd = NULL;
		api_call_free(c);
	}
}

struct api_call *api_call_new(struct api_server *s, struct api_req *r, const struct route *rt)
{
	struct api_call *c = calloc(1, sizeof *c);

	if (c == NULL) {
		if (r)
			api_fail_code(r, STSD_NOMEM, "request");
		return NULL;
	}
	c->s = s;
	c->req = r;
	if (rt)
		c->rt = *rt;
	c->ns_op = -1;
	c->next_call = s->calls;
	if (s->calls)
		s->calls->prev = c;
	s->calls = c;
	if (r)
		api_req_on_close(r, call_closed, c);
	return c;
}

void api_call_free(struct api_call *c)
{
	struct api_server *s = c->s;

	/* Its request is answered (on_close is no longer due) or gone: nothing to unregister. A
	 * call that outlived its stopped server (s NULL) is on no list. */
	if (s && c->prev)
		c->prev->next_call = c->next_call;
	else if (s)
		s->calls = c->next_call;
	if (s && c->next_call)
		c->next_call->prev = c->prev;
	json_decref(c->obj);
	free(c->json);
	free(c);
}

bool api_leading(const struct api_server *s)
{
	struct cons_status st;

	cons_status(s->cons, &st);
	return st.role == CONS_LEADER && st.ready;
}

/* ---- Forwarding to the leader ---------------------------------------------------------------- */

/* Response headers worth relaying (Content-Type goes with api_respond). */
static bool relayed(const char *line)
{
	static const char *const names[] = {"Warning:", "Retry-After:", "Location:"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strncasecmp(line, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

static void relay(struct api_req *r, const struct api_fwd_response *resp)
{
	const char *type = NULL;
	char name[64];

	for (size_t i = 0; i < resp->n_headers; i++) {
		const char *h = resp->headers[i], *colon = strchr(h, ':');
		if (colon == NULL || (size_t)(colon - h) >= sizeof name)
			continue;
		if (strncasecmp(h, "Content-Type:", 13) == 0)
			type = h + 13;
		if (!relayed(h))
			continue;
		memcpy(name, h, (size_t)(colon - h));
		name[colon - h] = '\0';
		api_req_add_header(r, name, colon + 1 + strspn(colon + 1, " "));
	}
	if (type)
		type += strspn(type, " ");
	api_respond(r, (unsigned)resp->status, type, resp->body, resp->body_len);
}

static void forwarded_cb(void *ud, const struct api_fwd_response *resp)
{
	struct api_call *c = ud;

	c->fwd = NULL;
	if (resp->error != STSD_OK) {
		c->s->stats.forward_failed++;
		log_info("api", "event=forward_failed err=%s detail=\"%s\"",
		         stsd_errname(resp->error), resp->errmsg);
		api_fail(c->req, API_UNAVAILABLE, NULL,
		         "the leader did not answer (%s); retry shortly", resp->errmsg);
	} else {
		relay(c->req, resp);
	}
	api_call_free(c);
}

/* A forward carries at most this many header lines of at most FWD_LINE bytes; a request with more
 * is refused rather than forwarded without some (MHD's 32 KiB per connection bounds them anyway).
 */
#define FWD_MAX_HEADERS 64
#define FWD_LINE        API_FWD_LINE

struct fwd_headers {
	const char *lines[FWD_MAX_HEADERS];
	char store[FWD_MAX_HEADERS][FWD_LINE];
	size_t n;
	bool overflow;
};

static void add_header(void *ud, const char *name, const char *value)
{
	struct fwd_headers *h = ud;
	static const char *const skip[] = {"Host",       "Content-Length",
	                                   "Connection", "Transfer-Encoding",
	                                   "Expect",     API_FORWARDED_HEADER};

	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
		if (strcasecmp(name, skip[i]) == 0)
			return;
	if (api_access_forward_skips(name))
		return; /* the user travels in our own headers, with our credentials */
	if (h->n + AUTH_MAX_GROUPS + 4 >= FWD_MAX_HEADERS || /* room for ours */
	    (size_t)snprintf(h->store[h->n], sizeof h->store[0], "%s: %s", name, value) >=
	        sizeof h->store[0]) {
		h->overflow = true;
		return;
	}
	h->lines[h->n] = h->store[h->n];
	h->n++;
}

struct query_text {
	struct api_buf b;
	bool bad;
};

static void add_query(void *ud, const char *name, const char *value)
{
	struct query_text *q = ud;
	char n[512], v[2048];

	if (!api_urlencode(name, n, sizeof n) || !api_urlencode(value, v, sizeof v)) {
		q->bad = true;
		return;
	}
	api_buf_printf(&q->b, "%c%s=%s", q->b.len ? '&' : '?', n, v);
}

/* https://LEADER + the request's path and query, re-encoded. */
static bool leader_url(const struct api_server *s, struct api_req *r, const char *leader,
                       struct api_buf *url)
{
	struct query_text q = {{0}, false};
	const char *path = api_req_path(r);
	char seg[1024];

	api_buf_printf(url, "%s://%s", s->scheme, leader);
	while (*path == '/') {
		size_t n = strcspn(path + 1, "/");
		if (n >= sizeof seg)
			return false;
		memcpy(seg, path + 1, n);
		seg[n] = '\0';
		char enc[3 * sizeof seg];
		if (!api_urlencode(seg, enc, sizeof enc))
			return false;
		api_buf_printf(url, "/%s", enc);
		path += n + 1;
	}
	api_req_foreach_query(r, add_query, &q);
	if (q.b.len)
		api_buf_add(url, q.b.data, q.b.len);
	api_buf_free(&q.b);
	return !q.bad && !url->oom;
}

void api_forward(struct api_call *c)
{
	struct api_server *s = c->s;
	struct api_fwd_request fr = {0};
	struct fwd_headers h = {.n = 0};
	struct api_buf url = {0};
	char leader[256], self[32];
	uint64_t leader_id = 0;
	int rv;

	if (api_req_header(c->req, API_FORWARDED_HEADER) != NULL) {
		api_fail(c->req, API_UNAVAILABLE, NULL,
		         "forwarded to replica %" PRIu64 ", which does not lead; retry shortly",
		         s->id);
		api_call_free(c);
		return;
	}
	if (cons_leader(s->cons, &leader_id, leader, sizeof leader) != STSD_OK ||
	    leader_id == s->id || !*leader) {
		api_fail(c->req, API_UNAVAILABLE, NULL,
		         "no leader is known to replica %" PRIu64 " yet; retry shortly", s->id);
		api_call_free(c);
		return;
	}
	if (!leader_url(s, c->req, leader, &url)) {
		api_buf_free(&url);
		api_fail(c->req, API_BAD_REQUEST, NULL, "the request's URL is too long to forward");
		api_call_free(c);
		return;
	}
	api_req_foreach_header(c->req, add_header, &h);
	if (h.overflow) {
		api_buf_free(&url);
		api_fail(
		    c->req, API_BAD_REQUEST, NULL,
		    "too many or too long request headers to forward to the leader (at most %d "
		    "lines of %d bytes)",
		    FWD_MAX_HEADERS - AUTH_MAX_GROUPS - 4, FWD_LINE - 1);
		api_call_free(c);
		return;
	}
	for (size_t i = 0, k = api_access_forward_lines(s, &c->user, h.store + h.n,
	                                                FWD_MAX_HEADERS - 1 - h.n);
	     i < k; i++, h.n++)
		h.lines[h.n] = h.store[h.n];
	snprintf(self, sizeof self, "%s: %" PRIu64, API_FORWARDED_HEADER, s->id);
	h.lines[h.n++] = self;
	fr.method = api_req_method(c->req);
	fr.url = url.data;
	fr.headers = h.lines;
	fr.n_headers = h.n;
	fr.body = api_req_body(c->req, &fr.body_len);
	fr.timeout_ms = s->forward_timeout_ms;
	rv = api_fwd_send(s->fwd, &fr, forwarded_cb, c, &c->fwd);
	api_buf_free(&url);
	if (rv != STSD_OK) {
		api_fail_code(c->req, rv, "forward");
		api_call_free(c);
		return;
	}
	s->stats.forwarded++;
}

/* ---- Barriers and proposals ------------------------------------------------------------------ */

static void barrier_cb(void *ud, int rv)
{
	struct api_call *c = ud;

	if (c->req == NULL) {
		api_call_free(c);
	} else if (rv != STSD_OK) {
		api_fail_code(c->req, rv, "read");
		api_call_free(c);
	} else {
		c->next(c);
	}
}

void api_after_barrier(struct api_call *c, api_call_fn fn)
{
	int rv;

	c->next = fn;
	if ((rv = cons_barrier(c->s->cons, barrier_cb, c)) == STSD_NOTLEADER) {
		api_forward(c);
	} else if (rv != STSD_OK) {
		api_fail_code(c->req, rv, "read");
		api_call_free(c);
	}
}

static void proposed_cb(void *ud, int rv, const struct cons_result *res)
{
	struct api_call *c = ud;

	if (c->req == NULL) {
		/* The client left; the outcome stands, nobody to tell. */
	} else if (rv != STSD_OK) {
		api_fail_code(c->req, rv, "write");
	} else {
		c->on_result(c, res);
	}
	api_call_free(c);
}

void api_propose(struct api_call *c, const struct store_op *ops, size_t n, api_result_fn done)
{
	int rv;

	c->on_result = done;
	if ((rv = cons_propose(c->s->cons, ops, n, proposed_cb, c)) == STSD_NOTLEADER) {
		api_forward(c);
	} else if (rv != STSD_OK) {
		api_fail_code(c->req, rv, "write");
		api_call_free(c);
	}
}

/* ---- Dispatch -------------------------------------------------------------------------------- */

static bool any_version(struct api_req *r)
{
	const char *rv = api_req_query(r, "resourceVersion");

	return rv && strcmp(rv, "0") == 0;
}

/* Watches are served by every replica from its own store: a forwarded answer could not stream,
 * and a barrier adds nothing (the watch's resourceVersion says where it starts). */
static bool watching(struct api_req *r)
{
	const char *w = api_req_query(r, "watch");

	return w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

/* Whether r is served by this replica's own store, whichever replica leads. */
static bool served_here(struct api_req *r, const struct route *rt)
{
	if (rt->kind == ROUTE_OBJECTS)
		return api_objects_is_read(r, rt) && (any_version(r) || watching(r));
	if (rt->kind == ROUTE_MEMBERS)
		return api_members_is_read(r);
	return true;
}

static struct api_call *new_call(struct api_server *s, struct api_req *r, const struct route *rt,
                                 const struct auth_user *u)
{
	struct api_call *c = api_call_new(s, r, rt);

	if (c)
		c->user = *u;
	return c;
}

static void objects(struct api_server *s, struct api_req *r, const struct route *rt,
                    const struct auth_user *u)
{
	bool read = api_objects_is_read(r, rt);
	struct api_call *c = new_call(s, r, rt, u);

	if (c == NULL)
		return;
	if (read && (any_version(r) || watching(r)))
		api_objects_read(c); /* any replica's store will do */
	else if (!api_leading(s))
		api_forward(c);
	else if (read)
		api_after_barrier(c, api_objects_read);
	else
		api_objects_write(c);
}

static void members(struct api_server *s, struct api_req *r, const struct route *rt,
                    const struct auth_user *u)
{
	struct api_call *c;

	if (api_members_is_read(r)) {
		api_members_read(s, r, rt);
		return;
	}
	if ((c = new_call(s, r, rt, u)) == NULL)
		return;
	if (api_leading(s))
		api_members_write(c);
	else
		api_forward(c);
}

void api_dispatch(struct api_server *s, struct api_req *r)
{
	struct route rt;
	const char *method = api_req_method(r);
	struct auth_user u;
	struct api_call *c;
	bool would_forward;

	api_route(api_req_path(r), &rt);
	would_forward = !served_here(r, &rt) && !api_leading(s) &&
	                api_req_header(r, API_FORWARDED_HEADER) == NULL;
	switch (api_access_check(s, r, &rt, would_forward, &u)) {
	case ACCESS_ANSWERED:
		return;
	case ACCESS_LEADER_DECIDES:
		if ((c = new_call(s, r, &rt, &u)) != NULL)
			api_forward(c);
		return;
	case ACCESS_OK:
		break;
	}
	switch (rt.kind) {
	case ROUTE_NOTFOUND:
		api_fail(r, API_NOT_FOUND, NULL, "%s", rt.error);
		break;
	case ROUTE_HEALTHZ:
	case ROUTE_LIVEZ:
	case ROUTE_READYZ:
	case ROUTE_METRICS:
	case ROUTE_DEBUG_RAFT:
		api_handle_health(s, r, &rt);
		break;
	case ROUTE_OBJECTS:
		objects(s, r, &rt, &u);
		break;
	case ROUTE_MEMBERS:
		members(s, r, &rt, &u);
		break;
	default:
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			api_fail(r, API_METHOD_NOT_ALLOWED, NULL,
			         "the server does not allow this method on the requested resource");
		else
			api_handle_discovery(s, r, &rt);
		break;
	}
}
