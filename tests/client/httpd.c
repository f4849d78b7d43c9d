/* httpd.c — the throwaway test HTTP server: a poll(2) loop on its own thread. */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 64

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	bool hung; /* the handler chose HTTPD_HANG: read and drop until the client goes */
};

struct httpd {
	int lfd;
	int wake[2];
	pthread_t thread;
	httpd_handler_cb handler;
	void *data;
	struct conn conns[MAX_CONNS];
	size_t n_conns;
	atomic_uint requests;
	atomic_uint connections;
	int port;
	char url[64];
};

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 404:
		return "Not Found";
	case 409:
		return "Conflict";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void send_reply(int fd, const struct httpd_reply *rep)
{
	char head[1024];
	int n;

	n = snprintf(head, sizeof head,
	             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
	             rep->status, reason(rep->status),
	             rep->content_type != NULL ? rep->content_type : "text/plain", rep->body_len,
	             rep->headers);
	send_all(fd, head, (size_t)n);
	send_all(fd, rep->body, rep->body_len);
}

/* The value of header name (with its ':') in the request head (NUL-terminated) into out; "" when
 * absent. */
static void header(const char *head, const char *name, char *out, size_t len)
{
	size_t k = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, k) == 0) {
			p += 2 + k + strspn(p + 2 + k, " ");
			snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"), p);
			return;
		}
	}
}

/* One complete request at the start of c->buf: its total length, or 0 while incomplete. */
static size_t parse(struct conn *c, struct httpd_request *req)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), save;
	size_t head, total;
	char cl[32];

	if (end == NULL)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	save = c->buf[head - 1];
	c->buf[head - 1] = '\0';
	memset(req, 0, sizeof *req);
	sscanf(c->buf, "%15s %1023s", req->method, req->path);
	header(c->buf, "Content-Length:", cl, sizeof cl);
	header(c->buf, "Content-Type:", req->content_type, sizeof req->content_type);
	header(c->buf, "Authorization:", req->authorization, sizeof req->authorization);
	c->buf[head - 1] = save;
	total = head + strtoul(cl, NULL, 10);
	if (c->len < total)
		return 0;
	req->body = c->buf + head;
	req->body_len = total - head;
	return total;
}

/* Handle every complete request in c's buffer; false when the connection must close. */
static bool serve(struct httpd *h, struct conn *c)
{
	struct httpd_request req;
	size_t total;

	while (!c->hung && (total = parse(c, &req)) > 0) {
		struct httpd_reply rep = {.status = 200};
		char save = c->buf[total];
		enum httpd_action a;

		c->buf[total] = '\0';
		atomic_fetch_add(&h->requests, 1);
		a = h->handler(h->data, &req, &rep);
		c->buf[total] = save;
		if (a == HTTPD_REPLY)
			send_reply(c->fd, &rep);
		if (rep.free_body)
			free((void *)rep.body);
		if (a == HTTPD_CLOSE)
			return false;
		c->hung = a == HTTPD_HANG;
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
	return true;
}

static void drop(struct httpd *h, size_t i)
{
	close(h->conns[i].fd);
	free(h->conns[i].buf);
	h->conns[i] = h->conns[--h->n_conns];
}

/* Read what c has; false when it closed or failed. */
static bool receive(struct conn *c)
{
	char chunk[65536];
	ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);

	if (n <= 0)
		return n < 0 && errno == EINTR;
	if (c->hung)
		return true;
	if (c->len + (size_t)n + 1 > c->cap) {
		size_t cap = 2 * (c->len + (size_t)n + 1);
		char *p = realloc(c->buf, cap);
		if (p == NULL)
			return false;
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	return true;
}

static void accept_one(struct httpd *h)
{
	int fd = accept(h->lfd, NULL, NULL);

	if (fd < 0)
		return;
	if (h->n_conns == MAX_CONNS) {
		close(fd);
		return;
	}
	atomic_fetch_add(&h->connections, 1);
	h->conns[h->n_conns++] = (struct conn){.fd = fd};
}

static void *loop(void *arg)
{
	struct httpd *h = arg;
	struct pollfd pfd[MAX_CONNS + 2];

	for (;;) {
		size_t n = h->n_conns;

		pfd[0] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = h->lfd, .events = POLLIN};
		for (size_t i = 0; i < n; i++)
			pfd[i + 2] = (struct pollfd){.fd = h->conns[i].fd, .events = POLLIN};
		if (poll(pfd, n + 2, -1) < 0)
			continue;
		if (pfd[0].revents != 0)
			return NULL;
		for (size_t i = n; i-- > 0;) /* backwards: drop() moves the last one into i */
			if (pfd[i + 2].revents != 0 &&
			    (!receive(&h->conns[i]) || !serve(h, &h->conns[i])))
				drop(h, i);
		if (pfd[1].revents != 0)
			accept_one(h);
	}
}

static int listen_on(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		errno = EINVAL;
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

int httpd_start(const char *host, int port, httpd_handler_cb handler, void *data,
                struct httpd **out)
{
	struct httpd *h = calloc(1, sizeof *h);

	if (h == NULL)
		return -1;
	h->handler = handler;
	h->data = data;
	if ((h->lfd = listen_on(host, port)) < 0 || pipe2(h->wake, O_CLOEXEC) != 0) {
		if (h->lfd >= 0)
			close(h->lfd);
		free(h);
		return -1;
	}
	h->port = bound_port(h->lfd);
	snprintf(h->url, sizeof h->url, "http://%s:%d", host, h->port);
	if (pthread_create(&h->thread, NULL, loop, h) != 0) {
		close(h->lfd);
		close(h->wake[0]);
		close(h->wake[1]);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	(void)!write(h->wake[1], "x", 1);
	pthread_join(h->thread, NULL);
	while (h->n_conns > 0)
		drop(h, 0);
	close(h->lfd);
	close(h->wake[0]);
	close(h->wake[1]);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

const char *httpd_url(const struct httpd *h)
{
	return h->url;
}

unsigned httpd_requests(const struct httpd *h)
{
	return atomic_load(&((struct httpd *)h)->requests);
}

unsigned httpd_connections(const struct httpd *h)
{
	return atomic_load(&((struct httpd *)h)->connections);
}

int httpd_dead_port(void)
{
	int fd = listen_on("127.0.0.1", 0), port;

	if (fd < 0)
		return -1;
	port = bound_port(fd);
	close(fd);
	return port;
}
