/* tables_internal.h — helpers the table files share: reading fields of an object and appending
 * cells as kube-apiserver's printers render them (tables.c defines them; the per-resource cell
 * functions live in tables_cells*.c). */
#ifndef STSD_API_TABLES_INTERNAL_H
#define STSD_API_TABLES_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct api_buf;

/* Descriptions of the columns every table has (metav1.ObjectMeta's swagger docs). */
#define TBL_NAME_DESC                                                                            \
	"Name must be unique within a namespace. Is required when creating resources, although " \
	"some resources may allow a client to request the generation of an appropriate name "    \
	"automatically. Name is primarily intended for creation idempotence and configuration "  \
	"definition. Cannot be updated. More info: "                                             \
	"https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define TBL_AGE_DESC                                                                            \
	"CreationTimestamp is a timestamp representing the server time when this object was "   \
	"created. It is not guaranteed to be set in happens-before order across separate "      \
	"operations. Clients may not set this value. It is represented in RFC3339 form and is " \
	"in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "            \
	"https://git.k8s.io/community/contributors/devel/sig-architecture/"                     \
	"api-conventions.md#metadata"

#define TBL_COL_NAME                                       \
	{                                                  \
		"Name", "string", "name", TBL_NAME_DESC, 0 \
	}
#define TBL_COL_AGE                                  \
	{                                            \
		"Age", "string", "", TBL_AGE_DESC, 0 \
	}
#define TBL_COL_END                       \
	{                                 \
		NULL, NULL, NULL, NULL, 0 \
	}

/* The value at a dotted path ("status.readyReplicas"), or NULL. */
const json_t *tbl_get(const json_t *obj, const char *path);
/* The string at path, or NULL when absent or not a string. */
const char *tbl_str(const json_t *obj, const char *path);
/* The string at path, or dflt when absent, not a string, or "". */
const char *tbl_str_or(const json_t *obj, const char *path, const char *dflt);
/* The integer at path, or dflt. */
int64_t tbl_int(const json_t *obj, const char *path, int64_t dflt);
/* The annotation's value, or NULL. */
const char *tbl_annotation(const json_t *obj, const char *key);

/* Append one cell: a string (NULL reads ""), an integer, a boolean, a buffer's text (freed). */
void tbl_cell_str(json_t *cells, const char *s);
void tbl_cell_int(json_t *cells, int64_t v);
void tbl_cell_bool(json_t *cells, bool v);
void tbl_cell_buf(json_t *cells, struct api_buf *b);
/* metadata.name */
void tbl_cell_name(json_t *cells, const json_t *obj);
/* The age of metadata.creationTimestamp ("<unknown>" when absent). */
void tbl_cell_age(json_t *cells, const json_t *obj, int64_t now);
/* The age of a timestamp ("<unknown>" for NULL or unparsable). */
void tbl_cell_since(json_t *cells, const char *rfc3339, int64_t now);
/* Two cells, layoutContainerCells: the containers' names and images, comma-separated. */
void tbl_cell_containers(json_t *cells, const json_t *containers);

/* The row conditions of a pod (a Completed condition once it succeeded or failed), or NULL. */
json_t *tbl_pod_conditions(const json_t *pod);

/* RFC 3339 ("2024-05-01T10:00:00.5+02:00") to unix milliseconds; false when unparsable. */
bool tbl_time_ms(const char *rfc3339, int64_t *out);
/* duration.HumanDuration of ms milliseconds. */
void tbl_human_duration(int64_t ms, char *out, size_t len);
/* helper.GetAccessModesAsString: "RWO,ROX,RWX,RWOP" for the modes present. */
void tbl_access_modes(const json_t *modes, struct api_buf *b);
/* labels.FormatLabels of an object of strings: "a=1,b=2" sorted by key, "<none>" when empty. */
void tbl_format_labels(const json_t *map, struct api_buf *b);

#endif
