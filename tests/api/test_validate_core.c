/* test_validate_core.c — Pods, Services, Secrets, claims, volumes, classes, Nodes, Leases,
 * Events, ControllerRevisions and ConfigMaps: defaults and the exact causes of bad input. */
#include <stdio.h>
#include <string.h>

#include "validate_helpers.h"

/* ---- Pods -------------------------------------------------------------------------------------
 */

#define POD                                                                                   \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":" \
	"\"default\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.20\"}]}}"

static void pod_case(const char *path, const char *value, const char *field, const char *reason,
                     const char *prefix)
{
	json_t *o = J(POD);
	struct api_invalid inv;

	set(o, path, J(value));
	run(api_pod_defaults, api_pod_validate, o, NULL, &inv);
	EXPECT(&inv, field, reason, prefix);
	api_invalid_free(&inv);
	json_decref(o);
}

static void test_pod_defaults(void **state)
{
	json_t *o = J(POD);

	(void)state;
	set(o, "spec.containers",
	    J("[{\"name\":\"a\",\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],"
	      "\"livenessProbe\":{\"httpGet\":{\"port\":80}},\"env\":[{\"name\":\"N\","
	      "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"
	      "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
	      "{\"name\":\"b\",\"image\":\"nginx:latest\"},{\"name\":\"c\",\"image\":"
	      "\"localhost:5000/app\"},{\"name\":\"d\",\"image\":\"repo/app@sha256:abc\"},"
	      "{\"name\":\"e\",\"image\":\"repo/app:v2\",\"imagePullPolicy\":\"Never\"}]"));
	set(o, "spec.volumes",
	    J("[{\"name\":\"s\",\"secret\":{\"secretName\":\"x\"}},{\"name\":\"e\"},"
	      "{\"name\":\"m\",\"configMap\":{\"name\":\"cm\"}}]"));
	api_pod_defaults(o);
	assert_string_equal(S(o, "spec.restartPolicy"), "Always");
	assert_int_equal(I(o, "spec.terminationGracePeriodSeconds"), 30);
	assert_string_equal(S(o, "spec.dnsPolicy"), "ClusterFirst");
	assert_string_equal(S(o, "spec.schedulerName"), "default-scheduler");
	assert_true(json_is_true(at(o, "spec.enableServiceLinks")));
	assert_int_equal(I(o, "spec.priority"), 0);
	assert_string_equal(S(o, "spec.preemptionPolicy"), "PreemptLowerPriority");
	assert_string_equal(S(o, "spec.containers[0].imagePullPolicy"), "Always");
	assert_string_equal(S(o, "spec.containers[1].imagePullPolicy"), "Always");
	assert_string_equal(S(o, "spec.containers[2].imagePullPolicy"), "Always");
	assert_string_equal(S(o, "spec.containers[3].imagePullPolicy"), "IfNotPresent");
	assert_string_equal(S(o, "spec.containers[4].imagePullPolicy"), "Never");
	assert_string_equal(S(o, "spec.containers[0].ports[0].protocol"), "TCP");
	assert_int_equal(I(o, "spec.containers[0].livenessProbe.timeoutSeconds"), 1);
	assert_int_equal(I(o, "spec.containers[0].livenessProbe.periodSeconds"), 10);
	assert_int_equal(I(o, "spec.containers[0].livenessProbe.successThreshold"), 1);
	assert_int_equal(I(o, "spec.containers[0].livenessProbe.failureThreshold"), 3);
	assert_string_equal(S(o, "spec.containers[0].livenessProbe.httpGet.scheme"), "HTTP");
	assert_string_equal(S(o, "spec.containers[0].livenessProbe.httpGet.path"), "/");
	assert_string_equal(S(o, "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion"), "v1");
	assert_string_equal(S(o, "spec.containers[0].resources.requests.cpu"), "1");
	assert_string_equal(S(o, "spec.containers[0].resources.requests.memory"), "1Gi");
	assert_int_equal(I(o, "spec.volumes[0].secret.defaultMode"), 420);
	assert_int_equal(I(o, "spec.volumes[2].configMap.defaultMode"), 420);
	assert_true(json_is_object(at(o, "spec.volumes[1].emptyDir")));
	assert_string_equal(S(o, "status.phase"), "Pending");
	assert_string_equal(S(o, "status.qosClass"), "Burstable");
	json_decref(o);

	o = J(POD);
	api_pod_defaults(o);
	assert_string_equal(S(o, "status.qosClass"), "BestEffort");
	json_decref(o);
	o = J(POD);
	set(o, "spec.containers[0].resources",
	    J("{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}}"));
	api_pod_defaults(o);
	assert_string_equal(S(o, "status.qosClass"), "Guaranteed");
	json_decref(o);
}

