/* test_fixture.c — the real FSM and store under raft_fixture's deterministic cluster: elections,
 * partitions, kills and revivals, disk faults, snapshot installs and a seeded random schedule.
 * After every scenario all live replicas hold the same store digest at the same applied index. */
#include <raft.h>
#include <raft/fixture.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../consensus/internal.h"
#include "errors.h"
#include "helpers.h"
#include "log.h"

#define MAX_N 5

struct cluster {
	struct raft_fixture f;
	unsigned n;
	char dirs[MAX_N][256];
	struct store *stores[MAX_N];
	struct cons_fsm fsms[MAX_N];
	uint64_t proposal;
	unsigned committed, failed;
};

static void cluster_start(struct cluster *cl, unsigned n, unsigned threshold)
{
	struct raft_configuration conf;
	char err[256];

	memset(cl, 0, sizeof *cl);
	cl->n = n;
	assert_int_equal(raft_fixture_initialize(&cl->f), 0);
	for (unsigned i = 0; i < n; i++) {
		fx_tmpdir(cl->dirs[i], sizeof cl->dirs[i]);
		assert_int_equal(store_open(cl->dirs[i], NULL, &cl->stores[i], err, sizeof err),
		                 STSD_OK);
		cons_fsm_init(&cl->fsms[i], NULL, cl->stores[i], i + 1, NULL);
		assert_int_equal(raft_fixture_grow(&cl->f, &cl->fsms[i].fsm), 0);
		cl->fsms[i].raft = raft_fixture_get(&cl->f, i);
		raft_set_pre_vote(cl->fsms[i].raft, true); /* as stsd runs it */
		if (threshold) {
			raft_set_snapshot_threshold(cl->fsms[i].raft, threshold);
			raft_set_snapshot_trailing(cl->fsms[i].raft, 2);
		}
	}
	assert_int_equal(raft_fixture_configuration(&cl->f, n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&cl->f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&cl->f), 0);
}

static void cluster_stop(struct cluster *cl)
{
	raft_fixture_close(&cl->f);
	for (unsigned i = 0; i < cl->n; i++) {
		cons_fsm_close(&cl->fsms[i]);
		store_close(cl->stores[i]);
		fx_rmrf(cl->dirs[i]);
	}
}

struct pending {
	struct raft_apply req;
	struct cluster *cl;
};

static void applied_cb(struct raft_apply *req, int status, void *result)
{
	struct pending *p = req->data;

	assert_null(result);
	if (status == 0)
		p->cl->committed++;
	else
		p->cl->failed++;
	free(p);
}

/* Propose on server i one entry creating configmap name. Every third entry carries a second
 * command creating name again (it fails on its own: AlreadyExists), every third another one
 * creating name-b: entries of several commands, as group commit makes them. Returns raft_apply's
 * code and the entry's index (0 if refused). */
static int propose(struct cluster *cl, unsigned i, const char *name, uint64_t *index)
{
	char json[128], other[64], *cmds[2];
	struct store_op op = {.type = STORE_OP_CREATE,
	                      .resource = "configmaps",
	                      .ns = "default",
	                      .name = name,
	                      .json = json};
	struct store_op op2 = op;
	size_t lens[2], n = 1 + (cl->proposal % 3 != 0);
	struct raft_buffer buf;
	struct pending *p = calloc(1, sizeof *p);
	struct arena a;
	int rv;

	snprintf(json, sizeof json, "{\"data\":{\"n\":\"%llu\"}}",
	         (unsigned long long)cl->proposal);
	op.json_len = op2.json_len = strlen(json);
	snprintf(other, sizeof other, "%s-b", name);
	if (cl->proposal % 3 == 2)
		op2.name = other;
	arena_init(&a, 4096);
	for (size_t k = 0; k < n; k++) {
		cl->proposal++;
		assert_int_equal(cons_command_encode(i + 1, cl->proposal, 1764072000,
		                                     k ? &op2 : &op, 1, &a, &cmds[k], &lens[k]),
		                 STSD_OK);
	}
	assert_int_equal(cons_entry_build(cmds, lens, n, &buf), STSD_OK);
	assert_int_equal(buf.len % 8, 0); /* raft_uv's transport needs entries padded to 8 */
	for (size_t k = 0; k < n; k++)
		free(cmds[k]);
	arena_close(&a);
	p->cl = cl;
	p->req.data = p;
	rv = raft_apply(raft_fixture_get(&cl->f, i), &p->req, &buf, 1, applied_cb);
	if (rv != 0) {
		raft_free(buf.base);
		free(p);
	}
	if (index)
		*index = rv == 0 ? p->req.index : 0;
	return rv;
}

