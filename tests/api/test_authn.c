/* test_authn.c — authentication (api/authn.c): the kube-apiserver token file (parsing, errors
 * naming the line, lookups) and client certificates checked against a CA made here with GnuTLS
 * (good, expired, not yet valid, foreign CA, wrong extKeyUsage, the caller's clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "auth.h"
#include "errors.h"

#define DAY (24 * 3600)

/* Write text to a fresh temporary file; its path into path (>= 32 bytes). */
static void write_tmp(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/stsd-authn-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* ---- Token file ------------------------------------------------------------------------------ */

static const char good_file[] = "# kube-apiserver --token-auth-file format\n"
                                "\n"
                                "tok-admin,admin,uid-1,\"system:masters,dev\"\n"
                                "tok-node , system:node:a , uid-2 , \"system:nodes\"\n"
                                "\"tok,quoted\",bob,uid-3\n"
                                "tok-q,\"say \"\"hi\"\"\",uid-4,\"g1, g2,,\",ignored\n"
                                "   # an indented comment\n"
                                "tok-crlf,carol,uid-5\r\n"
                                "tok-last,dave,uid-6";

static struct auth_tokens *load_text(const char *text, int want, const char *want_err)
{
	struct auth_tokens *t = NULL;
	char path[64], err[256] = "";
	int rc;

	write_tmp(path, text);
	rc = auth_tokens_load(path, &t, err, sizeof err);
	unlink(path);
	if (rc != want)
		fail_msg("load: rc %d (%s), want %d", rc, err, want);
	if (want_err != NULL && strstr(err, want_err) == NULL)
		fail_msg("load: error \"%s\" lacks \"%s\"", err, want_err);
	if (rc != STSD_OK)
		assert_null(t);
	return t;
}

static void token_file_parses(void **state)
{
	struct auth_tokens *t = load_text(good_file, STSD_OK, NULL);
	struct auth_user u;

	assert_int_equal(auth_tokens_count(t), 6);
	assert_true(auth_tokens_lookup(t, "tok-admin", &u));
	assert_string_equal(u.name, "admin");
	assert_string_equal(u.uid, "uid-1");
	assert_int_equal(u.n_groups, 3);
	assert_string_equal(u.groups[0], "system:masters");
	assert_string_equal(u.groups[1], "dev");
	assert_true(auth_user_in(&u, AUTH_AUTHENTICATED_GROUP));

	assert_true(auth_tokens_lookup(t, "tok-node", &u));
	assert_string_equal(u.name, "system:node:a"); /* blanks around fields trimmed */
	assert_string_equal(u.uid, "uid-2");
	assert_true(auth_user_in(&u, AUTH_NODES_GROUP));

	assert_true(auth_tokens_lookup(t, "tok,quoted", &u));
	assert_string_equal(u.name, "bob");
	assert_int_equal(u.n_groups, 1); /* only system:authenticated */

	assert_true(auth_tokens_lookup(t, "tok-q", &u));
	assert_string_equal(u.name, "say \"hi\"");
	assert_int_equal(u.n_groups, 3);
	assert_string_equal(u.groups[0], "g1");
	assert_string_equal(u.groups[1], "g2");

	assert_true(auth_tokens_lookup(t, "tok-crlf", &u));
	assert_string_equal(u.name, "carol");
	assert_string_equal(u.uid, "uid-5");
	assert_true(auth_tokens_lookup(t, "tok-last", &u));
	assert_string_equal(u.uid, "uid-6");
	auth_tokens_free(t);
}

static void token_lookup_misses(void **state)
{
	struct auth_tokens *t = load_text(good_file, STSD_OK, NULL);
	struct auth_user u;

	assert_false(auth_tokens_lookup(t, "tok-admi", &u));
	assert_false(auth_tokens_lookup(t, "tok-adminx", &u));
	assert_false(auth_tokens_lookup(t, "TOK-ADMIN", &u));
	assert_false(auth_tokens_lookup(t, "", &u));
	assert_false(auth_tokens_lookup(t, NULL, &u));
	assert_false(auth_tokens_lookup(NULL, "tok-admin", &u));
	assert_false(auth_tokens_lookup(t, "\"tok,quoted\"", &u));
	auth_tokens_free(t);
}

static void token_find_group(void **state)
{
	struct auth_tokens *t = load_text(good_file, STSD_OK, NULL);

	assert_string_equal(auth_tokens_find_group(t, AUTH_ADMIN_GROUP), "tok-admin");
	assert_string_equal(auth_tokens_find_group(t, AUTH_NODES_GROUP), "tok-node");
	assert_string_equal(auth_tokens_find_group(t, "g2"), "tok-q");
	assert_null(auth_tokens_find_group(t, AUTH_REPLICAS_GROUP));
	/* system:authenticated is added by lookups, not stored */
	assert_null(auth_tokens_find_group(t, AUTH_AUTHENTICATED_GROUP));
	auth_tokens_free(t);
}

static void token_file_errors_name_the_line(void **state)
{
	load_text("# c\ntok,user,uid\ntok2,user\n", STSD_INVALID,
	          "line 3: must have at least 3 columns");
	load_text("onlytoken\n", STSD_INVALID, "line 1: must have at least 3 columns");
	load_text("\n,user,uid\n", STSD_INVALID, "line 2: empty token");
	load_text("\"\",user,uid\n", STSD_INVALID, "line 1: empty token");
	load_text("tok,,uid\n", STSD_INVALID, "line 1: empty user name");
	load_text("a,u1,1\nb,u2,2\n\na,u3,3\n", STSD_INVALID, "line 4: duplicate token");
	load_text("tok,user,uid,\"g1,g2\n", STSD_INVALID, "line 1: unterminated quoted field");
	load_text("tok,user,uid,\"g1\"x\n", STSD_INVALID, "line 1: unterminated quoted field");
	load_text("tok,us\"er,uid\n", STSD_INVALID, "line 1: bare \"");
	load_text("tok,user,uid,\"g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,g13,g14,g15,g16\"\n",
	          STSD_INVALID, "line 1: too many groups");
}

static void token_file_unreadable(void **state)
{
	struct auth_tokens *t = (struct auth_tokens *)1;
	char err[256] = "";

	assert_int_equal(auth_tokens_load("/nonexistent/tokens.csv", &t, err, sizeof err), STSD_IO);
	assert_null(t);
	assert_non_null(strstr(err, "/nonexistent/tokens.csv"));
	assert_int_equal(auth_tokens_load("/", &t, err, sizeof err), STSD_IO); /* a directory */
	/* an empty file holds no tokens: fine */
	t = load_text("", STSD_OK, NULL);
	assert_int_equal(auth_tokens_count(t), 0);
	auth_tokens_free(t);
}

/* More than one read buffer's worth of lines. */
static void token_file_many_lines(void **state)
{
	size_t cap = 600 * 64, used = 0, i;
	char *text = malloc(cap), tok[32];
	struct auth_tokens *t;
	struct auth_user u;

	assert_non_null(text);
	for (i = 0; i < 600; i++)
		used += (size_t)snprintf(text + used, cap - used, "token-%04zu,user-%zu,uid-%zu\n",
		                         i, i, i);
	t = load_text(text, STSD_OK, NULL);
	free(text);
	assert_int_equal(auth_tokens_count(t), 600);
	for (i = 0; i < 600; i += 199) {
		snprintf(tok, sizeof tok, "token-%04zu", i);
		assert_true(auth_tokens_lookup(t, tok, &u));
		snprintf(tok, sizeof tok, "user-%zu", i);
		assert_string_equal(u.name, tok);
	}
	auth_tokens_free(t);
}

static void user_groups(void **state)
{
	struct auth_user u;
	char long_name[AUTH_NAME_MAX + 8];
	unsigned i;

	memset(&u, 0, sizeof u);
	auth_user_add_group(&u, "a");
	auth_user_add_group(&u, "a");
	assert_int_equal(u.n_groups, 1);
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	auth_user_add_group(&u, long_name); /* dropped, never truncated */
	auth_user_add_group(&u, "");
	assert_int_equal(u.n_groups, 1);
	for (i = 0; i < 2 * AUTH_MAX_GROUPS; i++) {
		char g[16];
		snprintf(g, sizeof g, "g%u", i);
		auth_user_add_group(&u, g);
	}
	assert_int_equal(u.n_groups, AUTH_MAX_GROUPS);
	assert_true(auth_user_in(&u, "a"));
	assert_false(auth_user_in(&u, "b"));
	assert_false(auth_user_in(NULL, "a"));
}

static void names_must_survive_forwarding(void **state)
{
	(void)state;
	assert_true(auth_name_ok("system:node:a"));
	assert_true(auth_name_ok("a b"));
	assert_false(auth_name_ok(""));
	assert_false(auth_name_ok(NULL));
	assert_false(auth_name_ok(" system:masters"));
	assert_false(auth_name_ok("admin "));
	assert_false(auth_name_ok("a\\,b")); /* GnuTLS's escape of a comma */
	assert_false(auth_name_ok("a\rb"));
	assert_false(auth_name_ok("a\x7f"));
	load_text("t1,\"admin \",u\n", STSD_INVALID, "line 1: user name");
	load_text("t1,admin,u,\"ok, \\bad\"\n", STSD_INVALID, "line 1: group name");
}

/* ---- Certificates made here ------------------------------------------------------------------ */

struct cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t der;
};

