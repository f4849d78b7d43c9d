/* validate_util.h — what the validation and defaulting hooks (validate_*.c) share: typed reads of
 * JSON that never trust the input's types, field errors worded as Kubernetes words them
 * (k8s.io/apimachinery/pkg/util/validation/field/errors.go), and the name, label, selector, port
 * and quantity rules of k8s.io/apimachinery/pkg/util/validation. Internal to the API layer. */
#ifndef STSD_API_VALIDATE_UTIL_H
#define STSD_API_VALIDATE_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_internal.h"
#include "quantity.h"

#define V_PATH 512 /* field paths: "spec.template.spec.containers[0].ports[1].name" */

/* snprintf for field paths: a path cut at len bytes is still a useful path. */
void v_pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- Typed access: a value of the wrong type reads as absent -------------------------------- */

const char *v_str(const json_t *obj, const char *key);        /* a string, else NULL */
bool v_int(const json_t *obj, const char *key, int64_t *out); /* an integer */
json_t *v_obj(const json_t *obj, const char *key);            /* an object, else NULL */
json_t *v_arr(const json_t *obj, const char *key);            /* an array, else NULL */
/* Present and not null. */
bool v_has(const json_t *obj, const char *key);
/* A string that is absent or "". */
bool v_str_empty(const json_t *obj, const char *key);

/* ---- Defaults: set only what is absent, null (or "" for strings); wrong types are left alone --
 */

void v_default_str(json_t *obj, const char *key, const char *val);
void v_default_int(json_t *obj, const char *key, json_int_t val);
void v_default_bool(json_t *obj, const char *key, bool val);
/* The object at key, created when absent or null; NULL when key holds something else. */
json_t *v_default_obj(json_t *obj, const char *key);

/* ---- Field errors -----------------------------------------------------------------------------
 */

/* "Required value" (": detail" when detail is not empty). */
void v_required(struct api_invalid *inv, const char *path, const char *detail);
/* "Invalid value: \"value\": why", value quoted as Go's %q does. */
void v_invalid(struct api_invalid *inv, const char *path, const char *value, const char *why);
/* "Invalid value: 5: why". */
void v_invalid_int(struct api_invalid *inv, const char *path, int64_t value, const char *why);
/* "Invalid value: <raw>: why", raw printed as is (Go's rendering of a struct or a map). */
void v_invalid_raw(struct api_invalid *inv, const char *path, const char *raw, const char *why);
/* "Unsupported value: \"v\": supported values: \"A\", \"B\"" (supported NULL-terminated). */
void v_unsupported(struct api_invalid *inv, const char *path, const char *value,
                   const char *const *supported);
void v_forbidden(struct api_invalid *inv, const char *path, const char *detail);
void v_duplicate(struct api_invalid *inv, const char *path, const char *value);
void v_not_found(struct api_invalid *inv, const char *path, const char *value);
/* "Too long: must have at most N bytes". */
void v_too_long(struct api_invalid *inv, const char *path, long max);
/* Whether value is one of the NULL-terminated list. */
bool v_one_of(const char *value, const char *const *list);

/* Go's %#v of a map[string]string ("map[string]string{\"app\":\"web\"}"), into buf. */
const char *v_go_map(const json_t *map, char *buf, size_t len);

/* ---- Rules ------------------------------------------------------------------------------------
 */

/* Each adds one error per broken rule under path and returns whether value passed. */
bool v_dns_label(struct api_invalid *inv, const char *path, const char *value);
bool v_dns_subdomain(struct api_invalid *inv, const char *path, const char *value);
bool v_dns1035_label(struct api_invalid *inv, const char *path, const char *value);
bool v_qualified_name(struct api_invalid *inv, const char *path, const char *value);
bool v_label_value(struct api_invalid *inv, const char *path, const char *value);
bool v_config_key(struct api_invalid *inv, const char *path, const char *value);
bool v_port_name(struct api_invalid *inv, const char *path, const char *value);
/* A port number in 1..65535 ("Invalid value: 0: must be between 1 and 65535, inclusive"). */
bool v_port_num(struct api_invalid *inv, const char *path, int64_t port);
/* An IntOrString port: a number in range or a port name. */
void v_port_num_or_name(struct api_invalid *inv, const char *path, const json_t *v);
/* An IPv4 or IPv6 address / CIDR. */
bool v_ip(struct api_invalid *inv, const char *path, const char *value);
bool v_cidr(struct api_invalid *inv, const char *path, const char *value);
/* A non-negative integer at obj[key], if present ("must be greater than or equal to 0"). */
void v_nonneg(struct api_invalid *inv, const char *path, const json_t *obj, const char *key);
/* A quantity at v: parsed into *q, or an Invalid error (false). */
bool v_quantity(struct api_invalid *inv, const char *path, const json_t *v, struct api_quantity *q);
/* The text a quantity was written as ("500m", or a number printed). */
const char *v_quantity_text(const json_t *v, char *buf, size_t len);

/* metav1 rules: labels, annotations, a LabelSelector object. */
void v_labels(struct api_invalid *inv, const char *path, const json_t *labels);
void v_annotations(struct api_invalid *inv, const char *path, const json_t *annotations);
void v_label_selector(struct api_invalid *inv, const char *path, const json_t *sel);
/* metadata.labels and metadata.annotations of a top-level object. */
void v_meta(struct api_invalid *inv, const json_t *obj);

/* Go's semantic equality of two decoded objects: a member that is absent, null, "", 0, false,
 * [] or {} equals any other of these (a Go zero value), as apiequality.Semantic.DeepEqual sees
 * the typed structs. Quantities are compared as strings. */
bool v_semantic_equal(const json_t *a, const json_t *b);

/* ---- Pieces validated by more than one resource ------------------------------------------------
 */

/* validate_storage.c: a PersistentVolumeClaimSpec at spec (for PVCs and claim templates). */
void v_pvc_spec_defaults(json_t *spec);
void v_pvc_spec(json_t *spec, const char *path, struct api_invalid *inv);
/* validate_container.c: one container of a PodSpec; volumes is an object whose keys are the
 * volume names mounts may use; init selects the init-container rules; grace is the pod's
 * terminationGracePeriodSeconds (bounds sleep hooks). */
void v_container_defaults(json_t *c);
void v_container(json_t *c, const char *path, const json_t *volumes, bool pod, bool init,
                 int64_t grace, struct api_invalid *inv);
/* validate_podspec.c: a PodSpec; extra_volumes (NULL or an array of names) are volumes that will
 * exist though not listed (a StatefulSet's claim templates); pod says whether the spec is a pod's
 * own (stricter image rules). */
void v_podspec(json_t *spec, const char *path, const json_t *extra_volumes, bool pod,
               struct api_invalid *inv);

#endif
