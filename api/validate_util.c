/* validate_util.c — typed JSON reads, Kubernetes-worded field errors and the apimachinery name,
 * label, port and address rules (k8s.io/apimachinery/pkg/util/validation/validation.go,
 * pkg/apis/meta/v1/validation/validation.go), shared by the validate_*.c hooks. */
#include "validate_util.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void v_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- Typed access -----------------------------------------------------------------------------
 */

const char *v_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool v_int(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

json_t *v_obj(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_object(v) ? v : NULL;
}

json_t *v_arr(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_array(v) ? v : NULL;
}

bool v_has(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v != NULL && !json_is_null(v);
}

bool v_str_empty(const json_t *obj, const char *key)
{
	const char *s = v_str(obj, key);
	return s == NULL || *s == '\0';
}

static bool absent(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v == NULL || json_is_null(v);
}

void v_default_str(json_t *obj, const char *key, const char *val)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(obj) &&
	    (absent(obj, key) || (json_is_string(v) && !*json_string_value(v))))
		json_object_set_new(obj, key, json_string(val));
}

void v_default_int(json_t *obj, const char *key, json_int_t val)
{
	if (json_is_object(obj) && absent(obj, key))
		json_object_set_new(obj, key, json_integer(val));
}

void v_default_bool(json_t *obj, const char *key, bool val)
{
	if (json_is_object(obj) && absent(obj, key))
		json_object_set_new(obj, key, json_boolean(val));
}

json_t *v_default_obj(json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	if (absent(obj, key))
		json_object_set_new(obj, key, json_object());
	return v_obj(obj, key);
}

/* ---- Field errors -----------------------------------------------------------------------------
 */

/* Go's strconv.Quote for the ASCII cases: quotes, backslashes and control bytes escaped. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (len < 8)
		return "\"\"";
	buf[n++] = '"';
	for (; s && *s && n + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n') {
			n += (size_t)snprintf(buf + n, len - n, "\\n");
		} else if (c == '\t') {
			n += (size_t)snprintf(buf + n, len - n, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

void v_required(struct api_invalid *inv, const char *path, const char *detail)
{
	if (detail && *detail)
		api_invalid_add(inv, "FieldValueRequired", path, "Required value: %s", detail);
	else
		api_invalid_add(inv, "FieldValueRequired", path, "Required value");
}

void v_invalid(struct api_invalid *inv, const char *path, const char *value, const char *why)
{
	char q[300];
	v_invalid_raw(inv, path, quote(value, q, sizeof q), why);
}

void v_invalid_int(struct api_invalid *inv, const char *path, int64_t value, const char *why)
{
	char n[32];

	snprintf(n, sizeof n, "%lld", (long long)value);
	v_invalid_raw(inv, path, n, why);
}

void v_invalid_raw(struct api_invalid *inv, const char *path, const char *raw, const char *why)
{
	if (why && *why)
		api_invalid_add(inv, "FieldValueInvalid", path, "Invalid value: %s: %s", raw, why);
	else
		api_invalid_add(inv, "FieldValueInvalid", path, "Invalid value: %s", raw);
}

void v_unsupported(struct api_invalid *inv, const char *path, const char *value,
                   const char *const *supported)
{
	struct api_buf b = {0};
	char q[300];

	api_buf_printf(&b, "Unsupported value: %s: supported values: ", quote(value, q, sizeof q));
	for (size_t i = 0; supported[i]; i++)
		api_buf_printf(&b, "%s\"%s\"", i ? ", " : "", supported[i]);
	api_invalid_add(inv, "FieldValueNotSupported", path, "%s", b.data ? b.data : "");
	api_buf_free(&b);
}

void v_forbidden(struct api_invalid *inv, const char *path, const char *detail)
{
	api_invalid_add(inv, "FieldValueForbidden", path, "Forbidden: %s", detail);
}

void v_duplicate(struct api_invalid *inv, const char *path, const char *value)
{
	char q[300];
	api_invalid_add(inv, "FieldValueDuplicate", path, "Duplicate value: %s",
	                quote(value, q, sizeof q));
}

void v_not_found(struct api_invalid *inv, const char *path, const char *value)
{
	char q[300];
	api_invalid_add(inv, "FieldValueNotFound", path, "Not found: %s",
	                quote(value, q, sizeof q));
}

void v_too_long(struct api_invalid *inv, const char *path, long max)
{
	api_invalid_add(inv, "FieldValueTooLong", path, "Too long: must have at most %ld bytes",
	                max);
}

bool v_one_of(const char *value, const char *const *list)
{
	for (size_t i = 0; value && list[i]; i++)
		if (strcmp(value, list[i]) == 0)
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *v_go_map(const json_t *map, char *buf, size_t len)
{
	size_t n = json_is_object(map) ? json_object_size(map) : 0, i = 0, off;
	const char **keys = n ? calloc(n, sizeof *keys) : NULL;
	const char *k;
	json_t *v;

	if (!json_is_object(map) || (n && keys == NULL)) {
		snprintf(buf, len, "map[string]string(nil)");
		free(keys);
		return buf;
	}
	json_object_foreach((json_t *)map, k, v) keys[i++] = k;
	qsort(keys, n, sizeof *keys, cmp_str);
	off = (size_t)snprintf(buf, len, "map[string]string{");
	for (i = 0; i < n && off < len; i++) {
		char qk[300], qv[300];
		off += (size_t)snprintf(buf + off, len - off, "%s%s:%s", i ? ", " : "",
		                        quote(keys[i], qk, sizeof qk),
		                        quote(v_str(map, keys[i]), qv, sizeof qv));
	}
	if (off < len)
		snprintf(buf + off, len - off, "}");
	free(keys);
	return buf;
}

/* ---- Names ------------------------------------------------------------------------------------
 */

