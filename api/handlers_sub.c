/* handlers_sub.c — subresources: /status (the status alone, for controllers and agents), /scale
 * (autoscaling/v1 Scale of a StatefulSet, as `kubectl scale` uses it), and pods' /log and /exec,
 * which the agent of the pod's node serves (the routes answer here until agents exist). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "objects.h"
#include "selector.h"

static bool has(const struct api_call *c, unsigned sub, const char *name)
{
	return (c->rt.res->subresources & sub) && strcmp(c->rt.sub, name) == 0;
}

static void not_found(struct api_call *c)
{
	api_fail(c->req, API_NOT_FOUND, NULL, "the server could not find the requested resource");
}

/* ---- Scale ----------------------------------------------------------------------------------- */

/* The Scale of a StatefulSet (stolen by the caller). */
static json_t *scale_of(const json_t *sts)
{
	const json_t *meta = json_object_get(sts, "metadata"), *spec = json_object_get(sts, "spec");
	struct api_selector *sel = NULL;
	char *selector = NULL, err[256];
	json_t *scale;

	if (api_label_selector_from_json(json_object_get(spec, "selector"), &sel, err,
	                                 sizeof err) == STSD_OK)
		selector = api_label_selector_string(sel);
	api_label_selector_free(sel);
	scale = json_pack(
	    "{s:s,s:s,s:{s:O,s:O,s:O,s:O,s:O},s:{s:I},s:{s:I,s:s}}", "kind", "Scale", "apiVersion",
	    "autoscaling/v1", "metadata", "name", json_object_get(meta, "name"), "namespace",
	    json_object_get(meta, "namespace"), "uid", json_object_get(meta, "uid"),
	    "resourceVersion", json_object_get(meta, "resourceVersion"), "creationTimestamp",
	    json_object_get(meta, "creationTimestamp"), "spec", "replicas",
	    (json_int_t)json_integer_value(json_object_get(spec, "replicas")), "status", "replicas",
	    (json_int_t)json_integer_value(
	        json_object_get(json_object_get(sts, "status"), "replicas")),
	    "selector", selector ? selector : "");
	free(selector);
	return scale;
}

static void answer_scale(struct api_call *c, const struct cons_result *res)
{
	const struct store_op_result *o;
	json_t *sts;

	if (api_obj_retry(c, res))
		return;
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, c->rt.name);
	o = res->n_objects ? &res->objects[0] : NULL;
	if (o == NULL || (sts = json_loadb(o->json, o->json_len, 0, NULL)) == NULL)
		return api_fail_code(c->req, STSD_IO, "scale: no object in the result");
	api_reply_json(c->req, 200, scale_of(sts));
	json_decref(sts);
}

/* The replicas a Scale asks for; answers 422 and returns false when missing or negative. */
static bool scale_replicas(struct api_call *c, const json_t *scale, json_int_t *replicas)
{
	json_t *r = json_object_get(json_object_get(scale, "spec"), "replicas");
	struct api_invalid inv = {0};

	if (r == NULL || json_is_null(r))
		r = json_integer(0); /* an absent replicas is zero, as a Go decoder reads it */
	else
		json_incref(r);
	if (json_is_integer(r) && json_integer_value(r) >= 0 &&
	    json_integer_value(r) <= INT32_MAX) {
		*replicas = json_integer_value(r);
		json_decref(r);
		return true;
	}
	json_decref(r);
	api_invalid_add(&inv, "FieldValueInvalid", "spec.replicas",
	                "Invalid value: must be greater than or equal to 0");
	api_fail_invalid(c->req, "Scale", c->rt.name, &inv);
	return false;
}

static void scale_again(struct api_call *c)
{
	api_obj_sub_write(c);
}

/* The Scale a PUT or PATCH asks for (new), or NULL (answered). */
static json_t *wanted_scale(struct api_call *c, const json_t *cur)
{
	size_t len;
	const char *body;
	json_t *want = NULL;

	if (strcmp(api_req_method(c->req), "PATCH") == 0)
		return api_obj_patch_doc(c, cur, NULL, &want) ? want : NULL;
	body = api_req_body(c->req, &len);
	want = json_loadb(body, len, 0, NULL); /* not inside json_is_object: it is a macro */
	if (json_is_object(want))
		return want;
	api_fail(c->req, API_BAD_REQUEST, NULL, "the body is not a Scale object");
	json_decref(want);
	return NULL;
}

/* PUT or PATCH of the Scale: the new replicas go into the set's spec, under the resourceVersion
 * the client chose, if any; without one, a write that got in first means "again" (a patch that
 * leaves the Scale's own version, read a moment ago, in place chose none). */
