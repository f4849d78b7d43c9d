/* validate_node.c — Nodes, Leases and Events: rules of pkg/apis/core/validation/validation.go
 * (ValidateNode, ValidateNodeUpdate), pkg/apis/coordination/validation/validation.go
 * (ValidateLeaseSpec) and pkg/apis/core/validation/events.go (the legacy rules core/v1 Events
 * get). Upstream applies no defaults to core/v1 Events; neither do we. */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "validate_util.h"

/* ---- Nodes ------------------------------------------------------------------------------------
 */

static void taints(const json_t *spec, struct api_invalid *inv)
{
	static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
	json_t *t, *seen = json_object();
	size_t i;
	char at[V_PATH], key[600];

	/* Upstream reports taints under "metadata.taints" (ValidateNode passes the metadata path).
	 */
	json_array_foreach(v_arr(spec, "taints"), i, t)
	{
		const char *k = v_str(t, "key"), *val = v_str(t, "value"),
		           *eff = v_str(t, "effect");
		v_pathf(at, sizeof at, "metadata.taints[%zu].key", i);
		v_qualified_name(inv, at, k ? k : "");
		v_pathf(at, sizeof at, "metadata.taints[%zu].value", i);
		if (val)
			v_label_value(inv, at, val);
		v_pathf(at, sizeof at, "metadata.taints[%zu].effect", i);
		if (eff == NULL || *eff == '\0')
			v_required(inv, at, "");
		else if (!v_one_of(eff, effects))
			v_unsupported(inv, at, eff, effects);
		snprintf(key, sizeof key, "%s\n%s", k ? k : "", eff ? eff : "");
		v_pathf(at, sizeof at, "metadata.taints[%zu]", i);
		if (json_object_get(seen, key))
			api_invalid_add(
			    inv, "FieldValueDuplicate", at,
			    "Duplicate value: core.Taint{Key:\"%s\", Effect:\"%s\"}: taints "
			    "must be unique by key and effect pair",
			    k ? k : "", eff ? eff : "");
		json_object_set_new(seen, key, json_true());
	}
	json_decref(seen);
}

static void resource_list(const json_t *list, const char *path, struct api_invalid *inv)
{
	const char *k;
	json_t *v;
	struct api_quantity q;
	char at[V_PATH], text[128];

	json_object_foreach((json_t *)list, k, v)
	{
		v_pathf(at, sizeof at, "%s.%s", path, k);
		if (!v_quantity(inv, at, v, &q))
			continue;
		v_quantity_text(v, text, sizeof text);
		if (api_quantity_sign(&q) < 0)
			v_invalid(inv, at, text, "must be greater than or equal to 0");
		else if (strcmp(k, "pods") == 0 && api_quantity_milli(&q) % 1000 != 0)
			v_invalid(inv, at, text, "must be an integer");
	}
}

static void cidrs(const json_t *spec, struct api_invalid *inv)
{
	json_t *list = v_arr(spec, "podCIDRs"), *c, *seen = json_object();
	const char *one = v_str(spec, "podCIDR");
	size_t i;
	char at[V_PATH];

	json_array_foreach(list, i, c)
	{
		const char *s = json_is_string(c) ? json_string_value(c) : "";
		v_pathf(at, sizeof at, "spec.podCIDRs[%zu]", i);
		v_cidr(inv, at, s);
		if (json_object_get(seen, s))
			v_duplicate(inv, at, s);
		json_object_set_new(seen, s, json_true());
	}
	json_decref(seen);
	if (json_array_size(list) > 2)
		v_invalid_raw(inv, "spec.podCIDRs", "[]string{...}",
		              "may specify no more than one CIDR for each IP family");
	/* The singular field mirrors podCIDRs[0]; stsd checks it too as agents read it. */
	if (one && *one)
		v_cidr(inv, "spec.podCIDR", one);
}

static void node_update(const json_t *spec, const json_t *old, struct api_invalid *inv)
{
	json_t *a = v_arr(spec, "podCIDRs"), *b = v_arr(old, "podCIDRs");
	const char *pid = v_str(spec, "providerID"), *opid = v_str(old, "providerID");
	const char *msg = "node updates may not change podCIDR except from \"\" to valid";

	if (json_array_size(b) > 0 && !v_semantic_equal(a, b))
		v_forbidden(inv, "spec.podCIDRs", msg);
	if (!v_str_empty(old, "podCIDR") &&
	    !v_semantic_equal(json_object_get(spec, "podCIDR"), json_object_get(old, "podCIDR")))
		v_forbidden(inv, "spec.podCIDRs", msg);
	if (opid && *opid && (pid == NULL || strcmp(pid, opid) != 0))
		v_forbidden(inv, "spec.providerID",
		            "node updates may not change providerID except from \"\" to valid");
	if (!v_semantic_equal(json_object_get(spec, "externalID"),
	                      json_object_get(old, "externalID")))
		v_forbidden(inv, "spec.externalID", "may not be updated");
}

