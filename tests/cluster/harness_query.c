/* harness_query.c — asking a test cluster's replicas: readiness, leader, convergence of
 * digests, metrics and membership, each polled with a deadline. */
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "harness.h"
#include "util.h"

#define POLL_MS 50

/* ---- Asking replicas ------------------------------------------------------------------------- */

int harness_get(struct harness *h, uint64_t id, const char *path, json_t **out)
{
	*out = NULL;
	return client_get_json(harness_replica_of(h, id)->c, path, out);
}

json_t *harness_raft(struct harness *h, uint64_t id)
{
	json_t *j;

	if (!harness_running(h, id) || harness_get(h, id, "/debug/raft", &j) != 0)
		return NULL;
	return j;
}

long long harness_raft_field(struct harness *h, uint64_t id, const char *field)
{
	json_t *j = harness_raft(h, id);
	long long v = j ? (long long)json_integer_value(json_object_get(j, field)) : -1;

	json_decref(j);
	return v;
}

static bool ready(struct harness *h, uint64_t id)
{
	struct client_response resp;
	bool ok;

	if (client_request(harness_replica_of(h, id)->c, "GET", "/readyz", NULL, 0, NULL, &resp) !=
	    0)
		return false;
	ok = resp.status == 200;
	client_response_free(&resp);
	return ok;
}

void harness_wait_ready(struct harness *h, uint64_t id, long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms(), deadline = t0 + (uint64_t)timeout_ms;

	while (!ready(h, id)) {
		harness_check_alive(h);
		if (util_now_mono_ms() >= deadline)
			fail_msg("replica %llu is not ready after %ld ms", (unsigned long long)id,
			         timeout_ms);
		harness_nap(POLL_MS);
	}
	harness_log(h, "replica %llu ready after %llu ms", (unsigned long long)id,
	            (unsigned long long)(util_now_mono_ms() - t0));
}

static long long max_applied(struct harness *h)
{
	long long best = -1;

	for (uint64_t id = 1; id <= h->n; id++) {
		long long v = harness_raft_field(h, id, "appliedIndex");
		best = v > best ? v : best;
	}
	return best;
}

void harness_wait_caught_up(struct harness *h, uint64_t id, long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms();
	long long target = max_applied(h), at;

	while ((at = harness_raft_field(h, id, "appliedIndex")) < target) {
		harness_check_alive(h);
		if (util_now_mono_ms() - t0 >= (uint64_t)timeout_ms)
			fail_msg("replica %llu lags: applied index %lld of %lld after %ld ms",
			         (unsigned long long)id, at, target, timeout_ms);
		harness_nap(POLL_MS);
	}
	harness_log(h, "replica %llu caught up with index %lld in %llu ms", (unsigned long long)id,
	            target, (unsigned long long)(util_now_mono_ms() - t0));
}

static bool is_role(json_t *raft, const char *role)
{
	const char *r = json_string_value(json_object_get(raft, "role"));

	return r && strcmp(r, role) == 0;
}

static json_int_t field(json_t *j, const char *name)
{
	return json_integer_value(json_object_get(j, name));
}

/* The ready leader of the highest term other than `not`, or 0. */
static uint64_t find_leader(struct harness *h, uint64_t not, json_int_t *term)
{
	uint64_t leader = 0;

	*term = -1;
	for (size_t i = 0; i < h->n; i++) {
		json_t *j = h->r[i].id != not ? harness_raft(h, h->r[i].id) : NULL;
		if (j && is_role(j, "leader") && json_is_true(json_object_get(j, "ready")) &&
		    field(j, "term") > *term) {
			leader = h->r[i].id;
			*term = field(j, "term");
		}
		json_decref(j);
	}
	return leader;
}

uint64_t harness_wait_leader(struct harness *h, uint64_t not, long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms(), deadline = t0 + (uint64_t)timeout_ms, leader;
	json_int_t term;

	while ((leader = find_leader(h, not, &term)) == 0) {
		harness_check_alive(h);
		if (util_now_mono_ms() >= deadline)
			fail_msg("no ready leader%s after %ld ms",
			         not ? " other than the old one" : "", timeout_ms);
		harness_nap(POLL_MS);
	}
	harness_log(h, "leader: replica %llu (term %lld), found after %llu ms",
	            (unsigned long long)leader, (long long)term,
	            (unsigned long long)(util_now_mono_ms() - t0));
	return leader;
}

/* /debug/raft of every running replica into raft[] (NULL entries for the others); false when one
 * of them does not answer. */
