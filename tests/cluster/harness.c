/* harness.c — real stsd clusters for black-box tests: replicas as child processes on loopback. */
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "harness.h"
#include "pki.h"
#include "util.h"

#define STOP_MS      15000
#define TAIL_LINES   40
#define REPORT_LINES 120
#define ARGV_MAX     48

/* Outside the usual ephemeral range, so that other tests' outgoing connections never hold them. */
#define PORT_MIN 20000
#define PORT_MAX 32000

static const char *const sanitizer_marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                              "runtime error:", "SUMMARY: UndefinedBehavior"};

void harness_nap(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void harness_log(const struct harness *h, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof line, "[cluster %7.2fs] ",
	             (double)(util_now_mono_ms() - h->t0_ms) / 1000.0);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

struct harness_replica *harness_replica_of(struct harness *h, uint64_t id)
{
	assert_true(id >= 1 && id <= h->n);
	return &h->r[id - 1];
}

/* ---- Setting up ------------------------------------------------------------------------------ */

/* A listening socket on a free port of [PORT_MIN, PORT_MAX); kept open until every port of the
 * cluster is chosen, so that no two are the same. */
static int reserve_port(int *port)
{
	for (int tries = 0; tries < 1000; tries++) {
		int p = PORT_MIN + rand() % (PORT_MAX - PORT_MIN);
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)p),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			*port = p;
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	fail_msg("no free loopback port in [%d, %d)", PORT_MIN, PORT_MAX);
	return -1;
}

void harness_credentials(const struct harness *h, struct client_options *o)
{
	o->ca_file = h->ca;
	o->cert_file = h->admin_cert;
	o->key_file = h->admin_key;
}

static struct client *single_client(const struct harness *h, const char *url)
{
	struct client_options o = {.timeout_ms = 3000,
	                           .connect_timeout_ms = 500,
	                           .deadline_ms = 4000,
	                           .backoff_ms = 10,
	                           .max_attempts = 2};
	struct client *c = NULL;
	char err[256];

	harness_credentials(h, &o);
	if (client_create(&url, 1, &o, &c, err, sizeof err) != 0)
		fail_msg("client for %s: %s", url, err);
	return c;
}

static void init_replica(struct harness *h, size_t i, int raft_port, int api_port)
{
	struct harness_replica *r = &h->r[i];
	char root[sizeof h->root];

	memcpy(root, h->root, sizeof root); /* not a field of *h: gcc's -Wrestrict */
	r->id = i + 1;
	r->joined = i >= h->n_boot;
	snprintf(r->raft_address, sizeof r->raft_address, "127.0.0.1:%d", raft_port);
	snprintf(r->api_address, sizeof r->api_address, "127.0.0.1:%d", api_port);
	snprintf(r->api_url, sizeof r->api_url, "https://127.0.0.1:%d", api_port);
	snprintf(r->data_dir, sizeof r->data_dir, "%s/replica-%zu", root, i + 1);
	snprintf(r->log_path, sizeof r->log_path, "%s/replica-%zu.log", root, i + 1);
	snprintf(r->cert, sizeof r->cert, "%s/pki/replica-%zu.crt", root, i + 1);
	snprintf(r->key, sizeof r->key, "%s/pki/replica-%zu.key", root, i + 1);
	r->c = single_client(h, r->api_url);
	h->urls[i] = r->api_url;
}

/* root/pki: a CA, a certificate per replica slot (serving, and client for forwarding), and the
 * admin's client certificate. */
