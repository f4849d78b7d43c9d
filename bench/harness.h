/* harness.h — what the replicated-store benchmarks share: three-member clusters of stsd (through
 * `stsctl dev`) and of etcd on loopback, writes to them over HTTP/1.1 + JSON with libcurl, options,
 * statistics and clean-up on every exit path.
 *
 * Both systems are driven the same way: stsd through its Kubernetes-shaped API (a ConfigMap
 * create), etcd through its JSON gRPC gateway (a put to /v3/kv/put), each write carrying a value of
 * about BENCH_VALUE_LEN bytes under a name never used before in the process.
 *
 * Both serve their clients over TLS and require a client certificate (issue 5): stsd with the CA
 * and admin certificate `stsctl dev up` makes, etcd with a CA, serving and client certificates
 * cluster.c issues through common/pki.h (--client-cert-auth). etcd's peer traffic stays plain HTTP
 * on loopback, as stsd's Raft traffic does. */
#ifndef STSD_BENCH_HARNESS_H
#define STSD_BENCH_HARNESS_H

#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MEMBERS   3
#define BENCH_VALUE_LEN 100
#define BENCH_BODY_MAX  512
#define BENCH_RESP_MAX  2048
/* Every client URL of either system starts with this (both are TLS-only). */
#define BENCH_SCHEME "https://"

enum bench_system { BENCH_STSD, BENCH_ETCD, BENCH_SYSTEMS };

/* What one write came to. UNAVAILABLE is what a client retries elsewhere: no connection, a
 * time-out, or a 5xx answer (503 while there is no leader). ERROR is any other answer. */
enum bench_outcome { BENCH_OK, BENCH_UNAVAILABLE, BENCH_TIMEOUT, BENCH_ERROR };

struct bench_cluster;

/* --- report.c: process set-up, failure, options, statistics --- */

/* Options; every binary accepts the subset its usage lists. */
struct bench_opts {
	long rounds, clients, duration_s, ops, attempt_ms;
	bool systems[BENCH_SYSTEMS];
	const char *dir;
	bool keep;
	unsigned given; /* the enum bench_opt_mask options given on the command line */
};

enum bench_opt_mask {
	BENCH_OPT_ROUNDS = 1 << 0,
	BENCH_OPT_CLIENTS = 1 << 1,
	BENCH_OPT_DURATION = 1 << 2,
	BENCH_OPT_OPS = 1 << 3,
	BENCH_OPT_ATTEMPT = 1 << 4,
};

/* Set up the process for a benchmark called prog (a string that lives for the whole run): line-
 * buffered stdout, SIGINT/SIGTERM kill what the run started, libcurl initialised. */
void bench_init(const char *prog);

/* Parse argv into *o (defaults filled in first). --system, --dir, --keep and --help always; the
 * others when allowed (a mask of enum bench_opt_mask). Prints usage and exits 0 on --help, prints
 * the reason and exits 2 on a bad argument. */
void bench_parse_opts(int argc, char **argv, unsigned allowed, const char *usage,
                      struct bench_opts *o);

/* The name given to bench_init. */
const char *bench_prog(void);

/* Print "PROG: error: ..." to stderr, stop the clusters registered with bench_track_cluster,
 * remove the temporary directory (unless --keep) and exit 1. */
__attribute__((format(printf, 1, 2))) _Noreturn void bench_fail(const char *fmt, ...);

/* Whether c is to be stopped on failure or interruption; cluster.c registers its clusters while
 * they run, one per system at a time (tls_bench runs one of each side by side). */
void bench_track_cluster(struct bench_cluster *c, bool on);

/* Make the run's temporary directory under parent (PARENT/PROG-XXXXXX) and return it; it lives
 * until bench_finish (or bench_fail), which removes it unless keep. */
const char *bench_tmp_make(const char *parent, bool keep);

/* Remove the temporary directory (unless kept) and free libcurl. */
void bench_finish(void);

