/* handlers_patch.c — PATCH of an object or of its status: JSON patch, JSON merge patch,
 * strategic merge patch (patch.h) and server-side apply (ssa.h). The patched object goes through
 * the same pipeline as an update; a patch that carries no resourceVersion is applied again to the
 * newer object when another write got in first, as kube-apiserver does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "objects.h"
#include "patch.h"
#include "ssa.h"

enum patch_type { PT_JSON, PT_MERGE, PT_STRATEGIC, PT_APPLY, PT_UNKNOWN };

static enum patch_type patch_type(struct api_call *c)
{
	static const struct {
		const char *type;
		enum patch_type pt;
	} types[] = {
	    {"application/json-patch+json", PT_JSON},
	    {"application/merge-patch+json", PT_MERGE},
	    {"application/strategic-merge-patch+json", PT_STRATEGIC},
	    {"application/apply-patch+yaml", PT_APPLY},
	    {"application/apply-patch+cbor", PT_UNKNOWN},
	};
	const char *ct = api_req_header(c->req, "Content-Type");
	size_t n;

	for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++) {
		n = strlen(types[i].type);
		if (strncasecmp(ct, types[i].type, n) == 0 && (ct[n] == '\0' || ct[n] == ';'))
			return types[i].pt;
	}
	return PT_UNKNOWN;
}

static json_t *parse_patch(struct api_call *c, bool want_object)
{
	size_t len;
	const char *body = api_req_body(c->req, &len);
	json_error_t jerr;
	json_t *p = json_loadb(body, len, 0, &jerr);

	if (p == NULL)
		api_fail(c->req, API_BAD_REQUEST, NULL, "error decoding patch: %s", jerr.text);
	else if (!api_json_depth_ok(p, API_MAX_DEPTH))
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "error decoding patch: nested deeper than %d levels", API_MAX_DEPTH);
	else if (want_object && !json_is_object(p))
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "error decoding patch: the patch must be a JSON object");
	else if (!want_object && !json_is_array(p))
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "error decoding patch: a JSON patch must be an array of operations");
	else
		return p;
	json_decref(p);
	return NULL;
}

bool api_obj_patch_doc(struct api_call *c, const json_t *doc, const struct api_schema *sch,
                       json_t **out)
{
	enum patch_type pt = patch_type(c);
	json_t *p = parse_patch(c, pt != PT_JSON);
	char err[512] = "";
	int bad_request = 0, rv;

	if (p == NULL)
		return false;
	if (pt == PT_JSON)
		rv = api_json_patch(doc, p, out, &bad_request, err, sizeof err);
	else if (pt == PT_MERGE)
		rv = api_merge_patch(doc, p, out, err, sizeof err);
	else
		rv = api_strategic_patch(doc, p, sch, out, err, sizeof err);
	json_decref(p);
	if (rv == STSD_OK && json_is_object(*out))
		return true;
	if (rv == STSD_OK) {
		json_decref(*out);
		snprintf(err, sizeof err, "the patched document is not an object");
	}
	*out = NULL;
	if (rv != STSD_OK && rv != STSD_INVALID)
		api_fail_code(c->req, rv, "patch");
	else if (bad_request)
		api_fail(c->req, API_BAD_REQUEST, NULL, "%s", err);
	else
		api_fail(c->req, API_INVALID, api_details(c->rt.res, c->rt.name), "%s", err);
	return false;
}

/* The patched object must stay the same kind and object; a resourceVersion it carries becomes a
 * precondition (a merge patch with metadata.resourceVersion is how clients ask for one). */
