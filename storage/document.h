/* document.h — the object metadata the store maintains inside each object's JSON (jansson). */
#ifndef STSD_STORAGE_DOCUMENT_H
#define STSD_STORAGE_DOCUMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

struct doc {
	json_t *root; /* owned */
	json_t *meta; /* borrowed from root: the metadata object (created if absent) */
};

/* Parse json as an object for storing: a JSON object whose "metadata", if present, is an object.
 * STSD_INVALID (with the reason recorded) otherwise. */
int doc_parse(struct store *s, const char *json, size_t len, struct doc *d);
void doc_free(struct doc *d);

/* metadata.name must be absent or equal name (it is then set); metadata.namespace likewise for a
 * namespaced key, absent or "" for a cluster-scoped one. */
int doc_check_identity(struct store *s, struct doc *d, const char *ns, const char *name);

const char *doc_meta_string(const struct doc *d, const char *field);
void doc_set_meta_string(struct doc *d, const char *field, const char *value);
void doc_set_meta_int(struct doc *d, const char *field, int64_t value);
void doc_del_meta(struct doc *d, const char *field);
void doc_set_rv(struct doc *d, uint64_t revision);

/* Generation is tracked for objects with a top-level "spec". */
bool doc_has_spec(const struct doc *d);
/* True if everything but apiVersion, kind, metadata and status is equal. */
bool doc_spec_equal(const struct doc *a, const struct doc *b);
/* spec.nodeName, or NULL. */
const char *doc_node_name(const struct doc *d);

/* Compact serialisation; caller frees. NULL on allocation failure. */
char *doc_dump(const struct doc *d, size_t *len);

#endif
