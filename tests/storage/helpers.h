/* helpers.h — shared fixtures of the storage tests: a store in a fresh temporary directory and
 * one-line writers. */
#ifndef STSD_TEST_STORAGE_HELPERS_H
#define STSD_TEST_STORAGE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct fixture {
	char dir[256];
	struct store *s;
	uint64_t rev; /* last revision written through the helpers */
};

/* cmocka setup/teardown: *state becomes a struct fixture with an open store. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Make a fresh temporary directory (template "/tmp/stsd-test-XXXXXX") into out. */
void fx_tmpdir(char *out, size_t len);
void fx_rmrf(const char *dir);

/* Apply ops as one batch at the next revision; returns the result status (asserts no I/O error).
 * res may be NULL; if not, the caller frees it. */
int fx_apply(struct fixture *f, const struct store_op *ops, size_t n, struct store_result *res);
/* Single-op conveniences; each returns the typed status. */
int fx_create(struct fixture *f, const char *res, const char *ns, const char *name,
              const char *json);
int fx_update(struct fixture *f, const char *res, const char *ns, const char *name,
              const char *json, uint64_t expect_rv);
int fx_delete(struct fixture *f, const char *res, const char *ns, const char *name);

/* Fetch an object's JSON (malloc'd, NUL-terminated) and its envelope fields; NULL if absent. */
char *fx_get(struct fixture *f, const char *res, const char *ns, const char *name,
             struct store_object *meta);
/* A string field of the object's metadata (static buffer), or NULL. */
const char *fx_meta(struct fixture *f, const char *res, const char *ns, const char *name,
                    const char *field);
/* The digest and applied index of the current state. */
void fx_digest(struct store *s, unsigned char out[32], uint64_t *applied);

#endif
