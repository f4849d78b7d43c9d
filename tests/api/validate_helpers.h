/* validate_helpers.h — what the validation tests share: JSON from text, running a resource's
 * hooks, and finding a cause by field, reason and message prefix. */
#ifndef STSD_TESTS_VALIDATE_HELPERS_H
#define STSD_TESTS_VALIDATE_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "api_internal.h"
#include "hooks.h"

typedef void (*defaults_fn)(json_t *);
typedef void (*validate_fn)(json_t *, json_t *, struct api_invalid *);

/* Parse test JSON (any value); fails the test on a typo. */
json_t *J(const char *text);
/* Defaults (if any, also of old) then validation of obj; the causes stay in inv. */
void run(defaults_fn d, validate_fn v, json_t *obj, json_t *old, struct api_invalid *inv);
/* Print the causes (on failure). */
void dump(const struct api_invalid *inv);
/* Whether a cause has this field, reason and a message starting with prefix (NULL: any). */
bool has(const struct api_invalid *inv, const char *field, const char *reason, const char *prefix);
/* The member at a dotted path with [n] indexes ("spec.containers[0].image"), or NULL. */
json_t *at(json_t *obj, const char *path);
const char *str_at(json_t *obj, const char *key);
const char *S(json_t *obj, const char *path);
long long I(json_t *obj, const char *path);
/* Set the member at a dotted path (parents must exist) to value (stolen). */
void set(json_t *obj, const char *path, json_t *value);

#define EXPECT(inv, field, reason, prefix)                                                  \
	do {                                                                                \
		if (!has(inv, field, reason, prefix)) {                                     \
			dump(inv);                                                          \
			fail_msg("no cause %s %s %s", field, reason, prefix ? prefix : ""); \
		}                                                                           \
	} while (0)

#define EXPECT_NONE(inv)                                                   \
	do {                                                               \
		if ((inv)->n != 0) {                                       \
			dump(inv);                                         \
			fail_msg("expected no errors, got %zu", (inv)->n); \
		}                                                          \
	} while (0)

/* test_validate_core.c: Pods, Services, Secrets, storage, Nodes, Leases, Events, revisions. */
extern const struct CMUnitTest validate_core_tests[];
extern const size_t validate_core_count;

#endif