static void test_pod_valid(void **state)
{
	json_t *o = J(POD);
	struct api_invalid inv;

	(void)state;
	set(o, "spec.containers[0].ports", J("[{\"containerPort\":80,\"name\":\"http\"}]"));
	set(o, "spec.containers[0].readinessProbe", J("{\"tcpSocket\":{\"port\":\"http\"}}"));
	set(o, "spec.containers[0].resources",
	    J("{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":1,"
	      "\"memory\":\"128Mi\"}}"));
	set(o, "spec.tolerations",
	    J("[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":"
	      "\"NoExecute\",\"tolerationSeconds\":300}]"));
	run(api_pod_defaults, api_pod_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	json_decref(o);
}

static void test_pod_containers(void **state)
{
	(void)state;
	pod_case("spec.containers", "[]", "spec.containers", "FieldValueRequired",
	         "Required value");
	pod_case("spec.containers[0].name", "\"Web\"", "spec.containers[0].name",
	         "FieldValueInvalid", "Invalid value: \"Web\": a lowercase RFC 1123 label");
	pod_case("spec.initContainers", "[{\"name\":\"c\",\"image\":\"busybox\"}]",
	         "spec.initContainers[0].name", "FieldValueDuplicate", "Duplicate value: \"c\"");
	pod_case("spec.containers[0].image", "\" nginx\"", "spec.containers[0].image",
	         "FieldValueInvalid",
	         "Invalid value: \" nginx\": must not have leading or trailing");
	pod_case("spec.containers[0].ports", "[{\"containerPort\":70000}]",
	         "spec.containers[0].ports[0].containerPort", "FieldValueInvalid",
	         "Invalid value: 70000: must be between 1 and 65535, inclusive");
	pod_case("spec.containers[0].ports", "[{\"containerPort\":80,\"protocol\":\"HTTP\"}]",
	         "spec.containers[0].ports[0].protocol", "FieldValueNotSupported",
	         "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
	pod_case("spec.containers[0].ports",
	         "[{\"containerPort\":80,\"name\":\"a\"},{\"containerPort\":81,\"name\":\"a\"}]",
	         "spec.containers[0].ports[1].name", "FieldValueDuplicate",
	         "Duplicate value: \"a\"");
	pod_case("spec.containers[0].ports", "[{\"containerPort\":80,\"name\":\"123\"}]",
	         "spec.containers[0].ports[0].name", "FieldValueInvalid",
	         "Invalid value: \"123\": must contain at least one letter (a-z)");
	pod_case(
	    "spec.containers[0].imagePullPolicy", "\"Sometimes\"",
	    "spec.containers[0].imagePullPolicy", "FieldValueNotSupported",
	    "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", "
	    "\"Never\"");
	pod_case("spec.containers[0].livenessProbe", "{\"exec\":{}}",
	         "spec.containers[0].livenessProbe.exec.command", "FieldValueRequired", NULL);
	pod_case("spec.containers[0].livenessProbe",
	         "{\"exec\":{\"command\":[\"x\"]},"
	         "\"successThreshold\":2}",
	         "spec.containers[0].livenessProbe.successThreshold", "FieldValueInvalid",
	         "Invalid value: 2: must be 1");
	pod_case("spec.containers[0].readinessProbe", "{}", "spec.containers[0].readinessProbe",
	         "FieldValueRequired", "Required value: must specify a handler type");
	pod_case("spec.containers[0].env", "[{\"name\":\"A=B\",\"value\":\"x\"}]",
	         "spec.containers[0].env[0].name", "FieldValueInvalid", NULL);
	pod_case("spec.containers[0].env", "[{\"name\":\"A\",\"valueFrom\":{}}]",
	         "spec.containers[0].env[0].valueFrom", "FieldValueInvalid",
	         "Invalid value: \"\": must specify one of: `fieldRef`");
	pod_case("spec.containers[0].env",
	         "[{\"name\":\"A\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.foo\"}}}]",
	         "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath", "FieldValueNotSupported",
	         "Unsupported value: \"spec.foo\"");
	pod_case(
	    "spec.initContainers",
	    "[{\"name\":\"i\",\"image\":\"b\",\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]}}}]",
	    "spec.initContainers[0].livenessProbe", "FieldValueForbidden",
	    "Forbidden: may not be set for init containers without restartPolicy=Always");
}

static void test_pod_volumes_and_resources(void **state)
{
	(void)state;
	pod_case("spec.containers[0].volumeMounts", "[{\"name\":\"v\",\"mountPath\":\"/v\"}]",
	         "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound",
	         "Not found: \"v\"");
	pod_case("spec.volumes",
	         "[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"v\",\"emptyDir\":{}}]",
	         "spec.volumes[1].name", "FieldValueDuplicate", "Duplicate value: \"v\"");
	pod_case("spec.volumes",
	         "[{\"name\":\"v\",\"emptyDir\":{},\"hostPath\":{\"path\":\"/x\"}}]",
	         "spec.volumes[0].hostPath", "FieldValueForbidden",
	         "Forbidden: may not specify more than 1 volume type");
	pod_case("spec.volumes", "[{\"name\":\"v\",\"secret\":{}}]",
	         "spec.volumes[0].secret.secretName", "FieldValueRequired", "Required value");
	pod_case("spec.volumes", "[{\"name\":\"v\",\"persistentVolumeClaim\":{}}]",
	         "spec.volumes[0].persistentVolumeClaim.claimName", "FieldValueRequired", NULL);
	pod_case("spec.containers[0].resources",
	         "{\"requests\":{\"cpu\":\"2\"},\"limits\":{\"cpu\":\"1\"}}",
	         "spec.containers[0].resources.requests", "FieldValueInvalid",
	         "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
	pod_case("spec.containers[0].resources", "{\"requests\":{\"memory\":\"1x\"}}",
	         "spec.containers[0].resources.requests[memory]", "FieldValueInvalid",
	         "Invalid value: \"1x\": quantities must match the regular expression");
	pod_case("spec.containers[0].resources", "{\"limits\":{\"cpu\":\"-1\"}}",
	         "spec.containers[0].resources.limits[cpu]", "FieldValueInvalid",
	         "Invalid value: \"-1\": must be greater than or equal to 0");
	pod_case("spec.containers[0].resources", "{\"requests\":{\"example.com/gpu\":\"1\"}}",
	         "spec.containers[0].resources.limits", "FieldValueRequired",
	         "Required value: Limit must be set for non overcommitable resources");
	pod_case("spec.containers[0].resources", "{\"limits\":{\"gpu\":\"1\"}}",
	         "spec.containers[0].resources.limits[gpu]", "FieldValueInvalid",
	         "Invalid value: \"gpu\": must be a standard resource for containers");
}

static void test_pod_settings(void **state)
{
	(void)state;
	pod_case("spec.restartPolicy", "\"Sometimes\"", "spec.restartPolicy",
	         "FieldValueNotSupported",
	         "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", "
	         "\"Never\"");
	pod_case("spec.dnsPolicy", "\"Cloud\"", "spec.dnsPolicy", "FieldValueNotSupported", NULL);
	pod_case("spec.nodeName", "\"Node_1\"", "spec.nodeName", "FieldValueInvalid",
	         "Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain");
	pod_case("spec.activeDeadlineSeconds", "0", "spec.activeDeadlineSeconds",
	         "FieldValueInvalid",
	         "Invalid value: 0: must be between 1 and 2147483647, inclusive");
	pod_case("spec.tolerations", "[{\"operator\":\"Equal\",\"value\":\"x\"}]",
	         "spec.tolerations[0].operator", "FieldValueInvalid",
	         "Invalid value: \"Equal\": operator must be Exists when `key` is empty");
	pod_case("spec.tolerations", "[{\"key\":\"k\",\"effect\":\"Evict\"}]",
	         "spec.tolerations[0].effect", "FieldValueNotSupported", NULL);
	pod_case("spec.affinity",
	         "{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
	         "\"labelSelector\":{\"matchLabels\":{\"app\":\"x\"}}}]}}",
	         "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
	         "topologyKey",
	         "FieldValueRequired", "Required value: can not be empty");
	pod_case("spec.hostname", "\"Host\"", "spec.hostname", "FieldValueInvalid", NULL);
	pod_case("spec.ephemeralContainers", "[{\"name\":\"e\",\"image\":\"x\"}]",
	         "spec.ephemeralContainers", "FieldValueForbidden",
	         "Forbidden: cannot be set on create");
	pod_case("metadata.labels", "{\"app\":\"a b\"}", "metadata.labels", "FieldValueInvalid",
	         "Invalid value: \"a b\": a valid label must be an empty string");
}

static void test_pod_spread(void **state)
{
	(void)state;
	pod_case(
	    "spec.topologySpreadConstraints",
	    "[{\"maxSkew\":1,\"topologyKey\":\"zone\",\"whenUnsatisfiable\":\"DoNotSchedule\"},"
	    "{\"maxSkew\":1,\"topologyKey\":\"zone\",\"whenUnsatisfiable\":\"DoNotSchedule\"}]",
	    "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}",
	    "FieldValueDuplicate", "Duplicate value: \"{zone, DoNotSchedule}\"");
	pod_case("spec.topologySpreadConstraints",
	         "[{\"maxSkew\":0,\"topologyKey\":\"zone\",\"whenUnsatisfiable\":\"Maybe\"}]",
	         "spec.topologySpreadConstraints[0].maxSkew", "FieldValueInvalid",
	         "Invalid value: 0: must be greater than zero");
}

/* Big lists are checked in one pass each: thousands of entries stay cheap on the loop thread. */
static void test_pod_large_lists(void **state)
{
	json_t *old = J(POD), *o, *tol = json_array(), *spread = json_array();
	struct api_invalid inv;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		json_array_append_new(
		    tol, json_pack("{s:s,s:s,s:s}", "key", "k", "operator", "Equal", "value", "v"));
		json_array_append_new(spread,
		                      json_pack("{s:i,s:s,s:s}", "maxSkew", 1, "topologyKey",
		                                "zone", "whenUnsatisfiable", "DoNotSchedule"));
	}
	set(old, "spec.tolerations", tol);
	o = json_deep_copy(old);
	set(o, "spec.topologySpreadConstraints", spread);
	run(api_pod_defaults, api_pod_validate, o, old, &inv);
	assert_true(inv.n > 4900); /* each constraint but the last is a duplicate */
	assert_false(has(&inv, "spec.tolerations", "FieldValueForbidden", NULL));
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);
}

static void pod_update_case(const char *path, const char *value, const char *field,
                            const char *reason, const char *prefix)
{
	json_t *old = J(POD), *o = J(POD);
	struct api_invalid inv;

	set(old, "spec.activeDeadlineSeconds", json_integer(100));
	set(o, "spec.activeDeadlineSeconds", json_integer(100));
	set(old, "spec.tolerations", J("[{\"key\":\"a\",\"operator\":\"Exists\"}]"));
	set(o, "spec.tolerations", J("[{\"key\":\"a\",\"operator\":\"Exists\"}]"));
	set(o, path, J(value));
	run(api_pod_defaults, api_pod_validate, o, old, &inv);
	if (field)
		EXPECT(&inv, field, reason, prefix);
	else
		EXPECT_NONE(&inv);
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);
}

