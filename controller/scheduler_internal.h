/* scheduler_internal.h — what scheduler.c and scheduler_node.c share: requests, and the filters
 * that look at the pod and one node only. Not for other modules (use scheduler.h). */
#ifndef STSD_CONTROLLER_SCHEDULER_INTERNAL_H
#define STSD_CONTROLLER_SCHEDULER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REASON_MAX  512
#define MAX_REASONS 4 /* a node fails resources for at most pods, cpu, memory, storage */

/* Requests (of a pod, or summed over a node's pods) and allocatable amounts. */
struct sched_res {
	int64_t cpu;    /* millicores */
	int64_t mem;    /* bytes */
	int64_t eph;    /* ephemeral-storage bytes */
	int64_t pods;   /* pod count */
	int64_t nz_cpu; /* cpu with upstream's non-zero default per container, for scoring */
	int64_t nz_mem; /* memory likewise */
};

/* The pod's effective requests (resource.PodRequests, with overhead; pods = 1). STSD_INVALID
 * when a quantity is malformed: those count 0 and out is still filled in. */
int ctl_sched_pod_req(const json_t *pod, struct sched_res *out);
/* a += b, saturating (pods untouched). */
void ctl_sched_res_add(struct sched_res *a, const struct sched_res *b);
/* status.allocatable, or status.capacity when absent; malformed or missing amounts count 0. */
struct sched_res ctl_sched_node_alloc(const json_t *node);
/* NodeResourcesFit: writes "Too many pods" / "Insufficient <resource>" reasons for a pod
 * requesting req on a node with alloc of which used is taken; returns how many (0: fits). */
size_t ctl_sched_fit(const struct sched_res *alloc, const struct sched_res *used,
                     const struct sched_res *req, char reasons[][REASON_MAX]);
/* Whether the pod spec's tolerations tolerate the taint key=value:effect. */
bool ctl_sched_tolerates(const json_t *spec, const char *key, const char *value,
                         const char *effect);
/* The taint a node that is not Ready carries, or NULL when it is Ready. */
const char *ctl_sched_not_ready(const json_t *node);
/* TaintToleration: true with the reason written when a NoSchedule/NoExecute taint is not
 * tolerated. */
bool ctl_sched_untolerated_taint(const json_t *node, const json_t *spec, char *reason);
/* NodeAffinity: spec.nodeSelector and the required node affinity against the node. */
bool ctl_sched_node_affinity_ok(const json_t *spec, const json_t *node, const char *name);

/* Small JSON helpers. */
static inline const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static inline int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static inline bool in_array(const json_t *arr, const char *s)
{
	size_t i;
	const json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (streq(json_string_value(v), s))
			return true;
	}
	return false;
}

#endif
