/* test_table.c — server-side printing: Accept negotiation, includeObject, the Table shape, ages
 * (duration.HumanDuration), and one or more realistic rows per resource checked against what
 * kube-apiserver v1.32 prints for them (pkg/printers/internalversion/printers.go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "api_internal.h"
#include "table.h"
#include "test_table.h"

/* ---- Helpers ----------------------------------------------------------------------------------
 */

const char *ago(int64_t secs)
{
	static char buf[8][32];
	static int next;
	char *b = buf[next++ % 8];
	time_t t = (time_t)(NOW - secs);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

static struct api_resource res_of(const char *kind, const struct api_table_def *def)
{
	struct api_resource r = {.group = "", .version = "v1", .kind = kind, .table = def};
	return r;
}

/* The row's cells as compact JSON. */
static char *cells_of(const struct api_table_def *def, const char *obj_json)
{
	struct api_resource r = res_of("X", def);
	json_t *obj = json_loads(obj_json, 0, NULL), *row, *table;
	char *s;

	if (obj == NULL)
		fail_msg("bad test object: %s", obj_json);
	row = api_table_row(&r, obj, TABLE_OBJECT_NONE, NOW);
	assert_non_null(row);
	/* every row has as many cells as the table has columns */
	table = api_table_new(&r);
	assert_non_null(table);
	assert_int_equal(json_array_size(json_object_get(row, "cells")),
	                 json_array_size(json_object_get(table, "columnDefinitions")));
	s = json_dumps(json_object_get(row, "cells"), JSON_COMPACT);
	json_decref(table);
	json_decref(row);
	json_decref(obj);
	return s;
}

void expect_cells(const struct api_table_def *def, const char *obj_json, const char *want)
{
	char *got = cells_of(def, obj_json);

	assert_string_equal(got, want);
	free(got);
}

void expect_cells_any(const struct api_table_def *def, const char *obj_json)
{
	free(cells_of(def, obj_json));
}

void expect_columns(const struct api_table_def *def, const char *want)
{
	struct api_resource r = res_of("X", def);
	json_t *t = api_table_new(&r), *c;
	char got[1024] = "";
	size_t i;

	assert_non_null(t);
	json_array_foreach(json_object_get(t, "columnDefinitions"), i, c)
	{
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s%s", i ? "|" : "",
		         json_integer_value(json_object_get(c, "priority")) ? "+" : "",
		         json_string_value(json_object_get(c, "name")));
		assert_non_null(json_string_value(json_object_get(c, "type")));
		assert_non_null(json_string_value(json_object_get(c, "format")));
		assert_non_null(json_string_value(json_object_get(c, "description")));
	}
	assert_string_equal(got, want);
	json_decref(t);
}

static void expect_age(int64_t secs, const char *want)
{
	char out[32];

	api_table_age(ago(secs), NOW, out, sizeof out);
	assert_string_equal(out, want);
}

/* ---- Negotiation and shape --------------------------------------------------------------------
 */