static void test_pod_update(void **state)
{
	(void)state;
	pod_update_case("spec.containers[0].image", "\"nginx:1.21\"", NULL, NULL, NULL);
	pod_update_case("spec.activeDeadlineSeconds", "50", NULL, NULL, NULL);
	pod_update_case("spec.nodeName", "\"node-1\"", NULL, NULL, NULL); /* binding */
	pod_update_case("spec.tolerations",
	                "[{\"key\":\"a\",\"operator\":\"Exists\"},{\"key\":\"b\",\"operator\":"
	                "\"Exists\"}]",
	                NULL, NULL, NULL);
	pod_update_case(
	    "spec.containers[0].ports", "[{\"containerPort\":80}]", "spec", "FieldValueForbidden",
	    "Forbidden: pod updates may not change fields other than "
	    "`spec.containers[*].image`,`spec.initContainers[*].image`,"
	    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
	    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
	    "it was previously negative)");
	pod_update_case("spec.containers",
	                "[{\"name\":\"c\",\"image\":\"a\"},{\"name\":\"d\",\"image\":\"b\"}]",
	                "spec.containers", "FieldValueForbidden",
	                "Forbidden: pod updates may not add or remove containers");
	pod_update_case("spec.activeDeadlineSeconds", "200", "spec.activeDeadlineSeconds",
	                "FieldValueInvalid",
	                "Invalid value: 200: must be less than or equal to previous value");
	pod_update_case("spec.tolerations",
	                "[{\"key\":\"a\",\"operator\":\"Exists\"},{\"key\":\"b\",\"operator\":"
	                "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":5}]",
	                NULL, NULL, NULL);
	pod_update_case("spec.tolerations", "[]", "spec.tolerations", "FieldValueForbidden",
	                "Forbidden: existing toleration can not be modified except its "
	                "tolerationSeconds");
}

