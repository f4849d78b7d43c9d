/* selector.h — label selectors (string form of list/watch queries, and metav1.LabelSelector
 * objects) and field selectors, parsed once and matched against objects. */
#ifndef STSD_API_SELECTOR_H
#define STSD_API_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct api_resource;
struct api_selector;
struct api_field_selector;

/* Parse a label selector ("app=web,tier!=db,env in (a,b),!legacy,release"): =, ==, !=, in, notin,
 * exists (bare key), !key. "" or NULL selects everything. STSD_INVALID with a Kubernetes-like
 * message in err ("unable to parse requirement: ..."). */
int api_label_selector_parse(const char *s, struct api_selector **out, char *err, size_t errlen);
/* From a metav1.LabelSelector object {matchLabels, matchExpressions [{key, operator In|NotIn|
 * Exists|DoesNotExist, values}]}; STSD_INVALID with err for a malformed one. An empty object
 * selects everything (callers refuse that where Kubernetes does). */
int api_label_selector_from_json(const json_t *sel, struct api_selector **out, char *err,
                                 size_t errlen);
/* Whether labels (an object of strings, or NULL for none) satisfy s. */
bool api_label_selector_matches(const struct api_selector *s, const json_t *labels);
/* True when s selects everything. */
bool api_label_selector_empty(const struct api_selector *s);
/* The string form of s ("app=web,tier in (a,b)"), as Scale.status.selector shows it; malloc'd. */
char *api_label_selector_string(const struct api_selector *s);
void api_label_selector_free(struct api_selector *s);

/* Parse a field selector ("metadata.name=web,status.phase!=Running"): = == !=, on metadata.name,
 * metadata.namespace and the fields res->field_selectors names. Anything else is STSD_INVALID
 * with err as Kubernetes words it ("field label not supported: spec.foo"), answered 400. */
int api_field_selector_parse(const char *s, const struct api_resource *res,
                             struct api_field_selector **out, char *err, size_t errlen);
bool api_field_selector_matches(const struct api_field_selector *f, const json_t *obj);
/* The value X of a field=X (or ==) requirement of f, else NULL: what an index can look up. */
const char *api_field_selector_equal(const struct api_field_selector *f, const char *field);
/* The value of metadata.name=X if the selector pins the name (for get-like watches), else NULL. */
const char *api_field_selector_name(const struct api_field_selector *f);
void api_field_selector_free(struct api_field_selector *f);

#endif
