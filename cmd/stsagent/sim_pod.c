/* sim_pod.c — what a simulated node does with one pod, and the status it writes for it. Pure: the
 * node thread (sim_node.c) supplies the clock and does the I/O.
 *
 * A pod bound to the node goes Pending -> Running (containers running, not ready) -> Ready once
 * --ready-after has passed, as a kubelet whose containers start at once and have no probes
 * (kubelet status_manager / generateAPIPodStatus: conditions PodScheduled, Initialized,
 * ContainersReady and Ready; startTime; hostIP and podIP). Annotations steer it: sim.stsd.io/ready
 * "false" keeps it unready, sim.stsd.io/phase "Failed" or "Succeeded" ends it. A pod marked for
 * deletion is confirmed (deleted with grace period 0) after --terminate-after; so is a pod that
 * disappeared without our confirmation (force-deleted), whose claim the confirmation releases. */
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sim.h"

void sim_time_now(char *buf, size_t len, bool micro)
{
	struct timeval tv;
	struct tm tm;
	char base[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf, len, "%s.%06ldZ", base, (long)tv.tv_usec);
	else
		snprintf(buf, len, "%sZ", base);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static const char *annotation(const json_t *pod, const char *key)
{
	return str_at(json_object_get(pod, "metadata"), "annotations", key);
}

static const char *condition_status(const json_t *status, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(status, "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t != NULL && strcmp(t, type) == 0)
			return json_string_value(json_object_get(c, "status"));
	}
	return NULL;
}

/* Set condition type to value in status.conditions; lastTransitionTime moves only when the value
 * changes (as upstream). reason may be NULL. */
static void set_condition(json_t *status, const char *type, bool value, const char *reason,
                          const char *now)
{
	json_t *conds = json_object_get(status, "conditions"), *c, *nc;
	const char *v = value ? "True" : "False";
	size_t i;

	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t == NULL || strcmp(t, type) != 0)
			continue;
		if (json_string_value(json_object_get(c, "status")) == NULL ||
		    strcmp(json_string_value(json_object_get(c, "status")), v) != 0)
			json_object_set_new(c, "lastTransitionTime", json_string(now));
		json_object_set_new(c, "status", json_string(v));
		if (reason != NULL)
			json_object_set_new(c, "reason", json_string(reason));
		else
			json_object_del(c, "reason");
		return;
	}
	nc = json_pack("{s:s,s:s,s:n,s:s}", "type", type, "status", v, "lastProbeTime",
	               "lastTransitionTime", now);
	if (nc != NULL && reason != NULL)
		json_object_set_new(nc, "reason", json_string(reason));
	json_array_append_new(conds, nc);
}

/* The old container status of name in list, if any. */
static json_t *old_container(json_t *list, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

/* The time a container started: its old running/terminated startedAt, else now. */
static const char *started_at(json_t *old, const char *now)
{
	json_t *state = json_object_get(old, "state");
	const char *s = str_at(state, "running", "startedAt");

	if (s == NULL)
		s = str_at(state, "terminated", "startedAt");
	return s != NULL ? s : now;
}

enum ctr_state { CTR_RUNNING, CTR_DONE, CTR_FAILED };

/* One container status: a simulated container that runs (ready or not) or ended. */
static json_t *container_status(const json_t *pod, json_t *spec_c, json_t *old, enum ctr_state st,
                                bool ready, const char *now)
{
	const char *name = json_string_value(json_object_get(spec_c, "name"));
	const char *image = json_string_value(json_object_get(spec_c, "image"));
	const char *uid = str_at(pod, "metadata", "uid");
	const char *since = started_at(old, now);
	char id[512], image_id[512];
	json_t *state;

	snprintf(id, sizeof id, "sim://%.64s/%.253s", uid ? uid : "", name ? name : "");
	snprintf(image_id, sizeof image_id, "sim://%.500s", image ? image : "");
	if (st == CTR_RUNNING)
		state = json_pack("{s:{s:s}}", "running", "startedAt", since);
	else
		state = json_pack("{s:{s:i,s:s,s:s,s:s}}", "terminated", "exitCode",
		                  st == CTR_FAILED ? 1 : 0, "reason",
		                  st == CTR_FAILED ? "Error" : "Completed", "startedAt", since,
		                  "finishedAt", now);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:i,s:o}", "name", name ? name : "", "image",
	                 image ? image : "", "imageID", image_id, "containerID", id, "ready", ready,
	                 "started", st == CTR_RUNNING, "restartCount", 0, "state", state);
}

/* status[key] for every container of spec[spec_key]. */
static void set_containers(const json_t *pod, json_t *status, const char *key, const char *spec_key,
                           enum ctr_state st, bool ready, const char *now)
{
	json_t *specs = json_object_get(json_object_get(pod, "spec"), spec_key), *c;
	json_t *old = json_object_get(status, key), *list = json_array();
	size_t i;