/* ---- Services and Secrets ---------------------------------------------------------------------
 */

#define SVC                                                                                       \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"nginx\"},\"spec\":" \
	"{\"ports\":[{\"port\":80,\"name\":\"web\"}],\"selector\":{\"app\":\"nginx\"}}}"

static void svc_case(const char *path, const char *value, const char *field, const char *reason,
                     const char *prefix)
{
	json_t *o = J(SVC);
	struct api_invalid inv;

	set(o, path, J(value));
	run(api_service_defaults, api_service_validate, o, NULL, &inv);
	EXPECT(&inv, field, reason, prefix);
	api_invalid_free(&inv);
	json_decref(o);
}

static void test_service(void **state)
{
	json_t *o = J(SVC), *old;
	struct api_invalid inv;

	(void)state;
	run(api_service_defaults, api_service_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "spec.type"), "ClusterIP");
	assert_string_equal(S(o, "spec.sessionAffinity"), "None");
	assert_string_equal(S(o, "spec.ports[0].protocol"), "TCP");
	assert_int_equal(I(o, "spec.ports[0].targetPort"), 80);
	assert_string_equal(S(o, "spec.internalTrafficPolicy"), "Cluster");
	assert_string_equal(S(o, "spec.ipFamilyPolicy"), "SingleStack");
	assert_string_equal(S(o, "spec.ipFamilies[0]"), "IPv4");
	json_decref(o);

	o = J(SVC);
	set(o, "spec.clusterIP", json_string("None"));
	json_object_del(at(o, "spec"), "ports");
	run(api_service_defaults, api_service_validate, o, NULL, &inv);
	EXPECT_NONE(&inv); /* headless: ports optional */
	assert_string_equal(S(o, "spec.clusterIPs[0]"), "None");
	json_decref(o);

	svc_case("spec.ports", "[]", "spec.ports", "FieldValueRequired", "Required value");
	svc_case("spec.ports", "[{\"port\":80,\"name\":\"a\"},{\"port\":81}]", "spec.ports[1].name",
	         "FieldValueRequired", "Required value");
	svc_case("spec.ports", "[{\"port\":0}]", "spec.ports[0].port", "FieldValueInvalid",
	         "Invalid value: 0: must be between 1 and 65535, inclusive");
	svc_case("spec.ports", "[{\"port\":80,\"name\":\"a\"},{\"port\":80,\"name\":\"b\"}]",
	         "spec.ports[1]", "FieldValueDuplicate", "Duplicate value: core.ServicePort{");
	svc_case("spec.type", "\"Mesh\"", "spec.type", "FieldValueNotSupported",
	         "Unsupported value: \"Mesh\": supported values: \"ClusterIP\", \"ExternalName\", "
	         "\"LoadBalancer\", \"NodePort\"");
	svc_case("spec.sessionAffinity", "\"Sticky\"", "spec.sessionAffinity",
	         "FieldValueNotSupported", NULL);
	svc_case("spec.selector", "{\"app\":\"a b\"}", "spec.selector", "FieldValueInvalid", NULL);
	svc_case("metadata.name", "\"1web\"", "metadata.name", "FieldValueInvalid",
	         "Invalid value: \"1web\": a DNS-1035 label");

	/* clusterIP is immutable; an update leaving it out keeps it. */
	old = J(SVC);
	set(old, "spec.clusterIP", json_string("10.0.0.10"));
	o = J(SVC);
	set(o, "spec.clusterIP", json_string("10.0.0.11"));
	run(api_service_defaults, api_service_validate, o, old, &inv);
	EXPECT(&inv, "spec.clusterIPs[0]", "FieldValueInvalid", NULL);
	api_invalid_free(&inv);
	json_decref(o);
	o = J(SVC);
	run(api_service_defaults, api_service_validate, o, old, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "spec.clusterIP"), "10.0.0.10");
	json_decref(o);
	json_decref(old);
}

