/* selector_parse.c — the lexer and recursive-descent parser of the label selector string syntax
 * ("app=web,tier!=db,env in (a,b),!legacy,release").
 *
 * Token set, the contexts in which "in"/"notin" read as plain identifiers, and every "found 'X',
 * expected: ..." message follow k8s.io/apimachinery/pkg/labels/selector.go (v1.32: Lexer.Lex,
 * Parser.parse, parseRequirement, parseKeyAndInferOperator, parseOperator, parseValues,
 * parseIdentifiersList, parseExactValue). Values of a requirement form a set (sorted, without
 * duplicates), as sets.String gives upstream. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "selector_internal.h"

enum tok {
	T_EOS,
	T_CLOSEPAR,
	T_COMMA,
	T_NOT,
	T_DEQ,
	T_EQ,
	T_GT,
	T_ID,
	T_IN,
	T_LT,
	T_NEQ,
	T_NOTIN,
	T_OPENPAR,
};

struct token {
	enum tok t;
	const char *s; /* the literal, not NUL-terminated */
	int len;
};

/* A context of Values turns the keywords in/notin back into identifiers ("value in (in)"). */
enum ctx { CTX_KEY_OP, CTX_VALUES };

struct parser {
	struct token *toks;
	size_t n, pos;
	char *err;
	size_t errlen;
};

/* A growable set of value strings. */
struct strset {
	char **v;
	size_t n, cap;
	bool oom;
};

/* ---- Lexer -------------------------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c != '\0' && strchr("=!(),><", c) != NULL;
}

/* Operators: the longest run of special characters that is still a token; only "==" and "!="
 * are two characters long. */
static const char *lex_special(const char *p, struct token *t)
{
	static const struct {
		char c;
		enum tok t;
	} one[] = {{')', T_CLOSEPAR}, {',', T_COMMA}, {'!', T_NOT},    {'=', T_EQ},
	           {'>', T_GT},       {'<', T_LT},    {'(', T_OPENPAR}};
	size_t i;

	t->s = p;
	t->len = 1;
	if ((p[0] == '=' || p[0] == '!') && p[1] == '=') {
		t->t = p[0] == '=' ? T_DEQ : T_NEQ;
		t->len = 2;
		return p + 2;
	}
	for (i = 0; i < sizeof one / sizeof one[0]; i++)
		if (one[i].c == p[0])
			t->t = one[i].t;
	return p + 1;
}

static const char *lex_word(const char *p, struct token *t)
{
	const char *start = p;

	while (*p != '\0' && !is_special(*p) && !is_space(*p))
		p++;
	t->s = start;
	t->len = (int)(p - start);
	t->t = T_ID;
	if (t->len == 2 && memcmp(start, "in", 2) == 0)
		t->t = T_IN;
	else if (t->len == 5 && memcmp(start, "notin", 5) == 0)
		t->t = T_NOTIN;
	return p;
}

/* Scan all of str; the last token is T_EOS. */
static int lex(const char *str, struct parser *p)
{
	size_t max = strlen(str) + 1;

	if (max > (size_t)1 << 30 || (p->toks = calloc(max, sizeof *p->toks)) == NULL)
		return STSD_NOMEM;
	for (;;) {
		struct token *t = &p->toks[p->n++];
		while (is_space(*str))
			str++;
		if (*str == '\0') {
			t->t = T_EOS;
			t->s = str;
			return 0;
		}
		str = is_special(*str) ? lex_special(str, t) : lex_word(str, t);
	}
}

/* ---- Parser helpers ---------------------------------------------------------------------------
 */

static enum tok tok_in(enum tok t, enum ctx c)
{
	return c == CTX_VALUES && (t == T_IN || t == T_NOTIN) ? T_ID : t;
}

static const struct token *lookahead(struct parser *p, enum tok *t, enum ctx c)
{
	const struct token *k = &p->toks[p->pos];

	*t = tok_in(k->t, c);
	return k;
}

