/* object_write.c — the write pipeline every create, update, patch and subresource write ends in:
 * decode and check the body, carry the server-owned metadata over, keep status and the rest
 * apart, default, validate, record managedFields, then one conditional command (or, for
 * dryRun, the answer alone). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "objects.h"
#include "ssa.h"

/* Metadata the server owns: dropped from what a client creates, carried from the stored object
 * on every update (the store enforces uid, creationTimestamp and deletionTimestamp too). */
static const char *const server_owned[] = {
    "uid",        "resourceVersion", "creationTimestamp",          "deletionTimestamp",
    "generation", "selfLink",        "deletionGracePeriodSeconds", "managedFields",
};

/* Resources whose status a create resets, as their upstream strategies do (PrepareForCreate):
 * status is written by controllers and agents through /status. */
static const char *const status_reset_on_create[] = {
    "statefulsets", "pods", "persistentvolumeclaims", "persistentvolumes", "services",
};

bool api_obj_field_validation(struct api_call *c, enum field_validation *fv)
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
static bool unknown_fields(struct api_call *c, json_t *obj, enum field_validation fv,
                           const struct schema_report *rep)
{
	const struct api_resource *res = c->rt.res;
	size_t shown = rep->n_unknown < 8 ? rep->n_unknown : 8;
	struct api_buf msg = {0};
	json_t *causes = json_array();
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
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

bool api_obj_check_schema(struct api_call *c, json_t *obj, enum field_validation fv)
{
	const struct api_resource *res = c->rt.res;
	struct schema_report rep;

	api_schema_check(res->schema, obj, &rep);
	if (rep.type_error[0]) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "%s in version \"%s\" cannot be handled as a %s: %s", res->kind,
		         res->version, res->kind, rep.type_error);
		return false;
	}
	return rep.n_unknown == 0 || fv == FV_IGNORE || unknown_fields(c, obj, fv, &rep);
}

/* apiVersion and kind, when given, must be the resource's; they are then set. */
static bool check_field(struct api_call *c, json_t *obj, const char *field, const char *want)
{
	json_t *v = json_object_get(obj, field);
	bool kind = strcmp(field, "kind") == 0;

	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), want) == 0)) {
		json_object_set_new(obj, field, json_string(want));
		return true;
	}
	api_fail(c->req, API_BAD_REQUEST, NULL,
	         "the %s of the object (%s) does not match the expected %s (%s)",
	         kind ? "kind" : "API version",
	         json_is_string(v) ? json_string_value(v) : "not a string",
	         kind ? "kind" : "API version", want);
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
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the namespace of the provided object does not match the namespace sent "
		         "on the request");
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
	if (json_is_object(c->obj) && !api_json_depth_ok(c->obj, API_MAX_DEPTH)) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the request body nests deeper than %d levels", API_MAX_DEPTH);
		return false;
	}
	if (json_is_object(c->obj))
		return true;
	api_fail(c->req, API_BAD_REQUEST, NULL, "the request body is not a JSON object: %s",
	         c->obj ? "another JSON value" : jerr.text);
	return false;
}

bool api_obj_check_type(struct api_call *c, json_t *obj)
{
	char gv[96];

	api_resource_gv(c->rt.res, gv, sizeof gv);
	return check_field(c, obj, "apiVersion", gv) &&
	       check_field(c, obj, "kind", c->rt.res->kind);
}

bool api_obj_decode(struct api_call *c)
{
	enum field_validation fv;

	if (!api_obj_field_validation(c, &fv) || !parse_body(c, fv == FV_STRICT))
		return false;
	if (!api_obj_check_type(c, c->obj) || !api_obj_check_schema(c, c->obj, fv))
		return false;
	if (!json_is_object(json_object_get(c->obj, "metadata")))
		json_object_set_new(c->obj, "metadata", json_object());
	return check_namespace(c, json_object_get(c->obj, "metadata"));
}

void api_obj_manager(struct api_call *c, char *out, size_t len)
{
	const char *m = api_req_query(c->req, "fieldManager");
	const char *ua = api_req_header(c->req, "User-Agent");

	if (m && *m)
		snprintf(out, len, "%.128s", m);
	else if (ua && *ua) /* "kubectl/v1.32.0 (linux/amd64) kubernetes/..." -> "kubectl" */
		snprintf(out, len, "%.*s", (int)strcspn(ua, "/ "), ua);
	else
		snprintf(out, len, "unknown");
}

