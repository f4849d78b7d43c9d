/* test_schemas.c — the resource table and its schemas: Strict unknown-field detection at any
 * depth, int-or-string and quantity types, the strategic-merge keys kubectl relies on, protobuf
 * decoding of tagged and untagged kinds, the router's subresources, discovery (legacy and
 * aggregated) and OpenAPI documents generated from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api_internal.h"
#include "schemas.h"

/* ---- Helpers --------------------------------------------------------------------------------- */

static void check_text(const struct api_schema *sch, const char *text, struct schema_report *rep)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (v == NULL)
		fail_msg("bad test JSON: %s", jerr.text);
	api_schema_check(sch, v, rep);
	json_decref(v);
}

/* The schema at a dotted path of field names ("spec.template.spec.containers"); arrays and maps
 * are stepped through by "[]". */
static const struct api_schema *schema_at(const struct api_schema *sch, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", path);
	for (char *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (strcmp(tok, "[]") == 0) {
			assert_non_null(sch->item);
			sch = sch->item;
			continue;
		}
		const struct api_field *f = sch->fields;
		while (f && f->name && strcmp(f->name, tok) != 0)
			f++;
		if (f == NULL || f->name == NULL)
			fail_msg("no field %s in %s", tok, path);
		sch = f->schema;
	}
	return sch;
}

static void assert_merge(const struct api_schema *root, const char *path, const char *key,
                         unsigned strategy)
{
	const struct api_schema *s = schema_at(root, path);

	assert_int_equal(s->type, SCH_ARRAY);
	assert_int_equal(s->strategy, strategy);
	if (key == NULL)
		assert_null(s->merge_key);
	else
		assert_string_equal(s->merge_key, key);
}

