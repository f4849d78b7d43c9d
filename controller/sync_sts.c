/* sync_sts.c — one sync of one StatefulSet on the thread pool: read its snapshot from one store
 * view, adopt and release pods as upstream's ClaimPods does, plan revisions and the set
 * (revision.h, sts.h), place new pods (sync_place.c) and turn the plan into commands.
 *
 * The snapshot is found by name, not by scanning: the set's pods and revisions are named
 * <set>-..., its PVCs <template>-<set>-<ordinal>, so one prefix list or get each finds them
 * whatever the namespace holds. A pod named like the set's but controlled by another set (a set
 * "web-x" next to "web") is filtered out by its owner's uid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "exec_internal.h"
#include "log.h"
#include "selector.h"
#include "sts.h"
#include "sync_internal.h"
#include "util.h"

static int add_obj(json_t *arr, const struct store_object *o)
{
	json_t *v = ctl_parse(o);
	return v ? json_array_append_new(arr, v) : STSD_OK;
}

struct prefix_scan {
	json_t *arr;
};

static int prefix_item(void *ud, const struct store_object *o)
{
	return add_obj(((struct prefix_scan *)ud)->arr, o) ? STSD_NOMEM : STSD_OK;
}

int snap_list_prefix(struct store_reader *rd, const char *resource, const char *ns,
                     const char *prefix, json_t *into)
{
	struct prefix_scan p = {into};
	struct store_list_request req = {.resource = resource, .ns = ns, .name_prefix = prefix};
	struct store_list_page page;

	return store_list(rd, &req, prefix_item, &p, &page);
}

json_t *snap_get(struct store_reader *rd, const char *resource, const char *ns, const char *name)
{
	struct store_object o;

	return store_get(rd, resource, ns, name, &o) == STSD_OK ? ctl_parse(&o) : NULL;
}

static bool controlled_by(const json_t *obj, const char *uid)
{
	const json_t *ref = ctl_controller_ref(obj);
	const char *u = ref ? ctl_str(ref, "uid") : NULL;
	return u && strcmp(u, uid) == 0;
}

/* ClaimPods: adopt an orphan whose name and labels make it the set's; release a pod the set
 * controls whose labels no longer match. Adopted pods join the next sync. */
/* Whether pod is named <set>-<ordinal> for sn's set (the ordinal then in *ord). */
static bool is_ours(const struct snap *sn, const char *pod, int64_t *ord)
{
	char set[254];
	uint32_t o;

	if (!ctl_pod_claim_key(pod, set, sizeof set, &o) || strcmp(set, sn->name) != 0)
		return false;
	*ord = o;
	return true;
}

/* The holder of ordinal's claim in the snapshot: 0 none, 1 held or releasing (*uid its pod). */
static int claim_holder(const struct snap *sn, int64_t ordinal, const char **uid)
{
	const json_t *c;
	size_t i;

	json_array_foreach(sn->claims, i, c) if (ctl_int(c, "ordinal", -1) == ordinal)
	{
		*uid = ctl_str(c, "uid");
		return 1;
	}
	return 0;
}

/* Adopt an orphan pod: with the claim it already holds, or taking a free one; never while another
 * pod holds the identity (its copy may run). */
static bool adopt_pod(struct snap *sn, const json_t *pod, int64_t ord, struct ctl_plan *plan)
{
	const char *holder = NULL, *uid = ctl_str(pod, "metadata.uid");
	uint32_t o = (uint32_t)ord;

	if (uid == NULL)
		return false;
	if (claim_holder(sn, ord, &holder) == 0) {
		sync_adopt(plan, sn, "pods", pod, &o);
		return true;
	}
	if (holder && strcmp(holder, uid) == 0) {
		sync_adopt(plan, sn, "pods", pod, NULL);
		return true;
	}
	log_warn("controller", "event=adoption_refused ns=%s set=%s pod=%s reason=claim_held",
	         sn->ns, sn->name, ctl_str(pod, "metadata.name"));
	return false;
}

/* Returns how many pods it adopted or released (the plan then holds those writes only). */
static size_t claim_pods(struct snap *sn, json_t *candidates, struct ctl_plan *plan)
{
	size_t changed = 0;
	const char *uid = ctl_str(sn->set, "metadata.uid");
	struct api_selector *sel = NULL;
	char err[128];
	json_t *pod;
	size_t i;

	if (api_label_selector_from_json(ctl_obj(sn->set, "spec.selector"), &sel, err,
	                                 sizeof err) != STSD_OK)
		sel = NULL;
	json_array_foreach(candidates, i, pod)
	{
		const json_t *labels = ctl_obj(pod, "metadata.labels");
		bool matches = sel && api_label_selector_matches(sel, labels);
		int64_t ord;
		if (controlled_by(pod, uid)) {
			if (matches || sel == NULL) {
				json_array_append(sn->pods, pod);
			} else {
				sync_release_pod(plan, sn, pod);
				changed++;
			}
		} else if (ctl_controller_ref(pod) == NULL && matches && !sn->terminating &&
		           is_ours(sn, ctl_str(pod, "metadata.name"), &ord) &&
		           !ctl_str(pod, "metadata.deletionTimestamp")) {
			changed += adopt_pod(sn, pod, ord, plan);
		}
	}
	api_label_selector_free(sel);
	return changed;
}

