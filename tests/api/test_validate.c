/* test_validate.c — defaults and validation hooks (api/hooks.h) and quantities (api/quantity.h):
 * exact field paths, reasons and messages as Kubernetes gives them, and every seed manifest
 * passing defaults + validation. */
#include <dirent.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"
#include "validate_helpers.h"

static const char *seed_dir;

#define STS_TEMPLATE                                                                            \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"web\","  \
	"\"namespace\":\"default\"},\"spec\":{\"serviceName\":\"nginx\",\"replicas\":3,"        \
	"\"selector\":{\"matchLabels\":{\"app\":\"nginx\"}},\"template\":{\"metadata\":"        \
	"{\"labels\":{\"app\":\"nginx\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","       \
	"\"image\":\"nginx:1.20\",\"ports\":[{\"containerPort\":80,\"name\":\"web\"}],"         \
	"\"volumeMounts\":[{\"name\":\"www\",\"mountPath\":\"/usr/share/nginx/html\"}]}]}},"    \
	"\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"www\"},\"spec\":{\"accessModes\":" \
	"[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}]}}"

static json_t *sts(void)
{
	return J(STS_TEMPLATE);
}

static void sts_case(const char *path, json_t *value, const char *field, const char *reason,
                     const char *prefix)
{
	json_t *o = sts();
	struct api_invalid inv;

	if (value)
		set(o, path, value);
	else
		json_object_del(at(o, "spec"), path + 5);
	run(api_statefulset_defaults, api_statefulset_validate, o, NULL, &inv);
	EXPECT(&inv, field, reason, prefix);
	api_invalid_free(&inv);
	json_decref(o);
}

/* ---- Quantities -------------------------------------------------------------------------------
 */

static int64_t milli(const char *s)
{
	struct api_quantity q;
	assert_int_equal(api_quantity_parse(s, &q), 0);
	return api_quantity_milli(&q);
}

static int64_t value(const char *s)
{
	struct api_quantity q;
	assert_int_equal(api_quantity_parse(s, &q), 0);
	return api_quantity_value(&q);
}

static int cmp(const char *a, const char *b)
{
	struct api_quantity qa, qb;
	assert_int_equal(api_quantity_parse(a, &qa), 0);
	assert_int_equal(api_quantity_parse(b, &qb), 0);
	return api_quantity_cmp(&qa, &qb);
}

