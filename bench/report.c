/* report.c — the benchmarks' process plumbing: options, failure and clean-up, machine line, stats.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "machine.h"
#include "util.h"

#define SETTLE_TIMEOUT_MS 30000

static const char *prog = "bench";
static char tmp_dir[PATH_MAX];
static bool keep_tmp;
static volatile sig_atomic_t interrupted;
/* The clusters to stop when the run fails or is interrupted: one per system at most. */
static struct bench_cluster *volatile current[BENCH_SYSTEMS];

/* Kill what the run started, so whatever waits on it returns; the main flow then fails cleanly at
 * its next poll. Only kill(2) here: it is async-signal-safe. */
static void on_signal(int sig)
{
	interrupted = sig;
	for (int s = 0; s < BENCH_SYSTEMS; s++) {
		struct bench_cluster *c = current[s];
		if (c == NULL)
			continue;
		for (int i = 0; i < BENCH_MEMBERS; i++)
			if (c->m[i].pid > 0)
				kill(c->m[i].pid, SIGKILL);
		if (c->helper_pid > 0)
			kill(c->helper_pid, SIGKILL);
	}
}

void bench_init(const char *name)
{
	struct sigaction sa = {.sa_handler = on_signal};

	prog = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(LOG_WARN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%s: error: curl_global_init failed\n", prog);
		exit(1);
	}
	srand48((long)util_now_mono_ns() ^ getpid());
}

void bench_track_cluster(struct bench_cluster *c, bool on)
{
	current[c->sys] = on ? c : NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmp(void)
{
	if (tmp_dir[0] == '\0')
		return;
	if (keep_tmp)
		fprintf(stderr, "%s: kept %s\n", prog, tmp_dir);
	else
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp_dir[0] = '\0';
}

void bench_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (int s = 0; s < BENCH_SYSTEMS; s++) {
		struct bench_cluster *c = current[s];
		if (c != NULL) {
			bench_cluster_dump_logs(c);
			bench_cluster_stop(c);
		}
	}
	remove_tmp();
	exit(interrupted ? 128 + interrupted : 1);
}

bool bench_interrupted(void)
{
	return interrupted != 0;
}

void bench_poll_sleep(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	if (interrupted)
		bench_fail("interrupted by signal %d", (int)interrupted);
	nanosleep(&ts, NULL);
}

const char *bench_tmp_make(const char *parent, bool keep)
{
	/* room for the paths under it: PROG-XXXXXX/etcd/m1/member/snap/db and the like */
	int n = snprintf(tmp_dir, sizeof tmp_dir, "%s/%s-XXXXXX", parent, prog);
	int e = (size_t)n >= sizeof tmp_dir - 256 ? ENAMETOOLONG : mkdtemp(tmp_dir) ? 0 : errno;

	if (e != 0) {
		tmp_dir[0] = '\0';
		bench_fail("cannot create a temporary directory under %s: %s", parent, strerror(e));
	}
	keep_tmp = keep;
	return tmp_dir;
}

void bench_finish(void)
{
	remove_tmp();
	curl_global_cleanup();
}

const char *bench_system_name(enum bench_system sys)
{
	return sys == BENCH_STSD ? "stsd" : "etcd";
}

const char *bench_verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_stats_of(double *v, size_t n, struct bench_stats *s)
{
	double sum = 0;
	size_t rank = (99 * n + 99) / 100; /* ceil(0.99 n) */

	qsort(v, n, sizeof *v, cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->n = n;
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->p99 = v[(rank > 0 ? rank : 1) - 1];
	s->mean = sum / (double)n;
}

void bench_samples_add(struct bench_samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		if (s->v == NULL)
			bench_fail("out of memory for %zu latency samples", s->cap);
	}
	s->v[s->n++] = v;
}

double bench_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm) ": state is field 3, utime and stime fields 14 and 15 (proc(5)) */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
	        2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

bool bench_check_state(struct bench_cluster *c)
{
	char members[512] = "";
	int leader, same = -1;

	if (bench_cluster_settle(c, SETTLE_TIMEOUT_MS, &leader) != 0) {
		fprintf(stderr, "%s: error: %s\n", prog, c->err);
		return false;
	}
	same = bench_cluster_same_state(c, members, sizeof members);
	printf("%s: consistency system=%s state=%s members=\"%s\"\n", prog,
	       bench_system_name(c->sys),
	       same > 0    ? "same"
	       : same == 0 ? "differ"
	                   : "unchecked",
	       members);
	return same != 0;
}

/* --- options --- */

struct opt {
	const char *name;
	unsigned mask; /* 0: always accepted */
	long min, max;
	size_t field; /* offset of a long in struct bench_opts, for numeric options */
};

