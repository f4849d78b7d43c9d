/* test_common.c — the shared helpers: error table, arena, base64url, RFC 3339, logfmt quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "errors.h"
#include "log.h"
#include "util.h"

static void error_table(void **state)
{
	(void)state;
	assert_string_equal(stsd_strerror(STSD_OK), "ok");
	assert_string_equal(stsd_errname(STSD_CONFLICT), "CONFLICT");
	assert_string_equal(stsd_strerror(-1), "unknown error");
	assert_string_equal(stsd_errname(STSD_ERROR_COUNT), "UNKNOWN");
}

static void arena_allocates_and_resets(void **state)
{
	struct arena a;
	char *p[100];

	(void)state;
	arena_init(&a, 32);
	for (int i = 0; i < 100; i++) {
		p[i] = arena_strndup(&a, "hello world", 5);
		assert_string_equal(p[i], "hello");
		assert_int_equal((uintptr_t)p[i] % 16, 0);
	}
	/* A block larger than any so far. */
	assert_non_null(arena_alloc(&a, 1 << 20));
	arena_reset(&a);
	assert_non_null(arena_alloc(&a, 1 << 19));
	assert_null(arena_alloc(&a, SIZE_MAX));
	arena_close(&a);
}

static void b64url_round_trip(void **state)
{
	unsigned char in[64], out[64];
	char enc[128];

	(void)state;
	for (size_t len = 0; len < sizeof in; len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(i * 37 + len);
		size_t n = util_b64url_encode(in, len, enc);
		assert_int_equal(strlen(enc), n);
		assert_int_equal(util_b64url_decode(enc, n, out), (long)len);
		assert_memory_equal(in, out, len);
	}
	assert_int_equal(util_b64url_decode("a", 1, out), -1);
	assert_int_equal(util_b64url_decode("ab=c", 4, out), -1);
	/* Non-canonical trailing bits are refused. */
	assert_int_equal(util_b64url_decode("AB", 2, out), -1);
}

static void time_and_quote(void **state)
{
	char buf[64];

	(void)state;
	util_format_rfc3339(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	util_format_rfc3339(1764072000, buf, sizeof buf);
	assert_string_equal(buf, "2025-11-25T12:00:00Z");
	assert_string_equal(log_quote(buf, sizeof buf, "a \"b\"\nc"), "\"a \\\"b\\\" c\"");
	assert_int_equal(log_parse_level("warn"), LOG_WARN);
	assert_int_equal(log_parse_level("loud"), -1);
	util_hex("\x01\xab", 2, buf);
	assert_string_equal(buf, "01ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(error_table),
	    cmocka_unit_test(arena_allocates_and_resets),
	    cmocka_unit_test(b64url_round_trip),
	    cmocka_unit_test(time_and_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
