/* node.c — the node lifecycle planner (node.h): Ready Unknown and the unreachable taints after
 * silence, pods marked not ready, claims released once the node is proven fenced, pod CIDRs.
 *
 * Upstream read (through the search tool, not copied): pkg/controller/nodelifecycle
 * node_lifecycle_controller.go (tryUpdateNodeHealth: an existing condition not yet Unknown becomes
 * Unknown with reason NodeStatusUnknown, message "Kubelet stopped posting node status.", a new
 * lastTransitionTime and the old lastHeartbeatTime; a missing one is added with reason
 * NodeStatusNeverUpdated, "Kubelet never posted node status."; the unreachable NoExecute taint
 * carries timeAdded, the NoSchedule one none), pkg/controller/util/node controller_utils.go
 * (MarkPodsNotReady: the pod's existing Ready condition becomes False, pods bound elsewhere are
 * skipped; RecordNodeStatusChange: a Normal event "Node X status is now: NodeNotReady") and
 * pkg/controller/nodeipam/ipam/cidrset (the lowest free subnet; a node's CIDR occupies every
 * subnet it overlaps).
 *
 * Decisions where node.h leaves room:
 * - Only the Ready condition is written (upstream also turns MemoryPressure, DiskPressure and
 *   PIDPressure Unknown; stsd's agents do not post them).
 * - A pod's Ready condition gets reason NodeNotReady and message "Node is not ready" (upstream
 *   only flips the status). A pod already Ready=False with reason NodeNotReady, a pod in phase
 *   Succeeded or Failed and a pod without a Ready condition (never ready, nothing to withdraw,
 *   as upstream) are left alone; a terminating pod is still marked.
 * - ctl_node_plan does not assign spec.podCIDR: its input has neither the other nodes nor the
 *   cluster range. The executor calls ctl_node_cidr and writes the CIDR in a command of its own.
 * - Fencing: a claim is matched to a pod by metadata.uid and namespace. A matched pod bound to
 *   another node (spec.nodeName) is a contradiction in the input: neither the pod nor the claim is
 *   touched. A claim without set or pod uid cannot be released by uid and is skipped. Pods that
 *   hold no claim are deleted with force (claim false, claim_uid empty) unless pinned, which
 *   leaves them waiting exactly like pinned claim holders.
 * - A pinned pod whose annotation is set in this plan gets one CTL_UPDATE carrying both the
 *   annotation and, past grace, its Ready=False (the executor writes objects whole; a second
 *   action on the same pod is not allowed).
 * - CTL_RELEASE_CLAIM names resource "pods", the claim's namespace and pod name, and sets claim,
 *   claim_set, claim_ordinal and claim_uid.
 * - The plan asks for a requeue at the next threshold (grace, then fence) the node has not yet
 *   crossed; that is not an action, so a healthy node's plan stays empty.
 * - ctl_node_cidr accepts a cluster range with host bits set and uses its network (as Go's
 *   net.ParseCIDR, which kube-controller-manager uses); octets and prefixes with leading zeros
 *   are refused. A node's spec.podCIDR and each of its spec.podCIDRs occupy what they overlap. */
#include "node.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "util.h"

#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define ANN_WAITING       "stsd.io/waiting-for-node"

struct node_sync {
	const struct ctl_node_input *in;
	struct ctl_plan *plan;
	const char *name;
	char now[32];
	bool past_grace;
	bool error;
	size_t released; /* claims released (with their pod or alone) */
	size_t deleted;  /* pods deleted with force */
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static bool str_is(const json_t *obj, const char *path, const char *want)
{
	const char *v = ctl_str(obj, path);

	return v != NULL && strcmp(v, want) == 0;
}

/* The entry of conditions (an array, or anything else) whose type is "Ready", or NULL. */
static json_t *ready_of(const json_t *conds)
{
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c)
	{
		if (str_is(c, "type", "Ready"))
			return c;
	}
	return NULL;
}

static json_t *conditions_of(const json_t *obj)
{
	return json_object_get(json_object_get(obj, "status"), "conditions");
}

/* The child object key of obj, replaced by an empty one when absent or of another type. */
static json_t *child(json_t *obj, const char *key, json_t *(*make)(void), int (*is)(const json_t *))
{
	json_t *v = json_object_get(obj, key);

	if (is(v))
		return v;
	v = make();
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return NULL;
	return v;
}

static int is_object(const json_t *v)
{
	return json_is_object(v);
}

static int is_array(const json_t *v)
{
	return json_is_array(v);
}

