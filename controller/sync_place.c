/* sync_place.c — placing a StatefulSet's pods: the scheduler's choice (exec_sched.c) for every
 * pod the plan creates and every pod of the set still unbound, and the volume binder's PVs for
 * their claims (volume.h), in the same command as the pod, so that a local volume is made on the
 * node its first pod runs on (WaitForFirstConsumer). A pod that fits nowhere is created (or
 * stays) unbound with PodScheduled False and a FailedScheduling event, and the set is synced again
 * after PLACE_RETRY_S, as kube-scheduler retries unschedulable pods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hooks.h"
#include "log.h"
#include "sync_internal.h"
#include "util.h"
#include "volume.h"

#define PLACE_RETRY_S 5

struct place {
	const struct ctl_shared *sh;
	struct snap *sn;
	struct ctl_plan *plan;
	struct store_reader *rd;
	json_t *classes; /* StorageClasses, read when first needed */
	int64_t now;
};

static const json_t *classes(struct place *p)
{
	if (p->classes == NULL && (p->classes = json_array()) != NULL)
		snap_list_prefix(p->rd, "storageclasses", "", NULL, p->classes);
	return p->classes;
}

static const json_t *class_of(struct place *p, const json_t *pvc)
{
	const json_t *all = classes(p);
	size_t n = json_array_size(all);
	const json_t **v = calloc(n + 1, sizeof *v);
	const json_t *c;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	c = ctl_volume_class(pvc, v, n);
	free(v);
	return c;
}

/* The plan's action writing the PVC named name (its CREATE, or an UPDATE of its owners), or
 * -1. */
static long planned_pvc(const struct ctl_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->n; i++)
		if ((plan->a[i].kind == CTL_CREATE || plan->a[i].kind == CTL_UPDATE) &&
		    plan->a[i].obj && strcmp(plan->a[i].resource, "persistentvolumeclaims") == 0 &&
		    strcmp(plan->a[i].name, name) == 0)
			return (long)i;
	return -1;
}

