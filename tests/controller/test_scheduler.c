/* test_scheduler.c — the pod scheduler: each filter with its FailedScheduling wording, the counted
 * message, the seed's anti-affinity set, exact resource fits, pinning, scoring and bad input
 * (controller/scheduler.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "scheduler.h"

#define MAXN 16
#define MAXP 64

/* The cluster under test; every object is released in teardown. */
static struct {
	const json_t *nodes[MAXN];
	size_t n_nodes;
	const json_t *pods[MAXP];
	size_t n_pods;
	json_t *extra[MAXP]; /* pods to schedule, owned here too */
	size_t n_extra;
	char node[254];
	char why[1024];
} f;

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < f.n_nodes; i++)
		json_decref((json_t *)f.nodes[i]);
	for (size_t i = 0; i < f.n_pods; i++)
		json_decref((json_t *)f.pods[i]);
	for (size_t i = 0; i < f.n_extra; i++)
		json_decref(f.extra[i]);
	return 0;
}

/* JSON from a printf format written with ' for " (readable literals). */
static json_t *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *J(const char *fmt, ...)
{
	char buf[4096];
	json_error_t err;
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(buf, 0, &err);
	if (v == NULL)
		fail_msg("bad test JSON: %s in %s", err.text, buf);
	return v;
}

/* A Ready node with allocatable cpu, memory and pods; spec_extra/labels are JSON fragments. */
static json_t *add_node_ex(const char *name, const char *cpu, const char *mem, int pods,
                           const char *labels, const char *spec, const char *ready)
{
	json_t *n = J("{'metadata':{'name':'%s','labels':%s},'spec':%s,'status':{'allocatable':"
	              "{'cpu':'%s','memory':'%s','ephemeral-storage':'10Gi','pods':'%d'},"
	              "'conditions':[{'type':'MemoryPressure','status':'False'},"
	              "{'type':'Ready','status':'%s'}]}}",
	              name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem, pods, ready);

	assert_true(f.n_nodes < MAXN);
	f.nodes[f.n_nodes++] = n;
	return n;
}

static json_t *add_node(const char *name)
{
	return add_node_ex(name, "4", "8Gi", 110, NULL, NULL, "True");
}

/* A pod in ns with labels, requests (a JSON object or NULL), extra spec fields (a JSON fragment
 * without braces, or NULL) and an owner uid (or NULL). */
static json_t *mkpod(const char *ns, const char *name, const char *labels, const char *requests,
                     const char *spec, const char *owner)
{
	char own[256] = "";

	if (owner)
		snprintf(
		    own, sizeof own,
		    ",'ownerReferences':[{'apiVersion':'apps/v1','kind':'StatefulSet','name':'x',"
		    "'uid':'%s','controller':true}]",
		    owner);
	return J("{'metadata':{'namespace':'%s','name':'%s','labels':%s%s},'spec':{%s%s"
	         "'containers':[{'name':'c','image':'i','resources':{'requests':%s}}]},"
	         "'status':{'phase':'Pending'}}",
	         ns, name, labels ? labels : "{}", own, spec ? spec : "", spec ? "," : "",
	         requests ? requests : "{}");
}

/* A pod to schedule (owned by the fixture). */
static json_t *want(const char *labels, const char *requests, const char *spec)
{
	json_t *p = mkpod("default", "new", labels, requests, spec, NULL);

	f.extra[f.n_extra++] = p;
	return p;
}

/* A pod bound to node, counted as existing. */
static json_t *bind(const char *node, json_t *pod)
{
	json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
	json_object_set_new(json_object_get(pod, "status"), "phase", json_string("Running"));
	assert_true(f.n_pods < MAXP);
	f.pods[f.n_pods++] = pod;
	return pod;
}

static int sched(const json_t *pod, const char *pinned)
{
	struct ctl_sched_input in = {pod, f.nodes, f.n_nodes, f.pods, f.n_pods, pinned};

	f.node[0] = 'X';
	return ctl_schedule(&in, f.node, sizeof f.node, f.why, sizeof f.why);
}

