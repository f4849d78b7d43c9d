/* dev.h — local development clusters for `stsctl dev`: their record (DIR/cluster.json), the stsd
 * processes behind them, and the helpers every networked stsctl command shares (cli_*). */
#ifndef STSCTL_DEV_H
#define STSCTL_DEV_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "client.h"

/* One replica as cluster.json records it. */
struct dev_replica {
	int id;
	pid_t pid;
	char raft_address[64];
	char api_address[64];
	char data_dir[PATH_MAX];
	char log[PATH_MAX];
	char **argv; /* NULL-terminated command line, argv[0] the stsd binary; owned */
};

/* A cluster directory: DIR/cluster.json, DIR/kubeconfig, DIR/pki/, DIR/replica-<id>/,
 * DIR/replica-<id>.log. */
struct dev_cluster {
	char dir[PATH_MAX];
	struct dev_replica *replicas;
	size_t n;
	json_t *doc; /* cluster.json as last read or written: rewrites keep fields we do not know */
	/* cluster.json's "scheme", "caFile", "adminCertFile", "adminKeyFile", "tokenFile": paths
	 * only, never secrets. A cluster recorded before TLS has scheme "" (plain http). */
	char scheme[8];
	char ca_file[PATH_MAX];
	char admin_cert[PATH_MAX];
	char admin_key[PATH_MAX];
	char token_file[PATH_MAX];
};

/* A process to stop: its pid and an argument its command line must hold (the data directory), so
 * a pid reused by an unrelated process is left alone. marker NULL: any live process. */
struct dev_proc {
	char name[32]; /* "replica 1", for progress lines */
	pid_t pid;
	const char *marker;
};

/* --- dev_cluster.c --- */

/* Read DIR/cluster.json into *cl (zeroed by the caller). Returns 0, STSD_NOTFOUND (no file) or
 * STSD_CORRUPT (not the expected shape), with the reason in err. dev_cluster_free releases it,
 * also after a failure. */
int dev_cluster_load(const char *dir, struct dev_cluster *cl, char *err, size_t len);

/* Write cl as DIR/cluster.json atomically (temporary file + rename). A cluster read from disk
 * keeps its other fields; only each replica's pid is rewritten. Returns 0 or STSD_IO. */
int dev_cluster_save(struct dev_cluster *cl, char *err, size_t len);

/* Write DIR/kubeconfig (mode 0600): cluster and context "stsd-dev" at replica 1, user "admin";
 * with TLS, the CA and the admin certificate and key embedded (*-data), so that kubectl uses it
 * as it is. 0, or STSD_IO (a file unreadable or unwritable). */
int dev_write_kubeconfig(const struct dev_cluster *cl, char *err, size_t len);

/* The replica with this id, or NULL. */
struct dev_replica *dev_cluster_find(struct dev_cluster *cl, int id);

void dev_cluster_free(struct dev_cluster *cl);

/* The stsd binary, absolute: flag (--stsd) if given, else $STSD_BIN/stsd, else `stsd` beside the
 * running stsctl. Returns 0, or STSD_NOTFOUND when it is not executable (reason in err). */
int dev_find_stsd(const char *flag, char *out, size_t len, char *err, size_t errlen);

/* dev_find_stsd for any binary prog of the project ("stsagent"): flag (an option named flag_name,
 * which may be NULL when there is none) if given, else $STSD_BIN/prog, else prog beside the
 * running stsctl. */
int dev_find_binary(const char *prog, const char *flag_name, const char *flag, char *out,
                    size_t len, char *err, size_t errlen);

/* --- dev_agents.c --- */

/* Start n simulated nodes for a running cluster (dev up --simulated-agents): node certificates
 * DIR/pki/nodes/sim-<i>.{crt,key} (CN system:node:sim-<i>, O system:nodes), one `stsagent
 * --simulate --nodes n` process (the binary beside stsctl, or in $STSD_BIN) recorded in
 * cluster.json's "agents", then wait until n nodes sim-<i> are Ready or timeout_ms passes. On
 * failure (reported on stderr) *pid is the agent's pid for the caller to stop (0 when none
 * started). */
bool dev_agents_up(struct dev_cluster *cl, long n, long timeout_ms, pid_t *pid);

/* --- dev_storage.c --- */

/* Create the cluster's StorageClasses once it serves: standard (the default class), fast-ssd and
 * encrypted-ssd (provisioner stsd.io/local, WaitForFirstConsumer, parameters.path DIR/volumes)
 * and shared (stsd.io/shared-path, Immediate, DIR/shared), all reclaimPolicy Delete; makes
 * DIR/volumes and DIR/shared. A class that exists already is left as it is (409 is fine), so it
 * may run again. Requests retry across the replicas for up to timeout_ms (at least 5 s). False
 * on failure, reported on stderr. */
bool dev_storage_up(const struct dev_cluster *cl, long timeout_ms);

/* --- dev_pki.c --- */

