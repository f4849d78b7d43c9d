/* node.h — the node lifecycle planner: pod CIDRs, NotReady, and fencing of silent nodes
 * (../shared/DESIGN.md, Identity; upstream pkg/controller/nodeipam and nodelifecycle).
 *
 * Pure like every planner (plan.h): the executor measures how long a node has been silent on the
 * leader's monotonic clock (restarting the count on election) and passes it in; the planner never
 * reads a clock.
 *
 * What one plan of one node does:
 * - Ready after silence: once silent_ms >= cfg->grace_ms, the node's Ready condition becomes
 *   Unknown (reason NodeStatusUnknown, message "Kubelet stopped posting node status.", as
 *   upstream's tryUpdateNodeHealth writes it) with the taints node.kubernetes.io/unreachable
 *   NoSchedule and NoExecute (timeAdded now) in spec.taints: one CTL_UPDATE of the whole node
 *   (status included; the executor writes objects whole). Each pod bound to it gets Ready=False
 *   (reason NodeNotReady) through UPDATE_STATUS, plus an Event NodeNotReady on the node. A node
 *   silent for less than grace_ms loses those two taints again if it has them (its agent
 *   re-posts Ready itself).
 * - Fencing: once silent_ms >= cfg->fence_ms (lease duration + fence_after + margin, computed by
 *   the executor), every process of the node's pods is proven gone (its shims killed them at their
 *   fence deadline). Each claim naming the node is then released: for a pod that still exists,
 *   the pod is deleted in the same command (CTL_DELETE with force = true and the claim fields:
 *   the executor removes the object at once and releases the claim), so that its StatefulSet
 *   recreates it elsewhere; a claim whose pod is gone (RELEASING, or a HELD one whose pod was
 *   deleted) is released alone (CTL_RELEASE_CLAIM). A pod pinned to the
 *   node by a local volume (pinned[i]) is left alone, claim included, with a Warning Event on it
 *   (reason "WaitingForNode", saying its local volume keeps it on the fenced node) once: the
 *   plan adds it only when the pod does not yet carry the annotation stsd.io/waiting-for-node,
 *   which the same plan sets (CTL_UPDATE). Pods bound to the node that hold no claim are deleted
 *   with force too (claim false), pinned ones excepted; one Normal Event NodeFenced on the node
 *   counts what the plan released.
 * - Pod CIDR: a node without spec.podCIDR gets the lowest free one of the cluster range
 *   (ctl_node_cidr). ctl_node_plan does not do this (its input has neither the other nodes nor
 *   the range): the executor calls ctl_node_cidr and writes spec.podCIDR in a command of its
 *   own. */
#ifndef STSD_CONTROLLER_NODE_H
#define STSD_CONTROLLER_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

struct ctl_node_config {
	int64_t grace_ms; /* silence before Ready becomes Unknown */
	int64_t fence_ms; /* silence after which the node is proven fenced */
};

/* A claim whose holder runs (or ran) on the node. */
struct ctl_node_claim {
	const char *ns;
	const char *set;
	uint32_t ordinal;
	const char *pod_uid;
	const char *pod_name;
	bool releasing; /* RELEASING (pod object gone) rather than HELD */
};

struct ctl_node_input {
	const json_t *node;        /* the Node */
	int64_t silent_ms;         /* leader monotonic ms without a lease renewal seen */
	const json_t *const *pods; /* pods bound to the node (spec.nodeName = its name) */
	size_t n_pods;
	const bool *pinned; /* per pod: a local volume pins it to this node (NULL: none) */
	const struct ctl_node_claim *claims; /* claims naming the node */
	size_t n_claims;
	const struct ctl_node_config *cfg;
	int64_t now; /* Unix seconds, for condition and taint timestamps */
};

/* Plan one node (see the file comment). Returns 0, STSD_INVALID (no node name or cfg) or
 * STSD_NOMEM. A node that renews within grace_ms and has its Ready condition from its agent gets
 * no action at all (the common case costs nothing). */
int ctl_node_plan(const struct ctl_node_input *in, struct ctl_plan *plan);

/* The lowest /mask subnet of cluster_cidr (IPv4 "A.B.C.D/N", N <= mask <= 30) that no node in
 * nodes has as spec.podCIDR, written to out ("10.244.3.0/24"). 0, STSD_INVALID (a bad range) or
 * STSD_NOSPACE (all taken). */
int ctl_node_cidr(const json_t *const *nodes, size_t n_nodes, const char *cluster_cidr,
                  unsigned mask, char *out, size_t len);

#endif
