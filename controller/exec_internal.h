/* exec_internal.h — the parts of the executor (controller.h) and what they share.
 *
 *   exec.c        loop side: leadership, the queue, jobs on the thread pool, proposals, timers
 *   exec_feed.c   worker: change log -> keys to sync (and lease renewals seen)
 *   exec_cmd.c    worker: plan actions -> store ops of commands (owned strings)
 *   exec_sched.c  worker: the shared scheduler snapshot, volume pinning and binding
 *   sync_sts.c    worker: one StatefulSet (revisions, adoption, the planner, scheduling)
 *   sync_node.c   worker: one Node (pod CIDR, NotReady, fencing)
 *   sync_gc.c     worker: one dependent object whose owner may be gone, one PV to reclaim
 *
 * Keys: a letter, then tab-separated parts: "s\tNS\tNAME" a StatefulSet, "n\tNAME" a node,
 * "g\tRESOURCE\tNS\tNAME" a dependent to collect, "v\tNAME" a PV to reclaim, "r" the resync
 * of everything (the first job of a leadership), "o" the search for dependents of vanished sets,
 * "e" the expiry of old Events. */
#ifndef STSD_CONTROLLER_EXEC_INTERNAL_H
#define STSD_CONTROLLER_EXEC_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller.h"
#include "plan.h"
#include "store.h"

#define KEY_MAX 600

/* ---- Commands (exec_cmd.c) ---------------------------------------------------------------- */

/* One command: store ops, and the strings they point to (owned). */
struct ctl_cmd {
	struct store_op *ops;
	size_t n, cap;
	char **owned;
	size_t n_owned, cap_owned;
	bool oom;
};

/* The commands one sync proposes, in order. */
struct ctl_cmds {
	struct ctl_cmd *c;
	size_t n, cap;
	bool oom;
};

/* Make room for a group of n_ops ops of about bytes bytes that must share one command: starts a
 * new command when there is none or the group would make the last one too big (CMD_MAX_OPS,
 * CMD_MAX_BYTES). */
void cmd_reserve(struct ctl_cmds *cs, size_t n_ops, size_t bytes);
/* A new zeroed op at the end of the last command; NULL on out of memory (oom set). */
struct store_op *cmd_op(struct ctl_cmds *cs);
/* A copy of s owned by the last command (NULL for NULL, and on out of memory: oom set). */
const char *cmd_str(struct ctl_cmds *cs, const char *s);
/* The compact JSON of obj owned by the last command. */
const char *cmd_json(struct ctl_cmds *cs, const json_t *obj, size_t *len);
void cmd_free(struct ctl_cmds *cs);
/* Add to every command of cs a precondition: resource ns/name still at rv (0: still absent). */
int cmd_assert_all(struct ctl_cmds *cs, const char *resource, const char *ns, const char *name,
                   uint64_t rv);
size_t cmd_count_ops(const struct ctl_cmds *cs);

/* A random UUID (version 4) into out. */
void cmd_uuid(char out[37]);

/* What the translation of a plan needs to know beyond the actions. */
struct cmd_env {
	int64_t now;           /* unix seconds */
	const char *component; /* Events' source ("statefulset-controller") */
	/* Look up an object of the snapshot (for a pod's DELETE: bound? finished? its uid?). */
	const json_t *(*lookup)(void *ud, const char *resource, const char *name);
	/* The claim (ns, set, ordinal) state as read: 0 none, 1 held by uid, 2 releasing. */
	int (*claim_of)(void *ud, const char *set, uint32_t ordinal, const char **uid);
	void *ud;
};

/* Append the ops of every action of plan to cs: objects as they are, pods deleted as the API
 * deletes them (see exec_cmd.c), claims taken with their pods (CREATE gets a uid of its own when
 * obj has none), Events as objects. Returns 0 or STSD_NOMEM. */
int cmd_from_plan(struct ctl_cmds *cs, const struct ctl_plan *plan, const struct cmd_env *env);

/* ---- The scheduler snapshot (exec_sched.c) ------------------------------------------------ */

