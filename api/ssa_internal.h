/* ssa_internal.h — what ssa.c shares with ssa_merge.c: the tree edits of server-side apply. */
#ifndef STSD_API_SSA_INTERNAL_H
#define STSD_API_SSA_INTERNAL_H

#include <jansson.h>

#include "schema.h"

/* live with cfg merged in (a new value; NULL only when out of memory): objects and maps merge,
 * keyed lists and sets merge item by item (shared items in cfg's order, live-only items where
 * they were), anything else (scalars, atomic lists, a change of shape) takes cfg's value. */
json_t *api_ssa_merge(const json_t *live, const json_t *cfg, const struct api_schema *sch);

/* Remove from obj, in place, what the set last holds and nobody owns any more: a field, map
 * entry or list item of last under which owned (every manager's set, the new Apply set and the
 * untracked fields) holds nothing goes whole; containers the removal empties go too; a list
 * item keeps its merge key while it stays. */
void api_ssa_prune(json_t *obj, const struct api_schema *sch, const json_t *last,
                   const json_t *owned);

#endif