static const json_t *stored_pvc(const struct snap *sn, const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(sn->pvcs, i, c)
	{
		const char *n = ctl_str(c, "metadata.name");
		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

/* The node a bound claim's local volume pins pod to, into node (else ""). */
static void pinned_node(struct place *p, const json_t *pod, char *node, size_t len)
{
	const json_t *v;
	size_t i;

	*node = '\0';
	json_array_foreach(ctl_obj(pod, "spec.volumes"), i, v)
	{
		const char *claim = ctl_str(v, "persistentVolumeClaim.claimName");
		const json_t *pvc = claim ? stored_pvc(p->sn, claim) : NULL;
		const char *vol = pvc ? ctl_str(pvc, "spec.volumeName") : NULL;
		json_t *pv = vol ? snap_get(p->rd, "persistentvolumes", "", vol) : NULL;
		const char *pin = pv ? ctl_volume_pinned_node(pv) : NULL;
		if (pin && !*node)
			snprintf(node, len, "%s", pin);
		json_decref(pv);
	}
}

/* The PVC a volume of pod names, as this sync will write it: the plan's object, else the
 * stored one; NULL when there is none (the pod cannot start). *idx: its plan action, or -1. */
static const json_t *claim_of_volume(struct place *p, const char *claim, long *idx)
{
	*idx = planned_pvc(p->plan, claim);
	return *idx >= 0 ? p->plan->a[*idx].obj : stored_pvc(p->sn, claim);
}

/* Whether every PVC of pod is bound or can be: kube-scheduler's VolumeBinding filter, for stsd's
 * provisioners. A pod placed with a claim nothing can bind would wait on its node for ever. */
static bool volumes_bindable(struct place *p, const json_t *pod, char *why, size_t len)
{
	const json_t *v;
	size_t i;

	json_array_foreach(ctl_obj(pod, "spec.volumes"), i, v)
	{
		const char *claim = ctl_str(v, "persistentVolumeClaim.claimName");
		const json_t *pvc, *cls;
		const char *prov;
		long idx;
		if (claim == NULL)
			continue;
		if ((pvc = claim_of_volume(p, claim, &idx)) == NULL) {
			snprintf(why, len, "persistentvolumeclaim \"%s\" not found", claim);
			return false;
		}
		if (ctl_str(pvc, "spec.volumeName"))
			continue;
		cls = class_of(p, pvc);
		prov = cls ? ctl_str(cls, "provisioner") : NULL;
		if (prov == NULL || (strcmp(prov, CTL_PROVISIONER_LOCAL) != 0 &&
		                     strcmp(prov, CTL_PROVISIONER_SHARED) != 0)) {
			snprintf(
			    why, len,
			    "0/1 nodes are available: pod has unbound PersistentVolumeClaim \"%s\" "
			    "that no StorageClass of stsd provisions.",
			    claim);
			return false;
		}
	}
	return true;
}

/* Move every PV the plan creates right after the action writing its claim, so that a claim and
 * its volume are never cut into two commands (only pod groups start new ones). */
static int keep_volumes_with_claims(struct ctl_plan *plan)
{
	struct ctl_action *out, *src = plan->a;
	bool *moved;
	size_t k = 0;

	if (plan->n == 0)
		return STSD_OK;
	out = calloc(plan->n + 1, sizeof *out);
	moved = calloc(plan->n + 1, sizeof *moved);
	if (out == NULL || moved == NULL) {
		free(out);
		free(moved);
		return STSD_NOMEM;
	}
	for (size_t i = 0; i < plan->n; i++) {
		const struct ctl_action *a = &plan->a[i];
		if (a->kind == CTL_CREATE && strcmp(a->resource, "persistentvolumes") == 0 &&
		    planned_pvc(plan, ctl_str(a->obj, "spec.claimRef.name")
		                          ? ctl_str(a->obj, "spec.claimRef.name")
		                          : "") >= 0)
			continue; /* placed with its claim below */
		out[k++] = *a;
		if (strcmp(a->resource, "persistentvolumeclaims") != 0 || a->obj == NULL)
			continue;
		for (size_t j = 0; j < plan->n; j++) {
			const struct ctl_action *v = &plan->a[j];
			const char *ref = ctl_str(v->obj, "spec.claimRef.name");
			if (!moved[j] && v->kind == CTL_CREATE &&
			    strcmp(v->resource, "persistentvolumes") == 0 && ref &&
			    strcmp(ref, a->name) == 0) {
				out[k++] = *v;
				moved[j] = true;
			}
		}
	}
	memcpy(src, out, k * sizeof *out);
	plan->n = k;
	free(out);
	free(moved);
	return STSD_OK;
}

/* Bind the unbound claims of pod, now placed on node (volumes_bindable said they can be). */
static void bind_volumes(struct place *p, const json_t *pod, const char *node)
{
	const json_t *v;
	size_t i;

	json_array_foreach(ctl_obj(pod, "spec.volumes"), i, v)
	{
		const char *claim = ctl_str(v, "persistentVolumeClaim.claimName");
		long idx;
		const json_t *pvc = claim ? claim_of_volume(p, claim, &idx) : NULL, *cls;
		json_t *planned, *pv;
		char uid[37];
		int err = 0;
		if (pvc == NULL || ctl_str(pvc, "spec.volumeName") ||
		    (cls = class_of(p, pvc)) == NULL)
			continue;
		if (idx <
		    0) { /* stored, and not written by the plan: bind it with its own update */
			ctl_volume_bind(pvc, cls, node, p->now, p->plan);
			continue;
		}
		planned = p->plan->a[idx].obj;
		if (!ctl_str(planned, "metadata.uid")) {
			cmd_uuid(uid);
			json_object_set_new(json_object_get(planned, "metadata"), "uid",
			                    json_string(uid));
		}
		if ((pv = ctl_volume_new_pv(planned, cls, node, p->now, &err)) == NULL) {
			log_warn("controller", "event=volume_failed pvc=%s code=%s", claim,
			         stsd_errname(err));
			continue;
		}
		if (ctl_volume_mark_bound(planned, pv, cls, node) == STSD_OK)
			ctl_plan_add(p->plan, CTL_CREATE, "persistentvolumes", "",
			             ctl_str(pv, "metadata.name"), json_incref(pv));
		json_decref(pv);
	}
}

/* status.conditions' PodScheduled of pod set to False with why; false when it already says so. */
static bool mark_unschedulable(json_t *pod, const char *why, int64_t now)
{
	json_t *status = json_object_get(pod, "status"), *conds, *c;
	char ts[32];
	size_t i;

	if (status == NULL)
		json_object_set_new(pod, "status", status = json_object());
	if ((conds = json_object_get(status, "conditions")) == NULL)
		json_object_set_new(status, "conditions", conds = json_array());
	json_array_foreach(conds, i, c)
	{
		const char *t = ctl_str(c, "type"), *m = ctl_str(c, "message");
		if (t && strcmp(t, "PodScheduled") == 0) {
			if (m && strcmp(m, why) == 0)
				return false;
			json_array_remove(conds, i);
			break;
		}
	}
	util_format_rfc3339(now, ts, sizeof ts);
	json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "PodScheduled",
	                                       "status", "False", "reason", "Unschedulable",
	                                       "message", why, "lastTransitionTime", ts));
	return true;
}

