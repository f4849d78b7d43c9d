/* http_server.c — the libmicrohttpd daemon on a libuv loop: start, MHD_run scheduling, stop.
 *
 * The daemon runs in "external polling" epoll mode, without threads of its own: a uv_poll watches
 * MHD's epoll descriptor and a uv_timer covers MHD_get_timeout (connection timeouts, data MHD has
 * buffered, resumed connections). After every MHD_run the timer is re-armed from MHD_get_timeout,
 * so an idle server makes no calls at all. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "http_internal.h"
#include "log.h"

/* Resumes take effect inside MHD_run; a stop runs it at most this often to let them. */
#define STOP_MAX_RUNS 16

static void on_timer(uv_timer_t *t);

/* MHD asking to run again at once, over and over, without new network activity: back off up to
 * this (see http_arm). */
#define ZERO_BACKOFF_MAX_MS 32u

/* Re-arm the timer after MHD_run: at once when a resume or the stop step is due, otherwise when
 * MHD asks to be run again (never, when it has no connection with a timeout and nothing pending).
 *
 * MHD 0.9.75 keeps a connection whose TLS handshake waits for more bytes marked "ready to read",
 * so MHD_get_timeout answers 0 for as long as the handshake stalls (one client sending half a
 * ClientHello is enough). Re-armed at 0 from inside its own callback, a libuv timer runs again in
 * the same loop pass: the loop never polled the network again, starving Raft (elections) and every
 * other client (tests/e2e/auth.sh's flood found it). So a 0 answer is honoured once; while MHD
 * repeats it, the timer backs off 1, 2, 4 ... ZERO_BACKOFF_MAX_MS ms, until MHD answers anything
 * else or a resume kicks it. Network activity is not a reason to believe 0 again: it reaches MHD
 * at once through the uv_poll anyway, and under a load of handshakes (each waiting for its client
 * most of the time) believing it after every event made the loop spin (bench/tls: about 77
 * EAGAIN reads per handshake). */
static void http_arm(struct api_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (!h->stopping && !h->kick && MHD_get_timeout(h->daemon, &ms) != MHD_YES) {
		uv_timer_stop(&h->timer);
		return;
	}
	if (ms == 0 && !h->stopping && !h->kick && h->zero_streak++ > 0) {
		unsigned shift = h->zero_streak - 2;
		ms = shift >= 5 ? ZERO_BACKOFF_MAX_MS : 1u << shift;
	} else if (ms > 0) {
		h->zero_streak = 0;
	}
	(void)uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
}

static void http_run(struct api_http *h)
{
	h->kick = false;
	h->in_run = true;
	h->stats.runs++;
	(void)MHD_run(h->daemon);
	h->in_run = false;
}

/* Needed: in 0.9.75 a resume does not make MHD's epoll descriptor readable (without this, a
 * deferred answer waits for unrelated network activity; tests/api/test_http.c fails). */
