/* controller.h — the controller on the leader: the executor that runs the planners and turns
 * their plans into conditional Raft commands (../shared/DESIGN.md, The controller; decision 011).
 *
 * Lifecycle: created with the replica, idle until ctl_controller_leader(true) — which cons calls
 * once this replica leads and its election barrier applied — then it resyncs every StatefulSet
 * and Node and follows the store's change log. ctl_controller_leader(false) stops it at once:
 * queued work is forgotten, and commands already proposed either commit (their preconditions
 * held) or fail them; results of work started under an older leadership are dropped.
 *
 * Threads: every function runs on the loop thread. Snapshots are read and planned on libuv's
 * thread pool (uv_queue_work), never on the loop that also runs Raft; proposals go out from the
 * loop thread. */
#ifndef STSD_CONTROLLER_H
#define STSD_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cons.h"
#include "store.h"

struct ctl_config {
	int64_t node_grace_ms;   /* silence before a node's Ready becomes Unknown; 0 = 40000 */
	int64_t fence_after_ms;  /* the agent's fence: its shims kill a pod this long after the last
	                            renewal its lease allows; 0 = 15000 */
	int64_t fence_margin_ms; /* added for clock rates and delays; 0 = 5000 */
	const char *cluster_cidr; /* pod network of the cluster; NULL = "10.244.0.0/16" */
	unsigned node_cidr_mask;  /* each node's share; 0 = 24 */
	unsigned workers;         /* syncs planned at once on the thread pool; 0 = 2 */
	int64_t event_ttl_s;      /* Events older than this are deleted; 0 = 3600 */
};

struct ctl_controller;

int ctl_controller_new(uv_loop_t *loop, struct cons *cons, struct store *store,
                       const struct ctl_config *cfg, struct ctl_controller **out);
/* Leadership gained (barrier applied) or lost. */
void ctl_controller_leader(struct ctl_controller *c, bool leader);
/* A command applied to the store at revision: follow the change log. */
void ctl_controller_applied(struct ctl_controller *c, uint64_t revision);
/* Stop; done(ud) runs once its timers are closed and no work is in flight; c is then freed. */
void ctl_controller_stop(struct ctl_controller *c, void (*done)(void *ud), void *ud);

struct ctl_stats {
	bool leading;
	uint64_t syncs;            /* keys worked on */
	uint64_t commands;         /* commands proposed */
	uint64_t command_failures; /* commands whose preconditions failed, or not committed */
	uint64_t actions;          /* store ops proposed */
	int64_t first_action_ms;   /* from gaining leadership to its first proposal; -1 none yet */
	size_t queued, running, delayed;
};
void ctl_controller_stats(const struct ctl_controller *c, struct ctl_stats *out);

#endif