struct cert_spec {
	const char *cn;
	const char *orgs[4];
	bool ca;
	const char *eku; /* NULL: no extKeyUsage */
	time_t not_before, not_after;
	const struct cert *issuer; /* NULL: self-signed */
};

static void make_cert(struct cert *c, const struct cert_spec *s)
{
	unsigned char serial[16], id[64];
	size_t idlen = sizeof id;
	unsigned i;

	memset(c, 0, sizeof *c);
	assert_int_equal(gnutls_x509_privkey_init(&c->key), 0);
	assert_int_equal(
	    gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
	                                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	assert_int_equal(gnutls_x509_crt_init(&c->crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c->crt, 3), 0);
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), 0);
	serial[0] &= 0x7f; /* positive */
	assert_int_equal(gnutls_x509_crt_set_serial(c->crt, serial, sizeof serial), 0);
	if (s->cn != NULL)
		assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c->crt, GNUTLS_OID_X520_COMMON_NAME,
		                                               0, s->cn, strlen(s->cn)),
		                 0);
	for (i = 0; i < 4 && s->orgs[i] != NULL; i++)
		assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c->crt,
		                                               GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
		                                               s->orgs[i], strlen(s->orgs[i])),
		                 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c->crt, s->not_before), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c->crt, s->not_after), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c->crt, c->key), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(c->crt, s->ca, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(c->crt, s->ca
	                                                           ? GNUTLS_KEY_KEY_CERT_SIGN
	                                                           : GNUTLS_KEY_DIGITAL_SIGNATURE),
	                 0);
	if (s->eku != NULL)
		assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(c->crt, s->eku, 0), 0);
	assert_int_equal(gnutls_x509_crt_get_key_id(c->crt, 0, id, &idlen), 0);
	assert_int_equal(gnutls_x509_crt_set_subject_key_id(c->crt, id, idlen), 0);
	if (s->issuer != NULL) {
		idlen = sizeof id;
		assert_int_equal(
		    gnutls_x509_crt_get_subject_key_id(s->issuer->crt, id, &idlen, NULL), 0);
		assert_int_equal(gnutls_x509_crt_set_authority_key_id(c->crt, id, idlen), 0);
	}
	assert_int_equal(gnutls_x509_crt_sign2(c->crt, s->issuer ? s->issuer->crt : c->crt,
	                                       s->issuer ? s->issuer->key : c->key,
	                                       GNUTLS_DIG_SHA256, 0),
	                 0);
	assert_int_equal(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_DER, &c->der), 0);
}

