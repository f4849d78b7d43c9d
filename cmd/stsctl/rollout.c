/* rollout.c — `stsctl rollout pause|resume sts NAME`: what `kubectl rollout pause` refuses for
 * StatefulSets. The pause is the annotation stsd.io/rollout-paused: "true" on the set, set and
 * removed with a JSON merge patch; the controller holds the rolling update while it is there
 * (controller/sts.h; docs/decisions/010-statefulset-departures.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "errors.h"
#include "stsctl.h"

/* controller/sts.h, CTL_STS_ANNOTATION_PAUSED (stsctl does not link the controller). */
#define PAUSED_ANNOTATION "stsd.io/rollout-paused"

static const char usage[] =
    "Usage: stsctl rollout pause|resume sts NAME [-n NAMESPACE]\n"
    "                     [--server URL[,URL...] | --dir DIR | --kubeconfig FILE]\n"
    "\n"
    "Pause or resume the rolling update of a StatefulSet (kubectl rollout pause refuses\n"
    "StatefulSets). While paused, stsd replaces no pod for the update (as if the partition were\n"
    "spec.replicas; new pods get the current revision) but still scales; status.updateRevision\n"
    "still follows the template, status.conditions shows stsd.io/RolloutPaused, and the events\n"
    "RolloutPaused / RolloutResumed mark the changes. The pause is the annotation\n"
    "stsd.io/rollout-paused: \"true\" on the set.\n"
    "\n"
    "The set may be named as 'sts NAME', 'statefulset NAME' or 'sts/NAME'.\n"
    "\n"
    "Options:\n"
    "  -n, --namespace NS         the set's namespace (default \"default\")\n"
    "      --server URL[,URL...]  replicas to ask (default: every replica of --dir DIR, else\n"
    "                             $STSD_SERVER, else the kubeconfig's server)\n"
    "      --dir DIR              a cluster made by 'stsctl dev up' (its admin credentials)\n"
    "      --kubeconfig FILE      credentials (and, without --server, the server) from this\n"
    "                             kubeconfig's current context (default $KUBECONFIG)\n"
    "      --timeout SECONDS      give up after this long without an answer (default 30)\n"
    "  -h, --help                 show this help and exit\n";

struct rollout_args {
	bool pause;
	const char *name;
	const char *ns;
	const char *server;
	const char *dir;
	const char *kubeconfig;
	long timeout_ms;
};

static bool is_sts_kind(const char *k)
{
	static const char *const kinds[] = {"sts", "statefulset", "statefulsets",
	                                    "statefulset.apps", "statefulsets.apps"};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

/* A positional word: the kind, then the name; or "KIND/NAME" at once. False when unexpected. */
static bool positional(struct rollout_args *a, const char *w, bool *have_kind)
{
	const char *slash = strchr(w, '/');

	if (!*have_kind && slash != NULL) {
		char kind[64];
		snprintf(kind, sizeof kind, "%.*s", (int)(slash - w), w);
		if (!is_sts_kind(kind) || slash[1] == '\0' || a->name != NULL)
			return false;
		*have_kind = true;
		a->name = slash + 1;
		return true;
	}
	if (!*have_kind) {
		*have_kind = is_sts_kind(w);
		return *have_kind;
	}
	if (a->name != NULL)
		return false;
	a->name = w;
	return true;
}

/* 1 parsed, 0 not an option of ours, -1 bad (reported). */
static int parse_option(int argc, char **argv, int *i, struct rollout_args *a)
{
	const char *t;
	int rv;

	if ((rv = cli_option(argc, argv, i, "--server", &a->server)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--dir", &a->dir)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--kubeconfig", &a->kubeconfig)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--namespace", &a->ns)) != 0 ||
	    (rv = cli_option(argc, argv, i, "-n", &a->ns)) != 0)
		return rv;
	if ((rv = cli_option(argc, argv, i, "--timeout", &t)) == 1 &&
	    !cli_parse_duration(t, &a->timeout_ms)) {
		fprintf(stderr, "stsctl rollout: bad --timeout '%s' (seconds)\n", t);
		return -1;
	}
	return rv;
}

/* An exit status (0 go on, 2 usage error) or -1 after --help. */
static int parse_args(int argc, char **argv, struct rollout_args *a)
{
	bool have_kind = false;

	*a = (struct rollout_args){.ns = "default", .timeout_ms = 30000};
	for (int i = 0; i < argc; i++) {
		int rv;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		if (i == 0 && (strcmp(argv[0], "pause") == 0 || strcmp(argv[0], "resume") == 0)) {
			a->pause = strcmp(argv[0], "pause") == 0;
			continue;
		}
		if (i == 0)
			break;
		if (argv[i][0] != '-') {
			if (positional(a, argv[i], &have_kind))
				continue;
		} else if ((rv = parse_option(argc, argv, &i, a)) == 1) {
			continue;
		} else if (rv < 0) {
			return 2;
		}
		fprintf(stderr, "stsctl rollout: unexpected argument '%s'\n", argv[i]);
		fputs(usage, stderr);
		return 2;
	}
	if (argc == 0 || (strcmp(argv[0], "pause") != 0 && strcmp(argv[0], "resume") != 0)) {
		fprintf(stderr, "stsctl rollout: the command must be pause or resume\n");
		fputs(usage, stderr);
		return 2;
	}
	if (a->name == NULL || a->name[0] == '\0' || a->ns[0] == '\0') {
		fprintf(stderr, "stsctl rollout: name a StatefulSet: sts NAME or sts/NAME\n");
		fputs(usage, stderr);
		return 2;
	}
	return 0;
}

/* The set's path, its name and namespace escaped for a URL path segment: anything but
 * [A-Za-z0-9.-_~] is percent-encoded (the server refuses such names anyway, with a clean 404). */
static void set_path(const struct rollout_args *a, char *out, size_t len)
{
	const char *parts[] = {a->ns, a->name};
	char seg[2][768];

	for (int k = 0; k < 2; k++) {
		size_t n = 0;
		for (const char *p = parts[k]; *p && n + 4 < sizeof seg[k]; p++) {
			unsigned char c = (unsigned char)*p;
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr(".-_~", c) != NULL)
				seg[k][n++] = (char)c;
			else
				n += (size_t)snprintf(seg[k] + n, 4, "%%%02X", c);
		}
		seg[k][n] = '\0';
	}
	snprintf(out, len, "/apis/apps/v1/namespaces/%s/statefulsets/%s", seg[0], seg[1]);
}

