/* node_fixture.c — see node_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "node_fixture.h"
#include "sts_fixture.h"

struct nfx *nfx_new(void)
{
	struct nfx *f = test_calloc(1, sizeof *f);

	f->node =
	    J("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\","
	      "\"uid\":\"node-uid\",\"resourceVersion\":\"5\","
	      "\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
	      "\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\","
	      "\"effect\":\"NoSchedule\"}]},"
	      "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
	      "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
	      "\"message\":\"kubelet is posting ready status\","
	      "\"lastHeartbeatTime\":\"2026-11-27T13:59:00Z\","
	      "\"lastTransitionTime\":\"2026-11-27T10:00:00Z\"}]}}");
	f->cfg.grace_ms = GRACE;
	f->cfg.fence_ms = FENCE;
	return f;
}

void nfx_free(struct nfx *f)
{
	json_decref(f->node);
	for (size_t i = 0; i < f->n_pods; i++)
		json_decref(f->pods[i]);
	ctl_plan_free(&f->plan);
	test_free(f);
}

/* A pod bound to n1 in default, rv 20 + its index. */
json_t *npod(struct nfx *f, const char *name, const char *uid, const char *phase, bool ready)
{
	char text[1024];

	assert_true(f->n_pods < MAX);
	snprintf(text, sizeof text,
	         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
	         "\"namespace\":\"default\",\"uid\":\"%s\",\"resourceVersion\":\"%zu\"},"
	         "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"%s\",\"conditions\":["
	         "{\"type\":\"PodScheduled\",\"status\":\"True\"},"
	         "{\"type\":\"Ready\",\"status\":\"%s\","
	         "\"lastTransitionTime\":\"2026-11-27T10:00:00Z\"}]}}",
	         name, uid, 20 + f->n_pods, phase, ready ? "True" : "False");
	f->pods[f->n_pods] = J(text);
	return f->pods[f->n_pods++];
}

void nclaim(struct nfx *f, const char *set, uint32_t ord, const char *uid, const char *pod_name,
            bool releasing)
{
	assert_true(f->n_claims < MAX);
	f->claims[f->n_claims++] = (struct ctl_node_claim){
	    .ns = "default",
	    .set = set,
	    .ordinal = ord,
	    .pod_uid = uid,
	    .pod_name = pod_name,
	    .releasing = releasing,
	};
}

struct ctl_node_input nfx_input(struct nfx *f)
{
	return (struct ctl_node_input){
	    .node = f->node,
	    .silent_ms = f->silent_ms,
	    .pods = (const json_t *const *)f->pods,
	    .n_pods = f->n_pods,
	    .pinned = f->pinned,
	    .claims = f->claims,
	    .n_claims = f->n_claims,
	    .cfg = &f->cfg,
	    .now = NOW_S,
	};
}

void plan_node(struct nfx *f)
{
	struct ctl_node_input in = nfx_input(f);

	ctl_plan_free(&f->plan);
	assert_int_equal(ctl_node_plan(&in, &f->plan), STSD_OK);
	assert_false(f->plan.oom);
}

size_t ncount(const struct nfx *f, enum ctl_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < f->plan.n; i++)
		n += f->plan.a[i].kind == kind;
	return n;
}

/* The action of kind on name (any resource), or NULL. */
const struct ctl_action *act(const struct nfx *f, enum ctl_kind kind, const char *name)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.a[i].kind == kind && strcmp(f->plan.a[i].name, name) == 0)
			return &f->plan.a[i];
	return NULL;
}

const struct ctl_action *nevent(const struct nfx *f, const char *reason)
{
	for (size_t i = 0; i < f->plan.n; i++)
		if (f->plan.a[i].kind == CTL_EVENT && strcmp(f->plan.a[i].reason, reason) == 0)
			return &f->plan.a[i];
	return NULL;
}

static size_t pod_index(const struct nfx *f, const char *ns, const char *name)
{
	for (size_t i = 0; i < f->n_pods; i++)
		if (json_is_object(f->pods[i]) && ctl_str(f->pods[i], "metadata.name") &&
		    strcmp(ctl_str(f->pods[i], "metadata.name"), name) == 0 &&
		    strcmp(ctl_str(f->pods[i], "metadata.namespace"), ns) == 0)
			return i;
	fail_msg("no pod %s/%s", ns, name);
	return 0;
}

