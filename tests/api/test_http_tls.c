/* test_http_tls.c — the HTTP server with TLS: client certificates reach the handler, connection
 * data lives as long as a keep-alive connection, a reload changes the certificate of new
 * handshakes only, bad files are refused with a reason (at start and on reload), and plain HTTP to
 * a TLS port fails without harming the server. Certificates come from common/pki. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "http.h"
#include "http_fixture.h"
#include "pki.h"

struct tls_env {
	char dir[64], ca[96], cert[96], key[96], client_cert[96], client_key[96], other_key[96];
	struct fx fx;
	atomic_int conn_freed;
};

static struct tls_env *env_of(struct fx *fx)
{
	return (struct tls_env *)((char *)fx - offsetof(struct tls_env, fx));
}

/* ---- Certificates ------------------------------------------------------------------------- */

static void issue(const char *ca_dir, const char *out, const char *cn, bool server, bool force)
{
	struct pki_cert_request rq = {.ca_dir = ca_dir,
	                              .out = out,
	                              .cn = cn,
	                              .sans = {"127.0.0.1"},
	                              .server = server,
	                              .client = !server,
	                              .force = force};
	char err[256];

	if (pki_issue(&rq, err, sizeof err) != STSD_OK)
		fail_msg("pki_issue %s: %s", out, err);
}

static void make_pki(struct tls_env *e)
{
	struct pki_ca_request ca = {.dir = e->dir, .force = true};
	char err[256], prefix[80];

	snprintf(e->dir, sizeof e->dir, "/tmp/stsd-tls-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(pki_ca_init(&ca, err, sizeof err), STSD_OK);
	snprintf(e->ca, sizeof e->ca, "%s/ca.crt", e->dir);
	snprintf(prefix, sizeof prefix, "%s/server", e->dir);
	issue(e->dir, prefix, "server", true, false);
	snprintf(e->cert, sizeof e->cert, "%s.crt", prefix);
	snprintf(e->key, sizeof e->key, "%s.key", prefix);
	snprintf(prefix, sizeof prefix, "%s/client", e->dir);
	issue(e->dir, prefix, "alice", false, false);
	snprintf(e->client_cert, sizeof e->client_cert, "%s.crt", prefix);
	snprintf(e->client_key, sizeof e->client_key, "%s.key", prefix);
	snprintf(e->other_key, sizeof e->other_key, "%s/client.key", e->dir);
}

/* ---- Server side -------------------------------------------------------------------------- */

struct conn_count {
	struct tls_env *e;
	int requests;
};

static void conn_free(void *p)
{
	struct conn_count *cc = p;

	atomic_fetch_add(&cc->e->conn_freed, 1);
	free(cc);
}

/* Answers "tls=1 cert=N conn=K": whether TLS, the DER length of the client's certificate (0 for
 * none), and the how-manieth request of this connection it is. */
static void handler(void *ud, struct api_req *r)
{
	struct fx *fx = ud;
	struct conn_count *cc = api_req_get_conn_data(r);
	const unsigned char *der;
	size_t len = 0;
	char body[128];

	fx->handled++;
	if (cc == NULL) {
		cc = calloc(1, sizeof *cc);
		assert_non_null(cc);
		cc->e = env_of(fx);
		api_req_set_conn_data(r, cc);
		cc = api_req_get_conn_data(r);
		assert_non_null(cc);
	}
	cc->requests++;
	if (!api_req_peer_cert(r, 0, &der, &len))
		len = 0;
	snprintf(body, sizeof body, "tls=%d cert=%zu conn=%d", api_req_tls(r), len, cc->requests);
	api_respond(r, 200, "text/plain", body, strlen(body));
}

/* Refuses /deny before its body (401 with a JSON body); lets everything else in. */
static unsigned gate(void *ud, struct api_req *r, char **json)
{
	(void)ud;
	if (strcmp(api_req_path(r), "/deny") != 0)
		return 0;
	*json = strdup("{\"denied\":true}");
	return 401;
}

static int setup(void **state)
{
	struct tls_env *e = calloc(1, sizeof *e);
	struct api_http_tls tls;
	struct api_http_options o = {
	    .address = "127.0.0.1:0", .tls = &tls, .conn_free = conn_free, .gate = gate};

	assert_non_null(e);
	make_pki(e);
	tls = (struct api_http_tls){
	    .cert_file = e->cert, .key_file = e->key, .client_ca_file = e->ca};
	fx_init(&e->fx);
	fx_start(&e->fx, &o, handler);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct tls_env *e = *state;
	char cmd[128];

	fx_finish(&e->fx);
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* ---- Client side (a thread per client) ---------------------------------------------------- */

#define MAX_GETS 4

struct client_run {
	struct tls_env *e;
	const char *path; /* NULL: /x */
	size_t post;      /* > 0: POST a body of this many bytes */
	long status;      /* of the last GET */
	bool with_cert, plain, certinfo;
	int gets; /* on one handle: keep-alive */
	CURLcode rc[MAX_GETS];
	char body[MAX_GETS][128];
	char serial[128]; /* the server certificate's serial, with certinfo */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct dbuf *b = ud;

	dbuf_add(b, p, size * n);
	return size * n;
}

static void find_serial(CURL *h, char *out, size_t len)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
		if (strncmp(s->data, "Serial Number:", 14) == 0)
			snprintf(out, len, "%s", s->data + 14);
}

static void *client_thread(void *arg)
{
	struct client_run *cr = arg;
	struct tls_env *e = cr->e;
	CURL *h = curl_easy_init();
	char url[128];

	char *body = cr->post ? calloc(1, cr->post) : NULL;

	snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", cr->plain ? "http" : "https", e->fx.port,
	         cr->path ? cr->path : "/x");
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)cr->post);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, e->ca);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CERTINFO, cr->certinfo ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	if (cr->with_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->client_key);
	}
	for (int i = 0; i < cr->gets && i < MAX_GETS; i++) {
		struct dbuf b = {0};

		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		cr->rc[i] = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &cr->status);
		snprintf(cr->body[i], sizeof cr->body[i], "%s", b.data ? b.data : "");
		if (i == 0 && cr->certinfo)
			find_serial(h, cr->serial, sizeof cr->serial);
		dbuf_free(&b);
	}
	curl_easy_cleanup(h); /* closes the connection */
	free(body);
	fx_client_done(&e->fx);
	return NULL;
}

