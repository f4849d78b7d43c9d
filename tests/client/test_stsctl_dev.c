/* test_stsctl_dev.c — `stsctl dev up|down|restart` with the real stsd: the cluster record, its PKI
 * (modes, cluster.json's paths, the kubeconfig's embedded credentials), https with the admin
 * certificate and 401 without credentials, the StorageClasses it creates, progress and readiness, a
 * replica that exits or never gets ready (reported with its log, nothing left running), restart,
 * and down escalating to SIGKILL. argv[1]: stsctl, argv[2]: stsd.
 *
 * Misbehaviour comes from a shell wrapper around stsd (write_wrapper) that stsctl starts as its
 * stsd: STSD_WRAP_EXIT=N makes replica N exit at once, STSD_WRAP_UNREADY=N makes it never listen
 * (stsctl passes the environment on). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "errors.h"
#include "kubeconfig.h"
#include "util.h"

static const char *stsctl, *stsd;

/* Run "ENV stsctl ARGS" through the shell; returns the exit status, stdout+stderr in out. */
static int run(const char *env, const char *args, char *out, size_t len)
{
	char cmd[4096];
	size_t n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", env, stsctl, args);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void tmpdir(char *out, size_t len)
{
	snprintf(out, len, "/tmp/stsctl-dev-test-XXXXXX");
	assert_non_null(mkdtemp(out));
}

static void rmrf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* DIR/stsd-wrap: runs the real stsd unless the environment says replica N misbehaves. The
 * misbehaving shell keeps stsd's arguments in its command line, so that stsctl's pid checks (the
 * data directory among the arguments) hold for it too. */
static void write_wrapper(const char *dir, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/stsd-wrap", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f,
	        "#!/bin/sh\n"
	        "id=; prev=\n"
	        "for a in \"$@\"; do [ \"$prev\" = --id ] && id=$a; prev=$a; done\n"
	        "if [ \"$id\" = \"$STSD_WRAP_EXIT\" ]; then\n"
	        "  echo \"stand-in replica $id: failing on purpose\" >&2; exit 3\n"
	        "fi\n"
	        "if [ \"$id\" = \"$STSD_WRAP_UNREADY\" ]; then\n"
	        "  echo \"stand-in replica $id: never listening\" >&2\n"
	        "  trap 'exit 0' TERM\n"
	        "  while :; do sleep 0.1; done\n"
	        "fi\n"
	        "exec '%s' \"$@\"\n",
	        stsd);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Whether pid runs with marker among its arguments (a zombie or a reused pid does not count). */
static bool running(pid_t pid, const char *marker)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, marker) == 0)
			return true;
	return false;
}

static bool gone_within(pid_t pid, const char *marker, long ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)ms;
	struct timespec nap = {.tv_nsec = 20 * 1000000L};

	while (running(pid, marker) && util_now_mono_ms() < deadline)
		nanosleep(&nap, NULL);
	return !running(pid, marker);
}

