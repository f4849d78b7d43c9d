/* stsd — one replica of the stsd control plane: the store, Raft consensus with the other replicas,
 * and the API, on one libuv loop. SIGTERM/SIGINT stop it in order: API, consensus, store. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "cons.h"
#include "controller.h"
#include "errors.h"
#include "log.h"
#include "options.h"
#include "store.h"

/* Change-log retention: the applied index is sampled every HISTORY_TICK_S seconds; the log is
 * compacted up to the sample taken watch_history seconds ago (as etcd is compacted every five
 * minutes under Kubernetes, so a watch can resume from any rv of the last five minutes). */
#define HISTORY_TICK_S  10
#define HISTORY_SAMPLES (86400 / HISTORY_TICK_S + 1)

struct replica {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t history;
	uint64_t *samples; /* ring of applied indexes, one per tick */
	size_t n_samples, next_sample;
	struct stsd_options opt;
	struct store *store;
	struct cons *cons;
	struct api_server *api;
	struct ctl_controller *ctl;
	bool stopping;
	int exit_code;
};

static void on_leader(void *ud, bool leader)
{
	struct replica *r = ud;

	if (r->api)
		api_on_leader(r->api, leader);
	if (r->ctl)
		ctl_controller_leader(r->ctl, leader);
}

static void on_applied(void *ud, uint64_t revision)
{
	struct replica *r = ud;

	if (r->api)
		api_on_applied(r->api, revision);
	if (r->ctl)
		ctl_controller_applied(r->ctl, revision);
}

/* The controller's figures for /metrics (Prometheus text). */
static char *controller_metrics(void *ud)
{
	struct replica *r = ud;
	struct ctl_stats st;
	char *text = NULL;

	if (r->ctl == NULL)
		return NULL;
	ctl_controller_stats(r->ctl, &st);
	if (asprintf(
	        &text,
	        "# HELP stsd_controller_leading 1 while this replica's controller runs.\n"
	        "# TYPE stsd_controller_leading gauge\nstsd_controller_leading %d\n"
	        "# HELP stsd_controller_syncs_total Keys synced (sets, nodes, collections).\n"
	        "# TYPE stsd_controller_syncs_total counter\nstsd_controller_syncs_total %llu\n"
	        "# HELP stsd_controller_commands_total Commands the controller proposed.\n"
	        "# TYPE stsd_controller_commands_total counter\n"
	        "stsd_controller_commands_total %llu\n"
	        "# HELP stsd_controller_command_failures_total Commands that failed their "
	        "preconditions or did not commit.\n"
	        "# TYPE stsd_controller_command_failures_total counter\n"
	        "stsd_controller_command_failures_total %llu\n"
	        "# HELP stsd_controller_queue Keys ready, being synced, and waiting for a delay.\n"
	        "# TYPE stsd_controller_queue gauge\nstsd_controller_queue{state=\"ready\"} %zu\n"
	        "stsd_controller_queue{state=\"running\"} %zu\n"
	        "stsd_controller_queue{state=\"delayed\"} %zu\n"
	        "# HELP stsd_controller_first_action_ms From gaining leadership to the "
	        "controller's first proposal (-1: none yet).\n"
	        "# TYPE stsd_controller_first_action_ms gauge\n"
	        "stsd_controller_first_action_ms %lld\n",
	        st.leading ? 1 : 0, (unsigned long long)st.syncs, (unsigned long long)st.commands,
	        (unsigned long long)st.command_failures, st.queued, st.running, st.delayed,
	        (long long)st.first_action_ms) < 0)
		return NULL;
	return text;
}

static void signal_closed(uv_handle_t *h)
{
	(void)h;
}

static void history_tick(uv_timer_t *t)
{
	struct replica *r = t->data;
	size_t keep = (size_t)r->opt.watch_history_s / HISTORY_TICK_S + 1;
	struct store_reader *rd;
	uint64_t applied, oldest, removed = 0;

	if (store_read_begin(r->store, &rd) != STSD_OK)
		return;
	applied = store_reader_applied_index(rd);
	store_read_end(rd);
	r->samples[r->next_sample] = applied;
	r->next_sample = (r->next_sample + 1) % keep;
	if (r->n_samples < keep) {
		r->n_samples++;
		return;
	}
	oldest = r->samples[r->next_sample]; /* the slot written next is the oldest sample */
	if (oldest && store_compact(r->store, oldest, &removed) == STSD_OK && removed)
		log_debug("stsd", "event=changes_compacted upto=%llu removed=%llu",
		          (unsigned long long)oldest, (unsigned long long)removed);
}

