/* test_pki.c — the cluster PKI: what pki_ca_init and pki_issue write, read back and checked with
 * GnuTLS (extensions, names, keys, verification against the CA), and the requests they refuse. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "errors.h"
#include "pki.h"
#include "util.h"

struct fixture {
	char dir[256];      /* a fresh temporary directory */
	char ca[PATH_MAX];  /* dir/ca, holding a CA made by setup */
	char out[PATH_MAX]; /* the output prefix of the request being made */
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "%s/stsd-pki.XXXXXX",
	         getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->ca, sizeof f->ca, "%s/ca", f->dir);
	struct pki_ca_request rq = {.dir = f->ca};
	if (pki_ca_init(&rq, f->err, sizeof f->err) != STSD_OK) {
		fprintf(stderr, "setup: %s\n", f->err);
		return -1;
	}
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* dir/name into a static buffer (one at a time). */
static const char *at(const struct fixture *f, const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	return path;
}

/* dir/name into f->out: for a request's out, which must outlive later calls of at(). */
static const char *out(struct fixture *f, const char *name)
{
	snprintf(f->out, sizeof f->out, "%s/%s", f->dir, name);
	return f->out;
}

static gnutls_x509_crt_t load_crt(const char *path)
{
	gnutls_x509_crt_t crt;
	size_t len;
	char *pem = pki_read_file(path, &len);
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};

	assert_non_null(pem);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	free(pem);
	return crt;
}

static gnutls_x509_privkey_t load_key(const char *path)
{
	gnutls_x509_privkey_t key;
	size_t len;
	char *pem = pki_read_file(path, &len);
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};

	assert_non_null(pem);
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM), 0);
	free(pem);
	return key;
}

/* The verification status of the certificate at path against the CA in ca_dir (0: trusted). */
static unsigned verify(const char *path, const char *ca_dir)
{
	char ca_path[PATH_MAX];
	unsigned status = 0;

	snprintf(ca_path, sizeof ca_path, "%s/ca.crt", ca_dir);
	gnutls_x509_crt_t crt = load_crt(path), ca = load_crt(ca_path);
	assert_int_equal(gnutls_x509_crt_verify(crt, &ca, 1, 0, &status), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	return status;
}

/* The same through a trust list, also requiring the extended key usage purpose. */
static unsigned verify_for(const char *path, const char *ca_dir, const char *purpose)
{
	char ca_path[PATH_MAX];
	gnutls_x509_trust_list_t list;
	gnutls_typed_vdata_st data = {GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)purpose, 0};
	unsigned status = 0;

	snprintf(ca_path, sizeof ca_path, "%s/ca.crt", ca_dir);
	gnutls_x509_crt_t crt = load_crt(path), ca = load_crt(ca_path);
	assert_int_equal(gnutls_x509_trust_list_init(&list, 0), 0);
	assert_int_equal(gnutls_x509_trust_list_add_cas(list, &ca, 1, 0), 1); /* list owns ca */
	assert_int_equal(
	    gnutls_x509_trust_list_verify_crt2(list, &crt, 1, &data, 1, 0, &status, NULL), 0);
	gnutls_x509_trust_list_deinit(list, 1);
	gnutls_x509_crt_deinit(crt);
	return status;
}

static void assert_mode(const char *path, mode_t mode)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Entries in dir other than . and ..: catches leftover temporary files. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* The serial is 16 random bytes with a clear top bit (positive) and no leading zero byte. */
static void assert_positive_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[64];
	size_t len = sizeof serial;

	assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(serial[0] & 0x80, 0);
	assert_int_not_equal(serial[0], 0);
}

static void assert_basic_constraints(gnutls_x509_crt_t crt, unsigned want_ca)
{
	unsigned critical = 0, ca = 99;

	assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, NULL) >= 0);
	assert_int_equal(ca, want_ca);
	assert_int_equal(critical, 1);
}

static unsigned key_usage(gnutls_x509_crt_t crt)
{
	unsigned usage = 0, critical = 0;

	assert_int_equal(gnutls_x509_crt_get_key_usage(crt, &usage, &critical), 0);
	assert_int_equal(critical, 1);
	return usage;
}

