/* handlers_objects.c — get, list, create, update and delete of the resources in the table, on the
 * leader (or, for reads with resourceVersion=0, on any replica). Writes become one command whose
 * preconditions the FSM checks on every replica alike. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "errors.h"
#include "schema.h"

enum field_validation { FV_STRICT, FV_WARN, FV_IGNORE };

/* Metadata the server owns: dropped from what a client sends (the store keeps its own). */
static const char *const server_owned[] = {
    "uid",        "resourceVersion", "creationTimestamp",          "deletionTimestamp",
    "generation", "selfLink",        "deletionGracePeriodSeconds", "managedFields",
};

static const char *ns_of(const struct api_call *c)
{
	return c->rt.res->namespaced ? c->rt.ns : "";
}

/* "configmaps", or "statefulsets.apps" for a named group, as Kubernetes names resources. */
static void qualified(const struct api_resource *res, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", res->plural, *res->group ? "." : "", res->group);
}

static void fail_not_found(struct api_call *c, const char *name)
{
	char q[128];

	qualified(c->rt.res, q, sizeof q);
	api_fail(c->req, API_NOT_FOUND, api_details(c->rt.res, name), "%s \"%s\" not found", q,
	         name);
}

/* Answer and release the call. */
#define FINISH(c, answer)         \
	do {                      \
		answer;           \
		api_call_free(c); \
	} while (0)

/* ---- Reads ----------------------------------------------------------------------------------- */

bool api_objects_is_read(struct api_req *r, const struct route *rt)
{
	const char *m = api_req_method(r);

	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void get_one(struct api_call *c, struct store_reader *rd)
{
	struct store_object o;
	int rv = store_get(rd, c->rt.res->plural, ns_of(c), c->rt.name, &o);

	if (rv == STSD_NOTFOUND)
		fail_not_found(c, c->rt.name);
	else if (rv != STSD_OK)
		api_fail_code(c->req, rv, "get");
	else
		api_reply_raw(c->req, 200, o.json, o.json_len);
}

static int list_item(void *ud, const struct store_object *o)
{
	struct api_buf *b = ud;

	if (b->data[b->len - 1] != '[')
		api_buf_add(b, ",", 1);
	api_buf_add(b, o->json, o->json_len);
	return b->oom ? STSD_NOMEM : 0;
}

static bool selector_given(struct api_req *r, const char *name)
{
	const char *v = api_req_query(r, name);

	return v && *v;
}

static void list(struct api_call *c, struct store_reader *rd)
{
	const struct api_resource *res = c->rt.res;
	struct store_list_request lr = {.resource = res->plural,
	                                .ns = *c->rt.ns ? c->rt.ns : NULL,
	                                .continue_token = api_req_query(c->req, "continue")};
	struct store_list_page page;
	struct api_buf b = {0};
	const char *limit = api_req_query(c->req, "limit");
	uint64_t n = 0;
	char gv[96];
	int rv;

	if (selector_given(c->req, "labelSelector") || selector_given(c->req, "fieldSelector")) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "label and field selectors are not supported by this server yet");
		return;
	}
	if (limit && *limit && !api_parse_u64(limit, &n)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "limit must be a non-negative integer");
		return;
	}
	lr.limit = (size_t)n;
	api_resource_gv(res, gv, sizeof gv);
	api_buf_printf(&b, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"items\":[", res->kind, gv);
	rv = store_list(rd, &lr, list_item, &b, &page);
	if (rv == STSD_OK) {
		api_buf_printf(&b, "],\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"",
		               page.revision);
		if (page.next_token[0])
			api_buf_printf(&b, ",\"continue\":\"%s\"", page.next_token);
		api_buf_add(&b, "}}", 2);
	}
	if (rv == STSD_INVALID)
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the provided continue parameter is invalid");
	else if (rv != STSD_OK || b.oom)
		api_fail_code(c->req, b.oom ? STSD_NOMEM : rv, "list");
	else
		api_reply_raw(c->req, 200, b.data, b.len);
	api_buf_free(&b);
}

void api_objects_read(struct api_call *c)
{
	struct store_reader *rd;
	const char *watch = api_req_query(c->req, "watch");
	int rv;

	if (*c->rt.sub)
		FINISH(c, api_fail(c->req, API_NOT_FOUND, NULL,
		                   "the server could not find the requested resource"));
	else if (watch && (strcmp(watch, "true") == 0 || strcmp(watch, "1") == 0))
		FINISH(c, api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL,
		                   "watch is not served by this server yet"));
	else if ((rv = store_read_begin(c->s->store, &rd)) != STSD_OK)
		FINISH(c, api_fail_code(c->req, rv, "read"));
	else {
		if (*c->rt.name)
			get_one(c, rd);
		else
			list(c, rd);
		store_read_end(rd);
		api_call_free(c);
	}
}

