/* fieldset.c — field-path sets in FieldsV1 form: set algebra, the FieldsV1 encoding, and the
 * schema walks that make sets from objects (ToFieldSet) and from two versions of one (Compare).
 *
 * Semantics follow kubernetes-sigs/structured-merge-diff (read: fieldpath/serialize.go,
 * fieldpath/serialize-pe.go, typed/tofieldset.go, typed/compare.go); the code is our own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fieldset.h"

#define SELF         "."
#define PATH_MAX_LEN 2048

/* ---- Nodes ------------------------------------------------------------------------------------
 * A node is the set below one path: an object of child nodes by path element, plus membership of
 * the path itself ({} alone, or "." beside children). */

static bool node_member(const json_t *n)
{
	return json_object_size(n) == 0 || json_object_get(n, SELF) != NULL;
}

static size_t node_kids(const json_t *n)
{
	return json_object_size(n) - (json_object_get(n, SELF) ? 1 : 0);
}

/* Finish a node from kids (owned, an object of child nodes): NULL when it holds nothing. */
static json_t *node_make(json_t *kids, bool member)
{
	if (kids == NULL)
		return NULL;
	json_object_del(kids, SELF);
	if (json_object_size(kids) == 0) {
		if (member)
			return kids;
		json_decref(kids);
		return NULL;
	}
	if (member)
		json_object_set_new(kids, SELF, json_object());
	return kids;
}

/* n without membership of its own path (kept only for its children); takes n. */
static json_t *node_unmember(json_t *n)
{
	if (n == NULL || node_kids(n) == 0) {
		json_decref(n);
		return NULL;
	}
	json_object_del(n, SELF);
	return n;
}

/* The root of a set: never a member. Takes n (may be NULL). */
static json_t *root_of(json_t *n)
{
	if (n == NULL)
		return json_object();
	json_object_del(n, SELF);
	return n;
}

/* ---- Set algebra ----------------------------------------------------------------------------- */

enum set_op { OP_UNION, OP_DIFF, OP_INTER };

static json_t *op_node(const json_t *a, const json_t *b, enum set_op op);

/* The children of a op b (node objects, NULL for none) into a new object. */
static json_t *op_kids(const json_t *a, const json_t *b, enum set_op op)
{
	json_t *out = json_object(), *c, *r;
	const char *k;

	if (out == NULL)
		return NULL;
	if (a != NULL) {
		json_object_foreach((json_t *)a, k, c)
		{
			if (strcmp(k, SELF) == 0)
				continue;
			r = op_node(c, b ? json_object_get(b, k) : NULL, op);
			if (r != NULL)
				json_object_set_new(out, k, r);
		}
	}
	if (op == OP_UNION && b != NULL) {
		json_object_foreach((json_t *)b, k, c)
		{
			if (strcmp(k, SELF) == 0 || (a && json_object_get(a, k)))
				continue;
			json_object_set_new(out, k, json_deep_copy(c));
		}
	}
	return out;
}

static json_t *op_node(const json_t *a, const json_t *b, enum set_op op)
{
	bool ma = a && node_member(a), mb = b && node_member(b), m;

	if (a == NULL)
		return op == OP_UNION && b ? json_deep_copy(b) : NULL;
	if (b == NULL)
		return op == OP_INTER ? NULL : json_deep_copy(a);
	m = op == OP_UNION ? (ma || mb) : op == OP_DIFF ? (ma && !mb) : (ma && mb);
	return node_make(op_kids(a, b, op), m);
}

json_t *api_fieldset_union(const json_t *a, const json_t *b)
{
	return op_kids(a, b, OP_UNION);
}

json_t *api_fieldset_difference(const json_t *a, const json_t *b)
{
	return op_kids(a, b, OP_DIFF);
}

json_t *api_fieldset_intersection(const json_t *a, const json_t *b)
{
	return op_kids(a, b, OP_INTER);
}

bool api_fieldset_empty(const json_t *set)
{
	return set == NULL || node_kids(set) == 0;
}

/* ---- Encoding -------------------------------------------------------------------------------- */

/* Order of path elements when encoded: "." first, then by kind as structured-merge-diff's
 * PathElement.Less (field names, keys, values, indexes), then bytewise. */
static int pe_rank(const char *k)
{
	if (strcmp(k, SELF) == 0)
		return 0;
	switch (k[0]) {
	case 'f':
		return 1;
	case 'k':
		return 2;
	case 'v':
		return 3;
	case 'i':
		return 4;
	default:
		return 5;
	}
}

