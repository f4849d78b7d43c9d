/* fieldset.h — sets of field paths (structured-merge-diff's fieldpath.Set) kept in Kubernetes'
 * FieldsV1 form, and the schema walks that make them from objects. Used by server-side apply and
 * managedFields (ssa.c).
 *
 * A set is a JSON object in normalised FieldsV1 form: each key is one path element ("f:name" for
 * a field or map key, "k:{\"name\":\"nginx\"}" for the item of a list merged by key,
 * "v:\"x\"" for the member of a set of primitives, "i:3" for an index), each value the set below
 * it. A value {} is a path that is itself a member and has nothing owned below it; inside a node
 * that has children, the key "." marks the node itself as a member. A node that is not a member
 * and has no children does not appear. The top-level object is the root, never a member: {} is
 * the empty set.
 *
 * Every function returning json_t * returns a new reference (NULL only when out of memory) and
 * never modifies its inputs. Inputs must be sets in this form (api_fieldset_from_* make them). */
#ifndef STSD_API_FIELDSET_H
#define STSD_API_FIELDSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schema.h"

/* How server-side apply treats a list (x-kubernetes-list-type): a PATCH_MERGE list of objects
 * with a merge key is a map keyed by it, a PATCH_MERGE list of primitives is a set, any other
 * list is atomic (owned and replaced whole). */
enum api_list_kind {
	API_LIST_ATOMIC,
	API_LIST_KEYED,
	API_LIST_SET,
};
enum api_list_kind api_fieldset_list_kind(const struct api_schema *sch);

/* The path element naming item in a list of schema sch: "k:{...}" (the merge key's value in
 * compact JSON) for keyed lists, "v:<json>" for sets. NULL when the list is atomic or the item
 * cannot be named (not an object, merge key missing or not a primitive). Caller frees. */
char *api_fieldset_item_pe(const struct api_schema *sch, const json_t *item);

/* The schema of the value under key in a value of schema sch: a field's schema for SCH_OBJECT
 * (NULL for a field the schema does not know, treated as an atomic leaf), .item for SCH_MAP, any
 * for SCH_ANY. NULL sch means unknown. */
const struct api_schema *api_fieldset_child_schema(const struct api_schema *sch, const char *key);

/* Whether a value of schema sch is walked into (an object, a map, a free-form object, a keyed
 * list or a set) rather than treated as one leaf. */
bool api_fieldset_granular(const struct api_schema *sch, const json_t *v);

/* The fields set in v (typed.ToFieldSet): leaves (scalars, atomic lists, values the schema does
 * not know), every map entry and list item as a member, struct fields that hold an empty value.
 * STSD_INVALID with err (".spec.x: ...") for a list item without its merge key or two items
 * with the same key. */
int api_fieldset_from_object(const json_t *v, const struct api_schema *sch, json_t **out, char *err,
                             size_t errlen);

/* Read a FieldsV1 value (as found in managedFields) into a normalised set; path elements of
 * unknown kinds are dropped, as structured-merge-diff does. STSD_INVALID when v is not an object
 * of objects. */
int api_fieldset_from_fieldsv1(const json_t *v, json_t **out, char *err, size_t errlen);

/* The FieldsV1 value of set for managedFields: a copy with keys sorted ("." first, then field
 * names, keys, values, indexes), so equal sets encode equally. */
json_t *api_fieldset_to_fieldsv1(const json_t *set);

json_t *api_fieldset_union(const json_t *a, const json_t *b);
json_t *api_fieldset_difference(const json_t *a, const json_t *b); /* in a, not in b */
json_t *api_fieldset_intersection(const json_t *a, const json_t *b);
bool api_fieldset_empty(const json_t *set);

/* What changed from old to new (typed.Compare), either may be NULL (absent): *changed (new) holds
 * the leaves added or modified and the map entries, list items and list/map fields that were
 * added; *removed (new) the leaves, items and fields that went away. */
int api_fieldset_compare(const json_t *old, const json_t *new, const struct api_schema *sch,
                         json_t **changed, json_t **removed);

/* The member paths of set, as structured-merge-diff prints them (".spec.replicas",
 * ".spec.template.spec.containers[name=\"nginx\"].image", ".metadata.finalizers[=\"x\"]"), in
 * encoding order. A new array of strings. */
json_t *api_fieldset_paths(const json_t *set);

#endif