/* Whether SIGINT or SIGTERM arrived; poll loops call bench_poll_sleep, which fails the run then. */
bool bench_interrupted(void);
void bench_poll_sleep(unsigned ms);

/* Print "PROG: machine cpu=... cpus=N kernel=... dir=DIR fs=... date=..." and the etcd version. */
void bench_print_machine(const char *dir);

/* Print "PROG: loadavg when=WHEN value=..." (/proc/loadavg), so that a figure taken on a busy
 * machine can be told from one that was not. */
void bench_print_load(const char *when);

const char *bench_system_name(enum bench_system sys);

/* Order statistics of v (n >= 1, sorted in place), in the unit of v. p99 is the nearest rank. */
struct bench_stats {
	size_t n;
	double min, median, p99, max, mean;
};
void bench_stats_of(double *v, size_t n, struct bench_stats *s);

/* Growable samples (latencies in ms); free v when done. Out of memory fails the run. */
struct bench_samples {
	double *v;
	size_t n, cap;
};
void bench_samples_add(struct bench_samples *s, double v);

/* CPU time (user + system) pid has used so far in seconds, or -1. */
double bench_cpu_s(pid_t pid);

/* Once the cluster has settled, print "PROG: consistency system=S state=same|differ|unchecked
 * members=..." (digests and applied indexes). Returns false when the members differ or the cluster
 * does not settle: replicas that disagree are a broken run, whatever its timings. */
bool bench_check_state(struct bench_cluster *c);

/* "PASS" when ok, else "MISS". */
const char *bench_verdict(bool ok);

/* --- cluster.c: the clusters --- */

struct bench_member {
	int id;                  /* 1..BENCH_MEMBERS */
	pid_t pid;               /* 0 while stopped */
	uint64_t raft_id;        /* what the system calls it in leader fields (etcd: member id) */
	char api[64];            /* "127.0.0.1:P": stsd API address or etcd client address */
	char peer[64];           /* etcd peer address */
	char data_dir[PATH_MAX]; /* etcd: its --data-dir; stsd: from cluster.json */
	char log[PATH_MAX];
};

struct bench_cluster {
	enum bench_system sys;
	char dir[PATH_MAX]; /* stsd: the `stsctl dev` directory; etcd: the members' parent */
	struct bench_member m[BENCH_MEMBERS];
	CURL *h;          /* for status queries (made on first use); owned */
	pid_t helper_pid; /* a running stsctl, killed with the cluster on failure */
	char helper_log[PATH_MAX];
	char err[1024];
};

/* A member's view of the cluster, from stsd's GET /debug/raft or etcd's status. */
struct bench_status {
	bool leader; /* it says it is the leader */
	uint64_t self, leader_id, term, applied;
	char digest[80]; /* stsd: hex digest of the store at applied; etcd: "" (not exposed) */
};

/* Start a cluster of sys in PARENT/<system> and wait until it has settled. Returns 0, or -1 with
 * the reason in c->err (what was started is stopped again). c is then registered for bench_fail. */
int bench_cluster_start(struct bench_cluster *c, enum bench_system sys, const char *parent);

/* Stop every member (SIGTERM, then SIGKILL), reap them, release c. Safe on a failed start. */
void bench_cluster_stop(struct bench_cluster *c);

/* SIGKILL member i and wait until it has exited (reaped when it is the run's child), so that it can
 * no longer answer anything. 0 or -1 (c->err). */
int bench_cluster_kill(struct bench_cluster *c, int i);

/* Start stopped member i again on its data and wait until it answers. 0 or -1 (c->err). */
int bench_cluster_restart(struct bench_cluster *c, int i);

/* Wait up to timeout_ms until every running member answers, all name the same leader, the leader
 * says it leads, all applied indexes are equal, and that held with the same leader and term for
 * BENCH_STABLE_MS. *leader is the leader's index. 0 or -1 (c->err). */
int bench_cluster_settle(struct bench_cluster *c, uint64_t timeout_ms, int *leader);

