/* scheduler.c — the pod scheduler (scheduler.h): snapshot, filter chain, inter-pod
 * anti-affinity, scoring and the FailedScheduling message; the single-node filters are in
 * scheduler_node.c.
 *
 * Wording and semantics follow kube-scheduler's plugins (pkg/scheduler/framework/plugins:
 * nodeunschedulable, nodename, volumebinding, interpodaffinity/filtering.go) and
 * FitError.Error() in framework/types.go. The label selectors of affinity terms reuse
 * api/selector.h, so stsd_controller links stsd_api for now (as for api/quantity.h). */
#include "scheduler.h"

#include "errors.h"
#include "scheduler_internal.h"
#include "selector.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTNAME_KEY "kubernetes.io/hostname"

/* A PodAffinityTerm of a pod in namespace owner_ns, its label selector parsed once. */
struct sched_term {
	const json_t *term;
	const char *owner_ns;
	struct api_selector *sel; /* NULL: a null labelSelector, which selects nothing */
};

/* A pod placed on a node, with what every pick reads of it looked up (and parsed) once. */
struct sched_placed {
	const json_t *pod;
	const char *ns, *name;
	const char *owner_uid; /* its controller's uid, or NULL */
	/* Its required anti-affinity terms; one whose selector does not parse selects nothing
	 * (that is not the incoming pod's fault). */
	struct sched_term *anti;
	size_t n_anti;
};

struct sched_node {
	const json_t *obj;
	const char *name;
	size_t idx; /* position in the input, for a stable order of duplicates */
	struct sched_res alloc;
	struct sched_res used;     /* of its non-terminal pods; used.pods is their count */
	struct sched_placed *pods; /* those pods, borrowed */
	size_t n_pods, cap_pods;
};

struct ctl_sched_snapshot {
	struct sched_node *nodes; /* sorted by name, names unique */
	size_t n;
};

/* A topology domain (key=value) that the pod must not join. */
struct sched_pair {
	const char *key;
	const char *value;
};

/* What a pick computes about the incoming pod once, before looking at nodes. */
struct sched_pod {
	const json_t *pod, *spec;
	const char *ns, *name, *owner_uid;
	struct sched_res req;
	struct sched_pair *anti; /* domains its own anti-affinity terms forbid */
	size_t n_anti, cap_anti;
	struct sched_pair *existing; /* domains whose pods' anti-affinity forbid it */
	size_t n_existing, cap_existing;
};

/* ---- small helpers ---- */

static const char *meta_str(const json_t *obj, const char *key)
{
	return str(json_object_get(obj, "metadata"), key);
}

static const char *pod_ns(const json_t *pod)
{
	const char *ns = meta_str(pod, "namespace");

	return ns && *ns ? ns : "default";
}

/* The uid of the pod's controller (its ownerReference with controller: true), or NULL. */
static const char *owner_uid(const json_t *pod)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), i,
	                   r)
	{
		if (json_is_true(json_object_get(r, "controller")))
			return str(r, "uid");
	}
	return NULL;
}

static int push_pair(struct sched_pair **a, size_t *n, size_t *cap, const char *key,
                     const char *value)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		struct sched_pair *na = realloc(*a, nc * sizeof *na);
		if (na == NULL)
			return STSD_NOMEM;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = (struct sched_pair){key, value};
	return 0;
}

/* ---- inter-pod anti-affinity ---- */

/* The node's value for a topology key; the hostname key falls back to the node's name. */
static const char *topo_value(const struct sched_node *n, const char *key)
{
	const char *v = str(json_object_get(json_object_get(n->obj, "metadata"), "labels"), key);

	return v == NULL && streq(key, HOSTNAME_KEY) ? n->name : v;
}

/* 0, STSD_INVALID with err when the label selector does not parse, or STSD_NOMEM. */
static int term_parse(const json_t *term, const char *owner_ns, struct sched_term *t, char *err,
                      size_t errlen)
{
	const json_t *sel = json_object_get(term, "labelSelector");

	t->term = term;
	t->owner_ns = owner_ns;
	t->sel = NULL;
	if (!json_is_object(sel))
		return 0;
	return api_label_selector_from_json(sel, &t->sel, err, errlen);
}

/* Whether the term selects target: its namespaces (none and no namespaceSelector: the owner's
 * own; a namespaceSelector {} : all), then its labels. */
