/* test_stsctl_dev.c — `stsctl dev up|down|restart` with fake_stsd standing in for stsd: the
 * cluster record, progress and readiness, a replica that exits or never gets ready (reported with
 * its log, nothing left running), restart, and down escalating to SIGKILL. argv[1]: stsctl,
 * argv[2]: fake_stsd. */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static const char *stsctl, *fake;

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
	snprintf(args, sizeof args, "dev up --dir %s --stsd %s", dir, fake);
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
	char dir[256], args[700], out[16384];
	json_t *cl;

	tmpdir(dir, sizeof dir);
	snprintf(args, sizeof args, "dev up --dir %s/c --stsd %s", dir, fake);
	assert_int_equal(run("FAKE_STSD_EXIT=2", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "replica 2 (pid "));
	assert_non_null(strstr(out, "exited with status 3"));
	assert_non_null(strstr(out, "failing on purpose"));
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
	char dir[256], args[700], out[16384];
	uint64_t t0 = util_now_mono_ms();

	tmpdir(dir, sizeof dir);
	snprintf(args, sizeof args, "dev up --dir %s/c --stsd %s --timeout 1.5", dir, fake);
	assert_int_equal(run("FAKE_STSD_UNREADY=3", args, out, sizeof out), 1);
	assert_true(util_now_mono_ms() - t0 < 10000);
	assert_non_null(strstr(out, "leader elected: replica 1 (term 2)"));
	assert_non_null(strstr(out, "replica 1 ready"));
	assert_non_null(strstr(out, "is not ready after 1.5 s; last: GET /readyz: 503 not ready"));
	assert_non_null(strstr(out, "| level=info mod=fake-stsd event=start id=3"));
	assert_null(strstr(out, "replica 3 ready"));
	snprintf(args, sizeof args, "%s/c", dir);
	assert_nothing_left(args);
	rmrf(dir);
}

/* cluster.json has exactly the promised shape; every replica runs with its data directory. */
static void check_record(const char *dir, json_t *cl)
{
	char expect[600];

	assert_int_equal(json_array_size(json_object_get(cl, "agents")), 0);
	assert_true(json_is_array(json_object_get(cl, "agents")));
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(json_integer_value(json_object_get(replica(cl, i), "id")), i + 1);
		assert_true(running(pid_of(cl, i), field(cl, i, "dataDir")));
		assert_non_null(strstr(field(cl, i, "raftAddress"), "127.0.0.1:"));
		assert_non_null(strstr(field(cl, i, "apiAddress"), "127.0.0.1:"));
		assert_string_not_equal(field(cl, i, "raftAddress"), field(cl, i, "apiAddress"));
		snprintf(expect, sizeof expect, "%s/replica-%zu", dir, i + 1);
		assert_string_equal(field(cl, i, "dataDir"), expect);
		snprintf(expect, sizeof expect, "%s/replica-%zu.log", dir, i + 1);
		assert_string_equal(field(cl, i, "log"), expect);
	}
	assert_string_not_equal(field(cl, 0, "apiAddress"), field(cl, 1, "apiAddress"));
}

/* The kubeconfig points at replica 1; kubectl reads it when it is installed. */
static void check_kubeconfig(const char *dir, json_t *cl)
{
	char cmd[700], out[256], expect[128];
	FILE *p;

	snprintf(expect, sizeof expect, "http://%s", field(cl, 0, "apiAddress"));
	if (access("/usr/bin/kubectl", X_OK) != 0)
		return;
	snprintf(cmd, sizeof cmd,
	         "kubectl config view --kubeconfig %s/kubeconfig -o "
	         "jsonpath='{.current-context} {.clusters[0].cluster.server} {.users[0].name}'",
	         dir);
	assert_non_null(p = popen(cmd, "r"));
	out[fread(out, 1, sizeof out - 1, p)] = '\0';
	assert_int_equal(pclose(p), 0);
	snprintf(cmd, sizeof cmd, "stsd-dev %s admin", expect);
	assert_string_equal(out, cmd);
}

static void restarts_a_replica(const char *dir, json_t *before)
{
	char args[700], out[16384];
	pid_t old = pid_of(before, 1);
	json_t *after;

	snprintf(args, sizeof args, "dev restart --dir %s --id 2", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "replica 2 is still running"));
	kill(old, SIGKILL);
	assert_true(gone_within(old, field(before, 1, "dataDir"), 5000));
	/* A restarted replica that never gets ready is reported and stopped again. */
	snprintf(args, sizeof args, "dev restart --dir %s --id 2 --timeout 0.5", dir);
	assert_int_equal(run("FAKE_STSD_UNREADY=2", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "replica 2 (pid"));
	assert_non_null(strstr(out, "is not ready after 0.5 s"));
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
	json_decref(after);
	snprintf(args, sizeof args, "dev restart --dir %s --id 7", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "no replica 7"));
}

static void brings_a_cluster_up_restarts_and_down(void **state)
{
	char dir[256], cdir[300], args[700], out[16384];
	uint64_t t0;
	json_t *cl;

	tmpdir(dir, sizeof dir);
	snprintf(cdir, sizeof cdir, "%s/c", dir);
	snprintf(args, sizeof args, "dev up --dir %s --stsd %s", cdir, fake);
	/* Replica 3 ignores SIGTERM: down must escalate. */
	assert_int_equal(run("FAKE_STSD_IGNORE_TERM=3", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "starting replica 1 (api 127.0.0.1:"));
	assert_non_null(strstr(out, "waiting for a leader ..."));
	assert_non_null(strstr(out, "leader elected: replica 1"));
	assert_non_null(strstr(out, "replica 3 ready"));
	snprintf(args, sizeof args, "export KUBECONFIG=%s/kubeconfig", cdir);
	assert_non_null(strstr(out, args));
	cl = load_cluster(cdir);
	check_record(cdir, cl);
	check_kubeconfig(cdir, cl);
	restarts_a_replica(cdir, cl);
	json_decref(cl);

	cl = load_cluster(cdir);
	snprintf(args, sizeof args, "dev down --dir %s", cdir);
	t0 = util_now_mono_ms();
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_true(util_now_mono_ms() - t0 >= 9000);
	assert_non_null(strstr(out, "replica 1 stopped"));
	assert_non_null(strstr(out, "replica 3 did not stop within 10.0 s: sending SIGKILL"));
	assert_non_null(strstr(out, "replica 3 killed"));
	for (size_t i = 0; i < 3; i++)
		assert_false(running(pid_of(cl, i), field(cl, i, "dataDir")));
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
		fprintf(stderr, "usage: %s STSCTL FAKE_STSD\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	fake = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
