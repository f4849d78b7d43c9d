/* fuzz_strategic_patch.c — libFuzzer target for api_strategic_patch (and the merge and JSON patches
 * on the same input). Input: original JSON, a NUL byte or the first newline, patch JSON. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_schemas.h"
#include "patch.h"

static json_t *parse(const uint8_t *data, size_t len)
{
	return json_loadb((const char *)data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* The result must encode (no dangling or cyclic values) and leave the inputs untouched. */
static void check(const json_t *orig, const json_t *orig_copy, const json_t *patch,
                  const json_t *patch_copy, json_t *out)
{
	if ((orig && !json_equal(orig, orig_copy)) || !json_equal(patch, patch_copy))
		abort();
	if (out) {
		char *s = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!s)
			abort();
		free(s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, '\0', size);
	json_t *orig, *patch, *orig_copy, *patch_copy, *out = NULL;
	char err[256];
	int bad;

	if (!sep)
		sep = memchr(data, '\n', size);
	if (!sep)
		return 0;
	orig = parse(data, (size_t)(sep - data));
	patch = parse(sep + 1, size - (size_t)(sep - data) - 1);
	if (!patch) {
		json_decref(orig);
		return 0;
	}
	orig_copy = json_deep_copy(orig);
	patch_copy = json_deep_copy(patch);

	if (api_strategic_patch(orig, patch, &fuzz_schema_statefulset, &out, err, sizeof err) ==
	    0) {
		/* Applying the same patch to its own result must not fail on directives. */
		json_t *again = NULL;
		check(orig, orig_copy, patch, patch_copy, out);
		api_strategic_patch(out, patch, &fuzz_schema_statefulset, &again, err, sizeof err);
		json_decref(again);
	}
	check(orig, orig_copy, patch, patch_copy, out);
	json_decref(out);
	out = NULL;

	api_strategic_patch(orig, patch, NULL, &out, err, sizeof err);
	check(orig, orig_copy, patch, patch_copy, out);
	json_decref(out);
	out = NULL;

	api_merge_patch(orig, patch, &out, err, sizeof err);
	check(orig, orig_copy, patch, patch_copy, out);
	json_decref(out);
	out = NULL;

	api_json_patch(orig, patch, &out, &bad, err, sizeof err);
	check(orig, orig_copy, patch, patch_copy, out);
	json_decref(out);

	json_decref(orig);
	json_decref(patch);
	json_decref(orig_copy);
	json_decref(patch_copy);
	return 0;
}
