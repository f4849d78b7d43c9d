/* internal.h — the client's state, shared by the files of client/ only. */
#ifndef STSD_CLIENT_INTERNAL_H
#define STSD_CLIENT_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>

#include "client.h"

struct client {
	CURL *curl;                 /* one handle for every request: its connections are reused */
	char **urls;                /* base URLs, without a trailing '/' */
	size_t n_urls;              /* at least 1 */
	size_t current;             /* index of the URL tried first */
	struct client_options opts; /* defaults filled in; strings owned */
	char curl_err[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER of the last attempt */
	char errmsg[1024];              /* client_errmsg */
};

/* Format the client's error message; returns code. */
int client_errorf(struct client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
