/* tables_cells.c — the columns and cells of `kubectl get` for workloads: StatefulSets,
 * ControllerRevisions and Pods.
 *
 * Column definitions, cell values and their order follow kube-apiserver v1.32,
 * pkg/printers/internalversion/printers.go (AddHandlers, printStatefulSet,
 * printControllerRevision, printPod, layoutContainerCells). The server always prints the wide
 * columns (pkg/printers/storage: GenerateOptions{Wide: true}); kubectl hides priority-1 columns
 * unless -o wide. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "tables_internal.h"

#define CONTAINERS_DESC "Names of each container in the template."
#define IMAGES_DESC     "Images referenced by each container in the template."

/* ---- StatefulSet ---------------------------------------------------------------------------- */

static const struct api_column sts_columns[] = {
    TBL_COL_NAME,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    TBL_COL_AGE,
    {"Containers", "string", "", CONTAINERS_DESC, 1},
    {"Images", "string", "", IMAGES_DESC, 1},
    TBL_COL_END,
};

static void sts_cells(const json_t *obj, json_t *cells, int64_t now)
{
	char ready[48];

	/* spec.replicas defaults to 1 upstream before anything prints it */
	snprintf(ready, sizeof ready, "%lld/%lld",
	         (long long)tbl_int(obj, "status.readyReplicas", 0),
	         (long long)tbl_int(obj, "spec.replicas", 1));
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, ready);
	tbl_cell_age(cells, obj, now);
	tbl_cell_containers(cells, tbl_get(obj, "spec.template.spec.containers"));
}

const struct api_table_def api_table_statefulsets = {sts_columns, sts_cells};

/* ---- ControllerRevision --------------------------------------------------------------------- */

static const struct api_column cr_columns[] = {
    TBL_COL_NAME,
    {"Controller", "string", "", "Controller of the object", 0},
    {"Revision", "string", "", "Revision indicates the revision of the state represented by Data.",
     0},
    TBL_COL_AGE,
    TBL_COL_END,
};

/* formatResourceName of the controller reference: "statefulset.apps/web" (GroupKind lowercased,
 * no group for the core group), "<none>" without a controller. */
static void cr_controller(const json_t *obj, struct api_buf *b)
{
	const json_t *refs = tbl_get(obj, "metadata.ownerReferences");
	size_t i;

	for (i = 0; json_is_array(refs) && i < json_array_size(refs); i++) {
		const json_t *ref = json_array_get(refs, i);
		const char *av = tbl_str_or(ref, "apiVersion", ""), *slash = strchr(av, '/');
		const char *kind = tbl_str_or(ref, "kind", "");
		char *p;

		if (!json_is_true(json_object_get(ref, "controller")))
			continue;
		if (*kind == '\0') {
			api_buf_printf(b, "%s", tbl_str_or(ref, "name", ""));
			return;
		}
		api_buf_printf(b, "%s", kind);
		if (slash != NULL)
			api_buf_printf(b, ".%.*s", (int)(slash - av), av);
		for (p = b->data; p != NULL && *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		api_buf_printf(b, "/%s", tbl_str_or(ref, "name", ""));
		return;
	}
	api_buf_add(b, "<none>", 6);
}

static void cr_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct api_buf ctl = {0};

	cr_controller(obj, &ctl);
	tbl_cell_name(cells, obj);
	tbl_cell_buf(cells, &ctl);
	tbl_cell_int(cells, tbl_int(obj, "revision", 0));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_controllerrevisions = {cr_columns, cr_cells};

/* ---- Pod --------------------------------------------------------------------------------------
 */

static const struct api_column pod_columns[] = {
    TBL_COL_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    TBL_COL_AGE,
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
     "yet allocated.",
     1},
    {"Node", "string", "",
     "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
     "candidate for scheduling by the scheduler defined in schedulerName.",
     1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
     "cannot be scheduled right away as preemption victims receive their graceful termination "
     "periods.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod readiness.", 1},
    TBL_COL_END,
};

/* What printPod gathers before printing. */
struct pod_sum {
	char reason[160];
	int64_t ready, total, restarts;
	int64_t last_restart; /* ms; INT64_MIN for none (Go's zero time) */
};

static bool cond_true(const json_t *pod, const char *type)
{
	const json_t *conds = tbl_get(pod, "status.conditions");
	size_t i;

	for (i = 0; json_is_array(conds) && i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		if (strcmp(tbl_str_or(c, "type", ""), type) == 0)
			return strcmp(tbl_str_or(c, "status", ""), "True") == 0;
	}
	return false;
}

