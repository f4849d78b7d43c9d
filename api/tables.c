/* tables.c — SKELETON: being written (issue 4). */
#include "table.h"

const struct api_table_def api_table_statefulsets = {NULL, NULL};
const struct api_table_def api_table_controllerrevisions = {NULL, NULL};
const struct api_table_def api_table_pods = {NULL, NULL};
const struct api_table_def api_table_services = {NULL, NULL};
const struct api_table_def api_table_endpoints = {NULL, NULL};
const struct api_table_def api_table_pvcs = {NULL, NULL};
const struct api_table_def api_table_pvs = {NULL, NULL};
const struct api_table_def api_table_configmaps = {NULL, NULL};
const struct api_table_def api_table_secrets = {NULL, NULL};
const struct api_table_def api_table_events = {NULL, NULL};
const struct api_table_def api_table_namespaces = {NULL, NULL};
const struct api_table_def api_table_nodes = {NULL, NULL};
const struct api_table_def api_table_endpointslices = {NULL, NULL};
const struct api_table_def api_table_storageclasses = {NULL, NULL};
const struct api_table_def api_table_leases = {NULL, NULL};
