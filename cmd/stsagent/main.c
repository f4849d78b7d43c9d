/* stsagent — the node agent of stsd. The agent arrives with the controller and agent issues;
 * until then this binary only answers --help and --version. */
#include <stdio.h>
#include <string.h>

static const char usage[] = "Usage: stsagent [OPTIONS]\n"
                            "\n"
                            "The node agent of stsd: registers a node and runs its pods.\n"
                            "The agent is not built yet; see README.md for the roadmap.\n"
                            "\n"
                            "Options:\n"
                            "  -h, --help       show this help and exit\n"
                            "      --version    print the version and exit\n";

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("stsagent %s\n", STSD_VERSION);
			return 0;
		}
		fprintf(stderr, "stsagent: unknown option '%s' (try --help)\n", argv[i]);
		return 2;
	}
	fprintf(stderr, "stsagent: the agent is not implemented yet (try --help)\n");
	return 1;
}