/* A complete StatefulSet as users write it (the seed manifests' fields and then some). */
static const char *const full_sts =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
    "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"nginx\"},\"finalizers\":[\"x\"],"
    " \"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"x\",\"uid\":\"u\","
    "  \"controller\":true}]},"
    "\"spec\":{\"serviceName\":\"nginx\",\"replicas\":3,\"minReadySeconds\":0,"
    " \"podManagementPolicy\":\"Parallel\",\"revisionHistoryLimit\":10,"
    " \"ordinals\":{\"start\":0},"
    " \"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Delete\"},"
    " \"updateStrategy\":{\"type\":\"RollingUpdate\","
    "  \"rollingUpdate\":{\"partition\":0,\"maxUnavailable\":\"50%\"}},"
    " \"selector\":{\"matchLabels\":{\"app\":\"nginx\"},"
    "  \"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"b\"]}]},"
    " \"template\":{\"metadata\":{\"labels\":{\"app\":\"nginx\"}},\"spec\":{"
    "  \"terminationGracePeriodSeconds\":10,\"restartPolicy\":\"Always\","
    "  \"securityContext\":{\"fsGroup\":999,\"runAsNonRoot\":true,"
    "   \"seccompProfile\":{\"type\":\"RuntimeDefault\"},\"sysctls\":[{\"name\":\"a\",\"value\":\"1\"}]},"
    "  \"affinity\":{\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
    "   [{\"weight\":100,\"podAffinityTerm\":{\"topologyKey\":\"kubernetes.io/hostname\","
    "    \"labelSelector\":{\"matchLabels\":{\"app\":\"nginx\"}}}}]},"
    "   \"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":"
    "    [{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]}]}]}}},"
    "  \"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}],"
    "  \"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"zone\","
    "   \"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"a\":\"b\"}}}],"
    "  \"dnsConfig\":{\"options\":[{\"name\":\"ndots\",\"value\":\"2\"}]},"
    "  \"imagePullSecrets\":[{\"name\":\"reg\"}],\"hostAliases\":[{\"ip\":\"1.2.3.4\","
    "   \"hostnames\":[\"a\"]}],\"readinessGates\":[{\"conditionType\":\"x\"}],"
    "  \"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\",\"command\":[\"sh\"],"
    "   \"restartPolicy\":\"Always\"}],"
    "  \"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"imagePullPolicy\":\"IfNotPresent\","
    "   \"args\":[\"-g\"],\"ports\":[{\"containerPort\":80,\"name\":\"web\",\"protocol\":\"TCP\"}],"
    "   \"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"P\",\"valueFrom\":{\"secretKeyRef\":"
    "    {\"name\":\"s\",\"key\":\"k\"}}},{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":"
    "    {\"fieldPath\":\"metadata.name\"}}},{\"name\":\"C\",\"valueFrom\":{\"resourceFieldRef\":"
    "    {\"resource\":\"limits.cpu\",\"divisor\":\"1m\"}}}],"
    "   \"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"},\"prefix\":\"X_\"}],"
    "   \"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
    "    \"limits\":{\"cpu\":1,\"memory\":\"1Gi\"}},"
    "   \"resizePolicy\":[{\"resourceName\":\"cpu\",\"restartPolicy\":\"NotRequired\"}],"
    "   \"volumeMounts\":[{\"name\":\"www\",\"mountPath\":\"/usr/share/nginx/html\"}],"
    "   \"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":\"web\","
    "    \"httpHeaders\":[{\"name\":\"h\",\"value\":\"v\"}]},\"periodSeconds\":5},"
    "   \"readinessProbe\":{\"tcpSocket\":{\"port\":80}},"
    "   \"startupProbe\":{\"grpc\":{\"port\":9000},\"failureThreshold\":30},"
    "   \"lifecycle\":{\"preStop\":{\"exec\":{\"command\":[\"sleep\",\"5\"]}},"
    "    \"postStart\":{\"sleep\":{\"seconds\":1}}},"
    "   \"securityContext\":{\"capabilities\":{\"drop\":[\"ALL\"]},\"readOnlyRootFilesystem\":true}}],"
    "  \"volumes\":[{\"name\":\"cfg\",\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"a\","
    "   \"path\":\"a\"}]}},{\"name\":\"sec\",\"secret\":{\"secretName\":\"s\",\"defaultMode\":420}},"
    "   {\"name\":\"tmp\",\"emptyDir\":{\"sizeLimit\":\"1Gi\"}},"
    "   {\"name\":\"p\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"path\":\"t\"}},"
    "    {\"downwardAPI\":{\"items\":[{\"path\":\"l\",\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}]}}]}},"
    "   {\"name\":\"e\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{\"accessModes\":"
    "    [\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}}}]}},"
    " \"volumeClaimTemplates\":[{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
    "  \"metadata\":{\"name\":\"www\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
    "  \"storageClassName\":\"standard\",\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}]},"
    "\"status\":{\"replicas\":3,\"readyReplicas\":2,\"observedGeneration\":1,"
    " \"currentRevision\":\"web-1\",\"updateRevision\":\"web-1\",\"collisionCount\":0,"
    " \"conditions\":[{\"type\":\"x\",\"status\":\"True\"}],\"availableReplicas\":2}}";

/* ---- Strict: unknown fields at any depth ----------------------------------------------------- */

static void full_statefulset_is_known(void **state)
{
	struct schema_report rep;

	(void)state;
	check_text(&api_schema_statefulset, full_sts, &rep);
	assert_string_equal(rep.type_error, "");
	for (size_t i = 0; i < rep.n_unknown && i < 8; i++)
		print_message("unexpected unknown field %s\n", rep.unknown[i]);
	assert_int_equal(rep.n_unknown, 0);
}

/* Replace the first occurrence of from in full_sts with to, check, and expect one unknown at path.
 */
static void expect_unknown(const char *from, const char *to, const char *path)
{
	const char *at = strstr(full_sts, from);
	size_t len = strlen(full_sts) + strlen(to) + 1;
	char *text = malloc(len);
	struct schema_report rep;

	assert_non_null(at);
	assert_non_null(text);
	snprintf(text, len, "%.*s%s%s", (int)(at - full_sts), full_sts, to, at + strlen(from));
	check_text(&api_schema_statefulset, text, &rep);
	free(text);
	assert_string_equal(rep.type_error, "");
	assert_int_equal(rep.n_unknown, 1);
	assert_string_equal(rep.unknown[0], path);
}

