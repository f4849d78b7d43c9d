/* test_delete_policy.c — DELETE against a real one-replica stsd: propagationPolicy (and the
 * deprecated orphanDependents) adds the garbage collector's finalizers as kube-apiserver does
 * (Foreground marks with foregroundDeletion and grace 0, Orphan with orphan, Background and none
 * delete; an explicit policy swaps them on an object already marked, Background empties them and
 * so deletes), dryRun changes nothing, a pod is marked with its grace period; and a node agent's
 * confirmations (its own certificate): of its pod held by a finalizer (marked, not removed), of a
 * force-deleted pod that no claim waits for (403, nothing changes). argv[1]: stsd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "harness.h"
#include "pki.h"
#include "writers.h"

#define READY_MS 20000
#define CMS      "/api/v1/namespaces/default/configmaps"
#define PODS     "/api/v1/namespaces/default/pods"

static const char *stsd;

/* ---- Helpers ----------------------------------------------------------------------------------
 */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("bad JSON in the test: %s: %s", e.text, text);
	return j;
}

/* POST obj (JSON text) to collection; its uid into uid (may be NULL). */
static void create(struct client *c, const char *collection, const char *obj, char *uid)
{
	json_t *body = parse(obj), *got = NULL;

	if (client_json(c, "POST", collection, body, &got) != STSD_OK)
		fail_msg("POST %s: %s", collection, client_errmsg(c));
	if (uid != NULL)
		snprintf(
		    uid, 64, "%s",
		    json_string_value(json_object_get(json_object_get(got, "metadata"), "uid")));
	json_decref(body);
	json_decref(got);
}

static void configmap(struct client *c, const char *name, const char *finalizers)
{
	char obj[512];

	snprintf(obj, sizeof obj, "{\"metadata\":{\"name\":\"%s\",\"finalizers\":%s}}", name,
	         finalizers ? finalizers : "[]");
	create(c, CMS, obj, NULL);
}

/* DELETE path with options (JSON text or NULL): the client's code. */
static int del(struct client *c, const char *path, const char *options, json_t **got)
{
	json_t *body = options ? parse(options) : NULL;
	int rv = client_json(c, "DELETE", path, body, got);

	json_decref(body);
	return rv;
}

/* GET path: the object's metadata.finalizers as compact JSON ("gone" when not found), and, when
 * marked, " grace=N". */
static void state_of(struct client *c, const char *path, char *out, size_t len)
{
	json_t *obj = NULL, *meta;
	char *fin;
	int rv = client_get_json(c, path, &obj);

	if (rv == STSD_NOTFOUND) {
		snprintf(out, len, "gone");
		return;
	}
	assert_int_equal(rv, STSD_OK);
	meta = json_object_get(obj, "metadata");
	fin = json_dumps(json_object_get(meta, "finalizers") ? json_object_get(meta, "finalizers")
	                                                     : json_array(),
	                 JSON_COMPACT | JSON_ENCODE_ANY);
	if (json_object_get(meta, "deletionTimestamp"))
		snprintf(out, len, "%s grace=%lld", fin,
		         (long long)json_integer_value(
		             json_object_get(meta, "deletionGracePeriodSeconds")));
	else
		snprintf(out, len, "%s", fin);
	free(fin);
	json_decref(obj);
}

#define EXPECT(c, path, want)                         \
	do {                                          \
		char got_[512];                       \
		state_of(c, path, got_, sizeof got_); \
		assert_string_equal(got_, want);      \
	} while (0)

/* DELETE that must answer 200. */
static void del_ok(struct client *c, const char *path, const char *options)
{
	json_t *got = NULL;

	if (del(c, path, options, &got) != STSD_OK)
		fail_msg("DELETE %s %s: %s", path, options ? options : "", client_errmsg(c));
	json_decref(got);
}

/* A client of node NAME with a certificate of its own (CN system:node:NAME, O system:nodes). */
static struct client *node_client(struct harness *h, const char *name)
{
	char dir[300], out[400], cn[128], err[512];
	struct pki_cert_request rq = {
	    .ca_dir = dir, .out = out, .cn = cn, .orgs = {"system:nodes"}, .client = true};
	struct client_options o = {.timeout_ms = 5000, .deadline_ms = 10000};
	struct client *c = NULL;
	char crt[420], key[420];