static bool term_selects(const struct sched_term *t, const json_t *target)
{
	const json_t *nss = json_object_get(t->term, "namespaces");
	const json_t *nsel = json_object_get(t->term, "namespaceSelector");
	const char *tns = pod_ns(target);
	bool ns_ok;

	if (json_array_size(nss) == 0 && !json_is_object(nsel))
		ns_ok = streq(tns, t->owner_ns);
	else
		ns_ok = in_array(nss, tns) || (json_is_object(nsel) && json_object_size(nsel) == 0);
	return ns_ok && t->sel != NULL &&
	       api_label_selector_matches(
	           t->sel, json_object_get(json_object_get(target, "metadata"), "labels"));
}

static const json_t *anti_terms(const json_t *pod)
{
	const json_t *aff = json_object_get(json_object_get(pod, "spec"), "affinity");

	return json_object_get(json_object_get(aff, "podAntiAffinity"),
	                       "requiredDuringSchedulingIgnoredDuringExecution");
}

static bool same_pod(const struct sched_pod *p, const struct sched_placed *other)
{
	return p->name && streq(p->name, other->name) && streq(p->ns, other->ns);
}

/* Record the domains where one term of the pod's own anti-affinity selects a placed pod. */
static int collect_anti_term(const struct ctl_sched_snapshot *s, struct sched_pod *p,
                             const struct sched_term *t)
{
	const char *key = str(t->term, "topologyKey");

	for (size_t i = 0; key && i < s->n; i++) {
		const struct sched_node *n = &s->nodes[i];
		const char *v = topo_value(n, key);
		for (size_t j = 0; v && j < n->n_pods; j++) {
			if (same_pod(p, &n->pods[j]) || !term_selects(t, n->pods[j].pod))
				continue;
			if (push_pair(&p->anti, &p->n_anti, &p->cap_anti, key, v) != 0)
				return STSD_NOMEM;
			break;
		}
	}
	return 0;
}

static int collect_anti(const struct ctl_sched_snapshot *s, struct sched_pod *p, char *why,
                        size_t whylen)
{
	const json_t *term;
	size_t i;
	int rc = 0;

	json_array_foreach(anti_terms(p->pod), i, term)
	{
		struct sched_term t;
		if ((rc = term_parse(term, p->ns, &t, why, whylen)) == 0)
			rc = collect_anti_term(s, p, &t);
		api_label_selector_free(t.sel);
		if (rc != 0)
			break;
	}
	return rc;
}

/* Record the domains where a placed pod's anti-affinity selects the incoming pod (symmetry). */
static int collect_existing_of(const struct sched_node *n, const struct sched_placed *other,
                               struct sched_pod *p)
{
	for (size_t i = 0; i < other->n_anti; i++) {
		const struct sched_term *t = &other->anti[i];
		const char *key = str(t->term, "topologyKey");
		const char *v = key ? topo_value(n, key) : NULL;
		if (v != NULL && term_selects(t, p->pod) &&
		    push_pair(&p->existing, &p->n_existing, &p->cap_existing, key, v) != 0)
			return STSD_NOMEM;
	}
	return 0;
}

static int collect_existing(const struct ctl_sched_snapshot *s, struct sched_pod *p)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->nodes[i].n_pods; j++) {
			const struct sched_placed *other = &s->nodes[i].pods[j];
			int rc;
			if (other->n_anti > 0 && !same_pod(p, other) &&
			    (rc = collect_existing_of(&s->nodes[i], other, p)) != 0)
				return rc;
		}
	}
	return 0;
}

static bool in_forbidden(const struct sched_node *n, const struct sched_pair *a, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (streq(topo_value(n, a[i].key), a[i].value))
			return true;
	}
	return false;
}

/* ---- the filter chain ---- */

