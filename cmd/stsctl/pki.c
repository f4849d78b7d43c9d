/* pki.c — `stsctl pki init|issue`: the cluster CA and the certificates it signs (common/pki.h). */
#include "pki.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev.h"
#include "errors.h"
#include "stsctl.h"
#include "util.h"

static const char usage[] =
    "Usage: stsctl pki init --dir DIR [--cn NAME] [--days N] [--key ecdsa|rsa] [--force]\n"
    "       stsctl pki issue --dir DIR --out PREFIX (--server | --client) --cn CN [OPTIONS]\n"
    "\n"
    "init writes a cluster CA to DIR/ca.crt and DIR/ca.key (created 0700 if missing).\n"
    "issue writes PREFIX.crt and PREFIX.key (mode 0600), signed by the CA in DIR.\n"
    "\n"
    "Options:\n"
    "      --dir DIR               the CA's directory\n"
    "      --cn NAME               subject CN: the user name of a client certificate\n"
    "                              (init: default stsd-ca)\n"
    "      --out PREFIX            issue: where PREFIX.crt and PREFIX.key go\n"
    "      --server                issue: a serving certificate (serverAuth; needs --san)\n"
    "      --client                issue: a client certificate (clientAuth); both may be given\n"
    "      --org O[,O...]          issue: subject O (groups); repeatable\n"
    "      --san NAME|IP[,...]     issue: subject alternative names; repeatable\n"
    "      --days N                validity in days (default 365; CA 3650)\n"
    "      --not-before RFC3339    issue: exact start of validity (default now - 5 min)\n"
    "      --not-after RFC3339     issue: exact end of validity, overriding --days\n"
    "      --key ecdsa|rsa         key type: ECDSA P-256 (default) or RSA 2048\n"
    "      --force                 replace existing files (never done without it)\n"
    "  -h, --help                  show this help and exit\n";

/* Every option of init and issue; the list options are split into pool. */
struct pki_args {
	const char *dir, *cn, *out;
	const char *orgs[PKI_MAX_NAMES + 1], *sans[PKI_MAX_NAMES + 1];
	size_t norgs, nsans;
	bool server, client, force;
	long days;
	int64_t not_before, not_after;
	enum pki_key_type key;
	char pool[8192];
	size_t pool_used;
};

static bool is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* Append the comma-separated items of value to list (at most PKI_MAX_NAMES). false: reported. */
static bool add_list(struct pki_args *a, const char *opt, const char *value, const char **list,
                     size_t *n)
{
	size_t len = strlen(value) + 1;
	char *copy = a->pool + a->pool_used, *save;

	if (value[0] == '\0' || value[0] == ',' || value[len - 2] == ',' ||
	    strstr(value, ",,") != NULL) {
		fprintf(stderr, "stsctl pki: empty name in %s '%s'\n", opt, value);
		return false;
	}
	if (len > sizeof a->pool - a->pool_used) {
		fprintf(stderr, "stsctl pki: %s values too long\n", opt);
		return false;
	}
	memcpy(copy, value, len);
	a->pool_used += len;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (*n >= PKI_MAX_NAMES) {
			fprintf(stderr, "stsctl pki: at most %d %s values\n", PKI_MAX_NAMES, opt);
			return false;
		}
		list[(*n)++] = t;
	}
	return true;
}

/* RFC 3339 ("2026-11-25T12:00:00Z", "...T12:00:00.5+01:00") to Unix seconds; false if bad. */
static bool parse_rfc3339(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int sign = 1, hh, mm, used = 0;
	long offset = 0;

	if (p == NULL || strlen(s) < 20)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &used) != 2 || used != 5 || hh > 23 ||
		    mm > 59)
			return false;
		offset = sign * (hh * 3600L + mm * 60L);
		p += 1 + used;
	} else if (*p++ != 'Z') {
		return false;
	}
	if (*p != '\0')
		return false;
	*out = (int64_t)timegm(&tm) - offset;
	return true;
}

