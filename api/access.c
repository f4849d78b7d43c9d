/* access.c — every request's authentication and authorization, before it is routed anywhere;
 * and the credentials a replica's own requests carry (forwards, joins, member records).
 *
 * Authentication, in order: a bearer token from the token file; a client certificate the cluster
 * CA vouches for (verified once per connection and remembered); otherwise anonymous, which may
 * only read /healthz, /livez, /readyz and /version (as Kubernetes' system:public-info-viewer).
 * Credentials that are presented but wrong are a 401 whatever the path, as in kube-apiserver.
 *
 * Forwarded requests: a follower forwards with its own client certificate and names the user it
 * authenticated in X-Stsd-Remote-* headers. The leader believes those headers only from a client
 * that authenticated with a certificate and is in AUTH_REPLICAS_GROUP (with --insecure-http there
 * are no certificates, and replicas authenticate with a token of that group instead). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_internal.h"
#include "auth.h"
#include "errors.h"
#include "log.h"

#define REMOTE_USER  "X-Stsd-Remote-User"
#define REMOTE_UID   "X-Stsd-Remote-Uid"
#define REMOTE_GROUP "X-Stsd-Remote-Group"

#define NO_CREDENTIALS "no credentials (a bearer token or a client certificate)"

/* A connection's client certificate, checked once (its trust generation says against which CA
 * bundle: a reload checks it again). */
struct conn_ident {
	unsigned trust_gen;
	bool has_cert, ok;
	struct auth_user user;
	char why[160];
};

struct api_access {
	struct auth_tokens *tokens; /* NULL without a token file */
	struct auth_trust *trust;   /* NULL without a client CA */
	unsigned trust_gen;
	char *token_file, *ca_file;
	bool insecure;
	char peer_auth[API_FWD_LINE]; /* "Authorization: Bearer ..." for a replica's calls
	                               * (insecure), or ""
	                               */
};

/* ---- Setting up --------------------------------------------------------------------------- */

static void find_peer_token(struct api_access *a)
{
	const char *t = a->tokens ? auth_tokens_find_group(a->tokens, AUTH_REPLICAS_GROUP) : NULL;

	a->peer_auth[0] = '\0';
	if (!a->insecure || !t)
		return;
	if ((size_t)snprintf(a->peer_auth, sizeof a->peer_auth, "Authorization: Bearer %s", t) >=
	    sizeof a->peer_auth) {
		a->peer_auth[0] = '\0';
		log_warn("api", "event=peer_token_too_long max=%zu", sizeof a->peer_auth - 23);
	}
}

static int load(struct api_access *a, struct auth_tokens **tokens, struct auth_trust **trust,
                char *err, size_t errlen)
{
	int rv;

	*tokens = NULL;
	*trust = NULL;
	if (a->token_file && (rv = auth_tokens_load(a->token_file, tokens, err, errlen)) != STSD_OK)
		return rv;
	if (a->ca_file && (rv = auth_trust_load(a->ca_file, trust, err, errlen)) != STSD_OK) {
		auth_tokens_free(*tokens);
		*tokens = NULL;
		return rv;
	}
	return STSD_OK;
}

static char *dup_opt(const char *s, bool *nomem)
{
	char *d = s && *s ? strdup(s) : NULL;

	*nomem |= s && *s && !d;
	return d;
}

int api_access_start(struct api_server *s, const struct api_options *o, char *err, size_t errlen)
{
	struct api_access *a = calloc(1, sizeof *a);
	bool nomem = a == NULL;
	int rv;

	if (a == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "api: out of memory");
	a->token_file = dup_opt(o->token_file, &nomem);
	a->ca_file = dup_opt(o->client_ca_file, &nomem);
	a->insecure = o->insecure_http;
	s->access = a;
	if (nomem)
		return stsd_errf(err, errlen, STSD_NOMEM, "api: out of memory");
	if ((rv = load(a, &a->tokens, &a->trust, err, errlen)) != STSD_OK)
		return rv;
	find_peer_token(a);
	if (!a->tokens && !a->trust)
		log_warn("api", "event=no_credentials msg=\"neither --token-auth-file nor "
		                "--client-ca-file: only health endpoints can be used\"");
	log_info("api", "event=auth_loaded tokens=%zu client_ca=%s",
	         a->tokens ? auth_tokens_count(a->tokens) : (size_t)0, a->trust ? "yes" : "no");
	return STSD_OK;
}

