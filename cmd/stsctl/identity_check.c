/* identity_check.c — replays a store's change log and checks that every StatefulSet identity had at
 * most one holder at a time (identity_check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "identity_check.h"

/* The replay: per identity key "ns/set/ordinal" an object {"holder": uid (absent: free),
 * "since": revision, "claimed": true once a claim change was seen}; the pods ADDED in the revision
 * being read, checked once it is complete (the pod and its claim are written by one command, in
 * either order). */
struct replay {
	struct idcheck_result *res;
	json_t *ids;
	json_t *pending; /* [{key, ns, set, ordinal, uid}] of revision `rev` */
	uint64_t rev;
	bool oom;
};

static void key_of(char *out, size_t len, const char *ns, const char *set, uint32_t ordinal)
{
	snprintf(out, len, "%s/%s/%u", ns ? ns : "", set ? set : "", ordinal);
}

/* The state of an identity, created (free) on first sight. */
static json_t *identity(struct replay *rp, const char *key)
{
	json_t *id = json_object_get(rp->ids, key);

	if (id == NULL) {
		id = json_object();
		if (id == NULL || json_object_set_new(rp->ids, key, id) != 0) {
			rp->oom = true;
			return NULL;
		}
		rp->res->identities++;
	}
	return id;
}

static const char *holder(const json_t *id)
{
	return json_string_value(json_object_get(id, "holder"));
}

