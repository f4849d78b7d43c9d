/* members.c — `stsctl members [add|remove|transfer]`: the Raft membership through the admin API
 * (/stsd/v1/members), with each member's role, term and applied index from its /debug/raft. */
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "errors.h"
#include "stsctl.h"

static const char usage[] =
    "Usage: stsctl members [COMMAND] [--server URL[,URL...] | --dir DIR | --kubeconfig FILE]\n"
    "                      [OPTIONS]\n"
    "\n"
    "Without a command: list the cluster's members with each one's Raft role, term and applied\n"
    "index (ROLE 'unreachable' when its /debug/raft does not answer within 1 s).\n"
    "\n"
    "Commands:\n"
    "  add --id N --raft-address HOST:PORT --api-address HOST:PORT\n"
    "                           add a voting member (start its stsd with --join first)\n"
    "  remove --id N            remove a member\n"
    "  transfer --id N          move leadership to member N (0: let Raft pick)\n"
    "\n"
    "Options:\n"
    "      --server URL[,URL...]  replicas to ask (default: every replica of --dir DIR, else\n"
    "                             $STSD_SERVER); followers forward to the leader\n"
    "      --dir DIR              a cluster made by 'stsctl dev up' (its admin credentials)\n"
    "      --kubeconfig FILE      credentials (and, without --server, the server) from this\n"
    "                             kubeconfig's current context (default $KUBECONFIG)\n"
    "  -o, --output text|json     list format (default text)\n"
    "      --timeout SECONDS      give up after this long without an answer, retrying other\n"
    "                             replicas meanwhile (default 30)\n"
    "  -h, --help                 show this help and exit\n";

/* The arguments of every members command. */
struct members_args {
	const char *server;
	const char *dir;
	const char *kubeconfig;
	const char *output;
	const char *raft_address;
	const char *api_address;
	long id; /* -1: not given */
	long timeout_ms;
};