static void expect_node(const json_t *pod, const char *node)
{
	int rc = sched(pod, NULL);

	if (rc != 0)
		fail_msg("rc %d: %s", rc, f.why);
	assert_string_equal(f.node, node);
	assert_string_equal(f.why, "");
}

static void expect_why(const json_t *pod, const char *pinned, const char *why)
{
	assert_int_equal(sched(pod, pinned), STSD_NOTFOUND);
	assert_string_equal(f.why, why);
	assert_string_equal(f.node, "");
}

#define ANTI_PROD                                                                                  \
	"'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"       \
	"'labelSelector':{'matchExpressions':[{'key':'app','operator':'In','values':['production-" \
	"app']}]},'topologyKey':'kubernetes.io/hostname'}]}}"

/* ---- each filter alone ---- */

static void test_fits(void **state)
{
	(void)state;
	add_node("n1");
	expect_node(want(NULL, NULL, NULL), "n1");
}

static void test_not_ready(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, NULL, NULL, "False");
	expect_why(want(NULL, NULL, NULL), NULL,
	           "0/1 nodes are available: 1 node(s) had untolerated taint "
	           "{node.kubernetes.io/not-ready: }.");
}

static void test_unreachable_even_if_tolerated(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, NULL, NULL, "Unknown");
	/* tolerating everything still does not place a pod on a node without an agent */
	expect_why(want(NULL, NULL, "'tolerations':[{'operator':'Exists'}]"), NULL,
	           "0/1 nodes are available: 1 node(s) had untolerated taint "
	           "{node.kubernetes.io/unreachable: }.");
}

static void test_unschedulable(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, NULL, "{'unschedulable':true}", "True");
	expect_why(want(NULL, NULL, NULL), NULL,
	           "0/1 nodes are available: 1 node(s) were unschedulable.");
	expect_node(want(NULL, NULL,
	                 "'tolerations':[{'key':'node.kubernetes.io/unschedulable',"
	                 "'operator':'Exists','effect':'NoSchedule'}]"),
	            "n1");
}

static void test_taints(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, NULL,
	            "{'taints':[{'key':'soft','effect':'PreferNoSchedule'},"
	            "{'key':'dedicated','value':'db','effect':'NoSchedule'}]}",
	            "True");
	expect_why(want(NULL, NULL, NULL), NULL,
	           "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.");
	/* wrong value, wrong effect: still untolerated */
	expect_why(want(NULL, NULL, "'tolerations':[{'key':'dedicated','value':'web'}]"), NULL,
	           "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.");
	expect_why(want(NULL, NULL,
	                "'tolerations':[{'key':'dedicated','operator':'Exists',"
	                "'effect':'NoExecute'}]"),
	           NULL,
	           "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.");
	expect_node(want(NULL, NULL,
	                 "'tolerations':[{'key':'dedicated','operator':'Equal','value':'db',"
	                 "'effect':'NoSchedule'}]"),
	            "n1");
	expect_node(want(NULL, NULL, "'tolerations':[{'key':'dedicated','operator':'Exists'}]"),
	            "n1");
	expect_node(want(NULL, NULL, "'tolerations':[{'operator':'Exists'}]"), "n1");
}

