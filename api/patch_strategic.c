/* patch_strategic.c — Kubernetes' strategic merge patch: a merge patch whose lists merge by the
 * schema's merge keys, with the directives $patch, $setElementOrder, $retainKeys and
 * $deleteFromPrimitiveList. This file does objects and directives; patch_strategic_list.c lists.
 *
 * The semantics follow mergeMap, mergeSlice, mergePatchIntoOriginal, normalizeElementOrder and
 * mergeSortedSlice in k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (read through the code
 * search, not copied). Deliberate differences, each safer than upstream and invisible to kubectl:
 * directives never reach the result (upstream copies a patch value verbatim when the original
 * lacks the field and relies on typed decoding to drop them); a value of the wrong type in the
 * original is replaced by the patch instead of failing; items of the original without the merge
 * key are kept as server-only items instead of failing the patch; $retainKeys is honoured wherever
 * it appears (as upstream does), whatever the schema's PATCH_RETAIN_KEYS says. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "patch.h"
#include "patch_internal.h"

/* The merge recurses once per level of the patch; jansson's parser stops at 2048 levels, values
 * built in memory have no limit, so deeper patches are refused rather than risking the stack. */
#define SMP_MAX_DEPTH 1000

/* ---- Errors and paths ------------------------------------------------------------------------ */

int api_smp_fail(struct api_smp *c, int code, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (c->code)
		return c->code;
	c->code = code;
	if (c->errlen == 0)
		return code;
	if (c->plen) /* at most half the message, so that the reason always shows */
		n = snprintf(c->err, c->errlen, "%.*s%s: ", (int)(c->errlen / 2), c->path,
		             c->plen > c->errlen / 2 ? "..." : "");
	if (n < 0 || (size_t)n >= c->errlen)
		return code;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

int api_smp_nomem(struct api_smp *c)
{
	return api_smp_fail(c, STSD_NOMEM, "out of memory");
}

/* Append ".key" (key != NULL) or "[index]" to the path; returns what path_pop restores. */
size_t api_smp_path_push(struct api_smp *c, const char *key, size_t index)
{
	size_t saved = c->plen, room = sizeof c->path - c->plen;
	int n;

	if (key)
		n = snprintf(c->path + c->plen, room, "%s%s", c->plen ? "." : "", key);
	else
		n = snprintf(c->path + c->plen, room, "[%zu]", index);
	if (n > 0)
		c->plen += (size_t)n < room ? (size_t)n : room - 1;
	return saved;
}

void api_smp_path_pop(struct api_smp *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

/* ---- Schema and directives ------------------------------------------------------------------- */

static const struct api_schema *child_of(const struct api_schema *sch, const char *key)
{
	if (!sch)
		return NULL;
	if (sch->type == SCH_MAP)
		return sch->item;
	if (sch->type != SCH_OBJECT || !sch->fields)
		return NULL;
	for (const struct api_field *f = sch->fields; f->name; f++)
		if (strcmp(f->name, key) == 0)
			return f->schema;
	return NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_directive(const char *k)
{
	return k[0] == '$' && (strcmp(k, D_PATCH) == 0 || strcmp(k, D_RETAIN) == 0 ||
	                       has_prefix(k, D_ORDER) || has_prefix(k, D_DELETE));
}

/* The list a "$prefix/<list>" directive names, or NULL (with the error set) when malformed. */
static const char *directive_field(struct api_smp *c, const char *k, const char *prefix)
{
	size_t n = strlen(prefix);

	if (k[n] != '/' || k[n + 1] == '\0') {
		api_smp_fail(c, STSD_INVALID, "invalid directive %s: expected %s/<list>", k,
		             prefix);
		return NULL;
	}
	return k + n + 1;
}

/* Whether patch holds "$setElementOrder/<field>": then the field was merged with the order. */
static bool ordered_by_directive(const json_t *patch, const char *field)
{
	size_t pn = strlen(D_ORDER), fn = strlen(field);
	char stack[256], *k = pn + 1 + fn < sizeof stack ? stack : malloc(pn + fn + 2);
	bool found;

	if (!k)
		return false;
	memcpy(k, D_ORDER, pn);
	k[pn] = '/';
	memcpy(k + pn + 1, field, fn + 1);
	found = json_object_get(patch, k) != NULL;
	if (k != stack)
		free(k);
	return found;
}

/* ---- Directives of an object ----------------------------------------------------------------- */

/* $retainKeys: every field the patch sets must be listed; fields of orig not listed go. */
static int retain_keys(struct api_smp *c, json_t *orig, const json_t *patch)
{
	json_t *list = json_object_get(patch, D_RETAIN), *keep, *v;
	const char *k;
	void *tmp;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return api_smp_fail(c, STSD_INVALID, "invalid patch: %s must be a list", D_RETAIN);
	if (!(keep = json_object()))
		return api_smp_nomem(c);
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) &&
		    json_object_set_new_nocheck(keep, json_string_value(v), json_true())) {
			json_decref(keep);
			return api_smp_nomem(c);
		}
	}
	json_object_foreach((json_t *)patch, k, v)
	{
		if (json_is_null(v) || is_directive(k) || json_object_get(keep, k))
			continue;
		json_decref(keep);
		return api_smp_fail(c, STSD_INVALID, "invalid patch: field %s is not in %s", k,
		                    D_RETAIN);
	}
	json_object_foreach_safe(orig, tmp, k, v)
	{
		if (!json_object_get(keep, k))
			json_object_del(orig, k);
	}
	json_decref(keep);
	return 0;
}

