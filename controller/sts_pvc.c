/* sts_pvc.c — the PersistentVolumeClaims of a StatefulSet's pods: creation from
 * volumeClaimTemplates and ownerReferences per persistentVolumeClaimRetentionPolicy (upstream
 * pkg/controller/statefulset/stateful_pod_control.go: createPersistentVolumeClaims,
 * PodClaimIsStale, ClaimsMatchRetentionPolicy, UpdatePodClaimForRetentionPolicy;
 * stateful_set_utils.go, a recent version (with hasNonControllerOwner): getPersistentVolumeClaims,
 * isClaimOwnerUpToDate, hasStaleOwnerRef, hasUnexpectedController, hasNonControllerOwner,
 * updateClaimOwnerRefForSetAndPod, addControllerRef — read through the search tool, not copied).
 * The set's and the pod's references are controller references (controller and
 * blockOwnerDeletion true); a claim with a stale reference (our set's or pod's name, another
 * uid) or another controller is left to its owner. */
#include <stdio.h>
#include <string.h>

#include "sts_internal.h"

static const json_t *claim_templates(const struct sts_sync *s)
{
	return json_object_get(json_object_get(s->in->set, "spec"), "volumeClaimTemplates");
}

static void pvc_name(char *buf, size_t len, const json_t *tmpl, const char *set, int64_t ord)
{
	snprintf(buf, len, "%s-%s-%lld", sts_nz(ctl_str(tmpl, "metadata.name")), set,
	         (long long)ord);
}

const json_t *sts_find_pvc(const struct sts_sync *s, const char *claim, int64_t ord)
{
	char want[768];

	snprintf(want, sizeof want, "%s-%s-%lld", claim, s->name, (long long)ord);
	for (size_t i = 0; i < s->in->n_pvcs; i++) {
		const json_t *p = s->in->pvcs[i];
		const char *n = ctl_str(p, "metadata.name"), *ns = ctl_str(p, "metadata.namespace");
		if (n && strcmp(n, want) == 0 && strcmp(sts_nz(ns), s->ns) == 0)
			return p;
	}
	return NULL;
}

/* ---- Retention policy ------------------------------------------------------------------------ */

/* Which owners a claim of ordinal should have: the set, the pod. A policy other than Retain or
 * Delete counts as Retain/Retain (upstream: "Unknown policy, treating as Retain"). */
static void retention_wants(const struct sts_sync *s, int64_t ord, bool *want_set, bool *want_pod)
{
	const char *del =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
	const char *scl =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled");
	bool del_delete = del && strcmp(del, "Delete") == 0;
	bool scl_delete = scl && strcmp(scl, "Delete") == 0;
	bool known = (del == NULL || del_delete || strcmp(del, "Retain") == 0) &&
	             (scl == NULL || scl_delete || strcmp(scl, "Retain") == 0);
	bool condemned = ord < s->start || ord >= s->start + s->replicas;

	*want_set = known && del_delete && !(scl_delete && condemned);
	*want_pod = known && scl_delete && condemned;
}

static bool uid_is(const json_t *ref, const char *uid)
{
	return uid != NULL && *uid != '\0' && strcmp(sts_nz(ctl_str(ref, "uid")), uid) == 0;
}

static bool has_owner(const json_t *obj, const char *uid)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
	                   r)
	{
		if (uid_is(r, uid))
			return true;
	}
	return false;
}

/* The set's or the pod's controller reference (upstream metav1.NewControllerRef). */
static json_t *owner_ref(const char *api, const char *kind, const char *name, const char *uid)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", api, "kind", kind, "name",
	                 sts_nz(name), "uid", sts_nz(uid), "controller", 1, "blockOwnerDeletion",
	                 1);
}

/* The two owners a claim may have, as upstream's matchesRef compares them: apiVersion, kind and
 * name; the uid tells ours from a stale one. uid may be empty (a pod not created yet). */
struct claim_owner {
	const char *api, *kind, *name, *uid;
};

static bool ref_names(const json_t *ref, const struct claim_owner *o)
{
	return strcmp(sts_nz(ctl_str(ref, "apiVersion")), o->api) == 0 &&
	       strcmp(sts_nz(ctl_str(ref, "kind")), o->kind) == 0 &&
	       strcmp(sts_nz(ctl_str(ref, "name")), sts_nz(o->name)) == 0;
}

static const json_t *claim_refs(const json_t *pvc)
{
	return json_object_get(json_object_get(pvc, "metadata"), "ownerReferences");
}

/* hasStaleOwnerRef: the first reference naming o carries another uid (an earlier set or pod of
 * the same name: the garbage collector, not us, deals with the claim). */
static bool stale_ref(const json_t *pvc, const struct claim_owner *o)
{
	const json_t *r;
	size_t i;

	json_array_foreach(claim_refs(pvc), i, r)
	{
		if (ref_names(r, o))
			return strcmp(sts_nz(ctl_str(r, "uid")), sts_nz(o->uid)) != 0;
	}
	return false;
}

