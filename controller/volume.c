/* volume.c — the volume binder: which class a claim uses, the PersistentVolume stsd's two
 * provisioners make for it, the claim turned bound, and what happens to a volume whose claim is
 * gone. Upstream behaviour read through the search tool, not copied:
 * - pkg/volume/util/storageclass.go (GetDefaultClass, IsDefaultAnnotation): the default class is
 *   the newest of those annotated is-default-class "true" (GA or beta key), ties by name.
 * - pkg/apis/core/v1/helper (GetPersistentVolumeClaimClass): the beta annotation
 *   volume.beta.kubernetes.io/storage-class wins over spec.storageClassName.
 * - pkg/controller/volume/persistentvolume/pv_controller.go: provisioned volumes are named
 *   "pvc-" + claim uid and annotated pv.kubernetes.io/provisioned-by; bindVolumeToClaim and
 *   bindClaimToVolume add pv.kubernetes.io/bound-by-controller "yes" to both and
 *   pv.kubernetes.io/bind-completed "yes" to the claim; updateClaimStatus copies the volume's
 *   capacity and access modes into the claim's status; syncVolume leaves a volume whose claimRef
 *   has no uid alone (reserved for a claim yet to come) and reclaims one whose claim is gone or
 *   has another uid (Released, then Retain keeps it, Delete deletes it).
 * - the scheduler's VolumeBinding plugin writes volume.kubernetes.io/selected-node on a
 *   WaitForFirstConsumer claim; provisioners read it.
 * - pkg/apis/core/validation (validateLocalVolumeSource, validatePathNoBacksteps): volume paths
 *   are absolute and have no ".." element. */
#include "volume.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "util.h"

#define ANN_DEFAULT_CLASS       "storageclass.kubernetes.io/is-default-class"
#define ANN_DEFAULT_CLASS_BETA  "storageclass.beta.kubernetes.io/is-default-class"
#define ANN_CLAIM_CLASS_BETA    "volume.beta.kubernetes.io/storage-class"
#define ANN_BIND_COMPLETED      "pv.kubernetes.io/bind-completed"
#define ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"
#define ANN_PROVISIONED_BY      "pv.kubernetes.io/provisioned-by"
#define ANN_SELECTED_NODE       "volume.kubernetes.io/selected-node"
#define ANN_STORAGE_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define LABEL_HOSTNAME          "kubernetes.io/hostname"
#define DEFAULT_LOCAL_PATH      "/var/lib/stsd/volumes"
#define DEFAULT_SHARED_PATH     "/var/lib/stsd/shared"
#define VOLUME_PATH_MAX         4096

enum provisioner { PROV_OTHER, PROV_LOCAL, PROV_SHARED };

static const char *nz(const char *s)
{
	return s ? s : "";
}

