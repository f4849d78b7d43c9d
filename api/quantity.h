/* quantity.h — Kubernetes resource quantities ("500m", "1Gi", "1e3", "2k", 0.5) parsed into an
 * exact decimal, compared, and read out in the units schedulers count (millicores, bytes).
 *
 * Grammar (k8s.io/apimachinery/pkg/api/resource, quantity.go):
 *   quantity ::= [+-] number suffix;  number ::= digits | digits.digits | digits. | .digits
 *   suffix   ::= "" | n | u | m | k | M | G | T | P | E | Ki | Mi | Gi | Ti | Pi | Ei
 *              | (e|E) [+-] digits
 * The value is mant * 10^exp. Digits beyond 18 significant ones are dropped (a value that large or
 * that precise is not a resource anyone requests); binary suffixes multiply the mantissa exactly
 * while it fits, then keep the magnitude only. */
#ifndef STSD_API_QUANTITY_H
#define STSD_API_QUANTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct api_quantity {
	int64_t mant; /* signed, trailing zeros moved into exp */
	int32_t exp;  /* power of ten */
};

/* The message Kubernetes gives for a string that is not a quantity. */
#define API_QUANTITY_SYNTAX                             \
	"quantities must match the regular expression " \
	"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

/* Parse s; 0 or STSD_INVALID (q untouched). */
int api_quantity_parse(const char *s, struct api_quantity *q);
/* Parse a JSON quantity: a string, or a number (an integer or a real). 0 or STSD_INVALID. */
int api_quantity_from_json(const json_t *v, struct api_quantity *q);
/* -1, 0 or 1 as a < b, a == b, a > b (exact). */
int api_quantity_cmp(const struct api_quantity *a, const struct api_quantity *b);
/* The sign of q: -1, 0 or 1. */
int api_quantity_sign(const struct api_quantity *q);
/* The value in thousandths, rounded up as resource.Quantity.MilliValue() does, saturating at
 * INT64_MAX / INT64_MIN. */
int64_t api_quantity_milli(const struct api_quantity *q);
/* The value rounded up to an integer (Quantity.Value()), saturating. */
int64_t api_quantity_value(const struct api_quantity *q);

#endif