/* podutil.IsRestartableInitContainer of the init container named name (a sidecar). */
static bool init_restartable(const json_t *pod, const char *name)
{
	const json_t *inits = tbl_get(pod, "spec.initContainers");
	size_t i;

	for (i = 0; json_is_array(inits) && i < json_array_size(inits); i++) {
		const json_t *c = json_array_get(inits, i);
		if (strcmp(tbl_str_or(c, "name", ""), name ? name : "") == 0)
			return strcmp(tbl_str_or(c, "restartPolicy", ""), "Always") == 0;
	}
	return false;
}

/* Keep the latest lastState.terminated.finishedAt of a container status in *last. */
static void note_restart(const json_t *cs, int64_t *last)
{
	int64_t t;

	if (tbl_get(cs, "lastState.terminated") != NULL &&
	    tbl_time_ms(tbl_str(cs, "lastState.terminated.finishedAt"), &t) && t > *last)
		*last = t;
}

/* "Init:Signal:9" / "Init:ExitCode:1" / "Init:Reason" for a terminated container (prefix ""
 * gives the same without "Init:"). */
static void terminated_reason(const json_t *cs, const char *prefix, char *out, size_t len)
{
	const char *r = tbl_str_or(cs, "state.terminated.reason", NULL);
	int64_t sig = tbl_int(cs, "state.terminated.signal", 0);

	if (r != NULL)
		snprintf(out, len, "%s%s", prefix, r);
	else if (sig != 0)
		snprintf(out, len, "%sSignal:%lld", prefix, (long long)sig);
	else
		snprintf(out, len, "%sExitCode:%lld", prefix,
		         (long long)tbl_int(cs, "state.terminated.exitCode", 0));
}

/* The init containers' loop of printPod: true while the pod is still initializing. */
static bool pod_init(const json_t *pod, struct pod_sum *s, int64_t *sidecar_restarts,
                     int64_t *sidecar_last)
{
	const json_t *st = tbl_get(pod, "status.initContainerStatuses");
	const json_t *inits = tbl_get(pod, "spec.initContainers");
	size_t i, ninit = json_is_array(inits) ? json_array_size(inits) : 0;

	for (i = 0; json_is_array(st) && i < json_array_size(st); i++) {
		const json_t *cs = json_array_get(st, i);
		bool sidecar = init_restartable(pod, tbl_str(cs, "name"));
		int64_t rc = tbl_int(cs, "restartCount", 0);
		const char *waiting = tbl_str_or(cs, "state.waiting.reason", NULL);

		s->restarts += rc;
		note_restart(cs, &s->last_restart);
		if (sidecar) {
			*sidecar_restarts += rc;
			note_restart(cs, sidecar_last);
		}
		if (tbl_get(cs, "state.terminated") != NULL &&
		    tbl_int(cs, "state.terminated.exitCode", 0) == 0)
			continue;
		if (sidecar && json_is_true(json_object_get(cs, "started"))) {
			s->ready += json_is_true(json_object_get(cs, "ready"));
			continue;
		}
		if (tbl_get(cs, "state.terminated") != NULL)
			terminated_reason(cs, "Init:", s->reason, sizeof s->reason);
		else if (waiting != NULL && strcmp(waiting, "PodInitializing") != 0)
			snprintf(s->reason, sizeof s->reason, "Init:%s", waiting);
		else
			snprintf(s->reason, sizeof s->reason, "Init:%zu/%zu", i, ninit);
		return true;
	}
	return false;
}

/* The main containers' loop of printPod, last status first as upstream walks them. */
static void pod_main(const json_t *pod, struct pod_sum *s)
{
	const json_t *st = tbl_get(pod, "status.containerStatuses");
	size_t i = json_is_array(st) ? json_array_size(st) : 0;
	bool running = false;

	while (i-- > 0) {
		const json_t *cs = json_array_get(st, i);
		const char *waiting = tbl_str_or(cs, "state.waiting.reason", NULL);

		s->restarts += tbl_int(cs, "restartCount", 0);
		note_restart(cs, &s->last_restart);
		if (waiting != NULL) {
			snprintf(s->reason, sizeof s->reason, "%s", waiting);
		} else if (tbl_get(cs, "state.terminated") != NULL) {
			terminated_reason(cs, "", s->reason, sizeof s->reason);
		} else if (json_is_true(json_object_get(cs, "ready")) &&
		           tbl_get(cs, "state.running") != NULL) {
			running = true;
			s->ready++;
		}
	}
	/* a pod whose last container completed while another still runs is not "Completed" */
	if (strcmp(s->reason, "Completed") == 0 && running)
		snprintf(s->reason, sizeof s->reason, "%s",
		         cond_true(pod, "Ready") ? "Running" : "NotReady");
}