static bool check_patched(struct api_call *c, json_t *obj, json_t *old, struct obj_precond *pre)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	const char *old_rv =
	    json_string_value(json_object_get(json_object_get(old, "metadata"), "resourceVersion"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	enum field_validation fv;

	if (!json_is_object(meta)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "metadata must be an object");
		return false;
	}
	if (!api_obj_check_type(c, obj))
		return false;
	if (c->rt.res->namespaced &&
	    !json_equal(json_object_get(meta, "namespace"),
	                json_object_get(json_object_get(old, "metadata"), "namespace"))) {
		api_fail(
		    c->req, API_BAD_REQUEST, NULL,
		    "the namespace of the provided object does not match the namespace sent on "
		    "the request");
		return false;
	}
	if (name && strcmp(name, c->rt.name) != 0) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the name of the object (%s) does not match the name on the URL (%s)",
		         name, c->rt.name);
		return false;
	}
	if (rv && old_rv && strcmp(rv, old_rv) != 0 && !api_parse_u64(rv, &pre->rv)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"", rv);
		return false;
	}
	if (pre->rv == 0 && rv && old_rv && strcmp(rv, old_rv) != 0)
		pre->rv = 1; /* "0" or another impossible version: never matches */
	return api_obj_field_validation(c, &fv) && api_obj_check_schema(c, obj, fv);
}

static void patch_again(struct api_call *c)
{
	api_obj_patch(c, (enum write_part)c->part);
}

/* "Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas", as
 * kube-apiserver words it, with one cause per field. */
static void fail_conflicts(struct api_call *c, json_t *conflicts)
{
	struct api_buf msg = {0};
	json_t *causes = json_array(), *details = api_details(c->rt.res, c->rt.name), *item;
	size_t n = json_array_size(conflicts), i;
	char gv[96];

	api_resource_gv(c->rt.res, gv, sizeof gv);
	json_array_foreach(conflicts, i, item)
	{
		const char *m = json_string_value(json_object_get(item, "manager"));
		const char *f = json_string_value(json_object_get(item, "field"));
		const char *sub = json_string_value(json_object_get(item, "subresource"));
		char cause[300], with_sub[160] = "";
		if (sub && *sub)
			snprintf(with_sub, sizeof with_sub, " with subresource \"%s\"", sub);
		snprintf(cause, sizeof cause, "conflict with \"%s\"%s using %s", m ? m : "",
		         with_sub, gv);
		json_array_append_new(causes,
		                      json_pack("{s:s,s:s,s:s}", "reason", "FieldManagerConflict",
		                                "message", cause, "field", f ? f : ""));
		if (n == 1)
			api_buf_printf(&msg, "%s: %s", cause, f ? f : "");
		else
			api_buf_printf(&msg, "\n* %s: %s", cause, f ? f : "");
	}
	json_object_set_new(details, "causes", causes);
	api_fail(c->req, API_CONFLICT, details, "Apply failed with %zu conflict%s:%s%s", n,
	         n == 1 ? "" : "s", n == 1 ? " " : "", msg.data ? msg.data : "");
	api_buf_free(&msg);
}

static bool apply_config(struct api_call *c, json_t **cfg)
{
	const struct api_resource *res = c->rt.res;
	json_t *meta;
	char gv[96];
	const char *kind, *av, *name;

	if ((*cfg = parse_patch(c, true)) == NULL)
		return false;
	api_resource_gv(res, gv, sizeof gv);
	kind = json_string_value(json_object_get(*cfg, "kind"));
	av = json_string_value(json_object_get(*cfg, "apiVersion"));
	meta = json_object_get(*cfg, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	if (!kind || !av || strcmp(kind, res->kind) != 0 || strcmp(av, gv) != 0)
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the apply configuration must have apiVersion %s and kind %s", gv,
		         res->kind);
	else if (name && strcmp(name, c->rt.name) != 0)
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the name of the object (%s) does not match the name on the URL (%s)",
		         name, c->rt.name);
	else
		return true;
	json_decref(*cfg);
	return false;
}

