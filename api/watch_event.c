/* watch_event.c — which events a change makes for one watch (namespace, name, label and field
 * selectors, objects entering or leaving the selection) and how each event is written: one JSON
 * line {"type":...,"object":...}, the object raw from the store or as a one-row Table. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "watch_internal.h"

bool watch_filtered(const struct watch *w)
{
	return w->labels != NULL || w->fields != NULL;
}

json_t *watch_obj_parse(struct watch_obj *o)
{
	if (!o->tried) {
		o->tried = true;
		o->parsed = json_loadb(o->json, o->len, 0, NULL);
	}
	return o->parsed;
}

bool watch_concerns(const struct watch *w, const char *ns, const char *name)
{
	if (w->res->namespaced && *w->ns && strcmp(ns, w->ns) != 0)
		return false;
	return *w->name == '\0' || strcmp(name, w->name) == 0;
}

/* Whether o's raw JSON may hold what w's field selector pins: a watch of one node's pods
 * (fieldSelector spec.nodeName=X, an agent's) can only select an object in which the string "X"
 * appears. Looking for it first spares parsing every other node's pods — most of what a resumed
 * agent watch replays (it replays the whole log: see resume in watch.c), and with 50 agents
 * resuming after a failover that parsing kept the thread pool busy for tens of seconds. */
#define DNS_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

static bool may_select(const struct watch *w, const struct watch_obj *o)
{
	const char *node = api_field_selector_equal(w->fields, "spec.nodeName");
	char quoted[STORE_NAME_MAX + 3];
	int n;

	/* Only for names JSON writes as they are (node names are DNS names; anything else is
	 * decided the slow way). */
	if (node == NULL || *node == '\0' || o->parsed || strspn(node, DNS_CHARS) != strlen(node) ||
	    (n = snprintf(quoted, sizeof quoted, "\"%s\"", node)) < 0 || (size_t)n >= sizeof quoted)
		return true;
	return memmem(o->json, o->len, quoted, (size_t)n) != NULL;
}

bool watch_selects(struct watch *w, struct watch_obj *o)
{
	json_t *obj;

	if (!watch_filtered(w))
		return true;
	if (!may_select(w, o))
		return false;
	if ((obj = watch_obj_parse(o)) == NULL)
		return false;
	if (w->labels &&
	    !api_label_selector_matches(
	        w->labels, json_object_get(json_object_get(obj, "metadata"), "labels")))
		return false;
	return w->fields == NULL || api_field_selector_matches(w->fields, obj);
}

static void key_of(const char *ns, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", ns, name);
}

void watch_select(struct watch *w, const char *ns, const char *name)
{
	char key[2 * STORE_NAME_MAX + 2];

	key_of(ns, name, key, sizeof key);
	json_object_set_new(w->selected, key, json_true());
}

/* Whether the object was selected before this change. While a resumed watch replays, an object
 * the log has not shown yet was last changed before the log begins: it may have been selected, and
 * a DELETED the client can ignore is better than a DELETED it never gets. */
static bool was_selected(struct watch *w, const char *key, enum store_change_type t)
{
	json_t *v = json_object_get(w->selected, key);

	if (v)
		return json_is_true(v);
	return w->replaying && t != STORE_ADDED;
}

const char *watch_event_type(struct watch *w, enum store_change_type t, const char *ns,
                             const char *name, struct watch_obj *o)
{
	char key[2 * STORE_NAME_MAX + 2];
	bool was, now;

	if (!watch_filtered(w))
		return t == STORE_ADDED ? "ADDED" : t == STORE_MODIFIED ? "MODIFIED" : "DELETED";
	key_of(ns, name, key, sizeof key);
	was = was_selected(w, key, t);
	now = t != STORE_DELETED && watch_selects(w, o);
	if (now)
		json_object_set_new(w->selected, key, json_true());
	else if (w->replaying)
		json_object_set_new(w->selected, key, json_false());
	else
		json_object_del(w->selected, key);
	if (was && now)
		return t == STORE_ADDED ? "ADDED" : "MODIFIED";
	if (now)
		return "ADDED";
	return was ? "DELETED" : NULL;
}

/* ---- Writing ----------------------------------------------------------------------------------
 */

enum watch_failure watch_write(struct watch *w, const char *data, size_t len)
{
	int rv;

	if (w->capture) { /* starting off the loop: the stream is the loop's */
		api_buf_add(w->capture, data, len);
		return w->capture->oom ? WATCH_NOMEM : WATCH_OK;
	}
	rv = api_stream_write(w->req, data, len);