/* Choose a node for pod; on success write it into pod and bind its volumes. */
static int place_pod(struct place *p, json_t *pod, bool planned)
{
	char pin[254], node[254], why[512];
	const char *name = ctl_str(pod, "metadata.name");
	int rv;

	pinned_node(p, pod, pin, sizeof pin);
	rv = volumes_bindable(p, pod, why, sizeof why)
	         ? sched_cache_pick(p->sh->sched, p->sh->store, pod, *pin ? pin : NULL, node,
	                            sizeof node, why, sizeof why)
	         : STSD_NOTFOUND;
	if (rv == STSD_OK) {
		json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
		bind_volumes(p, pod, node);
		return STSD_OK;
	}
	if (rv != STSD_NOTFOUND && rv != STSD_INVALID)
		return rv;
	ctl_plan_requeue(p->plan, PLACE_RETRY_S);
	if (mark_unschedulable(pod, why, p->now)) {
		struct ctl_action *a = planned ? NULL
		                               : ctl_plan_add(p->plan, CTL_UPDATE_STATUS, "pods",
		                                              p->sn->ns, name, json_incref(pod));
		if (a)
			a->expect_rv = ctl_rv(pod);
		ctl_plan_event(p->plan, "pods", p->sn->ns, name, "Warning", "FailedScheduling",
		               "%s", why);
	}
	return STSD_OK;
}

int sync_place(const struct ctl_shared *sh, struct snap *sn, struct ctl_plan *plan, int64_t now)
{
	struct place p = {.sh = sh, .sn = sn, .plan = plan, .now = now};
	size_t n = plan->n;
	const json_t *pod;
	size_t i;
	int rv = STSD_OK;

	if (plan->oom)
		return STSD_NOMEM;
	if ((rv = store_read_begin(sh->store, &p.rd)) != STSD_OK)
		return rv;
	for (size_t k = 0; k < n && rv == STSD_OK; k++) {
		json_t *obj = plan->a[k].obj;
		if (plan->a[k].kind != CTL_CREATE || strcmp(plan->a[k].resource, "pods") != 0 ||
		    obj == NULL)
			continue;
		api_pod_defaults(obj);
		if (!ctl_str(obj, "spec.nodeName"))
			rv = place_pod(&p, obj, true);
	}
	json_array_foreach(sn->pods, i, pod)
	{
		const char *name = ctl_str(pod, "metadata.name");
		json_t *copy;
		if (rv != STSD_OK || ctl_str(pod, "spec.nodeName") ||
		    ctl_str(pod, "metadata.deletionTimestamp") || name == NULL ||
		    ctl_plan_touches(plan, "pods", sn->ns, name))
			continue;
		if ((copy = json_deep_copy(pod)) == NULL)
			return STSD_NOMEM;
		rv = place_pod(&p, copy, false);
		if (rv == STSD_OK && ctl_str(copy, "spec.nodeName"))
			json_array_append(sn->binds, copy);
		json_decref(copy);
	}
	store_read_end(p.rd);
	json_decref(p.classes);
	if (rv == STSD_OK && !plan->oom)
		rv = keep_volumes_with_claims(plan);
	return rv != STSD_OK ? rv : plan->oom ? STSD_NOMEM : STSD_OK;
}

