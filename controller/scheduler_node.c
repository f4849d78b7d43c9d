/* scheduler_node.c — the scheduler's filters that look at the pod and one node only: resource
 * requests (noderesources/fit.go, resource.PodRequests), readiness, taints and tolerations
 * (tainttoleration, v1helper ToleratesTaint) and node affinity (nodeaffinity,
 * component-helpers nodeaffinity). Quantities come from api/quantity.h (stsd_api, for now). */
#include "errors.h"
#include "quantity.h"
#include "scheduler_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* One quantity of a resource list, in millis or units; 0 when absent, *bad set when malformed.
 * Negative amounts (refused by validation) count 0, which keeps every difference in range. */
static int64_t qty(const json_t *list, const char *name, bool milli, bool *bad)
{
	const json_t *v = json_object_get(list, name);
	struct api_quantity q;
	int64_t x;

	if (v == NULL)
		return 0;
	if (api_quantity_from_json(v, &q) != 0) {
		*bad = true;
		return 0;
	}
	x = milli ? api_quantity_milli(&q) : api_quantity_value(&q);
	return x < 0 ? 0 : x;
}

/* A container's requests; absent cpu/memory count 100m/200Mi towards the scoring figures
 * (upstream's DefaultMilliCPURequest and DefaultMemoryRequest). */
static struct sched_res container_req(const json_t *c, bool *bad)
{
	const json_t *r = json_object_get(json_object_get(c, "resources"), "requests");
	struct sched_res x = {0};

	x.cpu = qty(r, "cpu", true, bad);
	x.mem = qty(r, "memory", false, bad);
	x.eph = qty(r, "ephemeral-storage", false, bad);
	x.nz_cpu = json_object_get(r, "cpu") ? x.cpu : 100;
	x.nz_mem = json_object_get(r, "memory") ? x.mem : 200 * 1024 * 1024;
	return x;
}

void ctl_sched_res_add(struct sched_res *a, const struct sched_res *b)
{
	a->cpu = sat_add(a->cpu, b->cpu);
	a->mem = sat_add(a->mem, b->mem);
	a->eph = sat_add(a->eph, b->eph);
	a->nz_cpu = sat_add(a->nz_cpu, b->nz_cpu);
	a->nz_mem = sat_add(a->nz_mem, b->nz_mem);
}

static void res_max(struct sched_res *a, const struct sched_res *b)
{
	a->cpu = a->cpu > b->cpu ? a->cpu : b->cpu;
	a->mem = a->mem > b->mem ? a->mem : b->mem;
	a->eph = a->eph > b->eph ? a->eph : b->eph;
	a->nz_cpu = a->nz_cpu > b->nz_cpu ? a->nz_cpu : b->nz_cpu;
	a->nz_mem = a->nz_mem > b->nz_mem ? a->nz_mem : b->nz_mem;
}

/* The pod's effective requests as resource.PodRequests computes them: the containers' sum; each
 * init container runs alone beside the restartable (sidecar) init containers started before it,
 * so the result is at least the largest such moment; sidecars also run beside the containers;
 * then the overhead. STSD_INVALID when a quantity is malformed (those count 0). */
int ctl_sched_pod_req(const json_t *pod, struct sched_res *out)
{
	const json_t *spec = json_object_get(pod, "spec"), *c;
	struct sched_res sum = {0}, init_max = {0}, sidecars = {0};
	bool bad = false;
	size_t i;

	json_array_foreach(json_object_get(spec, "containers"), i, c)
	{
		struct sched_res x = container_req(c, &bad);
		ctl_sched_res_add(&sum, &x);
	}
	json_array_foreach(json_object_get(spec, "initContainers"), i, c)
	{
		struct sched_res x = container_req(c, &bad);
		if (streq(str(c, "restartPolicy"), "Always")) {
			ctl_sched_res_add(&sum, &x);
			ctl_sched_res_add(&sidecars, &x);
			x = sidecars;
		} else {
			ctl_sched_res_add(&x, &sidecars);
		}
		res_max(&init_max, &x);
	}
	res_max(&sum, &init_max);
	const json_t *ov = json_object_get(spec, "overhead");
	struct sched_res o = {0};
	o.cpu = qty(ov, "cpu", true, &bad);
	o.mem = qty(ov, "memory", false, &bad);
	o.eph = qty(ov, "ephemeral-storage", false, &bad);
	o.nz_cpu = o.cpu;
	o.nz_mem = o.mem;
	ctl_sched_res_add(&sum, &o);
	sum.pods = 1;
	*out = sum;
	return bad ? STSD_INVALID : 0;
}

struct sched_res ctl_sched_node_alloc(const json_t *node)
{
	const json_t *status = json_object_get(node, "status");
	const json_t *a = json_object_get(status, "allocatable");
	struct sched_res r = {0};
	bool bad = false;

	if (!json_is_object(a))
		a = json_object_get(status, "capacity");
	r.cpu = qty(a, "cpu", true, &bad);
	r.mem = qty(a, "memory", false, &bad);
	r.eph = qty(a, "ephemeral-storage", false, &bad);
	r.pods = qty(a, "pods", false, &bad);
	r.nz_cpu = r.cpu;
	r.nz_mem = r.mem;
	return r; /* a malformed amount counts 0: the node fits nothing needing it */
}