#define DNS1123_LABEL_MSG                                                                            \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and " \
	"must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "   \
	"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1123_SUBDOMAIN_MSG                                                                         \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "  \
	"'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used " \
	"for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define DNS1035_LABEL_MSG                                                                            \
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an " \
	"alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "         \
	"'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_MSG                                                                                   \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an " \
	"alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "      \
	"validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                             \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or " \
	"'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "          \
	"'my_value',  or '12345', regex used for validation is "                                    \
	"'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define CONFIG_KEY_MSG                                                                       \
	"a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. " \
	"'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "          \
	"'[-._a-zA-Z0-9]+')"

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool label_chars(const char *s, size_t n)
{
	if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool subdomain_chars(const char *s)
{
	for (;;) {
		size_t part = strcspn(s, ".");
		if (!label_chars(s, part))
			return false;
		if (s[part] == '\0')
			return true;
		s += part + 1;
	}
}

static bool max_len(struct api_invalid *inv, const char *path, const char *value, size_t max)
{
	char why[64];

	if (strlen(value) <= max)
		return true;
	snprintf(why, sizeof why, "must be no more than %zu characters", max);
	v_invalid(inv, path, value, why);
	return false;
}

bool v_dns_label(struct api_invalid *inv, const char *path, const char *value)
{
	bool ok = max_len(inv, path, value, 63);

	if (!label_chars(value, strlen(value))) {
		v_invalid(inv, path, value, DNS1123_LABEL_MSG);
		ok = false;
	}
	return ok;
}

bool v_dns_subdomain(struct api_invalid *inv, const char *path, const char *value)
{
	bool ok = max_len(inv, path, value, 253);

	if (!subdomain_chars(value)) {
		v_invalid(inv, path, value, DNS1123_SUBDOMAIN_MSG);
		ok = false;
	}
	return ok;
}

bool v_dns1035_label(struct api_invalid *inv, const char *path, const char *value)
{
	bool ok = max_len(inv, path, value, 63);

	if (!label_chars(value, strlen(value)) || !(value[0] >= 'a' && value[0] <= 'z')) {
		v_invalid(inv, path, value, DNS1035_LABEL_MSG);
		ok = false;
	}
	return ok;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over n bytes. */
static bool qname_chars(const char *s, size_t n)
{
	if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

bool v_qualified_name(struct api_invalid *inv, const char *path, const char *value)
{
	const char *slash = strchr(value, '/'), *name = value;
	size_t before = inv->n;

	if (slash && strchr(slash + 1, '/')) {
		v_invalid(
		    inv, path, value,
		    "a qualified name " QNAME_MSG
		    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
		return false;
	}
	if (slash) {
		char prefix[300];
		snprintf(prefix, sizeof prefix, "%.*s", (int)(slash - value), value);
		name = slash + 1;
		if (*prefix == '\0')
			v_invalid(inv, path, value, "prefix part must be non-empty");
		else if (strlen(prefix) > 253)
			v_invalid(inv, path, value,
			          "prefix part must be no more than 253 characters");
		else if (!subdomain_chars(prefix))
			v_invalid(inv, path, value, "prefix part " DNS1123_SUBDOMAIN_MSG);
	}
	if (*name == '\0')
		v_invalid(inv, path, value, "name part must be non-empty");
	else if (strlen(name) > 63)
		v_invalid(inv, path, value, "name part must be no more than 63 characters");
	if (!qname_chars(name, strlen(name)))
		v_invalid(inv, path, value, "name part " QNAME_MSG);
	return inv->n == before;
}

bool v_label_value(struct api_invalid *inv, const char *path, const char *value)
{
	bool ok = max_len(inv, path, value, 63);

	if (*value && !qname_chars(value, strlen(value))) {
		v_invalid(inv, path, value, LABEL_VALUE_MSG);
		ok = false;
	}
	return ok;
}

bool v_config_key(struct api_invalid *inv, const char *path, const char *value)
{
	bool ok = max_len(inv, path, value, 253);
	size_t n = strlen(value);

	for (size_t i = 0; i <= n; i++) {
		char c = value[i];
		if (n == 0 || (c && !alnum(c) && c != '-' && c != '_' && c != '.')) {
			v_invalid(inv, path, value, CONFIG_KEY_MSG);
			ok = false;
			break;
		}
	}
	if (strcmp(value, ".") == 0)
		v_invalid(inv, path, value, "must not be '.'");
	else if (strcmp(value, "..") == 0)
		v_invalid(inv, path, value, "must not be '..'");
	else if (strncmp(value, "..", 2) == 0)
		v_invalid(inv, path, value, "must not start with '..'");
	return ok && strcmp(value, ".") != 0 && strncmp(value, "..", 2) != 0;
}

bool v_port_name(struct api_invalid *inv, const char *path, const char *value)
{
	size_t n = strlen(value), before = inv->n;
	bool charset = n > 0, letter = false;

	max_len(inv, path, value, 15);
	for (size_t i = 0; i < n; i++) {
		charset = charset && (lower_alnum(value[i]) || value[i] == '-');
		letter = letter || (value[i] >= 'a' && value[i] <= 'z');
	}
	if (!charset)
		v_invalid(inv, path, value,
		          "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
	if (!letter)
		v_invalid(inv, path, value, "must contain at least one letter (a-z)");
	if (strstr(value, "--"))
		v_invalid(inv, path, value, "must not contain consecutive hyphens");
	if (n > 0 && (value[0] == '-' || value[n - 1] == '-'))
		v_invalid(inv, path, value, "must not begin or end with a hyphen");
	return inv->n == before;
}

bool v_port_num(struct api_invalid *inv, const char *path, int64_t port)
{
	if (port >= 1 && port <= 65535)
		return true;
	v_invalid_int(inv, path, port, "must be between 1 and 65535, inclusive");
	return false;
}

void v_port_num_or_name(struct api_invalid *inv, const char *path, const json_t *v)
{
	if (json_is_integer(v))
		v_port_num(inv, path, (int64_t)json_integer_value(v));
	else if (json_is_string(v))
		v_port_name(inv, path, json_string_value(v));
	else
		v_port_num(inv, path, 0);
}

bool v_ip(struct api_invalid *inv, const char *path, const char *value)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, value, buf) == 1 || inet_pton(AF_INET6, value, buf) == 1)
		return true;
	v_invalid(inv, path, value,
	          "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
	return false;
}

bool v_cidr(struct api_invalid *inv, const char *path, const char *value)
{
	char ip[64];
	unsigned char buf[16];
	const char *slash = strchr(value, '/');
	char *end;
	long bits;
	int family = 0;

	if (slash && (size_t)(slash - value) < sizeof ip) {
		snprintf(ip, sizeof ip, "%.*s", (int)(slash - value), value);
		family = inet_pton(AF_INET, ip, buf) == 1    ? 32
		         : inet_pton(AF_INET6, ip, buf) == 1 ? 128
		                                             : 0;
		bits = strtol(slash + 1, &end, 10);
		if (family && slash[1] >= '0' && slash[1] <= '9' && *end == '\0' && bits >= 0 &&
		    bits <= family)
			return true;
	}
	v_invalid(inv, path, value,
	          "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
	return false;
}

void v_nonneg(struct api_invalid *inv, const char *path, const json_t *obj, const char *key)
{
	int64_t v;

	if (v_int(obj, key, &v) && v < 0)
		v_invalid_int(inv, path, v, "must be greater than or equal to 0");
}

const char *v_quantity_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.15g", json_real_value(v));
	else
		snprintf(buf, len, "%s", "");
	return buf;
}

bool v_quantity(struct api_invalid *inv, const char *path, const json_t *v, struct api_quantity *q)
{
	char text[128];

	if (api_quantity_from_json(v, q) == 0)
		return true;
	v_invalid(inv, path, v_quantity_text(v, text, sizeof text), API_QUANTITY_SYNTAX);
	return false;
}

/* ---- metav1 -----------------------------------------------------------------------------------
 */

void v_labels(struct api_invalid *inv, const char *path, const json_t *labels)
{
	const char *k;
	json_t *v;

	if (!json_is_object(labels))
		return;
	json_object_foreach((json_t *)labels, k, v)
	{
		v_qualified_name(inv, path, k);
		if (json_is_string(v))
			v_label_value(inv, path, json_string_value(v));
	}
}

#define ANNOTATIONS_MAX (256 * 1024)

void v_annotations(struct api_invalid *inv, const char *path, const json_t *annotations)
{
	const char *k;
	json_t *v;
	size_t total = 0;

	if (!json_is_object(annotations))
		return;
	json_object_foreach((json_t *)annotations, k, v)
	{
		char lower[320];
		size_t i;
		/* Qualified names, but case does not matter (apimachinery ValidateAnnotations). */
		for (i = 0; k[i] && i + 1 < sizeof lower; i++)
			lower[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] - 'A' + 'a' : k[i]);
		lower[i] = '\0';
		if (strlen(k) >= sizeof lower - 1)
			v_invalid(inv, path, k, "name part must be no more than 63 characters");
		else
			v_qualified_name(inv, path, lower);
		total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
	}
	if (total > ANNOTATIONS_MAX)
		v_too_long(inv, path, ANNOTATIONS_MAX);
}

static void selector_requirement(struct api_invalid *inv, const char *path, const json_t *req)
{
	static const char *const set_ops[] = {"In", "NotIn", NULL};
	static const char *const exist_ops[] = {"Exists", "DoesNotExist", NULL};
	const char *op = v_str(req, "operator"), *key = v_str(req, "key");
	json_t *values = v_arr(req, "values");
	size_t nvalues = values ? json_array_size(values) : 0, i;
	char p[V_PATH];
	json_t *val;

	if (v_one_of(op, set_ops) && nvalues == 0) {
		v_pathf(p, sizeof p, "%s.values", path);
		v_required(inv, p, "must be specified when `operator` is 'In' or 'NotIn'");
	} else if (v_one_of(op, exist_ops) && nvalues > 0) {
		v_pathf(p, sizeof p, "%s.values", path);
		v_forbidden(inv, p,
		            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
	} else if (!v_one_of(op, set_ops) && !v_one_of(op, exist_ops)) {
		v_pathf(p, sizeof p, "%s.operator", path);
		v_invalid(inv, p, op ? op : "", "not a valid selector operator");
	}
	v_pathf(p, sizeof p, "%s.key", path);
	v_qualified_name(inv, p, key ? key : "");
	json_array_foreach(values, i, val)
	{
		v_pathf(p, sizeof p, "%s.values[%zu]", path, i);
		if (json_is_string(val))
			v_label_value(inv, p, json_string_value(val));
	}
}

void v_label_selector(struct api_invalid *inv, const char *path, const json_t *sel)
{
	char p[V_PATH];
	json_t *exprs = v_arr(sel, "matchExpressions"), *e;
	size_t i;

	if (!json_is_object(sel))
		return;
	v_pathf(p, sizeof p, "%s.matchLabels", path);
	v_labels(inv, p, v_obj(sel, "matchLabels"));
	json_array_foreach(exprs, i, e)
	{
		v_pathf(p, sizeof p, "%s.matchExpressions[%zu]", path, i);
		selector_requirement(inv, p, e);
	}
}

void v_meta(struct api_invalid *inv, const json_t *obj)
{
	json_t *meta = v_obj(obj, "metadata");

	v_labels(inv, "metadata.labels", v_obj(meta, "labels"));
	v_annotations(inv, "metadata.annotations", v_obj(meta, "annotations"));
}

/* ---- Semantic equality ------------------------------------------------------------------------
 */

static bool zero(const json_t *v)
{
	return v == NULL || json_is_null(v) || json_is_false(v) ||
	       (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_integer(v) && json_integer_value(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0);
}

static bool members_in(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)a, k, v)
	{
		if (!v_semantic_equal(v, json_object_get(b, k)))
			return false;
	}
	return true;
}

bool v_semantic_equal(const json_t *a, const json_t *b)
{
	if (zero(a) && zero(b))
		return true;
	if (a == NULL || b == NULL)
		return false;
	if (json_is_object(a) && json_is_object(b))
		return members_in(a, b) && members_in(b, a);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!v_semantic_equal(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}