/* ---- From client-side to server-side apply ----------------------------------------------------
 * kube-apiserver lets `kubectl apply --server-side` take over an object that `kubectl apply` made
 * (its fieldmanager's lastAppliedManager): conflicts with the client-side manager on fields whose
 * applied value equals the last-applied-configuration annotation's are forced. Upstream compares
 * the annotation with the live object; stsd compares it with the configuration being applied,
 * which gives the same answer except for atomic lists the server defaults (volumeClaimTemplates
 * gain volumeMode and status), where comparing with the live object would always conflict and
 * leave every StatefulSet with claim templates unable to move to server-side apply. */

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* The list item of list whose fields match "k=v,k2=v2" (values JSON), or NULL. */
static const json_t *keyed_item(const json_t *list, const char *keys, size_t len)
{
	const json_t *item;
	size_t i;

	json_array_foreach(list, i, item)
	{
		const char *p = keys, *end = keys + len;
		bool all = true;
		while (p < end && all) {
			const char *eq = memchr(p, '=', (size_t)(end - p));
			const char *comma = eq ? eq + 1 : end;
			char name[128];
			json_t *want;
			/* A JSON string value may hold commas: find the comma after the value. */
			if (eq && eq[1] == '"')
				for (comma = eq + 2;
				     comma < end && !(comma[-1] == '"' && *comma == ',');)
					comma++;
			else
				while (comma < end && *comma != ',')
					comma++;
			if (eq == NULL || (size_t)(eq - p) >= sizeof name)
				return NULL;
			memcpy(name, p, (size_t)(eq - p));
			name[eq - p] = '\0';
			want = json_loadb(eq + 1, (size_t)(comma - eq - 1), JSON_DECODE_ANY, NULL);
			all = want && json_equal(want, json_object_get(item, name));
			json_decref(want);
			p = comma + 1;
		}
		if (all)
			return item;
	}
	return NULL;
}

/* The value at a conflict's field path (".spec.template.spec.containers[name=\"c\"].image"). */
static const json_t *value_at(const json_t *v, const char *path)
{
	while (v && *path) {
		if (*path == '.') {
			size_t n = strcspn(path + 1, ".[");
			char name[256];
			if (n >= sizeof name)
				return NULL;
			memcpy(name, path + 1, n);
			name[n] = '\0';
			v = json_object_get(v, name);
			path += 1 + n;
		} else if (*path == '[') {
			const char *close = strchr(path, ']');
			/* A bracket inside a quoted key value ends at the last "]" before '.' or
			 * '['. */
			while (close && close[1] && close[1] != '.' && close[1] != '[')
				close = strchr(close + 1, ']');
			if (close == NULL || path[1] == '=')
				return NULL; /* set members are compared whole by their list */
			v = keyed_item(v, path + 1, (size_t)(close - path - 1));
			path = close + 1;
		} else {
			return NULL;
		}
	}
	return v;
}

/* The conflicts the last client-side apply did not already agree with (new array); all of them
 * when the object has no annotation. Upstream reports only these (conflictsDifference). */
static json_t *unforgiven(const json_t *live, const json_t *cfg, const json_t *conflicts)
{
	const char *text = json_string_value(json_object_get(
	    json_object_get(json_object_get(live, "metadata"), "annotations"), LAST_APPLIED));
	json_t *last = text ? json_loads(text, 0, NULL) : NULL, *item, *out = json_array();
	size_t i;

	json_array_foreach(conflicts, i, item)
	{
		const char *f = json_string_value(json_object_get(item, "field"));
		const json_t *a = f ? value_at(cfg, f) : NULL, *b = f ? value_at(last, f) : NULL;
		if (last == NULL || a == NULL || b == NULL || !json_equal(a, b))
			json_array_append(out, item);
	}
	json_decref(last);
	return out;
}

