/* schema.h — the shape of API objects, as data: which fields exist and what type each has. Used to
 * refuse wrong types (400, as Kubernetes' JSON decoding does) and to find unknown fields for
 * fieldValidation=Strict (refused, 422) and Warn (a Warning header). */
#ifndef STSD_API_SCHEMA_H
#define STSD_API_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum schema_type {
	SCH_ANY, /* anything (free-form, e.g. managedFields entries; skipped in protobuf) */
	SCH_STRING,
	SCH_INT,
	SCH_BOOL,
	SCH_OBJECT,        /* known fields only */
	SCH_MAP,           /* any keys, values of .item */
	SCH_ARRAY,         /* values of .item */
	SCH_BASE64,        /* a string holding standard base64 (bytes in protobuf) */
	SCH_TIME,          /* an RFC 3339 string (metav1.Time {seconds, nanos} in protobuf) */
	SCH_INT_OR_STRING, /* intstr.IntOrString (maxUnavailable, targetPort) */
	SCH_QUANTITY,      /* resource.Quantity: a string ("500m", "1Gi") or a number */
	SCH_NUMBER,        /* any JSON number */
};

/* How a strategic merge patch and server-side apply treat a field (Kubernetes' patchStrategy and
 * x-kubernetes-list-type). Lists without PATCH_MERGE are replaced whole; objects and maps merge. */
enum patch_strategy {
	PATCH_DEFAULT = 0,
	PATCH_MERGE = 1u << 0, /* SCH_ARRAY: merge items by merge_key, or as a set of primitives */
	PATCH_RETAIN_KEYS = 1u << 1, /* SCH_ARRAY of objects / SCH_OBJECT: honours $retainKeys */
};

struct api_field;

struct api_schema {
	enum schema_type type;
	const struct api_field *fields; /* SCH_OBJECT: terminated by a NULL name */
	const struct api_schema *item;  /* SCH_MAP, SCH_ARRAY */
	const char *merge_key; /* SCH_ARRAY of objects with PATCH_MERGE: "name", "port"... */
	unsigned strategy;     /* enum patch_strategy bits */
};

struct api_field {
	const char *name;
	const struct api_schema *schema;
	unsigned tag; /* field number in Kubernetes' protobuf encoding (generated.proto) */
};

/* Shared schemas. */
extern const struct api_schema api_schema_string, api_schema_int, api_schema_bool, api_schema_any,
    api_schema_time;
extern const struct api_schema api_schema_string_map, api_schema_string_list;
extern const struct api_schema api_schema_object_meta;

/* What a check found. Paths read like Kubernetes' ("metadata.labels", "spec.ports[0].name"). */
struct schema_report {
	char type_error[512]; /* the first wrong type, "" when none */
	char unknown[8][512]; /* the first unknown fields */
	size_t n_unknown;     /* how many there were in all (may exceed 8) */
};

/* Decode Kubernetes' protobuf encoding of an object ("k8s\0" + runtime.Unknown wrapping the
 * message) into JSON with apiVersion and kind from its type meta. NULL when it is not one, with the
 * reason in err. Fields the schema does not know are skipped, as a Go client's decoder would. */
json_t *api_proto_decode(const struct api_schema *sch, const void *data, size_t len, char *err,
                         size_t errlen);

/* "object", "array", "string", "number", "boolean" or "null", as error messages name JSON types. */
const char *api_json_type_name(const json_t *v);

/* Check v against sch; report->type_error and report->unknown say what is wrong. */
void api_schema_check(const struct api_schema *sch, json_t *v, struct schema_report *report);

#endif