static int pe_cmp(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;
	int ra = pe_rank(a), rb = pe_rank(b);

	return ra != rb ? ra - rb : strcmp(a, b);
}

/* n's keys in encoding order (caller frees the array, not the keys); NULL when n has none. */
static const char **sorted_keys(const json_t *n, size_t *count)
{
	const char **keys, *k;
	size_t i = 0;
	json_t *c;

	*count = 0;
	if (json_object_size(n) == 0 || (keys = malloc(json_object_size(n) * sizeof *keys)) == NULL)
		return NULL;
	json_object_foreach((json_t *)n, k, c)
	{
		keys[i++] = k;
	}
	qsort(keys, i, sizeof *keys, pe_cmp);
	*count = i;
	return keys;
}

static json_t *sorted_copy(const json_t *n)
{
	json_t *out = json_object();
	size_t count;
	const char **keys = sorted_keys(n, &count);

	for (size_t i = 0; out && i < count; i++)
		json_object_set_new(out, keys[i], sorted_copy(json_object_get(n, keys[i])));
	free(keys);
	return out;
}

json_t *api_fieldset_to_fieldsv1(const json_t *set)
{
	json_t *out = sorted_copy(set);

	json_object_del(out, SELF);
	return out;
}

static bool pe_valid(const char *k)
{
	return strlen(k) >= 2 && k[1] == ':';
}

static bool pe_known(const char *k)
{
	return strchr("fkvi", k[0]) != NULL;
}

/* Read one FieldsV1 node into *out (NULL when it holds nothing). */
static int read_v1(const json_t *v, json_t **out, char *err, size_t errlen)
{
	json_t *kids, *c, *r;
	const char *k;
	bool member = json_object_size(v) == 0;
	int rc;

	*out = NULL;
	if (!json_is_object(v))
		return stsd_errf(err, errlen, STSD_INVALID, "fieldsV1: a set must be an object");
	if ((kids = json_object()) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "fieldsV1: out of memory");
	json_object_foreach((json_t *)v, k, c)
	{
		if (strcmp(k, SELF) == 0) {
			member = true;
			continue;
		}
		if (!pe_valid(k)) {
			json_decref(kids);
			return stsd_errf(err, errlen, STSD_INVALID,
			                 "fieldsV1: bad path element \"%.64s\"", k);
		}
		if (!pe_known(k)) /* a later format's element: dropped, as upstream does */
			continue;
		if ((rc = read_v1(c, &r, err, errlen)) != 0) {
			json_decref(kids);
			return rc;
		}
		if (r != NULL)
			json_object_set_new(kids, k, r);
	}
	*out = node_make(kids, member);
	return 0;
}

int api_fieldset_from_fieldsv1(const json_t *v, json_t **out, char *err, size_t errlen)
{
	json_t *n;
	int rc = read_v1(v, &n, err, errlen);

	*out = NULL;
	if (rc != 0)
		return rc;
	*out = root_of(n);
	return *out ? 0 : stsd_errf(err, errlen, STSD_NOMEM, "fieldsV1: out of memory");
}

/* ---- Schema ---------------------------------------------------------------------------------- */

static bool primitive_type(enum schema_type t)
{
	switch (t) {
	case SCH_ANY:
	case SCH_OBJECT:
	case SCH_MAP:
	case SCH_ARRAY:
		return false;
	default:
		return true;
	}
}

