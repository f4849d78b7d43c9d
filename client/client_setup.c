/* client_setup.c — a client's life: creating it from URLs and options (credentials only where
 * they may travel), its error message, and freeing it. The transfers are in client.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "internal.h"

#define DEFAULT_TIMEOUT_MS     10000
#define DEFAULT_CONNECT_MS     1000
#define DEFAULT_DEADLINE_MS    30000
#define DEFAULT_BACKOFF_MS     50
#define DEFAULT_BACKOFF_MAX_MS 1000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rv;

/* curl_global_init is not thread-safe in every libcurl build: run it once for the process. */
static void global_init(void)
{
	global_rv = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int client_errorf(struct client *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

static char *dup_or_null(const char *s, bool *nomem)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = true;
	return d;
}

/* A copy of len bytes (plus a NUL, as PEM readers like), or NULL when s is NULL. */
static char *dup_blob(const char *s, size_t len, bool *nomem)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = malloc(len + 1)) == NULL) {
		*nomem = true;
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static long or_default(long v, long def)
{
	return v > 0 ? v : def;
}

/* Copy opts (or the defaults) into c; false on allocation failure. */
static bool set_options(struct client *c, const struct client_options *opts)
{
	static const struct client_options none;
	bool nomem = false;

	opts = opts != NULL ? opts : &none;
	c->opts.timeout_ms = or_default(opts->timeout_ms, DEFAULT_TIMEOUT_MS);
	c->opts.connect_timeout_ms = or_default(opts->connect_timeout_ms, DEFAULT_CONNECT_MS);
	c->opts.deadline_ms = or_default(opts->deadline_ms, DEFAULT_DEADLINE_MS);
	c->opts.backoff_ms = or_default(opts->backoff_ms, DEFAULT_BACKOFF_MS);
	c->opts.backoff_max_ms = or_default(opts->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
	c->opts.max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 0;
	c->opts.ca_file = dup_or_null(opts->ca_file, &nomem);
	c->opts.cert_file = dup_or_null(opts->cert_file, &nomem);
	c->opts.key_file = dup_or_null(opts->key_file, &nomem);
	c->opts.token = dup_or_null(opts->token, &nomem);
	c->opts.ca_pem = dup_blob(opts->ca_pem, opts->ca_pem_len, &nomem);
	c->opts.ca_pem_len = opts->ca_pem != NULL ? opts->ca_pem_len : 0;
	c->opts.cert_pem = dup_blob(opts->cert_pem, opts->cert_pem_len, &nomem);
	c->opts.cert_pem_len = opts->cert_pem != NULL ? opts->cert_pem_len : 0;
	c->opts.key_pem = dup_blob(opts->key_pem, opts->key_pem_len, &nomem);
	c->opts.key_pem_len = opts->key_pem != NULL ? opts->key_pem_len : 0;
	c->opts.insecure_skip_verify = opts->insecure_skip_verify;
	return !nomem;
}

/* "host:port" -> "http://host:port"; drops trailing slashes. NULL on allocation failure. */
static char *normalize_url(const char *url)
{
	const char *scheme = strstr(url, "://") != NULL ? "" : "http://";
	size_t len = strlen(url);
	char *out;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((out = malloc(strlen(scheme) + len + 1)) == NULL)
		return NULL;
	sprintf(out, "%s%.*s", scheme, (int)len, url);
	return out;
}

static int set_urls(struct client *c, const char *const *urls, size_t n, char *err, size_t errlen)
{
	if ((c->urls = calloc(n, sizeof *c->urls)) == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (urls[i] == NULL || urls[i][0] == '\0')
			return stsd_errf(err, errlen, STSD_INVALID, "client: URL %zu is empty",
			                 i + 1);
		if ((c->urls[i] = normalize_url(urls[i])) == NULL)
			return STSD_NOMEM;
		c->n_urls = i + 1;
	}
	return STSD_OK;
}

/* --- credentials never in plain text --- */

/* Whether host (as libcurl's URL parser gives it: IPv6 in brackets) is this machine's loopback:
 * 127.0.0.0/8, ::1 or localhost (which libcurl resolves to loopback itself since 7.78). Any other
 * spelling ("127.1", "::ffff:127.0.0.1", "localhost.") counts as remote: refusing is the safe
 * mistake. */
static bool is_loopback(const char *host)
{
	char inner[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(host);
	struct in6_addr a6;
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ntohl(a4.s_addr) >> 24 == 127;
	if (n < 2 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof inner)
		return false;
	snprintf(inner, sizeof inner, "%.*s", (int)(n - 2), host + 1);
	return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Whether credentials may go to url: over https anywhere, over anything else to loopback only.
 * libcurl's own parser reads the URL, so the host judged is the one libcurl connects to
 * ("http://127.0.0.1@evil.example" goes to evil.example); a URL it cannot parse is refused. */
static bool may_carry_credentials(const char *url)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u = curl_url();
	bool ok = false;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		ok = strcasecmp(scheme, "https") == 0 || is_loopback(host);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* A bearer token over plain http can be read (and replayed) by anyone on the path, so it goes
 * only over https or to loopback; a client certificate is refused alike (over http it would
 * never be presented: the server would silently see an anonymous user). The token becomes a
 * header line: a control character in it (a CR LF from a tokenFile) could inject headers. */
static int check_credentials(const struct client *c, char *err, size_t errlen)
{
	const struct client_options *o = &c->opts;
	const char *what = o->token != NULL ? "a bearer token" : "a client certificate";

	for (const char *p = o->token; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "client: the bearer token contains a control character");
	if (o->token == NULL && o->cert_pem == NULL && o->cert_file == NULL)
		return STSD_OK;
	for (size_t i = 0; i < c->n_urls; i++)
		if (!may_carry_credentials(c->urls[i]))
			return stsd_errf(
			    err, errlen, STSD_INVALID,
			    "client: refusing to send %s in plain text to %s: use https:// "
			    "(plain http is allowed to loopback addresses only)",
			    what, c->urls[i]);
	return STSD_OK;
}

int client_create(const char *const *urls, size_t n, const struct client_options *opts,
                  struct client **out, char *err, size_t errlen)
{
	struct client *c;
	int rv;

	if (n == 0)
		return stsd_errf(err, errlen, STSD_INVALID, "client: no server URL");
	pthread_once(&global_once, global_init);
	if (global_rv != CURLE_OK)
		return stsd_errf(err, errlen, STSD_NOMEM, "client: curl_global_init: %s",
		                 curl_easy_strerror(global_rv));
	if ((c = calloc(1, sizeof *c)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "client: out of memory");
	if ((rv = set_urls(c, urls, n, err, errlen)) != STSD_OK ||
	    (rv = set_options(c, opts) ? STSD_OK : STSD_NOMEM) != STSD_OK ||
	    (rv = check_credentials(c, err, errlen)) != STSD_OK ||
	    (rv = (c->curl = curl_easy_init()) != NULL ? STSD_OK : STSD_NOMEM) != STSD_OK) {
		if (rv == STSD_NOMEM)
			stsd_errf(err, errlen, rv, "client: out of memory");
		client_destroy(c);
		return rv;
	}
	*out = c;
	return STSD_OK;
}

void client_destroy(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	for (size_t i = 0; i < c->n_urls; i++)
		free(c->urls[i]);
	free(c->urls);
	free((char *)c->opts.ca_file);
	free((char *)c->opts.cert_file);
	free((char *)c->opts.key_file);
	free((char *)c->opts.token);
	free((char *)c->opts.ca_pem);
	free((char *)c->opts.cert_pem);
	free((char *)c->opts.key_pem);
	free(c);
}

const char *client_errmsg(const struct client *c)
{
	return c->errmsg;
}

const char *client_current_url(const struct client *c)
{
	return c->urls[c->current];
}

void client_response_free(struct client_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
}