static bool empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* An annotation's value (keys hold dots: ctl_str's paths cannot name them), or NULL. */
static const char *annotation(const json_t *obj, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

static enum provisioner provisioner_of(const json_t *sc)
{
	const char *p = ctl_str(sc, "provisioner");

	if (p && strcmp(p, CTL_PROVISIONER_LOCAL) == 0)
		return PROV_LOCAL;
	if (p && strcmp(p, CTL_PROVISIONER_SHARED) == 0)
		return PROV_SHARED;
	return PROV_OTHER;
}

/* ---- The claim's class ----------------------------------------------------------------------- */

static bool is_default_class(const json_t *sc)
{
	const char *ga = annotation(sc, ANN_DEFAULT_CLASS),
	           *beta = annotation(sc, ANN_DEFAULT_CLASS_BETA);

	return (ga && strcmp(ga, "true") == 0) || (beta && strcmp(beta, "true") == 0);
}

/* Whether a sorts before b in GetDefaultClass's order: newer creationTimestamp first (RFC 3339
 * strings of one format compare as text; none counts as oldest), then name ascending. */
static bool preferred(const json_t *a, const json_t *b)
{
	int c;

	if (b == NULL)
		return true;
	c = strcmp(nz(ctl_str(a, "metadata.creationTimestamp")),
	           nz(ctl_str(b, "metadata.creationTimestamp")));
	if (c != 0)
		return c > 0;
	return strcmp(nz(ctl_str(a, "metadata.name")), nz(ctl_str(b, "metadata.name"))) < 0;
}

/* The class name the claim asks for, or NULL when it names none (then the default applies). */
static const char *requested_class(const json_t *pvc)
{
	const char *beta = annotation(pvc, ANN_CLAIM_CLASS_BETA);

	return beta ? beta : ctl_str(pvc, "spec.storageClassName");
}

const json_t *ctl_volume_class(const json_t *pvc, const json_t *const *classes, size_t n_classes)
{
	const char *want = requested_class(pvc);
	const json_t *best = NULL;

	if (want != NULL && *want == '\0')
		return NULL; /* "": explicitly no class */
	for (size_t i = 0; classes != NULL && i < n_classes; i++) {
		const json_t *c = classes[i];
		const char *name = ctl_str(c, "metadata.name");

		if (name == NULL)
			continue;
		if (want != NULL && strcmp(name, want) == 0)
			return c;
		if (want == NULL && is_default_class(c) && preferred(c, best))
			best = c;
	}
	return best;
}

/* ---- The new volume -------------------------------------------------------------------------- */

/* What a volume is made from, checked once. */
struct source {
	enum provisioner prov;
	const char *ns, *name, *uid; /* the claim's */
	const char *class_name;      /* the class's metadata.name */
	const json_t *request;       /* spec.resources.requests.storage: string or number */
	const json_t *modes;         /* spec.accessModes: a non-empty array */
	char pv_name[300];           /* "pvc-<uid>" */
	char path[VOLUME_PATH_MAX];  /* <parameters.path or default>/<pv name> */
};

/* Whether path is absolute and has no ".." element. */
static bool clean_path(const char *path)
{
	const char *p = path;

	if (*path != '/')
		return false;
	while ((p = strstr(p, "..")) != NULL) {
		bool starts = p[-1] == '/', ends = p[2] == '/' || p[2] == '\0';
		if (starts && ends)
			return false;
		p += 2;
	}
	return true;
}

static int volume_path(const json_t *sc, struct source *s)
{
	const char *base =
	    json_string_value(json_object_get(json_object_get(sc, "parameters"), "path"));
	size_t len;
	int n;

	if (empty(base))
		base = s->prov == PROV_LOCAL ? DEFAULT_LOCAL_PATH : DEFAULT_SHARED_PATH;
	if (!clean_path(base))
		return STSD_INVALID;
	len = strlen(base);
	while (len > 1 && base[len - 1] == '/')
		len--; /* "/srv/volumes/" and "/srv/volumes" name the same place */
	if (len == 1)
		len = 0; /* "/": the volume goes to "/pvc-<uid>" */
	n = snprintf(s->path, sizeof s->path, "%.*s/%s", (int)len, base, s->pv_name);
	return n < 0 || (size_t)n >= sizeof s->path ? STSD_INVALID : STSD_OK;
}

static int check_source(const json_t *pvc, const json_t *sc, const char *node, struct source *s)
{
	int n;

	memset(s, 0, sizeof *s);
	if (sc == NULL || (s->prov = provisioner_of(sc)) == PROV_OTHER)
		return STSD_NOTFOUND; /* not ours to provision: the claim stays Pending */
	s->ns = ctl_str(pvc, "metadata.namespace");
	s->name = ctl_str(pvc, "metadata.name");
	s->uid = ctl_str(pvc, "metadata.uid");
	s->class_name = ctl_str(sc, "metadata.name");
	s->request = json_object_get(
	    json_object_get(json_object_get(json_object_get(pvc, "spec"), "resources"), "requests"),
	    "storage");
	s->modes = json_object_get(json_object_get(pvc, "spec"), "accessModes");
	if (empty(s->ns) || empty(s->name) || empty(s->uid) || empty(s->class_name) ||
	    !(json_is_string(s->request) || json_is_number(s->request)) ||
	    json_array_size(s->modes) == 0 || (s->prov == PROV_LOCAL && empty(node)))
		return STSD_INVALID;
	n = snprintf(s->pv_name, sizeof s->pv_name, "pvc-%s", s->uid);
	if (n < 0 || (size_t)n >= sizeof s->pv_name)
		return STSD_INVALID;
	return volume_path(sc, s);
}

/* spec.local + required node affinity (kubernetes.io/hostname In [node]), or spec.hostPath. */
static int add_placement(json_t *spec, const struct source *s, const char *node)
{
	if (s->prov == PROV_SHARED)
		return json_object_set_new(
		    spec, "hostPath",
		    json_pack("{s:s,s:s}", "path", s->path, "type", "DirectoryOrCreate"));
	return json_object_set_new(spec, "local", json_pack("{s:s}", "path", s->path)) |
	       json_object_set_new(spec, "nodeAffinity",
	                           json_pack("{s:{s:[{s:[{s:s,s:s,s:[s]}]}]}}", "required",
	                                     "nodeSelectorTerms", "matchExpressions", "key",
	                                     LABEL_HOSTNAME, "operator", "In", "values", node));
}

/* The copies are made value by value: the inputs are borrowed and may be shared, so even their
 * reference counts stay untouched (json_pack's "O" would take references). */
static json_t *pv_spec(const json_t *pvc, const json_t *sc, const struct source *s)
{
	const char *policy = ctl_str(sc, "reclaimPolicy"), *mode = ctl_str(pvc, "spec.volumeMode");
	const json_t *mount = json_object_get(sc, "mountOptions");
	json_t *spec;
	int rc;

	spec = json_pack("{s:{},s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s}}", "capacity", "volumeMode",
	                 empty(mode) ? "Filesystem" : mode, "storageClassName", s->class_name,
	                 "persistentVolumeReclaimPolicy", empty(policy) ? "Delete" : policy,
	                 "claimRef", "kind", "PersistentVolumeClaim", "namespace", s->ns, "name",
	                 s->name, "uid", s->uid, "apiVersion", "v1");
	if (spec == NULL)
		return NULL;
	rc = json_object_set_new(json_object_get(spec, "capacity"), "storage",
	                         json_deep_copy(s->request)) |
	     json_object_set_new(spec, "accessModes", json_deep_copy(s->modes));
	if (json_array_size(mount) > 0)
		rc |= json_object_set_new(spec, "mountOptions", json_deep_copy(mount));
	if (rc != 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

json_t *ctl_volume_new_pv(const json_t *pvc, const json_t *storage_class, const char *node,
                          int64_t now, int *err)
{
	struct source s;
	char when[32];
	json_t *pv, *spec;

	if ((*err = check_source(pvc, storage_class, node, &s)) != STSD_OK)
		return NULL;
	*err = STSD_NOMEM;
	util_format_rfc3339(now, when, sizeof when);
	spec = pv_spec(pvc, storage_class, &s);
	if (spec == NULL || add_placement(spec, &s, node) != 0) {
		json_decref(spec);
		return NULL;
	}
	pv = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:o,s:{s:s,s:s}}", "apiVersion", "v1", "kind",
	               "PersistentVolume", "metadata", "name", s.pv_name, "annotations",
	               ANN_PROVISIONED_BY,
	               s.prov == PROV_LOCAL ? CTL_PROVISIONER_LOCAL : CTL_PROVISIONER_SHARED,
	               ANN_BOUND_BY_CONTROLLER, "yes", "spec", spec, "status", "phase", "Bound",
	               "lastPhaseTransitionTime", when);
	if (pv != NULL)
		*err = STSD_OK;
	return pv;
}

/* ---- The claim, bound ------------------------------------------------------------------------ */

/* Object member key of obj, created empty when absent; NULL when obj is not an object, the
 * member is something else, or out of memory. */
static json_t *member_object(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL && json_is_object(obj) && json_object_set_new(obj, key, json_object()) == 0)
		v = json_object_get(obj, key);
	return json_is_object(v) ? v : NULL;
}