static bool primitive_value(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

enum api_list_kind api_fieldset_list_kind(const struct api_schema *sch)
{
	if (sch == NULL || sch->type != SCH_ARRAY || !(sch->strategy & PATCH_MERGE))
		return API_LIST_ATOMIC;
	if (sch->merge_key != NULL)
		return API_LIST_KEYED;
	if (sch->item != NULL && primitive_type(sch->item->type))
		return API_LIST_SET;
	return API_LIST_ATOMIC;
}

static char *prefixed(const char *prefix, const char *s)
{
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(prefix) + strlen(s) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s%s", prefix, s);
	return out;
}

char *api_fieldset_item_pe(const struct api_schema *sch, const json_t *item)
{
	json_t *key, *k;
	char *text = NULL, *pe;

	switch (api_fieldset_list_kind(sch)) {
	case API_LIST_KEYED:
		if (!json_is_object(item))
			return NULL;
		k = json_object_get(item, sch->merge_key);
		if (!primitive_value(k) || (key = json_object()) == NULL)
			return NULL;
		json_object_set(key, sch->merge_key, k);
		text = json_dumps(key, JSON_COMPACT);
		json_decref(key);
		pe = text ? prefixed("k:", text) : NULL;
		break;
	case API_LIST_SET:
		if (!primitive_value(item))
			return NULL;
		text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
		pe = text ? prefixed("v:", text) : NULL;
		break;
	default:
		return NULL;
	}
	free(text);
	return pe;
}

const struct api_schema *api_fieldset_child_schema(const struct api_schema *sch, const char *key)
{
	if (sch == NULL)
		return NULL;
	switch (sch->type) {
	case SCH_OBJECT:
		for (const struct api_field *f = sch->fields; f && f->name; f++)
			if (strcmp(f->name, key) == 0)
				return f->schema;
		return NULL;
	case SCH_MAP:
		return sch->item;
	case SCH_ANY:
		return &api_schema_any;
	default:
		return NULL;
	}
}

bool api_fieldset_granular(const struct api_schema *sch, const json_t *v)
{
	if (sch == NULL || v == NULL)
		return false;
	switch (sch->type) {
	case SCH_OBJECT:
	case SCH_MAP:
	case SCH_ANY:
		return json_is_object(v);
	case SCH_ARRAY:
		return json_is_array(v) && api_fieldset_list_kind(sch) != API_LIST_ATOMIC;
	default:
		return false;
	}
}

/* The schema to walk a top-level object with: its own if it describes objects, else any. */
static const struct api_schema *root_schema(const struct api_schema *sch)
{
	if (sch != NULL && (sch->type == SCH_OBJECT || sch->type == SCH_MAP))
		return sch;
	return &api_schema_any;
}

/* ---- Paths as text --------------------------------------------------------------------------- */

struct path {
	char s[PATH_MAX_LEN];
	size_t len;
	bool truncated;
};

static void path_add(struct path *p, const char *s)
{
	size_t n = strlen(s);

	if (p->truncated || p->len + n >= sizeof p->s) {
		p->truncated = true;
		return;
	}
	memcpy(p->s + p->len, s, n + 1);
	p->len += n;
}

static void path_cut(struct path *p, size_t len)
{
	p->len = len;
	p->s[len] = '\0';
	p->truncated = false;
}

/* Append pe as structured-merge-diff's PathElement.String prints it. */
static void path_add_pe(struct path *p, const char *pe)
{
	json_t *key, *v;
	const char *k;
	char *text;
	bool first = true;

	if (pe[0] == 'f') {
		path_add(p, ".");
		path_add(p, pe + 2);
		return;
	}
	if (pe[0] == 'v' || pe[0] == 'i') {
		path_add(p, pe[0] == 'v' ? "[=" : "[");
		path_add(p, pe + 2);
		path_add(p, "]");
		return;
	}
	key = json_loads(pe + 2, JSON_DECODE_ANY, NULL);
	path_add(p, "[");
	json_object_foreach(key, k, v)
	{
		if (!first)
			path_add(p, ",");
		first = false;
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		path_add(p, k);
		path_add(p, "=");
		path_add(p, text ? text : "?");
		free(text);
	}
	if (!json_is_object(key))
		path_add(p, pe + 2);
	path_add(p, "]");
	json_decref(key);
}

static void paths_walk(const json_t *n, struct path *p, bool root, json_t *out)
{
	size_t count, mark = p->len;
	const char **keys;

	if (!root && node_member(n))
		json_array_append_new(out, json_string(p->truncated ? "(path too long)" : p->s));
	keys = sorted_keys(n, &count);
	for (size_t i = 0; i < count; i++) {
		if (strcmp(keys[i], SELF) == 0 || !pe_valid(keys[i]))
			continue;
		path_add_pe(p, keys[i]);
		paths_walk(json_object_get(n, keys[i]), p, false, out);
		path_cut(p, mark);
	}
	free(keys);
}

json_t *api_fieldset_paths(const json_t *set)
{
	json_t *out = json_array();
	struct path p = {.len = 0};

	if (out != NULL && set != NULL)
		paths_walk(set, &p, true, out);
	return out;
}

/* ---- ToFieldSet ------------------------------------------------------------------------------ */

struct walk {
	struct path p;
	char *err;
	size_t errlen;
	bool invalid; /* err says why the walk stopped (else: out of memory) */
};

static json_t *build(struct walk *w, const json_t *v, const struct api_schema *sch, bool *leaf);

static json_t *build_object(struct walk *w, const json_t *v, const struct api_schema *sch)
{
	json_t *kids = json_object(), *c, *ck;
	bool is_struct = sch->type == SCH_OBJECT, leaf;
	size_t mark = w->p.len;
	const char *k;
	char *pe;

	json_object_foreach((json_t *)v, k, c)
	{
		path_add(&w->p, ".");
		path_add(&w->p, k);
		ck = build(w, c, api_fieldset_child_schema(sch, k), &leaf);
		path_cut(&w->p, mark);
		if (ck == NULL || (pe = prefixed("f:", k)) == NULL) {
			json_decref(ck);
			json_decref(kids);
			return NULL;
		}
		/* Map entries are members; struct fields only as leaves or when empty
		 * (typed/tofieldset.go visitMapItems). */
		ck = node_make(ck, leaf || !is_struct || json_object_size(ck) == 0);
		if (ck != NULL)
			json_object_set_new(kids, pe, ck);
		free(pe);
	}
	return kids;
}

static json_t *build_list(struct walk *w, const json_t *v, const struct api_schema *sch)
{
	json_t *kids = json_object(), *item, *ck;
	size_t i, mark = w->p.len;
	bool leaf;
	char *pe;

	json_array_foreach(v, i, item)
	{
		if ((pe = api_fieldset_item_pe(sch, item)) == NULL) {
			w->invalid = true;
			if (api_fieldset_list_kind(sch) == API_LIST_KEYED)
				stsd_errf(
				    w->err, w->errlen, STSD_INVALID,
				    "%s: element %zu: associative list with keys has an element "
				    "that omits key field \"%s\"",
				    w->p.s, i, sch->merge_key);
			else
				stsd_errf(w->err, w->errlen, STSD_INVALID,
				          "%s: element %zu: a set holds only primitive values",
				          w->p.s, i);
			break;
		}
		if (json_object_get(kids, pe) != NULL) {
			w->invalid = true;
			path_add_pe(&w->p, pe);
			stsd_errf(w->err, w->errlen, STSD_INVALID, "%s: duplicate entries", w->p.s);
			free(pe);
			break;
		}
		path_add_pe(&w->p, pe);
		ck = build(w, item, sch->item, &leaf);
		path_cut(&w->p, mark);
		if (ck == NULL) {
			free(pe);
			break;
		}
		json_object_set_new(kids, pe, node_make(ck, true)); /* items are members */
		free(pe);
	}
	if (i < json_array_size(v)) {
		json_decref(kids);
		return NULL;
	}
	return kids;
}

/* The children of v's node (new; empty for a leaf, *leaf then true), NULL on error. */
static json_t *build(struct walk *w, const json_t *v, const struct api_schema *sch, bool *leaf)
{
	*leaf = !api_fieldset_granular(sch, v);
	if (*leaf)
		return json_object();
	if (json_is_object(v))
		return build_object(w, v, sch);
	return build_list(w, v, sch);
}

int api_fieldset_from_object(const json_t *v, const struct api_schema *sch, json_t **out, char *err,
                             size_t errlen)
{
	struct walk w = {.p = {.len = 0}, .err = err, .errlen = errlen, .invalid = false};
	bool leaf;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!json_is_object(v))
		return stsd_errf(err, errlen, STSD_INVALID, "an object is required");
	*out = build(&w, v, root_schema(sch), &leaf);
	if (*out != NULL)
		return 0;
	if (w.invalid)
		return STSD_INVALID;
	return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
}

