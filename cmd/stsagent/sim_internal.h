/* sim_internal.h — the state of one simulated node, shared by sim_node.c (threads, pods) and
 * sim_register.c (Node and Lease). Not for use outside cmd/stsagent. */
#ifndef STSAGENT_SIM_INTERNAL_H
#define STSAGENT_SIM_INTERNAL_H

#include <pthread.h>

#include "sim.h"

#define SIM_HOST_IP "127.0.0.1"

struct sim_node {
	const struct sim_config *cfg;
	char name[254];
	unsigned idx;
	struct client *wc; /* the watch thread's */
	struct client *nc; /* the node thread's: every write */
	pthread_t watch_thread, node_thread;
	bool watch_started, node_started;
	char node_uid[64]; /* of the Node, once known: the Lease's owner */
	json_t *lease;     /* the Lease as last written, or NULL: read it first */
	volatile int quit; /* stop this node alone (its start failed half-way) */

	/* Shared by the two threads, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled on events and on stop */
	bool dirty;        /* the table changed since the node thread last planned */
	struct sim_pod *pods;
	size_t n_pods, cap_pods;
	unsigned next_ordinal;
};

/* Create the Node, or update it when it exists; log the outcome. Node thread only. */
int sim_register(struct sim_node *n);

/* Read the Node: registered again when gone, its status posted again when not Ready (the node
 * lifecycle controller marked it after a silence). Node thread only. */
int sim_check_node(struct sim_node *n);

/* Renew (or create) the node's Lease. Node thread only. */
int sim_renew_lease(struct sim_node *n);

#endif
