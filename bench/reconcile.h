/* reconcile.h — what the files of reconcile_bench share: HTTP requests to stsd's API in bulk, a
 * watch that notes when the first controller write of a new leader arrives, and /proc readings. */
#ifndef STSD_BENCH_RECONCILE_H
#define STSD_BENCH_RECONCILE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One request of a bulk send: method, path (from the API root) and body; the status it ended
 * with (0: no answer after every retry). */
struct rc_req {
	const char *method; /* "POST", "PATCH" */
	char path[160];
	char *body; /* owned */
	const char *ctype;
	long status;
	int tries;
};

/* Send every request to api ("127.0.0.1:P"), at most parallel in flight, retrying a request that
 * got no answer, a 429 or a 5xx up to 20 times. Returns how many ended 2xx (a 409 of a retried
 * POST counts: its first attempt committed). */
size_t rc_send_many(const char *api, struct rc_req *reqs, size_t n, int parallel);

/* GET api + path: the body (malloc'd, NUL-terminated), or NULL unless 200. */
char *rc_get_text(const char *api, const char *path, long timeout_ms);

/* The value of an unlabelled sample NAME in Prometheus text; -1 when absent. */
double rc_metric(const char *metrics, const char *name);

/* GET api + path and parse the answer. NULL on any failure (no answer, non-200, bad JSON). */
json_t *rc_get_json(const char *api, const char *path, long timeout_ms);

/* A watch of one resource list on one replica, in its own thread, that keeps the receive time of
 * the first event of type want whose resourceVersion exceeds after (set after the watch started,
 * so that events committed before a kill are skipped). */
struct rc_watch {
	char url[256];
	const char *want;          /* "ADDED", "MODIFIED" */
	volatile uint64_t after;   /* 0: nothing counts yet */
	volatile uint64_t hit_ns;  /* monotonic ns of the first counted event; 0 none */
	volatile uint64_t hit_rv;  /* its resourceVersion */
	volatile uint64_t events;  /* events seen in all */
	volatile uint64_t last_rv; /* where a broken stream resumes */
	volatile unsigned reconnects;
	volatile int stop;
	char line[1 << 16];
	size_t line_len;
	pthread_t thread;
	bool started;
};

/* Start watching api + path (which must carry ?watch=true, and no resourceVersion) from rv. 0 or
 * -1. */
int rc_watch_start(struct rc_watch *w, const char *api, const char *path, uint64_t rv,
                   const char *want);
void rc_watch_stop(struct rc_watch *w);

/* RssAnon of pid in KiB from /proc/PID/status; -1 when unreadable. */
long rc_rss_anon_kib(pid_t pid);

/* Print the n threads of pid that used most CPU (utime + stime, /proc/PID/task) as
 * "PROG: threads member=M tid=T comm=C cpu_s=S" lines: where the time goes without perf. */
void rc_print_threads(const char *prog, int member, pid_t pid, int n);

#endif
