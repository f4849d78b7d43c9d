/* test_stsctl_members.c — `stsctl members` against a throwaway server speaking the membership admin
 * API: the table and JSON listing (an unreachable member included), add/remove/transfer with the
 * server's Status message on failure, server selection, and bad arguments. argv[1]: stsctl. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpd.h"

static const char *stsctl;

/* The fake replica: what it answers and what it was last asked. */
struct admin {
	int api_port;  /* its own port, for the member list */
	int dead_port; /* member 2's API address: nobody listens */
	bool no_leader;
	char last_method[16];
	char last_path[1024];
	char last_body[512];
};

static int run(const char *env, const char *args, char *out, size_t len)
{
	char cmd[2048];
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

static const char *status_json(int code, const char *reason, const char *msg)
{
	static char buf[512];

	snprintf(
	    buf, sizeof buf,
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"%s\","
	    "\"reason\":\"%s\",\"code\":%d}",
	    msg, reason, code);
	return buf;
}

static void members_list(struct admin *a, struct httpd_reply *rep)
{
	static char buf[512];

	snprintf(buf, sizeof buf,
	         "{\"leaderId\":1,\"members\":[{\"id\":1,\"raftAddress\":\"127.0.0.1:7001\","
	         "\"apiAddress\":\"127.0.0.1:%d\",\"voter\":true},{\"id\":2,\"raftAddress\":"
	         "\"127.0.0.1:7002\",\"apiAddress\":\"127.0.0.1:%d\",\"voter\":true}]}",
	         a->api_port, a->dead_port);
	rep->body = buf;
}

static void route(struct admin *a, const struct httpd_request *req, struct httpd_reply *rep)
{
	bool post = strcmp(req->method, "POST") == 0, del = strcmp(req->method, "DELETE") == 0;

	if (strcmp(req->path, "/debug/raft") == 0) {
		rep->body = "{\"id\":1,\"role\":\"leader\",\"term\":7,\"leaderId\":1,"
		            "\"appliedIndex\":42,\"commitIndex\":42,\"digest\":\"ab\"}";
	} else if (strcmp(req->path, "/stsd/v1/members") == 0 && !post) {
		members_list(a, rep);
	} else if (strcmp(req->path, "/stsd/v1/members") == 0) {
		bool dup = strstr(req->body, "\"id\":4") != NULL;
		rep->status = dup ? 409 : 201;
		rep->body =
		    dup ? status_json(409, "AlreadyExists", "member 4 already exists") : req->body;
	} else if (del && strcmp(req->path, "/stsd/v1/members/2") == 0) {
		rep->body = "{}";
	} else if (post && strcmp(req->path, "/stsd/v1/members/3/transfer") == 0) {
		rep->body = "{\"leaderId\":3}";
	} else if (post && strcmp(req->path, "/stsd/v1/members/0/transfer") == 0) {
		rep->body = "{\"leaderId\":2}";
	} else {
		rep->status = 404;
		rep->body = status_json(404, "NotFound", "member 9 not found");
	}
}

static enum httpd_action handle(void *data, const struct httpd_request *req,
                                struct httpd_reply *rep)
{
	struct admin *a = data;

	snprintf(a->last_method, sizeof a->last_method, "%s", req->method);
	snprintf(a->last_path, sizeof a->last_path, "%s", req->path);
	snprintf(a->last_body, sizeof a->last_body, "%s", req->body);
	rep->content_type = "application/json";
	if (a->no_leader) {
		rep->status = 503;
		rep->body = status_json(503, "ServiceUnavailable", "no leader");
		snprintf(rep->headers, sizeof rep->headers, "Retry-After: 1\r\n");
	} else {
		route(a, req, rep);
	}
	rep->body_len = strlen(rep->body);
	return HTTPD_REPLY;
}

struct fixture {
	struct httpd *h;
	struct admin a;
	char url[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->a.dead_port = httpd_dead_port();
	assert_int_equal(httpd_start("127.0.0.1", 0, handle, &f->a, &f->h), 0);
	f->a.api_port = httpd_port(f->h);
	snprintf(f->url, sizeof f->url, "%s", httpd_url(f->h));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	httpd_stop(f->h);
	free(f);
	return 0;
}

static void lists_members_with_their_raft_view(void **state)
{
	struct fixture *f = *state;
	char args[256], out[8192];
	json_t *j, *m;

	snprintf(args, sizeof args, "members --server %s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out,
	                       "ID    RAFT ADDRESS           API ADDRESS            ROLE         "
	                       "TERM    APPLIED\n"));
	assert_non_null(strstr(out, "1     127.0.0.1:7001         127.0.0.1:"));
	assert_non_null(strstr(out, "leader       7       42\n"));
	assert_non_null(strstr(out, "unreachable  -       -\n"));

	snprintf(args, sizeof args, "members -o json --server=%s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_int_equal(json_array_size(j), 2);
	m = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(m, "role")), "leader");
	assert_int_equal(json_integer_value(json_object_get(m, "term")), 7);
	assert_int_equal(json_integer_value(json_object_get(m, "appliedIndex")), 42);
	assert_true(json_is_true(json_object_get(m, "voter")));
	m = json_array_get(j, 1);
	assert_string_equal(json_string_value(json_object_get(m, "role")), "unreachable");
	assert_null(json_object_get(m, "term"));
	json_decref(j);
}

