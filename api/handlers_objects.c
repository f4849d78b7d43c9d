/* handlers_objects.c — reads of the resources in the table (get, list with selectors, Table
 * answers, watch) and the dispatch of writes to their verbs. Reads run on the leader after a
 * barrier, or on any replica for resourceVersion=0; watches on any replica. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "objects.h"
#include "selector.h"
#include "table.h"
#include "watch.h"

/* ---- Helpers shared by the object handlers --------------------------------------------------- */

const char *api_obj_ns(const struct api_call *c)
{
	return c->rt.res->namespaced ? c->rt.ns : "";
}

void api_obj_qualified(const struct api_resource *res, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", res->plural, *res->group ? "." : "", res->group);
}

void api_obj_fail_not_found(struct api_call *c, const char *name)
{
	char q[128];

	api_obj_qualified(c->rt.res, q, sizeof q);
	api_fail(c->req, API_NOT_FOUND, api_details(c->rt.res, name), "%s \"%s\" not found", q,
	         name);
}

json_t *api_obj_stored(struct api_call *c, const char *name, uint64_t *rv)
{
	struct store_reader *rd;
	struct store_object o;
	json_t *old = NULL;

	*rv = 0;
	if (store_read_begin(c->s->store, &rd) != STSD_OK)
		return NULL;
	if (store_get(rd, c->rt.res->plural, api_obj_ns(c), name, &o) == STSD_OK) {
		old = json_loadb(o.json, o.json_len, 0, NULL);
		*rv = o.resource_version;
	}
	store_read_end(rd);
	return old;
}

void api_obj_time(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t api_obj_now(char out[32])
{
	int64_t now = (int64_t)time(NULL);

	api_obj_time(now, out);
	return now;
}

bool api_obj_selectors(struct api_call *c, struct api_selector **ls, struct api_field_selector **fs)
{
	const char *fsel = api_req_query(c->req, "fieldSelector");
	char err[512];

	*ls = NULL;
	*fs = NULL;
	if (api_label_selector_parse(api_req_query(c->req, "labelSelector"), ls, err, sizeof err) !=
	    STSD_OK) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "%s", err);
		return false;
	}
	if (fsel == NULL || *fsel == '\0')
		return true; /* none: no object needs parsing for it */
	if (api_field_selector_parse(fsel, c->rt.res, fs, err, sizeof err) != STSD_OK) {
		api_label_selector_free(*ls);
		*ls = NULL;
		api_fail(c->req, API_BAD_REQUEST, NULL, "%s", err);
		return false;
	}
	return true;
}

/* ---- Reads ----------------------------------------------------------------------------------- */

bool api_objects_is_read(struct api_req *r, const struct route *rt)
{
	const char *m = api_req_method(r);

	if (strcmp(rt->sub, "exec") == 0)
		return false; /* kubectl's fallback POSTs it; either way the leader decides */
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* What a read answers with: the objects themselves or a Table. */
struct read_form {
	bool table;
	enum api_table_object inc;
	int64_t now;
};

static bool read_form(struct api_call *c, struct read_form *f)
{
	const char *inc = api_req_query(c->req, "includeObject");

	f->table = api_table_wanted(api_req_header(c->req, "Accept"));
	f->now = (int64_t)time(NULL);
	if (!api_table_object_parse(inc, &f->inc)) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "includeObject must be one of None, Metadata or Object, not \"%s\"", inc);
		return false;
	}
	return true;
}

/* Answer a Table (stolen) with the list's resourceVersion and continue token. */
static void reply_table(struct api_call *c, json_t *t, uint64_t rv, const char *token)
{
	char buf[24];
	json_t *meta = json_object();

	snprintf(buf, sizeof buf, "%" PRIu64, rv);
	json_object_set_new(meta, "resourceVersion", json_string(buf));
	if (token && *token)
		json_object_set_new(meta, "continue", json_string(token));
	json_object_set_new(t, "metadata", meta);
	api_reply_json(c->req, 200, t);
}

