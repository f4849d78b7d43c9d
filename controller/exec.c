/* exec.c — the controller's loop side (controller.h): leadership, the work queue, jobs on the
 * thread pool, proposals and the node silence clock.
 *
 * A sync job takes up to JOB_KEYS keys; at most cfg.workers jobs run at once, so planning never
 * takes more than that many of the machine's cores from Raft and the API. A key stays "running"
 * from the moment it is popped until every command of its sync has committed or failed: one sync
 * per key at a time, and the next sync of a key always reads a store that holds the previous
 * one's writes. Work started under an older leadership (epoch) is dropped when it returns. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "exec_internal.h"
#include "log.h"
#include "node.h"
#include "queue.h"
#include "util.h"

#define JOB_KEYS         16
#define TICK_MS          100
#define EVENT_SWEEP_MS   60000 /* how often old Events are looked for, at most */
#define FEED_COALESCE_MS 100   /* a set woken by its pods' changes waits this long for more */

struct node_clock {
	char *name;
	uint64_t seen_ms; /* last renewal seen, or the start of the leadership */
	bool silent;      /* its last sync saw it silent past the grace period */
};

struct ctl_controller {
	uv_loop_t *loop;
	struct cons *cons;
	struct ctl_shared sh;
	struct ctl_queue *q;
	uv_timer_t tick;
	bool leading, stopping;
	uint64_t epoch;
	uint64_t lead_ms; /* when this leadership started */
	uint64_t fed, applied;
	bool feeding;
	unsigned jobs;      /* sync jobs and feeds in flight (thread pool) */
	unsigned sync_jobs; /* of which sync jobs: at most cfg.workers */
	unsigned proposals;
	struct node_clock *nodes;
	size_t n_nodes, cap_nodes;
	struct ctl_stats st;
	void (*done)(void *);
	void *done_ud;
	bool done_called, in_done;
};

struct job {
	uv_work_t req;
	struct ctl_controller *c;
	uint64_t epoch;
	size_t n;
	struct work w[JOB_KEYS];
};

struct feed_job {
	uv_work_t req;
	struct ctl_controller *c;
	uint64_t epoch;
	struct feed f;
};

/* A command in flight: the key's sync ends when its last command does. */
struct pending {
	struct ctl_controller *c;
	uint64_t epoch;
	char key[KEY_MAX];
	size_t left;
	bool failed;
	int64_t requeue_ms;
};

static void pump(struct ctl_controller *c);
static void maybe_done(struct ctl_controller *c);

/* ---- Work helpers (any thread) ------------------------------------------------------------ */

void work_more(struct work *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strlist_addv(&w->more, &w->n_more, &w->cap_more, fmt, ap);
	va_end(ap);
}

void work_release(struct work *w)
{
	cmd_free(&w->cmds);
	for (size_t i = 0; i < w->n_more; i++)
		free(w->more[i]);
	free(w->more);
	w->more = NULL;
	w->n_more = w->cap_more = 0;
}

/* Split key into its tab-separated parts (in place); returns the count. */
static size_t split(char *key, char **parts, size_t max)
{
	size_t n = 0;

	for (char *p = key; n < max;) {
		parts[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static void run_key(const struct ctl_shared *sh, struct work *w)
{
	char key[KEY_MAX], *p[4];
	size_t n;

	snprintf(key, sizeof key, "%s", w->key);
	n = split(key, p, 4);
	if (strcmp(p[0], "s") == 0 && n == 3)
		sync_sts(sh, w, p[1], p[2]);
	else if (strcmp(p[0], "n") == 0 && n == 2)
		sync_node(sh, w, p[1]);
	else if (strcmp(p[0], "g") == 0 && n == 4)
		sync_gc(sh, w, p[1], p[2], p[3]);
	else if (strcmp(p[0], "v") == 0 && n == 2)
		sync_pv(sh, w, p[1]);
	else if (strcmp(p[0], "r") == 0)
		sync_all(sh, w);
	else if (strcmp(p[0], "o") == 0)
		sync_orphans(sh, w);
	else if (strcmp(p[0], "e") == 0)
		sync_events(sh, w);
	else
		log_warn("controller", "event=bad_key key=%s", w->key);
}

static void job_work(uv_work_t *req)
{
	struct job *j = req->data;

	for (size_t i = 0; i < j->n; i++)
		run_key(&j->c->sh, &j->w[i]);
}

/* ---- Node clocks -------------------------------------------------------------------------- */

static struct node_clock *node_clock(struct ctl_controller *c, const char *name, bool add)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].name, name) == 0)
			return &c->nodes[i];
	if (!add)
		return NULL;
	if (c->n_nodes == c->cap_nodes) {
		size_t cap = c->cap_nodes ? 2 * c->cap_nodes : 16;
		struct node_clock *n = realloc(c->nodes, cap * sizeof *n);
		if (n == NULL)
			return NULL;
		c->nodes = n;
		c->cap_nodes = cap;
	}
	c->nodes[c->n_nodes] = (struct node_clock){strdup(name), uv_now(c->loop), false};
	if (c->nodes[c->n_nodes].name == NULL)
		return NULL;
	return &c->nodes[c->n_nodes++];
}

