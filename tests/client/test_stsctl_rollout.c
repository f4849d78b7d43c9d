/* test_stsctl_rollout.c — `stsctl rollout pause|resume sts NAME` against a throwaway server that
 * keeps one StatefulSet: the JSON merge patch it sends (content type, body naming only the
 * annotation), kubectl's wording for success and for "already paused" / "is not paused", the
 * namespace and name forms, server errors, bad arguments. argv[1]: stsctl. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "httpd.h"

#define SET_PATH "/apis/apps/v1/namespaces/%s/statefulsets/web"
#define ANN      "stsd.io/rollout-paused"

static const char *stsctl;

/* The fake API server: one set "web" (in any namespace), and what it was sent. */
struct api {
	json_t *set;
	bool refuse_patch; /* answer PATCH with 422 */
	unsigned patches;
	char ns[64];
	char patch_type[128];
	char patch_body[1024];
	char reply[4096];
};

static int run(const char *args, char *out, size_t len)
{
	char cmd[2048];
	size_t n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof cmd, "%s %s 2>&1", stsctl, args);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void status_reply(struct api *a, struct httpd_reply *rep, int code, const char *reason,
                         const char *msg)
{
	snprintf(a->reply, sizeof a->reply,
	         "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
	         "\"%s\",\"reason\":\"%s\",\"code\":%d}",
	         msg, reason, code);
	rep->status = code;
	rep->body = a->reply;
}

/* A merge patch of metadata.annotations, applied as RFC 7386 says (null removes). */
static void merge_annotations(struct api *a, const char *body)
{
	json_t *p = json_loads(body, 0, NULL), *ann, *v;
	json_t *meta = json_object_get(a->set, "metadata");
	const char *k;

	ann = json_object_get(json_object_get(p, "metadata"), "annotations");
	if (json_object_get(meta, "annotations") == NULL)
		json_object_set_new(meta, "annotations", json_object());
	json_object_foreach(ann, k, v)
	{
		if (json_is_null(v))
			json_object_del(json_object_get(meta, "annotations"), k);
		else
			json_object_set(json_object_get(meta, "annotations"), k, v);
	}
	json_decref(p);
}

static enum httpd_action handle(void *data, const struct httpd_request *req,
                                struct httpd_reply *rep)
{
	struct api *a = data;
	char path[256];
	char *dump;

	snprintf(path, sizeof path, SET_PATH, a->ns);
	rep->content_type = "application/json";
	if (strcmp(req->path, path) != 0) {
		status_reply(a, rep, 404, "NotFound", "statefulsets.apps \\\"nope\\\" not found");
	} else if (strcmp(req->method, "PATCH") == 0) {
		a->patches++;
		snprintf(a->patch_type, sizeof a->patch_type, "%s", req->content_type);
		snprintf(a->patch_body, sizeof a->patch_body, "%s", req->body);
		if (a->refuse_patch) {
			status_reply(a, rep, 422, "Invalid",
			             "StatefulSet.apps \\\"web\\\" is invalid");
		} else {
			merge_annotations(a, req->body);
			rep->body = NULL;
		}
	}
	if (rep->body == NULL) {
		dump = json_dumps(a->set, JSON_COMPACT);
		snprintf(a->reply, sizeof a->reply, "%s", dump);
		free(dump);
		rep->body = a->reply;
	}
	rep->body_len = strlen(rep->body);
	return HTTPD_REPLY;
}

struct fixture {
	struct httpd *h;
	struct api a;
	char url[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->a.set = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
	                      "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
	                      "\"annotations\":{\"team\":\"db\"}},\"spec\":{\"replicas\":3}}",
	                      0, NULL);
	snprintf(f->a.ns, sizeof f->a.ns, "default");
	assert_int_equal(httpd_start("127.0.0.1", 0, handle, &f->a, &f->h), 0);
	snprintf(f->url, sizeof f->url, "%s", httpd_url(f->h));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	httpd_stop(f->h);
	json_decref(f->a.set);
	free(f);
	return 0;
}

static const char *annotation(const struct fixture *f, const char *key)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(f->a.set, "metadata"), "annotations"), key));
}

