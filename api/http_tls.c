/* http_tls.c — the TLS of a listener: the serving certificate, handed to GnuTLS per handshake so
 * that a reload (SIGHUP) takes effect without restarting the daemon, and what the client
 * presented.
 *
 * libmicrohttpd takes a certificate either once, in memory (MHD_OPTION_HTTPS_MEM_CERT), or per
 * handshake through GnuTLS's retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK). We use the
 * callback. It has no user pointer, but MHD sets the session's pointer to its connection
 * (daemon.c, new_connection_prepare_: gnutls_session_set_ptr(session, connection)), and the
 * connection names its daemon, so the callback finds its server in a small registry.
 *
 * Client certificates: MHD asks for them (GNUTLS_CERT_REQUEST, never REQUIRE) only when given a
 * trust list (MHD_OPTION_HTTPS_MEM_TRUST, same file of daemon.c); it does not verify them. The
 * handshake proves the client holds the certificate's key; api/authn.c checks the CA. */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "http_internal.h"
#include "log.h"

#define MAX_CHAIN 8

/* One generation of credentials. Generations are never freed while their server runs: a
 * handshake in progress during a reload may still use the previous one (a few KiB each). */
struct http_tls_creds {
	struct http_tls_creds *older;
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned n_pcert;
	gnutls_privkey_t key;
};

/* Servers with TLS, for the callback. Loop threads of several servers may use it at once. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct api_http *registry;

static void creds_free(struct http_tls_creds *c)
{
	while (c) {
		struct http_tls_creds *older = c->older;
		for (unsigned i = 0; i < c->n_pcert; i++)
			gnutls_pcert_deinit(&c->pcert[i]);
		if (c->key)
			gnutls_privkey_deinit(c->key);
		free(c);
		c = older;
	}
}

static int load_file(const char *path, gnutls_datum_t *d, char *err, size_t errlen)
{
	int rv = gnutls_load_file(path, d);

	if (rv < 0)
		return stsd_errf(err, errlen, STSD_IO, "tls: read %s: %s", path,
		                 gnutls_strerror(rv));
	return STSD_OK;
}

/* Whether key is the private half of pub: their public keys, exported, are the same bytes (works
 * for every key type, where a sign-and-verify probe needs a hash the type accepts). */
static bool same_key(gnutls_privkey_t key, gnutls_pubkey_t pub)
{
	gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
	gnutls_pubkey_t mine = NULL;
	bool same = false;

	if (gnutls_pubkey_init(&mine) >= 0 && gnutls_pubkey_import_privkey(mine, key, 0, 0) >= 0 &&
	    gnutls_pubkey_export2(mine, GNUTLS_X509_FMT_DER, &a) >= 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &b) >= 0)
		same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (mine)
		gnutls_pubkey_deinit(mine);
	return same;
}

/* The certificate chain and key of t, checked to belong together. */
static int creds_load(const struct api_http_tls *t, struct http_tls_creds **out, char *err,
                      size_t errlen)
{
	struct http_tls_creds *c = calloc(1, sizeof *c);
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	int rv;

	if (c == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "tls: out of memory");
	if ((rv = load_file(t->cert_file, &cert, err, errlen)) != STSD_OK ||
	    (rv = load_file(t->key_file, &key, err, errlen)) != STSD_OK)
		goto done;
	c->n_pcert = MAX_CHAIN;
	if ((rv = gnutls_pcert_list_import_x509_raw(c->pcert, &c->n_pcert, &cert,
	                                            GNUTLS_X509_FMT_PEM, 0)) < 0) {
		c->n_pcert = 0;
		rv = stsd_errf(err, errlen, STSD_INVALID, "tls: %s: %s", t->cert_file,
		               gnutls_strerror(rv));
		goto done;
	}
	if ((rv = gnutls_privkey_init(&c->key)) < 0 ||
	    (rv = gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		rv = stsd_errf(err, errlen, STSD_INVALID, "tls: %s: %s", t->key_file,
		               gnutls_strerror(rv));
		goto done;
	}
	if (!same_key(c->key, c->pcert[0].pubkey)) {
		rv = stsd_errf(err, errlen, STSD_INVALID,
		               "tls: the key in %s does not belong to the certificate in %s",
		               t->key_file, t->cert_file);
		goto done;
	}
	rv = STSD_OK;
done:
	gnutls_free(cert.data);
	gnutls_free(key.data);
	if (rv != STSD_OK)
		creds_free(c);
	else
		*out = c;
	return rv;
}

/* GnuTLS asks for this server's certificate during a handshake. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *key)
{
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci =
	    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON) : NULL;
	struct http_tls_creds *c = NULL;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&registry_mu);
	for (struct api_http *h = registry; ci && h; h = h->tls_next)
		if (h->daemon == ci->daemon)
			c = h->tls;
	pthread_mutex_unlock(&registry_mu);
	if (c == NULL)
		return -1; /* fails the handshake */
	*pcert = c->pcert;
	*pcert_length = c->n_pcert;
	*key = c->key;
	return 0;
}