	if (rv == STSD_OK)
		return WATCH_OK;
	return rv == STSD_BUSY ? WATCH_SLOW : rv == STSD_NOMEM ? WATCH_NOMEM : WATCH_GONE;
}

static enum watch_failure write_json(struct watch *w, json_t *event)
{
	char *text = event ? json_dumps(event, JSON_COMPACT) : NULL;
	enum watch_failure f = WATCH_NOMEM;
	size_t n;

	json_decref(event);
	if (text == NULL)
		return WATCH_NOMEM;
	n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: the line is written by length */
	f = watch_write(w, text, n + 1);
	free(text);
	return f;
}

/* The object as a one-row Table. Kubernetes sends columnDefinitions only with a watch's first
 * Table (apiserver handlers/response.go, watchEmbeddedEncoder.doEncode sets NoHeaders after the
 * first), and kubectl keeps using the last columns it saw (printers/tableprinter.go). */
static json_t *as_table(struct watch *w, json_t *obj)
{
	json_t *t = api_table_new(w->res), *row, *meta = json_object_get(obj, "metadata");

	row = t ? api_table_row(w->res, obj, w->inc, (int64_t)time(NULL)) : NULL;
	if (row == NULL || json_array_append_new(json_object_get(t, "rows"), row) != 0) {
		json_decref(t);
		return NULL;
	}
	if (w->headers_out)
		json_object_del(t, "columnDefinitions");
	w->headers_out = true;
	json_object_set_new(
	    t, "metadata",
	    json_pack("{s:O?}", "resourceVersion", json_object_get(meta, "resourceVersion")));
	return t;
}

enum watch_failure watch_send(struct watch *w, const char *type, struct watch_obj *o)
{
	struct api_buf b = {0};
	enum watch_failure f;
	json_t *obj, *t;

	if (w->table) {
		if ((obj = watch_obj_parse(o)) == NULL || (t = as_table(w, obj)) == NULL)
			return WATCH_NOMEM;
		return write_json(w, json_pack("{s:s,s:o}", "type", type, "object", t));
	}
	/* The stored JSON is the object as clients get it: no need to parse it. One change goes
	 * to many watches with the same line: it is made once per type (o->lines). */
	for (size_t i = 0; i < sizeof o->lines / sizeof o->lines[0]; i++) {
		if (o->lines[i].type == NULL) {
			o->lines[i].type = type;
			b = (struct api_buf){0};
			api_buf_printf(&b, "{\"type\":\"%s\",\"object\":", type);
			api_buf_add(&b, o->json, o->len);
			api_buf_add(&b, "}\n", 2);
			o->lines[i].text = b;
		}
		if (strcmp(o->lines[i].type, type) == 0) {
			b = o->lines[i].text;
			return b.oom ? WATCH_NOMEM : watch_write(w, b.data, b.len);
		}
	}
	/* Not reached: a change makes at most three types of events. */
	api_buf_printf(&b, "{\"type\":\"%s\",\"object\":", type);
	api_buf_add(&b, o->json, o->len);
	api_buf_add(&b, "}\n", 2);
	f = b.oom ? WATCH_NOMEM : watch_write(w, b.data, b.len);
	api_buf_free(&b);
	return f;
}

void watch_obj_free(struct watch_obj *o)
{
	json_decref(o->parsed);
	for (size_t i = 0; i < sizeof o->lines / sizeof o->lines[0]; i++)
		api_buf_free(&o->lines[i].text);
}

enum watch_failure watch_send_status(struct watch *w, unsigned code, const char *reason,
                                     const char *message)
{
	return write_json(w, json_pack("{s:s,s:{s:s,s:s,s:{},s:s,s:s,s:s,s:i}}", "type", "ERROR",
	                               "object", "kind", "Status", "apiVersion", "v1", "metadata",
	                               "status", "Failure", "message", message, "reason", reason,
	                               "code", (int)code));
}

enum watch_failure watch_send_bookmark(struct watch *w, bool initial_end)
{
	char gv[96], rv[24];
	json_t *meta;

	api_resource_gv(w->res, gv, sizeof gv);
	snprintf(rv, sizeof rv, "%" PRIu64, w->pos > w->from ? w->pos : w->from);
	meta = json_pack("{s:s}", "resourceVersion", rv);
	if (meta && initial_end) /* the annotation a WatchList client waits for (KEP 3157) */
		json_object_set_new(meta, "annotations",
		                    json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
	return write_json(w, json_pack("{s:s,s:{s:s,s:s,s:o}}", "type", "BOOKMARK", "object",
	                               "kind", w->res->kind, "apiVersion", gv, "metadata", meta));
}