static bool is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* 1 parsed, 0 not an option of ours, -1 bad (reported). */
static int parse_option(int argc, char **argv, int *i, struct members_args *a)
{
	const char *id, *t;
	int rv;

	if ((rv = cli_option(argc, argv, i, "--server", &a->server)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--dir", &a->dir)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--kubeconfig", &a->kubeconfig)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--output", &a->output)) != 0 ||
	    (rv = cli_option(argc, argv, i, "-o", &a->output)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--raft-address", &a->raft_address)) != 0 ||
	    (rv = cli_option(argc, argv, i, "--api-address", &a->api_address)) != 0)
		return rv;
	if ((rv = cli_option(argc, argv, i, "--id", &id)) == 1 &&
	    !cli_parse_int(id, 0, 1000000, &a->id)) {
		fprintf(stderr, "stsctl members: bad --id '%s'\n", id);
		return -1;
	}
	if (rv != 0)
		return rv;
	if ((rv = cli_option(argc, argv, i, "--timeout", &t)) == 1 &&
	    !cli_parse_duration(t, &a->timeout_ms)) {
		fprintf(stderr, "stsctl members: bad --timeout '%s' (seconds)\n", t);
		return -1;
	}
	return rv;
}

/* An exit status (0 go on, 2 usage error) or -1 after --help. */
static int parse_args(int argc, char **argv, struct members_args *a)
{
	*a = (struct members_args){.output = "text", .id = -1, .timeout_ms = 30000};
	for (int i = 0; i < argc; i++) {
		int rv;

		if (is_help(argv[i])) {
			fputs(usage, stdout);
			return -1;
		}
		if ((rv = parse_option(argc, argv, &i, a)) == 1)
			continue;
		if (rv == 0)
			fprintf(stderr, "stsctl members: unexpected argument '%s'\n", argv[i]);
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(a->output, "text") != 0 && strcmp(a->output, "json") != 0) {
		fprintf(stderr, "stsctl members: -o must be text or json, not '%s'\n", a->output);
		return 2;
	}
	return 0;
}

/* One member's view of Raft from its /debug/raft, merged into m; role "unreachable" when it
 * does not answer. */
static void add_raft_view(json_t *m)
{
	struct client_options o = {.timeout_ms = 1000, .deadline_ms = 1000, .max_attempts = 1};
	const char *api = json_string_value(json_object_get(m, "apiAddress"));
	static const char *const keys[] = {"role",         "term",        "leaderId",
	                                   "appliedIndex", "commitIndex", "digest"};
	struct client *c = NULL;
	json_t *raft = NULL;
	char err[256];

	if (api == NULL || cli_connect_one(api, &o, &c, err, sizeof err) != STSD_OK ||
	    client_get_json(c, "/debug/raft", &raft) != STSD_OK || !json_is_object(raft)) {
		json_object_set_new(m, "role", json_string("unreachable"));
	} else {
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (json_object_get(raft, keys[k]) != NULL)
				json_object_set(m, keys[k], json_object_get(raft, keys[k]));
	}
	json_decref(raft);
	client_destroy(c);
}

/* An integer field as text, "-" when absent. */
static const char *num(json_t *m, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(m, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	return buf;
}

static const char *str(json_t *m, const char *key)
{
	const char *s = json_string_value(json_object_get(m, key));

	return s != NULL ? s : "-";
}

static void print_table(json_t *members)
{
	char id[24], term[24], applied[24];
	json_t *m;
	size_t i;

	printf("%-4s  %-21s  %-21s  %-11s  %-6s  %s\n", "ID", "RAFT ADDRESS", "API ADDRESS", "ROLE",
	       "TERM", "APPLIED");
	json_array_foreach(members, i, m)
	{
		printf("%-4s  %-21s  %-21s  %-11s  %-6s  %s\n", num(m, "id", id, sizeof id),
		       str(m, "raftAddress"), str(m, "apiAddress"), str(m, "role"),
		       num(m, "term", term, sizeof term),
		       num(m, "appliedIndex", applied, sizeof applied));
	}
}

static int list(struct client *c, const struct members_args *a)
{
	json_t *doc = NULL, *members, *m;
	size_t i;

	if (client_get_json(c, "/stsd/v1/members", &doc) != STSD_OK) {
		fprintf(stderr, "stsctl members: %s\n", client_errmsg(c));
		return 1;
	}
	if (!json_is_array(members = json_object_get(doc, "members"))) {
		fprintf(stderr, "stsctl members: the server's answer has no \"members\" array\n");
		json_decref(doc);
		return 1;
	}
	json_array_foreach(members, i, m) add_raft_view(m);
	if (strcmp(a->output, "json") == 0) {
		json_dumpf(members, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_table(members);
	}
	json_decref(doc);
	return 0;
}

/* Send one membership change; print the server's message on failure. */
static int change(struct client *c, const char *what, const char *method, const char *path,
                  json_t *body)
{
	int rv = client_json(c, method, path, body, NULL);

	json_decref(body);
	if (rv == STSD_OK)
		return 0;
	fprintf(stderr, "stsctl members %s: %s\n", what, client_errmsg(c));
	return 1;
}

static int add(struct client *c, const struct members_args *a)
{
	json_t *body = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)a->id, "raftAddress",
	                         a->raft_address, "apiAddress", a->api_address);

	if (change(c, "add", "POST", "/stsd/v1/members", body) != 0)
		return 1;
	printf("member %ld added as a voter (raft %s, api %s)\n", a->id, a->raft_address,
	       a->api_address);
	return 0;
}

static int remove_member(struct client *c, const struct members_args *a)
{
	char path[64];

	snprintf(path, sizeof path, "/stsd/v1/members/%ld", a->id);
	if (change(c, "remove", "DELETE", path, NULL) != 0)
		return 1;
	printf("member %ld removed\n", a->id);
	return 0;
}

static int transfer(struct client *c, const struct members_args *a)
{
	char path[64];

	snprintf(path, sizeof path, "/stsd/v1/members/%ld/transfer", a->id);
	if (change(c, "transfer", "POST", path, NULL) != 0)
		return 1;
	if (a->id > 0)
		printf("leadership transferred to member %ld\n", a->id);
	else
		printf("leadership transferred\n");
	return 0;
}

/* Which arguments a command needs: an exit status, 2 with a message when one is missing. */
static int check_needs(const char *cmd, const struct members_args *a)
{
	bool change = strcmp(cmd, "list") != 0;

	if (change && a->id < 0)
		fprintf(stderr, "stsctl members %s: --id N is required\n", cmd);
	else if (change && a->id == 0 && strcmp(cmd, "transfer") != 0)
		fprintf(stderr, "stsctl members %s: --id must be at least 1\n", cmd);
	else if (strcmp(cmd, "add") == 0 && (a->raft_address == NULL || a->api_address == NULL))
		fprintf(stderr,
		        "stsctl members add: --raft-address and --api-address are required\n");
	else if (strcmp(cmd, "add") != 0 && (a->raft_address != NULL || a->api_address != NULL))
		fprintf(stderr, "stsctl members %s: --raft-address and --api-address are for add\n",
		        cmd);
	else
		return 0;
	fputs(usage, stderr);
	return 2;
}

int stsctl_members(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct client *c, const struct members_args *a);
	} commands[] = {
	    {"list", list}, {"add", add}, {"remove", remove_member}, {"transfer", transfer}};
	struct client_options o = {0};
	struct members_args a;
	struct client *c;
	size_t k = 0;
	int rv;

	if (argc > 0 && argv[0][0] != '-') {
		for (k = 0; k < sizeof commands / sizeof commands[0]; k++)
			if (strcmp(argv[0], commands[k].name) == 0)
				break;
		if (k == sizeof commands / sizeof commands[0]) {
			fprintf(stderr, "stsctl members: unknown command '%s'\n%s", argv[0], usage);
			return 2;
		}
		argc--, argv++;
	}
	if ((rv = parse_args(argc, argv, &a)) != 0)
		return rv < 0 ? 0 : rv;
	o.deadline_ms = a.timeout_ms;
	if ((rv = check_needs(commands[k].name, &a)) != 0 ||
	    (rv = cli_connect("stsctl members", a.server, a.dir, a.kubeconfig, &o, &c)) != 0)
		return rv;
	rv = commands[k].run(c, &a);
	client_destroy(c);
	return rv;
}
