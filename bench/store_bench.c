/* store_bench.c — benchmark of the storage engine's puts, gets and lists beside fdatasync. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "machine.h"
#include "store.h"
#include "util.h"

#define RESOURCE       "configmaps"
#define NS             "default"
#define NOW            1764072000
#define BATCH_OPS      100
#define LIST_REPS      20
#define PAGED_REPS     5
#define PAGE_LIMIT     500
#define GET_CHUNK      1000
#define GET_MIN_NS     1000000000ull
#define GET_MAX        1000000ull
#define FSYNC_NS       1500000000ull
#define FSYNC_BLOCK    4096
#define NAME_LEN       24
#define SIZE_MIN       128
#define SIZE_MAX_      (1u << 20)
#define OBJECTS_MAX    10000000
#define TARGET_PUTS    100000
#define TARGET_GETS    1000000
#define TARGET_LIST_MS 20
#define STR_(x)        #x
#define STR(x)         STR_(x)
#define JSON_HEAD \
	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\""

static const char usage[] =
    "Usage: store_bench [--dir DIR] [--objects N] [--size BYTES]\n"
    "\n"
    "Benchmark the storage engine: puts (one per transaction, and 100 per transaction), gets\n"
    "and lists of N ConfigMaps of about BYTES of JSON each, beside the fdatasync floor of the\n"
    "disk under DIR. Prints one key=value line per figure, with its target and PASS/MISS; a\n"
    "miss does not change the exit status (0 unless something fails).\n"
    "\n"
    "  --dir DIR      parent of the temporary store directory, removed at the end (default /tmp)\n"
    "  --objects N    number of objects, 1..10000000 (default 10000)\n"
    "  --size BYTES   JSON size of each object, 128..1048576 (default 1024)\n"
    "  -h, --help     show this help and exit\n";

struct bench {
	const char *parent;
	size_t objects, size;
	char (*names)[NAME_LEN];
	char *jsons;
	struct store_op *ops; /* a create of every object */
	double fsync_per_s, single_per_s, batched_per_s, gets_per_s, list_median_ms;
	int pass, miss;
};

/* The temporary directory, removed by cleanup() on every exit path. */
static char tmp_dir[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (tmp_dir[0] != '\0')
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp_dir[0] = '\0';
}

__attribute__((format(printf, 1, 2))) static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("store_bench: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

static _Noreturn void bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "store_bench: %s '%s' (try --help)\n", what, arg);
	exit(2);
}

static size_t parse_count(const char *opt, const char *v, size_t min, size_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < min || n > max) {
		fprintf(stderr, "store_bench: %s must be an integer in %zu..%zu, not '%s'\n", opt,
		        min, max, v);
		exit(2);
	}
	return (size_t)n;
}

static void parse_args(int argc, char **argv, struct bench *b)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(a, "--dir") != 0 && strcmp(a, "--objects") != 0 &&
		    strcmp(a, "--size") != 0)
			bad_usage("unknown argument", a);
		if (i + 1 >= argc)
			bad_usage("missing value after", a);
		if (strcmp(a, "--dir") == 0)
			b->parent = argv[++i];
		else if (strcmp(a, "--objects") == 0)
			b->objects = parse_count(a, argv[++i], 1, OBJECTS_MAX);
		else
			b->size = parse_count(a, argv[++i], SIZE_MIN, SIZE_MAX_);
	}
}

static void print_machine(const struct bench *b)
{
	char cpu[256], qcpu[300], kernel[400], qkernel[450], qdir[4200], fs[32], date[32];

	machine_cpu_model(cpu, sizeof cpu);
	if (!machine_kernel(kernel, sizeof kernel))
		fail("uname: %s", strerror(errno));
	util_format_rfc3339(util_now_unix(), date, sizeof date);
	printf("store_bench: machine cpu=%s cpus=%ld kernel=%s dir=%s fs=%s date=%s\n",
	       log_quote(qcpu, sizeof qcpu, cpu), sysconf(_SC_NPROCESSORS_ONLN),
	       log_quote(qkernel, sizeof qkernel, kernel), log_quote(qdir, sizeof qdir, b->parent),
	       machine_fs_name(b->parent, fs, sizeof fs), date);
	printf("store_bench: config objects=%zu size=%zu resource=%s namespace=%s batch_ops=%d\n",
	       b->objects, b->size, RESOURCE, NS, BATCH_OPS);
}

