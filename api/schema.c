/* schema.c — checking an object against its schema: wrong types and unknown fields, with paths.
 * The schemas themselves are in schemas_*.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

const struct api_schema api_schema_string = {SCH_STRING, NULL, NULL};
const struct api_schema api_schema_int = {SCH_INT, NULL, NULL};
const struct api_schema api_schema_bool = {SCH_BOOL, NULL, NULL};
const struct api_schema api_schema_any = {SCH_ANY, NULL, NULL};
const struct api_schema api_schema_time = {SCH_TIME, NULL, NULL};
const struct api_schema api_schema_string_map = {SCH_MAP, NULL, &api_schema_string};
const struct api_schema api_schema_string_list = {SCH_ARRAY, NULL, &api_schema_string};

static const char *type_name(enum schema_type t)
{
	static const char *const names[] = {
	    "any",   "string", "integer", "boolean",           "object",   "object",
	    "array", "string", "string",  "integer or string", "quantity", "number"};
	return names[t];
}

const char *api_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static bool base64_ok(const char *s)
{
	size_t n = strlen(s), pad = 0;

	if (n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		             (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

/* resource.Quantity's grammar: a signed decimal number, then a binary (Ki..Ei) or decimal (n, u,
 * m, k, M..E) suffix or a decimal exponent (k8s.io/apimachinery/pkg/api/resource ParseQuantity). */
static bool quantity_ok(const char *s)
{
	static const char *const suffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
	                                       "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	size_t digits = 0, dots = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; isdigit((unsigned char)*s) || *s == '.'; s++)
		*s == '.' ? dots++ : digits++;
	if (digits == 0 || dots > 1)
		return false;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (strcmp(s, suffixes[i]) == 0)
			return true;
	if (*s != 'e' && *s != 'E')
		return false;
	s++;
	if (*s == '+' || *s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool type_ok(enum schema_type t, json_t *v)
{
	switch (t) {
	case SCH_ANY:
		return true;
	case SCH_STRING:
	case SCH_TIME:
		return json_is_string(v);
	case SCH_BASE64:
		return json_is_string(v) && base64_ok(json_string_value(v));
	case SCH_INT:
		return json_is_integer(v);
	case SCH_INT_OR_STRING:
		return json_is_integer(v) || json_is_string(v);
	case SCH_QUANTITY:
		return json_is_number(v) ||
		       (json_is_string(v) && quantity_ok(json_string_value(v)));
	case SCH_NUMBER:
		return json_is_number(v);
	case SCH_BOOL:
		return json_is_boolean(v);
	case SCH_OBJECT:
	case SCH_MAP:
		return json_is_object(v);
	case SCH_ARRAY:
		return json_is_array(v);
	}
	return false;
}

static const struct api_field *field_find(const struct api_field *f, const char *name)
{
	for (; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void check(const struct api_schema *sch, json_t *v, const char *path,
                  struct schema_report *rep);

static void note_unknown(struct schema_report *rep, const char *path)
{
	if (rep->n_unknown < sizeof rep->unknown / sizeof rep->unknown[0])
		snprintf(rep->unknown[rep->n_unknown], sizeof rep->unknown[0], "%s", path);
	rep->n_unknown++;
}

static void join(char *out, size_t len, const char *path, const char *key)
{
	snprintf(out, len, "%s%s%s", path, *path ? "." : "", key);
}

static void check_object(const struct api_schema *sch, json_t *v, const char *path,
                         struct schema_report *rep)
{
	const char *key;
	json_t *child;
	char sub[512];

	json_object_foreach(v, key, child)
	{
		const struct api_field *f =
		    sch->type == SCH_OBJECT ? field_find(sch->fields, key) : NULL;
		join(sub, sizeof sub, path, key);
		if (sch->type == SCH_MAP)
			check(sch->item, child, sub, rep);
		else if (f == NULL)
			note_unknown(rep, sub);
		else
			check(f->schema, child, sub, rep);
	}
}

static void check(const struct api_schema *sch, json_t *v, const char *path,
                  struct schema_report *rep)
{
	size_t i;
	json_t *item;
	char sub[512];

	if (rep->type_error[0] || json_is_null(v)) /* null is every type's zero value */
		return;
	if (!type_ok(sch->type, v)) {
		snprintf(rep->type_error, sizeof rep->type_error, "%s: expected %s, got %s",
		         *path ? path : "the object", type_name(sch->type), api_json_type_name(v));
		if (sch->type == SCH_BASE64 && json_is_string(v))
			snprintf(rep->type_error, sizeof rep->type_error, "%s: illegal base64 data",
			         path);
		if (sch->type == SCH_QUANTITY && json_is_string(v))
			snprintf(rep->type_error, sizeof rep->type_error,
			         "%s: quantities must match the regular expression "
			         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
			         path);
		return;
	}
	if (sch->type == SCH_OBJECT || sch->type == SCH_MAP)
		check_object(sch, v, path, rep);
	else if (sch->type == SCH_ARRAY)
		json_array_foreach(v, i, item)
		{
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			check(sch->item, item, sub, rep);
		}
}

void api_schema_check(const struct api_schema *sch, json_t *v, struct schema_report *report)
{
	memset(report, 0, sizeof *report);
	check(sch, v, "", report);
}
