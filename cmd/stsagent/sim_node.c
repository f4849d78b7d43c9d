/* sim_node.c — one simulated node: its credentials and clients, the watch thread that keeps the
 * table of its pods, and the node thread that registers it, renews its Lease and writes what
 * sim_pod_plan asks for. Only the node thread writes; the table is shared under a mutex. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "sim_internal.h"
#include "util.h"
#include "watch.h"

#define RETRY_MS      1000 /* after a failed write, registration or lease renewal */
#define WAIT_CAP_MS   1000 /* the node thread looks at the stop flag at least this often */
#define MAX_BATCH     64   /* writes planned per round (the table may change meanwhile) */
#define CONFIRM_AGAIN 5000 /* a confirmed pod whose DELETED event has not come: look again */

/* ---- The table (under mu) ---------------------------------------------------------------------
 */

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

static struct sim_pod *find_pod(struct sim_node *n, const char *uid)
{
	for (size_t i = 0; i < n->n_pods; i++)
		if (strcmp(n->pods[i].uid, uid) == 0)
			return &n->pods[i];
	return NULL;
}

static void remove_pod(struct sim_node *n, struct sim_pod *p)
{
	json_decref(p->obj);
	*p = n->pods[--n->n_pods];
}

/* Whether resourceVersion a is older than b. They are opaque to clients in Kubernetes; stsd's are
 * decimal counters, and anything else counts as not older (the write then meets a conflict and
 * reads the pod again). */
static bool rv_older(const char *a, const char *b)
{
	char *ea, *eb;
	unsigned long long x, y;

	if (a == NULL || b == NULL)
		return false;
	x = strtoull(a, &ea, 10);
	y = strtoull(b, &eb, 10);
	return *ea == '\0' && *eb == '\0' && x < y;
}

/* obj replaces the pod's state unless it is older than what we have. */
static void update_pod(struct sim_pod *p, const json_t *obj)
{
	if (rv_older(meta_str(obj, "resourceVersion"), meta_str(p->obj, "resourceVersion")))
		return;
	json_decref(p->obj);
	p->obj = json_deep_copy(obj);
}

static int add_pod(struct sim_node *n, const json_t *obj, const char *uid)
{
	struct sim_pod *p;
	const char *ns = meta_str(obj, "namespace"), *name = meta_str(obj, "name");

	if (ns == NULL || name == NULL || strlen(uid) >= sizeof p->uid)
		return STSD_OK; /* not a pod we can address: ignore */
	if (n->n_pods == n->cap_pods) {
		size_t cap = n->cap_pods ? 2 * n->cap_pods : 16;
		struct sim_pod *grown = realloc(n->pods, cap * sizeof *grown);
		if (grown == NULL)
			return STSD_NOMEM;
		n->pods = grown;
		n->cap_pods = cap;
	}
	p = &n->pods[n->n_pods++];
	*p = (struct sim_pod){.ordinal = n->next_ordinal++, .obj = json_deep_copy(obj)};
	snprintf(p->ns, sizeof p->ns, "%s", ns);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->uid, sizeof p->uid, "%s", uid);
	return STSD_OK;
}

/* p left the watch without our confirmation (a force delete, or our confirmation's answer is
 * still on its way: settle() then ends it): its processes stop, then its end is confirmed after
 * --terminate-after, as for a graceful delete, counted from now. */
static void start_gone(struct sim_node *n, struct sim_pod *p)
{
	p->gone = true;
	p->deleting_since = 0;
	p->retry_at = 0;
	log_debug("sim", "event=pod-gone node=%s pod=%s/%s uid=%s", n->name, p->ns, p->name,
	          p->uid);
}

