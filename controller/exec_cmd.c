/* exec_cmd.c — plans into commands. Every action becomes store ops with the preconditions the
 * planner asked for (expect_rv), so that a plan made from a stale snapshot fails as a command
 * instead of overwriting newer state (decision 009). A pod's creation and its ordinal claim are
 * one group that never straddles two commands: the store refuses the pod when the claim is held,
 * which is what makes an identity unique (DESIGN.md, Identity). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "errors.h"
#include "exec_internal.h"
#include "util.h"

#define CMD_MAX_OPS   2000
#define CMD_MAX_BYTES ((size_t)2 << 20) /* well under consensus' 4 MiB entry */

static struct ctl_cmd *last(struct ctl_cmds *cs)
{
	return cs->n ? &cs->c[cs->n - 1] : NULL;
}

static size_t cmd_bytes(const struct ctl_cmd *c)
{
	size_t b = 0;
	for (size_t i = 0; i < c->n; i++)
		b += c->ops[i].json_len + 128;
	return b;
}

static bool new_cmd(struct ctl_cmds *cs)
{
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 4;
		struct ctl_cmd *c = realloc(cs->c, cap * sizeof *c);
		if (c == NULL)
			return !(cs->oom = true);
		cs->c = c;
		cs->cap = cap;
	}
	memset(&cs->c[cs->n++], 0, sizeof cs->c[0]);
	return true;
}

void cmd_reserve(struct ctl_cmds *cs, size_t n_ops, size_t bytes)
{
	struct ctl_cmd *c = last(cs);

	if (c == NULL || (c->n > 0 && (c->n + n_ops > CMD_MAX_OPS ||
	                               cmd_bytes(c) + bytes + 128 * n_ops > CMD_MAX_BYTES)))
		new_cmd(cs);
}

/* A new zeroed op at the end of command c of cs. */
static struct store_op *op_in(struct ctl_cmds *cs, struct ctl_cmd *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct store_op *ops = realloc(c->ops, cap * sizeof *ops);
		if (ops == NULL) {
			cs->oom = true;
			return NULL;
		}
		c->ops = ops;
		c->cap = cap;
	}
	memset(&c->ops[c->n], 0, sizeof c->ops[0]);
	return &c->ops[c->n++];
}

struct store_op *cmd_op(struct ctl_cmds *cs)
{
	struct ctl_cmd *c = last(cs);

	if (c == NULL && (!new_cmd(cs) || (c = last(cs)) == NULL))
		return NULL;
	return op_in(cs, c);
}

static const char *own(struct ctl_cmds *cs, char *s)
{
	struct ctl_cmd *c = last(cs);

	if (s == NULL || (c == NULL && (!new_cmd(cs) || (c = last(cs)) == NULL)))
		goto fail;
	if (c->n_owned == c->cap_owned) {
		size_t cap = c->cap_owned ? 2 * c->cap_owned : 16;
		char **o = realloc(c->owned, cap * sizeof *o);
		if (o == NULL)
			goto fail;
		c->owned = o;
		c->cap_owned = cap;
	}
	c->owned[c->n_owned++] = s;
	return s;
fail:
	free(s);
	cs->oom = true;
	return NULL;
}

const char *cmd_str(struct ctl_cmds *cs, const char *s)
{
	return s ? own(cs, strdup(s)) : NULL;
}

const char *cmd_json(struct ctl_cmds *cs, const json_t *obj, size_t *len)
{
	const char *s = own(cs, json_dumps(obj, JSON_COMPACT));

	*len = s ? strlen(s) : 0;
	return s;
}

void cmd_free(struct ctl_cmds *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		for (size_t j = 0; j < cs->c[i].n_owned; j++)
			free(cs->c[i].owned[j]);
		free(cs->c[i].owned);
		free(cs->c[i].ops);
	}
	free(cs->c);
	memset(cs, 0, sizeof *cs);
}

