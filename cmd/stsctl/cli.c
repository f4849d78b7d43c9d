/* cli.c — what stsctl's networked commands share: option parsing, choosing the server and the
 * credentials (cluster.json of a dev cluster, or a kubeconfig). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "errors.h"
#include "kubeconfig.h"

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

/* The scheme and credentials of the last cli_connect, kept for cli_connect_one: strings of
 * cli_connect's result must outlive it until client_create copies them. */
static struct {
	char scheme[8]; /* for addresses without one; "http" until told otherwise */
	struct kubeconfig kc;
	struct dev_cluster cl; /* credential paths only (replicas freed) */
	struct client_options creds;
	const char *creds_from; /* the kubeconfig the credentials come from, for error messages */
} session = {.scheme = "http"};

/* Split "a,b,c" into at most MAX_SERVERS strings in buf (modified in place). */
static size_t split(char *buf, const char **urls)
{
	size_t n = 0;

	for (char *save, *t = strtok_r(buf, ",", &save); t != NULL && n < MAX_SERVERS;
	     t = strtok_r(NULL, ",", &save))
		urls[n++] = t;
	return n;
}

/* Every replica's URL from DIR/cluster.json, into buf as "a,b,c"; its credentials into session. */
static int cluster_servers(const char *cmd, const char *dir, char *buf, size_t len)
{
	struct dev_cluster *cl = &session.cl;
	char err[PATH_MAX + 256];
	size_t used = 0;

	dev_cluster_free(cl);
	if (dev_cluster_load(dir, cl, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		dev_cluster_free(cl);
		return 1;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < cl->n && used < len; i++) {
		char url[128];

		dev_cluster_url(cl, cl->replicas[i].api_address, url, sizeof url);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? "," : "", url);
	}
	snprintf(session.scheme, sizeof session.scheme, "%s",
	         dev_cluster_tls(cl) ? "https" : "http");
	dev_cluster_client_options(cl, &session.creds);
	return 0;
}

/* The kubeconfig at path (NULL: $KUBECONFIG) into session; with required false, none at all
 * (no path, no $KUBECONFIG) is fine. An exit status, the error printed. */
static int load_kubeconfig(const char *cmd, const char *path, bool required)
{
	const char *env = getenv("KUBECONFIG");
	char err[PATH_MAX + 512];

	if (path == NULL && (env == NULL || env[0] == '\0')) {
		if (!required)
			return 0;
		fprintf(
		    stderr,
		    "%s: no server: pass --server URL or --dir DIR (or --kubeconfig FILE), or set "
		    "STSD_SERVER (or KUBECONFIG)\n",
		    cmd);
		return 2;
	}
	kubeconfig_free(&session.kc);
	if (kubeconfig_load(path, NULL, &session.kc, err, sizeof err) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		return 1;
	}
	kubeconfig_client_options(&session.kc, &session.creds);
	session.creds_from = session.kc.path;
	return 0;
}

/* The scheme of url ("https://a,..." -> https), remembered for cli_connect_one. */
static void note_scheme(const char *url)
{
	snprintf(session.scheme, sizeof session.scheme, "%s",
	         strncmp(url, "https://", 8) == 0 ? "https" : "http");
}

/* The servers to ask into buf, session's credentials set. An exit status. */
static int choose_servers(const char *cmd, const char *server, const char *dir,
                          const char *kubeconfig, char *buf, size_t len)
{
	const char *env = getenv("STSD_SERVER");
	int rv;

	session.creds = (struct client_options){0};
	session.creds_from = NULL;
	if (server == NULL && dir == NULL && env != NULL && env[0] != '\0')
		server = env;
	if (server != NULL) {
		if ((rv = load_kubeconfig(cmd, kubeconfig, false)) != 0)
			return rv;
		snprintf(buf, len, "%s", server);
	} else if (dir != NULL) {
		if ((rv = cluster_servers(cmd, dir, buf, len)) != 0)
			return rv;
	} else {
		if ((rv = load_kubeconfig(cmd, kubeconfig, true)) != 0)
			return rv;
		snprintf(buf, len, "%s", session.kc.server);
	}
	if (server != NULL || dir == NULL)
		note_scheme(buf);
	return 0;
}

/* opts' timeouts with the session's credentials. */
static struct client_options with_credentials(const struct client_options *opts)
{
	struct client_options o = session.creds;

	if (opts != NULL) {
		o.timeout_ms = opts->timeout_ms;
		o.connect_timeout_ms = opts->connect_timeout_ms;
		o.deadline_ms = opts->deadline_ms;
		o.backoff_ms = opts->backoff_ms;
		o.backoff_max_ms = opts->backoff_max_ms;
		o.max_attempts = opts->max_attempts;
	}
	return o;
}

int cli_connect(const char *cmd, const char *server, const char *dir, const char *kubeconfig,
                const struct client_options *opts, struct client **out)
{
	const char *urls[MAX_SERVERS];
	struct client_options o;
	char buf[4096], err[512];
	size_t n;
	int rv;

	if ((rv = choose_servers(cmd, server, dir, kubeconfig, buf, sizeof buf)) != 0)
		return rv;
	if ((n = split(buf, urls)) == 0) {
		fprintf(stderr, "%s: no server URL in '%s'\n", cmd, server != NULL ? server : "");
		return 2;
	}
	o = with_credentials(opts);
	/* client_create refuses a token or client certificate over plain http to another host: a
	 * --server or $STSD_SERVER must not carry $KUBECONFIG's secrets in clear text. */
	if ((rv = client_create(urls, n, &o, out, err, sizeof err)) != STSD_OK) {
		fprintf(stderr, "%s: %s\n", cmd, err);
		if (rv == STSD_INVALID && session.creds_from != NULL)
			fprintf(stderr, "%s: (the credentials are those of kubeconfig %s)\n", cmd,
			        session.creds_from);
		return 1;
	}
	return 0;
}

int cli_connect_one(const char *address, const struct client_options *opts, struct client **out,
                    char *err, size_t len)
{
	struct client_options o = with_credentials(opts);
	char url[512];
	const char *urls[] = {url};

	if (strstr(address, "://") != NULL)
		snprintf(url, sizeof url, "%s", address);
	else
		snprintf(url, sizeof url, "%s://%s", session.scheme, address);
	return client_create(urls, 1, &o, out, err, len);
}
