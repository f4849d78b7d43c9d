/* watch_internal.h — what watch.c (lifecycle, start, notify) and watch_event.c (filtering and
 * encoding of events) share: one open watch and the server's list of them. */
#ifndef STSD_API_WATCH_INTERNAL_H
#define STSD_API_WATCH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api_internal.h"
#include "selector.h"
#include "table.h"
#include "watch.h"

/* Why a watch ended early (for the log and the slow-client metric). */
enum watch_failure {
	WATCH_OK,
	WATCH_SLOW,    /* its queue outgrew the limit: the client reads too slowly */
	WATCH_GONE,    /* the connection is doomed (client gone, server stopping) */
	WATCH_NOMEM,   /* an event could not be made */
	WATCH_EXPIRED, /* the change log no longer covers its position */
	WATCH_ERROR,   /* the store could not be read */
};

struct watch {
	struct api_watchers *ws;
	struct api_req *req; /* NULL once the client is gone */
	const struct api_resource *res;
	char ns[STORE_NAME_MAX + 1];   /* "" for every namespace (or a cluster-scoped resource) */
	char name[STORE_NAME_MAX + 1]; /* the URL's name or fieldSelector metadata.name=X; "" any */
	struct api_selector *labels;   /* NULL: every object */
	struct api_field_selector *fields; /* NULL: every object */
	/* Selector-filtered watches: "ns/name" of the objects selected as of pos (true), so that an
	 * object leaving the selection is sent as DELETED and one entering it as ADDED, as the
	 * Kubernetes cacher does from the previous object (which our change log does not keep).
	 * While a resumed watch replays the log, false marks an object known not to be selected. */
	json_t *selected;
	bool replaying;   /* resume catch-up: an unknown object may have been selected */
	bool table;       /* Accept asked for a Table: each event's object is a one-row Table */
	bool headers_out; /* columnDefinitions went out with the first Table, never again */
	bool bookmarks;   /* allowWatchBookmarks */
	enum api_table_object inc;
	enum watch_failure failed; /* set while notify runs; the watch is reaped after */
	uint64_t pos;              /* the change log is consumed up to this revision */
	uint64_t from;             /* events only for revisions above (the client's own rv) */
	uint64_t deadline_ms;      /* uv_now at which the stream ends cleanly */
	uint64_t bookmark_ms;      /* uv_now of the next BOOKMARK */
	uv_timer_t timer;
	/* Starting on the thread pool (watch.c): notify passes it by, and events are written to
	 * capture instead of the stream until the loop takes the watch over. */
	bool starting;
	struct api_buf *capture;
	struct watch *prev, *next;
};

struct start_job;
struct api_watchers {
	struct api_server *s;
	struct watch *head;
	size_t count;    /* watches, started or starting */
	size_t starting; /* of those, starting on the thread pool (or waiting to) */
	size_t running;  /* starts running on the thread pool: at most WATCH_MAX_STARTS */
	struct start_job *waiting, *waiting_tail; /* starts waiting for one of those */
	uint64_t slow_closed;                     /* watches ended for a slow client */
	unsigned bookmark_every_ms;
};

/* An object of a change or a list, parsed on first need and at most once. */
struct watch_obj {
	const char *json;
	size_t len;
	json_t *parsed;
	bool tried;
	struct {
		const char *type; /* NULL: unused */
		struct api_buf text;
	} lines[3]; /* the plain event lines made of it so far, one per event type */
};
/* Release what o made (parsed object, event lines). */
void watch_obj_free(struct watch_obj *o);

/* ---- watch_event.c ----------------------------------------------------------------------------
 */

/* Whether w needs object contents (label or field selectors) to decide. */
bool watch_filtered(const struct watch *w);
/* The parsed object (NULL if it is not valid JSON). */
json_t *watch_obj_parse(struct watch_obj *o);
/* Whether the object's namespace and name can concern w (no parsing). */
bool watch_concerns(const struct watch *w, const char *ns, const char *name);
/* Whether o passes w's selectors (parses it when selectors are set). */
bool watch_selects(struct watch *w, struct watch_obj *o);
/* The event type that a change of type t to object o (ns/name) makes for w, NULL for none;
 * updates w->selected. */
const char *watch_event_type(struct watch *w, enum store_change_type t, const char *ns,
                             const char *name, struct watch_obj *o);
/* Mark ns/name as selected (the synthetic ADDED of a list, or seeding). */
void watch_select(struct watch *w, const char *ns, const char *name);
/* Write data to w's stream (to its capture buffer while it starts); the failure, WATCH_OK when
 * queued. */
enum watch_failure watch_write(struct watch *w, const char *data, size_t len);
/* Write one event of type with object o. Returns the failure, WATCH_OK when written. */
enum watch_failure watch_send(struct watch *w, const char *type, struct watch_obj *o);
/* ERROR with a Status of code/reason/message. */
enum watch_failure watch_send_status(struct watch *w, unsigned code, const char *reason,
                                     const char *message);
/* BOOKMARK at the watch's position; initial_end marks the end of sendInitialEvents' events. */
enum watch_failure watch_send_bookmark(struct watch *w, bool initial_end);

#endif
