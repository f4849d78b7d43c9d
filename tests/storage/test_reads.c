/* test_reads.c — listing in key order with continue tokens, the pods-by-node index, and claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "helpers.h"

struct names {
	char items[64][64];
	size_t n;
};

static int collect(void *ud, const struct store_object *o)
{
	struct names *n = ud;

	snprintf(n->items[n->n++], 64, "%s/%s", o->ns, o->name);
	return 0;
}

static void populate(struct fixture *f)
{
	/* Inserted out of order, across namespaces and resources. */
	const char *keys[][2] = {{"b", "web-1"}, {"a", "z"},      {"b", "web-0"}, {"a", "m"},
	                         {"c", "x"},     {"b", "web-10"}, {"a", "a"}};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		assert_int_equal(fx_create(f, "configmaps", keys[i][0], keys[i][1], "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "secrets", "a", "s", "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "configmapsx", "a", "s", "{}"), STSD_OK);
}

static void list_in_key_order(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {.resource = "configmaps"};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};
	const char *want[] = {"a/a", "a/m", "a/z", "b/web-0", "b/web-1", "b/web-10", "c/x"};

	populate(f);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(n.items[i], want[i]);
	assert_string_equal(page.next_token, "");
	assert_int_equal(page.revision, f->rev);
	/* One namespace. */
	n.n = 0;
	req.ns = "b";
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.items[0], "b/web-0");
	/* An empty namespace and an unknown resource list nothing. */
	n.n = 0;
	req.ns = "nope";
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	req.ns = NULL;
	req.resource = "widgets";
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 0);
	store_read_end(r);
}

/* Page through everything with the given limit; the pages must add up to the full list. */
static void page_through(struct fixture *f, const char *ns, size_t limit, size_t want)
{
	struct store_list_request req = {.resource = "configmaps", .ns = ns, .limit = limit};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};
	char token[STORE_TOKEN_MAX] = "";
	size_t pages = 0;

	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	do {
		req.continue_token = token;
		assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
		assert_true(page.count <= limit);
		strcpy(token, page.next_token);
		pages++;
	} while (*token);
	store_read_end(r);
	assert_int_equal(n.n, want);
	assert_int_equal(pages, (want + limit - 1) / limit);
	for (size_t i = 1; i < n.n; i++)
		assert_true(strcmp(n.items[i - 1], n.items[i]) < 0);
}

static void continue_tokens(void **state)
{
	struct fixture *f = *state;

	populate(f);
	page_through(f, NULL, 1, 7);
	page_through(f, NULL, 2, 7);
	page_through(f, NULL, 3, 7);
	page_through(f, NULL, 7, 7);
	page_through(f, "b", 2, 3);
	page_through(f, "a", 3, 3);
}

/* Keep only names starting with "web": the others are skipped. */
static int collect_web(void *ud, const struct store_object *o)
{
	return strncmp(o->name, "web", 3) == 0 ? collect(ud, o) : STORE_SKIP;
}

/* A filtering callback: skipped items count against no limit, pages resume after them. */
static void skipped_items(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {.resource = "configmaps", .limit = 2};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};
	char token[STORE_TOKEN_MAX];

	populate(f);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect_web, &n, &page), STSD_OK);
	assert_int_equal(page.count, 2);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.items[0], "b/web-0");
	assert_string_equal(n.items[1], "b/web-1");
	assert_string_not_equal(page.next_token, "");
	strcpy(token, page.next_token);
	req.continue_token = token;
	assert_int_equal(store_list(r, &req, collect_web, &n, &page), STSD_OK);
	assert_int_equal(page.count, 1);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.items[2], "b/web-10");
	assert_string_equal(page.next_token, "");
	store_read_end(r);
}

static void continue_after_changes(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {.resource = "configmaps", .ns = "a", .limit = 1};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};
	char token[STORE_TOKEN_MAX];

	populate(f);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	store_read_end(r);
	strcpy(token, page.next_token);
	/* The key the token names is deleted and a new one appears before the cursor: the next
	 * page still resumes right after the last key returned. */
	assert_int_equal(fx_delete(f, "configmaps", "a", "a"), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "a", "0", "{}"), STSD_OK);
	req.continue_token = token;
	req.limit = 0;
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	store_read_end(r);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.items[1], "a/m");
	assert_string_equal(n.items[2], "a/z");
}

static void bad_tokens(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {.resource = "configmaps", .limit = 1};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};
	char token[STORE_TOKEN_MAX];
	const char *garbage[] = {"!!!", "AAAA", "x", "eyJmb28iOiJiYXIifQ", "____"};

	populate(f);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	strcpy(token, page.next_token);
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		req.continue_token = garbage[i];
		assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_INVALID);
	}
	/* A token is bound to its resource and namespace. */
	req.continue_token = token;
	req.resource = "secrets";
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_INVALID);
	req.resource = "configmaps";
	req.ns = "c";
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_INVALID);
	/* Bad resource names. */
	req.resource = "";
	req.continue_token = NULL;
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_INVALID);
	store_read_end(r);
}

