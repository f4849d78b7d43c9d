/* options.h — stsd's configuration: one table of options (name, default, bounds, help) from which
 * --help, flag parsing and the YAML config file are all derived. */
#ifndef STSD_OPTIONS_H
#define STSD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cons.h"

#define STSD_MAX_PEERS 16

struct stsd_options {
	char id_text[32];
	char raft_address[256];
	char api_address[256];
	char data_dir[4096];
	char bootstrap[2048]; /* "1=HOST:PORT,2=..." as given */
	char join[2048];      /* "URL,URL" as given */
	char log_level[16];
	char config[4096];
	char tls_cert_file[4096], tls_key_file[4096], client_ca_file[4096], token_file[4096];
	bool insecure_http;
	long election_timeout_ms, heartbeat_ms, propose_timeout_ms, connect_retry_ms;
	long snapshot_threshold, snapshot_trailing;
	long watch_history_s;
	long node_grace_ms, fence_after_ms, fence_margin_ms, node_cidr_mask, controller_workers;
	long event_ttl_s;
	char cluster_cidr[64];
	bool no_controller;
	/* Derived by options_parse. */
	uint64_t id;
	struct cons_peer peers[STSD_MAX_PEERS];
	char peer_addresses[STSD_MAX_PEERS][256];
	size_t n_peers;
	const char *joins[STSD_MAX_PEERS];
	char join_urls[STSD_MAX_PEERS][256];
	unsigned n_joins;
};

/* Fill o from defaults, then the --config file (if given), then the flags. Returns 0 to run, 1
 * after printing --help or --version (exit 0), or 2 after printing an error to stderr (usage
 * error: exit 2). */
int options_parse(int argc, char **argv, struct stsd_options *o);

#endif