static void test_quantity_parse(void **state)
{
	static const char *const bad[] = {"",   "abc", "1Gb", "1.2.3", "1e",  "--1",      "Ki", ".",
	                                  "1 ", " 1",  "1KI", "1e+",   "1mi", "1e100001", NULL};
	struct api_quantity q;

	(void)state;
	assert_int_equal(milli("500m"), 500);
	assert_int_equal(value("1Gi"), 1073741824);
	assert_int_equal(value("1e3"), 1000);
	assert_int_equal(value("1E3"), 1000);
	assert_int_equal(value("2k"), 2000);
	assert_int_equal(value("1.5Gi"), 1610612736);
	assert_int_equal(milli("0.1"), 100);
	assert_int_equal(milli(".5"), 500);
	assert_int_equal(value("5."), 5);
	assert_int_equal(value("+5"), 5);
	assert_int_equal(value("-1"), -1);
	assert_int_equal(value("1M"), 1000000);
	assert_int_equal(value("1Ki"), 1024);
	assert_int_equal(milli("1u"), 1);     /* rounded up */
	assert_int_equal(milli("0.0001"), 1); /* rounded up */
	assert_int_equal(value("1.2"), 2);    /* Value() rounds up */
	assert_int_equal(milli("100n"), 1);
	assert_int_equal(value("12e-1"), 2);
	assert_int_equal(value("1E"), 1000000000000000000LL);
	assert_true(value("8Ei") > 9223372036854000000LL); /* 2^63: kept to its magnitude */
	assert_int_equal(value("16Ei"), INT64_MAX);        /* saturates */
	assert_int_equal(value("123456789012345678901234"), INT64_MAX);
	for (size_t i = 0; bad[i]; i++)
		if (api_quantity_parse(bad[i], &q) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
}

static void test_quantity_compare(void **state)
{
	json_t *n = json_integer(2), *r = json_real(0.5), *s = json_string("x");
	struct api_quantity q;

	(void)state;
	assert_true(cmp("1Gi", "1G") > 0);
	assert_int_equal(cmp("1000m", "1"), 0);
	assert_int_equal(cmp("1k", "1000"), 0);
	assert_int_equal(cmp("1e3", "1k"), 0);
	assert_true(cmp("500m", "1") < 0);
	assert_true(cmp("-1", "0") < 0);
	assert_true(cmp("-2", "-1") < 0);
	assert_true(cmp("0", "0m") == 0);
	assert_true(cmp("1Mi", "1048575") > 0);
	assert_true(cmp("999m", "1") < 0);
	assert_true(cmp("2Gi", "2147483649") < 0);
	assert_int_equal(api_quantity_from_json(n, &q), 0);
	assert_int_equal(api_quantity_value(&q), 2);
	assert_int_equal(api_quantity_from_json(r, &q), 0);
	assert_int_equal(api_quantity_milli(&q), 500);
	assert_int_not_equal(api_quantity_from_json(s, &q), 0);
	assert_int_not_equal(api_quantity_from_json(NULL, &q), 0);
	json_decref(n);
	json_decref(r);
	json_decref(s);
}

/* ---- StatefulSet ------------------------------------------------------------------------------
 */

static void test_sts_defaults(void **state)
{
	json_t *o = sts();

	(void)state;
	json_object_del(at(o, "spec"), "replicas");
	api_statefulset_defaults(o);
	assert_int_equal(I(o, "spec.replicas"), 1);
	assert_string_equal(S(o, "spec.podManagementPolicy"), "OrderedReady");
	assert_string_equal(S(o, "spec.updateStrategy.type"), "RollingUpdate");
	assert_int_equal(I(o, "spec.updateStrategy.rollingUpdate.partition"), 0);
	assert_null(at(o, "spec.updateStrategy.rollingUpdate.maxUnavailable"));
	assert_int_equal(I(o, "spec.revisionHistoryLimit"), 10);
	assert_string_equal(S(o, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"),
	                    "Retain");
	assert_string_equal(S(o, "spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Retain");
	assert_null(at(o, "spec.minReadySeconds"));
	assert_string_equal(S(o, "spec.template.spec.restartPolicy"), "Always");
	assert_string_equal(S(o, "spec.template.spec.dnsPolicy"), "ClusterFirst");
	assert_string_equal(S(o, "spec.template.spec.schedulerName"), "default-scheduler");
	assert_int_equal(I(o, "spec.template.spec.terminationGracePeriodSeconds"), 30);
	assert_true(json_is_object(at(o, "spec.template.spec.securityContext")));
	assert_null(at(o, "spec.template.spec.enableServiceLinks")); /* pods only */
	assert_string_equal(S(o, "spec.template.spec.containers[0].imagePullPolicy"),
	                    "IfNotPresent");
	assert_string_equal(S(o, "spec.template.spec.containers[0].terminationMessagePath"),
	                    "/dev/termination-log");
	assert_string_equal(S(o, "spec.template.spec.containers[0].terminationMessagePolicy"),
	                    "File");
	assert_string_equal(S(o, "spec.template.spec.containers[0].ports[0].protocol"), "TCP");
	assert_string_equal(S(o, "spec.volumeClaimTemplates[0].spec.volumeMode"), "Filesystem");
	assert_string_equal(S(o, "spec.volumeClaimTemplates[0].status.phase"), "Pending");
	assert_string_equal(S(o, "spec.volumeClaimTemplates[0].kind"), "PersistentVolumeClaim");
	json_decref(o);

	/* An explicit RollingUpdate without rollingUpdate stays so (upstream defaults it only for
	 * an empty type). */
	o = sts();
	set(o, "spec.updateStrategy", J("{\"type\":\"RollingUpdate\"}"));
	api_statefulset_defaults(o);
	assert_null(at(o, "spec.updateStrategy.rollingUpdate"));
	json_decref(o);
	o = sts();
	set(o, "spec.updateStrategy", J("{\"type\":\"OnDelete\"}"));
	api_statefulset_defaults(o);
	assert_null(at(o, "spec.updateStrategy.rollingUpdate"));
	json_decref(o);
	/* Defaults fill only what is absent, and do it once. */
	o = sts();
	set(o, "spec.replicas", json_integer(0));
	api_statefulset_defaults(o);
	api_statefulset_defaults(o);
	assert_int_equal(I(o, "spec.replicas"), 0);
	json_decref(o);
}

static void test_sts_valid(void **state)
{
	json_t *o = sts();
	struct api_invalid inv;

	(void)state;
	run(api_statefulset_defaults, api_statefulset_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	json_decref(o);
	o = sts();
	set(o, "spec.updateStrategy",
	    J("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":2,"
	      "\"maxUnavailable\":\"50%\"}}"));
	set(o, "spec.podManagementPolicy", json_string("Parallel"));
	set(o, "spec.ordinals", J("{\"start\":5}"));
	set(o, "spec.minReadySeconds", json_integer(10));
	run(api_statefulset_defaults, api_statefulset_validate, o, NULL, &inv);
	EXPECT_NONE(&inv);
	json_decref(o);
}

static void test_sts_selector(void **state)
{
	(void)state;
	sts_case("spec.selector", NULL, "spec.selector", "FieldValueRequired", "Required value");
	sts_case("spec.selector", J("{}"), "spec.selector", "FieldValueInvalid",
	         "Invalid value: &LabelSelector{MatchLabels:map[string]string{},"
	         "MatchExpressions:[]LabelSelectorRequirement{},}: empty selector is invalid for "
	         "statefulset");
	sts_case("spec.selector", J("{\"matchLabels\":{\"app\":\"other\"}}"),
	         "spec.template.metadata.labels", "FieldValueInvalid",
	         "Invalid value: map[string]string{\"app\":\"nginx\"}: `selector` does not match "
	         "template `labels`");
	sts_case("spec.selector",
	         J("{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[]}]}"),
	         "spec.selector.matchExpressions[0].values", "FieldValueRequired",
	         "Required value: must be specified when `operator` is 'In' or 'NotIn'");
	sts_case("spec.selector",
	         J("{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Like\"}]}"),
	         "spec.selector.matchExpressions[0].operator", "FieldValueInvalid",
	         "Invalid value: \"Like\": not a valid selector operator");
	sts_case("spec.selector", J("{\"matchLabels\":{\"app\":\"-bad\"}}"),
	         "spec.selector.matchLabels", "FieldValueInvalid",
	         "Invalid value: \"-bad\": a valid label");
	sts_case("spec.template.metadata.labels", J("{\"app\":\"nginx\",\"bad key\":\"x\"}"),
	         "spec.template.labels", "FieldValueInvalid",
	         "Invalid value: \"bad key\": name part");
}

static void test_sts_template(void **state)
{
	(void)state;
	sts_case("spec.template.spec.restartPolicy", json_string("Never"),
	         "spec.template.spec.restartPolicy", "FieldValueNotSupported",
	         "Unsupported value: \"Never\": supported values: \"Always\"");
	sts_case("spec.template.spec.activeDeadlineSeconds", json_integer(10),
	         "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden",
	         "Forbidden: activeDeadlineSeconds in StatefulSet is not Supported");
	sts_case("spec.template.spec.containers[0].image", json_string(""),
	         "spec.template.spec.containers[0].image", "FieldValueRequired", "Required value");
	sts_case("spec.template.spec.containers[0].volumeMounts",
	         J("[{\"name\":\"nope\",\"mountPath\":\"/x\"}]"),
	         "spec.template.spec.containers[0].volumeMounts[0].name", "FieldValueNotFound",
	         "Not found: \"nope\"");
	sts_case("spec.template.spec.containers", J("[]"), "spec.template.spec.containers",
	         "FieldValueRequired", "Required value");
	sts_case("spec.volumeClaimTemplates",
	         J("[{\"metadata\":{\"name\":\"Data\"},\"spec\":{"
	           "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{"
	           "\"requests\":{\"storage\":\"1Gi\"}}}}]"),
	         "spec.volumeClaimTemplates[0].metadata.name", "FieldValueInvalid",
	         "Invalid value: \"Data\": a lowercase RFC 1123 label");
	sts_case(
	    "spec.volumeClaimTemplates",
	    J("[{\"metadata\":{\"name\":\"www\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}]"),
	    "spec.volumeClaimTemplates[0].spec.resources[storage]", "FieldValueRequired",
	    "Required value");
	sts_case("spec.volumeClaimTemplates",
	         J("[{\"metadata\":{\"name\":\"www\"},\"spec\":{\"resources\":{\"requests\":{"
	           "\"storage\":\"1Gi\"}}}}]"),
	         "spec.volumeClaimTemplates[0].spec.accessModes", "FieldValueRequired",
	         "Required value: at least 1 access mode is required");
}

static void test_sts_numbers(void **state)
{
	(void)state;
	sts_case("spec.replicas", json_integer(-1), "spec.replicas", "FieldValueInvalid",
	         "Invalid value: -1: must be greater than or equal to 0");
	sts_case("spec.minReadySeconds", json_integer(-1), "spec.minReadySeconds",
	         "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
	sts_case("spec.revisionHistoryLimit", json_integer(-2), "spec.revisionHistoryLimit",
	         "FieldValueInvalid", "Invalid value: -2: must be greater than or equal to 0");
	sts_case("spec.ordinals", J("{\"start\":-1}"), "spec.ordinals.start", "FieldValueInvalid",
	         "Invalid value: -1: must be greater than or equal to 0");
	/* stsd: ordinals past INT32_MAX (replicas is 3 here). */
	sts_case("spec.ordinals", J("{\"start\":2147483645}"), "spec.ordinals.start",
	         "FieldValueInvalid",
	         "Invalid value: 2147483645: spec.ordinals.start + spec.replicas must be less than "
	         "or equal to 2147483647");
	sts_case("spec.podManagementPolicy", json_string("Random"), "spec.podManagementPolicy",
	         "FieldValueInvalid",
	         "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'");
	sts_case("spec.persistentVolumeClaimRetentionPolicy", J("{\"whenDeleted\":\"Keep\"}"),
	         "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "FieldValueNotSupported",
	         "Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"");
}

static void test_sts_strategy(void **state)
{
	const char *mu = "spec.updateStrategy.rollingUpdate.maxUnavailable";

	(void)state;
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"partition\":-1}}"),
	         "spec.updateStrategy.rollingUpdate.partition", "FieldValueInvalid",
	         "Invalid value: -1: must be greater than or equal to 0");
	sts_case("spec.updateStrategy",
	         J("{\"type\":\"OnDelete\",\"rollingUpdate\":{\"partition\":1}}"),
	         "spec.updateStrategy.rollingUpdate", "FieldValueInvalid", NULL);
	sts_case("spec.updateStrategy", J("{\"type\":\"Sometimes\"}"), "spec.updateStrategy",
	         "FieldValueInvalid", NULL);
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"maxUnavailable\":0}}"), mu,
	         "FieldValueInvalid", "Invalid value: 0: cannot be 0");
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"maxUnavailable\":\"0%\"}}"), mu,
	         "FieldValueInvalid", "Invalid value: 0%: cannot be 0");
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"maxUnavailable\":\"101%\"}}"), mu,
	         "FieldValueInvalid", "Invalid value: 101%: must not be greater than 100%");
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"maxUnavailable\":-1}}"), mu,
	         "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
	sts_case("spec.updateStrategy", J("{\"rollingUpdate\":{\"maxUnavailable\":\"ten\"}}"), mu,
	         "FieldValueInvalid", "Invalid value: ten: a valid percent string");
}