static void test_wanted(void **state)
{
	enum api_table_object o;

	(void)state;
	assert_true(api_table_wanted("application/json;as=Table;v=v1;g=meta.k8s.io,application/"
	                             "json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
	assert_true(api_table_wanted("application/json; as=Table; g=meta.k8s.io; v=v1"));
	assert_true(api_table_wanted("text/plain, Application/JSON;as=Table;v=v1;g=meta.k8s.io"));
	assert_false(api_table_wanted("application/json"));
	assert_false(api_table_wanted("application/json;as=Table;v=v1beta1;g=meta.k8s.io"));
	assert_false(api_table_wanted("application/json;as=Table;v=v1;g=meta.k8s.iox"));
	assert_false(api_table_wanted("application/json;as=Tables;v=v1;g=meta.k8s.io"));
	assert_false(
	    api_table_wanted("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"));
	assert_false(api_table_wanted("*/*"));
	assert_false(api_table_wanted(""));
	assert_false(api_table_wanted(NULL));

	assert_true(api_table_object_parse(NULL, &o));
	assert_int_equal(o, TABLE_OBJECT_METADATA);
	assert_true(api_table_object_parse("", &o));
	assert_int_equal(o, TABLE_OBJECT_METADATA);
	assert_true(api_table_object_parse("Metadata", &o));
	assert_int_equal(o, TABLE_OBJECT_METADATA);
	assert_true(api_table_object_parse("Object", &o));
	assert_int_equal(o, TABLE_OBJECT_FULL);
	assert_true(api_table_object_parse("None", &o));
	assert_int_equal(o, TABLE_OBJECT_NONE);
	assert_false(api_table_object_parse("object", &o));
}

static void test_shape_and_objects(void **state)
{
	struct api_resource r = res_of("ConfigMap", &api_table_configmaps);
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "kind", "ConfigMap",
	                        "apiVersion", "v1", "metadata", "name", "cfg", "creationTimestamp",
	                        ago(10), "labels", "app", "web", "data", "k", "v");
	json_t *t = api_table_new(&r), *row, *o;

	(void)state;
	assert_non_null(obj);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "kind")), "Table");
	assert_string_equal(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1");
	assert_true(json_is_object(json_object_get(t, "metadata")));
	assert_int_equal(json_array_size(json_object_get(t, "rows")), 0);
	o = json_array_get(json_object_get(t, "columnDefinitions"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "format")), "name");
	assert_int_equal(json_integer_value(json_object_get(o, "priority")), 0);
	json_decref(t);

	row = api_table_row(&r, obj, TABLE_OBJECT_METADATA, NOW);
	o = json_object_get(row, "object");
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "PartialObjectMetadata");
	assert_string_equal(json_string_value(json_object_get(o, "apiVersion")), "meta.k8s.io/v1");
	assert_true(json_equal(json_object_get(o, "metadata"), json_object_get(obj, "metadata")));
	assert_null(json_object_get(o, "data"));
	json_decref(row);

	row = api_table_row(&r, obj, TABLE_OBJECT_FULL, NOW);
	assert_true(json_equal(json_object_get(row, "object"), obj));
	json_decref(row);

	row = api_table_row(&r, obj, TABLE_OBJECT_NONE, NOW);
	assert_true(json_is_null(json_object_get(row, "object")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(row, "cells"), 0)),
	                    "cfg");
	json_decref(row);
	json_decref(obj);
}

static void test_default_table(void **state)
{
	struct api_resource r = res_of("Thing", NULL);
	json_t *t = api_table_new(&r);

	(void)state;
	assert_int_equal(json_array_size(json_object_get(t, "columnDefinitions")), 2);
	json_decref(t);
	expect_columns(NULL, "Name|Age");
	expect_cells(
	    NULL, "{\"metadata\":{\"name\":\"x\",\"creationTimestamp\":\"2024-05-01T11:57:00Z\"}}",
	    "[\"x\",\"3m\"]");
}

static void test_age(void **state)
{
	char out[32];

	(void)state;
	expect_age(0, "0s");
	expect_age(45, "45s");
	expect_age(119, "119s");
	expect_age(120, "2m");
	expect_age(190, "3m10s");
	expect_age(599, "9m59s");
	expect_age(600, "10m");
	expect_age(179 * 60 + 59, "179m");
	expect_age(3 * 3600, "3h");
	expect_age(3 * 3600 + 5 * 60, "3h5m");
	expect_age(10 * 3600 + 59 * 60, "10h");
	expect_age(47 * 3600, "47h");
	expect_age(48 * 3600, "2d");
	expect_age(51 * 3600, "2d3h");
	expect_age(8 * 86400, "8d");
	expect_age(400 * 86400, "400d");
	expect_age(730 * 86400, "2y");
	expect_age(740 * 86400, "2y10d");
	expect_age(9 * 365 * 86400LL, "9y");
	expect_age(-1, "0s");
	expect_age(-2, "<invalid>");
	api_table_age(NULL, NOW, out, sizeof out);
	assert_string_equal(out, "<unknown>");
	api_table_age("yesterday", NOW, out, sizeof out);
	assert_string_equal(out, "<unknown>");
	api_table_age("2024-13-01T00:00:00Z", NOW, out, sizeof out);
	assert_string_equal(out, "<unknown>");
	api_table_age("2024-05-01T14:00:00+02:00", NOW, out, sizeof out);
	assert_string_equal(out, "0s");
	api_table_age("2024-05-01T11:59:59.5Z", NOW, out, sizeof out);
	assert_string_equal(out, "0s");
	api_table_age("2024-05-01T11:58:00.5Z", NOW, out, sizeof out);
	assert_string_equal(out, "119s");
	api_table_age("2024-05-01T11:57:59.999999Z", NOW, out, sizeof out);
	assert_string_equal(out, "2m");
	api_table_age("2024-05-01T11:58:00.000000Z", NOW, out, sizeof out);
	assert_string_equal(out, "2m");
}

