/* harness.h — real stsd clusters for black-box tests: replicas as child processes on loopback. */
#ifndef STSD_TEST_HARNESS_H
#define STSD_TEST_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"

/* A cluster has up to this many replica slots; replica ids are 1..n. */
#define HARNESS_MAX 7

struct harness_replica {
	uint64_t id;
	pid_t pid;       /* 0 when not running */
	bool joined;     /* started with --join (not part of --bootstrap) */
	unsigned starts; /* how many times it was started */
	char raft_address[32], api_address[32], api_url[48];
	char data_dir[400], log_path[400];
	char cert[400], key[400]; /* its TLS certificate (server and client) and key */
	struct client *c; /* this replica only: two attempts (a stale keep-alive), short timeouts */
};

/* One cluster. Every function that takes it runs on the test's main thread (they use cmocka
 * assertions), except harness_log and harness_client. */
struct harness {
	const char *stsd;
	char root[256]; /* mkdtemp directory holding every replica's data dir and log */
	size_t n;       /* slots */
	size_t n_boot;  /* replicas 1..n_boot form the bootstrap configuration */
	struct harness_replica r[HARNESS_MAX];
	char bootstrap[HARNESS_MAX * 32];
	const char *const *extra; /* extra flags for every replica, NULL-terminated */
	const char *urls[HARNESS_MAX];
	/* The cluster's PKI (root/pki): the CA and an admin client certificate (system:masters)
	 * that every client of the harness uses. */
	char ca[300], admin_cert[300], admin_key[300];
	uint64_t t0_ms;
	bool passed; /* set by harness_finish: teardown then stays quiet and removes root */
};

/* Make a cluster of n slots (n <= HARNESS_MAX) of which the first n_boot are bootstrapped, on
 * free loopback ports, under a fresh directory /tmp/stsd-NAME-XXXXXX. Nothing runs yet. extra
 * (NULL or a NULL-terminated list, borrowed for the cluster's life) is added to every command
 * line. Free with harness_destroy. */
struct harness *harness_create(const char *stsd, const char *name, size_t n, size_t n_boot,
                               const char *const *extra);

/* Credentials of the harness's clients (the CA and the admin certificate) into o. */
void harness_credentials(const struct harness *h, struct client_options *o);

/* Kill (SIGKILL) whatever still runs; unless harness_finish ran, dump the tail of every log
 * (and any sanitizer report in full) to stderr and keep the directory; free h. NULL: no-op. */
void harness_destroy(struct harness *h);

/* Stop every running replica with SIGTERM (asserting a clean exit), assert that no log holds a
 * sanitizer report, and mark the test passed. */
void harness_finish(struct harness *h);

/* Progress line on stderr with the time since harness_create. Thread-safe. */
void harness_log(const struct harness *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Start replica id on its data: bootstrapped ones with --bootstrap, the others with --join of
 * every bootstrapped replica's API URL. Asserts it is not running. */
void harness_start(struct harness *h, uint64_t id);
/* Start the bootstrapped replicas, wait until each is ready, a leader is known and the
 * "default" namespace exists (a new leader creates it shortly after it gets ready); fails the
 * test after timeout_ms. Returns the leader's id. */
uint64_t harness_start_cluster(struct harness *h, long timeout_ms);
/* SIGKILL replica id and reap it. */
void harness_kill(struct harness *h, uint64_t id);
/* SIGTERM replica id, wait for it (15 s, then SIGKILL and fail) and assert exit status 0. */
void harness_stop(struct harness *h, uint64_t id);
bool harness_running(const struct harness *h, uint64_t id);
/* Fail the test if a replica that should run has exited (it is reaped and reported). */
void harness_check_alive(struct harness *h);

/* Poll until /readyz of replica id answers 200; fails the test after timeout_ms. */
void harness_wait_ready(struct harness *h, uint64_t id, long timeout_ms);
/* Poll until replica id applied at least what the most advanced running replica had applied
 * when called (ready only means it applied what it knows to be committed, which may be stale).
 * Fails the test after timeout_ms. */
void harness_wait_caught_up(struct harness *h, uint64_t id, long timeout_ms);
/* Poll the running replicas until one other than `not` (0: any) is a ready leader (the one of the
 * highest term, should two claim it); returns its id. Fails after timeout_ms. */
uint64_t harness_wait_leader(struct harness *h, uint64_t not, long timeout_ms);
/* Poll until the running replicas settle (the leader's whole log committed, every replica at its
 * commit index and at the same applied store index), then assert their digests are equal. Fails
 * after timeout_ms. Returns the applied index. */
uint64_t harness_wait_converged(struct harness *h, long timeout_ms);

/* GET path from replica id only (no failover): 0 with the parsed body in *out (caller frees), or
 * the client's error code (*out NULL). */
int harness_get(struct harness *h, uint64_t id, const char *path, json_t **out);
/* /debug/raft of replica id, or NULL when it does not answer. */
json_t *harness_raft(struct harness *h, uint64_t id);
/* An integer field of /debug/raft (-1 when the replica does not answer). */
long long harness_raft_field(struct harness *h, uint64_t id, const char *field);
/* The value of an unlabelled metric in replica id's /metrics; fails the test when missing. */
uint64_t harness_metric(struct harness *h, uint64_t id, const char *name);
/* Whether replica id's log (every run) contains needle; *count (may be NULL) gets how often. */
bool harness_log_has(const struct harness *h, uint64_t id, const char *needle, size_t *count);
/* The last "KEY=N" value on log lines of replica id containing needle; 0 when none. */
uint64_t harness_log_last_value(const struct harness *h, uint64_t id, const char *needle,
                                const char *key);

/* A client over every slot's URL (failing over between them), with the given request deadline;
 * freed by client_destroy. Thread-safe (the client is not shared). */
struct client *harness_client(const struct harness *h, long deadline_ms);

/* What the leader's /stsd/v1/members says about a member. */
enum harness_membership {
	HARNESS_VOTER,       /* a voter in the configuration */
	HARNESS_OUT_OF_CONF, /* not in the configuration (a member record may linger) */
	HARNESS_GONE,        /* not listed at all: neither configuration entry nor member record */
};
/* Poll the leader's members list until it says `want` about member; fails after timeout_ms. */
void harness_wait_member(struct harness *h, uint64_t member, enum harness_membership want,
                         long timeout_ms);
/* DELETE /stsd/v1/members/ID through any replica: 200, or 404 when the client's retry of an
 * attempt without an answer found the member already gone. */
void harness_remove_member(struct harness *h, uint64_t member);
/* The leader lists exactly n members, each a voter in the configuration and running here. */
void harness_assert_voters(struct harness *h, size_t n);

/* For the harness's own files: a pause between polls, and replica id's slot. */
void harness_nap(long ms);
struct harness_replica *harness_replica_of(struct harness *h, uint64_t id);

#endif