static json_t *load_cluster(const char *dir)
{
	char path[1024];
	json_t *j;

	snprintf(path, sizeof path, "%s/cluster.json", dir);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

static json_t *replica(json_t *cluster, size_t i)
{
	return json_array_get(json_object_get(cluster, "replicas"), i);
}

static pid_t pid_of(json_t *cluster, size_t i)
{
	return (pid_t)json_integer_value(json_object_get(replica(cluster, i), "pid"));
}

static const char *field(json_t *cluster, size_t i, const char *key)
{
	return json_string_value(json_object_get(replica(cluster, i), key));
}

/* No replica of the cluster in dir still runs. */
static void assert_nothing_left(const char *dir)
{
	json_t *cl = load_cluster(dir);

	for (size_t i = 0; i < json_array_size(json_object_get(cl, "replicas")); i++)
		assert_true(gone_within(pid_of(cl, i), field(cl, i, "dataDir"), 2000));
	json_decref(cl);
}

static void refuses_a_non_empty_dir_and_bad_arguments(void **state)
{
	char dir[256], file[300], args[600], out[8192];

	tmpdir(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/precious", dir);
	fclose(fopen(file, "w"));
	snprintf(args, sizeof args, "dev up --dir %s --stsd %s", dir, stsd);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "is not an empty directory"));
	assert_int_equal(access(file, F_OK), 0);
	snprintf(args, sizeof args, "dev down --dir %s", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "no cluster.json"));
	snprintf(args, sizeof args, "%s/cluster.json", dir);
	FILE *f = fopen(args, "w");
	fputs("{\"replicas\": 3}", f);
	fclose(f);
	snprintf(args, sizeof args, "dev down --dir %s", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "no \"replicas\" array"));
	snprintf(args, sizeof args, "dev up --dir %s/new --stsd /nonexistent/stsd", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "cannot run stsd at /nonexistent/stsd"));
	rmrf(dir);

	assert_int_equal(run("", "dev", out, sizeof out), 2);
	assert_int_equal(run("", "dev up", out, sizeof out), 2);
	assert_non_null(strstr(out, "--dir DIR is required"));
	assert_int_equal(run("", "dev up --dir /tmp/x --replicas 0", out, sizeof out), 2);
	assert_int_equal(run("", "dev up --dir /tmp/x --timeout soon", out, sizeof out), 2);
	assert_int_equal(run("", "dev up --dir /tmp/x --id 1", out, sizeof out), 2);
	assert_int_equal(run("", "dev restart --dir /tmp/x", out, sizeof out), 2);
	assert_int_equal(run("", "dev frobnicate", out, sizeof out), 2);
	assert_int_equal(run("", "dev up --help", out, sizeof out), 0);
	assert_non_null(strstr(out, "Usage: stsctl dev up"));
	assert_int_equal(run("", "dev down --help", out, sizeof out), 0);
	assert_int_equal(run("", "dev restart --help", out, sizeof out), 0);
	assert_int_equal(run("", "dev --help", out, sizeof out), 0);
}

static void reports_a_stsd_that_exits_at_once(void **state)
{
	char dir[256], script[300], args[700], out[16384];
	FILE *f;

	tmpdir(dir, sizeof dir);
	snprintf(script, sizeof script, "%s/stsd", dir);
	assert_non_null(f = fopen(script, "w"));
	fputs("#!/bin/sh\necho \"stand-in stsd: cannot start ($*)\" >&2\nexit 3\n", f);
	fclose(f);
	chmod(script, 0755);
	snprintf(args, sizeof args, "dev up --dir %s/c --stsd %s --timeout 20", dir, script);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "exited with status 3 before it was ready"));
	assert_non_null(strstr(out, "| stand-in stsd: cannot start (--id "));
	assert_non_null(strstr(out, "the cluster did not start; logs are in"));
	snprintf(args, sizeof args, "%s/c", dir);
	assert_nothing_left(args);
	rmrf(dir);
}

static void stops_the_others_when_one_replica_exits(void **state)
{
	char dir[256], wrap[300], args[700], out[16384];
	json_t *cl;

	tmpdir(dir, sizeof dir);
	write_wrapper(dir, wrap, sizeof wrap);
	snprintf(args, sizeof args, "dev up --dir %s/c --stsd %s", dir, wrap);
	assert_int_equal(run("STSD_WRAP_EXIT=2", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "replica 2 (pid "));
	assert_non_null(strstr(out, "exited with status 3"));
	assert_non_null(strstr(out, "| stand-in replica 2: failing on purpose"));
	assert_non_null(strstr(out, "stopping what was started"));
	snprintf(args, sizeof args, "%s/c", dir);
	cl = load_cluster(args);
	assert_int_equal(json_array_size(json_object_get(cl, "replicas")), 3);
	json_decref(cl);
	assert_nothing_left(args);
	rmrf(dir);
}

