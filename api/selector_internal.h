/* selector_internal.h — what selector.c (requirements, matching) and selector_parse.c (the string
 * syntax's lexer and parser) share. */
#ifndef STSD_API_SELECTOR_INTERNAL_H
#define STSD_API_SELECTOR_INTERNAL_H

#include <stddef.h>

struct api_buf;
struct api_selector;

/* selection.Operator */
enum sel_op { OP_EXISTS, OP_NOTEXISTS, OP_EQ, OP_DEQ, OP_NEQ, OP_IN, OP_NOTIN, OP_GT, OP_LT };

/* Parse the string form into s (selector_parse.c); STSD_INVALID with Kubernetes' message. */
int sel_parse_string(const char *str, struct api_selector *s, char *err, size_t errlen);
/* Check one parsed requirement as NewRequirement does and add it to s; key and vals (malloc'd,
 * vals an array of n malloc'd strings) are stolen, also on failure. */
int sel_add_parsed(struct api_selector *s, char *key, enum sel_op op, char **vals, size_t n,
                   char *err, size_t errlen);
/* The key check of the parser ("unable to parse requirement: <nil>: Invalid value: ..."). */
int sel_check_parsed_key(const char *key, char *err, size_t errlen);
/* The length of the valid UTF-8 character at s (1 for ASCII, NUL included), 0 when invalid. */
size_t sel_utf8_len(const char *s);
/* Replace bytes of s that are not UTF-8 by U+FFFD, within size bytes: error messages quote the
 * client's input and must stay valid JSON strings. */
void sel_utf8_fix(char *s, size_t size);
/* Go's %q of s appended to b. */
void sel_go_quote(struct api_buf *b, const char *s);

#endif
