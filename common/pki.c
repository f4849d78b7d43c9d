/* pki.c — the cluster CA and the serving and client certificates it signs, built with GnuTLS's
 * X.509 API; files are written by pki_write.c. */
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "errors.h"
#include "pki_write.h"
#include "util.h"

#define SERIAL_BYTES   16
#define SKEW_SECONDS   300 /* default not_before: now minus this, for clocks slightly behind */
#define MAX_DAYS       36500
#define MAX_NAME_BYTES 255

/* Call a GnuTLS function returning < 0 on error; on error return its code translated, with what
 * failed. Needs err and errlen in scope. */
#define TRY(call, what)                                         \
	do {                                                    \
		int rv_ = (call);                               \
		if (rv_ < 0)                                    \
			return tls_err(err, errlen, rv_, what); \
	} while (0)

static int tls_err(char *err, size_t errlen, int rv, const char *what)
{
	return stsd_errf(err, errlen, rv == GNUTLS_E_MEMORY_ERROR ? STSD_NOMEM : STSD_IO, "%s: %s",
	                 what, gnutls_strerror(rv));
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rv;

static void global_init(void)
{
	init_rv = gnutls_global_init();
}

static int tls_init(char *err, size_t errlen)
{
	pthread_once(&init_once, global_init);
	TRY(init_rv, "gnutls_global_init");
	return STSD_OK;
}

/* --- validating requests ------------------------------------------------------------------ */

/* Non-empty printable text of at most MAX_NAME_BYTES: what a CN or an O may hold. */
static bool valid_text(const char *s)
{
	size_t n = 0;

	if (s == NULL || s[0] == '\0')
		return false;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return false;
	return n <= MAX_NAME_BYTES;
}

/* A DNS name as a SAN: letters, digits, '-', '_', '.', and a leading "*." wildcard. */
static bool valid_dns(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* The address bytes of an IPv4/IPv6 literal into ip (16 bytes): 4 or 16, or 0 if s is not one. */
static size_t parse_ip(const char *s, unsigned char *ip)
{
	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 16;
	return 0;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (n < PKI_MAX_NAMES && names[n] != NULL)
		n++;
	return n;
}

static int check_key_type(enum pki_key_type key, char *err, size_t errlen)
{
	if (key != PKI_KEY_ECDSA_P256 && key != PKI_KEY_RSA_2048)
		return stsd_errf(err, errlen, STSD_INVALID, "unknown key type %d", (int)key);
	return STSD_OK;
}

static int check_names(const struct pki_cert_request *rq, char *err, size_t errlen)
{
	unsigned char ip[16];

	for (size_t i = 0; i < count_names(rq->orgs); i++)
		if (!valid_text(rq->orgs[i]))
			return stsd_errf(err, errlen, STSD_INVALID, "bad organisation '%s'",
			                 rq->orgs[i]);
	for (size_t i = 0; i < count_names(rq->sans); i++)
		if (parse_ip(rq->sans[i], ip) == 0 && !valid_dns(rq->sans[i]))
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "bad SAN '%s': not an IP address or a DNS name",
			                 rq->sans[i]);
	return STSD_OK;
}

/* The validity of rq into *nb and *na (Unix seconds), or STSD_INVALID. */
static int cert_validity(const struct pki_cert_request *rq, int64_t *nb, int64_t *na, char *err,
                         size_t errlen)
{
	int64_t now = util_now_unix();

	if (rq->days < 0 || rq->days > MAX_DAYS)
		return stsd_errf(err, errlen, STSD_INVALID, "days %ld out of range 1..%d", rq->days,
		                 MAX_DAYS);
	*nb = rq->not_before != 0 ? rq->not_before : now - SKEW_SECONDS;
	*na = rq->not_after != 0 ? rq->not_after
	                         : now + 86400 * (rq->days != 0 ? rq->days : PKI_DEFAULT_DAYS);
	/* Only not_after given, and already past (a test's expired certificate): start before it.
	 */
	if (rq->not_before == 0 && *na <= *nb)
		*nb = *na - 3600;
	if (*na <= *nb)
		return stsd_errf(err, errlen, STSD_INVALID, "not_after is not after not_before");
	return STSD_OK;
}

static int check_cert_request(const struct pki_cert_request *rq, char *err, size_t errlen)
{
	int rv;

	if (rq == NULL || rq->ca_dir == NULL || rq->ca_dir[0] == '\0')
		return stsd_errf(err, errlen, STSD_INVALID, "no CA directory");
	if (rq->out == NULL || rq->out[0] == '\0')
		return stsd_errf(err, errlen, STSD_INVALID, "no output path");
	if (!valid_text(rq->cn))
		return stsd_errf(err, errlen, STSD_INVALID, "a certificate needs a CN");
	if (!rq->server && !rq->client)
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "a certificate must be for a server, a client or both");
	if (rq->server && count_names(rq->sans) == 0)
		return stsd_errf(
		    err, errlen, STSD_INVALID,
		    "a serving certificate needs at least one SAN (Go clients ignore the "
		    "CN)");
	if ((rv = check_key_type(rq->key, err, errlen)) != STSD_OK)
		return rv;
	return check_names(rq, err, errlen);
}