static void test_secret(void **state)
{
	json_t *o =
	    J("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"stringData\":{"
	      "\"password\":\"password123\"},\"data\":{\"password\":\"eA==\",\"u\":\"eA==\"}}");
	json_t *old;
	struct api_invalid inv;

	(void)state;
	run(api_secret_defaults, api_secret_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "type"), "Opaque");
	assert_string_equal(S(o, "data.password"), "cGFzc3dvcmQxMjM=");
	assert_string_equal(S(o, "data.u"), "eA==");
	assert_null(at(o, "stringData"));
	json_decref(o);

	o = J("{\"metadata\":{\"name\":\"s\"},\"data\":{\"a b\":\"eA==\"}}");
	run(api_secret_defaults, api_secret_validate, o, NULL, &inv);
	EXPECT(&inv, "data[a b]", "FieldValueInvalid",
	       "Invalid value: \"a b\": a valid config key");
	api_invalid_free(&inv);
	json_decref(o);

	o = J("{\"metadata\":{\"name\":\"s\"},\"type\":\"kubernetes.io/tls\",\"data\":{}}");
	run(api_secret_defaults, api_secret_validate, o, NULL, &inv);
	EXPECT(&inv, "data[tls.crt]", "FieldValueRequired", "Required value");
	EXPECT(&inv, "data[tls.key]", "FieldValueRequired", "Required value");
	api_invalid_free(&inv);
	json_decref(o);

	old = J("{\"metadata\":{\"name\":\"s\"},\"immutable\":true,\"data\":{\"a\":\"eA==\"}}");
	o = J("{\"metadata\":{\"name\":\"s\"},\"immutable\":true,\"data\":{\"a\":\"eQ==\"},"
	      "\"type\":\"Other\"}");
	run(api_secret_defaults, api_secret_validate, o, old, &inv);
	EXPECT(&inv, "data", "FieldValueForbidden",
	       "Forbidden: field is immutable when `immutable` is set");
	EXPECT(&inv, "type", "FieldValueInvalid", "Invalid value: \"Other\": field is immutable");
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);
}