static size_t one_reason(char reasons[][REASON_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t one_reason(char reasons[][REASON_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reasons[0], REASON_MAX, fmt, ap);
	va_end(ap);
	return 1;
}

/* Run the filters on one node; returns the number of reasons it failed with (0: feasible). */
static size_t filter_node(const struct sched_node *n, const struct sched_pod *p, const char *pinned,
                          char reasons[][REASON_MAX])
{
	const json_t *nspec = json_object_get(n->obj, "spec");
	const char *want = str(p->spec, "nodeName"), *taint;
	size_t k;

	if (json_is_true(json_object_get(nspec, "unschedulable")) &&
	    !ctl_sched_tolerates(p->spec, "node.kubernetes.io/unschedulable", "", "NoSchedule"))
		return one_reason(reasons, "node(s) were unschedulable");
	if (want && *want && strcmp(want, n->name) != 0)
		return one_reason(reasons, "node(s) didn't match the requested node name");
	if ((taint = ctl_sched_not_ready(n->obj)) != NULL)
		return one_reason(reasons, "node(s) had untolerated taint {%s: }", taint);
	if (ctl_sched_untolerated_taint(n->obj, p->spec, reasons[0]))
		return 1;
	if (!ctl_sched_node_affinity_ok(p->spec, n->obj, n->name))
		return one_reason(reasons, "node(s) didn't match Pod's node affinity/selector");
	if ((k = ctl_sched_fit(&n->alloc, &n->used, &p->req, reasons)) > 0)
		return k;
	if (pinned && strcmp(pinned, n->name) != 0)
		return one_reason(reasons, "node(s) had volume node affinity conflict");
	if (in_forbidden(n, p->anti, p->n_anti))
		return one_reason(reasons, "node(s) didn't match pod anti-affinity rules");
	if (in_forbidden(n, p->existing, p->n_existing))
		return one_reason(reasons,
		                  "node(s) didn't satisfy existing pods anti-affinity rules");
	return 0;
}

/* ---- the message ---- */

/* Distinct reasons (a handful, whatever the number of nodes) and how many nodes gave each. */
struct sched_hist {
	char (*text)[REASON_MAX];
	size_t *count;
	size_t n, cap;
};

static int hist_add(struct sched_hist *h, const char *reason)
{
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->text[i], reason) == 0) {
			h->count[i]++;
			return 0;
		}
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		char(*nt)[REASON_MAX] = realloc(h->text, cap * sizeof *nt);
		if (nt != NULL)
			h->text = nt;
		size_t *nc = realloc(h->count, cap * sizeof *nc);
		if (nc != NULL)
			h->count = nc;
		if (nt == NULL || nc == NULL)
			return STSD_NOMEM;
		h->cap = cap;
	}
	snprintf(h->text[h->n], REASON_MAX, "%s", reason);
	h->count[h->n++] = 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* FitError.Error(): "0/N nodes are available: " then "count reason" entries sorted as strings
 * (sort.Strings, so "10 x" sorts before "2 y"), joined by ", ", and a final ".". */
static void hist_format(struct sched_hist *h, size_t n_nodes, char *why, size_t whylen)
{
	size_t off;

	for (size_t i = 0; i < h->n; i++) {
		char tmp[REASON_MAX];
		snprintf(tmp, sizeof tmp, "%zu %s", h->count[i], h->text[i]);
		memcpy(h->text[i], tmp, sizeof tmp);
	}
	qsort(h->text, h->n, sizeof *h->text, cmp_str);
	off = (size_t)snprintf(why, whylen, "0/%zu nodes are available:", n_nodes);
	for (size_t i = 0; i < h->n && off < whylen; i++)
		off += (size_t)snprintf(why + off, whylen - off, "%s %s", i ? "," : "", h->text[i]);
	if (off < whylen)
		snprintf(why + off, whylen - off, ".");
}

/* ---- scoring ---- */

static size_t same_owner(const struct sched_node *n, const char *uid)
{
	size_t c = 0;

	for (size_t j = 0; uid && j < n->n_pods; j++)
		c += streq(n->pods[j].owner_uid, uid);
	return c;
}

/* LeastAllocated over cpu and memory: the free share left after the pod, 0..100. */
static int64_t least_requested(const struct sched_node *n, const struct sched_res *req)
{
	int64_t alloc[2] = {n->alloc.cpu, n->alloc.mem};
	int64_t used[2] = {sat_add(n->used.nz_cpu, req->nz_cpu),
	                   sat_add(n->used.nz_mem, req->nz_mem)};
	int64_t sum = 0;

	for (int i = 0; i < 2; i++) {
		if (alloc[i] > 0 && used[i] <= alloc[i])
			sum += (int64_t)((double)(alloc[i] - used[i]) * 100.0 / (double)alloc[i]);
	}
	return sum / 2;
}

/* ---- the pick ---- */

static void sched_pod_free(struct sched_pod *p)
{
	free(p->anti);
	free(p->existing);
}

static int sched_pod_init(const struct ctl_sched_snapshot *s, const json_t *pod,
                          struct sched_pod *p, char *why, size_t whylen)
{
	int rc;

	memset(p, 0, sizeof *p);
	p->pod = pod;
	p->spec = json_object_get(pod, "spec");
	if (!json_is_object(pod) || !json_is_object(p->spec))
		return stsd_errf(why, whylen, STSD_INVALID, "pod has no spec");
	p->ns = pod_ns(pod);
	p->name = meta_str(pod, "name");
	p->owner_uid = owner_uid(pod);
	if (ctl_sched_pod_req(pod, &p->req) != 0)
		return stsd_errf(why, whylen, STSD_INVALID,
		                 "pod %s/%s: a request is not a quantity", p->ns,
		                 p->name ? p->name : "");
	if ((rc = collect_anti(s, p, why, whylen)) != 0)
		return rc;
	return collect_existing(s, p);
}

