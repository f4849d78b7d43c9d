/* sts_pvc.c — the PersistentVolumeClaims of a StatefulSet's pods: creation from
 * volumeClaimTemplates and ownerReferences per persistentVolumeClaimRetentionPolicy (upstream
 * pkg/controller/statefulset/stateful_pod_control.go: createPersistentVolumeClaims,
 * PodClaimIsStale, ClaimsMatchRetentionPolicy, UpdatePodClaimForRetentionPolicy;
 * stateful_set_utils.go: getPersistentVolumeClaims, claimOwnerMatchesSetAndPod,
 * updateClaimOwnerRefForSetAndPod). */
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

/* Which owners a claim of ordinal should have: the set, the pod. An unknown policy is Retain. */
static void retention_wants(const struct sts_sync *s, int64_t ord, bool *want_set, bool *want_pod)
{
	const char *del =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
	const char *scl =
	    ctl_str(s->in->set, "spec.persistentVolumeClaimRetentionPolicy.whenScaled");
	bool del_delete = del && strcmp(del, "Delete") == 0;
	bool scl_delete = scl && strcmp(scl, "Delete") == 0;
	bool condemned = ord < s->start || ord >= s->start + s->replicas;

	*want_set = del_delete && !(scl_delete && condemned);
	*want_pod = scl_delete && condemned;
}

static bool has_owner(const json_t *obj, const char *uid)
{
	const json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"),
	             *r;
	size_t i;

	if (uid == NULL || *uid == '\0')
		return false;
	json_array_foreach(refs, i, r)
	{
		const char *u = ctl_str(r, "uid");
		if (u && strcmp(u, uid) == 0)
			return true;
	}
	return false;
}

static json_t *owner_ref(const char *api, const char *kind, const char *name, const char *uid)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "apiVersion", api, "kind", kind, "name", sts_nz(name),
	                 "uid", sts_nz(uid));
}

/* Add or remove the reference to uid in refs so that its presence is want. */
static int toggle_ref(json_t *refs, const char *uid, bool want, json_t *ref)
{
	size_t i;
	json_t *r;

	json_array_foreach(refs, i, r)
	{
		const char *u = ctl_str(r, "uid");
		if (u && strcmp(u, uid) == 0) {
			json_decref(ref);
			return want ? 0 : json_array_remove(refs, i);
		}
	}
	if (!want) {
		json_decref(ref);
		return 0;
	}
	return json_array_append_new(refs, ref);
}

void sts_fix_pvc_owners(struct sts_sync *s, const json_t *pod, int64_t ord)
{
	const char *pod_uid = ctl_str(pod, "metadata.uid"),
	           *pod_name = ctl_str(pod, "metadata.name");
	const json_t *t;
	bool want_set, want_pod;
	size_t i;

	retention_wants(s, ord, &want_set, &want_pod);
	json_array_foreach(claim_templates(s), i, t)
	{
		const json_t *pvc = sts_find_pvc(s, sts_nz(ctl_str(t, "metadata.name")), ord);
		json_t *copy, *meta, *refs;
		struct ctl_action *a;
		int rc = 0;

		/* A pod not yet given a uid cannot be an owner: its claims are fixed next sync. */
		if (pvc == NULL || (want_pod && (pod_uid == NULL || *pod_uid == '\0')))
			continue;
		if (has_owner(pvc, s->uid) == want_set && has_owner(pvc, pod_uid) == want_pod)
			continue;
		copy = json_deep_copy(pvc);
		meta = json_object_get(copy, "metadata");
		refs = json_object_get(meta, "ownerReferences");
		if (!json_is_array(refs)) {
			refs = json_array();
			rc |= json_object_set_new(meta, "ownerReferences", refs);
		}
		rc |= toggle_ref(refs, s->uid, want_set,
		                 owner_ref("apps/v1", "StatefulSet", s->name, s->uid));
		if (pod_uid && *pod_uid)
			rc |= toggle_ref(refs, pod_uid, want_pod,
			                 owner_ref("v1", "Pod", pod_name, pod_uid));
		if (json_array_size(refs) == 0)
			json_object_del(meta, "ownerReferences");
		if (rc != 0 || copy == NULL) {
			json_decref(copy);
			s->error = true;
			return;
		}
		a = ctl_plan_add(s->plan, CTL_UPDATE, "persistentvolumeclaims", s->ns,
		                 ctl_str(pvc, "metadata.name"), copy);
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
	const json_t *t, *r;
	size_t i, j;

	if (scl == NULL || strcmp(scl, "Delete") != 0)
		return false; /* retained claims are meant to be reused */
	snprintf(pod_name, sizeof pod_name, "%s-%lld", s->name, (long long)ord);
	json_array_foreach(claim_templates(s), i, t)
	{
		const json_t *pvc = sts_find_pvc(s, sts_nz(ctl_str(t, "metadata.name")), ord);
		json_array_foreach(
		    json_object_get(json_object_get(pvc, "metadata"), "ownerReferences"), j, r)
		{
			/* hasStaleOwnerRef: owned by an earlier pod of the same name. */
			if (strcmp(sts_nz(ctl_str(r, "name")), pod_name) == 0 &&
			    strcmp(sts_nz(ctl_str(r, "uid")), sts_nz(pod_uid)) != 0)
				return true;
		}
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
