/* Unit tests of mangle: header rewrites and from-scratch TCP checksums on
 * real packets (captured on a veth, so their checksum field held only the
 * pseudo-header sum; the full sums below were computed independently with a
 * few lines of Python over the same bytes). No root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mangle.h"
#include "seg.h"

/* IPv4 PSH-ACK carrying 100 bytes, nop nop TS; full checksum 0xab2d. */
static const char v4_data_hex[] = "450000986f13400040063f25c6120001c6120002"
				  "da521f90fd808e0010a7847b8018003f8cb20000"
				  "0101080a385837d146aae5da";
/* IPv6 FIN-ACK, nop nop TS; full checksum 0x564b. */
static const char v6_finack_hex[] = "600f5c1d00200640"
				    "20010002000000000000000000000002"
				    "20010002000000000000000000000001"
				    "1f90b54007bf47a9293083188011003f402f0000"
				    "0101080aa742a780730b4dd9";

static size_t load(uint8_t *buf, size_t cap, const char *hex, size_t payload)
{
	size_t n = 0;
	unsigned v;

	for (; *hex; hex += 2) {
		assert_true(n < cap);
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		buf[n++] = (uint8_t)v;
	}
	assert_true(n + payload <= cap);
	memset(buf + n, 'x', payload);
	return n + payload;
}

static uint16_t csum_field(const uint8_t *tcp)
{
	return (uint16_t)(tcp[16] << 8 | tcp[17]);
}

static void test_checksum_from_scratch(void **state)
{
	uint8_t p[256];
	size_t n;

	(void)state;
	n = load(p, sizeof(p), v4_data_hex, 100);
	assert_int_equal(mangle_tcp_checksum(p, n), 0);
	assert_int_equal(csum_field(p + 20), 0xab2d);
	n = load(p, sizeof(p), v6_finack_hex, 0);
	assert_int_equal(mangle_tcp_checksum(p, n), 0);
	assert_int_equal(csum_field(p + 40), 0x564b);
}

static void test_rewrite_fields(void **state)
{
	struct fault_rewrite rw = { .set_flags = true, .flags = SEG_RST | SEG_ACK,
				    .set_win = true, .win = 0, .seq_delta = 1000,
				    .ack_delta = -1, .tsval_delta = 5, .tsecr_delta = -5 };
	uint8_t p[256], orig[256];
	struct seg a, b;
	size_t n;

	(void)state;
	n = load(p, sizeof(p), v4_data_hex, 100);
	memcpy(orig, p, n);
	assert_int_equal(seg_parse_ip(orig, n, &a), 0);
	assert_int_equal(mangle_rewrite(p, n, &rw), 0);
	assert_int_equal(seg_parse_ip(p, n, &b), 0);
	assert_int_equal(b.seq, a.seq + 1000);
	assert_int_equal(b.ack, a.ack - 1);
	assert_int_equal(b.flags, SEG_RST | SEG_ACK);
	assert_int_equal(b.win, 0);
	assert_int_equal(b.tsval, a.tsval + 5);
	assert_int_equal(b.tsecr, a.tsecr - 5);
	assert_int_equal(b.len, 100);
	/* Undo the changes: the checksum must come back to the known sum. */
	rw.set_flags = true;
	rw.flags = a.flags;
	rw.win = a.win;
	rw.seq_delta = -1000;
	rw.ack_delta = 1;
	rw.tsval_delta = -5;
	rw.tsecr_delta = 5;
	assert_int_equal(mangle_rewrite(p, n, &rw), 0);
	assert_int_equal(csum_field(p + 20), 0xab2d);
	/* seq wraps modulo 2^32 */
	memset(&rw, 0, sizeof(rw));
	rw.seq_delta = -(int64_t)a.seq - 1;
	assert_int_equal(mangle_rewrite(p, n, &rw), 0);
	assert_int_equal(seg_parse_ip(p, n, &b), 0);
	assert_int_equal(b.seq, 0xffffffffu);
}

static void test_rejects_incomplete(void **state)
{
	struct fault_rewrite rw = { 0 };
	uint8_t p[256];
	size_t n;

	(void)state;
	n = load(p, sizeof(p), v4_data_hex, 100);
	/* Headers only (a truncated queue copy) cannot be summed. */
	assert_int_equal(mangle_rewrite(p, 52, &rw), -EINVAL);
	assert_int_equal(mangle_rewrite(p, 10, &rw), -EINVAL);
	p[9] = 17; /* UDP */
	assert_int_equal(mangle_rewrite(p, n, &rw), -EINVAL);
	n = load(p, sizeof(p), v6_finack_hex, 0);
	p[0] = 0x50;
	assert_int_equal(mangle_tcp_checksum(p, n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_from_scratch),
		cmocka_unit_test(test_rewrite_fields),
		cmocka_unit_test(test_rejects_incomplete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