int api_obj_dry_run(struct api_call *c)
{
	const char *v = api_req_query(c->req, "dryRun");

	if (v == NULL || *v == '\0')
		return 0;
	if (strcmp(v, "All") == 0)
		return 1;
	api_fail(c->req, API_BAD_REQUEST, NULL, "dryRun must be \"All\", not \"%s\"", v);
	return -1;
}

/* ---- Results --------------------------------------------------------------------------------- */

void api_obj_fail_result(struct api_call *c, const struct cons_result *res, const char *name)
{
	char q[128];

	api_obj_qualified(c->rt.res, q, sizeof q);
	if (res->status == STSD_NOTFOUND && (int)res->failed_op == c->ns_op)
		api_fail(c->req, API_NOT_FOUND,
		         json_pack("{s:s,s:s}", "name", c->rt.ns, "kind", "namespaces"),
		         "namespaces \"%s\" not found", c->rt.ns);
	else if (res->status == STSD_NOTFOUND)
		api_obj_fail_not_found(c, name);
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

bool api_obj_retry(struct api_call *c, const struct cons_result *res)
{
	struct api_call *again;

	if (res->status != STSD_CONFLICT || c->retry == NULL || c->attempt >= 5)
		return false;
	/* The conflicting write has applied by now: the request runs again on the newer object. */
	if ((again = api_call_new(c->s, c->req, &c->rt)) != NULL) {
		again->retry = c->retry;
		again->attempt = c->attempt + 1;
		again->part = c->part;
		again->user = c->user; /* a retry that must be forwarded still names its user */
		if (api_access_recheck(again))
			again->retry(again);
		else
			api_call_free(again);
	}
	c->req = NULL;
	return true;
}

void api_obj_answer_object(struct api_call *c, const struct cons_result *res)
{
	const struct store_op_result *o;

	if (api_obj_retry(c, res))
		return;
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, object_name(c));
	o = (size_t)c->main_op < res->n_objects ? &res->objects[c->main_op] : NULL;
	if (o == NULL || o->json == NULL)
		return api_fail_code(c->req, STSD_IO, "write: no object in the result");
	api_reply_raw(c->req, c->creating ? 201 : 200, o->json, o->json_len);
}

/* ---- Shared steps ---------------------------------------------------------------------------- */

/* Defaults, then validation; answers 422 and returns false on field errors. */
static bool default_and_validate(struct api_call *c, const char *name, json_t *old)
{
	const struct api_resource *res = c->rt.res;
	struct api_invalid inv = {0};
	const char *why = api_check_name(name, res->name_max);

	if (res->defaults)
		res->defaults(c->obj);
	if (why)
		api_invalid_value(&inv, "metadata.name", name, why);
	if (res->validate)
		res->validate(c->obj, old, &inv);
	if (inv.n == 0)
		return true;
	api_fail_invalid(c->req, res->kind, name, &inv);
	return false;
}

/* Equal but for managedFields and resourceVersion: such a write is a no-op and must stay one. */
static bool same_object(json_t *a, json_t *b)
{
	json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
	bool eq;

	json_object_del(json_object_get(ca, "metadata"), "managedFields");
	json_object_del(json_object_get(cb, "metadata"), "managedFields");
	json_object_del(json_object_get(ca, "metadata"), "resourceVersion");
	json_object_del(json_object_get(cb, "metadata"), "resourceVersion");
	eq = json_equal(ca, cb);
	json_decref(ca);
	json_decref(cb);
	return eq;
}

/* managedFields of the new object: the manager's changes recorded (under the subresource it
 * wrote through, as upstream keeps "kubectl-scale" apart from "kubectl"), or old's kept on a
 * no-op. */