static int parse_key(const char *v, enum pki_key_type *key)
{
	if (strcmp(v, "ecdsa") == 0)
		*key = PKI_KEY_ECDSA_P256;
	else if (strcmp(v, "rsa") == 0)
		*key = PKI_KEY_RSA_2048;
	else {
		fprintf(stderr, "stsctl pki: bad --key '%s' (ecdsa or rsa)\n", v);
		return -1;
	}
	return 1;
}

static int parse_time(const char *opt, const char *v, int64_t *t)
{
	if (!parse_rfc3339(v, t) || *t == 0) {
		fprintf(stderr, "stsctl pki: bad %s '%s' (RFC 3339, like 2026-11-25T12:00:00Z)\n",
		        opt, v);
		return -1;
	}
	return 1;
}

/* Options taking a value that needs converting: 1 parsed, 0 not one of these, -1 bad (reported). */
static int parse_typed(int argc, char **argv, int *i, struct pki_args *a)
{
	const char *v;
	int rv;

	if ((rv = cli_option(argc, argv, i, "--days", &v)) == 1 &&
	    !cli_parse_int(v, 1, 36500, &a->days)) {
		fprintf(stderr, "stsctl pki: bad --days '%s' (1 to 36500)\n", v);
		return -1;
	}
	if (rv != 0)
		return rv;
	if ((rv = cli_option(argc, argv, i, "--key", &v)) != 0)
		return rv < 0 ? rv : parse_key(v, &a->key);
	if ((rv = cli_option(argc, argv, i, "--not-before", &v)) != 0)
		return rv < 0 ? rv : parse_time("--not-before", v, &a->not_before);
	if ((rv = cli_option(argc, argv, i, "--not-after", &v)) != 0)
		return rv < 0 ? rv : parse_time("--not-after", v, &a->not_after);
	if ((rv = cli_option(argc, argv, i, "--org", &v)) != 0)
		return rv < 0 ? rv : add_list(a, "--org", v, a->orgs, &a->norgs) ? 1 : -1;
	if ((rv = cli_option(argc, argv, i, "--san", &v)) != 0)
		return rv < 0 ? rv : add_list(a, "--san", v, a->sans, &a->nsans) ? 1 : -1;
	return 0;
}

/* 1 parsed, 0 not an option of ours, -1 bad (reported). */
static int parse_option(int argc, char **argv, int *i, struct pki_args *a)
{
	bool *flag = NULL;
	int rv;

	if (strcmp(argv[*i], "--server") == 0)
		flag = &a->server;
	else if (strcmp(argv[*i], "--client") == 0)
		flag = &a->client;
	else if (strcmp(argv[*i], "--force") == 0)
		flag = &a->force;
	if (flag != NULL) {
		*flag = true;
		return 1;
	}
	if ((rv = cli_option(argc, argv, i, "--dir", &a->dir)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--cn", &a->cn)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--out", &a->out)) != 0)
		return rv;
	return parse_typed(argc, argv, i, a);
}

/* 0 go on, 2 usage error, -1 after --help. */
static int parse_args(int argc, char **argv, struct pki_args *a)
{
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(usage, stdout);
			return -1;
		}
		int rv = parse_option(argc, argv, &i, a);
		if (rv < 0)
			return 2;
		if (rv == 0) {
			fprintf(stderr, "stsctl pki: unknown option '%s' (try --help)\n", argv[i]);
			return 2;
		}
	}
	if (a->dir == NULL || a->dir[0] == '\0') {
		fprintf(stderr, "stsctl pki: --dir DIR is required\n");
		return 2;
	}
	return 0;
}

static const char *key_name(enum pki_key_type key)
{
	return key == PKI_KEY_RSA_2048 ? "RSA 2048" : "ECDSA P-256";
}

