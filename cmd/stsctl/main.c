/* stsctl — the stsd admin command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "stsctl.h"

static const char usage[] =
    "Usage: stsctl COMMAND [ARGS]\n"
    "\n"
    "The admin command of stsd, a highly available StatefulSet control plane.\n"
    "\n"
    "Commands:\n"
    "  dev up|down|restart --dir DIR     a local cluster of stsd replicas for development\n"
    "  members [add|remove|transfer]     list or change the Raft members of a cluster\n"
    "  inspect DATA_DIR [-o text|json]   print what a replica's store holds, without a server\n"
    "  inspect identities DATA_DIR       check the store's history: one holder per identity\n"
    "  pki init|issue --dir DIR          the cluster CA and the certificates it signs\n"
    "  rollout pause|resume sts NAME     hold or go on with a StatefulSet's rolling update\n"
    "  version                           print the version\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this help (or a command's, after its name) and exit\n"
    "      --version    print the version and exit\n";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"dev", stsctl_dev}, {"members", stsctl_members}, {"inspect", stsctl_inspect},
    {"pki", stsctl_pki}, {"rollout", stsctl_rollout},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("stsctl %s\n", STSD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "stsctl: unknown command '%s' (try --help)\n", argv[1]);
	return 2;
}
