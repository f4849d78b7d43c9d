/* scheduler.h — the pod scheduler: picks a node for one unbound pod, or says why none fits.
 *
 * Pure like the planners (plan.h): it reads borrowed jansson values and writes a node name or a
 * message; no I/O, no clock, no state between calls. The executor binds the pod (spec.nodeName)
 * on success and records a FailedScheduling event with the message otherwise.
 *
 * Filters, in kube-scheduler's default plugin order (a node is rejected by the first that fails,
 * and the message counts each rejection reason over the nodes, as FitError.Error() does):
 *   NodeUnschedulable  spec.unschedulable, unless the pod tolerates
 * node.kubernetes.io/unschedulable NodeName           the pod's own spec.nodeName, if set readiness
 * Ready condition True; reported as the taint the node lifecycle controller would have put there
 * (not-ready, or unreachable for Unknown). A hard filter even for pods tolerating that taint: a
 * node that is not Ready has no agent to start the pod, and a pod holding an ordinal claim must not
 * wait there. TaintToleration    NoSchedule/NoExecute taints against the pod's tolerations
 *   NodeAffinity       spec.nodeSelector and required nodeAffinity (matchExpressions In, NotIn,
 *                      Exists, DoesNotExist, Gt, Lt; matchFields on metadata.name)
 *   NodeResourcesFit   cpu, memory, ephemeral-storage and the pod count against status.allocatable
 *                      (status.capacity when absent, as API defaulting does); extended resources
 *                      are not counted
 *   VolumeBinding      a local volume pins the pod to one node
 *   InterPodAffinity   required podAntiAffinity of the pod, and of the pods already placed, by
 *                      any topologyKey (kubernetes.io/hostname falls back to the node's name when
 *                      the label is missing). Required podAffinity is not implemented; a
 *                      namespaceSelector other than {} (all namespaces) selects nothing, since
 *                      Namespace objects are not part of the input.
 * Pods in phase Succeeded or Failed hold nothing, as in the scheduler's cache.
 *
 * Scoring among feasible nodes (our weighting, after upstream's defaults NodeResourcesFit 1 and
 * PodTopologySpread 2): least requested cpu and memory (requests absent count 100m / 200Mi, as
 * upstream's non-zero defaults) plus twice a spread score that favours nodes holding fewer pods
 * with the same controller ownerReference uid; the highest total wins, ties go to the smallest
 * node name, so the choice is deterministic. No preemption.
 *
 * Threads: none of its own; a snapshot may be read by one thread at a time. */
#ifndef STSD_CONTROLLER_SCHEDULER_H
#define STSD_CONTROLLER_SCHEDULER_H

#include <jansson.h>
#include <stddef.h>

struct ctl_sched_input {
	/* The pod to place (spec.nodeName normally unset). */
	const json_t *pod;
	/* Every Node object; non-objects and nodes without a name are ignored. */
	const json_t *const *nodes;
	size_t n_nodes;
	/* Every pod bound to a node (spec.nodeName set), any namespace; pods bound to nodes not in
	 * nodes, and pods in phase Succeeded or Failed, are ignored. */
	const json_t *const *pods;
	size_t n_pods;
	/* A local volume pins the pod to this node, or NULL. */
	const char *pinned_node;
};

/* Choose a node for in->pod. Returns:
 *   0             the node's name in node (len >= 254 always suffices), why set to "";
 *   STSD_NOTFOUND no node fits: why holds kube-scheduler's FailedScheduling message, e.g.
 *                 "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod
 *                 anti-affinity rules." or "no nodes available to schedule pods";
 *   STSD_INVALID  the pod is not an object, has no spec, has a request that is not a quantity
 *                 or an anti-affinity selector that does not parse (detail in why), or the name
 *                 does not fit in node;
 *   STSD_NOMEM.
 * All inputs are borrowed for the call only. Costs one pass over in->pods; a caller placing many
 * pods against the same cluster state uses a snapshot instead. */
int ctl_schedule(const struct ctl_sched_input *in, char *node, size_t len, char *why,
                 size_t whylen);

/* The cluster as the scheduler sees it: nodes and the requests and pods already on each, built
 * once so that placing a burst of pods costs one pass over the bound pods, not one per pod. It
 * borrows the node and pod objects given to create and assume: they must outlive it. */
struct ctl_sched_snapshot;

/* Build a snapshot of nodes and bound pods (as in struct ctl_sched_input). 0 with *out, to be
 * released with ctl_sched_snapshot_destroy, or STSD_NOMEM. */
int ctl_sched_snapshot_create(const json_t *const *nodes, size_t n_nodes, const json_t *const *pods,
                              size_t n_pods, struct ctl_sched_snapshot **out);
/* Count pod as placed on node (the caller has just chosen it), so later picks see its requests,
 * labels and anti-affinity. 0, STSD_NOTFOUND (no such node in the snapshot) or STSD_NOMEM. */
int ctl_sched_snapshot_assume(struct ctl_sched_snapshot *s, const json_t *pod, const char *node);
/* ctl_schedule against a snapshot; same results. The snapshot is not changed. */
int ctl_sched_pick(const struct ctl_sched_snapshot *s, const json_t *pod, const char *pinned_node,
                   char *node, size_t len, char *why, size_t whylen);
/* Release s (NULL is fine); the borrowed objects are untouched. */
void ctl_sched_snapshot_destroy(struct ctl_sched_snapshot *s);

#endif
