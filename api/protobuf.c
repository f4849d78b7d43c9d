/* protobuf.c — Kubernetes' protobuf encoding of request bodies, decoded into JSON through the same
 * schemas that validate JSON. kubectl's typed clients (create configmap, create namespace, ...)
 * send "application/vnd.kubernetes.protobuf": the magic "k8s\0", then a runtime.Unknown
 * {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4} whose
 * raw bytes are the object's message (tags from k8s.io/api generated.proto, kept in the schema).
 * Only the kinds typed clients send this way carry tags; an object (or nested object) whose schema
 * has none is refused with a clear error rather than decoded into an empty shell. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "util.h"

#define MAX_DEPTH 64

enum wire { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

struct pb {
	const unsigned char *p, *end;
	char *err;
	size_t errlen;
	int depth;
};

static bool fail(struct pb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct pb *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool varint(struct pb *b, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (b->p == b->end)
			return fail(b, "truncated varint");
		unsigned char c = *b->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return fail(b, "varint too long");
}

/* One field's key and, for length-delimited fields, its bytes. */
struct field {
	unsigned tag;
	enum wire wire;
	uint64_t value;
	const unsigned char *bytes;
	size_t len;
};

static bool next_field(struct pb *b, struct field *f)
{
	uint64_t key;

	if (!varint(b, &key))
		return false;
	f->tag = (unsigned)(key >> 3);
	f->wire = (enum wire)(key & 7);
	switch (f->wire) {
	case WIRE_VARINT:
		return varint(b, &f->value);
	case WIRE_I64:
	case WIRE_I32:
		f->len = f->wire == WIRE_I64 ? 8 : 4;
		if ((size_t)(b->end - b->p) < f->len)
			return fail(b, "truncated fixed field");
		f->bytes = b->p;
		b->p += f->len;
		return true;
	case WIRE_LEN:
		if (!varint(b, &f->value) || f->value > (uint64_t)(b->end - b->p))
			return fail(b, "truncated length-delimited field %u", f->tag);
		f->bytes = b->p;
		f->len = (size_t)f->value;
		b->p += f->len;
		return true;
	default:
		return fail(b, "unsupported wire type %d", (int)f->wire);
	}
}

static json_t *decode_message(const struct api_schema *sch, struct pb *outer,
                              const unsigned char *p, size_t len);

static json_t *utf8_string(struct pb *b, const struct field *f)
{
	json_t *s = json_stringn((const char *)f->bytes, f->len);

	if (s == NULL)
		fail(b, "field %u is not valid UTF-8", f->tag);
	return s;
}

static json_t *base64(const struct field *f)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(f->len / 3 * 4 + 5);
	size_t o = 0;
	json_t *s;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < f->len; i += 3) {
		uint32_t v = (uint32_t)f->bytes[i] << 16;
		if (i + 1 < f->len)
			v |= (uint32_t)f->bytes[i + 1] << 8;
		if (i + 2 < f->len)
			v |= f->bytes[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < f->len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < f->len ? tab[v & 63] : '=';
	}
	s = json_stringn(out, o);
	free(out);
	return s;
}

/* metav1.Time {int64 seconds = 1; int32 nanos = 2} as RFC 3339. */
static json_t *time_value(struct pb *b, const struct field *f)
{
	struct pb t = {f->bytes, f->bytes + f->len, b->err, b->errlen, b->depth};
	struct field g;
	int64_t seconds = 0;
	char buf[32];

	while (t.p < t.end) {
		if (!next_field(&t, &g))
			return NULL;
		if (g.tag == 1 && g.wire == WIRE_VARINT)
			seconds = (int64_t)g.value;
	}
	util_format_rfc3339(seconds, buf, sizeof buf);
	return json_string(buf);
}