void api_obj_record_manager(struct api_call *c, json_t *old, const char *subresource)
{
	json_t *meta = json_object_get(c->obj, "metadata");
	char manager[160], gv[96], now[32];

	if (old && same_object(old, c->obj)) {
		json_t *mf = json_object_get(json_object_get(old, "metadata"), "managedFields");
		if (json_is_array(json_object_get(meta, "managedFields")))
			return; /* the client's own rewrite of them, or the stored ones */
		if (mf)
			json_object_set(meta, "managedFields", mf);
		else
			json_object_del(meta, "managedFields");
		return;
	}
	if (c->managed)
		return; /* server-side apply computed them */
	api_obj_manager(c, manager, sizeof manager);
	api_resource_gv(c->rt.res, gv, sizeof gv);
	api_obj_now(now);
	api_managed_fields_update_sub(old, c->obj, manager, subresource, c->rt.res->schema, gv,
	                              now);
}

static bool encode(struct api_call *c)
{
	if ((c->json = json_dumps(c->obj, JSON_COMPACT)) != NULL)
		return true;
	api_fail_code(c->req, STSD_NOMEM, "encode");
	return false;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* ---- Create ---------------------------------------------------------------------------------- */

/* A name from generateName: the prefix and five characters, as Kubernetes does. */
static void generate_name(const char *prefix, char *out, size_t len)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char rnd[5];

	api_random_bytes(rnd, sizeof rnd);
	snprintf(out, len, "%.*s", 58, prefix);
	for (size_t i = 0; i < sizeof rnd; i++) {
		size_t n = strlen(out);
		out[n] = alphabet[rnd[i] % (sizeof alphabet - 1)];
		out[n + 1] = '\0';
	}
}

/* metadata.name, from generateName if need be; answers 422 and returns NULL without one. */
static const char *create_name(struct api_call *c, json_t *meta)
{
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *prefix = json_string_value(json_object_get(meta, "generateName"));
	char generated[STORE_NAME_MAX + 1];
	struct api_invalid inv = {0};

	if ((name == NULL || *name == '\0') && prefix && *prefix) {
		generate_name(prefix, generated, sizeof generated);
		json_object_set_new(meta, "name", json_string(generated));
		name = json_string_value(json_object_get(meta, "name"));
	}
	if (name && *name)
		return name;
	api_invalid_add(&inv, "FieldValueRequired", "metadata.name",
	                "Required value: name or generateName is required");
	api_fail_invalid(c->req, c->rt.res->kind, "", &inv);
	return NULL;
}

/* What a dry run of a create answers: the object as it would be stored. */
static void dry_create_answer(struct api_call *c, const char *uid)
{
	json_t *meta = json_object_get(c->obj, "metadata");
	char now[32];

	api_obj_now(now);
	json_object_set_new(meta, "uid", json_string(uid));
	json_object_set_new(meta, "creationTimestamp", json_string(now));
	if (json_object_get(c->obj, "spec"))
		json_object_set_new(meta, "generation", json_integer(1));
	api_reply_json(c->req, 201, json_incref(c->obj));
}

void api_obj_create(struct api_call *c)
{
	struct store_op ops[2] = {{0}};
	const struct api_resource *res = c->rt.res;
	json_t *meta = json_object_get(c->obj, "metadata");
	const char *name;
	char uid[37];
	size_t n = 0;
	int dry = api_obj_dry_run(c);

	if (dry < 0 || (name = create_name(c, meta)) == NULL)
		FINISH(c, );
	for (size_t i = 0; i < sizeof server_owned / sizeof server_owned[0]; i++)
		if (!c->managed || strcmp(server_owned[i], "managedFields") != 0)
			json_object_del(meta, server_owned[i]);
	c->creating = true;
	if (in_list(status_reset_on_create, sizeof status_reset_on_create / sizeof(char *),
	            res->plural))
		json_object_del(c->obj, "status");
	if (!default_and_validate(c, name, NULL))
		FINISH(c, );
	api_obj_record_manager(c, NULL, NULL);
	api_new_uid(uid);
	if (dry)
		FINISH(c, dry_create_answer(c, uid));
	if (!encode(c))
		FINISH(c, );
	if (res->namespaced) {
		c->ns_op = (int)n;
		ops[n++] = (struct store_op){
		    .type = STORE_OP_ASSERT, .resource = "namespaces", .ns = "", .name = c->rt.ns};
	}
	c->main_op = (int)n;
	ops[n++] = (struct store_op){.type = STORE_OP_CREATE,
	                             .resource = res->plural,
	                             .ns = api_obj_ns(c),
	                             .name = json_string_value(json_object_get(meta, "name")),
	                             .json = c->json,
	                             .json_len = strlen(c->json),
	                             .uid = uid};
	api_propose(c, ops, n, api_obj_answer_object);
}