static void get_one(struct api_call *c, struct store_reader *rd, const struct read_form *f)
{
	struct store_object o;
	int rv = store_get(rd, c->rt.res->plural, api_obj_ns(c), c->rt.name, &o);
	json_t *obj, *t;

	if (rv == STSD_NOTFOUND)
		return api_obj_fail_not_found(c, c->rt.name);
	if (rv != STSD_OK)
		return api_fail_code(c->req, rv, "get");
	if (!f->table)
		return api_reply_raw(c->req, 200, o.json, o.json_len);
	if ((obj = json_loadb(o.json, o.json_len, 0, NULL)) == NULL)
		return api_fail_code(c->req, STSD_CORRUPT, "get");
	t = api_table_new(c->rt.res);
	json_array_append_new(json_object_get(t, "rows"),
	                      api_table_row(c->rt.res, obj, f->inc, f->now));
	json_decref(obj);
	reply_table(c, t, o.resource_version, NULL);
}

/* ---- Lists, off the loop ----------------------------------------------------------------------
 * A list of thousands of objects takes a second or more to filter and encode; on the loop it
 * would stop Raft's heartbeats and cost the leader its term (found by bench/api_cost). It runs on
 * libuv's thread pool with its own store reader (readers may move between threads) and only pure
 * code (selectors, tables); the loop answers when it is done. The answer is built as text: stored
 * objects are copied, never re-encoded, and a Table row is encoded as soon as it is made, so no
 * tree of the whole answer exists. Objects are parsed only when a selector or a Table needs them.
 */
struct list_job {
	uv_work_t work;
	struct api_call *c;
	struct store *store;
	const struct api_resource *res;
	struct store_list_request lr;
	char *token; /* ?continue, copied */
	struct api_selector *ls;
	struct api_field_selector *fs;
	struct read_form form;
	struct api_buf b;
	struct store_list_page page;
	bool first;
	int rv;
};

static bool filtered(const struct list_job *l)
{
	return !api_label_selector_empty(l->ls) || l->fs != NULL;
}

static int add_row(struct list_job *l, const json_t *obj)
{
	json_t *row = api_table_row(l->res, obj, l->form.inc, l->form.now);
	char *text = row ? json_dumps(row, JSON_COMPACT) : NULL;

	json_decref(row);
	if (text == NULL)
		return STSD_NOMEM;
	api_buf_add(&l->b, text, strlen(text));
	free(text);
	return 0;
}

static int list_item(void *ud, const struct store_object *o)
{
	struct list_job *l = ud;
	json_t *obj = NULL;
	int rv = 0;

	if (filtered(l) || l->form.table) {
		if ((obj = json_loadb(o->json, o->json_len, 0, NULL)) == NULL)
			return STSD_CORRUPT;
		if (!api_label_selector_matches(
		        l->ls, json_object_get(json_object_get(obj, "metadata"), "labels")) ||
		    (l->fs && !api_field_selector_matches(l->fs, obj))) {
			json_decref(obj);
			return STORE_SKIP;
		}
	}
	if (!l->first)
		api_buf_add(&l->b, ",", 1);
	if (l->form.table)
		rv = add_row(l, obj);
	else
		api_buf_add(&l->b, o->json, o->json_len);
	l->first = false;
	json_decref(obj);
	return rv ? rv : l->b.oom ? STSD_NOMEM : 0;
}

/* The opening of the answer, up to its first item. */
static void list_open(struct list_job *l)
{
	json_t *t;
	char *cols;

	if (!l->form.table) {
		api_buf_add(&l->b, "{\"items\":[", 10);
		return;
	}
	t = api_table_new(l->res);
	cols = json_dumps(json_object_get(t, "columnDefinitions"), JSON_COMPACT);
	json_decref(t);
	api_buf_printf(&l->b,
	               "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
	               "\"columnDefinitions\":%s,\"rows\":[",
	               cols ? cols : "[]");
	free(cols);
}

