/* test_node_cidr.c — ctl_node_cidr (controller/node.h): the lowest free pod CIDR of the cluster
 * range (upstream nodeipam's cidrset: a node's CIDR occupies every subnet it overlaps), strict
 * IPv4 parsing, bad input. J comes from sts_fixture.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "node.h"
#include "sts_fixture.h"

static int cidr(const char *const *node_cidrs, size_t n, const char *range, unsigned mask,
                char *out, size_t len)
{
	json_t *nodes[8];
	int rc;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		char text[256];
		snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"n%zu\"},\"spec\":{%s}}", i,
		         node_cidrs[i]);
		nodes[i] = J(text);
	}
	rc = ctl_node_cidr((const json_t *const *)nodes, n, range, mask, out, len);
	for (size_t i = 0; i < n; i++)
		json_decref(nodes[i]);
	return rc;
}

static void test_cidr_lowest_free(void **state)
{
	const char *none[] = {""};
	const char *taken[] = {"\"podCIDR\":\"10.244.0.0/24\"", "\"podCIDR\":\"10.244.2.0/24\"",
	                       "\"podCIDR\":\"10.244.1.0/24\""};
	const char *foreign[] = {"\"podCIDR\":\"192.168.0.0/24\"", "\"podCIDR\":\"garbage\"",
	                         "\"podCIDR\":5", "\"podCIDRs\":[\"10.244.0.0/24\",\"fd00::/64\"]",
	                         "\"podCIDR\":\"10.243.255.0/24\""};
	const char *wide[] = {"\"podCIDR\":\"10.244.0.0/23\"", "\"podCIDR\":\"10.244.2.128/25\""};
	char out[32];
	(void)state;

	assert_int_equal(cidr(NULL, 0, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.0.0/24");
	assert_int_equal(cidr(none, 1, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.0.0/24");
	assert_int_equal(cidr(taken, 3, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.3.0/24");
	assert_int_equal(cidr(taken, 2, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.1.0/24");
	/* Out of range, garbage and IPv6 are ignored; podCIDRs count. */
	assert_int_equal(cidr(foreign, 5, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.1.0/24");
	/* A /23 takes two subnets, a /25 the one it is in. */
	assert_int_equal(cidr(wide, 2, "10.244.0.0/16", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.3.0/24");
	/* Host bits in the range are cleared (as net.ParseCIDR). */
	assert_int_equal(cidr(NULL, 0, "10.244.7.9/16", 26, out, sizeof out), 0);
	assert_string_equal(out, "10.244.0.0/26");
	/* The whole address space, the smallest subnets. */
	assert_int_equal(cidr(NULL, 0, "0.0.0.0/0", 30, out, sizeof out), 0);
	assert_string_equal(out, "0.0.0.0/30");
	assert_int_equal(cidr(taken, 1, "10.244.0.0/24", 24, out, sizeof out), STSD_NOSPACE);
	assert_int_equal(cidr(taken, 3, "10.244.0.0/23", 24, out, sizeof out), STSD_NOSPACE);
	assert_int_equal(cidr(taken, 1, "10.244.0.0/23", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.244.1.0/24");
	assert_int_equal(cidr(NULL, 0, "255.255.255.252/30", 30, out, sizeof out), 0);
	assert_string_equal(out, "255.255.255.252/30");
}

static void test_cidr_bad_input(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.0/33",  "a.b.c.d/8",   "10.0.0/8",     "10.0.0.0.0/8",
	    "10.0.0.256/8", "10.0.0.0",    "10.0.0.0/",    "10.0.0.0/8x",
	    " 10.0.0.0/8",  "10.0.0.0/8 ", "010.0.0.0/8",  "10.0.0.0/08",
	    "-1.0.0.0/8",   "10..0.0/8",   "1000.0.0.0/8", "",
	    "10.0.0.0/-1",  "10.0.0.0/+8", "fd00::/64",    "10.0.0.0/123",
	    "10.0.0.1/8/8"};
	char out[32];
	(void)state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ctl_node_cidr(NULL, 0, bad[i], 24, out, sizeof out) != STSD_INVALID)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(ctl_node_cidr(NULL, 0, NULL, 24, out, sizeof out), STSD_INVALID);
	/* mask outside prefix..30 */
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/24", 16, out, sizeof out), STSD_INVALID);
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/8", 31, out, sizeof out), STSD_INVALID);
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/31", 31, out, sizeof out), STSD_INVALID);
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/8", 24, NULL, 32), STSD_INVALID);
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/8", 24, out, 0), STSD_INVALID);
	assert_int_equal(ctl_node_cidr(NULL, 3, "10.0.0.0/8", 24, out, sizeof out), STSD_INVALID);
	/* "10.0.0.0/24" does not fit in 8 bytes. */
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/8", 24, out, 8), STSD_INVALID);
	/* Edge prefixes accepted. */
	assert_int_equal(ctl_node_cidr(NULL, 0, "10.0.0.0/30", 30, out, sizeof out), 0);
	assert_string_equal(out, "10.0.0.0/30");
	/* Odd nodes: not objects, null entries. */
	{
		json_t *nodes[3] = {J("[]"), NULL, J("{\"spec\":\"x\"}")};
		assert_int_equal(ctl_node_cidr((const json_t *const *)nodes, 3, "10.0.0.0/8", 24,
		                               out, sizeof out),
		                 0);
		assert_string_equal(out, "10.0.0.0/24");
		json_decref(nodes[0]);
		json_decref(nodes[2]);
	}
}

/* Many nodes, out of order: the scan still finds the first gap. */
static void test_cidr_many_nodes(void **state)
{
	json_t *nodes[300];
	char out[32], text[128];
	(void)state;

	for (size_t i = 0; i < 300; i++) {
		size_t k = 299 - i; /* descending: the worst order for the scan */
		snprintf(text, sizeof text, "{\"spec\":{\"podCIDR\":\"10.%zu.%zu.0/24\"}}",
		         k >= 150 ? (size_t)1 : (size_t)0, k >= 150 ? k - 150 + 1 : k);
		nodes[i] = J(text);
	}
	/* 10.0.0..149 and 10.1.1..150 taken: the first free one is 10.0.150.0. */
	assert_int_equal(
	    ctl_node_cidr((const json_t *const *)nodes, 300, "10.0.0.0/8", 24, out, sizeof out), 0);
	assert_string_equal(out, "10.0.150.0/24");
	for (size_t i = 0; i < 300; i++)
		json_decref(nodes[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_lowest_free),
	    cmocka_unit_test(test_cidr_bad_input),
	    cmocka_unit_test(test_cidr_many_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
