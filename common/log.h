/* log.h — structured logging: one line per event, key=value pairs, with a level and a module.
 *
 * Example: log_info("store", "event=open dir=%s map_size=%zu", dir, size) prints
 *   ts=2026-11-25T12:00:00.123Z level=info mod=store event=open dir=/d map_size=268435456
 * Values containing spaces must be quoted by the caller (log_quote helps). Thread-safe (one
 * write(2)). */
#ifndef STSD_LOG_H
#define STSD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Messages below level are dropped; default LOG_INFO. Parses "debug|info|warn|error"; returns -1 if
 * the name is unknown. */
void log_set_level(enum log_level level);
int log_parse_level(const char *name);
/* Write to fd instead of stderr (default 2). */
void log_set_fd(int fd);

void log_emit(enum log_level level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_emit(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_emit(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_emit(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_emit(LOG_ERROR, mod, __VA_ARGS__)

/* Quote s as a logfmt value into buf ("a b" -> "\"a b\"", inner quotes escaped); returns buf. */
const char *log_quote(char *buf, size_t len, const char *s);

#endif