static bool has_purpose(gnutls_x509_crt_t crt, const char *oid)
{
	char buf[128];

	for (unsigned i = 0;; i++) {
		size_t len = sizeof buf;
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &len, NULL) < 0)
			return false;
		if (strcmp(buf, oid) == 0)
			return true;
	}
}

/* The i-th value of oid in the subject as stored (no DN escaping), or "" when there is none. */
static const char *subject(gnutls_x509_crt_t crt, const char *oid, unsigned i)
{
	static char buf[256];
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;

	assert_int_equal(gnutls_x509_crt_get_subject(crt, &dn), 0); /* dn is owned by crt */
	for (int rdn = 0; gnutls_x509_dn_get_rdn_ava(dn, rdn, 0, &ava) == 0; rdn++) {
		/* The OID datum is NUL-terminated text (its size counts the NUL). */
		if (strcmp((const char *)ava.oid.data, oid) != 0)
			continue;
		if (i-- > 0)
			continue;
		assert_true(ava.value.size < sizeof buf);
		memcpy(buf, ava.value.data, ava.value.size);
		buf[ava.value.size] = '\0';
		return buf;
	}
	return "";
}

static void ca_is_a_ca(void **state)
{
	struct fixture *f = *state;
	unsigned bits = 0;

	gnutls_x509_crt_t ca = load_crt(at(f, "ca/ca.crt"));
	assert_basic_constraints(ca, 1);
	assert_int_equal(key_usage(ca), GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	assert_string_equal(subject(ca, GNUTLS_OID_X520_COMMON_NAME, 0), "stsd-ca");
	assert_positive_serial(ca);
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(ca, &bits), GNUTLS_PK_ECDSA);
	assert_int_equal(bits, 256);
	/* 3650 days by default. */
	time_t left = gnutls_x509_crt_get_expiration_time(ca) - (time_t)util_now_unix();
	assert_in_range(left, 3649L * 86400, 3650L * 86400 + 60);
	assert_int_equal(verify(at(f, "ca/ca.crt"), f->ca), 0); /* self-signed */
	gnutls_x509_crt_deinit(ca);
	assert_mode(at(f, "ca/ca.key"), 0600);
	assert_mode(at(f, "ca/ca.crt"), 0644);
	assert_mode(f->ca, 0700);
	assert_int_equal(count_entries(f->ca), 2);
}

/* IP SANs come back as address bytes, DNS SANs as text. */
static void server_cert(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {.ca_dir = f->ca,
	                              .out = out(f, "web-0"),
	                              .cn = "web-0",
	                              .sans = {"localhost", "127.0.0.1", "::1", "web-0.stsd.svc"},
	                              .server = true};
	char buf[256];
	unsigned char ip6[16] = {[15] = 1};

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	gnutls_x509_crt_t crt = load_crt(at(f, "web-0.crt"));
	int want[] = {GNUTLS_SAN_DNSNAME, GNUTLS_SAN_IPADDRESS, GNUTLS_SAN_IPADDRESS,
	              GNUTLS_SAN_DNSNAME};
	const void *value[] = {"localhost", "\x7f\0\0\x01", ip6, "web-0.stsd.svc"};
	size_t size[] = {9, 4, 16, 14};
	for (unsigned i = 0; i < 4; i++) {
		size_t len = sizeof buf;
		assert_int_equal(gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, NULL),
		                 want[i]);
		assert_int_equal(len, size[i]);
		assert_memory_equal(buf, value[i], size[i]);
	}
	assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
	assert_false(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
	assert_int_equal(key_usage(crt), GNUTLS_KEY_DIGITAL_SIGNATURE);
	assert_basic_constraints(crt, 0);
	assert_positive_serial(crt);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(verify(at(f, "web-0.crt"), f->ca), 0);
	assert_int_equal(verify_for(at(f, "web-0.crt"), f->ca, GNUTLS_KP_TLS_WWW_SERVER), 0);
	assert_int_not_equal(verify_for(at(f, "web-0.crt"), f->ca, GNUTLS_KP_TLS_WWW_CLIENT), 0);
	assert_mode(at(f, "web-0.key"), 0600);
	assert_int_equal(count_entries(f->dir), 3); /* ca/, web-0.crt, web-0.key: no temporaries */
}

