/* validate_sts.c — apps/v1 StatefulSets and ControllerRevisions: defaults of
 * pkg/apis/apps/v1/defaults.go (SetDefaults_StatefulSet and the generated defaulters of its
 * template and claim templates) and rules of pkg/apis/apps/validation/validation.go
 * (ValidateStatefulSetSpec, ValidateStatefulSetUpdate, ValidateControllerRevision), per
 * ../shared/STATEFULSET.md.
 *
 * Where stsd goes further than upstream (which checks neither): the template's PodSpec is
 * validated with the claim templates counted as volumes (the union upstream's TODO asks for), and
 * each claim template must have a DNS-1123 label name and a valid claim spec, because the
 * controller creates pods and claims from them and a bad one would only fail later, per replica.
 * The MaxUnavailableStatefulSet gate is alpha (off) in 1.32: maxUnavailable is validated but not
 * defaulted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "selector.h"
#include "validate_util.h"

#define IMMUTABLE_MSG                                                                            \
	"updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', " \
	"'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "    \
	"forbidden"

/* Go's String() of an empty *metav1.LabelSelector, as upstream prints it in the error. */
#define EMPTY_SELECTOR \
	"&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}"

/* ---- Defaults ---------------------------------------------------------------------------------
 */

static void strategy_defaults(json_t *spec)
{
	json_t *us = v_default_obj(spec, "updateStrategy"), *ru;

	if (us == NULL)
		return;
	if (v_str_empty(us, "type")) {
		v_default_str(us, "type", "RollingUpdate");
		v_default_obj(us, "rollingUpdate");
	}
	ru = v_obj(us, "rollingUpdate");
	if (ru && strcmp(v_str(us, "type") ? v_str(us, "type") : "", "RollingUpdate") == 0)
		v_default_int(ru, "partition", 0);
}

static void claim_template_defaults(json_t *claims)
{
	json_t *t;
	size_t i;

	json_array_foreach(claims, i, t)
	{
		if (!json_is_object(t))
			continue;
		/* The embedded claims serialize with their type meta, as kube-apiserver shows them.
		 */
		v_default_str(t, "apiVersion", "v1");
		v_default_str(t, "kind", "PersistentVolumeClaim");
		v_pvc_spec_defaults(v_default_obj(t, "spec"));
		v_default_str(v_default_obj(t, "status"), "phase", "Pending");
	}
}

void api_statefulset_defaults(json_t *obj)
{
	json_t *spec = v_default_obj(obj, "spec"), *policy, *template;

	if (spec == NULL)
		return;
	v_default_str(spec, "podManagementPolicy", "OrderedReady");
	strategy_defaults(spec);
	policy = v_default_obj(spec, "persistentVolumeClaimRetentionPolicy");
	v_default_str(policy, "whenDeleted", "Retain");
	v_default_str(policy, "whenScaled", "Retain");
	v_default_int(spec, "replicas", 1);
	v_default_int(spec, "revisionHistoryLimit", 10);
	template = v_default_obj(spec, "template");
	api_podspec_defaults(v_default_obj(template, "spec"));
	claim_template_defaults(v_arr(spec, "volumeClaimTemplates"));
	/* A new set shows the two status fields apps/v1 always serialises (no omitempty). */
	if (!json_is_object(json_object_get(obj, "status")))
		json_object_set_new(obj, "status",
		                    json_pack("{s:i,s:i}", "replicas", 0, "availableReplicas", 0));
}

/* ---- Update strategy --------------------------------------------------------------------------
 */

/* Go's IntOrString.String(): the number, or the string as is. */
static const char *int_or_string(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
	return buf;
}

static bool percent(const char *s, long *out)
{
	size_t n = strlen(s), i;
	long v = 0;

	if (n < 2 || s[n - 1] != '%')
		return false;
	for (i = 0; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v < 100000 ? v * 10 + (s[i] - '0') : v;
	}
	*out = v;
	return true;
}

/* validateRollingUpdateStatefulSet's maxUnavailable: int >= 1 or a percent in (0%, 100%]. */
static void max_unavailable(const json_t *mu, const char *path, struct api_invalid *inv)
{
	char raw[128];
	long value = 0;
	bool is_percent = false;

	int_or_string(mu, raw, sizeof raw);
	if (json_is_string(mu)) {
		is_percent = percent(json_string_value(mu), &value);
		if (!is_percent) {
			v_invalid_raw(
			    inv, path, raw,
			    "a valid percent string must be a numeric string followed by an "
			    "ending '%' (e.g. '1%',  or '93%', regex used for validation is "
			    "'[0-9]+%')");
			value = strtol(json_string_value(mu), NULL, 10);
		}
	} else if (json_is_integer(mu)) {
		json_int_t i = json_integer_value(mu);
		value = i < -100000 ? -100000 : i > 100000 ? 100000 : (long)i;
		if (i < 0)
			v_invalid_raw(inv, path, raw, "must be greater than or equal to 0");
	} else {
		v_invalid_raw(inv, path, raw, "must be an integer or percentage (e.g '5%%')");
		return;
	}
	if (value == 0)
		v_invalid_raw(inv, path, raw, "cannot be 0");
	if (is_percent && value > 100)
		v_invalid_raw(inv, path, raw, "must not be greater than 100%");
}

