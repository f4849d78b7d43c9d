/* sts_pod.c — the pods of a StatefulSet: ordinals, health predicates, the pod a revision makes
 * and its identity (upstream pkg/controller/statefulset/stateful_set_utils.go: getOrdinal,
 * isRunningAndReady, isRunningAndAvailable via podutil.IsPodAvailable, isUnavailable,
 * newStatefulSetPod/initIdentity/updateIdentity/updateStorage, newVersionedStatefulSetPod). */
#include <stdio.h>
#include <string.h>

#include "sts_internal.h"

int64_t sts_ordinal(const json_t *pod, const char *set)
{
	const char *name = ctl_str(pod, "metadata.name"), *p;
	size_t n = set ? strlen(set) : 0;
	int64_t ord = 0;

	if (name == NULL || set == NULL || strncmp(name, set, n) != 0 || name[n] != '-')
		return -1;
	p = name + n + 1;
	/* Canonical decimal only: "web-01" would alias "web-1" (upstream's regex accepts both and
	 * then cannot rename the pod). */
	if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		ord = ord * 10 + (*p - '0');
		if (ord > INT32_MAX) /* upstream parses with ParseInt(.., 10, 32) */
			return -1;
	}
	return ord;
}

const char *sts_phase(const json_t *pod)
{
	const char *phase = ctl_str(pod, "status.phase");

	return phase ? phase : "";
}

bool sts_created(const json_t *pod)
{
	return pod != NULL && *sts_phase(pod) != '\0';
}

bool sts_terminating(const json_t *pod)
{
	const json_t *ts = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp");

	return ts != NULL && !json_is_null(ts);
}

/* The pod's Ready condition, or NULL. */
static const json_t *ready_condition(const json_t *pod)
{
	const json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
	size_t i;
	const json_t *c;

	json_array_foreach(conds, i, c)
	{
		const char *type = ctl_str(c, "type");
		if (type && strcmp(type, "Ready") == 0)
			return c;
	}
	return NULL;
}

static bool pod_ready(const json_t *pod)
{
	const char *st = ctl_str(ready_condition(pod), "status");

	return st != NULL && strcmp(st, "True") == 0;
}

bool sts_running_ready(const json_t *pod)
{
	return pod != NULL && strcmp(sts_phase(pod), "Running") == 0 && pod_ready(pod);
}

/* podutil.IsPodAvailable: Ready, and Ready since more than minReadySeconds before now. */
bool sts_available(const json_t *pod, int64_t min_ready, int64_t now)
{
	int64_t since;

	if (pod == NULL || !pod_ready(pod))
		return false;
	if (min_ready <= 0)
		return true;
	if (!sts_parse_time(ctl_str(ready_condition(pod), "lastTransitionTime"), &since))
		return false;
	return since + min_ready < now;
}

int64_t sts_available_in(const json_t *pod, int64_t min_ready, int64_t now)
{
	int64_t since;

	if (min_ready <= 0 || pod == NULL || !pod_ready(pod) ||
	    !sts_parse_time(ctl_str(ready_condition(pod), "lastTransitionTime"), &since) ||
	    since + min_ready < now)
		return 0;
	return since + min_ready - now + 1;
}

bool sts_unavailable(const json_t *pod, int64_t min_ready, int64_t now)
{
	return !(sts_running_ready(pod) && !sts_terminating(pod) &&
	         sts_available(pod, min_ready, now));
}

bool sts_never_ready(const json_t *pod)
{
	const json_t *c = ready_condition(pod);
	const char *started = ctl_str(pod, "status.startTime");
	int64_t changed, start;

	if (pod == NULL || pod_ready(pod))
		return false;
	if (c == NULL)
		return true;
	/* Kubelet writes Ready=False when the pod starts and moves lastTransitionTime only when the
	 * status changes: a pod that was Ready and lost it shows the time it lost it. */
	if (started == NULL)
		started = ctl_str(pod, "metadata.creationTimestamp");
	if (!sts_parse_time(ctl_str(c, "lastTransitionTime"), &changed) ||
	    !sts_parse_time(started, &start))
		return false;
	return changed <= start + STS_NEVER_READY_SLACK;
}

