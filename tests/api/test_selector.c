/* test_selector.c — label selectors (string syntax, metav1.LabelSelector objects) and field
 * selectors: what parses, how it prints, what it matches, and the exact error wording kubectl
 * users see (Kubernetes v1.32, k8s.io/apimachinery/pkg/labels and pkg/fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api_internal.h"
#include "errors.h"
#include "selector.h"

#define QNAME_ERR                                                                                 \
	"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and " \
	"end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex " \
	"used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_ERR                                                                                \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' " \
	"or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "    \
	"'my_value',  or '12345', regex used for validation is "                                 \
	"'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/* ---- Helpers ----------------------------------------------------------------------------------
 */

static struct api_selector *parse_ok(const char *s, const char *printed)
{
	struct api_selector *sel = NULL;
	char err[1024] = "";
	char *str;

	if (api_label_selector_parse(s, &sel, err, sizeof err) != 0)
		fail_msg("parse %s: %s", s, err);
	assert_non_null(sel);
	str = api_label_selector_string(sel);
	assert_non_null(str);
	assert_string_equal(str, printed);
	free(str);
	return sel;
}

static void parse_err(const char *s, const char *want)
{
	struct api_selector *sel = (struct api_selector *)1;
	char err[2048] = "";

	assert_int_equal(api_label_selector_parse(s, &sel, err, sizeof err), STSD_INVALID);
	assert_null(sel);
	assert_string_equal(err, want);
}

static bool matches(const struct api_selector *sel, const char *labels_json)
{
	json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
	bool m;

	assert_true(labels_json == NULL || labels != NULL);
	m = api_label_selector_matches(sel, labels);
	json_decref(labels);
	return m;
}

static struct api_selector *json_ok(const char *json, const char *printed)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	struct api_selector *sel = NULL;
	char err[1024] = "";
	char *str;

	assert_non_null(v);
	if (api_label_selector_from_json(v, &sel, err, sizeof err) != 0)
		fail_msg("from_json %s: %s", json, err);
	json_decref(v);
	str = api_label_selector_string(sel);
	assert_string_equal(str, printed);
	free(str);
	return sel;
}

static void json_err(const char *json, const char *want)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	struct api_selector *sel = NULL;
	char err[2048] = "";

	assert_non_null(v);
	assert_int_equal(api_label_selector_from_json(v, &sel, err, sizeof err), STSD_INVALID);
	assert_null(sel);
	assert_string_equal(err, want);
	json_decref(v);
}

/* ---- Label selectors: the string syntax ---------------------------------------------------------
 */

static void test_label_empty(void **state)
{
	struct api_selector *sel = parse_ok("", "");

	(void)state;
	assert_true(api_label_selector_empty(sel));
	assert_true(matches(sel, NULL));
	assert_true(matches(sel, "{\"a\":\"b\"}"));
	api_label_selector_free(sel);
	sel = parse_ok(NULL, "");
	assert_true(api_label_selector_empty(sel));
	api_label_selector_free(sel);
	/* no selector at all selects everything */
	assert_true(api_label_selector_empty(NULL));
	assert_true(api_label_selector_matches(NULL, NULL));
	sel = parse_ok("  \t ", "");
	assert_true(api_label_selector_empty(sel));
	api_label_selector_free(sel);
}

static void test_label_equality(void **state)
{
	struct api_selector *sel = parse_ok("tier!=db,app==web", "app==web,tier!=db");

	(void)state;
	assert_false(api_label_selector_empty(sel));
	assert_true(matches(sel, "{\"app\":\"web\"}"));
	assert_true(matches(sel, "{\"app\":\"web\",\"tier\":\"fe\"}"));
	assert_false(matches(sel, "{\"app\":\"web\",\"tier\":\"db\"}"));
	assert_false(matches(sel, "{\"app\":\"db\"}"));
	assert_false(matches(sel, "{}"));
	assert_false(matches(sel, NULL));
	api_label_selector_free(sel);

	sel = parse_ok("app=web", "app=web");
	assert_true(matches(sel, "{\"app\":\"web\",\"x\":\"y\"}"));
	assert_false(matches(sel, "{\"app\":\"webx\"}"));
	api_label_selector_free(sel);

	/* = with nothing after it selects the empty value */
	sel = parse_ok("app=", "app=");
	assert_true(matches(sel, "{\"app\":\"\"}"));
	assert_false(matches(sel, "{}"));
	api_label_selector_free(sel);
}