static void revisions_of(struct snap *sn, json_t *candidates)
{
	const char *uid = ctl_str(sn->set, "metadata.uid");
	json_t *r;
	size_t i;

	json_array_foreach(candidates, i, r)
	{
		if (controlled_by(r, uid))
			json_array_append(sn->revs, r);
		else if (ctl_controller_ref(r) == NULL)
			json_array_append(sn->orphan_revs, r);
	}
}

/* adoptOrphanRevisions (upstream StatefulSetController.sync): revisions without a controller
 * whose labels match the selector — a set deleted with --cascade=orphan and made again — are
 * taken before anything is planned; otherwise the planner would create a revision of the same
 * name and the whole command would fail. Returns how many were adopted. */
static size_t adopt_revisions(struct snap *sn, struct ctl_plan *plan)
{
	struct api_selector *sel = NULL;
	char err[128];
	json_t *r;
	size_t i, n = 0;

	if (sn->terminating || json_array_size(sn->orphan_revs) == 0 ||
	    api_label_selector_from_json(ctl_obj(sn->set, "spec.selector"), &sel, err,
	                                 sizeof err) != STSD_OK)
		return 0;
	json_array_foreach(sn->orphan_revs, i, r)
	{
		if (api_label_selector_empty(sel) ||
		    !api_label_selector_matches(sel, ctl_obj(r, "metadata.labels")))
			continue;
		sync_adopt(plan, sn, "controllerrevisions", r, NULL);
		n++;
	}
	api_label_selector_free(sel);
	return n;
}

static int claim_item(void *ud, const struct store_claim_entry *c)
{
	struct snap *sn = ud;
	json_t *v = json_pack("{s:i,s:s?,s:s?,s:b}", "ordinal", (json_int_t)c->ordinal, "uid",
	                      c->claim.pod_uid, "node", c->claim.node, "releasing",
	                      c->claim.state == STORE_CLAIM_RELEASING);

	return v && json_array_append_new(sn->claims, v) == 0 ? STSD_OK : STSD_NOMEM;
}

int snap_read_claims(struct store_reader *rd, struct snap *sn)
{
	return store_claims_list(rd, sn->ns, sn->name, claim_item, sn);
}

/* The PVCs the planner may look at: every template's claims, by name prefix. */
static int pvcs_of(struct store_reader *rd, struct snap *sn)
{
	const json_t *t;
	size_t i;

	json_array_foreach(ctl_obj(sn->set, "spec.volumeClaimTemplates"), i, t)
	{
		const char *tn = ctl_str(t, "metadata.name");
		char prefix[520];
		if (tn == NULL)
			continue;
		/* One prefix list per template finds the claims of every ordinal at once. */
		snprintf(prefix, sizeof prefix, "%s-%s-", tn, sn->name);
		if (snap_list_prefix(rd, "persistentvolumeclaims", sn->ns, prefix, sn->pvcs) !=
		    STSD_OK)
			return STSD_IO;
	}
	return STSD_OK;
}

