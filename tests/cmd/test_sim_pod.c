/* test_sim_pod.c — the simulated kubelet's decisions (cmd/stsagent/sim_pod.c): Running, Ready after
 * --ready-after, the sim.stsd.io annotations, terminal phases, confirmation of deletions (also of
 * pods that went without one), and odd pods that must not crash it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sim.h"

static const struct sim_config cfg = {.ready_after_ms = 200, .terminate_ms = 100};

#define T0 100000u
#define TS "2026-11-27T12:00:00Z"

static json_t *pod_json(const char *status, const char *annotations)
{
	char text[2048];
	json_error_t e;
	json_t *p;

	snprintf(
	    text, sizeof text,
	    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"u1\","
	    "\"resourceVersion\":\"5\",\"annotations\":%s},"
	    "\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"app\",\"image\":\"i:1\"}]},"
	    "\"status\":%s}",
	    annotations ? annotations : "{}", status ? status : "{\"phase\":\"Pending\"}");
	p = json_loads(text, 0, &e);
	assert_non_null(p);
	return p;
}

static const char *cond(const json_t *pod, const char *type, const char *field)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
			return json_string_value(json_object_get(c, field));
	}
	return NULL;
}

static const char *phase(const json_t *pod)
{
	return json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
}

static json_t *container(const json_t *pod)
{
	return json_array_get(json_object_get(json_object_get(pod, "status"), "containerStatuses"),
	                      0);
}

/* Plan p at now and, for a status write, take its result as the pod's new state. */
static enum sim_action step(struct sim_pod *p, uint64_t now, const char *ts, uint64_t *wake)
{
	json_t *out = NULL;
	enum sim_action a = sim_pod_plan(p, &cfg, now, ts, "10.0.0.7", "127.0.0.1", &out, wake);

	if (a == SIM_STATUS) {
		assert_non_null(out);
		json_decref(p->obj);
		p->obj = out;
	} else {
		assert_null(out);
	}
	return a;
}

static void pending_runs_then_ready(void **state)
{
	struct sim_pod p = {.obj = pod_json(NULL, NULL)};
	uint64_t wake;

	(void)state;
	assert_int_equal(step(&p, T0, TS, &wake), SIM_STATUS);
	assert_string_equal(phase(p.obj), "Running");
	assert_string_equal(cond(p.obj, "PodScheduled", "status"), "True");
	assert_string_equal(cond(p.obj, "Ready", "status"), "False");
	assert_string_equal(cond(p.obj, "ContainersReady", "status"), "False");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(p.obj, "status"), "podIP")),
	    "10.0.0.7");
	assert_false(json_is_true(json_object_get(container(p.obj), "ready")));
	assert_non_null(json_object_get(json_object_get(container(p.obj), "state"), "running"));

	/* Not yet: wake when ready_after has passed. */
	assert_int_equal(step(&p, T0 + 50, TS, &wake), SIM_NONE);
	assert_int_equal(wake, T0 + 200);
	assert_int_equal(step(&p, T0 + 200, "2026-11-27T12:00:01Z", &wake), SIM_STATUS);
	assert_string_equal(cond(p.obj, "Ready", "status"), "True");
	assert_string_equal(cond(p.obj, "ContainersReady", "status"), "True");
	assert_string_equal(cond(p.obj, "Ready", "lastTransitionTime"), "2026-11-27T12:00:01Z");
	/* Conditions that did not change keep their transition time. */
	assert_string_equal(cond(p.obj, "PodScheduled", "lastTransitionTime"), TS);
	assert_true(json_is_true(json_object_get(container(p.obj), "ready")));
	assert_true(json_is_true(json_object_get(container(p.obj), "started")));
	/* Settled: nothing more, nothing to wake for. */
	assert_int_equal(step(&p, T0 + 5000, TS, &wake), SIM_NONE);
	assert_int_equal(wake, 0);
	json_decref(p.obj);
}

static void ready_annotation(void **state)
{
	struct sim_pod p = {.obj = pod_json(NULL, "{\"sim.stsd.io/ready\":\"false\"}")};
	uint64_t wake;

	(void)state;
	assert_int_equal(step(&p, T0, TS, &wake), SIM_STATUS);
	assert_int_equal(step(&p, T0 + 1000, TS, &wake), SIM_NONE); /* held unready */
	assert_int_equal(wake, 0);
	assert_string_equal(cond(p.obj, "Ready", "status"), "False");
	json_object_set_new(json_object_get(json_object_get(p.obj, "metadata"), "annotations"),
	                    "sim.stsd.io/ready", json_string("true"));
	assert_int_equal(step(&p, T0 + 1001, TS, &wake), SIM_STATUS);
	assert_string_equal(cond(p.obj, "Ready", "status"), "True");
	json_object_set_new(json_object_get(json_object_get(p.obj, "metadata"), "annotations"),
	                    "sim.stsd.io/ready", json_string("false"));
	assert_int_equal(step(&p, T0 + 1002, TS, &wake), SIM_STATUS);
	assert_string_equal(cond(p.obj, "Ready", "status"), "False");
	assert_string_equal(phase(p.obj), "Running");
	json_decref(p.obj);
}

