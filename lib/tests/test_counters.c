/* Unit tests of counters: parsing /proc/net/snmp and netstat text (fixtures
 * copied from this kernel), lookups by qualified and bare name, and one real
 * read of a fresh namespace (root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "netns.h"
#include "util.h"

static const char snmp_text[] =
	"Ip: Forwarding DefaultTTL InReceives\n"
	"Ip: 2 64 17\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\n"
	"Tcp: 1 200 120000 -1 3\n";
static const char netstat_text[] =
	"TcpExt: SyncookiesSent TWRecycled TCPTimeWaitOverflow\n"
	"TcpExt: 0 0 5\n"
	"IpExt: InNoRoutes\n"
	"IpExt: 1\n";

static void test_parse_and_lookup(void **state)
{
	struct counter_set cs = { 0 };
	int64_t v;

	(void)state;
	assert_int_equal(counters_parse(snmp_text, &cs), 0);
	assert_int_equal(counters_parse(netstat_text, &cs), 0);
	assert_int_equal(cs.n, 12);
	assert_int_equal(counters_get(&cs, "Tcp.MaxConn", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(counters_get(&cs, "TCPTimeWaitOverflow", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(counters_get(&cs, "TcpExt.TWRecycled", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(counters_get(&cs, "IpExt.InNoRoutes", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(counters_get(&cs, "Tcp.TWRecycled", &v), -ENOENT);
	assert_int_equal(counters_get(&cs, "NoSuchCounter", &v), -ENOENT);
	counter_set_clear(&cs);
	assert_int_equal(cs.n, 0);
}

static void test_parse_rejects(void **state)
{
	struct counter_set cs = { 0 };

	(void)state;
	assert_int_equal(counters_parse("Tcp: A B\nUdp: 1 2\n", &cs), -EINVAL);
	counter_set_clear(&cs);
	assert_int_equal(counters_parse("Tcp: A B\nTcp: 1 x\n", &cs), -EINVAL);
	counter_set_clear(&cs);
}

/* /proc/net/stat/nf_conntrack as this kernel prints it (two CPUs): values
 * in hex, summed over CPUs, except entries (the table's size, on every row). */
static const char ct_stat_text[] =
	"entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
	"00000003  00000000 00000000 00000000 00000010 00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000  00000000 00000000 00000000 00000000\n"
	"00000003  00000001 00000000 00000000 00000002 00000000 00000000 00000000 00000000 00000000 0000000a 00000000 00000000  00000000 00000000 00000000 00000000\n";

static void test_parse_stat(void **state)
{
	struct counter_set cs = { 0 };
	int64_t v;

	(void)state;
	assert_int_equal(counters_parse_stat(ct_stat_text, "nf_conntrack", &cs), 0);
	assert_int_equal(cs.n, 17);
	assert_int_equal(counters_get(&cs, "nf_conntrack.entries", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(counters_get(&cs, "nf_conntrack.invalid", &v), 0);
	assert_int_equal(v, 0x12);
	assert_int_equal(counters_get(&cs, "nf_conntrack.drop", &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(counters_get(&cs, "nf_conntrack.search_restart", &v), 0);
	assert_int_equal(v, 0);
	counter_set_clear(&cs);
	assert_int_equal(counters_parse_stat("entries invalid\n00000001 zz\n", "x", &cs), -EINVAL);
	counter_set_clear(&cs);
	assert_int_equal(counters_parse_stat("entries invalid\n00000001\n", "x", &cs), -EINVAL);
	counter_set_clear(&cs);
	assert_int_equal(counters_parse_stat("no newline", "x", &cs), -EINVAL);
	counter_set_clear(&cs);
}

/* A fresh namespace has its own counters, all TcpExt ones at zero. */
static void test_read_namespace(void **state)
{
	struct counter_set cs = { 0 };
	char err[FW_ERRLEN];
	int64_t v;
	int ns;

	(void)state;
	ns = netns_create();
	if (ns < 0)
		skip();
	assert_int_equal(counters_read(ns, &cs, err, sizeof(err)), 0);
	assert_true(cs.n > 100);
	assert_int_equal(counters_get(&cs, "TCPTimeWaitOverflow", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(counters_get(&cs, "Tcp.ActiveOpens", &v), 0);
	assert_int_equal(v, 0);
	/* netfilter's statistics come along once conntrack is loaded */
	if (access("/proc/net/stat/nf_conntrack", R_OK) == 0) {
		assert_int_equal(counters_get(&cs, "nf_conntrack.invalid", &v), 0);
		assert_int_equal(v, 0);
	}
	counter_set_clear(&cs);
	close(ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_read_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
