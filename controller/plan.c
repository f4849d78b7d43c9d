/* plan.c — plans (lists of actions) and the JSON helpers the planners share. */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_action *ctl_plan_add(struct ctl_plan *p, enum ctl_kind kind, const char *resource,
                                const char *ns, const char *name, json_t *obj)
{
	struct ctl_action *a;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct ctl_action *na = realloc(p->a, cap * sizeof *na);
		if (na == NULL) {
			p->oom = true;
			json_decref(obj);
			return NULL;
		}
		p->a = na;
		p->cap = cap;
	}
	a = &p->a[p->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	snprintf(a->resource, sizeof a->resource, "%s", resource ? resource : "");
	snprintf(a->ns, sizeof a->ns, "%s", ns ? ns : "");
	snprintf(a->name, sizeof a->name, "%s", name ? name : "");
	a->obj = obj;
	return a;
}

void ctl_plan_event(struct ctl_plan *p, const char *resource, const char *ns, const char *name,
                    const char *type, const char *reason, const char *fmt, ...)
{
	struct ctl_action *a = ctl_plan_add(p, CTL_EVENT, resource, ns, name, NULL);
	va_list ap;

	if (a == NULL)
		return;
	snprintf(a->event_type, sizeof a->event_type, "%s", type);
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
}

bool ctl_plan_touches(const struct ctl_plan *p, const char *resource, const char *ns,
                      const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->a[i].kind != CTL_EVENT && strcmp(p->a[i].resource, resource) == 0 &&
		    strcmp(p->a[i].ns, ns ? ns : "") == 0 &&
		    strcmp(p->a[i].name, name ? name : "") == 0)
			return true;
	return false;
}

void ctl_plan_requeue(struct ctl_plan *p, int64_t seconds)
{
	if (seconds < 1)
		seconds = 1;
	if (p->requeue_after_s == 0 || seconds < p->requeue_after_s)
		p->requeue_after_s = seconds;
}

void ctl_plan_free(struct ctl_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		json_decref(p->a[i].obj);
	free(p->a);
	memset(p, 0, sizeof *p);
}

/* The value at a dotted path. */
static const json_t *at(const json_t *obj, const char *path)
{
	char key[128];

	while (obj && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path += n + (path[n] == '.');
	}
	return obj;
}

const json_t *ctl_obj(const json_t *obj, const char *path)
{
	return at(obj, path);
}

const char *ctl_str(const json_t *obj, const char *path)
{
	return json_string_value(at(obj, path));
}

int64_t ctl_int(const json_t *obj, const char *path, int64_t def)
{
	const json_t *v = at(obj, path);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

uint64_t ctl_rv(const json_t *obj)
{
	const char *rv = ctl_str(obj, "metadata.resourceVersion");

	return rv ? strtoull(rv, NULL, 10) : 0;
}