int api_access_reload(struct api_server *s, char *err, size_t errlen)
{
	struct api_access *a = s->access;
	struct auth_tokens *tokens;
	struct auth_trust *trust;
	int rv = load(a, &tokens, &trust, err, errlen);

	if (rv != STSD_OK)
		return rv;
	auth_tokens_free(a->tokens);
	auth_trust_free(a->trust);
	a->tokens = tokens;
	a->trust = trust;
	a->trust_gen++;
	find_peer_token(a);
	log_info("api", "event=auth_reloaded tokens=%zu client_ca=%s",
	         tokens ? auth_tokens_count(tokens) : (size_t)0, trust ? "yes" : "no");
	return STSD_OK;
}

void api_access_free(struct api_server *s)
{
	struct api_access *a = s->access;

	if (a == NULL)
		return;
	auth_tokens_free(a->tokens);
	auth_trust_free(a->trust);
	free(a->token_file);
	free(a->ca_file);
	free(a);
	s->access = NULL;
}

void api_access_conn_free(void *p)
{
	free(p);
}

const char *api_access_peer_auth(const struct api_server *s)
{
	return s->access && s->access->peer_auth[0] ? s->access->peer_auth : NULL;
}

/* ---- Authentication ----------------------------------------------------------------------- */

enum authn {
	AUTHN_NONE,     /* no credentials */
	AUTHN_TOKEN,    /* a valid bearer token */
	AUTHN_CERT,     /* a valid client certificate */
	AUTHN_REJECTED, /* credentials presented, none valid: why says which */
};

/* The client certificate of r's connection into *out, verified once per connection and CA
 * bundle (the verdict is kept with the connection) and again once the certificate has expired. */
static void cert_ident(struct api_access *a, struct api_req *r, struct conn_ident *out)
{
	struct conn_ident *kept = api_req_get_conn_data(r);
	int64_t now = (int64_t)time(NULL);
	struct auth_der chain[8];
	size_t n = 0;

	if (kept && kept->trust_gen == a->trust_gen &&
	    !(kept->ok && kept->user.expires && now > kept->user.expires)) {
		*out = *kept;
		return;
	}
	memset(out, 0, sizeof *out);
	out->trust_gen = a->trust_gen;
	while (n < sizeof chain / sizeof chain[0] &&
	       api_req_peer_cert(r, n, &chain[n].data, &chain[n].len))
		n++;
	out->has_cert = n > 0;
	if (n > 0 && a->trust == NULL)
		snprintf(out->why, sizeof out->why, "client certificates are not accepted here");
	else if (n > 0)
		out->ok = auth_cert_identify(a->trust, chain, n, now, &out->user, out->why,
		                             sizeof out->why) == STSD_OK;
	if (kept == NULL && (kept = malloc(sizeof *kept)) != NULL) {
		*kept = *out;
		api_req_set_conn_data(r, kept); /* frees it when it cannot be kept */
	} else if (kept) {
		*kept = *out;
	}
}

/* Any credential that is presented but wrong refuses the request, even beside a good one (an
 * operator who sends a token expects it to count). With a good certificate and a good token, the
 * certificate is who asks: kube-apiserver's union authenticator tries x509 first. */
static enum authn authenticate(struct api_access *a, struct api_req *r, struct auth_user *u,
                               char *why, size_t whylen)
{
	const char *h = api_req_header(r, "Authorization");
	struct conn_ident ci;
	bool token_ok = false;

	cert_ident(a, r, &ci);
	if (ci.has_cert && !ci.ok) {
		snprintf(why, whylen, "client certificate: %s", ci.why);
		return AUTHN_REJECTED;
	}
	if (h && strncasecmp(h, "Bearer ", 7) != 0) {
		snprintf(why, whylen,
		         "unsupported Authorization scheme (stsd takes Bearer tokens)");
		return AUTHN_REJECTED;
	}
	if (h) {
		const char *t = h + 7 + strspn(h + 7, " ");
		if (!a->tokens || !(token_ok = auth_tokens_lookup(a->tokens, t, u))) {
			snprintf(why, whylen, "invalid bearer token");
			return AUTHN_REJECTED;
		}
	}
	if (ci.ok) {
		*u = ci.user;
		return AUTHN_CERT;
	}
	return token_ok ? AUTHN_TOKEN : AUTHN_NONE;
}

