/* patch_json.c — JSON patch (RFC 6902, with RFC 6901 pointers) and JSON merge patch (RFC 7386). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "patch.h"

/* The API server refuses JSON patches with more operations (maxJSONPatchOperations in
 * k8s.io/apiserver's patch handler). */
#define JP_MAX_OPS 10000
/* A copy may double the document, so many copies blow up memory exponentially; like json-patch's
 * AccumulatedCopySizeLimit, stop once this many values were copied in all. */
#define JP_MAX_COPIED (1ul << 18)
/* Moves and copies can nest the document deeper than any parser (jansson's stops at 2048) would
 * read it back. */
#define JP_MAX_DEPTH 2000
/* Merge patch recursion, as in patch_strategic.c. */
#define MP_MAX_DEPTH 1000

struct jp {
	char *err;
	size_t errlen;
	int *bad_request;
	size_t index; /* of the operation being applied */
	size_t copied;
};

/* A parsed JSON pointer: n unescaped reference tokens (in buf). */
struct ptr {
	const char *text;
	char *buf;
	char **tok;
	size_t n;
};

static int failv(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int failv(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	return STSD_INVALID;
}

/* A malformed operation: 400. */
static int bad(struct jp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct jp *c, const char *fmt, ...)
{
	va_list ap;

	*c->bad_request = 1;
	va_start(ap, fmt);
	failv(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return STSD_INVALID;
}

/* An operation that does not apply to this document: 422. */
static int unapplicable(struct jp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int unapplicable(struct jp *c, const char *fmt, ...)
{
	va_list ap;

	*c->bad_request = 0;
	va_start(ap, fmt);
	failv(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return STSD_INVALID;
}

static int nomem(struct jp *c)
{
	if (c->errlen)
		snprintf(c->err, c->errlen, "out of memory");
	return STSD_NOMEM;
}

/* ---- Pointers -------------------------------------------------------------------------------- */

static void ptr_free(struct ptr *p)
{
	free(p->buf);
	free(p->tok);
}

/* Unescape one token in place (~0 is ~, ~1 is /); false when another ~ escape appears. */
static bool unescape(char *t)
{
	char *w = t;

	for (const char *r = t; *r; r++) {
		if (*r != '~') {
			*w++ = *r;
			continue;
		}
		if (r[1] != '0' && r[1] != '1')
			return false;
		*w++ = r[1] == '0' ? '~' : '/';
		r++;
	}
	*w = '\0';
	return true;
}

static int ptr_parse(struct jp *c, const json_t *v, const char *member, struct ptr *p)
{
	const char *s = json_string_value(v);
	size_t n = 0;
	char *w;

	*p = (struct ptr){s, NULL, NULL, 0};
	if (!s)
		return bad(c, "operation %zu: missing %s", c->index, member);
	if (strlen(s) != json_string_length(v) || (s[0] && s[0] != '/'))
		return bad(c, "operation %zu: invalid JSON pointer in %s: %s", c->index, member, s);
	for (const char *q = s; *q; q++)
		n += *q == '/';
	if (!(p->buf = malloc(strlen(s) + 1)) || !(p->tok = calloc(n + 1, sizeof *p->tok))) {
		ptr_free(p);
		return nomem(c);
	}
	/* Each token goes to buf with its NUL in place of the next '/': buf is large enough. */
	w = p->buf;
	for (const char *q = s; *q == '/';) {
		const char *t = q + 1;
		size_t len = strcspn(t, "/");
		memcpy(w, t, len);
		w[len] = '\0';
		if (!unescape(w)) {
			ptr_free(p);
			return bad(c, "operation %zu: invalid escape in JSON pointer %s", c->index,
			           s);
		}
		p->tok[p->n++] = w;
		w += strlen(w) + 1;
		q = t + len;
	}
	return 0;
}

/* An array index token: digits without leading zeros (RFC 6901). */
static bool parse_index(const char *s, size_t *out)
{
	size_t v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 18)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* The value at the first n tokens, or NULL. */
static json_t *walk(json_t *v, char *const *tok, size_t n)
{
	size_t ix;

	for (size_t i = 0; i < n && v; i++) {
		if (json_is_object(v))
			v = json_object_get(v, tok[i]);
		else if (json_is_array(v) && parse_index(tok[i], &ix))
			v = json_array_get(v, ix);
		else
			v = NULL;
	}
	return v;
}

/* ---- Operations ------------------------------------------------------------------------------ */

static int missing(struct jp *c, const char *op, const struct ptr *p)
{
	return unapplicable(c, "%s operation does not apply: doc is missing path: %s", op, p->text);
}

/* Put value (stolen) at p: add (an object member set or added, an array item inserted or
 * appended with "-"), or replace (the member or item must exist). */
static int op_put(struct jp *c, json_t **root, const struct ptr *p, json_t *value, bool replace)
{
	const char *op = replace ? "replace" : "add";
	json_t *parent;
	const char *last;
	size_t ix;

	if (!value)
		return nomem(c);
	if (p->n == 0) {
		json_decref(*root);
		*root = value;
		return 0;
	}
	parent = walk(*root, p->tok, p->n - 1);
	last = p->tok[p->n - 1];
	if (json_is_object(parent) && (!replace || json_object_get(parent, last)))
		return json_object_set_new(parent, last, value) ? nomem(c) : 0;
	if (json_is_array(parent) && !replace && strcmp(last, "-") == 0)
		return json_array_append_new(parent, value) ? nomem(c) : 0;
	if (json_is_array(parent) && parse_index(last, &ix) &&
	    ix + (replace ? 1 : 0) <= json_array_size(parent))
		return (replace ? json_array_set_new(parent, ix, value)
		                : json_array_insert_new(parent, ix, value))
		           ? nomem(c)
		           : 0;
	json_decref(value);
	return missing(c, op, p);
}

static int op_add(struct jp *c, json_t **root, const struct ptr *p, json_t *value)
{
	return op_put(c, root, p, value, false);
}

/* Remove the value at p; *removed (if not NULL) gets it. */
static int op_remove(struct jp *c, json_t **root, const struct ptr *p, const char *op,
                     json_t **removed)
{
	json_t *parent, *v;
	const char *last;
	size_t ix;

	if (p->n == 0)
		return unapplicable(c,
		                    "%s operation does not apply: cannot remove the whole "
		                    "document",
		                    op);
	parent = walk(*root, p->tok, p->n - 1);
	last = p->tok[p->n - 1];
	if (json_is_object(parent) && (v = json_object_get(parent, last))) {
		if (removed)
			*removed = json_incref(v);
		json_object_del(parent, last);
		return 0;
	}
	if (json_is_array(parent) && parse_index(last, &ix) && ix < json_array_size(parent)) {
		if (removed)
			*removed = json_incref(json_array_get(parent, ix));
		json_array_remove(parent, ix);
		return 0;
	}
	return missing(c, op, p);
}

static int op_replace(struct jp *c, json_t **root, const struct ptr *p, json_t *value)
{
	return op_put(c, root, p, value, true);
}

/* Whether to lies inside from (a proper descendant). */
static bool inside(const struct ptr *from, const struct ptr *to)
{
	if (to->n <= from->n)
		return false;
	for (size_t i = 0; i < from->n; i++)
		if (strcmp(from->tok[i], to->tok[i]) != 0)
			return false;
	return true;
}

static int op_move(struct jp *c, json_t **root, const struct ptr *from, const struct ptr *to)
{
	json_t *v = NULL;
	int rc;

	if (!walk(*root, from->tok, from->n))
		return missing(c, "move", from);
	if (strcmp(from->text, to->text) == 0)
		return 0;
	if (inside(from, to))
		return unapplicable(c, "move operation does not apply: %s is inside %s", to->text,
		                    from->text);
	if ((rc = op_remove(c, root, from, "move", &v)))
		return rc;
	return op_add(c, root, to, v);
}

/* Count values in v, stopping past limit. */
static size_t count_values(const json_t *v, size_t limit)
{
	size_t n = 1, i;
	const char *k;
	json_t *child;

	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, child)
		{
			if (n > limit)
				break;
			n += count_values(child, limit - n);
		}
	else if (json_is_array(v))
		json_array_foreach(v, i, child)
		{
			if (n > limit)
				break;
			n += count_values(child, limit - n);
		}
	return n;
}

static int op_copy(struct jp *c, json_t **root, const struct ptr *from, const struct ptr *to)
{
	json_t *v = walk(*root, from->tok, from->n);

	if (!v)
		return missing(c, "copy", from);
	c->copied += count_values(v, JP_MAX_COPIED);
	if (c->copied > JP_MAX_COPIED)
		return unapplicable(c,
		                    "copy operation does not apply: the copies exceed %lu values "
		                    "in all",
		                    JP_MAX_COPIED);
	return op_add(c, root, to, json_deep_copy(v));
}

static int op_test(struct jp *c, json_t **root, const struct ptr *p, const json_t *value)
{
	json_t *v = walk(*root, p->tok, p->n);

	if (!v)
		return missing(c, "test", p);
	if (!json_equal(v, value))
		return unapplicable(c, "testing value %s failed: test failed", p->text);
	return 0;
}

/* Apply one operation (op, an element of the patch) to *root. */
static int apply_op(struct jp *c, json_t **root, const json_t *op)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const json_t *value = json_object_get(op, "value");
	struct ptr path = {0}, from = {0};
	bool needs_value, needs_from;
	int rc;

	if (!json_is_object(op))
		return bad(c, "operation %zu is not an object", c->index);
	if (!name)
		return bad(c, "operation %zu: missing op", c->index);
	needs_value = !strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test");
	needs_from = !strcmp(name, "move") || !strcmp(name, "copy");
	if (!needs_value && !needs_from && strcmp(name, "remove") != 0)
		return bad(c, "operation %zu: unexpected op: %s", c->index, name);
	if (needs_value && !value)
		return bad(c, "operation %zu: %s needs a value", c->index, name);
	if ((rc = ptr_parse(c, json_object_get(op, "path"), "path", &path)))
		return rc;
	if (needs_from && (rc = ptr_parse(c, json_object_get(op, "from"), "from", &from))) {
		ptr_free(&path);
		return rc;
	}
	if (!strcmp(name, "add"))
		rc = op_add(c, root, &path, json_deep_copy(value));
	else if (!strcmp(name, "remove"))
		rc = op_remove(c, root, &path, "remove", NULL);
	else if (!strcmp(name, "replace"))
		rc = op_replace(c, root, &path, json_deep_copy(value));
	else if (!strcmp(name, "test"))
		rc = op_test(c, root, &path, value);
	else if (!strcmp(name, "move"))
		rc = op_move(c, root, &from, &path);
	else
		rc = op_copy(c, root, &from, &path);
	ptr_free(&path);
	ptr_free(&from);
	return rc;
}

/* Whether v nests deeper than max (counting v as level 1). */
static bool too_deep(const json_t *v, unsigned max)
{
	const char *k;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (max == 0)
		return true;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, child)
		{
			if (too_deep(child, max - 1))
				return true;
		}
	} else {
		json_array_foreach(v, i, child)
		{
			if (too_deep(child, max - 1))
				return true;
		}
	}
	return false;
}

