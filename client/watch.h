/* watch.h — list + watch of one collection, like client-go's reflector: an informer-like loop for
 * agents and tests over a failing-over client.
 *
 * client_list_watch LISTs the collection (paged), delivers every object as ADDED and then SYNCED,
 * and WATCHes from the list's resourceVersion with bookmarks, each watch ending after a random
 * timeoutSeconds. It resumes from the last resourceVersion it saw when a watch ends or its
 * connection breaks (the broken replica is tried last), and LISTs again when that resourceVersion
 * has left the server's history (410 Gone): the objects are then compared with what was delivered
 * (by uid and resourceVersion) and only the differences go out — ADDED, MODIFIED, DELETED — then
 * SYNCED. Repeated failures back off (doubling, capped). So the callback sees each change of the
 * selection once, in order, whatever replica fails. */
#ifndef STSD_CLIENT_WATCH_H
#define STSD_CLIENT_WATCH_H

#include <jansson.h>
#include <stddef.h>

#include "client.h"

/* One event: type is "ADDED", "MODIFIED", "DELETED" (obj: its last state) or "SYNCED" (after each
 * full list, once every current object was delivered; obj NULL). obj is borrowed for the call
 * (json_incref to keep it). A non-zero return ends client_list_watch, which returns that value. */
typedef int (*client_watch_cb)(void *ud, const char *type, const json_t *obj);

/* Before a watch starts from rv (a NUL-terminated string in a buffer of rvlen bytes), which the
 * hook may rewrite: for tests, to force an expired resourceVersion (a 410) at a chosen moment.
 * Runs on client_list_watch's thread, between two requests. */
typedef void (*client_watch_hook_cb)(void *ud, char *rv, size_t rvlen);

/* Every field may be 0 / NULL for its default. */
struct client_watch_options {
	long watch_timeout_s; /* a watch asks for timeoutSeconds in [t, 2t) (client-go: 5-10 min);
	                       * 300 */
	long page_limit;      /* objects per list page; 500 */
	long backoff_ms;      /* wait before the second retry in a row, doubling; 200 (the first
	                       * retry, on another replica, goes at once) */
	long backoff_max_ms;  /* cap of that wait; 30000 */
	client_watch_hook_cb before_watch; /* NULL: none */
	void *hook_ud;
};

/* List and watch path — a collection path starting with '/', with an optional query of
 * labelSelector / fieldSelector ("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a"); the loop
 * adds watch, resourceVersion, limit, continue, allowWatchBookmarks and timeoutSeconds itself —
 * through c (used by this thread only until it returns), delivering events to cb until:
 * - *stop becomes non-zero (stop may be NULL: never): returns 0, within about a second;
 * - cb returns non-zero: returns that value;
 * - the server refuses for good: STSD_INVALID (401, 403, 400, 422), STSD_NOTFOUND (404), with the
 *   server's Status message in err;
 * - STSD_NOMEM, or STSD_INVALID for a bad path.
 * Transport failures, 5xx, 429 and broken streams are retried forever (with back-off); each one is
 * logged. opts may be NULL. */
int client_list_watch_opts(struct client *c, const char *path,
                           const struct client_watch_options *opts, client_watch_cb cb, void *ud,
                           const volatile int *stop, char *err, size_t errlen);

/* client_list_watch_opts with the default options. */
int client_list_watch(struct client *c, const char *path, client_watch_cb cb, void *ud,
                      const volatile int *stop, char *err, size_t errlen);

#endif