	snprintf(dir, sizeof dir, "%.256s/pki", h->root);
	snprintf(out, sizeof out, "%.280s/node-%s", dir, name);
	snprintf(cn, sizeof cn, "system:node:%s", name);
	if (pki_issue(&rq, err, sizeof err) != STSD_OK)
		fail_msg("pki: %s", err);
	snprintf(crt, sizeof crt, "%s.crt", out);
	snprintf(key, sizeof key, "%s.key", out);
	harness_credentials(h, &o);
	o.cert_file = crt;
	o.key_file = key;
	if (client_create(h->urls, 1, &o, &c, err, sizeof err) != STSD_OK)
		fail_msg("node client: %s", err);
	return c;
}

/* ---- Cases ------------------------------------------------------------------------------------
 */

static void policies_on_fresh_objects(struct client *c)
{
	configmap(c, "fg", NULL);
	del_ok(c, CMS "/fg", "{\"propagationPolicy\":\"Foreground\"}");
	EXPECT(c, CMS "/fg", "[\"foregroundDeletion\"] grace=0");

	configmap(c, "or", NULL);
	del_ok(c, CMS "/or?propagationPolicy=Orphan", NULL);
	EXPECT(c, CMS "/or", "[\"orphan\"] grace=0");

	configmap(c, "bg", NULL);
	del_ok(c, CMS "/bg", "{\"propagationPolicy\":\"Background\"}");
	EXPECT(c, CMS "/bg", "gone");

	configmap(c, "none", NULL);
	del_ok(c, CMS "/none", NULL);
	EXPECT(c, CMS "/none", "gone");

	configmap(c, "od", NULL);
	del_ok(c, CMS "/od", "{\"orphanDependents\":true}");
	EXPECT(c, CMS "/od", "[\"orphan\"] grace=0");

	configmap(c, "od2", NULL);
	del_ok(c, CMS "/od2", "{\"orphanDependents\":false}");
	EXPECT(c, CMS "/od2", "gone");

	/* A collection: each matching object as a single delete would have it. */
	create(c, CMS, "{\"metadata\":{\"name\":\"col-a\",\"labels\":{\"col\":\"x\"}}}", NULL);
	create(c, CMS, "{\"metadata\":{\"name\":\"col-b\",\"labels\":{\"col\":\"x\"}}}", NULL);
	del_ok(c, CMS "?labelSelector=col%3Dx", "{\"propagationPolicy\":\"Foreground\"}");
	EXPECT(c, CMS "/col-a", "[\"foregroundDeletion\"] grace=0");
	EXPECT(c, CMS "/col-b", "[\"foregroundDeletion\"] grace=0");
	del_ok(c, CMS "?labelSelector=col%3Dx", "{\"propagationPolicy\":\"Orphan\"}");
	EXPECT(c, CMS "/col-a", "[\"orphan\"] grace=0");
	del_ok(c, CMS "?labelSelector=col%3Dx", "{\"propagationPolicy\":\"Background\"}");
	EXPECT(c, CMS "/col-b", "gone");
}

static void policies_swap_and_empty(struct client *c)
{
	configmap(c, "keep", "[\"example.com/x\"]");
	del_ok(c, CMS "/keep", "{\"propagationPolicy\":\"Orphan\"}");
	EXPECT(c, CMS "/keep", "[\"example.com/x\",\"orphan\"] grace=0");
	/* Marked already: an explicit policy still swaps the GC finalizers (not a pod). */
	del_ok(c, CMS "/keep", "{\"propagationPolicy\":\"Foreground\"}");
	EXPECT(c, CMS "/keep", "[\"example.com/x\",\"foregroundDeletion\"] grace=0");
	del_ok(c, CMS "/keep", NULL); /* no policy: the object's own stay */
	EXPECT(c, CMS "/keep", "[\"example.com/x\",\"foregroundDeletion\"] grace=0");
	del_ok(c, CMS "/keep", "{\"propagationPolicy\":\"Background\"}");
	EXPECT(c, CMS "/keep", "[\"example.com/x\"] grace=0");
	/* Background empties the only finalizer of "or": deleted. */
	del_ok(c, CMS "/or", "{\"propagationPolicy\":\"Background\"}");
	EXPECT(c, CMS "/or", "gone");
}

