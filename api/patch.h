/* patch.h — the three patch formats of the Kubernetes API, as pure functions over jansson values:
 * JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch (Kubernetes'
 * merge keys from the schema and the directives $patch, $setElementOrder, $retainKeys,
 * $deleteFromPrimitiveList). None modifies its inputs.
 *
 * Errors: 0 (STSD_OK) or STSD_INVALID with a message in err that can be shown to the client as it
 * is (Kubernetes answers these 422 or 400, see each function). */
#ifndef STSD_API_PATCH_H
#define STSD_API_PATCH_H

#include <jansson.h>
#include <stddef.h>

#include "schema.h"

/* Apply RFC 6902 operations (add, remove, replace, move, copy, test) in patch (an array) to doc;
 * *out is a new value. A failed test or a bad path is STSD_INVALID (Kubernetes: 422 for a failed
 * test or missing path, 400 for a malformed patch: *bad_request tells which). */
int api_json_patch(const json_t *doc, const json_t *patch, json_t **out, int *bad_request,
                   char *err, size_t errlen);
/* RFC 7386: objects merge recursively, null removes, anything else replaces. patch must be a JSON
 * object (else STSD_INVALID). *out is a new value. */
int api_merge_patch(const json_t *doc, const json_t *patch, json_t **out, char *err, size_t errlen);
/* Strategic merge patch of doc with patch (an object) following sch (may be NULL or SCH_ANY, then
 * lists replace and maps merge, as a merge patch). *out is a new value. */
int api_strategic_patch(const json_t *doc, const json_t *patch, const struct api_schema *sch,
                        json_t **out, char *err, size_t errlen);

#endif