/* A ConfigMap called name, padded through data.k to size bytes, into buf (size + 1 bytes). */
static size_t make_json(char *buf, size_t size, const char *name)
{
	size_t len = (size_t)snprintf(buf, size + 1, JSON_HEAD, name), pad = size - len - 3;

	memset(buf + len, 'x', pad);
	memcpy(buf + len + pad, "\"}}", 4);
	return size;
}

/* Names, JSON and a create op for every object, built once outside the timings. */
static void make_workload(struct bench *b)
{
	b->names = calloc(b->objects, sizeof *b->names);
	b->jsons = malloc(b->objects * (b->size + 1));
	b->ops = calloc(b->objects, sizeof *b->ops);
	if (b->names == NULL || b->jsons == NULL || b->ops == NULL)
		fail("out of memory for %zu objects of %zu bytes", b->objects, b->size);
	for (size_t i = 0; i < b->objects; i++) {
		char *json = b->jsons + i * (b->size + 1);
		snprintf(b->names[i], NAME_LEN, "cm-%06zu", i);
		b->ops[i] = (struct store_op){.type = STORE_OP_CREATE,
		                              .resource = RESOURCE,
		                              .ns = NS,
		                              .name = b->names[i],
		                              .json = json,
		                              .json_len = make_json(json, b->size, b->names[i])};
	}
}

static const char *verdict(struct bench *b, bool ok)
{
	*(ok ? &b->pass : &b->miss) += 1;
	return ok ? "PASS" : "MISS";
}

static double per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* write + fdatasync of one block, in place, for FSYNC_NS: the cheapest durable write. */
static void bench_fsync(struct bench *b)
{
	char path[4200], buf[FSYNC_BLOCK];
	uint64_t n = 0, max_ns = 0, t0, el;
	int fd;

	snprintf(path, sizeof path, "%s/fsync.dat", tmp_dir);
	memset(buf, 'x', sizeof buf);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, buf, sizeof buf, 0) != sizeof buf || fdatasync(fd) != 0)
		fail("fdatasync floor: %s: %s", path, strerror(errno));
	t0 = util_now_mono_ns();
	do {
		uint64_t t = util_now_mono_ns();
		if (pwrite(fd, buf, sizeof buf, 0) != sizeof buf || fdatasync(fd) != 0)
			fail("fdatasync floor: %s: %s", path, strerror(errno));
		t = util_now_mono_ns() - t;
		max_ns = t > max_ns ? t : max_ns;
		n++;
		el = util_now_mono_ns() - t0;
	} while (el < FSYNC_NS);
	close(fd);
	unlink(path);
	b->fsync_per_s = per_s(n, el);
	printf("store_bench: fdatasync_floor block=%d mode=overwrite ops=%llu elapsed_ms=%.1f "
	       "ops_per_s=%.0f mean_us=%.1f max_us=%.1f target=- result=-\n",
	       FSYNC_BLOCK, (unsigned long long)n, el / 1e6, b->fsync_per_s, el / 1e3 / n,
	       max_ns / 1e3);
}

static struct store *open_store(const char *name)
{
	char path[4200], err[512];
	struct store *s;

	snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
	if (store_open(path, NULL, &s, err, sizeof err) != STSD_OK)
		fail("%s", err);
	return s;
}

static void apply(struct store *s, uint64_t rev, const struct store_op *ops, size_t n)
{
	struct store_batch batch = {.revision = rev, .now = NOW, .ops = ops, .n_ops = n};
	struct store_result res;
	int rv = store_apply(s, &batch, &res);

	if (rv != STSD_OK)
		fail("store_apply revision %llu: %s: %s", (unsigned long long)rev, stsd_errname(rv),
		     store_errmsg(s));
	if (res.status != STSD_OK || res.skipped)
		fail("store_apply revision %llu: op %zu: %s: %s", (unsigned long long)rev,
		     res.failed_op, stsd_errname(res.status),
		     res.skipped ? "skipped" : res.message);
	store_result_free(&res);
}

