/* pki.h — the cluster's certificate authority and the certificates it issues (GnuTLS).
 *
 * One CA per cluster (ECDSA P-256 by default) signs serving certificates for the replicas (SANs for
 * every address and name they answer on: Go clients such as kubectl reject a certificate without
 * SANs) and client certificates (subject CN = user name, O = groups, as kube-apiserver reads them).
 * Files are PEM: DIR/ca.crt and DIR/ca.key for the CA, OUT.crt and OUT.key for what it issues; keys
 * are written with mode 0600, never over an existing file unless asked to.
 *
 * Used by `stsctl pki`, `stsctl dev up` and the test harnesses. Functions return 0 or a code of
 * errors.h (STSD_INVALID for a bad request, STSD_EXISTS when a file would be overwritten, STSD_IO,
 * STSD_NOMEM) with the reason in err. Thread-safe (GnuTLS is initialised on first use). */
#ifndef STSD_COMMON_PKI_H
#define STSD_COMMON_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKI_MAX_NAMES    16 /* SANs of each kind, organisations */
#define PKI_DEFAULT_DAYS 365
#define PKI_CA_DAYS      3650

enum pki_key_type {
	PKI_KEY_ECDSA_P256 = 0, /* default: cheap handshakes */
	PKI_KEY_RSA_2048,
};

struct pki_ca_request {
	const char *dir;       /* where ca.crt and ca.key go (created 0700 if missing) */
	const char *cn;        /* subject CN; NULL: "stsd-ca" */
	long days;             /* validity; 0: PKI_CA_DAYS */
	enum pki_key_type key; /* 0: ECDSA P-256 */
	bool force;            /* overwrite an existing CA (otherwise STSD_EXISTS) */
};

/* Create a self-signed CA: basicConstraints CA:TRUE (critical), keyUsage keyCertSign + cRLSign
 * (critical), a random positive serial, a subject key identifier. */
int pki_ca_init(const struct pki_ca_request *rq, char *err, size_t errlen);

struct pki_cert_request {
	const char *ca_dir; /* holds ca.crt and ca.key */
	const char *out;    /* path prefix: OUT.crt and OUT.key are written */
	const char *cn;     /* subject CN (the user name of a client certificate); required */
	const char *orgs[PKI_MAX_NAMES]; /* subject O values (groups), NULL-terminated */
	const char *sans[PKI_MAX_NAMES]; /* SANs, NULL-terminated: an IPv4/IPv6 literal becomes an
	                                  * IP SAN, anything else a DNS SAN */
	bool server;                     /* extKeyUsage serverAuth (needs at least one SAN) */
	bool client;                     /* extKeyUsage clientAuth */
	long days;                       /* validity from now; 0: PKI_DEFAULT_DAYS */
	/* When not 0, the exact validity (Unix seconds), overriding days: tests make expired and
	 * not-yet-valid certificates with it. not_before defaults to now - 5 minutes (clock skew).
	 */
	int64_t not_before, not_after;
	enum pki_key_type key;
	bool force; /* overwrite existing OUT.crt / OUT.key */
};

/* Issue a certificate signed by the CA in ca_dir: keyUsage digitalSignature (critical; plus
 * keyEncipherment for RSA), the requested extended key usages, basicConstraints CA:FALSE, the
 * CA's authority key identifier, a random positive serial. At least one of server/client. */
int pki_issue(const struct pki_cert_request *rq, char *err, size_t errlen);

/* The whole file at path, NUL-terminated (the NUL is not counted in *len; len may be NULL), or
 * NULL with errno set. For embedding PEM into a kubeconfig. Free with free(). */
char *pki_read_file(const char *path, size_t *len);

#endif