/* ---- Decoding a written object ----------------------------------------------------------------
 */

static bool field_validation(struct api_call *c, enum field_validation *fv)
{
	const char *v = api_req_query(c->req, "fieldValidation");

	if (v == NULL || *v == '\0' || strcmp(v, "Warn") == 0)
		*fv = FV_WARN;
	else if (strcmp(v, "Strict") == 0)
		*fv = FV_STRICT;
	else if (strcmp(v, "Ignore") == 0)
		*fv = FV_IGNORE;
	else {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "fieldValidation must be one of Ignore, Warn or Strict, not \"%s\"", v);
		return false;
	}
	return true;
}

/* Unknown fields: refused under Strict, a Warning header each under Warn. */
static bool unknown_fields(struct api_call *c, enum field_validation fv,
                           const struct schema_report *rep)
{
	const struct api_resource *res = c->rt.res;
	size_t shown = rep->n_unknown < 8 ? rep->n_unknown : 8;
	struct api_buf msg = {0};
	json_t *causes = json_array();
	const char *name =
	    json_string_value(json_object_get(json_object_get(c->obj, "metadata"), "name"));
	char warn[600];

	for (size_t i = 0; i < shown; i++) {
		api_buf_printf(&msg, "%sunknown field \"%s\"", i ? ", " : "", rep->unknown[i]);
		json_array_append_new(causes, json_pack("{s:s,s:s,s:s}", "reason",
		                                        "FieldValueInvalid", "message",
		                                        "unknown field", "field", rep->unknown[i]));
		snprintf(warn, sizeof warn, "299 - \"unknown field \\\"%s\\\"\"", rep->unknown[i]);
		if (fv == FV_WARN)
			api_req_add_header(c->req, "Warning", warn);
	}
	if (fv == FV_STRICT)
		api_fail(
		    c->req, API_INVALID,
		    json_pack("{s:s,s:s,s:o}", "name", name ? name : "", "kind", res->kind,
		              "causes", causes),
		    "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
		    res->kind, res->version, res->kind, msg.data ? msg.data : "");
	else
		json_decref(causes);
	api_buf_free(&msg);
	return fv != FV_STRICT;
}

static bool check_type(struct api_call *c, json_t *obj, const char *field, const char *want)
{
	const struct api_resource *res = c->rt.res;
	json_t *v = json_object_get(obj, field);
	char gv[96];

	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), want) == 0)) {
		json_object_set_new(obj, field, json_string(want));
		return true;
	}
	api_resource_gv(res, gv, sizeof gv);
	api_fail(c->req, API_BAD_REQUEST, NULL,
	         "the %s of the object (%s) does not match the expected %s (%s)",
	         strcmp(field, "kind") == 0 ? "kind" : "API version",
	         json_is_string(v) ? json_string_value(v) : "not a string",
	         strcmp(field, "kind") == 0 ? "kind" : "API version", want);
	return false;
}

/* The namespace in the body must agree with the URL's; it is then set from it. */
static bool check_namespace(struct api_call *c, json_t *meta)
{
	const char *given = json_string_value(json_object_get(meta, "namespace"));

	if (!c->rt.res->namespaced) {
		json_object_del(meta, "namespace");
		return true;
	}
	if (given && *given && strcmp(given, c->rt.ns) != 0) {
		api_fail(
		    c->req, API_BAD_REQUEST, NULL,
		    "the namespace of the provided object does not match the namespace sent on "
		    "the request");
		return false;
	}
	json_object_set_new(meta, "namespace", json_string(c->rt.ns));
	return true;
}

static bool has_type(const char *content_type, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(content_type, want, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';');
}

