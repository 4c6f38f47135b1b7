/* Unit tests of util: durations, errno names and the error-buffer helper.
 * Pure logic: no namespaces, no root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util.h"

static int64_t parse_ok(const char *s)
{
	int64_t ns = -12345;

	assert_int_equal(fw_duration_parse(s, &ns), 0);
	return ns;
}

/* Every unit the case files use parses to the right number of nanoseconds. */
static void test_duration_parse_ok(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("200ms"), 200 * FW_NS_PER_MS);
	assert_int_equal(parse_ok("2s"), 2 * FW_NS_PER_SEC);
	assert_int_equal(parse_ok("1.5s"), 1500 * FW_NS_PER_MS);
	assert_int_equal(parse_ok("500us"), 500000);
	assert_int_equal(parse_ok("60s"), 60 * FW_NS_PER_SEC);
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("0ms"), 0);
}

/* Bare numbers, negative values, unknown units, junk and absurd sizes are refused. */
static void test_duration_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "2",   "-1s",  "1h", "",	"abc",	"1e30s", "ms",
	    "2 s", "2sec", "2S", "nan", "infs", "1.5",	 "100000s",
	};
	int64_t ns = 77;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = fw_duration_parse(bad[i], &ns);

		if (ret != -EINVAL)
			fail_msg("fw_duration_parse(\"%s\") returned %d, expected -EINVAL", bad[i],
				 ret);
	}
	assert_int_equal(fw_duration_parse(NULL, &ns), -EINVAL);
	assert_int_equal(ns, 77); /* a rejected value leaves the output alone */
}

static void format_is(int64_t ns, const char *want)
{
	char buf[32];

	fw_duration_format(ns, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Seconds with millisecond precision, milliseconds with one decimal, else whole microseconds. */
static void test_duration_format(void **state)
{
	(void)state;
	format_is(0, "0us");
	format_is(999, "0us");
	format_is(15000, "15us");
	format_is(999999, "999us");
	format_is(FW_NS_PER_MS, "1.0ms");
	format_is(200 * FW_NS_PER_MS, "200.0ms");
	format_is(12345678, "12.3ms");
	format_is(FW_NS_PER_SEC, "1.000s");
	format_is(1234 * FW_NS_PER_MS, "1.234s");
	format_is(60 * FW_NS_PER_SEC, "60.000s");
	format_is(-5, "0us"); /* a negative span (clock skew) shows as zero */
}

/* A short buffer is cut and terminated, never overrun. */
static void test_duration_format_short_buffer(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	fw_duration_format(1234 * FW_NS_PER_MS, buf, 4);
	assert_string_equal(buf, "1.2");
	assert_int_equal(buf[4], 'X');
}

/* parse(name(e)) == e for every errno the table knows, signs are ignored, 0 is "OK". */
static void test_errno_round_trip(void **state)
{
	static const int socket_errors[] = {ECONNREFUSED, ECONNRESET,  ECONNABORTED,
					    ETIMEDOUT,	  EADDRINUSE,  EPIPE,
					    ENOTCONN,	  EINPROGRESS, EAGAIN};
	size_t i, known = 0;
	int e;

	(void)state;
	assert_string_equal(fw_errno_name(0), "OK");
	assert_int_equal(fw_errno_parse("OK"), 0);
	assert_string_equal(fw_errno_name(ECONNREFUSED), "ECONNREFUSED");
	assert_string_equal(fw_errno_name(-ECONNRESET), "ECONNRESET");
	assert_int_equal(fw_errno_parse("ECONNREFUSED"), ECONNREFUSED);
	for (i = 0; i < sizeof(socket_errors) / sizeof(socket_errors[0]); i++)
		assert_string_not_equal(fw_errno_name(socket_errors[i]), "E?");
	for (e = 0; e < 4096; e++) {
		const char *name = fw_errno_name(e);

		if (strcmp(name, "E?") == 0)
			continue;
		known++;
		if (fw_errno_parse(name) != e)
			fail_msg("fw_errno_parse(\"%s\") != %d", name, e);
		assert_string_equal(fw_errno_name(-e), name);
	}
	assert_true(known > sizeof(socket_errors) / sizeof(socket_errors[0]));
}

/* Unknown numbers print as "E?", and names match exactly (no case folding, no prefixes). */
static void test_errno_unknown(void **state)
{
	(void)state;
	assert_string_equal(fw_errno_name(4095), "E?");
	assert_int_equal(fw_errno_parse("E?"), -1);
	assert_int_equal(fw_errno_parse("econnrefused"), -1);
	assert_int_equal(fw_errno_parse("ECONN"), -1);
	assert_int_equal(fw_errno_parse("ECONNREFUSEDX"), -1);
	assert_int_equal(fw_errno_parse(""), -1);
}

/* fw_err formats into the buffer, cuts long messages, and with no buffer only returns ret. */
static void test_err_formatting(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(fw_err(buf, sizeof(buf), -EINVAL, "%s:%d: %s", "x.yaml", 3, "bad"),
			 -EINVAL);
	assert_string_equal(buf, "x.yaml:3: bad");

	assert_int_equal(fw_err(buf, sizeof(buf), -ENOENT, "%s", "a message far too long for it"),
			 -ENOENT);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, "a message far t", sizeof(buf));

	assert_int_equal(fw_err(NULL, 0, -EIO, "ignored %d", 1), -EIO);
	assert_int_equal(fw_err(NULL, 100, -EPERM, "ignored %s", "too"), -EPERM);

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fw_err(buf, 0, -EAGAIN, "not written"), -EAGAIN);
	assert_int_equal(buf[0], 'X'); /* errlen 0: the buffer is not touched */

	assert_int_equal(fw_err(buf, sizeof(buf), 0, "ok"), 0);
}

/* The monotonic clock never goes backwards. */
static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(id, &ts), 0);
	return (int64_t)ts.tv_sec * FW_NS_PER_SEC + ts.tv_nsec;
}

/* A pcap (realtime) stamp plus the offset lands between the monotonic reads
 * around it: this is how captured segments sort with everything else. */
static void test_realtime_to_mono(void **state)
{
	int64_t m1, r, m2, off;

	(void)state;
	off = fw_realtime_to_mono_offset();
	m1 = clock_ns(CLOCK_MONOTONIC);
	r = clock_ns(CLOCK_REALTIME);
	m2 = clock_ns(CLOCK_MONOTONIC);
	/* a millisecond of slack: the offset itself is read a moment earlier */
	assert_true(r + off >= m1 - FW_NS_PER_MS);
	assert_true(r + off <= m2 + FW_NS_PER_MS);
}

static void test_now_monotonic(void **state)
{
	int64_t a = fw_now_ns(), b = fw_now_ns();

	(void)state;
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_parse_ok),
	    cmocka_unit_test(test_duration_parse_rejects),
	    cmocka_unit_test(test_duration_format),
	    cmocka_unit_test(test_duration_format_short_buffer),
	    cmocka_unit_test(test_errno_round_trip),
	    cmocka_unit_test(test_errno_unknown),
	    cmocka_unit_test(test_err_formatting),
	    cmocka_unit_test(test_now_monotonic),
	    cmocka_unit_test(test_realtime_to_mono),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
