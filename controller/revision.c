/* revision.c — StatefulSet revision history: hashing, creation, rollback and truncation of
 * ControllerRevisions, as upstream apps/v1 does it.
 *
 * Upstream read (kubernetes/kubernetes, master):
 * - pkg/controller/history/controller_history.go: HashControllerRevision (FNV-1 32, not 1a, over
 *   Data.Raw, then the decimal collision count; rand.SafeEncodeString of the decimal sum),
 *   ControllerRevisionName (prefix truncated to 223), NewControllerRevision (labels = template
 *   labels + controller.kubernetes.io/hash, controller ownerRef), CreateControllerRevision
 *   (AlreadyExists with other data -> collisionCount++ and retry), SortControllerRevisions
 *   (revision, then creationTimestamp, then name).
 * - pkg/controller/statefulset/stateful_set_utils.go: getPatch (data is
 *   {"spec":{"template":{...,"$patch":"replace"}}}), newRevision (also copies the set's
 *   annotations), nextRevision (max + 1, or 1), ApplyRevision.
 * - pkg/controller/statefulset/stateful_set_control.go: getStatefulSetRevisions (equal to the
 *   newest -> reuse; equal to an older one -> renumber it to max+1; else create) and
 *   truncateHistory (live = current, update, every pod's revision; delete the oldest others
 *   beyond revisionHistoryLimit; a negative limit deletes nothing).
 *
 * Where we differ: upstream hashes the bytes its JSON encoder happens to produce and once rolled
 * every StatefulSet when that changed (kubernetes #134773). We hash a canonical serialization
 * (see canonical bytes below) pinned by golden values in tests/controller/test_revision.c.
 * Equality of revisions compares the data as JSON values (json_equal), so the key order a stored
 * revision comes back in does not matter. */
#include "revision.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"

#define HASH_LABEL            "controller.kubernetes.io/hash"
#define POD_REVISION_LABEL    "controller-revision-hash"
#define NAME_PREFIX_MAX       223 /* 253 - '-' - room for the hash, as upstream */
#define HISTORY_LIMIT_DEFAULT 10

/* FNV-1 (multiply, then xor: not FNV-1a), 32-bit, as Go's hash/fnv New32. */
#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME  16777619u

/* rand.SafeEncodeString's alphabet: no vowels, so hashes never spell words. */
static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint32_t fnv1_32(uint32_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h *= FNV32_PRIME;
		h ^= p[i];
	}
	return h;
}

static int fnv_sink(const char *buf, size_t size, void *data)
{
	uint32_t *h = data;

	*h = fnv1_32(*h, buf, size);
	return 0;
}

/* The canonical bytes that are hashed, fixed forever (changing them renames every revision and
 * rolls every StatefulSet, as kubernetes #134773 did upstream):
 *
 *   jansson's json_dumps(data, JSON_SORT_KEYS | JSON_COMPACT), streamed, no trailing newline:
 *   - object keys sorted bytewise at every level, "," and ":" with no spaces;
 *   - strings as UTF-8, not \u-escaped; '"' '\\' escaped; \b \f \n \r \t for those controls and
 *     \u00XX (upper-case hex) for the other controls below 0x20; '/' not escaped;
 *   - integers in decimal; reals as "%.17g" with ".0" appended when that has no '.' or exponent
 *     (0.1 -> 0.10000000000000001, 1.0 -> 1.0, 1e20 -> 1e20);
 *   - true/false/null as literals.
 *   Then the collision count in decimal ("0", "1", ...), as upstream's FormatInt.
 *
 * For the data of a template {"metadata":{"labels":{"app":"web"}},"spec":{...}} the bytes are
 *   {"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}},"spec":{...}}}}0
 * The test pins the bytes and hashes of several inputs (unicode, escapes, reals), so a jansson
 * upgrade that changes any of this fails the tests instead of silently renaming revisions. */
static int revision_hash(const json_t *data, int64_t collision_count, char out[16])
{
	uint32_t h = FNV32_OFFSET;
	char num[32];
	int n;

	out[0] = '\0';
	if (data != NULL &&
	    json_dump_callback(data, fnv_sink, &h, JSON_SORT_KEYS | JSON_COMPACT) != 0)
		return STSD_NOMEM; /* the only failure of a valid value: a sort array */
	n = snprintf(num, sizeof num, "%" PRId64, collision_count);
	h = fnv1_32(h, num, (size_t)n);
	n = snprintf(num, sizeof num, "%" PRIu32, h);
	for (int i = 0; i < n; i++)
		out[i] = safe_alphabet[(unsigned char)num[i] % (sizeof safe_alphabet - 1)];
	out[n] = '\0';
	return STSD_OK;
}