static int stop_at_two(void *ud, const struct store_object *o)
{
	(void)o;
	return ++*(int *)ud == 2 ? 42 : 0;
}

static void callback_stops_iteration(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {.resource = "configmaps"};
	struct store_list_page page;
	struct store_reader *r;
	int calls = 0;

	populate(f);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, stop_at_two, &calls, &page), 42);
	assert_int_equal(calls, 2);
	store_read_end(r);
}

#define POD(node) "{\"spec\":{\"nodeName\":\"" node "\"}}"

static void pods_on(struct fixture *f, const char *node, struct names *n)
{
	struct store_reader *r;

	n->n = 0;
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list_pods_on_node(r, node, collect, n), STSD_OK);
	store_read_end(r);
}

static void pods_by_node_index(void **state)
{
	struct fixture *f = *state;
	struct names n;

	assert_int_equal(fx_create(f, "pods", "default", "web-0", POD("n1")), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "web-1", POD("n2")), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "other", "db-0", POD("n1")), STSD_OK);
	assert_int_equal(fx_create(f, "pods", "default", "pending", "{\"spec\":{}}"), STSD_OK);
	/* A non-pod with a nodeName is not indexed. */
	assert_int_equal(fx_create(f, "widgets", "default", "w", POD("n1")), STSD_OK);
	pods_on(f, "n1", &n);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.items[0], "default/web-0");
	assert_string_equal(n.items[1], "other/db-0");
	/* Binding, moving and deleting keep the index in step. */
	assert_int_equal(fx_update(f, "pods", "default", "pending", POD("n2"), 0), STSD_OK);
	assert_int_equal(fx_update(f, "pods", "default", "web-0", POD("n2"), 0), STSD_OK);
	assert_int_equal(fx_delete(f, "pods", "other", "db-0"), STSD_OK);
	pods_on(f, "n1", &n);
	assert_int_equal(n.n, 0);
	pods_on(f, "n2", &n);
	assert_int_equal(n.n, 3);
	/* A prefix of a node name is another node. */
	assert_int_equal(fx_create(f, "pods", "default", "p", POD("n22")), STSD_OK);
	pods_on(f, "n2", &n);
	assert_int_equal(n.n, 3);
}

struct claims {
	char items[16][128];
	size_t n;
};

static int collect_claim(void *ud, const struct store_claim_entry *c)
{
	struct claims *cl = ud;

	snprintf(cl->items[cl->n++], 128, "%s/%s/%u=%s@%s:%d", c->ns, c->set, c->ordinal,
	         c->claim.pod_name, c->claim.node, (int)c->claim.state);
	return 0;
}

static int claim_op(struct fixture *f, enum store_op_type type, const char *set, uint32_t ord,
                    const char *uid, const char *node, enum store_claim_state st,
                    const char *expect_uid, enum store_claim_state expect_state)
{
	char podname[64];
	struct store_op op = {.type = type,
	                      .ns = "default",
	                      .name = set,
	                      .ordinal = ord,
	                      .expect_pod_uid = expect_uid,
	                      .expect_state = expect_state};

	snprintf(podname, sizeof podname, "%s-%u", set, ord);
	op.claim = (struct store_claim){
	    .pod_uid = uid, .pod_name = uid ? podname : NULL, .node = node, .state = st};
	return fx_apply(f, &op, 1, NULL);
}