/* The body into c->obj: JSON, or Kubernetes protobuf from typed clients. */
static bool parse_body(struct api_call *c, bool strict)
{
	const char *type = api_req_header(c->req, "Content-Type");
	size_t len;
	const char *body = api_req_body(c->req, &len);
	json_error_t jerr;
	char err[256];

	if (type && has_type(type, "application/vnd.kubernetes.protobuf")) {
		if ((c->obj = api_proto_decode(c->rt.res->schema, body, len, err, sizeof err)))
			return true;
		api_fail(c->req, API_BAD_REQUEST, NULL, "the request body is not a valid %s: %s",
		         c->rt.res->kind, err);
		return false;
	}
	if (type && *type && !has_type(type, "application/json")) {
		api_fail(c->req, API_UNSUPPORTED_MEDIA, NULL,
		         "the body of the request was in an unknown format - accepted media types "
		         "include: application/json, application/vnd.kubernetes.protobuf");
		return false;
	}
	c->obj = json_loadb(body, len, strict ? JSON_REJECT_DUPLICATES : 0, &jerr);
	if (json_is_object(c->obj))
		return true;
	api_fail(c->req, API_BAD_REQUEST, NULL, "the request body is not a JSON object: %s",
	         c->obj ? "another JSON value" : jerr.text);
	return false;
}

/* Parse and check the body into c->obj; answers and returns false when it is not acceptable. */
static bool decode(struct api_call *c)
{
	const struct api_resource *res = c->rt.res;
	enum field_validation fv;
	struct schema_report rep;
	char gv[96];

	if (!field_validation(c, &fv) || !parse_body(c, fv == FV_STRICT))
		return false;
	api_resource_gv(res, gv, sizeof gv);
	if (!check_type(c, c->obj, "apiVersion", gv) || !check_type(c, c->obj, "kind", res->kind))
		return false;
	api_schema_check(res->schema, c->obj, &rep);
	if (rep.type_error[0]) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "%s in version \"%s\" cannot be handled as a %s: %s", res->kind,
		         res->version, res->kind, rep.type_error);
		return false;
	}
	if (rep.n_unknown && fv != FV_IGNORE && !unknown_fields(c, fv, &rep))
		return false;
	if (!json_is_object(json_object_get(c->obj, "metadata")))
		json_object_set_new(c->obj, "metadata", json_object());
	return check_namespace(c, json_object_get(c->obj, "metadata"));
}

static void drop_server_owned(json_t *meta)
{
	for (size_t i = 0; i < sizeof server_owned / sizeof server_owned[0]; i++)
		json_object_del(meta, server_owned[i]);
}

/* Run the resource's validation; answers 422 and returns false on field errors. */
static bool validate(struct api_call *c, const char *name, json_t *old)
{
	const struct api_resource *res = c->rt.res;
	struct api_invalid inv = {0};
	const char *why = api_check_name(name, res->name_max);

	if (why)
		api_invalid_value(&inv, "metadata.name", name, why);
	if (res->validate)
		res->validate(c->obj, old, &inv);
	if (inv.n == 0)
		return true;
	api_fail_invalid(c->req, res->kind, name, &inv);
	return false;
}

static bool encode(struct api_call *c)
{
	if ((c->json = json_dumps(c->obj, JSON_COMPACT)) != NULL)
		return true;
	api_fail_code(c->req, STSD_NOMEM, "encode");
	return false;
}

/* ---- Results --------------------------------------------------------------------------------- */

static void fail_result(struct api_call *c, const struct cons_result *res, const char *name)
{
	char q[128];

	qualified(c->rt.res, q, sizeof q);
	if (res->status == STSD_NOTFOUND && (int)res->failed_op == c->ns_op)
		api_fail(c->req, API_NOT_FOUND,
		         json_pack("{s:s,s:s}", "name", c->rt.ns, "kind", "namespaces"),
		         "namespaces \"%s\" not found", c->rt.ns);
	else if (res->status == STSD_NOTFOUND)
		fail_not_found(c, name);
	else if (res->status == STSD_EXISTS)
		api_fail(c->req, API_ALREADY_EXISTS, api_details(c->rt.res, name),
		         "%s \"%s\" already exists", q, name);
	else if (res->status == STSD_CONFLICT)
		api_fail(
		    c->req, API_CONFLICT, api_details(c->rt.res, name),
		    "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
		    "please apply your changes to the latest version and try again",
		    q, name);
	else
		api_fail(c->req, API_INVALID, api_details(c->rt.res, name),
		         "%s \"%s\" is invalid: %s", c->rt.res->kind, name,
		         res->message ? res->message : "invalid");
}

static const char *object_name(const struct api_call *c)
{
	const char *n =
	    json_string_value(json_object_get(json_object_get(c->obj, "metadata"), "name"));
	return n ? n : c->rt.name;
}