/* The status of member i (timeout 500 ms). 0 or -1. */
int bench_cluster_status(struct bench_cluster *c, int i, struct bench_status *st);

/* After a settle: whether all members hold the same state. 1 same digest, 0 they differ, -1 the
 * system does not say (etcd) or a member did not answer. out gets "1:DIGEST@APPLIED 2:...". */
int bench_cluster_same_state(struct bench_cluster *c, char *out, size_t len);

/* The index of the member whose raft id is id, or -1. */
int bench_cluster_index(const struct bench_cluster *c, uint64_t id);

/* Print the last lines of every member's log to stderr (after a failure). */
void bench_cluster_dump_logs(const struct bench_cluster *c);

/* Start a cluster of sys under parent and run measure(c, ud) on it (a failed start sets
 * *broken), dump the members' logs when *broken ends up true, stop the cluster. */
typedef void (*bench_measure_cb)(struct bench_cluster *c, void *ud);
void bench_with_cluster(enum bench_system sys, const char *parent, bench_measure_cb measure,
                        void *ud, bool *broken);

/* --- wire.c: HTTP --- */

/* One write in flight: the request and its answer; caller-allocated, reusable. */
struct bench_req {
	char url[128];
	char body[BENCH_BODY_MAX];
	size_t body_len;
	char resp[BENCH_RESP_MAX];
	size_t resp_len;
	struct curl_slist *hdrs; /* owned; freed by bench_req_free */
	uint64_t started_ns;
	int member;
};

/* Fill r with a write of a fresh name to the member at api and set h up to send it with a
 * time-out of timeout_ms (0: none). r must outlive the transfer. */
void bench_req_write(CURL *h, struct bench_req *r, enum bench_system sys, const char *api,
                     long timeout_ms);
void bench_req_free(struct bench_req *r);

/* A CURLOPT_WRITEFUNCTION keeping the first BENCH_RESP_MAX - 1 bytes of the answer in the
 * struct bench_req given as CURLOPT_WRITEDATA (NUL-terminated). */
size_t bench_req_sink(char *data, size_t size, size_t n, void *ud);

/* Classify a finished transfer of h (rc its result). */
enum bench_outcome bench_req_outcome(enum bench_system sys, CURL *h, CURLcode rc);

/* The TLS credentials of sys's clients: the CA file that signed its serving certificates and the
 * client certificate and key it accepts (PEM paths, copied). cluster.c sets them when it starts a
 * cluster; every handle bench_curl_new makes for sys afterwards uses them. */
void bench_tls_set(enum bench_system sys, const char *ca, const char *cert, const char *key);

/* A new easy handle for requests to sys, with the options every request shares: HTTP/1.1 (etcd
 * would offer HTTP/2 through ALPN; stsd does not speak it), sys's CA as the only trust anchor, its
 * client certificate. The one place the benchmarks configure TLS. NULL when libcurl fails; fails
 * the run when sys has no credentials yet (a programming error). */
CURL *bench_curl_new(enum bench_system sys);

/* Send one write synchronously to api; *status is the HTTP status (0 without an answer). */
enum bench_outcome bench_write(CURL *h, struct bench_req *r, enum bench_system sys, const char *api,
                               long timeout_ms, long *status);

/* Standard base64 with padding of len bytes into out (room for 4 * ceil(len / 3) + 1); returns
 * the length written (etcd's JSON gateway takes protobuf bytes this way). */
size_t bench_b64(const void *data, size_t len, char *out);

/* Run the transfers of multi until *inflight is 0 (the caller's count, which done keeps),
 * calling done(ud, msg, now_ns) for each finished one; an interruption fails the run. */
#define BENCH_POLL_MS 100
typedef void (*bench_done_cb)(void *ud, CURLMsg *msg, uint64_t now_ns);
void bench_multi_drive(CURLM *multi, const long *inflight, bench_done_cb done, void *ud);

/* Ask the member at api for its status. 0 or -1. */
int bench_status_query(CURL *h, enum bench_system sys, const char *api, struct bench_status *st);

#endif
