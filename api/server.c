/* server.c — the API server's life: start (HTTP listener, forwarder, tick), the entry point of
 * every request, leadership and apply notifications, and an orderly stop. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "log.h"
#include "watch.h"

#define TICK_MS                    200
#define DEFAULT_FORWARD_TIMEOUT_MS 35000

static void on_request(void *ud, struct api_req *r)
{
	struct api_server *s = ud;

	if (s->stopping) {
		api_fail(r, API_UNAVAILABLE, NULL, "this replica is shutting down");
		return;
	}
	api_dispatch(s, r);
}

/* Periodic chores: this replica's membership, and the leader's namespace housekeeping. */
static void tick_cb(uv_timer_t *t)
{
	struct api_server *s = t->data;

	api_members_tick(s);
	if (!api_leading(s))
		return;
	api_namespaces_ensure(s);
	if (s->sweep_due)
		api_namespaces_sweep(s);
}

static void free_server(struct api_server *s)
{
	api_access_free(s);
	for (unsigned i = 0; i < s->n_join; i++)
		free(s->join[i]);
	free(s->join);
	free(s->api_address);
	free(s->raft_address);
	free(s);
}

static int copy_options(struct api_server *s, const struct api_options *o)
{
	s->extra_metrics = o->extra_metrics;
	s->extra_metrics_ud = o->extra_metrics_ud;
	s->api_address = strdup(o->address ? o->address : "");
	s->raft_address = strdup(o->raft_address ? o->raft_address : "");
	s->join = o->n_join ? calloc(o->n_join, sizeof *s->join) : NULL;
	if (!s->api_address || !s->raft_address || (o->n_join && !s->join))
		return STSD_NOMEM;
	for (unsigned i = 0; i < o->n_join; i++) {
		if ((s->join[i] = strdup(o->join[i])) == NULL)
			return STSD_NOMEM;
		s->n_join = i + 1;
	}
	return STSD_OK;
}

/* Whether address ("HOST:PORT") names a loopback host. */
static bool loopback(const char *address)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
	size_t n = colon ? (size_t)(colon - address) : 0;

	return colon && ((n == 9 && strncmp(address, "localhost", 9) == 0) ||
	                 (n >= 4 && strncmp(address, "127.", 4) == 0));
}

/* An open API is remote code execution once agents run pods: TLS, or plain HTTP on loopback by
 * explicit request only. */
static int check_security(const struct api_options *o, char *err, size_t errlen)
{
	bool tls = o->tls_cert_file && *o->tls_cert_file;

	if (tls != (o->tls_key_file && *o->tls_key_file))
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "api: --tls-cert-file and --tls-private-key-file go together");
	if (tls && o->insecure_http)
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "api: --insecure-http and a TLS certificate: choose one");
	if (tls && !(o->client_ca_file && *o->client_ca_file))
		return stsd_errf(
		    err, errlen, STSD_INVALID,
		    "api: TLS needs --client-ca-file too: replicas authenticate to each "
		    "other with certificates of that CA, and verify each other with it");
	if (!tls && !o->insecure_http)
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "api: refusing to serve without TLS: give --tls-cert-file and "
		                 "--tls-private-key-file (or, for debugging on loopback only, "
		                 "--insecure-http)");
	if (!tls && !loopback(o->address))
		return stsd_errf(
		    err, errlen, STSD_INVALID,
		    "api: --insecure-http serves only a loopback address (127.x.x.x or "
		    "localhost), not %s",
		    o->address ? o->address : "(none)");
	return STSD_OK;
}

/* The forwarder, then the HTTP server. On failure s is freed (now or once the forwarder stops). */
static int start_listeners(struct api_server *s, const struct api_options *o, char *err,
                           size_t errlen)
{
	struct api_http_tls tls = {.cert_file = o->tls_cert_file,
	                           .key_file = o->tls_key_file,
	                           .client_ca_file = o->client_ca_file};
	struct api_http_options ho = {.address = o->address,
	                              .max_body = o->max_body,
	                              .tls = o->insecure_http ? NULL : &tls,
	                              .conn_free = api_access_conn_free,
	                              .gate = api_access_gate};
	struct api_fwd_options fo = {.ca_file = o->client_ca_file,
	                             .cert_file = o->insecure_http ? NULL : o->tls_cert_file,
	                             .key_file = o->insecure_http ? NULL : o->tls_key_file};
	int rv;

	if ((rv = api_fwd_start(s->loop, &fo, &s->fwd, err, errlen)) != STSD_OK) {
		free_server(s);
		return rv;
	}
	if ((rv = api_http_start(s->loop, &ho, on_request, s, &s->http, err, errlen)) != STSD_OK) {
		api_fwd_stop(s->fwd, (api_fwd_done_cb)free_server, s);
		return rv;
	}
	return STSD_OK;
}