static void test_label_sets(void **state)
{
	struct api_selector *sel =
	    parse_ok(" env in ( b , a ) , !legacy , release", "env in (a,b),!legacy,release");

	(void)state;
	assert_true(matches(sel, "{\"env\":\"a\",\"release\":\"1\"}"));
	assert_true(matches(sel, "{\"env\":\"b\",\"release\":\"\"}"));
	assert_false(matches(sel, "{\"env\":\"c\",\"release\":\"1\"}"));
	assert_false(matches(sel, "{\"env\":\"a\"}"));
	assert_false(matches(sel, "{\"env\":\"a\",\"release\":\"1\",\"legacy\":\"x\"}"));
	api_label_selector_free(sel);

	/* notin (and !=) select objects that lack the label, as upstream */
	sel = parse_ok("tier notin (db,cache)", "tier notin (cache,db)");
	assert_true(matches(sel, "{}"));
	assert_true(matches(sel, "{\"tier\":\"fe\"}"));
	assert_false(matches(sel, "{\"tier\":\"cache\"}"));
	api_label_selector_free(sel);

	/* empty values, duplicates collapse into a sorted set (upstream's own example) */
	sel = parse_ok("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()");
	assert_true(matches(sel, "{\"x\":\"\",\"y\":\"1\"}"));
	assert_true(matches(sel, "{\"x\":\"baz\",\"y\":\"1\",\"z\":\"q\"}"));
	assert_false(matches(sel, "{\"x\":\"baz\",\"y\":\"1\",\"z\":\"\"}"));
	api_label_selector_free(sel);
	sel = parse_ok("a in (b,b,a)", "a in (a,b)");
	api_label_selector_free(sel);
	sel = parse_ok("a in (,)", "a in ()");
	assert_true(matches(sel, "{\"a\":\"\"}"));
	api_label_selector_free(sel);
}

static void test_label_keywords_and_prefix(void **state)
{
	struct api_selector *sel;

	(void)state;
	/* in and notin read as values after an operator or inside a set */
	sel = parse_ok("a=in,value in (in,notin)", "a=in,value in (in,notin)");
	assert_true(matches(sel, "{\"a\":\"in\",\"value\":\"notin\"}"));
	api_label_selector_free(sel);
	sel = parse_ok("example.com/app=web,app.kubernetes.io/name",
	               "app.kubernetes.io/name,example.com/app=web");
	assert_true(matches(sel, "{\"example.com/app\":\"web\",\"app.kubernetes.io/name\":\"x\"}"));
	api_label_selector_free(sel);
	sel = parse_ok("a>5,b<10", "a>5,b<10");
	assert_true(matches(sel, "{\"a\":\"6\",\"b\":\"-3\"}"));
	assert_false(matches(sel, "{\"a\":\"5\",\"b\":\"1\"}"));
	assert_false(matches(sel, "{\"a\":\"x\",\"b\":\"1\"}"));
	assert_false(matches(sel, "{\"b\":\"1\"}"));
	api_label_selector_free(sel);
	/* a label that is not a string is absent */
	sel = parse_ok("a", "a");
	assert_false(matches(sel, "{\"a\":1}"));
	assert_false(matches(sel, "[]"));
	api_label_selector_free(sel);
}