static void reports_a_replica_that_never_gets_ready(void **state)
{
	char dir[256], wrap[300], args[700], out[16384];
	uint64_t t0 = util_now_mono_ms();

	tmpdir(dir, sizeof dir);
	write_wrapper(dir, wrap, sizeof wrap);
	/* Two of three replicas elect a leader; the third never answers. */
	snprintf(args, sizeof args, "dev up --dir %s/c --stsd %s --timeout 8", dir, wrap);
	assert_int_equal(run("STSD_WRAP_UNREADY=3", args, out, sizeof out), 1);
	assert_true(util_now_mono_ms() - t0 < 20000);
	assert_non_null(strstr(out, "leader elected: replica "));
	assert_non_null(strstr(out, "replica 1 ready"));
	assert_non_null(strstr(out, "replica 2 ready"));
	assert_non_null(strstr(out, "replica 3 (pid "));
	if (strstr(out, "is not ready after 8.0 s; last: GET /readyz: ") == NULL ||
	    strstr(out, "https://127.0.0.1:") == NULL)
		fail_msg("%s", out);
	assert_non_null(strstr(out, "| stand-in replica 3: never listening"));
	assert_null(strstr(out, "replica 3 ready"));
	snprintf(args, sizeof args, "%s/c", dir);
	assert_nothing_left(args);
	rmrf(dir);
}

/* cluster.json has exactly the promised shape; every replica runs with its data directory and
 * its TLS flags. */
static void check_record(const char *dir, json_t *cl)
{
	char expect[2048];

	assert_int_equal(json_array_size(json_object_get(cl, "agents")), 0);
	assert_true(json_is_array(json_object_get(cl, "agents")));
	for (size_t i = 0; i < 3; i++) {
		json_t *args = json_object_get(replica(cl, i), "args");
		char *text = json_dumps(args, JSON_COMPACT);

		assert_int_equal(json_integer_value(json_object_get(replica(cl, i), "id")), i + 1);
		assert_true(running(pid_of(cl, i), field(cl, i, "dataDir")));
		assert_non_null(strstr(field(cl, i, "raftAddress"), "127.0.0.1:"));
		assert_non_null(strstr(field(cl, i, "apiAddress"), "127.0.0.1:"));
		assert_string_not_equal(field(cl, i, "raftAddress"), field(cl, i, "apiAddress"));
		snprintf(expect, sizeof expect, "%s/replica-%zu", dir, i + 1);
		assert_string_equal(field(cl, i, "dataDir"), expect);
		snprintf(expect, sizeof expect, "%s/replica-%zu.log", dir, i + 1);
		assert_string_equal(field(cl, i, "log"), expect);
		snprintf(
		    expect, sizeof expect,
		    "\"--tls-cert-file\",\"%s/pki/replica-%zu.crt\",\"--tls-private-key-file\","
		    "\"%s/pki/replica-%zu.key\",\"--client-ca-file\",\"%s/pki/ca.crt\","
		    "\"--token-auth-file\",\"%s/pki/tokens.csv\"",
		    dir, i + 1, dir, i + 1, dir, dir);
		if (strstr(text, expect) == NULL)
			fail_msg("args %s lack %s", text, expect);
		free(text);
	}
	assert_string_not_equal(field(cl, 0, "apiAddress"), field(cl, 1, "apiAddress"));
}

static void assert_mode(const char *dir, const char *name, mode_t mode)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 0777) != mode)
		fail_msg("%s has mode %o, not %o", path, st.st_mode & 0777, mode);
}

/* No temporary file of the kubeconfig's (DIR/.kubeconfig.XXXXXX) is left beside it. */
static void assert_no_kubeconfig_temp(const char *dir)
{
	DIR *d = opendir(dir);

	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strncmp(e->d_name, ".kubeconfig", 11) == 0)
			fail_msg("%s/%s left over", dir, e->d_name);
	closedir(d);
}