int api_reload(struct api_server *s, char *err, size_t errlen)
{
	int rv = STSD_OK;

	if (strcmp(s->scheme, "https") == 0)
		rv = api_http_reload_tls(s->http, err, errlen);
	if (rv == STSD_OK)
		rv = api_access_reload(s, err, errlen);
	return rv;
}

int api_start(uv_loop_t *loop, const struct api_options *o, struct api_server **out, char *err,
              size_t errlen)
{
	struct api_server *s;
	int rv;

	if ((rv = check_security(o, err, errlen)) != STSD_OK)
		return rv;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return STSD_NOMEM;
	s->scheme = o->insecure_http ? "http" : "https";
	s->loop = loop;
	s->cons = o->cons;
	s->store = o->store;
	s->id = cons_id(o->cons);
	s->forward_timeout_ms =
	    o->forward_timeout_ms ? o->forward_timeout_ms : DEFAULT_FORWARD_TIMEOUT_MS;
	if ((rv = copy_options(s, o)) != STSD_OK) {
		free_server(s);
		return stsd_errf(err, errlen, rv, "api: out of memory");
	}
	if ((rv = api_access_start(s, o, err, errlen)) != STSD_OK) {
		free_server(s);
		return rv;
	}
	if ((rv = start_listeners(s, o, err, errlen)) != STSD_OK)
		return rv; /* s is freed */
	uv_timer_init(loop, &s->tick);
	s->tick.data = s;
	uv_timer_init(loop, &s->notify);
	s->notify.data = s;
	uv_timer_start(&s->tick, tick_cb, 0, TICK_MS);
	log_info("api", "event=listening address=%s port=%u", s->api_address,
	         api_http_port(s->http));
	*out = s;
	return STSD_OK;
}

unsigned api_port(const struct api_server *s)
{
	return api_http_port(s->http);
}

void api_on_leader(struct api_server *s, bool leader)
{
	s->leader = leader;
	s->sweep_due = leader;
	if (leader)
		api_namespaces_ensure(s); /* at once: a replica is not ready without them */
}

/* Watches get what applied in batches: every change of a short window goes out in one write per
 * stream, instead of one connection wake-up per watch per applied entry (bench/api_cost). The
 * window bounds the delay an event can get. */
#define NOTIFY_WINDOW_MS 2

static void notify_cb(uv_timer_t *t)
{
	struct api_server *s = t->data;

	s->notify_due = false;
	if (!s->stopping)
		api_watch_notify(s, 0);
}

void api_on_applied(struct api_server *s, uint64_t revision)
{
	(void)revision; /* notify delivers everything applied by then */
	if (s->stopping || s->notify_due)
		return;
	s->notify_due = true;
	uv_timer_start(&s->notify, notify_cb, NOTIFY_WINDOW_MS, 0);
}

/* ---- Stop: the HTTP server (its pending requests end first), the forwarder, the timer. ---- */

/* The server is gone once its handles are closed and no read runs on the thread pool. */
static void maybe_done(struct api_server *s)
{
	void (*done)(void *) = s->stop_done;
	void *ud = s->stop_ud;

	if (s->closing > 0 || s->reads > 0)
		return;
	/* Calls still waiting on consensus lost their requests; cons_stop calls them back later,
	 * after this server is gone: they must not reach it. */
	for (struct api_call *c = s->calls; c; c = c->next_call)
		c->s = NULL;
	free_server(s);
	if (done)
		done(ud);
}

static void closed_one(struct api_server *s)
{
	s->closing--;
	maybe_done(s);
}

static void tick_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

static void fwd_stopped(void *ud)
{
	closed_one(ud);
}

static void http_stopped(void *ud)
{
	struct api_server *s = ud;

	/* Requests are gone; calls waiting on a forward were cancelled with them. */
	api_fwd_stop(s->fwd, fwd_stopped, s);
	closed_one(s);
}

void api_server_read_done(struct api_server *s)
{
	s->reads--;
	if (s->stopping)
		maybe_done(s);
}

void api_stop(struct api_server *s, void (*done)(void *ud), void *ud)
{
	s->stopping = true;
	s->stop_done = done;
	s->stop_ud = ud;
	s->closing = 4; /* http, forwarder, two timers; then the reads on the pool (maybe_done) */
	/* Watches first, while their requests exist: their streams end cleanly. */
	api_watch_close_all(s);
	uv_timer_stop(&s->tick);
	uv_close((uv_handle_t *)&s->tick, tick_closed);
	uv_timer_stop(&s->notify);
	uv_close((uv_handle_t *)&s->notify, tick_closed);
	api_http_stop(s->http, http_stopped, s);
}
