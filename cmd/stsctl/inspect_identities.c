/* inspect_identities.c — `stsctl inspect identities DATA_DIR`: the identity checker
 * (identity_check.h) over a replica's store, read offline. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "identity_check.h"
#include "store.h"
#include "stsctl.h"

static const char cmd[] = "stsctl inspect identities";

int stsctl_inspect_identities(int argc, char **argv)
{
	struct idcheck_result res = {0};
	struct store_reader *r;
	const char *dir, *format;
	char path[4096];
	struct store *s;
	int rv;

	if ((rv = inspect_args(cmd, argc, argv, &dir, &format)) != 0)
		return rv < 0 ? 0 : rv;
	if ((rv = inspect_open(cmd, dir, &s, path, sizeof path)) != 0)
		return rv;
	if ((rv = store_read_begin(s, &r)) == STSD_OK) {
		rv = idcheck_run(r, &res);
		store_read_end(r);
	}
	store_close(s);
	if (rv != STSD_OK) {
		fprintf(stderr, "%s: %s: %s\n", cmd, stsd_strerror(rv), store_errmsg(NULL));
		idcheck_result_free(&res);
		return 1;
	}
	if (strcmp(format, "json") == 0) {
		json_t *j = idcheck_result_json(&res);
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		idcheck_print_text(&res, stdout);
	}
	rv = json_array_size(res.violations) > 0 ? 1 : 0;
	idcheck_result_free(&res);
	return rv;
}
