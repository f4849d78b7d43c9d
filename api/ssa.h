/* ssa.h — server-side apply and managedFields (FieldsV1), as pure functions over jansson values.
 *
 * managedFields entries have Kubernetes' shape: {manager, operation "Apply"|"Update", apiVersion,
 * time, fieldsType "FieldsV1", fieldsV1}; fieldsV1 is the set of owned field paths written as
 * Kubernetes writes it ("f:spec": {"f:replicas": {}}, list items by merge key
 * "k:{\"name\":\"nginx\"}", set members "v:\"x\"", "." for an item itself). */
#ifndef STSD_API_SSA_H
#define STSD_API_SSA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schema.h"

/* Apply cfg (the applied configuration: an object) as manager onto live (NULL when the object is
 * created by this apply), following sch's merge keys. The result *out (new) holds live with cfg's
 * fields merged in, the fields manager applied before but no longer applies removed (unless
 * another manager owns them), and metadata.managedFields updated (manager's Apply entry = exactly
 * cfg's fields). A field of cfg whose value differs from live and that another manager owns is a
 * conflict: unless force, STSD_CONFLICT with *conflicts (new) = [{"manager", "field"}] where field
 * reads ".spec.replicas"; with force, the field moves to manager. STSD_INVALID with err for a
 * malformed cfg. now is RFC 3339; api_version is "apps/v1". */
int api_ssa_apply(const json_t *live, const json_t *cfg, const char *manager, bool force,
                  const struct api_schema *sch, const char *api_version, const char *now,
                  json_t **out, json_t **conflicts, char *err, size_t errlen);

/* Record an ordinary write (create, update, patch) by manager: the fields whose values differ
 * between old (NULL on create: every field) and obj become manager's (its "Update" entry), and
 * leave the sets of the other managers; entries left empty are dropped. Edits obj's
 * metadata.managedFields in place. metadata fields the server owns (uid, resourceVersion,
 * generation, creationTimestamp, managedFields) and status are never tracked. */
void api_managed_fields_update(const json_t *old, json_t *obj, const char *manager,
                               const struct api_schema *sch, const char *api_version,
                               const char *now);

/* The same for a write through a subresource ("scale"): its changes go to manager's Update entry
 * for that subresource, which Kubernetes counts as a manager of its own (managedFields entries
 * carry "subresource"; kubectl scale writes as "kubectl-scale" through "scale"). NULL or "" is
 * the main resource. Conflicts of api_ssa_apply with such an entry carry "subresource" too.
 */
void api_managed_fields_update_sub(const json_t *old, json_t *obj, const char *manager,
                                   const char *subresource, const struct api_schema *sch,
                                   const char *api_version, const char *now);

#endif
