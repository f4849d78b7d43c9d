/* test_client.c — the API client against throwaway HTTP servers: body round trip, keep-alive,
 * failover on refused connections, timeouts, empty replies and 503s, back-off until the deadline,
 * and JSON answers turned into error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "errors.h"
#include "httpd.h"
#include "util.h"

/* How a test server behaves; read by its thread, set before the client sends. */
struct behaviour {
	int status;               /* 0: 200 */
	const char *body;         /* NULL: echo the request body */
	const char *headers;      /* extra header lines */
	int fail_first;           /* answer that many requests with 503 first */
	enum httpd_action action; /* HTTPD_HANG / HTTPD_CLOSE to misbehave */
	struct httpd_request last;
};

static const char no_leader[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                "\"message\":\"no leader\",\"reason\":\"ServiceUnavailable\","
                                "\"code\":503}";

static enum httpd_action behave(void *data, const struct httpd_request *req,
                                struct httpd_reply *rep)
{
	struct behaviour *b = data;

	b->last = *req;
	b->last.body = NULL;
	if (b->action != HTTPD_REPLY)
		return b->action;
	if (b->fail_first > 0) {
		b->fail_first--;
		rep->status = 503;
		rep->body = no_leader;
		rep->body_len = strlen(no_leader);
		snprintf(rep->headers, sizeof rep->headers, "Retry-After: 1\r\n");
		return HTTPD_REPLY;
	}
	rep->status = b->status != 0 ? b->status : 200;
	rep->content_type = "application/x-echo";
	rep->body = b->body != NULL ? b->body : req->body;
	rep->body_len = b->body != NULL ? strlen(b->body) : req->body_len;
	snprintf(rep->headers, sizeof rep->headers, "%s", b->headers != NULL ? b->headers : "");
	return HTTPD_REPLY;
}

static struct httpd *serve(struct behaviour *b)
{
	struct httpd *h;

	assert_int_equal(httpd_start("127.0.0.1", 0, behave, b, &h), 0);
	return h;
}

static struct client *make(const char *const *urls, size_t n, const struct client_options *o)
{
	struct client *c;
	char err[256];

	assert_int_equal(client_create(urls, n, o, &c, err, sizeof err), STSD_OK);
	return c;
}

static char *dead_url(char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:%d", httpd_dead_port());
	return buf;
}

static void round_trips_bodies_on_one_connection(void **state)
{
	struct behaviour b = {.status = 201};
	struct httpd *h = serve(&b);
	const char *urls[] = {httpd_url(h)};
	struct client *c = make(urls, 1, NULL);
	struct client_response r = {0};
	size_t len = 1 << 20;
	char *big = malloc(len);

	for (size_t i = 0; i < len; i++)
		big[i] = (char)(i * 7); /* includes NUL bytes */
	assert_int_equal(client_request(c, "POST", "/echo?x=1", big, len, "application/x-test", &r),
	                 STSD_OK);
	assert_int_equal(r.status, 201);
	assert_int_equal(r.body_len, len);
	assert_memory_equal(r.body, big, len);
	assert_string_equal(r.content_type, "application/x-echo");
	assert_int_equal(r.retry_after, -1);
	assert_string_equal(r.base_url, httpd_url(h));
	assert_string_equal(b.last.method, "POST");
	assert_string_equal(b.last.path, "/echo?x=1");
	assert_string_equal(b.last.content_type, "application/x-test");
	client_response_free(&r);

	/* The handle is reused: a GET after a POST carries no body and no stale content type. */
	assert_int_equal(client_request(c, "GET", "/g", NULL, 0, NULL, &r), STSD_OK);
	assert_string_equal(b.last.method, "GET");
	assert_int_equal(r.body_len, 0);
	assert_string_equal(r.body, "");
	assert_string_equal(b.last.content_type, "");
	client_response_free(&r);
	assert_int_equal(client_request(c, "DELETE", "/d", NULL, 0, NULL, &r), STSD_OK);
	assert_string_equal(b.last.method, "DELETE");
	client_response_free(&r);
	assert_int_equal(client_request(c, "PUT", "/p", "{}", 2, "application/json", &r), STSD_OK);
	assert_string_equal(b.last.method, "PUT");
	assert_string_equal(r.body, "{}");
	assert_int_equal(httpd_requests(h), 4);
	assert_int_equal(httpd_connections(h), 1);
	client_response_free(&r);
	client_response_free(&r);
	free(big);
	client_destroy(c);
	httpd_stop(h);
}

static void fails_over_on_refused_connection(void **state)
{
	struct behaviour b = {.body = "ok"};
	struct httpd *h = serve(&b);
	char dead[64];
	const char *urls[] = {dead_url(dead, sizeof dead), httpd_url(h)};
	struct client *c = make(urls, 2, NULL);
	struct client_response r = {0};

	assert_string_equal(client_current_url(c), dead);
	assert_int_equal(client_request(c, "GET", "/readyz", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	assert_string_equal(r.base_url, httpd_url(h));
	/* The replica that answered stays current. */
	assert_string_equal(client_current_url(c), httpd_url(h));
	client_response_free(&r);
	assert_int_equal(client_request(c, "GET", "/readyz", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(httpd_requests(h), 2);
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h);
}

static void fails_over_on_503(void **state)
{
	struct behaviour down = {.fail_first = 1000}, up = {.body = "{}"};
	struct httpd *h1 = serve(&down), *h2 = serve(&up);
	const char *urls[] = {httpd_url(h1), httpd_url(h2)};
	struct client *c = make(urls, 2, NULL);
	struct client_response r = {0};
	uint64_t t0 = util_now_mono_ms();

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.base_url, httpd_url(h2));
	assert_int_equal(httpd_requests(h1), 1);
	assert_true(util_now_mono_ms() - t0 < 500); /* no back-off before the first round ends */
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h1);
	httpd_stop(h2);
}

static void fails_over_on_timeout_and_empty_reply(void **state)
{
	struct behaviour hang = {.action = HTTPD_HANG}, shut = {.action = HTTPD_CLOSE};
	struct behaviour up = {.body = "fine"};
	struct httpd *h1 = serve(&hang), *h2 = serve(&shut), *h3 = serve(&up);
	const char *urls[] = {httpd_url(h1), httpd_url(h2), httpd_url(h3)};
	struct client_options o = {.timeout_ms = 300};
	struct client *c = make(urls, 3, &o);
	struct client_response r = {0};
	uint64_t t0 = util_now_mono_ms(), took;

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_OK);
	took = util_now_mono_ms() - t0;
	assert_string_equal(r.body, "fine");
	assert_true(took >= 300 && took < 3000);
	assert_int_equal(httpd_requests(h1), 1);
	assert_int_equal(httpd_requests(h2), 1);
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h1);
	httpd_stop(h2);
	httpd_stop(h3);
}

