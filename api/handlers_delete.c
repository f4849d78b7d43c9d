/* handlers_delete.c — DELETE of an object and of a collection, with Kubernetes' graceful deletion:
 * an object with finalizers, or a pod bound to a node, is only marked (deletionTimestamp,
 * deletionGracePeriodSeconds) and goes when its finalizers are gone and, for a pod, when its node
 * confirms the end of its processes (the agent's delete with grace period 0). A force delete
 * (grace period 0) removes a bound pod at once; its ordinal claim, if any, then stays
 * "releasing" until the node confirms or is fenced (../shared/DESIGN.md, Identity): the node's
 * own removal of its pod releases the claim, and so does its confirmation of a pod already gone.
 * propagationPolicy adds the garbage collector's finalizers (foregroundDeletion, orphan). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "log.h"
#include "objects.h"
#include "selector.h"

/* The propagationPolicy of a delete (or the deprecated orphanDependents). */
enum propagation {
	PROP_NONE, /* not given: the object's own GC finalizers stay */
	PROP_BACKGROUND,
	PROP_FOREGROUND,
	PROP_ORPHAN,
};

/* DeleteOptions of a request: the body, or the query (gracePeriodSeconds, propagationPolicy). */
struct delete_opts {
	json_t *body; /* owned; keeps the precondition strings alive */
	struct obj_precond pre;
	bool has_grace;
	int64_t grace;
	enum propagation policy;
	bool dry; /* ?dryRun=All or "dryRun": ["All"] in the body (client-go sends the latter) */
};

static bool parse_grace(struct api_call *c, json_t *g, const char *q, struct delete_opts *o)
{
	uint64_t v;

	if (json_is_integer(g) && json_integer_value(g) >= 0 &&
	    json_integer_value(g) <= INT32_MAX) {
		o->grace = json_integer_value(g);
		o->has_grace = true;
	} else if (g && !json_is_null(g)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "gracePeriodSeconds must be >= 0");
		return false;
	} else if (q && *q) {
		if (!api_parse_u64(q, &v) || v > INT32_MAX) {
			api_fail(c->req, API_BAD_REQUEST, NULL, "gracePeriodSeconds must be >= 0");
			return false;
		}
		o->grace = (int64_t)v;
		o->has_grace = true;
	}
	return true;
}

/* propagationPolicy, or the deprecated orphanDependents (true: Orphan, false: Background, as
 * upstream's shouldOrphanDependents and shouldDeleteDependents read it); not both. */
static bool parse_policy(struct api_call *c, json_t *p, const char *q, json_t *orphan,
                         struct delete_opts *o)
{
	static const char *const names[] = {"", "Background", "Foreground", "Orphan"};
	const char *v = json_is_string(p) ? json_string_value(p) : q;

	if (p && !json_is_null(p) && !json_is_string(p))
		v = "?";
	o->policy = PROP_NONE;
	for (size_t i = 1; v && *v && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(v, names[i]) == 0)
			o->policy = (enum propagation)i;
	if (v && *v && o->policy == PROP_NONE) {
		api_fail(
		    c->req, API_INVALID, NULL,
		    "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
		    "value: \"%s\": supported values: \"Foreground\", \"Background\", "
		    "\"Orphan\"",
		    v);
		return false;
	}
	if (orphan == NULL || json_is_null(orphan))
		return true;
	if (!json_is_boolean(orphan)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "orphanDependents must be a boolean");
		return false;
	}
	if (o->policy != PROP_NONE) {
		api_fail(
		    c->req, API_INVALID, NULL,
		    "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: "
		    "\"%s\": orphanDependents and deletionPropagation cannot be both set",
		    v && *v ? v : "");
		return false;
	}
	o->policy = json_is_true(orphan) ? PROP_ORPHAN : PROP_BACKGROUND;
	return true;
}

