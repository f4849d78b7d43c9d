/* exec_feed.c — the controller's informer: the store's change log since the last feed, read on
 * the thread pool, turned into the keys whose sync it may change. Upstream's controllers learn
 * the same from watches through shared informers; here the log is local and totally ordered.
 *
 * What wakes what: a StatefulSet its own key; a pod, ControllerRevision or PVC the key of its
 * controlling set (an orphan pod the set its name would belong to: adoption); a claim its set; a
 * Node its node key; a Lease in kube-node-lease a renewal of its node (the loop notes the time);
 * a deleted set its dependents (garbage collection); a deleted pod the PVCs it mounted (they may
 * be owned by it: whenScaled Delete); a deleted PVC the PV it was bound to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "exec_internal.h"
#include "log.h"

int strlist_add(char ***list, size_t *n, size_t *cap, const char *s)
{
	char *copy;

	if (*n > 0 && strcmp((*list)[*n - 1], s) == 0)
		return STSD_OK; /* the same key twice in a row (a burst on one set) */
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		char **l = realloc(*list, c * sizeof *l);
		if (l == NULL)
			return STSD_NOMEM;
		*list = l;
		*cap = c;
	}
	if ((copy = strdup(s)) == NULL)
		return STSD_NOMEM;
	(*list)[(*n)++] = copy;
	return STSD_OK;
}

int strlist_addv(char ***list, size_t *n, size_t *cap, const char *fmt, va_list ap)
{
	char k[KEY_MAX];

	vsnprintf(k, sizeof k, fmt, ap);
	return strlist_add(list, n, cap, k);
}

static void key(struct feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void key(struct feed *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strlist_addv(&f->keys, &f->n_keys, &f->cap_keys, fmt, ap);
	va_end(ap);
}

const json_t *ctl_controller_ref(const json_t *obj)
{
	const json_t *ref;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
	                   ref) if (json_is_true(json_object_get(ref, "controller"))) return ref;
	return NULL;
}

json_t *ctl_parse(const struct store_object *o)
{
	json_t *v = json_loadb(o->json, o->json_len, 0, NULL);

	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

bool ctl_pod_claim_key(const char *name, char *set, size_t len, uint32_t *ordinal)
{
	const char *dash = name ? strrchr(name, '-') : NULL, *p;
	uint64_t v = 0;

	if (dash == NULL || dash == name || dash[1] == '\0' || (size_t)(dash - name) >= len ||
	    (dash[1] == '0' && dash[2] != '\0'))
		return false;
	for (p = dash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return false;
	}
	memcpy(set, name, (size_t)(dash - name));
	set[dash - name] = '\0';
	*ordinal = (uint32_t)v;
	return true;
}

/* The set an object belongs to. A pod's change wakes it "soon" ('~': after FEED_COALESCE_MS):
 * the pods of a set change in bursts (ten Running, then ten Ready), and one sync after the burst
 * writes the set's status once instead of ten times. */
static void owner_key(struct feed *f, const struct store_change *c, const json_t *obj)
{
	const json_t *ref = ctl_controller_ref(obj);
	const char *kind = ref ? ctl_str(ref, "kind") : NULL,
	           *owner = ref ? ctl_str(ref, "name") : NULL;
	const char *soon = strcmp(c->resource, "pods") == 0 ? "~" : "";
	char set[254];
	uint32_t ordinal;

	if (kind && owner && strcmp(kind, "StatefulSet") == 0)
		key(f, "%ss\t%s\t%s", soon, c->ns, owner);
	else if (ref == NULL && *soon && ctl_pod_claim_key(c->name, set, sizeof set, &ordinal))
		key(f, "~s\t%s\t%s", c->ns, set);
}

/* Objects of resource in ns named prefix* whose ownerReferences name uid: keys to collect. */
struct dep_scan {
	struct feed *f;
	const char *resource, *uid;
};

static bool owned_by(const json_t *obj, const char *uid)
{
	const json_t *ref;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
	                   ref)
	{
		const char *u = ctl_str(ref, "uid");
		if (u && strcmp(u, uid) == 0)
			return true;
	}
	return false;
}

static int dep_item(void *ud, const struct store_object *o)
{
	struct dep_scan *d = ud;
	json_t *obj;

	if (!memmem(o->json, o->json_len, d->uid, strlen(d->uid)))
		return STORE_SKIP;
	if ((obj = ctl_parse(o)) != NULL && owned_by(obj, d->uid))
		key(d->f, "g\t%s\t%s\t%s", d->resource, o->ns, o->name);
	json_decref(obj);
	return STSD_OK;
}

static void scan_dependents(struct store_reader *rd, struct feed *f, const char *resource,
                            const char *ns, const char *prefix, const char *uid)
{
	struct dep_scan d = {f, resource, uid};
	struct store_list_request req = {.resource = resource, .ns = ns, .name_prefix = prefix};
	struct store_list_page page;

	if (store_list(rd, &req, dep_item, &d, &page) != STSD_OK)
		log_warn("controller", "event=gc_scan_failed resource=%s ns=%s prefix=%s", resource,
		         ns, prefix);
}