static void test_label_syntax_errors(void **state)
{
	(void)state;
	parse_err("app=web,", "found '', expected: identifier after ','");
	parse_err("app=web,,b", "found ',', expected: identifier after ','");
	parse_err("=a", "found '=', expected: !, identifier, or 'end of string'");
	parse_err("(", "found '(', expected: !, identifier, or 'end of string'");
	parse_err("!a=b", "found '=', expected: ',' or 'end of string'");
	parse_err("a=b c", "found 'c', expected: ',' or 'end of string'");
	parse_err("a b",
	          "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
	parse_err("a in b", "unable to parse requirement: found 'b' expected: '('");
	parse_err("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'");
	parse_err("a in (b", "unable to parse requirement: found '', expected: ',' or ')'");
	parse_err("a in (b,",
	          "unable to parse requirement: found '', expected: ',', or identifier");
	parse_err("a in (=)",
	          "unable to parse requirement: found '=', expected: ',', ')' or identifier");
	parse_err("a=(b)", "unable to parse requirement: found '(', expected: identifier");
	parse_err("!", "unable to parse requirement: found '', expected: identifier");
	parse_err("!!a", "unable to parse requirement: found '!', expected: identifier");
	parse_err("a!==b", "unable to parse requirement: found '=', expected: identifier");
}

static void test_label_value_errors(void **state)
{
	char long_key[80], long_msg[512];

	(void)state;
	parse_err("-a=b", "unable to parse requirement: <nil>: Invalid value: \"-a\": " QNAME_ERR);
	parse_err("a=-b",
	          "unable to parse requirement: values[0][a]: Invalid value: \"-b\": " VALUE_ERR);
	parse_err("a in (-x,-y)",
	          "unable to parse requirement: [values[0][a]: Invalid value: \"-x\": " VALUE_ERR
	          ", values[1][a]: Invalid value: \"-y\": " VALUE_ERR "]");
	parse_err("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', "
	                 "'Lt' operators, the value must be an integer");
	parse_err(
	    "Ex/a=b",
	    "unable to parse requirement: <nil>: Invalid value: \"Ex/a\": prefix part a lowercase "
	    "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
	    "and must start and end with an alphanumeric character (e.g. 'example.com', regex "
	    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])"
	    "?)*')");
	parse_err("/a",
	          "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must "
	          "be non-empty");
	parse_err("a/",
	          "unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be "
	          "non-empty; " QNAME_ERR);
	parse_err("a\"b",
	          "unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": " QNAME_ERR);
	memset(long_key, 'k', 64);
	long_key[64] = '\0';
	snprintf(long_msg, sizeof long_msg,
	         "unable to parse requirement: <nil>: Invalid value: \"%s\": name part must be no "
	         "more than 63 characters",
	         long_key);
	parse_err(long_key, long_msg);
	parse_err(
	    "a/b/c",
	    "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must "
	    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
	    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
	    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
	    "subdomain prefix and '/' (e.g. 'example.com/MyName')");
}

/* ---- Label selectors: metav1.LabelSelector -------------------------------------------------- */

static void test_label_from_json(void **state)
{
	struct api_selector *sel;

	(void)state;
	sel = json_ok("{\"matchLabels\":{\"app\":\"web\"}}", "app=web");
	assert_true(matches(sel, "{\"app\":\"web\",\"controller-revision-hash\":\"x\"}"));
	assert_false(matches(sel, "{}"));
	api_label_selector_free(sel);

	sel = json_ok("{\"matchLabels\":{\"b\":\"1\",\"a\":\"2\"},\"matchExpressions\":["
	              "{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"y\",\"x\"]},"
	              "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"},"
	              "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"p\"]},"
	              "{\"key\":\"rel\",\"operator\":\"Exists\",\"values\":[]}]}",
	              "a=2,b=1,env in (p),!legacy,rel,tier notin (x,y)");
	assert_true(matches(sel, "{\"a\":\"2\",\"b\":\"1\",\"env\":\"p\",\"rel\":\"\"}"));
	assert_false(
	    matches(sel, "{\"a\":\"2\",\"b\":\"1\",\"env\":\"p\",\"rel\":\"\",\"tier\":\"x\"}"));
	assert_false(matches(sel, "{\"a\":\"2\",\"b\":\"1\",\"env\":\"q\",\"rel\":\"\"}"));
	api_label_selector_free(sel);

	sel = json_ok("{}", "");
	assert_true(api_label_selector_empty(sel));
	assert_true(matches(sel, "{\"x\":\"y\"}"));
	api_label_selector_free(sel);
	sel = json_ok("{\"matchLabels\":null,\"matchExpressions\":[]}", "");
	assert_true(api_label_selector_empty(sel));
	api_label_selector_free(sel);

	/* a null selector is labels.Nothing() */
	sel = json_ok("null", "");
	assert_false(api_label_selector_empty(sel));
	assert_false(matches(sel, "{}"));
	api_label_selector_free(sel);
}

