/* sync_gc.c — ownership: ClaimPods' adoption and release, collection of dependents whose owner is
 * gone or being deleted (gc.h), PVs whose claim is gone (volume.h), and the resync that gives
 * every StatefulSet, Node and PV a key when a leadership starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "gc.h"
#include "log.h"
#include "sts.h"
#include "sync_internal.h"
#include "util.h"
#include "volume.h"

/* ---- ClaimPods ------------------------------------------------------------------------------ */

void sync_adopt(struct ctl_plan *plan, const struct snap *sn, const char *resource,
                const json_t *obj, const uint32_t *claim_ordinal)
{
	json_t *copy = json_deep_copy(obj), *meta = json_object_get(copy, "metadata"), *refs;
	const char *name = ctl_str(obj, "metadata.name");
	struct ctl_action *a;

	if (copy == NULL || name == NULL || ctl_plan_touches(plan, resource, sn->ns, name)) {
		json_decref(copy);
		return;
	}
	if ((refs = json_object_get(meta, "ownerReferences")) == NULL)
		json_object_set_new(meta, "ownerReferences", refs = json_array());
	json_array_append_new(refs, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "apps/v1",
	                                      "kind", "StatefulSet", "name", sn->name, "uid",
	                                      ctl_str(sn->set, "metadata.uid"), "controller", 1,
	                                      "blockOwnerDeletion", 1));
	if ((a = ctl_plan_add(plan, CTL_UPDATE, resource, sn->ns, name, copy)) == NULL)
		return;
	a->expect_rv = ctl_rv(obj);
	if (claim_ordinal) { /* the adopted pod takes its identity's claim in the same command */
		a->claim = true;
		snprintf(a->claim_set, sizeof a->claim_set, "%s", sn->name);
		a->claim_ordinal = *claim_ordinal;
	}
	log_info("controller", "event=adopted resource=%s ns=%s set=%s name=%s", resource, sn->ns,
	         sn->name, name);
}

/* obj without its ownerReferences entry naming uid (new reference). */
static json_t *without_ref(const json_t *obj, const char *uid)
{
	json_t *copy = json_deep_copy(obj), *meta = json_object_get(copy, "metadata");
	json_t *refs = json_object_get(meta, "ownerReferences"), *r;
	size_t i;

	json_array_foreach(refs, i, r)
	{
		const char *u = ctl_str(r, "uid");
		if (u && strcmp(u, uid) == 0) {
			json_array_remove(refs, i);
			break;
		}
	}
	if (refs && json_array_size(refs) == 0)
		json_object_del(meta, "ownerReferences");
	return copy;
}

void sync_release_pod(struct ctl_plan *plan, const struct snap *sn, const json_t *pod)
{
	const char *name = ctl_str(pod, "metadata.name");
	json_t *copy;
	struct ctl_action *a;

	if (name == NULL || ctl_plan_touches(plan, "pods", sn->ns, name) ||
	    (copy = without_ref(pod, ctl_str(sn->set, "metadata.uid"))) == NULL)
		return;
	if ((a = ctl_plan_add(plan, CTL_UPDATE, "pods", sn->ns, name, copy)) != NULL)
		a->expect_rv = ctl_rv(pod);
	log_info("controller", "event=pod_released ns=%s set=%s pod=%s", sn->ns, sn->name, name);
}

/* ---- Collection ----------------------------------------------------------------------------- */

static bool names_uid(const json_t *obj, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(ctl_obj(obj, "metadata.ownerReferences"), i, r)
	{
		const char *u = ctl_str(r, "uid");
		if (u && strcmp(u, uid) == 0)
			return true;
	}
	return false;
}

static int add_deps(struct ctl_gc_dependent **deps, size_t *n, const json_t *arr,
                    const char *resource, const char *uid)
{
	const json_t *o;
	size_t i;

	json_array_foreach(arr, i, o)
	{
		struct ctl_gc_dependent *d;
		if (!names_uid(o, uid))
			continue;
		if ((d = realloc(*deps, (*n + 1) * sizeof *d)) == NULL)
			return STSD_NOMEM;
		*deps = d;
		d[(*n)++] = (struct ctl_gc_dependent){.resource = resource, .obj = o};
	}
	return STSD_OK;
}