int api_json_patch(const json_t *doc, const json_t *patch, json_t **out, int *bad_request,
                   char *err, size_t errlen)
{
	int dummy;
	struct jp c = {err, errlen, bad_request ? bad_request : &dummy, 0, 0};
	json_t *root, *op;
	int rc;

	*out = NULL;
	*c.bad_request = 0;
	if (errlen)
		err[0] = '\0';
	if (!json_is_array(patch))
		return bad(&c, "a JSON patch must be a list of operations");
	if (json_array_size(patch) > JP_MAX_OPS)
		return bad(&c, "the allowed maximum operations in a JSON patch is %d, got %zu",
		           JP_MAX_OPS, json_array_size(patch));
	if (!(root = doc ? json_deep_copy(doc) : json_null()))
		return nomem(&c);
	json_array_foreach(patch, c.index, op)
	{
		if ((rc = apply_op(&c, &root, op))) {
			json_decref(root);
			return rc;
		}
	}
	if (too_deep(root, JP_MAX_DEPTH)) {
		json_decref(root);
		return unapplicable(&c, "the patched object is nested more than %d levels deep",
		                    JP_MAX_DEPTH);
	}
	*out = root;
	return 0;
}

/* ---- Merge patch ----------------------------------------------------------------------------- */

/* RFC 7386 MergePatch(target, patch); target (any value or NULL) is stolen. */
static json_t *merge(json_t *target, const json_t *patch, unsigned depth, int *rc)
{
	const char *k;
	json_t *v;

	if (!json_is_object(patch)) {
		json_decref(target);
		if (!(v = json_deep_copy(patch)))
			*rc = STSD_NOMEM;
		return v;
	}
	if (depth >= MP_MAX_DEPTH) {
		json_decref(target);
		*rc = STSD_INVALID;
		return NULL;
	}
	if (!json_is_object(target)) {
		json_decref(target);
		if (!(target = json_object())) {
			*rc = STSD_NOMEM;
			return NULL;
		}
	}
	json_object_foreach((json_t *)patch, k, v)
	{
		if (json_is_null(v)) {
			json_object_del(target, k);
			continue;
		}
		json_t *r = merge(json_incref(json_object_get(target, k)), v, depth + 1, rc);
		if (!r || json_object_set_new_nocheck(target, k, r)) {
			if (r)
				*rc = STSD_NOMEM;
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

int api_merge_patch(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen)
{
	json_t *target = NULL;
	int rc = 0;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!json_is_object(patch)) {
		if (errlen)
			snprintf(err, errlen, "a merge patch must be a JSON object");
		return STSD_INVALID;
	}
	if (doc && !(target = json_deep_copy(doc))) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return STSD_NOMEM;
	}
	if (!(*out = merge(target, patch, 0, &rc)) && errlen)
		snprintf(err, errlen, "%s",
		         rc == STSD_INVALID ? "patch nested too deeply" : "out of memory");
	return *out ? 0 : (rc ? rc : STSD_NOMEM);
}