/* ---- The node object ------------------------------------------------------------------------- */

static bool is_unreachable(const json_t *t, const char *effect)
{
	return str_is(t, "key", TAINT_UNREACHABLE) &&
	       (effect == NULL || str_is(t, "effect", effect));
}

static bool has_taint(const json_t *node, const char *effect)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t)
	{
		if (is_unreachable(t, effect))
			return true;
	}
	return false;
}

static int add_taint(json_t *node, const char *effect, const char *time_added)
{
	json_t *spec = child(node, "spec", json_object, is_object);
	json_t *taints = spec ? child(spec, "taints", json_array, is_array) : NULL;
	json_t *t = json_pack("{s:s,s:s}", "key", TAINT_UNREACHABLE, "effect", effect);

	if (t != NULL && time_added != NULL &&
	    json_object_set_new(t, "timeAdded", json_string(time_added)) != 0) {
		json_decref(t);
		return -1;
	}
	if (taints == NULL || t == NULL) {
		json_decref(t);
		return -1;
	}
	return json_array_append_new(taints, t); /* releases t when it fails */
}

/* tryUpdateNodeHealth's Unknown: the existing condition keeps its lastHeartbeatTime. */
static int set_ready_unknown(struct node_sync *s, json_t *node)
{
	json_t *status = child(node, "status", json_object, is_object);
	json_t *conds = status ? child(status, "conditions", json_array, is_array) : NULL;
	json_t *c = ready_of(conds);
	const char *created = ctl_str(node, "metadata.creationTimestamp");
	int rc = 0;

	if (conds == NULL)
		return -1;
	if (c == NULL) {
		c = json_pack("{s:s,s:s,s:s,s:s}", "type", "Ready", "reason",
		              "NodeStatusNeverUpdated", "message",
		              "Kubelet never posted node status.", "lastHeartbeatTime",
		              created ? created : s->now);
		if (c == NULL || json_array_append_new(conds, c) != 0)
			return -1;
	} else {
		rc |= json_object_set_new(c, "reason", json_string("NodeStatusUnknown"));
		rc |= json_object_set_new(c, "message",
		                          json_string("Kubelet stopped posting node status."));
	}
	rc |= json_object_set_new(c, "status", json_string("Unknown"));
	rc |= json_object_set_new(c, "lastTransitionTime", json_string(s->now));
	return rc;
}

/* The node without the two unreachable taints; spec.taints dropped when it ends up empty. */
static int drop_taints(json_t *node)
{
	json_t *spec = json_object_get(node, "spec");
	json_t *taints = json_object_get(spec, "taints");
	size_t i = 0;

	while (i < json_array_size(taints)) {
		const json_t *t = json_array_get(taints, i);
		if (is_unreachable(t, "NoSchedule") || is_unreachable(t, "NoExecute")) {
			if (json_array_remove(taints, i) != 0)
				return -1;
		} else {
			i++;
		}
	}
	if (json_is_array(taints) && json_array_size(taints) == 0)
		json_object_del(spec, "taints");
	return 0;
}

static void update_node(struct node_sync *s, json_t *copy)
{
	struct ctl_action *a = ctl_plan_add(s->plan, CTL_UPDATE, "nodes", NULL, s->name, copy);

	if (a == NULL) {
		s->error = true;
		return;
	}
	a->expect_rv = ctl_rv(s->in->node);
}

static void plan_node_object(struct node_sync *s)
{
	const json_t *node = s->in->node;
	const json_t *ready = ready_of(conditions_of(node));
	bool has_ns = has_taint(node, "NoSchedule"), has_ne = has_taint(node, "NoExecute");
	bool to_unknown = ready == NULL || !str_is(ready, "status", "Unknown");
	bool as_it_must_be = s->past_grace ? !to_unknown && has_ns && has_ne : !has_ns && !has_ne;
	json_t *copy;
	int rc = 0;

	if (as_it_must_be)
		return;
	copy = json_deep_copy(node);
	if (copy == NULL) {
		s->error = true;
		return;
	}
	if (!s->past_grace) {
		rc = drop_taints(copy);
	} else {
		if (to_unknown)
			rc |= set_ready_unknown(s, copy);
		if (!has_ns)
			rc |= add_taint(copy, "NoSchedule", NULL);
		if (!has_ne)
			rc |= add_taint(copy, "NoExecute", s->now);
	}
	if (rc != 0) {
		json_decref(copy);
		s->error = true;
		return;
	}
	update_node(s, copy);
	if (s->past_grace && to_unknown)
		ctl_plan_event(s->plan, "nodes", NULL, s->name, "Normal", "NodeNotReady",
		               "Node %s status is now: NodeNotReady", s->name);
}

