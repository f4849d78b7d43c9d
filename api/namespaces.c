/* namespaces.c — the namespaces every cluster has (created by a new leader when missing), and the
 * deletion of a namespace: one command removes it with everything in it; a sweep on the leader
 * removes objects whose namespace is gone (created in the window between reading a namespace's
 * contents and deleting it, or left by a leader that died in between). */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "log.h"

/* Objects deleted with their namespace in one command; the sweep takes any beyond. */
#define DELETE_MAX 10000
/* Orphans removed per sweep command. */
#define SWEEP_BATCH 1000

static const char *const defaults[] = {"default", "kube-system", "kube-public", "kube-node-lease"};

static void logged_cb(void *ud, int rv, const struct cons_result *res)
{
	const char *what = ud;

	if (rv != STSD_OK || res->status != STSD_OK)
		log_warn("api", "event=%s_failed err=%s status=%s", what, stsd_errname(rv),
		         res ? stsd_errname(res->status) : "-");
}

static void ensured_cb(void *ud, int rv, const struct cons_result *res)
{
	struct api_call *c = ud;

	logged_cb("default_namespaces", rv, res);
	if (c->s) /* NULL: the server stopped while the command was in flight */
		c->s->namespaces_pending = false;
	api_call_free(c);
}

static bool exists(struct store_reader *rd, const char *resource, const char *ns, const char *name)
{
	struct store_object o;

	return store_get(rd, resource, ns, name, &o) == STSD_OK;
}

bool api_namespaces_ready(struct api_server *s)
{
	struct store_reader *rd;
	bool ok;

	if (store_read_begin(s->store, &rd) != STSD_OK)
		return false;
	ok = exists(rd, "namespaces", "", "default");
	store_read_end(rd);
	return ok;
}

void api_namespaces_ensure(struct api_server *s)
{
	enum { N = sizeof defaults / sizeof defaults[0] };
	struct store_op ops[N];
	char *json[N];
	struct store_reader *rd;
	struct api_call *c;
	size_t n = 0;

	if (s->namespaces_pending || store_read_begin(s->store, &rd) != STSD_OK)
		return;
	for (size_t i = 0; i < N; i++) {
		if (exists(rd, "namespaces", "", defaults[i]))
			continue;
		json_t *o =
		    json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
		              "metadata", "name", defaults[i], "status", "phase", "Active");
		json[n] = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		ops[n] = (struct store_op){.type = STORE_OP_CREATE,
		                           .resource = "namespaces",
		                           .ns = "",
		                           .name = defaults[i],
		                           .json = json[n],
		                           .json_len = json[n] ? strlen(json[n]) : 0};
		n++;
	}
	store_read_end(rd);
	if (n > 0 && (c = api_call_new(s, NULL, NULL)) != NULL) {
		if (cons_propose(s->cons, ops, n, ensured_cb, c) == STSD_OK) {
			s->namespaces_pending = true;
			log_info("api", "event=default_namespaces_proposed count=%zu", n);
		} else {
			api_call_free(c);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(json[i]);
}

/* ---- Collecting objects to delete ---------------------------------------------------------- */

struct collect {
	struct store_op *ops; /* NULL: only count */
	char *names;          /* where the keys' strings go */
	size_t n, max, bytes;
	const char *only_ns;             /* NULL: objects whose namespace is missing (sweep) */
	const char *plural;              /* the resource being listed (static: the table's) */
	struct store_reader *rd, *check; /* list with rd; look namespaces up with check */
};

static int collect_one(void *ud, const struct store_object *o)
{
	struct collect *col = ud;
	size_t nl = strlen(o->ns) + 1, ml = strlen(o->name) + 1;

	if (col->n == col->max)
		return 1; /* enough: stop */
	if (col->only_ns == NULL && exists(col->check, "namespaces", "", o->ns))
		return 0;
	if (col->ops) {
		char *ns = col->names + col->bytes, *name = ns + nl;
		memcpy(ns, o->ns, nl);
		memcpy(name, o->name, ml);
		col->ops[col->n] = (struct store_op){.type = STORE_OP_DELETE,
		                                     /* o->resource lives in the reader's
		                                      * scratch, reused by the next item */
		                                     .resource = col->plural,
		                                     .ns = ns,
		                                     .name = name,
		                                     .expect_rv = o->resource_version};
	}
	col->bytes += nl + ml;
	col->n++;
	return 0;
}

static void collect_all(struct collect *col)
{
	size_t n;
	const struct api_resource *t = api_resources(&n);

	for (size_t i = 0; i < n; i++) {
		struct store_list_request lr = {.resource = t[i].plural, .ns = col->only_ns};
		struct store_list_page page;
		col->plural = t[i].plural;
		if (t[i].namespaced)
			store_list(col->rd, &lr, collect_one, col, &page);
	}
}

/* Delete ops for the objects in ns (or, ns NULL, in missing namespaces), with room for extra ops
 * after them; one allocation holds ops and strings (*ops, freed by the caller). */
static int collect_deletes(struct store *st, const char *ns, size_t extra, size_t max,
                           struct store_op **ops, size_t *n)
{
	struct collect col = {.max = max, .only_ns = ns};
	void *block;
	int rv;

	if ((rv = store_read_begin(st, &col.rd)) != STSD_OK)
		return rv;
	if (ns == NULL && (rv = store_read_begin(st, &col.check)) != STSD_OK) {
		store_read_end(col.rd);
		return rv;
	}
	collect_all(&col); /* count */
	block = malloc((col.n + extra) * sizeof **ops + col.bytes);
	if (block != NULL) {
		col.ops = block;
		col.names = (char *)(col.ops + col.n + extra);
		col.n = col.bytes = 0;
		collect_all(&col); /* the same view: the same objects */
	}
	store_read_end(col.rd);
	if (col.check)
		store_read_end(col.check);
	if (block == NULL)
		return STSD_NOMEM;
	*ops = block;
	*n = col.n;
	return STSD_OK;
}

int api_namespace_delete_ops(struct api_call *c, struct store_op **ops, size_t *n)
{
	size_t k;
	int rv = collect_deletes(c->s->store, c->rt.name, 1, DELETE_MAX, ops, &k);

	if (rv != STSD_OK)
		return rv;
	(*ops)[k] = (struct store_op){
	    .type = STORE_OP_DELETE, .resource = "namespaces", .ns = "", .name = c->rt.name};
	*n = k + 1;
	c->s->sweep_due = true;
	return STSD_OK;
}

/* On the leader: delete objects whose namespace no longer exists, a batch per tick. */
void api_namespaces_sweep(struct api_server *s)
{
	struct store_op *ops = NULL;
	size_t n = 0;

	s->sweep_due = false;
	if (collect_deletes(s->store, NULL, 0, SWEEP_BATCH, &ops, &n) != STSD_OK)
		return;
	if (n > 0 && cons_propose(s->cons, ops, n, logged_cb, "namespace_sweep") == STSD_OK) {
		log_info("api", "event=namespace_sweep deleted=%zu", n);
		s->sweep_due = n == SWEEP_BATCH; /* more may wait */
	}
	free(ops);
}