/* intstr.IntOrString {int64 type = 1 (0 int, 1 string); int32 intVal = 2; string strVal = 3}. */
static json_t *int_or_string(struct pb *b, const struct field *f)
{
	struct pb t = {f->bytes, f->bytes + f->len, b->err, b->errlen, b->depth};
	struct field g;
	uint64_t type = 0;
	int64_t ival = 0;
	json_t *sval = NULL;

	while (t.p < t.end) {
		if (!next_field(&t, &g)) {
			json_decref(sval);
			return NULL;
		}
		if (g.tag == 1 && g.wire == WIRE_VARINT)
			type = g.value;
		else if (g.tag == 2 && g.wire == WIRE_VARINT)
			ival = (int32_t)(uint32_t)g.value;
		else if (g.tag == 3 && g.wire == WIRE_LEN) {
			json_decref(sval);
			if ((sval = utf8_string(b, &g)) == NULL)
				return NULL;
		}
	}
	if (type == 1)
		return sval ? sval : json_string("");
	json_decref(sval);
	return json_integer(ival);
}

/* resource.Quantity {string string = 1}. */
static json_t *quantity(struct pb *b, const struct field *f)
{
	struct pb t = {f->bytes, f->bytes + f->len, b->err, b->errlen, b->depth};
	struct field g;
	json_t *v = NULL;

	while (t.p < t.end) {
		if (!next_field(&t, &g)) {
			json_decref(v);
			return NULL;
		}
		if (g.tag == 1 && g.wire == WIRE_LEN) {
			json_decref(v);
			if ((v = utf8_string(b, &g)) == NULL)
				return NULL;
		}
	}
	return v ? v : json_string("0");
}

static json_t *double_value(const struct field *f)
{
	uint64_t bits = 0;
	double d;

	for (int i = 7; i >= 0; i--)
		bits = bits << 8 | f->bytes[i];
	memcpy(&d, &bits, sizeof d);
	return json_real(d);
}

static json_t *scalar(const struct api_schema *sch, struct pb *b, const struct field *f)
{
	bool len = f->wire == WIRE_LEN, var = f->wire == WIRE_VARINT;

	switch (sch->type) {
	case SCH_STRING:
		return len ? utf8_string(b, f) : NULL;
	case SCH_BASE64:
		return len ? base64(f) : NULL;
	case SCH_TIME:
		return len ? time_value(b, f) : NULL;
	case SCH_INT:
		return var ? json_integer((json_int_t)f->value) : NULL;
	case SCH_INT_OR_STRING:
		return len ? int_or_string(b, f) : NULL;
	case SCH_QUANTITY:
		return len ? quantity(b, f) : NULL;
	case SCH_NUMBER:
		return f->wire == WIRE_I64 ? double_value(f) : NULL;
	case SCH_BOOL:
		return var ? json_boolean(f->value != 0) : NULL;
	case SCH_OBJECT:
		return len ? decode_message(sch, b, f->bytes, f->len) : NULL;
	default:
		return NULL;
	}
}

/* A map entry message {key = 1, value = 2}. */
static bool map_entry(const struct api_schema *sch, struct pb *b, const struct field *f,
                      json_t *map)
{
	struct pb e = {f->bytes, f->bytes + f->len, b->err, b->errlen, b->depth};
	struct field g, value = {0};
	json_t *key = NULL, *v;
	bool have_value = false;

	while (e.p < e.end) {
		if (!next_field(&e, &g)) {
			json_decref(key);
			return false;
		}
		if (g.tag == 1 && g.wire == WIRE_LEN) {
			json_decref(key);
			key = utf8_string(b, &g);
		} else if (g.tag == 2) {
			value = g;
			have_value = true;
		}
	}
	if (key == NULL)
		return fail(b, "map entry without a key");
	v = have_value ? scalar(sch->item, b, &value) : json_string("");
	if (v == NULL) {
		json_decref(key);
		return fail(b, "bad map value");
	}
	json_object_set_new(map, json_string_value(key), v);
	json_decref(key);
	return true;
}

/* Whether any field of an object schema has a protobuf tag. */
static bool has_tags(const struct api_schema *sch)
{
	for (const struct api_field *f = sch->fields; f && f->name; f++)
		if (f->tag != 0)
			return true;
	return false;
}

