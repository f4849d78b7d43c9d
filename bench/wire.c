/* wire.c — the benchmarks' HTTP: writes and status queries to stsd and etcd with libcurl over TLS.
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

#define STATUS_TIMEOUT_MS 500
#define CONNECT_MS        200
#define STSD_PATH         "/api/v1/namespaces/default/configmaps"
#define STSD_HEAD         "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"

/* Names never repeat within a process: a retried write is a new write, so a create that committed
 * after its client gave up cannot turn the retry into a conflict. */
static uint64_t next_seq;

size_t bench_req_sink(char *data, size_t size, size_t n, void *ud)
{
	struct bench_req *r = ud;
	size_t len = size * n, room = sizeof r->resp - 1 - r->resp_len;

	memcpy(r->resp + r->resp_len, data, len < room ? len : room);
	r->resp_len += len < room ? len : room;
	r->resp[r->resp_len] = '\0';
	return len;
}

/* Each system's client credentials (bench_tls_set); a system's CA trusts nothing of the other's. */
static struct {
	char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
} creds[BENCH_SYSTEMS];

void bench_tls_set(enum bench_system sys, const char *ca, const char *cert, const char *key)
{
	snprintf(creds[sys].ca, sizeof creds[sys].ca, "%s", ca);
	snprintf(creds[sys].cert, sizeof creds[sys].cert, "%s", cert);
	snprintf(creds[sys].key, sizeof creds[sys].key, "%s", key);
}

CURL *bench_curl_new(enum bench_system sys)
{
	CURL *h;

	if (creds[sys].ca[0] == '\0')
		bench_fail("no TLS credentials for %s yet (its cluster has not started)",
		           bench_system_name(sys));
	if ((h = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_CAINFO, creds[sys].ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* the cluster's CA only, not the system's */
	curl_easy_setopt(h, CURLOPT_SSLCERT, creds[sys].cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, creds[sys].key);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	return h;
}

size_t bench_b64(const void *data, size_t len, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		v |= i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < len ? p[i + 2] : 0;
		out[o++] = abc[v >> 18];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static void body_stsd(struct bench_req *r, const char *name)
{
	char value[BENCH_VALUE_LEN + 1];
	int n;

	memset(value, 'v', BENCH_VALUE_LEN);
	value[BENCH_VALUE_LEN] = '\0';
	n = snprintf(r->body, sizeof r->body, STSD_HEAD "\"data\":{\"k\":\"%s\"}}", name, value);
	r->body_len = (size_t)n;
}

static void body_etcd(struct bench_req *r, const char *name)
{
	char key[64], bkey[96], value[BENCH_VALUE_LEN], bvalue[4 * BENCH_VALUE_LEN / 3 + 8];

	snprintf(key, sizeof key, "bench/%s", name);
	memset(value, 'v', sizeof value);
	bench_b64(key, strlen(key), bkey);
	bench_b64(value, sizeof value, bvalue);
	r->body_len = (size_t)snprintf(r->body, sizeof r->body, "{\"key\":\"%s\",\"value\":\"%s\"}",
	                               bkey, bvalue);
}

void bench_req_write(CURL *h, struct bench_req *r, enum bench_system sys, const char *api,
                     long timeout_ms)
{
	char name[40];

	snprintf(name, sizeof name, "bench-%" PRIu64, ++next_seq);
	if (sys == BENCH_STSD) {
		snprintf(r->url, sizeof r->url, BENCH_SCHEME "%s" STSD_PATH, api);
		body_stsd(r, name);
	} else {
		snprintf(r->url, sizeof r->url, BENCH_SCHEME "%s/v3/kv/put", api);
		body_etcd(r, name);
	}
	if (r->hdrs == NULL) {
		r->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	}
	r->resp_len = 0;
	r->resp[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_req_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	r->started_ns = util_now_mono_ns();
}

void bench_req_free(struct bench_req *r)
{
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

enum bench_outcome bench_req_outcome(enum bench_system sys, CURL *h, CURLcode rc)
{
	long status = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT)
		return BENCH_TIMEOUT;
	if (rc != CURLE_OK)
		return BENCH_UNAVAILABLE;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status == (sys == BENCH_STSD ? 201 : 200))
		return BENCH_OK;
	return status >= 500 ? BENCH_UNAVAILABLE : BENCH_ERROR;
}

enum bench_outcome bench_write(CURL *h, struct bench_req *r, enum bench_system sys, const char *api,
                               long timeout_ms, long *status)
{
	CURLcode rc;

	bench_req_write(h, r, sys, api, timeout_ms);
	rc = curl_easy_perform(h);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return bench_req_outcome(sys, h, rc);
}

/* An unsigned field that etcd sends as a string and stsd as a number. */
static uint64_t json_u64(json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	return 0;
}

static int parse_status(enum bench_system sys, const char *text, struct bench_status *st)
{
	json_t *doc = json_loads(text, 0, NULL);

	if (!json_is_object(doc)) {
		json_decref(doc);
		return -1;
	}
	if (sys == BENCH_STSD) {
		const char *role = json_string_value(json_object_get(doc, "role"));
		st->self = json_u64(json_object_get(doc, "id"));
		st->leader_id = json_u64(json_object_get(doc, "leaderId"));
		st->term = json_u64(json_object_get(doc, "term"));
		st->applied = json_u64(json_object_get(doc, "appliedIndex"));
		const char *digest = json_string_value(json_object_get(doc, "digest"));
		st->leader = role != NULL && strcmp(role, "leader") == 0;
		snprintf(st->digest, sizeof st->digest, "%s", digest ? digest : "");
	} else {
		st->self = json_u64(json_object_get(json_object_get(doc, "header"), "member_id"));
		st->leader_id = json_u64(json_object_get(doc, "leader"));
		st->term = json_u64(json_object_get(doc, "raftTerm"));
		st->applied = json_u64(json_object_get(doc, "raftAppliedIndex"));
		st->leader = st->self != 0 && st->self == st->leader_id;
	}
	json_decref(doc);
	return st->self != 0 ? 0 : -1;
}

int bench_status_query(CURL *h, enum bench_system sys, const char *api, struct bench_status *st)
{
	struct bench_req r = {.resp_len = 0};
	long status = 0;
	CURLcode rc;

	snprintf(r.url, sizeof r.url, BENCH_SCHEME "%s%s", api,
	         sys == BENCH_STSD ? "/debug/raft" : "/v3/maintenance/status");
	curl_easy_setopt(h, CURLOPT_URL, r.url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (sys == BENCH_STSD)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, -1L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_req_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)STATUS_TIMEOUT_MS);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*st = (struct bench_status){.leader = false};
	if (rc != CURLE_OK || status != 200)
		return -1;
	return parse_status(sys, r.resp, st);
}

void bench_multi_drive(CURLM *multi, const long *inflight, bench_done_cb done, void *ud)
{
	int running = 0, queued;
	CURLMsg *msg;

	while (*inflight > 0) {
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &queued)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				done(ud, msg, util_now_mono_ns());
		if (bench_interrupted())
			bench_poll_sleep(0);
		if (*inflight > 0)
			curl_multi_poll(multi, NULL, 0, BENCH_POLL_MS, NULL);
	}
}