/* Never moves past the final T_EOS. */
static const struct token *consume(struct parser *p, enum tok *t, enum ctx c)
{
	const struct token *k = lookahead(p, t, c);

	if (p->pos + 1 < p->n)
		p->pos++;
	return k;
}

/* "found 'LIT', expected: WHAT" (what carries its own separator, upstream is not uniform). */
static int found(struct parser *p, const struct token *k, const char *what)
{
	return stsd_errf(p->err, p->errlen, STSD_INVALID, "%s'%.*s'%s", "found ", k->len, k->s,
	                 what);
}

/* Inside parseRequirement errors get upstream's "unable to parse requirement: " prefix. */
static int found_req(struct parser *p, const struct token *k, const char *what)
{
	return stsd_errf(p->err, p->errlen, STSD_INVALID,
	                 "unable to parse requirement: found '%.*s'%s", k->len, k->s, what);
}

static void set_add(struct strset *s, const char *v, int len)
{
	size_t i;
	char *copy;

	for (i = 0; i < s->n; i++)
		if ((int)strlen(s->v[i]) == len && memcmp(s->v[i], v, (size_t)len) == 0)
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4;
		char **nv = realloc(s->v, cap * sizeof *nv);
		if (nv == NULL) {
			s->oom = true;
			return;
		}
		s->v = nv;
		s->cap = cap;
	}
	if ((copy = strndup(v, (size_t)len)) == NULL) {
		s->oom = true;
		return;
	}
	s->v[s->n++] = copy;
}

static void set_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- Grammar --------------------------------------------------------------------------------- */

/* parseIdentifiersList: "a,b", ",a", "a,,b" (empty strings are values). */
static int parse_id_list(struct parser *p, struct strset *s)
{
	for (;;) {
		enum tok t, t2;
		const struct token *k = consume(p, &t, CTX_VALUES), *k2;

		if (t == T_ID) {
			set_add(s, k->s, k->len);
			k2 = lookahead(p, &t2, CTX_VALUES);
			if (t2 == T_CLOSEPAR)
				return 0;
			if (t2 != T_COMMA)
				return found_req(p, k2, ", expected: ',' or ')'");
		} else if (t == T_COMMA) {
			if (s->n == 0)
				set_add(s, "", 0); /* "(,": a leading empty value */
			lookahead(p, &t2, CTX_VALUES);
			if (t2 == T_CLOSEPAR) {
				set_add(s, "", 0); /* ",)" */
				return 0;
			}
			if (t2 == T_COMMA)
				set_add(s, "", 0); /* ",," */
		} else {
			return found_req(p, k, ", expected: ',', or identifier");
		}
	}
}

/* parseValues: "(" list ")" or "()" (one empty value). */
static int parse_values(struct parser *p, struct strset *s)
{
	enum tok t;
	const struct token *k = consume(p, &t, CTX_VALUES);
	int rc;

	if (t != T_OPENPAR)
		return found_req(p, k, " expected: '('");
	k = lookahead(p, &t, CTX_VALUES);
	if (t == T_CLOSEPAR) {
		consume(p, &t, CTX_VALUES);
		set_add(s, "", 0);
		return 0;
	}
	if (t != T_ID && t != T_COMMA)
		return found_req(p, k, ", expected: ',', ')' or identifier");
	if ((rc = parse_id_list(p, s)) != 0)
		return rc;
	if (consume(p, &t, CTX_VALUES), t != T_CLOSEPAR)
		return found_req(p, k, ", expected: ')'");
	return 0;
}

/* parseExactValue: one value, or "" when the requirement ends right after the operator. */
static int parse_exact(struct parser *p, struct strset *s)
{
	enum tok t;
	const struct token *k = lookahead(p, &t, CTX_VALUES);

	if (t == T_EOS || t == T_COMMA) {
		set_add(s, "", 0);
		return 0;
	}
	k = consume(p, &t, CTX_VALUES);
	if (t != T_ID)
		return found_req(p, k, ", expected: identifier");
	set_add(s, k->s, k->len);
	return 0;
}

