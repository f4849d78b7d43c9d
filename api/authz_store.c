/* authz_store.c — the node authorizer's graph (which pods a node runs, what they use, which
 * force-deleted pods it may still confirm) answered from one read view of the local store: pods
 * through the pods-by-node index, references from each pod's spec, claims by their key. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "errors.h"
#include "log.h"
#include "store.h"

/* A callback's "found it, stop": outside the error codes' range. */
#define WALK_FOUND 0x600d

/* Where a pod spec names objects of one resource. NULL: no such place for this resource. */
struct pod_refs {
	const char *resource;
	const char *volume; /* volumes[].<volume>.<volume_field> */
	const char *volume_field;
	const char *projected; /* volumes[].projected.sources[].<projected>.name */
	const char *env;       /* containers[].env[].valueFrom.<env>.name */
	const char *env_from;  /* containers[].envFrom[].<env_from>.name */
	bool pull_secrets;     /* imagePullSecrets[].name */
};

static const struct pod_refs pod_refs[] = {
    {"secrets", "secret", "secretName", "secret", "secretKeyRef", "secretRef", true},
    {"configmaps", "configMap", "name", "configMap", "configMapKeyRef", "configMapRef", false},
    {"persistentvolumeclaims", "persistentVolumeClaim", "claimName", NULL, NULL, NULL, false},
};

static const char *const container_lists[] = {"containers", "initContainers",
                                              "ephemeralContainers"};

/* obj.k1.k2 (k2 NULL: obj.k1) is the string want. */
static bool str_is(const json_t *obj, const char *k1, const char *k2, const char *want)
{
	const json_t *v = json_object_get(obj, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static bool volumes_use(const json_t *spec, const struct pod_refs *r, const char *name)
{
	const json_t *vol, *src;
	size_t i, j;

	json_array_foreach(json_object_get(spec, "volumes"), i, vol)
	{
		if (str_is(json_object_get(vol, r->volume), r->volume_field, NULL, name))
			return true;
		if (r->projected == NULL)
			continue;
		json_array_foreach(json_object_get(json_object_get(vol, "projected"), "sources"), j,
		                   src)
		{
			if (str_is(src, r->projected, "name", name))
				return true;
		}
	}
	return false;
}

static bool containers_use(const json_t *spec, const struct pod_refs *r, const char *name)
{
	const json_t *ctr, *item;
	size_t k, i, j;

	if (r->env == NULL)
		return false;
	for (k = 0; k < sizeof container_lists / sizeof container_lists[0]; k++) {
		json_array_foreach(json_object_get(spec, container_lists[k]), i, ctr)
		{
			json_array_foreach(json_object_get(ctr, "env"), j, item)
			{
				if (str_is(json_object_get(item, "valueFrom"), r->env, "name",
				           name))
					return true;
			}
			json_array_foreach(json_object_get(ctr, "envFrom"), j, item)
			{
				if (str_is(item, r->env_from, "name", name))
					return true;
			}
		}
	}
	return false;
}

/* Whether pod (its JSON) references resource/name in its spec. */
static bool pod_uses(const json_t *pod, const struct pod_refs *r, const char *name)
{
	const json_t *spec = json_object_get(pod, "spec"), *s;
	size_t i;

	if (volumes_use(spec, r, name) || containers_use(spec, r, name))
		return true;
	if (r->pull_secrets) {
		json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, s)
		{
			if (str_is(s, "name", NULL, name))
				return true;
		}
	}
	return false;
}

static json_t *parse(const struct store_object *o)
{
	json_t *j = json_loadb(o->json, o->json_len, 0, NULL);

	if (j == NULL)
		log_warn("authz", "event=bad_object resource=%s ns=%s name=%s", o->resource, o->ns,
		         o->name);
	return j;
}

static bool walk_done(int rc, const char *what)
{
	if (rc != 0 && rc != WALK_FOUND)
		log_warn("authz", "event=graph_error lookup=%s err=%s", what, stsd_errname(rc));
	return rc == WALK_FOUND;
}

/* ---- pod_on_node ----------------------------------------------------------------------------- */

static bool pod_on_node(void *ud, const char *ns, const char *name, const char *node)
{
	struct store_object o;
	json_t *pod;
	bool on;
	int rc = store_get(ud, "pods", ns, name, &o);

	if (rc != STSD_OK) {
		walk_done(rc == STSD_NOTFOUND ? 0 : rc, "pod");
		return false;
	}
	if ((pod = parse(&o)) == NULL)
		return false;
	on = node[0] != '\0' && str_is(json_object_get(pod, "spec"), "nodeName", NULL, node);
	json_decref(pod);
	return on;
}

/* ---- pod_gone_releasing_on ------------------------------------------------------------------ */

bool authz_pod_claim_key(const char *name, char *set, size_t setlen, uint32_t *ordinal)
{
	const char *dash = name != NULL ? strrchr(name, '-') : NULL, *d;
	uint64_t v = 0;
	size_t n;

	if (dash == NULL || dash == name || dash[1] == '\0' || (dash[1] == '0' && dash[2] != '\0'))
		return false;
	for (d = dash + 1; *d != '\0'; d++) {
		if (*d < '0' || *d > '9' || (v = v * 10 + (uint64_t)(*d - '0')) > UINT32_MAX)
			return false;
	}
	if ((n = (size_t)(dash - name)) >= setlen)
		return false;
	memcpy(set, name, n);
	set[n] = '\0';
	*ordinal = (uint32_t)v;
	return true;
}

static bool pod_gone_releasing_on(void *ud, const char *ns, const char *name, const char *node)
{
	char set[STORE_NAME_MAX + 1];
	struct store_claim cl;
	struct store_object o;
	uint32_t ordinal;
	int rc;

	if (node[0] == '\0' || !authz_pod_claim_key(name, set, sizeof set, &ordinal))
		return false;
	if ((rc = store_get(ud, "pods", ns, name, &o)) != STSD_NOTFOUND) {
		walk_done(rc, "gone_pod");
		return false; /* it exists (then pod_on_node decides), or the store failed */
	}
	if ((rc = store_claim_get(ud, ns, set, ordinal, &cl)) != STSD_OK) {
		walk_done(rc == STSD_NOTFOUND ? 0 : rc, "gone_pod_claim");
		return false;
	}
	return cl.state == STORE_CLAIM_RELEASING && cl.pod_name != NULL &&
	       strcmp(cl.pod_name, name) == 0 && cl.node != NULL && strcmp(cl.node, node) == 0;
}

/* ---- node_has_pod_in ------------------------------------------------------------------------- */

static int pod_in_ns(void *ud, const struct store_object *o)
{
	return strcmp(o->ns, ud) == 0 ? WALK_FOUND : 0;
}

static bool node_has_pod_in(void *ud, const char *node, const char *ns)
{
	if (node[0] == '\0' || ns[0] == '\0')
		return false; /* "" would walk the unbound pods */
	return walk_done(store_list_pods_on_node(ud, node, pod_in_ns, (void *)ns), "pods_in_ns");
}

/* ---- node_uses ------------------------------------------------------------------------------- */

struct uses_walk {
	const struct pod_refs *refs;
	const char *ns, *name;
	/* persistentvolumes: the claims of the node's pods, looked up after the walk (a store_get
	 * inside the walk's callback would disturb it) */
	bool collect;
	char **claims; /* "ns\0name", malloc'd */
	size_t n, cap;
};

static int collect_claim(struct uses_walk *w, const char *ns, const char *claim)
{
	size_t lns = strlen(ns), lc = strlen(claim);
	char *s;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		char **nc = realloc(w->claims, cap * sizeof *nc);
		if (nc == NULL)
			return STSD_NOMEM;
		w->claims = nc;
		w->cap = cap;
	}
	if ((s = malloc(lns + lc + 2)) == NULL)
		return STSD_NOMEM;
	memcpy(s, ns, lns + 1);
	memcpy(s + lns + 1, claim, lc + 1);
	w->claims[w->n++] = s;
	return 0;
}