static void test_node_selector(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, "{'disk':'ssd'}", NULL, "True");
	expect_why(want(NULL, NULL, "'nodeSelector':{'disk':'hdd'}"), NULL,
	           "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
	expect_why(want(NULL, NULL, "'nodeSelector':{'zone':'a'}"), NULL,
	           "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
	expect_node(want(NULL, NULL, "'nodeSelector':{'disk':'ssd'}"), "n1");
}

/* A pod whose required node affinity is the given nodeSelectorTerms. */
static json_t *want_affinity(const char *terms)
{
	char spec[1024];

	snprintf(spec, sizeof spec,
	         "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
	         "{'nodeSelectorTerms':%s}}}",
	         terms);
	return want(NULL, NULL, spec);
}

static void affinity_case(const char *terms, bool fits)
{
	if (fits) {
		expect_node(want_affinity(terms), "n1");
		return;
	}
	expect_why(want_affinity(terms), NULL,
	           "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
}

static void test_node_affinity(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, "{'disk':'ssd','cores':'8'}", NULL, "True");
#define E(k, op, v) "{'key':'" k "','operator':'" op "'" v "}"
	affinity_case("[{'matchExpressions':[" E("disk", "In", ",'values':['ssd','nvme']") "]}]",
	              true);
	affinity_case("[{'matchExpressions':[" E("disk", "In", ",'values':['hdd']") "]}]", false);
	affinity_case("[{'matchExpressions':[" E("disk", "NotIn", ",'values':['hdd']") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("zone", "NotIn", ",'values':['a']") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("disk", "NotIn", ",'values':['ssd']") "]}]",
	              false);
	affinity_case("[{'matchExpressions':[" E("disk", "Exists", "") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("zone", "Exists", "") "]}]", false);
	affinity_case("[{'matchExpressions':[" E("zone", "DoesNotExist", "") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("disk", "DoesNotExist", "") "]}]", false);
	affinity_case("[{'matchExpressions':[" E("cores", "Gt", ",'values':['4']") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("cores", "Gt", ",'values':['8']") "]}]", false);
	affinity_case("[{'matchExpressions':[" E("cores", "Lt", ",'values':['9']") "]}]", true);
	affinity_case("[{'matchExpressions':[" E("disk", "Lt", ",'values':['9']") "]}]", false);
	/* AND within a term, OR across terms, an empty term or list matches nothing */
	affinity_case(
	    "[{'matchExpressions':[" E("disk", "Exists", "") "," E("zone", "Exists", "") "]}]",
	    false);
	affinity_case("[{'matchExpressions':[" E("zone", "Exists", "") "]},{'matchExpressions':[" E(
	                  "disk", "Exists", "") "]}]",
	              true);
	affinity_case("[{}]", false);
	affinity_case("[]", false);
	affinity_case("[{'matchFields':[" E("metadata.name", "In", ",'values':['n1']") "]}]", true);
	affinity_case("[{'matchFields':[" E("metadata.name", "NotIn", ",'values':['n1']") "]}]",
	              false);
#undef E
}

static void test_resources_each(void **state)
{
	(void)state;
	add_node_ex("n1", "1", "1Gi", 110, NULL, NULL, "True");
	expect_why(want(NULL, "{'cpu':'2'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient cpu.");
	expect_why(want(NULL, "{'memory':'2Gi'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient memory.");
	expect_why(want(NULL, "{'ephemeral-storage':'11Gi'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient ephemeral-storage.");
	expect_why(want(NULL, "{'cpu':'2','memory':'2Gi'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
}

static void test_too_many_pods(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 1, NULL, NULL, "True");
	/* a pod with no requests still takes a pod slot */
	bind("n1", mkpod("other", "idle", NULL, NULL, NULL, NULL));
	expect_why(want(NULL, NULL, NULL), NULL, "0/1 nodes are available: 1 Too many pods.");
}

static void test_pinned(void **state)
{
	(void)state;
	add_node("n1");
	add_node("n2");
	assert_int_equal(sched(want(NULL, NULL, NULL), "n2"), 0);
	assert_string_equal(f.node, "n2");
	expect_why(want(NULL, NULL, NULL), "gone",
	           "0/2 nodes are available: 2 node(s) had volume node affinity conflict.");
}

static void test_anti_affinity_alone(void **state)
{
	(void)state;
	add_node("n1");
	bind("n1",
	     mkpod("default", "production-app-0", "{'app':'production-app'}", NULL, NULL, NULL));
	expect_why(want("{'app':'production-app'}", NULL, ANTI_PROD), NULL,
	           "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
	/* the same labels in another namespace do not count, unless the term names it */
	teardown(NULL);
	setup(NULL);
	add_node("n1");
	bind("n1", mkpod("prod", "production-app-0", "{'app':'production-app'}", NULL, NULL, NULL));
	expect_node(want("{'app':'production-app'}", NULL, ANTI_PROD), "n1");
	expect_why(
	    want(NULL, NULL,
	         "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution"
	         "':[{'labelSelector':{'matchLabels':{'app':'production-app'}},'namespaces':["
	         "'prod'],'topologyKey':'kubernetes.io/hostname'}]}}"),
	    NULL, "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
	expect_why(
	    want(NULL, NULL,
	         "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution"
	         "':[{'labelSelector':{'matchLabels':{'app':'production-app'}},"
	         "'namespaceSelector':{},'topologyKey':'kubernetes.io/hostname'}]}}"),
	    NULL, "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
}

static void test_existing_anti_affinity(void **state)
{
	(void)state;
	add_node("n1");
	add_node("n2");
	/* a placed pod refusing company with app=web keeps the web pod off its node */
	bind("n1", mkpod("default", "loner", "{'app':'loner'}", NULL,
	                 "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
	                 "Execution':[{'labelSelector':{'matchLabels':{'app':'web'}},'topologyKey':"
	                 "'kubernetes.io/hostname'}]}}",
	                 NULL));
	bind("n2", mkpod("default", "other", NULL, "{'cpu':'3900m'}", NULL, NULL));
	expect_why(want("{'app':'web'}", "{'cpu':'200m'}", NULL), NULL,
	           "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't satisfy existing "
	           "pods anti-affinity rules.");
}

static void test_zone_anti_affinity(void **state)
{
	(void)state;
	add_node_ex("a1", "4", "8Gi", 110, "{'zone':'a'}", NULL, "True");
	add_node_ex("a2", "4", "8Gi", 110, "{'zone':'a'}", NULL, "True");
	add_node_ex("b1", "4", "8Gi", 110, "{'zone':'b'}", NULL, "True");
	add_node("nozone");
	bind("a1", mkpod("default", "db-0", "{'app':'db'}", NULL, NULL, NULL));
	/* the whole zone a is out; a node without the key is outside every zone */
	json_t *p = want("{'app':'db'}", NULL,
	                 "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
	                 "Execution':[{'labelSelector':{'matchLabels':{'app':'db'}},'topologyKey':"
	                 "'zone'}]}}");
	bind("b1", mkpod("default", "db-1", "{'app':'db'}", NULL, NULL, NULL));
	expect_node(p, "nozone");
}

/* ---- combinations ---- */

static void test_combined_counts(void **state)
{
	(void)state;
	add_node_ex("n1", "500m", "8Gi", 110, NULL, NULL, "True");
	add_node("n2");
	add_node("n3");
	bind("n2",
	     mkpod("default", "production-app-0", "{'app':'production-app'}", NULL, NULL, NULL));
	bind("n3",
	     mkpod("default", "production-app-1", "{'app':'production-app'}", NULL, NULL, NULL));
	expect_why(want("{'app':'production-app'}", "{'cpu':'1'}", ANTI_PROD), NULL,
	           "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod "
	           "anti-affinity rules.");
}

static void test_sorted_as_strings(void **state)
{
	char name[16];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "c%02d", i);
		add_node_ex(name, "4", "8Gi", 110, NULL, "{'unschedulable':true}", "True");
	}
	add_node_ex("a1", "4", "8Gi", 110, NULL, NULL, "False"); /* met first, listed last */
	add_node_ex("a2", "4", "8Gi", 110, NULL, NULL, "False");
	/* "10 ..." sorts before "2 ..." as upstream's sort.Strings does */
	expect_why(want(NULL, NULL, NULL), NULL,
	           "0/12 nodes are available: 10 node(s) were unschedulable, 2 node(s) had "
	           "untolerated taint {node.kubernetes.io/not-ready: }.");
}

/* The first failing filter decides: cordoned and not ready reads as cordoned (upstream order). */
static void test_first_failure_wins(void **state)
{
	(void)state;
	add_node_ex("n1", "100m", "8Gi", 110, "{'disk':'hdd'}",
	            "{'unschedulable':true,'taints':[{'key':'k','effect':'NoSchedule'}]}", "False");
	add_node_ex("n2", "100m", "8Gi", 110, "{'disk':'hdd'}",
	            "{'taints':[{'key':'k','effect':'NoSchedule'}]}", "True");
	add_node_ex("n3", "100m", "8Gi", 110, "{'disk':'hdd'}", NULL, "True");
	add_node_ex("n4", "100m", "8Gi", 110, "{'disk':'ssd'}", NULL, "True");
	expect_why(want(NULL, "{'cpu':'1'}", "'nodeSelector':{'disk':'ssd'}"), "n1",
	           "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node "
	           "affinity/selector, 1 node(s) had untolerated taint {k: }, 1 node(s) were "
	           "unschedulable.");
}

static void test_pinned_node_down(void **state)
{
	(void)state;
	add_node_ex("n1", "4", "8Gi", 110, NULL, NULL, "False");
	add_node("n2");
	add_node("n3");
	expect_why(
	    want(NULL, NULL, NULL), "n1",
	    "0/3 nodes are available: 1 node(s) had untolerated taint "
	    "{node.kubernetes.io/not-ready: }, 2 node(s) had volume node affinity conflict.");
}

/* ---- the seed's production example ---- */

static json_t *prod_pod(int ordinal)
{
	char name[64];
	json_t *p;

	snprintf(name, sizeof name, "production-app-%d", ordinal);
	p = mkpod("default", name, "{'app':'production-app'}", "{'cpu':'500m','memory':'1Gi'}",
	          ANTI_PROD, "uid-prod");
	f.extra[f.n_extra++] = p;
	return p;
}

static void test_seed_spread_snapshot(void **state)
{
	struct ctl_sched_snapshot *s;
	const char *order[3] = {"n1", "n2", "n3"};

	(void)state;
	add_node("n3");
	add_node("n1");
	add_node("n2");
	assert_int_equal(ctl_sched_snapshot_create(f.nodes, f.n_nodes, f.pods, f.n_pods, &s), 0);
	/* one replica per node, in name order (equal scores) */
	for (int i = 0; i < 3; i++) {
		json_t *p = prod_pod(i);
		assert_int_equal(
		    ctl_sched_pick(s, p, NULL, f.node, sizeof f.node, f.why, sizeof f.why), 0);
		assert_string_equal(f.node, order[i]);
		assert_int_equal(ctl_sched_snapshot_assume(s, p, f.node), 0);
	}
	assert_int_equal(
	    ctl_sched_pick(s, prod_pod(3), NULL, f.node, sizeof f.node, f.why, sizeof f.why),
	    STSD_NOTFOUND);
	assert_string_equal(f.why, "0/3 nodes are available: 3 node(s) didn't match pod "
	                           "anti-affinity rules.");
	assert_int_equal(ctl_sched_snapshot_assume(s, prod_pod(3), "nowhere"), STSD_NOTFOUND);
	ctl_sched_snapshot_destroy(s);
}

static void test_seed_spread_bound(void **state)
{
	(void)state;
	add_node("n1");
	add_node("n2");
	add_node("n3");
	/* the deterministic order: equal scores go to the smallest name */
	for (int i = 0; i < 3; i++) {
		char expect[8];
		snprintf(expect, sizeof expect, "n%d", i + 1);
		char name[32];
		snprintf(name, sizeof name, "production-app-%d", i);
		json_t *p = mkpod("default", name, "{'app':'production-app'}",
		                  "{'cpu':'500m','memory':'1Gi'}", ANTI_PROD, "uid-prod");
		assert_int_equal(sched(p, NULL), 0);
		assert_string_equal(f.node, expect);
		bind(f.node, p);
	}
	expect_why(prod_pod(3), NULL,
	           "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
	/* a finished pod holds nothing: its node is free again */
	json_object_set_new(json_object_get((json_t *)f.pods[1], "status"), "phase",
	                    json_string("Succeeded"));
	expect_node(prod_pod(3), "n2");
}

/* ---- resources ---- */

static void test_exact_fit(void **state)
{
	(void)state;
	add_node_ex("n1", "2", "3Gi", 110, NULL, NULL, "True");
	bind("n1", mkpod("default", "a", NULL, "{'cpu':'500m','memory':'1Gi'}", NULL, NULL));
	bind("n1", mkpod("other", "b", NULL, "{'cpu':0.5,'memory':'1024Mi'}", NULL, NULL));
	json_t *done =
	    bind("n1", mkpod("default", "done", NULL, "{'cpu':'2','memory':'3Gi'}", NULL, NULL));
	json_object_set_new(json_object_get(done, "status"), "phase", json_string("Failed"));
	expect_node(want(NULL, "{'cpu':'1','memory':'1Gi'}", NULL), "n1");
	expect_why(want(NULL, "{'cpu':'1001m','memory':'1Gi'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient cpu.");
	expect_why(want(NULL, "{'cpu':'1','memory':'1073741825'}", NULL), NULL,
	           "0/1 nodes are available: 1 Insufficient memory.");
}

static void test_init_containers_and_overhead(void **state)
{
	json_t *p;

	(void)state;
	add_node_ex("n1", "2", "8Gi", 110, NULL, NULL, "True");
	/* containers 1 cpu; an init container of 2 cpu runs alone: max(1, 2) = 2 fits exactly */
	p = want(
	    NULL, "{'cpu':'1'}",
	    "'initContainers':[{'name':'i','image':'i','resources':{'requests':{'cpu':'2'}}}]");
	expect_node(p, "n1");
	/* plus an overhead of 1m: one millicore over */
	p = want(NULL, "{'cpu':'1'}",
	         "'overhead':{'cpu':'1m'},'initContainers':[{'name':'i','image':'i',"
	         "'resources':{'requests':{'cpu':'2'}}}]");
	expect_why(p, NULL, "0/1 nodes are available: 1 Insufficient cpu.");
	/* a sidecar (restartPolicy Always) of 500m runs beside the containers (1.5) and beside the
	 * init container after it (1.5 + 0.5 = 2): fits exactly, then one millicore over */
	p = want(NULL, "{'cpu':'1'}",
	         "'initContainers':[{'name':'s','image':'i','restartPolicy':'Always',"
	         "'resources':{'requests':{'cpu':'500m'}}},{'name':'i','image':'i',"
	         "'resources':{'requests':{'cpu':'1500m'}}}]");
	expect_node(p, "n1");
	p = want(NULL, "{'cpu':'1'}",
	         "'initContainers':[{'name':'s','image':'i','restartPolicy':'Always',"
	         "'resources':{'requests':{'cpu':'500m'}}},{'name':'i','image':'i',"
	         "'resources':{'requests':{'cpu':'1501m'}}}]");
	expect_why(p, NULL, "0/1 nodes are available: 1 Insufficient cpu.");
}

/* An overcommitted node still takes a pod that requests none of the short resource. */
static void test_zero_request_on_full_node(void **state)
{
	(void)state;
	add_node_ex("n1", "1", "8Gi", 110, NULL, NULL, "True");
	bind("n1", mkpod("default", "hog", NULL, "{'cpu':'1'}", NULL, NULL));
	expect_node(want(NULL, "{'memory':'1Gi'}", NULL), "n1");
	expect_node(want(NULL, NULL, NULL), "n1");
}

/* ---- scoring ---- */

static void test_scoring_least_loaded(void **state)
{
	(void)state;
	add_node("a");
	add_node("b");
	add_node("c");
	bind("a", mkpod("default", "p1", NULL, "{'cpu':'2','memory':'4Gi'}", NULL, NULL));
	bind("b", mkpod("default", "p2", NULL, "{'cpu':'1','memory':'1Gi'}", NULL, NULL));
	bind("c", mkpod("default", "p3", NULL, "{'cpu':'3','memory':'1Gi'}", NULL, NULL));
	expect_node(want(NULL, "{'cpu':'100m'}", NULL), "b");
	/* memory counts as much as cpu: b's memory fills up, c becomes the emptiest */
	bind("b", mkpod("default", "p4", NULL, "{'memory':'6Gi'}", NULL, NULL));
	expect_node(want(NULL, "{'cpu':'100m'}", NULL), "c");
}

static void test_scoring_tie_by_name(void **state)
{
	(void)state;
	add_node("zeta");
	add_node("alpha");
	add_node("mid");
	expect_node(want(NULL, NULL, NULL), "alpha");
	/* equal load on the two smallest names, less on none: still the smallest */
	bind("alpha", mkpod("default", "p1", NULL, "{'cpu':'1','memory':'1Gi'}", NULL, NULL));
	bind("mid", mkpod("default", "p2", NULL, "{'cpu':'1','memory':'1Gi'}", NULL, NULL));
	bind("zeta", mkpod("default", "p3", NULL, "{'cpu':'1','memory':'1Gi'}", NULL, NULL));
	expect_node(want(NULL, NULL, NULL), "alpha");
}

static void test_scoring_spread(void **state)
{
	json_t *p;

	(void)state;
	add_node("a");
	add_node("b");
	/* a is less loaded but already runs a pod of the same set; b runs a stranger */
	bind("a",
	     mkpod("default", "web-0", NULL, "{'cpu':'100m','memory':'100Mi'}", NULL, "uid-web"));
	bind("b", mkpod("default", "big", NULL, "{'cpu':'1','memory':'2Gi'}", NULL, "uid-other"));
	p = mkpod("default", "web-1", NULL, "{'cpu':'100m','memory':'100Mi'}", NULL, "uid-web");
	f.extra[f.n_extra++] = p;
	expect_node(p, "b");
	/* without the owner it goes to the least loaded */
	expect_node(want(NULL, "{'cpu':'100m','memory':'100Mi'}", NULL), "a");
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
	struct ctl_sched_input in = {0};
	json_t *nospec = J("{'metadata':{'name':'p'}}");
	json_t *num = json_integer(3);
	json_t *noname = J("{'metadata':{},'status':{}}");
	json_t *nostatus = J("{'metadata':{'name':'bare'}}");

	(void)state;
	f.extra[f.n_extra++] = nospec;
	f.extra[f.n_extra++] = num;
	f.extra[f.n_extra++] = noname;
	/* no nodes at all */
	expect_why(want(NULL, NULL, NULL), NULL, "no nodes available to schedule pods");
	/* a pod without spec, not an object, NULL */
	add_node("n1");
	assert_int_equal(sched(nospec, NULL), STSD_INVALID);
	assert_int_equal(sched(num, NULL), STSD_INVALID);
	assert_int_equal(sched(NULL, NULL), STSD_INVALID);
	in.pod = nospec;
	assert_int_equal(ctl_schedule(&in, f.node, sizeof f.node, f.why, sizeof f.why),
	                 STSD_INVALID);
	/* a request that is not a quantity */
	assert_int_equal(sched(want(NULL, "{'cpu':'lots'}", NULL), NULL), STSD_INVALID);
	assert_non_null(strstr(f.why, "not a quantity"));
	/* a malformed anti-affinity selector */
	bind("n1", mkpod("default", "x", "{'app':'a'}", NULL, NULL, NULL));
	assert_int_equal(sched(want(NULL, NULL,
	                            "'affinity':{'podAntiAffinity':{'requiredDuringScheduling"
	                            "IgnoredDuringExecution':[{'labelSelector':{'matchExpressions'"
	                            ":[{'key':'app','operator':'Near'}]},'topologyKey':"
	                            "'kubernetes.io/hostname'}]}}"),
	                       NULL),
	                 STSD_INVALID);
	/* a placed pod's selector that does not parse holds nobody off its node */
	bind("n1", mkpod("default", "odd", NULL, NULL,
	                 "'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuring"
	                 "Execution':[{'labelSelector':{'matchExpressions':[{'key':'app',"
	                 "'operator':'Near'}]},'topologyKey':'kubernetes.io/hostname'}]}}",
	                 NULL));
	expect_node(want("{'app':'a'}", NULL, NULL), "n1");
	/* garbage among nodes and pods; a node without status is not ready and has nothing */
	f.nodes[f.n_nodes++] = NULL;
	f.nodes[f.n_nodes++] = json_incref(num);
	f.nodes[f.n_nodes++] = json_incref(noname);
	f.nodes[f.n_nodes++] = nostatus;
	f.pods[f.n_pods++] = NULL;
	f.pods[f.n_pods++] = json_incref(num);
	f.pods[f.n_pods++] = J("{'spec':{'nodeName':'n1','containers':[{'resources':"
	                       "{'requests':{'cpu':'bogus','memory':[]}}}]}}");
	f.pods[f.n_pods++] = J("{'spec':{'nodeName':'ghost'}}");
	expect_node(want(NULL, "{'cpu':'1'}", NULL), "n1");
	expect_why(want(NULL, "{'cpu':'5'}", NULL), NULL,
	           "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
	           "{node.kubernetes.io/not-ready: }.");
	/* a node name that does not fit the caller's buffer */
	char tiny[2];
	in = (struct ctl_sched_input){
	    want(NULL, NULL, NULL), f.nodes, f.n_nodes, f.pods, f.n_pods, NULL};
	assert_int_equal(ctl_schedule(&in, tiny, sizeof tiny, f.why, sizeof f.why), STSD_INVALID);
}

/* Allocatable absent: capacity counts (API defaulting); neither: the node fits no pod. */
static void test_capacity_fallback(void **state)
{
	(void)state;
	f.nodes[f.n_nodes++] = J("{'metadata':{'name':'cap'},'status':{'capacity':{'cpu':'1',"
	                         "'memory':'1Gi','pods':'10'},'conditions':[{'type':'Ready',"
	                         "'status':'True'}]}}");
	f.nodes[f.n_nodes++] = J("{'metadata':{'name':'empty'},'status':{'conditions':"
	                         "[{'type':'Ready','status':'True'}]}}");
	expect_node(want(NULL, "{'cpu':'1'}", NULL), "cap");
	expect_why(want(NULL, "{'cpu':'2'}", NULL), NULL,
	           "0/2 nodes are available: 1 Too many pods, 2 Insufficient cpu.");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_fits),
	    T(test_not_ready),
	    T(test_unreachable_even_if_tolerated),
	    T(test_unschedulable),
	    T(test_taints),
	    T(test_node_selector),
	    T(test_node_affinity),
	    T(test_resources_each),
	    T(test_too_many_pods),
	    T(test_pinned),
	    T(test_anti_affinity_alone),
	    T(test_existing_anti_affinity),
	    T(test_zone_anti_affinity),
	    T(test_combined_counts),
	    T(test_sorted_as_strings),
	    T(test_first_failure_wins),
	    T(test_pinned_node_down),
	    T(test_seed_spread_snapshot),
	    T(test_seed_spread_bound),
	    T(test_exact_fit),
	    T(test_init_containers_and_overhead),
	    T(test_zero_request_on_full_node),
	    T(test_scoring_least_loaded),
	    T(test_scoring_tie_by_name),
	    T(test_scoring_spread),
	    T(test_bad_input),
	    T(test_capacity_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
