/* test_codec.c — stored records round-trip through proto.h, and damaged bytes decode to errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "proto.h"

static void object_round_trip(void **state)
{
	struct proto_object in = {.resource_version = 1ull << 40,
	                          .uid = "abc",
	                          .generation = 7,
	                          .creation_time = 1764072000,
	                          .json = "{\"a\":1}",
	                          .json_len = 7};
	struct proto_object out;
	struct arena a;
	size_t n = proto_object_size(&in);
	unsigned char *buf = malloc(n);

	(void)state;
	arena_init(&a, 64);
	proto_object_pack(&in, buf);
	assert_int_equal(proto_object_decode(buf, n, &a, &out), STSD_OK);
	assert_int_equal(out.resource_version, in.resource_version);
	assert_string_equal(out.uid, "abc");
	assert_int_equal(out.generation, 7);
	assert_int_equal(out.creation_time, 1764072000);
	assert_int_equal(out.json_len, 7);
	assert_memory_equal(out.json, in.json, 7);
	/* Every truncation is an error, never a crash or a partial record. */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(proto_object_decode(buf, cut, &a, &out), STSD_OK);
	arena_close(&a);
	free(buf);
}

static void claim_and_change_round_trip(void **state)
{
	struct proto_change in = {.type = PROTO_CHANGE_DELETED,
	                          .resource = "ordinalclaims",
	                          .ns = "default",
	                          .name = "web",
	                          .ordinal = 3,
	                          .has_claim = true,
	                          .claim = {.pod_uid = "u",
	                                    .pod_name = "web-3",
	                                    .node = "n1",
	                                    .state = PROTO_CLAIM_RELEASING,
	                                    .revision = 9}};
	struct proto_change out;
	struct arena a;
	unsigned char buf[256];
	size_t n = proto_change_size(&in);

	(void)state;
	assert_true(n < sizeof buf);
	arena_init(&a, 64);
	proto_change_pack(&in, buf);
	assert_int_equal(proto_change_decode(buf, n, &a, &out), STSD_OK);
	assert_int_equal(out.type, PROTO_CHANGE_DELETED);
	assert_string_equal(out.ns, "default");
	assert_int_equal(out.ordinal, 3);
	assert_true(out.has_claim);
	/* A claim record cut anywhere is refused as well. */
	{
		struct proto_claim c;
		unsigned char cb[128];
		size_t cn = proto_claim_size(&in.claim);
		proto_claim_pack(&in.claim, cb);
		assert_int_equal(proto_claim_decode(cb, cn, &a, &c), STSD_OK);
		for (size_t cut = 0; cut < cn; cut++)
			assert_int_not_equal(proto_claim_decode(cb, cut, &a, &c), STSD_OK);
	}
	assert_string_equal(out.claim.node, "n1");
	assert_int_equal(out.claim.state, PROTO_CLAIM_RELEASING);
	assert_int_equal(out.claim.revision, 9);
	arena_close(&a);
}

static void formats_are_checked(void **state)
{
	/* format=2 (field 1 varint 2): a future version is refused as such. */
	static const unsigned char future[] = {0x08, 0x02, 0x10, 0x05};
	/* No format at all: garbage that happened to parse. */
	static const unsigned char none[] = {0x10, 0x05};
	/* A claim in an unknown state. */
	static const unsigned char bad_state[] = {0x08, 0x01, 0x12, 0x01, 0x75,
	                                          0x28, 0x09, 0x30, 0x01};
	struct proto_object o;
	struct proto_claim c;
	struct arena a;

	(void)state;
	arena_init(&a, 64);
	assert_int_equal(proto_object_decode(future, sizeof future, &a, &o), STSD_UNSUPPORTED);
	assert_int_equal(proto_object_decode(none, sizeof none, &a, &o), STSD_CORRUPT);
	assert_int_equal(proto_claim_decode(bad_state, sizeof bad_state, &a, &c), STSD_CORRUPT);
	arena_close(&a);
}

static void random_bytes_never_crash(void **state)
{
	unsigned char buf[64];
	uint32_t x = 2463534242u;
	struct arena a;

	(void)state;
	arena_init(&a, 256);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % 64);
		struct proto_object o;
		struct proto_change c;
		struct proto_snapshot_record r;
		for (size_t j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[j] = (unsigned char)x;
		}
		/* Any result is fine as long as it is a result. */
		(void)proto_object_decode(buf, n, &a, &o);
		(void)proto_change_decode(buf, n, &a, &c);
		(void)proto_snapshot_record_decode(buf, n, &a, &r);
		arena_reset(&a);
	}
	arena_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(object_round_trip),
	    cmocka_unit_test(claim_and_change_round_trip),
	    cmocka_unit_test(formats_are_checked),
	    cmocka_unit_test(random_bytes_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
