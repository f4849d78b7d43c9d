/* util.h — small helpers shared by every module: time, hex, big-endian integers. */
#ifndef STSD_UTIL_H
#define STSD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC; for deadlines and durations, never for timestamps. */
uint64_t util_now_mono_ms(void);
/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t util_now_mono_ns(void);
/* Seconds since the epoch (CLOCK_REALTIME). */
int64_t util_now_unix(void);
/* RFC 3339 UTC with second precision ("2026-11-25T12:00:00Z") into buf (>= 21 bytes). */
void util_format_rfc3339(int64_t unix_seconds, char *buf, size_t len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex(const void *data, size_t len, char *out);

static inline void util_put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t util_get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void util_put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint32_t util_get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Base64url without padding. util_b64url_encode writes 4*ceil(len/3)+1 bytes at most into out and
 * returns the length written. util_b64url_decode returns the decoded length or -1 on bad input; out
 * needs 3*(len/4)+3 bytes. */
size_t util_b64url_encode(const void *data, size_t len, char *out);
long util_b64url_decode(const char *in, size_t len, void *out);

#endif
