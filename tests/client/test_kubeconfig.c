/* test_kubeconfig.c — client/kubeconfig.c: inline (-data) and file credentials, paths relative to
 * the kubeconfig, context selection, $KUBECONFIG and ~/.kube/config, every error, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "kubeconfig.h"

#define CA_PEM   "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nADMIN\n-----END CERTIFICATE-----\n"
#define KEY_PEM  "-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test-kubeconfig-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* DIR/name with the formatted content; its path into path. */
static void write_file(char *path, size_t len, const char *name, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static char *b64(const char *s)
{
	static char bufs[4][1024];
	static int next;
	char *out = bufs[next++ % 4];

	kubeconfig_base64_encode(s, strlen(s), out);
	return out;
}

/* A kubeconfig with two contexts: "dev" (current: cluster dev, user admin) and "other". */
static void write_two_contexts(char *path, size_t len, const char *name, const char *dev_cluster,
                               const char *admin_user)
{
	write_file(path, len, name,
	           "apiVersion: v1\n"
	           "kind: Config\n"
	           "current-context: dev\n"
	           "clusters:\n"
	           "- name: dev\n"
	           "  cluster:\n%s"
	           "- name: other\n"
	           "  cluster:\n"
	           "    server: http://10.0.0.2:8080\n"
	           "    insecure-skip-tls-verify: true\n"
	           "users:\n"
	           "- name: admin\n"
	           "  user:\n%s"
	           "- name: viewer\n"
	           "  user:\n"
	           "    token: viewer-token\n"
	           "contexts:\n"
	           "- name: dev\n"
	           "  context: {cluster: dev, user: admin}\n"
	           "- name: other\n"
	           "  context:\n"
	           "    cluster: other\n"
	           "    user: viewer\n",
	           dev_cluster, admin_user);
}

/* Load path with context and expect code and, when not 0, the text in the message. */
static void expect_error(const char *path, const char *context, int code, const char *text)
{
	struct kubeconfig kc = {0};
	char err[1024] = "";

	assert_int_equal(kubeconfig_load(path, context, &kc, err, sizeof err), code);
	if (strstr(err, text) == NULL)
		fail_msg("message '%s' lacks '%s'", err, text);
	kubeconfig_free(&kc);
}

static void reads_inline_data(void **state)
{
	struct client_options o = {.timeout_ms = 5};
	struct kubeconfig kc = {0};
	char path[512], cluster[2048], user[2048], err[512];

	(void)state;
	snprintf(cluster, sizeof cluster,
	         "    server: https://127.0.0.1:6443\n"
	         "    certificate-authority-data: %s\n",
	         b64(CA_PEM));
	snprintf(user, sizeof user,
	         "    client-certificate-data: %s\n"
	         "    client-key-data: \"%s\"\n"
	         "    token: sekret\n",
	         b64(CERT_PEM), b64(KEY_PEM));
	write_two_contexts(path, sizeof path, "inline", cluster, user);
	assert_int_equal(kubeconfig_load(path, NULL, &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.path, path);
	assert_string_equal(kc.context, "dev");
	assert_string_equal(kc.cluster, "dev");
	assert_string_equal(kc.user, "admin");
	assert_string_equal(kc.server, "https://127.0.0.1:6443");
	assert_string_equal(kc.ca_pem, CA_PEM);
	assert_int_equal(kc.ca_pem_len, strlen(CA_PEM));
	assert_string_equal(kc.cert_pem, CERT_PEM);
	assert_int_equal(kc.cert_pem_len, strlen(CERT_PEM));
	assert_string_equal(kc.key_pem, KEY_PEM);
	assert_string_equal(kc.token, "sekret");
	assert_false(kc.insecure_skip_tls_verify);
	kubeconfig_client_options(&kc, &o);
	assert_int_equal(o.timeout_ms, 5);
	assert_ptr_equal(o.ca_pem, kc.ca_pem);
	assert_int_equal(o.ca_pem_len, kc.ca_pem_len);
	assert_ptr_equal(o.cert_pem, kc.cert_pem);
	assert_int_equal(o.cert_pem_len, kc.cert_pem_len);
	assert_ptr_equal(o.key_pem, kc.key_pem);
	assert_int_equal(o.key_pem_len, kc.key_pem_len);
	assert_ptr_equal(o.token, kc.token);
	assert_false(o.insecure_skip_verify);
	kubeconfig_free(&kc);
	assert_null(kc.server);
}

static void reads_files_relative_to_the_kubeconfig(void **state)
{
	struct kubeconfig kc = {0};
	char path[512], sub[300], abs_ca[512], cluster[2048], user[1024], err[512];

	(void)state;
	snprintf(sub, sizeof sub, "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(path, sizeof path, "sub/admin.crt", CERT_PEM);
	write_file(path, sizeof path, "sub/admin.key", KEY_PEM);
	write_file(path, sizeof path, "sub/token", "file-token \n\n");
	write_file(abs_ca, sizeof abs_ca, "ca.crt", CA_PEM);
	snprintf(cluster, sizeof cluster,
	         "    server: https://localhost:6443\n"
	         "    certificate-authority: %s\n",
	         abs_ca);
	snprintf(user, sizeof user,
	         "    client-certificate: admin.crt\n"
	         "    client-key: ./admin.key\n"
	         "    tokenFile: token\n");
	write_two_contexts(path, sizeof path, "sub/config", cluster, user);
	/* The working directory is not the kubeconfig's: paths are resolved against the latter. */
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(kubeconfig_load(path, NULL, &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.ca_pem, CA_PEM);
	assert_string_equal(kc.cert_pem, CERT_PEM);
	assert_string_equal(kc.key_pem, KEY_PEM);
	assert_string_equal(kc.token, "file-token");
	kubeconfig_free(&kc);
}

static void selects_a_named_context(void **state)
{
	struct client_options o = {0};
	struct kubeconfig kc = {0};
	char path[512], err[512];

	(void)state;
	write_two_contexts(path, sizeof path, "named", "    server: https://a:1\n",
	                   "    token: t\n");
	assert_int_equal(kubeconfig_load(path, "other", &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.context, "other");
	assert_string_equal(kc.server, "http://10.0.0.2:8080");
	assert_string_equal(kc.user, "viewer");
	assert_string_equal(kc.token, "viewer-token");
	assert_true(kc.insecure_skip_tls_verify);
	assert_null(kc.ca_pem);
	assert_null(kc.cert_pem);
	kubeconfig_client_options(&kc, &o);
	assert_true(o.insecure_skip_verify);
	assert_null(o.cert_pem);
	kubeconfig_free(&kc);
	/* "" means the current context, as NULL does. */
	assert_int_equal(kubeconfig_load(path, "", &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.server, "https://a:1");
	kubeconfig_free(&kc);
}

static void a_context_without_user_has_no_credentials(void **state)
{
	struct kubeconfig kc = {0};
	char path[512], err[512];

	(void)state;
	write_file(path, sizeof path, "nouser",
	           "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
	           "contexts: [{name: x, context: {cluster: c}}]\n"
	           "current-context: x\n");
	assert_int_equal(kubeconfig_load(path, NULL, &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.server, "https://h:1");
	assert_null(kc.user);
	assert_null(kc.token);
	kubeconfig_free(&kc);
}

static void finds_the_file_from_the_environment(void **state)
{
	struct kubeconfig kc = {0};
	char path[512], home[300], kube[1200], err[512];

	(void)state;
	write_two_contexts(path, sizeof path, "env", "    server: https://env:1\n",
	                   "    token: t\n");
	snprintf(kube, sizeof kube, "%s/missing:%s", dir, path);
	setenv("KUBECONFIG", kube, 1);
	assert_int_equal(kubeconfig_load(NULL, NULL, &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.path, path);
	assert_string_equal(kc.server, "https://env:1");
	kubeconfig_free(&kc);
	snprintf(kube, sizeof kube, "%s/missing1::%s/missing2", dir, dir);
	setenv("KUBECONFIG", kube, 1);
	expect_error(NULL, NULL, STSD_NOTFOUND, "no file of $KUBECONFIG");

	/* No $KUBECONFIG: ~/.kube/config. */
	unsetenv("KUBECONFIG");
	snprintf(home, sizeof home, "%s/home", dir);
	snprintf(kube, sizeof kube, "%s/.kube", home);
	assert_int_equal(mkdir(home, 0700), 0);
	setenv("HOME", home, 1);
	expect_error(NULL, NULL, STSD_NOTFOUND, "no $KUBECONFIG and no");
	assert_int_equal(mkdir(kube, 0700), 0);
	write_two_contexts(path, sizeof path, "home/.kube/config", "    server: https://home:1\n",
	                   "    token: t\n");
	assert_int_equal(kubeconfig_load(NULL, NULL, &kc, err, sizeof err), STSD_OK);
	assert_string_equal(kc.server, "https://home:1");
	kubeconfig_free(&kc);
}

static void reports_missing_context_cluster_and_user(void **state)
{
	char path[512];

	(void)state;
	write_file(path, sizeof path, "refs",
	           "current-context: a\n"
	           "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
	           "users: [{name: u, user: {token: t}}]\n"
	           "contexts:\n"
	           "- {name: a, context: {cluster: c, user: nobody}}\n"
	           "- {name: b, context: {cluster: nowhere, user: u}}\n"
	           "- {name: d, context: {user: u}}\n");
	expect_error(path, NULL, STSD_NOTFOUND, "no user named \"nobody\" in users");
	expect_error(path, "b", STSD_NOTFOUND, "no cluster named \"nowhere\" in clusters");
	expect_error(path, "zzz", STSD_NOTFOUND, "no context named \"zzz\" in contexts");
	expect_error(path, "d", STSD_INVALID, "context \"d\" names no cluster");
	write_file(path, sizeof path, "nocurrent",
	           "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n");
	expect_error(path, NULL, STSD_NOTFOUND, "no current-context");
	expect_error(path, "c", STSD_NOTFOUND, "no context named \"c\" in contexts");
	snprintf(path, sizeof path, "%s/does-not-exist", dir);
	expect_error(path, NULL, STSD_NOTFOUND, "does-not-exist: No such file or directory");
}

/* A one-context kubeconfig with these cluster and user bodies, loaded: expect code and text. */
static void expect_bad(const char *cluster, const char *user, int code, const char *text)
{
	char path[512];

	write_file(path, sizeof path, "bad",
	           "current-context: x\n"
	           "clusters:\n- name: c\n  cluster:\n%s"
	           "users:\n- name: u\n  user:\n%s"
	           "contexts:\n- name: x\n  context: {cluster: c, user: u}\n",
	           cluster, user);
	expect_error(path, NULL, code, text);
}

static void reports_bad_credentials(void **state)
{
	const char *server = "    server: https://h:1\n";
	char both[1024], path[512];

	(void)state;
	expect_bad("    server: https://h:1\n    certificate-authority-data: 'not base64!'\n",
	           "    token: t\n", STSD_INVALID,
	           "cluster \"c\": certificate-authority-data is not valid base64");
	expect_bad(server, "    client-certificate-data: QUJD\n    client-key-data: QUJ\n",
	           STSD_INVALID, "user \"u\": client-key-data is not valid base64");
	expect_bad(server, "    client-certificate: /nonexistent/admin.crt\n    client-key: k\n",
	           STSD_IO, "client-certificate /nonexistent/admin.crt: No such file or directory");
	expect_bad(server, "    tokenFile: missing-token\n", STSD_IO, "tokenFile ");
	write_file(path, sizeof path, "unreadable", "x");
	assert_int_equal(chmod(path, 0), 0);
	if (access(path, R_OK) != 0) /* root reads anything */
		expect_bad(server, "    tokenFile: unreadable\n", STSD_IO, "Permission denied");
	snprintf(both, sizeof both,
	         "    server: https://h:1\n"
	         "    certificate-authority: ca.crt\n"
	         "    certificate-authority-data: %s\n",
	         b64(CA_PEM));
	expect_bad(both, "    token: t\n", STSD_INVALID,
	           "both certificate-authority and certificate-authority-data are set");
	expect_bad("    server: https://h:1\n    insecure-skip-tls-verify: true\n"
	           "    certificate-authority-data: QUJD\n",
	           "    token: t\n", STSD_INVALID, "together with insecure-skip-tls-verify");
	expect_bad("    server: https://h:1\n    insecure-skip-tls-verify: maybe\n",
	           "    token: t\n", STSD_INVALID, "insecure-skip-tls-verify is not a boolean");
	expect_bad("    certificate-authority-data: QUJD\n", "    token: t\n", STSD_INVALID,
	           "cluster \"c\" has no server");
	expect_bad("    server: {host: h}\n", "    token: t\n", STSD_INVALID,
	           "server is not a string");
	expect_bad(server, "    client-certificate-data: QUJD\n", STSD_INVALID,
	           "a client certificate needs its key");
	expect_bad(server, "    exec: {command: gke-gcloud-auth-plugin}\n", STSD_INVALID,
	           "exec and auth-provider plugins are not supported");
}

/* DIR/name of size bytes of 'a'. */
static void write_sized(const char *name, size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	for (size_t i = 0; i < size; i++)
		assert_int_not_equal(fputc('a', f), EOF);
	assert_int_equal(fclose(f), 0);
}

/* A credential file is read up to 1 MiB: a bigger one (or an endless one) is an error, not an
 * allocation of whatever it holds. */
static void limits_the_size_of_credential_files(void **state)
{
	const char *server = "    server: https://h:1\n";
	struct kubeconfig kc = {0};
	char path[512], err[1024];

	(void)state;
	expect_bad(server, "    tokenFile: /dev/zero\n", STSD_INVALID,
	           "tokenFile /dev/zero: larger than 1 MiB");
	expect_bad(server, "    client-certificate: /dev/zero\n    client-key: /dev/zero\n",
	           STSD_INVALID, "client-certificate /dev/zero: larger than 1 MiB");
	expect_bad("    server: https://h:1\n    certificate-authority: /dev/zero\n",
	           "    token: t\n", STSD_INVALID, "certificate-authority /dev/zero: larger than");
	write_sized("big", (1u << 20) + 1);
	expect_bad(server, "    tokenFile: big\n", STSD_INVALID, "larger than 1 MiB");
	write_sized("big", 1u << 20); /* exactly the limit is fine */
	write_file(path, sizeof path, "ok",
	           "current-context: x\n"
	           "clusters:\n- name: c\n  cluster:\n%s"
	           "users:\n- name: u\n  user:\n    tokenFile: big\n"
	           "contexts:\n- name: x\n  context: {cluster: c, user: u}\n",
	           server);
	assert_int_equal(kubeconfig_load(path, NULL, &kc, err, sizeof err), STSD_OK);
	assert_int_equal(strlen(kc.token), 1u << 20);
	kubeconfig_free(&kc);
}

/* Bad base64 leaves no half-decoded blob behind. */
static void bad_base64_leaves_nothing(void **state)
{
	struct kubeconfig kc = {0};
	char path[512], err[1024];

	(void)state;
	write_file(path, sizeof path, "b64",
	           "current-context: x\n"
	           "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
	           "users:\n- name: u\n  user:\n"
	           "    client-certificate-data: QUJD\n    client-key-data: QUJ\n"
	           "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
	assert_int_equal(kubeconfig_load(path, NULL, &kc, err, sizeof err), STSD_INVALID);
	assert_non_null(kc.cert_pem);
	assert_null(kc.key_pem);
	assert_int_equal(kc.key_pem_len, 0);
	kubeconfig_free(&kc);
}

static void reports_documents_of_the_wrong_shape(void **state)
{
	char path[512];

	(void)state;
	write_file(path, sizeof path, "notyaml", "clusters: [unclosed\n  - : :\n");
	expect_error(path, NULL, STSD_INVALID, "missing comma in flow sequence");
	write_file(path, sizeof path, "list", "- a\n- b\n");
	expect_error(path, NULL, STSD_INVALID, "not a kubeconfig");
	write_file(path, sizeof path, "clustermap",
	           "current-context: x\nclusters: {c: 1}\n"
	           "contexts: [{name: x, context: {cluster: c}}]\n");
	expect_error(path, NULL, STSD_INVALID, "clusters is not a list");
	write_file(path, sizeof path, "entry", "current-context: x\ncontexts: [just-a-string]\n");
	expect_error(path, NULL, STSD_INVALID, "an entry of contexts is not a mapping");
	write_file(path, sizeof path, "ctxbody",
	           "current-context: x\ncontexts: [{name: x, context: 3}]\n");
	expect_error(path, NULL, STSD_INVALID, "context x: context is not a mapping");
	write_file(path, sizeof path, "current", "current-context: [x]\n");
	expect_error(path, NULL, STSD_INVALID, "current-context is not a string");
}

static void base64_matches_go(void **state)
{
	char enc[64], dec[64];

	(void)state;
	assert_int_equal(kubeconfig_base64_encode("", 0, enc), 0);
	assert_string_equal(enc, "");
	kubeconfig_base64_encode("a", 1, enc);
	assert_string_equal(enc, "YQ==");
	kubeconfig_base64_encode("ab", 2, enc);
	assert_string_equal(enc, "YWI=");
	kubeconfig_base64_encode("abc", 3, enc);
	assert_string_equal(enc, "YWJj");
	kubeconfig_base64_encode("\xff\xfe\xfd", 3, enc);
	assert_string_equal(enc, "//79");
	assert_int_equal(kubeconfig_base64_decode("YWJj\nYQ==", 9, dec), 4);
	assert_memory_equal(dec, "abca", 4);
	assert_int_equal(kubeconfig_base64_decode("YWI=\r\n", 6, dec), 2);
	assert_memory_equal(dec, "ab", 2);
	assert_int_equal(kubeconfig_base64_decode("", 0, dec), 0);
	assert_int_equal(kubeconfig_base64_decode("//79", 4, dec), 3);
	assert_memory_equal(dec, "\xff\xfe\xfd", 3);
	assert_int_equal(kubeconfig_base64_decode("YQ", 2, dec), -1);       /* padding required */
	assert_int_equal(kubeconfig_base64_decode("YQ=", 3, dec), -1);      /* padding incomplete */
	assert_int_equal(kubeconfig_base64_decode("YQ==YQ==", 8, dec), -1); /* data after padding */
	assert_int_equal(kubeconfig_base64_decode("Y===", 4, dec), -1);
	assert_int_equal(kubeconfig_base64_decode("YW J", 4, dec), -1);
	assert_int_equal(kubeconfig_base64_decode("YW-_", 4, dec), -1); /* not base64url */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_inline_data),
	    cmocka_unit_test(reads_files_relative_to_the_kubeconfig),
	    cmocka_unit_test(selects_a_named_context),
	    cmocka_unit_test(a_context_without_user_has_no_credentials),
	    cmocka_unit_test(finds_the_file_from_the_environment),
	    cmocka_unit_test(reports_missing_context_cluster_and_user),
	    cmocka_unit_test(reports_bad_credentials),
	    cmocka_unit_test(limits_the_size_of_credential_files),
	    cmocka_unit_test(bad_base64_leaves_nothing),
	    cmocka_unit_test(reports_documents_of_the_wrong_shape),
	    cmocka_unit_test(base64_matches_go),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
