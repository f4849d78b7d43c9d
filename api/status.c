/* status.c — answers: metav1.Status for failures, JSON and text for the rest. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"
#include "log.h"

#define JSON_TYPE "application/json"

struct reason_row {
	const char *text;
	unsigned code;
};

static const struct reason_row reasons[] = {
#define API_REASON_ROW(name, text, code) {text, code},
    API_REASONS(API_REASON_ROW)
#undef API_REASON_ROW
};

void api_reply_raw(struct api_req *r, unsigned status, const char *json, size_t len)
{
	api_respond(r, status, JSON_TYPE, json, len);
}

void api_reply_json(struct api_req *r, unsigned status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL) {
		api_respond(r, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	api_reply_raw(r, status, text, strlen(text));
	free(text);
}

void api_reply_text(struct api_req *r, unsigned status, const char *text)
{
	api_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* A failure Status with the formatted message. */
static json_t *failure(enum api_reason reason, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static json_t *failure(enum api_reason reason, const char *fmt, va_list ap)
{
	const struct reason_row *row = &reasons[reason];
	char msg[1024];
	json_t *st;

	vsnprintf(msg, sizeof msg, fmt, ap);
	st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1",
	               "metadata", "status", "Failure", "message", msg, "code", (int)row->code);
	/* Kubernetes leaves the reason out of a 500 ("StatusReasonUnknown"). */
	if (st && reason != API_INTERNAL)
		json_object_set_new(st, "reason", json_string(row->text));
	return st;
}

char *api_status_text(enum api_reason reason, const char *fmt, ...)
{
	char *text;
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	st = failure(reason, fmt, ap);
	va_end(ap);
	text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	json_decref(st);
	return text;
}

void api_fail(struct api_req *r, enum api_reason reason, json_t *details, const char *fmt, ...)
{
	const struct reason_row *row = &reasons[reason];
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	st = failure(reason, fmt, ap);
	va_end(ap);
	if (st && details)
		json_object_set(st, "details", details);
	json_decref(details);
	if (row->code == 503 || row->code == 429)
		api_req_add_header(r, "Retry-After", "1");
	api_reply_json(r, row->code, st);
}

json_t *api_details(const struct api_resource *res, const char *name)
{
	json_t *d = json_object();

	if (name && *name)
		json_object_set_new(d, "name", json_string(name));
	if (res) {
		if (*res->group)
			json_object_set_new(d, "group", json_string(res->group));
		json_object_set_new(d, "kind", json_string(res->plural));
	}
	return d;
}

void api_fail_code(struct api_req *r, int code, const char *what)
{
	switch (code) {
	case STSD_NOTLEADER:
	case STSD_UNAVAILABLE:
		api_fail(r, API_UNAVAILABLE, NULL, "%s: no leader is available; retry shortly",
		         what);
		break;
	case STSD_LEADERSHIPLOST:
		api_fail(r, API_UNAVAILABLE, NULL,
		         "%s: leadership changed before the outcome was known; the change may or "
		         "may not have been applied",
		         what);
		break;
	case STSD_TIMEOUT:
		api_fail(r, API_TIMEOUT, NULL,
		         "%s: the request did not complete within the allowed time; the change may "
		         "still be applied",
		         what);
		break;
	case STSD_SHUTDOWN:
		api_fail(r, API_UNAVAILABLE, NULL, "%s: this replica is shutting down", what);
		break;
	case STSD_TOOBIG:
		api_fail(r, API_TOO_LARGE, NULL, "%s: request is too large", what);
		break;
	case STSD_BUSY:
		api_fail(r, API_TOO_MANY, NULL, "%s: the server is busy; retry shortly", what);
		break;
	default:
		log_warn("api", "event=internal_error what=\"%s\" err=%s", what,
		         stsd_errname(code));
		api_fail(r, API_INTERNAL, NULL, "%s: %s", what, stsd_strerror(code));
		break;
	}
}
