/* selector_field.c — field selectors ("metadata.name=web,status.phase!=Running"): parsed once,
 * checked against the fields a resource answers, matched against objects.
 *
 * Parsing follows k8s.io/apimachinery/pkg/fields/selector.go (v1.32: splitTerms on unescaped
 * commas, terms sorted, splitTerm at the first "!=", "==" or "=", UnescapeValue with \\ \, \=).
 * The check of each field follows the apiserver's Convertor.ConvertFieldLabel: kinds with a
 * conversion function of their own (pkg/apis/core/v1/conversion.go: Pod, Node,
 * ReplicationController, Event, Namespace, Secret, Service) answer
 * "field label not supported: X"; every other kind falls to
 * runtime.DefaultMetaV1FieldSelectorConversion:
 * "\"X\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "selector.h"
#include "selector_internal.h"

struct fs_term {
	char *field; /* as the client named it */
	char *path;  /* dotted JSON path read from the object */
	char *value;
	bool neq;
};

struct api_field_selector {
	struct fs_term *terms;
	size_t n;
};

/* Selectable fields whose JSON path differs from their name (upstream's *ToSelectableFields). */
static const struct {
	const char *kind, *field, *path;
} aliases[] = {
    {"Event", "source", "source.component"},
    {"Event", "reportingComponent", "reportingController"},
    {"Pod", "spec.host", "spec.nodeName"},
};

/* Booleans that upstream renders with strconv.FormatBool, so absent reads "false". */
static const char *const bool_fields[] = {"spec.hostNetwork", "spec.unschedulable"};

/* Kinds whose conversion function words the refusal "field label not supported: X". */
static const char *const own_conversion[] = {
    "Pod", "Node", "ReplicationController", "Event", "Namespace", "Secret", "Service"};

void api_field_selector_free(struct api_field_selector *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->terms[i].field);
		free(f->terms[i].path);
		free(f->terms[i].value);
	}
	free(f->terms);
	free(f);
}

/* ---- Parsing ----------------------------------------------------------------------------------
 */

/* splitTerms: cut at commas not preceded by a backslash; parts point into the copy s. */
static size_t split_terms(char *s, char **parts)
{
	size_t n = 0;
	bool slash = false;

	parts[n++] = s;
	for (; *s; s++) {
		if (slash)
			slash = false;
		else if (*s == '\\')
			slash = true;
		else if (*s == ',') {
			*s = '\0';
			parts[n++] = s + 1;
		}
	}
	return n;
}