struct sched_choice {
	const struct sched_node *best;
	int64_t best_score;
};

/* The best feasible node given each one's same-owner count (c->best NULL when none). */
static void choose(const struct ctl_sched_snapshot *s, const struct sched_pod *p, const bool *ok,
                   const size_t *same, struct sched_choice *c)
{
	size_t max_same = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (ok[i] && same[i] > max_same)
			max_same = same[i];
	}
	c->best = NULL;
	for (size_t i = 0; i < s->n; i++) { /* nodes are sorted: ">" keeps the smallest name */
		if (!ok[i])
			continue;
		int64_t spread = max_same ? (int64_t)((max_same - same[i]) * 100 / max_same) : 100;
		int64_t score = least_requested(&s->nodes[i], &p->req) + 2 * spread;
		if (c->best == NULL || score > c->best_score) {
			c->best = &s->nodes[i];
			c->best_score = score;
		}
	}
}

static int evaluate(const struct ctl_sched_snapshot *s, const struct sched_pod *p,
                    const char *pinned, char *node, size_t len, char *why, size_t whylen)
{
	struct sched_hist h = {0};
	bool *ok = calloc(s->n, sizeof *ok);
	size_t *same = calloc(s->n, sizeof *same);
	char reasons[MAX_REASONS][REASON_MAX];
	struct sched_choice c = {0};
	int rc = STSD_NOMEM;

	if (ok == NULL || same == NULL)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		size_t k = filter_node(&s->nodes[i], p, pinned, reasons);
		for (size_t r = 0; r < k; r++) {
			if (hist_add(&h, reasons[r]) != 0)
				goto out;
		}
		ok[i] = k == 0;
		same[i] = ok[i] ? same_owner(&s->nodes[i], p->owner_uid) : 0;
	}
	choose(s, p, ok, same, &c);
	if (c.best == NULL) {
		hist_format(&h, s->n, why, whylen);
		rc = STSD_NOTFOUND;
	} else if (strlen(c.best->name) >= len) {
		rc = stsd_errf(why, whylen, STSD_INVALID, "node name %s too long", c.best->name);
	} else {
		snprintf(node, len, "%s", c.best->name);
		rc = 0;
	}
out:
	free(h.text);
	free(h.count);
	free(ok);
	free(same);
	return rc;
}

int ctl_sched_pick(const struct ctl_sched_snapshot *s, const json_t *pod, const char *pinned_node,
                   char *node, size_t len, char *why, size_t whylen)
{
	struct sched_pod p;
	int rc;

	if (whylen > 0)
		why[0] = '\0';
	if (len > 0)
		node[0] = '\0';
	if ((rc = sched_pod_init(s, pod, &p, why, whylen)) == 0) {
		if (s->n == 0)
			rc = stsd_errf(why, whylen, STSD_NOTFOUND,
			               "no nodes available to schedule pods");
		else
			rc = evaluate(s, &p, pinned_node, node, len, why, whylen);
	}
	sched_pod_free(&p);
	return rc;
}

/* ---- the snapshot ---- */

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct sched_node *)a)->name, ((const struct sched_node *)b)->name);
}

