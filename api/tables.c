/* tables.c — server-side printing, the generic part: whether a request wants a Table, the Table
 * and its rows, ages, and the cell helpers the per-resource printers (tables_cells*.c) use.
 *
 * Shapes follow kube-apiserver v1.32: a Table {kind, apiVersion meta.k8s.io/v1, metadata,
 * columnDefinitions, rows}; each row {cells, object} with the object a PartialObjectMetadata for
 * includeObject=Metadata (the default), the whole object for Object, null for None
 * (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go, asTable). Ages are
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration, as pkg/printers/internalversion/printers.go
 * translateTimestampSince renders them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "selector_internal.h"
#include "table.h"
#include "tables_internal.h"

/* ---- Reading objects ------------------------------------------------------------------------ */

const json_t *tbl_get(const json_t *obj, const char *path)
{
	const json_t *v = obj;

	while (v != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		v = json_is_object(v) ? json_object_getn(v, path, n) : NULL;
		path += n + (dot ? 1 : 0);
	}
	return v;
}

const char *tbl_str(const json_t *obj, const char *path)
{
	return json_string_value(tbl_get(obj, path));
}

const char *tbl_str_or(const json_t *obj, const char *path, const char *dflt)
{
	const char *s = tbl_str(obj, path);

	return s != NULL && *s != '\0' ? s : dflt;
}

int64_t tbl_int(const json_t *obj, const char *path, int64_t dflt)
{
	const json_t *v = tbl_get(obj, path);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

const char *tbl_annotation(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(tbl_get(obj, "metadata.annotations"), key));
}

/* ---- Cells ---------------------------------------------------------------------------------- */

void tbl_cell_str(json_t *cells, const char *s)
{
	json_t *v = json_string(s != NULL ? s : "");
	char *copy;

	/* a cell cut inside a UTF-8 character (fixed buffers) still takes its column */
	if (v == NULL && (copy = strdup(s)) != NULL) {
		sel_utf8_fix(copy, strlen(copy) + 1);
		v = json_string(copy);
		free(copy);
	}
	json_array_append_new(cells, v != NULL ? v : json_string(""));
}

void tbl_cell_int(json_t *cells, int64_t v)
{
	json_array_append_new(cells, json_integer((json_int_t)v));
}

void tbl_cell_bool(json_t *cells, bool v)
{
	json_array_append_new(cells, json_boolean(v));
}

void tbl_cell_buf(json_t *cells, struct api_buf *b)
{
	tbl_cell_str(cells, b->oom ? "" : b->data);
	api_buf_free(b);
}

void tbl_cell_name(json_t *cells, const json_t *obj)
{
	tbl_cell_str(cells, tbl_str(obj, "metadata.name"));
}

void tbl_cell_since(json_t *cells, const char *rfc3339, int64_t now)
{
	char age[32];

	api_table_age(rfc3339, now, age, sizeof age);
	tbl_cell_str(cells, age);
}

void tbl_cell_age(json_t *cells, const json_t *obj, int64_t now)
{
	tbl_cell_since(cells, tbl_str(obj, "metadata.creationTimestamp"), now);
}

void tbl_cell_containers(json_t *cells, const json_t *containers)
{
	struct api_buf names = {0}, images = {0};
	size_t i;

	api_buf_add(&names, "", 0);
	api_buf_add(&images, "", 0);
	for (i = 0; json_is_array(containers) && i < json_array_size(containers); i++) {
		const json_t *c = json_array_get(containers, i);
		const char *sep = i ? "," : "";
		api_buf_printf(&names, "%s%s", sep, tbl_str_or(c, "name", ""));
		api_buf_printf(&images, "%s%s", sep, tbl_str_or(c, "image", ""));
	}
	tbl_cell_buf(cells, &names);
	tbl_cell_buf(cells, &images);
}