/* ---- Update ---------------------------------------------------------------------------------- */

/* c->obj becomes what part says of it over old: metadata the server owns comes from old; a main
 * write keeps old's status, a status write keeps everything else of old. */
static void merge_parts(struct api_call *c, json_t *old, enum write_part part)
{
	json_t *meta, *old_meta = json_object_get(old, "metadata");
	bool has_status = c->rt.res->subresources & SUB_STATUS;

	if (part == WRITE_STATUS) {
		json_t *status = json_incref(json_object_get(c->obj, "status"));
		json_decref(c->obj);
		c->obj = json_deep_copy(old);
		if (status)
			json_object_set_new(c->obj, "status", status);
		else
			json_object_del(c->obj, "status");
		return;
	}
	meta = json_object_get(c->obj, "metadata");
	json_object_set_new(meta, "name", json_string(c->rt.name));
	for (size_t i = 0; i < sizeof server_owned / sizeof server_owned[0]; i++) {
		json_t *v = json_object_get(old_meta, server_owned[i]);
		/* A client may rewrite managedFields (kubectl does when it moves an object from
		 * client-side to server-side apply); leaving them out keeps the stored ones. */
		if (strcmp(server_owned[i], "managedFields") == 0 &&
		    json_is_array(json_object_get(meta, "managedFields")))
			continue;
		if (v)
			json_object_set(meta, server_owned[i], v);
		else
			json_object_del(meta, server_owned[i]);
	}
	if (part == WRITE_MAIN && has_status) {
		json_t *status = json_object_get(old, "status");
		if (status)
			json_object_set(c->obj, "status", status);
		else
			json_object_del(c->obj, "status");
	}
}

/* A terminating object whose last finalizer went, and which waits for nothing else, is deleted. */
static bool deletion_completes(const json_t *obj, const struct api_resource *res)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *fin = json_object_get(meta, "finalizers");
	const char *node =
	    json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
	json_int_t grace = json_integer_value(json_object_get(meta, "deletionGracePeriodSeconds"));

	if (!json_object_get(meta, "deletionTimestamp") || json_array_size(fin) > 0)
		return false;
	/* A bound pod in its grace period waits for its node to confirm the end of its processes.
	 */
	return !(strcmp(res->plural, "pods") == 0 && node && *node && grace > 0);
}

static void answer_deleted_by_update(struct api_call *c, const struct cons_result *res)
{
	if (api_obj_retry(c, res))
		return;
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, c->rt.name);
	api_reply_json(c->req, 200, json_incref(c->obj));
}

void api_obj_put(struct api_call *c, json_t *old, uint64_t old_rv, const struct obj_precond *pre,
                 enum write_part part)
{
	struct store_op op = {.type = STORE_OP_UPDATE,
	                      .resource = c->rt.res->plural,
	                      .ns = api_obj_ns(c),
	                      .name = c->rt.name,
	                      .expect_rv = pre->rv ? pre->rv : old_rv,
	                      .expect_uid = *pre->uid ? pre->uid : NULL};
	int dry = api_obj_dry_run(c);

	if (dry < 0)
		FINISH(c, );
	merge_parts(c, old, part);
	if (!default_and_validate(c, c->rt.name, old))
		FINISH(c, );
	api_obj_record_manager(c, old, part == WRITE_STATUS ? "status" : NULL);
	if (deletion_completes(c->obj, c->rt.res)) {
		struct store_op ops[2] = {op};
		if (dry)
			FINISH(c, api_reply_json(c->req, 200, json_incref(c->obj)));
		ops[0].type = STORE_OP_DELETE;
		c->main_op = 0;
		api_propose(c, ops, api_obj_claim_op(c, old, &ops[1]) ? 2 : 1,
		            answer_deleted_by_update);
		return;
	}
	if (dry)
		FINISH(c, api_reply_json(c->req, 200, json_incref(c->obj)));
	if (!encode(c))
		FINISH(c, );
	op.json = c->json;
	op.json_len = strlen(c->json);
	c->main_op = 0;
	api_propose(c, &op, 1, api_obj_answer_object);
}