static void make_pki(struct harness *h)
{
	char dir[280], out[300], err[512];
	struct pki_ca_request ca = {.dir = dir};
	struct pki_cert_request admin = {
	    .ca_dir = dir, .out = out, .cn = "admin", .orgs = {"system:masters"}, .client = true};

	snprintf(dir, sizeof dir, "%.256s/pki", h->root);
	if (pki_ca_init(&ca, err, sizeof err) != STSD_OK)
		fail_msg("pki: %s", err);
	snprintf(out, sizeof out, "%.280s/admin", dir);
	if (pki_issue(&admin, err, sizeof err) != STSD_OK)
		fail_msg("pki: %s", err);
	snprintf(h->ca, sizeof h->ca, "%.280s/ca.crt", dir);
	snprintf(h->admin_cert, sizeof h->admin_cert, "%.280s/admin.crt", dir);
	snprintf(h->admin_key, sizeof h->admin_key, "%.280s/admin.key", dir);
	for (size_t i = 0; i < h->n; i++) {
		char cn[32];
		struct pki_cert_request rq = {.ca_dir = dir,
		                              .out = out,
		                              .cn = cn,
		                              .orgs = {"system:stsd-replicas"},
		                              .sans = {"127.0.0.1", "localhost"},
		                              .server = true,
		                              .client = true};
		snprintf(cn, sizeof cn, "stsd-replica-%u", (unsigned)i + 1);
		snprintf(out, sizeof out, "%.280s/replica-%u", dir, (unsigned)i + 1);
		if (pki_issue(&rq, err, sizeof err) != STSD_OK)
			fail_msg("pki: %s", err);
	}
}

struct harness *harness_create(const char *stsd, const char *name, size_t n, size_t n_boot,
                               const char *const *extra)
{
	struct harness *h = calloc(1, sizeof *h);
	int fds[2 * HARNESS_MAX], ports[2 * HARNESS_MAX];
	size_t used = 0;

	assert_non_null(h);
	assert_true(n >= 1 && n <= HARNESS_MAX && n_boot >= 1 && n_boot <= n);
	h->stsd = stsd;
	h->n = n;
	h->n_boot = n_boot;
	h->extra = extra;
	h->t0_ms = util_now_mono_ms();
	srand((unsigned)(getpid() ^ util_now_mono_ns()));
	snprintf(h->root, sizeof h->root, "/tmp/stsd-%s-XXXXXX", name);
	assert_non_null(mkdtemp(h->root));
	for (size_t i = 0; i < 2 * n; i++)
		fds[i] = reserve_port(&ports[i]);
	for (size_t i = 0; i < 2 * n; i++)
		close(fds[i]);
	make_pki(h);
	for (size_t i = 0; i < n; i++) {
		init_replica(h, i, ports[2 * i], ports[2 * i + 1]);
		if (i < n_boot)
			used +=
			    (size_t)snprintf(h->bootstrap + used, sizeof h->bootstrap - used,
			                     "%s%zu=%s", i ? "," : "", i + 1, h->r[i].raft_address);
	}
	harness_log(h, "cluster of %zu slots (%zu bootstrapped) under %s", n, n_boot, h->root);
	return h;
}

/* ---- Logs ------------------------------------------------------------------------------------ */

/* The whole file, NUL-terminated (NULL when unreadable). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

bool harness_log_has(const struct harness *h, uint64_t id, const char *needle, size_t *count)
{
	size_t len, n = 0;
	char *text = slurp(h->r[id - 1].log_path, &len);

	for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	if (count)
		*count = n;
	return n > 0;
}

uint64_t harness_log_last_value(const struct harness *h, uint64_t id, const char *needle,
                                const char *key)
{
	size_t len, klen = strlen(key);
	char *text = slurp(h->r[id - 1].log_path, &len), *line, *save = NULL;
	uint64_t value = 0;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *k = strstr(line, needle) ? strstr(line, key) : NULL;
		if (k && k[klen] == '=')
			value = strtoull(k + klen + 1, NULL, 10);
	}
	free(text);
	return value;
}

static const char *sanitizer_report(const char *text)
{
	const char *first = NULL;

	for (size_t i = 0; i < sizeof sanitizer_marks / sizeof sanitizer_marks[0]; i++) {
		const char *p = strstr(text, sanitizer_marks[i]);
		if (p && (first == NULL || p < first))
			first = p;
	}
	return first;
}

/* Print lines [from, from + max) of text, each prefixed. */
static void print_lines(const char *from, size_t max, const char *prefix)
{
	for (size_t i = 0; i < max && *from; i++) {
		size_t n = strcspn(from, "\n");
		fprintf(stderr, "%s%.*s\n", prefix, (int)n, from);
		from += n + (from[n] == '\n');
	}
}

