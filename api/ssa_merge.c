/* ssa_merge.c — the two tree edits of server-side apply: merging an applied configuration into
 * the live object, and pruning what a manager stopped applying (api/ssa_internal.h).
 *
 * Read from kubernetes-sigs/structured-merge-diff: typed/merge.go (list order),
 * typed/remove.go (emptied maps go), merge/update.go (prune, addBackOwnedItems,
 * addBackDanglingItems); the code is our own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fieldset.h"
#include "ssa_internal.h"

static json_t *merge_object(const json_t *live, const json_t *cfg, const struct api_schema *sch)
{
	json_t *out = json_object(), *c, *o;
	const char *k;

	json_object_foreach((json_t *)live, k, c)
	{
		o = json_object_get(cfg, k);
		json_object_set_new(out, k,
		                    o ? api_ssa_merge(c, o, api_fieldset_child_schema(sch, k))
		                      : json_deep_copy(c));
	}
	json_object_foreach((json_t *)cfg, k, c)
	{
		if (json_object_get(live, k) == NULL)
			json_object_set_new(out, k, json_deep_copy(c));
	}
	return out;
}

/* Path elements of a list's items (NULL for an item that has none) and an index pe -> first
 * position. */
struct named {
	char **pe;
	json_t *idx;
	size_t n;
};

static bool named_init(struct named *nm, const json_t *list, const struct api_schema *sch)
{
	json_t *item;
	size_t i;

	nm->n = json_array_size(list);
	nm->pe = calloc(nm->n ? nm->n : 1, sizeof *nm->pe);
	nm->idx = json_object();
	if (nm->pe == NULL || nm->idx == NULL)
		return false;
	json_array_foreach(list, i, item)
	{
		nm->pe[i] = api_fieldset_item_pe(sch, item);
		if (nm->pe[i] && json_object_get(nm->idx, nm->pe[i]) == NULL)
			json_object_set_new(nm->idx, nm->pe[i], json_integer((json_int_t)i));
	}
	return true;
}

static void named_free(struct named *nm)
{
	for (size_t i = 0; nm->pe && i < nm->n; i++)
		free(nm->pe[i]);
	free(nm->pe);
	json_decref(nm->idx);
}

static bool named_has(const struct named *nm, const char *pe)
{
	return pe != NULL && json_object_get(nm->idx, pe) != NULL;
}

static json_t *named_get(const struct named *nm, const json_t *list, const char *pe)
{
	json_t *at = pe ? json_object_get(nm->idx, pe) : NULL;

	return at ? json_array_get(list, (size_t)json_integer_value(at)) : NULL;
}

/* Merge two keyed lists or sets keeping both orders where they agree: the order of the shared
 * items follows cfg, live-only items stay where they were, cfg-only items come where cfg has
 * them (the walk of typed/merge.go visitListItems). */
static json_t *merge_list(const json_t *live, const json_t *cfg, const struct api_schema *sch)
{
	struct named l = {0}, r = {0};
	json_t *out = json_array();
	size_t li = 0, ri = 0, si = 0, nshared = 0, *shared = NULL, *spos = NULL;

	if (out == NULL || !named_init(&l, live, sch) || !named_init(&r, cfg, sch) ||
	    (shared = calloc(r.n + 1, sizeof *shared)) == NULL ||
	    (spos = calloc(r.n + 1, sizeof *spos)) == NULL)
		goto done;
	for (size_t i = 0; i < r.n; i++) {
		spos[i] = SIZE_MAX;
		if (named_has(&l, r.pe[i]) &&
		    json_integer_value(json_object_get(r.idx, r.pe[i])) == (json_int_t)i) {
			spos[i] = nshared;
			shared[nshared++] = i;
		}
	}
	while (li < l.n || ri < r.n) {
		const char *next = si < nshared ? r.pe[shared[si]] : NULL;
		bool lshared = li < l.n && named_has(&r, l.pe[li]);
		if (li < l.n && ri < r.n) {
			if (l.pe[li] && r.pe[ri] && strcmp(l.pe[li], r.pe[ri]) == 0) {
				json_array_append_new(out, api_ssa_merge(json_array_get(live, li),
				                                         json_array_get(cfg, ri),
				                                         sch->item));
				si = spos[ri] != SIZE_MAX ? spos[ri] + 1 : si;
				li++, ri++;
				continue;
			}
			if (lshared && next && strcmp(next, l.pe[li]) != 0) {
				li++; /* comes later, at its place in cfg */
				continue;
			}
		}
		if (li < l.n && !lshared) {
			json_array_append_new(out, json_deep_copy(json_array_get(live, li++)));
			continue;
		}
		if (ri < r.n) {
			json_array_append_new(out,
			                      api_ssa_merge(named_get(&l, live, r.pe[ri]),
			                                    json_array_get(cfg, ri), sch->item));
			si = spos[ri] != SIZE_MAX ? spos[ri] + 1 : si;
			ri++;
			continue;
		}
		li++; /* a shared item cfg already placed (or a duplicate) */
	}
done:
	named_free(&l);
	named_free(&r);
	free(shared);
	free(spos);
	return out;
}