/* ---- Storage ----------------------------------------------------------------------------------
 */

#define PVC                                                                                     \
	"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"www-web-0\"},\"spec\":{"  \
	"\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"standard\",\"resources\":{" \
	"\"requests\":{\"storage\":\"1Gi\"}}}}"

static void pvc_case(const char *path, const char *value, const char *field, const char *reason,
                     const char *prefix)
{
	json_t *o = J(PVC);
	struct api_invalid inv;

	set(o, path, J(value));
	run(api_pvc_defaults, api_pvc_validate, o, NULL, &inv);
	EXPECT(&inv, field, reason, prefix);
	api_invalid_free(&inv);
	json_decref(o);
}

static void test_pvc(void **state)
{
	json_t *o = J(PVC), *old;
	struct api_invalid inv;

	(void)state;
	run(api_pvc_defaults, api_pvc_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "spec.volumeMode"), "Filesystem");
	assert_string_equal(S(o, "status.phase"), "Pending");
	json_decref(o);
	pvc_case("spec.accessModes", "[]", "spec.accessModes", "FieldValueRequired",
	         "Required value: at least 1 access mode is required");
	pvc_case("spec.accessModes", "[\"ReadWriteSometimes\"]", "spec.accessModes",
	         "FieldValueNotSupported",
	         "Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", "
	         "\"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"");
	pvc_case("spec.accessModes", "[\"ReadWriteOncePod\",\"ReadWriteOnce\"]", "spec.accessModes",
	         "FieldValueForbidden", NULL);
	pvc_case("spec.resources", "{}", "spec.resources[storage]", "FieldValueRequired",
	         "Required value");
	pvc_case("spec.resources.requests.storage", "\"0\"", "spec.resources[storage]",
	         "FieldValueInvalid", "Invalid value: \"0\": must be greater than zero");
	pvc_case("spec.volumeMode", "\"Raw\"", "spec.volumeMode", "FieldValueNotSupported",
	         "Unsupported value: \"Raw\": supported values: \"Block\", \"Filesystem\"");

	/* Bound claims may grow; nothing else in spec may change. */
	old = J(PVC);
	o = J(PVC);
	set(o, "spec.resources.requests.storage", json_string("2Gi"));
	set(o, "status", J("{\"phase\":\"Bound\"}"));
	run(api_pvc_defaults, api_pvc_validate, o, old, &inv);
	EXPECT_NONE(&inv);
	json_decref(o);
	o = J(PVC);
	set(o, "spec.storageClassName", json_string("fast"));
	run(api_pvc_defaults, api_pvc_validate, o, old, &inv);
	EXPECT(&inv, "spec", "FieldValueForbidden",
	       "Forbidden: spec is immutable after creation except resources.requests and "
	       "volumeAttributesClassName for bound claims");
	api_invalid_free(&inv);
	json_decref(o);
	o = J(PVC);
	set(o, "spec.resources.requests.storage", json_string("512Mi"));
	set(o, "status", J("{\"phase\":\"Bound\"}"));
	run(api_pvc_defaults, api_pvc_validate, o, old, &inv);
	EXPECT(&inv, "spec.resources.requests.storage", "FieldValueForbidden",
	       "Forbidden: field can not be less than previous value");
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);
}