static void strategy(const json_t *spec, struct api_invalid *inv)
{
	json_t *us = v_obj(spec, "updateStrategy"), *ru = v_obj(us, "rollingUpdate");
	json_t *mu = json_object_get(ru, "maxUnavailable");
	const char *type = v_str(us, "type");
	char raw[256];

	if (type == NULL || *type == '\0') {
		v_required(inv, "spec.updateStrategy", "");
	} else if (strcmp(type, "OnDelete") == 0) {
		if (ru)
			v_invalid_raw(inv, "spec.updateStrategy.rollingUpdate",
			              "&RollingUpdateStatefulSetStrategy{...}",
			              "only allowed for updateStrategy 'RollingUpdate'");
	} else if (strcmp(type, "RollingUpdate") == 0) {
		v_nonneg(inv, "spec.updateStrategy.rollingUpdate.partition", ru, "partition");
		if (mu && !json_is_null(mu))
			max_unavailable(mu, "spec.updateStrategy.rollingUpdate.maxUnavailable",
			                inv);
	} else {
		snprintf(raw, sizeof raw, "&StatefulSetUpdateStrategy{Type:%s,RollingUpdate:%s,}",
		         type, ru ? "&RollingUpdateStatefulSetStrategy{...}" : "nil");
		v_invalid_raw(inv, "spec.updateStrategy", raw,
		              "must be 'RollingUpdate' or 'OnDelete'");
	}
}

/* ---- Selector and template --------------------------------------------------------------------
 */

static bool selector_is_empty(const json_t *sel)
{
	return json_object_size(v_obj(sel, "matchLabels")) == 0 &&
	       json_array_size(v_arr(sel, "matchExpressions")) == 0;
}

static void selector(const json_t *spec, struct api_invalid *inv)
{
	json_t *sel = json_object_get(spec, "selector");
	json_t *meta = v_obj(v_obj(spec, "template"), "metadata");
	json_t *labels = v_obj(meta, "labels");
	struct api_selector *s = NULL;
	char err[256], map[1024];

	if (sel == NULL || json_is_null(sel)) {
		v_required(inv, "spec.selector", "");
		return;
	}
	v_label_selector(inv, "spec.selector", sel);
	if (selector_is_empty(sel))
		v_invalid_raw(inv, "spec.selector", EMPTY_SELECTOR,
		              "empty selector is invalid for statefulset");
	if (api_label_selector_from_json(sel, &s, err, sizeof err) != 0) {
		v_invalid_raw(inv, "spec.selector", "&LabelSelector{...}", "");
		return;
	}
	if (!api_label_selector_empty(s) && !api_label_selector_matches(s, labels))
		v_invalid_raw(inv, "spec.template.metadata.labels",
		              v_go_map(labels, map, sizeof map),
		              "`selector` does not match template `labels`");
	api_label_selector_free(s);
}

/* The claim templates' names, as volumes the pods will have. */
static json_t *claims(const json_t *spec, struct api_invalid *inv)
{
	json_t *names = json_array(), *seen = json_object(), *t;
	size_t i;
	char at[V_PATH];

	json_array_foreach(v_arr(spec, "volumeClaimTemplates"), i, t)
	{
		const char *name = v_str(v_obj(t, "metadata"), "name");
		v_pathf(at, sizeof at, "spec.volumeClaimTemplates[%zu].metadata.name", i);
		if (name == NULL || *name == '\0')
			v_required(inv, at, "");
		else if (v_dns_label(inv, at, name) && json_object_get(seen, name))
			v_duplicate(inv, at, name);
		if (name && *name) {
			json_array_append_new(names, json_string(name));
			json_object_set_new(seen, name, json_true());
		}
		v_pathf(at, sizeof at, "spec.volumeClaimTemplates[%zu].metadata.labels", i);
		v_labels(inv, at, v_obj(v_obj(t, "metadata"), "labels"));
		v_pathf(at, sizeof at, "spec.volumeClaimTemplates[%zu].spec", i);
		v_pvc_spec(v_obj(t, "spec"), at, inv);
	}
	json_decref(seen);
	return names;
}

static void template(const json_t *spec, struct api_invalid *inv)
{
	static const char *const always[] = {"Always", NULL};
	json_t *tmpl = v_obj(spec, "template"), *meta = v_obj(tmpl, "metadata");
	json_t *tspec = v_obj(tmpl, "spec"), *names;
	const char *rp = v_str(tspec, "restartPolicy");

	/* Upstream's paths for these omit "metadata". */
	v_labels(inv, "spec.template.labels", v_obj(meta, "labels"));
	v_annotations(inv, "spec.template.annotations", v_obj(meta, "annotations"));
	if (rp == NULL || strcmp(rp, "Always") != 0)
		v_unsupported(inv, "spec.template.spec.restartPolicy", rp ? rp : "", always);
	if (v_has(tspec, "activeDeadlineSeconds"))
		v_forbidden(inv, "spec.template.spec.activeDeadlineSeconds",
		            "activeDeadlineSeconds in StatefulSet is not Supported");
	names = claims(spec, inv);
	v_podspec(tspec, "spec.template.spec", names, false, inv);
	json_decref(names);
}

