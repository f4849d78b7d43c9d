/* test_crash.c — crash safety: a child commits writes in a loop and is SIGKILLed at random moments,
 * 50 times; after each kill the store reopens with every acknowledged write present, the change log
 * and the pods-by-node index agreeing with the objects, and the applied index matching. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"
#include "util.h"

#define ROUNDS   50
#define ORDINALS 5
#define PODS     7

static bool exists_in(struct store *s, const char *res, const char *name)
{
	struct store_reader *r;
	struct store_object o;
	bool found;

	if (store_read_begin(s, &r) != STSD_OK)
		abort();
	found = store_get(r, res, "default", name, &o) == STSD_OK;
	store_read_end(r);
	return found;
}

static bool claim_held(struct store *s, uint32_t ordinal)
{
	struct store_reader *r;
	struct store_claim c;
	bool found;

	if (store_read_begin(s, &r) != STSD_OK)
		abort();
	found = store_claim_get(r, "default", "web", ordinal, &c) == STSD_OK;
	store_read_end(r);
	return found;
}

static struct store_op object_op(enum store_op_type type, const char *res, const char *name,
                                 const char *json)
{
	return (struct store_op){.type = type,
	                         .resource = res,
	                         .ns = "default",
	                         .name = name,
	                         .json = json,
	                         .json_len = json ? strlen(json) : 0};
}

/* The batch written at revision rev; reads decide between create and update. */
static size_t build_batch(struct store *s, uint64_t rev, struct store_op *ops, char bufs[][128])
{
	size_t n = 0;

	snprintf(bufs[0], 128, "cm-%llu", (unsigned long long)rev);
	snprintf(bufs[1], 128, "{\"data\":{\"n\":\"%llu\"}}", (unsigned long long)rev);
	ops[n++] = object_op(STORE_OP_CREATE, "configmaps", bufs[0], bufs[1]);
	ops[n++] =
	    object_op(exists_in(s, "configmaps", "counter") ? STORE_OP_UPDATE : STORE_OP_CREATE,
	              "configmaps", "counter", bufs[1]);
	if (rev > 5 && rev % 2 == 0) {
		snprintf(bufs[2], 128, "cm-%llu", (unsigned long long)rev - 5);
		ops[n++] = object_op(STORE_OP_DELETE, "configmaps", bufs[2], NULL);
	}
	snprintf(bufs[3], 128, "p-%llu", (unsigned long long)(rev % PODS));
	snprintf(bufs[4], 128, "{\"spec\":{\"nodeName\":\"n%llu\"}}",
	         (unsigned long long)(rev % 3));
	bool pod = exists_in(s, "pods", bufs[3]);
	ops[n++] = object_op((pod && rev % 11 == 0) ? STORE_OP_DELETE
	                     : pod                  ? STORE_OP_UPDATE
	                                            : STORE_OP_CREATE,
	                     "pods", bufs[3], bufs[4]);
	uint32_t ord = (uint32_t)(rev % ORDINALS);
	snprintf(bufs[5], 128, "u-%llu", (unsigned long long)rev);
	ops[n++] = (struct store_op){.type = claim_held(s, ord) ? STORE_OP_CLAIM_RELEASE
	                                                        : STORE_OP_CLAIM_ACQUIRE,
	                             .ns = "default",
	                             .name = "web",
	                             .ordinal = ord,
	                             .claim = {.pod_uid = bufs[5], .pod_name = "web", .node = "n"}};
	return n;
}

static void child(const char *dir, int ack_fd)
{
	struct store *s;
	struct store_reader *r;
	char err[256], bufs[6][128];
	struct store_op ops[8];
	uint64_t rev;

	if (store_open(dir, NULL, &s, err, sizeof err) != STSD_OK)
		_exit(3);
	if (store_read_begin(s, &r) != STSD_OK)
		_exit(4);
	rev = store_reader_applied_index(r);
	store_read_end(r);
	for (;;) {
		struct store_batch b = {.revision = ++rev, .now = 1, .ops = ops};
		struct store_result res;

		b.n_ops = build_batch(s, rev, ops, bufs);
		if (store_apply(s, &b, &res) != STSD_OK || res.status != STSD_OK)
			_exit(5);
		store_result_free(&res);
		if (write(ack_fd, &rev, sizeof rev) != sizeof rev)
			_exit(6);
	}
}

/* Read acknowledgements until the deadline or EOF; *last gets the highest. Returns how many. */
static int read_acks(int fd, uint64_t *last, int timeout_ms, int want)
{
	int n = 0;
	struct pollfd p = {fd, POLLIN, 0};

	while (n < want && poll(&p, 1, timeout_ms) > 0) {
		uint64_t rev;
		ssize_t got = read(fd, &rev, sizeof rev);
		if (got <= 0)
			break;
		assert_int_equal(got, sizeof rev);
		assert_true(rev > *last);
		*last = rev;
		n++;
	}
	return n;
}

/* ---- Verification ---- */

struct replay {
	json_t *objects; /* "resource/ns/name" -> json string */
	json_t *claims;  /* "ns/set/ordinal" -> pod uid */
	uint64_t last_rev;
};

static int replay_change(void *ud, const struct store_change *c)
{
	struct replay *rp = ud;
	char key[512];

	if (c->is_claim) {
		snprintf(key, sizeof key, "%s/%s/%u", c->ns, c->name, c->ordinal);
		if (c->type == STORE_DELETED)
			json_object_del(rp->claims, key);
		else
			json_object_set_new(rp->claims, key, json_string(c->claim.pod_uid));
	} else {
		snprintf(key, sizeof key, "%s/%s/%s", c->resource, c->ns, c->name);
		if (c->type == STORE_DELETED)
			json_object_del(rp->objects, key);
		else
			json_object_set_new(rp->objects, key, json_stringn(c->json, c->json_len));
	}
	assert_true(c->revision >= rp->last_rev);
	rp->last_rev = c->revision;
	return 0;
}