void ctl_revision_hash(const json_t *data, int64_t collision_count, char out[16])
{
	/* On out of memory out is "" (never a wrong hash); the planner uses the checked form. */
	(void)revision_hash(data, collision_count, out);
}

json_t *ctl_revision_data(const json_t *set)
{
	const json_t *tpl = json_object_get(json_object_get(set, "spec"), "template");
	json_t *t, *spec, *data;

	if (!json_is_object(tpl))
		return NULL;
	t = json_deep_copy(tpl);
	spec = json_object();
	data = json_object();
	if (t == NULL || spec == NULL || data == NULL ||
	    json_object_set_new(t, "$patch", json_string("replace")) != 0 ||
	    json_object_set(spec, "template", t) != 0 || json_object_set(data, "spec", spec) != 0) {
		json_decref(data);
		data = NULL;
	}
	json_decref(t);
	json_decref(spec);
	return data;
}

/* The pod template a revision's data restores (ApplyRevision with "$patch":"replace" replaces the
 * whole template): data.spec.template without the directive. New reference, NULL if data holds
 * no template or on out of memory. */
static json_t *template_of(const json_t *data)
{
	const json_t *tpl = json_object_get(json_object_get(data, "spec"), "template");
	json_t *t;

	if (!json_is_object(tpl))
		return NULL;
	t = json_deep_copy(tpl);
	if (t != NULL)
		json_object_del(t, "$patch");
	return t;
}

static const char *name_of(const json_t *obj)
{
	return ctl_str(obj, "metadata.name");
}

/* SortControllerRevisions: by .revision, then creationTimestamp (RFC 3339 strings of one format
 * compare as text), then name. */
static int cmp_revisions(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	int64_t ra = ctl_int(a, "revision", 0), rb = ctl_int(b, "revision", 0);
	const char *ta = ctl_str(a, "metadata.creationTimestamp");
	const char *tb = ctl_str(b, "metadata.creationTimestamp");
	int c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	c = strcmp(ta ? ta : "", tb ? tb : "");
	return c ? c : strcmp(name_of(a), name_of(b));
}

/* Everything one planning pass works with. */
struct rev_ctx {
	const json_t *set;
	const char *ns, *set_name;
	json_t *data;          /* the update revision's data */
	const json_t **sorted; /* revisions with a name, oldest first */
	size_t n;
	const json_t *update; /* the existing update revision, if reused or renumbered */
};

static const json_t *find_named(const struct rev_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(name_of(c->sorted[i]), name) == 0)
			return c->sorted[i];
	return NULL;
}

/* The new ControllerRevision object for the update revision (NewControllerRevision and
 * newRevision). New reference or NULL on out of memory. */
static json_t *new_revision_obj(const struct rev_ctx *c, const char *name, const char *hash,
                                int64_t number)
{
	const json_t *tlabels = json_object_get(
	    json_object_get(json_object_get(json_object_get(c->set, "spec"), "template"),
	                    "metadata"),
	    "labels");
	const json_t *annotations =
	    json_object_get(json_object_get(c->set, "metadata"), "annotations");
	json_t *labels = json_is_object(tlabels) ? json_deep_copy(tlabels) : json_object();
	json_t *meta, *obj;

	if (labels == NULL || json_object_set_new(labels, HASH_LABEL, json_string(hash)) != 0) {
		json_decref(labels);
		return NULL;
	}
	meta = json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]}", "name", name,
	                 "namespace", c->ns, "labels", labels, "ownerReferences", "apiVersion",
	                 "apps/v1", "kind", "StatefulSet", "name", c->set_name, "uid",
	                 ctl_str(c->set, "metadata.uid"), "controller", 1, "blockOwnerDeletion", 1);
	if (meta == NULL)
		return NULL;
	/* Upstream copies the set's annotations (kubectl rollout history reads change-cause). */
	if (json_is_object(annotations) &&
	    json_object_set_new(meta, "annotations", json_deep_copy(annotations)) != 0) {
		json_decref(meta);
		return NULL;
	}
	obj = json_pack("{s:s, s:s, s:o, s:O, s:I}", "apiVersion", "apps/v1", "kind",
	                "ControllerRevision", "metadata", meta, "data", c->data, "revision",
	                (json_int_t)number);
	return obj;
}

/* The number after the newest revision's, or -1 when that one is already the largest there is
 * (a hand-written ControllerRevision can hold any int64: never overflow). */