static bool parse_dry_run(struct api_call *c, json_t *body_dry, struct delete_opts *o)
{
	int q = api_obj_dry_run(c);
	json_t *v;
	size_t i;

	if (q < 0)
		return false;
	o->dry = q > 0;
	if (body_dry && !json_is_null(body_dry) && !json_is_array(body_dry)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "dryRun must be a list");
		return false;
	}
	json_array_foreach(body_dry, i, v)
	{
		if (!json_is_string(v) || strcmp(json_string_value(v), "All") != 0) {
			api_fail(c->req, API_BAD_REQUEST, NULL, "dryRun may only contain \"All\"");
			return false;
		}
		o->dry = true;
	}
	return true;
}

static bool delete_options(struct api_call *c, struct delete_opts *o)
{
	size_t len;
	const char *body = api_req_body(c->req, &len);
	json_t *pre;
	const char *rv, *uid;

	memset(o, 0, sizeof *o);
	/* Not inside json_is_object(): the macro evaluates its argument twice. */
	if (len > 0)
		o->body = json_loadb(body, len, 0, NULL);
	if (len > 0 && !json_is_object(o->body)) {
		api_fail(c->req, API_BAD_REQUEST, NULL,
		         "the DeleteOptions body is not a JSON object");
		return false;
	}
	if (!parse_grace(c, json_object_get(o->body, "gracePeriodSeconds"),
	                 api_req_query(c->req, "gracePeriodSeconds"), o) ||
	    !parse_policy(c, json_object_get(o->body, "propagationPolicy"),
	                  api_req_query(c->req, "propagationPolicy"),
	                  json_object_get(o->body, "orphanDependents"), o))
		return false;
	if (!parse_dry_run(c, json_object_get(o->body, "dryRun"), o))
		return false;
	pre = json_object_get(o->body, "preconditions");
	rv = json_string_value(json_object_get(pre, "resourceVersion"));
	uid = json_string_value(json_object_get(pre, "uid"));
	if (rv && *rv && !api_parse_u64(rv, &o->pre.rv)) {
		api_fail(c->req, API_BAD_REQUEST, NULL, "invalid resourceVersion \"%s\"", rv);
		return false;
	}
	if (uid)
		snprintf(o->pre.uid, sizeof o->pre.uid, "%s", uid);
	return true;
}

/* ---- Deciding ---------------------------------------------------------------------------------
 */

enum delete_kind {
	DEL_NOW,    /* remove the object */
	DEL_MARK,   /* set deletionTimestamp (first time, or a shorter grace period) */
	DEL_UPDATE, /* already marked; only its finalizers change (propagationPolicy) */
	DEL_WAIT,   /* already marked; nothing to change */
};

static bool is_pod(const struct api_resource *res)
{
	return strcmp(res->plural, "pods") == 0 && *res->group == '\0';
}

static const char *pod_node(const json_t *pod)
{
	const char *n =
	    json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
	return n && *n ? n : NULL;
}