static bool put_field(const struct api_field *fd, struct pb *b, const struct field *f, json_t *obj)
{
	const struct api_schema *sch = fd->schema;
	const struct api_schema *elem =
	    sch->type == SCH_ARRAY || sch->type == SCH_MAP ? sch->item : sch;
	json_t *v, *slot = json_object_get(obj, fd->name);

	if (sch->type == SCH_ANY)
		return true; /* free-form (fieldsV1): not carried over protobuf */
	if (elem->type == SCH_OBJECT && !has_tags(elem))
		return fail(b, "field %s cannot be decoded from protobuf here; send it as JSON",
		            fd->name);
	if (sch->type == SCH_MAP) {
		if (slot == NULL)
			json_object_set_new(obj, fd->name, slot = json_object());
		return f->wire == WIRE_LEN ? map_entry(sch, b, f, slot)
		                           : fail(b, "field %s is not a map entry", fd->name);
	}
	if (sch->type == SCH_ARRAY) {
		if (slot == NULL)
			json_object_set_new(obj, fd->name, slot = json_array());
		v = scalar(sch->item, b, f);
		return v ? (json_array_append_new(slot, v), true)
		         : fail(b, "bad element of %s", fd->name);
	}
	if ((v = scalar(sch, b, f)) == NULL)
		return fail(b, "field %s has the wrong wire type", fd->name);
	/* Go's encoder writes zero values that its JSON leaves out (omitempty): do the same. */
	if ((json_is_string(v) && json_string_length(v) == 0) ||
	    (json_is_integer(v) && json_integer_value(v) == 0) || json_is_false(v))
		json_decref(v);
	else
		json_object_set_new(obj, fd->name, v);
	return true;
}

static const struct api_field *by_tag(const struct api_schema *sch, unsigned tag)
{
	for (const struct api_field *f = sch->fields; f && f->name; f++)
		if (f->tag == tag && tag != 0)
			return f;
	return NULL;
}

static json_t *decode_message(const struct api_schema *sch, struct pb *outer,
                              const unsigned char *p, size_t len)
{
	struct pb b = {p, p + len, outer->err, outer->errlen, outer->depth + 1};
	json_t *obj = json_object();
	struct field f;

	if (b.depth > MAX_DEPTH) {
		json_decref(obj);
		fail(outer, "nested too deeply");
		return NULL;
	}
	while (b.p < b.end) {
		const struct api_field *fd;
		if (!next_field(&b, &f) ||
		    ((fd = by_tag(sch, f.tag)) != NULL && !put_field(fd, &b, &f, obj))) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* The runtime.Unknown envelope: type meta and the raw message. */
static bool envelope(struct pb *b, struct field *raw, json_t *type)
{
	struct field f;

	raw->bytes = NULL;
	while (b->p < b->end) {
		if (!next_field(b, &f))
			return false;
		if (f.tag == 2 && f.wire == WIRE_LEN)
			*raw = f;
		if (f.tag == 3 && f.wire == WIRE_LEN && f.len > 0)
			return fail(b, "content encoding is not supported");
		if (f.tag == 1 && f.wire == WIRE_LEN) {
			struct pb t = {f.bytes, f.bytes + f.len, b->err, b->errlen, 0};
			struct field g;
			while (t.p < t.end && next_field(&t, &g))
				if ((g.tag == 1 || g.tag == 2) && g.wire == WIRE_LEN)
					json_object_set_new(
					    type, g.tag == 1 ? "apiVersion" : "kind",
					    json_stringn((const char *)g.bytes, g.len));
		}
	}
	return raw->bytes != NULL || fail(b, "no object in the envelope");
}

json_t *api_proto_decode(const struct api_schema *sch, const void *data, size_t len, char *err,
                         size_t errlen)
{
	struct pb b = {data, (const unsigned char *)data + len, err, errlen, 0};
	struct field raw = {0};
	json_t *type = json_object(), *obj = NULL;

	err[0] = '\0';
	if (sch == NULL || sch->type != SCH_OBJECT || !has_tags(sch))
		fail(&b, "protobuf is not supported for this resource; send it as JSON");
	else if (len < 4 || memcmp(data, "k8s\0", 4) != 0)
		fail(&b, "not Kubernetes protobuf (no \"k8s\\0\" prefix)");
	else {
		b.p += 4;
		if (envelope(&b, &raw, type))
			obj = decode_message(sch, &b, raw.bytes, raw.len);
	}
	if (obj)
		json_object_update(obj, type);
	json_decref(type);
	return obj;
}
