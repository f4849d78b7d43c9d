/* sync_node.c — one Node on the thread pool (node.h): its pod CIDR, its Ready condition and taints
 * while it is silent, and the release of its claims once it is proven fenced. How long it has been
 * silent comes from the loop (controller.h): the leader's own monotonic clock since the last
 * renewal of the node's Lease it saw, restarted when it became leader. The fence time is the
 * node's own lease duration (spec.leaseDurationSeconds of its Lease, 40 s when unknown) plus the
 * configured fence_after and margin. A node silent for less than that is synced again when the
 * next threshold passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "node.h"
#include "sync_internal.h"
#include "util.h"
#include "volume.h"

#define DEFAULT_LEASE_S 40
#define UNFED_RETRY_MS  500 /* a renewal not fed yet: look again after this */

struct node_snap {
	const char *name;
	json_t *node;
	json_t *pods;
	json_t *claims; /* [{ns, set, ordinal, uid, pod, releasing}] */
	bool *pinned;
	struct ctl_node_claim *claim_v;
};

static int pod_item(void *ud, const struct store_object *o)
{
	json_t *v = ctl_parse(o);
	return v ? (json_array_append_new(ud, v) ? STSD_NOMEM : STSD_OK) : STSD_OK;
}

static int claim_item(void *ud, const struct store_claim_entry *c)
{
	struct node_snap *ns = ud;
	json_t *v;

	if (c->claim.node == NULL || strcmp(c->claim.node, ns->name) != 0)
		return STSD_OK;
	v = json_pack("{s:s,s:s,s:i,s:s?,s:s?,s:b}", "ns", c->ns, "set", c->set, "ordinal",
	              (json_int_t)c->ordinal, "uid", c->claim.pod_uid, "pod", c->claim.pod_name,
	              "releasing", c->claim.state == STORE_CLAIM_RELEASING);
	return v && json_array_append_new(ns->claims, v) == 0 ? STSD_OK : STSD_NOMEM;
}

static bool has_unreachable_taint(const json_t *node)
{
	const json_t *t;
	size_t i;

	json_array_foreach(ctl_obj(node, "spec.taints"), i, t)
	{
		const char *k = ctl_str(t, "key");
		if (k && strcmp(k, "node.kubernetes.io/unreachable") == 0)
			return true;
	}
	return false;
}

/* Whether pod's local volume lives on node. */
static bool pinned_here(struct store_reader *rd, const json_t *pod, const char *node)
{
	const json_t *v;
	size_t i;
	bool pinned = false;

	json_array_foreach(ctl_obj(pod, "spec.volumes"), i, v)
	{
		const char *claim = ctl_str(v, "persistentVolumeClaim.claimName");
		const char *ns = ctl_str(pod, "metadata.namespace");
		json_t *pvc =
		    claim && ns ? snap_get(rd, "persistentvolumeclaims", ns, claim) : NULL;
		const char *vol = pvc ? ctl_str(pvc, "spec.volumeName") : NULL;
		json_t *pv = vol ? snap_get(rd, "persistentvolumes", "", vol) : NULL;
		const char *pin = pv ? ctl_volume_pinned_node(pv) : NULL;
		pinned |= pin && strcmp(pin, node) == 0;
		json_decref(pvc);
		json_decref(pv);
	}
	return pinned;
}

static int read_node(struct store_reader *rd, struct node_snap *ns, bool pods, bool claims)
{
	size_t n;
	const json_t *c;
	size_t i;
	int rv;

	if (pods && (rv = store_list_pods_on_node(rd, ns->name, pod_item, ns->pods)) != STSD_OK)
		return rv;
	n = json_array_size(ns->pods);
	if ((ns->pinned = calloc(n + 1, sizeof *ns->pinned)) == NULL)
		return STSD_NOMEM;
	for (i = 0; i < n; i++)
		ns->pinned[i] = pinned_here(rd, json_array_get(ns->pods, i), ns->name);
	if (claims && (rv = store_claims_list(rd, NULL, NULL, claim_item, ns)) != STSD_OK)
		return rv;
	n = json_array_size(ns->claims);
	if ((ns->claim_v = calloc(n + 1, sizeof *ns->claim_v)) == NULL)
		return STSD_NOMEM;
	json_array_foreach(ns->claims, i, c)
	{
		ns->claim_v[i] = (struct ctl_node_claim){
		    .ns = ctl_str(c, "ns"),
		    .set = ctl_str(c, "set"),
		    .ordinal = (uint32_t)ctl_int(c, "ordinal", 0),
		    .pod_uid = ctl_str(c, "uid"),
		    .pod_name = ctl_str(c, "pod"),
		    .releasing = json_is_true(json_object_get(c, "releasing"))};
	}
	return STSD_OK;
}

static const json_t *node_lookup(void *ud, const char *resource, const char *name)
{
	struct node_snap *ns = ud;
	const json_t *p;
	size_t i;

	if (strcmp(resource, "nodes") == 0)
		return ns->node;
	json_array_foreach(ns->pods, i, p)
	{
		const char *n = ctl_str(p, "metadata.name");
		if (strcmp(resource, "pods") == 0 && n && strcmp(n, name) == 0)
			return p;
	}
	return NULL;
}