	json_array_foreach(specs, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));
		json_array_append_new(
		    list,
		    container_status(pod, c, old_container(old, name ? name : ""), st, ready, now));
	}
	if (json_array_size(list) > 0)
		json_object_set_new(status, key, list);
	else
		json_decref(list);
}

/* A copy of pod with its status running (ready or not), or ended with phase. */
static json_t *with_status(const json_t *pod, const char *phase, bool ready, const char *now,
                           const char *pod_ip, const char *host_ip)
{
	json_t *out = json_deep_copy(pod), *status;
	bool running = strcmp(phase, "Running") == 0, failed = strcmp(phase, "Failed") == 0;
	enum ctr_state st = running ? CTR_RUNNING : failed ? CTR_FAILED : CTR_DONE;

	if (out == NULL)
		return NULL;
	status = json_object_get(out, "status");
	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(out, "status", status);
	}
	json_object_set_new(status, "phase", json_string(phase));
	if (json_object_get(status, "startTime") == NULL)
		json_object_set_new(status, "startTime", json_string(now));
	json_object_set_new(status, "hostIP", json_string(host_ip));
	json_object_set_new(status, "hostIPs", json_pack("[{s:s}]", "ip", host_ip));
	json_object_set_new(status, "podIP", json_string(pod_ip));
	json_object_set_new(status, "podIPs", json_pack("[{s:s}]", "ip", pod_ip));
	set_condition(status, "PodScheduled", true, NULL, now);
	set_condition(status, "Initialized", true, NULL, now);
	set_condition(status, "ContainersReady", ready, ready ? NULL : "ContainersNotReady", now);
	set_condition(status, "Ready", ready,
	              ready     ? NULL
	              : running ? "ContainersNotReady"
	              : failed  ? "PodFailed"
	                        : "PodCompleted",
	              now);
	set_containers(pod, status, "initContainerStatuses", "initContainers", CTR_DONE, true, now);
	set_containers(pod, status, "containerStatuses", "containers", st, ready, now);
	return out;
}

static bool is_terminal(const char *phase)
{
	return phase != NULL && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0);
}

/* A Running pod: Ready once ready_after has passed, unless its annotation says otherwise. */
static enum sim_action plan_running(struct sim_pod *p, const struct sim_config *cfg, uint64_t now,
                                    const char *ts, const char *pod_ip, const char *host_ip,
                                    json_t **out, uint64_t *wake_at)
{
	const json_t *status = json_object_get(p->obj, "status");
	const char *ann = annotation(p->obj, SIM_ANN_READY),
	           *cur = condition_status(status, "Ready");
	bool hold = ann != NULL && strcmp(ann, "false") == 0;
	uint64_t due = p->running_since + (uint64_t)cfg->ready_after_ms;
	bool want = !hold && now >= due, ready = cur != NULL && strcmp(cur, "True") == 0;

	if (!hold && now < due)
		*wake_at = due;
	if (want == ready)
		return SIM_NONE;
	*out = with_status(p->obj, "Running", want, ts, pod_ip, host_ip);
	return *out != NULL ? SIM_STATUS : SIM_NONE;
}

enum sim_action sim_pod_plan(struct sim_pod *p, const struct sim_config *cfg, uint64_t now,
                             const char *now_rfc3339, const char *pod_ip, const char *host_ip,
                             json_t **out, uint64_t *wake_at)
{
	const char *phase = str_at(p->obj, "status", "phase");
	const char *want_phase = annotation(p->obj, SIM_ANN_PHASE);

	*out = NULL;
	*wake_at = 0;
	/* Marked for deletion, or already gone (force-deleted): the processes stop, then the end
	 * is confirmed. */
	if (p->gone || str_at(p->obj, "metadata", "deletionTimestamp") != NULL) {
		if (p->deleting_since == 0)
			p->deleting_since = now;
		if (now >= p->deleting_since + (uint64_t)cfg->terminate_ms)
			return SIM_CONFIRM;
		*wake_at = p->deleting_since + (uint64_t)cfg->terminate_ms;
		return SIM_NONE;
	}
	if (is_terminal(phase))
		return SIM_NONE; /* a kubelet never restarts a finished pod */
	if (is_terminal(want_phase)) {
		*out = with_status(p->obj, want_phase, false, now_rfc3339, pod_ip, host_ip);
		return *out != NULL ? SIM_STATUS : SIM_NONE;
	}
	if (phase == NULL || strcmp(phase, "Running") != 0) {
		p->running_since = now;
		*out = with_status(p->obj, "Running", false, now_rfc3339, pod_ip, host_ip);
		return *out != NULL ? SIM_STATUS : SIM_NONE;
	}
	/* Found Running (after a restart of the agent): its wait is over, and a Ready pod must
	 * not blink unready. */
	if (p->running_since == 0)
		p->running_since =
		    now > (uint64_t)cfg->ready_after_ms ? now - (uint64_t)cfg->ready_after_ms : 1;
	return plan_running(p, cfg, now, now_rfc3339, pod_ip, host_ip, out, wake_at);
}
