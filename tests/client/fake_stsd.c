/* fake_stsd.c — a stand-in for stsd with its command-line contract, for testing `stsctl dev`
 * before the real server exists: serves /readyz, /healthz, /livez and /debug/raft (replica 1 is
 * the leader) on --api-address until SIGTERM or SIGINT.
 *
 * Misbehaviour on request, by replica id, through the environment (stsctl passes it on):
 *   FAKE_STSD_EXIT=N         replica N writes a line to stderr and exits 3 at once ("all": all)
 *   FAKE_STSD_UNREADY=N      replica N answers /readyz with 503 forever
 *   FAKE_STSD_IGNORE_TERM=N  replica N ignores SIGTERM (only SIGKILL ends it)
 * Every start appends "start id=N pid=P" to DATA_DIR/fake-stsd.starts. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

struct fake {
	int id;
	const char *api_address;
	const char *data_dir;
	bool unready;
};

static bool env_names(const char *var, int id)
{
	const char *v = getenv(var);

	return v != NULL && (strcmp(v, "all") == 0 || atoi(v) == id);
}

static enum httpd_action handle(void *data, const struct httpd_request *req,
                                struct httpd_reply *rep)
{
	struct fake *f = data;
	static __thread char raft[512];

	if (strcmp(req->path, "/readyz") == 0 && f->unready) {
		rep->status = 503;
		rep->body = "not ready: no leader";
	} else if (strcmp(req->path, "/readyz") == 0 || strcmp(req->path, "/healthz") == 0 ||
	           strcmp(req->path, "/livez") == 0) {
		rep->body = "ok";
	} else if (strcmp(req->path, "/debug/raft") == 0) {
		snprintf(raft, sizeof raft,
		         "{\"id\":%d,\"role\":\"%s\",\"term\":2,\"leaderId\":1,\"appliedIndex\":5,"
		         "\"commitIndex\":5,\"digest\":\"00\",\"leaderApiAddress\":\"\"}",
		         f->id, f->id == 1 ? "leader" : "follower");
		rep->content_type = "application/json";
		rep->body = raft;
	} else {
		rep->status = 404;
		rep->body = "not found";
	}
	rep->body_len = strlen(rep->body);
	return HTTPD_REPLY;
}

static bool parse(int argc, char **argv, struct fake *f)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--id") == 0)
			f->id = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--api-address") == 0)
			f->api_address = argv[i + 1];
		else if (strcmp(argv[i], "--data-dir") == 0)
			f->data_dir = argv[i + 1];
	}
	return f->id > 0 && f->api_address != NULL && f->data_dir != NULL;
}

static void note_start(const struct fake *f)
{
	char path[4200];
	FILE *out;

	snprintf(path, sizeof path, "%s/fake-stsd.starts", f->data_dir);
	if ((out = fopen(path, "a")) != NULL) {
		fprintf(out, "start id=%d pid=%d\n", f->id, (int)getpid());
		fclose(out);
	}
}

int main(int argc, char **argv)
{
	struct fake f = {0};
	char host[64];
	struct httpd *h;
	sigset_t set;
	int port, sig;

	if (!parse(argc, argv, &f) || sscanf(f.api_address, "%63[^:]:%d", host, &port) != 2) {
		fprintf(stderr,
		        "level=error mod=fake-stsd msg=\"need --id, --api-address, --data-dir\"\n");
		return 2;
	}
	if (env_names("FAKE_STSD_EXIT", f.id)) {
		fprintf(stderr, "level=error mod=fake-stsd id=%d msg=\"failing on purpose\"\n",
		        f.id);
		return 3;
	}
	f.unready = env_names("FAKE_STSD_UNREADY", f.id);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	if (!env_names("FAKE_STSD_IGNORE_TERM", f.id))
		sigaddset(&set, SIGTERM);
	else
		signal(SIGTERM, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server thread inherits the mask */
	if (httpd_start(host, port, handle, &f, &h) != 0) {
		perror("fake-stsd: listen");
		return 1;
	}
	note_start(&f);
	fprintf(stderr, "level=info mod=fake-stsd event=start id=%d api=%s pid=%d\n", f.id,
	        f.api_address, (int)getpid());
	sigwait(&set, &sig);
	fprintf(stderr, "level=info mod=fake-stsd event=stop id=%d signal=%d\n", f.id, sig);
	httpd_stop(h);
	return 0;
}