int http_tls_init(struct api_http *h, const struct api_http_tls *t, char *err, size_t errlen)
{
	int rv;

	if (!t->cert_file || !t->key_file)
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "tls: a certificate and a key are needed");
	if ((rv = creds_load(t, &h->tls, err, errlen)) != STSD_OK)
		return rv;
	h->tls_files[0] = strdup(t->cert_file);
	h->tls_files[1] = strdup(t->key_file);
	if (t->client_ca_file) {
		gnutls_datum_t ca = {NULL, 0};
		if ((rv = load_file(t->client_ca_file, &ca, err, errlen)) != STSD_OK) {
			http_tls_free(h);
			return rv;
		}
		h->tls_trust_pem = strndup((const char *)ca.data, ca.size);
		gnutls_free(ca.data);
	}
	if (!h->tls_files[0] || !h->tls_files[1] || (t->client_ca_file && !h->tls_trust_pem)) {
		http_tls_free(h);
		return stsd_errf(err, errlen, STSD_NOMEM, "tls: out of memory");
	}
	return STSD_OK;
}

void http_tls_register(struct api_http *h)
{
	pthread_mutex_lock(&registry_mu);
	h->tls_next = registry;
	registry = h;
	pthread_mutex_unlock(&registry_mu);
}

void http_tls_free(struct api_http *h)
{
	pthread_mutex_lock(&registry_mu);
	for (struct api_http **p = &registry; *p; p = &(*p)->tls_next)
		if (*p == h) {
			*p = h->tls_next;
			break;
		}
	pthread_mutex_unlock(&registry_mu);
	creds_free(h->tls);
	h->tls = NULL;
	free(h->tls_files[0]);
	free(h->tls_files[1]);
	free(h->tls_trust_pem);
	h->tls_files[0] = h->tls_files[1] = h->tls_trust_pem = NULL;
}

void *http_tls_callback(void)
{
	return (void *)retrieve;
}

int api_http_reload_tls(struct api_http *h, char *err, size_t errlen)
{
	struct api_http_tls t = {.cert_file = h->tls_files[0], .key_file = h->tls_files[1]};
	struct http_tls_creds *c;
	int rv;

	if (h->tls == NULL)
		return stsd_errf(err, errlen, STSD_INVALID, "tls: this listener has no TLS");
	if ((rv = creds_load(&t, &c, err, errlen)) != STSD_OK)
		return rv;
	pthread_mutex_lock(&registry_mu);
	c->older = h->tls;
	h->tls = c;
	pthread_mutex_unlock(&registry_mu);
	log_info("http", "event=tls_reloaded port=%u cert=%s", h->port, t.cert_file);
	return STSD_OK;
}

/* ---- What the client presented --------------------------------------------------------- */

bool api_req_tls(const struct api_req *r)
{
	return r->h->tls != NULL;
}

bool api_req_peer_cert(const struct api_req *r, size_t i, const unsigned char **der, size_t *len)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *certs;
	unsigned n = 0;

	if (r->h->tls == NULL ||
	    (ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION)) == NULL ||
	    ci->tls_session == NULL)
		return false;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (certs == NULL || i >= n)
		return false;
	*der = certs[i].data;
	*len = certs[i].size;
	return true;
}
