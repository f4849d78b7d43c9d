/* exec_sched.c — one scheduler snapshot shared by every sync (scheduler.h): built from the store
 * (every Node and every bound pod), kept current by assuming each placement, and rebuilt when
 * something it cannot follow changed (a node, a pod gone), at most once per SCHED_REBUILD_MS so
 * that churn does not rebuild it per pick. A pick between the change and the rebuild may see a
 * node as it was; the pod then waits on a node that cannot run it until the node lifecycle
 * replaces it, which is what happens anyway when a node dies right after a placement. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "exec_internal.h"
#include "log.h"
#include "scheduler.h"
#include "util.h"

#define SCHED_REBUILD_MS 500
/* A placement is remembered this long: a rebuild that does not find its pod in the store yet (its
 * command not applied) assumes it again, and one whose command failed is forgotten after it. */
#define SCHED_ASSUME_MS 10000

struct sched_cache {
	pthread_mutex_t mu;
	struct ctl_sched_snapshot *snap;
	json_t *held;   /* every object the snapshot borrows: nodes, pods, assumed pods */
	json_t *recent; /* placements of the last SCHED_ASSUME_MS: [{pod, node, at}] */
	uint64_t built_gen, built_ms;
	atomic_uint_fast64_t gen;
};

struct sched_cache *sched_cache_new(void)
{
	struct sched_cache *sc = calloc(1, sizeof *sc);

	if (sc == NULL)
		return NULL;
	pthread_mutex_init(&sc->mu, NULL);
	atomic_init(&sc->gen, 1);
	return sc;
}

void sched_cache_free(struct sched_cache *sc)
{
	if (sc == NULL)
		return;
	ctl_sched_snapshot_destroy(sc->snap);
	json_decref(sc->held);
	json_decref(sc->recent);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

void sched_cache_invalidate(struct sched_cache *sc)
{
	atomic_fetch_add(&sc->gen, 1);
}

/* What the scheduler reads of a placed pod (scheduler.c): the rest of a pod can be large, and
 * the snapshot holds every bound pod of the cluster. New reference, or NULL. */
static json_t *slim_containers(const json_t *list)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		json_t *s = json_object();
		json_object_set(s, "resources", json_object_get(c, "resources"));
		if (json_object_get(c, "restartPolicy"))
			json_object_set(s, "restartPolicy", json_object_get(c, "restartPolicy"));
		json_array_append_new(out, s);
	}
	return out;
}

static json_t *slim_pod(const json_t *pod)
{
	const json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
	json_t *m = json_object(), *s = json_object(), *out;
	static const char *const meta_keys[] = {"name", "namespace", "uid", "labels",
	                                        "ownerReferences"};
	static const char *const spec_keys[] = {"nodeName", "affinity", "overhead", "nodeSelector",
	                                        "tolerations"};

	for (size_t i = 0; i < sizeof meta_keys / sizeof meta_keys[0]; i++)
		if (json_object_get(meta, meta_keys[i]))
			json_object_set(m, meta_keys[i], json_object_get(meta, meta_keys[i]));
	for (size_t i = 0; i < sizeof spec_keys / sizeof spec_keys[0]; i++)
		if (json_object_get(spec, spec_keys[i]))
			json_object_set(s, spec_keys[i], json_object_get(spec, spec_keys[i]));
	json_object_set_new(s, "containers", slim_containers(json_object_get(spec, "containers")));
	json_object_set_new(s, "initContainers",
	                    slim_containers(json_object_get(spec, "initContainers")));
	out = json_pack("{s:o,s:o,s:{s:s?}}", "metadata", m, "spec", s, "status", "phase",
	                ctl_str(pod, "status.phase"));
	return out;
}

struct collect {
	json_t *arr;
	bool bound_only;
};

static int collect(void *ud, const struct store_object *o)
{
	struct collect *c = ud;
	json_t *obj;

	if (c->bound_only && !memmem(o->json, o->json_len, "\"nodeName\"", 10))
		return STORE_SKIP; /* cheap: most unbound pods are never parsed */
	if ((obj = ctl_parse(o)) == NULL)
		return STORE_SKIP;
	if (c->bound_only && !ctl_str(obj, "spec.nodeName")) {
		json_decref(obj);
		return STORE_SKIP;
	}
	if (c->bound_only) {
		json_t *slim = slim_pod(obj);
		json_decref(obj);
		if ((obj = slim) == NULL)
			return STSD_NOMEM;
	}
	return json_array_append_new(c->arr, obj) ? STSD_NOMEM : STSD_OK;
}

static int list_all(struct store_reader *rd, const char *resource, struct collect *c)
{
	struct store_list_request req = {.resource = resource};
	struct store_list_page page;

	return store_list(rd, &req, collect, c, &page);
}

static void pod_key(const json_t *pod, char *key, size_t len)
{
	const char *ns = ctl_str(pod, "metadata.namespace"), *name = ctl_str(pod, "metadata.name");
	snprintf(key, len, "%s/%s", ns ? ns : "", name ? name : "");
}

/* Placements the rebuilt snapshot does not hold yet (proposed, not applied) are assumed again;
 * old ones are dropped. */
