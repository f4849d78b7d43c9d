/* sts_fixture.h — the fixture of the StatefulSet planner tests: a set, its pods, PVCs and
 * claims, hand-made revisions (no dependency on revision.c), and a tiny executor that applies
 * each plan to the fixture's objects so that scenarios run sync after sync. */
#ifndef STSD_TESTS_STS_FIXTURE_H
#define STSD_TESTS_STS_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sts.h"

#define MAX_OBJS 64
#define NOW      1800000000

struct fx {
	json_t *set;
	json_t *pods[MAX_OBJS];
	size_t n_pods;
	json_t *pvcs[MAX_OBJS];
	size_t n_pvcs;
	struct ctl_claim claims[8];
	size_t n_claims;
	struct ctl_revisions rev;
	struct ctl_plan plan;
	int64_t now;
	int uid_seq, rv_seq;
};

/* JSON helpers: parse (fails the test on bad JSON), the value at a dotted path (array indexes
 * allowed), its string or integer, set a value at a dotted path. */
json_t *J(const char *text);
json_t *at(const json_t *v, const char *path);
const char *S(const json_t *v, const char *path);
long long I(const json_t *v, const char *path);
void set_path(json_t *obj, const char *path, json_t *val);
/* Revisions by hand: "web-a" has image nginx:1, any other nginx:2. */
void use_revisions(struct fx *f, const char *current, const char *update);
/* Set "web" in "default" (uid set-uid, rv 10), serviceName nginx, RollingUpdate partition 0. */
struct fx *fx_new(int replicas, const char *policy);
void fx_free(struct fx *f);
struct ctl_sts_input fx_input(struct fx *f);
/* One ctl_sts_plan into a fresh f->plan (asserts STSD_OK). */
void sync_set(struct fx *f);
json_t *pod(struct fx *f, const char *name);
json_t *pvc(struct fx *f, const char *name);
void remove_pod(struct fx *f, const char *name);
/* Whether the store would accept f->plan as the fixture's objects stand: no action on an object
 * another action of the plan touches, no CREATE of an existing object or of a pod whose ordinal
 * is claimed, every UPDATE/UPDATE_STATUS (and DELETE with an rv) at the object's current
 * resourceVersion. If not, why says which action and why. */
bool fx_plan_ok(struct fx *f, char *why, size_t len);
/* Apply f->plan, failing the test if fx_plan_ok refuses it: creations get a uid, rv and phase
 * Pending; deletions remove at once. */
void apply(struct fx *f);
/* A pod as the controller makes it, in phase, Ready since 2020 if ready. */
json_t *add_pod(struct fx *f, int ord, const char *rev, const char *phase, bool ready);
void make_ready(struct fx *f, const char *name);
void make_all_ready(struct fx *f);
/* Looking at f->plan: how many actions, the n-th one (SIZE_MAX / "(none)"), an event, the
 * status written (NULL: none). */
size_t count(const struct fx *f, enum ctl_kind kind, const char *resource);
size_t nth(const struct fx *f, enum ctl_kind kind, const char *resource, size_t n);
const char *nth_name(const struct fx *f, enum ctl_kind kind, const char *resource, size_t n);
const struct ctl_action *event(const struct fx *f, const char *reason);
const json_t *new_status(const struct fx *f);
void set_template_image(struct fx *f, const char *image);
/* Ready pods at web-a and the template changed to web-b. */
struct fx *rolled(int replicas, const char *policy);
void with_claims(struct fx *f, const char *when_deleted, const char *when_scaled);
bool owned_by(const json_t *obj, const char *uid);

/* For k = 0, 1, ...: a fixture from make(arg), then plan(fixture, &n) with jansson's allocations
 * failing after k successes, then drop(fixture) — until plan returns 0. Every earlier run must
 * return STSD_NOMEM (ASan sees any crash or leak), the one that succeeds must plan want actions
 * (n). Returns that k. */
struct fx_sweep {
	void *(*make)(const void *arg);
	int (*plan)(void *fixture, size_t *n);
	void (*drop)(void *fixture);
};
long fx_alloc_sweep(const struct fx_sweep *sw, const void *arg, size_t want);

#endif