static int read_snapshot(const struct ctl_shared *sh, struct snap *sn)
{
	struct store_reader *rd;
	json_t *candidates = json_array(), *revs = json_array();
	char prefix[300];
	int rv = STSD_NOMEM;

	if (candidates == NULL || revs == NULL ||
	    (rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		goto out;
	if ((sn->set = snap_get(rd, "statefulsets", sn->ns, sn->name)) == NULL) {
		rv = STSD_NOTFOUND;
		goto end;
	}
	sn->terminating = ctl_str(sn->set, "metadata.deletionTimestamp") != NULL;
	snprintf(prefix, sizeof prefix, "%s-", sn->name);
	if ((rv = snap_list_prefix(rd, "pods", sn->ns, prefix, candidates)) != STSD_OK ||
	    (rv = snap_list_prefix(rd, "controllerrevisions", sn->ns, prefix, revs)) != STSD_OK ||
	    (rv = snap_read_claims(rd, sn)) != STSD_OK || (rv = pvcs_of(rd, sn)) != STSD_OK)
		goto end;
	sn->candidates = json_incref(candidates);
	revisions_of(sn, revs);
end:
	store_read_end(rd);
out:
	json_decref(candidates);
	json_decref(revs);
	return rv;
}

int snap_init(struct snap *sn, const char *ns, const char *name)
{
	memset(sn, 0, sizeof *sn);
	snprintf(sn->ns, sizeof sn->ns, "%s", ns);
	snprintf(sn->name, sizeof sn->name, "%s", name);
	sn->pods = json_array();
	sn->revs = json_array();
	sn->pvcs = json_array();
	sn->claims = json_array();
	sn->binds = json_array();
	sn->orphan_revs = json_array();
	return sn->pods && sn->revs && sn->pvcs && sn->claims && sn->binds && sn->orphan_revs
	           ? STSD_OK
	           : STSD_NOMEM;
}

void snap_free(struct snap *sn)
{
	json_decref(sn->set);
	json_decref(sn->pods);
	json_decref(sn->revs);
	json_decref(sn->pvcs);
	json_decref(sn->claims);
	json_decref(sn->candidates);
	json_decref(sn->binds);
	json_decref(sn->orphan_revs);
	free(sn->claim_v);
	memset(sn, 0, sizeof *sn);
}

/* ---- Plan ------------------------------------------------------------------------------------ */

static const json_t **ptrs(const json_t *arr)
{
	size_t n = json_array_size(arr);
	const json_t **p = calloc(n + 1, sizeof *p);

	for (size_t i = 0; p && i < n; i++)
		p[i] = json_array_get(arr, i);
	return p;
}

static int claims_vector(struct snap *sn)
{
	size_t n = json_array_size(sn->claims);
	const json_t *c;
	size_t i;

	if ((sn->claim_v = calloc(n + 1, sizeof *sn->claim_v)) == NULL)
		return STSD_NOMEM;
	json_array_foreach(sn->claims, i, c)
	{
		sn->claim_v[i].ordinal = (uint32_t)ctl_int(c, "ordinal", 0);
		sn->claim_v[i].pod_uid = ctl_str(c, "uid");
		sn->claim_v[i].state = json_is_true(json_object_get(c, "releasing"))
		                           ? CTL_CLAIM_RELEASING
		                           : CTL_CLAIM_HELD;
	}
	sn->n_claim_v = n;
	return STSD_OK;
}

static int plan_set(const struct ctl_shared *sh, struct snap *sn, struct ctl_plan *plan,
                    int64_t now)
{
	const json_t **pods = ptrs(sn->pods), **revs = ptrs(sn->revs), **pvcs = ptrs(sn->pvcs);
	struct ctl_revisions rev = {0};
	int rv = STSD_NOMEM;

	(void)sh;
	if (pods == NULL || revs == NULL || pvcs == NULL || claims_vector(sn) != STSD_OK)
		goto out;
	rv = ctl_revisions_plan(sn->set, revs, json_array_size(sn->revs), pods,
	                        json_array_size(sn->pods), plan, &rev);
	if (rv == STSD_OK) {
		struct ctl_sts_input in = {.set = sn->set,
		                           .pods = pods,
		                           .n_pods = json_array_size(sn->pods),
		                           .pvcs = pvcs,
		                           .n_pvcs = json_array_size(sn->pvcs),
		                           .claims = sn->claim_v,
		                           .n_claims = sn->n_claim_v,
		                           .rev = &rev,
		                           .now = now};
		rv = ctl_sts_plan(&in, plan);
	}
	ctl_revisions_free(&rev);
out:
	free(pods);
	free(revs);
	free(pvcs);
	return rv;
}

void sync_sts(const struct ctl_shared *sh, struct work *w, const char *ns, const char *name)
{
	struct ctl_plan plan = {0};
	struct snap sn;
	int64_t now = util_now_unix();

	if ((w->rv = snap_init(&sn, ns, name)) != STSD_OK)
		goto out;
	if ((w->rv = read_snapshot(sh, &sn)) != STSD_OK) {
		if (w->rv == STSD_NOTFOUND)
			w->rv = STSD_OK; /* gone: its dependents are the collector's */
		goto out;
	}
	/* Pods or revisions adopted or released: the writes wake the set again, and it is planned
	 * then, with them (planned now, it could create a pod of an adopted name). */
	if (claim_pods(&sn, sn.candidates, &plan) + adopt_revisions(&sn, &plan) > 0)
		w->rv = STSD_OK;
	else if (sn.terminating)
		w->rv = sync_gc_owner(sh, &sn, &plan);
	else
		w->rv = plan_set(sh, &sn, &plan, now);
	if (w->rv == STSD_OK)
		w->rv = sync_place(sh, &sn, &plan, now);
	if (w->rv == STSD_OK)
		w->rv = sync_commands(&sn, &plan, w, now);
	w->requeue_ms = plan.requeue_after_s * 1000;
	if (w->rv != STSD_OK)
		log_warn("controller", "event=sync_failed kind=statefulset ns=%s name=%s code=%s",
		         ns, name, stsd_strerror(w->rv));
out:
	ctl_plan_free(&plan);
	snap_free(&sn);
}