static void unknown_fields_at_depth(void **state)
{
	(void)state;
	expect_unknown("\"imagePullPolicy\"", "\"imagePullPolcy\"",
	               "spec.template.spec.containers[0].imagePullPolcy");
	expect_unknown("\"storageClassName\"", "\"storageClass\"",
	               "spec.volumeClaimTemplates[0].spec.storageClass");
	expect_unknown(
	    "\"topologyKey\":\"kubernetes.io/hostname\"", "\"topologykey\":\"h\"",
	    "spec.template.spec.affinity.podAntiAffinity."
	    "preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologykey");
	expect_unknown("\"fieldPath\":\"metadata.name\"", "\"fieldpath\":\"x\"",
	               "spec.template.spec.containers[0].env[2].valueFrom.fieldRef.fieldpath");
	expect_unknown("\"defaultMode\"", "\"defaultMod\"",
	               "spec.template.spec.volumes[1].secret.defaultMod");
	expect_unknown("\"maxUnavailable\"", "\"maxUnavailible\"",
	               "spec.updateStrategy.rollingUpdate.maxUnavailible");
	expect_unknown("\"uid\":\"u\"", "\"UID\":\"u\"", "metadata.ownerReferences[0].UID");
	expect_unknown("\"drop\"", "\"dropp\"",
	               "spec.template.spec.containers[0].securityContext.capabilities.dropp");
	expect_unknown("\"emptyDir\"", "\"emptydir\"", "spec.template.spec.volumes[2].emptydir");
	expect_unknown("\"sizeLimit\"", "\"size\"", "spec.template.spec.volumes[2].emptyDir.size");
}

static void every_kind_has_type_meta_and_metadata(void **state)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);
	struct schema_report rep;

	(void)state;
	assert_int_equal(n, 15);
	for (size_t i = 0; i < n; i++) {
		check_text(t[i].schema,
		           "{\"apiVersion\":\"x\",\"kind\":\"y\",\"metadata\":{\"name\":\"a\","
		           "\"annotations\":{\"k\":\"v\"}}}",
		           &rep);
		assert_int_equal(rep.n_unknown, 0);
		check_text(t[i].schema, "{\"bogus\":1}", &rep);
		assert_int_equal(rep.n_unknown, 1);
		assert_true(t[i].verbs & VERB_WATCH);
		assert_true(t[i].verbs & VERB_PATCH);
	}
}

static void other_kinds_know_their_fields(void **state)
{
	struct schema_report rep;

	(void)state;
	check_text(
	    &api_schema_service,
	    "{\"spec\":{\"clusterIP\":\"None\",\"selector\":{\"a\":\"b\"},\"ports\":[{\"port\":80,"
	    "\"targetPort\":\"web\",\"name\":\"web\"}],\"sessionAffinityConfig\":{\"clientIP\":"
	    "{\"timeoutSeconds\":3}}},\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"1\"}]}}}",
	    &rep);
	assert_int_equal(rep.n_unknown, 0);
	check_text(
	    &api_schema_secret,
	    "{\"data\":{\"p\":\"cGFzcw==\"},\"stringData\":{\"q\":\"x\"},\"type\":\"Opaque\","
	    "\"immutable\":true}",
	    &rep);
	assert_int_equal(rep.n_unknown, 0);
	assert_string_equal(rep.type_error, "");
	check_text(&api_schema_event,
	           "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-0\",\"fieldPath\":\"x\"},"
	           "\"source\":{\"component\":\"c\"},\"series\":{\"count\":2,\"lastObservedTime\":"
	           "\"2024-01-01T00:00:00.000000Z\"},\"eventTime\":\"2024-01-01T00:00:00.000000Z\","
	           "\"reportingComponent\":\"r\",\"count\":1,\"type\":\"Normal\"}",
	           &rep);
	assert_int_equal(rep.n_unknown, 0);
	check_text(
	    &api_schema_pod,
	    "{\"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"1\"}],\"containerStatuses\":"
	    "[{\"name\":\"c\",\"state\":{\"running\":{\"startedAt\":\"t\"}},\"lastState\":{"
	    "\"terminated\":{\"exitCode\":1}},\"restartCount\":2,\"ready\":true}],"
	    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	    &rep);
	assert_int_equal(rep.n_unknown, 0);
	check_text(
	    &api_schema_node,
	    "{\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}],"
	    "\"unschedulable\":true},\"status\":{\"capacity\":{\"cpu\":\"4\"},\"addresses\":"
	    "[{\"type\":\"InternalIP\",\"address\":\"1\"}],\"nodeInfo\":{\"kubeletVersion\":\"v\"},"
	    "\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10250}}}}",
	    &rep);
	assert_int_equal(rep.n_unknown, 0);
	check_text(&api_schema_endpointslice,
	           "{\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"1\"],\"conditions\":"
	           "{\"ready\":true}}],\"ports\":[{\"port\":80}],\"endpoint\":1}",
	           &rep);
	assert_int_equal(rep.n_unknown, 1);
	assert_string_equal(rep.unknown[0], "endpoint");
}

