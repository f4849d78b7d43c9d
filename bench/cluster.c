/* cluster.c — three-member clusters for the benchmarks: stsd through `stsctl dev`, etcd spawned
 * directly, both serving TLS with client certificates; start, SIGKILL, restart on the same data,
 * wait until settled, stop. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "harness.h"
#include "pki.h"
#include "util.h"

#define START_TIMEOUT_MS  60000
#define HELPER_TIMEOUT_MS 90000
#define STOP_TIMEOUT_MS   10000
#define STABLE_MS         500
#define POLL_MS           20
#define TAIL_BYTES        3000
#define ETCD_TOKEN        "stsd-bench"
#define ETCD_ARGC         40
#define ETCD_BUFS         8

/* A sleep that never fails the run: for the paths that stop things, also after an interrupt. */
static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* snprintf for paths whose parts were checked short enough when the run started. */
__attribute__((format(printf, 3, 4))) static void fmt_path(char *out, size_t len, const char *fmt,
                                                           ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* --- processes --- */

/* n distinct free loopback ports: all bound to port 0 at once, then closed. */
static int free_ports(int *ports, size_t n, char *err, size_t len)
{
	int fds[2 * BENCH_MEMBERS], rv = 0;

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &al) != 0) {
			stsd_errf(err, len, -1, "free port: %s", strerror(errno));
			rv = -1;
		}
		ports[i] = ntohs(a.sin_port);
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rv;
}

/* Exec argv in its own session with stdout and stderr appended to log. The child reports an exec
 * failure through a close-on-exec pipe, so a missing binary is an error here, not a silent exit. */