/* A renewal fed: "REVISION\tNODE". */
/* Count every node's silence from now (a new leadership, or renewals the feed skipped). */
static void restart_clocks(struct ctl_controller *c)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		c->nodes[i].seen_ms = uv_now(c->loop);
		c->nodes[i].silent = false;
	}
}

static void renewed(struct ctl_controller *c, const char *name)
{
	struct node_clock *n = node_clock(c, name, true);

	if (n == NULL)
		return;
	n->seen_ms = uv_now(c->loop);
	if (n->silent) { /* it comes back: clear what its silence set */
		char key[KEY_MAX];
		n->silent = false;
		snprintf(key, sizeof key, "n\t%s", name);
		ctl_queue_add(c->q, key);
	}
}

/* ---- Proposals ---------------------------------------------------------------------------- */

/* Old Events are looked for every minute, or every tenth of the TTL when that is shorter. */
static uint64_t sweep_ms(const struct ctl_controller *c)
{
	uint64_t tenth = (uint64_t)c->sh.cfg.event_ttl_s * 100;
	return tenth < EVENT_SWEEP_MS ? tenth : EVENT_SWEEP_MS;
}

static void end_key(struct ctl_controller *c, const char *key, bool failed, int64_t requeue_ms)
{
	uint64_t now = uv_now(c->loop);

	ctl_queue_done(c->q, key, failed, now);
	if (!failed && requeue_ms > 0)
		ctl_queue_add_after(c->q, key, now, (uint64_t)requeue_ms);
	else if (strcmp(key, "e") == 0) /* the sweep comes back, whatever happened */
		ctl_queue_add_after(c->q, key, now, sweep_ms(c));
}

static void proposed(void *ud, int rv, const struct cons_result *res)
{
	struct pending *p = ud;
	struct ctl_controller *c = p->c;

	c->proposals--;
	if (rv != STSD_OK || res->status != STSD_OK) {
		p->failed = true;
		c->st.command_failures++;
		/* It may have carried placements the scheduler counted: look at the store again. */
		if (p->key[0] == 's')
			sched_cache_invalidate(c->sh.sched);
		log_info("controller", "event=command_failed key=\"%s\" code=%s op=%zu msg=\"%s\"",
		         p->key, stsd_errname(rv != STSD_OK ? rv : res->status),
		         rv == STSD_OK ? res->failed_op : 0,
		         rv == STSD_OK && res->message ? res->message : "");
	}
	if (--p->left == 0) {
		if (p->epoch == c->epoch && c->leading)
			end_key(c, p->key, p->failed, p->requeue_ms);
		free(p);
	}
	pump(c);
	maybe_done(c);
}

static void propose_work(struct ctl_controller *c, struct work *w)
{
	struct pending *p;

	for (size_t i = 0; i < w->n_more; i++)
		ctl_queue_add(c->q, w->more[i]);
	if (w->rv != STSD_OK || w->cmds.n == 0 || w->cmds.oom) {
		end_key(c, w->key, w->rv != STSD_OK || w->cmds.oom, w->requeue_ms);
		return;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		end_key(c, w->key, true, 0);
		return;
	}
	*p = (struct pending){.c = c, .epoch = c->epoch, .left = 1, .requeue_ms = w->requeue_ms};
	snprintf(p->key, sizeof p->key, "%s", w->key);
	for (size_t i = 0; i < w->cmds.n; i++) {
		struct ctl_cmd *cmd = &w->cmds.c[i];
		if (cmd->n == 0)
			continue;
		p->left++;
		if (cons_propose(c->cons, cmd->ops, cmd->n, proposed, p) != STSD_OK) {
			p->left--;
			p->failed = true;
			c->st.command_failures++;
			continue;
		}
		c->proposals++;
		c->st.commands++;
		c->st.actions += cmd->n;
		if (c->st.first_action_ms < 0) {
			c->st.first_action_ms = (int64_t)(uv_now(c->loop) - c->lead_ms);
			log_info("controller",
			         "event=first_action ms_after_leading=%lld key=\"%s\"",
			         (long long)c->st.first_action_ms, w->key);
		}
	}
	if (--p->left == 0) { /* nothing went out */
		end_key(c, p->key, p->failed, p->requeue_ms);
		free(p);
	}
}