static void test_sts_update(void **state)
{
	static const char *const mutable_changes[][2] = {
	    {"spec.replicas", "7"},
	    {"spec.template.spec.containers[0].image", "\"nginx:1.21\""},
	    {"spec.updateStrategy", "{\"type\":\"OnDelete\"}"},
	    {"spec.minReadySeconds", "5"},
	    {"spec.ordinals", "{\"start\":2}"},
	    {"spec.persistentVolumeClaimRetentionPolicy", "{\"whenScaled\":\"Delete\"}"},
	};
	static const char *const frozen[][2] = {
	    {"spec.serviceName", "\"other\""},
	    {"spec.revisionHistoryLimit", "3"},
	    {"spec.podManagementPolicy", "\"Parallel\""},
	    {"spec.volumeClaimTemplates[0].spec.storageClassName", "\"fast\""},
	};
	struct api_invalid inv;

	(void)state;
	for (size_t i = 0; i < sizeof mutable_changes / sizeof mutable_changes[0]; i++) {
		json_t *old = sts(), *o = sts();
		set(o, mutable_changes[i][0], J(mutable_changes[i][1]));
		run(api_statefulset_defaults, api_statefulset_validate, o, old, &inv);
		EXPECT_NONE(&inv);
		json_decref(o);
		json_decref(old);
	}
	for (size_t i = 0; i < sizeof frozen / sizeof frozen[0]; i++) {
		json_t *old = sts(), *o = sts();
		set(o, frozen[i][0], J(frozen[i][1]));
		run(api_statefulset_defaults, api_statefulset_validate, o, old, &inv);
		EXPECT(
		    &inv, "spec", "FieldValueForbidden",
		    "Forbidden: updates to statefulset spec for fields other than 'replicas', "
		    "'ordinals', 'template', 'updateStrategy', "
		    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
		assert_int_equal(inv.n, 1);
		api_invalid_free(&inv);
		json_decref(o);
		json_decref(old);
	}
}

static void test_sts_name(void **state)
{
	json_t *o = sts();
	struct api_invalid inv;

	(void)state;
	set(o, "metadata.name", json_string("web.v1"));
	run(api_statefulset_defaults, api_statefulset_validate, o, NULL, &inv);
	EXPECT(&inv, "metadata.name", "FieldValueInvalid",
	       "Invalid value: \"web.v1\": a lowercase RFC 1123 label must consist of");
	api_invalid_free(&inv);
	json_decref(o);
}

/* The acceptance case: `create -f` of an invalid StatefulSet gets one cause naming the field. */
static void test_sts_invalid_acceptance(void **state)
{
	json_t *o = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":"
	              "\"bad\"},\"spec\":{\"serviceName\":\"bad\",\"template\":{\"metadata\":{"
	              "\"labels\":{\"app\":\"bad\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
	              "\"image\":\"busybox\"}]}}}}");
	struct api_invalid inv;

	(void)state;
	run(api_statefulset_defaults, api_statefulset_validate, o, NULL, &inv);
	assert_int_equal(inv.n, 1);
	assert_string_equal(inv.first, "spec.selector: Required value");
	api_invalid_free(&inv);
	json_decref(o);
}

