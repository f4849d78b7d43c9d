/* tables_cells_cluster.c — the columns and cells of `kubectl get` for Events and Nodes.
 *
 * Column definitions, cell values and their order follow kube-apiserver v1.32,
 * pkg/printers/internalversion/printers.go (AddHandlers, printEvent, formatEventSource,
 * translateMicroTimestampSince, printNode, findNodeRoles, getNodeInternalIP/ExternalIP). The
 * server prints the wide columns too; kubectl hides priority-1 columns unless -o wide. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "tables_internal.h"

/* ---- Event ------------------------------------------------------------------------------------
 */

static const struct api_column event_columns[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was recorded.", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the "
     "future",
     0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "If referring to a piece of an object instead of an entire object, this string should "
     "contain a valid JSON/Go field access statement, such as desiredState.manifest."
     "containers[2].",
     1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine understandable string.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server receipt is in "
     "TypeMeta.)",
     1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", TBL_NAME_DESC, 1},
    TBL_COL_END,
};

static bool has_time(const json_t *obj, const char *path)
{
	int64_t t;

	return tbl_time_ms(tbl_str(obj, path), &t);
}

/* formatEventSource: component (or reportingController), then ", host" (or reportingInstance). */
static void event_source(const json_t *ev, struct api_buf *b)
{
	const char *comp =
	    tbl_str_or(ev, "source.component", tbl_str_or(ev, "reportingController", ""));
	const char *inst = tbl_str_or(ev, "source.host", tbl_str_or(ev, "reportingInstance", ""));

	api_buf_printf(b, "%s", comp);
	if (*inst != '\0')
		api_buf_printf(b, ", %s", inst);
}

/* "pod/web-0": the involved object's kind lowercased, then its name when it has one. */
static void event_target(const json_t *ev, struct api_buf *b)
{
	const char *name = tbl_str_or(ev, "involvedObject.name", "");
	char *p;

	api_buf_printf(b, "%s", tbl_str_or(ev, "involvedObject.kind", ""));
	for (p = b->data; p != NULL && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (*name != '\0')
		api_buf_printf(b, "/%s", name);
}

/* strings.TrimSpace of the message. */
static void event_message(const json_t *ev, struct api_buf *b)
{
	const char *m = tbl_str_or(ev, "message", "");
	size_t n;

	while (isspace((unsigned char)*m))
		m++;
	n = strlen(m);
	while (n > 0 && isspace((unsigned char)m[n - 1]))
		n--;
	api_buf_add(b, m, n);
}

static void event_cells(const json_t *obj, json_t *cells, int64_t now)
{
	char first[32], last[32];
	struct api_buf target = {0}, source = {0}, msg = {0};
	const json_t *series = json_object_get(obj, "series");
	int64_t count = tbl_int(obj, "count", 0);

	/* events of the events.k8s.io API carry eventTime and a series instead */
	api_table_age(
	    tbl_str(obj, has_time(obj, "firstTimestamp") ? "firstTimestamp" : "eventTime"), now,
	    first, sizeof first);
	if (has_time(obj, "lastTimestamp"))
		api_table_age(tbl_str(obj, "lastTimestamp"), now, last, sizeof last);
	else
		snprintf(last, sizeof last, "%s", first);
	if (json_is_object(series)) {
		api_table_age(tbl_str(series, "lastObservedTime"), now, last, sizeof last);
		count = tbl_int(series, "count", 0);
	} else if (count == 0) {
		count = 1; /* singleton events carry no count */
	}
	api_buf_add(&target, "", 0);
	api_buf_add(&source, "", 0);
	api_buf_add(&msg, "", 0);
	event_target(obj, &target);
	event_source(obj, &source);
	event_message(obj, &msg);
	tbl_cell_str(cells, last);
	tbl_cell_str(cells, tbl_str(obj, "type"));
	tbl_cell_str(cells, tbl_str(obj, "reason"));
	tbl_cell_buf(cells, &target);
	tbl_cell_str(cells, tbl_str(obj, "involvedObject.fieldPath"));
	tbl_cell_buf(cells, &source);
	tbl_cell_buf(cells, &msg);
	tbl_cell_str(cells, first);
	tbl_cell_int(cells, count);
	tbl_cell_name(cells, obj);
}

const struct api_table_def api_table_events = {event_columns, event_cells};

/* ---- Node -------------------------------------------------------------------------------------
 */

static const struct api_column node_columns[] = {
    TBL_COL_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    TBL_COL_AGE,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
     "containerd://1.4.2).",
     1},
    TBL_COL_END,
};