static bool pod_finished(const json_t *pod)
{
	const char *phase =
	    json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* The grace period a delete gives obj: the request's, a pod's own, 0 for everything else. */
static int64_t grace_of(const struct api_resource *res, const json_t *obj,
                        const struct delete_opts *o)
{
	json_t *g;

	if (!is_pod(res))
		return 0;
	if (pod_node(obj) == NULL || pod_finished(obj))
		return 0; /* nothing runs: as kube-apiserver, such a pod goes at once */
	if (o->has_grace)
		return o->grace;
	g = json_object_get(json_object_get(obj, "spec"), "terminationGracePeriodSeconds");
	return json_is_integer(g) && json_integer_value(g) >= 0 ? json_integer_value(g) : 30;
}

static enum delete_kind decide(const struct api_resource *res, const json_t *obj, int64_t grace)
{
	const json_t *meta = json_object_get(obj, "metadata");
	bool finalizers = json_array_size(json_object_get(meta, "finalizers")) > 0;
	bool marked = json_object_get(meta, "deletionTimestamp") != NULL;
	json_t *old_grace = json_object_get(meta, "deletionGracePeriodSeconds");

	if (!finalizers && grace == 0)
		return DEL_NOW;
	if (!marked)
		return DEL_MARK;
	if (json_is_integer(old_grace) && grace < json_integer_value(old_grace))
		return DEL_MARK;
	return DEL_WAIT;
}

/* ---- propagationPolicy ------------------------------------------------------------------------
 * As kube-apiserver (k8s.io/apiserver/pkg/registry/generic/registry/store.go, read for this:
 * deletionFinalizersForGarbageCollection drops "orphan" and "foregroundDeletion" and adds back
 * the one the policy asks for; shouldOrphanDependents / shouldDeleteDependents let an explicit
 * policy override the object's own finalizers, and without one keep them, every resource we serve
 * defaulting to background; updateForGracefulDeletionAndFinalizers updates finalizers unless a
 * graceful deletion is already pending, and markAsDeleting marks a non-graceful object with
 * pending finalizers with deletionGracePeriodSeconds 0). The garbage collector removes them. */

#define FIN_ORPHAN     "orphan"
#define FIN_FOREGROUND "foregroundDeletion"

/* obj's finalizers as policy wants them; true when they changed. */
static bool apply_policy(json_t *obj, enum propagation policy)
{
	json_t *meta = json_object_get(obj, "metadata"), *old = json_object_get(meta, "finalizers");
	json_t *fin = json_array(), *f;
	bool had_orphan = false, had_fg = false;
	size_t i;

	if (policy == PROP_NONE || fin == NULL || !json_is_object(meta)) {
		json_decref(fin);
		return false;
	}
	json_array_foreach(old, i, f)
	{
		const char *v = json_string_value(f);
		bool orphan = v && strcmp(v, FIN_ORPHAN) == 0,
		     fg = v && strcmp(v, FIN_FOREGROUND) == 0;
		had_orphan |= orphan;
		had_fg |= fg;
		if (!orphan && !fg)
			json_array_append(fin, f);
	}
	if (policy == PROP_ORPHAN)
		json_array_append_new(fin, json_string(FIN_ORPHAN));
	if (policy == PROP_FOREGROUND)
		json_array_append_new(fin, json_string(FIN_FOREGROUND));
	if (had_orphan == (policy == PROP_ORPHAN) && had_fg == (policy == PROP_FOREGROUND)) {
		json_decref(fin);
		return false; /* the same set: leave the order alone */
	}
	if (json_array_size(fin) > 0)
		json_object_set_new(meta, "finalizers", fin);
	else {
		json_decref(fin);
		json_object_del(meta, "finalizers");
	}
	return true;
}

/* A pod whose graceful deletion is pending and not shortened: its finalizers stay (upstream's
 * pendingGraceful, from rest.BeforeDelete). */
static bool pending_graceful(const struct api_resource *res, const json_t *obj, int64_t grace)
{
	const json_t *meta = json_object_get(obj, "metadata");
	json_t *old_grace = json_object_get(meta, "deletionGracePeriodSeconds");

	return is_pod(res) && json_object_get(meta, "deletionTimestamp") != NULL &&
	       json_is_integer(old_grace) && json_integer_value(old_grace) > 0 &&
	       grace >= json_integer_value(old_grace);
}

/* What a delete under o does to obj, whose finalizers it updates in place; *grace: the grace
 * period a mark gives. */
static enum delete_kind plan_delete(const struct api_resource *res, json_t *obj,
                                    const struct delete_opts *o, int64_t *grace)
{
	bool changed;
	enum delete_kind k;

	*grace = grace_of(res, obj, o);
	changed = !pending_graceful(res, obj, *grace) && apply_policy(obj, o->policy);
	k = decide(res, obj, *grace);
	return k == DEL_WAIT && changed ? DEL_UPDATE : k;
}

/* obj with deletionTimestamp = now + grace and deletionGracePeriodSeconds = grace. */
static void mark(json_t *obj, int64_t grace)
{
	json_t *meta = json_object_get(obj, "metadata");
	char ts[32];

	api_obj_time((int64_t)time(NULL) + grace, ts);
	json_object_set_new(meta, "deletionTimestamp", json_string(ts));
	json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
}

/* ---- Claims of pods ---------------------------------------------------------------------------
 */

/* Whether c's user is the node pod is bound to: its removal is the node's confirmation that
 * every process of the pod is gone (the agent's delete with grace period 0). A status write of
 * the node never removes a bound pod (it cannot change finalizers, and a bound pod is only
 * stored marked with grace 0 while finalizers hold it), so every removal it makes is that. */
static bool removed_by_own_node(const struct api_call *c, const json_t *pod)
{
	const char *node = pod_node(pod), *asking = authz_node_name(&c->user);

	return node != NULL && asking != NULL && strcmp(node, asking) == 0;
}

/* The claim op that goes with removing pod: released when no process can run (never bound) or
 * its node confirms that none does; "releasing" otherwise (a force delete by anyone else) until
 * the node confirms or is fenced. false when the pod holds none. */
bool api_obj_claim_op(struct api_call *c, const json_t *pod, struct store_op *op)
{
	const char *set = NULL,
	           *uid =
	               json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
	struct store_reader *rd;
	struct store_claim cl;
	uint32_t ordinal = 0;
	bool held = false;

	/* The identity by name, not by controller reference: a pod orphaned (--cascade=orphan)
	 * or released by its set still holds its claim, and only its uid says so. */
	if (!is_pod(c->rt.res) || uid == NULL ||
	    !authz_pod_claim_key(
	        json_string_value(json_object_get(json_object_get(pod, "metadata"), "name")),
	        c->claim_set, sizeof c->claim_set, &ordinal) ||
	    store_read_begin(c->s->store, &rd) != STSD_OK)
		return false;
	set = c->claim_set;
	held = store_claim_get(rd, c->rt.ns, set, ordinal, &cl) == STSD_OK && cl.pod_uid &&
	       strcmp(cl.pod_uid, uid) == 0 && cl.state == STORE_CLAIM_HELD;
	store_read_end(rd);
	if (!held)
		return false;
	*op = (struct store_op){.type = pod_node(pod) && !removed_by_own_node(c, pod)
	                                    ? STORE_OP_CLAIM_SET
	                                    : STORE_OP_CLAIM_RELEASE,
	                        .ns = c->rt.ns,
	                        .name = set,
	                        .ordinal = ordinal,
	                        .expect_pod_uid = uid,
	                        .expect_state = STORE_CLAIM_HELD};
	op->claim.state = STORE_CLAIM_RELEASING;
	return true;
}

bool api_obj_gone_claim_op(struct api_call *c, const char *name, const char *uid, char *set,
                           size_t setlen, struct store_op *op)
{
	const char *node = authz_node_name(&c->user);
	struct store_reader *rd;
	struct store_claim cl;
	uint32_t ordinal;
	bool ok;

	if (!is_pod(c->rt.res) || node == NULL || uid == NULL || *uid == '\0' ||
	    !authz_pod_claim_key(name, set, setlen, &ordinal) ||
	    store_read_begin(c->s->store, &rd) != STSD_OK)
		return false;
	/* The pod must be gone (a pod of that name that exists is confirmed by the usual path). */
	ok = store_get(rd, "pods", c->rt.ns, name, &(struct store_object){0}) == STSD_NOTFOUND &&
	     store_claim_get(rd, c->rt.ns, set, ordinal, &cl) == STSD_OK &&
	     cl.state == STORE_CLAIM_RELEASING && cl.pod_name && strcmp(cl.pod_name, name) == 0 &&
	     cl.pod_uid && strcmp(cl.pod_uid, uid) == 0 && cl.node && strcmp(cl.node, node) == 0;
	store_read_end(rd);
	if (!ok)
		return false;
	*op = (struct store_op){.type = STORE_OP_CLAIM_RELEASE,
	                        .ns = c->rt.ns,
	                        .name = set,
	                        .ordinal = ordinal,
	                        .expect_pod_uid = uid,
	                        .expect_state = STORE_CLAIM_RELEASING};
	return true;
}

/* ---- One object ------------------------------------------------------------------------------ */

static void answer_status(struct api_call *c, const json_t *old)
{
	json_t *details = api_details(c->rt.res, c->rt.name);

	json_object_set(details, "uid", json_object_get(json_object_get(old, "metadata"), "uid"));
	api_reply_json(c->req, 200,
	               json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1",
	                         "metadata", "status", "Success", "details", details));
}