/* The exit status for a pki.h error: a request it refused is a usage error. */
static int report(const char *cmd, int rv, const char *err)
{
	fprintf(stderr, "stsctl pki %s: %s\n", cmd, err);
	return rv == STSD_INVALID ? 2 : 1;
}

static int run_init(const struct pki_args *a)
{
	struct pki_ca_request rq = {
	    .dir = a->dir, .cn = a->cn, .days = a->days, .key = a->key, .force = a->force};
	char err[512];
	int rv;

	if (a->out != NULL || a->server || a->client || a->norgs > 0 || a->nsans > 0 ||
	    a->not_before != 0 || a->not_after != 0) {
		fprintf(stderr, "stsctl pki init: --out, --server, --client, --org, --san and "
		                "--not-before/--not-after are for issue\n");
		return 2;
	}
	if ((rv = pki_ca_init(&rq, err, sizeof err)) != STSD_OK)
		return report("init", rv, err);
	printf("wrote %s/ca.crt and %s/ca.key (CN %s, %s, %ld days)\n", a->dir, a->dir,
	       a->cn != NULL ? a->cn : "stsd-ca", key_name(a->key),
	       a->days != 0 ? a->days : PKI_CA_DAYS);
	return 0;
}

/* The checks pki_issue would make anyway, with the flags' names in the message. */
static int check_issue(const struct pki_args *a)
{
	const char *missing = a->out == NULL || a->out[0] == '\0' ? "--out PREFIX"
	                      : a->cn == NULL || a->cn[0] == '\0' ? "--cn CN"
	                                                          : NULL;

	if (missing != NULL) {
		fprintf(stderr, "stsctl pki issue: %s is required\n", missing);
		return 2;
	}
	if (!a->server && !a->client) {
		fprintf(stderr, "stsctl pki issue: give --server, --client or both\n");
		return 2;
	}
	if (a->server && a->nsans == 0) {
		fprintf(stderr, "stsctl pki issue: --server needs at least one --san (clients such "
		                "as kubectl ignore the CN)\n");
		return 2;
	}
	return 0;
}

static int run_issue(const struct pki_args *a)
{
	struct pki_cert_request rq = {.ca_dir = a->dir,
	                              .out = a->out,
	                              .cn = a->cn,
	                              .server = a->server,
	                              .client = a->client,
	                              .days = a->days,
	                              .not_before = a->not_before,
	                              .not_after = a->not_after,
	                              .key = a->key,
	                              .force = a->force};
	char err[512], until[32];
	int rv;

	if ((rv = check_issue(a)) != 0)
		return rv;
	memcpy(rq.orgs, a->orgs, sizeof rq.orgs);
	memcpy(rq.sans, a->sans, sizeof rq.sans);
	if ((rv = pki_issue(&rq, err, sizeof err)) != STSD_OK)
		return report("issue", rv, err);
	if (a->not_after != 0)
		util_format_rfc3339(a->not_after, until, sizeof until);
	else
		snprintf(until, sizeof until, "%ld days",
		         a->days != 0 ? a->days : PKI_DEFAULT_DAYS);
	printf("wrote %s.crt and %s.key (CN %s, %s%s%s, %s, %s)\n", a->out, a->out, a->cn,
	       a->server ? "server" : "", a->server && a->client ? "+" : "",
	       a->client ? "client" : "", key_name(a->key), until);
	return 0;
}

int stsctl_pki(int argc, char **argv)
{
	struct pki_args a = {0};
	int rv;

	if (argc < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (is_help(argv[0])) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[0], "init") != 0 && strcmp(argv[0], "issue") != 0) {
		fprintf(stderr, "stsctl pki: unknown command '%s' (init or issue)\n", argv[0]);
		return 2;
	}
	if ((rv = parse_args(argc - 1, argv + 1, &a)) != 0)
		return rv < 0 ? 0 : rv;
	return strcmp(argv[0], "init") == 0 ? run_init(&a) : run_issue(&a);
}