/* --- building certificates ---------------------------------------------------------------- */

static int gen_key(enum pki_key_type type, gnutls_x509_privkey_t *out, char *err, size_t errlen)
{
	gnutls_pk_algorithm_t pk = type == PKI_KEY_RSA_2048 ? GNUTLS_PK_RSA : GNUTLS_PK_ECDSA;
	unsigned bits =
	    type == PKI_KEY_RSA_2048 ? 2048 : GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
	int rv;

	TRY(gnutls_x509_privkey_init(out), "gnutls_x509_privkey_init");
	if ((rv = gnutls_x509_privkey_generate2(*out, pk, bits, 0, NULL, 0)) < 0) {
		gnutls_x509_privkey_deinit(*out);
		*out = NULL;
		return tls_err(err, errlen, rv, "generate key");
	}
	return STSD_OK;
}

/* A random positive serial. The first byte is kept in 0x01..0x7f: clear top bit so the DER
 * INTEGER is positive (Go refuses negative serials), and non-zero so it stays minimally encoded. */
static int set_serial(gnutls_x509_crt_t crt, char *err, size_t errlen)
{
	unsigned char serial[SERIAL_BYTES];

	TRY(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "random serial");
	serial[0] &= 0x7f;
	if (serial[0] == 0)
		serial[0] = 1;
	TRY(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), "set serial");
	return STSD_OK;
}

/* What every certificate has: version 3, serial, validity, subject, public key and its SKI. */
static int set_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
                      const char *const *orgs, int64_t nb, int64_t na, char *err, size_t errlen)
{
	unsigned char id[64];
	size_t idlen = sizeof id;
	int rv;

	TRY(gnutls_x509_crt_set_version(crt, 3), "set version");
	if ((rv = set_serial(crt, err, errlen)) != STSD_OK)
		return rv;
	TRY(gnutls_x509_crt_set_activation_time(crt, (time_t)nb), "set not before");
	TRY(gnutls_x509_crt_set_expiration_time(crt, (time_t)na), "set not after");
	/* By OID, not by a DN string: group names like "system:masters" need no escaping then. */
	TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	                                  (unsigned)strlen(cn)),
	    "set CN");
	for (size_t i = 0; orgs != NULL && i < count_names(orgs); i++)
		TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
		                                  orgs[i], (unsigned)strlen(orgs[i])),
		    "set O");
	TRY(gnutls_x509_crt_set_key(crt, key), "set key");
	TRY(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen), "key id");
	TRY(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "set subject key id");
	return STSD_OK;
}

/* PEM of crt and key into out (free both data with gnutls_free). */
static int export_pem(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, gnutls_datum_t out[2],
                      char *err, size_t errlen)
{
	TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out[0]), "export certificate");
	TRY(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out[1]), "export key");
	return STSD_OK;
}

/* Export crt and key and write them to crt_path and key_path (0644 and 0600). */
static int save(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *crt_path,
                const char *key_path, bool force, char *err, size_t errlen)
{
	gnutls_datum_t pem[2] = {{NULL, 0}, {NULL, 0}};
	int rv = export_pem(crt, key, pem, err, errlen);

	if (rv == STSD_OK) {
		/* The key first: a certificate on disk without its key would look usable. */
		struct pki_file files[2] = {
		    {key_path, pem[1].data, pem[1].size, 0600},
		    {crt_path, pem[0].data, pem[0].size, 0644},
		};
		rv = pki_write_files(files, 2, force, err, errlen);
	}
	gnutls_free(pem[0].data);
	if (pem[1].data != NULL)
		memset(pem[1].data, 0, pem[1].size); /* do not leave the key in freed memory */
	gnutls_free(pem[1].data);
	return rv;
}

/* --- the CA ------------------------------------------------------------------------------- */

static int build_ca(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
                    const struct pki_ca_request *rq, char *err, size_t errlen)
{
	int64_t now = util_now_unix();
	long days = rq->days != 0 ? rq->days : PKI_CA_DAYS;
	const char *cn = rq->cn != NULL ? rq->cn : "stsd-ca";
	int rv = set_common(crt, key, cn, NULL, now - SKEW_SECONDS, now + 86400 * (int64_t)days,
	                    err, errlen);

	if (rv != STSD_OK)
		return rv;
	TRY(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), "set basic constraints");
	TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
	    "set key usage");
	TRY(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "self-sign");
	return STSD_OK;
}