static void list_close(struct list_job *l)
{
	char gv[96];

	api_buf_printf(&l->b, "],\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"",
	               l->page.revision);
	if (l->page.next_token[0])
		api_buf_printf(&l->b, ",\"continue\":\"%s\"", l->page.next_token);
	api_buf_add(&l->b, "}", 1);
	if (!l->form.table) {
		api_resource_gv(l->res, gv, sizeof gv);
		api_buf_printf(&l->b, ",\"kind\":\"%sList\",\"apiVersion\":\"%s\"", l->res->kind,
		               gv);
	}
	api_buf_add(&l->b, "}", 1);
}

/* Pods of one node, through the pods-by-node index (what every agent asks for): the objects
 * of other namespaces are skipped here, the selectors in list_item. */
static int node_item(void *ud, const struct store_object *o)
{
	struct list_job *l = ud;
	int rv;

	if (l->lr.ns && strcmp(o->ns, l->lr.ns) != 0)
		return 0;
	rv = list_item(ud, o);
	return rv == STORE_SKIP ? 0 : rv;
}

/* The node a pod list is limited to, when the index can serve it (no paging). */
static const char *indexed_node(const struct list_job *l)
{
	const char *node = api_field_selector_equal(l->fs, "spec.nodeName");

	if (strcmp(l->res->plural, "pods") != 0 || *l->res->group || node == NULL || !*node ||
	    l->lr.limit || (l->lr.continue_token && *l->lr.continue_token))
		return NULL;
	return node;
}

static void list_work(uv_work_t *w)
{
	struct list_job *l = w->data;
	struct store_reader *rd;
	const char *node = indexed_node(l);

	if ((l->rv = store_read_begin(l->store, &rd)) != STSD_OK)
		return;
	list_open(l);
	if (node) {
		l->rv = store_list_pods_on_node(rd, node, node_item, l);
		l->page.revision = store_reader_applied_index(rd);
	} else {
		l->rv = store_list(rd, &l->lr, list_item, l, &l->page);
	}
	store_read_end(rd);
	if (l->rv == STSD_OK)
		list_close(l);
	if (l->rv == STSD_OK && l->b.oom)
		l->rv = STSD_NOMEM;
}

static void list_job_free(struct list_job *l)
{
	api_buf_free(&l->b);
	api_label_selector_free(l->ls);
	api_field_selector_free(l->fs);
	free(l->token);
	free(l);
}

static void list_done(uv_work_t *w, int status)
{
	struct list_job *l = w->data;
	struct api_call *c = l->c;
	struct api_server *s = c->s;

	if (c->req == NULL) {
		/* the client left while the list was built */
	} else if (status != 0) {
		api_fail_code(c->req, STSD_SHUTDOWN, "list");
	} else if (l->rv == STSD_INVALID) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the provided continue parameter is invalid");
	} else if (l->rv != STSD_OK) {
		api_fail_code(c->req, l->rv, "list");
	} else {
		api_respond(c->req, 200, "application/json", l->b.data, l->b.len);
	}
	list_job_free(l);
	api_call_free(c);
	if (s)
		api_server_read_done(s);
}

/* Start the list of c on the thread pool; the call is freed when it is answered. */
static void list(struct api_call *c)
{
	struct list_job *l = calloc(1, sizeof *l);
	const char *limit = api_req_query(c->req, "limit"), *token;
	uint64_t n = 0;

	if (c->s->stopping) {
		free(l);
		FINISH(c, api_fail(c->req, API_UNAVAILABLE, NULL, "this replica is shutting down"));
	}
	if (l == NULL)
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "list"));
	l->c = c;
	l->store = c->s->store;
	l->res = c->rt.res;
	l->first = true;
	l->work.data = l;
	if (limit && *limit && !api_parse_u64(limit, &n)) {
		list_job_free(l);
		FINISH(c, api_fail(c->req, API_BAD_REQUEST, NULL,
		                   "limit must be a non-negative integer"));
	}
	token = api_req_query(c->req, "continue");
	if (!read_form(c, &l->form) || !api_obj_selectors(c, &l->ls, &l->fs)) {
		list_job_free(l);
		FINISH(c, );
	}
	if (token && (l->token = strdup(token)) == NULL) {
		list_job_free(l);
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "list"));
	}
	l->lr = (struct store_list_request){.resource = l->res->plural,
	                                    .ns = *c->rt.ns ? c->rt.ns : NULL,
	                                    .continue_token = l->token,
	                                    .limit = (size_t)n};
	if (uv_queue_work(c->s->loop, &l->work, list_work, list_done) != 0) {
		list_job_free(l);
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "list"));
	}
	c->s->reads++;
}

