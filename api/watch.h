/* watch.h — watches of the resource API: event-driven from the store's change log, served by every
 * replica from its own store (../shared/KUBECTL.md, Watch).
 *
 * A watch is a streamed (chunked) answer of one JSON event per line: {"type":"ADDED|MODIFIED|
 * DELETED|BOOKMARK|ERROR","object":...}. From resourceVersion "" or "0" it first sends a synthetic
 * ADDED for every existing object that matches; from another rv it resumes after it, or sends one
 * ERROR with a 410 Expired Status when the change log no longer holds it. Label and field
 * selectors filter events (an object leaving the selection is sent as DELETED, as Kubernetes
 * does); allowWatchBookmarks=true adds periodic BOOKMARK events; timeoutSeconds ends the stream;
 * Accept asking for a Table sends Table rows as objects. Nothing polls: api_watch_notify runs on
 * every applied command. */
#ifndef STSD_API_WATCH_H
#define STSD_API_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct api_server;
struct api_req;
struct route;
struct api_watchers;

/* Serve r (a GET of a collection, or of an object through a metadata.name selector, with
 * watch=true) as a watch; answers errors itself (400 for bad selectors or rv). */
void api_watch_start(struct api_server *s, struct api_req *r, const struct route *rt);
/* Deliver the changes up to revision to every open watch (called on the loop thread after each
 * applied command, and after a snapshot is installed). */
void api_watch_notify(struct api_server *s, uint64_t revision);
/* End every watch (the server stops). */
void api_watch_close_all(struct api_server *s);
/* Open watches (started: their initial events are out), for /metrics and tests. */
size_t api_watch_count(const struct api_server *s);
/* Watches ended because their client read too slowly (its queue outgrew the stream limit). */
uint64_t api_watch_slow_closed(const struct api_server *s);

#endif