static void drop_claim(struct nfx *f, const struct ctl_action *a)
{
	for (size_t i = 0; i < f->n_claims; i++) {
		const struct ctl_node_claim *c = &f->claims[i];
		if (strcmp(c->pod_uid, a->claim_uid) == 0 && strcmp(c->set, a->claim_set) == 0 &&
		    c->ordinal == a->claim_ordinal && strcmp(c->ns, a->ns) == 0) {
			f->claims[i] = f->claims[--f->n_claims];
			return;
		}
	}
	fail_msg("no claim %s/%s-%u held by %s", a->ns, a->claim_set, a->claim_ordinal,
	         a->claim_uid);
}

static void remove_pod_at(struct nfx *f, size_t i)
{
	json_decref(f->pods[i]);
	memmove(&f->pods[i], &f->pods[i + 1], (f->n_pods - i - 1) * sizeof f->pods[0]);
	memmove(&f->pinned[i], &f->pinned[i + 1], (f->n_pods - i - 1) * sizeof f->pinned[0]);
	f->n_pods--;
}

static void bump_rv(json_t *obj, uint64_t rv)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%llu", (unsigned long long)rv + 1);
	set_path(obj, "metadata.resourceVersion", json_string(buf));
}

static void apply_pod_action(struct nfx *f, const struct ctl_action *a)
{
	size_t i = pod_index(f, a->ns, a->name);

	assert_int_equal(a->expect_rv, ctl_rv(f->pods[i]));
	if (a->kind == CTL_DELETE) {
		assert_true(a->force);
		if (a->claim)
			drop_claim(f, a);
		remove_pod_at(f, i);
		return;
	}
	assert_true(a->kind == CTL_UPDATE || a->kind == CTL_UPDATE_STATUS);
	json_decref(f->pods[i]);
	f->pods[i] = json_deep_copy(a->obj);
	bump_rv(f->pods[i], a->expect_rv);
}

/* The executor, as the store would take the plan: one action per object, every precondition
 * true, claims released by holder. */
static void napply(struct nfx *f)
{
	for (size_t i = 0; i < f->plan.n; i++)
		for (size_t j = i + 1; j < f->plan.n; j++) {
			const struct ctl_action *x = &f->plan.a[i], *y = &f->plan.a[j];
			if (x->kind != CTL_EVENT && y->kind != CTL_EVENT &&
			    strcmp(x->resource, y->resource) == 0 && strcmp(x->ns, y->ns) == 0 &&
			    strcmp(x->name, y->name) == 0)
				fail_msg("two actions on %s %s/%s", x->resource, x->ns, x->name);
		}
	for (size_t i = 0; i < f->plan.n; i++) {
		const struct ctl_action *a = &f->plan.a[i];
		if (a->kind == CTL_EVENT)
			continue;
		if (a->kind == CTL_RELEASE_CLAIM) {
			drop_claim(f, a);
		} else if (strcmp(a->resource, "nodes") == 0) {
			assert_int_equal(a->kind, CTL_UPDATE);
			assert_int_equal(a->expect_rv, ctl_rv(f->node));
			json_decref(f->node);
			f->node = json_deep_copy(a->obj);
			bump_rv(f->node, a->expect_rv);
		} else {
			assert_string_equal(a->resource, "pods");
			apply_pod_action(f, a);
		}
	}
}

/* Plan, apply, plan again: the second plan must be empty. */
void converges(struct nfx *f)
{
	plan_node(f);
	napply(f);
	plan_node(f);
	if (f->plan.n != 0)
		fail_msg("not idempotent: %zu actions, first kind %d on %s", f->plan.n,
		         (int)f->plan.a[0].kind, f->plan.a[0].name);
}

json_t *cond(const json_t *obj, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(at(obj, "status.conditions"), i, c)
	{
		if (S(c, "type") && strcmp(S(c, "type"), type) == 0)
			return c;
	}
	return NULL;
}

json_t *taint(const json_t *node, const char *key, const char *effect)
{
	json_t *t;
	size_t i;

	json_array_foreach(at(node, "spec.taints"), i, t)
	{
		if (S(t, "key") && S(t, "effect") && strcmp(S(t, "key"), key) == 0 &&
		    strcmp(S(t, "effect"), effect) == 0)
			return t;
	}
	return NULL;
}