/* Create every object into a fresh store, per_txn creates per store_apply. */
static struct store *bench_puts(struct bench *b, const char *figure, size_t per_txn)
{
	struct store *s = open_store(figure);
	uint64_t rev = 0, t0 = util_now_mono_ns(), el;
	bool batched = per_txn > 1;
	double rate, txn_rate;

	for (size_t i = 0; i < b->objects; i += per_txn)
		apply(s, ++rev, b->ops + i, b->objects - i < per_txn ? b->objects - i : per_txn);
	el = util_now_mono_ns() - t0;
	rate = per_s(b->objects, el);
	txn_rate = per_s(rev, el);
	*(batched ? &b->batched_per_s : &b->single_per_s) = rate;
	printf("store_bench: %s ops=%zu ops_per_txn=%zu elapsed_ms=%.1f ops_per_s=%.0f "
	       "mean_op_us=%.1f txn_per_s=%.0f txn_vs_fdatasync_floor=%.2f target=%s result=%s\n",
	       figure, b->objects, per_txn, el / 1e6, rate, el / 1e3 / b->objects, txn_rate,
	       txn_rate / b->fsync_per_s, batched ? ">=" STR(TARGET_PUTS) : "-",
	       batched ? verdict(b, rate >= TARGET_PUTS) : "-");
	return s;
}

static struct store_reader *read_begin(struct store *s)
{
	struct store_reader *r;
	int rv = store_read_begin(s, &r);

	if (rv != STSD_OK)
		fail("store_read_begin: %s: %s", stsd_errname(rv), store_errmsg(s));
	return r;
}

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Get a random object; its length counts into *bytes and its last byte is checked. */
static void get_one(const struct bench *b, struct store_reader *r, uint64_t *rng, uint64_t *bytes)
{
	const char *name = b->names[xorshift64(rng) % b->objects];
	struct store_object o;
	int rv = store_get(r, RESOURCE, NS, name, &o);

	if (rv != STSD_OK)
		fail("store_get %s: %s: %s", name, stsd_errname(rv), store_errmsg(NULL));
	if (o.json_len == 0 || o.json[o.json_len - 1] != '}')
		fail("store_get %s: object JSON does not end in '}'", name);
	*bytes += o.json_len;
}

/* Random gets until GET_MIN_NS passed or GET_MAX gets, in one reader or a reader per get. */
static void bench_gets(struct bench *b, struct store *s, bool reader_per_get)
{
	struct store_reader *r = reader_per_get ? NULL : read_begin(s);
	uint64_t rng = 0x9E3779B97F4A7C15ull, n = 0, bytes = 0, t0 = util_now_mono_ns(), el;
	double rate;

	do {
		for (int i = 0; i < GET_CHUNK; i++, n++) {
			struct store_reader *rr = reader_per_get ? read_begin(s) : r;
			get_one(b, rr, &rng, &bytes);
			if (reader_per_get)
				store_read_end(rr);
		}
		el = util_now_mono_ns() - t0;
	} while (el < GET_MIN_NS && n < GET_MAX);
	store_read_end(r);
	rate = per_s(n, el);
	if (!reader_per_get)
		b->gets_per_s = rate;
	printf("store_bench: %s gets=%llu elapsed_ms=%.1f gets_per_s=%.0f mean_ns=%.0f "
	       "mean_json_len=%.0f target=%s result=%s\n",
	       reader_per_get ? "gets_reader_per_get" : "gets", (unsigned long long)n, el / 1e6,
	       rate, (double)el / n, (double)bytes / n,
	       reader_per_get ? "-" : ">=" STR(TARGET_GETS),
	       reader_per_get ? "-" : verdict(b, rate >= TARGET_GETS));
}

static int sum_len(void *ud, const struct store_object *o)
{
	*(uint64_t *)ud += o->json_len;
	return 0;
}

