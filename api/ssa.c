/* ssa.c — server-side apply and managedFields: merging an applied configuration into the live
 * object, pruning what a manager stopped applying, conflicts, and ownership of ordinary writes.
 *
 * The algorithm is structured-merge-diff's merge/update.go (Updater.Apply, Updater.Update,
 * prune, addBackOwnedItems, addBackDanglingItems) and the apiserver's stripMetaManager (which
 * metadata fields are never tracked), re-expressed over jansson values; the code is our own. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fieldset.h"
#include "ssa.h"
#include "ssa_internal.h"

/* metadata fields the server owns: never applied, never tracked (stripmeta.go). */
static const char *const server_meta[] = {
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
    NULL,
};

/* ---- Preparing values ------------------------------------------------------------------------ */

/* Drop null members of objects (an applied null means "not set"), and objects emptied by that
 * (kubectl's `creationTimestamp: null` leaves `metadata: {}`). Returns whether v was emptied. */
static bool strip_nulls(json_t *v)
{
	const char *k;
	json_t *c;
	void *tmp;
	size_t i, before;

	if (json_is_array(v)) {
		json_array_foreach(v, i, c)
		{
			strip_nulls(c);
		}
		return false;
	}
	if (!json_is_object(v) || (before = json_object_size(v)) == 0)
		return false;
	json_object_foreach_safe(v, tmp, k, c)
	{
		if (json_is_null(c) || strip_nulls(c))
			json_object_del(v, k);
	}
	return json_object_size(v) == 0;
}

static void del_meta(json_t *obj, const char *const *names)
{
	json_t *meta = json_object_get(obj, "metadata");

	for (size_t i = 0; json_is_object(meta) && names[i]; i++)
		json_object_del(meta, names[i]);
}

/* A copy of obj without what is never tracked: apiVersion, kind, status, server metadata,
 * metadata.name and namespace. NULL for NULL. */
static json_t *tracked(const json_t *obj)
{
	static const char *const ident[] = {"name", "namespace", NULL};
	json_t *t, *meta;

	if (obj == NULL || (t = json_deep_copy(obj)) == NULL)
		return NULL;
	json_object_del(t, "apiVersion");
	json_object_del(t, "kind");
	json_object_del(t, "status");
	del_meta(t, server_meta);
	del_meta(t, ident);
	meta = json_object_get(t, "metadata");
	if (json_is_object(meta) && json_object_size(meta) == 0)
		json_object_del(t, "metadata");
	return t;
}

/* Refuse containers of the wrong shape (an array where the schema has an object...), which would
 * otherwise replace whole parts of the live object. path holds the path so far. */
static int shape_check(const json_t *v, const struct api_schema *sch, char *path, size_t len,
                       char *err, size_t errlen)
{
	size_t n = strlen(path), i;
	const char *k;
	json_t *c;
	int rc = 0;

	if (sch == NULL)
		return 0;
	if ((sch->type == SCH_OBJECT || sch->type == SCH_MAP) && !json_is_object(v))
		return stsd_errf(err, errlen, STSD_INVALID, "%s: expected object, got %s",
		                 n ? path : ".", api_json_type_name(v));
	if (sch->type == SCH_ARRAY && !json_is_array(v))
		return stsd_errf(err, errlen, STSD_INVALID, "%s: expected list, got %s", path,
		                 api_json_type_name(v));
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
		{
			snprintf(path + n, len - n, ".%s", k);
			rc = shape_check(c, api_fieldset_child_schema(sch, k), path, len, err,
			                 errlen);
			path[n] = '\0';
			if (rc != 0)
				return rc;
		}
	} else if (json_is_array(v) && sch->type == SCH_ARRAY) {
		json_array_foreach(v, i, c)
		{
			snprintf(path + n, len - n, "[%zu]", i);
			rc = shape_check(c, sch->item, path, len, err, errlen);
			path[n] = '\0';
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- managedFields entries ------------------------------------------------------------------- */

struct mf_entry {
	json_t *raw;   /* the stored entry (owned), NULL for a new one */
	char *manager; /* owned */
	bool apply;    /* operation Apply, else Update */
	char *sub;     /* subresource of the writes ("scale"), NULL for the main resource; owned */
	json_t *set;   /* owned */
	bool touched;  /* write time and apiVersion anew */
};

struct mf_list {
	struct mf_entry *e;
	size_t n, cap;
};

static void mf_free(struct mf_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		json_decref(l->e[i].raw);
		json_decref(l->e[i].set);
		free(l->e[i].manager);
		free(l->e[i].sub);
	}
	free(l->e);
	memset(l, 0, sizeof *l);
}

static struct mf_entry *mf_push(struct mf_list *l)
{
	struct mf_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		if ((e = realloc(l->e, cap * sizeof *e)) == NULL)
			return NULL;
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof *e);
	return e;
}