static void test_wrong_types(void **state)
{
	static const char *const bodies[] = {
	    "{}",
	    "{\"spec\":5}",
	    "{\"spec\":{\"template\":[],\"selector\":\"x\",\"replicas\":\"3\",\"updateStrategy\":"
	    "{\"type\":5,\"rollingUpdate\":{\"maxUnavailable\":[1]}},\"volumeClaimTemplates\":{}}}",
	    "{\"spec\":{\"containers\":[1,null,{\"name\":5,\"ports\":[{\"containerPort\":\"x\"}],"
	    "\"resources\":{\"limits\":{\"cpu\":[]},\"requests\":{\"cpu\":{}}},\"env\":[3],"
	    "\"volumeMounts\":[null]}],\"volumes\":[{\"name\":[]}],\"tolerations\":[\"x\"],"
	    "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\""
	    ":[null]}}}}",
	    "{\"metadata\":[],\"data\":[],\"stringData\":{\"a\":1},\"spec\":{\"ports\":[\"x\"],"
	    "\"clusterIPs\":[1,2,3],\"ipFamilies\":[1]}}",
	};
	static const struct {
		defaults_fn d;
		validate_fn v;
	} hooks[] = {
	    {api_statefulset_defaults, api_statefulset_validate},
	    {api_pod_defaults, api_pod_validate},
	    {api_service_defaults, api_service_validate},
	    {api_secret_defaults, api_secret_validate},
	    {api_pvc_defaults, api_pvc_validate},
	    {api_pv_defaults, api_pv_validate},
	    {api_storageclass_defaults, api_storageclass_validate},
	    {NULL, api_node_validate},
	    {NULL, api_lease_validate},
	    {api_event_defaults, api_event_validate},
	    {NULL, api_controllerrevision_validate},
	    {NULL, api_configmap_validate},
	};
	struct api_invalid inv;

	(void)state;
	for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
		for (size_t h = 0; h < sizeof hooks / sizeof hooks[0]; h++) {
			json_t *o = J(bodies[b]), *old = J(bodies[b]);
			run(hooks[h].d, hooks[h].v, o, NULL, &inv);
			api_invalid_free(&inv);
			run(hooks[h].d, hooks[h].v, o, old, &inv);
			api_invalid_free(&inv);
			json_decref(o);
			json_decref(old);
		}
	}
}