/* A StatefulSet is gone: its pods and revisions (named <set>-...), and the PVCs of its claim
 * templates (<template>-<set>-...), whichever name its uid as owner. */
static void set_deleted(struct store_reader *rd, struct feed *f, const struct store_change *c,
                        const json_t *set)
{
	const char *uid = ctl_str(set, "metadata.uid");
	const json_t *t;
	char prefix[520], ns[254], name[254];
	size_t i;

	if (uid == NULL)
		return;
	/* The change's strings live in the feed reader; the scans use a reader of their own. */
	snprintf(ns, sizeof ns, "%s", c->ns);
	snprintf(name, sizeof name, "%s", c->name);
	snprintf(prefix, sizeof prefix, "%s-", name);
	scan_dependents(rd, f, "pods", ns, prefix, uid);
	scan_dependents(rd, f, "controllerrevisions", ns, prefix, uid);
	json_array_foreach(json_object_get(json_object_get(set, "spec"), "volumeClaimTemplates"), i,
	                   t)
	{
		const char *tn = ctl_str(t, "metadata.name");
		if (tn == NULL)
			continue;
		snprintf(prefix, sizeof prefix, "%s-%s-", tn, name);
		scan_dependents(rd, f, "persistentvolumeclaims", ns, prefix, uid);
	}
}

static void pod_deleted(struct feed *f, const struct store_change *c, const json_t *pod)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, v)
	{
		const char *claim = ctl_str(v, "persistentVolumeClaim.claimName");
		if (claim)
			key(f, "g\tpersistentvolumeclaims\t%s\t%s", c->ns, claim);
	}
	f->sched_stale = true;
}

static void object_change(struct store_reader *rd, struct feed *f, const struct store_change *c)
{
	const char *r = c->resource;
	bool deleted = c->type == STORE_DELETED;
	json_t *obj;

	if (strcmp(r, "leases") == 0) {
		if (strcmp(c->ns, "kube-node-lease") == 0 && !deleted) {
			strlist_add(&f->renewed, &f->n_renewed, &f->cap_renewed, c->name);
		}
		return;
	}
	if (strcmp(r, "nodes") == 0) {
		key(f, "n\t%s", c->name);
		f->sched_stale = true;
		return;
	}
	if (strcmp(r, "persistentvolumes") == 0) {
		key(f, "v\t%s", c->name);
		return;
	}
	if (strcmp(r, "statefulsets") != 0 && strcmp(r, "pods") != 0 &&
	    strcmp(r, "controllerrevisions") != 0 && strcmp(r, "persistentvolumeclaims") != 0)
		return;
	if ((obj = json_loadb(c->json, c->json_len, 0, NULL)) == NULL)
		return;
	if (strcmp(r, "statefulsets") == 0) {
		key(f, "s\t%s\t%s", c->ns, c->name);
		if (deleted)
			set_deleted(rd, f, c, obj);
	} else {
		owner_key(f, c, obj);
		if (deleted && strcmp(r, "pods") == 0)
			pod_deleted(f, c, obj);
		if (deleted && strcmp(r, "persistentvolumeclaims") == 0 &&
		    ctl_str(obj, "spec.volumeName"))
			key(f, "v\t%s", ctl_str(obj, "spec.volumeName"));
	}
	json_decref(obj);
}

struct feed_ctx {
	struct store_reader *rd; /* for scans: not the one the change log is read through */
	struct feed *f;
};

static int change(void *ud, const struct store_change *c)
{
	struct feed_ctx *x = ud;

	x->f->reached = c->revision;
	if (c->is_claim)
		key(x->f, "s\t%s\t%s", c->ns, c->name);
	else
		object_change(x->rd, x->f, c);
	return STSD_OK;
}

void feed_run(const struct ctl_shared *sh, struct feed *f)
{
	struct feed_ctx x = {.f = f};
	struct store_reader *log;
	int rv;

	f->reached = f->after;
	if (store_read_begin(sh->store, &log) != STSD_OK)
		return;
	if (store_read_begin(sh->store, &x.rd) != STSD_OK) {
		store_read_end(log);
		return;
	}
	/* No limit: a limit could cut a revision's changes in two. The log holds what the watch
	 * history keeps (minutes), read once. */
	rv = store_changes(log, f->after, 0, change, &x);
	if (rv == STSD_EXPIRED)
		f->expired = true;
	else if (rv == STSD_OK)
		f->reached = store_reader_applied_index(log);
	store_read_end(x.rd);
	store_read_end(log);
}

void feed_release(struct feed *f)
{
	for (size_t i = 0; i < f->n_keys; i++)
		free(f->keys[i]);
	for (size_t i = 0; i < f->n_renewed; i++)
		free(f->renewed[i]);
	free(f->keys);
	free(f->renewed);
	memset(f, 0, sizeof *f);
}
