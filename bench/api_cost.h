/* api_cost.h — what the files of api_cost_bench share: the objects it writes, concurrent writes
 * (the initial load and the throughput figures), reads with their whole answer, the server
 * process's memory, and open watches counted on a thread of their own.
 *
 * Both systems are driven over HTTP/1.1 + JSON with libcurl: stsd through its Kubernetes API
 * (pods in namespace default, ConfigMaps), etcd through its JSON gateway (keys under /registry/
 * holding the same pod JSON, puts of fresh keys, /v3/kv/range and /v3/watch). */
#ifndef STSD_BENCH_API_COST_H
#define STSD_BENCH_API_COST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define COST_PROG     "api_cost_bench"
#define COST_NODES    50   /* node names pods are bound to, and pod watches select by */
#define COST_BODY_MAX 8192 /* one write's body: a pod (~1.5 KB), base64 for etcd */
#define COST_NS_PLAIN "bench-unwatched" /* ConfigMap creates with no watch open */
#define COST_NS_WATCH "bench-watched"   /* ConfigMap creates with the watches open */

/* --- api_cost_http.c: objects, writes, reads, process memory --- */

/* Pod i: ~1.5 KB of JSON, labels app=bench-(i%10); even i are bound to node-((i/2)%COST_NODES).
 * Returns the length written into buf, 0 when it does not fit in len. */
size_t cost_pod_json(long i, char *buf, size_t len);
/* How many of the first pods pods are bound to node k. */
long cost_pods_on_node(long pods, long k);

/* What a run of concurrent writes made (the load, or one throughput figure). */
struct cost_writes {
	size_t ok, failed;      /* all answers, also outside the counted window */
	size_t ok_window;       /* acknowledged inside the window */
	double per_s;           /* load: ok / elapsed; throughput: ok_window / duration */
	double elapsed_s;       /* load: first send to last answer */
	struct bench_stats lat; /* ms, of those inside the window */
	long elections;         /* terms the cluster went through meanwhile (set by the caller) */
	double cpu_s, leader_cpu_s; /* CPU the members, and the leader, used meanwhile (caller) */
	char first_error[256];
};

/* Create pods 0..n-1 (stsd: POST to namespace default; etcd: puts of /registry/pods/default/
 * pod-N), inflight at a time, all to api. */
void cost_load(enum bench_system sys, const char *api, long n, long inflight,
               struct cost_writes *out);

/* clients concurrent clients, each creating ConfigMaps (etcd: putting keys) with a 100-byte value
 * under fresh names in namespace ns (etcd: under /bench/ns/) on api, for warmup_ms unmeasured and
 * then seconds counted. Clients still in flight at the end are waited for: out->ok counts every
 * acknowledged write, which is what a watch must then deliver. */
void cost_throughput(enum bench_system sys, const char *api, const char *ns, long clients,
                     unsigned warmup_ms, long seconds, struct cost_writes *out);

/* One read with its whole answer kept (reused across reads; the buffer grows once). */
struct cost_get {
	CURL *h;
	char *body;
	size_t len, cap;
	long status;
	double ms;
	bool oom;
};
/* GET url (post: POST it with body post, for etcd) with an optional Accept header, on g->h (from
 * bench_curl_new for the system url belongs to); 0, or -1 without an answer (status then 0). The
 * answer is NUL-terminated in g->body. */
int cost_get_run(struct cost_get *g, const char *url, const char *accept, const char *post);
void cost_get_free(struct cost_get *g);

/* POST a JSON body to url; the HTTP status, or 0 without an answer. */
long cost_post(CURL *h, const char *url, const char *body);

/* Fields of /proc/PID/status in KiB (-1 when unreadable). */
struct cost_mem {
	long rss_kb, hwm_kb, anon_kb;
};
void cost_mem_read(pid_t pid, struct cost_mem *m);
/* Reset the peak (VmHWM) to the current RSS through /proc/PID/clear_refs; false if refused. */
bool cost_mem_reset_peak(pid_t pid);

/* The value of the first sample of metric name in the Prometheus text at http://api/metrics;
 * -1 when it cannot be read. */
long cost_metric(CURL *h, const char *api, const char *name);

/* --- api_cost_list.c: list figures --- */

/* stsd: the pods of namespace default from the leader as JSON, with labelSelector=app=bench-3, in
 * pages of 500, as a Table, and from a follower with resourceVersion=0. etcd: a range over the
 * same keys from the leader, and a serializable one (served locally) from a follower. */
enum cost_list_id { LIST_PLAIN, LIST_LABEL, LIST_PAGED, LIST_TABLE, LIST_FOLLOWER, COST_LISTS };

struct cost_list_fig {
	bool ran;
	long items, expected; /* of the first read, checked by parsing it */
	size_t bytes, pages;  /* of one read (all its pages) */
	size_t errors;
	char first_error[256];
	struct bench_stats lat; /* ms of one read (all its pages) */
	struct cost_mem before, after;
	bool peak_reset; /* the serving process's peak was reset before the reads */
	long tree_kb;    /* the client's memory for the parsed answer (first read), -1 unknown */
	long elections;  /* terms the cluster went through during the reads (set by the caller) */
};

extern const char *const cost_list_names[COST_LISTS];
/* Whether sys serves figure id. */
bool cost_list_applies(enum bench_system sys, enum cost_list_id id);
/* reps reads of figure id from member of c, whose process's memory is read around them. */
void cost_list_figure(struct bench_cluster *c, int member, enum cost_list_id id, long pods,
                      long reps, struct cost_list_fig *f);
void cost_list_print(enum bench_system sys, enum cost_list_id id, int member,
                     const struct cost_list_fig *f);

/* --- api_cost_watch.c: open watches, on a thread of their own --- */

/* One watch: where it points and what it has received so far (written by the watch thread). */
struct cost_watch {
	char url[384];
	char post[512]; /* etcd: the create request; "" for stsd */
	int member;
	bool on_pods;        /* else on the watched ConfigMaps */
	long initial;        /* synthetic ADDED events expected before any write (stsd rv=0) */
	_Atomic long status; /* HTTP status once the headers came, else 0 */
	_Atomic long events; /* stsd: lines; etcd: events inside the messages */
	_Atomic long errors; /* ERROR events (stsd), canceled watches (etcd) */
	_Atomic bool ended;  /* the stream ended (by the server or an error) */
	_Atomic size_t bytes;
	/* the thread's own parsing state */
	size_t line_len;
	char line[48];
	int match;
};

struct cost_watches;

/* Open n watches (w[] filled by the caller) on a thread that reads them until cost_watches_stop.
 * Returns NULL when the thread cannot start. */
struct cost_watches *cost_watches_start(enum bench_system sys, struct cost_watch *w, size_t n);
/* Stop reading, close every stream, join the thread, free it. The CPU time the thread used reading
 * the streams goes to *cpu_s. */
void cost_watches_stop(struct cost_watches *ws, double *cpu_s);

#endif
