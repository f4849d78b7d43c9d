/* schemas_def.h — shorthand for writing schemas as tables, for schemas_*.c only (the names are
 * short, so no other file includes this).
 *
 * OBJECT(var, fields...) defines a static object schema `var` with the fields given as
 * F(name, &schema) (protobuf tag 0) or T(name, &schema, tag); OBJECT_PUBLIC leaves out `static`
 * for the schemas schemas.h names. LIST is a list replaced whole by a strategic merge patch,
 * MERGE_LIST one merged by a key; MAP has any keys. */
#ifndef STSD_API_SCHEMAS_DEF_H
#define STSD_API_SCHEMAS_DEF_H

#include "schemas.h"

// clang-format off
/* The schemas every file names most (shared by the schemas_*.c files). */
#define STR       (&api_schema_string)
#define INT       (&api_schema_int)
#define BOOL      (&api_schema_bool)
#define TIME      (&api_schema_time)
#define STRLIST   (&api_schema_string_list)
#define STRMAP    (&api_schema_string_map)
#define QMAP      (&api_schema_quantity_map)
#define META      (&api_schema_object_meta)
#define TYPE_META F("apiVersion", STR), F("kind", STR)

#define F(n, s)    {n, s, 0}
#define T(n, s, t) {n, s, t}
#define SCHEMA_FIELDS_END {NULL, NULL, 0}
#define OBJECT(var, ...) \
	static const struct api_field var##_fields[] = {__VA_ARGS__, SCHEMA_FIELDS_END}; \
	static const struct api_schema var = {SCH_OBJECT, var##_fields, NULL, NULL, 0}
#define OBJECT_PUBLIC(var, ...) \
	static const struct api_field var##_fields[] = {__VA_ARGS__, SCHEMA_FIELDS_END}; \
	const struct api_schema var = {SCH_OBJECT, var##_fields, NULL, NULL, 0}
#define LIST(var, item) \
	static const struct api_schema var = {SCH_ARRAY, NULL, item, NULL, 0}
#define MERGE_LIST(var, item, key) \
	static const struct api_schema var = {SCH_ARRAY, NULL, item, key, PATCH_MERGE}
#define MAP(var, item) \
	static const struct api_schema var = {SCH_MAP, NULL, item, NULL, 0}
// clang-format on

#endif