/* The status a bound claim shows: phase, and the volume's capacity and access modes (other
 * status fields stay). */
static int bound_status(json_t *pvc, const json_t *pv)
{
	json_t *status = member_object(pvc, "status");

	if (status == NULL)
		return STSD_NOMEM;
	return json_object_set_new(status, "phase", json_string("Bound")) |
	               json_object_set_new(status, "capacity",
	                                   json_deep_copy(json_object_get(
	                                       json_object_get(pv, "spec"), "capacity"))) |
	               json_object_set_new(status, "accessModes",
	                                   json_deep_copy(json_object_get(
	                                       json_object_get(pv, "spec"), "accessModes")))
	           ? STSD_NOMEM
	           : STSD_OK;
}

static int bound_annotations(json_t *pvc, const json_t *storage_class, const char *node)
{
	json_t *ann = member_object(member_object(pvc, "metadata"), "annotations");
	const char *prov = ctl_str(storage_class, "provisioner");
	int rc;

	if (ann == NULL)
		return STSD_NOMEM;
	rc = json_object_set_new(ann, ANN_BIND_COMPLETED, json_string("yes")) |
	     json_object_set_new(ann, ANN_BOUND_BY_CONTROLLER, json_string("yes"));
	if (!empty(prov))
		rc |= json_object_set_new(ann, ANN_STORAGE_PROVISIONER, json_string(prov));
	if (provisioner_of(storage_class) == PROV_LOCAL && !empty(node))
		rc |= json_object_set_new(ann, ANN_SELECTED_NODE, json_string(node));
	return rc ? STSD_NOMEM : STSD_OK;
}