void http_kick(struct api_http *h)
{
	h->kick = true;
	h->zero_streak = 0;
	if (!h->in_run && !h->stopping)
		(void)uv_timer_start(&h->timer, on_timer, 0, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct api_http *h = p->data;

	(void)events;
	if (status < 0)
		log_warn("http", "event=poll_error err=%s", uv_strerror(status));
	http_run(h);
	http_arm(h);
}

/* ---- Stop -------------------------------------------------------------------------------------
 */

static void http_free(struct api_http *h)
{
	api_http_done_cb done = h->done;
	void *ud = h->done_ud;

	log_info("http", "event=stopped port=%u", h->port);
	http_tls_free(h);
	free(h);
	if (done)
		done(ud);
}

void http_handle_closing(struct api_http *h)
{
	h->closing++;
}

void http_handle_closed(struct api_http *h)
{
	assert(h->closing > 0);
	if (--h->closing == 0 && h->stopping && h->daemon == NULL)
		http_free(h);
}

static void on_handle_closed(uv_handle_t *handle)
{
	http_handle_closed(handle->data);
}

/* Whether MHD still counts a connection of h as suspended. */
static bool http_any_suspended(struct api_http *h)
{
	for (struct api_req *r = h->reqs; r; r = r->next) {
		const union MHD_ConnectionInfo *ci;

		ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
		if (r->suspended || (ci && ci->suspended == MHD_YES))
			return true;
	}
	return false;
}

/* The stop step, from the timer (never inside MHD_run). MHD_stop_daemon must not see a suspended
 * connection (microhttpd.h, MHD_suspend_connection: "it is an API violation to call
 * MHD_stop_daemon while having suspended connections"; 0.9.75 panics), and a resume takes effect
 * only in the next MHD_run: resume them all, and run until MHD has taken them back. With
 * h->stopping set, the access handler and the content reader end every resumed request, whose
 * on_close runs from req_completed; MHD_stop_daemon then completes the rest the same way. */
static void http_shutdown(struct api_http *h)
{
	struct api_req *r, *next;

	for (r = h->reqs; r; r = r->next)
		req_resume(r);
	for (int i = 0; i < STOP_MAX_RUNS && http_any_suspended(h); i++)
		http_run(h);
	if (http_any_suspended(h))
		log_error("http", "event=stop_stuck msg=\"connection still suspended\"");
	http_handle_closing(h);
	uv_close((uv_handle_t *)&h->poll, on_handle_closed);
	http_handle_closing(h);
	uv_close((uv_handle_t *)&h->timer, on_handle_closed);
	MHD_stop_daemon(h->daemon);
	for (r = h->reqs; r; r = next) { /* MHD completed them all; this is only a backstop */
		void *con_cls = r;

		next = r->next;
		log_error("http", "event=stop_orphan method=%s", r->method);
		req_completed(h, r->conn, &con_cls, MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN);
	}
	h->daemon = NULL;
}

static void on_timer(uv_timer_t *t)
{
	struct api_http *h = t->data;

	if (h->stopping) {
		http_shutdown(h);
		return;
	}
	http_run(h);
	http_arm(h);
}

void api_http_stop(struct api_http *h, api_http_done_cb done, void *ud)
{
	assert(!h->stopping);
	log_info("http", "event=stopping port=%u live=%llu", h->port,
	         (unsigned long long)h->stats.live);
	h->stopping = true;
	h->done = done;
	h->done_ud = ud;
	uv_poll_stop(&h->poll);
	if (!h->in_run) /* inside MHD_run, http_arm schedules the stop step afterwards */
		(void)uv_timer_start(&h->timer, on_timer, 0, 0);
}

/* ---- MHD callbacks ----------------------------------------------------------------------------
 */

/* MHD's messages: mostly about clients (malformed requests, hang-ups), so at info level; the ones
 * that follow our own decision to end a request (a hang-up, a stop) at debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char *const ours[] = {"Application reported internal error",
	                                   "Closing connection (application error"};
	enum log_level level = LOG_INFO;
	struct api_http *h = cls;
	char msg[512], q[560];
	size_t n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
		if (strncmp(msg, ours[i], strlen(ours[i])) == 0)
			level = LOG_DEBUG;
	log_emit(level, "http", "event=mhd_message port=%u msg=%s", h->port,
	         log_quote(q, sizeof q, msg));
	n = n < sizeof h->last_log - 1 ? n : sizeof h->last_log - 1;
	memcpy(h->last_log, msg, n);
	h->last_log[n] = '\0';
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct api_http *h = cls;
	struct http_conn *hc = *socket_context;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		h->stats.connections++;
		*socket_context = calloc(1, sizeof(struct http_conn)); /* NULL: nothing kept */
	} else if (hc) {
		if (hc->data && h->opt.conn_free)
			h->opt.conn_free(hc->data);
		free(hc);
		*socket_context = NULL;
	}
	log_debug("http", "event=connection state=%s",
	          code == MHD_CONNECTION_NOTIFY_STARTED ? "open" : "closed");
}

/* ---- Start ------------------------------------------------------------------------------------
 */

/* "HOST:PORT" into sa: HOST is an IPv4 literal, "localhost", or empty / "*" for any address. */
static int parse_address(const char *address, struct sockaddr_in *sa, char *err, size_t errlen)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
	char host[64], *end;
	unsigned long port;
	size_t hlen;

	if (!colon || (hlen = (size_t)(colon - address)) >= sizeof host)
		return stsd_errf(err, errlen, STSD_INVALID, "http: address %s: want HOST:PORT",
		                 address ? address : "(null)");
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || port > 65535)
		return stsd_errf(err, errlen, STSD_INVALID, "http: address %s: bad port", address);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (hlen == 0 || strcmp(host, "*") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return stsd_errf(err, errlen, STSD_INVALID, "http: address %s: not an IPv4 address",
		                 address);
	return 0;
}

static void apply_defaults(struct api_http_options *o)
{
	if (!o->max_body)
		o->max_body = API_HTTP_MAX_BODY;
	if (!o->idle_timeout_s)
		o->idle_timeout_s = API_HTTP_IDLE_TIMEOUT_S;
	if (!o->max_connections)
		o->max_connections = API_HTTP_MAX_CONNECTIONS;
	if (!o->conn_memory)
		o->conn_memory = API_HTTP_CONN_MEMORY;
	if (!o->max_stream_queue)
		o->max_stream_queue = API_HTTP_MAX_STREAM_Q;
}