int cmd_assert_all(struct ctl_cmds *cs, const char *resource, const char *ns, const char *name,
                   uint64_t rv)
{
	/* The strings live in the last command; every command of cs is freed together, and
	 * consensus copies a command's ops when it is proposed. */
	const char *r = cmd_str(cs, resource), *n = cmd_str(cs, ns), *nm = cmd_str(cs, name);

	for (size_t i = 0; i < cs->n && !cs->oom; i++) {
		struct store_op *op = op_in(cs, &cs->c[i]);
		if (op == NULL)
			break;
		*op = (struct store_op){.type = STORE_OP_ASSERT,
		                        .resource = r,
		                        .ns = n,
		                        .name = nm,
		                        .expect_rv = rv,
		                        .expect_absent = rv == 0};
	}
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

size_t cmd_count_ops(const struct ctl_cmds *cs)
{
	size_t n = 0;
	for (size_t i = 0; i < cs->n; i++)
		n += cs->c[i].n;
	return n;
}

void cmd_uuid(char out[37])
{
	unsigned char b[16];
	char hex[33];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* Never seen on Linux >= 3.17 for 16 bytes; the clock still gives a unique value.
		 */
		uint64_t t = util_now_mono_ns();
		memcpy(b, &t, sizeof t);
		memcpy(b + 8, &t, sizeof t);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	util_hex(b, sizeof b, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- Actions ------------------------------------------------------------------------------ */

static const char *ns_of(const struct ctl_action *a)
{
	return a->ns;
}

static int put_object(struct ctl_cmds *cs, enum store_op_type type, const struct ctl_action *a,
                      const json_t *obj)
{
	size_t len = 0;
	const char *json = obj ? cmd_json(cs, obj, &len) : NULL;
	struct store_op *op = cmd_op(cs);

	if (op == NULL || (obj && json == NULL))
		return STSD_NOMEM;
	op->type = type;
	op->resource = cmd_str(cs, a->resource);
	op->ns = cmd_str(cs, ns_of(a));
	op->name = cmd_str(cs, a->name);
	op->json = json;
	op->json_len = len;
	op->expect_rv = type == STORE_OP_CREATE ? 0 : a->expect_rv;
	/* A uid the executor chose (a PVC its PV already names) is the object's. */
	if (type == STORE_OP_CREATE && ctl_str(obj, "metadata.uid"))
		op->uid = cmd_str(cs, ctl_str(obj, "metadata.uid"));
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

/* The claim (ns, set, ordinal) acquired for pod uid named name on node (NULL: unbound). */
static int acquire_op(struct ctl_cmds *cs, const struct ctl_action *a, const char *uid,
                      const char *node)
{
	struct store_op *op = cmd_op(cs);

	if (op == NULL)
		return STSD_NOMEM;
	op->type = STORE_OP_CLAIM_ACQUIRE;
	op->ns = cmd_str(cs, a->ns);
	op->name = cmd_str(cs, a->claim_set);
	op->ordinal = a->claim_ordinal;
	op->claim.pod_uid = cmd_str(cs, uid);
	op->claim.pod_name = cmd_str(cs, a->name);
	op->claim.node = node && *node ? cmd_str(cs, node) : NULL;
	op->claim.state = STORE_CLAIM_HELD;
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

/* A pod creation and its claim, in one command. */
static int create_pod(struct ctl_cmds *cs, const struct ctl_action *a)
{
	json_t *meta = json_object_get(a->obj, "metadata");
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	const char *node = ctl_str(a->obj, "spec.nodeName");
	char fresh[37];
	int rv;

	if (uid == NULL) {
		cmd_uuid(fresh);
		uid = fresh;
	}
	cmd_reserve(cs, 2, 4096);
	if ((rv = put_object(cs, STORE_OP_CREATE, a, a->obj)) != STSD_OK)
		return rv;
	if (last(cs)->ops[last(cs)->n - 1].uid == NULL)
		last(cs)->ops[last(cs)->n - 1].uid = cmd_str(cs, uid);
	if (!a->claim)
		return cs->oom ? STSD_NOMEM : STSD_OK;
	return acquire_op(cs, a, uid, node);
}

/* A pod adopted by its set, taking its identity's free claim in the same command (the store
 * refuses the acquire if another pod took the claim meanwhile). */
static int adopt_pod(struct ctl_cmds *cs, const struct ctl_action *a)
{
	const char *uid = ctl_str(a->obj, "metadata.uid"), *node = ctl_str(a->obj, "spec.nodeName");
	int rv;

	if (uid == NULL)
		return STSD_INVALID;
	cmd_reserve(cs, 2, 4096);
	if ((rv = put_object(cs, STORE_OP_UPDATE, a, a->obj)) != STSD_OK)
		return rv;
	return acquire_op(cs, a, uid, node);
}

static bool pod_finished(const json_t *pod)
{
	const char *phase = ctl_str(pod, "status.phase");
	return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

/* The identity a pod holds a claim for (controller StatefulSet, apps.kubernetes.io/pod-index). */
/* The claim op that goes with removing pod, as the API's delete does: released when the pod was
 * never bound (nothing ran), "releasing" when it was (its node confirms, or is fenced). */
static int claim_on_removal(struct ctl_cmds *cs, const struct ctl_action *a, const json_t *pod,
                            const struct cmd_env *env)
{
	const char *holder = NULL, *uid = ctl_str(pod, "metadata.uid");
	const char *node = ctl_str(pod, "spec.nodeName");
	char set[254];
	uint32_t ordinal;
	struct store_op *op;

	if (uid == NULL || !ctl_pod_claim_key(a->name, set, sizeof set, &ordinal) ||
	    env->claim_of == NULL || env->claim_of(env->ud, set, ordinal, &holder) != 1 ||
	    holder == NULL || strcmp(holder, uid) != 0)
		return STSD_OK;
	if ((op = cmd_op(cs)) == NULL)
		return STSD_NOMEM;
	op->type = node && *node ? STORE_OP_CLAIM_SET : STORE_OP_CLAIM_RELEASE;
	op->ns = cmd_str(cs, a->ns);
	op->name = cmd_str(cs, set);
	op->ordinal = ordinal;
	op->expect_pod_uid = cmd_str(cs, uid);
	op->expect_state = STORE_CLAIM_HELD;
	op->claim.state = STORE_CLAIM_RELEASING;
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

/* The claim (ns, claim_set, claim_ordinal) released, held by claim_uid when given. */
static int release_claim(struct ctl_cmds *cs, const struct ctl_action *a)
{
	struct store_op *op = cmd_op(cs);

	if (op == NULL)
		return STSD_NOMEM;
	op->type = STORE_OP_CLAIM_RELEASE;
	op->ns = cmd_str(cs, a->ns);
	op->name = cmd_str(cs, a->claim_set);
	op->ordinal = a->claim_ordinal;
	op->expect_pod_uid = *a->claim_uid ? cmd_str(cs, a->claim_uid) : NULL;
	return cs->oom ? STSD_NOMEM : STSD_OK;
}

/* A fenced node's pod: the object goes at once and its claim is released with it. */
static int delete_fenced(struct ctl_cmds *cs, const struct ctl_action *a)
{
	int rv;

	cmd_reserve(cs, 2, 256);
	if ((rv = put_object(cs, STORE_OP_DELETE, a, NULL)) != STSD_OK || !a->claim)
		return rv;
	return release_claim(cs, a);
}

/* A pod deleted as the API deletes it: a bound pod that may still run is only marked
 * (deletionTimestamp = now + its grace period) and goes when its node confirms. */
static int delete_pod(struct ctl_cmds *cs, const struct ctl_action *a, const struct cmd_env *env)
{
	const json_t *pod = env->lookup ? env->lookup(env->ud, "pods", a->name) : NULL;
	const char *node;
	int64_t grace;
	json_t *marked, *meta;
	char ts[32];
	int rv;

	if (a->force)
		return delete_fenced(cs, a);
	if (pod == NULL)
		return STSD_OK; /* not in the snapshot: nothing to do */
	node = ctl_str(pod, "spec.nodeName");
	grace = ctl_int(pod, "spec.terminationGracePeriodSeconds", 30);
	if (node && *node && !pod_finished(pod) && grace > 0) {
		if (ctl_str(pod, "metadata.deletionTimestamp"))
			return STSD_OK;
		if ((marked = json_deep_copy(pod)) == NULL)
			return STSD_NOMEM;
		meta = json_object_get(marked, "metadata");
		util_format_rfc3339(env->now + grace, ts, sizeof ts);
		json_object_set_new(meta, "deletionTimestamp", json_string(ts));
		json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
		rv = put_object(cs, STORE_OP_UPDATE, a, marked);
		json_decref(marked);
		return rv;
	}
	cmd_reserve(cs, 2, 256);
	if ((rv = put_object(cs, STORE_OP_DELETE, a, NULL)) != STSD_OK)
		return rv;
	return claim_on_removal(cs, a, pod, env);
}

/* A core/v1 Event about the action's object, as upstream's recorder writes it. */
static int put_event(struct ctl_cmds *cs, const struct ctl_action *a, const struct cmd_env *env)
{
	const json_t *about = env->lookup ? env->lookup(env->ud, a->resource, a->name) : NULL;
	static const struct {
		const char *resource, *kind, *api_version;
	} kinds[] = {{"statefulsets", "StatefulSet", "apps/v1"},
	             {"pods", "Pod", "v1"},
	             {"nodes", "Node", "v1"},
	             {"persistentvolumeclaims", "PersistentVolumeClaim", "v1"},
	             {"persistentvolumes", "PersistentVolume", "v1"}};
	const char *kind = a->resource, *api_version = "v1";
	const char *ns = *a->ns ? a->ns : "default";
	char name[254], ts[32], id[37];
	json_t *ev, *involved;
	struct ctl_action ea;
	int rv;

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(a->resource, kinds[i].resource) == 0) {
			kind = kinds[i].kind;
			api_version = kinds[i].api_version;
		}
	cmd_uuid(id);
	snprintf(name, sizeof name, "%.200s.%.8s%.4s%.4s", a->name, id, id + 9, id + 14);
	util_format_rfc3339(env->now, ts, sizeof ts);
	involved =
	    json_pack("{s:s,s:s,s:s}", "kind", kind, "name", a->name, "apiVersion", api_version);
	if (involved && *a->ns)
		json_object_set_new(involved, "namespace", json_string(a->ns));
	if (involved && about && ctl_str(about, "metadata.uid"))
		json_object_set_new(involved, "uid", json_string(ctl_str(about, "metadata.uid")));
	ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s}",
	               "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
	               ns, "involvedObject", involved, "reason", a->reason, "message", a->message,
	               "type", a->event_type, "source", "component", env->component,
	               "firstTimestamp", ts, "lastTimestamp", ts, "count", 1, "reportingComponent",
	               env->component);
	if (ev == NULL)
		return STSD_NOMEM;
	ea = (struct ctl_action){.kind = CTL_CREATE};
	snprintf(ea.resource, sizeof ea.resource, "events");
	snprintf(ea.ns, sizeof ea.ns, "%s", ns);
	snprintf(ea.name, sizeof ea.name, "%s", name);
	rv = put_object(cs, STORE_OP_CREATE, &ea, ev);
	json_decref(ev);
	return rv;
}

static int one_action(struct ctl_cmds *cs, const struct ctl_action *a, const struct cmd_env *env)
{
	bool pod = strcmp(a->resource, "pods") == 0;

	switch (a->kind) {
	case CTL_CREATE:
		return pod ? create_pod(cs, a) : put_object(cs, STORE_OP_CREATE, a, a->obj);
	case CTL_UPDATE:
		return pod && a->claim ? adopt_pod(cs, a)
		                       : put_object(cs, STORE_OP_UPDATE, a, a->obj);
	case CTL_UPDATE_STATUS:
		return put_object(cs, STORE_OP_UPDATE, a, a->obj);
	case CTL_DELETE:
		return pod ? delete_pod(cs, a, env) : put_object(cs, STORE_OP_DELETE, a, NULL);
	case CTL_EVENT:
		return put_event(cs, a, env);
	case CTL_RELEASE_CLAIM:
		return release_claim(cs, a);
	}
	return STSD_INVALID;
}

int cmd_from_plan(struct ctl_cmds *cs, const struct ctl_plan *plan, const struct cmd_env *env)
{
	int rv;

	if (plan->oom)
		return STSD_NOMEM;
	for (size_t i = 0; i < plan->n; i++)
		if ((rv = one_action(cs, &plan->a[i], env)) != STSD_OK)
			return rv;
	return cs->oom ? STSD_NOMEM : STSD_OK;
}