static pid_t spawn(char *const argv[], const char *log, char *err, size_t len)
{
	int p[2], e = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		stsd_errf(err, len, -1, "%s: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY),
		    out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		setsid();
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			e = errno;
		/* libcurl's sockets are not close-on-exec: keep them out of the server */
		close_range(3, (unsigned)p[1] - 1, 0);
		close_range((unsigned)p[1] + 1, ~0U, 0);
		if (e == 0)
			execvp(argv[0], argv);
		e = e ? e : errno;
		(void)!write(p[1], &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof e) == sizeof e) {
		waitpid(pid, NULL, 0);
		stsd_errf(err, len, -1, "cannot run %s: %s", argv[0], strerror(e));
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* Whether pid has exited. Our children (etcd, stsctl, and stsd after stsctl exits: the run is a
 * subreaper) are reaped here; for anything else /proc decides, a zombie counting as gone. */
static bool gone(pid_t pid)
{
	char path[64], buf[512], *close_paren;
	pid_t r = waitpid(pid, NULL, WNOHANG);
	size_t n;
	FILE *f;

	if (r == pid)
		return true;
	if (r == 0)
		return false;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');
	return close_paren == NULL || close_paren[1] == '\0' || close_paren[2] == 'Z' ||
	       close_paren[2] == 'X';
}

static bool wait_gone(pid_t pid, uint64_t timeout_ms)
{
	uint64_t deadline = util_now_mono_ms() + timeout_ms;

	while (!gone(pid)) {
		if (util_now_mono_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* SIGTERM, then SIGKILL after STOP_TIMEOUT_MS; reaped in both cases. */
static void stop_pid(pid_t pid)
{
	if (pid <= 0 || gone(pid))
		return;
	kill(pid, SIGTERM);
	if (!wait_gone(pid, STOP_TIMEOUT_MS)) {
		kill(pid, SIGKILL);
		wait_gone(pid, STOP_TIMEOUT_MS);
	}
}

/* The last TAIL_BYTES of path into out, from a line start. */
static void tail_of(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	char *nl;

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fseek(f, -(long)(len - 1), SEEK_END) != 0)
		rewind(f);
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	if (n == len - 1 && (nl = strchr(out, '\n')) != NULL)
		memmove(out, nl + 1, strlen(nl + 1) + 1);
}

/* Run a helper (stsctl) to its end; its exit status, or -1 when it could not run or timed out. */
static int run_helper(struct bench_cluster *c, char *const argv[])
{
	uint64_t deadline = util_now_mono_ms() + HELPER_TIMEOUT_MS;
	int st = 0;
	pid_t r;

	c->helper_pid = spawn(argv, c->helper_log, c->err, sizeof c->err);
	if (c->helper_pid < 0)
		return c->helper_pid = 0, -1;
	while ((r = waitpid(c->helper_pid, &st, WNOHANG)) == 0 && util_now_mono_ms() < deadline)
		sleep_ms(POLL_MS);
	if (r == 0) {
		kill(c->helper_pid, SIGKILL);
		waitpid(c->helper_pid, &st, 0);
		stsd_errf(c->err, sizeof c->err, -1, "%s %s %s timed out", argv[0], argv[1],
		          argv[2]);
	}
	c->helper_pid = 0;
	if (r == 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int helper_ok(struct bench_cluster *c, char *const argv[])
{
	char tail[TAIL_BYTES];
	int rv = run_helper(c, argv);

	if (rv == 0)
		return 0;
	if (rv > 0) {
		tail_of(c->helper_log, tail, sizeof tail);
		stsd_errf(c->err, sizeof c->err, -1, "'%s %s %s' exited %d:\n%s", argv[0], argv[1],
		          argv[2], rv, tail);
	}
	return -1;
}

/* --- stsd, through stsctl dev --- */

/* stsctl beside this binary: both are built into build/bin. */
static const char *stsctl_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
	char *slash;

	if (n <= 0)
		return "stsctl";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "stsctl");
	return path;
}

static int load_replica(struct bench_member *m, json_t *o)
{
	const char *api = json_string_value(json_object_get(o, "apiAddress"));
	const char *data = json_string_value(json_object_get(o, "dataDir"));
	const char *log = json_string_value(json_object_get(o, "log"));

	if (api == NULL || data == NULL || log == NULL)
		return -1;
	m->id = (int)json_integer_value(json_object_get(o, "id"));
	m->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	m->raft_id = (uint64_t)m->id;
	snprintf(m->api, sizeof m->api, "%s", api);
	snprintf(m->data_dir, sizeof m->data_dir, "%s", data);
	snprintf(m->log, sizeof m->log, "%s", log);
	return m->id > 0 && m->pid > 0 ? 0 : -1;
}

/* The credentials `stsctl dev up` made (DIR/pki: the CA, the admin's client certificate in
 * system:masters), registered for every stsd handle. A cluster without them is not TLS-only. */
static int load_creds(json_t *doc)
{
	const char *scheme = json_string_value(json_object_get(doc, "scheme"));
	const char *ca = json_string_value(json_object_get(doc, "caFile"));
	const char *cert = json_string_value(json_object_get(doc, "adminCertFile"));
	const char *key = json_string_value(json_object_get(doc, "adminKeyFile"));

	if (scheme == NULL || strcmp(scheme, "https") != 0 || ca == NULL || cert == NULL ||
	    key == NULL)
		return -1;
	bench_tls_set(BENCH_STSD, ca, cert, key);
	return 0;
}

/* Read DIR/cluster.json: the replicas' addresses, their current pids, the client credentials. */
static int stsd_load(struct bench_cluster *c)
{
	char path[PATH_MAX + 16];
	json_error_t je;
	json_t *doc, *reps;
	int rv = 0;

	snprintf(path, sizeof path, "%s/cluster.json", c->dir);
	doc = json_load_file(path, 0, &je);
	reps = json_object_get(doc, "replicas");
	if (!json_is_array(reps) || json_array_size(reps) != BENCH_MEMBERS || load_creds(doc) != 0)
		rv = -1;
	for (size_t i = 0; rv == 0 && i < BENCH_MEMBERS; i++)
		rv = load_replica(&c->m[i], json_array_get(reps, i));
	if (rv != 0)
		stsd_errf(c->err, sizeof c->err, -1,
		          "%s: not the expected cluster record (3 replicas, scheme https, caFile, "
		          "adminCertFile, adminKeyFile)%s%s",
		          path, doc ? "" : ": ", doc ? "" : je.text);
	json_decref(doc);
	return rv;
}

static int stsd_start(struct bench_cluster *c)
{
	char *argv[] = {(char *)stsctl_path(), "dev", "up",        "--dir", c->dir,
	                "--replicas",          "3",   "--timeout", "60",    NULL};

	/* stsd outlives stsctl; as a subreaper the run becomes its parent and can reap it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (access(argv[0], X_OK) != 0) {
		stsd_errf(c->err, sizeof c->err, -1, "%s: %s (build stsctl first)", argv[0],
		          strerror(errno));
		return -1;
	}
	if (helper_ok(c, argv) != 0)
		return -1;
	return stsd_load(c);
}

static int stsd_restart(struct bench_cluster *c, int i)
{
	char id[16];
	char *argv[] = {(char *)stsctl_path(), "dev", "restart", "--dir", c->dir, "--id", id,
	                "--timeout",           "60",  NULL};

	snprintf(id, sizeof id, "%d", c->m[i].id);
	if (helper_ok(c, argv) != 0)
		return -1;
	return stsd_load(c);
}

static void stsd_stop(struct bench_cluster *c)
{
	char path[PATH_MAX + 16];
	char *argv[] = {(char *)stsctl_path(), "dev", "down", "--dir", c->dir, NULL};

	snprintf(path, sizeof path, "%s/cluster.json", c->dir);
	if (access(path, F_OK) == 0)
		run_helper(c, argv);
}

/* --- etcd --- */

/* DIR/pki: a CA like the one `stsctl dev up` makes (pki.h, ECDSA P-256), member M's serving
 * certificate mM.{crt,key} and a client certificate client.{crt,key}, registered for every etcd
 * handle. The serving certificates also carry clientAuth: etcd's JSON gateway presents its
 * member's own certificate when it calls the member's gRPC service (etcd issue 9785). */
static int etcd_pki(struct bench_cluster *c)
{
	char pki[PATH_MAX], out[PATH_MAX], cn[32], ca[PATH_MAX], key[PATH_MAX];
	struct pki_ca_request car = {.dir = pki, .cn = "etcd-bench-ca"};
	struct pki_cert_request rq = {.ca_dir = pki, .out = out, .cn = cn};
	int rv;

	fmt_path(pki, sizeof pki, "%s/pki", c->dir);
	if ((rv = pki_ca_init(&car, c->err, sizeof c->err)) != STSD_OK)
		return -1;
	rq.sans[0] = "127.0.0.1";
	rq.sans[1] = "localhost";
	rq.server = rq.client = true;
	for (int i = 0; i < BENCH_MEMBERS && rv == STSD_OK; i++) {
		fmt_path(out, sizeof out, "%s/m%d", pki, c->m[i].id);
		snprintf(cn, sizeof cn, "etcd-m%d", c->m[i].id);
		rv = pki_issue(&rq, c->err, sizeof c->err);
	}
	rq = (struct pki_cert_request){
	    .ca_dir = pki, .out = out, .cn = "admin", .orgs = {"system:masters"}, .client = true};
	fmt_path(out, sizeof out, "%s/client", pki);
	if (rv != STSD_OK || pki_issue(&rq, c->err, sizeof c->err) != STSD_OK)
		return -1;
	fmt_path(ca, sizeof ca, "%s/ca.crt", pki);
	fmt_path(out, sizeof out, "%s/client.crt", pki);
	fmt_path(key, sizeof key, "%s/client.key", pki);
	bench_tls_set(BENCH_ETCD, ca, out, key);
	return 0;
}

/* Fill argv (from the strings in buf) with member i's command line; the same for every start, as
 * etcd ignores the initial-cluster flags once its data directory exists. Clients speak TLS and
 * must present a certificate of the cluster's CA; peers speak plain HTTP on loopback. */
static void etcd_argv(const struct bench_cluster *c, int i, char *argv[ETCD_ARGC],
                      char buf[ETCD_BUFS][PATH_MAX])
{
	const struct bench_member *m = &c->m[i];
	char *ic = buf[4];
	size_t off = 0;

	for (int k = 0; k < BENCH_MEMBERS; k++)
		off += (size_t)snprintf(ic + off, PATH_MAX - off, "%sm%d=http://%s", k ? "," : "",
		                        c->m[k].id, c->m[k].peer);
	snprintf(buf[0], PATH_MAX, "m%d", m->id);
	snprintf(buf[1], PATH_MAX, "%s", m->data_dir);
	snprintf(buf[2], PATH_MAX, "http://%s", m->peer);
	snprintf(buf[3], PATH_MAX, BENCH_SCHEME "%s", m->api);
	fmt_path(buf[5], PATH_MAX, "%s/pki/m%d.crt", c->dir, m->id);
	fmt_path(buf[6], PATH_MAX, "%s/pki/m%d.key", c->dir, m->id);
	fmt_path(buf[7], PATH_MAX, "%s/pki/ca.crt", c->dir);
	char *v[] = {"etcd",
	             "--name",
	             buf[0],
	             "--data-dir",
	             buf[1],
	             "--listen-peer-urls",
	             buf[2],
	             "--initial-advertise-peer-urls",
	             buf[2],
	             "--listen-client-urls",
	             buf[3],
	             "--advertise-client-urls",
	             buf[3],
	             "--cert-file",
	             buf[5],
	             "--key-file",
	             buf[6],
	             "--client-cert-auth",
	             "--trusted-ca-file",
	             buf[7],
	             "--initial-cluster",
	             ic,
	             "--initial-cluster-state",
	             "new",
	             "--initial-cluster-token",
	             ETCD_TOKEN,
	             "--logger",
	             "zap",
	             "--log-outputs",
	             "stderr",
	             NULL};
	_Static_assert(sizeof v <= ETCD_ARGC * sizeof v[0], "ETCD_ARGC too small");
	memcpy(argv, v, sizeof v);
}

static int etcd_spawn(struct bench_cluster *c, int i)
{
	char buf[ETCD_BUFS][PATH_MAX], *argv[ETCD_ARGC];

	etcd_argv(c, i, argv, buf);
	c->m[i].pid = spawn(argv, c->m[i].log, c->err, sizeof c->err);
	if (c->m[i].pid < 0)
		c->m[i].pid = 0;
	return c->m[i].pid > 0 ? 0 : -1;
}

/* Wait until member i answers a status query; its raft id is learnt from the answer. */
static int wait_answers(struct bench_cluster *c, int i)
{
	uint64_t deadline = util_now_mono_ms() + START_TIMEOUT_MS;
	struct bench_status st;
	char tail[TAIL_BYTES];

	while (bench_cluster_status(c, i, &st) != 0) {
		if (gone(c->m[i].pid) || util_now_mono_ms() > deadline) {
			tail_of(c->m[i].log, tail, sizeof tail);
			stsd_errf(c->err, sizeof c->err, -1,
			          "member %d (pid %d) %s; its log ends:\n%s", c->m[i].id,
			          (int)c->m[i].pid,
			          gone(c->m[i].pid) ? "exited" : "does not answer", tail);
			return -1;
		}
		bench_poll_sleep(POLL_MS);
	}
	c->m[i].raft_id = st.self;
	return 0;
}

static int etcd_start(struct bench_cluster *c)
{
	int ports[2 * BENCH_MEMBERS];

	if (mkdir(c->dir, 0755) != 0) {
		stsd_errf(c->err, sizeof c->err, -1, "mkdir %s: %s", c->dir, strerror(errno));
		return -1;
	}
	if (free_ports(ports, 2 * BENCH_MEMBERS, c->err, sizeof c->err) != 0)
		return -1;
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		struct bench_member *m = &c->m[i];
		m->id = i + 1;
		snprintf(m->api, sizeof m->api, "127.0.0.1:%d", ports[2 * i]);
		snprintf(m->peer, sizeof m->peer, "127.0.0.1:%d", ports[2 * i + 1]);
		fmt_path(m->data_dir, sizeof m->data_dir, "%s/m%d", c->dir, m->id);
		fmt_path(m->log, sizeof m->log, "%s/m%d.log", c->dir, m->id);
	}
	if (etcd_pki(c) != 0)
		return -1;
	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (etcd_spawn(c, i) != 0)
			return -1;
	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (wait_answers(c, i) != 0)
			return -1;
	return 0;
}

/* --- the cluster --- */

int bench_cluster_start(struct bench_cluster *c, enum bench_system sys, const char *parent)
{
	int leader, rv;

	*c = (struct bench_cluster){.sys = sys};
	fmt_path(c->dir, sizeof c->dir, "%s/%s", parent, bench_system_name(sys));
	fmt_path(c->helper_log, sizeof c->helper_log, "%s/stsctl.log", parent);
	bench_track_cluster(c, true);
	rv = sys == BENCH_STSD ? stsd_start(c) : etcd_start(c);
	if (rv == 0)
		rv = bench_cluster_settle(c, START_TIMEOUT_MS, &leader);
	return rv;
}

void bench_cluster_stop(struct bench_cluster *c)
{
	if (c->sys == BENCH_STSD)
		stsd_stop(c);
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		stop_pid(c->m[i].pid);
		c->m[i].pid = 0;
	}
	if (c->helper_pid > 0) {
		kill(c->helper_pid, SIGKILL);
		waitpid(c->helper_pid, NULL, 0);
		c->helper_pid = 0;
	}
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	c->h = NULL;
	bench_track_cluster(c, false);
}

int bench_cluster_kill(struct bench_cluster *c, int i)
{
	pid_t pid = c->m[i].pid;

	if (pid <= 0 || kill(pid, SIGKILL) != 0)
		return stsd_errf(c->err, sizeof c->err, -1, "kill member %d (pid %d): %s",
		                 c->m[i].id, (int)pid, pid <= 0 ? "not running" : strerror(errno));
	c->m[i].pid = 0;
	/* a dying process may still answer for a moment: wait until it is gone, sockets closed */
	if (waitpid(pid, NULL, 0) != pid && !wait_gone(pid, STOP_TIMEOUT_MS))
		return stsd_errf(c->err, sizeof c->err, -1, "member %d (pid %d) survives SIGKILL",
		                 c->m[i].id, (int)pid);
	return 0;
}

int bench_cluster_restart(struct bench_cluster *c, int i)
{
	if (c->sys == BENCH_STSD)
		return stsd_restart(c, i);
	if (etcd_spawn(c, i) != 0)
		return -1;
	return wait_answers(c, i);
}

int bench_cluster_status(struct bench_cluster *c, int i, struct bench_status *st)
{
	/* made here, not at start: the system's credentials exist only once its start made them */
	if (c->h == NULL && (c->h = bench_curl_new(c->sys)) == NULL)
		return stsd_errf(c->err, sizeof c->err, -1, "curl_easy_init failed");
	return bench_status_query(c->h, c->sys, c->m[i].api, st);
}

int bench_cluster_index(const struct bench_cluster *c, uint64_t id)
{
	for (int i = 0; i < BENCH_MEMBERS; i++)
		if (c->m[i].raft_id == id)
			return i;
	return -1;
}

/* Whether the running members agree right now; *leader and *term then say on what, else why does.
 */
static bool agreed(struct bench_cluster *c, int *leader, uint64_t *term, char *why, size_t len)
{
	struct bench_status st[BENCH_MEMBERS];
	int first = -1;

	for (int i = 0; i < BENCH_MEMBERS; i++) {
		if (c->m[i].pid <= 0)
			continue;
		if (bench_cluster_status(c, i, &st[i]) != 0)
			return snprintf(why, len, "member %d does not answer", c->m[i].id), false;
		if (first < 0)
			first = i;
		if (st[i].leader_id == 0 || st[i].leader_id != st[first].leader_id ||
		    st[i].term != st[first].term || st[i].applied != st[first].applied)
			return snprintf(why, len,
			                "members disagree: leader %llu/%llu term %llu/%llu applied "
			                "%llu/%llu",
			                (unsigned long long)st[first].leader_id,
			                (unsigned long long)st[i].leader_id,
			                (unsigned long long)st[first].term,
			                (unsigned long long)st[i].term,
			                (unsigned long long)st[first].applied,
			                (unsigned long long)st[i].applied),
			       false;
	}
	*leader = first < 0 ? -1 : bench_cluster_index(c, st[first].leader_id);
	if (*leader < 0 || c->m[*leader].pid <= 0 || !st[*leader].leader)
		return snprintf(why, len, "no running member leads"), false;
	*term = st[first].term;
	return true;
}

int bench_cluster_settle(struct bench_cluster *c, uint64_t timeout_ms, int *leader)
{
	uint64_t now = util_now_mono_ms(), deadline = now + timeout_ms, since = 0, term = 0,
	         last_term = 0;
	int last_leader = -1;
	char why[256] = "";

	for (; now <= deadline; now = util_now_mono_ms()) {
		if (!agreed(c, leader, &term, why, sizeof why)) {
			since = 0;
		} else if (since == 0 || *leader != last_leader || term != last_term) {
			since = now;
			last_leader = *leader;
			last_term = term;
		} else if (now - since >= STABLE_MS) {
			return 0;
		}
		bench_poll_sleep(POLL_MS);
	}
	stsd_errf(c->err, sizeof c->err, -1, "%s cluster not settled after %llu ms: %s",
	          bench_system_name(c->sys), (unsigned long long)timeout_ms, why);
	return -1;
}

int bench_cluster_same_state(struct bench_cluster *c, char *out, size_t len)
{
	struct bench_status st[BENCH_MEMBERS];
	size_t off = 0;
	int same = 1;

	out[0] = '\0';
	for (int i = 0; i < BENCH_MEMBERS; i++) {
		if (c->m[i].pid <= 0 || bench_cluster_status(c, i, &st[i]) != 0 ||
		    st[i].digest[0] == '\0')
			return -1;
		if (strcmp(st[i].digest, st[0].digest) != 0 || st[i].applied != st[0].applied)
			same = 0;
		if (off < len)
			off += (size_t)snprintf(out + off, len - off, "%s%d:%.12s@%llu",
			                        i ? " " : "", c->m[i].id, st[i].digest,
			                        (unsigned long long)st[i].applied);
	}
	return same;
}

void bench_cluster_dump_logs(const struct bench_cluster *c)
{
	char tail[TAIL_BYTES];

	for (int i = 0; i < BENCH_MEMBERS; i++) {
		if (c->m[i].log[0] == '\0')
			continue;
		tail_of(c->m[i].log, tail, sizeof tail);
		fprintf(stderr, "---- %s member %d: end of %s\n%s", bench_system_name(c->sys),
		        c->m[i].id, c->m[i].log, tail);
	}
}

void bench_with_cluster(enum bench_system sys, const char *parent, bench_measure_cb measure,
                        void *ud, bool *broken)
{
	struct bench_cluster c;

	if (bench_cluster_start(&c, sys, parent) != 0) {
		fprintf(stderr, "%s: error: %s: %s\n", bench_prog(), bench_system_name(sys), c.err);
		*broken = true;
	} else {
		measure(&c, ud);
	}
	if (*broken)
		bench_cluster_dump_logs(&c);
	bench_cluster_stop(&c);
}