static void dump(struct cluster *cl)
{
	for (unsigned i = 0; i < cl->n; i++) {
		struct raft *r = raft_fixture_get(&cl->f, i);
		fprintf(stderr,
		        "# server %u alive=%d state=%d term=%llu commit=%llu applied=%llu\n", i,
		        raft_fixture_alive(&cl->f, i), raft_state(r),
		        (unsigned long long)r->current_term, (unsigned long long)r->commit_index,
		        (unsigned long long)raft_last_applied(r));
		if (raft_state(r) == RAFT_LEADER)
			for (unsigned j = 0; j < r->configuration.n; j++)
				fprintf(
				    stderr,
				    "#   progress[%u] id=%llu state=%u next=%llu match=%llu recent=%d\n",
				    j, (unsigned long long)r->configuration.servers[j].id,
				    r->leader_state.progress[j].state,
				    (unsigned long long)r->leader_state.progress[j].next_index,
				    (unsigned long long)r->leader_state.progress[j].match_index,
				    r->leader_state.progress[j].recent_recv);
	}
}

static unsigned leader_of(struct cluster *cl)
{
	if (!raft_fixture_step_until_has_leader(&cl->f, 10000))
		dump(cl);
	assert_true(raft_fixture_step_until_has_leader(&cl->f, 1));
	return raft_fixture_leader_index(&cl->f);
}

static uint64_t store_applied(struct cluster *cl, unsigned i)
{
	uint64_t applied;
	unsigned char d[32];

	fx_digest(cl->stores[i], d, &applied);
	return applied;
}

static bool unavailable(struct cluster *cl, unsigned i)
{
	return raft_state(raft_fixture_get(&cl->f, i)) == RAFT_UNAVAILABLE;
}

struct live_applied {
	struct cluster *cl;
	uint64_t index;
};

static bool live_applied(struct raft_fixture *f, void *arg)
{
	struct live_applied *la = arg;

	for (unsigned i = 0; i < la->cl->n; i++)
		if (!unavailable(la->cl, i) &&
		    raft_last_applied(raft_fixture_get(f, i)) < la->index)
			return false;
	return true;
}

/* A server whose raft turned unavailable (a disk fault it cannot survive) is dead for good under
 * the fixture, which cannot restart it from disk; stsd exits in that state (cmd/stsd). */
static bool step_until_live_applied(struct cluster *cl, uint64_t index, unsigned max_ms)
{
	struct live_applied la = {cl, index};

	return raft_fixture_step_until(&cl->f, live_applied, &la, max_ms);
}

/* Heal everything, commit one more entry, wait until every server applied it, then compare. */
static void converge(struct cluster *cl)
{
	uint64_t index = 0, applied0;
	unsigned char d0[32], d[32];
	unsigned l;

	for (unsigned i = 0; i < cl->n; i++) {
		if (!raft_fixture_alive(&cl->f, i))
			raft_fixture_revive(&cl->f, i);
		for (unsigned j = 0; j < cl->n; j++)
			if (i != j)
				raft_fixture_desaturate(&cl->f, i, j);
	}
	for (int attempt = 0; index == 0 && attempt < 20; attempt++) {
		l = leader_of(cl);
		if (propose(cl, l, "converge", &index) != 0)
			raft_fixture_step_n(&cl->f, 10);
	}
	assert_true(index > 0);
	/* raft 0.15 leaves a follower whose log tail the leader misjudges (a revived one, or one
	 * with an uncommitted entry of an old term) behind until the leader appends again: a second
	 * entry stands for the idle nudge stsd's leader sends (consensus/node.c). */
	raft_fixture_step_until_applied(&cl->f, l, index, 3000);
	propose(cl, l, "converge-2", &index);
	if (!step_until_live_applied(cl, index, 30000)) {
		fprintf(stderr, "# converge: index %llu not applied everywhere\n",
		        (unsigned long long)index);
		dump(cl);
		fail();
	}
	fx_digest(cl->stores[l], d0, &applied0);
	for (unsigned i = 0; i < cl->n; i++) {
		uint64_t applied;
		if (unavailable(cl, i))
			continue;
		fx_digest(cl->stores[i], d, &applied);
		assert_int_equal(applied, applied0);
		assert_memory_equal(d, d0, 32);
	}
}