static void answer_deleted(struct api_call *c, const struct cons_result *res)
{
	if (api_obj_retry(c, res))
		return;
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, c->rt.name);
	/* Pods answer with the object, as their upstream registry does (ReturnDeletedObject). */
	if (is_pod(c->rt.res))
		api_reply_json(c->req, 200, json_incref(c->obj));
	else
		answer_status(c, c->obj);
}

/* The node's confirmation of a pod already gone released its claim: a Status naming the pod,
 * as a delete of an object that is no more. A claim that changed meanwhile: the pod is not
 * found, as it would have been a moment later. */
static void answer_gone_confirmed(struct api_call *c, const struct cons_result *res)
{
	if (res->status == STSD_NOTFOUND || res->status == STSD_CONFLICT)
		return api_obj_fail_not_found(c, c->rt.name);
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, c->rt.name);
	log_info("api", "event=claim_released_by_node ns=%s pod=%s uid=%s node=%s", c->rt.ns,
	         c->rt.name,
	         json_string_value(json_object_get(json_object_get(c->obj, "metadata"), "uid")),
	         authz_node_name(&c->user));
	answer_status(c, c->obj);
}

/* A delete of a pod that does not exist: a node confirming the end of a force-deleted pod (grace
 * period 0 and the pod's uid as precondition, the agent's usual confirmation) releases the claim
 * still "releasing" for it on that node; anything else is NotFound. */