/* A waiting reason long enough to be cut inside a UTF-8 character still fills its cell. */
static void test_pod_long_reason(void **state)
{
	char obj[1024], reason[400];
	size_t i;

	(void)state;
	for (i = 0; i + 2 < 300; i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[i] = '\0';
	snprintf(obj, sizeof obj,
	         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{}]},\"status\":"
	         "{\"containerStatuses\":[{\"state\":{\"waiting\":{\"reason\":\"x%s\"}}}]}}",
	         reason);
	expect_cells_any(&api_table_pods, obj);
}

/* Finished pods carry a Completed row condition (printPod's podSuccessConditions). */
static void test_pod_conditions(void **state)
{
	struct api_resource r = res_of("Pod", &api_table_pods);
	json_t *pod = json_loads("{\"metadata\":{\"name\":\"job\"},\"status\":{\"phase\":"
	                         "\"Succeeded\"}}",
	                         0, NULL);
	json_t *row, *c;

	(void)state;
	assert_non_null(pod);
	row = api_table_row(&r, pod, TABLE_OBJECT_METADATA, NOW);
	c = json_array_get(json_object_get(row, "conditions"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "type")), "Completed");
	assert_string_equal(json_string_value(json_object_get(c, "status")), "True");
	assert_string_equal(json_string_value(json_object_get(c, "reason")), "Succeeded");
	json_decref(row);
	json_object_set_new(json_object_get(pod, "status"), "phase", json_string("Failed"));
	row = api_table_row(&r, pod, TABLE_OBJECT_METADATA, NOW);
	c = json_array_get(json_object_get(row, "conditions"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "reason")), "Failed");
	json_decref(row);
	json_object_set_new(json_object_get(pod, "status"), "phase", json_string("Running"));
	row = api_table_row(&r, pod, TABLE_OBJECT_METADATA, NOW);
	assert_null(json_object_get(row, "conditions"));
	json_decref(row);
	json_decref(pod);
}

/* ---- Workloads --------------------------------------------------------------------------------
 */