const char *sts_revision(const json_t *pod)
{
	const char *rev = json_string_value(json_object_get(
	    json_object_get(json_object_get(pod, "metadata"), "labels"), STS_LABEL_REVISION));

	return rev ? rev : "";
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool sts_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 ||
	    mi < 0 || sec < 0)
		return false;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return false;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
	} else if (*p != 'Z' && *p != 'z') {
		return false;
	}
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - oh * 3600 - om * 60;
	return true;
}

const char *sts_revision_for(const struct sts_sync *s, int64_t ord, const json_t **tmpl)
{
	const struct ctl_revisions *r = s->in->rev;
	bool current = false;

	/* newVersionedStatefulSetPod: below the partition keeps the current revision; without a
	 * rollingUpdate block, the first status.currentReplicas ordinals do; OnDelete never. */
	if (!s->on_delete && s->paused)
		current = true; /* a paused rollout holds as if partition = replicas */
	else if (!s->on_delete && s->has_rolling)
		current = ord < s->start + s->partition;
	else if (!s->on_delete)
		current = ord < s->start + ctl_int(s->in->set, "status.currentReplicas", 0);
	*tmpl = current ? r->current_template : r->update_template;
	return current ? r->current : r->update;
}

/* ---- The new pod ------------------------------------------------------------------------------
 */

static int set_str(json_t *obj, const char *key, const char *val)
{
	return json_object_set_new(obj, key, json_string(val ? val : ""));
}

/* A copy of the object at key of src, or a new empty object. */
static json_t *copy_obj(const json_t *src, const char *key)
{
	const json_t *v = json_object_get(src, key);

	return json_is_object(v) ? json_deep_copy(v) : json_object();
}

json_t *sts_controller_ref(const json_t *set)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", "apps/v1", "kind",
	                 "StatefulSet", "name", sts_nz(ctl_str(set, "metadata.name")), "uid",
	                 sts_nz(ctl_str(set, "metadata.uid")), "controller", 1,
	                 "blockOwnerDeletion", 1);
}

static json_t *pod_metadata(const json_t *set, const char *revision, const json_t *tmeta,
                            const char *name, uint32_t ordinal)
{
	json_t *meta = json_object(), *labels = copy_obj(tmeta, "labels"), *refs = json_array();
	char idx[16];
	int rc = 0;

	snprintf(idx, sizeof idx, "%u", ordinal);
	rc |= set_str(labels, STS_LABEL_POD_NAME, name);
	rc |= set_str(labels, STS_LABEL_POD_INDEX, idx);
	rc |= set_str(labels, STS_LABEL_REVISION, revision);
	rc |= json_array_append_new(refs, sts_controller_ref(set));
	rc |= set_str(meta, "name", name);
	rc |= set_str(meta, "namespace", ctl_str(set, "metadata.namespace"));
	rc |= json_object_set_new(meta, "labels", labels);
	if (json_is_object(json_object_get(tmeta, "annotations")))
		rc |= json_object_set_new(meta, "annotations", copy_obj(tmeta, "annotations"));
	if (json_is_array(json_object_get(tmeta, "finalizers")))
		rc |= json_object_set_new(meta, "finalizers",
		                          json_deep_copy(json_object_get(tmeta, "finalizers")));
	rc |= json_object_set_new(meta, "ownerReferences", refs);
	if (rc != 0 || meta == NULL) {
		json_decref(meta);
		return NULL;
	}
	return meta;
}

/* The volume of a claim template: {name, persistentVolumeClaim: {claimName}}. */
static json_t *claim_volume(const char *claim, const char *set, uint32_t ordinal)
{
	char pvc[768];

	snprintf(pvc, sizeof pvc, "%s-%s-%u", claim, set, ordinal);
	return json_pack("{s:s,s:{s:s}}", "name", claim, "persistentVolumeClaim", "claimName", pvc);
}