static void free_cert(struct cert *c)
{
	gnutls_free(c->der.data);
	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
}

/* A trust list holding ca. */
static struct auth_trust *trust_of(const struct cert *ca)
{
	gnutls_datum_t pem;
	struct auth_trust *t = NULL;
	char path[64], err[256], *text;

	assert_int_equal(gnutls_x509_crt_export2(ca->crt, GNUTLS_X509_FMT_PEM, &pem), 0);
	text = calloc(1, pem.size + 1);
	assert_non_null(text);
	memcpy(text, pem.data, pem.size);
	gnutls_free(pem.data);
	write_tmp(path, text);
	free(text);
	if (auth_trust_load(path, &t, err, sizeof err) != STSD_OK)
		fail_msg("auth_trust_load: %s", err);
	unlink(path);
	return t;
}

struct pki {
	time_t now;
	struct cert ca, foreign;
	struct auth_trust *trust;
};

static int pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof *p);
	struct cert_spec ca = {.cn = "test-ca", .ca = true};

	p->now = time(NULL);
	ca.not_before = p->now - DAY;
	ca.not_after = p->now + 30 * DAY;
	make_cert(&p->ca, &ca);
	ca.cn = "foreign-ca";
	make_cert(&p->foreign, &ca);
	p->trust = trust_of(&p->ca);
	*state = p;
	return 0;
}