static void bad_options_and_dry_run(struct client *c)
{
	json_t *got = NULL;

	configmap(c, "dry", NULL);
	assert_int_equal(
	    del(c, CMS "/dry?dryRun=All", "{\"propagationPolicy\":\"Foreground\"}", &got), STSD_OK);
	assert_string_equal(
	    json_string_value(
	        json_array_get(json_object_get(json_object_get(got, "metadata"), "finalizers"), 0)),
	    "foregroundDeletion");
	json_decref(got);
	EXPECT(c, CMS "/dry", "[]");
	assert_int_equal(del(c, CMS "/dry",
	                     "{\"propagationPolicy\":\"Orphan\",\"orphanDependents\":true}", NULL),
	                 STSD_INVALID);
	assert_int_equal(del(c, CMS "/dry", "{\"orphanDependents\":\"yes\"}", NULL), STSD_INVALID);
	assert_int_equal(del(c, CMS "/dry", "{\"propagationPolicy\":\"Sideways\"}", NULL),
	                 STSD_INVALID);
	EXPECT(c, CMS "/dry", "[]");
}

#define POD(name, node)                                                              \
	"{\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"nodeName\":\"" node "\"," \
	"\"containers\":[{\"name\":\"app\",\"image\":\"registry.example/app:1\"}]}}"

/* A pod of node n1 deleted with Foreground: marked with its grace period and the finalizer; the
 * node's confirmation shortens the grace to 0 but the finalizer holds it; once the garbage
 * collector (here: the admin) removes it, the pod goes. A force-deleted pod no claim waits for:
 * the node's confirmation is refused and changes nothing. */
static void pods_and_their_node(struct harness *h, struct client *c)
{
	struct client *node = node_client(h, "n1");
	static const char unfinalize[] = "{\"metadata\":{\"finalizers\":null}}";
	char uid[64], body[256], q_uid[64];
	struct client_response resp;

	create(c, PODS, POD("p", "n1"), uid);
	del_ok(c, PODS "/p", "{\"propagationPolicy\":\"Foreground\"}");
	EXPECT(c, PODS "/p", "[\"foregroundDeletion\"] grace=30");
	snprintf(body, sizeof body, "{\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"%s\"}}",
	         uid);
	del_ok(node, PODS "/p", body);
	EXPECT(c, PODS "/p", "[\"foregroundDeletion\"] grace=0");
	assert_int_equal(client_request(c, "PATCH", PODS "/p", unfinalize, strlen(unfinalize),
	                                "application/merge-patch+json", &resp),
	                 STSD_OK);
	assert_int_equal(resp.status, 200);
	client_response_free(&resp);
	EXPECT(c, PODS "/p", "gone");

	create(c, PODS, POD("q", "n1"), q_uid);
	del_ok(c, PODS "/q", "{\"gracePeriodSeconds\":0}");
	EXPECT(c, PODS "/q", "gone");
	snprintf(body, sizeof body, "{\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"%s\"}}",
	         q_uid);
	assert_int_equal(del(node, PODS "/q", body, NULL), STSD_IO); /* 403 */
	assert_non_null(strstr(client_errmsg(node), "forbidden"));
	/* the admin: a plain NotFound, the claim path is for nodes only */
	assert_int_equal(del(c, PODS "/q", body, NULL), STSD_NOTFOUND);
	client_destroy(node);
}

static void delete_options(void **state)
{
	struct cluster_test *t = *state;
	struct client *c;

	t->h = harness_create(stsd, "delete", 1, 1, NULL);
	harness_start_cluster(t->h, READY_MS);
	c = harness_client(t->h, 10000);
	policies_on_fresh_objects(c);
	policies_swap_and_empty(c);
	bad_options_and_dry_run(c);
	pods_and_their_node(t->h, c);
	client_destroy(c);
	harness_finish(t->h);
}

int main(int argc, char **argv)
{
	return cluster_test_main(argc, argv, &stsd, "delete_options", delete_options);
}
