/* errors.c — messages and names for the shared error table. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const messages[] = {
#define STSD_ERR_MSG(name, msg) msg,
    STSD_ERRORS(STSD_ERR_MSG)
#undef STSD_ERR_MSG
};

static const char *const names[] = {
#define STSD_ERR_NAME(name, msg) #name,
    STSD_ERRORS(STSD_ERR_NAME)
#undef STSD_ERR_NAME
};

const char *stsd_strerror(int code)
{
	if (code < 0 || code >= STSD_ERROR_COUNT)
		return "unknown error";
	return messages[code];
}

const char *stsd_errname(int code)
{
	if (code < 0 || code >= STSD_ERROR_COUNT)
		return "UNKNOWN";
	return names[code];
}

int stsd_errf(char *buf, unsigned long len, int code, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return code;
}