static int64_t next_number(const struct rev_ctx *c)
{
	int64_t last = ctl_int(c->sorted[c->n - 1], "revision", 0);

	return last < 0 ? 1 : last == INT64_MAX ? -1 : last + 1;
}

/* No revision holds the data: create one, bumping the collision count while the name is taken
 * by a revision with other data (CreateControllerRevision's retry, decided here from the
 * snapshot instead of by failing creates). */
static int plan_create(struct rev_ctx *c, struct ctl_plan *plan, struct ctl_revisions *out)
{
	char hash[16];
	char name[254];
	int64_t number = c->n ? next_number(c) : 1;
	json_t *obj;
	int rc;

	if (number < 0)
		return STSD_INVALID;
	/* Each bump moves past one taken name, so at most n + 1 tries. */
	for (size_t tries = 0;; tries++) {
		rc = revision_hash(c->data, out->collision_count, hash);
		if (rc != STSD_OK)
			return rc;
		snprintf(name, sizeof name, "%.*s-%s", NAME_PREFIX_MAX, c->set_name, hash);
		if (find_named(c, name) == NULL || tries > c->n)
			break;
		log_warn("controller",
		         "event=revision_collision set=%s/%s name=%s collision_count=%" PRId64,
		         c->ns, c->set_name, name, out->collision_count + 1);
		out->collision_count++;
	}
	obj = new_revision_obj(c, name, hash, number);
	if (obj == NULL ||
	    ctl_plan_add(plan, CTL_CREATE, "controllerrevisions", c->ns, name, obj) == NULL)
		return STSD_NOMEM;
	snprintf(out->update, sizeof out->update, "%s", name);
	out->update_number = number;
	return STSD_OK;
}

/* Choose the update revision: reuse the newest if equal, renumber an older equal one to max+1
 * (rollback: UpdateControllerRevision), else create. */
static int plan_update(struct rev_ctx *c, struct ctl_plan *plan, struct ctl_revisions *out)
{
	size_t i = c->n;
	int64_t next;
	json_t *obj;
	struct ctl_action *a;

	while (i > 0 && !json_equal(json_object_get(c->sorted[i - 1], "data"), c->data))
		i--;
	if (i == 0)
		return plan_create(c, plan, out);
	c->update = c->sorted[i - 1];
	snprintf(out->update, sizeof out->update, "%s", name_of(c->update));
	out->update_number = ctl_int(c->update, "revision", 0);
	if (i == c->n)
		return STSD_OK;
	if ((next = next_number(c)) < 0)
		return STSD_INVALID;
	obj = json_deep_copy(c->update);
	if (obj == NULL || json_object_set_new(obj, "revision", json_integer(next)) != 0) {
		json_decref(obj);
		return STSD_NOMEM;
	}
	a = ctl_plan_add(plan, CTL_UPDATE, "controllerrevisions", c->ns, out->update, obj);
	if (a == NULL)
		return STSD_NOMEM;
	a->expect_rv = ctl_rv(c->update);
	out->update_number = next;
	return STSD_OK;
}

/* currentRevision = status.currentRevision when such a revision exists (and holds a template),
 * else the update revision; then copies of both templates. */
static int pick_current(struct rev_ctx *c, struct ctl_revisions *out)
{
	const char *want = ctl_str(c->set, "status.currentRevision");
	const json_t *cur = want && *want ? find_named(c, want) : NULL;

	out->update_template = template_of(c->data);
	if (out->update_template == NULL)
		return STSD_NOMEM;
	if (cur != NULL && cur != c->update) {
		const json_t *cdata = json_object_get(cur, "data");
		bool restorable =
		    json_is_object(json_object_get(json_object_get(cdata, "spec"), "template"));

		out->current_template = restorable ? template_of(cdata) : NULL;
		if (restorable && out->current_template == NULL)
			return STSD_NOMEM;
		if (!restorable) {
			/* A revision without a template cannot be restored; rather than stall the
			 * set forever, treat it as absent (upstream would fail every sync in
			 * ApplyRevision). */
			log_warn("controller", "event=revision_unusable set=%s/%s name=%s", c->ns,
			         c->set_name, want);
			cur = NULL;
		}
	}
	if (cur == NULL || cur == c->update) {
		snprintf(out->current, sizeof out->current, "%s", out->update);
		out->current_template = json_deep_copy(out->update_template);
		return out->current_template ? STSD_OK : STSD_NOMEM;
	}
	snprintf(out->current, sizeof out->current, "%s", want);
	return STSD_OK;
}