static void test_statefulset(void **state)
{
	(void)state;
	expect_columns(&api_table_statefulsets, "Name|Ready|Age|+Containers|+Images");
	expect_cells(
	    &api_table_statefulsets,
	    "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2024-05-01T11:59:15Z\"},"
	    "\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":["
	    "{\"name\":\"nginx\",\"image\":\"nginx:1.25\"},"
	    "{\"name\":\"log\",\"image\":\"busybox\"}]}}},"
	    "\"status\":{\"replicas\":3,\"readyReplicas\":2}}",
	    "[\"web\",\"2/3\",\"45s\",\"nginx,log\",\"nginx:1.25,busybox\"]");
	/* no status yet; replicas defaulted */
	expect_cells(&api_table_statefulsets, "{\"metadata\":{\"name\":\"db\"},\"spec\":{}}",
	             "[\"db\",\"0/1\",\"<unknown>\",\"\",\"\"]");
}

static void test_controllerrevision(void **state)
{
	(void)state;
	expect_columns(&api_table_controllerrevisions, "Name|Controller|Revision|Age");
	expect_cells(
	    &api_table_controllerrevisions,
	    "{\"metadata\":{\"name\":\"web-7d9f8b\",\"creationTimestamp\":\"2024-05-01T10:00:00Z\","
	    "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"x\"},"
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"name\":\"web\","
	    "\"uid\":\"u\",\"controller\":true}]},\"revision\":2,\"data\":{}}",
	    "[\"web-7d9f8b\",\"statefulset.apps/web\",2,\"120m\"]");
	expect_cells(&api_table_controllerrevisions,
	             "{\"metadata\":{\"name\":\"r\",\"ownerReferences\":[{\"apiVersion\":\"v1\","
	             "\"kind\":\"ReplicationController\",\"name\":\"rc\",\"controller\":true}]},"
	             "\"revision\":7}",
	             "[\"r\",\"replicationcontroller/rc\",7,\"<unknown>\"]");
	expect_cells(&api_table_controllerrevisions, "{\"metadata\":{\"name\":\"orphan\"}}",
	             "[\"orphan\",\"<none>\",0,\"<unknown>\"]");
}

#define POD_META "\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2024-05-01T11:55:00Z\"}"

static void test_pod_running(void **state)
{
	(void)state;
	expect_columns(&api_table_pods, "Name|Ready|Status|Restarts|Age|+IP|+Node|+Nominated "
	                                "Node|+Readiness Gates");
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"nodeName\":\"node-1\",\"containers\":["
	    "{\"name\":\"a\"},{\"name\":\"b\"}]},\"status\":{\"phase\":\"Running\","
	    "\"podIP\":\"10.0.0.5\",\"podIPs\":[{\"ip\":\"10.0.0.5\"}],"
	    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
	    "\"containerStatuses\":["
	    "{\"name\":\"a\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}},"
	    "{\"name\":\"b\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}]}}",
	    "[\"p\",\"2/2\",\"Running\",\"0\",\"5m\",\"10.0.0.5\",\"node-1\",\"<none>\","
	    "\"<none>\"]");
	/* not scheduled yet */
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
	             "\"status\":{\"phase\":\"Pending\"}}",
	             "[\"p\",\"0/1\",\"Pending\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	             "\"<none>\"]");
	/* readiness gates, a nominated node, the legacy podIP alone */
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}],"
	    "\"readinessGates\":[{\"conditionType\":\"x/ok\"},{\"conditionType\":\"x/lb\"}]},"
	    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.9\",\"nominatedNodeName\":"
	    "\"n2\",\"conditions\":[{\"type\":\"x/ok\",\"status\":\"True\"},{\"type\":\"x/lb\","
	    "\"status\":\"False\"}],\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
	    "\"state\":{\"running\":{}}}]}}",
	    "[\"p\",\"0/1\",\"Running\",\"0\",\"5m\",\"10.0.0.9\",\"<none>\",\"n2\",\"1/2\"]");
}

static void test_pod_waiting(void **state)
{
	(void)state;
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
	    "\"a\"}]},\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\","
	    "\"ready\":false,\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":"
	    "\"ContainerCreating\"}}}]}}",
	    "[\"p\",\"0/1\",\"ContainerCreating\",\"0\",\"5m\",\"<none>\",\"n1\","
	    "\"<none>\",\"<none>\"]");
	/* crash looping: restarts with the time since the last termination */
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
	             "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\","
	             "\"ready\":false,\"restartCount\":5,\"state\":{\"waiting\":{\"reason\":"
	             "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
	             "\"reason\":\"Error\",\"finishedAt\":\"2024-05-01T11:58:30Z\"}}}]}}",
	             "[\"p\",\"0/1\",\"CrashLoopBackOff\",\"5 (90s ago)\",\"5m\",\"<none>\","
	             "\"<none>\",\"<none>\",\"<none>\"]");
	/* restarts without a known termination time: a plain count */
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
	             "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\","
	             "\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}}]}}",
	             "[\"p\",\"1/1\",\"Running\",\"2\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	             "\"<none>\"]");
}