/* Headers that name another user: a replica's (X-Stsd-Remote-*) or Kubernetes' impersonation
 * headers (kubectl --as / --as-group). */
struct other_user_headers {
	const char *user, *uid, *group;
};
static const struct other_user_headers remote_headers = {REMOTE_USER, REMOTE_UID, REMOTE_GROUP};
static const struct other_user_headers impersonate_headers = {"Impersonate-User", "Impersonate-Uid",
                                                              "Impersonate-Group"};

struct other_groups {
	struct auth_user *u;
	const char *header;
};

static void other_group(void *ud, const char *name, const char *value)
{
	struct other_groups *g = ud;

	if (strcasecmp(name, g->header) == 0 && auth_name_ok(value))
		auth_user_add_group(g->u, value);
}

/* The user the headers hs of r name, into *u; false when the user header is bad. */
static bool other_user(struct api_req *r, const struct other_user_headers *hs, struct auth_user *u)
{
	const char *name = api_req_header(r, hs->user), *uid = api_req_header(r, hs->uid);
	struct other_groups g = {u, hs->group};

	if (!auth_name_ok(name) || strlen(name) >= sizeof u->name)
		return false;
	memset(u, 0, sizeof *u);
	snprintf(u->name, sizeof u->name, "%s", name);
	snprintf(u->uid, sizeof u->uid, "%s", uid ? uid : "");
	api_req_foreach_header(r, other_group, &g);
	auth_user_add_group(u, AUTH_AUTHENTICATED_GROUP);
	return true;
}

static void refuse(struct api_server *s, struct api_req *r, const struct route *rt,
                   const char *why);

/* Sets *ud when r has an impersonation header stsd does not support (extra fields). */
static void impersonate_extra(void *ud, const char *name, const char *value)
{
	(void)value;
	if (strncasecmp(name, "Impersonate-Extra-", 18) == 0)
		*(bool *)ud = true;
}

/* Impersonation (kubectl --as=system:node:a --as-group=system:nodes): admins only, as
 * Kubernetes' "impersonate" verb is granted to system:masters alone by default. Anything else
 * that sends the headers is refused rather than served as itself: a client that asked for fewer
 * rights must not silently get its own. Extra fields (Impersonate-Extra-*) are not supported. */
static bool impersonate(struct api_server *s, struct api_req *r, const struct route *rt,
                        struct auth_user *u)
{
	char why[AUTH_NAME_MAX + 128];
	bool user = api_req_header(r, impersonate_headers.user) != NULL, extra = false;
	bool other = api_req_header(r, impersonate_headers.group) != NULL ||
	             api_req_header(r, impersonate_headers.uid) != NULL;

	api_req_foreach_header(r, impersonate_extra, &extra);
	if (!user && !other && !extra)
		return true;
	if (extra || !user) {
		api_fail(
		    r, API_BAD_REQUEST, NULL,
		    "impersonation: Impersonate-Group and Impersonate-Uid need Impersonate-User; "
		    "Impersonate-Extra-* is not supported");
		return false;
	}
	if (!auth_user_in(u, AUTH_ADMIN_GROUP)) {
		snprintf(why, sizeof why, "User \"%s\" cannot impersonate other users", u->name);
		refuse(s, r, rt, why);
		return false;
	}
	if (!other_user(r, &impersonate_headers, u)) {
		api_fail(r, API_BAD_REQUEST, NULL, "impersonation: a bad Impersonate-User");
		return false;
	}
	return true;
}

static bool anonymous_route(const struct route *rt)
{
	return rt->kind == ROUTE_HEALTHZ || rt->kind == ROUTE_LIVEZ || rt->kind == ROUTE_READYZ ||
	       rt->kind == ROUTE_VERSION;
}

/* ---- Authorization ------------------------------------------------------------------------ */