static void violation(struct replay *rp, uint64_t rev, const char *kind, const char *ns,
                      const char *set, uint32_t ordinal, const char *uid, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void violation(struct replay *rp, uint64_t rev, const char *kind, const char *ns,
                      const char *set, uint32_t ordinal, const char *uid, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (json_array_append_new(
	        rp->res->violations,
	        json_pack("{s:I,s:s,s:s,s:s,s:i,s:s,s:s}", "revision", (json_int_t)rev, "kind",
	                  kind, "namespace", ns ? ns : "", "set", set ? set : "", "ordinal",
	                  (int)ordinal, "podUID", uid ? uid : "", "message", msg)) != 0)
		rp->oom = true;
}

static void set_holder(struct replay *rp, json_t *id, const char *uid, uint64_t rev)
{
	if (json_object_set_new(id, "holder", json_string(uid ? uid : "")) != 0 ||
	    json_object_set_new(id, "since", json_integer((json_int_t)rev)) != 0)
		rp->oom = true;
}

static void claim_change(struct replay *rp, const struct store_change *c)
{
	const char *uid = c->claim.pod_uid ? c->claim.pod_uid : "", *cur;
	char key[3 * STORE_NAME_MAX];
	json_t *id;
	bool seen;

	key_of(key, sizeof key, c->ns, c->name, c->ordinal);
	if ((id = identity(rp, key)) == NULL)
		return;
	seen = json_is_true(json_object_get(id, "claimed"));
	if (json_object_set_new(id, "claimed", json_true()) != 0)
		rp->oom = true;
	cur = holder(id);
	switch (c->type) {
	case STORE_ADDED:
		rp->res->holders++;
		if (cur != NULL)
			violation(rp, c->revision, "double-acquire", c->ns, c->name, c->ordinal,
			          uid,
			          "claim acquired by pod uid %s while pod uid %s held it (since "
			          "revision %lld, never released)",
			          uid, cur, json_integer_value(json_object_get(id, "since")));
		set_holder(rp, id, uid, c->revision);
		break;
	case STORE_MODIFIED:
		/* First sight of a claim acquired before the log starts: its holder is this uid. */
		if (cur == NULL && !seen) {
			set_holder(rp, id, uid, c->revision);
			break;
		}
		if (cur == NULL || strcmp(cur, uid) != 0)
			violation(
			    rp, c->revision, "holder-switch", c->ns, c->name, c->ordinal, uid,
			    "claim changed to pod uid %s while %s%s held it, without a release",
			    uid, cur ? "pod uid " : "", cur ? cur : "nobody");
		if (cur == NULL || strcmp(cur, uid) != 0)
			set_holder(rp, id, uid, c->revision);
		break;
	case STORE_DELETED:
		if (cur != NULL && strcmp(cur, uid) != 0)
			violation(rp, c->revision, "foreign-release", c->ns, c->name, c->ordinal,
			          uid,
			          "claim released as held by pod uid %s, but pod uid %s held it",
			          uid, cur);
		json_object_del(id, "holder");
		break;
	}
}

/* The set and ordinal of a pod of a StatefulSet: its controller ownerRef is a StatefulSet and
 * its name is <set>-<canonical decimal ordinal>. False for any other pod. */
static bool pod_identity(const json_t *pod, const char **set, uint32_t *ordinal)
{
	const json_t *meta = json_object_get(pod, "metadata"), *r, *ref = NULL;
	const char *name = json_string_value(json_object_get(meta, "name")), *p;
	size_t i, n;
	uint64_t ord = 0;

	/* After a loop without a match json_array_foreach leaves the last entry in its variable:
	 * the match is kept apart. */
	json_array_foreach(json_object_get(meta, "ownerReferences"), i, r)
	{
		const char *kind = json_string_value(json_object_get(r, "kind"));
		if (json_is_true(json_object_get(r, "controller")) && kind != NULL &&
		    strcmp(kind, "StatefulSet") == 0) {
			ref = r;
			break;
		}
	}
	if (ref == NULL || name == NULL ||
	    (*set = json_string_value(json_object_get(ref, "name"))) == NULL)
		return false;
	n = strlen(*set);
	if (strncmp(name, *set, n) != 0 || name[n] != '-' || name[n + 1] == '\0' ||
	    (name[n + 1] == '0' && name[n + 2] != '\0'))
		return false;
	for (p = name + n + 1; *p; p++) {
		if (*p < '0' || *p > '9' || (ord = ord * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return false;
	}
	*ordinal = (uint32_t)ord;
	return true;
}

static void pod_added(struct replay *rp, const struct store_change *c)
{
	json_t *pod = json_loadb(c->json, c->json_len, 0, NULL);
	const char *set, *uid;
	uint32_t ordinal;
	char key[3 * STORE_NAME_MAX];

	if (pod != NULL && pod_identity(pod, &set, &ordinal)) {
		uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
		key_of(key, sizeof key, c->ns, set, ordinal);
		if (identity(rp, key) == NULL ||
		    json_array_append_new(rp->pending,
		                          json_pack("{s:s,s:s,s:s,s:i,s:s}", "key", key, "ns",
		                                    c->ns ? c->ns : "", "set", set, "ordinal",
		                                    (int)ordinal, "uid", uid ? uid : "")) != 0)
			rp->oom = true;
	}
	json_decref(pod);
}

/* The pods ADDED in revision rp->rev, against the claims as that revision left them. */
static void check_pending(struct replay *rp)
{
	size_t i;
	json_t *p;

	json_array_foreach(rp->pending, i, p)
	{
		const char *key = json_string_value(json_object_get(p, "key"));
		const char *uid = json_string_value(json_object_get(p, "uid"));
		const char *cur = holder(json_object_get(rp->ids, key));

		if (cur == NULL || strcmp(cur, uid) != 0)
			violation(rp, rp->rev, "pod-without-claim",
			          json_string_value(json_object_get(p, "ns")),
			          json_string_value(json_object_get(p, "set")),
			          (uint32_t)json_integer_value(json_object_get(p, "ordinal")), uid,
			          "pod uid %s added while %s%s held the claim", uid,
			          cur ? "pod uid " : "", cur ? cur : "nobody");
	}
	json_array_clear(rp->pending);
}

static int on_change(void *ud, const struct store_change *c)
{
	struct replay *rp = ud;

	if (c->revision != rp->rev) {
		check_pending(rp);
		rp->rev = c->revision;
	}
	if (rp->res->first_revision == 0)
		rp->res->first_revision = c->revision;
	rp->res->last_revision = c->revision;
	rp->res->changes++;
	if (c->is_claim)
		claim_change(rp, c);
	else if (c->type == STORE_ADDED && c->resource != NULL && strcmp(c->resource, "pods") == 0)
		pod_added(rp, c);
	return rp->oom ? STSD_NOMEM : 0;
}

int idcheck_run(struct store_reader *r, struct idcheck_result *out)
{
	struct replay rp = {.res = out, .ids = json_object(), .pending = json_array()};
	int rv = STSD_NOMEM;

	*out = (struct idcheck_result){.violations = json_array()};
	if (rp.ids != NULL && rp.pending != NULL && out->violations != NULL) {
		out->compacted = store_reader_compacted(r);
		rv = store_changes(r, out->compacted, 0, on_change, &rp);
		check_pending(&rp);
		if (rv == STSD_OK && rp.oom)
			rv = STSD_NOMEM;
	}
	json_decref(rp.ids);
	json_decref(rp.pending);
	return rv;
}

void idcheck_result_free(struct idcheck_result *res)
{
	json_decref(res->violations);
	*res = (struct idcheck_result){0};
}

json_t *idcheck_result_json(const struct idcheck_result *res)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:O}", "identities", (json_int_t)res->identities,
	                 "holders", (json_int_t)res->holders, "changes", (json_int_t)res->changes,
	                 "firstRevision", (json_int_t)res->first_revision, "lastRevision",
	                 (json_int_t)res->last_revision, "compactedRevision",
	                 (json_int_t)res->compacted, "violations", res->violations);
}

void idcheck_print_text(const struct idcheck_result *res, FILE *out)
{
	size_t i, n = json_array_size(res->violations);
	json_t *v;

	json_array_foreach(res->violations, i, v)
	{
		fprintf(out, "violation revision=%lld identity=%s/%s/%lld kind=%s: %s\n",
		        json_integer_value(json_object_get(v, "revision")),
		        json_string_value(json_object_get(v, "namespace")),
		        json_string_value(json_object_get(v, "set")),
		        json_integer_value(json_object_get(v, "ordinal")),
		        json_string_value(json_object_get(v, "kind")),
		        json_string_value(json_object_get(v, "message")));
	}
	fprintf(out,
	        "identities=%llu holders=%llu changes=%llu revisions=%llu..%llu "
	        "compacted=%llu violations=%zu\n",
	        (unsigned long long)res->identities, (unsigned long long)res->holders,
	        (unsigned long long)res->changes, (unsigned long long)res->first_revision,
	        (unsigned long long)res->last_revision, (unsigned long long)res->compacted, n);
}