static int on_event(void *ud, const char *type, const json_t *obj)
{
	struct sim_node *n = ud;
	const char *uid = meta_str(obj, "uid");
	struct sim_pod *p;
	int rv = STSD_OK;

	if (obj == NULL || uid == NULL)
		return STSD_OK; /* SYNCED */
	pthread_mutex_lock(&n->mu);
	p = find_pod(n, uid);
	if (strcmp(type, "DELETED") == 0 && p != NULL && p->confirmed)
		remove_pod(n, p);
	else if (strcmp(type, "DELETED") == 0 && p != NULL && !p->gone)
		start_gone(n, p);
	else if (strcmp(type, "DELETED") == 0 && p != NULL)
		; /* its confirmation is under way already */
	else if (strcmp(type, "DELETED") != 0 && p != NULL)
		update_pod(p, obj);
	else if (strcmp(type, "DELETED") != 0)
		rv = add_pod(n, obj, uid);
	n->dirty = true;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	return rv;
}

static bool stopping(const struct sim_node *n)
{
	return *n->cfg->stop || n->quit;
}

/* ---- Waiting --------------------------------------------------------------------------------- */

/* Wait until an event, stop, or the monotonic time until (capped). */
static void wait_until(struct sim_node *n, uint64_t until)
{
	uint64_t now = util_now_mono_ms(), ms = until > now ? until - now : 0;
	struct timespec ts;

	if (ms > WAIT_CAP_MS)
		ms = WAIT_CAP_MS;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while (!n->dirty && !stopping(n) && ms > 0 &&
	       pthread_cond_timedwait(&n->cv, &n->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&n->mu);
}

/* ---- The watch thread ------------------------------------------------------------------------ */

static void *watch_main(void *arg)
{
	struct sim_node *n = arg;
	char path[512], err[512], q[600];

	snprintf(path, sizeof path, "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", n->name);
	while (!stopping(n)) {
		int rv = client_list_watch(n->wc, path, on_event, n, n->cfg->stop, err, sizeof err);
		if (rv == STSD_OK || stopping(n))
			break;
		/* Refused (403: not this node's credentials?) or out of memory: say so, try again.
		 */
		log_error("sim", "event=watch-failed node=%s code=%s msg=%s", n->name,
		          stsd_errname(rv), log_quote(q, sizeof q, err));
		for (uint64_t until = util_now_mono_ms() + 5 * RETRY_MS;
		     !stopping(n) && util_now_mono_ms() < until;)
			wait_until(n, until);
	}
	return NULL;
}

/* ---- The node thread: pod writes ------------------------------------------------------------- */

/* One write decided under the lock and done outside it. */
struct work {
	enum sim_action action;
	bool gone; /* the pod left the watch before */
	char ns[256], name[256], uid[64], base_rv[64];
	json_t *body; /* SIM_STATUS: the pod with its new status */
};

static void pod_ip(const struct sim_node *n, const struct sim_pod *p, char *out, size_t len)
{
	snprintf(out, len, "10.%u.%u.%u", (n->idx >> 8) & 255u, n->idx & 255u,
	         1u + p->ordinal % 254u);
}

/* Plan every pod not backing off; up to MAX_BATCH writes into w. *wake: when to look again. */
static size_t plan(struct sim_node *n, struct work *w, uint64_t *wake)
{
	uint64_t now = util_now_mono_ms();
	char ts[32], ip[32];
	size_t k = 0;

	sim_time_now(ts, sizeof ts, false);
	pthread_mutex_lock(&n->mu);
	n->dirty = false;
	for (size_t i = 0; i < n->n_pods && k < MAX_BATCH; i++) {
		struct sim_pod *p = &n->pods[i];
		uint64_t at = 0;
		json_t *body = NULL;
		enum sim_action a;

		if (p->retry_at > now) {
			*wake = p->retry_at < *wake ? p->retry_at : *wake;
			continue;
		}
		pod_ip(n, p, ip, sizeof ip);
		a = sim_pod_plan(p, n->cfg, now, ts, ip, SIM_HOST_IP, &body, &at);
		if (at != 0 && at < *wake)
			*wake = at;
		if (a == SIM_NONE)
			continue;
		w[k] = (struct work){.action = a, .gone = p->gone, .body = body};
		snprintf(w[k].ns, sizeof w[k].ns, "%s", p->ns);
		snprintf(w[k].name, sizeof w[k].name, "%s", p->name);
		snprintf(w[k].uid, sizeof w[k].uid, "%s", p->uid);
		snprintf(w[k].base_rv, sizeof w[k].base_rv, "%s",
		         meta_str(p->obj, "resourceVersion") ? meta_str(p->obj, "resourceVersion")
		                                             : "");
		k++;
	}
	pthread_mutex_unlock(&n->mu);
	return k;
}

/* What a status write changed, for the log. */
static const char *status_event(const json_t *body)
{
	const json_t *st = json_object_get(body, "status");
	const char *phase = json_string_value(json_object_get(st, "phase"));
	json_t *c;
	size_t i;

	if (phase != NULL && strcmp(phase, "Running") != 0)
		return phase;
	json_array_foreach(json_object_get(st, "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t != NULL && s != NULL && strcmp(t, "Ready") == 0)
			return strcmp(s, "True") == 0 ? "Ready" : "Running";
	}
	return "Running";
}

/* Our confirmation was accepted. It removed the pod unless finalizers hold it (the answer is the
 * pod, still with them): whoever removes it then is not its node, its claim turns "releasing",
 * and its DELETED event must be confirmed again. */
static void confirmed(struct sim_pod *p, const json_t *got)
{
	p->confirmed =
	    json_array_size(json_object_get(json_object_get(got, "metadata"), "finalizers")) == 0;
	p->retry_at = util_now_mono_ms() + CONFIRM_AGAIN;
}

/* The outcome of a write in the table: the pod's new state, a retry, or its end. got: the
 * server's answer on success (borrowed). */
static void settle(struct sim_node *n, const struct work *w, int rv, const json_t *got)
{
	struct sim_pod *p;

	pthread_mutex_lock(&n->mu);
	if ((p = find_pod(n, w->uid)) != NULL) {
		const char *cur = meta_str(p->obj, "resourceVersion");
		bool confirm = w->action == SIM_CONFIRM;
		if (rv == STSD_OK && confirm)
			confirmed(p, got);
		/* A 404 ends the pod: nothing of it is left, or (a confirmation) no claim waits
		 * for it. A status write planned before the pod went says nothing of its claim. */
		if ((rv == STSD_NOTFOUND && (confirm || !p->gone)) || (p->gone && p->confirmed))
			remove_pod(n, p);
		else if (rv == STSD_OK && confirm)
			; /* confirmed(): its DELETED event is awaited */
		else if (rv == STSD_OK && got != NULL && cur != NULL &&
		         strcmp(cur, w->base_rv) == 0)
			update_pod(p, got);
		else if (rv != STSD_OK && rv != STSD_CONFLICT)
			p->retry_at = util_now_mono_ms() + RETRY_MS;
	}
	n->dirty = true; /* plan again at once: the next step may be due */
	pthread_mutex_unlock(&n->mu);
}

/* After a conflict: read the pod again (the watch may lag behind the write that beat ours). False
 * when it could not be read: the write then waits like any failed one instead of repeating. */
static bool reread(struct sim_node *n, const struct work *w)
{
	char path[700];
	json_t *got = NULL;
	struct sim_pod *p;

	/* The pod itself, not .../status: a node may get its pods, not their subresources. */
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", w->ns, w->name);
	if (client_get_json(n->nc, path, &got) != STSD_OK)
		return false;
	pthread_mutex_lock(&n->mu);
	if ((p = find_pod(n, w->uid)) != NULL && meta_str(got, "uid") != NULL &&
	    strcmp(meta_str(got, "uid"), w->uid) == 0)
		update_pod(p, got);
	pthread_mutex_unlock(&n->mu);
	json_decref(got);
	return true;
}

/* The confirmation that pod w ran its last process; *got: the answer (the pod, or a Status when
 * it was gone already). gone: it left the watch before; then a 404 or a 403 (the node authorizer
 * lets a node confirm a gone pod only while its claim waits on this node) says that no claim
 * waits for it: done too. */
static int confirm(struct sim_node *n, const struct work *w, const char *path, bool gone,
                   json_t **got)
{
	json_t *body = json_pack("{s:s,s:s,s:i,s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
	                         "v1", "gracePeriodSeconds", 0, "preconditions", "uid", w->uid);
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	struct client_response resp;
	char q[600] = "\"\"";
	long status = 0;
	int rv = text != NULL ? client_request(n->nc, "DELETE", path, text, strlen(text),
	                                       "application/json", &resp)
	                      : STSD_NOMEM;

	json_decref(body);
	free(text);
	if (rv == STSD_OK) {
		status = resp.status;
		*got = json_loadb(resp.body, resp.body_len, 0, NULL);
		rv = client_status_code(status, NULL);
		client_response_free(&resp);
	} else {
		log_quote(q, sizeof q, client_errmsg(n->nc));
	}
	if (rv != STSD_OK && json_is_string(json_object_get(*got, "message")))
		log_quote(q, sizeof q, json_string_value(json_object_get(*got, "message")));
	if (gone && (rv == STSD_OK || rv == STSD_NOTFOUND || status == 403))
		log_info("sim", "event=pod-gone-confirmed node=%s pod=%s/%s uid=%s released=%s",
		         n->name, w->ns, w->name, w->uid, rv == STSD_OK ? "true" : "false");
	else if (rv == STSD_OK)
		log_info("sim", "event=pod-terminated node=%s pod=%s/%s uid=%s", n->name, w->ns,
		         w->name, w->uid);
	else if (rv != STSD_NOTFOUND && rv != STSD_CONFLICT)
		log_warn("sim",
		         "event=pod-confirm-failed node=%s pod=%s/%s status=%ld code=%s msg=%s",
		         n->name, w->ns, w->name, status, stsd_errname(rv), q);
	if (rv != STSD_OK) {
		json_decref(*got);
		*got = NULL;
	}
	if (gone && status == 403)
		return STSD_NOTFOUND;
	/* A failed uid precondition (409): the name is another pod's now; ours is gone. */
	return rv == STSD_CONFLICT ? STSD_NOTFOUND : rv;
}

static void do_work(struct sim_node *n, struct work *w)
{
	char path[700], q[600];
	json_t *got = NULL;
	int rv;

	snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s%s", w->ns, w->name,
	         w->action == SIM_STATUS ? "/status" : "");
	if (w->action == SIM_CONFIRM) {
		rv = confirm(n, w, path, w->gone, &got);
	} else {
		rv = client_json(n->nc, "PUT", path, w->body, &got);
		if (rv == STSD_OK)
			log_info("sim", "event=pod-status node=%s pod=%s/%s state=%s", n->name,
			         w->ns, w->name, status_event(w->body));
	}
	if (w->action == SIM_STATUS && rv != STSD_OK && rv != STSD_NOTFOUND && rv != STSD_CONFLICT)
		log_warn("sim", "event=pod-write-failed node=%s pod=%s/%s code=%s msg=%s", n->name,
		         w->ns, w->name, stsd_errname(rv),
		         log_quote(q, sizeof q, client_errmsg(n->nc)));
	if (rv == STSD_CONFLICT)
		log_info("sim", "event=pod-write-conflict node=%s pod=%s/%s", n->name, w->ns,
		         w->name);
	if (rv == STSD_CONFLICT && !reread(n, w))
		rv = STSD_IO;
	settle(n, w, rv, got);
	json_decref(got);
	json_decref(w->body);
}

/* ---- The node thread ------------------------------------------------------------------------- */

static void *node_main(void *arg)
{
	struct sim_node *n = arg;
	uint64_t lease_ms = (uint64_t)n->cfg->lease_s * 1000, lease_due = 0;
	struct work *w = calloc(MAX_BATCH, sizeof *w);

	while (w != NULL && !stopping(n) && sim_register(n) != STSD_OK)
		wait_until(n, util_now_mono_ms() + RETRY_MS);
	while (w != NULL && !stopping(n)) {
		uint64_t now = util_now_mono_ms(), wake;
		size_t k;

		/* Each renewal also reads the Node: Ready is posted again in the same cycle once
		 * the node lifecycle marked it Unknown after a silence. */
		if (now >= lease_due)
			lease_due =
			    now + (sim_renew_lease(n) == STSD_OK && sim_check_node(n) == STSD_OK
			               ? lease_ms / 4
			               : RETRY_MS);
		wake = lease_due;
		k = plan(n, w, &wake);
		for (size_t i = 0; i < k; i++)
			do_work(n, &w[i]);
		if (k == 0)
			wait_until(n, wake);
	}
	if (w == NULL)
		log_error("sim", "event=node-failed node=%s msg=\"out of memory\"", n->name);
	free(w);
	return NULL;
}

/* ---- Start and stop -------------------------------------------------------------------------- */

/* A client with the node's own certificate when cert_dir has one, else the kubeconfig's. */
static int node_client(const struct sim_node *n, long timeout_ms, struct client **out, char *err,
                       size_t errlen)
{
	const struct sim_config *cfg = n->cfg;
	struct client_options o = {.timeout_ms = timeout_ms, .deadline_ms = 15000};
	char crt[PATH_MAX], key[PATH_MAX];

	if (cfg->kc != NULL)
		kubeconfig_client_options(cfg->kc, &o);
	if (cfg->cert_dir != NULL) {
		snprintf(crt, sizeof crt, "%s/%s.crt", cfg->cert_dir, n->name);
		snprintf(key, sizeof key, "%s/%s.key", cfg->cert_dir, n->name);
		if (access(crt, R_OK) == 0 && access(key, R_OK) == 0) {
			/* Blobs win over files, and a token beside a certificate is refused. */
			o.cert_pem = o.key_pem = NULL;
			o.cert_pem_len = o.key_pem_len = 0;
			o.token = NULL;
			o.cert_file = crt;
			o.key_file = key;
		}
	}
	return client_create(cfg->urls, cfg->n_urls, &o, out, err, errlen);
}

static int init_sync(struct sim_node *n)
{
	pthread_condattr_t ca;
	int rv = pthread_condattr_init(&ca);

	if (rv == 0 && (rv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) == 0 &&
	    (rv = pthread_cond_init(&n->cv, &ca)) == 0 &&
	    (rv = pthread_mutex_init(&n->mu, NULL)) != 0)
		pthread_cond_destroy(&n->cv);
	pthread_condattr_destroy(&ca);
	return rv;
}

int sim_node_start(const struct sim_config *cfg, const char *name, unsigned idx,
                   struct sim_node **out, char *err, size_t errlen)
{
	struct sim_node *n = calloc(1, sizeof *n);
	int rv;

	if (n == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	if (strlen(name) >= sizeof n->name) {
		free(n);
		return stsd_errf(err, errlen, STSD_INVALID, "node name too long: %s", name);
	}
	n->cfg = cfg;
	n->idx = idx;
	snprintf(n->name, sizeof n->name, "%s", name);
	if (init_sync(n) != 0) {
		free(n);
		return stsd_errf(err, errlen, STSD_NOMEM, "node %s: cannot make a mutex", name);
	}
	/* The watch's own requests ask for their timeouts; 10 s bounds every other request. */
	if ((rv = node_client(n, 10000, &n->wc, err, errlen)) != STSD_OK ||
	    (rv = node_client(n, 10000, &n->nc, err, errlen)) != STSD_OK) {
		sim_node_stop(n);
		return rv;
	}
	n->node_started = pthread_create(&n->node_thread, NULL, node_main, n) == 0;
	n->watch_started =
	    n->node_started && pthread_create(&n->watch_thread, NULL, watch_main, n) == 0;
	if (!n->watch_started) {
		n->quit = true;
		sim_node_stop(n);
		return stsd_errf(err, errlen, STSD_NOMEM, "node %s: cannot start a thread", name);
	}
	*out = n;
	return STSD_OK;
}

void sim_node_stop(struct sim_node *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	if (n->watch_started)
		pthread_join(n->watch_thread, NULL);
	if (n->node_started)
		pthread_join(n->node_thread, NULL);
	client_destroy(n->wc);
	client_destroy(n->nc);
	for (size_t i = 0; i < n->n_pods; i++)
		json_decref(n->pods[i].obj);
	free(n->pods);
	json_decref(n->lease);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}