static bool is_watch(struct api_req *r)
{
	const char *w = api_req_query(r, "watch");

	return w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

void api_objects_read(struct api_call *c)
{
	struct store_reader *rd;
	struct read_form f;
	int rv;

	if (*c->rt.sub)
		return api_obj_sub_read(c);
	if (is_watch(c->req)) {
		struct api_server *s = c->s;
		struct api_req *r = c->req;
		struct route rt = c->rt;
		/* The watch takes the request over (its own on_close replaces the call's). */
		api_call_free(c);
		api_watch_start(s, r, &rt);
		return;
	}
	if (*c->rt.name == '\0')
		return list(c);
	if ((rv = store_read_begin(c->s->store, &rd)) != STSD_OK)
		FINISH(c, api_fail_code(c->req, rv, "read"));
	if (read_form(c, &f))
		get_one(c, rd, &f);
	store_read_end(rd);
	api_call_free(c);
}

/* ---- Writes ---------------------------------------------------------------------------------- */

static void create(struct api_call *c)
{
	if (!api_obj_decode(c))
		return api_call_free(c);
	api_obj_create(c);
}

static void update(struct api_call *c)
{
	struct obj_precond pre = {0};
	json_t *meta, *old;
	const char *name, *rv, *uid;
	uint64_t old_rv;

	if (!api_obj_decode(c))
		return api_call_free(c);
	meta = json_object_get(c->obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	if (name && *name && strcmp(name, c->rt.name) != 0)
		FINISH(c, api_fail(c->req, API_BAD_REQUEST, NULL,
		                   "the name of the object (%s) does not match the name on the URL "
		                   "(%s)",
		                   name, c->rt.name));
	rv = json_string_value(json_object_get(meta, "resourceVersion"));
	uid = json_string_value(json_object_get(meta, "uid"));
	if (rv && *rv && !api_parse_u64(rv, &pre.rv))
		FINISH(c, api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"",
		                   rv));
	if (uid)
		snprintf(pre.uid, sizeof pre.uid, "%s", uid);
	if ((old = api_obj_stored(c, c->rt.name, &old_rv)) == NULL)
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	/* Without a resourceVersion, a write that got in first is no reason to fail. */
	if (pre.rv == 0)
		c->retry = update;
	api_obj_put(c, old, old_rv, &pre, WRITE_MAIN);
	json_decref(old);
}

/* Whether the resource serves verb on this path: the cluster-wide path of a namespaced
 * resource only lists and watches, as in kube-apiserver. */
static bool serves(const struct api_call *c, unsigned verb)
{
	if (c->rt.res->namespaced && *c->rt.ns == '\0' && *c->rt.name == '\0')
		return false;
	return (c->rt.res->verbs & verb) != 0;
}

void api_objects_write(struct api_call *c)
{
	const char *m = api_req_method(c->req);
	bool named = *c->rt.name != '\0';

	if ((strcmp(m, "POST") == 0 && !named && !serves(c, VERB_CREATE)) ||
	    (strcmp(m, "DELETE") == 0 && !named && !serves(c, VERB_DELETECOLLECTION)))
		FINISH(c, api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL,
		                   "the server does not allow this method on the requested "
		                   "resource"));
	if (*c->rt.sub)
		api_obj_sub_write(c);
	else if (strcmp(m, "POST") == 0 && !named)
		create(c);
	else if (strcmp(m, "PUT") == 0 && named)
		update(c);
	else if (strcmp(m, "PATCH") == 0 && named)
		api_obj_patch(c, WRITE_MAIN);
	else if (strcmp(m, "DELETE") == 0 && named)
		api_obj_delete(c);
	else if (strcmp(m, "DELETE") == 0)
		api_obj_delete_collection(c);
	else
		FINISH(c, api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL,
		                   "the server does not allow this method on the requested "
		                   "resource"));
}
