/* schemas_meta.c — schemas shared by many resources: ObjectMeta, LabelSelector, conditions, object
 * references, node selectors, and the scalar kinds (int-or-string, quantity). Field lists follow
 * k8s.io/apimachinery and k8s.io/api at v0.32; merge keys their +patchMergeKey tags. */
#include "schemas_def.h"

const struct api_schema api_schema_int_or_string = {SCH_INT_OR_STRING, NULL, NULL, NULL, 0};
const struct api_schema api_schema_quantity = {SCH_QUANTITY, NULL, NULL, NULL, 0};
const struct api_schema api_schema_number = {SCH_NUMBER, NULL, NULL, NULL, 0};
static const struct api_schema base64 = {SCH_BASE64, NULL, NULL, NULL, 0};
const struct api_schema api_schema_base64_map = {SCH_MAP, NULL, &base64, NULL, 0};
const struct api_schema api_schema_quantity_map = {SCH_MAP, NULL, &api_schema_quantity, NULL, 0};
const struct api_schema api_schema_string_set = {SCH_ARRAY, NULL, &api_schema_string, NULL,
                                                 PATCH_MERGE};
const struct api_schema api_schema_int_list = {SCH_ARRAY, NULL, &api_schema_int, NULL, 0};

/* ---- ObjectMeta: tags from k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto ------------- */

OBJECT(owner_reference, T("apiVersion", &api_schema_string, 5), T("kind", &api_schema_string, 1),
       T("name", &api_schema_string, 3), T("uid", &api_schema_string, 4),
       T("controller", &api_schema_bool, 6), T("blockOwnerDeletion", &api_schema_bool, 7));
MERGE_LIST(owner_references, &owner_reference, "uid");

/* fieldsV1 is free-form (and raw bytes in protobuf, which is not carried over). */
OBJECT(managed_fields_entry, T("manager", &api_schema_string, 1),
       T("operation", &api_schema_string, 2), T("apiVersion", &api_schema_string, 3),
       T("time", &api_schema_time, 4), T("fieldsType", &api_schema_string, 6),
       T("fieldsV1", &api_schema_any, 7), T("subresource", &api_schema_string, 8));
LIST(managed_fields, &managed_fields_entry);

OBJECT_PUBLIC(api_schema_object_meta, T("name", &api_schema_string, 1),
              T("generateName", &api_schema_string, 2), T("namespace", &api_schema_string, 3),
              T("selfLink", &api_schema_string, 4), T("uid", &api_schema_string, 5),
              T("resourceVersion", &api_schema_string, 6), T("generation", &api_schema_int, 7),
              T("creationTimestamp", &api_schema_time, 8),
              T("deletionTimestamp", &api_schema_time, 9),
              T("deletionGracePeriodSeconds", &api_schema_int, 10),
              T("labels", &api_schema_string_map, 11), T("annotations", &api_schema_string_map, 12),
              T("ownerReferences", &owner_references, 13),
              T("finalizers", &api_schema_string_set, 14), T("managedFields", &managed_fields, 17));

/* ---- Selectors ------------------------------------------------------------------------------- */

OBJECT(label_selector_requirement, F("key", &api_schema_string), F("operator", &api_schema_string),
       F("values", &api_schema_string_list));
LIST(label_selector_requirements, &label_selector_requirement);
OBJECT_PUBLIC(api_schema_label_selector, F("matchLabels", &api_schema_string_map),
              F("matchExpressions", &label_selector_requirements));

OBJECT(node_selector_requirement, F("key", &api_schema_string), F("operator", &api_schema_string),
       F("values", &api_schema_string_list));
LIST(node_selector_requirements, &node_selector_requirement);
OBJECT_PUBLIC(api_schema_node_selector_term, F("matchExpressions", &node_selector_requirements),
              F("matchFields", &node_selector_requirements));
LIST(node_selector_terms, &api_schema_node_selector_term);
OBJECT_PUBLIC(api_schema_node_selector, F("nodeSelectorTerms", &node_selector_terms));

/* ---- Conditions and references --------------------------------------------------------------- */

/* Tags of metav1.Condition (Service status carries them). */
OBJECT(condition, T("type", &api_schema_string, 1), T("status", &api_schema_string, 2),
       T("observedGeneration", &api_schema_int, 3), T("lastTransitionTime", &api_schema_time, 4),
       T("reason", &api_schema_string, 5), T("message", &api_schema_string, 6));
const struct api_schema api_schema_conditions = {SCH_ARRAY, NULL, &condition, "type", PATCH_MERGE};

OBJECT_PUBLIC(api_schema_object_reference, F("kind", &api_schema_string),
              F("namespace", &api_schema_string), F("name", &api_schema_string),
              F("uid", &api_schema_string), F("apiVersion", &api_schema_string),
              F("resourceVersion", &api_schema_string), F("fieldPath", &api_schema_string));

OBJECT_PUBLIC(api_schema_local_object_reference, F("name", &api_schema_string));