static const char *tail_of(const char *text, size_t len, size_t lines)
{
	const char *p = text + len;

	while (p > text && lines > 0) {
		p--;
		if (*p == '\n' && p + 1 < text + len)
			lines--;
	}
	return lines == 0 ? p + 1 : text;
}

static void dump_log(const struct harness_replica *r)
{
	size_t len;
	char *text = slurp(r->log_path, &len), prefix[16];
	const char *report;

	if (text == NULL)
		return;
	snprintf(prefix, sizeof prefix, "  r%llu| ", (unsigned long long)r->id);
	if ((report = sanitizer_report(text)) != NULL) {
		while (report > text && report[-1] != '\n')
			report--;
		fprintf(stderr, "---- replica %llu: sanitizer report in %s ----\n",
		        (unsigned long long)r->id, r->log_path);
		print_lines(report, REPORT_LINES, prefix);
	}
	fprintf(stderr, "---- replica %llu: last %d lines of %s ----\n", (unsigned long long)r->id,
	        TAIL_LINES, r->log_path);
	print_lines(tail_of(text, len, TAIL_LINES), TAIL_LINES, prefix);
	free(text);
}

/* ---- Processes ------------------------------------------------------------------------------- */

/* stsd's command line into argv; id and join are buffers the strings live in. */
static void build_argv(struct harness *h, struct harness_replica *r, const char **argv, char *id,
                       char *join, size_t join_len)
{
	size_t n = 0, used = 0;

	snprintf(id, 24, "%llu", (unsigned long long)r->id);
	argv[n++] = h->stsd;
	argv[n++] = "--id";
	argv[n++] = id;
	argv[n++] = "--raft-address";
	argv[n++] = r->raft_address;
	argv[n++] = "--api-address";
	argv[n++] = r->api_address;
	argv[n++] = "--data-dir";
	argv[n++] = r->data_dir;
	argv[n++] = "--tls-cert-file";
	argv[n++] = r->cert;
	argv[n++] = "--tls-private-key-file";
	argv[n++] = r->key;
	argv[n++] = "--client-ca-file";
	argv[n++] = h->ca;
	if (r->joined) {
		for (size_t i = 0; i < h->n_boot; i++)
			used += (size_t)snprintf(join + used, join_len - used, "%s%s", i ? "," : "",
			                         h->r[i].api_url);
		argv[n++] = "--join";
		argv[n++] = join;
	} else {
		argv[n++] = "--bootstrap";
		argv[n++] = h->bootstrap;
	}
	for (size_t i = 0; h->extra && h->extra[i]; i++) {
		assert_true(n + 1 < ARGV_MAX);
		argv[n++] = h->extra[i];
	}
	argv[n] = NULL;
}

static void child(const char **argv, const char *log_path, pid_t parent)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	/* Should the test die (ctest's timeout), its replicas die with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent || fd < 0)
		_exit(127);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	setpgid(0, 0);
	execv(argv[0], (char *const *)argv);
	/* Only async-signal-safe calls between fork and exec: the test runs threads. */
	if (write(2, "harness: exec of stsd failed\n", 29) < 0)
		_exit(126);
	_exit(127);
}

static void note_in_log(const struct harness_replica *r, const char *what)
{
	FILE *f = fopen(r->log_path, "a");

	if (f) {
		fprintf(f, "=== harness: %s ===\n", what);
		fclose(f);
	}
}