static bool is_paused(const json_t *set)
{
	const char *v = json_string_value(json_object_get(
	    json_object_get(json_object_get(set, "metadata"), "annotations"), PAUSED_ANNOTATION));

	return v != NULL && strcmp(v, "true") == 0;
}

/* An API failure as kubectl prints it ("Error from server (NotFound): <message>"), a transport
 * failure with our prefix. */
static void server_error(int rv, const char *msg)
{
	const char *reason = rv == STSD_NOTFOUND   ? "NotFound"
	                     : rv == STSD_CONFLICT ? "Conflict"
	                     : rv == STSD_INVALID  ? "Invalid"
	                     : rv == STSD_BUSY     ? "TooManyRequests"
	                                           : NULL;

	if (reason != NULL)
		fprintf(stderr, "Error from server (%s): %s\n", reason, msg);
	else
		fprintf(stderr, "stsctl rollout: %s\n", msg);
}

/* One request; on a 2xx answer *out (when out is not NULL) is its parsed body. Failures are
 * reported here: the server's Status message (as kubectl prints it) or the transport error.
 * Returns 0 or the failure's code. */
static int request(struct client *c, const char *method, const char *path, const char *body,
                   const char *content_type, json_t **out)
{
	struct client_response resp = {0};
	json_t *doc;
	int rv;

	rv = client_request(c, method, path, body, body ? strlen(body) : 0, content_type, &resp);
	if (rv != STSD_OK) {
		server_error(rv, client_errmsg(c));
		return rv;
	}
	doc = json_loads(resp.body, 0, NULL);
	if (resp.status < 200 || resp.status > 299) {
		const char *msg = json_string_value(json_object_get(doc, "message"));

		rv = client_status_code(resp.status,
		                        json_string_value(json_object_get(doc, "reason")));
		rv = rv != STSD_OK ? rv : STSD_IO;
		server_error(rv, msg ? msg : resp.body);
	} else if (doc == NULL && out != NULL) {
		rv = STSD_CORRUPT;
		server_error(rv, "the server's answer is not JSON");
	}
	if (rv == STSD_OK && out != NULL)
		*out = json_incref(doc);
	json_decref(doc);
	client_response_free(&resp);
	return rv;
}

/* Send the merge patch that sets (pause) or removes (resume) the annotation. Only the annotation
 * is named, and no resourceVersion: the patch is idempotent and cannot undo another writer's
 * change (kubectl's pause does the same for a Deployment's spec.paused). */
static int send_patch(struct client *c, const char *path, bool pause)
{
	json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "annotations", PAUSED_ANNOTATION,
	                          pause ? json_string("true") : json_null());
	char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
	int rv;

	json_decref(patch);
	if (body == NULL) {
		fprintf(stderr, "stsctl rollout: out of memory\n");
		return STSD_NOMEM;
	}
	rv = request(c, "PATCH", path, body, "application/merge-patch+json", NULL);
	free(body);
	return rv;
}

static int run(struct client *c, const struct rollout_args *a)
{
	json_t *set = NULL;
	char path[2048];
	bool paused;
	int rv;

	set_path(a, path, sizeof path);
	if ((rv = request(c, "GET", path, NULL, NULL, &set)) != STSD_OK)
		return 1; /* reported */
	paused = is_paused(set);
	json_decref(set);
	/* kubectl's wording for a Deployment in the same state (rollout pause/resume: the pauser
	 * and resumer fail with "is already paused" / "is not paused", printed as
	 * error: <resource>.<group> "<name>" <reason>). */
	if (paused == a->pause) {
		fprintf(stderr, "error: statefulsets.apps \"%s\" %s\n", a->name,
		        a->pause ? "is already paused" : "is not paused");
		return 1;
	}
	if (send_patch(c, path, a->pause) != STSD_OK)
		return 1; /* reported */
	printf("statefulset.apps/%s %s\n", a->name, a->pause ? "paused" : "resumed");
	return 0;
}

int stsctl_rollout(int argc, char **argv)
{
	struct rollout_args a;
	struct client_options o;
	struct client *c = NULL;
	int rv;

	if ((rv = parse_args(argc, argv, &a)) != 0)
		return rv < 0 ? 0 : rv;
	o = (struct client_options){.deadline_ms = a.timeout_ms};
	if ((rv = cli_connect("stsctl rollout", a.server, a.dir, a.kubeconfig, &o, &c)) != 0)
		return rv;
	rv = run(c, &a);
	client_destroy(c);
	return rv;
}