/* hasUnexpectedController: under a Delete policy, a controller that is neither our set nor our
 * pod (or a stale one of either) owns the claim: we add no reference on top of it. */
static bool unexpected_controller(const struct sts_sync *s, const json_t *pvc,
                                  const struct claim_owner *set, const struct claim_owner *pod)
{
	const char *del =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
	const char *scl =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled");
	const json_t *r;
	size_t i;

	if ((del == NULL || strcmp(del, "Retain") == 0) &&
	    (scl == NULL || strcmp(scl, "Retain") == 0))
		return false; /* nothing of ours to protect */
	json_array_foreach(claim_refs(pvc), i, r)
	{
		if (ref_names(r, set) || ref_names(r, pod)) {
			if (!uid_is(r, ref_names(r, set) ? set->uid : pod->uid))
				return true;
			continue;
		}
		if (json_is_true(json_object_get(r, "controller")))
			return true;
	}
	return false;
}

/* hasNonControllerOwner: our set or pod owns the claim without being its controller (a
 * reference written before references were controller references). */
static bool non_controller_owner(const json_t *pvc, const struct claim_owner *set,
                                 const struct claim_owner *pod)
{
	const json_t *r;
	size_t i;

	json_array_foreach(claim_refs(pvc), i, r)
	{
		if ((uid_is(r, set->uid) || uid_is(r, pod->uid)) &&
		    !json_is_true(json_object_get(r, "controller")))
			return true;
	}
	return false;
}

/* isClaimOwnerUpToDate: true also when the claim is in a state we must not touch (a stale
 * reference, or another controller and none of ours to remove). */
static bool owners_up_to_date(const struct sts_sync *s, const json_t *pvc, int64_t ord,
                              const struct claim_owner *set, const struct claim_owner *pod)
{
	bool want_set, want_pod;

	if (stale_ref(pvc, set) || stale_ref(pvc, pod))
		return true;
	if (unexpected_controller(s, pvc, set, pod))
		return !has_owner(pvc, set->uid) && !has_owner(pvc, pod->uid);
	if (non_controller_owner(pvc, set, pod))
		return false;
	retention_wants(s, ord, &want_set, &want_pod);
	return has_owner(pvc, set->uid) == want_set && has_owner(pvc, pod->uid) == want_pod;
}

/* updateClaimOwnerRefForSetAndPod: drop every reference to our set and pod, then add the
 * controller references the policy wants, unless another controller owns the claim. Returns
 * the claim as it must become (new reference), or NULL on out of memory. */
