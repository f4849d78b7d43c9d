/* dev_proc.c — the processes of a dev cluster: free ports, starting stsd detached, finding out
 * whether it still runs, stopping it, showing the end of its log. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "errors.h"
#include "util.h"

int dev_free_ports(int *ports, size_t n, char *err, size_t len)
{
	int fds[64], rv = STSD_OK;
	size_t opened = 0;

	if (n > sizeof fds / sizeof fds[0])
		return stsd_errf(err, len, STSD_INVALID, "too many ports (%zu)", n);
	/* All stay bound until every port is known, so the n ports differ. */
	for (; opened < n && rv == STSD_OK; opened++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t alen = sizeof a;

		fds[opened] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[opened] < 0 || bind(fds[opened], (struct sockaddr *)&a, sizeof a) != 0 ||
		    getsockname(fds[opened], (struct sockaddr *)&a, &alen) != 0)
			rv = stsd_errf(err, len, STSD_IO, "free port: %s", strerror(errno));
		else
			ports[opened] = ntohs(a.sin_port);
	}
	for (size_t i = 0; i < opened; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rv;
}

/* dup2 that also works when from == to (dup2 then keeps close-on-exec set). */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* In the child, before exec: only async-signal-safe calls. Every descriptor of ours above 2 is
 * closed by exec (curl sockets are not always close-on-exec). */
static void child(char *const argv[], int null_fd, int log_fd, int report_fd)
{
	sigset_t none;
	int e;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (move_fd(null_fd, 0) != 0 || move_fd(log_fd, 1) != 0 || move_fd(log_fd, 2) != 0)
		goto fail;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		for (int fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	execv(argv[0], argv);
fail:
	e = errno;
	(void)!write(report_fd, &e, sizeof e);
	_exit(127);
}

/* Wait for exec: the report pipe closes on success, or carries the child's errno. */
static int await_exec(pid_t pid, int report_fd, const char *prog, char *err, size_t len)
{
	int e = 0, status;
	ssize_t n;

	while ((n = read(report_fd, &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return STSD_OK;
	waitpid(pid, &status, 0);
	return stsd_errf(err, len, STSD_IO, "cannot run %s: %s", prog, strerror(e));
}

int dev_spawn(char *const argv[], const char *log, pid_t *pid, char *err, size_t len)
{
	int null_fd, log_fd, report[2] = {-1, -1}, rv;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (null_fd < 0 || log_fd < 0 || pipe2(report, O_CLOEXEC) != 0) {
		rv = stsd_errf(err, len, STSD_IO, "open %s: %s", log_fd < 0 ? log : "/dev/null",
		               strerror(errno));
	} else if ((*pid = fork()) < 0) {
		rv = stsd_errf(err, len, STSD_IO, "fork: %s", strerror(errno));
	} else if (*pid == 0) {
		child(argv, null_fd, log_fd, report[1]);
	} else {
		close(report[1]);
		report[1] = -1;
		rv = await_exec(*pid, report[0], argv[0], err, len);
	}
	for (int i = 0; i < 2; i++)
		if (report[i] >= 0)
			close(report[i]);
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	return rv;
}

bool dev_exited(pid_t pid, int *status)
{
	return pid > 0 && waitpid(pid, status, WNOHANG) == pid;
}

/* Whether the NUL-separated arguments in buf[0..n) include marker. */
static bool has_arg(const char *buf, size_t n, const char *marker)
{
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, marker) == 0)
			return true;
	return false;
}

bool dev_running(pid_t pid, const char *marker)
{
	char path[64], buf[16384];
	int fd, status;
	ssize_t n;

	if (pid <= 0)
		return false;
	(void)dev_exited(pid, &status);
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) /* a zombie has an empty command line */
		return false;
	buf[n] = '\0';
	return marker == NULL || has_arg(buf, (size_t)n, marker);
}

void dev_nap(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Poll until none of procs[i] with live[i] set runs, or deadline; clears live[] as they go. */
static void await_gone(const struct dev_proc *procs, bool *live, size_t n, uint64_t deadline,
                       FILE *out, const char *how)
{
	for (;;) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++) {
			if (live[i] && !dev_running(procs[i].pid, procs[i].marker)) {
				live[i] = false;
				if (out != NULL)
					fprintf(out, "%s %s\n", procs[i].name, how);
			}
			left += live[i];
		}
		if (left == 0 || util_now_mono_ms() >= deadline)
			return;
		dev_nap(50);
	}
}

int dev_stop(const struct dev_proc *procs, size_t n, long timeout_ms, FILE *out)
{
	bool live[64] = {false};
	int killed = 0;

	n = n < 64 ? n : 64;
	for (size_t i = 0; i < n; i++) {
		live[i] = dev_running(procs[i].pid, procs[i].marker);
		if (out != NULL)
			fprintf(out,
			        live[i] ? "stopping %s (pid %d)\n" : "%s (pid %d) is not running\n",
			        procs[i].name, (int)procs[i].pid);
		if (live[i])
			kill(procs[i].pid, SIGTERM);
	}
	await_gone(procs, live, n, util_now_mono_ms() + (uint64_t)timeout_ms, out, "stopped");
	for (size_t i = 0; i < n; i++) {
		if (!live[i])
			continue;
		if (out != NULL)
			fprintf(out, "%s did not stop within %.1f s: sending SIGKILL\n",
			        procs[i].name, timeout_ms / 1000.0);
		kill(procs[i].pid, SIGKILL);
		killed++;
	}
	await_gone(procs, live, n, util_now_mono_ms() + 5000, out, "killed");
	return killed;
}

void dev_log_tail(const char *path, int lines, FILE *out)
{
	char buf[8192], *start;
	FILE *f = fopen(path, "r");
	size_t n;
	long size;

	if (f == NULL) {
		fprintf(out, "    (cannot read %s: %s)\n", path, strerror(errno));
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	start = buf + n;
	for (int k = 0; k < lines && start > buf;)
		if (*--start == '\n' && ++k == lines)
			start++;
	fprintf(out, "    --- last lines of %s ---\n", path);
	for (char *line = strtok(start, "\n"); line != NULL; line = strtok(NULL, "\n"))
		fprintf(out, "    | %s\n", line);
	if (n == 0)
		fprintf(out, "    (empty)\n");
}