static void pause_then_resume(void **state)
{
	struct fixture *f = *state;
	char args[512], out[4096];
	json_t *body, *want;

	snprintf(args, sizeof args, "rollout pause sts web --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_string_equal(out, "statefulset.apps/web paused\n");
	assert_int_equal(f->a.patches, 1);
	assert_string_equal(f->a.patch_type, "application/merge-patch+json");
	body = json_loads(f->a.patch_body, 0, NULL);
	want = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", ANN, "true");
	assert_true(json_equal(body, want));
	json_decref(body);
	json_decref(want);
	assert_string_equal(annotation(f, ANN), "true");
	assert_string_equal(annotation(f, "team"), "db");

	/* kubectl's answer for a Deployment paused already: an error, exit 1, no patch. */
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_string_equal(out, "error: statefulsets.apps \"web\" is already paused\n");
	assert_int_equal(f->a.patches, 1);

	snprintf(args, sizeof args, "rollout resume statefulset/web --server=%s", f->url);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_string_equal(out, "statefulset.apps/web resumed\n");
	assert_int_equal(f->a.patches, 2);
	body = json_loads(f->a.patch_body, 0, NULL);
	assert_true(json_is_null(json_object_get(
	    json_object_get(json_object_get(body, "metadata"), "annotations"), ANN)));
	assert_int_equal(json_object_size(json_object_get(body, "metadata")), 1);
	json_decref(body);
	assert_null(annotation(f, ANN));
	assert_string_equal(annotation(f, "team"), "db");

	assert_int_equal(run(args, out, sizeof out), 1);
	assert_string_equal(out, "error: statefulsets.apps \"web\" is not paused\n");
	assert_int_equal(f->a.patches, 2);
}

/* Only "true" is paused (as the controller reads it). */
static void other_value_is_not_paused(void **state)
{
	struct fixture *f = *state;
	char args[512], out[4096];

	json_object_set_new(json_object_get(json_object_get(f->a.set, "metadata"), "annotations"),
	                    ANN, json_string("yes"));
	snprintf(args, sizeof args, "rollout resume sts web --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "is not paused"));
	snprintf(args, sizeof args, "rollout pause sts web --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_string_equal(annotation(f, ANN), "true");
}

static void namespace_and_errors(void **state)
{
	struct fixture *f = *state;
	char args[512], out[4096];

	snprintf(f->a.ns, sizeof f->a.ns, "prod");
	snprintf(args, sizeof args, "rollout pause sts web -n prod --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 0);
	assert_int_equal(f->a.patches, 1);
	/* Another namespace: the server's NotFound, as kubectl prints it. */
	snprintf(args, sizeof args, "rollout pause sts web --namespace=dev --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_string_equal(out,
	                    "Error from server (NotFound): statefulsets.apps \"nope\" not found\n");
	/* A refused patch: the server's message, exit 1. */
	f->a.refuse_patch = true;
	snprintf(args, sizeof args, "rollout resume sts web -n prod --server %s", f->url);
	assert_int_equal(run(args, out, sizeof out), 1);
	assert_non_null(strstr(out, "is invalid"));
	assert_non_null(strstr(out, "Invalid"));
}

static void bad_arguments(void **state)
{
	struct fixture *f = *state;
	char args[512], out[4096];

	assert_int_equal(run("rollout", out, sizeof out), 2);
	assert_int_equal(run("rollout undo sts web", out, sizeof out), 2);
	assert_int_equal(run("rollout pause sts", out, sizeof out), 2);
	assert_int_equal(run("rollout pause deployment web", out, sizeof out), 2);
	assert_int_equal(run("rollout pause sts web extra", out, sizeof out), 2);
	assert_int_equal(run("rollout pause sts web -n", out, sizeof out), 2);
	assert_int_equal(run("rollout pause sts/ --server http://127.0.0.1:1", out, sizeof out), 2);
	assert_int_equal(run("rollout --help", out, sizeof out), 0);
	assert_non_null(strstr(out, "Usage: stsctl rollout"));
	assert_int_equal(f->a.patches, 0);
	/* No server at all. */
	snprintf(args, sizeof args, "env -u STSD_SERVER -u KUBECONFIG %s rollout pause sts web",
	         stsctl);
	{
		char cmd[1024];
		FILE *p;
		int status;

		snprintf(cmd, sizeof cmd, "%s 2>&1", args);
		assert_non_null(p = popen(cmd, "r"));
		out[fread(out, 1, sizeof out - 1, p)] = '\0';
		status = pclose(p);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		assert_non_null(strstr(out, "no server"));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pause_then_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(other_value_is_not_paused, setup, teardown),
	    cmocka_unit_test_setup_teardown(namespace_and_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s STSCTL\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