static void answer_object(struct api_call *c, const struct cons_result *res)
{
	const struct store_op_result *o;

	if (res->status != STSD_OK) {
		fail_result(c, res, object_name(c));
		return;
	}
	o = (size_t)c->main_op < res->n_objects ? &res->objects[c->main_op] : NULL;
	if (o == NULL || o->json == NULL)
		api_fail_code(c->req, STSD_IO, "write: no object in the result");
	else
		api_reply_raw(c->req, strcmp(api_req_method(c->req), "POST") == 0 ? 201 : 200,
		              o->json, o->json_len);
}

static void answer_deleted(struct api_call *c, const struct cons_result *res)
{
	const struct store_op_result *o;
	json_t *old = NULL, *details = api_details(c->rt.res, c->rt.name);

	if (res->status != STSD_OK) {
		json_decref(details);
		fail_result(c, res, c->rt.name);
		return;
	}
	o = (size_t)c->main_op < res->n_objects ? &res->objects[c->main_op] : NULL;
	if (o && o->json)
		old = json_loadb(o->json, o->json_len, 0, NULL);
	json_object_set(details, "uid", json_object_get(json_object_get(old, "metadata"), "uid"));
	json_decref(old);
	api_reply_json(c->req, 200,
	               json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1",
	                         "metadata", "status", "Success", "details", details));
}

/* ---- Writes ---------------------------------------------------------------------------------- */

/* A name from generateName: the prefix and five characters, as Kubernetes does. */
static void generate_name(const char *prefix, char *out, size_t len)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	char uid[37];

	api_new_uid(uid);
	snprintf(out, len, "%.*s", 58, prefix);
	for (int i = 0; i < 5; i++) {
		size_t n = strlen(out);
		out[n] = alphabet[(unsigned char)uid[i * 7] % (sizeof alphabet - 1)];
		out[n + 1] = '\0';
	}
}

static void create(struct api_call *c)
{
	struct store_op ops[2] = {{0}};
	json_t *meta;
	const char *name, *prefix;
	char generated[STORE_NAME_MAX + 1], uid[37];
	size_t n = 0;

	if (!decode(c)) {
		api_call_free(c);
		return;
	}
	meta = json_object_get(c->obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	prefix = json_string_value(json_object_get(meta, "generateName"));
	if ((name == NULL || *name == '\0') && prefix && *prefix) {
		generate_name(prefix, generated, sizeof generated);
		json_object_set_new(meta, "name", json_string(generated));
		name = json_string_value(json_object_get(meta, "name"));
	}
	if (name == NULL || *name == '\0') {
		struct api_invalid inv = {0};
		api_invalid_add(&inv, "FieldValueRequired", "metadata.name",
		                "Required value: name or generateName is required");
		FINISH(c, api_fail_invalid(c->req, c->rt.res->kind, "", &inv));
		return;
	}
	drop_server_owned(meta);
	if (c->rt.res->defaults)
		c->rt.res->defaults(c->obj);
	if (!validate(c, name, NULL) || !encode(c)) {
		api_call_free(c);
		return;
	}
	api_new_uid(uid);
	if (c->rt.res->namespaced) {
		c->ns_op = (int)n;
		ops[n++] = (struct store_op){
		    .type = STORE_OP_ASSERT, .resource = "namespaces", .ns = "", .name = c->rt.ns};
	}
	c->main_op = (int)n;
	ops[n++] = (struct store_op){.type = STORE_OP_CREATE,
	                             .resource = c->rt.res->plural,
	                             .ns = ns_of(c),
	                             .name = name,
	                             .json = c->json,
	                             .json_len = strlen(c->json),
	                             .uid = uid};
	api_propose(c, ops, n, answer_object);
}

/* The stored object, parsed (NULL when absent, with *rv 0). */
static json_t *stored(struct api_call *c, uint64_t *rv)
{
	struct store_reader *rd;
	struct store_object o;
	json_t *old = NULL;

	*rv = 0;
	if (store_read_begin(c->s->store, &rd) != STSD_OK)
		return NULL;
	if (store_get(rd, c->rt.res->plural, ns_of(c), c->rt.name, &o) == STSD_OK) {
		old = json_loadb(o.json, o.json_len, 0, NULL);
		*rv = o.resource_version;
	}
	store_read_end(rd);
	return old;
}

/* expect_rv and expect_uid from the body's metadata; false (answered) when malformed. */
static bool preconditions(struct api_call *c, json_t *meta, struct store_op *op)
{
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));

	if (rv && *rv && !api_parse_u64(rv, &op->expect_rv)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"", rv);
		return false;
	}
	op->expect_uid = uid && *uid ? uid : NULL;
	return true;
}

