/* members.c — member records (id, raft address, API address) in the store, and membership changes
 * through raft: add as a non-voter then promote, remove, transfer leadership. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

enum change_kind { CHANGE_ADD, CHANGE_REMOVE, CHANGE_TRANSFER, CHANGE_RECORD };

/* One membership operation, alive until its user callback ran (raft_transfer must keep its request
 * until the callback: a use-after-free in this raft version, fixed upstream later). */
struct change {
	struct cons *c;
	enum change_kind kind;
	union {
		struct raft_change change;
		struct raft_transfer transfer;
	} req;
	uint64_t id;
	char raft_address[256], api_address[256];
	bool retried;
	cons_change_cb cb;
	void *ud;
};

static void finish(struct change *ch, int rv)
{
	log_info("cons", "event=membership_change kind=%d id=%" PRIu64 " result=%s", ch->kind,
	         ch->id, stsd_errname(rv));
	if (ch->cb)
		ch->cb(ch->ud, rv);
	free(ch);
}

static void record_name(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64, id);
}

/* Parse a member record's JSON into m; false if it is not one. */
static bool parse_record(const char *json, size_t len, struct cons_member *m)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *spec = json_object_get(root, "spec");
	const char *raft = json_string_value(json_object_get(spec, "raftAddress"));
	const char *api = json_string_value(json_object_get(spec, "apiAddress"));
	bool ok = json_is_integer(json_object_get(spec, "id")) && raft && api;

	if (ok) {
		m->id = (uint64_t)json_integer_value(json_object_get(spec, "id"));
		snprintf(m->raft_address, sizeof m->raft_address, "%s", raft);
		snprintf(m->api_address, sizeof m->api_address, "%s", api);
	}
	json_decref(root);
	return ok;
}

static int read_record(struct cons *c, uint64_t id, struct cons_member *m)
{
	char name[24];
	struct store_reader *r;
	struct store_object o;
	int rv;

	record_name(id, name, sizeof name);
	if ((rv = store_read_begin(c->store, &r)) != STSD_OK)
		return rv;
	rv = store_get(r, CONS_MEMBERS_RESOURCE, "", name, &o);
	if (rv == STSD_OK && !parse_record(o.json, o.json_len, m))
		rv = STSD_CORRUPT;
	store_read_end(r);
	return rv;
}

int cons_leader(struct cons *c, uint64_t *id, char *api_address, size_t len)
{
	struct cons_member m;
	const char *addr;
	raft_id leader;
	int rv;

	raft_leader(&c->raft, &leader, &addr);
	*id = leader;
	if (leader == 0)
		return STSD_UNAVAILABLE;
	if (leader == c->id) {
		snprintf(api_address, len, "%s", c->api_address);
		return STSD_OK;
	}
	if ((rv = read_record(c, leader, &m)) != STSD_OK)
		return rv;
	snprintf(api_address, len, "%s", m.api_address);
	return STSD_OK;
}

/* Insert or update m in out[0..*n), kept ordered by id. */
static struct cons_member *slot(struct cons_member *out, size_t *n, size_t max, uint64_t id)
{
	size_t i = 0;

	while (i < *n && out[i].id < id)
		i++;
	if (i < *n && out[i].id == id)
		return &out[i];
	if (*n == max)
		return NULL;
	memmove(&out[i + 1], &out[i], (*n - i) * sizeof *out);
	memset(&out[i], 0, sizeof *out);
	out[i].id = id;
	(*n)++;
	return &out[i];
}

struct collect {
	struct cons_member *out;
	size_t n, max;
};

static int collect_record(void *ud, const struct store_object *o)
{
	struct collect *col = ud;
	struct cons_member m, *s;

	if (parse_record(o->json, o->json_len, &m) &&
	    (s = slot(col->out, &col->n, col->max, m.id))) {
		snprintf(s->raft_address, sizeof s->raft_address, "%s", m.raft_address);
		snprintf(s->api_address, sizeof s->api_address, "%s", m.api_address);
	}
	return 0;
}

size_t cons_members(struct cons *c, struct cons_member *out, size_t max)
{
	struct store_list_request req = {.resource = CONS_MEMBERS_RESOURCE, .ns = ""};
	struct collect col = {out, 0, max};
	struct store_list_page page;
	struct store_reader *r;

	if (store_read_begin(c->store, &r) == STSD_OK) {
		store_list(r, &req, collect_record, &col, &page);
		store_read_end(r);
	}
	for (unsigned i = 0; i < c->raft.configuration.n; i++) {
		const struct raft_server *srv = &c->raft.configuration.servers[i];
		struct cons_member *s = slot(out, &col.n, max, srv->id);
		if (s == NULL)
			continue;
		s->in_configuration = true;
		s->voter = srv->role == RAFT_VOTER;
		if (s->raft_address[0] == '\0')
			snprintf(s->raft_address, sizeof s->raft_address, "%s", srv->address);
	}
	return col.n;
}