/* ---- Pods ------------------------------------------------------------------------------------ */

static bool bound_here(const struct node_sync *s, const json_t *pod)
{
	return str_is(pod, "spec.nodeName", s->name);
}

/* Whether MarkPodsNotReady has something to change on pod. */
static bool needs_mark(const json_t *pod)
{
	const json_t *ready = ready_of(conditions_of(pod));

	if (ready == NULL || str_is(pod, "status.phase", "Succeeded") ||
	    str_is(pod, "status.phase", "Failed"))
		return false;
	return !(str_is(ready, "status", "False") && str_is(ready, "reason", "NodeNotReady"));
}

/* Mark copy (a deep copy of a pod that needs_mark) not ready. */
static int mark_not_ready(const struct node_sync *s, json_t *copy)
{
	json_t *ready = ready_of(conditions_of(copy));
	int rc = 0;

	if (!str_is(ready, "status", "False"))
		rc |= json_object_set_new(ready, "lastTransitionTime", json_string(s->now));
	rc |= json_object_set_new(ready, "status", json_string("False"));
	rc |= json_object_set_new(ready, "reason", json_string("NodeNotReady"));
	rc |= json_object_set_new(ready, "message", json_string("Node is not ready"));
	return rc;
}

static void add_pod_action(struct node_sync *s, enum ctl_kind kind, const json_t *pod, json_t *copy)
{
	struct ctl_action *a =
	    ctl_plan_add(s->plan, kind, "pods", ctl_str(pod, "metadata.namespace"),
	                 ctl_str(pod, "metadata.name"), copy);

	if (a == NULL) {
		s->error = true;
		return;
	}
	a->expect_rv = ctl_rv(pod);
}

/* A pinned pod of a fenced node: the annotation and a Warning event, once. */
static void wait_for_node(struct node_sync *s, const json_t *pod)
{
	const char *ns = ctl_str(pod, "metadata.namespace"), *name = ctl_str(pod, "metadata.name");
	const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
	json_t *copy, *meta, *anns;
	int rc = 0;

	if (json_object_get(ann, ANN_WAITING) != NULL)
		return;
	copy = json_deep_copy(pod);
	meta = copy ? json_object_get(copy, "metadata") : NULL;
	anns = meta ? child(meta, "annotations", json_object, is_object) : NULL;
	rc = anns == NULL || json_object_set_new(anns, ANN_WAITING, json_string(s->name)) != 0;
	if (rc == 0 && s->past_grace && needs_mark(pod))
		rc = mark_not_ready(s, copy);
	if (rc != 0) {
		json_decref(copy);
		s->error = true;
		return;
	}
	add_pod_action(s, CTL_UPDATE, pod, copy);
	ctl_plan_event(s->plan, "pods", ns, name, "Warning", "WaitingForNode",
	               "Node %s is fenced; the local volume of pod %s keeps it on that node: it "
	               "waits for the node to return",
	               s->name, nz(name));
}

static void force_delete(struct node_sync *s, const json_t *pod, const struct ctl_node_claim *c)
{
	size_t before = s->plan->n;
	struct ctl_action *a;

	add_pod_action(s, CTL_DELETE, pod, NULL);
	if (s->plan->n == before)
		return;
	a = &s->plan->a[before];
	a->force = true;
	s->deleted++;
	if (c == NULL)
		return;
	a->claim = true;
	snprintf(a->claim_set, sizeof a->claim_set, "%s", c->set);
	a->claim_ordinal = c->ordinal;
	snprintf(a->claim_uid, sizeof a->claim_uid, "%s", c->pod_uid);
	s->released++;
}

static void release_alone(struct node_sync *s, const struct ctl_node_claim *c)
{
	struct ctl_action *a =
	    ctl_plan_add(s->plan, CTL_RELEASE_CLAIM, "pods", c->ns, c->pod_name, NULL);

	if (a == NULL) {
		s->error = true;
		return;
	}
	a->claim = true;
	snprintf(a->claim_set, sizeof a->claim_set, "%s", c->set);
	a->claim_ordinal = c->ordinal;
	snprintf(a->claim_uid, sizeof a->claim_uid, "%s", c->pod_uid);
	s->released++;
}