static void scale_write(struct api_call *c, json_t *sts, uint64_t sts_rv)
{
	json_t *cur = scale_of(sts), *want = NULL;
	json_int_t replicas;
	const char *rv;
	int dry = api_obj_dry_run(c);
	struct store_op op = {.type = STORE_OP_UPDATE,
	                      .resource = c->rt.res->plural,
	                      .ns = api_obj_ns(c),
	                      .name = c->rt.name,
	                      .expect_rv = sts_rv};

	if (dry < 0 || (want = wanted_scale(c, cur)) == NULL || !scale_replicas(c, want, &replicas))
		goto out;
	rv = json_string_value(
	    json_object_get(json_object_get(want, "metadata"), "resourceVersion"));
	if (rv && *rv && !api_parse_u64(rv, &op.expect_rv)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"", rv);
		goto out;
	}
	if (!rv || !*rv || op.expect_rv == sts_rv) {
		op.expect_rv = sts_rv;
		c->retry = scale_again;
	}
	c->obj = json_deep_copy(sts);
	json_object_set_new(json_object_get(c->obj, "spec"), "replicas", json_integer(replicas));
	api_obj_record_manager(c, sts, "scale");
	if (dry) {
		api_reply_json(c->req, 200, scale_of(c->obj));
		goto out;
	}
	if ((c->json = json_dumps(c->obj, JSON_COMPACT)) == NULL) {
		api_fail_code(c->req, STSD_NOMEM, "scale");
		goto out;
	}
	op.json = c->json;
	op.json_len = strlen(c->json);
	json_decref(cur);
	json_decref(want);
	return api_propose(c, &op, 1, answer_scale);
out:
	json_decref(cur);
	json_decref(want);
	api_call_free(c);
}

/* ---- Pods' log and exec ---------------------------------------------------------------------- */

/* Log and exec reach the agent of the pod's node; no agent serves them yet. */
static void pod_stream(struct api_call *c, json_t *pod)
{
	const char *node =
	    json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));

	if (node == NULL || *node == '\0')
		return api_fail(c->req, API_BAD_REQUEST, NULL,
		                "pod %s does not have a host assigned", c->rt.name);
	api_fail(c->req, API_UNAVAILABLE, NULL,
	         "no agent of node \"%s\" is connected to serve %s of pod %s", node, c->rt.sub,
	         c->rt.name);
}

/* ---- Entry points ---------------------------------------------------------------------------- */

void api_obj_sub_read(struct api_call *c)
{
	uint64_t rv;
	json_t *obj;

	if (!has(c, SUB_STATUS, "status") && !has(c, SUB_SCALE, "scale") &&
	    !has(c, SUB_LOG, "log") && !has(c, SUB_EXEC, "exec"))
		FINISH(c, not_found(c));
	if ((obj = api_obj_stored(c, c->rt.name, &rv)) == NULL)
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	if (strcmp(c->rt.sub, "status") == 0)
		api_reply_json(c->req, 200, json_incref(obj));
	else if (strcmp(c->rt.sub, "scale") == 0)
		api_reply_json(c->req, 200, scale_of(obj));
	else
		pod_stream(c, obj);
	json_decref(obj);
	api_call_free(c);
}

static void status_put(struct api_call *c)
{
	struct obj_precond pre = {0};
	const char *rv;
	uint64_t old_rv;
	json_t *old;

	if (!api_obj_decode(c))
		FINISH(c, );
	rv = json_string_value(
	    json_object_get(json_object_get(c->obj, "metadata"), "resourceVersion"));
	if (rv && *rv && !api_parse_u64(rv, &pre.rv))
		FINISH(c, api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"",
		                   rv));
	if ((old = api_obj_stored(c, c->rt.name, &old_rv)) == NULL)
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	api_obj_put(c, old, old_rv, &pre, WRITE_STATUS);
	json_decref(old);
}

void api_obj_sub_write(struct api_call *c)
{
	const char *m = api_req_method(c->req);
	bool put = strcmp(m, "PUT") == 0, patch = strcmp(m, "PATCH") == 0;
	uint64_t rv;
	json_t *sts;

	if (has(c, SUB_STATUS, "status") && put)
		return status_put(c);
	if (has(c, SUB_STATUS, "status") && patch)
		return api_obj_patch(c, WRITE_STATUS);
	if (has(c, SUB_EXEC, "exec") && (strcmp(m, "POST") == 0 || strcmp(m, "GET") == 0))
		return api_obj_sub_read(c);
	/* The router routes only subresources a resource announces: what is left is a method the
	 * subresource does not take. */
	if (!has(c, SUB_SCALE, "scale") || !(put || patch))
		FINISH(c,
		       api_fail(c->req, API_METHOD_NOT_ALLOWED, NULL,
		                "the server does not allow this method on the requested resource"));
	if ((sts = api_obj_stored(c, c->rt.name, &rv)) == NULL)
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	scale_write(c, sts, rv);
	json_decref(sts);
}