static int element_orders(struct api_smp *c, json_t *orig, const json_t *patch,
                          const struct api_schema *sch)
{
	const char *k, *field;
	json_t *v;

	json_object_foreach((json_t *)patch, k, v)
	{
		if (!has_prefix(k, D_ORDER))
			continue;
		if (!(field = directive_field(c, k, D_ORDER)))
			return c->code;
		size_t saved = api_smp_path_push(c, field, 0);
		int rc = api_smp_element_order(c, orig, patch, field, v, child_of(sch, field));
		api_smp_path_pop(c, saved);
		if (rc)
			return rc;
	}
	return 0;
}

static int delete_from_lists(struct api_smp *c, json_t *orig, const json_t *patch)
{
	const char *k, *field;
	json_t *v;

	json_object_foreach((json_t *)patch, k, v)
	{
		if (!has_prefix(k, D_DELETE))
			continue;
		if (!(field = directive_field(c, k, D_DELETE)) ||
		    api_smp_delete_from_list(c, orig, field, v))
			return c->code;
	}
	return 0;
}

/* ---- Objects --------------------------------------------------------------------------------- */

/* The plain fields of the patch: null deletes, objects and lists merge, the rest replaces. */
static int merge_fields(struct api_smp *c, json_t *orig, const json_t *patch,
                        const struct api_schema *sch)
{
	const char *k;
	json_t *pv;

	json_object_foreach((json_t *)patch, k, pv)
	{
		if (is_directive(k) || ordered_by_directive(patch, k))
			continue;
		if (json_is_null(pv)) {
			json_object_del(orig, k);
			continue;
		}
		size_t saved = api_smp_path_push(c, k, 0);
		json_t *r = api_smp_merge_value(c, json_incref(json_object_get(orig, k)), pv,
		                                child_of(sch, k));
		api_smp_path_pop(c, saved);
		if (!r)
			return c->code;
		if (json_object_set_new_nocheck(orig, k, r))
			return api_smp_nomem(c);
	}
	return 0;
}

/* Upstream's mergeMap. orig (an object or NULL) is stolen. */
static json_t *merge_object(struct api_smp *c, json_t *orig, const json_t *patch,
                            const struct api_schema *sch)
{
	json_t *d = json_object_get(patch, D_PATCH);
	const char *s = json_string_value(d);

	if (d) {
		json_decref(orig);
		orig = NULL;
		if (s && strcmp(s, "delete") == 0) {
			/* Upstream leaves an empty object, not an absent field. */
			if (!(orig = json_object()))
				api_smp_nomem(c);
			return orig;
		}
		if (!s || strcmp(s, "replace") != 0) {
			api_smp_fail(c, STSD_INVALID, "unknown patch type: %s in an object",
			             s ? s : "(not a string)");
			return NULL;
		}
		/* replace: the patch, minus the directive, applied to nothing */
	}
	if (!orig && !(orig = json_object())) {
		api_smp_nomem(c);
		return NULL;
	}
	if (retain_keys(c, orig, patch) || element_orders(c, orig, patch, sch) ||
	    merge_fields(c, orig, patch, sch) || delete_from_lists(c, orig, patch)) {
		json_decref(orig);
		return NULL;
	}
	return orig;
}

/* Merge any patch value into orig (any value or NULL, stolen): a new reference, or NULL with the
 * error in c. Types that differ: the patch wins. */
json_t *api_smp_merge_value(struct api_smp *c, json_t *orig, const json_t *patch,
                            const struct api_schema *sch)
{
	json_t *r;

	if (c->depth >= SMP_MAX_DEPTH) {
		json_decref(orig);
		api_smp_fail(c, STSD_INVALID, "patch nested more than %d levels deep",
		             SMP_MAX_DEPTH);
		return NULL;
	}
	c->depth++;
	if (json_is_object(patch)) {
		if (!json_is_object(orig)) {
			json_decref(orig);
			orig = NULL;
		}
		r = merge_object(c, orig, patch, sch);
	} else if (json_is_array(patch)) {
		if (!json_is_array(orig)) {
			json_decref(orig);
			orig = NULL;
		}
		r = api_smp_merge_list(c, orig, patch, sch);
	} else {
		json_decref(orig);
		if (!(r = json_copy((json_t *)patch)))
			api_smp_nomem(c);
	}
	c->depth--;
	return r;
}

int api_strategic_patch(const json_t *doc, const json_t *patch, const struct api_schema *sch,
                        json_t **out, char *err, size_t errlen)
{
	struct api_smp c = {.err = err, .errlen = errlen};
	json_t *orig = NULL;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!json_is_object(patch))
		return api_smp_fail(&c, STSD_INVALID,
		                    "a strategic merge patch must be a JSON object");
	if (json_is_object(doc) && !(orig = json_deep_copy(doc)))
		return api_smp_nomem(&c);
	*out = merge_object(&c, orig, patch, sch);
	return *out ? 0 : (c.code ? c.code : STSD_NOMEM);
}