static int pki_teardown(void **state)
{
	struct pki *p = *state;

	auth_trust_free(p->trust);
	free_cert(&p->ca);
	free_cert(&p->foreign);
	free(p);
	return 0;
}

/* A client certificate for alice (O system:masters, dev) from issuer, valid [nb, na]. */
static void client_cert(struct cert *c, const struct cert *issuer, const char *eku, time_t nb,
                        time_t na)
{
	struct cert_spec s = {.cn = "alice",
	                      .orgs = {"system:masters", "dev"},
	                      .eku = eku,
	                      .not_before = nb,
	                      .not_after = na,
	                      .issuer = issuer};
	make_cert(c, &s);
}

/* Identify the one-certificate chain c at now; the why on refusal into why. */
static int identify(const struct pki *p, const struct cert *c, int64_t now, struct auth_user *u,
                    char *why, size_t whylen)
{
	struct auth_der der = {c->der.data, c->der.size};

	return auth_cert_identify(p->trust, &der, 1, now, u, why, whylen);
}

static void refused_with(const struct pki *p, const struct cert *c, int64_t now, const char *want)
{
	struct auth_user u;
	char why[256] = "";

	assert_int_equal(identify(p, c, now, &u, why, sizeof why), STSD_INVALID);
	if (strstr(why, want) == NULL)
		fail_msg("why \"%s\" lacks \"%s\"", why, want);
}

static void cert_good_client_identified(void **state)
{
	struct pki *p = *state;
	struct cert c;
	struct auth_user u;
	char why[256] = "";

	client_cert(&c, &p->ca, GNUTLS_KP_TLS_WWW_CLIENT, p->now - 60, p->now + DAY);
	if (identify(p, &c, p->now, &u, why, sizeof why) != STSD_OK)
		fail_msg("refused: %s", why);
	assert_string_equal(u.name, "alice");
	assert_int_equal(u.n_groups, 3);
	assert_true(auth_user_in(&u, "system:masters"));
	assert_true(auth_user_in(&u, "dev"));
	assert_true(auth_user_in(&u, AUTH_AUTHENTICATED_GROUP));
	assert_int_equal(u.expires, (int64_t)(p->now + DAY)); /* kept to end a cached verdict */
	free_cert(&c);

	/* no extKeyUsage at all is any usage */
	client_cert(&c, &p->ca, NULL, p->now - 60, p->now + DAY);
	assert_int_equal(identify(p, &c, p->now, &u, why, sizeof why), STSD_OK);
	free_cert(&c);
}

static void cert_through_intermediate(void **state)
{
	struct pki *p = *state;
	struct cert mid, leaf;
	struct cert_spec s = {.cn = "mid-ca",
	                      .ca = true,
	                      .not_before = p->now - DAY,
	                      .not_after = p->now + DAY,
	                      .issuer = &p->ca};
	struct auth_der chain[2];
	struct auth_user u;
	char why[256] = "";

	make_cert(&mid, &s);
	client_cert(&leaf, &mid, GNUTLS_KP_TLS_WWW_CLIENT, p->now - 60, p->now + DAY);
	chain[0] = (struct auth_der){leaf.der.data, leaf.der.size};
	chain[1] = (struct auth_der){mid.der.data, mid.der.size};
	if (auth_cert_identify(p->trust, chain, 2, p->now, &u, why, sizeof why) != STSD_OK)
		fail_msg("refused: %s", why);
	assert_string_equal(u.name, "alice");
	/* without the intermediate the leaf chains to nothing we trust */
	refused_with(p, &leaf, p->now, "unknown authority");
	free_cert(&leaf);
	free_cert(&mid);
}