/* kube-apiserver reads the user from CN and the groups from every O; ':' must survive. */
static void client_cert(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {.ca_dir = f->ca,
	                              .out = out(f, "node"),
	                              .cn = "system:node:n1",
	                              .orgs = {"system:nodes", "system:masters", "a,b=c+d"},
	                              .client = true};

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	gnutls_x509_crt_t crt = load_crt(at(f, "node.crt"));
	assert_string_equal(subject(crt, GNUTLS_OID_X520_COMMON_NAME, 0), "system:node:n1");
	assert_string_equal(subject(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0), "system:nodes");
	assert_string_equal(subject(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 1), "system:masters");
	assert_string_equal(subject(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 2), "a,b=c+d");
	assert_string_equal(subject(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 3), "");
	assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
	assert_false(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
	assert_basic_constraints(crt, 0);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(verify_for(at(f, "node.crt"), f->ca, GNUTLS_KP_TLS_WWW_CLIENT), 0);
	assert_int_not_equal(verify_for(at(f, "node.crt"), f->ca, GNUTLS_KP_TLS_WWW_SERVER), 0);
}

/* The key file holds the private half of the certificate's key: ECDSA P-256 by default. */
static void keys_match_and_default_to_p256(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {.ca_dir = f->ca,
	                              .out = out(f, "both"),
	                              .cn = "r1",
	                              .sans = {"r1"},
	                              .server = true,
	                              .client = true};
	unsigned char id1[64], id2[64];
	size_t n1 = sizeof id1, n2 = sizeof id2;
	gnutls_ecc_curve_t curve;
	gnutls_datum_t x, y;

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	gnutls_x509_crt_t crt = load_crt(at(f, "both.crt"));
	gnutls_x509_privkey_t key = load_key(at(f, "both.key"));
	assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
	assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
	assert_int_equal(gnutls_x509_privkey_get_pk_algorithm(key), GNUTLS_PK_ECDSA);
	assert_int_equal(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y), 0);
	assert_int_equal(curve, GNUTLS_ECC_CURVE_SECP256R1);
	gnutls_free(x.data);
	gnutls_free(y.data);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, 0, id1, &n1), 0);
	assert_int_equal(gnutls_x509_privkey_get_key_id(key, 0, id2, &n2), 0);
	assert_memory_equal(id1, id2, n1);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
}

static void rsa_on_request(void **state)
{
	struct fixture *f = *state;
	struct pki_ca_request carq = {.dir = at(f, "rsa-ca"), .key = PKI_KEY_RSA_2048};
	char ca_dir[PATH_MAX];
	unsigned bits = 0;

	snprintf(ca_dir, sizeof ca_dir, "%s", carq.dir);
	carq.dir = ca_dir;
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_OK);
	struct pki_cert_request rq = {.ca_dir = ca_dir,
	                              .out = out(f, "rsa"),
	                              .cn = "u",
	                              .client = true,
	                              .key = PKI_KEY_RSA_2048};
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	gnutls_x509_crt_t crt = load_crt(at(f, "rsa.crt"));
	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_RSA);
	assert_int_equal(bits, 2048);
	assert_int_equal(key_usage(crt),
	                 GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_RSA_SHA256);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(verify(at(f, "rsa.crt"), ca_dir), 0);
}

/* Distinct serials, each positive and minimally encoded. */
static void serials_are_random_and_positive(void **state)
{
	struct fixture *f = *state;
	unsigned char seen[8][16];

	for (int i = 0; i < 8; i++) {
		struct pki_cert_request rq = {
		    .ca_dir = f->ca, .out = out(f, "s"), .cn = "s", .client = true, .force = true};
		size_t len = 16;
		assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
		gnutls_x509_crt_t crt = load_crt(at(f, "s.crt"));
		assert_positive_serial(crt);
		assert_int_equal(gnutls_x509_crt_get_serial(crt, seen[i], &len), 0);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(seen[i], seen[j], 16);
		gnutls_x509_crt_deinit(crt);
	}
}