static bool watching(struct api_req *r)
{
	const char *w = api_req_query(r, "watch");

	return w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

static const char *verb_of(struct api_req *r, const struct route *rt)
{
	const char *m = api_req_method(r);

	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return *rt->name ? "get" : watching(r) ? "watch" : "list";
	if (strcmp(m, "POST") == 0)
		return "create";
	if (strcmp(m, "PUT") == 0)
		return "update";
	if (strcmp(m, "PATCH") == 0)
		return "patch";
	if (strcmp(m, "DELETE") == 0)
		return *rt->name ? "delete" : "deletecollection";
	return "unknown";
}

/* The metadata.name of a JSON create body, for rules about what a node may create. */
static void body_name(struct api_req *r, char *out, size_t len)
{
	size_t n;
	const char *body = api_req_body(r, &n);
	json_t *v = n ? json_loadb(body, n, 0, NULL) : NULL;
	const char *name =
	    json_string_value(json_object_get(json_object_get(v, "metadata"), "name"));

	snprintf(out, len, "%s", name ? name : "");
	json_decref(v);
}

static void describe(struct api_req *r, const struct route *rt, const struct auth_user *u,
                     struct authz_request *q, char *lower, char *name, size_t name_len)
{
	const char *m = api_req_method(r);
	size_t i;

	for (i = 0; m[i] && i < 15; i++)
		lower[i] = (char)(m[i] >= 'A' && m[i] <= 'Z' ? m[i] + 32 : m[i]);
	lower[i] = '\0';
	if (strcmp(lower, "head") == 0)
		strcpy(lower, "get"); /* as Kubernetes: HEAD is authorized as get */
	memset(q, 0, sizeof *q);
	q->path = api_req_path(r);
	q->verb = lower;
	if (rt->kind != ROUTE_OBJECTS)
		return;
	q->resource_request = true;
	q->verb = verb_of(r, rt);
	q->group = rt->res->group;
	q->resource = rt->res->plural;
	q->subresource = rt->sub;
	q->ns = rt->ns;
	q->name = rt->name;
	q->field_selector = api_req_query(r, "fieldSelector");
	if (strcmp(q->verb, "create") == 0 && !*rt->name && authz_node_name(u)) {
		body_name(r, name, name_len);
		q->name = name;
	}
}

static enum authz_decision authorize(struct api_server *s, struct api_req *r,
                                     const struct route *rt, const struct auth_user *u, char *why,
                                     size_t whylen)
{
	struct store_reader *rd = NULL;
	struct authz_graph g, *gp = NULL;
	struct authz_request q;
	char lower[16], name[STORE_NAME_MAX + 1] = "";
	enum authz_decision d;

	describe(r, rt, u, &q, lower, name, sizeof name);
	if (authz_node_name(u) && store_read_begin(s->store, &rd) == STSD_OK) {
		authz_graph_from_store(&g, rd);
		gp = &g;
	}
	d = authz_decide(u, &q, gp, why, whylen);
	if (rd)
		store_read_end(rd);
	return d;
}

/* ---- The check ---------------------------------------------------------------------------- */

static void refuse(struct api_server *s, struct api_req *r, const struct route *rt, const char *why)
{
	s->stats.forbidden++;
	log_info("api", "event=forbidden method=%s path=%s why=\"%s\"", api_req_method(r),
	         api_req_path(r), why);
	if (rt->kind == ROUTE_OBJECTS)
		api_fail(r, API_FORBIDDEN, api_details(rt->res, rt->name),
		         "%s%s%s%s is forbidden: %s", rt->res->plural, *rt->name ? " \"" : "",
		         rt->name, *rt->name ? "\"" : "", why);
	else
		api_fail(r, API_FORBIDDEN, NULL, "forbidden: %s", why);
}

static void unauthorized(struct api_server *s, struct api_req *r, const char *why)
{
	s->stats.unauthorized++;
	log_info("api", "event=unauthorized method=%s path=%s why=\"%s\"", api_req_method(r),
	         api_req_path(r), why);
	api_fail(r, API_UNAUTHORIZED, NULL, "Unauthorized: %s", why);
}

/* Before the body: nobody without credentials gets the server to buffer a body (up to 3 MiB a
 * connection). Authorization waits for the body (a node's create is judged by the name in it),
 * so an authenticated client can still send one; that is the price of rules about bodies. */
unsigned api_access_gate(void *ud, struct api_req *r, char **json)
{
	struct api_server *s = ud;
	struct auth_user *u = malloc(sizeof *u);
	char why[512] = "";
	struct route rt;
	enum authn how;

	if (u == NULL || s->stopping)
		return (free(u), 0); /* decided again at dispatch */
	api_route(api_req_path(r), &rt);
	how = authenticate(s->access, r, u, why, sizeof why);
	free(u);
	if (how == AUTHN_REJECTED || (how == AUTHN_NONE && !anonymous_route(&rt))) {
		if (how == AUTHN_NONE)
			snprintf(why, sizeof why, "%s", NO_CREDENTIALS);
		s->stats.unauthorized++;
		log_info("api", "event=unauthorized method=%s path=%s why=\"%s\" when=headers",
		         api_req_method(r), api_req_path(r), why);
		*json = api_status_text(API_UNAUTHORIZED, "Unauthorized: %s", why);
		return 401;
	}
	return 0;
}

enum api_access_result api_access_check(struct api_server *s, struct api_req *r,
                                        const struct route *rt, bool would_forward,
                                        struct auth_user *u)
{
	struct api_access *a = s->access;
	char why[512] = "";
	enum authn how = authenticate(a, r, u, why, sizeof why);
	enum authz_decision d;

	if (how == AUTHN_REJECTED) {
		unauthorized(s, r, why);
		return ACCESS_ANSWERED;
	}
	if (how == AUTHN_NONE) {
		if (anonymous_route(rt)) {
			memset(u, 0, sizeof *u);
			snprintf(u->name, sizeof u->name, "system:anonymous");
			return ACCESS_OK;
		}
		unauthorized(s, r, NO_CREDENTIALS);
		return ACCESS_ANSWERED;
	}
	if (api_req_header(r, REMOTE_USER)) {
		if (!auth_user_in(u, AUTH_REPLICAS_GROUP) || (how != AUTHN_CERT && !a->insecure)) {
			snprintf(why, sizeof why,
			         "User \"%s\" may not act for other users (only replicas may, with "
			         "their client certificates)",
			         u->name);
			refuse(s, r, rt, why);
			return ACCESS_ANSWERED;
		}
		if (!other_user(r, &remote_headers, u)) {
			api_fail(r, API_BAD_REQUEST, NULL, "bad %s header", REMOTE_USER);
			return ACCESS_ANSWERED;
		}
	}
	if (!impersonate(s, r, rt, u))
		return ACCESS_ANSWERED;
	d = authorize(s, r, rt, u, why, sizeof why);
	if (d == AUTHZ_ALLOW)
		return ACCESS_OK;
	if (d == AUTHZ_DENY_GRAPH && would_forward)
		return ACCESS_LEADER_DECIDES; /* this store may lag: the leader's decides */
	refuse(s, r, rt, why);
	return ACCESS_ANSWERED;
}

bool api_access_recheck(struct api_call *c)
{
	char why[512] = "";

	if (c->req == NULL || c->user.name[0] == '\0' ||
	    authorize(c->s, c->req, &c->rt, &c->user, why, sizeof why) == AUTHZ_ALLOW)
		return true;
	refuse(c->s, c->req, &c->rt, why);
	return false;
}

/* ---- Forwarding --------------------------------------------------------------------------- */

/* The user travels in our own headers: the client's credentials and any header naming a user
 * stay behind (impersonation was resolved here). */
bool api_access_forward_skips(const char *header)
{
	return strcasecmp(header, "Authorization") == 0 || strcasecmp(header, REMOTE_USER) == 0 ||
	       strcasecmp(header, REMOTE_UID) == 0 || strcasecmp(header, REMOTE_GROUP) == 0 ||
	       strncasecmp(header, "Impersonate-", 12) == 0;
}

size_t api_access_forward_lines(const struct api_server *s, const struct auth_user *u,
                                char (*store)[API_FWD_LINE], size_t max)
{
	size_t n = 0;

	if (u && u->name[0] && n < max)
		snprintf(store[n++], API_FWD_LINE, "%s: %s", REMOTE_USER, u->name);
	if (u && u->uid[0] && n < max)
		snprintf(store[n++], API_FWD_LINE, "%s: %s", REMOTE_UID, u->uid);
	for (unsigned i = 0; u && i < u->n_groups && n < max; i++)
		if (strcmp(u->groups[i], AUTH_AUTHENTICATED_GROUP) != 0)
			snprintf(store[n++], API_FWD_LINE, "%s: %s", REMOTE_GROUP, u->groups[i]);
	if (api_access_peer_auth(s) && n < max)
		snprintf(store[n++], API_FWD_LINE, "%s", api_access_peer_auth(s));
	return n;
}