/* The index of the pod holding c (by uid and namespace), or n_pods. */
static size_t holder_of(const struct node_sync *s, const struct ctl_node_claim *c)
{
	for (size_t i = 0; i < s->in->n_pods; i++) {
		const json_t *p = s->in->pods[i];
		if (str_is(p, "metadata.uid", c->pod_uid) &&
		    strcmp(nz(ctl_str(p, "metadata.namespace")), nz(c->ns)) == 0)
			return i;
	}
	return s->in->n_pods;
}

static bool pinned(const struct node_sync *s, size_t i)
{
	return s->in->pinned != NULL && s->in->pinned[i];
}

/* Act on pod i of a fenced node (c: the claim it holds, or NULL). */
static void fence_pod(struct node_sync *s, size_t i, const struct ctl_node_claim *c)
{
	const json_t *pod = s->in->pods[i];

	if (!bound_here(s, pod) || ctl_str(pod, "metadata.name") == NULL ||
	    ctl_plan_touches(s->plan, "pods", ctl_str(pod, "metadata.namespace"),
	                     ctl_str(pod, "metadata.name")))
		return;
	if (pinned(s, i))
		wait_for_node(s, pod);
	else
		force_delete(s, pod, c);
}

static bool holds_claim(const struct node_sync *s, const json_t *pod)
{
	for (size_t j = 0; j < s->in->n_claims; j++) {
		const struct ctl_node_claim *c = &s->in->claims[j];
		if (c->pod_uid != NULL && *c->pod_uid != '\0' &&
		    str_is(pod, "metadata.uid", c->pod_uid))
			return true;
	}
	return false;
}

static void plan_fencing(struct node_sync *s)
{
	const struct ctl_node_input *in = s->in;

	for (size_t j = 0; j < in->n_claims && !s->error; j++) {
		const struct ctl_node_claim *c = &in->claims[j];
		size_t i;

		if (c->set == NULL || c->pod_uid == NULL || *c->pod_uid == '\0')
			continue;
		i = holder_of(s, c);
		if (i < in->n_pods)
			fence_pod(s, i, c);
		else
			release_alone(s, c);
	}
	for (size_t i = 0; i < in->n_pods && !s->error; i++)
		if (json_is_object(in->pods[i]) && !holds_claim(s, in->pods[i]))
			fence_pod(s, i, NULL);
	if (s->released + s->deleted > 0)
		ctl_plan_event(s->plan, "nodes", NULL, s->name, "Normal", "NodeFenced",
		               "Node %s is fenced (no lease renewal for %lld ms): released %zu "
		               "ordinal claims, deleted %zu pods",
		               s->name, (long long)in->silent_ms, s->released, s->deleted);
}

static void plan_pods_not_ready(struct node_sync *s)
{
	for (size_t i = 0; i < s->in->n_pods && !s->error; i++) {
		const json_t *pod = s->in->pods[i];
		json_t *copy;

		if (!bound_here(s, pod) || !needs_mark(pod) ||
		    ctl_str(pod, "metadata.name") == NULL ||
		    ctl_plan_touches(s->plan, "pods", ctl_str(pod, "metadata.namespace"),
		                     ctl_str(pod, "metadata.name")))
			continue;
		copy = json_deep_copy(pod);
		if (copy == NULL || mark_not_ready(s, copy) != 0) {
			json_decref(copy);
			s->error = true;
			return;
		}
		add_pod_action(s, CTL_UPDATE_STATUS, pod, copy);
	}
}

static int64_t ceil_s(int64_t ms)
{
	return (ms + 999) / 1000;
}

int ctl_node_plan(const struct ctl_node_input *in, struct ctl_plan *plan)
{
	struct node_sync s = {.in = in, .plan = plan};

	if (in == NULL || plan == NULL || in->cfg == NULL || !json_is_object(in->node) ||
	    (in->n_pods > 0 && in->pods == NULL) || (in->n_claims > 0 && in->claims == NULL))
		return STSD_INVALID;
	s.name = ctl_str(in->node, "metadata.name");
	if (s.name == NULL || *s.name == '\0')
		return STSD_INVALID;
	util_format_rfc3339(in->now, s.now, sizeof s.now);
	s.past_grace = in->silent_ms >= in->cfg->grace_ms;
	plan_node_object(&s);
	/* Fencing first: a pod it deletes gets no status update (one action per object). */
	if (!s.error && in->silent_ms >= in->cfg->fence_ms)
		plan_fencing(&s);
	if (!s.error && s.past_grace)
		plan_pods_not_ready(&s);
	if (in->silent_ms < in->cfg->grace_ms)
		ctl_plan_requeue(plan, ceil_s(in->cfg->grace_ms - in->silent_ms));
	else if (in->silent_ms < in->cfg->fence_ms)
		ctl_plan_requeue(plan, ceil_s(in->cfg->fence_ms - in->silent_ms));
	return s.error || plan->oom ? STSD_NOMEM : 0;
}

