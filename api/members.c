/* members.c — /stsd/v1/members: list the replicas, add, remove, hand leadership over, record a
 * member's API address; and this replica's own part: joining a running cluster (--join) and
 * making sure its member record carries its API address, so that others can forward to it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "log.h"
#include "util.h"

#define MAX_MEMBERS  64
#define RETRY_MS     1000
#define PEER_TIMEOUT 5000
/* start_change answered the request itself. */
#define ANSWERED (-1)

/* ---- Reads ----------------------------------------------------------------------------------- */

bool api_members_is_read(struct api_req *r)
{
	return strcmp(api_req_method(r), "GET") == 0;
}

static json_t *member_json(const struct cons_member *m)
{
	return json_pack("{s:I,s:s,s:s,s:b,s:b}", "id", (json_int_t)m->id, "raftAddress",
	                 m->raft_address, "apiAddress", m->api_address, "voter", m->voter,
	                 "inConfiguration", m->in_configuration);
}

void api_members_read(struct api_server *s, struct api_req *r, const struct route *rt)
{
	struct cons_member *m = calloc(MAX_MEMBERS, sizeof *m);
	struct cons_status st;
	json_t *list = json_array(), *one = NULL;
	size_t n = m ? cons_members(s->cons, m, MAX_MEMBERS) : 0;

	cons_status(s->cons, &st);
	for (size_t i = 0; i < n; i++) {
		if (rt->member_id == 0)
			json_array_append_new(list, member_json(&m[i]));
		else if (m[i].id == rt->member_id)
			one = member_json(&m[i]);
	}
	free(m);
	if (rt->member_id == 0)
		api_reply_json(
		    r, 200,
		    json_pack("{s:o,s:I}", "members", list, "leaderId", (json_int_t)st.leader_id));
	else if (one)
		api_reply_json(r, 200, one);
	else
		api_fail(r, API_NOT_FOUND, NULL, "member %" PRIu64 " not found", rt->member_id);
	if (rt->member_id != 0)
		json_decref(list);
}

/* ---- Changes (on the leader) ----------------------------------------------------------------- */

static void changed_cb(void *ud, int rv)
{
	struct api_call *c = ud;

	if (c->req == NULL) {
		api_call_free(c);
		return;
	}
	if (rv == STSD_OK)
		api_reply_json(c->req, 200,
		               json_pack("{s:s,s:s,s:{},s:s}", "kind", "Status", "apiVersion", "v1",
		                         "metadata", "status", "Success"));
	else if (rv == STSD_EXISTS)
		api_fail(c->req, API_ALREADY_EXISTS, NULL,
		         "a member with this id or raft address already exists");
	else if (rv == STSD_NOTFOUND)
		api_fail(c->req, API_NOT_FOUND, NULL, "member %" PRIu64 " not found",
		         c->rt.member_id);
	else if (rv == STSD_BUSY)
		api_fail(c->req, API_CONFLICT, NULL,
		         "another membership change is in progress; retry when it is done");
	else if (rv == STSD_INVALID)
		api_fail(c->req, API_BAD_REQUEST, NULL, "invalid member");
	else
		api_fail_code(c->req, rv, "membership change");
	api_call_free(c);
}

/* {id, raftAddress, apiAddress} from the body; false (answered) when incomplete. */
static bool member_body(struct api_call *c, uint64_t *id, const char **raft, const char **api)
{
	size_t len;
	const char *body = api_req_body(c->req, &len);
	json_t *id_v;

	c->obj = json_loadb(body, len, 0, NULL);
	id_v = json_object_get(c->obj, "id");
	*raft = json_string_value(json_object_get(c->obj, "raftAddress"));
	*api = json_string_value(json_object_get(c->obj, "apiAddress"));
	*id = c->rt.member_id;
	if (*id == 0 && json_is_integer(id_v) && json_integer_value(id_v) > 0)
		*id = (uint64_t)json_integer_value(id_v);
	if (*id != 0 && *raft && **raft && *api && **api)
		return true;
	api_fail(c->req, API_BAD_REQUEST, NULL,
	         "a member needs a positive \"id\", \"raftAddress\" and \"apiAddress\"");
	return false;
}

