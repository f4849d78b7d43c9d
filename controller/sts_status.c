/* sts_status.c — a StatefulSet's status as upstream rebuilds it each sync (upstream
 * pkg/controller/statefulset/stateful_set_control.go: computeReplicaStatus, updateStatus,
 * updateStatefulSetStatus; stateful_set_utils.go: completeRollingUpdate, inconsistentStatus). */
#include <string.h>
#include <sys/types.h>

#include "sts_internal.h"
#include "util.h"

void sts_count(struct sts_sync *s)
{
	const struct ctl_revisions *r = s->in->rev;
	struct sts_counts *c = &s->counts;

	memset(c, 0, sizeof *c);
	/* Pods with a valid ordinal, in range or condemned (not created ones count nowhere). */
	for (size_t i = 0; i < s->n_pods; i++) {
		const json_t *p = s->pods[i].obj;
		const char *rev = sts_revision(p);

		if (sts_created(p))
			c->replicas++;
		if (sts_running_ready(p)) {
			c->ready++;
			if (sts_available(p, s->min_ready, s->in->now))
				c->available++;
		}
		if (sts_created(p) && !sts_terminating(p)) {
			c->current += strcmp(rev, r->current) == 0;
			c->updated += strcmp(rev, r->update) == 0;
		}
	}
}

/* Set key to n, or drop it when zero (apps/v1 marks these omitempty). */
static int set_count(json_t *st, const char *key, int64_t n, bool always)
{
	if (n == 0 && !always)
		return json_object_del(st, key), 0;
	return json_object_set_new(st, key, json_integer(n));
}

static int set_rev(json_t *st, const char *key, const char *rev)
{
	if (rev == NULL || *rev == '\0')
		return json_object_del(st, key), 0;
	return json_object_set_new(st, key, json_string(rev));
}

/* The index of the condition of type in conds, or -1. */
static ssize_t find_condition(const json_t *conds, const char *type)
{
	size_t i;
	const json_t *c;

	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t != NULL && strcmp(t, type) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* The RolloutPaused condition while paused, none otherwise; other conditions are left alone
 * (upstream sets none: any there belong to someone else). An existing one is kept as it is, so
 * that lastTransitionTime stays the time of the pause. */
static int set_paused_condition(const struct sts_sync *s, json_t *st)
{
	json_t *conds = json_object_get(st, "conditions");
	ssize_t at = find_condition(conds, CTL_STS_CONDITION_PAUSED);
	char now[32];

	if (!s->paused) {
		if (at >= 0)
			json_array_remove(conds, (size_t)at);
		if (conds != NULL && (!json_is_array(conds) || json_array_size(conds) == 0))
			json_object_del(st, "conditions");
		return 0;
	}
	if (at >= 0)
		return 0;
	if (!json_is_array(conds)) {
		if (json_object_set_new(st, "conditions", json_array()) != 0)
			return -1;
		conds = json_object_get(st, "conditions");
	}
	util_format_rfc3339(s->in->now, now, sizeof now);
	return json_array_append_new(
	    conds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", CTL_STS_CONDITION_PAUSED, "status",
	                     "True", "lastTransitionTime", now, "reason", "Paused", "message",
	                     "the rolling update replaces no pod while the annotation "
	                     "stsd.io/rollout-paused is \"true\" (stsctl rollout resume)"));
}

json_t *sts_status_json(const struct sts_sync *s)
{
	const json_t *old = json_object_get(s->in->set, "status");
	const struct ctl_revisions *r = s->in->rev;
	struct sts_counts c = s->counts;
	const char *current = r->current;
	json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
	int64_t gen = ctl_int(s->in->set, "metadata.generation", 0);
	int rc = 0;

	/* completeRollingUpdate (upstream >= 1.28 form): spec.replicas pods, all updated and ready;
	 * older releases compared with the created pods only and completed mid scale-up. */
	if (!s->on_delete && c.updated == s->replicas && c.ready == s->replicas &&
	    c.replicas == s->replicas) {
		c.current = c.updated;
		current = r->update;
	}
	if (st == NULL)
		return NULL;
	rc |= set_count(st, "observedGeneration", gen, false);
	rc |= set_count(st, "replicas", c.replicas, true);
	rc |= set_count(st, "readyReplicas", c.ready, false);
	rc |= set_count(st, "currentReplicas", c.current, false);
	rc |= set_count(st, "updatedReplicas", c.updated, false);
	rc |= set_count(st, "availableReplicas", c.available, true);
	rc |= set_rev(st, "currentRevision", current);
	rc |= set_rev(st, "updateRevision", r->update);
	rc |= set_count(st, "collisionCount", r->collision_count, true);
	rc |= set_paused_condition(s, st);
	if (rc != 0) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static bool differs(const json_t *a, const json_t *b, const char *key)
{
	const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	if (json_is_string(x) || json_is_string(y))
		return strcmp(json_is_string(x) ? json_string_value(x) : "",
		              json_is_string(y) ? json_string_value(y) : "") != 0;
	/* Omitted counts are zero; collisionCount is written even when zero. */
	return json_integer_value(x) != json_integer_value(y) ||
	       (strcmp(key, "collisionCount") == 0 && (x == NULL) != (y == NULL));
}

void sts_plan_status(struct sts_sync *s, const json_t *status)
{
	static const char *const keys[] = {
	    "observedGeneration", "replicas",        "readyReplicas",
	    "currentReplicas",    "updatedReplicas", "availableReplicas",
	    "currentRevision",    "updateRevision",  "collisionCount"};
	const json_t *old = json_object_get(s->in->set, "status");
	bool changed = false;
	json_t *set;
	struct ctl_action *a;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		changed |= differs(old, status, keys[i]);
	changed |= !json_equal(json_object_get(old, "conditions"),
	                       json_object_get(status, "conditions")) &&
	           (json_object_get(old, "conditions") != NULL ||
	            json_object_get(status, "conditions") != NULL);
	if (!changed)
		return;
	set = json_deep_copy(s->in->set);
	if (set == NULL || json_object_set(set, "status", (json_t *)status) != 0) {
		json_decref(set);
		s->error = true;
		return;
	}
	a = ctl_plan_add(s->plan, CTL_UPDATE_STATUS, "statefulsets", s->ns, s->name, set);
	if (a == NULL) {
		s->error = true;
		return;
	}
	a->expect_rv = ctl_rv(s->in->set);
}

void sts_plan_pause_event(struct sts_sync *s)
{
	const json_t *conds = json_object_get(json_object_get(s->in->set, "status"), "conditions");
	bool shown = find_condition(conds, CTL_STS_CONDITION_PAUSED) >= 0;

	if (s->paused && !shown)
		ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal", "RolloutPaused",
		               "rolling update of StatefulSet %s/%s paused at update revision %s",
		               s->ns, s->name, s->in->rev->update);
	else if (!s->paused && shown)
		ctl_plan_event(s->plan, "statefulsets", s->ns, s->name, "Normal", "RolloutResumed",
		               "rolling update of StatefulSet %s/%s resumed at update revision %s",
		               s->ns, s->name, s->in->rev->update);
}