static int check_ca_request(const struct pki_ca_request *rq, char *err, size_t errlen)
{
	if (rq == NULL || rq->dir == NULL || rq->dir[0] == '\0')
		return stsd_errf(err, errlen, STSD_INVALID, "no CA directory");
	if (rq->cn != NULL && !valid_text(rq->cn))
		return stsd_errf(err, errlen, STSD_INVALID, "bad CA CN");
	if (rq->days < 0 || rq->days > MAX_DAYS)
		return stsd_errf(err, errlen, STSD_INVALID, "days %ld out of range 1..%d", rq->days,
		                 MAX_DAYS);
	return check_key_type(rq->key, err, errlen);
}

static int join(char *buf, const char *dir, const char *name, char *err, size_t errlen)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return stsd_errf(err, errlen, STSD_INVALID, "path too long: %s/%s", dir, name);
	return STSD_OK;
}

int pki_ca_init(const struct pki_ca_request *rq, char *err, size_t errlen)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX];
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int rv;

	if ((rv = check_ca_request(rq, err, errlen)) != STSD_OK ||
	    (rv = join(crt_path, rq->dir, "ca.crt", err, errlen)) != STSD_OK ||
	    (rv = join(key_path, rq->dir, "ca.key", err, errlen)) != STSD_OK ||
	    (rv = tls_init(err, errlen)) != STSD_OK)
		return rv;
	if (!rq->force && ((rv = pki_check_absent(key_path, err, errlen)) != STSD_OK ||
	                   (rv = pki_check_absent(crt_path, err, errlen)) != STSD_OK))
		return rv;
	if ((rv = pki_mkdirs(rq->dir, err, errlen)) != STSD_OK ||
	    (rv = gen_key(rq->key, &key, err, errlen)) != STSD_OK)
		return rv;
	if ((rv = gnutls_x509_crt_init(&crt)) < 0)
		rv = tls_err(err, errlen, rv, "gnutls_x509_crt_init");
	else if ((rv = build_ca(crt, key, rq, err, errlen)) == STSD_OK)
		rv = save(crt, key, crt_path, key_path, rq->force, err, errlen);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return rv;
}

/* --- issuing ------------------------------------------------------------------------------ */

/* The CA of a directory: its certificate and key, checked to be a CA and to belong together. */
struct ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static void ca_close(struct ca *ca)
{
	if (ca->crt != NULL)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->key != NULL)
		gnutls_x509_privkey_deinit(ca->key);
}

/* Read path into *pem (gnutls-style datum over malloc'd memory). */
static int read_pem(const char *dir, const char *name, gnutls_datum_t *pem, char *err,
                    size_t errlen)
{
	char path[PATH_MAX];
	size_t len;
	int rv = join(path, dir, name, err, errlen);

	if (rv != STSD_OK)
		return rv;
	if ((pem->data = (unsigned char *)pki_read_file(path, &len)) == NULL)
		return stsd_errf(err, errlen, STSD_IO, "read CA %s: %s", path, strerror(errno));
	pem->size = (unsigned)len;
	return STSD_OK;
}

/* Both halves of the CA parsed; STSD_CORRUPT when a file is not what it should be. */
static int ca_parse(struct ca *ca, const gnutls_datum_t *crt, const gnutls_datum_t *key,
                    const char *dir, char *err, size_t errlen)
{
	unsigned char id1[64], id2[64];
	size_t n1 = sizeof id1, n2 = sizeof id2;
	unsigned critical, is_ca = 0;

	TRY(gnutls_x509_crt_init(&ca->crt), "gnutls_x509_crt_init");
	TRY(gnutls_x509_privkey_init(&ca->key), "gnutls_x509_privkey_init");
	if (gnutls_x509_crt_import(ca->crt, crt, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_get_basic_constraints(ca->crt, &critical, &is_ca, NULL) < 0 || !is_ca)
		return stsd_errf(err, errlen, STSD_CORRUPT, "%s/ca.crt is not a CA certificate",
		                 dir);
	if (gnutls_x509_privkey_import(ca->key, key, GNUTLS_X509_FMT_PEM) < 0)
		return stsd_errf(err, errlen, STSD_CORRUPT, "%s/ca.key is not a PEM private key",
		                 dir);
	if (gnutls_x509_crt_get_key_id(ca->crt, 0, id1, &n1) < 0 ||
	    gnutls_x509_privkey_get_key_id(ca->key, 0, id2, &n2) < 0 || n1 != n2 ||
	    memcmp(id1, id2, n1) != 0)
		return stsd_errf(err, errlen, STSD_CORRUPT, "%s: ca.key does not match ca.crt",
		                 dir);
	return STSD_OK;
}

static int ca_load(struct ca *ca, const char *dir, char *err, size_t errlen)
{
	gnutls_datum_t crt = {NULL, 0}, key = {NULL, 0};
	int rv;

	*ca = (struct ca){NULL, NULL};
	if ((rv = read_pem(dir, "ca.crt", &crt, err, errlen)) == STSD_OK &&
	    (rv = read_pem(dir, "ca.key", &key, err, errlen)) == STSD_OK)
		rv = ca_parse(ca, &crt, &key, dir, err, errlen);
	free(crt.data);
	if (key.data != NULL)
		memset(key.data, 0, key.size); /* the CA key should not linger in freed memory */
	free(key.data);
	if (rv != STSD_OK)
		ca_close(ca);
	return rv;
}

static int set_sans(gnutls_x509_crt_t crt, const char *const *sans, char *err, size_t errlen)
{
	unsigned char ip[16];

	for (size_t i = 0; i < count_names(sans); i++) {
		size_t n = parse_ip(sans[i], ip);
		if (n != 0)
			TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip,
			                                         (unsigned)n, GNUTLS_FSAN_APPEND),
			    "set IP SAN");
		else
			TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, sans[i],
			                                         (unsigned)strlen(sans[i]),
			                                         GNUTLS_FSAN_APPEND),
			    "set DNS SAN");
	}
	return STSD_OK;
}