static int parse_operator(struct parser *p, enum sel_op *op)
{
	static const struct {
		enum tok t;
		enum sel_op op;
	} ops[] = {{T_IN, OP_IN}, {T_EQ, OP_EQ},       {T_DEQ, OP_DEQ}, {T_GT, OP_GT},
	           {T_LT, OP_LT}, {T_NOTIN, OP_NOTIN}, {T_NEQ, OP_NEQ}};
	enum tok t;
	const struct token *k = consume(p, &t, CTX_KEY_OP);
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (ops[i].t == t) {
			*op = ops[i].op;
			return 0;
		}
	}
	return found_req(p, k, ", expected: in, notin, =, ==, !=, gt, lt");
}

/* parseKeyAndInferOperator: "[!] KEY"; exists when a comma or the end follows. */
static int parse_key(struct parser *p, char **key, enum sel_op *op, bool *unary)
{
	enum tok t;
	const struct token *k = consume(p, &t, CTX_VALUES);
	int rc;

	*unary = false;
	if (t == T_NOT) {
		*unary = true;
		*op = OP_NOTEXISTS;
		k = consume(p, &t, CTX_VALUES);
	}
	if (t != T_ID)
		return found_req(p, k, ", expected: identifier");
	if ((*key = strndup(k->s, (size_t)k->len)) == NULL)
		return STSD_NOMEM;
	if ((rc = sel_check_parsed_key(*key, p->err, p->errlen)) != 0) {
		free(*key);
		*key = NULL;
		return rc;
	}
	lookahead(p, &t, CTX_VALUES);
	if (!*unary && (t == T_EOS || t == T_COMMA)) {
		*unary = true;
		*op = OP_EXISTS;
	}
	return 0;
}

static int parse_requirement(struct parser *p, struct api_selector *sel)
{
	struct strset vals = {0};
	enum sel_op op = OP_EXISTS;
	char *key = NULL;
	bool unary;
	int rc;

	if ((rc = parse_key(p, &key, &op, &unary)) != 0)
		return rc;
	if (!unary && (rc = parse_operator(p, &op)) == 0)
		rc = (op == OP_IN || op == OP_NOTIN) ? parse_values(p, &vals)
		                                     : parse_exact(p, &vals);
	if (rc == 0 && vals.oom)
		rc = STSD_NOMEM;
	if (rc != 0) {
		free(key);
		set_free(&vals);
		return rc;
	}
	if (vals.n > 1)
		qsort(vals.v, vals.n, sizeof vals.v[0], cmp_str);
	return sel_add_parsed(sel, key, op, vals.v, vals.n, p->err, p->errlen);
}

/* Parser.parse: requirements separated by commas up to the end of the string. */
static int parse_all(struct parser *p, struct api_selector *sel)
{
	for (;;) {
		enum tok t;
		const struct token *k = lookahead(p, &t, CTX_VALUES);
		int rc;

		if (t == T_EOS)
			return 0;
		if (t != T_ID && t != T_NOT)
			return found(p, k, ", expected: !, identifier, or 'end of string'");
		if ((rc = parse_requirement(p, sel)) != 0)
			return rc;
		k = consume(p, &t, CTX_VALUES);
		if (t == T_EOS)
			return 0;
		if (t != T_COMMA)
			return found(p, k, ", expected: ',' or 'end of string'");
		k = lookahead(p, &t, CTX_VALUES);
		if (t != T_ID && t != T_NOT)
			return found(p, k, ", expected: identifier after ','");
	}
}

int sel_parse_string(const char *str, struct api_selector *s, char *err, size_t errlen)
{
	struct parser p = {.err = err, .errlen = errlen};
	int rc;

	if ((rc = lex(str, &p)) == 0)
		rc = parse_all(&p, s);
	if (rc == STSD_NOMEM)
		stsd_errf(err, errlen, rc, "out of memory");
	free(p.toks);
	return rc;
}