static void keeps_503_until_the_deadline(void **state)
{
	struct behaviour down = {.fail_first = 1000};
	struct httpd *h = serve(&down);
	const char *urls[] = {httpd_url(h)};
	struct client_options o = {.deadline_ms = 700, .backoff_ms = 20, .backoff_max_ms = 200};
	struct client *c = make(urls, 1, &o);
	struct client_response r = {0};
	uint64_t t0 = util_now_mono_ms(), took;

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_OK);
	took = util_now_mono_ms() - t0;
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after, 1);
	assert_non_null(strstr(r.body, "no leader"));
	/* Retry-After (1 s) is capped by backoff_max (200 ms): several attempts fit. */
	assert_true(httpd_requests(h) >= 3 && httpd_requests(h) <= 10);
	assert_true(took >= 700 && took < 2000);
	assert_int_equal(client_get_json(c, "/x", NULL), STSD_UNAVAILABLE);
	assert_non_null(strstr(client_errmsg(c), "no leader"));
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h);
}

static void recovers_after_a_few_503s(void **state)
{
	struct behaviour b = {.fail_first = 3, .body = "elected"};
	struct httpd *h = serve(&b);
	const char *urls[] = {httpd_url(h)};
	struct client_options o = {.backoff_ms = 10, .backoff_max_ms = 50};
	struct client *c = make(urls, 1, &o);
	struct client_response r = {0};

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "elected");
	assert_int_equal(httpd_requests(h), 4);
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h);
}

static void answers_other_errors_at_once(void **state)
{
	struct behaviour b = {.status = 500, .body = "boom"};
	struct httpd *h = serve(&b);
	const char *urls[] = {httpd_url(h), httpd_url(h)};
	struct client *c = make(urls, 2, NULL);
	struct client_response r = {0};

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(r.status, 500);
	assert_int_equal(httpd_requests(h), 1);
	assert_int_equal(client_get_json(c, "/x", NULL), STSD_IO);
	assert_non_null(strstr(client_errmsg(c), "HTTP 500: boom"));
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h);
}

static void gives_up_at_the_deadline(void **state)
{
	char d1[64], d2[64];
	const char *urls[] = {dead_url(d1, sizeof d1), dead_url(d2, sizeof d2)};
	struct client_options o = {.deadline_ms = 400};
	struct client *c = make(urls, 2, &o);
	struct client_response r = {0};
	uint64_t t0 = util_now_mono_ms(), took;

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_TIMEOUT);
	took = util_now_mono_ms() - t0;
	assert_true(took >= 400 && took < 1500);
	assert_null(r.body);
	assert_non_null(strstr(client_errmsg(c), "GET /x: no answer from 2 server(s)"));
	assert_non_null(strstr(client_errmsg(c), "127.0.0.1:"));
	client_destroy(c);
}