static void apply_index_is_raft_index(void **state)
{
	struct cluster cl;
	uint64_t index;
	char name[32];

	(void)state;
	cluster_start(&cl, 3, 0);
	raft_fixture_elect(&cl.f, 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "cm-%d", i);
		assert_int_equal(propose(&cl, 0, name, &index), 0);
		assert_true(raft_fixture_step_until_applied(&cl.f, 3, index, 5000));
		/* The store's applied index, and the object's resourceVersion, are the entry's
		 * index (raft_last_applied + 1 at apply time, as RAFT-NOTES says). */
		for (unsigned s = 0; s < 3; s++) {
			struct fixture fx = {.s = cl.stores[s]};
			assert_int_equal(store_applied(&cl, s), index);
			char rv[32];
			snprintf(rv, sizeof rv, "%llu", (unsigned long long)index);
			assert_string_equal(
			    fx_meta(&fx, "configmaps", "default", name, "resourceVersion"), rv);
		}
	}
	converge(&cl);
	cluster_stop(&cl);
}

static void partitioned_leader(void **state)
{
	struct cluster cl;
	uint64_t stale, index;
	unsigned l2;

	(void)state;
	cluster_start(&cl, 3, 0);
	raft_fixture_elect(&cl.f, 0);
	assert_int_equal(propose(&cl, 0, "before", &index), 0);
	assert_true(raft_fixture_step_until_applied(&cl.f, 3, index, 5000));
	/* Cut the leader off; its proposal can never commit. */
	/* (The fixture's leader detection counts saturated links as cut, not disconnected ones.) */
	raft_fixture_saturate(&cl.f, 0, 1);
	raft_fixture_saturate(&cl.f, 0, 2);
	raft_fixture_saturate(&cl.f, 1, 0);
	raft_fixture_saturate(&cl.f, 2, 0);
	assert_int_equal(propose(&cl, 0, "stale", &stale), 0);
	assert_true(raft_fixture_step_until_has_no_leader(&cl.f, 10000) ||
	            raft_fixture_leader_index(&cl.f) != 0);
	l2 = leader_of(&cl);
	assert_int_not_equal(l2, 0);
	assert_int_equal(propose(&cl, l2, "after", &index), 0);
	assert_true(raft_fixture_step_until_applied(&cl.f, l2, index, 5000));
	converge(&cl);
	/* The stale entry was overwritten: no replica has it. */
	for (unsigned s = 0; s < 3; s++) {
		struct fixture fx = {.s = cl.stores[s]};
		assert_null(fx_get(&fx, "configmaps", "default", "stale", NULL));
	}
	cluster_stop(&cl);
}

static void kill_and_revive(void **state)
{
	struct cluster cl;
	uint64_t index;
	char name[32];

	(void)state;
	cluster_start(&cl, 5, 0);
	raft_fixture_elect(&cl.f, 0);
	raft_fixture_kill(&cl.f, 3);
	raft_fixture_kill(&cl.f, 4);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "k-%d", i);
		assert_int_equal(propose(&cl, 0, name, &index), 0);
	}
	assert_true(raft_fixture_step_until_applied(&cl.f, 0, index, 10000));
	/* A third failure loses the quorum: nothing commits until a revival. */
	raft_fixture_kill(&cl.f, 2);
	assert_int_equal(propose(&cl, 0, "no-quorum", &index), 0);
	raft_fixture_step_until_elapsed(&cl.f, 2000);
	assert_true(store_applied(&cl, 0) < index);
	raft_fixture_revive(&cl.f, 3);
	converge(&cl);
	cluster_stop(&cl);
}