static void delete_missing(struct api_call *c, const struct delete_opts *o)
{
	char set[STORE_NAME_MAX + 1];
	struct store_op op;

	if (!o->has_grace || o->grace != 0 ||
	    !api_obj_gone_claim_op(c, c->rt.name, o->pre.uid, set, sizeof set, &op))
		FINISH(c, api_obj_fail_not_found(c, c->rt.name));
	c->obj = json_pack("{s:{s:s,s:s}}", "metadata", "name", c->rt.name, "uid", o->pre.uid);
	if (c->obj == NULL)
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "delete"));
	if (o->dry)
		FINISH(c, answer_status(c, c->obj));
	c->main_op = 0;
	api_propose(c, &op, 1, answer_gone_confirmed);
}

static bool protected_namespace(const char *name)
{
	return strcmp(name, "default") == 0 || strcmp(name, "kube-system") == 0 ||
	       strcmp(name, "kube-public") == 0;
}

static void delete_namespace(struct api_call *c, const struct delete_opts *o)
{
	struct store_op *ops;
	size_t n;

	if (protected_namespace(c->rt.name))
		FINISH(c, api_fail(c->req, API_FORBIDDEN, api_details(c->rt.res, c->rt.name),
		                   "namespaces \"%s\" is forbidden: this namespace may not be "
		                   "deleted",
		                   c->rt.name));
	if (o->dry) {
		uint64_t rv;
		json_t *ns = api_obj_stored(c, c->rt.name, &rv);
		FINISH(c, ns ? api_reply_json(c->req, 200, ns)
		             : api_obj_fail_not_found(c, c->rt.name));
	}
	if (api_namespace_delete_ops(c, &ops, &n) != STSD_OK)
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "delete"));
	ops[n - 1].expect_rv = o->pre.rv;
	ops[n - 1].expect_uid = *o->pre.uid ? o->pre.uid : NULL;
	c->main_op = (int)n - 1;
	api_propose(c, ops, n, answer_deleted);
	free(ops);
}

/* Propose obj (the stored object, marked or with new finalizers) in place of the stored one. */
static void propose_update(struct api_call *c, struct store_op *op)
{
	if ((c->json = json_dumps(c->obj, JSON_COMPACT)) == NULL)
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "delete"));
	op->type = STORE_OP_UPDATE;
	op->json = c->json;
	op->json_len = strlen(c->json);
	c->main_op = 0;
	api_propose(c, op, 1, api_obj_answer_object);
}