static int start_change(struct api_call *c, const char *m)
{
	struct cons *cons = c->s->cons;
	const char *sub = c->rt.sub, *raft, *api;
	uint64_t id = c->rt.member_id;

	if (strcmp(m, "POST") == 0 && id == 0 && !*sub)
		return member_body(c, &id, &raft, &api)
		           ? cons_add_member(cons, id, raft, api, changed_cb, c)
		           : ANSWERED;
	if (strcmp(m, "DELETE") == 0 && id != 0 && !*sub)
		return cons_remove_member(cons, id, changed_cb, c);
	if (strcmp(m, "POST") == 0 && strcmp(sub, "transfer") == 0)
		return cons_transfer(cons, id, changed_cb, c);
	if (strcmp(m, "PUT") == 0 && strcmp(sub, "record") == 0 && id != 0)
		return member_body(c, &id, &raft, &api)
		           ? cons_record_member(cons, id, raft, api, changed_cb, c)
		           : ANSWERED;
	api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL, "%s is not allowed on this members path", m);
	return ANSWERED;
}

void api_members_write(struct api_call *c)
{
	int rv = start_change(c, api_req_method(c->req));

	if (rv == STSD_OK)
		return; /* changed_cb answers */
	if (rv == STSD_NOTLEADER) {
		api_forward(c);
		return;
	}
	if (rv == ANSWERED)
		api_call_free(c);
	else
		changed_cb(c, rv);
}

/* ---- This replica's membership ------------------------------------------------------------- */

static void peer_cb(void *ud, const struct api_fwd_response *resp)
{
	struct api_server *s = ud;

	s->member_call = false;
	if (resp->error != STSD_OK || resp->status >= 300)
		log_info("api", "event=member_request_failed err=%s status=%ld detail=\"%s\"",
		         stsd_errname(resp->error), resp->status,
		         resp->error != STSD_OK ? resp->errmsg : resp->body);
	else
		log_info("api", "event=member_request_done status=%ld", resp->status);
}

static void peer_send(struct api_server *s, const char *method, const char *url)
{
	const char *headers[] = {"Content-Type: application/json", api_access_peer_auth(s)};
	json_t *body = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)s->id, "raftAddress",
	                         s->raft_address, "apiAddress", s->api_address);
	char *text = json_dumps(body, JSON_COMPACT);
	struct api_fwd_request fr = {.method = method,
	                             .url = url,
	                             .headers = headers,
	                             .n_headers = headers[1] ? 2 : 1,
	                             .body = text,
	                             .body_len = text ? strlen(text) : 0,
	                             .timeout_ms = PEER_TIMEOUT};

	json_decref(body);
	if (text && api_fwd_send(s->fwd, &fr, peer_cb, s, NULL) == STSD_OK) {
		s->member_call = true;
		log_info("api", "event=member_request method=%s url=%s", method, url);
	}
	free(text);
}

static const struct cons_member *find(const struct cons_member *m, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].id == id)
			return &m[i];
	return NULL;
}

/* "host:port" (with the cluster's scheme) or "https://host:port", then path. */
static void peer_url(const struct api_server *s, const char *base, const char *path, char *out,
                     size_t len)
{
	if (strstr(base, "://"))
		snprintf(out, len, "%s%s", base, path);
	else
		snprintf(out, len, "%s://%s%s", s->scheme, base, path);
}

static void join_or_record(struct api_server *s, const struct cons_member *self)
{
	char leader[256], url[512], path[64];
	uint64_t leader_id;

	if (self && self->in_configuration)
		s->joined = true;
	/* Join until this replica is in the configuration once; a replica removed later stays out
	 * (starting it again with --join asks to join again). */
	if (!s->joined && s->n_join > 0) {
		peer_url(s, s->join[s->join_next++ % s->n_join], "/stsd/v1/members", url,
		         sizeof url);
		peer_send(s, "POST", url);
		return;
	}
	if (self == NULL || strcmp(self->api_address, s->api_address) == 0 ||
	    cons_leader(s->cons, &leader_id, leader, sizeof leader) != STSD_OK || !*leader)
		return;
	if (leader_id == s->id) {
		cons_record_member(s->cons, s->id, s->raft_address, s->api_address, NULL, NULL);
		return;
	}
	snprintf(path, sizeof path, "/stsd/v1/members/%" PRIu64 "/record", s->id);
	peer_url(s, leader, path, url, sizeof url);
	peer_send(s, "PUT", url);
}

void api_members_tick(struct api_server *s)
{
	struct cons_member *m;
	uint64_t now = util_now_mono_ms();
	size_t n;

	if (s->member_call || now < s->member_next_ms || s->stopping)
		return;
	s->member_next_ms = now + RETRY_MS;
	if ((m = calloc(MAX_MEMBERS, sizeof *m)) == NULL)
		return;
	n = cons_members(s->cons, m, MAX_MEMBERS);
	join_or_record(s, find(m, n, s->id));
	free(m);
}