/* ---- Seed manifests ---------------------------------------------------------------------------
 */

static int seen_kinds[8];

static void seed_document(const char *file, json_t *doc)
{
	static const struct {
		const char *kind;
		defaults_fn d;
		validate_fn v;
	} kinds[] = {
	    {"StatefulSet", api_statefulset_defaults, api_statefulset_validate},
	    {"Service", api_service_defaults, api_service_validate},
	    {"Secret", api_secret_defaults, api_secret_validate},
	    {"ConfigMap", NULL, api_configmap_validate},
	    {"PersistentVolumeClaim", api_pvc_defaults, api_pvc_validate},
	    {"Pod", api_pod_defaults, api_pod_validate},
	};
	const char *kind = str_at(doc, "kind"), *name = S(doc, "metadata.name");
	struct api_invalid inv;
	json_t *again;

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (kind == NULL || strcmp(kind, kinds[i].kind) != 0)
			continue;
		assert_non_null(name);
		assert_null(api_check_name(name, 253));
		run(kinds[i].d, kinds[i].v, doc, NULL, &inv);
		if (inv.n) {
			dump(&inv);
			fail_msg("%s: %s %s is invalid", file, kind, name);
		}
		/* Applying it again (an update to itself) is valid too. */
		again = json_deep_copy(doc);
		run(kinds[i].d, kinds[i].v, again, doc, &inv);
		if (inv.n) {
			dump(&inv);
			fail_msg("%s: %s %s: update to itself is invalid", file, kind, name);
		}
		json_decref(again);
		seen_kinds[i]++;
	}
}