static void delete_stored(struct api_call *c, const struct delete_opts *o, json_t *old,
                          uint64_t old_rv)
{
	int64_t grace;
	enum delete_kind k;
	struct store_op ops[2] = {{.resource = c->rt.res->plural,
	                           .ns = api_obj_ns(c),
	                           .name = c->rt.name,
	                           .expect_rv = o->pre.rv ? o->pre.rv : old_rv,
	                           .expect_uid = *o->pre.uid ? o->pre.uid : NULL}};
	size_t n = 1;

	if ((c->obj = json_deep_copy(old)) == NULL)
		FINISH(c, api_fail_code(c->req, STSD_NOMEM, "delete"));
	k = plan_delete(c->rt.res, c->obj, o, &grace);
	if (k == DEL_MARK)
		mark(c->obj, grace);
	if (k == DEL_WAIT || (o->dry && k != DEL_NOW))
		FINISH(c, api_reply_json(c->req, 200, json_incref(k == DEL_WAIT ? old : c->obj)));
	if (o->dry) {
		json_decref(c->obj);
		c->obj = json_incref(old);
		FINISH(c, answer_deleted(c, &(struct cons_result){.status = STSD_OK}));
	}
	if (k != DEL_NOW)
		return propose_update(c, &ops[0]);
	json_decref(c->obj);
	c->obj = json_incref(old);
	ops[0].type = STORE_OP_DELETE;
	if (api_obj_claim_op(c, old, &ops[1]))
		n++;
	c->main_op = 0;
	api_propose(c, ops, n, answer_deleted);
}

void api_obj_delete(struct api_call *c)
{
	struct delete_opts o;
	uint64_t old_rv;
	json_t *old;

	if (!delete_options(c, &o)) {
		json_decref(o.body);
		FINISH(c, );
	}
	if (strcmp(c->rt.res->plural, "namespaces") == 0) {
		delete_namespace(c, &o);
	} else if ((old = api_obj_stored(c, c->rt.name, &old_rv)) == NULL) {
		delete_missing(c, &o);
	} else {
		/* Without a precondition of the client's, a write that got in first is no reason
		 * to fail: the delete runs again on the newer object. */
		if (o.pre.rv == 0 && *o.pre.uid == '\0')
			c->retry = api_obj_delete;
		delete_stored(c, &o, old, old_rv);
		json_decref(old);
	}
	json_decref(o.body);
}

/* ---- A collection ---------------------------------------------------------------------------- */

/* The matching objects of a deletecollection, and the ops removing or marking them. */
struct sweep {
	struct api_call *c;
	const struct delete_opts *o;
	struct api_selector *ls;
	struct api_field_selector *fs;
	json_t *items;   /* what the answer lists */
	json_t *encoded; /* strings the ops point into */
	struct store_op *ops;
	size_t n, cap;
	int err;
};

static struct store_op *sweep_op(struct sweep *sw)
{
	if (sw->n == sw->cap) {
		size_t cap = sw->cap ? sw->cap * 2 : 64;
		struct store_op *ops = realloc(sw->ops, cap * sizeof *ops);
		if (ops == NULL)
			return NULL;
		sw->ops = ops;
		sw->cap = cap;
	}
	memset(&sw->ops[sw->n], 0, sizeof sw->ops[0]);
	return &sw->ops[sw->n++];
}