/* TLS handshakes that stall (a client that connects and sends nothing, or half a ClientHello)
 * hold a connection slot until the idle timeout; with TLS that timeout is at most this, so a flood
 * of them cannot fill the slots for long. MHD has one timeout for every connection, so it applies
 * to idle keep-alive connections too (not to suspended ones: watches stay); clients reconnect
 * (client-go and curl do so transparently; our clients reuse a connection for at most 20 s). */
#define TLS_IDLE_TIMEOUT_S 30u

static struct MHD_Daemon *start_daemon(struct api_http *h, const struct sockaddr_in *sa)
{
	/* MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD: external polling, no threads. */
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned timeout = h->opt.idle_timeout_s;
	struct MHD_OptionItem tls[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, http_tls_callback()},
	    {h->tls_trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, h->tls_trust_pem},
	    {MHD_OPTION_END, 0, NULL},
	};

	if (h->tls) {
		flags |= MHD_USE_TLS;
		if (timeout > TLS_IDLE_TIMEOUT_S)
			timeout = TLS_IDLE_TIMEOUT_S;
	}
	/* The logger goes first, or MHD prints the messages about the other options itself. The
	 * port is only for MHD's messages: it binds to sa. */
	return MHD_start_daemon(flags, ntohs(sa->sin_port), NULL, NULL, req_access, h,
	                        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_SOCK_ADDR, sa,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->opt.conn_memory,
	                        MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
	                        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_NOTIFY_COMPLETED,
	                        req_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	                        MHD_OPTION_ARRAY, h->tls ? tls : tls + 2, MHD_OPTION_END);
}

/* Watch MHD's epoll descriptor and arm the first timeout. */
static int http_watch(struct api_http *h, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *port, *efd;
	int rc;

	port = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	efd = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!port || !efd)
		return stsd_errf(err, errlen, STSD_IO, "http: daemon info unavailable");
	h->port = port->port;
	rc = uv_poll_init(h->loop, &h->poll, efd->epoll_fd);
	if (rc)
		return stsd_errf(err, errlen, STSD_IO, "http: poll epoll fd: %s", uv_strerror(rc));
	h->poll.data = h;
	(void)uv_poll_start(&h->poll, UV_READABLE, on_poll); /* cannot fail on a fresh handle */
	uv_timer_init(h->loop, &h->timer);
	h->timer.data = h;
	http_arm(h);
	return 0;
}

int api_http_start(uv_loop_t *loop, const struct api_http_options *o, api_http_handler_cb handler,
                   void *ud, struct api_http **out, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	struct api_http *h;
	int rc;

	rc = parse_address(o->address, &sa, err, errlen);
	if (rc)
		return rc;
	h = calloc(1, sizeof *h);
	if (!h)
		return stsd_errf(err, errlen, STSD_NOMEM, "http: out of memory");
	h->loop = loop;
	h->handler = handler;
	h->ud = ud;
	h->opt = *o;
	h->opt.address = NULL; /* the caller's string may not outlive this call */
	h->opt.tls = NULL;
	apply_defaults(&h->opt);
	if (o->tls && (rc = http_tls_init(h, o->tls, err, errlen)) != 0) {
		free(h);
		return rc;
	}
	if (h->tls)
		http_tls_register(h);
	h->daemon = start_daemon(h, &sa);
	if (!h->daemon) {
		rc = stsd_errf(err, errlen, STSD_IO, "http: listen on %s: %s", o->address,
		               h->last_log[0] ? h->last_log : "daemon start failed");
		http_tls_free(h);
		free(h);
		return rc;
	}
	rc = http_watch(h, err, errlen);
	if (rc) {
		MHD_stop_daemon(h->daemon);
		http_tls_free(h);
		free(h);
		return rc;
	}
	log_info("http",
	         "event=listening address=%s port=%u tls=%s client_ca=%s max_body=%zu "
	         "idle_timeout_s=%u",
	         o->address, h->port, h->tls ? "yes" : "no", h->tls_trust_pem ? "yes" : "no",
	         h->opt.max_body, h->opt.idle_timeout_s);
	*out = h;
	return 0;
}

unsigned api_http_port(const struct api_http *h)
{
	return h->port;
}

void api_http_get_stats(const struct api_http *h, struct api_http_stats *st)
{
	*st = h->stats;
}
