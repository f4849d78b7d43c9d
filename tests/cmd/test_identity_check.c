/* test_identity_check.c — the identity checker (cmd/stsctl/identity_check.c) over a real store: a
 * clean history passes; a double holder made with the STSD_FAULT_SKIP_CLAIM_CHECK fault hook (and
 * a holder switched without a release) is reported, by the function and by the real
 * `stsctl inspect identities` (exit status 1). argv[1]: the stsctl binary. Needs a build with
 * STSD_TEST_HOOKS. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"
#include "identity_check.h"

static const char *stsctl;

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

static char pod_json[512];

/* The pod <set>-<ord> of set web, as the controller makes it (controller ownerRef). */
static const char *pod_of(int ord)
{
	snprintf(pod_json, sizeof pod_json,
	         "{\"metadata\":{\"name\":\"web-%d\",\"namespace\":\"default\","
	         "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
	         "\"name\":\"web\",\"uid\":\"set-uid\",\"controller\":true}]},\"spec\":{}}",
	         ord);
	return pod_json;
}

/* What the executor commits for a pod creation: the pod and its claim in one command. */
static int create_pod(struct fixture *f, int ord, const char *uid)
{
	char name[32];
	struct store_op ops[2] = {
	    {.type = STORE_OP_CREATE, .resource = "pods", .ns = "default", .uid = uid},
	    {.type = STORE_OP_CLAIM_ACQUIRE,
	     .ns = "default",
	     .name = "web",
	     .ordinal = (uint32_t)ord,
	     .claim = {.pod_uid = uid, .node = "n1"}},
	};

	snprintf(name, sizeof name, "web-%d", ord);
	ops[0].name = name;
	ops[0].json = pod_of(ord);
	ops[0].json_len = strlen(ops[0].json);
	ops[1].claim.pod_name = name;
	return fx_apply(f, ops, 2, NULL);
}

/* The agent's confirmation: the pod object goes and its claim is released, in one command. */
static int remove_pod(struct fixture *f, int ord, const char *uid)
{
	char name[32];
	struct store_op ops[2] = {
	    {.type = STORE_OP_DELETE, .resource = "pods", .ns = "default"},
	    {.type = STORE_OP_CLAIM_RELEASE,
	     .ns = "default",
	     .name = "web",
	     .ordinal = (uint32_t)ord,
	     .expect_pod_uid = uid},
	};

	snprintf(name, sizeof name, "web-%d", ord);
	ops[0].name = name;
	return fx_apply(f, ops, 2, NULL);
}

static void check(struct fixture *f, struct idcheck_result *res)
{
	struct store_reader *r;

	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(idcheck_run(r, res), STSD_OK);
	store_read_end(r);
}

static const char *kind_of(const struct idcheck_result *res, size_t i)
{
	return json_string_value(json_object_get(json_array_get(res->violations, i), "kind"));
}

/* Acquire A, release A, acquire B (and an unrelated object): clean, function and binary. */
static void clean_history(void **state)
{
	struct fixture *f = *state;
	struct idcheck_result res;
	char args[512], *out = malloc(1 << 16);
	json_t *j;

	assert_non_null(out);
	assert_int_equal(create_pod(f, 0, "uid-a"), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "default", "c", "{}"), STSD_OK);
	assert_int_equal(remove_pod(f, 0, "uid-a"), STSD_OK);
	assert_int_equal(create_pod(f, 0, "uid-b"), STSD_OK);
	assert_int_equal(create_pod(f, 1, "uid-c"), STSD_OK);
	check(f, &res);
	assert_int_equal(json_array_size(res.violations), 0);
	assert_int_equal(res.identities, 2);
	assert_int_equal(res.holders, 3);
	assert_int_equal(res.changes, 9);
	assert_int_equal(res.first_revision, 1);
	assert_int_equal(res.last_revision, f->rev);
	idcheck_result_free(&res);

	snprintf(args, sizeof args, "inspect identities %s", f->dir);
	assert_int_equal(run(args, out, 1 << 16), 0);
	assert_non_null(strstr(out, "identities=2 holders=3 changes=9"));
	assert_non_null(strstr(out, "violations=0"));
	assert_null(strstr(out, "violation revision"));
	snprintf(args, sizeof args, "inspect identities -o json %s", f->dir);
	assert_int_equal(run(args, out, 1 << 16), 0);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(j, "holders")), 3);
	assert_int_equal(json_array_size(json_object_get(j, "violations")), 0);
	json_decref(j);
	free(out);
}

