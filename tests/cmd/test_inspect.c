/* test_inspect.c — `stsctl inspect` reports a store's content, read offline while the store is open
 * elsewhere, and refuses bad arguments with a message and a non-zero exit. argv[1]: the stsctl
 * binary. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"
#include "util.h"

static const char *stsctl;

/* Run stsctl with args; returns the exit status, output (stdout+stderr) in out. */
static int run(const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int status;

	snprintf(cmd, sizeof cmd, "%s %s 2>&1", stsctl, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void reports_the_store(void **state)
{
	struct fixture *f = *state;
	unsigned char digest[32];
	char hex[65], args[512], data_dir[300], *out = malloc(1 << 16);
	uint64_t applied;
	json_t *j;

	assert_int_equal(fx_create(f, "configmaps", "default", "a", "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "kube-system", "b", "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "web-0", "{\"spec\":{}}"), STSD_OK);
	struct store_op claim = {.type = STORE_OP_CLAIM_ACQUIRE,
	                         .ns = "default",
	                         .name = "web",
	                         .claim = {.pod_uid = "u0", .pod_name = "web-0", .node = "n1"}};
	assert_int_equal(fx_apply(f, &claim, 1, NULL), STSD_OK);
	fx_digest(f->s, digest, &applied);
	util_hex(digest, 32, hex);

	/* The store stays open here, as under a running replica. */
	snprintf(args, sizeof args, "inspect %s -o json", f->dir);
	assert_int_equal(run(args, out, 1 << 16), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "appliedIndex")),
	                 (json_int_t)applied);
	assert_string_equal(json_string_value(json_object_get(j, "digest")), hex);
	assert_int_equal(json_integer_value(json_object_get(j, "objects")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "resources"), "configmaps")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "resources"), "pods")), 1);
	json_t *c = json_array_get(json_object_get(j, "claims"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "pod")), "web-0");
	assert_string_equal(json_string_value(json_object_get(c, "state")), "held");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "changeLog"), "entries")), 4);
	json_decref(j);

	/* Text output, through a data directory holding store/. */
	snprintf(data_dir, sizeof data_dir, "%s-data", f->dir);
	mkdir(data_dir, 0700);
	snprintf(args, sizeof args, "%s/store", data_dir);
	assert_int_equal(symlink(f->dir, args), 0);
	snprintf(args, sizeof args, "inspect %s", data_dir);
	assert_int_equal(run(args, out, 1 << 16), 0);
	assert_non_null(strstr(out, "applied index:   4"));
	assert_non_null(strstr(out, hex));
	assert_non_null(strstr(out, "default/web/0  held"));
	snprintf(args, sizeof args, "%s/store", data_dir);
	unlink(args);
	rmdir(data_dir);
	free(out);
}

static void refuses_bad_arguments(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(run("inspect", out, sizeof out), 2);
	assert_non_null(strstr(out, "Usage"));
	assert_int_equal(run("inspect /nonexistent/dir", out, sizeof out), 1);
	assert_non_null(strstr(out, "holds no store"));
	assert_int_equal(run("inspect /tmp -o yaml", out, sizeof out), 2);
	assert_int_equal(run("frobnicate", out, sizeof out), 2);
	assert_non_null(strstr(out, "unknown command"));
	assert_int_equal(run("--help", out, sizeof out), 0);
	assert_int_equal(run("inspect --help", out, sizeof out), 0);
	assert_int_equal(run("--version", out, sizeof out), 0);
	assert_non_null(strstr(out, "stsctl "));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(reports_the_store, fx_setup, fx_teardown),
	    cmocka_unit_test(refuses_bad_arguments),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s STSCTL\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