static void test_pv_and_class(void **state)
{
	json_t *o =
	    J("{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":"
	      "\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],\"hostPath\":{\"path\":\"/d\"}}}");
	json_t *old;
	struct api_invalid inv;

	(void)state;
	run(api_pv_defaults, api_pv_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "spec.persistentVolumeReclaimPolicy"), "Retain");
	json_decref(o);
	o = J("{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
	      "\"hostPath\":{\"path\":\"/d\"},\"nfs\":{\"server\":\"s\",\"path\":\"/x\"}}}");
	run(api_pv_defaults, api_pv_validate, o, NULL, &inv);
	EXPECT(&inv, "spec.capacity", "FieldValueRequired", "Required value");
	EXPECT(&inv, "spec.nfs", "FieldValueForbidden",
	       "Forbidden: may not specify more than 1 volume type");
	api_invalid_free(&inv);
	json_decref(o);
	o = J("{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},"
	      "\"accessModes\":[\"ReadWriteOnce\"]}}");
	run(api_pv_defaults, api_pv_validate, o, NULL, &inv);
	EXPECT(&inv, "spec", "FieldValueRequired", "Required value: must specify a volume type");
	api_invalid_free(&inv);
	json_decref(o);

	o = J("{\"metadata\":{\"name\":\"standard\"},\"provisioner\":\"stsd.io/local\"}");
	run(api_storageclass_defaults, api_storageclass_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	assert_string_equal(S(o, "reclaimPolicy"), "Delete");
	assert_string_equal(S(o, "volumeBindingMode"), "Immediate");
	old = o;
	o = J("{\"metadata\":{\"name\":\"standard\"},\"provisioner\":\"stsd.io/local\","
	      "\"parameters\":{\"a\":\"b\"}}");
	run(api_storageclass_defaults, api_storageclass_validate, o, old, &inv);
	EXPECT(&inv, "parameters", "FieldValueForbidden",
	       "Forbidden: updates to parameters are forbidden.");
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);
	o = J("{\"metadata\":{\"name\":\"standard\"},\"reclaimPolicy\":\"Recycle\"}");
	run(api_storageclass_defaults, api_storageclass_validate, o, NULL, &inv);
	EXPECT(&inv, "provisioner", "FieldValueRequired", "Required value");
	EXPECT(&inv, "reclaimPolicy", "FieldValueNotSupported",
	       "Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"");
	api_invalid_free(&inv);
	json_decref(o);
}

/* ---- Nodes, Leases, Events, ControllerRevisions, ConfigMaps ------------------------------------
 */

