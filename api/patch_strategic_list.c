/* patch_strategic_list.c — the lists of a strategic merge patch: merging by merge key or as a
 * set, the $patch directives of list items, $setElementOrder and $deleteFromPrimitiveList.
 * Upstream: mergeSlice, mergeSliceWithSpecialElements, normalizeElementOrder, mergeSortedSlice,
 * validatePatchWithSetOrderList in k8s.io/apimachinery/pkg/util/strategicpatch/patch.go. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "patch.h"
#include "patch_internal.h"

/* One item of a list being merged, with what ordering it needs. */
struct item {
	json_t *v;  /* owned */
	char *id;   /* identity (see identity()), owned; NULL when the item has none */
	long orig;  /* position in the original list, -1 for an item the patch adds */
	long order; /* position among the patch's (or $setElementOrder's) items, -1: server-only */
	size_t seq; /* makes qsort stable */
};

struct items {
	struct item *a;
	size_t n, cap;
};

/* ---- Schema, identities and indexes ---------------------------------------------------------- */

static const struct api_schema *item_of(const struct api_schema *sch)
{
	return sch && sch->type == SCH_ARRAY ? sch->item : NULL;
}

static bool is_merge_list(const struct api_schema *sch)
{
	return sch && sch->type == SCH_ARRAY && (sch->strategy & PATCH_MERGE);
}

static const char *merge_key_of(const struct api_schema *sch)
{
	return sch && sch->type == SCH_ARRAY ? sch->merge_key : NULL;
}

/* Go decodes every JSON number to float64, so 80 and 80.0 name the same item. */
static bool is_integral(const json_t *v, long long *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	if (!(d >= -9.2e18 && d <= 9.2e18) || (double)(long long)d != d)
		return false;
	*out = (long long)d;
	return true;
}

/* A text equal for values that identify the same list item (merge key values, or primitives of a
 * set). NULL on out of memory; caller frees. */
static char *identity(const json_t *v)
{
	char buf[32];
	long long i;

	if (!v)
		return strdup("<missing>");
	if (is_integral(v, &i)) {
		snprintf(buf, sizeof buf, "%lld", i);
		return strdup(buf);
	}
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
}

static bool key_equal(const json_t *a, const json_t *b)
{
	long long x, y;

	if (json_is_number(a) && json_is_number(b)) {
		if (is_integral(a, &x) && is_integral(b, &y))
			return x == y;
		return json_number_value(a) == json_number_value(b);
	}
	return json_equal(a, b);
}

/* Identity indexes are jansson objects: id -> first position. */
static int index_add(json_t *idx, const char *id, long pos)
{
	if (json_object_get(idx, id))
		return 0;
	return json_object_set_new_nocheck(idx, id, json_integer(pos));
}

static long index_get(const json_t *idx, const char *id)
{
	json_t *v = id ? json_object_get(idx, id) : NULL;
	return v ? (long)json_integer_value(v) : -1;
}

/* Index of the identities of list's items (merge key values when mk): NULL on out of memory. */
static json_t *index_list(const json_t *list, const char *mk)
{
	json_t *idx = json_object(), *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		const json_t *key = mk ? json_object_get(v, mk) : v;
		char *id = key ? identity(key) : NULL;
		if (!idx || (key && (!id || index_add(idx, id, (long)i)))) {
			free(id);
			json_decref(idx);
			return NULL;
		}
		free(id);
	}
	return idx;
}

/* ---- Lists of items -------------------------------------------------------------------------- */

/* Add an item (v and id are owned by the list even on failure). */
static int items_add(struct api_smp *c, struct items *l, json_t *v, char *id, long orig)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct item *a = realloc(l->a, cap * sizeof *a);
		if (!a) {
			json_decref(v);
			free(id);
			return api_smp_nomem(c);
		}
		l->a = a;
		l->cap = cap;
	}
	l->a[l->n] = (struct item){v, id, orig, -1, l->n};
	l->n++;
	return 0;
}

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		json_decref(l->a[i].v);
		free(l->a[i].id);
	}
	free(l->a);
}