static void phase_annotation(void **state)
{
	const char *phases[] = {"Failed", "Succeeded"};
	const long codes[] = {1, 0};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char ann[128];
		struct sim_pod p;
		uint64_t wake;
		json_t *term;

		snprintf(ann, sizeof ann, "{\"sim.stsd.io/phase\":\"%s\"}", phases[i]);
		p = (struct sim_pod){.obj = pod_json("{\"phase\":\"Running\"}", ann)};
		assert_int_equal(step(&p, T0, TS, &wake), SIM_STATUS);
		assert_string_equal(phase(p.obj), phases[i]);
		assert_string_equal(cond(p.obj, "Ready", "status"), "False");
		term = json_object_get(json_object_get(container(p.obj), "state"), "terminated");
		assert_int_equal(json_integer_value(json_object_get(term, "exitCode")), codes[i]);
		/* Terminal: never again, whatever the annotations say. */
		json_object_set_new(
		    json_object_get(json_object_get(p.obj, "metadata"), "annotations"),
		    "sim.stsd.io/phase", json_string("Running"));
		assert_int_equal(step(&p, T0 + 1, TS, &wake), SIM_NONE);
		assert_string_equal(phase(p.obj), phases[i]);
		json_decref(p.obj);
	}
}

static void deletion_confirmed_after_delay(void **state)
{
	struct sim_pod p = {.obj = pod_json("{\"phase\":\"Running\"}", NULL)};
	uint64_t wake;

	(void)state;
	json_object_set_new(json_object_get(p.obj, "metadata"), "deletionTimestamp",
	                    json_string(TS));
	assert_int_equal(step(&p, T0, TS, &wake), SIM_NONE);
	assert_int_equal(wake, T0 + 100);
	assert_int_equal(step(&p, T0 + 99, TS, &wake), SIM_NONE);
	assert_int_equal(step(&p, T0 + 100, TS, &wake), SIM_CONFIRM);
	json_decref(p.obj);
}

/* A pod that left the watch unconfirmed (force-deleted, never marked; or Failed, whatever its
 * phase): no more status writes, its end confirmed after the same delay, from when it went. */
static void gone_pod_confirmed_after_delay(void **state)
{
	const char *statuses[] = {"{\"phase\":\"Running\"}", "{\"phase\":\"Pending\"}",
	                          "{\"phase\":\"Failed\"}"};
	uint64_t wake;

	(void)state;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		struct sim_pod p = {.obj = pod_json(statuses[i], NULL), .gone = true};
		assert_int_equal(step(&p, T0, TS, &wake), SIM_NONE);
		assert_int_equal(wake, T0 + 100);
		assert_int_equal(step(&p, T0 + 99, TS, &wake), SIM_NONE);
		assert_int_equal(step(&p, T0 + 100, TS, &wake), SIM_CONFIRM);
		json_decref(p.obj);
	}
}

/* A restarted agent finds its pods Running: a Ready one stays Ready, an unready one becomes Ready
 * without waiting again. */
static void found_running_after_restart(void **state)
{
	struct sim_pod p = {.obj = pod_json("{\"phase\":\"Running\",\"conditions\":[{\"type\":"
	                                    "\"Ready\",\"status\":\"True\"}]}",
	                                    NULL)};
	struct sim_pod q = {.obj = pod_json("{\"phase\":\"Running\"}", NULL)};
	uint64_t wake;

	(void)state;
	assert_int_equal(step(&p, T0, TS, &wake), SIM_NONE);
	assert_int_equal(wake, 0);
	assert_int_equal(step(&q, T0, TS, &wake), SIM_STATUS);
	assert_string_equal(cond(q.obj, "Ready", "status"), "True");
	json_decref(p.obj);
	json_decref(q.obj);
}

/* Pods of odd shapes: no crash, and a status write still has the fields a client reads. */
static void odd_pods(void **state)
{
	const char *docs[] = {
	    "{}", "{\"metadata\":5,\"spec\":[],\"status\":\"x\"}",
	    "{\"spec\":{\"containers\":[{},{\"name\":7}]},\"status\":{\"phase\":3,"
	    "\"conditions\":[{},{\"type\":\"Ready\",\"status\":9}]}}"};

	(void)state;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		struct sim_pod p = {.obj = json_loads(docs[i], 0, NULL)};
		uint64_t wake;

		assert_non_null(p.obj);
		assert_int_equal(step(&p, T0, TS, &wake), SIM_STATUS);
		assert_string_equal(phase(p.obj), "Running");
		step(&p, T0 + 1000, TS, &wake);
		json_decref(p.obj);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pending_runs_then_ready),
	    cmocka_unit_test(ready_annotation),
	    cmocka_unit_test(phase_annotation),
	    cmocka_unit_test(deletion_confirmed_after_delay),
	    cmocka_unit_test(gone_pod_confirmed_after_delay),
	    cmocka_unit_test(found_running_after_restart),
	    cmocka_unit_test(odd_pods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