static void close_signals(struct replica *r)
{
	uv_close((uv_handle_t *)&r->sigterm, signal_closed);
	uv_close((uv_handle_t *)&r->sigint, signal_closed);
	uv_close((uv_handle_t *)&r->sighup, signal_closed);
}

static void cons_stopped(void *ud)
{
	struct replica *r = ud;

	store_close(r->store);
	r->store = NULL;
	close_signals(r);
	log_info("stsd", "event=stopped id=%llu", (unsigned long long)r->opt.id);
}

static void controller_stopped(void *ud)
{
	struct replica *r = ud;

	r->ctl = NULL;
	cons_stop(r->cons, cons_stopped, r);
}

static void api_stopped(void *ud)
{
	struct replica *r = ud;

	r->api = NULL;
	if (r->ctl)
		ctl_controller_stop(r->ctl, controller_stopped, r);
	else
		controller_stopped(r);
}

static void shutdown_replica(struct replica *r)
{
	if (r->stopping)
		return;
	r->stopping = true;
	log_info("stsd", "event=stopping id=%llu", (unsigned long long)r->opt.id);
	if (r->samples) {
		uv_timer_stop(&r->history);
		uv_close((uv_handle_t *)&r->history, signal_closed);
	}
	if (r->api)
		api_stop(r->api, api_stopped, r);
	else
		api_stopped(r);
}

/* SIGHUP: certificates and credentials are read again; a failure keeps the old ones. */
static void on_hup(uv_signal_t *h, int signum)
{
	struct replica *r = h->data;
	char err[512] = "";

	(void)signum;
	if (r->api == NULL || r->stopping)
		return;
	if (api_reload(r->api, err, sizeof err) == STSD_OK)
		log_info("stsd", "event=reloaded what=\"certificates, client CA, tokens\"");
	else
		log_error("stsd", "event=reload_failed err=\"%s\" msg=\"keeping what was loaded\"",
		          err);
}

static void on_signal(uv_signal_t *h, int signum)
{
	log_info("stsd", "event=signal signal=%s", signum == SIGTERM ? "TERM" : "INT");
	shutdown_replica(h->data);
}

static int make_dirs(const struct stsd_options *o, char *store_dir, char *raft_dir, size_t len)
{
	if (mkdir(o->data_dir, 0700) != 0 && errno != EEXIST) {
		log_error("stsd", "event=start_failed err=\"mkdir %s: %s\"", o->data_dir,
		          strerror(errno));
		return STSD_IO;
	}
	snprintf(store_dir, len, "%s/store", o->data_dir);
	snprintf(raft_dir, len, "%s/raft", o->data_dir);
	if (mkdir(store_dir, 0700) != 0 && errno != EEXIST) {
		log_error("stsd", "event=start_failed err=\"mkdir %s: %s\"", store_dir,
		          strerror(errno));
		return STSD_IO;
	}
	return STSD_OK;
}