static int cmp_order(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_orig(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	unsigned long ao = (unsigned long)a->orig, bo = (unsigned long)b->orig; /* -1 sorts last */

	if (ao != bo)
		return ao < bo ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The list in its final order (upstream's normalizeElementOrder and mergeSortedSlice): items the
 * patch names take the patch's order, server-only items the original's, and when both sequences
 * still have items a server-only item goes first only if the patch item was in the original too,
 * after it. So an item the patch adds lands before the server-only items not yet placed: this is
 * why `kubectl patch` adding a container puts it first. */
static json_t *items_ordered(struct api_smp *c, struct items *l)
{
	struct item *p = malloc((l->n + 1) * sizeof *p), *s = malloc((l->n + 1) * sizeof *s);
	json_t *out = json_array();
	size_t np = 0, ns = 0, i = 0, j = 0;

	if (!p || !s || !out)
		goto oom;
	for (size_t k = 0; k < l->n; k++) {
		if (l->a[k].order >= 0)
			p[np++] = l->a[k];
		else
			s[ns++] = l->a[k];
	}
	qsort(p, np, sizeof *p, cmp_order);
	qsort(s, ns, sizeof *s, cmp_orig);
	while (i < ns || j < np) {
		const struct item *take;
		if (j >= np ||
		    (i < ns && p[j].orig >= 0 && s[i].orig >= 0 && s[i].orig < p[j].orig))
			take = &s[i++];
		else
			take = &p[j++];
		if (json_array_append(out, take->v))
			goto oom;
	}
	free(p);
	free(s);
	return out;
oom:
	free(p);
	free(s);
	json_decref(out);
	api_smp_nomem(c);
	return NULL;
}

/* ---- Lists ----------------------------------------------------------------------------------- */

/* A list the patch replaces: its items, with their directives applied to nothing. */
static json_t *clean_list(struct api_smp *c, const json_t *patch, const struct api_schema *item,
                          bool skip_directives)
{
	json_t *out = json_array(), *v;
	size_t j;

	if (!out) {
		api_smp_nomem(c);
		return NULL;
	}
	json_array_foreach(patch, j, v)
	{
		if (skip_directives && json_is_object(v) && json_object_get(v, D_PATCH))
			continue;
		size_t saved = api_smp_path_push(c, NULL, j);
		json_t *r = api_smp_merge_value(c, NULL, v, item);
		api_smp_path_pop(c, saved);
		if (!r || json_array_append_new(out, r)) {
			json_decref(out);
			if (r)
				api_smp_nomem(c);
			return NULL;
		}
	}
	return out;
}

/* Check a merge-keyed patch list: objects with the merge key; "$patch":"delete" items go into
 * deletes, "$patch":"replace" sets *replace. */
static int scan_keyed_patch(struct api_smp *c, const json_t *patch, const char *mk, json_t *deletes,
                            bool *replace)
{
	json_t *v, *d;
	size_t j;

	json_array_foreach(patch, j, v)
	{
		size_t saved = api_smp_path_push(c, NULL, j);
		const char *s = json_string_value(d = json_object_get(v, D_PATCH));
		char *id;
		if (!json_is_object(v))
			return api_smp_fail(c, STSD_INVALID,
			                    "a list merged by %s must hold objects", mk);
		if ((!d || (s && strcmp(s, "delete") == 0)) && !json_object_get(v, mk))
			return api_smp_fail(c, STSD_INVALID,
			                    "does not contain declared merge key: %s", mk);
		if (!d) {
			api_smp_path_pop(c, saved);
			continue;
		}
		if (s && strcmp(s, "replace") == 0) {
			*replace = true;
		} else if (s && strcmp(s, "delete") == 0) {
			if (!(id = identity(json_object_get(v, mk))) ||
			    index_add(deletes, id, (long)j)) {
				free(id);
				return api_smp_nomem(c);
			}
			free(id);
		} else if (s && strcmp(s, "merge") == 0) {
			return api_smp_fail(c, STSD_INVALID,
			                    "merging lists cannot yet be specified in the patch");
		} else {
			return api_smp_fail(c, STSD_INVALID,
			                    "unknown patch type: %s in a list item",
			                    s ? s : "(not a string)");
		}
		api_smp_path_pop(c, saved);
	}
	return 0;
}

/* The original's items not deleted by the patch, indexed by merge key in idx. Items without the
 * merge key stay, server-only. */
static int keyed_originals(struct api_smp *c, const json_t *orig, const char *mk,
                           const json_t *deletes, json_t *idx, struct items *l)
{
	json_t *v, *key;
	size_t i;

	json_array_foreach(orig, i, v)
	{
		char *id = NULL;
		if ((key = json_object_get(v, mk)) && !(id = identity(key)))
			return api_smp_nomem(c);
		if (id && index_get(deletes, id) >= 0) {
			free(id);
			continue;
		}
		if (items_add(c, l, json_incref(v), id, (long)i))
			return c->code;
		if (id && index_add(idx, id, (long)l->n - 1))
			return api_smp_nomem(c);
	}
	return 0;
}

/* Merge the patch's plain items into l: matching items merge, others are appended. */
static int keyed_patch_items(struct api_smp *c, const json_t *patch, const struct api_schema *sch,
                             json_t *idx, json_t *pidx, struct items *l)
{
	json_t *v;
	size_t j;

	json_array_foreach(patch, j, v)
	{
		if (json_object_get(v, D_PATCH))
			continue;
		char *id = identity(json_object_get(v, sch->merge_key));
		if (!id || index_add(pidx, id, (long)j)) {
			free(id);
			return api_smp_nomem(c);
		}
		long pos = index_get(idx, id);
		size_t saved = api_smp_path_push(c, NULL, j);
		if (pos >= 0) {
			free(id);
			l->a[pos].v = api_smp_merge_value(c, l->a[pos].v, v, sch->item);
			if (!l->a[pos].v)
				return c->code;
		} else {
			json_t *r = api_smp_merge_value(c, NULL, v, sch->item);
			if (!r) {
				free(id);
				return c->code;
			}
			if (items_add(c, l, r, id, -1) ||
			    index_add(idx, l->a[l->n - 1].id, (long)l->n - 1))
				return c->code ? c->code : api_smp_nomem(c);
		}
		api_smp_path_pop(c, saved);
	}
	return 0;
}

/* Upstream's mergeSlice for lists of objects with a merge key. orig (an array or NULL) is
 * stolen. */
static json_t *merge_keyed_list(struct api_smp *c, json_t *orig, const json_t *patch,
                                const struct api_schema *sch)
{
	json_t *deletes = json_object(), *idx = json_object(), *pidx = json_object(), *out = NULL;
	struct items l = {0};
	bool replace = false;

	if (!deletes || !idx || !pidx) {
		api_smp_nomem(c);
		goto done;
	}
	if (scan_keyed_patch(c, patch, sch->merge_key, deletes, &replace))
		goto done;
	if (replace) {
		out = clean_list(c, patch, sch->item, true);
		goto done;
	}
	if ((orig && keyed_originals(c, orig, sch->merge_key, deletes, idx, &l)) ||
	    keyed_patch_items(c, patch, sch, idx, pidx, &l))
		goto done;
	for (size_t k = 0; k < l.n; k++)
		l.a[k].order = index_get(pidx, l.a[k].id);
	out = items_ordered(c, &l);
done:
	items_free(&l);
	json_decref(deletes);
	json_decref(idx);
	json_decref(pidx);
	json_decref(orig);
	return out;
}

/* The original's values of a set, each once. */
static int set_originals(struct api_smp *c, const json_t *orig, json_t *idx, struct items *l)
{
	json_t *v;
	size_t i;

	json_array_foreach(orig, i, v)
	{
		char *id = identity(v);
		if (!id)
			return api_smp_nomem(c);
		if (index_get(idx, id) >= 0) {
			free(id);
			continue;
		}
		if (items_add(c, l, json_incref(v), id, (long)i) ||
		    index_add(idx, id, (long)l->n - 1))
			return c->code ? c->code : api_smp_nomem(c);
	}
	return 0;
}

/* The patch's values not yet in the set, appended; pidx gets each value's patch position. */
static int set_patch_items(struct api_smp *c, const json_t *patch, json_t *idx, json_t *pidx,
                           struct items *l)
{
	json_t *v;
	size_t j;

	json_array_foreach(patch, j, v)
	{
		if (json_is_object(v) || json_is_array(v))
			return api_smp_fail(c, STSD_INVALID,
			                    "a merge list without a merge key must hold "
			                    "primitives, not objects or lists");
		char *id = identity(v);
		if (!id || index_add(pidx, id, (long)j)) {
			free(id);
			return api_smp_nomem(c);
		}
		if (index_get(idx, id) >= 0) {
			free(id);
			continue;
		}
		if (items_add(c, l, json_copy((json_t *)v), id, -1) ||
		    index_add(idx, id, (long)l->n - 1))
			return c->code ? c->code : api_smp_nomem(c);
	}
	return 0;
}

/* A merge list without a merge key (finalizers): an ordered set of primitives. orig (an array or
 * NULL) is stolen. */
static json_t *merge_set_list(struct api_smp *c, json_t *orig, const json_t *patch)
{
	json_t *idx = json_object(), *pidx = json_object(), *out = NULL;
	struct items l = {0};

	if (!idx || !pidx)
		api_smp_nomem(c);
	else if (!set_originals(c, orig, idx, &l) && !set_patch_items(c, patch, idx, pidx, &l)) {
		for (size_t k = 0; k < l.n; k++)
			l.a[k].order = index_get(pidx, l.a[k].id);
		out = items_ordered(c, &l);
	}
	items_free(&l);
	json_decref(idx);
	json_decref(pidx);
	json_decref(orig);
	return out;
}

/* Merge list patch into orig (an array or NULL, stolen) as the schema says. */
json_t *api_smp_merge_list(struct api_smp *c, json_t *orig, const json_t *patch,
                           const struct api_schema *sch)
{
	if (!is_merge_list(sch)) {
		json_decref(orig);
		return clean_list(c, patch, item_of(sch), false);
	}
	if (sch->merge_key)
		return merge_keyed_list(c, orig, patch, sch);
	return merge_set_list(c, orig, patch);
}

/* Upstream's validatePatchWithSetOrderList: the patch's plain items appear in the order list, in
 * the same relative order. */
static int check_order(struct api_smp *c, const json_t *list, const json_t *order, const char *mk)
{
	size_t pi = 0, oi = 0, np = json_array_size(list), no = json_array_size(order);

	while (pi < np && oi < no) {
		const json_t *p = json_array_get(list, pi), *o = json_array_get(order, oi);
		if (json_is_object(p) && json_object_get(p, D_PATCH)) {
			pi++;
			continue;
		}
		if (mk && !json_object_get(p, mk))
			return api_smp_fail(c, STSD_INVALID,
			                    "does not contain declared merge key: %s", mk);
		if (mk ? key_equal(json_object_get(p, mk), json_object_get(o, mk))
		       : key_equal(p, o))
			pi++;
		oi++;
	}
	while (pi < np && json_is_object(json_array_get(list, pi)) &&
	       json_object_get(json_array_get(list, pi), D_PATCH))
		pi++;
	if (pi < np && no > 0)
		return api_smp_fail(c, STSD_INVALID,
		                    "the order of the items in the patch does not match "
		                    "the %s list",
		                    D_ORDER);
	return 0;
}

/* merged (stolen) put in the order of a $setElementOrder list; sidx indexes the original list. */
static json_t *reorder(struct api_smp *c, json_t *merged, const json_t *order, const json_t *sidx,
                       const char *mk)
{
	json_t *oidx = index_list(order, mk), *out = NULL, *v;
	struct items l = {0};
	size_t i;

	if (!oidx) {
		api_smp_nomem(c);
		goto done;
	}
	json_array_foreach(merged, i, v)
	{
		const json_t *key = mk ? json_object_get(v, mk) : v;
		char *id = key ? identity(key) : NULL;
		if ((key && !id) || items_add(c, &l, json_incref(v), id, index_get(sidx, id))) {
			api_smp_nomem(c);
			goto done;
		}
		l.a[l.n - 1].order = index_get(oidx, id);
	}
	out = items_ordered(c, &l);
done:
	items_free(&l);
	json_decref(oidx);
	json_decref(merged);
	return out;
}

/* Upstream's mergePatchIntoOriginal for one "$setElementOrder/<field>": merge the field's list
 * (if the patch has one), then order it. */
int api_smp_element_order(struct api_smp *c, json_t *orig, const json_t *patch, const char *field,
                          const json_t *order, const struct api_schema *fsch)
{
	const char *mk = merge_key_of(fsch);
	json_t *ol = json_object_get(orig, field), *pl = json_object_get(patch, field), *v;
	json_t *sidx, *merged, *r;
	size_t i;

	if (!json_is_array(order))
		return api_smp_fail(c, STSD_INVALID, "invalid patch: %s/%s must be a list", D_ORDER,
		                    field);
	json_array_foreach(order, i, v)
	{
		if (mk && !json_object_get(v, mk))
			return api_smp_fail(c, STSD_INVALID,
			                    "%s/%s: item %zu does not contain declared "
			                    "merge key: %s",
			                    D_ORDER, field, i, mk);
	}
	if (pl && !json_is_array(pl))
		return api_smp_fail(c, STSD_INVALID,
		                    "invalid patch: %s must be a list when %s/%s is given", field,
		                    D_ORDER, field);
	if (!json_is_array(ol))
		ol = NULL; /* a value of another type is replaced, as for any field */
	if ((pl && check_order(c, pl, order, mk)) || (!ol && !pl))
		return c->code;
	if (!(sidx = ol ? index_list(ol, mk) : json_object()))
		return api_smp_nomem(c);
	merged = pl ? api_smp_merge_list(c, json_incref(ol), pl, fsch) : json_incref(ol);
	r = merged ? reorder(c, merged, order, sidx, mk) : NULL;
	json_decref(sidx);
	if (!r)
		return c->code;
	if (json_object_set_new_nocheck(orig, field, r))
		return api_smp_nomem(c);
	return 0;
}

/* "$deleteFromPrimitiveList/<field>": [values] drops those values from the field's list. */
int api_smp_delete_from_list(struct api_smp *c, json_t *orig, const char *field,
                             const json_t *values)
{
	json_t *ol = json_object_get(orig, field), *drop, *out, *v;
	size_t i;

	if (!json_is_array(values))
		return api_smp_fail(c, STSD_INVALID, "invalid patch: %s/%s must be a list",
		                    D_DELETE, field);
	if (!json_is_array(ol))
		return 0;
	if (!(drop = index_list(values, NULL)) || !(out = json_array())) {
		json_decref(drop);
		return api_smp_nomem(c);
	}
	json_array_foreach(ol, i, v)
	{
		char *id = identity(v);
		int rc = !id || (index_get(drop, id) < 0 && json_array_append(out, v));
		free(id);
		if (rc) {
			json_decref(drop);
			json_decref(out);
			return api_smp_nomem(c);
		}
	}
	json_decref(drop);
	if (json_object_set_new_nocheck(orig, field, out))
		return api_smp_nomem(c);
	return 0;
}