/* Server-side apply: creates the object, or merges the configuration into it. */
static void apply(struct api_call *c, json_t *old, uint64_t old_rv)
{
	const char *force = api_req_query(c->req, "force");
	const char *fm = api_req_query(c->req, "fieldManager");
	json_t *cfg, *out = NULL, *conflicts = NULL;
	char gv[96], now[32], err[512] = "";
	struct obj_precond pre = {0};
	enum field_validation fv;
	int rv;

	if (fm == NULL || *fm == '\0')
		FINISH(c,
		       api_fail(c->req, API_INVALID, NULL,
		                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
		                "value: is required for apply patch"));
	if (!api_obj_field_validation(c, &fv) || !apply_config(c, &cfg))
		FINISH(c, );
	if (!api_obj_check_schema(c, cfg, fv)) {
		json_decref(cfg);
		FINISH(c, );
	}
	api_resource_gv(c->rt.res, gv, sizeof gv);
	api_obj_now(now);
	rv = api_ssa_apply(old, cfg, fm, force && strcmp(force, "true") == 0, c->rt.res->schema, gv,
	                   now, &out, &conflicts, err, sizeof err);
	if (rv == STSD_CONFLICT && strcmp(fm, "kubectl") == 0) {
		json_t *left = unforgiven(old, cfg, conflicts);
		json_decref(conflicts);
		conflicts = left;
		if (json_array_size(left) == 0) {
			json_decref(conflicts);
			conflicts = NULL;
			rv = api_ssa_apply(old, cfg, fm, true, c->rt.res->schema, gv, now, &out,
			                   &conflicts, err, sizeof err);
		}
	}
	json_decref(cfg);
	if (rv == STSD_CONFLICT)
		fail_conflicts(c, conflicts);
	else if (rv != STSD_OK)
		api_fail(c->req, API_INVALID, api_details(c->rt.res, c->rt.name), "%s", err);
	json_decref(conflicts);
	if (rv != STSD_OK)
		FINISH(c, json_decref(out));
	c->obj = out;
	c->managed = true;
	if (old == NULL) {
		json_t *meta = json_object_get(out, "metadata");
		if (!json_is_object(meta))
			json_object_set_new(out, "metadata", meta = json_object());
		json_object_set_new(meta, "name", json_string(c->rt.name));
		if (c->rt.res->namespaced)
			json_object_set_new(meta, "namespace", json_string(c->rt.ns));
		return api_obj_create(c);
	}
	api_obj_put(c, old, old_rv, &pre, WRITE_MAIN);
}

static void patch_stored(struct api_call *c, json_t *old, uint64_t old_rv, enum write_part part)
{
	struct obj_precond pre = {0};
	json_t *patched;

	if (!api_obj_patch_doc(c, old, c->rt.res->schema, &patched))
		FINISH(c, );
	c->obj = patched;
	if (!check_patched(c, patched, old, &pre))
		FINISH(c, );
	/* Without a version of its own, a conflict means "try again on the newer object". */
	c->retry = pre.rv == 0 ? patch_again : NULL;
	c->part = (int)part;
	api_obj_put(c, old, old_rv, &pre, part);
}

void api_obj_patch(struct api_call *c, enum write_part part)
{
	enum patch_type pt = patch_type(c);
	uint64_t old_rv;
	json_t *old;

	if (pt == PT_UNKNOWN)
		FINISH(c, api_fail(c->req, API_UNSUPPORTED_MEDIA, NULL,
		                   "the body of the request was in an unknown format - accepted "
		                   "media types include: application/json-patch+json, "
		                   "application/merge-patch+json, "
		                   "application/apply-patch+yaml, "
		                   "application/strategic-merge-patch+json"));
	if (pt == PT_APPLY && part != WRITE_MAIN)
		FINISH(c, api_fail(c->req, API_UNSUPPORTED_MEDIA, NULL,
		                   "server-side apply of a subresource is not supported by this "
		                   "server: patch it with another patch type"));
	old = api_obj_stored(c, c->rt.name, &old_rv);
	if (pt == PT_APPLY) {
		c->retry = patch_again; /* apply carries no resourceVersion */
		c->part = (int)part;
		apply(c, old, old_rv);
	} else if (old == NULL)
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	else
		patch_stored(c, old, old_rv, part);
	json_decref(old);
}