static void pod_summarize(const json_t *pod, struct pod_sum *s)
{
	const json_t *inits = tbl_get(pod, "spec.initContainers");
	const json_t *conds = tbl_get(pod, "status.conditions");
	const char *phase = tbl_str_or(pod, "status.phase", "");
	int64_t sidecar_restarts = 0, sidecar_last = INT64_MIN;
	size_t i;

	memset(s, 0, sizeof *s);
	s->last_restart = INT64_MIN;
	s->total = (int64_t)json_array_size(tbl_get(pod, "spec.containers"));
	snprintf(s->reason, sizeof s->reason, "%s", tbl_str_or(pod, "status.reason", phase));
	for (i = 0; json_is_array(conds) && i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		if (strcmp(tbl_str_or(c, "type", ""), "PodScheduled") == 0 &&
		    strcmp(tbl_str_or(c, "reason", ""), "SchedulingGated") == 0)
			snprintf(s->reason, sizeof s->reason, "SchedulingGated");
	}
	for (i = 0; json_is_array(inits) && i < json_array_size(inits); i++)
		s->total += strcmp(tbl_str_or(json_array_get(inits, i), "restartPolicy", ""),
		                   "Always") == 0;
	if (!pod_init(pod, s, &sidecar_restarts, &sidecar_last) || cond_true(pod, "Initialized")) {
		s->restarts = sidecar_restarts;
		s->last_restart = sidecar_last;
		pod_main(pod, s);
	}
	if (tbl_get(pod, "metadata.deletionTimestamp") != NULL) {
		if (strcmp(tbl_str_or(pod, "status.reason", ""), "NodeLost") == 0)
			snprintf(s->reason, sizeof s->reason, "Unknown");
		else if (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
			snprintf(s->reason, sizeof s->reason, "Terminating");
	}
}

/* "<n>/<gates>" of the readiness gates whose condition is True, "<none>" without gates. */
static void pod_gates(const json_t *pod, char *out, size_t len)
{
	const json_t *gates = tbl_get(pod, "spec.readinessGates");
	size_t i, n = json_is_array(gates) ? json_array_size(gates) : 0, ok = 0;

	if (n == 0) {
		snprintf(out, len, "<none>");
		return;
	}
	for (i = 0; i < n; i++)
		ok += cond_true(pod, tbl_str_or(json_array_get(gates, i), "conditionType", ""));
	snprintf(out, len, "%zu/%zu", ok, n);
}

static void pod_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct pod_sum s;
	char buf[192];
	const char *ip = tbl_str(json_array_get(tbl_get(obj, "status.podIPs"), 0), "ip");

	pod_summarize(obj, &s);
	tbl_cell_name(cells, obj);
	snprintf(buf, sizeof buf, "%lld/%lld", (long long)s.ready, (long long)s.total);
	tbl_cell_str(cells, buf);
	tbl_cell_str(cells, s.reason);
	if (s.restarts != 0 && s.last_restart != INT64_MIN) {
		char ago[32];
		tbl_human_duration(now * 1000 - s.last_restart, ago, sizeof ago);
		snprintf(buf, sizeof buf, "%lld (%s ago)", (long long)s.restarts, ago);
	} else {
		snprintf(buf, sizeof buf, "%lld", (long long)s.restarts);
	}
	tbl_cell_str(cells, buf);
	tbl_cell_age(cells, obj, now);
	/* upstream reads status.podIPs[0]; a pod written with only status.podIP still shows it */
	if (ip == NULL || *ip == '\0')
		ip = tbl_str_or(obj, "status.podIP", "<none>");
	tbl_cell_str(cells, ip);
	tbl_cell_str(cells, tbl_str_or(obj, "spec.nodeName", "<none>"));
	tbl_cell_str(cells, tbl_str_or(obj, "status.nominatedNodeName", "<none>"));
	pod_gates(obj, buf, sizeof buf);
	tbl_cell_str(cells, buf);
}

const struct api_table_def api_table_pods = {pod_columns, pod_cells};

json_t *tbl_pod_conditions(const json_t *pod)
{
	const char *phase = tbl_str_or(pod, "status.phase", "");

	/* podSuccessConditions / podFailedConditions of printers.go */
	if (strcmp(phase, "Succeeded") == 0)
		return json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed", "status", "True",
		                 "reason", "Succeeded", "message",
		                 "The pod has completed successfully.");
	if (strcmp(phase, "Failed") == 0)
		return json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed", "status", "True",
		                 "reason", "Failed", "message", "The pod failed.");
	return NULL;
}