/* ---- Types ----------------------------------------------------------------------------------- */

static void int_or_string(void **state)
{
	struct schema_report rep;
	const struct api_schema *sch = &api_schema_statefulset;

	(void)state;
	check_text(sch,
	           "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":2}}}}",
	           &rep);
	assert_string_equal(rep.type_error, "");
	check_text(
	    sch, "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"25%\"}}}}",
	    &rep);
	assert_string_equal(rep.type_error, "");
	check_text(sch,
	           "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":true}}}}",
	           &rep);
	assert_string_equal(rep.type_error, "spec.updateStrategy.rollingUpdate.maxUnavailable: "
	                                    "expected integer or string, got boolean");
	check_text(sch, "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"partition\":\"1\"}}}}",
	           &rep);
	assert_string_equal(
	    rep.type_error,
	    "spec.updateStrategy.rollingUpdate.partition: expected integer, got string");
}

static void quantity(void **state)
{
	static const char *const good[] = {"500m", "1Gi",  "2",   "0.5",
	                                   "1e3",  "1E-2", "+1k", "128Mi"};
	static const char *const bad[] = {"abc", "1Gx", "", "1..2", "1e", "Gi", "1 Gi"};
	const struct api_schema *sch = &api_schema_pod;
	struct schema_report rep;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(
		    text, sizeof text,
		    "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"%s\"}}}]}}",
		    good[i]);
		check_text(sch, text, &rep);
		assert_string_equal(rep.type_error, "");
	}
	check_text(sch, "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":1.5}}}]}}",
	           &rep);
	assert_string_equal(rep.type_error, "");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(
		    text, sizeof text,
		    "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"%s\"}}}]}}",
		    bad[i]);
		check_text(sch, text, &rep);
		assert_non_null(strstr(rep.type_error, "spec.containers[0].resources.limits.cpu: "
		                                       "quantities must match"));
	}
	check_text(sch, "{\"spec\":{\"overhead\":{\"cpu\":true}}}", &rep);
	assert_string_equal(rep.type_error, "spec.overhead.cpu: expected quantity, got boolean");
}

/* ---- Strategic merge keys -------------------------------------------------------------------- */

