/* selector.c — label selectors: the string form of list/watch queries and metav1.LabelSelector
 * objects, parsed into requirements, matched against labels and printed back.
 *
 * Grammar, error wording and matching follow Kubernetes v1.32 as read from
 * k8s.io/apimachinery/pkg/labels/selector.go (Lexer, Parser, NewRequirement, Requirement.Matches,
 * Requirement.String), pkg/util/validation/validation.go (IsQualifiedName, IsValidLabelValue,
 * IsDNS1123Subdomain, RegexError) and pkg/apis/meta/v1/helpers.go (LabelSelectorAsSelector).
 * Errors are field.Error strings ("<path>: Invalid value: <value>: <detail>"); the parser passes a
 * nil path, which Go prints as "<nil>", so a bad key reads
 * `unable to parse requirement: <nil>: Invalid value: "-a": name part must ...`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "selector.h"
#include "selector_internal.h"

struct sel_req {
	char *key;
	enum sel_op op;
	char **vals;
	size_t nvals;
	size_t idx; /* input order, to keep the sort by key stable */
};

struct api_selector {
	struct sel_req *reqs;
	size_t n, cap;
	bool nothing; /* from a null LabelSelector: selects no labels at all */
};

/* ---- Go-like error text ------------------------------------------------------------------- */

size_t sel_utf8_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (u[0] < 0x80)
		return 1;
	if (u[0] < 0xc2 || u[0] > 0xf4)
		return 0;
	n = u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (u[i] < lo || u[i] > hi)
			return 0;
	return n;
}

void sel_utf8_fix(char *s, size_t size)
{
	struct api_buf b = {0};
	size_t i = 0, n, len;

	if (size == 0)
		return;
	while (s[i] != '\0') {
		if ((n = sel_utf8_len(s + i)) == 0) {
			api_buf_add(&b, "\xef\xbf\xbd",
			            3); /* U+FFFD, as Go's JSON encoder writes */
			i++;
		} else {
			api_buf_add(&b, s + i, n);
			i += n;
		}
	}
	if (b.data == NULL || b.oom) {
		api_buf_free(&b);
		return;
	}
	/* copy back, cutting only between characters */
	for (len = 0; len < b.len && len + sel_utf8_len(b.data + len) < size;)
		len += sel_utf8_len(b.data + len);
	memcpy(s, b.data, len);
	s[len] = '\0';
	api_buf_free(&b);
}

/* Go's %q for the strings a selector can hold: quotes and backslashes escaped, control bytes and
 * bytes that are not UTF-8 as \xNN; other UTF-8 passes through (Go keeps printable runes). */
void sel_go_quote(struct api_buf *b, const char *s)
{
	api_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n = sel_utf8_len(s);
		if (n > 1) {
			api_buf_add(b, s, n);
			s += n - 1;
		} else if (c == '"' || c == '\\')
			api_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			api_buf_add(b, "\\n", 2);
		else if (c == '\t')
			api_buf_add(b, "\\t", 2);
		else if (c == '\r')
			api_buf_add(b, "\\r", 2);
		else if (c < 0x20 || c == 0x7f || n == 0)
			api_buf_printf(b, "\\x%02x", c);
		else
			api_buf_add(b, s, 1);
	}
	api_buf_add(b, "\"", 1);
}

/* utilerrors.NewAggregate: one message as is, several de-duplicated inside "[a, b]". */
struct errlist {
	char *msg[16];
	size_t n;
};

static void errlist_take(struct errlist *el, struct api_buf *b)
{
	size_t i;

	if (b->data == NULL || b->oom) {
		api_buf_free(b);
		b->data = strdup("out of memory");
		if (b->data == NULL)
			return;
	}
	for (i = 0; i < el->n; i++) {
		if (strcmp(el->msg[i], b->data) == 0) {
			api_buf_free(b);
			return;
		}
	}
	if (el->n == sizeof el->msg / sizeof el->msg[0]) {
		api_buf_free(b);
		return;
	}
	el->msg[el->n++] = b->data;
	memset(b, 0, sizeof *b);
}

static void errlist_free(struct errlist *el)
{
	size_t i;

	for (i = 0; i < el->n; i++)
		free(el->msg[i]);
	el->n = 0;
}