static int load_seed(const char *path)
{
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
	struct fy_parser *fyp = fy_parser_create(&cfg);
	struct fy_document *fyd;
	int docs = 0;

	assert_non_null(fyp);
	assert_int_equal(fy_parser_set_input_file(fyp, path), 0);
	while ((fyd = fy_parse_load_document(fyp)) != NULL) {
		char *text = fy_emit_document_to_string(fyd, FYECF_MODE_JSON_TP);
		json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
		if (doc == NULL)
			fail_msg("%s: document %d did not convert to JSON", path, docs);
		if (json_is_object(doc)) {
			seed_document(path, doc);
			docs++;
		}
		json_decref(doc);
		free(text);
		fy_parse_document_destroy(fyp, fyd);
	}
	fy_parser_destroy(fyp);
	return docs;
}

static void test_seed_manifests(void **state)
{
	DIR *dir = opendir(seed_dir);
	struct dirent *de;
	int files = 0, docs = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		char path[1024];
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", seed_dir, de->d_name);
		docs += load_seed(path);
		files++;
	}
	closedir(dir);
	assert_int_equal(files, 16);
	assert_int_equal(docs, 22);
	assert_int_equal(seen_kinds[0], 13); /* StatefulSets */
	assert_int_equal(seen_kinds[1], 5);  /* Services */
	assert_int_equal(seen_kinds[2], 2);  /* Secrets */
	assert_int_equal(seen_kinds[3], 1);  /* ConfigMaps */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quantity_parse),
	    cmocka_unit_test(test_quantity_compare),
	    cmocka_unit_test(test_sts_defaults),
	    cmocka_unit_test(test_sts_valid),
	    cmocka_unit_test(test_sts_selector),
	    cmocka_unit_test(test_sts_template),
	    cmocka_unit_test(test_sts_numbers),
	    cmocka_unit_test(test_sts_strategy),
	    cmocka_unit_test(test_sts_update),
	    cmocka_unit_test(test_sts_name),
	    cmocka_unit_test(test_sts_invalid_acceptance),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_seed_manifests),
	};

	int failed;

	seed_dir = argc > 1 ? argv[1] : "tests/e2e/seed-manifests";
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed + _cmocka_run_group_tests("validate_core", validate_core_tests,
	                                        validate_core_count, NULL, NULL);
}
