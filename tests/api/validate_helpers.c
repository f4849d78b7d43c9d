/* validate_helpers.c — helpers of the validation tests (validate_helpers.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate_helpers.h"

json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (v == NULL)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

typedef void (*defaults_fn)(json_t *);
typedef void (*validate_fn)(json_t *, json_t *, struct api_invalid *);

/* Defaults (if any) then validation of obj (and old); the causes stay in inv. */
void run(defaults_fn d, validate_fn v, json_t *obj, json_t *old, struct api_invalid *inv)
{
	memset(inv, 0, sizeof *inv);
	if (d)
		d(obj);
	if (d && old)
		d(old);
	v(obj, old, inv);
}

void dump(const struct api_invalid *inv)
{
	size_t i;
	json_t *c;

	json_array_foreach(inv->causes, i, c)
	{
		print_message("  cause: %s | %s | %s\n",
		              json_string_value(json_object_get(c, "field")),
		              json_string_value(json_object_get(c, "reason")),
		              json_string_value(json_object_get(c, "message")));
	}
}

/* Whether a cause has this field, reason and a message starting with prefix (NULL: any). */
bool has(const struct api_invalid *inv, const char *field, const char *reason, const char *prefix)
{
	size_t i;
	json_t *c;

	json_array_foreach(inv->causes, i, c)
	{
		const char *f = json_string_value(json_object_get(c, "field"));
		const char *r = json_string_value(json_object_get(c, "reason"));
		const char *m = json_string_value(json_object_get(c, "message"));
		if (strcmp(f, field) == 0 && strcmp(r, reason) == 0 &&
		    (prefix == NULL || strncmp(m, prefix, strlen(prefix)) == 0))
			return true;
	}
	return false;
}

const char *str_at(json_t *obj, const char *path)
{
	return json_string_value(json_object_get(obj, path));
}

/* obj at a dotted path with [n] indexes ("spec.template.spec.containers[0].image"). */
json_t *at(json_t *obj, const char *path)
{
	char buf[256], *save = NULL, *part;

	snprintf(buf, sizeof buf, "%s", path);
	for (part = strtok_r(buf, ".", &save); part && obj; part = strtok_r(NULL, ".", &save)) {
		char *br = strchr(part, '[');
		if (br) {
			*br = '\0';
			obj = json_array_get(json_object_get(obj, part), strtoul(br + 1, NULL, 10));
		} else {
			obj = json_object_get(obj, part);
		}
	}
	return obj;
}

const char *S(json_t *obj, const char *path)
{
	return json_string_value(at(obj, path));
}

long long I(json_t *obj, const char *path)
{
	json_t *v = at(obj, path);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return (long long)json_integer_value(v);
}

/* Set a member at a dotted path (parents must exist) to value (stolen). */
void set(json_t *obj, const char *path, json_t *value)
{
	char buf[256], *dot;

	snprintf(buf, sizeof buf, "%s", path);
	dot = strrchr(buf, '.');
	if (dot) {
		*dot = '\0';
		obj = at(obj, buf);
	}
	assert_true(json_is_object(obj));
	json_object_set_new(obj, dot ? dot + 1 : buf, value);
}