/* The aggregate's text after prefix into err; returns STSD_INVALID. */
static int errlist_report(struct errlist *el, const char *prefix, char *err, size_t errlen)
{
	struct api_buf b = {0};
	size_t i;

	api_buf_printf(&b, "%s%s", prefix, el->n > 1 ? "[" : "");
	for (i = 0; i < el->n; i++)
		api_buf_printf(&b, "%s%s", i ? ", " : "", el->msg[i]);
	if (el->n > 1)
		api_buf_add(&b, "]", 1);
	stsd_errf(err, errlen, STSD_INVALID, "%s", b.data ? b.data : "out of memory");
	api_buf_free(&b);
	errlist_free(el);
	return STSD_INVALID;
}

/* field.Invalid(path, value, detail) for a string value. */
static void invalid_str(struct errlist *el, const char *path, const char *value, const char *detail)
{
	struct api_buf b = {0};

	api_buf_printf(&b, "%s: Invalid value: ", path);
	sel_go_quote(&b, value);
	api_buf_printf(&b, ": %s", detail);
	errlist_take(el, &b);
}

/* field.Invalid(path, vals, detail) for a []string, which Go prints with %#v. */
static void invalid_list(struct errlist *el, const char *path, const char *const *vals, size_t n,
                         const char *detail)
{
	struct api_buf b = {0};
	size_t i;

	api_buf_printf(&b, "%s: Invalid value: ", path);
	if (n == 0) {
		api_buf_add(&b, "[]string(nil)", 13);
	} else {
		api_buf_add(&b, "[]string{", 9);
		for (i = 0; i < n; i++) {
			if (i)
				api_buf_add(&b, ", ", 2);
			sel_go_quote(&b, vals[i]);
		}
		api_buf_add(&b, "}", 1);
	}
	api_buf_printf(&b, ": %s", detail);
	errlist_take(el, &b);
}

/* ---- Name and value rules (validation.go) ------------------------------------------------ */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                           \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end " \
	"with an alphanumeric character"
#define QNAME_EXAMPLES " (e.g. 'MyName',  or 'my.name',  or '123-abc', "
#define DNS_FMT        "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
#define DNS_MSG                                                                               \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, " \
	"'-' or '.', and must start and end with an alphanumeric character (e.g. "            \
	"'example.com', regex used for validation is '" DNS_FMT "')"
#define VALUE_FMT "(" QNAME_FMT ")?"
#define VALUE_MSG                                                                            \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', " \
	"'_' or '.', and must start and end with an alphanumeric character (e.g. "           \
	"'MyValue',  or 'my_value',  or '12345', regex used for validation is '" VALUE_FMT "')"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool qname_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* One DNS-1123 label of a subdomain: [a-z0-9]([-a-z0-9]*[a-z0-9])?. */