static bool raft_all(struct harness *h, json_t **raft)
{
	bool all = true;

	for (size_t i = 0; i < h->n; i++) {
		raft[i] = harness_raft(h, h->r[i].id);
		all &= raft[i] != NULL || h->r[i].pid == 0;
	}
	return all;
}

/* Whether the running replicas have settled: the leader's log is all committed, every replica
 * knows that commit index and applied the same store index. (Barrier entries are committed but
 * never reach the store, so its applied index may stay below the commit index.) */
static bool applied_all(struct harness *h, json_t **raft, json_int_t *index)
{
	json_int_t commit = -1, applied = -1;

	for (size_t i = 0; i < h->n; i++)
		if (raft[i] && is_role(raft[i], "leader") &&
		    field(raft[i], "lastIndex") == field(raft[i], "commitIndex")) {
			commit = field(raft[i], "commitIndex");
			applied = field(raft[i], "appliedIndex");
		}
	if (commit < 0)
		return false;
	for (size_t i = 0; i < h->n; i++)
		if (raft[i] && (field(raft[i], "commitIndex") != commit ||
		                field(raft[i], "appliedIndex") != applied))
			return false;
	*index = applied;
	return true;
}

static void assert_same_digests(struct harness *h, json_t **raft, json_int_t index)
{
	const char *first = NULL;

	for (size_t i = 0; i < h->n; i++) {
		const char *d =
		    raft[i] ? json_string_value(json_object_get(raft[i], "digest")) : NULL;
		if (raft[i] == NULL)
			continue;
		if (first == NULL)
			first = d;
		if (d == NULL || strcmp(d, first) != 0) {
			for (size_t k = 0; k < h->n; k++)
				if (raft[k])
					harness_log(
					    h, "replica %zu at index %lld: digest %s", k + 1,
					    (long long)index,
					    json_string_value(json_object_get(raft[k], "digest")));
			fail_msg("replicas diverged: different digests at applied index %lld",
			         (long long)index);
		}
	}
}

static void log_states(struct harness *h, json_t **raft)
{
	for (size_t i = 0; i < h->n; i++) {
		char *text = raft[i] ? json_dumps(raft[i], JSON_COMPACT) : NULL;
		if (h->r[i].pid != 0)
			harness_log(h, "replica %zu: %s", i + 1, text ? text : "(no answer)");
		free(text);
	}
}

static void free_all(json_t **raft, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(raft[i]);
}

uint64_t harness_wait_converged(struct harness *h, long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms(), deadline = t0 + (uint64_t)timeout_ms;
	json_t *raft[HARNESS_MAX];
	json_int_t index = 0;

	for (;;) {
		harness_check_alive(h);
		if (raft_all(h, raft) && applied_all(h, raft, &index))
			break;
		if (util_now_mono_ms() >= deadline) {
			log_states(h, raft);
			free_all(raft, h->n);
			fail_msg("replicas did not converge on one applied index within %ld ms",
			         timeout_ms);
		}
		free_all(raft, h->n);
		harness_nap(POLL_MS);
	}
	assert_same_digests(h, raft, index);
	free_all(raft, h->n);
	harness_log(h, "converged at index %lld with equal digests after %llu ms", (long long)index,
	            (unsigned long long)(util_now_mono_ms() - t0));
	return (uint64_t)index;
}

uint64_t harness_metric(struct harness *h, uint64_t id, const char *name)
{
	struct client_response resp;
	size_t n = strlen(name);
	const char *line;
	uint64_t v = 0;
	bool found = false;

	assert_int_equal(
	    client_request(harness_replica_of(h, id)->c, "GET", "/metrics", NULL, 0, NULL, &resp),
	    0);
	for (line = resp.body; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ' ') {
			v = strtoull(line + n + 1, NULL, 10);
			found = true;
		}
	client_response_free(&resp);
	if (!found)
		fail_msg("replica %llu's /metrics has no %s", (unsigned long long)id, name);
	return v;
}

struct client *harness_client(const struct harness *h, long deadline_ms)
{
	struct client_options o = {.timeout_ms = 12000,
	                           .connect_timeout_ms = 500,
	                           .deadline_ms = deadline_ms,
	                           .backoff_ms = 20,
	                           .backoff_max_ms = 250};
	struct client *c = NULL;
	char err[256];

	harness_credentials(h, &o);
	if (client_create(h->urls, h->n, &o, &c, err, sizeof err) != 0)
		return NULL;
	return c;
}