void tbl_access_modes(const json_t *modes, struct api_buf *b)
{
	static const char *const order[][2] = {{"ReadWriteOnce", "RWO"},
	                                       {"ReadOnlyMany", "ROX"},
	                                       {"ReadWriteMany", "RWX"},
	                                       {"ReadWriteOncePod", "RWOP"}};
	size_t i, j;
	bool first = true;

	api_buf_add(b, "", 0);
	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		for (j = 0; json_is_array(modes) && j < json_array_size(modes); j++) {
			const char *m = json_string_value(json_array_get(modes, j));
			if (m != NULL && strcmp(m, order[i][0]) == 0) {
				api_buf_printf(b, "%s%s", first ? "" : ",", order[i][1]);
				first = false;
				break;
			}
		}
	}
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void tbl_format_labels(const json_t *map, struct api_buf *b)
{
	size_t n = json_is_object(map) ? json_object_size(map) : 0, i = 0;
	const char **keys;
	const char *k;
	json_t *v;

	if (n == 0 || (keys = calloc(n, sizeof *keys)) == NULL) {
		api_buf_add(b, "<none>", 6);
		return;
	}
	json_object_foreach((json_t *)map, k, v)
	{
		keys[i++] = k;
	}
	qsort(keys, n, sizeof *keys, cmp_key);
	for (i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(map, keys[i]));
		api_buf_printf(b, "%s%s=%s", i ? "," : "", keys[i], val != NULL ? val : "");
	}
	free(keys);
}

/* ---- Time ----------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
	int i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* "Z" or "+hh:mm"/"-hh:mm" into seconds east of UTC. */
static bool parse_zone(const char *p, int64_t *off)
{
	int hh, mm;

	if (p[0] == 'Z' && p[1] == '\0') {
		*off = 0;
		return true;
	}
	if ((p[0] != '+' && p[0] != '-') || !digits(p + 1, 2, &hh) || p[3] != ':' ||
	    !digits(p + 4, 2, &mm) || p[6] != '\0' || hh > 23 || mm > 59)
		return false;
	*off = (p[0] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
	return true;
}

bool tbl_time_ms(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se, ms = 0, scale = 100;
	const char *p;
	int64_t off;

	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ms += (*p - '0') * scale;
		if (p == s + 20)
			return false;
	}
	if (!parse_zone(p, &off))
		return false;
	*out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se) -
	        off) *
	           1000 +
	       ms;
	return true;
}

void tbl_human_duration(int64_t d, char *out, size_t len)
{
	int64_t secs = d / 1000, minutes = d / 60000, hours = d / 3600000;

	if (secs < -1)
		snprintf(out, len, "<invalid>");
	else if (secs < 0)
		snprintf(out, len, "0s");
	else if (secs < 120)
		snprintf(out, len, "%llds", (long long)secs);
	else if (minutes < 10 && secs % 60 != 0)
		snprintf(out, len, "%lldm%llds", (long long)minutes, (long long)(secs % 60));
	else if (minutes < 60 * 3)
		snprintf(out, len, "%lldm", (long long)minutes);
	else if (hours < 8 && minutes % 60 != 0)
		snprintf(out, len, "%lldh%lldm", (long long)hours, (long long)(minutes % 60));
	else if (hours < 48)
		snprintf(out, len, "%lldh", (long long)hours);
	else if (hours < 24 * 8 && hours % 24 != 0)
		snprintf(out, len, "%lldd%lldh", (long long)(hours / 24), (long long)(hours % 24));
	else if (hours < 24 * 365 * 2)
		snprintf(out, len, "%lldd", (long long)(hours / 24));
	else if (hours < 24 * 365 * 8 && (hours / 24) % 365 != 0)
		snprintf(out, len, "%lldy%lldd", (long long)(hours / 24 / 365),
		         (long long)((hours / 24) % 365));
	else
		snprintf(out, len, "%lldy", (long long)(hours / 24 / 365));
}

void api_table_age(const char *rfc3339, int64_t now, char *out, size_t len)
{
	int64_t t;

	/* a zero or missing time is "<unknown>" upstream; so is one we cannot read */
	if (rfc3339 == NULL || !tbl_time_ms(rfc3339, &t)) {
		snprintf(out, len, "<unknown>");
		return;
	}
	tbl_human_duration(now * 1000 - t, out, len);
}

/* ---- Negotiation ---------------------------------------------------------------------------- */

/* Trim spaces around s[0..n) in place (returns the start, updates n). */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