/* On STSD_NOMEM pvc may be half changed: the caller drops it with the plan. */
int ctl_volume_mark_bound(json_t *pvc, const json_t *pv, const json_t *storage_class,
                          const char *node)
{
	const char *pv_name = ctl_str(pv, "metadata.name");
	const char *class_name = ctl_str(pv, "spec.storageClassName");
	const json_t *status = json_object_get(pvc, "status");
	const json_t *ann = json_object_get(json_object_get(pvc, "metadata"), "annotations");
	json_t *spec = json_object_get(pvc, "spec");
	int rc;

	/* Checked first, so that a failure below can only be out of memory. */
	if (empty(pv_name) || !json_is_object(spec) ||
	    !json_is_object(json_object_get(pvc, "metadata")) ||
	    (status != NULL && !json_is_object(status)) || (ann != NULL && !json_is_object(ann)))
		return STSD_INVALID;
	if (json_object_set_new(spec, "volumeName", json_string(pv_name)) != 0)
		return STSD_NOMEM;
	/* A claim that named no class got the default one, as upstream's DefaultStorageClass
	 * admission (or its retroactive assignment) would have recorded: the claim and its volume
	 * then name the same class. Validation lets an absent class be set once. */
	if (requested_class(pvc) == NULL && !empty(class_name) &&
	    json_object_set_new(spec, "storageClassName", json_string(class_name)) != 0)
		return STSD_NOMEM;
	if ((rc = bound_status(pvc, pv)) != STSD_OK)
		return rc;
	return bound_annotations(pvc, storage_class, node);
}

int ctl_volume_bind(const json_t *pvc, const json_t *storage_class, const char *node, int64_t now,
                    struct ctl_plan *plan)
{
	char pv_name[300];
	struct ctl_action *a;
	json_t *pv, *claim;
	int rc;

	if (!empty(ctl_str(pvc, "spec.volumeName")))
		return STSD_INVALID; /* bound already: nothing to provision */
	if ((pv = ctl_volume_new_pv(pvc, storage_class, node, now, &rc)) == NULL)
		return rc;
	claim = json_deep_copy(pvc);
	rc = claim ? ctl_volume_mark_bound(claim, pv, storage_class, node) : STSD_NOMEM;
	if (rc != STSD_OK) {
		json_decref(claim);
		json_decref(pv);
		return rc;
	}
	snprintf(pv_name, sizeof pv_name, "%s", ctl_str(pv, "metadata.name"));
	if (ctl_plan_add(plan, CTL_CREATE, "persistentvolumes", NULL, pv_name, pv) == NULL) {
		json_decref(claim);
		return STSD_NOMEM;
	}
	a = ctl_plan_add(plan, CTL_UPDATE, "persistentvolumeclaims",
	                 ctl_str(pvc, "metadata.namespace"), ctl_str(pvc, "metadata.name"), claim);
	if (a == NULL)
		return STSD_NOMEM;
	a->expect_rv = ctl_rv(pvc);
	/* As upstream's provisioner says it on the claim. */
	ctl_plan_event(plan, "persistentvolumeclaims", a->ns, a->name, "Normal",
	               "ProvisioningSucceeded", "Successfully provisioned volume %s using %s",
	               pv_name, nz(ctl_str(storage_class, "provisioner")));
	return plan->oom ? STSD_NOMEM : STSD_OK;
}