static void claims_compare_and_set(void **state)
{
	struct fixture *f = *state;
	struct store_reader *r;
	struct store_claim c;
	struct claims cl = {0};

	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 0, "u1", "n1", 0, NULL, 0),
	                 STSD_OK);
	/* The identity is held: a second pod cannot claim it. */
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 0, "u2", "n2", 0, NULL, 0),
	                 STSD_CONFLICT);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 10, "u3", "n2", 0, NULL, 0),
	                 STSD_OK);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 2, "u4", "", 0, NULL, 0),
	                 STSD_OK);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 1, NULL, "n1", 0, NULL, 0),
	                 STSD_INVALID);
	/* Compare-and-set: wrong holder or wrong state fails; the right one moves it. */
	assert_int_equal(
	    claim_op(f, STORE_OP_CLAIM_SET, "web", 0, NULL, NULL, STORE_CLAIM_RELEASING, "u2", 0),
	    STSD_CONFLICT);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_SET, "web", 0, NULL, NULL,
	                          STORE_CLAIM_RELEASING, "u1", STORE_CLAIM_RELEASING),
	                 STSD_CONFLICT);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_SET, "web", 0, NULL, NULL,
	                          STORE_CLAIM_RELEASING, "u1", STORE_CLAIM_HELD),
	                 STSD_OK);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_SET, "web", 5, NULL, NULL, 0, NULL, 0),
	                 STSD_NOTFOUND);
	/* Still held (releasing): acquiring fails until it is released. */
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 0, "u2", "n2", 0, NULL, 0),
	                 STSD_CONFLICT);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_claim_get(r, "default", "web", 0, &c), STSD_OK);
	assert_string_equal(c.pod_uid, "u1");
	assert_string_equal(c.node, "n1");
	assert_int_equal(c.state, STORE_CLAIM_RELEASING);
	assert_int_equal(c.revision, f->rev - 2);
	assert_int_equal(store_claim_get(r, "default", "web", 7, &c), STSD_NOTFOUND);
	/* Listed in ordinal order (2 before 10), filtered by set. */
	assert_int_equal(store_claims_list(r, "default", "web", collect_claim, &cl), STSD_OK);
	assert_int_equal(cl.n, 3);
	assert_string_equal(cl.items[0], "default/web/0=web-0@n1:2");
	assert_string_equal(cl.items[1], "default/web/2=web-2@:1");
	assert_string_equal(cl.items[2], "default/web/10=web-10@n2:1");
	cl.n = 0;
	assert_int_equal(store_claims_list(r, "default", "we", collect_claim, &cl), STSD_OK);
	assert_int_equal(cl.n, 0);
	store_read_end(r);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_RELEASE, "web", 0, NULL, NULL, 0, "u9", 0),
	                 STSD_CONFLICT);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_RELEASE, "web", 0, NULL, NULL, 0, "u1", 0),
	                 STSD_OK);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ACQUIRE, "web", 0, "u2", "n2", 0, NULL, 0),
	                 STSD_OK);
	assert_int_equal(
	    claim_op(f, STORE_OP_CLAIM_ASSERT, "web", 0, NULL, NULL, 0, "u2", STORE_CLAIM_HELD),
	    STSD_OK);
	assert_int_equal(claim_op(f, STORE_OP_CLAIM_ASSERT, "web", 0, NULL, NULL, 0, "u1", 0),
	                 STSD_CONFLICT);
}

static void pod_and_claim_in_one_batch(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[2] = {
	    {.type = STORE_OP_CLAIM_ACQUIRE,
	     .ns = "default",
	     .name = "web",
	     .ordinal = 0,
	     .claim = {.pod_uid = "p1", .pod_name = "web-0"}},
	    {.type = STORE_OP_CREATE,
	     .resource = "pods",
	     .ns = "default",
	     .name = "web-0",
	     .json = "{}",
	     .json_len = 2,
	     .uid = "p1"},
	};

	assert_int_equal(fx_apply(f, ops, 2, NULL), STSD_OK);
	/* A second creation (a deposed leader's command, say) fails on the claim: no pod written.
	 */
	ops[0].claim.pod_uid = "p2";
	ops[1].uid = "p2";
	assert_int_equal(fx_delete(f, "pods", "default", "web-0"), STSD_OK);
	assert_int_equal(fx_apply(f, ops, 2, NULL), STSD_CONFLICT);
	assert_null(fx_get(f, "pods", "default", "web-0", NULL));
}

/* A name prefix limits a namespace's list to the names that start with it ("web-" finds web-0,
 * web-1, web-10, as the controller finds a set's pods), with continue tokens inside it. */
static void list_by_name_prefix(void **state)
{
	struct fixture *f = *state;
	struct store_list_request req = {
	    .resource = "configmaps", .ns = "b", .name_prefix = "web-1"};
	struct store_list_page page;
	struct store_reader *r;
	struct names n = {0};

	populate(f);
	assert_int_equal(fx_create(f, "configmaps", "b", "web", "{}"), STSD_OK);
	assert_int_equal(fx_create(f, "configmaps", "c", "web-1", "{}"), STSD_OK);
	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.items[0], "b/web-1");
	assert_string_equal(n.items[1], "b/web-10");
	n.n = 0;
	req.name_prefix = "web-";
	req.limit = 2;
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 2);
	assert_string_not_equal(page.next_token, "");
	req.continue_token = page.next_token;
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_OK);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.items[2], "b/web-10");
	assert_string_equal(page.next_token, "");
	/* A prefix needs a namespace: names are only ordered within one. */
	req = (struct store_list_request){.resource = "configmaps", .name_prefix = "web"};
	assert_int_equal(store_list(r, &req, collect, &n, &page), STSD_INVALID);
	store_read_end(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(list_in_key_order, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(list_by_name_prefix, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(continue_tokens, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(continue_after_changes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(skipped_items, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(bad_tokens, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(callback_stops_iteration, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(pods_by_node_index, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(claims_compare_and_set, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(pod_and_claim_in_one_batch, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