static bool dns_label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		bool lower = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
		if (!lower && !(s[i] == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

static bool dns_subdomain_ok(const char *s, size_t n)
{
	size_t start = 0, i;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!dns_label_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static void why_add(struct api_buf *why, const char *msg)
{
	api_buf_printf(why, "%s%s", why->len ? "; " : "", msg);
}

/* IsQualifiedName: the messages joined with "; " into why; false when k is not a valid key. */
static bool check_key(const char *k, struct api_buf *why)
{
	const char *slash = strchr(k, '/'), *name = k;

	if (slash != NULL && strchr(slash + 1, '/') != NULL) {
		why_add(why, "a qualified name " QNAME_MSG QNAME_EXAMPLES
		             "regex used for validation is '" QNAME_FMT "') with an optional DNS "
		             "subdomain prefix and '/' (e.g. 'example.com/MyName')");
		return false;
	}
	if (slash != NULL) {
		size_t plen = (size_t)(slash - k);
		name = slash + 1;
		if (plen == 0) {
			why_add(why, "prefix part must be non-empty");
		} else {
			if (plen > 253)
				why_add(why, "prefix part must be no more than 253 characters");
			if (!dns_subdomain_ok(k, plen))
				why_add(why, "prefix part " DNS_MSG);
		}
	}
	if (*name == '\0')
		why_add(why, "name part must be non-empty");
	else if (strlen(name) > 63)
		why_add(why, "name part must be no more than 63 characters");
	if (!qname_ok(name, strlen(name)))
		why_add(why, "name part " QNAME_MSG QNAME_EXAMPLES
		             "regex used for validation is '" QNAME_FMT "')");
	return why->len == 0;
}

/* IsValidLabelValue. */
static bool check_value(const char *v, struct api_buf *why)
{
	if (strlen(v) > 63)
		why_add(why, "must be no more than 63 characters");
	if (*v != '\0' && !qname_ok(v, strlen(v)))
		why_add(why, VALUE_MSG);
	return why->len == 0;
}

/* strconv.ParseInt(s, 10, 64): optional sign, digits only, in range. */
static bool parse_i64(const char *s, long long *out)
{
	const char *d = (*s == '+' || *s == '-') ? s + 1 : s;
	char *end;

	if (*d < '0' || *d > '9')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0;
}

/* NewRequirement's checks (key, value count per operator, each value); errors into el. */
static void requirement_check(const char *key, enum sel_op op, const char *const *vals, size_t n,
                              struct errlist *el)
{
	struct api_buf why = {0};
	char path[64];
	size_t i;

	if (!check_key(key, &why))
		invalid_str(el, "key", key, why.data ? why.data : "out of memory");
	api_buf_free(&why);
	if ((op == OP_IN || op == OP_NOTIN) && n == 0)
		invalid_list(el, "values", vals, n,
		             "for 'in', 'notin' operators, values set can't be empty");
	if ((op == OP_EQ || op == OP_DEQ || op == OP_NEQ) && n != 1)
		invalid_list(el, "values", vals, n,
		             "exact-match compatibility requires one single value");
	if ((op == OP_EXISTS || op == OP_NOTEXISTS) && n != 0)
		invalid_list(el, "values", vals, n,
		             "values set must be empty for exists and does not exist");
	if ((op == OP_GT || op == OP_LT) && n != 1)
		invalid_list(el, "values", vals, n,
		             "for 'Gt', 'Lt' operators, exactly one value is required");
	for (i = 0; (op == OP_GT || op == OP_LT) && i < n; i++) {
		long long v;
		if (!parse_i64(vals[i], &v)) {
			snprintf(path, sizeof path, "values[%zu]", i);
			invalid_str(el, path, vals[i],
			            "for 'Gt', 'Lt' operators, the value must be an integer");
		}
	}
	for (i = 0; i < n; i++) {
		struct api_buf b = {0};
		if (!check_value(vals[i], &why)) {
			api_buf_printf(&b, "values[%zu][%s]", i, key);
			invalid_str(el, b.data ? b.data : "values", vals[i],
			            why.data ? why.data : "out of memory");
		}
		api_buf_free(&b);
		api_buf_free(&why);
	}
}

/* ---- The selector ------------------------------------------------------------------------- */

static struct api_selector *selector_new(void)
{
	return calloc(1, sizeof(struct api_selector));
}

static void req_free(struct sel_req *r)
{
	size_t i;

	for (i = 0; i < r->nvals; i++)
		free(r->vals[i]);
	free(r->vals);
	free(r->key);
}

void api_label_selector_free(struct api_selector *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		req_free(&s->reqs[i]);
	free(s->reqs);
	free(s);
}

/* Append a requirement; key and vals are stolen (freed on failure too). */
static int selector_add(struct api_selector *s, char *key, enum sel_op op, char **vals, size_t n)
{
	struct sel_req *r;

	if (key != NULL && s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4;
		struct sel_req *p = realloc(s->reqs, cap * sizeof *p);
		if (p != NULL) {
			s->reqs = p;
			s->cap = cap;
		}
	}
	if (key == NULL || s->n == s->cap) {
		struct sel_req tmp = {key, op, vals, n, 0};
		req_free(&tmp);
		return STSD_NOMEM;
	}
	r = &s->reqs[s->n];
	r->key = key;
	r->op = op;
	r->vals = vals;
	r->nvals = n;
	r->idx = s->n++;
	return 0;
}

static int req_cmp(const void *a, const void *b)
{
	const struct sel_req *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Requirements are kept sorted by key, as Parse and Selector.Add leave them. */
static void selector_sort(struct api_selector *s)
{
	if (s->n > 1)
		qsort(s->reqs, s->n, sizeof s->reqs[0], req_cmp);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A copy of vals[0..n) (NULL entries read as ""); *out NULL for n == 0. */
static int vals_dup(const char *const *vals, size_t n, char ***out)
{
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(char *))) == NULL)
		return STSD_NOMEM;
	for (i = 0; i < n; i++) {
		if (((*out)[i] = strdup(vals[i] ? vals[i] : "")) == NULL) {
			while (i > 0)
				free((*out)[--i]);
			free(*out);
			*out = NULL;
			return STSD_NOMEM;
		}
	}
	return 0;
}

/* ---- Matching and printing ------------------------------------------------------------------ */

static bool req_has(const struct sel_req *r, const char *v)
{
	size_t i;

	for (i = 0; i < r->nvals; i++)
		if (strcmp(r->vals[i], v) == 0)
			return true;
	return false;
}

static bool req_matches(const struct sel_req *r, const json_t *labels)
{
	const json_t *jv =
	    labels != NULL && json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
	const char *v = json_is_string(jv) ? json_string_value(jv) : NULL;
	long long have, want;

	switch (r->op) {
	case OP_IN:
	case OP_EQ:
	case OP_DEQ:
		return v != NULL && req_has(r, v);
	case OP_NOTIN:
	case OP_NEQ:
		return v == NULL || !req_has(r, v); /* a missing label satisfies != and notin */
	case OP_EXISTS:
		return v != NULL;
	case OP_NOTEXISTS:
		return v == NULL;
	case OP_GT:
	case OP_LT:
		if (v == NULL || r->nvals != 1 || !parse_i64(v, &have) ||
		    !parse_i64(r->vals[0], &want))
			return false;
		return r->op == OP_GT ? have > want : have < want;
	}
	return false;
}

bool api_label_selector_matches(const struct api_selector *s, const json_t *labels)
{
	size_t i;

	/* NULL is "no selector": everything; a null LabelSelector object is "nothing" */
	if (s == NULL)
		return true;
	if (s->nothing)
		return false;
	for (i = 0; i < s->n; i++)
		if (!req_matches(&s->reqs[i], labels))
			return false;
	return true;
}

bool api_label_selector_empty(const struct api_selector *s)
{
	return s == NULL || (!s->nothing && s->n == 0);
}

static const char *const op_text[] = {
    [OP_EXISTS] = "", [OP_NOTEXISTS] = "",    [OP_EQ] = "=", [OP_DEQ] = "==", [OP_NEQ] = "!=",
    [OP_IN] = " in ", [OP_NOTIN] = " notin ", [OP_GT] = ">", [OP_LT] = "<",
};

/* Requirement.String: values printed sorted (without reordering the requirement). */
static void req_print(const struct sel_req *r, struct api_buf *b)
{
	char **sorted = NULL;
	size_t i;
	bool set = r->op == OP_IN || r->op == OP_NOTIN;

	api_buf_printf(b, "%s%s%s", r->op == OP_NOTEXISTS ? "!" : "", r->key, op_text[r->op]);
	if (r->op == OP_EXISTS || r->op == OP_NOTEXISTS)
		return;
	if (r->nvals > 1 && (sorted = malloc(r->nvals * sizeof(char *))) != NULL) {
		memcpy(sorted, r->vals, r->nvals * sizeof(char *));
		qsort(sorted, r->nvals, sizeof(char *), str_cmp);
	}
	if (set)
		api_buf_add(b, "(", 1);
	for (i = 0; i < r->nvals; i++)
		api_buf_printf(b, "%s%s", i ? "," : "", sorted ? sorted[i] : r->vals[i]);
	if (set)
		api_buf_add(b, ")", 1);
	free(sorted);
}

char *api_label_selector_string(const struct api_selector *s)
{
	struct api_buf b = {0};
	size_t i;

	api_buf_add(&b, "", 0);
	for (i = 0; s != NULL && i < s->n; i++) {
		if (i)
			api_buf_add(&b, ",", 1);
		req_print(&s->reqs[i], &b);
	}
	if (b.oom) {
		api_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* ---- metav1.LabelSelector ---------------------------------------------------------------------
 */

/* NewRequirement for one term of a LabelSelector object; values copied. */
static int add_checked(struct api_selector *s, const char *key, enum sel_op op,
                       const char *const *vals, size_t n, char *err, size_t errlen)
{
	struct errlist el = {0};
	char **copy;

	requirement_check(key, op, vals, n, &el);
	if (el.n > 0)
		return errlist_report(&el, "", err, errlen);
	if (vals_dup(vals, n, &copy) != 0 || selector_add(s, strdup(key), op, copy, n) != 0)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	return 0;
}

static int from_match_labels(struct api_selector *s, const json_t *ml, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	int rc;

	if (ml == NULL || json_is_null(ml))
		return 0;
	if (!json_is_object(ml))
		return stsd_errf(err, errlen, STSD_INVALID, "matchLabels: must be an object");
	json_object_foreach((json_t *)ml, k, v)
	{
		const char *val = json_string_value(v);
		if (val == NULL)
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "matchLabels[%s]: must be a string", k);
		if ((rc = add_checked(s, k, OP_EQ, &val, 1, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

static int expr_op(const char *name, enum sel_op *op)
{
	static const struct {
		const char *name;
		enum sel_op op;
	} ops[] = {{"In", OP_IN},
	           {"NotIn", OP_NOTIN},
	           {"Exists", OP_EXISTS},
	           {"DoesNotExist", OP_NOTEXISTS}};
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

static int from_expression(struct api_selector *s, const json_t *e, size_t idx, char *err,
                           size_t errlen)
{
	const json_t *jvals = json_object_get(e, "values");
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *opname = json_string_value(json_object_get(e, "operator"));
	const char **vals;
	enum sel_op op;
	size_t i, n = json_is_array(jvals) ? json_array_size(jvals) : 0;
	int rc;

	if (!json_is_object(e) || (jvals != NULL && !json_is_null(jvals) && !json_is_array(jvals)))
		return stsd_errf(err, errlen, STSD_INVALID, "matchExpressions[%zu]: malformed",
		                 idx);
	if (expr_op(opname ? opname : "", &op) != 0) {
		struct api_buf b = {0};
		sel_go_quote(&b, opname ? opname : "");
		stsd_errf(err, errlen, STSD_INVALID, "%s is not a valid label selector operator",
		          b.data ? b.data : "");
		api_buf_free(&b);
		return STSD_INVALID;
	}
	if ((vals = calloc(n + 1, sizeof *vals)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((vals[i] = json_string_value(json_array_get(jvals, i))) == NULL) {
			free(vals);
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "matchExpressions[%zu].values[%zu]: must be a string", idx,
			                 i);
		}
	}
	rc = add_checked(s, key ? key : "", op, vals, n, err, errlen);
	free(vals);
	return rc;
}

int api_label_selector_from_json(const json_t *sel, struct api_selector **out, char *err,
                                 size_t errlen)
{
	struct api_selector *s;
	const json_t *exprs;
	size_t i;
	int rc = 0;

	*out = NULL;
	if ((s = selector_new()) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	if (sel == NULL || json_is_null(sel)) {
		s->nothing = true; /* LabelSelectorAsSelector(nil) is labels.Nothing() */
		*out = s;
		return 0;
	}
	if (!json_is_object(sel)) {
		api_label_selector_free(s);
		return stsd_errf(err, errlen, STSD_INVALID, "label selector must be an object");
	}
	rc = from_match_labels(s, json_object_get(sel, "matchLabels"), err, errlen);
	exprs = json_object_get(sel, "matchExpressions");
	if (rc == 0 && exprs != NULL && !json_is_null(exprs) && !json_is_array(exprs))
		rc = stsd_errf(err, errlen, STSD_INVALID, "matchExpressions: must be an array");
	for (i = 0; rc == 0 && json_is_array(exprs) && i < json_array_size(exprs); i++)
		rc = from_expression(s, json_array_get(exprs, i), i, err, errlen);
	if (rc != 0) {
		api_label_selector_free(s);
		sel_utf8_fix(err, errlen);
		return rc;
	}
	selector_sort(s);
	*out = s;
	return 0;
}

/* ---- The string syntax ---------------------------------------------------------------------- */

int api_label_selector_parse(const char *str, struct api_selector **out, char *err, size_t errlen)
{
	struct api_selector *s;
	int rc;

	*out = NULL;
	if ((s = selector_new()) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	if (str != NULL && (rc = sel_parse_string(str, s, err, errlen)) != 0) {
		api_label_selector_free(s);
		sel_utf8_fix(err, errlen); /* the message quotes the input */
		return rc;
	}
	selector_sort(s);
	*out = s;
	return 0;
}

/* Called by the parser (selector_parse.c) for each requirement it reads: NewRequirement's checks,
 * then the requirement is added (key and the sorted value set stolen). */
int sel_add_parsed(struct api_selector *s, char *key, enum sel_op op, char **vals, size_t n,
                   char *err, size_t errlen)
{
	struct errlist el = {0};

	requirement_check(key, op, (const char *const *)vals, n, &el);
	if (el.n > 0) {
		struct sel_req tmp = {key, op, vals, n, 0};
		req_free(&tmp);
		return errlist_report(&el, "unable to parse requirement: ", err, errlen);
	}
	if (selector_add(s, key, op, vals, n) != 0)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	return 0;
}

/* The key check of parseKeyAndInferOperator (nil path: Go prints "<nil>"). */
int sel_check_parsed_key(const char *key, char *err, size_t errlen)
{
	struct api_buf why = {0};
	struct errlist el = {0};

	if (check_key(key, &why)) {
		api_buf_free(&why);
		return 0;
	}
	invalid_str(&el, "<nil>", key, why.data ? why.data : "out of memory");
	api_buf_free(&why);
	return errlist_report(&el, "unable to parse requirement: ", err, errlen);
}
