/* sim.h — simulated nodes (`stsagent --simulate`), the idea of KWOK: each node registers itself,
 * renews its Lease and drives the status of the pods bound to it like a fast kubelet, without
 * running anything.
 *
 * Per node, two threads: a watch thread (client_list_watch of the node's pods) that keeps a table
 * of the pods, and a node thread that registers the Node, renews its Lease and makes every write
 * the table calls for (sim_pod_plan decides which). Each thread has its own client. */
#ifndef STSAGENT_SIM_H
#define STSAGENT_SIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "kubeconfig.h"

#define SIM_ANN_READY "sim.stsd.io/ready"
#define SIM_ANN_PHASE "sim.stsd.io/phase"

/* What every simulated node of one process shares (read-only once the nodes start). */
struct sim_config {
	const char *cpu;     /* capacity and allocatable: "8" */
	const char *memory;  /* "32Gi" */
	const char *pods;    /* "110" */
	long ready_after_ms; /* Running -> Ready */
	long terminate_ms;   /* deletionTimestamp -> confirmed */
	long lease_s;        /* leaseDurationSeconds; renewed every quarter */
	const char **urls;   /* the replicas */
	size_t n_urls;
	const struct kubeconfig *kc; /* default credentials */
	const char *cert_dir;        /* DIR/<node>.crt/.key, or NULL */
	const volatile int *stop;    /* set once to stop everything */
};

/* ---- sim_pod.c: the pure part: what a pod needs next, and the status that says it ---------- */

/* What the agent remembers of one pod between events. */
struct sim_pod {
	char ns[256];
	char name[256];
	char uid[64];
	json_t *obj;             /* its last known state (owned) */
	uint64_t running_since;  /* monotonic ms when it was first seen or made Running; 0 before */
	uint64_t deleting_since; /* monotonic ms when deletionTimestamp was first seen; 0 before */
	uint64_t retry_at;       /* no write before this (after a failure) */
	unsigned ordinal;        /* its number on this node (for its IP) */
	bool confirmed;          /* our confirmation removed it (its DELETED event is expected) */
	bool gone;               /* it left the watch without our confirmation (a force delete): its
	                          * end is still to be confirmed, which releases its claim */
};

enum sim_action {
	SIM_NONE,    /* nothing now; *wake_at says when to look again (0: only on an event) */
	SIM_STATUS,  /* PUT .../status with the returned object */
	SIM_CONFIRM, /* DELETE with gracePeriodSeconds 0 and a uid precondition (also of a pod
	              * already gone: the API then releases its "releasing" claim) */
};

/* Decide what pod p needs at now (monotonic ms). For SIM_STATUS, *out is the pod with its new
 * status (owned by the caller). now_rfc3339 stamps conditions and startTime; pod_ip and host_ip
 * go into the status. *wake_at (0 or a time > now) is when the answer may change without an
 * event. Pure: no I/O, no clock. */
enum sim_action sim_pod_plan(struct sim_pod *p, const struct sim_config *cfg, uint64_t now,
                             const char *now_rfc3339, const char *pod_ip, const char *host_ip,
                             json_t **out, uint64_t *wake_at);

/* RFC 3339 UTC with microseconds ("2026-11-27T13:47:27.123456Z") of the real-time clock into
 * buf (>= 28 bytes); with micro false, whole seconds ("...:27Z"). */
void sim_time_now(char *buf, size_t len, bool micro);

/* ---- sim_node.c --------------------------------------------------------------------------- */

struct sim_node;

/* Start node name (index idx, for pod IPs): its threads begin at once and retry until *cfg->stop.
 * Returns 0 with *out set, or a code of errors.h with the reason in err. */
int sim_node_start(const struct sim_config *cfg, const char *name, unsigned idx,
                   struct sim_node **out, char *err, size_t errlen);

/* Wake the node's threads (after *cfg->stop was set), join them and free the node. */
void sim_node_stop(struct sim_node *n);

#endif