static void job_done(uv_work_t *req, int status)
{
	struct job *j = req->data;
	struct ctl_controller *c = j->c;

	(void)status;
	c->jobs--;
	c->sync_jobs--;
	for (size_t i = 0; i < j->n; i++) {
		if (j->epoch == c->epoch && c->leading)
			propose_work(c, &j->w[i]);
		work_release(&j->w[i]);
	}
	free(j);
	pump(c);
	maybe_done(c);
}

/* ---- Feeding ------------------------------------------------------------------------------ */

static void feed_work(uv_work_t *req)
{
	struct feed_job *f = req->data;
	feed_run(&f->c->sh, &f->f);
}

static void start_feed(struct ctl_controller *c);

static void feed_done(uv_work_t *req, int status)
{
	struct feed_job *f = req->data;
	struct ctl_controller *c = f->c;

	(void)status;
	c->jobs--;
	c->feeding = false;
	if (f->epoch == c->epoch && c->leading) {
		for (size_t i = 0; i < f->f.n_keys; i++) {
			const char *k = f->f.keys[i];
			if (k[0] == '~')
				ctl_queue_add_after(c->q, k + 1, uv_now(c->loop), FEED_COALESCE_MS);
			else
				ctl_queue_add(c->q, k);
		}
		for (size_t i = 0; i < f->f.n_renewed; i++)
			renewed(c, f->f.renewed[i]);
		if (f->f.sched_stale)
			sched_cache_invalidate(c->sh.sched);
		if (f->f.expired) {
			log_warn("controller", "event=feed_expired after=%llu",
			         (unsigned long long)f->f.after);
			ctl_queue_add(c->q, "r");
			f->f.reached = c->applied;
			restart_clocks(
			    c); /* renewals were skipped: no silence measured so far holds */
		}
		if (f->f.reached > c->fed)
			c->fed = f->f.reached;
	}
	feed_release(&f->f);
	free(f);
	start_feed(c);
	pump(c);
	maybe_done(c);
}

static void start_feed(struct ctl_controller *c)
{
	struct feed_job *f;

	if (!c->leading || c->stopping || c->feeding || c->fed >= c->applied)
		return;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return;
	f->req.data = f;
	f->c = c;
	f->epoch = c->epoch;
	f->f.after = c->fed;
	if (uv_queue_work(c->loop, &f->req, feed_work, feed_done) != 0) {
		free(f);
		return;
	}
	c->feeding = true;
	c->jobs++;
}

/* ---- Pumping ------------------------------------------------------------------------------ */

static bool fill_job(struct ctl_controller *c, struct job *j)
{
	const char *key;
	uint64_t now = uv_now(c->loop);

	while (j->n < JOB_KEYS && (key = ctl_queue_pop(c->q)) != NULL) {
		struct work *w = &j->w[j->n++];
		snprintf(w->key, sizeof w->key, "%s", key);
		if (key[0] == 'n' && key[1] == '\t') {
			struct node_clock *n = node_clock(c, key + 2, true);
			w->silent_ms = n ? (int64_t)(now - n->seen_ms) : 0;
			w->fed_rv = c->fed;
			if (n && w->silent_ms >= c->sh.cfg.node_grace_ms)
				n->silent = true;
		}
		c->st.syncs++;
	}
	return j->n > 0;
}

