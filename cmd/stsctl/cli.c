/* cli.c — what stsctl's networked commands share: option parsing and choosing the server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "errors.h"

#define MAX_SERVERS 16

int cli_option(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t k = strlen(name);

	if (strncmp(argv[*i], name, k) != 0)
		return 0;
	if (argv[*i][k] == '=') {
		*value = argv[*i] + k + 1;
		return 1;
	}
	if (argv[*i][k] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "stsctl: option %s needs a value\n", name);
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

bool cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_duration(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v <= 0 || v > 86400)
		return false;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return false;
	*ms = (long)(v * 1000);
	return *ms > 0;
}

/* Split "a,b,c" into at most MAX_SERVERS strings in buf (modified in place). */
static size_t split(char *buf, const char **urls)
{
	size_t n = 0;

	for (char *save, *t = strtok_r(buf, ",", &save); t != NULL && n < MAX_SERVERS;
	     t = strtok_r(NULL, ",", &save))
		urls[n++] = t;
	return n;
}

/* Every replica's API address from DIR/cluster.json, into buf as "a,b,c". */
static int cluster_servers(const char *cmd, const char *dir, char *buf, size_t len)
{
	struct dev_cluster cl = {0};
	char err[512];
	size_t used = 0;

	if (dev_cluster_load(dir, &cl, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		dev_cluster_free(&cl);
		return 1;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < cl.n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%shttp://%s", i > 0 ? "," : "",
		                         cl.replicas[i].api_address);
	dev_cluster_free(&cl);
	return 0;
}

int cli_connect(const char *cmd, const char *server, const char *dir,
                const struct client_options *opts, struct client **out)
{
	const char *urls[MAX_SERVERS], *env = getenv("STSD_SERVER");
	char buf[4096], err[512];
	size_t n;

	if (server != NULL) {
		snprintf(buf, sizeof buf, "%s", server);
	} else if (dir != NULL) {
		if (cluster_servers(cmd, dir, buf, sizeof buf) != 0)
			return 1;
	} else if (env != NULL && env[0] != '\0') {
		snprintf(buf, sizeof buf, "%s", env);
	} else {
		fprintf(stderr,
		        "%s: no server: pass --server URL or --dir DIR, or set STSD_SERVER\n", cmd);
		return 2;
	}
	if ((n = split(buf, urls)) == 0) {
		fprintf(stderr, "%s: no server URL in '%s'\n", cmd, server != NULL ? server : "");
		return 2;
	}
	if (client_create(urls, n, opts, out, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}
