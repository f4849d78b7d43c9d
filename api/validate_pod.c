/* validate_pod.c — Pods: defaults a pod gets from kube-apiserver on top of its PodSpec's
 * (SetDefaults_Pod, the Priority admission plugin's priority 0, status Pending with its QoS class),
 * the pod-only rules, and which fields an update may change (ValidatePodUpdate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "validate_util.h"

/* ---- Defaults ---------------------------------------------------------------------------------
 */

/* SetDefaults_Pod: a limit without a request makes the request equal to the limit. */
static void requests_from_limits(json_t *containers)
{
	json_t *c, *v;
	const char *k;
	size_t i;

	json_array_foreach(containers, i, c)
	{
		json_t *res = v_obj(c, "resources"), *limits = v_obj(res, "limits"), *requests;
		if (limits == NULL || json_object_size(limits) == 0)
			continue;
		requests = v_default_obj(res, "requests");
		json_object_foreach(limits, k, v)
		{
			if (requests && !json_object_get(requests, k))
				json_object_set(requests, k, v);
		}
	}
}

struct qos_sum {
	int64_t req[2], lim[2]; /* cpu, memory in thousandths */
	bool has_req[2], has_lim[2];
	bool guaranteed;
};

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b; /* b > 0 */
}

static void qos_add(json_t *list, struct qos_sum *s)
{
	static const char *const names[] = {"cpu", "memory"};
	json_t *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		json_t *res = v_obj(c, "resources");
		bool found[2] = {false, false};
		for (int r = 0; r < 2; r++) {
			struct api_quantity q;
			json_t *rq = json_object_get(v_obj(res, "requests"), names[r]);
			json_t *lq = json_object_get(v_obj(res, "limits"), names[r]);
			if (rq && api_quantity_from_json(rq, &q) == 0 &&
			    api_quantity_sign(&q) > 0) {
				s->req[r] = sat_add(s->req[r], api_quantity_milli(&q));
				s->has_req[r] = true;
			}
			if (lq && api_quantity_from_json(lq, &q) == 0 &&
			    api_quantity_sign(&q) > 0) {
				s->lim[r] = sat_add(s->lim[r], api_quantity_milli(&q));
				s->has_lim[r] = found[r] = true;
			}
		}
		if (!found[0] || !found[1])
			s->guaranteed = false;
	}
}

/* qos.ComputePodQOS over cpu and memory of all containers. */
static const char *qos_class(json_t *spec)
{
	struct qos_sum s = {.guaranteed = true};

	qos_add(v_arr(spec, "containers"), &s);
	qos_add(v_arr(spec, "initContainers"), &s);
	if (!s.has_req[0] && !s.has_req[1] && !s.has_lim[0] && !s.has_lim[1])
		return "BestEffort";
	for (int r = 0; r < 2 && s.guaranteed; r++)
		if (s.has_req[r] != s.has_lim[r] || s.req[r] != s.lim[r])
			s.guaranteed = false;
	return s.guaranteed ? "Guaranteed" : "Burstable";
}

void api_pod_defaults(json_t *obj)
{
	json_t *spec = v_default_obj(obj, "spec"), *status;

	if (spec == NULL)
		return;
	api_podspec_defaults(spec);
	v_default_bool(spec, "enableServiceLinks", true);
	requests_from_limits(v_arr(spec, "containers"));
	requests_from_limits(v_arr(spec, "initContainers"));
	if (!v_has(spec, "priority") && v_str_empty(spec, "priorityClassName")) {
		v_default_int(spec, "priority", 0);
		v_default_str(spec, "preemptionPolicy", "PreemptLowerPriority");
	}
	status = v_default_obj(obj, "status");
	v_default_str(status, "phase", "Pending");
	v_default_str(status, "qosClass", qos_class(spec));
}

/* ---- Updates ----------------------------------------------------------------------------------
 */

#define UPDATABLE                                                                                  \
	"pod updates may not change fields other than `spec.containers[*].image`,"                 \
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "    \
	"additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be " \
	"set to 1 if it was previously negative)"

static bool same_count(json_t *spec, json_t *old, const char *key, struct api_invalid *inv)
{
	char at[V_PATH];

	if (json_array_size(v_arr(spec, key)) == json_array_size(v_arr(old, key)))
		return true;
	v_pathf(at, sizeof at, "spec.%s", key);
	v_forbidden(inv, at, "pod updates may not add or remove containers");
	return false;
}

static bool deadline(json_t *spec, json_t *old, struct api_invalid *inv)
{
	int64_t n, o;
	bool has_n = v_int(spec, "activeDeadlineSeconds", &n);
	bool has_o = v_int(old, "activeDeadlineSeconds", &o);
	const char *at = "spec.activeDeadlineSeconds";

	if (has_n && (n < 0 || n > 2147483647)) {
		v_invalid_int(inv, at, n, "must be between 0 and 2147483647, inclusive");
		return false;
	}
	if (has_n && has_o && o < n) {
		v_invalid_int(inv, at, n, "must be less than or equal to previous value");
		return false;
	}
	if (!has_n && has_o)
		v_invalid(inv, at, "null", "must not update from a positive integer to nil value");
	return true;
}