struct sched_cache;
struct sched_cache *sched_cache_new(void);
void sched_cache_free(struct sched_cache *sc);
/* Something the snapshot holds changed (a node, a pod gone): rebuild before the next pick, at
 * most once per SCHED_REBUILD_MS. Any thread. */
void sched_cache_invalidate(struct sched_cache *sc);
/* Choose a node for pod (pinned: a local volume's node, or NULL) and count it there. 0 with the
 * node, STSD_NOTFOUND with why, or an error. Any thread (serialized inside). */
int sched_cache_pick(struct sched_cache *sc, struct store *store, const json_t *pod,
                     const char *pinned, char *node, size_t len, char *why, size_t whylen);

/* ---- Work on the thread pool -------------------------------------------------------------- */

/* What a worker gets and gives for one key. */
struct work {
	char key[KEY_MAX];
	int64_t silent_ms; /* node keys: ms without a renewal seen (loop side) */
	uint64_t fed_rv;   /* node keys: the loop has seen every renewal up to this revision */
	/* Results. */
	int rv;               /* 0, or why the sync failed (retried with backoff) */
	struct ctl_cmds cmds; /* to propose, in order */
	int64_t requeue_ms;   /* > 0: sync again after this long */
	char **more;          /* keys to queue too (owned) */
	size_t n_more, cap_more;
};

/* Pod CIDRs planned but not applied yet (sync_cidr.c; locks inside). */
struct cidr_cache;
struct cidr_cache *cidr_cache_new(void);
void cidr_cache_free(struct cidr_cache *cc);

/* What every worker shares (read-only but for the caches, which lock). */
struct ctl_shared {
	struct store *store;
	struct sched_cache *sched;
	struct cidr_cache *cidrs;
	struct ctl_config cfg;
};

void work_more(struct work *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void work_release(struct work *w);

/* Per key kind; fill w's results. */
void sync_sts(const struct ctl_shared *sh, struct work *w, const char *ns, const char *name);
void sync_node(const struct ctl_shared *sh, struct work *w, const char *name);
void sync_gc(const struct ctl_shared *sh, struct work *w, const char *resource, const char *ns,
             const char *name);
void sync_pv(const struct ctl_shared *sh, struct work *w, const char *name);
/* The resync of a new leadership: every StatefulSet, Node and PV gets a key, then "o". */
void sync_all(const struct ctl_shared *sh, struct work *w);
/* "e": Events older than an hour are deleted. */
void sync_events(const struct ctl_shared *sh, struct work *w);
/* "o": dependents of StatefulSets that no longer exist get a collection key. */
void sync_orphans(const struct ctl_shared *sh, struct work *w);

/* ---- The change feed (exec_feed.c) -------------------------------------------------------- */

struct feed {
	uint64_t after, upto; /* changes in (after, upto] */
	uint64_t reached;     /* the last revision read */
	bool expired;         /* the log was compacted past after: resync everything */
	char **keys;          /* to queue ("~KEY": soon, after FEED_COALESCE_MS) */
	size_t n_keys, cap_keys;
	char **renewed; /* nodes whose lease renewed */
	size_t n_renewed, cap_renewed;
	bool sched_stale;
};
void feed_run(const struct ctl_shared *sh, struct feed *f);
void feed_release(struct feed *f);

/* The claim key of a pod named "<set>-<ordinal>" (canonical decimal, at most UINT32_MAX): what
 * its claim is found by, whatever its ownerReferences say now (an orphaned pod still holds its
 * claim, as the API's api_obj_claim_op finds it). */
bool ctl_pod_claim_key(const char *name, char *set, size_t len, uint32_t *ordinal);

/* Shared string-list helpers (a copy of s, or of the formatted key, is appended). */
int strlist_add(char ***list, size_t *n, size_t *cap, const char *s);
int strlist_addv(char ***list, size_t *n, size_t *cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* ---- Small JSON helpers of the executor --------------------------------------------------- */

/* The controller ownerReference of obj (kind and name), or NULL. */
const json_t *ctl_controller_ref(const json_t *obj);
/* Parse a stored object (NULL on malformed JSON). */
json_t *ctl_parse(const struct store_object *o);

#endif
