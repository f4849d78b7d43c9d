/* sync_cidr.c — pod CIDRs for nodes (node.spec.podCIDR, the agent's pod network).
 *
 * Two syncs planned at once would otherwise give two nodes the same lowest free subnet (50
 * simulated nodes registering together did: eight shared one). So an allocation is also an
 * object of its own, "podcidrs/<a.b.c.d-len>", created in the same command as the node's update:
 * the store refuses a second one with EXISTS, whoever proposes it (a deposed leader included),
 * and the losing sync is retried and picks another. Allocations planned but not yet applied are
 * remembered for a few seconds, so that concurrent syncs rarely collide in the first place. The
 * allocation of a node that is gone is deleted by that node's sync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "exec_internal.h"
#include "log.h"
#include "node.h"
#include "sync_internal.h"
#include "util.h"

#define CIDR_RESOURCE   "podcidrs"
#define CIDR_PENDING_MS 10000
#define CIDR_PENDING    64

struct cidr_cache {
	pthread_mutex_t mu;
	struct {
		char cidr[64];
		uint64_t until_ms;
	} pending[CIDR_PENDING];
};

struct cidr_cache *cidr_cache_new(void)
{
	struct cidr_cache *cc = calloc(1, sizeof *cc);

	if (cc)
		pthread_mutex_init(&cc->mu, NULL);
	return cc;
}

void cidr_cache_free(struct cidr_cache *cc)
{
	if (cc == NULL)
		return;
	pthread_mutex_destroy(&cc->mu);
	free(cc);
}

/* "10.244.3.0/24" -> "10.244.3.0-24" (an object name has no '/'). */
static void cidr_name(const char *cidr, char *out, size_t len)
{
	snprintf(out, len, "%s", cidr);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '-';
}

/* Every subnet taken: the nodes' own, the allocation objects', and the pending ones, as objects
 * with spec.podCIDR (what ctl_node_cidr reads). */
static int taken(struct store_reader *rd, struct cidr_cache *cc, json_t *out)
{
	json_t *allocs = json_array(), *a;
	uint64_t now = util_now_mono_ms();
	size_t i;
	int rv;

	if (allocs == NULL || (rv = snap_list_prefix(rd, "nodes", "", NULL, out)) != STSD_OK ||
	    (rv = snap_list_prefix(rd, CIDR_RESOURCE, "", NULL, allocs)) != STSD_OK) {
		json_decref(allocs);
		return allocs ? rv : STSD_NOMEM;
	}
	json_array_foreach(allocs, i, a) json_array_append_new(
	    out, json_pack("{s:{s:s?}}", "spec", "podCIDR", ctl_str(a, "spec.cidr")));
	json_decref(allocs);
	for (i = 0; i < CIDR_PENDING; i++)
		if (cc->pending[i].until_ms > now)
			json_array_append_new(
			    out, json_pack("{s:{s:s}}", "spec", "podCIDR", cc->pending[i].cidr));
	return STSD_OK;
}

static void remember(struct cidr_cache *cc, const char *cidr)
{
	size_t oldest = 0;

	for (size_t i = 1; i < CIDR_PENDING; i++)
		if (cc->pending[i].until_ms < cc->pending[oldest].until_ms)
			oldest = i;
	snprintf(cc->pending[oldest].cidr, sizeof cc->pending[oldest].cidr, "%s", cidr);
	cc->pending[oldest].until_ms = util_now_mono_ms() + CIDR_PENDING_MS;
}

/* The lowest free subnet, remembered as pending; 0 or an error (NOSPACE: none left). */
static int choose(const struct ctl_shared *sh, struct store_reader *rd, char *cidr, size_t len)
{
	json_t *all = json_array();
	const json_t **v = NULL;
	size_t n;
	int rv = STSD_NOMEM;

	pthread_mutex_lock(&sh->cidrs->mu);
	if (all == NULL || (rv = taken(rd, sh->cidrs, all)) != STSD_OK)
		goto out;
	n = json_array_size(all);
	rv = STSD_NOMEM;
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	rv = ctl_node_cidr(v, n, sh->cfg.cluster_cidr, sh->cfg.node_cidr_mask, cidr, len);
	if (rv == STSD_OK)
		remember(sh->cidrs, cidr);
out:
	pthread_mutex_unlock(&sh->cidrs->mu);
	free(v);
	json_decref(all);
	return rv;
}

void sync_plan_cidr(const struct ctl_shared *sh, struct store_reader *rd, const json_t *node,
                    struct ctl_plan *plan)
{
	const char *name = ctl_str(node, "metadata.name");
	char cidr[64], oname[64];
	json_t *copy, *alloc;
	struct ctl_action *a;
	int rv;

	if (name == NULL || ctl_str(node, "spec.podCIDR") ||
	    ctl_plan_touches(plan, "nodes", "", name))
		return;
	if ((rv = choose(sh, rd, cidr, sizeof cidr)) != STSD_OK) {
		if (rv == STSD_NOSPACE)
			ctl_plan_event(plan, "nodes", "", name, "Warning", "CIDRNotAvailable",
			               "Node %s status is now: CIDRNotAvailable", name);
		return;
	}
	if ((copy = json_deep_copy(node)) == NULL)
		return;
	if (!json_is_object(json_object_get(copy, "spec"))) /* a Node may come without one */
		json_object_set_new(copy, "spec", json_object());
	json_object_set_new(json_object_get(copy, "spec"), "podCIDR", json_string(cidr));
	json_object_set_new(json_object_get(copy, "spec"), "podCIDRs", json_pack("[s]", cidr));
	if ((a = ctl_plan_add(plan, CTL_UPDATE, "nodes", "", name, copy)) != NULL)
		a->expect_rv = ctl_rv(node);
	cidr_name(cidr, oname, sizeof oname);
	alloc = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "apiVersion", "stsd.io/v1", "kind",
	                  "PodCIDR", "metadata", "name", oname, "spec", "node", name, "cidr", cidr);
	ctl_plan_add(plan, CTL_CREATE, CIDR_RESOURCE, "", oname, alloc);
	log_info("controller", "event=pod_cidr node=%s cidr=%s", name, cidr);
}

/* The allocations of a node that no longer exists. */
void sync_release_cidrs(struct store_reader *rd, const char *node, struct ctl_plan *plan)
{
	json_t *allocs = json_array(), *a;
	size_t i;

	if (allocs == NULL || snap_list_prefix(rd, CIDR_RESOURCE, "", NULL, allocs) != STSD_OK) {
		json_decref(allocs);
		return;
	}
	json_array_foreach(allocs, i, a)
	{
		const char *owner = ctl_str(a, "spec.node"), *oname = ctl_str(a, "metadata.name");
		struct ctl_action *d;
		if (owner && oname && strcmp(owner, node) == 0 &&
		    (d = ctl_plan_add(plan, CTL_DELETE, CIDR_RESOURCE, "", oname, NULL)) != NULL)
			d->expect_rv = ctl_rv(a);
	}
	json_decref(allocs);
}