static void merge_keys(void **state)
{
	const struct api_schema *sts = &api_schema_statefulset;
	const struct api_schema *spec = schema_at(sts, "spec.template.spec");
	const unsigned M = PATCH_MERGE, MR = PATCH_MERGE | PATCH_RETAIN_KEYS;

	(void)state;
	assert_ptr_equal(spec, &api_schema_pod_spec);
	assert_merge(spec, "containers", "name", M);
	assert_merge(spec, "initContainers", "name", M);
	assert_merge(spec, "ephemeralContainers", "name", M);
	assert_merge(spec, "volumes", "name", MR);
	assert_merge(spec, "imagePullSecrets", "name", M);
	assert_merge(spec, "hostAliases", "ip", M);
	assert_merge(spec, "topologySpreadConstraints", "topologyKey", M);
	assert_merge(spec, "containers.[].ports", "containerPort", M);
	assert_merge(spec, "containers.[].env", "name", M);
	assert_merge(spec, "containers.[].volumeMounts", "mountPath", M);
	assert_merge(spec, "containers.[].volumeDevices", "devicePath", M);
	assert_merge(spec, "ephemeralContainers.[].env", "name", M);
	/* Replaced whole. */
	assert_merge(spec, "containers.[].args", NULL, 0);
	assert_merge(spec, "containers.[].command", NULL, 0);
	assert_merge(sts, "spec.volumeClaimTemplates", NULL, 0);
	assert_merge(sts, "spec.volumeClaimTemplates.[].spec.accessModes", NULL, 0);
	assert_merge(&api_schema_pvc, "spec.accessModes", NULL, 0);
	/* Metadata, status and services. */
	assert_merge(sts, "metadata.ownerReferences", "uid", M);
	assert_merge(sts, "metadata.finalizers", NULL, M);
	assert_merge(sts, "status.conditions", "type", M);
	assert_merge(&api_schema_pod, "status.conditions", "type", M);
	assert_merge(&api_schema_node, "status.conditions", "type", M);
	assert_merge(&api_schema_node, "status.addresses", "type", M);
	assert_merge(&api_schema_pvc, "status.conditions", "type", M);
	assert_merge(&api_schema_service, "spec.ports", "port", M);
	assert_merge(&api_schema_service, "status.conditions", "type", M);
}

/* ---- Protobuf -------------------------------------------------------------------------------- */

struct pbuf {
	unsigned char b[1024];
	size_t n;
};

static void pb_varint(struct pbuf *p, uint64_t v)
{
	do {
		p->b[p->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void pb_bytes(struct pbuf *p, unsigned tag, const void *data, size_t len)
{
	pb_varint(p, (uint64_t)tag << 3 | 2);
	pb_varint(p, len);
	memcpy(p->b + p->n, data, len);
	p->n += len;
}

static void pb_sub(struct pbuf *p, unsigned tag, const struct pbuf *sub)
{
	pb_bytes(p, tag, sub->b, sub->n);
}

static void pb_uint(struct pbuf *p, unsigned tag, uint64_t v)
{
	pb_varint(p, (uint64_t)tag << 3);
	pb_varint(p, v);
}

static void pb_entry(struct pbuf *p, unsigned tag, const char *k, const char *v)
{
	struct pbuf e = {0};

	pb_bytes(&e, 1, k, strlen(k));
	pb_bytes(&e, 2, v, strlen(v));
	pb_sub(p, tag, &e);
}

/* "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw = msg}. */
static json_t *decode_envelope(const struct api_schema *sch, const char *kind,
                               const struct pbuf *msg, char *err, size_t errlen)
{
	struct pbuf type = {0}, env = {0};

	memcpy(env.b, "k8s", 4);
	env.n = 4;
	pb_bytes(&type, 1, "v1", 2);
	pb_bytes(&type, 2, kind, strlen(kind));
	pb_sub(&env, 1, &type);
	pb_sub(&env, 2, msg);
	return api_proto_decode(sch, env.b, env.n, err, errlen);
}

static void protobuf_secret_and_service(void **state)
{
	struct pbuf meta = {0}, secret = {0}, port1 = {0}, port2 = {0}, ios1 = {0}, ios2 = {0},
	            spec = {0}, svc = {0};
	char err[256];
	json_t *obj;

	(void)state;
	pb_bytes(&meta, 1, "db", 2);
	pb_sub(&secret, 1, &meta);
	pb_entry(&secret, 2, "password", "pass"); /* bytes: base64 in JSON */
	pb_bytes(&secret, 3, "Opaque", 6);
	obj = decode_envelope(&api_schema_secret, "Secret", &secret, err, sizeof err);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "kind")), "Secret");
	assert_string_equal(json_string_value(json_object_get(obj, "type")), "Opaque");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(obj, "data"), "password")),
	    "cGFzcw==");
	json_decref(obj);

	pb_bytes(&port1, 1, "web", 3);
	pb_uint(&port1, 3, 80);
	pb_uint(&ios1, 1, 1);
	pb_bytes(&ios1, 3, "http", 4);
	pb_sub(&port1, 4, &ios1);
	pb_uint(&port2, 3, 443);
	pb_uint(&ios2, 1, 0);
	pb_uint(&ios2, 2, 8443);
	pb_sub(&port2, 4, &ios2);
	pb_sub(&spec, 1, &port1);
	pb_sub(&spec, 1, &port2);
	pb_entry(&spec, 2, "app", "web");
	pb_bytes(&spec, 3, "None", 4);
	pb_sub(&svc, 1, &meta);
	pb_sub(&svc, 2, &spec);
	obj = decode_envelope(&api_schema_service, "Service", &svc, err, sizeof err);
	if (obj == NULL)
		fail_msg("%s", err);
	json_t *ports = json_object_get(json_object_get(obj, "spec"), "ports");
	assert_int_equal(json_array_size(ports), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(ports, 0), "targetPort")), "http");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(ports, 1), "targetPort")), 8443);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ports, 1), "port")),
	                 443);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(obj, "spec"), "clusterIP")), "None");
	json_decref(obj);
}