void harness_start(struct harness *h, uint64_t id)
{
	struct harness_replica *r = harness_replica_of(h, id);
	const char *argv[ARGV_MAX];
	char join[HARNESS_MAX * 48] = "", note[64], id_text[24];
	pid_t parent = getpid(), pid;

	assert_int_equal(r->pid, 0);
	build_argv(h, r, argv, id_text, join, sizeof join);
	snprintf(note, sizeof note, "start #%u of replica %llu", r->starts + 1,
	         (unsigned long long)id);
	note_in_log(r, note);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(argv, r->log_path, parent);
	r->pid = pid;
	r->starts++;
	harness_log(h, "started replica %llu (pid %d, api %s%s)", (unsigned long long)id, (int)pid,
	            r->api_address, r->joined ? ", joining" : "");
}

bool harness_running(const struct harness *h, uint64_t id)
{
	return id >= 1 && id <= h->n && h->r[id - 1].pid != 0;
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "status 0x%x", status);
}

void harness_check_alive(struct harness *h)
{
	char how[64];
	int status;

	for (size_t i = 0; i < h->n; i++) {
		struct harness_replica *r = &h->r[i];
		if (r->pid == 0 || waitpid(r->pid, &status, WNOHANG) != r->pid)
			continue;
		r->pid = 0;
		describe_status(status, how, sizeof how);
		fail_msg("replica %zu exited on its own: %s (log %s)", i + 1, how, r->log_path);
	}
}

void harness_kill(struct harness *h, uint64_t id)
{
	struct harness_replica *r = harness_replica_of(h, id);
	int status;

	assert_int_not_equal(r->pid, 0);
	kill(r->pid, SIGKILL);
	assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
	r->pid = 0;
	note_in_log(r, "killed with SIGKILL");
	harness_log(h, "killed replica %llu (SIGKILL)", (unsigned long long)id);
}

/* Wait up to ms for pid; true with *status when it exited. */
static bool reap_within(pid_t pid, long ms, int *status)
{
	uint64_t deadline = util_now_mono_ms() + (uint64_t)ms;

	for (;;) {
		pid_t got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return true;
		if (got < 0 || util_now_mono_ms() >= deadline)
			return false;
		harness_nap(10);
	}
}

void harness_stop(struct harness *h, uint64_t id)
{
	struct harness_replica *r = harness_replica_of(h, id);
	pid_t pid = r->pid;
	char how[64];
	int status;

	assert_int_not_equal(pid, 0);
	kill(pid, SIGTERM);
	if (!reap_within(pid, STOP_MS, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		r->pid = 0;
		fail_msg("replica %llu did not stop within %d ms of SIGTERM",
		         (unsigned long long)id, STOP_MS);
	}
	r->pid = 0;
	describe_status(status, how, sizeof how);
	harness_log(h, "stopped replica %llu (%s)", (unsigned long long)id, how);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("replica %llu stopped with %s after SIGTERM (log %s)",
		         (unsigned long long)id, how, r->log_path);
}

void harness_finish(struct harness *h)
{
	size_t len;

	for (size_t i = 0; i < h->n; i++)
		if (h->r[i].pid != 0)
			harness_stop(h, i + 1);
	for (size_t i = 0; i < h->n; i++) {
		char *text = slurp(h->r[i].log_path, &len);
		bool dirty = text && sanitizer_report(text) != NULL;
		free(text);
		if (dirty)
			fail_msg("replica %zu's log %s has a sanitizer report", i + 1,
			         h->r[i].log_path);
	}
	h->passed = true;
}

void harness_destroy(struct harness *h)
{
	char cmd[300];
	int status;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		if (h->r[i].pid != 0) {
			kill(h->r[i].pid, SIGKILL);
			waitpid(h->r[i].pid, &status, 0);
			h->r[i].pid = 0;
		}
	}
	if (!h->passed) {
		harness_log(h, "FAILED: logs kept in %s", h->root);
		for (size_t i = 0; i < h->n; i++)
			if (h->r[i].starts)
				dump_log(&h->r[i]);
	} else {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->root);
		if (system(cmd) != 0)
			harness_log(h, "could not remove %s", h->root);
	}
	for (size_t i = 0; i < h->n; i++)
		client_destroy(h->r[i].c);
	free(h);
}
