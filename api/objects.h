/* objects.h — what the object handlers share (handlers_objects.c reads, object_write.c the write
 * pipeline, handlers_patch.c, handlers_delete.c, handlers_sub.c).
 *
 * Every write ends in api_obj_create or api_obj_put: server-owned metadata carried over, status
 * split from the rest for resources with a status subresource, defaults, validation,
 * managedFields, dryRun, then one conditional command. */
#ifndef STSD_API_OBJECTS_H
#define STSD_API_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_internal.h"
#include "schema.h"

enum field_validation { FV_STRICT, FV_WARN, FV_IGNORE };

/* What a PUT or PATCH writes of the object. */
enum write_part {
	WRITE_MAIN,   /* everything but status, when the resource has a status subresource */
	WRITE_STATUS, /* only status (the /status subresource) */
	WRITE_ALL,    /* everything (server-internal writes) */
};

/* Preconditions a client gave (0 / NULL = none). */
struct obj_precond {
	uint64_t rv;
	char uid[40];
};

/* Answer, release the call and return (from a void function). */
#define FINISH(c, answer)         \
	do {                      \
		answer;           \
		api_call_free(c); \
		return;           \
	} while (0)

/* ---- Helpers (handlers_objects.c) ---------------------------------------------------------- */

/* The namespace of the object's key: "" for cluster-scoped resources. */
const char *api_obj_ns(const struct api_call *c);
/* "configmaps", or "statefulsets.apps" for a named group, as Kubernetes names resources. */
void api_obj_qualified(const struct api_resource *res, char *buf, size_t len);
void api_obj_fail_not_found(struct api_call *c, const char *name);
/* The stored object name of c's resource, parsed; NULL when absent (*rv 0) or unreadable. */
json_t *api_obj_stored(struct api_call *c, const char *name, uint64_t *rv);
/* Current unix time and its RFC 3339 form. */
int64_t api_obj_now(char out[32]);
/* RFC 3339 of t. */
void api_obj_time(int64_t t, char out[32]);

/* ---- The write pipeline (object_write.c) ---------------------------------------------------- */

bool api_obj_field_validation(struct api_call *c, enum field_validation *fv);
/* The request body as an object of c's resource into c->obj (JSON or protobuf), with kind,
 * apiVersion, types, unknown fields (per fieldValidation) and namespace checked; answers and
 * returns false otherwise. */
bool api_obj_decode(struct api_call *c);
/* Types and unknown fields of obj per fv (for patched results); answers and returns false. */
bool api_obj_check_schema(struct api_call *c, json_t *obj, enum field_validation fv);
/* The field manager: ?fieldManager, else the User-Agent's product ("kubectl"), else "unknown". */
void api_obj_manager(struct api_call *c, char *out, size_t len);
/* Whether ?dryRun=All was asked; answers 400 and returns -1 for another value. */
int api_obj_dry_run(struct api_call *c);
/* Create c->obj (decoded, with its name set or generateName). Frees the call. */
void api_obj_create(struct api_call *c);
/* Replace old (the stored object, at old_rv; borrowed) by c->obj as part says, under pre. Frees
 * the call. A failed precondition answers 409; attempt > 0 says this is a retried patch. */
void api_obj_put(struct api_call *c, json_t *old, uint64_t old_rv, const struct obj_precond *pre,
                 enum write_part part);
/* c->obj's managedFields after a write through subresource (NULL for the main resource) by
 * the request's field manager; old is the stored object (NULL on create). */
void api_obj_record_manager(struct api_call *c, json_t *old, const char *subresource);
/* When res is a Conflict and c may run again (c->retry, fewer than 5 attempts): run it again on
 * a new call for the same request, detach c from it and return true. Writes without a
 * precondition of the client's do this, as kube-apiserver's update loop does. */
bool api_obj_retry(struct api_call *c, const struct cons_result *res);
/* apiVersion and kind of obj, when given, must be the resource's (400 otherwise); they are set. */
bool api_obj_check_type(struct api_call *c, json_t *obj);
/* The claim op that goes with removing pod (handlers_delete.c); false when it holds none. */
bool api_obj_claim_op(struct api_call *c, const json_t *pod, struct store_op *op);
/* The claim op of a node's confirmation that pod name (of c's namespace), already gone, ran its
 * last process (handlers_delete.c): the release of its identity's claim when that claim is
 * "releasing" for exactly that pod name, uid and the asking node (c->user). set (setlen >=
 * STORE_NAME_MAX + 1) receives the set name, which op->name points to. false otherwise. */
bool api_obj_gone_claim_op(struct api_call *c, const char *name, const char *uid, char *set,
                           size_t setlen, struct store_op *op);
/* Answer a typed proposal failure for name. */
void api_obj_fail_result(struct api_call *c, const struct cons_result *res, const char *name);
/* Propose the ops; answer with the main op's object (201 for POST, else 200). */
void api_obj_answer_object(struct api_call *c, const struct cons_result *res);

/* ---- Verbs ---------------------------------------------------------------------------------- */

/* handlers_patch.c: PATCH of an object (or of its status). Frees the call. */
void api_obj_patch(struct api_call *c, enum write_part part);
/* Apply a patch body of content type to doc into *out (new); answers and returns false on error.
 * Server-side apply is not handled here. */
bool api_obj_patch_doc(struct api_call *c, const json_t *doc, const struct api_schema *sch,
                       json_t **out);
/* handlers_delete.c: DELETE of an object, and of a collection. Free the call. */
void api_obj_delete(struct api_call *c);
void api_obj_delete_collection(struct api_call *c);
/* handlers_sub.c: subresources (status, scale, log, exec). Free the call. */
void api_obj_sub_read(struct api_call *c);
void api_obj_sub_write(struct api_call *c);
/* handlers_objects.c: a list's selectors, parsed from the query; answers 400 and returns false. */
struct api_selector;
struct api_field_selector;
bool api_obj_selectors(struct api_call *c, struct api_selector **ls,
                       struct api_field_selector **fs);

#endif
