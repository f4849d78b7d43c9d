/* stsd — one replica of the stsd control plane. The server itself arrives with the consensus issue;
 * until then this binary only answers --help and --version. */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: stsd [OPTIONS]\n"
    "\n"
    "One replica of stsd, a highly available StatefulSet control plane.\n"
    "The replicated server is not built yet; see README.md for the roadmap.\n"
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
			printf("stsd %s\n", STSD_VERSION);
			return 0;
		}
		fprintf(stderr, "stsd: unknown option '%s' (try --help)\n", argv[i]);
		return 2;
	}
	fprintf(stderr, "stsd: the server is not implemented yet (try --help)\n");
	return 1;
}