static void protobuf_refuses_untagged_kinds(void **state)
{
	struct pbuf meta = {0}, sts = {0};
	char err[256];

	(void)state;
	pb_bytes(&meta, 1, "web", 3);
	pb_sub(&sts, 1, &meta);
	assert_null(decode_envelope(&api_schema_statefulset, "StatefulSet", &sts, err, sizeof err));
	assert_non_null(strstr(err, "protobuf is not supported for this resource"));
	assert_null(decode_envelope(&api_schema_pod, "Pod", &sts, err, sizeof err));
	assert_non_null(strstr(err, "send it as JSON"));
}

/* ---- Router ---------------------------------------------------------------------------------- */

static void router_subresources(void **state)
{
	static const struct {
		const char *path;
		bool ok;
	} cases[] = {
	    {"/api/v1/namespaces/default/pods/web-0/log", true},
	    {"/api/v1/namespaces/default/pods/web-0/exec", true},
	    {"/api/v1/namespaces/default/pods/web-0/status", true},
	    {"/api/v1/namespaces/default/pods/web-0/attach", false},
	    {"/apis/apps/v1/namespaces/default/statefulsets/web/scale", true},
	    {"/apis/apps/v1/namespaces/default/statefulsets/web/status", true},
	    {"/apis/apps/v1/namespaces/default/statefulsets/web/log", false},
	    {"/api/v1/namespaces/default/configmaps/c/status", false},
	    {"/api/v1/namespaces/default/status", true},
	    {"/api/v1/namespaces/default/finalize", false},
	    {"/api/v1/nodes/n1/status", true},
	    {"/api/v1/persistentvolumes/pv1/status", true},
	    {"/apis/storage.k8s.io/v1/storageclasses/sc/status", false},
	    {"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", true},
	    {"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", true},
	};
	struct route rt;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		api_route(cases[i].path, &rt);
		if ((rt.kind == ROUTE_OBJECTS) != cases[i].ok)
			fail_msg("%s: kind %d", cases[i].path, (int)rt.kind);
	}
	api_route("/api/v1/namespaces/default/pods/web-0/log", &rt);
	assert_string_equal(rt.sub, "log");
	assert_string_equal(rt.name, "web-0");
	assert_string_equal(rt.ns, "default");
}

/* ---- Discovery ------------------------------------------------------------------------------- */

static json_t *entry_named(json_t *list, const char *key, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(
	    list, i, e) if (strcmp(json_string_value(json_object_get(e, key)), name) == 0) return e;
	fail_msg("no %s %s", key, name);
	return NULL;
}

static void assert_strings(json_t *a, const char *want)
{
	char *text = json_dumps(a, JSON_COMPACT);

	assert_string_equal(text, want);
	free(text);
}