static json_t *find_member(json_t *list, uint64_t member)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(list, "members"), i, m)
	{
		if ((uint64_t)field(m, "id") == member)
			return m;
	}
	return NULL;
}

static bool voting(json_t *m)
{
	return json_is_true(json_object_get(m, "inConfiguration")) &&
	       json_is_true(json_object_get(m, "voter"));
}

/* The members list of the current leader, or NULL. */
static json_t *leader_members(struct harness *h)
{
	json_int_t term;
	uint64_t leader = find_leader(h, 0, &term);
	json_t *list;

	if (leader == 0 || harness_get(h, leader, "/stsd/v1/members", &list) != 0)
		return NULL;
	return list;
}

static const char *const membership_names[] = {"a voter", "out of the configuration",
                                               "gone (not listed)"};

static bool member_settled(struct harness *h, uint64_t member, enum harness_membership want)
{
	json_t *list = leader_members(h), *m = find_member(list, member);
	bool done = false;

	if (list && want == HARNESS_VOTER)
		done = m && voting(m);
	else if (list && want == HARNESS_OUT_OF_CONF)
		done = m == NULL || !json_is_true(json_object_get(m, "inConfiguration"));
	else if (list)
		done = m == NULL;
	json_decref(list);
	return done;
}

void harness_wait_member(struct harness *h, uint64_t member, enum harness_membership want,
                         long timeout_ms)
{
	uint64_t t0 = util_now_mono_ms();
	json_t *list;
	char *text;

	while (!member_settled(h, member, want)) {
		harness_check_alive(h);
		if (util_now_mono_ms() - t0 < (uint64_t)timeout_ms) {
			harness_nap(POLL_MS);
			continue;
		}
		list = leader_members(h);
		text = list ? json_dumps(list, JSON_COMPACT) : NULL;
		harness_log(h, "the leader's members: %s", text ? text : "(no leader)");
		free(text);
		json_decref(list);
		fail_msg("member %llu is not %s after %ld ms", (unsigned long long)member,
		         membership_names[want], timeout_ms);
	}
	harness_log(h, "member %llu is %s after %llu ms", (unsigned long long)member,
	            membership_names[want], (unsigned long long)(util_now_mono_ms() - t0));
}

void harness_remove_member(struct harness *h, uint64_t member)
{
	struct client *c = harness_client(h, 15000);
	char path[64];
	int rv;

	assert_non_null(c);
	snprintf(path, sizeof path, "/stsd/v1/members/%llu", (unsigned long long)member);
	rv = client_json(c, "DELETE", path, NULL, NULL);
	harness_log(h, "DELETE %s: %s", path, rv == STSD_OK ? "200" : client_errmsg(c));
	if (rv != STSD_OK && rv != STSD_NOTFOUND)
		fail_msg("DELETE %s: %s", path, client_errmsg(c));
	client_destroy(c);
}

void harness_assert_voters(struct harness *h, size_t n)
{
	json_t *list = leader_members(h), *m;
	size_t i;

	assert_non_null(list);
	json_array_foreach(json_object_get(list, "members"), i, m)
	{
		uint64_t id = (uint64_t)field(m, "id");
		if (!voting(m) || !harness_running(h, id))
			fail_msg("member %llu is listed but %s", (unsigned long long)id,
			         voting(m) ? "not running" : "not a voter");
	}
	assert_int_equal(json_array_size(json_object_get(list, "members")), n);
	json_decref(list);
}

uint64_t harness_start_cluster(struct harness *h, long timeout_ms)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)timeout_ms, leader, t_ready;
	json_t *ns = NULL;

	for (uint64_t id = 1; id <= h->n_boot; id++)
		harness_start(h, id);
	for (uint64_t id = 1; id <= h->n_boot; id++)
		harness_wait_ready(h, id, timeout_ms);
	leader = harness_wait_leader(h, 0, timeout_ms);
	t_ready = util_now_mono_ms();
	while (harness_get(h, leader, "/api/v1/namespaces/default", &ns) != 0) {
		harness_check_alive(h);
		if (util_now_mono_ms() >= deadline)
			fail_msg("namespace default does not exist %ld ms after the start",
			         timeout_ms);
		harness_nap(POLL_MS / 5);
	}
	json_decref(ns);
	harness_log(h, "namespace default exists %llu ms after the leader was ready",
	            (unsigned long long)(util_now_mono_ms() - t_ready));
	return leader;
}