void api_node_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *spec = v_obj(obj, "spec"), *status = v_obj(obj, "status");

	v_meta(inv, obj);
	taints(spec, inv);
	resource_list(v_obj(status, "capacity"), "status.capacity", inv);
	resource_list(v_obj(status, "allocatable"), "status.allocatable", inv);
	cidrs(spec, inv);
	if (old)
		node_update(spec, v_obj(old, "spec"), inv);
}

/* ---- Leases -----------------------------------------------------------------------------------
 */

void api_lease_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *spec = v_obj(obj, "spec");
	int64_t v;

	(void)old;
	v_meta(inv, obj);
	if (v_int(spec, "leaseDurationSeconds", &v) && v <= 0)
		v_invalid_int(inv, "spec.leaseDurationSeconds", v, "must be greater than 0");
	if (v_int(spec, "leaseTransitions", &v) && v < 0)
		v_invalid_int(inv, "spec.leaseTransitions", v,
		              "must be greater than or equal to 0");
}

/* ---- Events -----------------------------------------------------------------------------------
 */

void api_event_defaults(json_t *obj)
{
	(void)obj;
}

/* Whether the kind of apiVersion is namespaced: 1 yes, 0 no, -1 unknown to the table. */
static int namespaced_kind(const char *kind, const char *api_version)
{
	const struct api_resource *res;
	const char *slash = api_version ? strchr(api_version, '/') : NULL;
	size_t n, glen = slash ? (size_t)(slash - api_version) : 0;

	if (kind == NULL || api_version == NULL)
		return -1;
	res = api_resources(&n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(res[i].kind, kind) == 0 && strlen(res[i].group) == glen &&
		    strncmp(res[i].group, api_version, glen) == 0)
			return res[i].namespaced;
	}
	return -1;
}

static void max_len(const json_t *obj, const char *key, const char *path, size_t max,
                    struct api_invalid *inv)
{
	const char *s = v_str(obj, key);
	char why[64];

	snprintf(why, sizeof why, "can have at most %zu characters", max);
	if (s && strlen(s) > max)
		v_invalid(inv, path, "", why);
}

/* Events with an eventTime (the events.k8s.io shape written through v1). */
static void series_event(const json_t *obj, const char *ns, const char *ins,
                         struct api_invalid *inv)
{
	static const char *const required[] = {"reportingComponent", "reportingInstance", "action",
	                                       "reason", NULL};

	if ((ins == NULL || *ins == '\0') && strcmp(ns, "default") && strcmp(ns, "kube-system"))
		v_invalid(inv, "involvedObject.namespace", ins ? ins : "",
		          "does not match event.namespace");
	for (size_t i = 0; required[i]; i++)
		if (v_str_empty(obj, required[i]))
			v_required(inv, required[i], "");
	if (!v_str_empty(obj, "reportingComponent"))
		v_qualified_name(inv, "reportingComponent", v_str(obj, "reportingComponent"));
	max_len(obj, "reportingInstance", "reportingInstance", 128, inv);
	max_len(obj, "action", "action", 128, inv);
	max_len(obj, "reason", "reason", 128, inv);
	max_len(obj, "message", "message", 1024, inv);
}

void api_event_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *io = v_obj(obj, "involvedObject");
	const char *ns = v_str(v_obj(obj, "metadata"), "namespace");
	const char *ins = v_str(io, "namespace"), *kind = v_str(io, "kind");
	int scoped = namespaced_kind(kind, v_str(io, "apiVersion"));
	char why[128];

	(void)old;
	ns = ns ? ns : "";
	v_meta(inv, obj);
	if (!v_str_empty(obj, "eventTime")) {
		series_event(obj, ns, ins, inv);
	} else if (ins == NULL || *ins == '\0') {
		if (*ns && strcmp(ns, "default") != 0)
			v_invalid(inv, "involvedObject.namespace", "",
			          "does not match event.namespace");
	} else if (strcmp(ns, ins) != 0) {
		v_invalid(inv, "involvedObject.namespace", ins, "does not match event.namespace");
	}
	if (scoped == 1 && (ins == NULL || *ins == '\0')) {
		snprintf(why, sizeof why, "required for kind %s", kind);
		v_required(inv, "involvedObject.namespace", why);
	} else if (scoped == 0 && ins && *ins) {
		snprintf(why, sizeof why, "not allowed for kind %s", kind);
		v_invalid(inv, "involvedObject.namespace", ins, why);
	}
	if (*ns)
		v_dns_subdomain(inv, "namespace", ns);
}