/* updateStorage: one volume per claim template first, then the template's other volumes. */
static int pod_volumes(json_t *spec, const json_t *set, uint32_t ordinal)
{
	const json_t *claims =
	    json_object_get(json_object_get(set, "spec"), "volumeClaimTemplates");
	const json_t *old = json_object_get(spec, "volumes"), *c, *v;
	json_t *vols;
	size_t i, j;
	int rc = 0;

	if (json_array_size(claims) == 0)
		return 0;
	vols = json_array();
	json_array_foreach(claims, i, c)
	{
		const char *cn = ctl_str(c, "metadata.name");
		if (cn)
			rc |= json_array_append_new(
			    vols, claim_volume(cn, ctl_str(set, "metadata.name"), ordinal));
	}
	json_array_foreach(old, i, v)
	{
		const char *vn = ctl_str(v, "name");
		bool replaced = false;
		json_array_foreach(claims, j, c)
		{
			const char *cn = ctl_str(c, "metadata.name");
			replaced |= vn && cn && strcmp(vn, cn) == 0;
		}
		if (!replaced)
			rc |= json_array_append_new(vols, json_deep_copy(v));
	}
	return rc | json_object_set_new(spec, "volumes", vols);
}

json_t *ctl_sts_new_pod(const json_t *set, const char *revision, const json_t *template,
                        uint32_t ordinal)
{
	const char *set_name = ctl_str(set, "metadata.name"), *svc;
	json_t *pod, *spec;
	char name[512];
	int rc = 0;

	if (set_name == NULL || revision == NULL)
		return NULL;
	if (!json_is_object(template))
		template = json_object_get(json_object_get(set, "spec"), "template");
	snprintf(name, sizeof name, "%s-%u", set_name, ordinal);
	pod = json_pack("{s:s,s:s}", "apiVersion", "v1", "kind", "Pod");
	spec = copy_obj(template, "spec");
	svc = ctl_str(set, "spec.serviceName");
	/* initIdentity: hostname and subdomain are set once, at creation. */
	rc |= set_str(spec, "hostname", name);
	if (svc && *svc)
		rc |= set_str(spec, "subdomain", svc);
	rc |= pod_volumes(spec, set, ordinal);
	rc |= json_object_set_new(
	    pod, "metadata",
	    pod_metadata(set, revision, json_object_get(template, "metadata"), name, ordinal));
	rc |= json_object_set_new(pod, "spec", spec);
	if (rc != 0 || pod == NULL) {
		json_decref(pod);
		return NULL;
	}
	return pod;
}

/* ---- Identity and storage of existing pods ----------------------------------------------------
 */

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool sts_identity_matches(const struct sts_sync *s, const json_t *pod, int64_t ord, json_t **fixed)
{
	const json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	const char *name = ctl_str(pod, "metadata.name");
	json_t *copy, *l;
	char idx[24];
	int rc = 0;

	(void)s;
	snprintf(idx, sizeof idx, "%lld", (long long)ord);
	*fixed = NULL;
	/* Labels only, as upstream's identityMatches/updateIdentity: hostname and subdomain are set
	 * when the pod is created and never after (initIdentity: "immutable fields only on initial
	 * Pod creation"; the API refuses pod spec updates). */
	if (str_eq(json_string_value(json_object_get(labels, STS_LABEL_POD_NAME)), name) &&
	    str_eq(json_string_value(json_object_get(labels, STS_LABEL_POD_INDEX)), idx))
		return true;
	copy = json_deep_copy(pod);
	l = json_object_get(json_object_get(copy, "metadata"), "labels");
	if (!json_is_object(l)) {
		l = json_object();
		rc |= json_object_set_new(json_object_get(copy, "metadata"), "labels", l);
	}
	rc |= set_str(l, STS_LABEL_POD_NAME, name);
	rc |= set_str(l, STS_LABEL_POD_INDEX, idx);
	if (rc != 0 || copy == NULL) {
		json_decref(copy);
		return false;
	}
	*fixed = copy;
	return false;
}

bool sts_storage_matches(const struct sts_sync *s, const json_t *pod, int64_t ord)
{
	const json_t *claims =
	    json_object_get(json_object_get(s->in->set, "spec"), "volumeClaimTemplates");
	const json_t *vols = json_object_get(json_object_get(pod, "spec"), "volumes"), *c, *v;
	size_t i, j;

	json_array_foreach(claims, i, c)
	{
		const char *cn = ctl_str(c, "metadata.name");
		char want[768];
		bool found = false;

		if (cn == NULL)
			continue;
		snprintf(want, sizeof want, "%s-%s-%lld", cn, s->name, (long long)ord);
		json_array_foreach(vols, j, v)
		{
			found |= str_eq(ctl_str(v, "name"), cn) &&
			         str_eq(ctl_str(v, "persistentVolumeClaim.claimName"), want);
		}
		if (!found)
			return false;
	}
	return true;
}