/* "Ready", "NotReady" or "Unknown" from the Ready condition, ",SchedulingDisabled" when cordoned.
 */
static void node_status(const json_t *node, struct api_buf *b)
{
	const json_t *conds = tbl_get(node, "status.conditions");
	const char *status = NULL;
	size_t i;

	/* the last Ready condition wins, as upstream's map of conditions by type keeps it */
	for (i = 0; json_is_array(conds) && i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		if (strcmp(tbl_str_or(c, "type", ""), "Ready") == 0)
			status =
			    strcmp(tbl_str_or(c, "status", ""), "True") == 0 ? "Ready" : "NotReady";
	}
	api_buf_printf(b, "%s", status != NULL ? status : "Unknown");
	if (json_is_true(tbl_get(node, "spec.unschedulable")))
		api_buf_printf(b, ",SchedulingDisabled");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* findNodeRoles: node-role.kubernetes.io/<role> labels and kubernetes.io/role=<role>, sorted and
 * unique; "<none>" without any. */
static void node_roles(const json_t *node, struct api_buf *b)
{
	static const char prefix[] = "node-role.kubernetes.io/";
	const json_t *labels = tbl_get(node, "metadata.labels");
	size_t n = json_is_object(labels) ? json_object_size(labels) : 0, k = 0, i;
	const char **roles = n ? calloc(n, sizeof *roles) : NULL;
	const char *key;
	json_t *v;

	if (roles != NULL) {
		json_object_foreach((json_t *)labels, key, v)
		{
			const char *val = json_string_value(v);
			if (strncmp(key, prefix, sizeof prefix - 1) == 0 && key[sizeof prefix - 1])
				roles[k++] = key + sizeof prefix - 1;
			else if (strcmp(key, "kubernetes.io/role") == 0 && val != NULL && *val)
				roles[k++] = val;
		}
	}
	if (k > 1)
		qsort(roles, k, sizeof *roles, cmp_str);
	for (i = 0; i < k; i++)
		if (i == 0 || strcmp(roles[i], roles[i - 1]) != 0)
			api_buf_printf(b, "%s%s", b->len ? "," : "", roles[i]);
	if (b->len == 0)
		api_buf_add(b, "<none>", 6);
	free(roles);
}

/* The first address of a type, "<none>" without one. */
static const char *node_address(const json_t *node, const char *type)
{
	const json_t *addrs = tbl_get(node, "status.addresses");
	size_t i;

	for (i = 0; json_is_array(addrs) && i < json_array_size(addrs); i++) {
		const json_t *a = json_array_get(addrs, i);
		if (strcmp(tbl_str_or(a, "type", ""), type) == 0)
			return tbl_str_or(a, "address", "");
	}
	return "<none>";
}

static void node_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct api_buf status = {0}, roles = {0};

	api_buf_add(&status, "", 0);
	api_buf_add(&roles, "", 0);
	node_status(obj, &status);
	node_roles(obj, &roles);
	tbl_cell_name(cells, obj);
	tbl_cell_buf(cells, &status);
	tbl_cell_buf(cells, &roles);
	tbl_cell_age(cells, obj, now);
	tbl_cell_str(cells, tbl_str(obj, "status.nodeInfo.kubeletVersion"));
	tbl_cell_str(cells, node_address(obj, "InternalIP"));
	tbl_cell_str(cells, node_address(obj, "ExternalIP"));
	tbl_cell_str(cells, tbl_str_or(obj, "status.nodeInfo.osImage", "<unknown>"));
	tbl_cell_str(cells, tbl_str_or(obj, "status.nodeInfo.kernelVersion", "<unknown>"));
	tbl_cell_str(cells,
	             tbl_str_or(obj, "status.nodeInfo.containerRuntimeVersion", "<unknown>"));
}

const struct api_table_def api_table_nodes = {node_columns, node_cells};
