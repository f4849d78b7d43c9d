/* json.c — JSON requests over the client, and Kubernetes Status answers turned into error codes. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "internal.h"

int client_status_code(long status, const char *reason)
{
	if (status >= 200 && status < 300)
		return STSD_OK;
	switch (status) {
	case 400:
	case 422:
		return STSD_INVALID;
	case 404:
		return STSD_NOTFOUND;
	case 409:
		return reason != NULL && strcmp(reason, "AlreadyExists") == 0 ? STSD_EXISTS
		                                                              : STSD_CONFLICT;
	case 410:
		return STSD_EXPIRED;
	case 413:
		return STSD_TOOBIG;
	case 429:
		return STSD_BUSY;
	case 503:
		return STSD_UNAVAILABLE;
	case 504:
		return STSD_TIMEOUT;
	default:
		return STSD_IO;
	}
}

/* The error of a non-2xx answer: the Status message and reason when the body is a metav1.Status,
 * else the body's first line. */
static int status_error(struct client *c, const char *method, const char *path,
                        const struct client_response *r)
{
	json_t *st = json_loadb(r->body, r->body_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(st, "message"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	int code = client_status_code(r->status, reason);
	int n = (int)strcspn(r->body, "\r\n");

	if (msg != NULL)
		client_errorf(c, code, "%s %s: %s (%ld %s)", method, path, msg, r->status,
		              reason != NULL ? reason : "");
	else
		client_errorf(c, code, "%s %s: HTTP %ld%s%.*s", method, path, r->status,
		              n > 0 ? ": " : "", n < 200 ? n : 200, r->body);
	json_decref(st);
	return code;
}

static int parse_body(struct client *c, const char *method, const char *path,
                      const struct client_response *r, json_t **out)
{
	json_error_t e;

	if (out == NULL)
		return STSD_OK;
	*out = NULL;
	if (r->body_len == 0)
		return STSD_OK;
	if ((*out = json_loadb(r->body, r->body_len, 0, &e)) == NULL)
		return client_errorf(c, STSD_CORRUPT, "%s %s: %s answered %ld with bad JSON: %s",
		                     method, path, r->base_url, r->status, e.text);
	return STSD_OK;
}

int client_json(struct client *c, const char *method, const char *path, const json_t *body,
                json_t **out)
{
	struct client_response r = {.retry_after = -1};
	char *text = NULL;
	int rv;

	if (out != NULL)
		*out = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		return client_errorf(c, STSD_NOMEM, "%s %s: cannot encode the body", method, path);
	rv = client_request(c, method, path, text, text != NULL ? strlen(text) : 0,
	                    text != NULL ? "application/json" : NULL, &r);
	free(text);
	if (rv != STSD_OK)
		return rv;
	if (r.status < 200 || r.status >= 300)
		rv = status_error(c, method, path, &r);
	else
		rv = parse_body(c, method, path, &r, out);
	client_response_free(&r);
	return rv;
}

int client_get_json(struct client *c, const char *path, json_t **out)
{
	return client_json(c, "GET", path, NULL, out);
}
