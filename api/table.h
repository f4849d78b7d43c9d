/* table.h — server-side printing: meta.k8s.io/v1 Table answers for `kubectl get`, with the columns
 * kubectl users expect per resource (../shared/KUBECTL.md, Tables). */
#ifndef STSD_API_TABLE_H
#define STSD_API_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct api_resource;

struct api_column {
	const char *name;   /* "Ready" */
	const char *type;   /* "string", "integer", "date" */
	const char *format; /* "name" for the Name column, "" otherwise */
	const char *description;
	int priority; /* 0 always shown, 1 only with -o wide */
};

/* Columns and the function that fills one row's cells (json values appended to cells) for obj at
 * unix time now. */
struct api_table_def {
	const struct api_column *columns; /* terminated by a NULL name */
	void (*cells)(const json_t *obj, json_t *cells, int64_t now);
};

/* Per-resource definitions (tables.c), named in the resource table. */
extern const struct api_table_def api_table_statefulsets, api_table_controllerrevisions,
    api_table_pods, api_table_services, api_table_endpoints, api_table_pvcs, api_table_pvs,
    api_table_configmaps, api_table_secrets, api_table_events, api_table_namespaces,
    api_table_nodes, api_table_endpointslices, api_table_storageclasses, api_table_leases;

/* Whether Accept asks for a Table (application/json;as=Table;v=v1;g=meta.k8s.io). */
bool api_table_wanted(const char *accept);

enum api_table_object {
	TABLE_OBJECT_METADATA, /* includeObject=Metadata (default): PartialObjectMetadata */
	TABLE_OBJECT_FULL,     /* includeObject=Object: the whole object */
	TABLE_OBJECT_NONE,     /* includeObject=None */
};
/* From the includeObject query value (NULL: Metadata); false for an unknown value. */
bool api_table_object_parse(const char *v, enum api_table_object *out);

/* A Table for res (kind Table, apiVersion meta.k8s.io/v1, columnDefinitions, rows []). */
json_t *api_table_new(const struct api_resource *res);
/* One row for obj ({cells, object}); res->table NULL gives Name and Age. */
json_t *api_table_row(const struct api_resource *res, const json_t *obj, enum api_table_object inc,
                      int64_t now);
/* Kubernetes' short age: "5s", "3m12s", "2d3h", "<unknown>" for a missing/bad timestamp. */
void api_table_age(const char *rfc3339, int64_t now, char *out, size_t len);

#endif