static void no_overwrite_without_force(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {
	    .ca_dir = f->ca, .out = out(f, "u"), .cn = "u", .client = true};
	struct pki_ca_request carq = {.dir = f->ca};
	size_t len;

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	char *key = pki_read_file(at(f, "u.key"), &len);
	assert_non_null(key);
	f->err[0] = '\0';
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_EXISTS);
	assert_non_null(strstr(f->err, "u.key"));
	char *same = pki_read_file(at(f, "u.key"), NULL);
	assert_string_equal(key, same);
	free(same);
	/* Only the certificate there is enough to refuse: the pair belongs together. */
	assert_int_equal(unlink(at(f, "u.key")), 0);
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_EXISTS);
	assert_false(exists(at(f, "u.key")));

	rq.force = true;
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	char *changed = pki_read_file(at(f, "u.key"), NULL);
	assert_string_not_equal(key, changed);
	assert_mode(at(f, "u.key"), 0600);
	free(changed);
	free(key);

	char *ca = pki_read_file(at(f, "ca/ca.crt"), NULL);
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_EXISTS);
	char *ca_same = pki_read_file(at(f, "ca/ca.crt"), NULL);
	assert_string_equal(ca, ca_same);
	carq.force = true;
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_OK);
	char *ca_new = pki_read_file(at(f, "ca/ca.crt"), NULL);
	assert_string_not_equal(ca, ca_new);
	free(ca);
	free(ca_same);
	free(ca_new);
	/* The old CA's certificate no longer verifies against the replaced CA. */
	assert_int_not_equal(verify(at(f, "u.crt"), f->ca), 0);
	assert_int_equal(count_entries(f->ca), 2);
}

static void validity(void **state)
{
	struct fixture *f = *state;
	int64_t now = util_now_unix();
	struct pki_cert_request rq = {.ca_dir = f->ca, .cn = "v", .client = true};

	rq.out = out(f, "expired");
	rq.not_before = now - 2 * 86400;
	rq.not_after = now - 86400;
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	assert_true(verify(at(f, "expired.crt"), f->ca) & GNUTLS_CERT_EXPIRED);

	/* Only not_after, in the past: still a well-formed, expired certificate. */
	rq.out = out(f, "expired2");
	rq.not_before = 0;
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	assert_true(verify(at(f, "expired2.crt"), f->ca) & GNUTLS_CERT_EXPIRED);

	rq.out = out(f, "future");
	rq.not_before = now + 86400;
	rq.not_after = now + 2 * 86400;
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	assert_true(verify(at(f, "future.crt"), f->ca) & GNUTLS_CERT_NOT_ACTIVATED);

	rq.out = out(f, "days");
	rq.not_before = rq.not_after = 0;
	rq.days = 30;
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	gnutls_x509_crt_t crt = load_crt(at(f, "days.crt"));
	int64_t nb = gnutls_x509_crt_get_activation_time(crt);
	int64_t na = gnutls_x509_crt_get_expiration_time(crt);
	assert_in_range(nb, now - 300 - 5, now - 300 + 5); /* five minutes of clock skew */
	assert_in_range(na, now + 30 * 86400 - 5, now + 30 * 86400 + 5);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(verify(at(f, "days.crt"), f->ca), 0);
}

static void foreign_ca_does_not_verify(void **state)
{
	struct fixture *f = *state;
	char other[PATH_MAX];

	snprintf(other, sizeof other, "%s", at(f, "other"));
	struct pki_ca_request carq = {.dir = other, .cn = "stsd-ca"}; /* same name, other key */
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_OK);
	struct pki_cert_request rq = {
	    .ca_dir = other, .out = out(f, "x"), .cn = "x", .sans = {"x"}, .server = true};
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	assert_int_equal(verify(at(f, "x.crt"), other), 0);
	unsigned status = verify(at(f, "x.crt"), f->ca);
	assert_true(status & GNUTLS_CERT_INVALID);
	assert_int_not_equal(verify_for(at(f, "x.crt"), f->ca, GNUTLS_KP_TLS_WWW_SERVER), 0);
}