/* ---- Placement and reclaim ------------------------------------------------------------------- */

static const char *hostname_in(const json_t *term)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(term, "matchExpressions"), i, e)
	{
		const char *key = ctl_str(e, "key"), *op = ctl_str(e, "operator");
		const char *v = json_string_value(json_array_get(json_object_get(e, "values"), 0));

		if (key && op && strcmp(key, LABEL_HOSTNAME) == 0 && strcmp(op, "In") == 0 &&
		    !empty(v))
			return v;
	}
	return NULL;
}

const char *ctl_volume_pinned_node(const json_t *pv)
{
	const json_t *terms = json_object_get(
	    json_object_get(json_object_get(json_object_get(pv, "spec"), "nodeAffinity"),
	                    "required"),
	    "nodeSelectorTerms");
	const json_t *t;
	const char *node;
	size_t i;

	json_array_foreach(terms, i, t)
	{
		if ((node = hostname_in(t)) != NULL)
			return node;
	}
	return NULL;
}

/* UPDATE_STATUS of pv with phase Released. The transition time is dropped rather than left
 * stale: reclaim is not given the time. */
static int release(const json_t *pv, struct ctl_plan *plan)
{
	json_t *copy = json_deep_copy(pv), *status = member_object(copy, "status");
	struct ctl_action *a;

	if (status == NULL || json_object_set_new(status, "phase", json_string("Released")) != 0) {
		json_decref(copy);
		return STSD_NOMEM;
	}
	json_object_del(status, "lastPhaseTransitionTime"); /* fails only when absent */
	a = ctl_plan_add(plan, CTL_UPDATE_STATUS, "persistentvolumes", NULL,
	                 ctl_str(pv, "metadata.name"), copy);
	if (a == NULL)
		return STSD_NOMEM;
	a->expect_rv = ctl_rv(pv);
	return STSD_OK;
}

int ctl_volume_reclaim(const json_t *pv, const json_t *claim, struct ctl_plan *plan)
{
	const char *ref_uid = ctl_str(pv, "spec.claimRef.uid"),
	           *name = ctl_str(pv, "metadata.name");
	const char *policy = ctl_str(pv, "spec.persistentVolumeReclaimPolicy");
	const char *phase = ctl_str(pv, "status.phase");
	struct ctl_action *a;

	/* No claimRef, or one without uid (reserved for a claim yet to be made): not bound. A
	 * volume being deleted, or already acted on in this plan, is left as it is. */
	if (empty(ref_uid) || empty(name) || ctl_str(pv, "metadata.deletionTimestamp") != NULL ||
	    ctl_plan_touches(plan, "persistentvolumes", NULL, name))
		return STSD_OK;
	if (claim != NULL && strcmp(nz(ctl_str(claim, "metadata.uid")), ref_uid) == 0)
		return STSD_OK; /* its claim lives */
	if (policy != NULL && strcmp(policy, "Delete") == 0) {
		/* Released or not: upstream deletes a Delete volume once its claim is gone. */
		a = ctl_plan_add(plan, CTL_DELETE, "persistentvolumes", NULL, name, NULL);
		if (a == NULL)
			return STSD_NOMEM;
		a->expect_rv = ctl_rv(pv);
		return STSD_OK;
	}
	/* Retain (the API's default), and Recycle, which nothing of stsd performs: the data stays
	 * for an administrator. */
	if (phase != NULL && strcmp(phase, "Released") == 0)
		return STSD_OK;
	return release(pv, plan);
}