/* The extensions of an issued certificate, then the CA's signature. */
static int build_leaf(gnutls_x509_crt_t crt, const struct pki_cert_request *rq, const struct ca *ca,
                      char *err, size_t errlen)
{
	unsigned char id[64];
	size_t idlen = sizeof id;
	unsigned critical;
	unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE;

	/* RSA key exchange (TLS 1.2 without ECDHE) encrypts to the key: Go checks for this bit. */
	if (rq->key == PKI_KEY_RSA_2048)
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	TRY(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "set basic constraints");
	TRY(gnutls_x509_crt_set_key_usage(crt, usage), "set key usage");
	if (rq->server)
		TRY(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
		    "set serverAuth");
	if (rq->client)
		TRY(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
		    "set clientAuth");
	int rv = set_sans(crt, rq->sans, err, errlen);
	if (rv != STSD_OK)
		return rv;
	if (gnutls_x509_crt_get_subject_key_id(ca->crt, id, &idlen, &critical) < 0) {
		idlen = sizeof id;
		TRY(gnutls_x509_crt_get_key_id(ca->crt, GNUTLS_KEYID_USE_SHA1, id, &idlen),
		    "CA key id");
	}
	TRY(gnutls_x509_crt_set_authority_key_id(crt, id, idlen), "set authority key id");
	TRY(gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0), "sign");
	return STSD_OK;
}

static int issue(const struct pki_cert_request *rq, const struct ca *ca, const char *crt_path,
                 const char *key_path, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int64_t nb = 0, na = 0;
	int rv;

	if ((rv = cert_validity(rq, &nb, &na, err, errlen)) != STSD_OK ||
	    (rv = gen_key(rq->key, &key, err, errlen)) != STSD_OK)
		return rv;
	if ((rv = gnutls_x509_crt_init(&crt)) < 0)
		rv = tls_err(err, errlen, rv, "gnutls_x509_crt_init");
	else if ((rv = set_common(crt, key, rq->cn, rq->orgs, nb, na, err, errlen)) == STSD_OK &&
	         (rv = build_leaf(crt, rq, ca, err, errlen)) == STSD_OK)
		rv = save(crt, key, crt_path, key_path, rq->force, err, errlen);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return rv;
}

int pki_issue(const struct pki_cert_request *rq, char *err, size_t errlen)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX];
	struct ca ca;
	int64_t nb = 0, na = 0;
	int rv;

	if ((rv = check_cert_request(rq, err, errlen)) != STSD_OK ||
	    (rv = cert_validity(rq, &nb, &na, err, errlen)) != STSD_OK)
		return rv;
	if (snprintf(crt_path, sizeof crt_path, "%s.crt", rq->out) >= (int)sizeof crt_path ||
	    snprintf(key_path, sizeof key_path, "%s.key", rq->out) >= (int)sizeof key_path)
		return stsd_errf(err, errlen, STSD_INVALID, "path too long: %s", rq->out);
	if ((rv = tls_init(err, errlen)) != STSD_OK)
		return rv;
	if (!rq->force && ((rv = pki_check_absent(key_path, err, errlen)) != STSD_OK ||
	                   (rv = pki_check_absent(crt_path, err, errlen)) != STSD_OK))
		return rv;
	if ((rv = ca_load(&ca, rq->ca_dir, err, errlen)) != STSD_OK)
		return rv;
	rv = issue(rq, &ca, crt_path, key_path, err, errlen);
	ca_close(&ca);
	return rv;
}