/* Make DIR/pki: a CA (ca.crt, ca.key), replica-<id>.{crt,key} for replicas 1..replicas (CN
 * stsd-replica-<id>, O system:stsd-replicas, SANs 127.0.0.1 and localhost, server and client
 * use), admin.{crt,key} (CN admin, O system:masters), tokens.csv (kube-apiserver's token file:
 * one random admin token) and admin.token (the token alone); keys and tokens mode 0600. Sets
 * cl's scheme to https and its credential paths. Returns 0 or a code of pki.h (reason in err). */
int dev_pki_create(struct dev_cluster *cl, size_t replicas, char *err, size_t len);

/* Whether the cluster serves https (made by dev up since TLS). */
bool dev_cluster_tls(const struct dev_cluster *cl);

/* "SCHEME://address" of one of the cluster's replicas into out. */
void dev_cluster_url(const struct dev_cluster *cl, const char *address, char *out, size_t len);

/* With TLS, point o at the cluster's CA and admin certificate (borrowing cl's strings); nothing
 * otherwise. */
void dev_cluster_client_options(const struct dev_cluster *cl, struct client_options *o);

/* --- dev_proc.c --- */

/* n distinct free loopback TCP ports (each bound to port 0 and closed; another process may take
 * one before stsd binds it). Returns 0 or STSD_IO. */
int dev_free_ports(int *ports, size_t n, char *err, size_t len);

/* Start argv in the background: its own session, stdin /dev/null, stdout and stderr appended to
 * log, no descriptor of ours. *pid is the program itself (exec, no wrapper). Returns 0, or STSD_IO
 * when it could not be started (exec failure included), with the reason in err. */
int dev_spawn(char *const argv[], const char *log, pid_t *pid, char *err, size_t len);

/* Whether pid is alive and (marker not NULL) one of its arguments equals marker. Reaps pid first
 * when it is our exited child; a zombie counts as gone. */
bool dev_running(pid_t pid, const char *marker);

/* Whether our child pid has exited; its wait status goes to *status. */
bool dev_exited(pid_t pid, int *status);

/* SIGTERM every running process, poll until all are gone or timeout_ms passed, SIGKILL the rest
 * and wait for them briefly. One progress line per process to out (NULL: quiet). Returns how many
 * needed SIGKILL. */
int dev_stop(const struct dev_proc *procs, size_t n, long timeout_ms, FILE *out);

/* Print the last lines of the file at path to out, each indented; a note when it is unreadable. */
void dev_log_tail(const char *path, int lines, FILE *out);

/* Sleep ms milliseconds (the interval of a polling loop; returns early on a signal). */
void dev_nap(long ms);

/* --- dev_wait.c --- */

#define DEV_MAX_REPLICAS  9
#define DEV_MAX_STSD_ARGS 16 /* --stsd-arg */

/* From now on SIGINT, SIGTERM and SIGHUP set a flag instead of ending stsctl, so that what was
 * started can be stopped. */
void dev_catch_signals(void);
/* Whether one of those signals arrived. */
bool dev_interrupted(void);

/* Poll until every replica i of cl with want[i] answers /readyz with 200 (progress line "replica N
 * ready" for each); with announce_leader, also say which replica /debug/raft reports as leader.
 * True when all are ready; false (reported on stderr, with the end of the logs) when one of our
 * children exits, timeout_ms passes, or a signal arrives. */
bool dev_wait_ready(const struct dev_cluster *cl, const bool *want, long timeout_ms,
                    bool announce_leader);

/* --- cli.c: shared by the networked commands --- */

/* If argv[*i] is option name, as "NAME VALUE" or "NAME=VALUE": *value is the value, *i the index of
 * its last word, returns 1. 0 when it is another argument; -1 (message printed) when the value is
 * missing. */
int cli_option(int argc, char **argv, int *i, const char *name, const char **value);

/* Parse an integer in [min, max]; false when s is not one. */
bool cli_parse_int(const char *s, long min, long max, long *out);

/* Parse a duration in seconds ("30", "1.5", "30s", "500ms") into milliseconds; false if bad. */
bool cli_parse_duration(const char *s, long *ms);

/* The client of a networked command, with its credentials:
 *  - server ("URL[,URL...]") if given, else $STSD_SERVER: credentials from the kubeconfig
 *    (kubeconfig if given, else $KUBECONFIG when set; none otherwise);
 *  - else every replica of DIR/cluster.json (replica 1 first) when dir is given: its scheme, CA
 *    and admin certificate;
 *  - else the server and credentials of the kubeconfig (given or $KUBECONFIG).
 * opts (may be NULL) gives the timeouts. Returns an exit status: 0 (*out set), 1 (error printed,
 * prefixed with cmd) or 2 (no server named: usage error printed). The credentials stay for
 * cli_connect_one. */
int cli_connect(const char *cmd, const char *server, const char *dir, const char *kubeconfig,
                const struct client_options *opts, struct client **out);

/* A client of one more server address ("host:port", or a URL) with the scheme and credentials
 * of the last successful cli_connect; opts as for cli_connect. Returns 0 or a code of client.h
 * (reason in err). */
int cli_connect_one(const char *address, const struct client_options *opts, struct client **out,
                    char *err, size_t len);

#endif