static unsigned other_than(unsigned a, unsigned b, unsigned skip)
{
	for (unsigned i = a; i <= b; i++)
		if (i != skip)
			return i;
	return b;
}

static void cut(struct cluster *cl, unsigned a, unsigned b)
{
	raft_fixture_saturate(&cl->f, a, b);
	raft_fixture_saturate(&cl->f, b, a);
}

static void join(struct cluster *cl, unsigned a, unsigned b)
{
	raft_fixture_desaturate(&cl->f, a, b);
	raft_fixture_desaturate(&cl->f, b, a);
}

static bool has_cm(struct cluster *cl, unsigned i, const char *name)
{
	struct fixture fx = {.s = cl->stores[i]};
	char *json = fx_get(&fx, "configmaps", "default", name, NULL);

	free(json);
	return json != NULL;
}

/* A follower holding an uncommitted entry of an old term (X, at index N) must not count as holding
 * a new leader's different entry at N. 0 and 1 hold X; leader L (elected by 2, 3, 4, without X) is
 * then connected only to 0 and 1, exchanges heartbeats with them, and appends Y at N. If L counted
 * their stale tails it would commit Y alone; when L dies, 0 or 1 leads and commits X at N: the
 * replicas' stores diverge (caught by converge's digest check). */
static void stale_tail_is_not_counted(void **state)
{
	struct cluster cl;
	uint64_t x_index, y_index, index;
	unsigned l, o1, o2;

	(void)state;
	cluster_start(&cl, 5, 0);
	raft_fixture_elect(&cl.f, 0);
	assert_int_equal(propose(&cl, 0, "base", &index), 0);
	assert_true(raft_fixture_step_until_applied(&cl.f, 5, index, 5000));
	for (unsigned j = 2; j < 5; j++)
		cut(&cl, 0, j);
	assert_int_equal(propose(&cl, 0, "X", &x_index), 0);
	raft_fixture_step_until_elapsed(&cl.f, 200);
	assert_int_equal(raft_last_index(raft_fixture_get(&cl.f, 1)), x_index);
	raft_fixture_kill(&cl.f, 0);
	for (unsigned j = 2; j < 5; j++)
		cut(&cl, 1, j);
	l = leader_of(&cl);
	assert_true(l >= 2);
	o1 = other_than(2, 4, l);
	o2 = other_than(o1 + 1, 4, l);
	cut(&cl, l, o1);
	cut(&cl, l, o2);
	raft_fixture_revive(&cl.f, 0);
	cut(&cl, 0, o1);
	cut(&cl, 0, o2);
	join(&cl, l, 1);
	join(&cl, l, 0);
	raft_fixture_step_until_elapsed(&cl.f, 300); /* heartbeats only */
	assert_int_equal(propose(&cl, l, "Y", &y_index), 0);
	assert_int_equal(y_index, x_index);
	raft_fixture_step_until_elapsed(&cl.f, 2000);
	if (has_cm(&cl, l, "Y"))
		fprintf(stderr, "# leader %u applied Y; 0 has it: %d, 1 has it: %d\n", l,
		        has_cm(&cl, 0, "Y"), has_cm(&cl, 1, "Y"));
	/* L dies; the others decide. */
	raft_fixture_kill(&cl.f, l);
	for (unsigned i = 0; i < 5; i++)
		for (unsigned j = 0; j < 5; j++)
			if (i != j && i != l && j != l)
				raft_fixture_desaturate(&cl.f, i, j);
	l = leader_of(&cl);
	assert_int_equal(propose(&cl, l, "after", &index), 0);
	raft_fixture_step_until_applied(&cl.f, l, index, 5000);
	converge(&cl);
	cluster_stop(&cl);
}