/* ---- Writing records ---- */

static void record_cb(void *ud, int rv, const struct cons_result *res);

static int propose_record(struct change *ch, bool exists)
{
	char name[24], *json;
	json_t *obj;
	struct store_op op = {.resource = CONS_MEMBERS_RESOURCE, .ns = "", .name = name};
	int rv;

	record_name(ch->id, name, sizeof name);
	obj = json_pack("{s:s,s:s,s:{s:s},s:{s:I,s:s,s:s}}", "apiVersion", "stsd.io/v1", "kind",
	                "Member", "metadata", "name", name, "spec", "id", (json_int_t)ch->id,
	                "raftAddress", ch->raft_address, "apiAddress", ch->api_address);
	json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (json == NULL)
		return STSD_NOMEM;
	op.type = exists ? STORE_OP_UPDATE : STORE_OP_CREATE;
	op.json = json;
	op.json_len = strlen(json);
	rv = cons_propose(ch->c, &op, 1, record_cb, ch);
	free(json);
	return rv;
}

static void record_cb(void *ud, int rv, const struct cons_result *res)
{
	struct change *ch = ud;

	if (rv == STSD_OK)
		rv = res->status;
	/* Raced with another writer of the same record: try once more the other way. */
	if ((rv == STSD_EXISTS || rv == STSD_NOTFOUND) && !ch->retried) {
		ch->retried = true;
		if ((rv = propose_record(ch, rv == STSD_EXISTS)) == STSD_OK)
			return;
	}
	finish(ch, rv);
}

/* Propose the record write for ch, or finish with the error. */
static void write_record(struct change *ch)
{
	struct cons_member m;
	int rv;

	rv = read_record(ch->c, ch->id, &m);
	if (rv == STSD_OK && strcmp(m.raft_address, ch->raft_address) == 0 &&
	    strcmp(m.api_address, ch->api_address) == 0) {
		finish(ch, STSD_OK); /* already recorded */
		return;
	}
	if ((rv = propose_record(ch, rv == STSD_OK)) != STSD_OK)
		finish(ch, rv);
}

static struct change *new_change(struct cons *c, enum change_kind kind, uint64_t id,
                                 const char *raft, const char *api, cons_change_cb cb, void *ud)
{
	struct change *ch = calloc(1, sizeof *ch);

	if (ch == NULL)
		return NULL;
	ch->c = c;
	ch->kind = kind;
	ch->id = id;
	snprintf(ch->raft_address, sizeof ch->raft_address, "%s", raft ? raft : "");
	snprintf(ch->api_address, sizeof ch->api_address, "%s", api ? api : "");
	ch->cb = cb;
	ch->ud = ud;
	ch->req.change.data = ch;
	return ch;
}

static bool leading(struct cons *c)
{
	return c->leader_ready && raft_state(&c->raft) == RAFT_LEADER;
}

static bool in_configuration(struct cons *c, uint64_t id)
{
	for (unsigned i = 0; i < c->raft.configuration.n; i++)
		if (c->raft.configuration.servers[i].id == id)
			return true;
	return false;
}

static bool has_record(struct cons *c, uint64_t id)
{
	struct cons_member m;

	return read_record(c, id, &m) == STSD_OK;
}

/* Records written from a raft callback must not run inside it: the proposal is fine there, raft
 * accepts new entries from its own callbacks. */
static void assign_cb(struct raft_change *req, int status)
{
	struct change *ch = req->data;

	if (status != 0) {
		finish(ch, cons_raft_err(status));
		return;
	}
	write_record(ch);
}

static void add_cb(struct raft_change *req, int status)
{
	struct change *ch = req->data;
	int rv;

	if (status != 0) {
		finish(ch, cons_raft_err(status));
		return;
	}
	/* raft promotes a spare/standby to voter only after it has caught up with the log. */
	rv = raft_assign(&ch->c->raft, &ch->req.change, ch->id, RAFT_VOTER, assign_cb);
	if (rv != 0)
		finish(ch, cons_raft_err(rv));
}

int cons_add_member(struct cons *c, uint64_t id, const char *raft_address, const char *api_address,
                    cons_change_cb cb, void *ud)
{
	struct change *ch;
	int rv;

	if (!leading(c))
		return STSD_NOTLEADER;
	if (id == 0 || !raft_address || !*raft_address || !api_address || !*api_address)
		return STSD_INVALID;
	if ((ch = new_change(c, CHANGE_ADD, id, raft_address, api_address, cb, ud)) == NULL)
		return STSD_NOMEM;
	if ((rv = raft_add(&c->raft, &ch->req.change, id, ch->raft_address, add_cb)) != 0) {
		free(ch);
		return cons_raft_err(rv);
	}
	return STSD_OK;
}