static void stops_after_max_attempts(void **state)
{
	struct behaviour down = {.fail_first = 1000};
	struct httpd *h = serve(&down);
	char dead[64];
	const char *urls[] = {dead_url(dead, sizeof dead)}, *live[] = {httpd_url(h)};
	struct client_options o = {.max_attempts = 2};
	struct client *c = make(urls, 1, &o);
	struct client_response r = {0};

	assert_int_equal(client_request(c, "GET", "/x", NULL, 0, NULL, &r), STSD_IO);
	assert_non_null(strstr(client_errmsg(c), "2 attempt(s)"));
	client_destroy(c);
	o.max_attempts = 1;
	c = make(live, 1, &o);
	assert_int_equal(client_request(c, "GET", "/readyz", NULL, 0, NULL, &r), STSD_OK);
	assert_int_equal(r.status, 503);
	assert_int_equal(httpd_requests(h), 1);
	client_response_free(&r);
	client_destroy(c);
	httpd_stop(h);
}

/* A small API: JSON, Status errors, a broken body. */
static enum httpd_action api(void *data, const struct httpd_request *req, struct httpd_reply *rep)
{
	static const char exists[] = "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
	                             "\"member 4 already exists\",\"reason\":\"AlreadyExists\","
	                             "\"code\":409}";
	struct httpd_request *last = data;

	*last = *req;
	rep->content_type = "application/json";
	if (strcmp(req->path, "/ok") == 0) {
		rep->body = "{\"leaderId\":2}";
	} else if (strcmp(req->path, "/members") == 0 && strcmp(req->method, "POST") == 0) {
		rep->status = strstr(req->body, "\"id\":4") != NULL ? 409 : 201;
		rep->body = rep->status == 409 ? exists : req->body;
	} else if (strcmp(req->path, "/broken") == 0) {
		rep->body = "{\"leaderId\":";
	} else if (strcmp(req->path, "/empty") == 0) {
		rep->body = "";
	} else {
		rep->status = 404;
		rep->body =
		    "{\"kind\":\"Status\",\"message\":\"nothing here\",\"reason\":\"NotFound\"}";
	}
	rep->body_len = strlen(rep->body);
	return HTTPD_REPLY;
}

static void turns_answers_into_json_and_codes(void **state)
{
	struct httpd_request last;
	struct httpd *h;
	struct client_options o = {.token = "s3cret"};
	struct client *c;
	json_t *j, *body;

	assert_int_equal(httpd_start("127.0.0.1", 0, api, &last, &h), 0);
	/* No scheme, trailing slash: normalized. */
	char url[64];
	snprintf(url, sizeof url, "127.0.0.1:%d/", httpd_port(h));
	const char *urls[] = {url};
	c = make(urls, 1, &o);
	assert_string_equal(client_current_url(c), httpd_url(h));
	assert_int_equal(client_get_json(c, "/ok", &j), STSD_OK);
	assert_int_equal(json_integer_value(json_object_get(j, "leaderId")), 2);
	assert_string_equal(last.authorization, "Bearer s3cret");
	json_decref(j);
	body = json_pack("{s:i,s:s}", "id", 5, "raftAddress", "127.0.0.1:1");
	assert_int_equal(client_json(c, "POST", "/members", body, &j), STSD_OK);
	assert_string_equal(last.content_type, "application/json");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 5);
	json_decref(j);
	json_object_set_new(body, "id", json_integer(4));
	assert_int_equal(client_json(c, "POST", "/members", body, &j), STSD_EXISTS);
	assert_null(j);
	assert_string_equal(client_errmsg(c),
	                    "POST /members: member 4 already exists (409 AlreadyExists)");
	json_decref(body);
	assert_int_equal(client_get_json(c, "/nope", &j), STSD_NOTFOUND);
	assert_non_null(strstr(client_errmsg(c), "nothing here"));
	assert_int_equal(client_get_json(c, "/broken", &j), STSD_CORRUPT);
	assert_null(j);
	assert_int_equal(client_get_json(c, "/empty", &j), STSD_OK);
	assert_null(j);
	client_destroy(c);
	httpd_stop(h);
}