static bool same_sub(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The entry of (manager, operation, subresource): one manager each in Kubernetes. */
static int mf_find(const struct mf_list *l, const char *manager, bool apply, const char *sub)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].apply == apply && same_sub(l->e[i].sub, sub) &&
		    strcmp(l->e[i].manager, manager) == 0)
			return (int)i;
	return -1;
}

/* One stored entry into l; malformed entries are dropped (a later write rewrites the list). */
static void mf_read_entry(struct mf_list *l, json_t *raw)
{
	const char *manager = json_string_value(json_object_get(raw, "manager"));
	const char *op = json_string_value(json_object_get(raw, "operation"));
	const char *type = json_string_value(json_object_get(raw, "fieldsType"));
	const char *sub = json_string_value(json_object_get(raw, "subresource"));
	json_t *v1 = json_object_get(raw, "fieldsV1"), *set = NULL;
	bool apply = op && strcmp(op, "Apply") == 0;
	struct mf_entry *e;
	int i;

	if (manager == NULL || op == NULL || (!apply && strcmp(op, "Update") != 0) ||
	    (type && strcmp(type, "FieldsV1") != 0))
		return;
	if (v1 == NULL ? (set = json_object()) == NULL
	               : api_fieldset_from_fieldsv1(v1, &set, NULL, 0) != 0)
		return;
	if ((i = mf_find(l, manager, apply, sub)) >= 0) {
		json_t *u = api_fieldset_union(l->e[i].set, set);
		json_decref(set);
		if (u != NULL) {
			json_decref(l->e[i].set);
			l->e[i].set = u;
		}
		return;
	}
	if ((e = mf_push(l)) == NULL || (e->manager = strdup(manager)) == NULL ||
	    (sub && sub[0] && (e->sub = strdup(sub)) == NULL)) {
		json_decref(set);
		if (e != NULL) {
			free(e->manager);
			l->n--;
		}
		return;
	}
	e->raw = json_deep_copy(raw);
	e->apply = apply;
	e->set = set;
}

static void mf_parse(const json_t *list, struct mf_list *l)
{
	json_t *raw;
	size_t i;

	json_array_foreach(list, i, raw)
	{
		if (json_is_object(raw))
			mf_read_entry(l, raw);
	}
}