static void remove_cb(struct raft_change *req, int status)
{
	struct change *ch = req->data;

	finish(ch, status == 0 ? STSD_OK : cons_raft_err(status));
}

/* The record is deleted first, while this replica surely leads: removing the leader itself makes
 * it step down as soon as the new configuration commits, too late to delete anything. A member
 * that stays in the configuration because raft_remove then fails records itself again. */
static void unrecorded_cb(void *ud, int rv, const struct cons_result *res)
{
	struct change *ch = ud;

	if (rv == STSD_OK && res->status != STSD_OK && res->status != STSD_NOTFOUND)
		rv = res->status;
	if (rv == STSD_OK)
		rv = cons_raft_err(raft_remove(&ch->c->raft, &ch->req.change, ch->id, remove_cb));
	if (rv != STSD_OK)
		finish(ch, rv);
}

int cons_remove_member(struct cons *c, uint64_t id, cons_change_cb cb, void *ud)
{
	struct store_op op = {.type = STORE_OP_DELETE, .resource = CONS_MEMBERS_RESOURCE, .ns = ""};
	struct change *ch;
	char name[24];
	int rv;

	if (!leading(c))
		return STSD_NOTLEADER;
	if (!in_configuration(c, id))
		return STSD_NOTFOUND;
	if ((ch = new_change(c, CHANGE_REMOVE, id, NULL, NULL, cb, ud)) == NULL)
		return STSD_NOMEM;
	record_name(id, name, sizeof name);
	op.name = name;
	if (!has_record(c, id)) { /* nothing to delete: an empty check, then the configuration */
		op.type = STORE_OP_ASSERT;
		op.expect_absent = true;
	}
	if ((rv = cons_propose(c, &op, 1, unrecorded_cb, ch)) != STSD_OK) {
		free(ch);
		return rv;
	}
	return STSD_OK;
}

static void transfer_cb(struct raft_transfer *req)
{
	struct change *ch = req->data;
	const char *addr;
	raft_id leader;

	/* The callback carries no status: success is the target leading now. */
	raft_leader(&ch->c->raft, &leader, &addr);
	finish(ch, (ch->id == 0 ? leader != ch->c->id && leader != 0 : leader == ch->id)
	               ? STSD_OK
	               : STSD_TIMEOUT);
}

int cons_transfer(struct cons *c, uint64_t id, cons_change_cb cb, void *ud)
{
	struct change *ch;
	int rv;

	if (!leading(c))
		return STSD_NOTLEADER;
	if ((ch = new_change(c, CHANGE_TRANSFER, id, NULL, NULL, cb, ud)) == NULL)
		return STSD_NOMEM;
	ch->req.transfer.data = ch;
	if ((rv = raft_transfer(&c->raft, &ch->req.transfer, id, transfer_cb)) != 0) {
		free(ch);
		return cons_raft_err(rv);
	}
	return STSD_OK;
}

static void defer_cb(uv_timer_t *t)
{
	struct change *ch = t->data;

	uv_close((uv_handle_t *)t, (uv_close_cb)free);
	write_record(ch);
}

int cons_record_member(struct cons *c, uint64_t id, const char *raft_address,
                       const char *api_address, cons_change_cb cb, void *ud)
{
	struct change *ch;
	uv_timer_t *t;

	if (!leading(c))
		return STSD_NOTLEADER;
	if (id == 0 || !raft_address || !*raft_address || !api_address || !*api_address)
		return STSD_INVALID;
	ch = new_change(c, CHANGE_RECORD, id, raft_address, api_address, cb, ud);
	t = malloc(sizeof *t);
	if (ch == NULL || t == NULL) {
		free(ch);
		free(t);
		return STSD_NOMEM;
	}
	/* write_record may finish at once (already recorded): never call back inside the call. */
	uv_timer_init(c->loop, t);
	t->data = ch;
	uv_timer_start(t, defer_cb, 0, 0);
	return STSD_OK;
}

static void self_recorded(void *ud, int rv)
{
	struct cons *c = ud;

	if (rv != STSD_OK)
		log_warn("cons", "event=self_record_failed id=%" PRIu64 " err=%s", c->id,
		         stsd_errname(rv));
}

void cons_leader_gained(struct cons *c)
{
	if (c->api_address[0] != '\0')
		cons_record_member(c, c->id, c->raft_address, c->api_address, self_recorded, c);
}