static bool is_live(const char *name, const struct ctl_revisions *out, const json_t *const *pods,
                    size_t n_pods)
{
	if (strcmp(name, out->current) == 0 || strcmp(name, out->update) == 0)
		return true;
	for (size_t i = 0; i < n_pods; i++) {
		const json_t *labels =
		    json_object_get(json_object_get(pods[i], "metadata"), "labels");
		const char *rev = json_string_value(json_object_get(labels, POD_REVISION_LABEL));
		if (rev != NULL && strcmp(rev, name) == 0)
			return true;
	}
	return false;
}

/* truncateHistory: delete the oldest non-live revisions until at most revisionHistoryLimit
 * remain. */
static int plan_truncate(const struct rev_ctx *c, const json_t *const *pods, size_t n_pods,
                         struct ctl_plan *plan, const struct ctl_revisions *out)
{
	int64_t limit = ctl_int(c->set, "spec.revisionHistoryLimit", HISTORY_LIMIT_DEFAULT);
	size_t history = 0, excess;

	if (limit < 0)
		return STSD_OK;
	for (size_t i = 0; i < c->n; i++)
		history += !is_live(name_of(c->sorted[i]), out, pods, n_pods);
	if (history <= (uint64_t)limit)
		return STSD_OK;
	excess = history - (size_t)limit;
	for (size_t i = 0; i < c->n && excess > 0; i++) {
		const json_t *r = c->sorted[i];
		struct ctl_action *a;

		if (is_live(name_of(r), out, pods, n_pods))
			continue;
		a = ctl_plan_add(plan, CTL_DELETE, "controllerrevisions", c->ns, name_of(r), NULL);
		if (a == NULL)
			return STSD_NOMEM;
		a->expect_rv = ctl_rv(r);
		excess--;
	}
	return STSD_OK;
}

static int plan_all(struct rev_ctx *c, const json_t *const *pods, size_t n_pods,
                    struct ctl_plan *plan, struct ctl_revisions *out)
{
	int rc = plan_update(c, plan, out);

	if (rc == STSD_OK)
		rc = pick_current(c, out);
	if (rc == STSD_OK)
		rc = plan_truncate(c, pods, n_pods, plan, out);
	return rc;
}

int ctl_revisions_plan(const json_t *set, const json_t *const *revs, size_t n_revs,
                       const json_t *const *pods, size_t n_pods, struct ctl_plan *plan,
                       struct ctl_revisions *out)
{
	struct rev_ctx c = {.set = set};
	const char *ns = ctl_str(set, "metadata.namespace");
	int rc;

	memset(out, 0, sizeof *out);
	c.set_name = ctl_str(set, "metadata.name");
	c.ns = ns ? ns : "";
	if (c.set_name == NULL || *c.set_name == '\0' || ctl_str(set, "metadata.uid") == NULL)
		return STSD_INVALID; /* no name for the revisions or no uid for their ownerRef */
	c.data = ctl_revision_data(set);
	if (c.data == NULL)
		return json_is_object(json_object_get(json_object_get(set, "spec"), "template"))
		           ? STSD_NOMEM
		           : STSD_INVALID;
	/* int32 as upstream's type; the bumps below stay far from overflow. */
	out->collision_count = ctl_int(set, "status.collisionCount", 0);
	if (out->collision_count < 0 || out->collision_count > INT32_MAX)
		out->collision_count = 0;
	c.sorted = malloc((n_revs ? n_revs : 1) * sizeof *c.sorted);
	if (c.sorted == NULL) {
		json_decref(c.data);
		return STSD_NOMEM;
	}
	for (size_t i = 0; i < n_revs; i++)
		if (name_of(revs[i]) != NULL) /* a nameless revision cannot be addressed: skip it */
			c.sorted[c.n++] = revs[i];
	qsort(c.sorted, c.n, sizeof *c.sorted, cmp_revisions);
	rc = plan_all(&c, pods, n_pods, plan, out);
	free(c.sorted);
	json_decref(c.data);
	if (rc == STSD_OK && plan->oom)
		rc = STSD_NOMEM;
	if (rc == STSD_NOMEM)
		plan->oom = true; /* never execute a plan an allocation failure cut short */
	if (rc != STSD_OK)
		ctl_revisions_free(out);
	return rc;
}

void ctl_revisions_free(struct ctl_revisions *r)
{
	json_decref(r->current_template);
	json_decref(r->update_template);
	r->current_template = NULL;
	r->update_template = NULL;
}