static void test_label_from_json_errors(void **state)
{
	(void)state;
	json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
	         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
	         "can't be empty");
	json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\",\"values\":[]}]}",
	         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
	         "can't be empty");
	json_err(
	    "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\","
	    "\"y\"]}]}",
	    "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists "
	    "and does not exist");
	json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
	         "\"Foo\" is not a valid label selector operator");
	json_err("{\"matchLabels\":{\"bad key\":\"x\"}}",
	         "key: Invalid value: \"bad key\": " QNAME_ERR);
	json_err("{\"matchLabels\":{\"app\":\"a b\"}}",
	         "values[0][app]: Invalid value: \"a b\": " VALUE_ERR);
	json_err("{\"matchExpressions\":[{\"key\":\"-k\",\"operator\":\"In\"}]}",
	         "[key: Invalid value: \"-k\": " QNAME_ERR
	         ", values: Invalid value: []string(nil): "
	         "for 'in', 'notin' operators, values set can't be empty]");
	json_err("{\"matchLabels\":{\"app\":1}}", "matchLabels[app]: must be a string");
	json_err("{\"matchLabels\":[]}", "matchLabels: must be an object");
	json_err("{\"matchExpressions\":{}}", "matchExpressions: must be an array");
	json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}",
	         "matchExpressions[0].values[0]: must be a string");
	json_err("\"app=web\"", "label selector must be an object");
}

/* ---- Field selectors --------------------------------------------------------------------------
 */

static const struct api_resource pods = {
    .group = "",
    .version = "v1",
    .kind = "Pod",
    .plural = "pods",
    .field_selectors = {"spec.nodeName", "spec.restartPolicy", "spec.hostNetwork", "status.phase",
                        "status.podIP"},
};
static const struct api_resource events = {
    .group = "",
    .version = "v1",
    .kind = "Event",
    .plural = "events",
    .field_selectors = {"involvedObject.kind", "involvedObject.name", "involvedObject.namespace",
                        "involvedObject.uid", "reason", "type", "source"},
};
static const struct api_resource statefulsets = {
    .group = "apps",
    .version = "v1",
    .kind = "StatefulSet",
    .plural = "statefulsets",
};

/* Messages quote the input; bytes that are not UTF-8 never reach them raw (they end up in JSON). */
static void test_label_utf8(void **state)
{
	struct api_selector *sel = NULL;
	struct api_field_selector *f = NULL;
	char err[2048];
	json_t *j;

	(void)state;
	assert_int_equal(api_label_selector_parse("a \xff", &sel, err, sizeof err), STSD_INVALID);
	assert_string_equal(err, "unable to parse requirement: found '\xef\xbf\xbd', expected: in, "
	                         "notin, =, ==, !=, gt, lt");
	assert_int_equal(api_label_selector_parse("\xc3=1", &sel, err, sizeof err), STSD_INVALID);
	assert_non_null(strstr(err, "<nil>: Invalid value: \"\\xc3\": name part"));
	/* valid UTF-8 stays as it is, as Go's %q keeps printable runes */
	assert_int_equal(api_label_selector_parse("\xc3\xa9=1", &sel, err, sizeof err),
	                 STSD_INVALID);
	assert_non_null(strstr(err, "Invalid value: \"\xc3\xa9\": name part"));
	assert_int_equal(api_field_selector_parse("\xfe", &pods, &f, err, sizeof err),
	                 STSD_INVALID);
	assert_non_null(j = json_string(err));
	json_decref(j);
	/* a short buffer is cut between characters */
	assert_int_equal(api_label_selector_parse("a \xff", &sel, err, 38), STSD_INVALID);
	assert_string_equal(err, "unable to parse requirement: found '");
	assert_non_null(j = json_string(err));
	json_decref(j);
}