static int cmp_part(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* UnescapeValue: \\ \, \= stand for themselves; anything else escaped, or a bare , or =, fails. */
static int unescape(const char *s, char **out, char *err, size_t errlen)
{
	char *o = malloc(strlen(s) + 1), *w = o;

	if ((*out = o) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	for (; *s; s++) {
		if (*s == '\\') {
			if (s[1] != '\\' && s[1] != ',' && s[1] != '=') {
				free(o);
				*out = NULL;
				if (s[1] == '\0')
					return stsd_errf(
					    err, errlen, STSD_INVALID,
					    "invalid field selector: invalid escape sequence: \\");
				return stsd_errf(
				    err, errlen, STSD_INVALID,
				    "invalid field selector: invalid escape sequence: \\%c", s[1]);
			}
			*w++ = *++s;
		} else if (*s == ',' || *s == '=') {
			/* Go prints the rune with %v: its number */
			int r = *s;
			free(o);
			*out = NULL;
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "invalid field selector: unescaped character in value: %d",
			                 r);
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* splitTerm: the first operator, trying "!=", then "==", then "=" at each position. */
static int split_term(struct fs_term *t, char *part, const char *sel, char *err, size_t errlen)
{
	char *p;

	for (p = part; *p; p++) {
		size_t oplen = 0;
		if (strncmp(p, "!=", 2) == 0 || strncmp(p, "==", 2) == 0)
			oplen = 2;
		else if (*p == '=')
			oplen = 1;
		if (oplen == 0)
			continue;
		t->neq = *p == '!';
		if ((t->field = strndup(part, (size_t)(p - part))) == NULL)
			return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
		return unescape(p + oplen, &t->value, err, errlen);
	}
	return stsd_errf(err, errlen, STSD_INVALID, "invalid selector: '%s'; can't understand '%s'",
	                 sel, part);
}

static bool listed(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n && list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* ConvertFieldLabel: accept the field (setting its JSON path) or refuse it as upstream does. */
static int convert(struct fs_term *t, const struct api_resource *res, char *err, size_t errlen)
{
	const char *kind = res != NULL ? res->kind : "";
	const char *path = NULL;
	size_t i;

	if (strcmp(t->field, "metadata.name") == 0 || strcmp(t->field, "metadata.namespace") == 0)
		path = t->field;
	else if (res != NULL && listed(res->field_selectors, 12, t->field))
		path = t->field;
	for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(aliases[i].kind, kind) == 0 && strcmp(aliases[i].field, t->field) == 0)
			path = aliases[i].path;
	if (path != NULL) {
		if ((t->path = strdup(path)) == NULL)
			return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
		return 0;
	}
	if (res != NULL && res->group[0] == '\0' &&
	    listed(own_conversion, sizeof own_conversion / sizeof own_conversion[0], kind))
		return stsd_errf(err, errlen, STSD_INVALID, "field label not supported: %s",
		                 t->field);
	{
		struct api_buf b = {0};
		sel_go_quote(&b, t->field);
		stsd_errf(err, errlen, STSD_INVALID,
		          "%s is not a known field selector: only \"metadata.name\", "
		          "\"metadata.namespace\"",
		          b.data ? b.data : "");
		api_buf_free(&b);
	}
	return STSD_INVALID;
}

static int parse_terms(struct api_field_selector *f, char **parts, size_t n, const char *sel,
                       const struct api_resource *res, char *err, size_t errlen)
{
	size_t i;
	int rc;

	qsort(parts, n, sizeof parts[0], cmp_part);
	if ((f->terms = calloc(n, sizeof f->terms[0])) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (parts[i][0] == '\0')
			continue;
		rc = split_term(&f->terms[f->n++], parts[i], sel, err, errlen);
		if (rc != 0)
			return rc;
	}
	/* all terms parse before any is converted, as upstream transforms the parsed selector */
	for (i = 0; i < f->n; i++)
		if ((rc = convert(&f->terms[i], res, err, errlen)) != 0)
			return rc;
	return 0;
}

int api_field_selector_parse(const char *s, const struct api_resource *res,
                             struct api_field_selector **out, char *err, size_t errlen)
{
	struct api_field_selector *f;
	char *copy = NULL, **parts = NULL;
	size_t n;
	int rc = 0;

	*out = NULL;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	if (s != NULL && *s != '\0') {
		copy = strdup(s);
		parts = calloc(strlen(s) + 2, sizeof *parts);
		if (copy == NULL || parts == NULL)
			rc = stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
		if (rc == 0) {
			n = split_terms(copy, parts);
			rc = parse_terms(f, parts, n, s, res, err, errlen);
		}
	}
	free(copy);
	free(parts);
	if (rc != 0) {
		api_field_selector_free(f);
		sel_utf8_fix(err, errlen); /* the message quotes the input */
		return rc;
	}
	*out = f;
	return 0;
}

/* ---- Matching ---------------------------------------------------------------------------------
 */

/* The object's value at a dotted path as upstream's fields.Set holds it: strings as they are,
 * booleans and integers printed, anything absent "". */
static const char *field_value(const json_t *obj, const char *path, char *buf, size_t len)
{
	const json_t *v = obj;
	const char *p = path;

	while (v != NULL && *p != '\0') {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		v = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
		p += n + (dot ? 1 : 0);
	}
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (listed(bool_fields, sizeof bool_fields / sizeof bool_fields[0], path))
		return "false";
	return "";
}

bool api_field_selector_matches(const struct api_field_selector *f, const json_t *obj)
{
	char buf[32];
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++) {
		const struct fs_term *t = &f->terms[i];
		bool eq = strcmp(field_value(obj, t->path, buf, sizeof buf), t->value) == 0;
		if (eq == t->neq)
			return false;
	}
	return true;
}

const char *api_field_selector_equal(const struct api_field_selector *f, const char *field)
{
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++)
		if (!f->terms[i].neq && strcmp(f->terms[i].field, field) == 0)
			return f->terms[i].value;
	return NULL;
}

const char *api_field_selector_name(const struct api_field_selector *f)
{
	return api_field_selector_equal(f, "metadata.name");
}