static const json_t *mf_of(const json_t *obj)
{
	return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

static struct mf_entry *mf_add(struct mf_list *l, const char *manager, bool apply, const char *sub)
{
	struct mf_entry *e = mf_push(l);

	if (e == NULL)
		return NULL;
	if ((e->manager = strdup(manager)) == NULL || (e->set = json_object()) == NULL ||
	    (sub && sub[0] && (e->sub = strdup(sub)) == NULL)) {
		free(e->manager);
		json_decref(e->set);
		l->n--;
		return NULL;
	}
	e->apply = apply;
	return e;
}

/* Replace e's set with set (taken). */
static void mf_set(struct mf_entry *e, json_t *set)
{
	if (set == NULL)
		return;
	json_decref(e->set);
	e->set = set;
}

static json_t *mf_encode_entry(const struct mf_entry *e, const char *api_version, const char *now)
{
	json_t *out = e->raw ? json_deep_copy(e->raw) : json_object();

	if (out == NULL)
		return NULL;
	if (e->raw == NULL) {
		json_object_set_new(out, "manager", json_string(e->manager));
		json_object_set_new(out, "operation", json_string(e->apply ? "Apply" : "Update"));
	}
	if (e->touched || e->raw == NULL) {
		json_object_set_new(out, "apiVersion", json_string(api_version ? api_version : ""));
		json_object_set_new(out, "time", json_string(now ? now : ""));
	}
	json_object_set_new(out, "fieldsType", json_string("FieldsV1"));
	json_object_set_new(out, "fieldsV1", api_fieldset_to_fieldsv1(e->set));
	if (e->raw == NULL && e->sub != NULL)
		json_object_set_new(out, "subresource", json_string(e->sub));
	return out;
}

/* Write l into obj's metadata.managedFields, in order, without empty entries; no key when none
 * remain. */
static void mf_store(json_t *obj, const struct mf_list *l, const char *api_version, const char *now)
{
	json_t *arr = json_array(), *meta = json_object_get(obj, "metadata");

	for (size_t i = 0; arr && i < l->n; i++)
		if (!api_fieldset_empty(l->e[i].set))
			json_array_append_new(arr, mf_encode_entry(&l->e[i], api_version, now));
	if (json_array_size(arr) == 0) {
		if (json_is_object(meta))
			json_object_del(meta, "managedFields");
		json_decref(arr);
		return;
	}
	if (meta != NULL && !json_is_object(meta)) { /* not ours to repair */
		json_decref(arr);
		return;
	}
	if (meta == NULL) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	json_object_set_new(meta, "managedFields", arr);
}

/* A manager name that can be written into managedFields: not empty, UTF-8. */
static bool manager_ok(const char *manager)
{
	json_t *s = manager && manager[0] ? json_string(manager) : NULL;

	json_decref(s);
	return s != NULL;
}

/* ---- Apply ----------------------------------------------------------------------------------- */

struct apply {
	json_t *cfg;               /* the applied configuration, nulls and server fields stripped */
	json_t *newset;            /* the fields it sets */
	json_t *merged;            /* the result */
	json_t *changed;           /* fields added or modified from live to merged */
	json_t *removed;           /* fields gone from live to merged */
	json_t *live_t, *merged_t; /* tracked copies */
	struct mf_list mf;
};

static void apply_free(struct apply *a)
{
	json_decref(a->cfg);
	json_decref(a->newset);
	json_decref(a->merged);
	json_decref(a->changed);
	json_decref(a->removed);
	json_decref(a->live_t);
	json_decref(a->merged_t);
	mf_free(&a->mf);
}

/* Check and prepare cfg: a->cfg and a->newset. */
static int apply_prepare(struct apply *a, const json_t *cfg, const struct api_schema *sch,
                         char *err, size_t errlen)
{
	char path[1024] = "";
	json_t *t;
	int rc;

	if (!json_is_object(cfg))
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "the applied configuration must be an object");
	t = json_object_get(json_object_get(cfg, "metadata"), "managedFields");
	if (t != NULL && !json_is_null(t)) /* as the apiserver refuses (a 400 there) */
		return stsd_errf(err, errlen, STSD_INVALID, "metadata.managedFields must be nil");
	if ((a->cfg = json_deep_copy(cfg)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	strip_nulls(a->cfg);
	json_object_del(a->cfg, "status"); /* the status subresource owns it */
	del_meta(a->cfg, server_meta);
	if ((rc = shape_check(a->cfg, sch, path, sizeof path, err, errlen)) != 0)
		return rc;
	if ((t = tracked(a->cfg)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	rc = api_fieldset_from_object(t, sch, &a->newset, err, errlen);
	json_decref(t);
	return rc;
}

/* The fields no manager's set records but every object has: upstream they are in the applier's
 * set while it applies (stripMetaManager strips them only from what is stored), so pruning never
 * takes metadata away with them. */
static const char untracked_fields[] =
    "{\"f:apiVersion\":{},\"f:kind\":{},\"f:status\":{},\"f:metadata\":{\"f:name\":{},"
    "\"f:namespace\":{},\"f:uid\":{},\"f:resourceVersion\":{},\"f:generation\":{},"
    "\"f:creationTimestamp\":{},\"f:deletionTimestamp\":{},"
    "\"f:deletionGracePeriodSeconds\":{},\"f:selfLink\":{}}}";

/* The union of every set but the one at index skip (-1: none), extra and the untracked fields. */
static json_t *owned_by_all(const struct mf_list *l, int skip, const json_t *extra)
{
	json_t *fixed = json_loads(untracked_fields, 0, NULL);
	json_t *u = fixed ? api_fieldset_union(fixed, extra) : NULL, *v;

	json_decref(fixed);

	for (size_t i = 0; u && i < l->n; i++) {
		if ((int)i == skip)
			continue;
		v = api_fieldset_union(u, l->e[i].set);
		json_decref(u);
		u = v;
	}
	return u;
}

/* Conflicts: fields cfg changes that another manager owns, [{manager, field}]. Entries of the
 * applying manager's own name (its Update entry) never conflict with it. */
static json_t *apply_conflicts(const struct apply *a, const char *manager, int self)
{
	json_t *out = json_array(), *inter, *paths, *p;
	size_t j;

	for (size_t i = 0; out && i < a->mf.n; i++) {
		if ((int)i == self || strcmp(a->mf.e[i].manager, manager) == 0)
			continue;
		inter = api_fieldset_intersection(a->mf.e[i].set, a->changed);
		paths = api_fieldset_paths(inter);
		json_array_foreach(paths, j, p)
		{
			json_t *c =
			    json_pack("{s:s, s:O}", "manager", a->mf.e[i].manager, "field", p);
			if (c != NULL && a->mf.e[i].sub != NULL)
				json_object_set_new(c, "subresource", json_string(a->mf.e[i].sub));
			if (c != NULL)
				json_array_append_new(out, c);
		}
		json_decref(paths);
		json_decref(inter);
	}
	return out;
}

/* Merge, prune and compare: a->merged, a->changed, a->removed. */
static int apply_merge(struct apply *a, const json_t *live, const struct api_schema *sch, int self)
{
	json_t *owned;

	if (live == NULL) {
		a->merged = json_deep_copy(a->cfg);
	} else {
		json_t *l = json_deep_copy(live);
		del_meta(l, (const char *const[]){"managedFields", NULL});
		a->merged = l ? api_ssa_merge(l, a->cfg, sch) : NULL;
		json_decref(l);
	}
	if (a->merged == NULL)
		return STSD_NOMEM;
	if (self >= 0) {
		if ((owned = owned_by_all(&a->mf, self, a->newset)) == NULL)
			return STSD_NOMEM;
		api_ssa_prune(a->merged, sch, a->mf.e[self].set, owned);
		json_decref(owned);
	}
	a->live_t = tracked(live);
	if ((a->merged_t = tracked(a->merged)) == NULL || (live && a->live_t == NULL))
		return STSD_NOMEM;
	return api_fieldset_compare(a->live_t, a->merged_t, sch, &a->changed, &a->removed);
}

/* Ownership after a successful apply: what cfg changed and what went leave the other managers;
 * the manager's Apply entry is exactly cfg's fields. */
static int apply_own(struct apply *a, const char *manager, int self)
{
	struct mf_entry *e;
	bool same;

	for (size_t i = 0; i < a->mf.n; i++) {
		if ((int)i == self)
			continue;
		json_t *d1 = api_fieldset_difference(a->mf.e[i].set, a->changed);
		mf_set(&a->mf.e[i], d1 ? api_fieldset_difference(d1, a->removed) : NULL);
		json_decref(d1);
	}
	e = self >= 0 ? &a->mf.e[self] : mf_add(&a->mf, manager, true, NULL);
	if (e == NULL)
		return STSD_NOMEM;
	same = json_equal(e->set, a->newset) && e->raw != NULL &&
	       (a->live_t ? json_equal(a->live_t, a->merged_t) : false);
	/* The time moves only when the object or the manager's fields changed, so a re-apply of
	 * the same configuration is a no-op. */
	e->touched = !same;
	mf_set(e, a->newset);
	a->newset = NULL;
	return 0;
}

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* kubectl's own server-side applies keep an existing client-side-apply annotation current: it
 * becomes the applied configuration without the annotation (the apiserver's lastAppliedUpdater,
 * so that a later client-side apply diffs against what was last applied). */
static void sync_last_applied(json_t *merged, const json_t *cfg, const char *manager)
{
	json_t *annots = json_object_get(json_object_get(merged, "metadata"), "annotations");
	json_t *copy, *ca;
	char *text;

	if (strcmp(manager, "kubectl") != 0 ||
	    !json_is_string(json_object_get(annots, LAST_APPLIED)))
		return;
	if ((copy = json_deep_copy(cfg)) == NULL)
		return;
	ca = json_object_get(json_object_get(copy, "metadata"), "annotations");
	json_object_del(ca, LAST_APPLIED);
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	if (text != NULL)
		json_object_set_new(annots, LAST_APPLIED, json_string(text));
	free(text);
	json_decref(copy);
}

int api_ssa_apply(const json_t *live, const json_t *cfg, const char *manager, bool force,
                  const struct api_schema *sch, const char *api_version, const char *now,
                  json_t **out, json_t **conflicts, char *err, size_t errlen)
{
	struct apply a = {0};
	json_t *found;
	int self, rc;

	*out = NULL;
	if (conflicts != NULL)
		*conflicts = NULL;
	if (sch == NULL || (sch->type != SCH_OBJECT && sch->type != SCH_MAP))
		sch = &api_schema_any; /* objects merge even without a schema */
	if (!manager_ok(manager))
		return stsd_errf(err, errlen, STSD_INVALID,
		                 "fieldManager is required for apply (UTF-8 text)");
	if (live != NULL && !json_is_object(live))
		return stsd_errf(err, errlen, STSD_INVALID, "the live object is not an object");
	if ((rc = apply_prepare(&a, cfg, sch, err, errlen)) != 0)
		goto done;
	mf_parse(live ? mf_of(live) : NULL, &a.mf);
	self = mf_find(&a.mf, manager, true, NULL);
	if ((rc = apply_merge(&a, live, sch, self)) != 0) {
		stsd_errf(err, errlen, rc, "apply: out of memory");
		goto done;
	}
	if ((found = apply_conflicts(&a, manager, self)) == NULL) {
		rc = stsd_errf(err, errlen, STSD_NOMEM, "apply: out of memory");
		goto done;
	}
	if (json_array_size(found) > 0 && !force) {
		rc = stsd_errf(err, errlen, STSD_CONFLICT, "Apply failed with %zu conflict%s",
		               json_array_size(found), json_array_size(found) == 1 ? "" : "s");
		if (conflicts != NULL)
			*conflicts = found;
		else
			json_decref(found);
		goto done;
	}
	json_decref(found);
	if ((rc = apply_own(&a, manager, self)) != 0) {
		stsd_errf(err, errlen, rc, "apply: out of memory");
		goto done;
	}
	sync_last_applied(a.merged, cfg, manager);
	mf_store(a.merged, &a.mf, api_version, now);
	*out = a.merged;
	a.merged = NULL;
done:
	apply_free(&a);
	return rc;
}

/* ---- Update ---------------------------------------------------------------------------------- */

void api_managed_fields_update(const json_t *old, json_t *obj, const char *manager,
                               const struct api_schema *sch, const char *api_version,
                               const char *now)
{
	api_managed_fields_update_sub(old, obj, manager, NULL, sch, api_version, now);
}

void api_managed_fields_update_sub(const json_t *old, json_t *obj, const char *manager,
                                   const char *subresource, const struct api_schema *sch,
                                   const char *api_version, const char *now)
{
	struct mf_list l = {0};
	json_t *to, *tn, *changed = NULL, *removed = NULL, *d;
	const json_t *given;
	struct mf_entry *e;
	int self;

	if (!json_is_object(obj) || !manager_ok(manager))
		return;
	if (!json_is_object(old))
		old = NULL;
	/* The writer's own managedFields win when it sent some (that is how clients, kubectl's
	 * migration to server-side apply among them, edit ownership); else the stored ones stay
	 * (fieldmanager.go: a client that knows nothing of managedFields must not wipe them). */
	given = mf_of(obj);
	mf_parse(json_array_size(given) > 0 ? given : mf_of(old), &l);
	to = tracked(old);
	tn = tracked(obj);
	if (tn == NULL || (old && to == NULL) ||
	    api_fieldset_compare(to, tn, sch, &changed, &removed) != 0)
		goto done;
	self = mf_find(&l, manager, false, subresource);
	for (size_t i = 0; i < l.n; i++) {
		if ((int)i == self)
			continue;
		d = api_fieldset_difference(l.e[i].set, changed);
		mf_set(&l.e[i], d ? api_fieldset_difference(d, removed) : NULL);
		json_decref(d);
	}
	e = self >= 0 ? &l.e[self] : NULL;
	if (e == NULL && !api_fieldset_empty(changed))
		e = mf_add(&l, manager, false, subresource);
	if (e != NULL) {
		d = api_fieldset_union(e->set, changed);
		mf_set(e, d ? api_fieldset_difference(d, removed) : NULL);
		json_decref(d);
		e->touched = !api_fieldset_empty(changed) || !api_fieldset_empty(removed);
	}
	mf_store(obj, &l, api_version, now);
done:
	json_decref(to);
	json_decref(tn);
	json_decref(changed);
	json_decref(removed);
	mf_free(&l);
}
