/* handlers_health.c — /healthz, /livez, /readyz, /metrics (Prometheus text) and /debug/raft, all
 * answered from this replica's own state, never forwarded. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "util.h"
#include "watch.h"

static void metric(struct api_buf *t, const char *name, const char *type, const char *help,
                   uint64_t value)
{
	api_buf_printf(t, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
	               name, value);
}

static void latency_histogram(struct api_buf *t, const struct cons_latency *l)
{
	const char *name = "stsd_proposal_duration_seconds";
	uint64_t cumulative = 0;

	api_buf_printf(t, "# HELP %s Time from proposing a command on the leader to its apply.\n",
	               name);
	api_buf_printf(t, "# TYPE %s histogram\n", name);
	for (size_t i = 0; i < CONS_LATENCY_BUCKETS; i++) {
		cumulative += l->buckets[i];
		api_buf_printf(t, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		               cons_latency_bounds[i], cumulative);
	}
	api_buf_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n%s_count %" PRIu64 "\n",
	               name, l->count, name, l->sum_seconds, name, l->count);
}

static void http_metrics(struct api_buf *t, const struct api_server *s)
{
	struct api_http_stats hs;

	api_http_get_stats(s->http, &hs);
	api_buf_printf(t, "# HELP stsd_http_responses_total Answers sent, by status class.\n"
	                  "# TYPE stsd_http_responses_total counter\n");
	for (int c = 1; c <= 5; c++)
		api_buf_printf(t, "stsd_http_responses_total{code=\"%dxx\"} %" PRIu64 "\n", c,
		               hs.by_class[c]);
	metric(t, "stsd_http_requests_inflight", "gauge", "Requests not yet answered.", hs.live);
	metric(t, "stsd_http_connections_total", "counter", "Connections accepted.",
	       hs.connections);
	metric(t, "stsd_forwarded_requests_total", "counter", "Requests forwarded to the leader.",
	       s->stats.forwarded);
	metric(t, "stsd_forward_failures_total", "counter",
	       "Forwarded requests that got no answer from the leader.", s->stats.forward_failed);
	metric(t, "stsd_api_unauthorized_total", "counter",
	       "Requests refused for missing or wrong credentials (401).", s->stats.unauthorized);
	metric(t, "stsd_api_forbidden_total", "counter", "Requests refused by authorization (403).",
	       s->stats.forbidden);
	metric(t, "stsd_api_watches", "gauge", "Watches open on this replica.", api_watch_count(s));
	metric(t, "stsd_api_watch_slow_closed_total", "counter",
	       "Watches ended because their client read too slowly.", api_watch_slow_closed(s));
}

static void metrics(struct api_server *s, struct api_req *r)
{
	struct api_buf t = {0};
	struct cons_status st;
	struct cons_latency l;

	cons_status(s->cons, &st);
	cons_get_latency(s->cons, &l);
	metric(&t, "stsd_raft_term", "gauge", "Current Raft term.", st.term);
	api_buf_printf(&t,
	               "# HELP stsd_raft_role This replica's Raft role (1 for the current one).\n"
	               "# TYPE stsd_raft_role gauge\n");
	for (int role = CONS_UNAVAILABLE; role <= CONS_LEADER; role++)
		api_buf_printf(&t, "stsd_raft_role{role=\"%s\"} %d\n", cons_role_name(role),
		               (int)st.role == role);
	metric(&t, "stsd_raft_leader_id", "gauge", "Id of the known leader, 0 when none.",
	       st.leader_id);
	metric(&t, "stsd_raft_commit_index", "gauge", "Raft commit index.", st.commit_index);
	metric(&t, "stsd_raft_last_index", "gauge", "Last Raft log index.", st.last_index);
	metric(&t, "stsd_raft_applied_index", "gauge", "Last index applied to the store.",
	       st.last_applied);
	metric(&t, "stsd_ready", "gauge", "1 when /readyz answers 200.", st.ready);
	metric(&t, "stsd_snapshots_taken_total", "counter", "Snapshots taken.", st.snapshots_taken);
	metric(&t, "stsd_snapshots_restored_total", "counter", "Snapshots installed.",
	       st.snapshots_restored);
	metric(&t, "stsd_snapshots_skipped_total", "counter",
	       "Snapshot restores skipped because the store already covered them.",
	       st.snapshots_skipped);
	metric(&t, "stsd_proposals_total", "counter",
	       "Commands proposed on this replica as leader.", st.proposals);
	metric(&t, "stsd_proposal_entries_total", "counter",
	       "Log entries those commands went out in (group commit).", st.entries);
	latency_histogram(&t, &l);
	http_metrics(&t, s);
	if (s->extra_metrics) {
		char *more = s->extra_metrics(s->extra_metrics_ud);
		if (more)
			api_buf_add(&t, more, strlen(more));
		free(more);
	}
	if (t.oom) {
		api_buf_free(&t);
		api_fail_code(r, STSD_NOMEM, "metrics");
		return;
	}
	api_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", t.data, t.len);
	api_buf_free(&t);
}

/* appliedIndex and digest from one read transaction, so they belong together. */
static void debug_raft(struct api_server *s, struct api_req *r)
{
	unsigned char digest[STORE_DIGEST_LEN];
	char hex[2 * STORE_DIGEST_LEN + 1], leader_api[256] = "";
	struct store_reader *rd;
	struct cons_status st;
	uint64_t applied, leader;
	int rv;

	if ((rv = store_read_begin(s->store, &rd)) != STSD_OK) {
		api_fail_code(r, rv, "debug/raft");
		return;
	}
	applied = store_reader_applied_index(rd);
	rv = store_digest(rd, digest);
	store_read_end(rd);
	if (rv != STSD_OK) {
		api_fail_code(r, rv, "debug/raft: digest");
		return;
	}
	util_hex(digest, sizeof digest, hex);
	cons_status(s->cons, &st);
	cons_leader(s->cons, &leader, leader_api, sizeof leader_api);
	api_reply_json(r, 200,
	               json_pack("{s:I,s:s,s:I,s:I,s:I,s:s,s:I,s:I,s:b,s:b,s:s}", "id",
	                         (json_int_t)st.id, "role", cons_role_name(st.role), "term",
	                         (json_int_t)st.term, "leaderId", (json_int_t)st.leader_id,
	                         "appliedIndex", (json_int_t)applied, "digest", hex, "commitIndex",
	                         (json_int_t)st.commit_index, "lastIndex",
	                         (json_int_t)st.last_index, "ready", st.ready, "voter", st.voter,
	                         "leaderApiAddress", leader_api));
}