static void finds_the_server(void **state)
{
	struct fixture *f = *state;
	char env[128], args[512], out[8192], dir[] = "/tmp/stsctl-members-XXXXXX", path[300];
	FILE *cl;

	snprintf(env, sizeof env, "STSD_SERVER=%s", f->url);
	assert_int_equal(run(env, "members", out, sizeof out), 0);
	assert_non_null(strstr(out, "leader"));
	/* A dead first replica: the client fails over to the next one. */
	snprintf(args, sizeof args, "members --server http://127.0.0.1:%d,%s", f->a.dead_port,
	         f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/cluster.json", dir);
	assert_non_null(cl = fopen(path, "w"));
	fprintf(cl,
	        "{\"replicas\":[{\"id\":1,\"pid\":1,\"raftAddress\":\"127.0.0.1:7001\","
	        "\"apiAddress\":\"127.0.0.1:%d\",\"dataDir\":\"/x\",\"log\":\"/x.log\"}],"
	        "\"agents\":[]}",
	        f->a.api_port);
	fclose(cl);
	snprintf(args, sizeof args, "members --dir %s", dir);
	assert_int_equal(run("STSD_SERVER=", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "leader"));
	unlink(path);
	rmdir(dir);
	snprintf(args, sizeof args, "members --dir %s", dir);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "no cluster.json"));
	assert_int_equal(run("STSD_SERVER=", "members", out, sizeof out), 2);
	assert_non_null(strstr(out, "no server: pass --server URL or --dir DIR"));
}

/* $KUBECONFIG's bearer token goes with --server / $STSD_SERVER only over https or to loopback:
 * plain http to another host is refused before any connection. */
