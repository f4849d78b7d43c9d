/* test_stsctl_rollout_stsd.c — `stsctl rollout pause|resume` against a real stsd (one replica,
 * TLS, credentials from a kubeconfig): the server takes the merge patch, the annotation comes and
 * goes, the set's other metadata and spec stay, and a second resume is refused.
 * argv[1]: stsctl, argv[2]: stsd. */
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
#include "harness.h"

#define SET "/apis/apps/v1/namespaces/default/statefulsets"
#define ANN "stsd.io/rollout-paused"

static const char *stsctl, *stsd;

static int run(const char *args, char *out, size_t len)
{
	char cmd[2048];
	size_t n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof cmd, "env -u STSD_SERVER %s %s 2>&1", stsctl, args);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A kubeconfig with the harness's CA and admin certificate, server replica 1. */
static void write_kubeconfig(const struct harness *h, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/kubeconfig", h->root);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f,
	        "apiVersion: v1\nkind: Config\n"
	        "clusters:\n- name: c\n  cluster:\n    server: %s\n"
	        "    certificate-authority: %s\n"
	        "users:\n- name: admin\n  user:\n    client-certificate: %s\n    client-key: %s\n"
	        "contexts:\n- name: x\n  context:\n    cluster: c\n    user: admin\n"
	        "current-context: x\n",
	        h->r[0].api_url, h->ca, h->admin_cert, h->admin_key);
	fclose(f);
}

static json_t *get_set(struct client *c)
{
	json_t *set = NULL;

	assert_int_equal(client_get_json(c, SET "/web", &set), STSD_OK);
	return set;
}

static const char *annotation(const json_t *set, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(set, "metadata"), "annotations"), key));
}

static void pause_resume_real_server(void **state)
{
	struct harness *h = harness_create(stsd, "rollout", 1, 1, NULL);
	char kc[512], args[1024], out[4096];
	struct client *c;
	json_t *set, *body;
	(void)state;

	harness_start_cluster(h, 60000);
	c = harness_client(h, 10000);
	body = json_loads(
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\","
	    "\"annotations\":{\"team\":\"db\"}},\"spec\":{\"serviceName\":\"nginx\","
	    "\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
	    "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":"
	    "\"nginx\",\"image\":\"nginx:1\"}]}}}}",
	    0, NULL);
	assert_int_equal(client_json(c, "POST", SET, body, NULL), STSD_OK);
	json_decref(body);
	write_kubeconfig(h, kc, sizeof kc);

	snprintf(args, sizeof args, "rollout pause sts web --kubeconfig %s", kc);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_string_equal(out, "statefulset.apps/web paused\n");
	set = get_set(c);
	assert_string_equal(annotation(set, ANN), "true");
	assert_string_equal(annotation(set, "team"), "db");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(set, "spec"), "replicas")), 2);
	json_decref(set);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "is already paused"));

	snprintf(args, sizeof args, "rollout resume sts/web -n default --kubeconfig %s", kc);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_string_equal(out, "statefulset.apps/web resumed\n");
	set = get_set(c);
	assert_null(annotation(set, ANN));
	assert_string_equal(annotation(set, "team"), "db");
	json_decref(set);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_string_equal(out, "error: statefulsets.apps \"web\" is not paused\n");

	/* A set that does not exist: the server's NotFound. */
	snprintf(args, sizeof args, "rollout pause sts nope --kubeconfig %s", kc);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "Error from server (NotFound)"));
	assert_non_null(strstr(out, "nope"));

	client_destroy(c);
	harness_finish(h);
	harness_destroy(h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pause_resume_real_server),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s STSCTL STSD\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	stsd = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