static void readyz(struct api_server *s, struct api_req *r)
{
	struct cons_status st;
	char why[160];

	cons_status(s->cons, &st);
	if (st.ready && !s->stopping && api_namespaces_ready(s)) {
		api_reply_text(r, 200, "ok");
		return;
	}
	if (st.ready && !s->stopping)
		snprintf(why, sizeof why, "not ready: the default namespace is not created yet\n");
	else if (s->stopping)
		snprintf(why, sizeof why, "not ready: shutting down\n");
	else if (st.leader_id == 0)
		snprintf(why, sizeof why, "not ready: no leader (role %s, term %" PRIu64 ")\n",
		         cons_role_name(st.role), st.term);
	else if (st.role == CONS_LEADER)
		snprintf(why, sizeof why,
		         "not ready: leader of term %" PRIu64
		         " has not applied its election barrier yet\n",
		         st.term);
	else
		snprintf(why, sizeof why,
		         "not ready: applied %" PRIu64 " of %" PRIu64
		         " committed entries, or not a member yet\n",
		         st.last_applied, st.commit_index);
	api_reply_text(r, 503, why);
}

void api_handle_health(struct api_server *s, struct api_req *r, const struct route *rt)
{
	switch (rt->kind) {
	case ROUTE_HEALTHZ:
	case ROUTE_LIVEZ:
		/* The loop answered: the process is alive and not wedged. */
		api_reply_text(r, 200, "ok");
		break;
	case ROUTE_READYZ:
		readyz(s, r);
		break;
	case ROUTE_METRICS:
		metrics(s, r);
		break;
	default:
		debug_raft(s, r);
		break;
	}
}