/* live with cfg merged in: objects and maps merge, keyed lists and sets merge by item, anything
 * else (scalars, atomic lists, a change of shape) takes cfg's value. */
json_t *api_ssa_merge(const json_t *live, const json_t *cfg, const struct api_schema *sch)
{
	if (live == NULL || !api_fieldset_granular(sch, live) || !api_fieldset_granular(sch, cfg) ||
	    json_typeof(live) != json_typeof(cfg))
		return json_deep_copy(cfg);
	if (json_is_object(cfg))
		return merge_object(live, cfg, sch);
	return merge_list(live, cfg, sch);
}

/* ---- Prune ----------------------------------------------------------------------------------- */

static bool has_kids(const json_t *node)
{
	return json_object_size(node) > (json_object_get(node, ".") ? 1u : 0u);
}

static bool empty_value(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static bool prune(json_t *v, const struct api_schema *sch, const json_t *last, const json_t *owned,
                  const char *keep);

/* Prune below one child value; whether anything went. */
static bool prune_child(json_t *child, const struct api_schema *sch, const json_t *last,
                        const json_t *owned, const char *keep)
{
	if (!has_kids(last) || !api_fieldset_granular(sch, child))
		return false;
	return prune(child, sch, last, owned, keep);
}

static bool prune_object(json_t *v, const struct api_schema *sch, const json_t *last,
                         const json_t *owned, const char *keep)
{
	const char *pe;
	json_t *ln, *child, *on;
	bool gone = false;

	json_object_foreach((json_t *)last, pe, ln)
	{
		if (strncmp(pe, "f:", 2) != 0 || (child = json_object_get(v, pe + 2)) == NULL)
			continue;
		if (keep && strcmp(pe + 2, keep) == 0)
			continue; /* an item's merge key names it: it goes with the item only */
		on = owned ? json_object_get(owned, pe) : NULL;
		if (on == NULL) {
			json_object_del(v, pe + 2);
			gone = true;
		} else if (prune_child(child, api_fieldset_child_schema(sch, pe + 2), ln, on,
		                       NULL)) {
			gone = true;
			if (empty_value(child)) /* emptied by the prune: goes too (remove.go) */
				json_object_del(v, pe + 2);
		}
	}
	return gone;
}

static bool prune_list(json_t *v, const struct api_schema *sch, const json_t *last,
                       const json_t *owned)
{
	struct named nm = {0};
	const char *pe;
	json_t *ln, *at, *on;
	bool *del, gone = false;
	size_t i;

	if (!named_init(&nm, v, sch) || (del = calloc(nm.n + 1, sizeof *del)) == NULL) {
		named_free(&nm);
		return false;
	}
	json_object_foreach((json_t *)last, pe, ln)
	{
		if ((at = json_object_get(nm.idx, pe)) == NULL)
			continue;
		i = (size_t)json_integer_value(at);
		on = owned ? json_object_get(owned, pe) : NULL;
		if (on == NULL)
			del[i] = gone = true;
		else if (prune_child(json_array_get(v, i), sch->item, ln, on, sch->merge_key))
			gone = true;
	}
	for (i = nm.n; i-- > 0;)
		if (del[i])
			json_array_remove(v, i);
	free(del);
	named_free(&nm);
	return gone;
}

/* Remove from v (a container of schema sch) what last (the manager's previous Apply set below v)
 * holds and nobody owns any more (owned: the new Apply set and every other manager's set, below
 * v): a field, entry or item nobody owns anything at or below goes whole. */
static bool prune(json_t *v, const struct api_schema *sch, const json_t *last, const json_t *owned,
                  const char *keep)
{
	if (json_is_object(v))
		return prune_object(v, sch, last, owned, keep);
	if (json_is_array(v))
		return prune_list(v, sch, last, owned);
	return false;
}

void api_ssa_prune(json_t *obj, const struct api_schema *sch, const json_t *last,
                   const json_t *owned)
{
	prune(obj, sch, last, owned, NULL);
}