/* By name, then input order, so that a duplicate name deterministically keeps its first object. */
static int cmp_node_input(const void *a, const void *b)
{
	const struct sched_node *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static struct sched_node *find_node(const struct ctl_sched_snapshot *s, const char *name)
{
	struct sched_node key = {.name = name};

	if (name == NULL || s->n == 0)
		return NULL;
	return bsearch(&key, s->nodes, s->n, sizeof key, cmp_node);
}

/* Put pod on n: its requests (malformed ones count 0) and its pointer for anti-affinity. */
static void placed_free(struct sched_placed *x)
{
	for (size_t i = 0; i < x->n_anti; i++)
		api_label_selector_free(x->anti[i].sel);
	free(x->anti);
}

/* Look up and parse once what picks read of a placed pod. */
static int placed_init(struct sched_placed *x, const json_t *pod)
{
	const json_t *terms = anti_terms(pod), *term;
	char err[128];
	size_t i;

	*x =
	    (struct sched_placed){pod, pod_ns(pod), meta_str(pod, "name"), owner_uid(pod), NULL, 0};
	if (json_array_size(terms) == 0)
		return 0;
	if ((x->anti = calloc(json_array_size(terms), sizeof *x->anti)) == NULL)
		return STSD_NOMEM;
	json_array_foreach(terms, i, term)
	{
		struct sched_term *t = &x->anti[x->n_anti++];
		if (term_parse(term, x->ns, t, err, sizeof err) == STSD_NOMEM) {
			placed_free(x);
			return STSD_NOMEM;
		}
	}
	return 0;
}

static int node_add_pod(struct sched_node *n, const json_t *pod)
{
	struct sched_res r;

	if (n->n_pods == n->cap_pods) {
		size_t cap = n->cap_pods ? 2 * n->cap_pods : 8;
		struct sched_placed *np = realloc(n->pods, cap * sizeof *np);
		if (np == NULL)
			return STSD_NOMEM;
		n->pods = np;
		n->cap_pods = cap;
	}
	if (placed_init(&n->pods[n->n_pods], pod) != 0)
		return STSD_NOMEM;
	n->n_pods++;
	(void)ctl_sched_pod_req(pod, &r);
	ctl_sched_res_add(&n->used, &r);
	n->used.pods++;
	return 0;
}

static bool terminal(const json_t *pod)
{
	const char *phase = str(json_object_get(pod, "status"), "phase");

	return streq(phase, "Succeeded") || streq(phase, "Failed");
}

static int add_nodes(struct ctl_sched_snapshot *s, const json_t *const *nodes, size_t n_nodes)
{
	size_t w = 0;

	s->nodes = calloc(n_nodes ? n_nodes : 1, sizeof *s->nodes);
	if (s->nodes == NULL)
		return STSD_NOMEM;
	for (size_t i = 0; i < n_nodes; i++) {
		const char *name = json_is_object(nodes[i]) ? meta_str(nodes[i], "name") : NULL;
		if (name == NULL || *name == '\0')
			continue;
		s->nodes[s->n].obj = nodes[i];
		s->nodes[s->n].name = name;
		s->nodes[s->n].alloc = ctl_sched_node_alloc(nodes[i]);
		s->nodes[s->n].idx = i;
		s->n++;
	}
	qsort(s->nodes, s->n, sizeof *s->nodes, cmp_node_input);
	for (size_t i = 0; i < s->n; i++) { /* a duplicate name keeps its first object */
		if (w == 0 || strcmp(s->nodes[w - 1].name, s->nodes[i].name) != 0)
			s->nodes[w++] = s->nodes[i];
	}
	s->n = w;
	return 0;
}

int ctl_sched_snapshot_create(const json_t *const *nodes, size_t n_nodes, const json_t *const *pods,
                              size_t n_pods, struct ctl_sched_snapshot **out)
{
	struct ctl_sched_snapshot *s = calloc(1, sizeof *s);

	*out = NULL;
	if (s == NULL || add_nodes(s, nodes, n_nodes) != 0)
		goto nomem;
	for (size_t i = 0; i < n_pods; i++) {
		if (!json_is_object(pods[i]) || terminal(pods[i]))
			continue;
		struct sched_node *n =
		    find_node(s, str(json_object_get(pods[i], "spec"), "nodeName"));
		if (n != NULL && node_add_pod(n, pods[i]) != 0)
			goto nomem;
	}
	*out = s;
	return 0;
nomem:
	ctl_sched_snapshot_destroy(s);
	return STSD_NOMEM;
}

int ctl_sched_snapshot_assume(struct ctl_sched_snapshot *s, const json_t *pod, const char *node)
{
	struct sched_node *n = find_node(s, node);

	if (n == NULL || !json_is_object(pod))
		return STSD_NOTFOUND;
	return node_add_pod(n, pod);
}

void ctl_sched_snapshot_destroy(struct ctl_sched_snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->nodes[i].n_pods; j++)
			placed_free(&s->nodes[i].pods[j]);
		free(s->nodes[i].pods);
	}
	free(s->nodes);
	free(s);
}

int ctl_schedule(const struct ctl_sched_input *in, char *node, size_t len, char *why, size_t whylen)
{
	struct ctl_sched_snapshot *s;
	int rc;

	if ((rc = ctl_sched_snapshot_create(in->nodes, in->n_nodes, in->pods, in->n_pods, &s)) != 0)
		return stsd_errf(why, whylen, rc, "scheduler: out of memory");
	rc = ctl_sched_pick(s, in->pod, in->pinned_node, node, len, why, whylen);
	ctl_sched_snapshot_destroy(s);
	return rc;
}