/* With the fault hook, a force-deleted pod's claim (still held: its copy may run) is overwritten
 * by the next pod of the identity: a double holder, which the checker reports; so is a claim
 * switched to another uid without a release. */
static void double_holder(void **state)
{
	struct fixture *f = *state;
	struct idcheck_result res;
	char args[512], *out = malloc(1 << 16);
	struct store_op set = {.type = STORE_OP_CLAIM_SET,
	                       .ns = "default",
	                       .name = "web",
	                       .ordinal = 1,
	                       .claim = {.pod_uid = "uid-y"}};
	uint64_t bad_rev;

	assert_non_null(out);
	assert_int_equal(create_pod(f, 0, "uid-a"), STSD_OK);
	/* Force deletion: the object goes, the claim stays held. */
	assert_int_equal(fx_delete(f, "pods", "default", "web-0"), STSD_OK);
	/* Without the hook the store refuses the second holder. */
	unsetenv("STSD_FAULT_SKIP_CLAIM_CHECK");
	assert_int_equal(create_pod(f, 0, "uid-b"), STSD_CONFLICT);
	setenv("STSD_FAULT_SKIP_CLAIM_CHECK", "1", 1);
	assert_int_equal(create_pod(f, 0, "uid-b"), STSD_OK);
	bad_rev = f->rev;
	unsetenv("STSD_FAULT_SKIP_CLAIM_CHECK");
	/* A claim moved to another uid without a release (CLAIM_SET allows it: only a checker
	 * can tell). */
	assert_int_equal(create_pod(f, 1, "uid-x"), STSD_OK);
	assert_int_equal(fx_apply(f, &set, 1, NULL), STSD_OK);

	check(f, &res);
	assert_int_equal(json_array_size(res.violations), 2);
	assert_string_equal(kind_of(&res, 0), "double-acquire");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(res.violations, 0), "revision")),
	    (json_int_t)bad_rev);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(res.violations, 0), "podUID")),
	    "uid-b");
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_array_get(res.violations, 0), "message")),
	           "uid-a"));
	assert_string_equal(kind_of(&res, 1), "holder-switch");
	idcheck_result_free(&res);

	snprintf(args, sizeof args, "inspect identities %s", f->dir);
	assert_int_equal(run(args, out, 1 << 16), 1);
	assert_non_null(strstr(out, "kind=double-acquire"));
	assert_non_null(strstr(out, "identity=default/web/0"));
	assert_non_null(strstr(out, "kind=holder-switch"));
	assert_non_null(strstr(out, "violations=2"));
	free(out);
}

/* A pod of the set added while another uid holds its claim (the claim op left out). */
static void pod_without_claim(void **state)
{
	struct fixture *f = *state;
	struct idcheck_result res;

	assert_int_equal(create_pod(f, 2, "uid-a"), STSD_OK);
	assert_int_equal(fx_delete(f, "pods", "default", "web-2"), STSD_OK);
	struct store_op op = {.type = STORE_OP_CREATE,
	                      .resource = "pods",
	                      .ns = "default",
	                      .name = "web-2",
	                      .uid = "uid-z",
	                      .json = pod_of(2)};
	op.json_len = strlen(op.json);
	assert_int_equal(fx_apply(f, &op, 1, NULL), STSD_OK);
	/* A pod of no StatefulSet is not an identity. */
	assert_int_equal(fx_create(f, "pods", "default", "web-9", "{\"spec\":{}}"), STSD_OK);
	check(f, &res);
	assert_int_equal(json_array_size(res.violations), 1);
	assert_string_equal(kind_of(&res, 0), "pod-without-claim");
	assert_int_equal(res.identities, 1);
	idcheck_result_free(&res);
}

static void bad_arguments(void **state)
{
	char out[4096];
	(void)state;

	assert_int_equal(run("inspect identities", out, sizeof out), 2);
	assert_int_equal(run("inspect identities /nonexistent-stsd-dir", out, sizeof out), 1);
	assert_non_null(strstr(out, "holds no store"));
	assert_int_equal(run("inspect identities /tmp -o yaml", out, sizeof out), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(clean_history, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(double_holder, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(pod_without_claim, fx_setup, fx_teardown),
	    cmocka_unit_test(bad_arguments),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s STSCTL\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