static int sweep_item(void *ud, const struct store_object *so)
{
	struct sweep *sw = ud;
	json_t *obj = json_loadb(so->json, so->json_len, 0, NULL), *name_v;
	int64_t grace;
	enum delete_kind k;
	struct store_op *op;

	if (obj == NULL)
		return STSD_CORRUPT;
	if (!api_label_selector_matches(
	        sw->ls, json_object_get(json_object_get(obj, "metadata"), "labels")) ||
	    (sw->fs && !api_field_selector_matches(sw->fs, obj))) {
		json_decref(obj);
		return STORE_SKIP;
	}
	k = plan_delete(sw->c->rt.res, obj, sw->o, &grace);
	name_v = json_string(so->name);
	json_array_append_new(sw->encoded, name_v);
	if (k != DEL_WAIT && (op = sweep_op(sw)) != NULL) {
		op->resource = sw->c->rt.res->plural;
		op->ns = so->ns;
		op->name = json_string_value(name_v);
		op->expect_rv = so->resource_version;
		op->type = k == DEL_NOW ? STORE_OP_DELETE : STORE_OP_UPDATE;
		if (k != DEL_NOW) {
			char *json;
			if (k == DEL_MARK)
				mark(obj, grace);
			json = json_dumps(obj, JSON_COMPACT);
			json_array_append_new(sw->encoded, json_string(json ? json : "{}"));
			free(json);
			op->json = json_string_value(
			    json_array_get(sw->encoded, json_array_size(sw->encoded) - 1));
			op->json_len = strlen(op->json);
		}
		/* ns strings live in the reader: keep a copy. */
		json_array_append_new(sw->encoded, json_string(so->ns));
		op->ns = json_string_value(
		    json_array_get(sw->encoded, json_array_size(sw->encoded) - 1));
	} else if (k != DEL_WAIT) {
		sw->err = STSD_NOMEM;
	}
	/* A pod removed here releases its claim as a single delete does (its strings live in
	 * obj, which the answer keeps). */
	if (k == DEL_NOW && sw->err == STSD_OK) {
		struct store_op claim, *cop;
		if (api_obj_claim_op(sw->c, obj, &claim)) {
			/* The set name is in the call's buffer, which the next pod reuses: keep a
			 * copy. */
			json_array_append_new(sw->encoded, json_string(claim.name));
			claim.name = json_string_value(
			    json_array_get(sw->encoded, json_array_size(sw->encoded) - 1));
			if ((cop = sweep_op(sw)) != NULL)
				*cop = claim;
			else
				sw->err = STSD_NOMEM;
		}
	}
	json_array_append_new(sw->items, obj);
	return sw->err;
}

static void answer_collection(struct api_call *c, const struct cons_result *res)
{
	if (res->status != STSD_OK)
		return api_obj_fail_result(c, res, "");
	api_reply_json(c->req, 200, json_incref(c->obj));
}

void api_obj_delete_collection(struct api_call *c)
{
	struct delete_opts o;
	struct sweep sw = {.c = c, .o = &o};
	struct store_list_request lr = {.resource = c->rt.res->plural,
	                                .ns = *c->rt.ns ? c->rt.ns : NULL};
	struct store_list_page page;
	struct store_reader *rd;
	char gv[96], kind[96];
	bool dry;
	int rv;

	if (!delete_options(c, &o) || !api_obj_selectors(c, &sw.ls, &sw.fs)) {
		json_decref(o.body);
		FINISH(c, );
	}
	dry = o.dry;
	sw.items = json_array();
	sw.encoded = json_array();
	if ((rv = store_read_begin(c->s->store, &rd)) == STSD_OK) {
		rv = store_list(rd, &lr, sweep_item, &sw, &page);
		store_read_end(rd);
	}
	api_resource_gv(c->rt.res, gv, sizeof gv);
	snprintf(kind, sizeof kind, "%sList", c->rt.res->kind);
	c->obj = json_pack("{s:s,s:s,s:{},s:o}", "kind", kind, "apiVersion", gv, "metadata",
	                   "items", sw.items);
	if (rv != STSD_OK)
		api_fail_code(c->req, rv, "deletecollection");
	else if (sw.n == 0 || dry)
		api_reply_json(c->req, 200, json_incref(c->obj));
	if (rv == STSD_OK && sw.n > 0 && !dry) {
		api_propose(c, sw.ops, sw.n, answer_collection);
	} else {
		api_call_free(c);
	}
	free(sw.ops);
	json_decref(sw.encoded);
	json_decref(o.body);
	api_label_selector_free(sw.ls);
	api_field_selector_free(sw.fs);
}
