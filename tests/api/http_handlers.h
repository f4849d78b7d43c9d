/* http_handlers.h — test_http.c's server handler, fixture steps and wait conditions. */
#ifndef STSD_TEST_HTTP_HANDLERS_H
#define STSD_TEST_HTTP_HANDLERS_H

#include <stdbool.h>

#include "http_fixture.h"

/* Routes by path: /echo, /later, /stream, /hold, /barrier; 404 otherwise. */
void test_handler(void *ud, struct api_req *r);
/* cmocka setup/teardown: *state is a struct fx with its loop (no server yet). */
int http_setup(void **state);
int http_teardown(void **state);
/* Start the server with o (NULL: defaults) and test_handler. */
struct fx *started(void **state, const struct api_http_options *o);
struct api_http_stats stats(struct fx *fx);
/* Conditions for fx_wait. */
bool one_client_done(struct fx *fx);
bool all_clients_done(struct fx *fx);
bool one_close(struct fx *fx);
bool two_suspended(struct fx *fx);
bool no_live_request(struct fx *fx);
/* Run one call to the end in a client thread while the loop serves. */
void run_call(struct fx *fx, struct call *c);

#endif