/* ---- Compare --------------------------------------------------------------------------------- */

static void cmp_node(const json_t *a, const json_t *b, const struct api_schema *sch,
                     bool add_member, json_t **chg, json_t **rem);

static bool empty_container(const json_t *v)
{
	return v == NULL || (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void put(json_t *kids, const char *pe, json_t *node)
{
	if (node != NULL)
		json_object_set_new(kids, pe, node);
}

static void cmp_child(json_t *kc, json_t *kr, const char *pe, const json_t *a, const json_t *b,
                      const struct api_schema *sch, bool add_member)
{
	json_t *c, *r;

	cmp_node(a, b, sch, add_member, &c, &r);
	put(kc, pe, c);
	put(kr, pe, r);
}

static void cmp_object(const json_t *a, const json_t *b, const struct api_schema *sch, json_t *kc,
                       json_t *kr)
{
	const struct api_schema *cs;
	const char *k;
	json_t *c;
	char *pe;

	/* An object a struct field holds is not a member when added, unlike map entries, maps and
	 * lists: structured-merge-diff sees Go's zero struct there, not an absent value. */
	for (int side = 0; side < 2; side++) {
		const json_t *from = side == 0 ? a : b, *other = side == 0 ? b : a;
		json_object_foreach((json_t *)from, k, c)
		{
			if (side == 1 && a != NULL && json_object_get(a, k) != NULL)
				continue;
			if ((pe = prefixed("f:", k)) == NULL)
				continue;
			cs = api_fieldset_child_schema(sch, k);
			const json_t *o = other ? json_object_get(other, k) : NULL;
			bool add_member = sch->type != SCH_OBJECT || (cs && cs->type != SCH_OBJECT);
			if (side == 0)
				cmp_child(kc, kr, pe, c, o, cs, add_member);
			else
				cmp_child(kc, kr, pe, NULL, c, cs, add_member);
			free(pe);
		}
	}
}

/* Index a list's nameable items by path element (first one wins), borrowed items. */
static json_t *index_items(const json_t *list, const struct api_schema *sch)
{
	json_t *idx = json_object(), *item;
	size_t i;
	char *pe;

	json_array_foreach(list, i, item)
	{
		if ((pe = api_fieldset_item_pe(sch, item)) == NULL)
			continue;
		if (json_object_get(idx, pe) == NULL)
			json_object_set(idx, pe, item);
		free(pe);
	}
	return idx;
}

static void cmp_list(const json_t *a, const json_t *b, const struct api_schema *sch, json_t *kc,
                     json_t *kr)
{
	json_t *ia = index_items(a, sch), *ib = index_items(b, sch), *c;
	const char *pe;

	json_object_foreach(ia, pe, c)
	{
		cmp_child(kc, kr, pe, c, json_object_get(ib, pe), sch->item, true);
	}
	json_object_foreach(ib, pe, c)
	{
		if (json_object_get(ia, pe) == NULL)
			cmp_child(kc, kr, pe, NULL, c, sch->item, true);
	}
	json_decref(ia);
	json_decref(ib);
}

/* Compare a with b (either NULL) at one path: *chg gets what was added or modified there, *rem
 * what was removed (NULL for nothing). add_member: whether the path counts as added itself when
 * it holds a new container (typed/compare.go's postItemHook). */
static void cmp_node(const json_t *a, const json_t *b, const struct api_schema *sch,
                     bool add_member, json_t **chg, json_t **rem)
{
	bool ga = a && api_fieldset_granular(sch, a), gb = b && api_fieldset_granular(sch, b);
	json_t *kc, *kr, *c2, *r2;

	*chg = *rem = NULL;
	if (a == NULL && b == NULL)
		return;
	/* Leaves, and containers empty on both sides (kept as leaves so {} vs absent shows). */
	if ((!ga && !gb) || (empty_container(a) && empty_container(b))) {
		if (a == NULL || (b != NULL && !json_equal(a, b)))
			*chg = json_object();
		else if (b == NULL)
			*rem = json_object();
		return;
	}
	if (a != NULL && b != NULL && ga != gb) {
		/* A leaf became a container or the reverse: all of a goes, all of b comes. */
		cmp_node(a, NULL, sch, add_member, &c2, rem);
		json_decref(c2);
		*rem = node_unmember(*rem);
		cmp_node(NULL, b, sch, add_member, chg, &r2);
		json_decref(r2);
		if (*chg != NULL && !node_member(*chg))
			json_object_set_new(*chg, SELF, json_object());
		return;
	}
	kc = json_object();
	kr = json_object();
	if (kc != NULL && kr != NULL) {
		if (json_is_object(a ? a : b))
			cmp_object(a, b, sch, kc, kr);
		else
			cmp_list(a, b, sch, kc, kr);
	}
	*chg = node_make(kc, a == NULL && add_member);
	*rem = node_make(kr, b == NULL);
}

int api_fieldset_compare(const json_t *old, const json_t *new, const struct api_schema *sch,
                         json_t **changed, json_t **removed)
{
	json_t *c, *r;

	cmp_node(old, new, root_schema(sch), false, &c, &r);
	*changed = root_of(c);
	*removed = root_of(r);
	if (*changed == NULL || *removed == NULL) {
		json_decref(*changed);
		json_decref(*removed);
		*changed = *removed = NULL;
		return STSD_NOMEM;
	}
	return 0;
}