static struct api_field_selector *field_ok(const char *s, const struct api_resource *res)
{
	struct api_field_selector *f = NULL;
	char err[512] = "";

	if (api_field_selector_parse(s, res, &f, err, sizeof err) != 0)
		fail_msg("field selector %s: %s", s, err);
	assert_non_null(f);
	return f;
}

static void field_err(const char *s, const struct api_resource *res, const char *want)
{
	struct api_field_selector *f = (struct api_field_selector *)1;
	char err[512] = "";

	assert_int_equal(api_field_selector_parse(s, res, &f, err, sizeof err), STSD_INVALID);
	assert_null(f);
	assert_string_equal(err, want);
}

static bool field_matches(const struct api_field_selector *f, const char *obj_json)
{
	json_t *obj = json_loads(obj_json, 0, NULL);
	bool m;

	assert_non_null(obj);
	m = api_field_selector_matches(f, obj);
	json_decref(obj);
	return m;
}

static void test_field_name(void **state)
{
	struct api_field_selector *f = field_ok("metadata.name=web", &statefulsets);

	(void)state;
	assert_string_equal(api_field_selector_name(f), "web");
	assert_true(field_matches(f, "{\"metadata\":{\"name\":\"web\"}}"));
	assert_false(field_matches(f, "{\"metadata\":{\"name\":\"db\"}}"));
	assert_false(field_matches(f, "{}"));
	api_field_selector_free(f);

	f = field_ok("metadata.namespace=default,metadata.name==web", &statefulsets);
	assert_string_equal(api_field_selector_name(f), "web");
	assert_true(
	    field_matches(f, "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}}"));
	assert_false(field_matches(f, "{\"metadata\":{\"name\":\"web\",\"namespace\":\"x\"}}"));
	api_field_selector_free(f);

	f = field_ok("metadata.name!=web", &statefulsets);
	assert_null(api_field_selector_name(f));
	assert_true(field_matches(f, "{\"metadata\":{\"name\":\"db\"}}"));
	api_field_selector_free(f);

	f = field_ok("", &statefulsets);
	assert_null(api_field_selector_name(f));
	assert_true(field_matches(f, "{}"));
	api_field_selector_free(f);
	f = field_ok(NULL, NULL);
	assert_true(field_matches(f, "{}"));
	api_field_selector_free(f);
	/* escaped commas and equals belong to the value */
	f = field_ok("metadata.name=a\\,b\\=c\\\\", &statefulsets);
	assert_string_equal(api_field_selector_name(f), "a,b=c\\");
	api_field_selector_free(f);
	/* empty terms are skipped */
	f = field_ok(",metadata.name=web,", &statefulsets);
	assert_string_equal(api_field_selector_name(f), "web");
	api_field_selector_free(f);
}