static bool token_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/* One media range "application/json;as=Table;v=v1;g=meta.k8s.io". */
static bool range_wants_table(const char *s, size_t n)
{
	const char *end = s + n, *semi = memchr(s, ';', n);
	size_t tl = semi ? (size_t)(semi - s) : n;
	bool as = false, v = false, g = false;
	const char *t = trim(s, &tl);

	if (!token_is(t, tl, "application/json"))
		return false;
	while (semi != NULL && semi < end) {
		const char *p = semi + 1, *eq;
		size_t pl;
		semi = memchr(p, ';', (size_t)(end - p));
		pl = (semi ? semi : end) - p;
		p = trim(p, &pl);
		if ((eq = memchr(p, '=', pl)) == NULL)
			continue;
		as |= token_is(p, (size_t)(eq - p), "as") && (size_t)(p + pl - eq - 1) == 5 &&
		      strncmp(eq + 1, "Table", 5) == 0;
		v |= token_is(p, (size_t)(eq - p), "v") && (size_t)(p + pl - eq - 1) == 2 &&
		     strncmp(eq + 1, "v1", 2) == 0;
		g |= token_is(p, (size_t)(eq - p), "g") && (size_t)(p + pl - eq - 1) == 11 &&
		     strncmp(eq + 1, "meta.k8s.io", 11) == 0;
	}
	return as && v && g;
}

bool api_table_wanted(const char *accept)
{
	const char *p = accept;

	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (range_wants_table(p, n))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

bool api_table_object_parse(const char *v, enum api_table_object *out)
{
	if (v == NULL || *v == '\0' || strcmp(v, "Metadata") == 0)
		*out = TABLE_OBJECT_METADATA;
	else if (strcmp(v, "Object") == 0)
		*out = TABLE_OBJECT_FULL;
	else if (strcmp(v, "None") == 0)
		*out = TABLE_OBJECT_NONE;
	else
		return false;
	return true;
}

/* ---- Tables and rows ------------------------------------------------------------------------ */

/* Resources without a printer: Name and Age. */
static const struct api_column default_columns[] = {TBL_COL_NAME, TBL_COL_AGE, TBL_COL_END};

static void default_cells(const json_t *obj, json_t *cells, int64_t now)
{
	tbl_cell_name(cells, obj);
	tbl_cell_age(cells, obj, now);
}

static const struct api_table_def default_table = {default_columns, default_cells};

static const struct api_table_def *table_of(const struct api_resource *res)
{
	if (res == NULL || res->table == NULL || res->table->columns == NULL ||
	    res->table->cells == NULL)
		return &default_table;
	return res->table;
}

json_t *api_table_new(const struct api_resource *res)
{
	const struct api_column *c = table_of(res)->columns;
	json_t *cols = json_array();

	for (; cols != NULL && c->name != NULL; c++) {
		json_array_append_new(
		    cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type", c->type,
		                    "format", c->format ? c->format : "", "description",
		                    c->description ? c->description : "", "priority", c->priority));
	}
	return json_pack("{s:s, s:s, s:{}, s:o, s:[]}", "kind", "Table", "apiVersion",
	                 "meta.k8s.io/v1", "metadata", "columnDefinitions", cols, "rows");
}

static json_t *row_object(const json_t *obj, enum api_table_object inc)
{
	const json_t *meta;

	switch (inc) {
	case TABLE_OBJECT_FULL:
		return json_deep_copy(obj);
	case TABLE_OBJECT_NONE:
		return json_null();
	case TABLE_OBJECT_METADATA:
		break;
	}
	meta = json_object_get(obj, "metadata");
	return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
	                 "meta.k8s.io/v1", "metadata",
	                 json_is_object(meta) ? json_deep_copy(meta) : json_object());
}

json_t *api_table_row(const struct api_resource *res, const json_t *obj, enum api_table_object inc,
                      int64_t now)
{
	const struct api_table_def *def = table_of(res);
	json_t *cells = json_array(), *row, *conds;

	if (cells == NULL)
		return NULL;
	def->cells(obj, cells, now);
	row = json_pack("{s:o, s:o}", "cells", cells, "object", row_object(obj, inc));
	/* finished pods carry a Completed row condition, as printPod sets */
	if (row != NULL && def == &api_table_pods && (conds = tbl_pod_conditions(obj)) != NULL)
		json_object_set_new(row, "conditions", conds);
	return row;
}