static void disk_faults(void **state)
{
	struct cluster cl;
	uint64_t index;
	char name[32];

	(void)state;
	cluster_start(&cl, 3, 0);
	raft_fixture_elect(&cl.f, 0);
	/* The leader's next disk write fails: it steps down and another takes over. */
	raft_fixture_io_fault(&cl.f, 0, 0, 1);
	propose(&cl, 0, "faulty", NULL);
	raft_fixture_step_n(&cl.f, 200);
	for (int i = 0; i < 10; i++) {
		unsigned l = leader_of(&cl);
		snprintf(name, sizeof name, "d-%d", i);
		if (propose(&cl, l, name, &index) == 0)
			raft_fixture_step_until_applied(&cl.f, l, index, 5000);
	}
	assert_true(leader_of(&cl) != 0 || !unavailable(&cl, 0));
	converge(&cl);
	cluster_stop(&cl);
}

static void snapshot_install(void **state)
{
	struct cluster cl;
	uint64_t index;
	char name[32];

	(void)state;
	cluster_start(&cl, 3, 8); /* snapshot every 8 entries, keep 2 */
	raft_fixture_elect(&cl.f, 0);
	raft_fixture_kill(&cl.f, 2);
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof name, "s-%d", i);
		assert_int_equal(propose(&cl, 0, name, &index), 0);
		raft_fixture_step_until_applied(&cl.f, 0, index, 5000);
	}
	assert_true(cl.fsms[0].snapshots_taken > 0);
	/* The revived follower's missing entries are gone from the leader's log: it gets a
	 * snapshot, which replaces its store. */
	converge(&cl);
	assert_true(cl.fsms[2].snapshots_restored > 0);
	cluster_stop(&cl);
}

/* A seeded random schedule of faults and proposals. */
static void random_schedule(void **state)
{
	unsigned seed =
	    getenv("STSD_SEED") ? (unsigned)atoi(getenv("STSD_SEED")) : (unsigned)time(NULL);
	struct cluster cl;
	char name[32];

	(void)state;
	fprintf(stderr, "# seed=%u (STSD_SEED=%u reproduces it)\n", seed, seed);
	srand(seed);
	/* No snapshots here: the fixture's in-memory log truncation (ioMethodTruncate) assumes the
	 * log starts at index 1 and overreads once a snapshot has trimmed it, which conflicting
	 * entries after a partition trigger. snapshot_install covers snapshots without truncation.
	 */
	cluster_start(&cl, 5, 0);
	for (int step = 0; step < 400; step++) {
		unsigned a = (unsigned)rand() % 5, b = (unsigned)rand() % 5;
		switch (rand() % 10) {
		case 0:
			if (raft_fixture_alive(&cl.f, a))
				raft_fixture_kill(&cl.f, a);
			break;
		case 1:
			if (!raft_fixture_alive(&cl.f, a))
				raft_fixture_revive(&cl.f, a);
			break;
		case 2:
			if (a != b)
				raft_fixture_saturate(&cl.f, a, b);
			break;
		case 3:
			if (a != b)
				raft_fixture_desaturate(&cl.f, a, b);
			break;
		default:
			/* Mostly to the leader the fixture sees, sometimes to anyone. */
			if (rand() % 4 && raft_fixture_leader_index(&cl.f) < cl.n)
				a = raft_fixture_leader_index(&cl.f);
			snprintf(name, sizeof name, "r-%d", step);
			if (raft_fixture_alive(&cl.f, a))
				propose(&cl, a, name, NULL);
		}
		raft_fixture_step_n(&cl.f, 1 + (unsigned)(rand() % 30));
	}
	converge(&cl);
	fprintf(stderr, "# committed=%u failed=%u\n", cl.committed, cl.failed);
	assert_true(cl.committed > 0);
	cluster_stop(&cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(apply_index_is_raft_index), cmocka_unit_test(partitioned_leader),
	    cmocka_unit_test(kill_and_revive),           cmocka_unit_test(snapshot_install),
	    cmocka_unit_test(stale_tail_is_not_counted), cmocka_unit_test(disk_faults),
	    cmocka_unit_test(random_schedule),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
