/* test_watch_history.c — --watch-history: a watch resumes from a recent resourceVersion on every
 * replica, and once the change log behind it is compacted (each replica compacts its own, about
 * watch-history seconds later) the same resumption answers one ERROR event, 410 Expired.
 * argv[1]: stsd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "errors.h"
#include "harness.h"
#include "util.h"
#include "writers.h"

#define READY_MS   15000
#define EXPIRE_MS  60000 /* history 10 s, sampled every 10 s: compaction within about 30 s */
#define CONFIGMAPS "/api/v1/namespaces/default/configmaps"

static const char *stsd;
static const char *const flags[] = {"--watch-history", "10", NULL};

/* Create a configmap through replica id; returns its resourceVersion. */
static uint64_t create(struct harness *h, uint64_t id, const char *name)
{
	json_t *body = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", name, "data", "k", "v");
	json_t *out = NULL;
	uint64_t rv = 0;

	assert_int_equal(client_json(h->r[id - 1].c, "POST", CONFIGMAPS, body, &out), STSD_OK);
	rv = strtoull(
	    json_string_value(json_object_get(json_object_get(out, "metadata"), "resourceVersion")),
	    NULL, 10);
	json_decref(body);
	json_decref(out);
	assert_true(rv > 0);
	return rv;
}

/* A one-second watch from rv on replica id: the body of events it sent. */
static char *watch_from(struct harness *h, uint64_t id, uint64_t rv)
{
	struct client_response resp = {0};
	char path[200], *body;

	snprintf(path, sizeof path, "%s?watch=1&timeoutSeconds=1&resourceVersion=%llu", CONFIGMAPS,
	         (unsigned long long)rv);
	assert_int_equal(client_request(h->r[id - 1].c, "GET", path, NULL, 0, NULL, &resp),
	                 STSD_OK);
	assert_int_equal(resp.status, 200);
	body = strndup(resp.body ? resp.body : "", resp.body_len);
	client_response_free(&resp);
	return body;
}

static void old_versions_expire(void **state)
{
	struct cluster_test *t = *state;
	struct harness *h;
	uint64_t leader, rv1, deadline;
	char *events;

	t->h = h = harness_create(stsd, "watch-history", 3, 3, flags);
	leader = harness_start_cluster(h, READY_MS);
	rv1 = create(h, leader, "first");
	create(h, leader, "second");
	/* Recent: every replica resumes after rv1 and sends "second". */
	for (uint64_t id = 1; id <= 3; id++) {
		harness_wait_caught_up(h, id, READY_MS);
		events = watch_from(h, id, rv1);
		assert_non_null(strstr(events, "\"second\""));
		assert_null(strstr(events, "Expired"));
		free(events);
	}
	/* Later writes keep the applied index moving; rv1 falls out of every replica's history. */
	deadline = util_now_mono_ms() + EXPIRE_MS;
	for (uint64_t id = 1, n = 0; id <= 3;) {
		char name[32];
		snprintf(name, sizeof name, "later-%llu", (unsigned long long)n++);
		create(h, leader, name);
		events = watch_from(h, id, rv1);
		if (strstr(events, "\"type\":\"ERROR\"") && strstr(events, "\"code\":410") &&
		    strstr(events, "too old resource version")) {
			harness_log(h, "replica %llu: rv %llu expired", (unsigned long long)id,
			            (unsigned long long)rv1);
			id++;
		} else {
			assert_true(util_now_mono_ms() < deadline);
		}
		free(events);
	}
	harness_finish(h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "old_versions_expire", old_versions_expire);
}