static void reassume(struct sched_cache *sc, const json_t *bound)
{
	json_t *seen = json_object(), *keep = json_array(), *r;
	uint64_t now = util_now_mono_ms();
	const json_t *p;
	char key[520];
	size_t i;

	if (seen == NULL || keep == NULL)
		goto out;
	json_array_foreach(bound, i, p)
	{
		pod_key(p, key, sizeof key);
		json_object_set_new(seen, key, json_true());
	}
	json_array_foreach(sc->recent, i, r)
	{
		const json_t *pod = json_object_get(r, "pod");
		if (now - (uint64_t)ctl_int(r, "at", 0) > SCHED_ASSUME_MS)
			continue;
		pod_key(pod, key, sizeof key);
		if (json_object_get(seen, key))
			continue; /* applied: the store has it */
		if (ctl_sched_snapshot_assume(sc->snap, pod, ctl_str(r, "node")) == STSD_OK)
			json_array_append(sc->held, (json_t *)pod);
		json_array_append(keep, r);
	}
	json_decref(sc->recent);
	sc->recent = json_incref(keep);
out:
	json_decref(seen);
	json_decref(keep);
}

static int rebuild(struct sched_cache *sc, struct store *store, uint64_t gen)
{
	struct collect nodes = {json_array(), false}, pods = {json_array(), true};
	struct store_reader *rd = NULL;
	const json_t **np = NULL, **pp = NULL;
	size_t nn, n_pods;
	int rv = STSD_NOMEM;

	if (!nodes.arr || !pods.arr || (rv = store_read_begin(store, &rd)) != STSD_OK ||
	    (rv = list_all(rd, "nodes", &nodes)) != STSD_OK ||
	    (rv = list_all(rd, "pods", &pods)) != STSD_OK)
		goto out;
	nn = json_array_size(nodes.arr);
	n_pods = json_array_size(pods.arr);
	np = calloc(nn + 1, sizeof *np);
	pp = calloc(n_pods + 1, sizeof *pp);
	rv = STSD_NOMEM;
	if (np == NULL || pp == NULL)
		goto out;
	for (size_t i = 0; i < nn; i++)
		np[i] = json_array_get(nodes.arr, i);
	for (size_t i = 0; i < n_pods; i++)
		pp[i] = json_array_get(pods.arr, i);
	ctl_sched_snapshot_destroy(sc->snap);
	sc->snap = NULL;
	json_decref(sc->held);
	sc->held = json_array();
	if (sc->held == NULL || (rv = ctl_sched_snapshot_create(np, nn, pp, n_pods, &sc->snap)))
		goto out;
	json_array_extend(sc->held, nodes.arr);
	json_array_extend(sc->held, pods.arr);
	reassume(sc, pods.arr);
	sc->built_gen = gen;
	sc->built_ms = util_now_mono_ms();
	log_debug("controller", "event=sched_snapshot nodes=%zu pods=%zu", nn, n_pods);
out:
	if (rd)
		store_read_end(rd);
	free(np);
	free(pp);
	json_decref(nodes.arr);
	json_decref(pods.arr);
	/* The old snapshot and the parsed lists were many small allocations: give the memory back
	 * (a new leader's RssAnon otherwise kept the high-water mark of every rebuild). */
	malloc_trim(0);
	return rv;
}

int sched_cache_pick(struct sched_cache *sc, struct store *store, const json_t *pod,
                     const char *pinned, char *node, size_t len, char *why, size_t whylen)
{
	uint64_t gen = atomic_load(&sc->gen), now = util_now_mono_ms();
	bool stale;
	json_t *copy;
	int rv;

	pthread_mutex_lock(&sc->mu);
	stale =
	    sc->snap == NULL || (sc->built_gen != gen && now - sc->built_ms >= SCHED_REBUILD_MS);
	if (stale && (rv = rebuild(sc, store, gen)) != STSD_OK)
		goto out;
	rv = ctl_sched_pick(sc->snap, pod, pinned, node, len, why, whylen);
	/* Nothing fits in a snapshot that is behind: look again at a fresh one. */
	if (rv == STSD_NOTFOUND && sc->built_gen != gen && (rv = rebuild(sc, store, gen)) == 0)
		rv = ctl_sched_pick(sc->snap, pod, pinned, node, len, why, whylen);
	if (rv != STSD_OK)
		goto out;
	/* The snapshot borrows what it assumes: keep a copy of the pod, bound. */
	if ((copy = slim_pod(pod)) == NULL) {
		rv = STSD_NOMEM;
		goto out;
	}
	json_object_set_new(json_object_get(copy, "spec"), "nodeName", json_string(node));
	json_array_append_new(sc->held, copy);
	if (sc->recent == NULL)
		sc->recent = json_array();
	json_array_append_new(sc->recent, json_pack("{s:O,s:s,s:I}", "pod", copy, "node", node,
	                                            "at", (json_int_t)util_now_mono_ms()));
	rv = ctl_sched_snapshot_assume(sc->snap, copy, node);
out:
	pthread_mutex_unlock(&sc->mu);
	return rv;
}