static json_t *owners_fixed(const struct sts_sync *s, const json_t *pvc, int64_t ord,
                            const struct claim_owner *set, const struct claim_owner *pod)
{
	json_t *copy = json_deep_copy(pvc), *meta = json_object_get(copy, "metadata");
	json_t *refs = json_array(), *r;
	bool want_set, want_pod, unexpected = unexpected_controller(s, pvc, set, pod);
	size_t i;
	int rc = copy == NULL || refs == NULL;

	json_array_foreach(claim_refs(pvc), i, r)
	{
		if (!ref_names(r, set) && !ref_names(r, pod))
			rc |= json_array_append_new(refs, json_deep_copy(r));
	}
	retention_wants(s, ord, &want_set, &want_pod);
	if (!unexpected && want_set)
		rc |= json_array_append_new(refs,
		                            owner_ref(set->api, set->kind, set->name, set->uid));
	if (!unexpected && want_pod && pod->uid && *pod->uid)
		rc |= json_array_append_new(refs,
		                            owner_ref(pod->api, pod->kind, pod->name, pod->uid));
	if (json_array_size(refs) == 0)
		json_object_del(meta, "ownerReferences"); /* fails only when already absent */
	else
		rc |= json_object_set(meta, "ownerReferences", refs);
	json_decref(refs);
	if (rc != 0 || !json_is_object(meta)) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

void sts_fix_pvc_owners(struct sts_sync *s, const char *pod_name, const char *pod_uid, int64_t ord)
{
	const struct claim_owner set = {"apps/v1", "StatefulSet", s->name, s->uid};
	const struct claim_owner pod = {"v1", "Pod", pod_name, sts_nz(pod_uid)};
	const json_t *t;
	bool want_set, want_pod;
	size_t i;

	retention_wants(s, ord, &want_set, &want_pod);
	json_array_foreach(claim_templates(s), i, t)
	{
		const json_t *pvc = sts_find_pvc(s, sts_nz(ctl_str(t, "metadata.name")), ord);
		const char *pvc_name = ctl_str(pvc, "metadata.name");
		json_t *copy;
		struct ctl_action *a;

		/* A pod not yet given a uid cannot be an owner: its claims are fixed next sync.
		 * A claim this plan already acts on waits for the next sync too. */
		if (pvc == NULL || (want_pod && *pod.uid == '\0') ||
		    ctl_plan_touches(s->plan, "persistentvolumeclaims", s->ns, pvc_name) ||
		    owners_up_to_date(s, pvc, ord, &set, &pod))
			continue;
		copy = owners_fixed(s, pvc, ord, &set, &pod);
		a = copy ? ctl_plan_add(s->plan, CTL_UPDATE, "persistentvolumeclaims", s->ns,
		                        pvc_name, copy)
		         : NULL;
		if (a == NULL) {
			s->error = true;
			return;
		}
		a->expect_rv = ctl_rv(pvc);
	}
}

bool sts_pvc_stale(const struct sts_sync *s, int64_t ord, const char *pod_uid)
{
	const char *scl =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled");
	char pod_name[512];
	const struct claim_owner pod = {"v1", "Pod", pod_name, sts_nz(pod_uid)};
	const json_t *t;
	size_t i;

	if (scl == NULL || strcmp(scl, "Delete") != 0)
		return false; /* retained claims are meant to be reused */
	snprintf(pod_name, sizeof pod_name, "%s-%lld", s->name, (long long)ord);
	json_array_foreach(claim_templates(s), i, t)
	{
		/* Owned by an earlier pod of the same name (a missing pod has no uid: any). */
		if (stale_ref(sts_find_pvc(s, sts_nz(ctl_str(t, "metadata.name")), ord), &pod))
			return true;
	}
	return false;
}

/* ---- Creation -------------------------------------------------------------------------------- */

/* getPersistentVolumeClaims: the template with its name, namespace and labels = template
 * labels + selector matchLabels, and the set as owner when whenDeleted=Delete (upstream sets
 * that right after the pod's creation; doing it at creation saves a write). */
static json_t *new_pvc(const struct sts_sync *s, const json_t *tmpl, int64_t ord)
{
	const json_t *tmeta = json_object_get(tmpl, "metadata"), *v, *lv;
	const char *key;
	const json_t *match = json_object_get(
	    json_object_get(json_object_get(s->in->set, "spec"), "selector"), "matchLabels");
	json_t *pvc, *meta = json_object(), *labels;
	bool want_set, want_pod;
	char name[768];
	int rc = 0;

	pvc_name(name, sizeof name, tmpl, s->name, ord);
	v = json_object_get(tmeta, "labels");
	labels = json_is_object(v) ? json_deep_copy(v) : json_object();
	/* Copied value by value: the input is borrowed and may be shared, so even its refcounts
	 * stay untouched. */
	json_object_foreach((json_t *)match, key, lv)
	{
		rc |= json_object_set_new(labels, key, json_deep_copy(lv));
	}
	rc |= json_object_set_new(meta, "name", json_string(name));
	rc |= json_object_set_new(meta, "namespace", json_string(s->ns));
	rc |= json_object_set_new(meta, "labels", labels);
	v = json_object_get(tmeta, "annotations");
	if (json_is_object(v))
		rc |= json_object_set_new(meta, "annotations", json_deep_copy(v));
	retention_wants(s, ord, &want_set, &want_pod);
	if (want_set)
		rc |= json_object_set_new(
		    meta, "ownerReferences",
		    json_pack("[o]", owner_ref("apps/v1", "StatefulSet", s->name, s->uid)));
	v = json_object_get(tmpl, "spec");
	pvc = json_pack("{s:s,s:s,s:o,s:o,s:{s:s}}", "apiVersion", "v1", "kind",
	                "PersistentVolumeClaim", "metadata", meta, "spec",
	                json_is_object(v) ? json_deep_copy(v) : json_object(), "status", "phase",
	                "Pending");
	if (rc != 0) {
		json_decref(pvc);
		return NULL;
	}
	return pvc;
}

void sts_create_missing_pvcs(struct sts_sync *s, int64_t ord, const char *pod_name,
                             const char **deleting)
{
	const json_t *t;
	size_t i;

	*deleting = NULL;
	json_array_foreach(claim_templates(s), i, t)
	{
		const char *cn = ctl_str(t, "metadata.name");
		const json_t *pvc;
		json_t *obj;

		if (cn == NULL)
			continue;
		pvc = sts_find_pvc(s, cn, ord);
		if (pvc != NULL) {
			if (sts_terminating(pvc) && *deleting == NULL)
				*deleting = ctl_str(pvc, "metadata.name");
			continue; /* created if missing, never updated */
		}
		obj = new_pvc(s, t, ord);
		if (obj == NULL ||
		    ctl_plan_add(s->plan, CTL_CREATE, "persistentvolumeclaims", s->ns,
		                 ctl_str(obj, "metadata.name"), obj) == NULL) {
			s->error = true;
			return;
		}
		ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal",
		               "SuccessfulCreate",
		               "create Claim %s-%s-%lld Pod %s in StatefulSet %s success", cn,
		               s->name, (long long)ord, pod_name, s->name);
	}
}