static int pod_claims(struct uses_walk *w, const struct store_object *o, const json_t *pod)
{
	const json_t *vol, *claim;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, vol)
	{
		claim = json_object_get(json_object_get(vol, "persistentVolumeClaim"), "claimName");
		if (rc == 0 && json_is_string(claim))
			rc = collect_claim(w, o->ns, json_string_value(claim));
	}
	return rc;
}

static int uses_item(void *ud, const struct store_object *o)
{
	struct uses_walk *w = ud;
	json_t *pod;
	int rc = 0;

	/* only pods of the object's own namespace may use a namespaced object */
	if (!w->collect && strcmp(o->ns, w->ns) != 0)
		return 0;
	if ((pod = parse(o)) == NULL)
		return 0;
	if (w->collect)
		rc = pod_claims(w, o, pod);
	else if (pod_uses(pod, w->refs, w->name))
		rc = WALK_FOUND;
	json_decref(pod);
	return rc;
}

/* Whether PVC ns/claim is bound to PV name (spec.volumeName). */
static bool claim_has_volume(struct store_reader *rd, const char *ns, const char *claim,
                             const char *name)
{
	struct store_object o;
	json_t *pvc;
	bool yes;
	int rc = store_get(rd, "persistentvolumeclaims", ns, claim, &o);

	if (rc != STSD_OK) {
		walk_done(rc == STSD_NOTFOUND ? 0 : rc, "pvc");
		return false;
	}
	if ((pvc = parse(&o)) == NULL)
		return false;
	yes = str_is(json_object_get(pvc, "spec"), "volumeName", NULL, name);
	json_decref(pvc);
	return yes;
}

static bool node_uses_pv(struct store_reader *rd, const char *node, const char *name)
{
	struct uses_walk w = {.collect = true};
	bool found = false;
	size_t i;
	int rc = store_list_pods_on_node(rd, node, uses_item, &w);

	if (rc != 0)
		walk_done(rc, "pv_claims");
	for (i = 0; i < w.n; i++) {
		const char *ns = w.claims[i];
		if (rc == 0 && !found)
			found = claim_has_volume(rd, ns, ns + strlen(ns) + 1, name);
		free(w.claims[i]);
	}
	free(w.claims);
	return found;
}

static bool node_uses(void *ud, const char *node, const char *resource, const char *ns,
                      const char *name)
{
	struct uses_walk w = {.ns = ns, .name = name};
	size_t i;

	if (node[0] == '\0')
		return false; /* "" would walk the unbound pods */
	if (strcmp(resource, "persistentvolumes") == 0)
		return node_uses_pv(ud, node, name);
	for (i = 0; i < sizeof pod_refs / sizeof pod_refs[0]; i++)
		if (strcmp(pod_refs[i].resource, resource) == 0)
			w.refs = &pod_refs[i];
	if (w.refs == NULL || ns == NULL || ns[0] == '\0')
		return false;
	return walk_done(store_list_pods_on_node(ud, node, uses_item, &w), "node_uses");
}

void authz_graph_from_store(struct authz_graph *g, struct store_reader *rd)
{
	g->pod_on_node = pod_on_node;
	g->node_uses = node_uses;
	g->node_has_pod_in = node_has_pod_in;
	g->pod_gone_releasing_on = pod_gone_releasing_on;
	g->ud = rd;
}
