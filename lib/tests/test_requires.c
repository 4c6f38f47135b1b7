/* Unit tests of requires: kernel versions, the requires: key of a case file
 * and its located errors. Pure logic: no namespaces, no root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "case.h"
#include "requires.h"

static void test_parse_version(void **state)
{
	static const struct {
		const char *s;
		unsigned v[3];
	} ok[] = {
		{ "6.1.0-26-amd64", { 6, 1, 0 } },
		{ "6.12.38+deb12-amd64", { 6, 12, 38 } },
		{ "6.18.44-fc-v669", { 6, 18, 44 } },
		{ "6.1", { 6, 1, 0 } },
		{ "5", { 5, 0, 0 } },
	};
	unsigned v[3];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(requires_parse_version(ok[i].s, v), 0);
		assert_memory_equal(v, ok[i].v, sizeof(v));
	}
	assert_int_equal(requires_parse_version("new", v), -EINVAL);
	assert_int_equal(requires_parse_version("", v), -EINVAL);
	assert_int_equal(requires_parse_version("99999999.1", v), -EINVAL);
}

static struct fw_case *load(const char *yaml, char *err, size_t errlen)
{
	struct fw_case *c = NULL;

	case_load_string(yaml, strlen(yaml), "t.yaml", "t", &c, err, errlen);
	return c;
}

#define STEPS "steps:\n  - {do: listen, host: server, port: 1}\n"

static void test_requires_loaded(void **state)
{
	char err[512] = "";
	struct fw_case *c = load("summary: x\nrequires:\n  kernel: \"6.12\"\n"
				 "  sysctls: [net.ipv4.tcp_tw_reuse_delay]\n"
				 "  counters: [TcpExt.PAWSTimewait]\n  sockopts: [TCP_USER_TIMEOUT]\n"
				 "  modules: [nf_conntrack]\n  config: [CONFIG_VETH]\n" STEPS,
				 err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->requires.kernel[0], 6);
	assert_int_equal(c->requires.kernel[1], 12);
	assert_string_equal(c->requires.sysctls[0], "net.ipv4.tcp_tw_reuse_delay");
	assert_string_equal(c->requires.counters[0], "TcpExt.PAWSTimewait");
	assert_string_equal(c->requires.sockopts[0].name, "TCP_USER_TIMEOUT");
	assert_string_equal(c->requires.modules[0], "nf_conntrack");
	assert_string_equal(c->requires.configs[0], "CONFIG_VETH");
	case_free(c);
}

/* Each misuse is a located error naming what is wrong. */
static void test_requires_errors(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} bad[] = {
		{ "summary: x\nrequires: {kernel: \"new\"}\n" STEPS, "t.yaml:2:20: 'kernel' must be a version" },
		{ "summary: x\nrequires: {sysctls: [kernel.pid_max]}\n" STEPS, "t.yaml:2:22: required sysctl 'kernel.pid_max' must be a net.* name" },
		{ "summary: x\nrequires: {sockopts: [TCP_FROB]}\n" STEPS, "t.yaml:2:23: unknown socket option 'TCP_FROB'" },
		{ "summary: x\nrequires: {config: [VETH]}\n" STEPS, "t.yaml:2:21: 'config' lists kernel options like CONFIG_NF_CONNTRACK" },
		{ "summary: x\nrequires: {sysctl: [net.x]}\n" STEPS, "t.yaml:2:12: unknown requires key 'sysctl'" },
		{ "summary: x\nrequires: [net.x]\n" STEPS, "t.yaml:2:11: a requires must be a mapping" },
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(load(bad[i].yaml, err, sizeof(err)));
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu: got '%s', wanted '%s...'", i, err, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_requires_loaded),
		cmocka_unit_test(test_requires_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