static void keeps_the_token_off_plain_http(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/stsctl-members-XXXXXX", env[400], args[256], out[8192], path[300];
	FILE *kc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/kubeconfig", dir);
	assert_non_null(kc = fopen(path, "w"));
	fprintf(kc, "current-context: x\n"
	            "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
	            "users:\n- name: u\n  user: {token: s3cret}\n"
	            "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
	assert_int_equal(fclose(kc), 0);
	snprintf(env, sizeof env, "KUBECONFIG=%s STSD_SERVER=", path);
	assert_int_equal(run(env, "members --server http://192.0.2.1:1", out, sizeof out), 1);
	assert_non_null(
	    strstr(out, "refusing to send a bearer token in plain text to http://192.0.2.1:1"));
	assert_non_null(strstr(out, "the credentials are those of kubeconfig"));
	snprintf(env, sizeof env, "KUBECONFIG=%s STSD_SERVER=http://192.0.2.1:1", path);
	assert_int_equal(run(env, "members", out, sizeof out), 1);
	assert_non_null(strstr(out, "refusing to send a bearer token"));
	/* Loopback is fine. */
	snprintf(env, sizeof env, "KUBECONFIG=%s STSD_SERVER=", path);
	snprintf(args, sizeof args, "members --server %s", f->url);
	assert_int_equal(run(env, args, out, sizeof out), 0);
	assert_non_null(strstr(out, "leader"));
	unlink(path);
	rmdir(dir);
}

static void changes_membership(void **state)
{
	struct fixture *f = *state;
	char args[512], out[8192];

	snprintf(args, sizeof args,
	         "members add --id 5 --raft-address 127.0.0.1:7005 --api-address 127.0.0.1:8005 "
	         "--server %s",
	         f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "member 5 added as a voter"));
	assert_string_equal(f->a.last_method, "POST");
	assert_string_equal(f->a.last_body, "{\"id\":5,\"raftAddress\":\"127.0.0.1:7005\","
	                                    "\"apiAddress\":\"127.0.0.1:8005\"}");
	snprintf(args, sizeof args,
	         "members add --id 4 --raft-address 127.0.0.1:7004 --api-address 127.0.0.1:8004 "
	         "--server %s",
	         f->url);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "stsctl members add: POST /stsd/v1/members: member 4 already "
	                            "exists (409 AlreadyExists)"));
	snprintf(args, sizeof args, "members remove --id 2 --server %s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_string_equal(f->a.last_method, "DELETE");
	assert_string_equal(f->a.last_path, "/stsd/v1/members/2");
	snprintf(args, sizeof args, "members remove --id 9 --server %s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "member 9 not found"));
	snprintf(args, sizeof args, "members transfer --id 3 --server %s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_non_null(strstr(out, "leadership transferred to member 3"));
	snprintf(args, sizeof args, "members transfer --id 0 --server %s", f->url);
	assert_int_equal(run("", args, out, sizeof out), 0);
	assert_string_equal(f->a.last_path, "/stsd/v1/members/0/transfer");
}

static void gives_up_without_a_leader(void **state)
{
	struct fixture *f = *state;
	char args[512], out[8192];

	f->a.no_leader = true;
	snprintf(args, sizeof args, "members --server %s --timeout 0.5", f->url);
	assert_int_equal(run("", args, out, sizeof out), 1);
	assert_non_null(strstr(out, "GET /stsd/v1/members: no leader (503 ServiceUnavailable)"));
	f->a.no_leader = false;
}

static void refuses_bad_arguments(void **state)
{
	char out[8192];

	assert_int_equal(run("", "members --help", out, sizeof out), 0);
	assert_non_null(strstr(out, "Usage: stsctl members"));
	assert_int_equal(run("", "members add --help", out, sizeof out), 0);
	assert_int_equal(run("", "members frobnicate", out, sizeof out), 2);
	assert_int_equal(run("", "members -o yaml --server x", out, sizeof out), 2);
	assert_int_equal(run("", "members --server", out, sizeof out), 2);
	assert_int_equal(run("", "members remove --server x", out, sizeof out), 2);
	assert_non_null(strstr(out, "--id N is required"));
	assert_int_equal(run("", "members remove --id 0 --server x", out, sizeof out), 2);
	assert_int_equal(run("", "members add --id x --server x", out, sizeof out), 2);
	assert_int_equal(run("", "members add --id 4 --server x", out, sizeof out), 2);
	assert_int_equal(run("", "members --id 4 --raft-address a --server x", out, sizeof out), 2);
	assert_int_equal(run("", "members --timeout never --server x", out, sizeof out), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lists_members_with_their_raft_view),
	    cmocka_unit_test(finds_the_server),
	    cmocka_unit_test(keeps_the_token_off_plain_http),
	    cmocka_unit_test(changes_membership),
	    cmocka_unit_test(gives_up_without_a_leader),
	    cmocka_unit_test(refuses_bad_arguments),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s STSCTL\n", argv[0]);
		return 2;
	}
	stsctl = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