/* A node that is gone has nothing to update: only its pods, claims and events are written. */
static void drop_node_writes(struct ctl_plan *plan, const char *name)
{
	size_t k = 0;

	for (size_t i = 0; i < plan->n; i++) {
		struct ctl_action *a = &plan->a[i];
		if (a->kind != CTL_EVENT && strcmp(a->resource, "nodes") == 0 &&
		    strcmp(a->name, name) == 0) {
			json_decref(a->obj);
			continue;
		}
		plan->a[k++] = *a;
	}
	plan->n = k;
}

static void node_snap_free(struct node_snap *ns)
{
	json_decref(ns->node);
	json_decref(ns->pods);
	json_decref(ns->claims);
	free(ns->pinned);
	free(ns->claim_v);
}

void sync_node(const struct ctl_shared *sh, struct work *w, const char *name)
{
	struct node_snap ns = {.name = name, .pods = json_array(), .claims = json_array()};
	struct ctl_plan plan = {0};
	struct store_reader *rd;
	json_t *lease;
	struct ctl_node_config cfg = {.grace_ms = sh->cfg.node_grace_ms};
	int64_t lease_s, silent = w->silent_ms;
	uint64_t lease_rv;
	bool gone = false;

	if ((w->rv = store_read_begin(sh->store, &rd)) != STSD_OK)
		goto done;
	/* A Node object deleted while its agent may still run proves nothing: its pods and claims
	 * stay until the lease has been silent long enough, as for any node. */
	if ((ns.node = snap_get(rd, "nodes", "", name)) == NULL) {
		gone = true;
		ns.node = json_pack("{s:{s:s},s:{}}", "metadata", "name", name, "spec");
		sync_release_cidrs(rd, name, &plan); /* its pod CIDR is free again */
	}
	if (!ns.node || !ns.pods || !ns.claims)
		goto out;
	lease = snap_get(rd, "leases", "kube-node-lease", name);
	lease_s = ctl_int(lease, "spec.leaseDurationSeconds", DEFAULT_LEASE_S);
	lease_rv = lease ? ctl_rv(lease) : 0;
	json_decref(lease);
	cfg.fence_ms = lease_s * 1000 + sh->cfg.fence_after_ms + sh->cfg.fence_margin_ms;
	/* A renewal the store holds but the loop has not been fed yet (the feed runs behind the
	 * store): the silence measured is wrong. Nothing is decided on it; the feed catches up and
	 * the node is synced again. A renewal the feed has passed was counted, or predates the
	 * moment the count restarted (election, or a feed that fell behind the log). */
	if (lease_rv > w->fed_rv && silent >= cfg.grace_ms) {
		silent = 0;
		w->requeue_ms = UNFED_RETRY_MS;
	}
	if ((w->rv = read_node(rd, &ns, silent >= cfg.grace_ms || has_unreachable_taint(ns.node),
	                       silent >= cfg.fence_ms)) != STSD_OK)
		goto out;
	const json_t **pods = calloc(json_array_size(ns.pods) + 1, sizeof *pods);
	if (pods == NULL) {
		w->rv = STSD_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(ns.pods); i++)
		pods[i] = json_array_get(ns.pods, i);
	struct ctl_node_input in = {.node = ns.node,
	                            .silent_ms = silent,
	                            .pods = pods,
	                            .n_pods = json_array_size(ns.pods),
	                            .pinned = ns.pinned,
	                            .claims = ns.claim_v,
	                            .n_claims = json_array_size(ns.claims),
	                            .cfg = &cfg,
	                            .now = util_now_unix()};
	w->rv = ctl_node_plan(&in, &plan);
	free(pods);
	if (w->rv == STSD_OK && !gone)
		sync_plan_cidr(sh, rd, ns.node, &plan);
	if (gone)
		drop_node_writes(&plan, name);
	if (w->rv == STSD_OK && plan.n) {
		struct cmd_env env = {.now = util_now_unix(),
		                      .component = "node-controller",
		                      .lookup = node_lookup,
		                      .ud = &ns};
		w->rv = cmd_from_plan(&w->cmds, &plan, &env);
		/* Every decision here rests on the lease as read: a renewal committed since makes
		 * the commands fail rather than fence a node that is alive. */
		if (w->rv == STSD_OK)
			w->rv =
			    cmd_assert_all(&w->cmds, "leases", "kube-node-lease", name, lease_rv);
	}
	if (w->requeue_ms == 0 && silent < cfg.grace_ms)
		w->requeue_ms = cfg.grace_ms - silent + 100;
	else if (w->requeue_ms == 0 && silent < cfg.fence_ms)
		w->requeue_ms = cfg.fence_ms - silent + 100;
out:
	store_read_end(rd);
done:
	ctl_plan_free(&plan);
	node_snap_free(&ns);
}