static int start(struct replica *r)
{
	const struct stsd_options *o = &r->opt;
	char store_dir[4200], raft_dir[4200], err[512] = "";
	struct cons_options co = {
	    .id = o->id,
	    .raft_address = o->raft_address,
	    .api_address = o->api_address,
	    .raft_dir = raft_dir,
	    .bootstrap = o->peers,
	    .n_bootstrap = o->n_peers,
	    .election_timeout_ms = (unsigned)o->election_timeout_ms,
	    .heartbeat_ms = (unsigned)o->heartbeat_ms,
	    .snapshot_threshold = (unsigned)o->snapshot_threshold,
	    .snapshot_trailing = (unsigned)o->snapshot_trailing,
	    .propose_timeout_ms = (unsigned)o->propose_timeout_ms,
	    .connect_retry_ms = (unsigned)o->connect_retry_ms,
	};
	struct api_options ao = {.address = o->api_address,
	                         .raft_address = o->raft_address,
	                         .join = o->joins,
	                         .n_join = o->n_joins,
	                         .tls_cert_file = o->tls_cert_file,
	                         .tls_key_file = o->tls_key_file,
	                         .client_ca_file = *o->client_ca_file ? o->client_ca_file : NULL,
	                         .token_file = *o->token_file ? o->token_file : NULL,
	                         .insecure_http = o->insecure_http,
	                         .extra_metrics = controller_metrics,
	                         .extra_metrics_ud = r};
	int rv;

	if (make_dirs(o, store_dir, raft_dir, sizeof store_dir) != STSD_OK)
		return STSD_IO;
	if ((rv = store_open(store_dir, NULL, &r->store, err, sizeof err)) != STSD_OK)
		goto fail;
	co.store = ao.store = r->store;
	if ((rv = cons_start(&r->loop, &co, &r->cons, err, sizeof err)) != STSD_OK)
		goto fail;
	ao.cons = r->cons;
	if (!o->no_controller) {
		struct ctl_config cc = {.node_grace_ms = o->node_grace_ms,
		                        .fence_after_ms = o->fence_after_ms,
		                        .fence_margin_ms = o->fence_margin_ms,
		                        .cluster_cidr = o->cluster_cidr,
		                        .node_cidr_mask = (unsigned)o->node_cidr_mask,
		                        .workers = (unsigned)o->controller_workers,
		                        .event_ttl_s = o->event_ttl_s};
		if ((rv = ctl_controller_new(&r->loop, r->cons, r->store, &cc, &r->ctl)) != STSD_OK)
			goto fail;
	}
	cons_set_callbacks(r->cons, on_leader, on_applied, r);
	if ((r->samples = calloc(HISTORY_SAMPLES, sizeof *r->samples)) == NULL) { /* 70 KiB */
		rv = STSD_NOMEM;
		goto fail;
	}
	uv_timer_init(&r->loop, &r->history);
	r->history.data = r;
	uv_timer_start(&r->history, history_tick, HISTORY_TICK_S * 1000, HISTORY_TICK_S * 1000);
	if ((rv = api_start(&r->loop, &ao, &r->api, err, sizeof err)) != STSD_OK)
		goto fail;
	return STSD_OK;
fail:
	log_error("stsd", "event=start_failed err=%s detail=\"%s\"", stsd_errname(rv), err);
	return rv;
}

static void run(struct replica *r)
{
	uv_signal_init(&r->loop, &r->sigterm);
	uv_signal_init(&r->loop, &r->sigint);
	uv_signal_init(&r->loop, &r->sighup);
	r->sigterm.data = r->sigint.data = r->sighup.data = r;
	uv_signal_start(&r->sigterm, on_signal, SIGTERM);
	uv_signal_start(&r->sigint, on_signal, SIGINT);
	uv_signal_start(&r->sighup, on_hup, SIGHUP);
	if (start(r) != STSD_OK) {
		r->exit_code = 1;
		if (r->cons)
			shutdown_replica(r); /* closes cons, then the store */
		else {
			if (r->store)
				store_close(r->store);
			r->store = NULL;
			close_signals(r);
		}
	} else {
		log_info("stsd", "event=started id=%llu api=%s raft=%s data=%s",
		         (unsigned long long)r->opt.id, r->opt.api_address, r->opt.raft_address,
		         r->opt.data_dir);
	}
	uv_run(&r->loop, UV_RUN_DEFAULT);
	free(r->samples);
	r->samples = NULL;
}

int main(int argc, char **argv)
{
	static struct replica r;
	int rv = options_parse(argc, argv, &r.opt);

	if (rv != 0)
		return rv == 1 ? 0 : 2;
	log_set_level((enum log_level)log_parse_level(r.opt.log_level));
	signal(SIGPIPE, SIG_IGN);
	/* libuv's thread pool (4 threads by default) runs Raft's disk writes beside our own jobs:
	 * the controller's syncs, list reads and watch starts. 8 keeps threads for Raft while those
	 * run (decision 011); an operator's UV_THREADPOOL_SIZE wins. Set before the pool starts. */
	setenv("UV_THREADPOOL_SIZE", "8", 0);
	/* glibc gives each thread that allocates its own arena (up to 8 per core), and the pool's
	 * threads parse large lists: two arenas keep the resident memory of a busy leader within
	 * bounds (issue 6's RssAnon target) at no measurable cost. MALLOC_ARENA_MAX wins. */
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		mallopt(M_ARENA_MAX, 2);
	uv_loop_init(&r.loop);
	run(&r);
	if (uv_loop_close(&r.loop) != 0)
		log_warn("stsd", "event=loop_not_empty");
	return r.exit_code;
}