/* Each bad request fails with its code and a message, and leaves nothing behind. */
static void bad_requests_write_nothing(void **state)
{
	struct fixture *f = *state;
	char missing[PATH_MAX];
	const char *ca = f->ca, *o = out(f, "out");

	snprintf(missing, sizeof missing, "%s", at(f, "no-such-ca"));
	struct {
		struct pki_cert_request rq;
		int code;
		const char *words;
	} cases[] = {
	    {{.ca_dir = ca, .out = o, .client = true}, STSD_INVALID, "CN"},
	    {{.ca_dir = ca, .out = o, .cn = "", .client = true}, STSD_INVALID, "CN"},
	    {{.ca_dir = ca, .out = o, .cn = "a\nb", .client = true}, STSD_INVALID, "CN"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .server = true}, STSD_INVALID, "SAN"},
	    {{.ca_dir = ca, .out = o, .cn = "s"}, STSD_INVALID, "server, a client"},
	    {{.ca_dir = missing, .out = o, .cn = "s", .client = true}, STSD_IO, "no-such-ca"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .sans = {"a b"}, .server = true},
	     STSD_INVALID,
	     "a b"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .sans = {"10.0.0.1:6443"}, .server = true},
	     STSD_INVALID,
	     "10.0.0.1:6443"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .orgs = {""}, .client = true},
	     STSD_INVALID,
	     "organisation"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .client = true, .key = 7}, STSD_INVALID, "key"},
	    {{.ca_dir = ca, .out = o, .cn = "s", .client = true, .days = -1}, STSD_INVALID, "days"},
	    {{.ca_dir = ca,
	      .out = o,
	      .cn = "s",
	      .client = true,
	      .not_before = 2000,
	      .not_after = 1000},
	     STSD_INVALID,
	     "not_after"},
	    {{.ca_dir = ca, .cn = "s", .client = true}, STSD_INVALID, "output"},
	    {{.out = o, .cn = "s", .client = true}, STSD_INVALID, "CA"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f->err[0] = '\0';
		assert_int_equal(pki_issue(&cases[i].rq, f->err, sizeof f->err), cases[i].code);
		if (strstr(f->err, cases[i].words) == NULL)
			fail_msg("case %zu: '%s' does not mention '%s'", i, f->err, cases[i].words);
		assert_int_equal(count_entries(f->dir), 1); /* only ca/ */
	}
	assert_int_equal(pki_issue(NULL, f->err, sizeof f->err), STSD_INVALID);

	struct pki_ca_request bad_ca[] = {{.dir = NULL},
	                                  {.dir = ""},
	                                  {.dir = o, .key = 9},
	                                  {.dir = o, .cn = ""},
	                                  {.dir = o, .days = -3}};
	for (size_t i = 0; i < sizeof bad_ca / sizeof bad_ca[0]; i++) {
		f->err[0] = '\0';
		assert_int_equal(pki_ca_init(&bad_ca[i], f->err, sizeof f->err), STSD_INVALID);
		assert_true(f->err[0] != '\0');
	}
	assert_int_equal(count_entries(f->dir), 1);
}

/* A directory whose files are not a matching CA pair is refused, not used. */
static void corrupt_or_mismatched_ca(void **state)
{
	struct fixture *f = *state;
	char other[PATH_MAX], cmd[3 * PATH_MAX];
	struct pki_cert_request rq = {
	    .ca_dir = f->ca, .out = out(f, "c"), .cn = "c", .client = true};

	snprintf(other, sizeof other, "%s", at(f, "other"));
	struct pki_ca_request carq = {.dir = other};
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_OK);
	/* The other CA's key beside our certificate. */
	snprintf(cmd, sizeof cmd, "cp %s/ca.key %s/ca.key", other, f->ca);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_CORRUPT);
	assert_non_null(strstr(f->err, "does not match"));

	FILE *fp = fopen(at(f, "ca/ca.key"), "w");
	assert_non_null(fp);
	fputs("not a key\n", fp);
	fclose(fp);
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_CORRUPT);
	assert_non_null(strstr(f->err, "ca.key"));

	/* A leaf certificate is not a CA. */
	char leaf_out[PATH_MAX];
	snprintf(leaf_out, sizeof leaf_out, "%s/ca/ca", f->dir);
	struct pki_cert_request leaf = {
	    .ca_dir = other, .out = leaf_out, .cn = "l", .client = true, .force = true};
	assert_int_equal(pki_issue(&leaf, f->err, sizeof f->err), STSD_OK);
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_CORRUPT);
	assert_non_null(strstr(f->err, "not a CA"));
	assert_false(exists(at(f, "c.crt")));
	assert_false(exists(at(f, "c.key")));
}