static char *slurp(const char *dir, const char *name)
{
	char path[600], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(buf = calloc(1, 65536));
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* DIR/pki: every file, keys and tokens private; the token file in kube-apiserver's format;
 * cluster.json names the files (never their content). */
static void check_pki(const char *dir, json_t *cl)
{
	static const char *const public[] = {"ca.crt", "admin.crt", "replica-1.crt",
	                                     "replica-2.crt", "replica-3.crt"};
	static const char *const private[] = {"ca.key",        "admin.key",     "replica-1.key",
	                                      "replica-2.key", "replica-3.key", "tokens.csv",
	                                      "admin.token"};
	char pki[400], expect[600], *tokens, *token, *doc;

	snprintf(pki, sizeof pki, "%s/pki", dir);
	for (size_t i = 0; i < sizeof public / sizeof public[0]; i++)
		assert_mode(pki, public[i], 0644);
	for (size_t i = 0; i < sizeof private / sizeof private[0]; i++)
		assert_mode(pki, private[i], 0600);
	assert_mode(dir, "kubeconfig", 0600);
	assert_no_kubeconfig_temp(dir);
	tokens = slurp(pki, "tokens.csv");
	token = slurp(pki, "admin.token");
	assert_int_equal(strlen(token), 65); /* 32 bytes in hex and a newline */
	assert_int_equal(strspn(token, "0123456789abcdef"), 64);
	snprintf(expect, sizeof expect, "%.64s,admin,admin,\"system:masters\"\n", token);
	assert_string_equal(tokens, expect);
	assert_string_equal(json_string_value(json_object_get(cl, "scheme")), "https");
	snprintf(expect, sizeof expect, "%s/ca.crt", pki);
	assert_string_equal(json_string_value(json_object_get(cl, "caFile")), expect);
	snprintf(expect, sizeof expect, "%s/admin.crt", pki);
	assert_string_equal(json_string_value(json_object_get(cl, "adminCertFile")), expect);
	snprintf(expect, sizeof expect, "%s/admin.key", pki);
	assert_string_equal(json_string_value(json_object_get(cl, "adminKeyFile")), expect);
	snprintf(expect, sizeof expect, "%s/tokens.csv", pki);
	assert_string_equal(json_string_value(json_object_get(cl, "tokenFile")), expect);
	doc = slurp(dir, "cluster.json");
	assert_null(strstr(doc, "PRIVATE KEY"));
	assert_null(strstr(doc, "BEGIN CERTIFICATE"));
	assert_null(strstr(doc, (token[64] = '\0', token)));
	free(doc);
	free(tokens);
	free(token);
}

/* GET path with opts at the cluster's replica 1: the status. */
static long get_status(const char *url, const struct client_options *opts, const char *path)
{
	struct client_options o = *opts;
	struct client_response resp;
	struct client *c;
	char err[512];
	long status;

	o.deadline_ms = 10000;
	o.max_attempts = 3;
	if (client_create(&url, 1, &o, &c, err, sizeof err) != STSD_OK)
		fail_msg("client_create: %s", err);
	if (client_request(c, "GET", path, NULL, 0, NULL, &resp) != STSD_OK)
		fail_msg("GET %s%s: %s", url, path, client_errmsg(c));
	status = resp.status;
	client_response_free(&resp);
	client_destroy(c);
	return status;
}

/* The kubeconfig embeds the CA and the admin certificate: through it (in-memory PEM), through
 * cluster.json's files, and with a bearer token, /api/v1/namespaces answers; without credentials
 * it is a 401 while /readyz stays anonymous. */
static void check_https(const char *dir, json_t *cl)
{
	char path[600], url[128], err[1024], *text;
	struct kubeconfig kc = {0};
	struct client_options o = {0}, files = {0}, anon = {0}, bearer = {0};

	text = slurp(dir, "kubeconfig");
	assert_non_null(strstr(text, "certificate-authority-data: "));
	assert_non_null(strstr(text, "client-certificate-data: "));
	assert_non_null(strstr(text, "client-key-data: "));
	free(text);
	snprintf(path, sizeof path, "%s/kubeconfig", dir);
	if (kubeconfig_load(path, NULL, &kc, err, sizeof err) != STSD_OK)
		fail_msg("%s", err);
	snprintf(url, sizeof url, "https://%s", field(cl, 0, "apiAddress"));
	assert_string_equal(kc.server, url);
	assert_non_null(strstr(kc.ca_pem, "BEGIN CERTIFICATE"));
	kubeconfig_client_options(&kc, &o);
	assert_int_equal(get_status(url, &o, "/api/v1/namespaces"), 200);

	files.ca_file = json_string_value(json_object_get(cl, "caFile"));
	files.cert_file = json_string_value(json_object_get(cl, "adminCertFile"));
	files.key_file = json_string_value(json_object_get(cl, "adminKeyFile"));
	assert_int_equal(get_status(url, &files, "/api/v1/namespaces"), 200);

	anon.ca_pem = kc.ca_pem;
	anon.ca_pem_len = kc.ca_pem_len;
	assert_int_equal(get_status(url, &anon, "/api/v1/namespaces"), 401);
	assert_int_equal(get_status(url, &anon, "/readyz"), 200);

	bearer = anon;
	snprintf(path, sizeof path, "%s/pki", dir);
	text = slurp(path, "admin.token");
	text[strcspn(text, "\n")] = '\0';
	bearer.token = text;
	assert_int_equal(get_status(url, &bearer, "/api/v1/namespaces"), 200);
	bearer.token = "not-the-token";
	assert_int_equal(get_status(url, &bearer, "/api/v1/namespaces"), 401);
	free(text);
	kubeconfig_free(&kc);
}

/* dev up made the StorageClasses the seed manifests name: standard the default, the local ones
 * bound with their pod under DIR/volumes, shared at once under DIR/shared. */
static void check_storage_classes(const char *dir, json_t *cl)
{
	static const struct {
		const char *name, *provisioner, *binding, *path;
	} want[] = {
	    {"standard", "stsd.io/local", "WaitForFirstConsumer", "volumes"},
	    {"fast-ssd", "stsd.io/local", "WaitForFirstConsumer", "volumes"},
	    {"encrypted-ssd", "stsd.io/local", "WaitForFirstConsumer", "volumes"},
	    {"shared", "stsd.io/shared-path", "Immediate", "shared"},
	};
	struct client_options o = {.deadline_ms = 10000};
	char url[128], err[512], expect[600];
	const char *u = url;
	json_t *list = NULL, *items, *it;
	struct client *c;
	size_t i, defaults = 0;
	struct stat st;

	o.ca_file = json_string_value(json_object_get(cl, "caFile"));
	o.cert_file = json_string_value(json_object_get(cl, "adminCertFile"));
	o.key_file = json_string_value(json_object_get(cl, "adminKeyFile"));
	snprintf(url, sizeof url, "https://%s", field(cl, 0, "apiAddress"));
	if (client_create(&u, 1, &o, &c, err, sizeof err) != STSD_OK)
		fail_msg("client_create: %s", err);
	if (client_get_json(c, "/apis/storage.k8s.io/v1/storageclasses", &list) != STSD_OK)
		fail_msg("list storageclasses: %s", client_errmsg(c));
	items = json_object_get(list, "items");
	assert_int_equal(json_array_size(items), 4);
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		json_t *found = NULL;

		json_array_foreach(items, i, it)
		{
			if (strcmp(json_string_value(
			               json_object_get(json_object_get(it, "metadata"), "name")),
			           want[k].name) == 0)
				found = it;
		}
		if (found == NULL)
			fail_msg("no StorageClass %s", want[k].name);
		assert_string_equal(json_string_value(json_object_get(found, "provisioner")),
		                    want[k].provisioner);
		assert_string_equal(json_string_value(json_object_get(found, "volumeBindingMode")),
		                    want[k].binding);
		assert_string_equal(json_string_value(json_object_get(found, "reclaimPolicy")),
		                    "Delete");
		snprintf(expect, sizeof expect, "%s/%s", dir, want[k].path);
		assert_string_equal(json_string_value(json_object_get(
		                        json_object_get(found, "parameters"), "path")),
		                    expect);
		assert_int_equal(stat(expect, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		if (json_string_value(json_object_get(
		        json_object_get(json_object_get(found, "metadata"), "annotations"),
		        "storageclass.kubernetes.io/is-default-class")) != NULL) {
			assert_string_equal(want[k].name, "standard");
			assert_string_equal(
			    json_string_value(json_object_get(
			        json_object_get(json_object_get(found, "metadata"), "annotations"),
			        "storageclass.kubernetes.io/is-default-class")),
			    "true");
			defaults++;
		}
	}
	assert_int_equal(defaults, 1);
	json_decref(list);
	client_destroy(c);
}

/* The real kubectl uses the kubeconfig as it is, when installed. */
static void check_kubectl(const char *dir)
{
	char cmd[700], out[4096];
	FILE *p;

	if (access("/usr/bin/kubectl", X_OK) != 0)
		return;
	snprintf(cmd, sizeof cmd, "kubectl --kubeconfig %s/kubeconfig get namespaces 2>&1", dir);
	assert_non_null(p = popen(cmd, "r"));
	out[fread(out, 1, sizeof out - 1, p)] = '\0';
	if (pclose(p) != 0 || strstr(out, "kube-system") == NULL)
		fail_msg("%s: %s", cmd, out);
}

/* stsctl members --dir reaches every member over https with the admin certificate. The members'
 * API addresses are recorded a moment after they join: poll. */
static void check_members(const char *dir)
{
	uint64_t deadline = util_now_mono_ms() + 15000;
	struct timespec nap = {.tv_nsec = 100 * 1000000L};
	char args[600], out[8192];
	int rv;

	snprintf(args, sizeof args, "members --dir %s", dir);
	do {
		if ((rv = run("", args, out, sizeof out)) == 0 && strstr(out, "leader") != NULL &&
		    strstr(out, "unreachable") == NULL)
			return;
		nanosleep(&nap, NULL);
	} while (util_now_mono_ms() < deadline);
	fail_msg("stsctl %s: %d: %s", args, rv, out);
}

/* A listening socket on address ("127.0.0.1:PORT"), so that a replica cannot bind it. */
static int occupy(const char *address)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	uint64_t deadline = util_now_mono_ms() + 5000;
	struct timespec nap = {.tv_nsec = 20 * 1000000L};

	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)atoi(strchr(address, ':') + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* A killed process's command line is gone before its descriptors are closed: poll. */
	while (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && util_now_mono_ms() < deadline)
		nanosleep(&nap, NULL);
	if (util_now_mono_ms() >= deadline)
		fail_msg("cannot bind %s: %s", address, strerror(errno));
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static void restarts_a_replica(const char *dir, json_t *before)
{
	char args[700], out[16384];
	pid_t old = pid_of(before, 1);
	json_t *after;
	int fd;

	snprintf(args, sizeof args, "dev restart --dir %s --id 2", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "replica 2 is still running"));
	kill(old, SIGKILL);
	assert_true(gone_within(old, field(before, 1, "dataDir"), 5000));
	/* A restarted replica that cannot start (its API port taken) is reported with its log. */
	fd = occupy(field(before, 1, "apiAddress"));
	snprintf(args, sizeof args, "dev restart --dir %s --id 2 --timeout 20", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	close(fd);
	assert_non_null(strstr(out, "replica 2 (pid"));
	assert_non_null(strstr(out, "before it was ready"));
	after = load_cluster(dir);
	assert_false(running(pid_of(after, 1), field(after, 1, "dataDir")));
	json_decref(after);
	snprintf(args, sizeof args, "dev restart --dir %s --id 2", dir);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "replica 2 ready"));
	after = load_cluster(dir);
	assert_int_not_equal(pid_of(after, 1), old);
	assert_true(running(pid_of(after, 1), field(after, 1, "dataDir")));
	assert_int_equal(pid_of(after, 0), pid_of(before, 0));
	assert_true(json_equal(json_object_get(replica(after, 1), "args"),
	                       json_object_get(replica(before, 1), "args")));
	assert_true(
	    json_equal(json_object_get(after, "caFile"), json_object_get(before, "caFile")));
	json_decref(after);
	snprintf(args, sizeof args, "dev restart --dir %s --id 7", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "no replica 7"));
}