static void update(struct api_call *c)
{
	struct store_op op = {.type = STORE_OP_UPDATE};
	json_t *meta, *old;
	const char *name;
	uint64_t old_rv;
	bool ok;

	if (!decode(c)) {
		api_call_free(c);
		return;
	}
	meta = json_object_get(c->obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	if (name && *name && strcmp(name, c->rt.name) != 0) {
		FINISH(c, api_fail(c->req, API_BAD_REQUEST, NULL,
		                   "the name of the object (%s) does not match the name on "
		                   "the URL (%s)",
		                   name, c->rt.name));
		return;
	}
	json_object_set_new(meta, "name", json_string(c->rt.name));
	if (!preconditions(c, meta, &op)) {
		api_call_free(c);
		return;
	}
	/* The uid string lives in meta: keep a reference while the op points at it. */
	op.expect_uid = op.expect_uid ? strdup(op.expect_uid) : NULL;
	old = stored(c, &old_rv);
	drop_server_owned(meta);
	ok = old != NULL && validate(c, c->rt.name, old) && encode(c);
	if (old == NULL)
		fail_not_found(c, c->rt.name);
	json_decref(old);
	if (!ok) {
		free((char *)op.expect_uid);
		{
			api_call_free(c);
			return;
		}
	}
	/* Validation saw old_rv: without the client's own precondition, hold it to that one. */
	op.expect_rv = op.expect_rv ? op.expect_rv : old_rv;
	op.resource = c->rt.res->plural;
	op.ns = ns_of(c);
	op.name = c->rt.name;
	op.json = c->json;
	op.json_len = strlen(c->json);
	c->main_op = 0;
	api_propose(c, &op, 1, answer_object);
	free((char *)op.expect_uid);
}

/* DeleteOptions in the body: preconditions only matter here. */
static bool delete_options(struct api_call *c, struct store_op *op, json_t **opts)
{
	size_t len;
	const char *body = api_req_body(c->req, &len);
	json_t *pre;

	*opts = NULL;
	if (len == 0)
		return true;
	if (!json_is_object(*opts = json_loadb(body, len, 0, NULL))) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the DeleteOptions body is not a JSON object");
		return false;
	}
	pre = json_object_get(*opts, "preconditions");
	return preconditions(c, pre, op);
}

static bool protected_namespace(const char *name)
{
	return strcmp(name, "default") == 0 || strcmp(name, "kube-system") == 0 ||
	       strcmp(name, "kube-public") == 0;
}

static void delete (struct api_call *c)
{
	struct store_op op = {.type = STORE_OP_DELETE}, *ops = &op;
	json_t *opts;
	size_t n = 1;

	if (strcmp(c->rt.res->plural, "namespaces") == 0 && protected_namespace(c->rt.name)) {
		FINISH(c, api_fail(c->req, API_FORBIDDEN, api_details(c->rt.res, c->rt.name),
		                   "namespaces \"%s\" is forbidden: this namespace may not be "
		                   "deleted",
		                   c->rt.name));
		return;
	}
	if (!delete_options(c, &op, &opts)) {
		json_decref(opts);
		{
			api_call_free(c);
			return;
		}
	}
	c->obj = opts; /* keeps the precondition strings alive */
	op.resource = c->rt.res->plural;
	op.ns = ns_of(c);
	op.name = c->rt.name;
	c->main_op = 0;
	if (strcmp(c->rt.res->plural, "namespaces") == 0 &&
	    api_namespace_delete_ops(c, &ops, &n) != STSD_OK) {
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "delete"));
		return;
	}
	if (ops != &op) {
		ops[n - 1].expect_rv = op.expect_rv;
		ops[n - 1].expect_uid = op.expect_uid;
		c->main_op = (int)n - 1;
	}
	api_propose(c, ops, n, answer_deleted);
	if (ops != &op)
		free(ops);
}

void api_objects_write(struct api_call *c)
{
	const char *m = api_req_method(c->req);
	bool named = *c->rt.name != '\0';

	if (*c->rt.sub)
		FINISH(c, api_fail(c->req, API_NOT_FOUND, NULL,
		                   "the server could not find the requested resource"));
	else if (strcmp(m, "POST") == 0 && !named)
		create(c);
	else if (strcmp(m, "PUT") == 0 && named)
		update(c);
	else if (strcmp(m, "DELETE") == 0 && named)
		delete (c);
	else
		FINISH(c, api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL,
		                   "%s is not supported on this path by this server yet", m));
}
