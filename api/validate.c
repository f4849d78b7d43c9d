/* validate.c — field errors gathered into 422 Invalid answers (messages as Kubernetes words them),
 * name rules, and the validation and defaulting hooks of the resources in the table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "hooks.h"
#include "validate_util.h"

#define CONFIGMAP_MAX_BYTES (1024 * 1024)

void api_invalid_add(struct api_invalid *inv, const char *reason, const char *field,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (inv->causes == NULL)
		inv->causes = json_array();
	json_array_append_new(inv->causes, json_pack("{s:s,s:s,s:s}", "reason", reason, "message",
	                                             msg, "field", field));
	if (inv->n++ == 0)
		snprintf(inv->first, sizeof inv->first, "%s: %s", field, msg);
}

void api_invalid_value(struct api_invalid *inv, const char *field, const char *value,
                       const char *why)
{
	api_invalid_add(inv, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", value, why);
}

void api_invalid_free(struct api_invalid *inv)
{
	json_decref(inv->causes);
	memset(inv, 0, sizeof *inv);
}

void api_fail_invalid(struct api_req *r, const char *kind, const char *name,
                      struct api_invalid *inv)
{
	struct api_buf all = {0};
	size_t i;
	json_t *c;

	json_array_foreach(inv->causes, i, c)
	{
		api_buf_printf(&all, "%s%s: %s", i ? ", " : "",
		               json_string_value(json_object_get(c, "field")),
		               json_string_value(json_object_get(c, "message")));
	}
	api_fail(r, API_INVALID,
	         json_pack("{s:s,s:s,s:O}", "name", name, "kind", kind, "causes", inv->causes),
	         inv->n > 1 ? "%s \"%s\" is invalid: [%s]" : "%s \"%s\" is invalid: %s", kind, name,
	         inv->n > 1 ? (all.data ? all.data : "") : inv->first);
	api_buf_free(&all);
	api_invalid_free(inv);
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-1123 label: lower-case alphanumerics and '-', alphanumeric at both ends. */
static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !alnum(s[0]) || !alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

const char *api_check_name(const char *name, unsigned max)
{
	size_t n = strlen(name);

	if (max <= 63) {
		if (n > 63)
			return "must be no more than 63 characters";
		if (!label_ok(name, n))
			return "a lowercase RFC 1123 label must consist of lower case alphanumeric "
			       "characters or '-', and must start and end with an alphanumeric "
			       "character (e.g. 'my-name',  or '123-abc', regex used for validation "
			       "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
		return NULL;
	}
	if (n > max)
		return "must be no more than 253 characters";
	for (const char *p = name;;) {
		size_t part = strcspn(p, ".");
		if (!label_ok(p, part))
			return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
			       "characters, '-' or '.', and must start and end with an alphanumeric "
			       "character (e.g. 'example.com', regex used for validation is "
			       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
		if (p[part] == '\0')
			return NULL;
		p += part + 1;
	}
}

/* ---- ConfigMap ------------------------------------------------------------------------------- */

static bool config_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 253 || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Keys of one map, and the bytes of its values (base64 decodes to 3/4 of its length). */
static size_t check_keys(json_t *map, const char *field, json_t *other, struct api_invalid *inv,
                         bool base64)
{
	const char *k;
	json_t *v;
	size_t bytes = 0;
	char path[512];

	json_object_foreach(map, k, v)
	{
		snprintf(path, sizeof path, "%s[%s]", field, k);
		if (!config_key_ok(k))
			api_invalid_value(
			    inv, path, k,
			    "a valid config key must consist of alphanumeric characters, "
			    "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
			    "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
		else if (other && json_object_get(other, k))
			api_invalid_value(inv, path, k, "duplicate of key present in binaryData");
		if (json_is_string(v))
			bytes += base64 ? json_string_length(v) / 4 * 3 : json_string_length(v);
	}
	return bytes;
}

static bool same(json_t *a, json_t *b)
{
	return (a == NULL && b == NULL) || (a && b && json_equal(a, b));
}

void api_configmap_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *data = json_object_get(obj, "data"), *bin = json_object_get(obj, "binaryData");
	size_t bytes = check_keys(data, "data", bin, inv, false) +
	               check_keys(bin, "binaryData", NULL, inv, true);

	v_meta(inv, obj);

	if (bytes > CONFIGMAP_MAX_BYTES)
		api_invalid_add(inv, "FieldValueTooLong", "[]",
		                "Too long: must have at most %d bytes", CONFIGMAP_MAX_BYTES);
	if (old == NULL || !json_is_true(json_object_get(old, "immutable")))
		return;
	if (!same(data, json_object_get(old, "data")))
		api_invalid_add(inv, "FieldValueForbidden", "data",
		                "Forbidden: field is immutable when `immutable` is set");
	if (!same(bin, json_object_get(old, "binaryData")))
		api_invalid_add(inv, "FieldValueForbidden", "binaryData",
		                "Forbidden: field is immutable when `immutable` is set");
	if (!json_is_true(json_object_get(obj, "immutable")))
		api_invalid_add(inv, "FieldValueForbidden", "immutable",
		                "Forbidden: field is immutable when `immutable` is set");
}

/* ---- Namespace ------------------------------------------------------------------------------- */

void api_namespace_defaults(json_t *obj)
{
	/* Namespaces are deleted at once here (no Terminating phase): they are always Active. */
	json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
}