static void refuses_bad_input(void **state)
{
	const char *empty[] = {""}, *urls[] = {"http://127.0.0.1:1"};
	struct client_response r = {0};
	struct client *c;
	char err[256];

	assert_int_equal(client_create(urls, 0, NULL, &c, err, sizeof err), STSD_INVALID);
	assert_non_null(strstr(err, "no server URL"));
	assert_int_equal(client_create(empty, 1, NULL, &c, err, sizeof err), STSD_INVALID);
	c = make(urls, 1, NULL);
	assert_int_equal(client_request(c, "GET", "readyz", NULL, 0, NULL, &r), STSD_INVALID);
	assert_int_equal(client_request(c, "get", "/readyz", NULL, 0, NULL, &r), STSD_INVALID);
	assert_int_equal(client_request(c, "POST", "/x", NULL, 3, NULL, &r), STSD_INVALID);
	assert_int_equal(client_status_code(200, NULL), STSD_OK);
	assert_int_equal(client_status_code(409, "Conflict"), STSD_CONFLICT);
	assert_int_equal(client_status_code(422, "Invalid"), STSD_INVALID);
	assert_int_equal(client_status_code(410, "Expired"), STSD_EXPIRED);
	client_destroy(c);
	client_destroy(NULL);
}

/* client_create with one URL and o: the code, the message in err. */
static int create_one(const char *url, const struct client_options *o, char *err, size_t len)
{
	const char *urls[] = {url};
	struct client *c = NULL;
	int rv = client_create(urls, 1, o, &c, err, len);

	client_destroy(c);
	return rv;
}

/* A bearer token (or a client certificate) never goes over plain http to another host: refused
 * at client_create, before any connection, with a message naming the URL. Loopback, https, and
 * plain http without credentials stay fine. */
static void refuses_credentials_over_plain_http(void **state)
{
	static const char *const remote[] = {"http://10.1.2.3:6443",
	                                     "10.1.2.3:6443",
	                                     "http://example.com",
	                                     "HTTP://example.com",
	                                     "http://127.0.0.1@example.com/",
	                                     "http://127.0.0.1.example.com",
	                                     "http://[::ffff:127.0.0.1]:80",
	                                     "ftp://127.0.0.1.example.com"};
	static const char *const local[] = {"http://127.0.0.1:1",    "127.0.0.1:1",
	                                    "http://127.9.8.7:1",    "http://localhost:1",
	                                    "http://LOCALHOST:1",    "http://[::1]:1",
	                                    "https://10.1.2.3:6443", "https://example.com/"};
	struct client_options token = {.token = "s3cret"}, cert = {.cert_file = "/x/admin.crt"},
	                      pem = {.cert_pem = "PEM", .cert_pem_len = 3}, none = {0};
	const char *two[] = {"http://127.0.0.1:1", "http://10.1.2.3:1"};
	struct client *c = NULL;
	char err[512];
	(void)state;

	for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
		err[0] = '\0';
		if (create_one(remote[i], &token, err, sizeof err) != STSD_INVALID)
			fail_msg("a token to %s was accepted", remote[i]);
		assert_non_null(strstr(err, "refusing to send a bearer token in plain text"));
		assert_int_equal(create_one(remote[i], &cert, err, sizeof err), STSD_INVALID);
		assert_non_null(strstr(err, "a client certificate"));
		assert_int_equal(create_one(remote[i], &pem, err, sizeof err), STSD_INVALID);
		assert_int_equal(create_one(remote[i], &none, err, sizeof err), STSD_OK);
	}
	assert_int_equal(create_one("http://10.1.2.3:6443/", &token, err, sizeof err),
	                 STSD_INVALID);
	assert_non_null(strstr(err, "http://10.1.2.3:6443: use https://"));
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
		if (create_one(local[i], &token, err, sizeof err) != STSD_OK)
			fail_msg("a token to %s was refused: %s", local[i], err);
		assert_int_equal(create_one(local[i], &cert, err, sizeof err), STSD_OK);
	}
	/* One remote replica among loopback ones is enough to refuse. */
	assert_int_equal(client_create(two, 2, &token, &c, err, sizeof err), STSD_INVALID);
	assert_null(c);
	assert_non_null(strstr(err, "http://10.1.2.3:1"));
	/* A token that would inject header lines. */
	token.token = "s3cret\r\nX-Evil: 1";
	assert_int_equal(create_one("https://example.com", &token, err, sizeof err), STSD_INVALID);
	assert_non_null(strstr(err, "control character"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trips_bodies_on_one_connection),
	    cmocka_unit_test(fails_over_on_refused_connection),
	    cmocka_unit_test(fails_over_on_503),
	    cmocka_unit_test(fails_over_on_timeout_and_empty_reply),
	    cmocka_unit_test(keeps_503_until_the_deadline),
	    cmocka_unit_test(recovers_after_a_few_503s),
	    cmocka_unit_test(answers_other_errors_at_once),
	    cmocka_unit_test(gives_up_at_the_deadline),
	    cmocka_unit_test(stops_after_max_attempts),
	    cmocka_unit_test(turns_answers_into_json_and_codes),
	    cmocka_unit_test(refuses_bad_input),
	    cmocka_unit_test(refuses_credentials_over_plain_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