/* ---- Commands ------------------------------------------------------------------------------- */

static const json_t *find_named(const json_t *arr, const char *name)
{
	const json_t *o;
	size_t i;

	json_array_foreach(arr, i, o)
	{
		const char *n = ctl_str(o, "metadata.name");
		if (n && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

static const json_t *lookup(void *ud, const char *resource, const char *name)
{
	struct snap *sn = ud;

	if (strcmp(resource, "pods") == 0)
		return find_named(sn->candidates, name);
	if (strcmp(resource, "statefulsets") == 0)
		return sn->set;
	if (strcmp(resource, "persistentvolumeclaims") == 0)
		return find_named(sn->pvcs, name);
	return NULL;
}

static int claim_of(void *ud, const char *set, uint32_t ordinal, const char **uid)
{
	struct snap *sn = ud;
	const json_t *c;
	size_t i;

	if (strcmp(set, sn->name) != 0)
		return 0;
	json_array_foreach(sn->claims, i, c) if (ctl_int(c, "ordinal", -1) == (int64_t)ordinal)
	{
		*uid = ctl_str(c, "uid");
		return json_is_true(json_object_get(c, "releasing")) ? 2 : 1;
	}
	return 0;
}

/* A pod of the set bound by this sync: the pod with its node, and its claim names the node. */
static int bind_ops(struct ctl_cmds *cs, const struct snap *sn, const json_t *pod)
{
	const char *uid = ctl_str(pod, "metadata.uid"), *node = ctl_str(pod, "spec.nodeName");
	const char *holder = NULL;
	struct store_op *op;
	char set[254];
	uint32_t ordinal;
	size_t len;

	cmd_reserve(cs, 2, 4096);
	if ((op = cmd_op(cs)) == NULL)
		return STSD_NOMEM;
	op->type = STORE_OP_UPDATE;
	op->resource = "pods";
	op->ns = cmd_str(cs, sn->ns);
	op->name = cmd_str(cs, ctl_str(pod, "metadata.name"));
	op->json = cmd_json(cs, pod, &len);
	op->json_len = len;
	op->expect_rv = ctl_rv(pod);
	if (uid == NULL || !ctl_pod_claim_key(op->name, set, sizeof set, &ordinal) ||
	    strcmp(set, sn->name) != 0 || claim_of((void *)sn, set, ordinal, &holder) != 1 ||
	    holder == NULL || strcmp(holder, uid) != 0)
		return cs->oom ? STSD_NOMEM : STSD_OK;
	if ((op = cmd_op(cs)) == NULL)
		return STSD_NOMEM;
	op->type = STORE_OP_CLAIM_SET;
	op->ns = cmd_str(cs, sn->ns);
	op->name = cmd_str(cs, sn->name);
	op->ordinal = ordinal;
	op->claim.node = cmd_str(cs, node);
	op->expect_pod_uid = cmd_str(cs, uid);
	op->expect_state = STORE_CLAIM_HELD;
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

int sync_commands(struct snap *sn, struct ctl_plan *plan, struct work *w, int64_t now)
{
	struct cmd_env env = {.now = now,
	                      .component = "statefulset-controller",
	                      .lookup = lookup,
	                      .claim_of = claim_of,
	                      .ud = sn};
	const json_t *pod;
	size_t i;
	int rv = cmd_from_plan(&w->cmds, plan, &env);

	json_array_foreach(sn->binds, i, pod) if (rv == STSD_OK) rv = bind_ops(&w->cmds, sn, pod);
	return rv;
}
