/* fuzz_decode_validate.c — libFuzzer target: request bodies as JSON through the schema check of
 * the StatefulSet resource, then defaults and validation (on create and as an update of itself)
 * of every resource of the table that has hooks, StatefulSets and Pods first. Nothing may crash,
 * leak or trip the sanitizers, whatever the shape of the input. Corpus: corpus/decode_validate. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api_internal.h"
#include "hooks.h"
#include "schema.h"

static void hooks(void (*defaults)(json_t *),
                  void (*validate)(json_t *, json_t *, struct api_invalid *), const json_t *obj)
{
	json_t *obj_copy = json_deep_copy(obj), *old = json_deep_copy(obj);
	struct api_invalid inv = {0};

	if (defaults) {
		defaults(obj_copy);
		defaults(old);
	}
	if (validate) {
		validate(obj_copy, NULL, &inv);
		api_invalid_free(&inv);
		validate(obj_copy, old, &inv);
		api_invalid_free(&inv);
	}
	json_decref(obj_copy);
	json_decref(old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct api_resource *sts = api_resource_find("apps", "statefulsets");
	const struct api_resource *all;
	struct schema_report report;
	json_t *obj = json_loadb((const char *)data, size, 0, NULL);
	size_t n;

	if (!json_is_object(obj)) {
		json_decref(obj);
		return 0;
	}
	if (sts && sts->schema) {
		memset(&report, 0, sizeof report);
		api_schema_check(sts->schema, obj, &report);
	}
	hooks(api_statefulset_defaults, api_statefulset_validate, obj);
	hooks(api_pod_defaults, api_pod_validate, obj);
	all = api_resources(&n);
	for (size_t i = 0; i < n; i++)
		if (all[i].validate != api_statefulset_validate &&
		    all[i].validate != api_pod_validate)
			hooks(all[i].defaults, all[i].validate, obj);
	json_decref(obj);
	return 0;
}