static int check_object(void *ud, const struct store_object *o)
{
	struct replay *rp = ud;
	char key[512];
	json_t *v;

	snprintf(key, sizeof key, "%s/%s/%s", o->resource, o->ns, o->name);
	v = json_object_get(rp->objects, key);
	if (v == NULL)
		fail_msg("object %s is not in the change log", key);
	assert_int_equal(json_string_length(v), o->json_len);
	assert_memory_equal(json_string_value(v), o->json, o->json_len);
	json_object_del(rp->objects, key);
	return 0;
}

static int check_claim(void *ud, const struct store_claim_entry *c)
{
	struct replay *rp = ud;
	char key[512];

	snprintf(key, sizeof key, "%s/%s/%u", c->ns, c->set, c->ordinal);
	assert_non_null(json_object_get(rp->claims, key));
	assert_string_equal(json_string_value(json_object_get(rp->claims, key)), c->claim.pod_uid);
	json_object_del(rp->claims, key);
	return 0;
}

struct pod_nodes {
	int indexed, bound;
	char node[16];
};

static int count_indexed(void *ud, const struct store_object *o)
{
	struct pod_nodes *pn = ud;
	char want[64];

	snprintf(want, sizeof want, "\"nodeName\":\"%s\"", pn->node);
	assert_non_null(memmem(o->json, o->json_len, want, strlen(want)));
	pn->indexed++;
	return 0;
}

static int count_bound(void *ud, const struct store_object *o)
{
	((struct pod_nodes *)ud)->bound += memmem(o->json, o->json_len, "nodeName", 8) != NULL;
	return 0;
}

static void check_acked(struct store_reader *r, uint64_t applied, uint64_t last_acked)
{
	struct store_object o;
	char name[32], want[64];

	assert_true(applied == last_acked || applied == last_acked + 1);
	assert_int_equal(store_get(r, "configmaps", "default", "counter", &o), STSD_OK);
	snprintf(want, sizeof want, "{\"n\":\"%llu\"}", (unsigned long long)applied);
	assert_non_null(memmem(o.json, o.json_len, want, strlen(want)));
	for (uint64_t rev = 1; rev <= last_acked; rev++) {
		bool deleted = rev + 5 <= applied && (rev + 5) % 2 == 0 && rev + 5 > 5;
		snprintf(name, sizeof name, "cm-%llu", (unsigned long long)rev);
		assert_int_equal(store_get(r, "configmaps", "default", name, &o),
		                 deleted ? STSD_NOTFOUND : STSD_OK);
	}
}

static void verify(const char *dir, uint64_t last_acked, uint64_t *applied)
{
	struct store_list_request all[] = {{.resource = "configmaps"}, {.resource = "pods"}};
	struct replay rp = {json_object(), json_object(), 0};
	struct pod_nodes pn = {0};
	struct store_list_page page;
	struct store_reader *r;
	struct store *s;
	char err[256];

	assert_int_equal(store_open(dir, NULL, &s, err, sizeof err), STSD_OK);
	assert_int_equal(store_read_begin(s, &r), STSD_OK);
	*applied = store_reader_applied_index(r);
	check_acked(r, *applied, last_acked);
	/* The change log replayed from the start reproduces the objects and claims exactly. */
	assert_int_equal(store_changes(r, 0, 0, replay_change, &rp), STSD_OK);
	assert_int_equal(rp.last_rev, *applied);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(store_list(r, &all[i], check_object, &rp, &page), STSD_OK);
	assert_int_equal(json_object_size(rp.objects), 0);
	assert_int_equal(store_claims_list(r, NULL, NULL, check_claim, &rp), STSD_OK);
	assert_int_equal(json_object_size(rp.claims), 0);
	/* The index holds exactly the bound pods, each under its node. */
	for (int n = 0; n < 3; n++) {
		snprintf(pn.node, sizeof pn.node, "n%d", n);
		assert_int_equal(store_list_pods_on_node(r, pn.node, count_indexed, &pn), STSD_OK);
	}
	assert_int_equal(store_list(r, &all[1], count_bound, &pn, &page), STSD_OK);
	assert_int_equal(pn.indexed, pn.bound);
	store_read_end(r);
	store_close(s);
	json_decref(rp.objects);
	json_decref(rp.claims);
}

static void kill_at_random_moments(void **state)
{
	struct fixture *f = *state;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint64_t last_acked = 0, applied = 0;

	fprintf(stderr, "# seed=%u\n", seed);
	srand(seed);
	store_close(f->s);
	f->s = NULL;
	for (int round = 0; round < ROUNDS; round++) {
		int fds[2], status;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(f->dir, fds[1]);
		}
		close(fds[1]);
		/* Let it commit at least once, then kill it at a random moment within ~20 ms. */
		assert_int_equal(read_acks(fds[0], &last_acked, 10000, 1), 1);
		struct timespec ts = {0, (long)(rand() % 20000) * 1000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		read_acks(fds[0], &last_acked, 0, 1 << 30);
		close(fds[0]);
		verify(f->dir, last_acked, &applied);
		last_acked = applied; /* a commit that was not acknowledged is still a commit */
	}
	fprintf(stderr, "# %d kills, %llu revisions committed\n", ROUNDS,
	        (unsigned long long)applied);
	char err[256];
	assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(kill_at_random_moments, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