static void cert_expired_refused(void **state)
{
	struct pki *p = *state;
	struct cert c;

	client_cert(&c, &p->ca, GNUTLS_KP_TLS_WWW_CLIENT, p->now - 2 * DAY, p->now - DAY);
	refused_with(p, &c, p->now, "expired");
	free_cert(&c);
}

static void cert_not_yet_valid_refused(void **state)
{
	struct pki *p = *state;
	struct cert c;

	client_cert(&c, &p->ca, GNUTLS_KP_TLS_WWW_CLIENT, p->now + DAY, p->now + 2 * DAY);
	refused_with(p, &c, p->now, "not yet valid");
	free_cert(&c);
}

static void cert_checked_against_callers_clock(void **state)
{
	struct pki *p = *state;
	struct cert c;

	/* valid by the real clock, but not at the time the caller asks about */
	client_cert(&c, &p->ca, GNUTLS_KP_TLS_WWW_CLIENT, p->now - 60, p->now + DAY);
	refused_with(p, &c, p->now + 2 * DAY, "certificate has expired");
	refused_with(p, &c, p->now - 3600, "certificate is not yet valid");
	free_cert(&c);
}

static void cert_foreign_ca_refused(void **state)
{
	struct pki *p = *state;
	struct cert c;

	client_cert(&c, &p->foreign, GNUTLS_KP_TLS_WWW_CLIENT, p->now - 60, p->now + DAY);
	refused_with(p, &c, p->now, "signed by an unknown authority");
	free_cert(&c);
	/* the foreign CA itself is no credential either */
	refused_with(p, &p->foreign, p->now, "unknown authority");
}

static void cert_server_only_refused(void **state)
{
	struct pki *p = *state;
	struct cert c;

	client_cert(&c, &p->ca, GNUTLS_KP_TLS_WWW_SERVER, p->now - 60, p->now + DAY);
	refused_with(p, &c, p->now, "not valid for client authentication");
	free_cert(&c);
}

static void cert_without_cn_refused(void **state)
{
	struct pki *p = *state;
	struct cert c;
	struct cert_spec s = {.orgs = {"system:masters"},
	                      .eku = GNUTLS_KP_TLS_WWW_CLIENT,
	                      .not_before = p->now - 60,
	                      .not_after = p->now + DAY,
	                      .issuer = &p->ca};

	make_cert(&c, &s);
	refused_with(p, &c, p->now, "common name");
	free_cert(&c);
}

static void cert_malformed_refused(void **state)
{
	struct pki *p = *state;
	unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct auth_der der = {junk, sizeof junk};
	struct auth_user u;
	char why[256] = "";

	assert_int_equal(auth_cert_identify(p->trust, &der, 1, p->now, &u, why, sizeof why),
	                 STSD_INVALID);
	assert_non_null(strstr(why, "malformed"));
	assert_int_equal(auth_cert_identify(p->trust, NULL, 0, p->now, &u, why, sizeof why),
	                 STSD_INVALID);
	assert_non_null(strstr(why, "no client certificate"));
}

static void trust_load_errors(void **state)
{
	struct auth_trust *t = (struct auth_trust *)1;
	char path[64], err[256] = "";

	assert_int_equal(auth_trust_load("/nonexistent/ca.crt", &t, err, sizeof err), STSD_IO);
	assert_null(t);
	write_tmp(path, "not a certificate\n");
	assert_int_equal(auth_trust_load(path, &t, err, sizeof err), STSD_INVALID);
	assert_null(t);
	assert_non_null(strstr(err, path));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(token_file_parses),
	    cmocka_unit_test(token_lookup_misses),
	    cmocka_unit_test(token_find_group),
	    cmocka_unit_test(token_file_errors_name_the_line),
	    cmocka_unit_test(token_file_unreadable),
	    cmocka_unit_test(token_file_many_lines),
	    cmocka_unit_test(user_groups),
	    cmocka_unit_test(names_must_survive_forwarding),
	    cmocka_unit_test(trust_load_errors),
	    cmocka_unit_test_setup_teardown(cert_good_client_identified, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_through_intermediate, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_expired_refused, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_not_yet_valid_refused, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_checked_against_callers_clock, pki_setup,
	                                    pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_foreign_ca_refused, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_server_only_refused, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_without_cn_refused, pki_setup, pki_teardown),
	    cmocka_unit_test_setup_teardown(cert_malformed_refused, pki_setup, pki_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