/* A process that ignores SIGTERM, recorded in cluster.json as an agent: down must escalate. */
static pid_t add_stubborn_agent(const char *dir, char *marker, size_t len)
{
	char path[600];
	json_t *cl = load_cluster(dir);
	pid_t pid;

	snprintf(marker, len, "%s/agent-a", dir);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done", "agent",
		      marker, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	json_array_append_new(
	    json_object_get(cl, "agents"),
	    json_pack("{s:s,s:i,s:s}", "name", "a", "pid", (int)pid, "dataDir", marker));
	snprintf(path, sizeof path, "%s/cluster.json", dir);
	assert_int_equal(json_dump_file(cl, path, JSON_INDENT(2)), 0);
	json_decref(cl);
	return pid;
}

static void brings_a_cluster_up_restarts_and_down(void **state)
{
	char dir[256], cdir[300], args[700], out[16384], marker[400];
	uint64_t t0;
	pid_t agent;
	json_t *cl;

	tmpdir(dir, sizeof dir);
	snprintf(cdir, sizeof cdir, "%s/c", dir);
	snprintf(args, sizeof args, "dev up --dir %s --stsd %s", cdir, stsd);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "creating a CA and certificates in "));
	assert_non_null(strstr(out, "starting replica 1 (api 127.0.0.1:"));
	assert_non_null(strstr(out, "waiting for a leader ..."));
	assert_non_null(strstr(out, "leader elected: replica "));
	assert_non_null(strstr(out, "replica 3 ready"));
	snprintf(args, sizeof args, "export KUBECONFIG=%s/kubeconfig", cdir);
	assert_non_null(strstr(out, args));
	cl = load_cluster(cdir);
	check_record(cdir, cl);
	check_pki(cdir, cl);
	check_https(cdir, cl);
	assert_non_null(
	    strstr(out, "storage classes: standard (default), fast-ssd, encrypted-ssd"));
	check_storage_classes(cdir, cl);
	check_kubectl(cdir);
	check_members(cdir);
	restarts_a_replica(cdir, cl);
	json_decref(cl);

	agent = add_stubborn_agent(cdir, marker, sizeof marker);
	cl = load_cluster(cdir);
	snprintf(args, sizeof args, "dev down --dir %s", cdir);
	t0 = util_now_mono_ms();
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_true(util_now_mono_ms() - t0 >= 9000);
	assert_non_null(strstr(out, "replica 1 stopped"));
	assert_non_null(strstr(out, "replica 3 stopped"));
	assert_non_null(strstr(out, "agent a did not stop within 10.0 s: sending SIGKILL"));
	assert_non_null(strstr(out, "agent a killed"));
	waitpid(agent, NULL, 0);
	for (size_t i = 0; i < 3; i++)
		assert_false(running(pid_of(cl, i), field(cl, i, "dataDir")));
	assert_false(running(agent, marker));
	json_decref(cl);
	/* Down again: nothing runs, still fine. */
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "replica 1 (pid"));
	assert_non_null(strstr(out, "is not running"));
	rmrf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refuses_a_non_empty_dir_and_bad_arguments),
	    cmocka_unit_test(reports_a_stsd_that_exits_at_once),
	    cmocka_unit_test(stops_the_others_when_one_replica_exits),
	    cmocka_unit_test(reports_a_replica_that_never_gets_ready),
	    cmocka_unit_test(brings_a_cluster_up_restarts_and_down),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s STSCTL STSD\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	stsd = argv[2];
	/* A developer's own kubeconfig must not leak into stsctl. */
	unsetenv("KUBECONFIG");
	unsetenv("STSD_SERVER");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