static void pump(struct ctl_controller *c)
{
	while (c->leading && !c->stopping && c->sync_jobs < c->sh.cfg.workers &&
	       ctl_queue_ready(c->q) > 0) {
		struct job *j = calloc(1, sizeof *j);
		if (j == NULL)
			return;
		j->req.data = j;
		j->c = c;
		j->epoch = c->epoch;
		if (!fill_job(c, j) || uv_queue_work(c->loop, &j->req, job_work, job_done) != 0) {
			for (size_t i = 0; i < j->n; i++)
				end_key(c, j->w[i].key, true, 0);
			free(j);
			return;
		}
		c->jobs++;
		c->sync_jobs++;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct ctl_controller *c = t->data;

	ctl_queue_tick(c->q, uv_now(c->loop));
	start_feed(c);
	pump(c);
}

/* ---- Lifecycle ---------------------------------------------------------------------------- */

int ctl_controller_new(uv_loop_t *loop, struct cons *cons, struct store *store,
                       const struct ctl_config *cfg, struct ctl_controller **out)
{
	struct ctl_controller *c = calloc(1, sizeof *c);

	if (c == NULL)
		return STSD_NOMEM;
	c->loop = loop;
	c->cons = cons;
	c->sh.store = store;
	c->sh.cfg = cfg ? *cfg : (struct ctl_config){0};
	if (c->sh.cfg.node_grace_ms <= 0)
		c->sh.cfg.node_grace_ms = 40000;
	if (c->sh.cfg.fence_after_ms <= 0)
		c->sh.cfg.fence_after_ms = 15000;
	if (c->sh.cfg.fence_margin_ms <= 0)
		c->sh.cfg.fence_margin_ms = 5000;
	if (c->sh.cfg.cluster_cidr == NULL)
		c->sh.cfg.cluster_cidr = "10.244.0.0/16";
	if (c->sh.cfg.node_cidr_mask == 0)
		c->sh.cfg.node_cidr_mask = 24;
	if (c->sh.cfg.workers == 0)
		c->sh.cfg.workers = 2;
	if (c->sh.cfg.event_ttl_s <= 0)
		c->sh.cfg.event_ttl_s = 3600;
	c->st.first_action_ms = -1;
	{
		char cidr[64];
		if (ctl_node_cidr(NULL, 0, c->sh.cfg.cluster_cidr, c->sh.cfg.node_cidr_mask, cidr,
		                  sizeof cidr) != STSD_OK) {
			log_error("controller",
			          "event=bad_config cluster_cidr=%s node_cidr_mask=%u",
			          c->sh.cfg.cluster_cidr, c->sh.cfg.node_cidr_mask);
			free(c);
			return STSD_INVALID;
		}
	}
	if ((c->q = ctl_queue_new()) == NULL || (c->sh.sched = sched_cache_new()) == NULL ||
	    (c->sh.cidrs = cidr_cache_new()) == NULL) {
		ctl_queue_free(c->q);
		sched_cache_free(c->sh.sched);
		free(c);
		return STSD_NOMEM;
	}
	uv_timer_init(loop, &c->tick);
	c->tick.data = c;
	*out = c;
	return STSD_OK;
}

void ctl_controller_leader(struct ctl_controller *c, bool leader)
{
	struct store_reader *rd;

	if (c->stopping || leader == c->leading)
		return;
	c->epoch++;
	c->leading = leader;
	ctl_queue_clear(c->q);
	if (!leader) {
		uv_timer_stop(&c->tick);
		log_info("controller", "event=stopped reason=leadership_lost");
		return;
	}
	c->lead_ms = uv_now(c->loop);
	c->st.first_action_ms = -1;
	/* Every node's silence is counted from now: this leader has seen no renewal yet. */
	restart_clocks(c);
	sched_cache_invalidate(c->sh.sched);
	if (store_read_begin(c->sh.store, &rd) == STSD_OK) {
		c->fed = c->applied = store_reader_applied_index(rd);
		store_read_end(rd);
	}
	ctl_queue_add(c->q, "r");
	ctl_queue_add_after(c->q, "e", c->lead_ms, sweep_ms(c));
	uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
	log_info("controller", "event=started applied=%llu", (unsigned long long)c->fed);
	pump(c);
}

void ctl_controller_applied(struct ctl_controller *c, uint64_t revision)
{
	if (revision > c->applied)
		c->applied = revision;
	start_feed(c);
}

static void tick_closed(uv_handle_t *h)
{
	struct ctl_controller *c = h->data;

	c->tick.data = NULL;
	maybe_done(c);
}

/* Stopping ends in two steps: done() once no job runs on the thread pool (consensus may then
 * stop, which completes the proposals still in flight), and the controller is freed with the
 * last of those. */
static void maybe_done(struct ctl_controller *c)
{
	if (!c->stopping || c->jobs || c->tick.data || c->in_done)
		return;
	if (!c->done_called) {
		/* done() stops consensus, which answers the proposals still in flight at once:
		 * their callbacks come back here, and must not free c under this frame. */
		c->done_called = true;
		c->in_done = true;
		if (c->done)
			c->done(c->done_ud);
		c->in_done = false;
	}
	if (c->proposals)
		return;
	ctl_queue_free(c->q);
	sched_cache_free(c->sh.sched);
	cidr_cache_free(c->sh.cidrs);
	for (size_t i = 0; i < c->n_nodes; i++)
		free(c->nodes[i].name);
	free(c->nodes);
	free(c);
}

void ctl_controller_stop(struct ctl_controller *c, void (*done)(void *ud), void *ud)
{
	c->stopping = true;
	c->leading = false;
	c->epoch++;
	c->done = done;
	c->done_ud = ud;
	ctl_queue_clear(c->q);
	uv_timer_stop(&c->tick);
	uv_close((uv_handle_t *)&c->tick, tick_closed);
}

void ctl_controller_stats(const struct ctl_controller *c, struct ctl_stats *out)
{
	*out = c->st;
	out->leading = c->leading;
	out->queued = ctl_queue_ready(c->q);
	out->running = ctl_queue_running(c->q);
	out->delayed = ctl_queue_delayed(c->q);
}