static void test_node_lease_event(void **state)
{
	json_t *o, *old;
	struct api_invalid inv;

	(void)state;
	o = J("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.244.0.0/33\","
	      "\"podCIDRs\":[\"10.244.0.0/24\",\"banana\"],\"taints\":[{\"key\":\"k\","
	      "\"effect\":\"Evict\"}]},\"status\":{\"capacity\":{\"cpu\":\"-1\"}}}");
	run(NULL, api_node_validate, o, NULL, &inv);
	EXPECT(&inv, "spec.podCIDR", "FieldValueInvalid",
	       "Invalid value: \"10.244.0.0/33\": must be a valid CIDR value");
	EXPECT(&inv, "spec.podCIDRs[1]", "FieldValueInvalid", NULL);
	EXPECT(&inv, "metadata.taints[0].effect", "FieldValueNotSupported", NULL);
	EXPECT(&inv, "status.capacity.cpu", "FieldValueInvalid", NULL);
	api_invalid_free(&inv);
	json_decref(o);
	old = J("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDRs\":[\"10.244.0.0/24\"]}}");
	o = J("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]}}");
	run(NULL, api_node_validate, o, old, &inv);
	EXPECT(&inv, "spec.podCIDRs", "FieldValueForbidden",
	       "Forbidden: node updates may not change podCIDR except from \"\" to valid");
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);

	o = J("{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"a\","
	      "\"leaseDurationSeconds\":0}}");
	run(NULL, api_lease_validate, o, NULL, &inv);
	EXPECT(&inv, "spec.leaseDurationSeconds", "FieldValueInvalid",
	       "Invalid value: 0: must be greater than 0");
	api_invalid_free(&inv);
	json_decref(o);

	o = J("{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},\"involvedObject\":{"
	      "\"kind\":\"Pod\",\"name\":\"web-0\",\"namespace\":\"other\",\"apiVersion\":\"v1\"},"
	      "\"reason\":\"Created\"}");
	run(api_event_defaults, api_event_validate, o, NULL, &inv);
	EXPECT(&inv, "involvedObject.namespace", "FieldValueInvalid",
	       "Invalid value: \"other\": does not match event.namespace");
	api_invalid_free(&inv);
	json_decref(o);
	o = J("{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},\"involvedObject\":{"
	      "\"kind\":\"StatefulSet\",\"name\":\"web\",\"namespace\":\"default\","
	      "\"apiVersion\":\"apps/v1\"},\"reason\":\"SuccessfulCreate\",\"count\":1}");
	run(api_event_defaults, api_event_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	json_decref(o);
}

static void test_controllerrevision_configmap(void **state)
{
	json_t *o, *old;
	struct api_invalid inv;

	(void)state;
	o = J("{\"metadata\":{\"name\":\"web-1\"},\"revision\":-1}");
	run(NULL, api_controllerrevision_validate, o, NULL, &inv);
	EXPECT(&inv, "data", "FieldValueRequired", "Required value: data is mandatory");
	EXPECT(&inv, "revision", "FieldValueInvalid",
	       "Invalid value: -1: must be greater than or equal to 0");
	api_invalid_free(&inv);
	json_decref(o);
	old = J("{\"metadata\":{\"name\":\"web-1\"},\"revision\":1,\"data\":{\"spec\":{}}}");
	o = J("{\"metadata\":{\"name\":\"web-1\"},\"revision\":1,\"data\":{\"spec\":{\"x\":1}}}");
	run(NULL, api_controllerrevision_validate, o, old, &inv);
	EXPECT(&inv, "data", "FieldValueInvalid", NULL);
	api_invalid_free(&inv);
	json_decref(o);
	json_decref(old);

	o = J("{\"metadata\":{\"name\":\"c\",\"labels\":{\"-x\":\"y\"}},\"data\":{\"k\":\"v\"}}");
	run(NULL, api_configmap_validate, o, NULL, &inv);
	EXPECT(&inv, "metadata.labels", "FieldValueInvalid", "Invalid value: \"-x\": name part");
	api_invalid_free(&inv);
	json_decref(o);
}

/* Hostile shapes: wrong types everywhere must neither crash nor leak. */

const struct CMUnitTest validate_core_tests[] = {
    cmocka_unit_test(test_pod_defaults),
    cmocka_unit_test(test_pod_valid),
    cmocka_unit_test(test_pod_containers),
    cmocka_unit_test(test_pod_volumes_and_resources),
    cmocka_unit_test(test_pod_settings),
    cmocka_unit_test(test_pod_update),
    cmocka_unit_test(test_pod_spread),
    cmocka_unit_test(test_pod_large_lists),
    cmocka_unit_test(test_service),
    cmocka_unit_test(test_secret),
    cmocka_unit_test(test_pvc),
    cmocka_unit_test(test_pv_and_class),
    cmocka_unit_test(test_node_lease_event),
    cmocka_unit_test(test_controllerrevision_configmap),
};
const size_t validate_core_count = sizeof validate_core_tests / sizeof validate_core_tests[0];