static void run_client(struct tls_env *e, struct client_run *cr)
{
	cr->e = e;
	fx_spawn(&e->fx, client_thread, cr);
	fx_join(&e->fx);
}

static int want_freed;

static bool freed_enough(struct fx *fx)
{
	return atomic_load(&env_of(fx)->conn_freed) >= want_freed;
}

/* ---- Tests -------------------------------------------------------------------------------- */

static void client_certificate_reaches_the_handler(void **state)
{
	struct tls_env *e = *state;
	struct client_run with = {.with_cert = true, .gets = 1}, without = {.gets = 1};

	run_client(e, &with);
	assert_int_equal(with.rc[0], CURLE_OK);
	assert_non_null(strstr(with.body[0], "tls=1 cert="));
	assert_null(strstr(with.body[0], "cert=0 "));
	run_client(e, &without);
	assert_int_equal(without.rc[0], CURLE_OK);
	assert_string_equal(without.body[0], "tls=1 cert=0 conn=1");
}

static void connection_data_lives_with_the_connection(void **state)
{
	struct tls_env *e = *state;
	struct client_run cr = {.with_cert = true, .gets = 3};

	run_client(e, &cr);
	for (int i = 0; i < 3; i++) {
		char want[16];
		assert_int_equal(cr.rc[i], CURLE_OK);
		snprintf(want, sizeof want, "conn=%d", i + 1);
		assert_non_null(strstr(cr.body[i], want));
	}
	want_freed = 1; /* the client closed its connection: its data goes with it */
	assert_true(fx_wait(&e->fx, freed_enough, 5000));
}

