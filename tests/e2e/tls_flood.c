/* tls_flood.c — a TLS handshake flood for tests/e2e/auth.sh: many connections to one port that
 * send garbage, half a ClientHello and then nothing, or nothing at all, held open (and reopened
 * when the server closes them) for a number of seconds.
 *
 * Usage: tls_flood HOST PORT N_CONNS MODE SECONDS
 *   MODE: garbage | half | silent | mix (a third of each)
 * Prints "ready N" on stdout once the first N connections are open (a script polls for it), and a
 * summary line at the end. Exits 0 unless the arguments are wrong (2) or no connection could ever
 * be opened (1). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS       4000
#define REOPEN_DELAY_MS 100 /* a flood, not a CPU burner on a shared 2-core machine */

enum mode { MODE_GARBAGE, MODE_HALF, MODE_SILENT };

struct slot {
	int fd;
	enum mode mode;
	long long closed_at; /* ms; when the server closed it (reopened REOPEN_DELAY_MS later) */
};

struct flood {
	struct addrinfo *addr;
	struct slot slots[MAX_CONNS];
	int n;
	long opened, reopened, connect_failed, closed_by_peer;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first 48 of the 209 bytes a TLS 1.2 ClientHello record announces: the server waits for the
 * rest. */
static size_t half_hello(unsigned char *buf)
{
	static const unsigned char head[] = {0x16, 0x03, 0x01, 0x00, 0xcc, /* record, 204 bytes */
	                                     0x01, 0x00, 0x00, 0xc8,       /* ClientHello, 200 */
	                                     0x03, 0x03};                  /* TLS 1.2 */
	size_t i;

	memcpy(buf, head, sizeof head);
	for (i = sizeof head; i < 48; i++)
		buf[i] = (unsigned char)rand();
	return 48;
}

/* Random bytes that are no TLS record (the first byte is no valid content type). */
static size_t garbage(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rand();
	buf[0] = 'G';
	return len;
}

/* Open slot s and send what its mode sends; -1 when the connection failed. */
static int open_slot(struct flood *f, struct slot *s)
{
	struct timeval tv = {2, 0};
	unsigned char buf[512];
	size_t len = 0;
	int fd = socket(f->addr->ai_family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	/* SO_SNDTIMEO bounds connect() too (Linux): a full backlog must not stall the flood. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, f->addr->ai_addr, f->addr->ai_addrlen) != 0) {
		close(fd);
		f->connect_failed++;
		return -1;
	}
	if (s->mode == MODE_GARBAGE)
		len = garbage(buf, sizeof buf);
	else if (s->mode == MODE_HALF)
		len = half_hello(buf);
	if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0) {
		/* The server may already have closed it: poll() sees that and it is reopened. */
	}
	s->fd = fd;
	f->opened++;
	return 0;
}

/* Wait for closes by the server and reopen those slots, until deadline. */
static void hold(struct flood *f, long long deadline)
{
	static struct pollfd pfd[MAX_CONNS];
	char sink[4096];
	int i;

	while (now_ms() < deadline) {
		for (i = 0; i < f->n; i++) {
			struct slot *s = &f->slots[i];

			if (s->fd < 0 && now_ms() - s->closed_at >= REOPEN_DELAY_MS &&
			    open_slot(f, s) == 0)
				f->reopened++;
			pfd[i].fd = s->fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)f->n, 50) < 0 && errno != EINTR)
			return;
		for (i = 0; i < f->n; i++) {
			struct slot *s = &f->slots[i];
			ssize_t r;

			if (s->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* An alert or a close: either way the server is done with it. */
			r = recv(s->fd, sink, sizeof sink, MSG_DONTWAIT);
			if ((r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) &&
			    !(pfd[i].revents & (POLLHUP | POLLERR)))
				continue;
			close(s->fd);
			s->fd = -1;
			s->closed_at = now_ms();
			f->closed_by_peer++;
		}
	}
}

static int parse_mode(const char *m, int i, enum mode *out)
{
	if (strcmp(m, "garbage") == 0)
		*out = MODE_GARBAGE;
	else if (strcmp(m, "half") == 0)
		*out = MODE_HALF;
	else if (strcmp(m, "silent") == 0)
		*out = MODE_SILENT;
	else if (strcmp(m, "mix") == 0)
		*out = (enum mode)(i % 3);
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct flood f;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	int i, n_open = 0;
	long seconds;

	if (argc != 6 || (f.n = atoi(argv[3])) <= 0 || f.n > MAX_CONNS ||
	    (seconds = atol(argv[5])) <= 0) {
		fprintf(stderr,
		        "usage: tls_flood HOST PORT N_CONNS(1-%d) garbage|half|silent|mix "
		        "SECONDS\n",
		        MAX_CONNS);
		return 2;
	}
	if (getaddrinfo(argv[1], argv[2], &hints, &f.addr) != 0) {
		fprintf(stderr, "tls_flood: cannot resolve %s:%s\n", argv[1], argv[2]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	for (i = 0; i < f.n; i++) {
		f.slots[i].fd = -1;
		if (parse_mode(argv[4], i, &f.slots[i].mode) != 0) {
			fprintf(stderr, "tls_flood: unknown mode '%s'\n", argv[4]);
			return 2;
		}
		if (open_slot(&f, &f.slots[i]) == 0)
			n_open++;
	}
	printf("ready %d\n", n_open);
	fflush(stdout);
	hold(&f, now_ms() + seconds * 1000);
	n_open = 0;
	for (i = 0; i < f.n; i++) {
		if (f.slots[i].fd >= 0) {
			close(f.slots[i].fd);
			n_open++;
		}
	}
	printf(
	    "tls_flood: %ld opened (%ld reopened), %ld closed by the server, %ld connects failed, "
	    "%d open at the end\n",
	    f.opened, f.reopened, f.closed_by_peer, f.connect_failed, n_open);
	freeaddrinfo(f.addr);
	return f.opened > 0 ? 0 : 1;
}