/* ---- Validation -------------------------------------------------------------------------------
 */

static void policies(const json_t *spec, struct api_invalid *inv)
{
	static const char *const retain[] = {"Retain", "Delete", NULL};
	json_t *p = v_obj(spec, "persistentVolumeClaimRetentionPolicy");
	const char *pmp = v_str(spec, "podManagementPolicy");
	const char *wd = v_str(p, "whenDeleted"), *ws = v_str(p, "whenScaled");

	if (pmp == NULL || *pmp == '\0')
		v_required(inv, "spec.podManagementPolicy", "");
	else if (strcmp(pmp, "OrderedReady") != 0 && strcmp(pmp, "Parallel") != 0)
		v_invalid(inv, "spec.podManagementPolicy", pmp,
		          "must be 'OrderedReady' or 'Parallel'");
	if (p && !v_one_of(wd, retain))
		v_unsupported(inv, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
		              wd ? wd : "", retain);
	if (p && !v_one_of(ws, retain))
		v_unsupported(inv, "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
		              ws ? ws : "", retain);
}

static void immutable(const json_t *spec, const json_t *old, struct api_invalid *inv)
{
	static const char *const mutable_fields[] = {"replicas",
	                                             "ordinals",
	                                             "template",
	                                             "updateStrategy",
	                                             "minReadySeconds",
	                                             "persistentVolumeClaimRetentionPolicy",
	                                             NULL};
	json_t *a = json_deep_copy(spec), *b = json_deep_copy(v_obj(old, "spec"));

	for (size_t i = 0; mutable_fields[i]; i++) {
		json_object_del(a, mutable_fields[i]);
		json_object_del(b, mutable_fields[i]);
	}
	if (!v_semantic_equal(a, b))
		v_forbidden(inv, "spec", IMMUTABLE_MSG);
	json_decref(a);
	json_decref(b);
}

/* Upstream 1.32 names StatefulSets with DNS-1123 labels (ValidateStatefulSetName, NameIsDNSLabel),
 * on create only; the handler has checked the subdomain form already. */
static void name_is_label(const json_t *obj, struct api_invalid *inv)
{
	const char *name = v_str(v_obj(obj, "metadata"), "name");
	struct api_invalid probe = {0};

	if (name && *name && v_dns_subdomain(&probe, "metadata.name", name))
		v_dns_label(inv, "metadata.name", name);
	api_invalid_free(&probe);
}

/* stsd's own rule (not taken from upstream): every ordinal of the set must be an int32, since pod
 * names, claims and the planner parse it so; past INT32_MAX the controller would create a pod it
 * can never recognise. The wording follows apimachinery's "must be less than or equal to". */
static void ordinals_fit(const json_t *spec, struct api_invalid *inv)
{
	int64_t start, replicas = 1;

	if (!v_int(v_obj(spec, "ordinals"), "start", &start) || start < 0)
		return;
	if (v_has(spec, "replicas") && !v_int(spec, "replicas", &replicas))
		return;
	if (replicas >= 0 && replicas <= INT32_MAX && start > INT32_MAX - replicas)
		v_invalid_int(inv, "spec.ordinals.start", start,
		              "spec.ordinals.start + spec.replicas must be less than or equal to "
		              "2147483647");
}

void api_statefulset_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *spec = v_obj(obj, "spec"), *empty = NULL;

	if (spec == NULL)
		spec = empty = json_object();
	v_meta(inv, obj);
	if (old == NULL)
		name_is_label(obj, inv);
	policies(spec, inv);
	strategy(spec, inv);
	v_nonneg(inv, "spec.replicas", spec, "replicas");
	v_nonneg(inv, "spec.minReadySeconds", spec, "minReadySeconds");
	v_nonneg(inv, "spec.revisionHistoryLimit", spec, "revisionHistoryLimit");
	v_nonneg(inv, "spec.ordinals.start", v_obj(spec, "ordinals"), "start");
	ordinals_fit(spec, inv);
	selector(spec, inv);
	template(spec, inv);
	if (old)
		immutable(spec, old, inv);
	json_decref(empty);
}

/* ---- ControllerRevision -----------------------------------------------------------------------
 */

void api_controllerrevision_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	v_meta(inv, obj);
	if (!v_has(obj, "data"))
		v_required(inv, "data", "data is mandatory");
	v_nonneg(inv, "revision", obj, "revision");
	if (old && !v_semantic_equal(json_object_get(obj, "data"), json_object_get(old, "data")))
		v_invalid_raw(inv, "data", "runtime.RawExtension{...}", "field is immutable");
}