static void reload_changes_new_handshakes_only(void **state)
{
	struct tls_env *e = *state;
	struct client_run before = {.gets = 1, .certinfo = true}, after = before;
	char prefix[80], err[256];

	run_client(e, &before);
	assert_int_equal(before.rc[0], CURLE_OK);
	assert_true(before.serial[0] != '\0');
	snprintf(prefix, sizeof prefix, "%s/server", e->dir);
	issue(e->dir, prefix, "server", true, true);
	assert_int_equal(api_http_reload_tls(e->fx.h, err, sizeof err), STSD_OK);
	run_client(e, &after);
	assert_int_equal(after.rc[0], CURLE_OK);
	assert_true(after.serial[0] != '\0');
	assert_string_not_equal(before.serial, after.serial);
}

static void bad_reload_keeps_the_old_certificate(void **state)
{
	struct tls_env *e = *state;
	struct client_run cr = {.gets = 1};
	char err[256] = "";
	FILE *f = fopen(e->cert, "w");

	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	assert_int_equal(api_http_reload_tls(e->fx.h, err, sizeof err), STSD_INVALID);
	assert_non_null(strstr(err, e->cert));
	run_client(e, &cr);
	assert_int_equal(cr.rc[0], CURLE_OK);
	assert_string_equal(cr.body[0], "tls=1 cert=0 conn=1");
}

static void plain_http_to_a_tls_port_fails_cleanly(void **state)
{
	struct tls_env *e = *state;
	struct client_run plain = {.plain = true, .gets = 1}, after = {.gets = 1};

	run_client(e, &plain);
	assert_true(plain.rc[0] != CURLE_OK || strstr(plain.body[0], "tls=") == NULL);
	run_client(e, &after);
	assert_int_equal(after.rc[0], CURLE_OK);
}

static void gate_answers_before_the_body(void **state)
{
	struct tls_env *e = *state;
	struct client_run denied = {.path = "/deny", .post = 2u << 20, .gets = 1};

	run_client(e, &denied);
	assert_int_equal(denied.status, 401);
	assert_string_equal(denied.body[0], "{\"denied\":true}");
	assert_int_equal(e->fx.handled, 0); /* the handler never saw it */
}

/* ---- Start-up refusals -------------------------------------------------------------------- */

static void start_refuses_bad_files(void **state)
{
	struct tls_env *e = *state;
	struct api_http_tls tls = {.cert_file = e->cert, .key_file = e->client_key};
	struct api_http_options o = {.address = "127.0.0.1:0", .tls = &tls};
	struct api_http *h = NULL;
	char err[256] = "";

	/* A key of another certificate. */
	assert_int_equal(api_http_start(&e->fx.loop, &o, handler, &e->fx, &h, err, sizeof err),
	                 STSD_INVALID);
	assert_non_null(strstr(err, "does not belong"));
	assert_null(h);
	/* A missing file. */
	tls.key_file = "/nonexistent/key.pem";
	assert_int_equal(api_http_start(&e->fx.loop, &o, handler, &e->fx, &h, err, sizeof err),
	                 STSD_IO);
	assert_non_null(strstr(err, "/nonexistent/key.pem"));
	/* No key at all. */
	tls.key_file = NULL;
	assert_int_equal(api_http_start(&e->fx.loop, &o, handler, &e->fx, &h, err, sizeof err),
	                 STSD_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(client_certificate_reaches_the_handler, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(connection_data_lives_with_the_connection, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(reload_changes_new_handshakes_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_reload_keeps_the_old_certificate, setup, teardown),
	    cmocka_unit_test_setup_teardown(plain_http_to_a_tls_port_fails_cleanly, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(start_refuses_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(gate_answers_before_the_body, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
