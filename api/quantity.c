/* quantity.c — resource.Quantity parsing and arithmetic on an exact decimal (mant * 10^exp). */
#include "quantity.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"

#define MAX_SIG_DIGITS 18 /* a mantissa of 18 digits always fits in int64 with room to spare */
#define MAX_EXP        100000

struct suffix {
	const char *text;
	int exp10; /* decimal SI: power of ten */
	int exp2;  /* binary SI: power of two */
};

static const struct suffix suffixes[] = {
    {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The number part: digits with at most one '.', at least one digit. Advances *p. */
static bool parse_number(const char **p, uint64_t *mant, int32_t *exp)
{
	const char *s = *p;
	int sig = 0, seen = 0;
	bool dot = false;

	for (;; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!is_digit(*s))
			break;
		seen++;
		if (*mant == 0 && *s == '0') {
			if (dot)
				(*exp)--;
			continue;
		}
		if (sig < MAX_SIG_DIGITS) {
			*mant = *mant * 10 + (uint64_t)(*s - '0');
			sig++;
			if (dot)
				(*exp)--;
		} else if (!dot) {
			(*exp)++; /* an integer digit dropped: the value keeps its magnitude */
		}
	}
	*p = s;
	return seen > 0;
}

/* "e12", "E-3": a decimal exponent. */
static bool parse_exponent(const char *s, int32_t *exp)
{
	bool neg = false;
	long v = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > MAX_EXP)
			return false;
	}
	if (*s != '\0')
		return false;
	*exp += (int32_t)(neg ? -v : v);
	return true;
}

static bool apply_suffix(const char *s, uint64_t *mant, int32_t *exp)
{
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (strcmp(s, suffixes[i].text) != 0)
			continue;
		*exp += suffixes[i].exp10;
		for (int b = 0; b < suffixes[i].exp2; b++) {
			if (*mant >
			    (uint64_t)INT64_MAX / 2) { /* too large to be exact: keep magnitude */
				*mant /= 10;
				(*exp)++;
			}
			*mant *= 2;
		}
		return true;
	}
	return (s[0] == 'e' || s[0] == 'E') && parse_exponent(s + 1, exp);
}

static void normalize(struct api_quantity *q)
{
	if (q->mant == 0) {
		q->exp = 0;
		return;
	}
	while (q->mant % 10 == 0) {
		q->mant /= 10;
		q->exp++;
	}
}

int api_quantity_parse(const char *s, struct api_quantity *q)
{
	uint64_t mant = 0;
	int32_t exp = 0;
	bool neg = false;

	if (s == NULL)
		return STSD_INVALID;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!parse_number(&s, &mant, &exp) || !apply_suffix(s, &mant, &exp))
		return STSD_INVALID;
	if (mant > (uint64_t)INT64_MAX || exp > MAX_EXP || exp < -MAX_EXP)
		return STSD_INVALID;
	q->mant = neg ? -(int64_t)mant : (int64_t)mant;
	q->exp = exp;
	normalize(q);
	return 0;
}

int api_quantity_from_json(const json_t *v, struct api_quantity *q)
{
	char buf[64];

	if (json_is_string(v))
		return api_quantity_parse(json_string_value(v), q);
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		snprintf(buf, sizeof buf, "%lld", (long long)i);
		return api_quantity_parse(buf, q);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
		return api_quantity_parse(buf, q);
	}
	return STSD_INVALID;
}

int api_quantity_sign(const struct api_quantity *q)
{
	return q->mant > 0 ? 1 : q->mant < 0 ? -1 : 0;
}

static int digits(uint64_t m)
{
	int n = 1;

	while (m >= 10) {
		m /= 10;
		n++;
	}
	return n;
}

static uint64_t magnitude(int64_t m)
{
	return m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
}

/* Compare |a| and |b| of two non-zero normalized quantities. */
static int cmp_abs(const struct api_quantity *a, const struct api_quantity *b)
{
	uint64_t ma = magnitude(a->mant), mb = magnitude(b->mant);
	long oa = (long)digits(ma) + a->exp, ob = (long)digits(mb) + b->exp;

	if (oa != ob)
		return oa < ob ? -1 : 1;
	/* Same order of magnitude: the one with the larger exponent has fewer digits; widen it. */
	for (int32_t e = a->exp; e > b->exp; e--)
		ma *= 10;
	for (int32_t e = b->exp; e > a->exp; e--)
		mb *= 10;
	return ma < mb ? -1 : ma > mb ? 1 : 0;
}

int api_quantity_cmp(const struct api_quantity *a, const struct api_quantity *b)
{
	int sa = api_quantity_sign(a), sb = api_quantity_sign(b);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	return sa > 0 ? cmp_abs(a, b) : -cmp_abs(a, b);
}

/* q * 10^scale rounded away from zero, saturating. */
static int64_t scaled(const struct api_quantity *q, int32_t scale)
{
	uint64_t m = magnitude(q->mant);
	long e = (long)q->exp + scale;
	int sign = api_quantity_sign(q);

	if (sign == 0)
		return 0;
	if (e >= 0) {
		for (long i = 0; i < e; i++) {
			if (m > (uint64_t)INT64_MAX / 10)
				return sign > 0 ? INT64_MAX : INT64_MIN;
			m *= 10;
		}
	} else {
		uint64_t rest = 0;
		for (long i = 0; i < -e && (m || rest); i++) {
			rest |= m % 10;
			m /= 10;
		}
		m += rest ? 1 : 0;
	}
	if (m > (uint64_t)INT64_MAX)
		return sign > 0 ? INT64_MAX : INT64_MIN;
	return sign > 0 ? (int64_t)m : -(int64_t)m;
}

int64_t api_quantity_milli(const struct api_quantity *q)
{
	return scaled(q, 3);
}

int64_t api_quantity_value(const struct api_quantity *q)
{
	return scaled(q, 0);
}