static void legacy_discovery(void **state)
{
	json_t *apps = api_discovery_resource_list("apps", "v1");
	json_t *core = api_discovery_resource_list("", "v1");
	json_t *res, *e;

	(void)state;
	assert_non_null(apps);
	assert_non_null(core);
	assert_null(api_discovery_resource_list("apps", "v2"));
	assert_null(api_discovery_resource_list("batch", "v1"));
	assert_string_equal(json_string_value(json_object_get(apps, "groupVersion")), "apps/v1");
	res = json_object_get(apps, "resources");
	e = entry_named(res, "name", "statefulsets");
	assert_strings(json_object_get(e, "shortNames"), "[\"sts\"]");
	assert_strings(json_object_get(e, "categories"), "[\"all\"]");
	assert_strings(json_object_get(e, "verbs"),
	               "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\","
	               "\"update\",\"watch\"]");
	e = entry_named(res, "name", "statefulsets/scale");
	assert_string_equal(json_string_value(json_object_get(e, "group")), "autoscaling");
	assert_string_equal(json_string_value(json_object_get(e, "version")), "v1");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "Scale");
	assert_strings(json_object_get(e, "verbs"), "[\"get\",\"patch\",\"update\"]");
	e = entry_named(res, "name", "statefulsets/status");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "StatefulSet");
	assert_null(json_object_get(e, "group"));

	res = json_object_get(core, "resources");
	e = entry_named(res, "name", "pods/exec");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "PodExecOptions");
	assert_strings(json_object_get(e, "verbs"), "[\"create\",\"get\"]");
	e = entry_named(res, "name", "pods/log");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "Pod");
	assert_strings(json_object_get(e, "verbs"), "[\"get\"]");
	e = entry_named(res, "name", "nodes");
	assert_false(json_is_true(json_object_get(e, "namespaced")));
	assert_strings(json_object_get(e, "shortNames"), "[\"no\"]");
	e = entry_named(res, "name", "persistentvolumeclaims");
	assert_strings(json_object_get(e, "shortNames"), "[\"pvc\"]");
	entry_named(res, "name", "namespaces/status");
	json_decref(apps);
	json_decref(core);
}

static void aggregated_discovery(void **state)
{
	json_t *apis = api_discovery_aggregated(false, DISCOVERY_V2);
	json_t *api = api_discovery_aggregated(true, DISCOVERY_V2BETA1);
	json_t *items, *apps, *res, *sts, *sub;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(apis, "apiVersion")),
	                    "apidiscovery.k8s.io/v2");
	assert_string_equal(json_string_value(json_object_get(api, "apiVersion")),
	                    "apidiscovery.k8s.io/v2beta1");
	items = json_object_get(apis, "items");
	assert_int_equal(json_array_size(items), 4); /* apps, discovery, storage, coordination */
	apps = json_array_get(items, 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(apps, "metadata"), "name")), "apps");
	res = json_object_get(json_array_get(json_object_get(apps, "versions"), 0), "resources");
	sts = entry_named(res, "resource", "statefulsets");
	assert_string_equal(json_string_value(json_object_get(sts, "scope")), "Namespaced");
	assert_string_equal(json_string_value(json_object_get(sts, "singularResource")),
	                    "statefulset");
	assert_strings(json_object_get(sts, "responseKind"),
	               "{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"StatefulSet\"}");
	sub = entry_named(json_object_get(sts, "subresources"), "subresource", "scale");
	assert_strings(json_object_get(sub, "responseKind"),
	               "{\"group\":\"autoscaling\",\"version\":\"v1\",\"kind\":\"Scale\"}");

	items = json_object_get(api, "items");
	assert_int_equal(json_array_size(items), 1);
	res = json_object_get(
	    json_array_get(json_object_get(json_array_get(items, 0), "versions"), 0), "resources");
	assert_int_equal(json_array_size(res), 10);
	sts = entry_named(res, "resource", "persistentvolumes");
	assert_string_equal(json_string_value(json_object_get(sts, "scope")), "Cluster");
	json_decref(apis);
	json_decref(api);
}

