/* patch_internal.h — what the two files of the strategic merge patch share (patch_strategic.c:
 * objects and directives; patch_strategic_list.c: lists). Not for other modules. */
#ifndef STSD_API_PATCH_INTERNAL_H
#define STSD_API_PATCH_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "schema.h"

#define D_PATCH  "$patch"
#define D_RETAIN "$retainKeys"
#define D_ORDER  "$setElementOrder"
#define D_DELETE "$deleteFromPrimitiveList"

/* One strategic merge in progress. */
struct api_smp {
	int code; /* the first error */
	char *err;
	size_t errlen;
	unsigned depth;
	char path[256]; /* where the merge is, for messages: "spec.template.spec.containers[0]" */
	size_t plen;
};

/* Record the first error (prefixed with the path) and return its code. */
int api_smp_fail(struct api_smp *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int api_smp_nomem(struct api_smp *c);
/* Append ".key" (key != NULL) or "[index]" to the path; returns what api_smp_path_pop restores. */
size_t api_smp_path_push(struct api_smp *c, const char *key, size_t index);
void api_smp_path_pop(struct api_smp *c, size_t saved);

/* Merge any patch value into orig (any value or NULL, stolen): a new reference, or NULL with the
 * error in c. Types that differ: the patch wins. */
json_t *api_smp_merge_value(struct api_smp *c, json_t *orig, const json_t *patch,
                            const struct api_schema *sch);
/* Merge list patch into orig (an array or NULL, stolen) as the schema says. */
json_t *api_smp_merge_list(struct api_smp *c, json_t *orig, const json_t *patch,
                           const struct api_schema *sch);
/* "$setElementOrder/<field>": order (from the patch) for orig's field, merged with the patch's
 * list of that name first; fsch is the field's schema. */
int api_smp_element_order(struct api_smp *c, json_t *orig, const json_t *patch, const char *field,
                          const json_t *order, const struct api_schema *fsch);
/* "$deleteFromPrimitiveList/<field>": drop values from orig's field. */
int api_smp_delete_from_list(struct api_smp *c, json_t *orig, const char *field,
                             const json_t *values);

#endif
