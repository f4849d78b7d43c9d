/* node_fixture.h — the node lifecycle planner's test fixture (test_node.c): a node, its pods
 * and claims, a plan, and a tiny executor that applies a plan the way the store would (each
 * action's precondition checked), so that tests can check idempotence. */
#ifndef STSD_TEST_NODE_FIXTURE_H
#define STSD_TEST_NODE_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define NOW_S   1800000000 /* 2027-01-15T08:00:00Z */
#define NOW_STR "2027-01-15T08:00:00Z"
#define GRACE   40000
#define FENCE   90000
#define MAX     16

struct nfx {
	json_t *node;
	json_t *pods[MAX];
	bool pinned[MAX];
	size_t n_pods;
	struct ctl_node_claim claims[MAX];
	size_t n_claims;
	struct ctl_node_config cfg;
	int64_t silent_ms;
	struct ctl_plan plan;
};

struct nfx *nfx_new(void);
void nfx_free(struct nfx *f);
json_t *npod(struct nfx *f, const char *name, const char *uid, const char *phase, bool ready);
void nclaim(struct nfx *f, const char *set, uint32_t ord, const char *uid, const char *pod_name,
            bool releasing);
struct ctl_node_input nfx_input(struct nfx *f);
void plan_node(struct nfx *f);
size_t ncount(const struct nfx *f, enum ctl_kind kind);
const struct ctl_action *act(const struct nfx *f, enum ctl_kind kind, const char *name);
const struct ctl_action *nevent(const struct nfx *f, const char *reason);
void converges(struct nfx *f);
json_t *cond(const json_t *obj, const char *type);
json_t *taint(const json_t *node, const char *key, const char *effect);

#endif