int sync_gc_owner(const struct ctl_shared *sh, struct snap *sn, struct ctl_plan *plan)
{
	const char *uid = ctl_str(sn->set, "metadata.uid");
	struct ctl_gc_dependent *deps = NULL;
	size_t n = 0;
	int rv;

	(void)sh;
	if (uid == NULL)
		return STSD_OK;
	if ((rv = add_deps(&deps, &n, sn->candidates, "pods", uid)) == STSD_OK &&
	    (rv = add_deps(&deps, &n, sn->revs, "controllerrevisions", uid)) == STSD_OK &&
	    (rv = add_deps(&deps, &n, sn->pvcs, "persistentvolumeclaims", uid)) == STSD_OK) {
		struct ctl_gc_input in = {.owner_resource = "statefulsets",
		                          .owner = sn->set,
		                          .owner_gone = false,
		                          .deps = deps,
		                          .n_deps = n};
		rv = ctl_gc_plan(&in, plan);
		if (rv == STSD_INVALID)
			rv = STSD_OK; /* terminating without a finalizer of ours: nothing to do */
	}
	free(deps);
	return rv;
}

static const char *resource_of_kind(const char *kind)
{
	static const char *const map[][2] = {{"StatefulSet", "statefulsets"},
	                                     {"Pod", "pods"},
	                                     {"PersistentVolumeClaim", "persistentvolumeclaims"}};

	for (size_t i = 0; kind && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i][0], kind) == 0)
			return map[i][1];
	return NULL;
}

/* Whether the owner a reference names exists with its uid; owners of kinds stsd does not
 * collect for count as alive. */
static bool owner_alive(struct store_reader *rd, const char *ns, const json_t *ref)
{
	const char *res = resource_of_kind(ctl_str(ref, "kind")), *name = ctl_str(ref, "name");
	const char *uid = ctl_str(ref, "uid");
	json_t *o;
	bool alive;

	if (res == NULL || name == NULL || uid == NULL)
		return true;
	o = snap_get(rd, res, ns, name);
	alive = o && ctl_str(o, "metadata.uid") && strcmp(ctl_str(o, "metadata.uid"), uid) == 0;
	json_decref(o);
	return alive;
}

/* The plan's commands, with the dependent (and for a pod, its set's claims: a pod removed
 * takes its claim along) as the snapshot its actions look up. */
static void collect_commands(struct store_reader *rd, struct work *w, struct ctl_plan *plan,
                             const char *ns, const json_t *dep)
{
	char set[254] = "";
	uint32_t ordinal;
	struct snap sn;

	/* A pod's claim is found by its name, as every removal finds it. */
	if (!ctl_pod_claim_key(ctl_str(dep, "metadata.name"), set, sizeof set, &ordinal))
		set[0] = '\0';
	if (snap_init(&sn, ns, set) != STSD_OK || (sn.candidates = json_array()) == NULL) {
		snap_free(&sn);
		w->rv = STSD_NOMEM;
		return;
	}
	json_array_append(sn.candidates, (json_t *)dep);
	json_array_append(sn.pvcs, (json_t *)dep);
	w->rv = *sn.name ? snap_read_claims(rd, &sn) : STSD_OK;
	if (w->rv == STSD_OK)
		w->rv = sync_commands(&sn, plan, w, util_now_unix());
	snap_free(&sn);
}

