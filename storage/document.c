/* document.c — reading and setting the store-maintained fields of an object's JSON. */
#include "document.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int doc_parse(struct store *s, const char *json, size_t len, struct doc *d)
{
	json_error_t err;

	d->root = NULL;
	d->meta = NULL;
	if (json == NULL)
		return store_fail(s, STSD_INVALID, "object has no JSON");
	/* jansson refuses nesting beyond 2048 levels, which bounds the recursion of equal and dump.
	 */
	d->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (d->root == NULL)
		return store_fail(s, STSD_INVALID, "object JSON: %s at line %d", err.text,
		                  err.line);
	if (!json_is_object(d->root)) {
		doc_free(d);
		return store_fail(s, STSD_INVALID, "object JSON: not an object");
	}
	d->meta = json_object_get(d->root, "metadata");
	if (d->meta == NULL) {
		d->meta = json_object();
		json_object_set_new(d->root, "metadata", d->meta);
	}
	if (!json_is_object(d->meta)) {
		doc_free(d);
		return store_fail(s, STSD_INVALID, "object JSON: metadata is not an object");
	}
	return STSD_OK;
}

void doc_free(struct doc *d)
{
	json_decref(d->root);
	d->root = NULL;
	d->meta = NULL;
}

/* The string at metadata.field must be absent or equal want; it is then set to want. */
static int check_or_set(struct store *s, struct doc *d, const char *field, const char *want)
{
	json_t *v = json_object_get(d->meta, field);

	if (v && !(json_is_string(v) && strcmp(json_string_value(v), want) == 0))
		return store_fail(s, STSD_INVALID, "metadata.%s does not match the key (%s)", field,
		                  want);
	json_object_set_new(d->meta, field, json_string(want));
	return STSD_OK;
}

int doc_check_identity(struct store *s, struct doc *d, const char *ns, const char *name)
{
	int rv = check_or_set(s, d, "name", name);

	if (rv || ns == NULL || *ns == '\0') {
		json_t *v = json_object_get(d->meta, "namespace");
		if (rv == STSD_OK && v && !(json_is_string(v) && *json_string_value(v) == '\0'))
			rv = store_fail(s, STSD_INVALID,
			                "metadata.namespace set on a cluster-scoped key");
		return rv;
	}
	return check_or_set(s, d, "namespace", ns);
}

const char *doc_meta_string(const struct doc *d, const char *field)
{
	return json_string_value(json_object_get(d->meta, field));
}

void doc_set_meta_string(struct doc *d, const char *field, const char *value)
{
	json_object_set_new(d->meta, field, json_string(value));
}

void doc_set_meta_int(struct doc *d, const char *field, int64_t value)
{
	json_object_set_new(d->meta, field, json_integer(value));
}

void doc_del_meta(struct doc *d, const char *field)
{
	json_object_del(d->meta, field);
}

void doc_set_rv(struct doc *d, uint64_t revision)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, revision);
	doc_set_meta_string(d, "resourceVersion", buf);
}

bool doc_has_spec(const struct doc *d)
{
	return json_object_get(d->root, "spec") != NULL;
}

static bool is_envelope_field(const char *k)
{
	return strcmp(k, "metadata") == 0 || strcmp(k, "status") == 0 ||
	       strcmp(k, "apiVersion") == 0 || strcmp(k, "kind") == 0;
}

/* Every non-envelope field of a has an equal counterpart in b. */
static bool spec_subset(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)a, k, v)
	{
		if (!is_envelope_field(k) && !json_equal(v, json_object_get(b, k)))
			return false;
	}
	return true;
}

bool doc_spec_equal(const struct doc *a, const struct doc *b)
{
	return spec_subset(a->root, b->root) && spec_subset(b->root, a->root);
}

const char *doc_node_name(const struct doc *d)
{
	const char *n =
	    json_string_value(json_object_get(json_object_get(d->root, "spec"), "nodeName"));

	return (n && *n) ? n : NULL;
}

char *doc_dump(const struct doc *d, size_t *len)
{
	char *out = json_dumps(d->root, JSON_COMPACT | JSON_ENCODE_ANY);

	if (out)
		*len = strlen(out);
	return out;
}
