/* errors.h — the one table of stsd error codes, shared by every module.
 *
 * Functions return int: 0 (STSD_OK) on success, otherwise one of these codes. Library codes (MDB_*,
 * RAFT_*, libuv, errno) are translated at the module edge; the human detail goes into the object's
 * error buffer. */
#ifndef STSD_ERRORS_H
#define STSD_ERRORS_H

/* X(name, message). The first four after OK double as typed results of a store transaction. */
#define STSD_ERRORS(X)                                                    \
	X(OK, "ok")                                                       \
	X(NOTFOUND, "not found")                                          \
	X(EXISTS, "already exists")                                       \
	X(CONFLICT, "conflict")                                           \
	X(INVALID, "invalid")                                             \
	X(EXPIRED, "revision expired")                                    \
	X(NOMEM, "out of memory")                                         \
	X(IO, "I/O error")                                                \
	X(NOSPACE, "no space left on device")                             \
	X(CORRUPT, "corrupt data")                                        \
	X(BUSY, "resource busy")                                          \
	X(TOOBIG, "too big")                                              \
	X(UNSUPPORTED, "unsupported format version")                      \
	X(NOTLEADER, "not the leader")                                    \
	X(LEADERSHIPLOST, "leadership lost before the outcome was known") \
	X(TIMEOUT, "timed out")                                           \
	X(UNAVAILABLE, "no leader")                                       \
	X(SHUTDOWN, "shutting down")

enum stsd_error {
#define STSD_ERR_ENUM(name, msg) STSD_##name,
	STSD_ERRORS(STSD_ERR_ENUM)
#undef STSD_ERR_ENUM
	    STSD_ERROR_COUNT
};

/* A static message for code; "unknown error" for values outside the table. */
const char *stsd_strerror(int code);

/* The code's short name ("NOTFOUND"), static; "UNKNOWN" outside the table. */
const char *stsd_errname(int code);

/* Format into buf (always NUL-terminated, truncated if needed); returns code so callers can
 * `return stsd_errf(buf, len, STSD_IO, "open %s: %s", ...)`. */
int stsd_errf(char *buf, unsigned long len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