/* List every object in pages of limit (0: one page), a reader per page; returns elapsed ns. */
static uint64_t list_all(const struct bench *b, struct store *s, size_t limit, size_t *pages)
{
	char token[STORE_TOKEN_MAX] = ""; /* not page.next_token: store_list clears page first */
	struct store_list_request req = {
	    .resource = RESOURCE, .ns = NS, .continue_token = token, .limit = limit};
	struct store_list_page page;
	uint64_t bytes = 0, total = 0, t0 = util_now_mono_ns();

	for (*pages = 0; *pages == 0 || token[0] != '\0'; ++*pages) {
		struct store_reader *r = read_begin(s);
		int rv = store_list(r, &req, sum_len, &bytes, &page);
		store_read_end(r);
		if (rv != STSD_OK)
			fail("store_list: %s: %s", stsd_errname(rv), store_errmsg(s));
		total += page.count;
		memcpy(token, page.next_token, sizeof token);
	}
	t0 = util_now_mono_ns() - t0;
	if (total != b->objects)
		fail("store_list delivered %llu objects, %zu expected", (unsigned long long)total,
		     b->objects);
	return t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sort v and return its median in ms (v[0] is then the minimum). */
static double median_ms(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1e6;
}

static void bench_lists(struct bench *b, struct store *s)
{
	uint64_t full[LIST_REPS], paged[PAGED_REPS];
	size_t pages = 0;
	double paged_ms;

	for (int i = 0; i < LIST_REPS; i++)
		full[i] = list_all(b, s, 0, &pages);
	for (int i = 0; i < PAGED_REPS; i++)
		paged[i] = list_all(b, s, PAGE_LIMIT, &pages);
	b->list_median_ms = median_ms(full, LIST_REPS);
	paged_ms = median_ms(paged, PAGED_REPS);
	printf("store_bench: list objects=%zu limit=0 reps=%d median_ms=%.3f min_ms=%.3f "
	       "target=<%d result=%s\n",
	       b->objects, LIST_REPS, b->list_median_ms, full[0] / 1e6, TARGET_LIST_MS,
	       verdict(b, b->list_median_ms < TARGET_LIST_MS));
	printf("store_bench: list_paged objects=%zu limit=%d pages=%zu reps=%d median_ms=%.3f "
	       "min_ms=%.3f target=- result=-\n",
	       b->objects, PAGE_LIMIT, pages, PAGED_REPS, paged_ms, paged[0] / 1e6);
}

static void make_tmp_dir(const char *parent)
{
	int n = snprintf(tmp_dir, sizeof tmp_dir, "%s/store-bench-XXXXXX", parent);
	int e = (size_t)n >= sizeof tmp_dir ? ENAMETOOLONG : mkdtemp(tmp_dir) ? 0 : errno;

	if (e != 0) {
		tmp_dir[0] = '\0';
		fail("cannot create a temporary directory under %s: %s", parent, strerror(e));
	}
}

int main(int argc, char **argv)
{
	struct bench b = {.parent = "/tmp", .objects = 10000, .size = 1024};
	uint64_t t0 = util_now_mono_ns();
	struct store *s;

	parse_args(argc, argv, &b);
	log_set_level(LOG_WARN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_tmp_dir(b.parent);
	make_workload(&b);
	print_machine(&b);
	bench_fsync(&b);
	store_close(bench_puts(&b, "puts_single", 1));
	s = bench_puts(&b, "puts_batched", BATCH_OPS);
	bench_gets(&b, s, false);
	bench_gets(&b, s, true);
	bench_lists(&b, s);
	store_close(s);
	cleanup();
	free(b.names);
	free(b.jsons);
	free(b.ops);
	printf("store_bench: summary fdatasync_per_s=%.0f puts_single_per_s=%.0f "
	       "puts_batched_per_s=%.0f gets_per_s=%.0f list_median_ms=%.3f pass=%d miss=%d "
	       "elapsed_s=%.1f\n",
	       b.fsync_per_s, b.single_per_s, b.batched_per_s, b.gets_per_s, b.list_median_ms,
	       b.pass, b.miss, (util_now_mono_ns() - t0) / 1e9);
	return 0;
}