static void test_pod_init(void **state)
{
	(void)state;
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"initContainers\":[{\"name\":\"init\"}],"
	    "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
	    "\"initContainerStatuses\":[{\"name\":\"init\",\"state\":{\"waiting\":{\"reason\":"
	    "\"PodInitializing\"}}}],\"containerStatuses\":[{\"name\":\"a\",\"state\":"
	    "{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
	    "[\"p\",\"0/1\",\"Init:0/1\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	    "\"<none>\"]");
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":"
	    "\"i2\"}],\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\","
	    "\"initContainerStatuses\":[{\"name\":\"i1\",\"state\":{\"terminated\":"
	    "{\"exitCode\":0}}},{\"name\":\"i2\",\"restartCount\":3,\"state\":{\"waiting\":"
	    "{\"reason\":\"CrashLoopBackOff\"}}}]}}",
	    "[\"p\",\"0/1\",\"Init:CrashLoopBackOff\",\"3\",\"5m\",\"<none>\",\"<none>\","
	    "\"<none>\",\"<none>\"]");
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"initContainers\":[{\"name\":\"i\"}],"
	             "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Failed\","
	             "\"initContainerStatuses\":[{\"name\":\"i\",\"state\":{\"terminated\":"
	             "{\"exitCode\":2}}}]}}",
	             "[\"p\",\"0/1\",\"Init:ExitCode:2\",\"0\",\"5m\",\"<none>\",\"<none>\","
	             "\"<none>\",\"<none>\"]");
	/* a started sidecar (restartable init container) counts as a container */
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"initContainers\":[{\"name\":\"proxy\","
	    "\"restartPolicy\":\"Always\"}],\"containers\":[{\"name\":\"a\"}]},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\","
	    "\"status\":\"True\"}],\"initContainerStatuses\":[{\"name\":\"proxy\","
	    "\"started\":true,\"ready\":true,\"restartCount\":1,\"state\":{\"running\":{}}}],"
	    "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":"
	    "{}}}]}}",
	    "[\"p\",\"2/2\",\"Running\",\"1\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	    "\"<none>\"]");
}

static void test_pod_ending(void **state)
{
	(void)state;
	expect_cells(&api_table_pods,
	             "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2024-05-01T11:55:00Z\","
	             "\"deletionTimestamp\":\"2024-05-01T12:00:30Z\"},\"spec\":{\"containers\":"
	             "[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\",\"containerStatuses\":"
	             "[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
	             "[\"p\",\"1/1\",\"Terminating\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	             "\"<none>\"]");
	expect_cells(
	    &api_table_pods,
	    "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2024-05-01T12:00:30Z\"},"
	    "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
	    "\"reason\":\"NodeLost\"}}",
	    "[\"p\",\"0/1\",\"Unknown\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\","
	    "\"<none>\"]");
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":"
	    "{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
	    "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	    "[\"p\",\"0/1\",\"Completed\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	    "\"<none>\"]");
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":"
	             "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
	             "{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
	             "[\"p\",\"0/1\",\"Signal:9\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	             "\"<none>\"]");
	/* one container completed, another still runs: NotReady without the Ready condition */
	expect_cells(&api_table_pods,
	             "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
	             "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\","
	             "\"ready\":true,\"state\":{\"running\":{}}},{\"name\":\"b\",\"state\":"
	             "{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	             "[\"p\",\"1/2\",\"NotReady\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	             "\"<none>\"]");
	expect_cells(
	    &api_table_pods,
	    "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":"
	    "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
	    "\"False\",\"reason\":\"SchedulingGated\"}]}}",
	    "[\"p\",\"0/1\",\"SchedulingGated\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\","
	    "\"<none>\"]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),         cmocka_unit_test(test_shape_and_objects),
	    cmocka_unit_test(test_default_table),  cmocka_unit_test(test_age),
	    cmocka_unit_test(test_statefulset),    cmocka_unit_test(test_controllerrevision),
	    cmocka_unit_test(test_pod_running),    cmocka_unit_test(test_pod_waiting),
	    cmocka_unit_test(test_pod_init),       cmocka_unit_test(test_pod_ending),
	    cmocka_unit_test(test_pod_conditions), cmocka_unit_test(test_pod_long_reason),
	};
	int failed = cmocka_run_group_tests_name("table", tests, NULL, NULL);

	return failed + table_core_tests();
}