/* A toleration as text, without tolerationSeconds (which may change) and without zero-valued
 * members (as Go sees them): equal tolerations give equal keys. NULL on out of memory. */
static char *toleration_key(const json_t *t)
{
	json_t *c = json_is_object(t) ? json_deep_copy(t) : json_object(), *v;
	const char *k;
	void *tmp;
	char *key;

	json_object_del(c, "tolerationSeconds");
	json_object_foreach_safe(c, tmp, k, v)
	{
		if (v_semantic_equal(v, NULL))
			json_object_del(c, k);
	}
	key = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c);
	return key;
}

/* validateOnlyAddedTolerations: every old toleration is still there (tolerationSeconds may
 * change); one pass over each list. */
static void tolerations_added(json_t *spec, json_t *old, struct api_invalid *inv)
{
	json_t *present = json_object(), *t;
	size_t i;
	char *key;
	bool missing = false;

	json_array_foreach(v_arr(spec, "tolerations"), i, t)
	{
		if ((key = toleration_key(t)) != NULL)
			json_object_set_new(present, key, json_true());
		free(key);
	}
	json_array_foreach(v_arr(old, "tolerations"), i, t)
	{
		key = toleration_key(t);
		missing = missing || key == NULL || json_object_get(present, key) == NULL;
		free(key);
	}
	json_decref(present);
	if (missing)
		v_forbidden(inv, "spec.tolerations",
		            "existing toleration can not be modified except its tolerationSeconds");
}

static void copy_images(json_t *munged, json_t *old, const char *key)
{
	json_t *c;
	size_t i;

	json_array_foreach(v_arr(munged, key), i, c)
	{
		json_t *oc = json_array_get(v_arr(old, key), i);
		if (json_is_object(c) && json_object_get(oc, "image"))
			json_object_set(c, "image", json_object_get(oc, "image"));
		else if (json_is_object(c))
			json_object_del(c, "image");
	}
}

static void keep_old(json_t *munged, json_t *old, const char *key)
{
	json_t *v = json_object_get(old, key);

	if (v)
		json_object_set(munged, key, v);
	else
		json_object_del(munged, key);
}

/* The spec with the mutable fields taken from old must equal old. */
static void rest_unchanged(json_t *spec, json_t *old, struct api_invalid *inv)
{
	json_t *munged = json_deep_copy(spec);
	int64_t og, ng;
	const char *k;
	json_t *v;
	char msg[480];
	size_t off;

	copy_images(munged, old, "containers");
	copy_images(munged, old, "initContainers");
	keep_old(munged, old, "activeDeadlineSeconds");
	keep_old(munged, old, "tolerations");
	keep_old(munged, old, "schedulingGates");
	/* stsd goes further: binding a pod (nodeName from "" to a node) is an update here, as there
	 * is no pods/binding subresource. */
	if (v_str_empty(old, "nodeName"))
		keep_old(munged, old, "nodeName");
	if (v_int(old, "terminationGracePeriodSeconds", &og) && og < 0 &&
	    v_int(spec, "terminationGracePeriodSeconds", &ng) && ng == 1)
		keep_old(munged, old, "terminationGracePeriodSeconds");
	if (munged && !v_semantic_equal(munged, old)) {
		/* Upstream appends a go-cmp diff; name the top-level fields that differ instead. */
		off = (size_t)snprintf(msg, sizeof msg, "%s", UPDATABLE);
		json_object_foreach(munged, k, v)
		{
			if (off < sizeof msg && !v_semantic_equal(v, json_object_get(old, k)))
				off +=
				    (size_t)snprintf(msg + off, sizeof msg - off, "\n  spec.%s", k);
		}
		json_object_foreach(old, k, v)
		{
			if (off < sizeof msg && !json_object_get(munged, k) &&
			    !v_semantic_equal(v, NULL))
				off +=
				    (size_t)snprintf(msg + off, sizeof msg - off, "\n  spec.%s", k);
		}
		v_forbidden(inv, "spec", msg);
	}
	json_decref(munged);
}

static void pod_update(json_t *spec, json_t *old, struct api_invalid *inv)
{
	if (!json_is_object(spec) || !json_is_object(old))
		return;
	if (!same_count(spec, old, "containers", inv) ||
	    !same_count(spec, old, "initContainers", inv))
		return;
	if (!deadline(spec, old, inv))
		return;
	tolerations_added(spec, old, inv);
	rest_unchanged(spec, old, inv);
}

/* ---- Validation -------------------------------------------------------------------------------
 */

void api_pod_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *spec = v_obj(obj, "spec");

	v_meta(inv, obj);
	v_podspec(spec, "spec", NULL, true, inv);
	if (old == NULL) {
		if (json_array_size(v_arr(spec, "ephemeralContainers")) > 0)
			v_forbidden(inv, "spec.ephemeralContainers", "cannot be set on create");
		if (!v_str_empty(spec, "nodeName") &&
		    json_array_size(v_arr(spec, "schedulingGates")) > 0)
			v_forbidden(inv, "spec.nodeName",
			            "cannot be set until all schedulingGates have been cleared");
		return;
	}
	pod_update(spec, v_obj(old, "spec"), inv);
}