static void discovery_accept(void **state)
{
	(void)state;
	/* What kubectl 1.32 sends. */
	assert_int_equal(api_discovery_format_of(
	                     "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
	                     "application/json;g=apidiscovery.k8s.io;v=v2beta1;as="
	                     "APIGroupDiscoveryList,application/json"),
	                 DISCOVERY_V2);
	assert_int_equal(api_discovery_format_of("application/json;g=apidiscovery.k8s.io;v=v2beta1;"
	                                         "as=APIGroupDiscoveryList, application/json"),
	                 DISCOVERY_V2BETA1);
	assert_int_equal(api_discovery_format_of("application/json"), DISCOVERY_LEGACY);
	assert_int_equal(api_discovery_format_of(NULL), DISCOVERY_LEGACY);
	assert_int_equal(api_discovery_format_of("application/json;v=v2;as=APIGroupDiscoveryList"),
	                 DISCOVERY_LEGACY);
	assert_int_equal(
	    api_discovery_format_of(
	        "application/json;g=apidiscovery.k8s.io;v=v2x;as=APIGroupDiscoveryList"),
	    DISCOVERY_LEGACY);
}

/* ---- OpenAPI --------------------------------------------------------------------------------- */

static void openapi_documents(void **state)
{
	json_t *index = api_openapi_index(), *doc = api_openapi_doc("apps", "v1");
	json_t *patch, *comp, *p, *param;
	size_t i;
	bool fv = false;

	(void)state;
	assert_int_equal(json_object_size(json_object_get(index, "paths")), 5);
	assert_non_null(json_object_get(json_object_get(index, "paths"), "apis/apps/v1"));
	assert_null(api_openapi_doc("apps", "v9"));
	patch = json_object_get(
	    json_object_get(json_object_get(doc, "paths"),
	                    "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"),
	    "patch");
	assert_non_null(patch);
	assert_null(json_object_get(patch, "requestBody"));
	assert_strings(json_object_get(patch, "x-kubernetes-group-version-kind"),
	               "{\"group\":\"apps\",\"kind\":\"StatefulSet\",\"version\":\"v1\"}");
	json_array_foreach(json_object_get(patch, "parameters"), i, param) fv |=
	    strcmp(json_string_value(json_object_get(param, "name")), "fieldValidation") == 0;
	assert_true(fv);

	comp = json_object_get(json_object_get(doc, "components"), "schemas");
	p = json_object_get(comp, "io.k8s.api.apps.v1.StatefulSet");
	assert_non_null(p);
	assert_strings(json_object_get(p, "x-kubernetes-group-version-kind"),
	               "[{\"group\":\"apps\",\"kind\":\"StatefulSet\",\"version\":\"v1\"}]");
	p = json_object_get(json_object_get(comp, "io.k8s.api.core.v1.PodSpec"), "properties");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "containers"),
	                                                      "x-kubernetes-patch-merge-key")),
	                    "name");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "volumes"),
	                                                      "x-kubernetes-patch-strategy")),
	                    "merge,retainKeys");
	json_decref(doc);

	/* Inline: every level written out. */
	doc = api_openapi_schema(&api_schema_statefulset);
	p = doc;
	for (const char *const *k = (const char *const[]){"spec", "updateStrategy", "rollingUpdate",
	                                                  "maxUnavailable", NULL};
	     *k; k++)
		p = json_object_get(json_object_get(p, "properties"), *k);
	assert_true(json_is_true(json_object_get(p, "x-kubernetes-int-or-string")));
	json_decref(doc);
	json_decref(index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_statefulset_is_known),
	    cmocka_unit_test(unknown_fields_at_depth),
	    cmocka_unit_test(every_kind_has_type_meta_and_metadata),
	    cmocka_unit_test(other_kinds_know_their_fields),
	    cmocka_unit_test(int_or_string),
	    cmocka_unit_test(quantity),
	    cmocka_unit_test(merge_keys),
	    cmocka_unit_test(protobuf_secret_and_service),
	    cmocka_unit_test(protobuf_refuses_untagged_kinds),
	    cmocka_unit_test(router_subresources),
	    cmocka_unit_test(legacy_discovery),
	    cmocka_unit_test(aggregated_discovery),
	    cmocka_unit_test(discovery_accept),
	    cmocka_unit_test(openapi_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