/* NodeResourcesFit (fitsRequest): appends "Too many pods" / "Insufficient <name>" reasons. */
size_t ctl_sched_fit(const struct sched_res *alloc, const struct sched_res *used,
                     const struct sched_res *req, char reasons[][REASON_MAX])
{
	size_t k = 0;

	if (used->pods + 1 > alloc->pods)
		snprintf(reasons[k++], REASON_MAX, "Too many pods");
	if (req->cpu == 0 && req->mem == 0 && req->eph == 0)
		return k;
	if (req->cpu > 0 && req->cpu > alloc->cpu - used->cpu)
		snprintf(reasons[k++], REASON_MAX, "Insufficient cpu");
	if (req->mem > 0 && req->mem > alloc->mem - used->mem)
		snprintf(reasons[k++], REASON_MAX, "Insufficient memory");
	if (req->eph > 0 && req->eph > alloc->eph - used->eph)
		snprintf(reasons[k++], REASON_MAX, "Insufficient ephemeral-storage");
	return k;
}

/* ---- taints, readiness, node affinity ---- */

/* v1helper ToleratesTaint: an empty toleration key matches every key (validation allows it only
 * with Exists); an empty effect matches every effect. */
bool ctl_sched_tolerates(const json_t *spec, const char *key, const char *value, const char *effect)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(spec, "tolerations"), i, t)
	{
		const char *tk = str(t, "key"), *te = str(t, "effect"), *op = str(t, "operator");
		const char *tv = str(t, "value");
		if (te && *te && strcmp(te, effect) != 0)
			continue;
		if (tk && *tk && strcmp(tk, key) != 0)
			continue;
		if (streq(op, "Exists"))
			return true;
		if ((op == NULL || *op == '\0' || streq(op, "Equal")) &&
		    strcmp(tv ? tv : "", value) == 0)
			return true;
	}
	return false;
}

/* The taint a node that is not Ready carries (nodelifecycle: not-ready for False or no
 * condition yet, as kubelet registers nodes; unreachable for Unknown), or NULL when Ready. */
const char *ctl_sched_not_ready(const json_t *node)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
	{
		if (!streq(str(c, "type"), "Ready"))
			continue;
		if (streq(str(c, "status"), "True"))
			return NULL;
		if (streq(str(c, "status"), "Unknown"))
			return "node.kubernetes.io/unreachable";
		break;
	}
	return "node.kubernetes.io/not-ready";
}

/* TaintToleration: the first NoSchedule/NoExecute taint the pod does not tolerate. */
bool ctl_sched_untolerated_taint(const json_t *node, const json_t *spec, char *reason)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t)
	{
		const char *key = str(t, "key"), *value = str(t, "value"),
		           *effect = str(t, "effect");
		if (!streq(effect, "NoSchedule") && !streq(effect, "NoExecute"))
			continue;
		if (ctl_sched_tolerates(spec, key ? key : "", value ? value : "", effect))
			continue;
		snprintf(reason, REASON_MAX, "node(s) had untolerated taint {%s: %s}",
		         key ? key : "", value ? value : "");
		return true;
	}
	return false;
}

static bool parse_i64(const char *s, int64_t *v)
{
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	*v = strtoll(s, &end, 10);
	return *end == '\0';
}

/* One NodeSelectorRequirement; actual is the node's value for its key, NULL when absent. */
static bool requirement_matches(const json_t *req, const char *actual)
{
	const char *op = str(req, "operator");
	const json_t *values = json_object_get(req, "values");
	int64_t have, want;

	if (streq(op, "In"))
		return actual && in_array(values, actual);
	if (streq(op, "NotIn"))
		return actual == NULL || !in_array(values, actual);
	if (streq(op, "Exists"))
		return actual != NULL;
	if (streq(op, "DoesNotExist"))
		return actual == NULL;
	if (!streq(op, "Gt") && !streq(op, "Lt"))
		return false;
	if (json_array_size(values) != 1 || !parse_i64(actual, &have) ||
	    !parse_i64(json_string_value(json_array_get(values, 0)), &want))
		return false;
	return streq(op, "Gt") ? have > want : have < want;
}

/* A NodeSelectorTerm: all its requirements hold; an empty term matches nothing. */
static bool term_matches_node(const json_t *term, const json_t *labels, const char *name)
{
	const json_t *exprs = json_object_get(term, "matchExpressions");
	const json_t *fields = json_object_get(term, "matchFields");
	const json_t *r;
	size_t i;

	if (json_array_size(exprs) == 0 && json_array_size(fields) == 0)
		return false;
	json_array_foreach(exprs, i, r)
	{
		const char *key = str(r, "key");
		if (!requirement_matches(r, key ? str(labels, key) : NULL))
			return false;
	}
	json_array_foreach(fields, i, r)
	{
		if (!requirement_matches(r, streq(str(r, "key"), "metadata.name") ? name : NULL))
			return false;
	}
	return true;
}

/* NodeAffinity: spec.nodeSelector and the required node affinity (its terms ORed). */
bool ctl_sched_node_affinity_ok(const json_t *spec, const json_t *node, const char *name)
{
	const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
	const json_t *req, *term, *v;
	const char *key;
	size_t i;

	json_object_foreach((json_t *)json_object_get(spec, "nodeSelector"), key, v)
	{
		if (!streq(str(labels, key), json_string_value(v)))
			return false;
	}
	req = json_object_get(json_object_get(json_object_get(spec, "affinity"), "nodeAffinity"),
	                      "requiredDuringSchedulingIgnoredDuringExecution");
	if (!json_is_object(req))
		return true;
	json_array_foreach(json_object_get(req, "nodeSelectorTerms"), i, term)
	{
		if (term_matches_node(term, labels, name))
			return true;
	}
	return false;
}