/* ---- Pod CIDRs ------------------------------------------------------------------------------- */

/* A decimal of 1 to max_digits digits without a leading zero, at most max; advances *p. */
static bool parse_dec(const char **p, unsigned max_digits, unsigned max, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0, n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < max_digits) {
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max || (s[n] >= '0' && s[n] <= '9'))
		return false;
	*p = s + n;
	*out = v;
	return true;
}

/* "A.B.C.D/N" into its network (host bits cleared) and prefix. */
static bool parse_cidr(const char *text, uint32_t *net, unsigned *prefix)
{
	const char *p = text;
	uint32_t addr = 0;
	unsigned v;

	if (p == NULL)
		return false;
	for (int i = 0; i < 4; i++) {
		if (!parse_dec(&p, 3, 255, &v) || *p != (i < 3 ? '.' : '/'))
			return false;
		addr = (addr << 8) | v;
		p++;
	}
	if (!parse_dec(&p, 2, 32, prefix) || *p != '\0')
		return false;
	*net = *prefix == 0 ? 0 : addr & (0xffffffffu << (32 - *prefix));
	return true;
}

struct cidr_range {
	uint32_t net;
	unsigned prefix, mask;
	uint64_t total; /* subnets of /mask in the range */
};

/* The subnet indexes [*lo, *hi] of r that the CIDR text overlaps; false when none. */
static bool occupies(const struct cidr_range *r, const char *text, uint64_t *lo, uint64_t *hi)
{
	uint32_t net;
	unsigned prefix;
	uint64_t a_lo, a_hi, r_lo = r->net, r_hi = r_lo + (1ull << (32 - r->prefix)) - 1;

	if (!parse_cidr(text, &net, &prefix))
		return false;
	a_lo = net;
	a_hi = a_lo + (1ull << (32 - prefix)) - 1;
	if (a_hi < r_lo || a_lo > r_hi)
		return false;
	*lo = ((a_lo > r_lo ? a_lo : r_lo) - r_lo) >> (32 - r->mask);
	*hi = ((a_hi < r_hi ? a_hi : r_hi) - r_lo) >> (32 - r->mask);
	return true;
}

/* Move *cand past every subnet node's CIDRs occupy that contains it; true if it moved. */
static bool skip_node(const struct cidr_range *r, const json_t *node, uint64_t *cand)
{
	const json_t *spec = json_object_get(node, "spec"), *v;
	uint64_t lo, hi;
	bool moved = false;
	size_t i;

	if (occupies(r, json_string_value(json_object_get(spec, "podCIDR")), &lo, &hi) &&
	    lo <= *cand && *cand <= hi) {
		*cand = hi + 1;
		moved = true;
	}
	json_array_foreach(json_object_get(spec, "podCIDRs"), i, v)
	{
		if (occupies(r, json_string_value(v), &lo, &hi) && lo <= *cand && *cand <= hi) {
			*cand = hi + 1;
			moved = true;
		}
	}
	return moved;
}

int ctl_node_cidr(const json_t *const *nodes, size_t n_nodes, const char *cluster_cidr,
                  unsigned mask, char *out, size_t len)
{
	struct cidr_range r = {.mask = mask};
	uint64_t cand = 0;
	uint32_t a;
	bool moved = true;
	int n;

	if (out == NULL || len == 0 || (n_nodes > 0 && nodes == NULL) ||
	    !parse_cidr(cluster_cidr, &r.net, &r.prefix) || mask < r.prefix || mask > 30)
		return STSD_INVALID;
	r.total = 1ull << (mask - r.prefix);
	/* Each pass moves cand past at least one subnet or ends: at most n_nodes passes, since
	 * cand only grows and a CIDR cannot contain it twice. */
	while (moved && cand < r.total) {
		moved = false;
		for (size_t i = 0; i < n_nodes && cand < r.total; i++)
			moved |= skip_node(&r, nodes[i], &cand);
	}
	if (cand >= r.total)
		return STSD_NOSPACE;
	a = r.net + (uint32_t)(cand << (32 - mask));
	n = snprintf(out, len, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
	             mask);
	return n < 0 || (size_t)n >= len ? STSD_INVALID : 0;
}