static const struct opt opts[] = {
    {"--rounds", BENCH_OPT_ROUNDS, 1, 1000, offsetof(struct bench_opts, rounds)},
    {"--clients", BENCH_OPT_CLIENTS, 1, 1024, offsetof(struct bench_opts, clients)},
    {"--duration", BENCH_OPT_DURATION, 1, 3600, offsetof(struct bench_opts, duration_s)},
    {"--ops", BENCH_OPT_OPS, 1, 1000000, offsetof(struct bench_opts, ops)},
    {"--attempt-timeout-ms", BENCH_OPT_ATTEMPT, 10, 60000, offsetof(struct bench_opts, attempt_ms)},
};

static _Noreturn void bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s '%s' (try --help)\n", prog, what, arg);
	exit(2);
}

static long parse_long(const struct opt *o, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < o->min || n > o->max) {
		fprintf(stderr, "%s: %s must be an integer in %ld..%ld, not '%s'\n", prog, o->name,
		        o->min, o->max, v);
		exit(2);
	}
	return n;
}

static void parse_system(const char *v, struct bench_opts *o)
{
	bool both = strcmp(v, "both") == 0;

	if (!both && strcmp(v, "stsd") != 0 && strcmp(v, "etcd") != 0)
		bad_usage("--system takes stsd, etcd or both, not", v);
	o->systems[BENCH_STSD] = both || strcmp(v, "stsd") == 0;
	o->systems[BENCH_ETCD] = both || strcmp(v, "etcd") == 0;
}

/* Whether a is a numeric option allowed here; it is then parsed from v. */
static bool parse_numeric(const char *a, const char *v, unsigned allowed, struct bench_opts *o)
{
	for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
		if (strcmp(a, opts[k].name) != 0 || !(allowed & opts[k].mask))
			continue;
		*(long *)((char *)o + opts[k].field) = parse_long(&opts[k], v);
		o->given |= opts[k].mask;
		return true;
	}
	return false;
}

void bench_parse_opts(int argc, char **argv, unsigned allowed, const char *usage,
                      struct bench_opts *o)
{
	*o = (struct bench_opts){.rounds = 20,
	                         .clients = 64,
	                         .duration_s = 10,
	                         .ops = 1000,
	                         .attempt_ms = 50,
	                         .systems = {true, true},
	                         .dir = "/tmp"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
			continue;
		}
		if (i + 1 >= argc)
			bad_usage(a[0] == '-' ? "missing value after" : "unknown argument", a);
		if (strcmp(a, "--system") == 0)
			parse_system(argv[++i], o);
		else if (strcmp(a, "--dir") == 0)
			o->dir = argv[++i];
		else if (!parse_numeric(a, argv[i + 1], allowed, o))
			bad_usage("unknown argument", a);
		else
			i++;
	}
}

/* --- the machine --- */

/* The first line of `etcd --version` ("etcd Version: 3.4.23") into out. */
static void etcd_version(char *out, size_t len)
{
	FILE *p = popen("etcd --version 2>/dev/null", "r");
	char line[256] = "";

	snprintf(out, len, "not-found");
	if (p == NULL)
		return;
	if (fgets(line, sizeof line, p) != NULL && sscanf(line, "etcd Version: %63s", line) == 1)
		snprintf(out, len, "%s", line);
	pclose(p);
}

void bench_print_machine(const char *dir)
{
	char cpu[256], qcpu[300], kernel[400], qkernel[450], qdir[PATH_MAX + 8], date[32], etcd[64];
	char fs[32];

	machine_cpu_model(cpu, sizeof cpu);
	if (!machine_kernel(kernel, sizeof kernel))
		bench_fail("uname: %s", strerror(errno));
	util_format_rfc3339(util_now_unix(), date, sizeof date);
	etcd_version(etcd, sizeof etcd);
	printf("%s: machine cpu=%s cpus=%ld kernel=%s dir=%s fs=%s date=%s etcd=%s curl=%s\n", prog,
	       log_quote(qcpu, sizeof qcpu, cpu), sysconf(_SC_NPROCESSORS_ONLN),
	       log_quote(qkernel, sizeof qkernel, kernel), log_quote(qdir, sizeof qdir, dir),
	       machine_fs_name(dir, fs, sizeof fs), date, etcd,
	       curl_version_info(CURLVERSION_NOW)->version);
}

void bench_print_load(const char *when)
{
	char buf[128] = "unknown";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL && fgets(buf, sizeof buf, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	if (f != NULL)
		fclose(f);
	printf("%s: loadavg when=%s value=\"%s\"\n", prog, when, buf);
}

const char *bench_prog(void)
{
	return prog;
}