static void writes_fail_cleanly(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {
	    .ca_dir = f->ca, .out = out(f, "no/such/dir/x"), .cn = "x", .client = true};

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_IO);
	assert_non_null(strstr(f->err, "no/such/dir/x"));
	assert_int_equal(count_entries(f->dir), 1);

	/* The CA directory is made with its parents, mode 0700. */
	char nested[PATH_MAX];
	snprintf(nested, sizeof nested, "%s", at(f, "a/b/c"));
	struct pki_ca_request carq = {.dir = nested, .days = 10, .cn = "nested"};
	assert_int_equal(pki_ca_init(&carq, f->err, sizeof f->err), STSD_OK);
	assert_mode(nested, 0700);
	gnutls_x509_crt_t ca = load_crt(at(f, "a/b/c/ca.crt"));
	assert_string_equal(subject(ca, GNUTLS_OID_X520_COMMON_NAME, 0), "nested");
	gnutls_x509_crt_deinit(ca);

	/* A file where the CA directory should be. */
	struct pki_ca_request onfile = {.dir = at(f, "a/b/c/ca.crt")};
	assert_int_equal(pki_ca_init(&onfile, f->err, sizeof f->err), STSD_IO);
}

/* A forced re-issue that fails between its two renames (here the certificate's path is a
 * directory) must not leave the new key without its certificate: the old key is put back, mode
 * included, and no backup or temporary file is left over. */
static void failed_forced_reissue_keeps_old_key(void **state)
{
	struct fixture *f = *state;
	struct pki_cert_request rq = {
	    .ca_dir = f->ca, .out = out(f, "k"), .cn = "k", .client = true};

	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	char *key = pki_read_file(at(f, "k.key"), NULL);
	assert_non_null(key);
	assert_int_equal(chmod(at(f, "k.key"), 0640), 0);
	assert_int_equal(unlink(at(f, "k.crt")), 0);
	assert_int_equal(mkdir(at(f, "k.crt"), 0700), 0);

	rq.force = true;
	f->err[0] = '\0';
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_IO);
	assert_non_null(strstr(f->err, "k.crt"));
	char *after = pki_read_file(at(f, "k.key"), NULL);
	assert_non_null(after);
	assert_string_equal(key, after);
	assert_mode(at(f, "k.key"), 0640);
	assert_int_equal(count_entries(f->dir), 3); /* ca/, k.key, k.crt/ */
	free(after);
	free(key);

	/* With the obstacle gone, the forced re-issue replaces both. */
	assert_int_equal(rmdir(at(f, "k.crt")), 0);
	assert_int_equal(pki_issue(&rq, f->err, sizeof f->err), STSD_OK);
	assert_int_equal(verify(at(f, "k.crt"), f->ca), 0);
	assert_int_equal(count_entries(f->dir), 3);
}

static void read_file(void **state)
{
	struct fixture *f = *state;
	size_t len = 0;

	char *pem = pki_read_file(at(f, "ca/ca.crt"), &len);
	assert_non_null(pem);
	assert_int_equal(strlen(pem), len);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	free(pem);
	errno = 0;
	assert_null(pki_read_file(at(f, "nothing"), &len));
	assert_int_equal(errno, ENOENT);
	assert_null(pki_read_file(f->ca, NULL)); /* a directory */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(ca_is_a_ca),
	    T(server_cert),
	    T(client_cert),
	    T(keys_match_and_default_to_p256),
	    T(rsa_on_request),
	    T(serials_are_random_and_positive),
	    T(no_overwrite_without_force),
	    T(validity),
	    T(foreign_ca_does_not_verify),
	    T(bad_requests_write_nothing),
	    T(corrupt_or_mismatched_ca),
	    T(writes_fail_cleanly),
	    T(failed_forced_reissue_keeps_old_key),
	    T(read_file),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