static void test_field_resource_fields(void **state)
{
	struct api_field_selector *f = field_ok("status.phase!=Running,spec.nodeName=", &pods);

	(void)state;
	assert_true(field_matches(f, "{\"status\":{\"phase\":\"Pending\"}}"));
	assert_true(field_matches(f, "{}")); /* a missing value compares as "" */
	assert_false(field_matches(f, "{\"status\":{\"phase\":\"Running\"}}"));
	assert_false(field_matches(f, "{\"spec\":{\"nodeName\":\"n1\"}}"));
	api_field_selector_free(f);

	f = field_ok("spec.hostNetwork=false", &pods);
	assert_true(field_matches(f, "{\"spec\":{}}"));
	assert_false(field_matches(f, "{\"spec\":{\"hostNetwork\":true}}"));
	api_field_selector_free(f);

	f = field_ok("involvedObject.kind=StatefulSet,involvedObject.name=web,source=kubelet,"
	             "type=Warning",
	             &events);
	assert_true(field_matches(f,
	                          "{\"involvedObject\":{\"kind\":\"StatefulSet\",\"name\":\"web\"},"
	                          "\"source\":{\"component\":\"kubelet\"},\"type\":\"Warning\"}"));
	assert_false(field_matches(f,
	                           "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\"},"
	                           "\"source\":{\"component\":\"kubelet\"},\"type\":\"Warning\"}"));
	api_field_selector_free(f);
}

static void test_field_errors(void **state)
{
	(void)state;
	field_err("spec.replicas=3", &statefulsets,
	          "\"spec.replicas\" is not a known field selector: only \"metadata.name\", "
	          "\"metadata.namespace\"");
	field_err("spec.foo=bar", &pods, "field label not supported: spec.foo");
	field_err("reportingInstance=x", &events, "field label not supported: reportingInstance");
	field_err("a", &pods, "invalid selector: 'a'; can't understand 'a'");
	field_err("metadata.name=a,b", &pods,
	          "invalid selector: 'metadata.name=a,b'; can't "
	          "understand 'b'");
	field_err("metadata.name=a=b", &pods,
	          "invalid field selector: unescaped character in value: 61");
	field_err("metadata.name=a\\x", &pods,
	          "invalid field selector: invalid escape sequence: \\x");
	field_err("metadata.name=a\\", &pods,
	          "invalid field selector: invalid escape sequence: \\");
	/* terms are sorted: the first refused field in that order is named */
	field_err("z.b=1,a.b=2", &statefulsets,
	          "\"a.b\" is not a known field selector: only \"metadata.name\", "
	          "\"metadata.namespace\"");
}

/* Random strings over the selector alphabet never crash the parsers, and whatever parses prints
 * back to a string that parses to the same selector. */
static void test_garbage(void **state)
{
	static const char alphabet[] = "ab=!(),<> in notin\\/.-_1\t";
	unsigned seed = 12345;
	char s[40], err[2048];
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t n = (seed = seed * 1103515245u + 12345u) % (sizeof s - 1), j;
		struct api_selector *sel = NULL, *again = NULL;
		struct api_field_selector *f = NULL;
		char *str, *str2;

		for (j = 0; j < n; j++)
			s[j] = alphabet[((seed = seed * 1103515245u + 12345u) >> 16) %
			                (sizeof alphabet - 1)];
		s[n] = '\0';
		if (api_field_selector_parse(s, &pods, &f, err, sizeof err) == 0)
			api_field_selector_free(f);
		if (api_label_selector_parse(s, &sel, err, sizeof err) != 0) {
			assert_null(sel);
			continue;
		}
		ok++;
		str = api_label_selector_string(sel);
		assert_int_equal(api_label_selector_parse(str, &again, err, sizeof err), 0);
		str2 = api_label_selector_string(again);
		assert_string_equal(str, str2);
		free(str);
		free(str2);
		api_label_selector_free(sel);
		api_label_selector_free(again);
	}
	assert_true(ok > 100); /* the alphabet reaches valid selectors too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_empty),
	    cmocka_unit_test(test_label_equality),
	    cmocka_unit_test(test_label_sets),
	    cmocka_unit_test(test_label_keywords_and_prefix),
	    cmocka_unit_test(test_label_syntax_errors),
	    cmocka_unit_test(test_label_value_errors),
	    cmocka_unit_test(test_label_utf8),
	    cmocka_unit_test(test_label_from_json),
	    cmocka_unit_test(test_label_from_json_errors),
	    cmocka_unit_test(test_field_name),
	    cmocka_unit_test(test_field_resource_fields),
	    cmocka_unit_test(test_field_errors),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