void sync_gc(const struct ctl_shared *sh, struct work *w, const char *resource, const char *ns,
             const char *name)
{
	struct store_reader *rd;
	struct ctl_plan plan = {0};
	json_t *dep, *ref;
	bool *alive = NULL;
	size_t i, n;

	if ((w->rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		return;
	if ((dep = snap_get(rd, resource, ns, name)) == NULL)
		goto out;
	n = json_array_size(ctl_obj(dep, "metadata.ownerReferences"));
	if ((alive = calloc(n + 1, sizeof *alive)) == NULL) {
		w->rv = STSD_NOMEM;
		goto out;
	}
	json_array_foreach(ctl_obj(dep, "metadata.ownerReferences"), i, ref) alive[i] =
	    owner_alive(rd, ns, ref);
	json_array_foreach(ctl_obj(dep, "metadata.ownerReferences"), i, ref)
	{
		json_t *owner;
		struct ctl_gc_dependent d = {resource, dep, alive};
		if (alive[i])
			continue;
		owner = json_pack("{s:{s:s?,s:s?}}", "metadata", "name", ctl_str(ref, "name"),
		                  "uid", ctl_str(ref, "uid"));
		struct ctl_gc_input in = {.owner_resource = resource_of_kind(ctl_str(ref, "kind")),
		                          .owner = owner,
		                          .owner_gone = true,
		                          .deps = &d,
		                          .n_deps = 1};
		w->rv = owner ? ctl_gc_plan(&in, &plan) : STSD_NOMEM;
		json_decref(owner);
		break; /* one owner per plan: one action per object */
	}
	if (w->rv == STSD_OK && plan.n)
		collect_commands(rd, w, &plan, ns, dep);
out:
	store_read_end(rd);
	ctl_plan_free(&plan);
	json_decref(dep);
	free(alive);
}

void sync_pv(const struct ctl_shared *sh, struct work *w, const char *name)
{
	struct store_reader *rd;
	struct ctl_plan plan = {0};
	json_t *pv, *claim = NULL;

	if ((w->rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		return;
	if ((pv = snap_get(rd, "persistentvolumes", "", name)) != NULL) {
		const char *cns = ctl_str(pv, "spec.claimRef.namespace");
		const char *cname = ctl_str(pv, "spec.claimRef.name");
		if (cns && cname)
			claim = snap_get(rd, "persistentvolumeclaims", cns, cname);
		w->rv = ctl_volume_reclaim(pv, claim, &plan);
		if (w->rv == STSD_OK && plan.n) {
			struct cmd_env env = {.now = util_now_unix(),
			                      .component = "persistentvolume-controller",
			                      .lookup = NULL,
			                      .claim_of = NULL};
			w->rv = cmd_from_plan(&w->cmds, &plan, &env);
		}
	}
	store_read_end(rd);
	ctl_plan_free(&plan);
	json_decref(pv);
	json_decref(claim);
}

/* ---- Events ------------------------------------------------------------------------------------
 * Events live --event-ttl (an hour), as with kube-apiserver's flag of that name (it gives them an
 * etcd lease; the store has none, so the leader sweeps). */

#define EVENT_SWEEP_MAX 1000 /* deletions per sync: the rest in the next */

struct event_sweep {
	struct ctl_plan *plan;
	int64_t cutoff;
	size_t more;
};

static int event_item(void *ud, const struct store_object *o)
{
	struct event_sweep *e = ud;
	struct ctl_action *a;

	if (o->creation_time > e->cutoff)
		return STSD_OK;
	if (e->plan->n >= EVENT_SWEEP_MAX) {
		e->more++;
		return STSD_OK;
	}
	if ((a = ctl_plan_add(e->plan, CTL_DELETE, "events", o->ns, o->name, NULL)) != NULL)
		a->expect_rv = o->resource_version;
	return STSD_OK;
}

void sync_events(const struct ctl_shared *sh, struct work *w)
{
	struct ctl_plan plan = {0};
	struct event_sweep e = {.plan = &plan, .cutoff = util_now_unix() - sh->cfg.event_ttl_s};
	struct store_list_request req = {.resource = "events"};
	struct store_list_page page;
	struct store_reader *rd;

	if ((w->rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		return;
	w->rv = store_list(rd, &req, event_item, &e, &page);
	store_read_end(rd);
	if (w->rv == STSD_OK && plan.n) {
		struct cmd_env env = {.now = util_now_unix(), .component = "event-ttl"};
		w->rv = cmd_from_plan(&w->cmds, &plan, &env);
		log_info("controller", "event=events_expired count=%zu left=%zu", plan.n, e.more);
	}
	if (e.more)
		w->requeue_ms = 1000;
	ctl_plan_free(&plan);
}

/* ---- Resync --------------------------------------------------------------------------------- */

struct all_scan {
	struct work *w;
	char kind;
};

static int all_item(void *ud, const struct store_object *o)
{
	struct all_scan *a = ud;

	if (a->kind == 's')
		work_more(a->w, "s\t%s\t%s", o->ns, o->name);
	else
		work_more(a->w, "%c\t%s", a->kind, o->name);
	return STSD_OK;
}

/* ---- Dependents whose owner vanished unseen ----------------------------------------------------
 * A set deleted while no leader followed the log (in the instant before a failover) left its
 * dependents behind; the resync of a leadership looks for them, after the set keys went out. */

struct orphan_scan {
	struct work *w;
	const char *resource;
	json_t *sets; /* "ns/name" -> uid of every StatefulSet */
};

static int set_item(void *ud, const struct store_object *o)
{
	char k[520];

	snprintf(k, sizeof k, "%s/%s", o->ns, o->name);
	return json_object_set_new(ud, k, json_string(o->uid ? o->uid : "")) ? STSD_NOMEM : STSD_OK;
}

static int orphan_item(void *ud, const struct store_object *o)
{
	struct orphan_scan *a = ud;
	const json_t *r;
	json_t *obj;
	size_t i;

	if (!memmem(o->json, o->json_len, "\"StatefulSet\"", 13) || (obj = ctl_parse(o)) == NULL)
		return STSD_OK;
	json_array_foreach(ctl_obj(obj, "metadata.ownerReferences"), i, r)
	{
		const char *kind = ctl_str(r, "kind"), *name = ctl_str(r, "name");
		const char *uid = ctl_str(r, "uid"), *have;
		char k[520];
		if (!kind || strcmp(kind, "StatefulSet") != 0 || !name || !uid)
			continue;
		snprintf(k, sizeof k, "%s/%s", o->ns, name);
		have = json_string_value(json_object_get(a->sets, k));
		if (have == NULL || strcmp(have, uid) != 0) {
			work_more(a->w, "g\t%s\t%s\t%s", a->resource, o->ns, o->name);
			break;
		}
	}
	json_decref(obj);
	return STSD_OK;
}

void sync_orphans(const struct ctl_shared *sh, struct work *w)
{
	static const char *const what[] = {"pods", "controllerrevisions", "persistentvolumeclaims"};
	struct orphan_scan a = {.w = w, .sets = json_object()};
	struct store_reader *rd;
	struct store_list_page page;
	struct store_list_request req = {.resource = "statefulsets"};

	if (a.sets == NULL || (w->rv = store_read_begin(sh->store, &rd)) != STSD_OK) {
		json_decref(a.sets);
		return;
	}
	w->rv = store_list(rd, &req, set_item, a.sets, &page);
	for (size_t i = 0; i < sizeof what / sizeof what[0] && w->rv == STSD_OK; i++) {
		req = (struct store_list_request){.resource = what[i]};
		a.resource = what[i];
		w->rv = store_list(rd, &req, orphan_item, &a, &page);
	}
	store_read_end(rd);
	json_decref(a.sets);
}

void sync_all(const struct ctl_shared *sh, struct work *w)
{
	static const struct {
		const char *resource;
		char kind;
	} what[] = {{"statefulsets", 's'}, {"nodes", 'n'}, {"persistentvolumes", 'v'}};
	struct store_reader *rd;
	struct store_list_page page;

	if ((w->rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		return;
	for (size_t i = 0; i < sizeof what / sizeof what[0] && w->rv == STSD_OK; i++) {
		struct all_scan a = {w, what[i].kind};
		struct store_list_request req = {.resource = what[i].resource};
		w->rv = store_list(rd, &req, all_item, &a, &page);
	}
	store_read_end(rd);
	work_more(w, "o"); /* queued after the keys above */
}
