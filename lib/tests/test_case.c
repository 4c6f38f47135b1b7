/* Unit tests of case: YAML case files into struct fw_case, the defaults the
 * loader fills in, located error messages, and seq/ack/TS expressions.
 * Fixtures are strings in this file; no namespaces, no root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "case.h"
#include "case_int.h" /* step_kinds[], to check its key lists */
#include "seg.h"
#include "util.h"
#include "vocab.h"

#define TCP_TIME_WAIT_STATE 6 /* include/net/tcp_states.h */

static struct fw_case *load_ok(const char *yaml)
{
	struct fw_case *c = NULL;
	char err[FW_ERRLEN] = "";
	int ret = case_load_string(yaml, strlen(yaml), "t.yaml", "t", &c, err, sizeof(err));

	if (ret != 0)
		fail_msg("case_load_string returned %d: %s", ret, err);
	assert_non_null(c);
	return c;
}

/* The load fails with -EINVAL, no case, and a message that starts with
 * where ("t.yaml:LINE:COL: ") followed by msg. */
static void expect_error(const char *yaml, const char *where, const char *msg)
{
	struct fw_case *c = (struct fw_case *)&c; /* must be reset to NULL */
	char err[FW_ERRLEN] = "";
	int ret = case_load_string(yaml, strlen(yaml), "t.yaml", "t", &c, err, sizeof(err));

	if (ret != -EINVAL)
		fail_msg("expected -EINVAL, got %d (%s) for:\n%s", ret, err, yaml);
	assert_null(c);
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strncmp(err + strlen(where), msg, strlen(msg)) != 0)
		fail_msg("error message\n  '%s'\nexpected to start with\n  '%s%s'", err, where,
			 msg);
}

/* ---- a valid case with every step kind ------------------------------------- */

/* Line numbers matter: the step and sysctl tests below check them. */
/* clang-format off */
static const char all_kinds[] =
	"name: test/all-kinds\n"                                       /* 1 */
	"summary: every step kind once\n"                              /* 2 */
	"verdict: the kernel disagrees\n"                              /* 3 */
	"claims: [C16, C03]\n"                                         /* 4 */
	"refs:\n"                                                      /* 5 */
	"  - RFC 9293 3.6\n"                                           /* 6 */
	"  - tcp_timewait_state_process()\n"                           /* 7 */
	"family: ipv6\n"                                               /* 8 */
	"sysctl:\n"                                                    /* 9 */
	"  client: {net.ipv4.tcp_rfc1337: 1}\n"                        /* 10 */
	"  server:\n"                                                  /* 11 */
	"    net.ipv4.tcp_fin_timeout: 5\n"                            /* 12 */
	"    net.core.somaxconn: \"128\"\n"                            /* 13 */
	"faults:\n"                                                    /* 14 */
	"  - {name: lose-fin, from: client, flags: F., action: drop}\n" /* 15 */
	"  - name: slow-ack\n"                                         /* 16 */
	"    from: server\n"                                           /* 17 */
	"    has: .\n"                                                 /* 18 */
	"    payload: none\n"                                          /* 19 */
	"    nth: 2\n"                                                 /* 20 */
	"    count: 3\n"                                               /* 21 */
	"    action: delay\n"                                          /* 22 */
	"    delay: 200ms\n"                                           /* 23 */
	"    armed: false\n"                                           /* 24 */
	"    optional: true\n"                                         /* 25 */
	"steps:\n"                                                     /* 26 */
	"  - {do: listen, host: server, port: 8080, reuseaddr: true}\n"            /* 27: 0 */
	"  - {do: connect, port: 8080, from_port: 40000, linger: 0}\n"             /* 28: 1 */
	"  - {do: accept, host: server, within: 500ms}\n"                          /* 29: 2 */
	"  - {do: send, bytes: 1000}\n"                                            /* 30: 3 */
	"  - {do: recv, host: server, bytes: 1000}\n"                              /* 31: 4 */
	"  - {do: recv, host: server, sock: other, eof: true}\n"                   /* 32: 5 */
	"  - {do: shutdown}\n"                                                     /* 33: 6 */
	"  - {do: close, host: server, result: ECONNRESET}\n"                      /* 34: 7 */
	"  - {do: setsockopt, linger: 5}\n"                                        /* 35: 8 */
	"  - {do: setsockopt, host: server, reuseaddr: false}\n"                   /* 36: 9 */
	"  - {do: inject, from: server, to: client, flags: R., seq: rcv_nxt+1, ack: snd_nxt,\n"
	"     win: 1000, ts: true, tsval: tsval+10, tsecr: tsecr, len: 0}\n"     /* 37: 10 */
	"  - {do: inject, flags: S, seq: 1001, tsval: 5}\n"                        /* 39: 11 */
	"  - {do: arm, fault: slow-ack}\n"                                         /* 40: 12 */
	"  - {do: disarm, fault: lose-fin}\n"                                      /* 41: 13 */
	"  - {expect: segment, from: client, flags: F., seq: 1001, ack: 1, len: 0}\n" /* 42: 14 */
	"  - {expect: segment, from: server, has: R, within: 300ms}\n"             /* 43: 15 */
	"  - {expect: no_segment, from: client, within: 300ms}\n"                  /* 44: 16 */
	"  - {expect: state, host: client, state: TIME_WAIT}\n"                    /* 45: 17 */
	"  - {expect: gone, host: server, sock: listen}\n"                         /* 46: 18 */
	"  - {do: connect, host: client, to: server, port: 8081, result: ECONNREFUSED}\n"; /* 47: 19 */
/* clang-format on */

static void assert_expr(const struct fw_expr *e, enum expr_base base, int64_t offset)
{
	assert_true(e->set);
	assert_int_equal(e->base, base);
	assert_int_equal(e->offset, offset);
}

/* Fields no step sets keep the loader's "leave alone / any" values: the
 * common ones, and those of the kind's own member of the union. */
static void assert_step_defaults(const struct fw_step *s)
{
	assert_int_equal(s->expect_errno, 0);
	assert_false(s->has_flags);
	assert_int_equal(s->fault, -1);
	switch (s->kind) {
	case STEP_LISTEN:
	case STEP_CONNECT:
	case STEP_ACCEPT:
	case STEP_SEND:
	case STEP_RECV:
	case STEP_SHUTDOWN:
	case STEP_CLOSE:
	case STEP_SETSOCKOPT:
		assert_int_equal(s->linger, -1);
		assert_int_equal(s->reuseaddr, -1);
		assert_int_equal(s->reuseport, -1);
		break;
	case STEP_INJECT:
	case STEP_EXPECT_SEGMENT:
	case STEP_EXPECT_NO_SEGMENT:
		assert_false(s->seq.set);
		assert_false(s->ack.set);
		assert_false(s->tsval.set);
		assert_false(s->tsecr.set);
		assert_false(s->ts);
		assert_int_equal(s->len, -1);
		assert_int_equal(s->win, -1);
		assert_int_equal(s->count_min, -1);
		break;
	case STEP_EXPECT_STATE:
	case STEP_EXPECT_GONE:
		assert_int_equal(s->timer, -1);
		break;
	default:
		break;
	}
}

/* The case-level fields: name, summary, verdict, claims, refs, family, sysctls with their lines. */
static void test_valid_case_header(void **state)
{
	struct fw_case *c = load_ok(all_kinds);

	(void)state;
	assert_string_equal(c->path, "t.yaml");
	assert_string_equal(c->name, "test/all-kinds");
	assert_string_equal(c->summary, "every step kind once");
	assert_string_equal(c->verdict, "the kernel disagrees");
	assert_int_equal(c->nclaims, 2);
	assert_string_equal(c->claims[0], "C16");
	assert_string_equal(c->claims[1], "C03");
	assert_int_equal(c->nrefs, 2);
	assert_string_equal(c->refs[0], "RFC 9293 3.6");
	assert_string_equal(c->refs[1], "tcp_timewait_state_process()");
	assert_int_equal(c->family, AF_INET6);

	assert_int_equal(c->nsysctls, 3);
	assert_int_equal(c->sysctls[0].host, HOST_CLIENT);
	assert_string_equal(c->sysctls[0].name, "net.ipv4.tcp_rfc1337");
	assert_string_equal(c->sysctls[0].value, "1");
	assert_int_equal(c->sysctls[0].line, 10);
	assert_int_equal(c->sysctls[1].host, HOST_SERVER);
	assert_string_equal(c->sysctls[1].name, "net.ipv4.tcp_fin_timeout");
	assert_string_equal(c->sysctls[1].value, "5");
	assert_int_equal(c->sysctls[1].line, 12);
	assert_int_equal(c->sysctls[2].host, HOST_SERVER);
	assert_string_equal(c->sysctls[2].name, "net.core.somaxconn");
	assert_string_equal(c->sysctls[2].value, "128");
	assert_int_equal(c->sysctls[2].line, 13);
	case_free(c);
}

/* Faults: explicit fields, and the defaults (nth 1, count 1, armed, not optional, any payload). */
static void test_valid_case_faults(void **state)
{
	struct fw_case *c = load_ok(all_kinds);
	const struct fault_rule *f;

	(void)state;
	assert_int_equal(c->nfaults, 2);
	f = &c->faults[0];
	assert_string_equal(f->name, "lose-fin");
	assert_int_equal(f->from, HOST_CLIENT);
	assert_int_equal(f->flags_mask, 0xff); /* flags: is the exact set */
	assert_int_equal(f->flags_value, SEG_FIN | SEG_ACK);
	assert_int_equal(f->payload, FAULT_PAYLOAD_ANY);
	assert_int_equal(f->nth, 1);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->action, FAULT_DROP);
	assert_int_equal(f->delay_ns, 0);
	assert_true(f->armed);
	assert_false(f->optional);

	f = &c->faults[1];
	assert_string_equal(f->name, "slow-ack");
	assert_int_equal(f->from, HOST_SERVER);
	assert_int_equal(f->flags_mask, SEG_ACK); /* has: only these bits matter */
	assert_int_equal(f->flags_value, SEG_ACK);
	assert_int_equal(f->payload, FAULT_PAYLOAD_NONE);
	assert_int_equal(f->nth, 2);
	assert_int_equal(f->count, 3);
	assert_int_equal(f->action, FAULT_DELAY);
	assert_int_equal(f->delay_ns, 200 * FW_NS_PER_MS);
	assert_false(f->armed);
	assert_true(f->optional);
	case_free(c);
}

/* Socket actions: hosts, peers (the other host by default), sock names, ports, errno results,
 * within. */
static void test_valid_case_socket_steps(void **state)
{
	struct fw_case *c = load_ok(all_kinds);
	const struct fw_step *s = c->steps;

	(void)state;
	assert_int_equal(c->nsteps, 20);

	assert_int_equal(s[0].kind, STEP_LISTEN);
	assert_int_equal(s[0].line, 27);
	assert_int_equal(s[0].host, HOST_SERVER);
	assert_int_equal(s[0].peer, HOST_CLIENT);
	assert_string_equal(s[0].sock, "listen");
	assert_int_equal(s[0].port, 8080);
	assert_int_equal(s[0].within_ns, 0);
	assert_string_equal(s[0].text, "server listens on port 8080");
	assert_int_equal(s[0].reuseaddr, 1);

	assert_int_equal(s[1].kind, STEP_CONNECT);
	assert_int_equal(s[1].line, 28);
	assert_int_equal(s[1].host, HOST_CLIENT); /* host defaults to client */
	assert_int_equal(s[1].peer, HOST_SERVER);
	assert_string_equal(s[1].sock, "conn");
	assert_int_equal(s[1].port, 8080);
	assert_int_equal(s[1].from_port, 40000);
	assert_int_equal(s[1].linger, 0);
	assert_int_equal(s[1].reuseaddr, -1);
	assert_int_equal(s[1].within_ns, 2 * FW_NS_PER_SEC);
	assert_string_equal(s[1].text, "client connects to server port 8080");

	assert_int_equal(s[2].kind, STEP_ACCEPT);
	assert_int_equal(s[2].host, HOST_SERVER);
	assert_int_equal(s[2].peer, HOST_CLIENT);
	assert_string_equal(s[2].sock, "conn");
	assert_int_equal(s[2].within_ns, 500 * FW_NS_PER_MS);
	assert_step_defaults(&s[2]);

	assert_int_equal(s[3].kind, STEP_SEND);
	assert_int_equal(s[3].host, HOST_CLIENT);
	assert_int_equal(s[3].bytes, 1000);
	assert_int_equal(s[3].within_ns, 2 * FW_NS_PER_SEC); /* all bytes handed over by then */
	assert_step_defaults(&s[3]);

	assert_int_equal(s[4].kind, STEP_RECV);
	assert_int_equal(s[4].host, HOST_SERVER);
	assert_int_equal(s[4].bytes, 1000);
	assert_false(s[4].eof);
	assert_int_equal(s[4].within_ns, 2 * FW_NS_PER_SEC);
	assert_step_defaults(&s[4]);

	assert_int_equal(s[5].kind, STEP_RECV);
	assert_string_equal(s[5].sock, "other");
	assert_int_equal(s[5].bytes, 0);
	assert_true(s[5].eof);
	assert_string_equal(s[5].text, "server reads until end of stream within 2.000s");

	assert_int_equal(s[6].kind, STEP_SHUTDOWN);
	assert_int_equal(s[6].host, HOST_CLIENT);
	assert_int_equal(s[6].within_ns, 0);
	assert_step_defaults(&s[6]);

	assert_int_equal(s[7].kind, STEP_CLOSE);
	assert_int_equal(s[7].host, HOST_SERVER);
	assert_int_equal(s[7].expect_errno, ECONNRESET);
	assert_int_equal(s[7].within_ns, 0);

	assert_int_equal(s[8].kind, STEP_SETSOCKOPT);
	assert_int_equal(s[8].host, HOST_CLIENT);
	assert_int_equal(s[8].linger, 5);
	assert_int_equal(s[8].reuseaddr, -1);

	assert_int_equal(s[9].kind, STEP_SETSOCKOPT);
	assert_int_equal(s[9].host, HOST_SERVER);
	assert_int_equal(s[9].linger, -1);
	assert_int_equal(s[9].reuseaddr, 0);

	assert_int_equal(s[19].kind, STEP_CONNECT);
	assert_int_equal(s[19].line, 47);
	assert_int_equal(s[19].peer, HOST_SERVER);
	assert_int_equal(s[19].port, 8081);
	assert_int_equal(s[19].from_port, 0); /* kernel's choice */
	assert_int_equal(s[19].expect_errno, ECONNREFUSED);
	case_free(c);
}

/* Inject, arm and disarm: exact flags, seq/ack/TS expressions, ts implied by tsval, fault indexes.
 */
static void test_valid_case_inject_arm(void **state)
{
	struct fw_case *c = load_ok(all_kinds);
	const struct fw_step *s = c->steps;

	(void)state;
	assert_int_equal(s[10].kind, STEP_INJECT);
	assert_int_equal(s[10].line, 37); /* a flow mapping over two lines starts at its '{' */
	assert_int_equal(s[10].host, HOST_SERVER);
	assert_int_equal(s[10].peer, HOST_CLIENT);
	assert_true(s[10].has_flags);
	assert_int_equal(s[10].flags_mask, 0xff);
	assert_int_equal(s[10].flags_value, SEG_RST | SEG_ACK);
	assert_expr(&s[10].seq, EXPR_RCV_NXT, 1);
	assert_expr(&s[10].ack, EXPR_SND_NXT, 0);
	assert_expr(&s[10].tsval, EXPR_TSVAL, 10);
	assert_expr(&s[10].tsecr, EXPR_TSECR, 0);
	assert_true(s[10].ts);
	assert_int_equal(s[10].win, 1000);
	assert_int_equal(s[10].len, 0);
	assert_int_equal(s[10].within_ns, 0);
	assert_string_equal(s[10].text, "inject R. from server to client");

	assert_int_equal(s[11].kind, STEP_INJECT);
	assert_int_equal(s[11].line, 39);
	assert_int_equal(s[11].host, HOST_CLIENT); /* from defaults to client, to to the other */
	assert_int_equal(s[11].peer, HOST_SERVER);
	assert_int_equal(s[11].flags_mask, 0xff);
	assert_int_equal(s[11].flags_value, SEG_SYN);
	assert_expr(&s[11].seq, EXPR_NUMBER, 1001);
	assert_expr(&s[11].tsval, EXPR_NUMBER, 5);
	assert_false(s[11].ack.set);
	assert_false(s[11].tsecr.set);
	assert_true(s[11].ts); /* a tsval alone asks for the option */
	assert_int_equal(s[11].win, -1);
	assert_int_equal(s[11].len, -1);

	assert_int_equal(s[12].kind, STEP_ARM);
	assert_int_equal(s[12].fault, 1);
	assert_int_equal(s[12].within_ns, 0);
	assert_string_equal(s[12].text, "arm fault 'slow-ack'");
	assert_int_equal(s[13].kind, STEP_DISARM);
	assert_int_equal(s[13].fault, 0);
	assert_string_equal(s[13].text, "disarm fault 'lose-fin'");
	case_free(c);
}

/* Expectations: segment (flags vs has), no_segment, state, gone, and their within defaults. */
static void test_valid_case_expectations(void **state)
{
	struct fw_case *c = load_ok(all_kinds);
	const struct fw_step *s = c->steps;

	(void)state;
	assert_int_equal(s[14].kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(s[14].host, HOST_CLIENT);
	assert_int_equal(s[14].peer, HOST_SERVER);
	assert_true(s[14].has_flags);
	assert_int_equal(s[14].flags_mask, 0xff);
	assert_int_equal(s[14].flags_value, SEG_FIN | SEG_ACK);
	assert_expr(&s[14].seq, EXPR_NUMBER, 1001);
	assert_expr(&s[14].ack, EXPR_NUMBER, 1);
	assert_int_equal(s[14].len, 0);
	assert_int_equal(s[14].within_ns, FW_NS_PER_SEC);
	assert_string_equal(s[14].text, "client sends F. within 1.000s");

	assert_int_equal(s[15].kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(s[15].host, HOST_SERVER);
	assert_int_equal(s[15].flags_mask, SEG_RST);
	assert_int_equal(s[15].flags_value, SEG_RST);
	assert_int_equal(s[15].len, -1);
	assert_int_equal(s[15].within_ns, 300 * FW_NS_PER_MS);
	assert_string_equal(s[15].text, "server sends a segment with R within 300.0ms");

	assert_int_equal(s[16].kind, STEP_EXPECT_NO_SEGMENT);
	assert_int_equal(s[16].host, HOST_CLIENT);
	assert_false(s[16].has_flags);
	assert_int_equal(s[16].within_ns, 300 * FW_NS_PER_MS);
	assert_step_defaults(&s[16]);

	assert_int_equal(s[17].kind, STEP_EXPECT_STATE);
	assert_int_equal(s[17].host, HOST_CLIENT);
	assert_string_equal(s[17].sock, "conn");
	assert_int_equal(s[17].state, TCP_TIME_WAIT_STATE);
	assert_int_equal(s[17].within_ns, 2 * FW_NS_PER_SEC);
	assert_string_equal(s[17].text, "client's socket 'conn' reaches TIME_WAIT within 2.000s");

	assert_int_equal(s[18].kind, STEP_EXPECT_GONE);
	assert_int_equal(s[18].host, HOST_SERVER);
	assert_string_equal(s[18].sock, "listen");
	assert_int_equal(s[18].within_ns, 2 * FW_NS_PER_SEC);
	assert_step_defaults(&s[18]);
	case_free(c);
}

/* A minimal case: the name comes from default_name, ipv4, no sysctls/faults/claims. */
static void test_minimal_case_defaults(void **state)
{
	static const char yaml[] = "summary: s\nsteps:\n  - do: close\n";
	struct fw_case *c = NULL;
	char err[FW_ERRLEN] = "";

	(void)state;
	assert_int_equal(
	    case_load_string(yaml, strlen(yaml), "x/y.yaml", "x/y", &c, err, sizeof(err)), 0);
	assert_string_equal(c->name, "x/y");
	assert_string_equal(c->path, "x/y.yaml");
	assert_string_equal(c->verdict, "");
	assert_int_equal(c->family, AF_INET);
	assert_int_equal(c->nclaims, 0);
	assert_int_equal(c->nrefs, 0);
	assert_int_equal(c->nsysctls, 0);
	assert_int_equal(c->nfaults, 0);
	assert_int_equal(c->nsteps, 1);
	assert_int_equal(c->steps[0].kind, STEP_CLOSE);
	assert_int_equal(c->steps[0].line, 3);
	assert_int_equal(c->steps[0].host, HOST_CLIENT);
	assert_int_equal(c->steps[0].peer, HOST_SERVER);
	assert_string_equal(c->steps[0].sock, "conn");
	assert_step_defaults(&c->steps[0]);
	case_free(c);
	case_free(NULL);
}

/* A fault without flags matches every segment (mask 0); sysctls may target the wire. */
static void test_fault_without_flags(void **state)
{
	struct fw_case *c = load_ok("summary: s\n"
				    "sysctl: {wire: {net.ipv4.ip_forward: 1}}\n"
				    "faults: [{name: all, from: server, action: pass, count: 0}]\n"
				    "steps: [{do: close}]\n");

	(void)state;
	assert_int_equal(c->faults[0].flags_mask, 0);
	assert_int_equal(c->faults[0].flags_value, 0);
	assert_int_equal(c->faults[0].action, FAULT_PASS);
	assert_int_equal(c->faults[0].count, 0);
	assert_int_equal(c->sysctls[0].host, HOST_WIRE);
	case_free(c);
}

/* ---- the full fault language and process control ---------------------------- */

/* clang-format off */
static const char fault_language[] =
	"summary: every fault action\n"
	"faults:\n"
	"  - {name: h-step, from: client, flags: F., action: hold, until: step}\n"
	"  - {name: h-seg, from: client, flags: ., seq: 2, action: hold, until: {from: server, flags: F.}, max: 2s}\n"
	"  - {name: h-state, from: server, state: FIN_WAIT_2, action: hold, until: {host: client, state: TIME_WAIT}}\n"
	"  - {name: ro, from: client, payload: some, action: reorder}\n"
	"  - {name: dup, from: server, flags: F., action: duplicate, gap: 50ms}\n"
	"  - {name: rw, from: client, flags: ., action: rewrite, set: {flags: R., seq: +1000, ack: -1, win: 0, tsval: +5, tsecr: -2^31}}\n"
	"  - {name: gone, from: server, action: silence, armed: false}\n"
	"steps:\n"
	"  - {do: release, fault: h-step}\n"
	"  - {do: fork, host: server, proc: worker}\n"
	"  - {do: kill, proc: worker, signal: SEGV, within: 1s}\n"
	"  - {do: kill, proc: worker}\n"
	"  - {do: setsockopt, opt: TCP_KEEPIDLE, value: 1}\n"
	"  - {do: setsockopt, host: server, opt: SO_KEEPALIVE, value: true}\n"
	"  - {expect: state, host: client, state: TIME_WAIT, timer: timewait, timer_min: 59s, timer_max: 60s}\n"
	"  - {expect: state, host: client, state: FIN_WAIT_2, timer: off}\n";
/* clang-format on */

static void test_fault_language(void **state)
{
	struct fw_case *c = load_ok(fault_language);
	const struct fault_rule *f = c->faults;

	(void)state;
	assert_int_equal(c->nfaults, 7);
	assert_int_equal(f[0].action, FAULT_HOLD);
	assert_int_equal(f[0].until, FAULT_UNTIL_STEP);
	assert_int_equal(f[0].max_ns, 5 * FW_NS_PER_SEC); /* the default deadline */
	assert_int_equal(f[1].until, FAULT_UNTIL_SEGMENT);
	assert_int_equal(f[1].until_host, HOST_SERVER);
	assert_int_equal(f[1].until_mask, 0xff);
	assert_int_equal(f[1].until_value, SEG_FIN | SEG_ACK);
	assert_int_equal(f[1].max_ns, 2 * FW_NS_PER_SEC);
	assert_true(f[1].match_seq);
	assert_int_equal(f[1].seq, 2);
	assert_int_equal(f[2].state, 5);
	assert_int_equal(f[2].until, FAULT_UNTIL_STATE);
	assert_int_equal(f[2].until_host, HOST_CLIENT);
	assert_int_equal(f[2].until_state, 6);
	assert_int_equal(f[3].action, FAULT_REORDER);
	assert_int_equal(f[3].payload, FAULT_PAYLOAD_SOME);
	assert_int_equal(f[3].max_ns, 5 * FW_NS_PER_SEC);
	assert_int_equal(f[4].action, FAULT_DUPLICATE);
	assert_int_equal(f[4].delay_ns, 50 * FW_NS_PER_MS);
	assert_int_equal(f[5].action, FAULT_REWRITE);
	assert_true(f[5].rewrite.set_flags);
	assert_int_equal(f[5].rewrite.flags, SEG_RST | SEG_ACK);
	assert_int_equal(f[5].rewrite.seq_delta, 1000);
	assert_int_equal(f[5].rewrite.ack_delta, -1);
	assert_true(f[5].rewrite.set_win);
	assert_int_equal(f[5].rewrite.win, 0);
	assert_int_equal(f[5].rewrite.tsval_delta, 5);
	assert_int_equal(f[5].rewrite.tsecr_delta, -(1LL << 31));
	/* silence: every segment of the host, for as long as it is armed */
	assert_int_equal(f[6].action, FAULT_DROP);
	assert_int_equal(f[6].flags_mask, 0);
	assert_int_equal(f[6].count, 0);
	assert_false(f[6].armed);

	assert_int_equal(c->steps[0].kind, STEP_RELEASE);
	assert_int_equal(c->steps[0].fault, 0);
	assert_int_equal(c->steps[1].kind, STEP_FORK);
	assert_string_equal(c->steps[1].proc, "worker");
	assert_int_equal(c->steps[1].host, HOST_SERVER);
	assert_int_equal(c->steps[2].signal, SIGSEGV);
	assert_int_equal(c->steps[2].within_ns, FW_NS_PER_SEC);
	assert_int_equal(c->steps[3].signal, SIGKILL);
	assert_true(c->steps[4].has_opt);
	assert_int_equal(c->steps[4].opt_level, IPPROTO_TCP);
	assert_int_equal(c->steps[4].opt_name, TCP_KEEPIDLE);
	assert_int_equal(c->steps[4].opt_value, 1);
	assert_int_equal(c->steps[5].opt_name, SO_KEEPALIVE);
	assert_int_equal(c->steps[5].opt_value, 1);
	assert_int_equal(c->steps[6].timer, 3);
	assert_int_equal(c->steps[6].timer_min_ns, 59 * FW_NS_PER_SEC);
	assert_int_equal(c->steps[6].timer_max_ns, 60 * FW_NS_PER_SEC);
	assert_int_equal(c->steps[7].timer, 0);
	assert_int_equal(c->steps[7].timer_min_ns, -1);
	assert_string_equal(c->steps[4].text, "client sets TCP_KEEPIDLE=1 on 'conn'");
	assert_string_equal(c->steps[2].text, "kill child 'worker' with SIGSEGV");
	case_free(c);
}

#define F_HEAD "summary: s\nfaults:\n  - "
#define F_TAIL "\nsteps:\n  - {do: close}\n"

static void test_error_fault_language(void **state)
{
	(void)state;
	expect_error(F_HEAD "{name: a, from: client, action: hold}" F_TAIL, "t.yaml:3:5: ",
		     "fault 'a': action 'hold' needs 'until'");
	expect_error(F_HEAD "{name: a, from: client, action: hold, until: later}" F_TAIL,
		     "t.yaml:3:50: ", "'until' is step, {from: HOST, flags: F.}");
	expect_error(F_HEAD "{name: a, from: client, action: hold, until: {host: client}}" F_TAIL,
		     "t.yaml:3:57: ", "'until' a segment names its sender with 'from', not 'host'");
	expect_error(F_HEAD "{name: a, from: client, action: hold, until: {state: TIME_WAIT}}" F_TAIL,
		     "t.yaml:3:50: ", "'until' a state needs the 'host'");
	expect_error(F_HEAD "{name: a, from: client, action: hold, until: {host: client, state: NAP}}" F_TAIL,
		     "t.yaml:3:72: ", "unknown TCP state 'NAP'");
	expect_error(F_HEAD "{name: a, from: client, action: drop, max: 1s}" F_TAIL, "t.yaml:3:48: ",
		     "'max' does not apply to action 'drop'");
	expect_error(F_HEAD "{name: a, from: client, action: delay, gap: 1s}" F_TAIL, "t.yaml:3:49: ",
		     "'gap' does not apply to action 'delay'");
	expect_error(F_HEAD "{name: a, from: client, action: rewrite}" F_TAIL, "t.yaml:3:5: ",
		     "fault 'a': action 'rewrite' needs 'set:");
	expect_error(F_HEAD "{name: a, from: client, action: rewrite, set: {}}" F_TAIL, "t.yaml:3:51: ",
		     "'set' must change at least one of");
	expect_error(F_HEAD "{name: a, from: client, action: rewrite, set: {seq: 1000}}" F_TAIL,
		     "t.yaml:3:57: ", "'seq' of a rewrite is an offset such as +1000 or -1, not '1000'");
	expect_error(F_HEAD "{name: a, from: client, action: rewrite, set: {mss: 5}}" F_TAIL,
		     "t.yaml:3:52: ", "unknown rewrite key 'mss'");
	expect_error(F_HEAD "{name: a, from: client, action: silence, flags: F.}" F_TAIL,
		     "t.yaml:3:53: ", "'flags' does not apply to 'silence'");
	expect_error(F_HEAD "{name: a, from: client, state: LISTENING, action: drop}" F_TAIL,
		     "t.yaml:3:36: ", "unknown TCP state 'LISTENING' for the sending socket");
	expect_error("summary: s\nfaults:\n  - {name: a, from: client, action: drop}\n"
		     "steps:\n  - {do: release, fault: a}\n",
		     "t.yaml:5:26: ", "fault 'a' is not released by a step");
}

static void test_error_process_and_options(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: fork}\n", "t.yaml:3:5: ",
		     "action 'fork' needs 'proc'");
	expect_error("summary: s\nsteps:\n  - {do: kill, proc: w, signal: STOP}\n", "t.yaml:3:33: ",
		     "unknown signal 'STOP'");
	expect_error("summary: s\nsteps:\n  - {do: setsockopt, opt: TCP_NAP, value: 1}\n",
		     "t.yaml:3:27: ", "unknown socket option 'TCP_NAP' (expected SO_KEEPALIVE,");
	expect_error("summary: s\nsteps:\n  - {do: setsockopt, opt: TCP_KEEPCNT}\n", "t.yaml:3:27: ",
		     "'opt' and 'value' go together");
	expect_error("summary: s\nsteps:\n  - {do: setsockopt, opt: TCP_KEEPCNT, value: 1000}\n",
		     "t.yaml:3:47: ", "'value' must be a number from 0 to 127");
	expect_error("summary: s\nsteps:\n  - {expect: state, state: TIME_WAIT, timer: soon}\n",
		     "t.yaml:3:46: ", "unknown timer 'soon'");
	expect_error("summary: s\nsteps:\n  - {expect: state, state: TIME_WAIT, timer_min: 2s, timer_max: 1s}\n",
		     "t.yaml:3:50: ", "'timer_min' is larger than 'timer_max'");
	expect_error("summary: s\nsteps:\n  - {expect: gone, timer: off}\n", "t.yaml:3:20: ",
		     "'timer' does not apply to expectation 'gone'");
}

/* ---- families and matrices: one file, several runs ---------------------------- */

/* clang-format off */
static const char matrix_case[] =
	"name: tw/rst\n"
	"summary: s\n"
	"sysctl:\n"
	"  client: {net.ipv4.tcp_rfc1337: 0, net.ipv4.tcp_fin_timeout: 5}\n"
	"matrix:\n"
	"  - {sysctl: {client: {net.ipv4.tcp_rfc1337: 0}}}\n"
	"  - sysctl: {client: {net.ipv4.tcp_rfc1337: 1}, server: {net.ipv4.tcp_rfc1337: 1}}\n"
	"  - {name: custom, sysctl: {server: {net.ipv4.tcp_timestamps: 0}}}\n"
	"steps:\n"
	"  - {do: close}\n"
	"  - {expect: gone, when: tcp_rfc1337=0}\n"
	"  - {expect: state, state: TIME_WAIT, when: [custom, 'client.tcp_rfc1337=1,server.tcp_rfc1337=1']}\n";
/* clang-format on */

static void test_matrix_expand(void **state)
{
	struct fw_case *c = load_ok(matrix_case), **v = NULL;
	size_t n = 0, i;

	(void)state;
	assert_int_equal(c->families, CASE_FAMILY_IPV4 | CASE_FAMILY_IPV6); /* the default */
	assert_int_equal(c->nrows, 3);
	assert_string_equal(c->rows[0].name, "tcp_rfc1337=0");
	assert_string_equal(c->rows[1].name, "client.tcp_rfc1337=1,server.tcp_rfc1337=1");
	assert_string_equal(c->rows[2].name, "custom");
	assert_int_equal(c->steps[1].when, 1u << 0);
	assert_int_equal(c->steps[2].when, (1u << 1) | (1u << 2));
	assert_int_equal(case_expand(c, &v, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(v[0]->name, "tw/rst[ipv4,tcp_rfc1337=0]");
	assert_string_equal(v[4]->name, "tw/rst[ipv6,client.tcp_rfc1337=1,server.tcp_rfc1337=1]");
	assert_int_equal(v[0]->family, AF_INET);
	assert_int_equal(v[3]->family, AF_INET6);
	/* row 0: its step only; the case's own rfc1337 replaced, not doubled */
	assert_int_equal(v[0]->nsteps, 2);
	assert_int_equal(v[0]->steps[1].kind, STEP_EXPECT_GONE);
	assert_int_equal(v[0]->nsysctls, 2);
	/* row 1: client value overridden, server value added */
	assert_int_equal(v[1]->nsteps, 2);
	assert_int_equal(v[1]->steps[1].kind, STEP_EXPECT_STATE);
	assert_int_equal(v[1]->nsysctls, 3);
	assert_string_equal(v[1]->sysctls[0].name, "net.ipv4.tcp_rfc1337");
	assert_string_equal(v[1]->sysctls[0].value, "1");
	assert_int_equal(v[1]->sysctls[2].host, HOST_SERVER);
	/* row 2 */
	assert_int_equal(v[2]->nsysctls, 3);
	assert_string_equal(v[2]->sysctls[0].value, "0");
	assert_int_equal(v[2]->nrows, 0);
	for (i = 0; i < n; i++)
		case_free(v[i]);
	free(v);
	case_free(c);
}

/* A fault with 'when' acts only in its rows: elsewhere it stays declared
 * (steps refer to faults by index) but is never armed and may stay silent. */
static void test_fault_when(void **state)
{
	static const char *const yaml =
	    "summary: s\nfamily: ipv4\n"
	    "matrix:\n  - {sysctl: {client: {net.ipv4.tcp_rfc1337: 0}}}\n"
	    "  - {sysctl: {client: {net.ipv4.tcp_rfc1337: 1}}}\n"
	    "faults:\n  - {name: f, from: client, flags: F., action: drop, when: tcp_rfc1337=1}\n"
	    "  - {name: g, from: client, flags: R, action: drop, armed: false, when: tcp_rfc1337=0}\n"
	    "steps:\n  - {do: arm, fault: g, when: tcp_rfc1337=0}\n  - {do: close, host: client}\n";
	struct fw_case *c = load_ok(yaml), **v = NULL;
	size_t n = 0, i;

	(void)state;
	assert_int_equal(c->faults[0].when, 1u << 1);
	assert_int_equal(case_expand(c, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0]->nfaults, 2);
	assert_false(v[0]->faults[0].armed); /* row 0: f is not part of it */
	assert_true(v[0]->faults[0].optional);
	assert_true(v[1]->faults[0].armed); /* row 1: f is */
	assert_false(v[1]->faults[0].optional);
	assert_int_equal(v[0]->nsteps, 2);  /* g's arm step only in row 0 */
	assert_int_equal(v[1]->nsteps, 1);
	for (i = 0; i < n; i++)
		case_free(v[i]);
	free(v);
	case_free(c);
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, flags: F., action: drop, "
		     "when: x}\nsteps:\n  - {do: close, host: client}\n",
		     "t.yaml:3:60: ", "'when' names matrix rows, and this case has no 'matrix'");
	expect_error("summary: s\nmatrix:\n  - {sysctl: {client: {net.ipv4.tcp_rfc1337: 0}}}\n"
		     "  - {sysctl: {client: {net.ipv4.tcp_rfc1337: 1}}}\n"
		     "faults:\n  - {name: g, from: client, flags: R, action: drop, armed: false, "
		     "when: tcp_rfc1337=0}\nsteps:\n  - {do: arm, fault: g}\n",
		     "t.yaml:8:22: ", "fault 'g' has 'when' rows this step is not limited to");
}

static void test_family_choice(void **state)
{
	struct fw_case *c, **v = NULL;
	size_t n = 0;

	(void)state;
	c = load_ok("name: x\nsummary: s\nfamily: ipv6\nsteps:\n  - {do: close}\n");
	assert_int_equal(case_expand(c, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->name, "x"); /* a single run keeps its name */
	assert_int_equal(v[0]->family, AF_INET6);
	case_free(v[0]);
	free(v);
	case_free(c);
	c = load_ok("name: x\nsummary: s\nfamily: [ipv4, ipv6]\nslow: true\nsteps:\n  - {do: close}\n");
	assert_true(c->slow);
	assert_int_equal(case_expand(c, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "x[ipv4]");
	assert_string_equal(v[1]->name, "x[ipv6]");
	assert_true(v[1]->slow);
	case_free(v[0]);
	case_free(v[1]);
	free(v);
	case_free(c);
}

static void test_error_matrix(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: close, when: a}\n", "t.yaml:3:23: ",
		     "'when' names matrix rows, and this case has no 'matrix'");
	expect_error("summary: s\nmatrix:\n  - {sysctl: {client: {net.ipv4.tcp_sack: 0}}}\n"
		     "steps:\n  - {do: close, when: tcp_sack=1}\n",
		     "t.yaml:5:23: ", "no matrix row is named 'tcp_sack=1'");
	expect_error("summary: s\nmatrix:\n  - {sysctl: {client: {net.ipv4.tcp_sack: 0}}}\n"
		     "  - {sysctl: {client: {net.ipv4.tcp_sack: 0}}}\nsteps:\n  - {do: close}\n",
		     "t.yaml:4:5: ", "two matrix rows are named 'tcp_sack=0'");
	expect_error("summary: s\nmatrix: []\nsteps:\n  - {do: close}\n", "t.yaml:2:9: ",
		     "'matrix' must be a list of rows");
	expect_error("summary: s\nmatrix:\n  - {sysctl: {client: {net.ipv4.tcp_sack: 0}}}\n"
		     "  - {sysctl: {client: {net.ipv4.tcp_sack: 1}}}\nsteps:\n  - {do: close, when: tcp_sack=1}\n",
		     "t.yaml:3:5: ", "matrix row 'tcp_sack=0' has no steps: every step's 'when' leaves it out");
	expect_error("summary: s\nmatrix:\n  - {name: a}\nsteps:\n  - {do: close}\n", "t.yaml:3:5: ",
		     "a matrix row needs 'sysctl'");
	expect_error("summary: s\nfamily: [ipv4, ipx]\nsteps:\n  - {do: close}\n", "t.yaml:2:16: ",
		     "unknown family 'ipx'");
}

/* Step kind names and which of them are expectations. */
/* expect kmsg: the text, absent, and the window absent gets without 'within' */
static void test_kmsg_expectation(void **state)
{
	struct fw_case *c = load_ok("summary: s\nsteps:\n"
				    "  - {expect: kmsg, message: SYN flooding}\n"
				    "  - {expect: kmsg, message: overflow, absent: true}\n"
				    "  - {expect: kmsg, message: overflow, absent: true, within: 2s}\n");

	(void)state;
	assert_int_equal(c->steps[0].kind, STEP_EXPECT_KMSG);
	assert_string_equal(c->steps[0].kmsg, "SYN flooding");
	assert_false(c->steps[0].absent);
	assert_int_equal(c->steps[0].within_ns, FW_NS_PER_SEC);
	assert_true(c->steps[1].absent);
	assert_int_equal(c->steps[1].within_ns, 0);
	assert_int_equal(c->steps[2].within_ns, 2 * FW_NS_PER_SEC);
	assert_non_null(strstr(c->steps[1].text, "logs no message containing 'overflow'"));
	case_free(c);
	c = load_ok("summary: s\nsteps:\n"
		    "  - {expect: tcp_info, host: client, field: rto_ms, value: 400..1000}\n");
	assert_int_equal(c->steps[0].kind, STEP_EXPECT_TCP_INFO);
	assert_int_equal(c->steps[0].info_field, TCP_INFO_RTO_MS);
	assert_int_equal(c->steps[0].info_min, 400);
	assert_int_equal(c->steps[0].info_max, 1000);
	assert_false(case_needs_socket_events(c));
	case_free(c);
	/* what only the kernel's socket events decide */
	c = load_ok("summary: s\nsteps:\n"
		    "  - {expect: retransmits, host: client, count: 2}\n"
		    "  - {expect: retransmits, host: server, sock: s, count: 1..3, within: 0s}\n"
		    "  - {expect: state, host: server, state: LAST_ACK, never: true, within: 100ms}\n");
	assert_int_equal(c->steps[0].kind, STEP_EXPECT_RETRANSMITS);
	assert_int_equal(c->steps[0].count_min, 2);
	assert_int_equal(c->steps[0].count_max, 2);
	assert_int_equal(c->steps[0].within_ns, 2 * FW_NS_PER_SEC);
	assert_string_equal(c->steps[1].sock, "s");
	assert_int_equal(c->steps[1].count_min, 1);
	assert_int_equal(c->steps[1].count_max, 3);
	assert_int_equal(c->steps[1].within_ns, 0);
	assert_non_null(strstr(c->steps[1].text, "retransmits 1 to 3 time(s) from server's socket"));
	assert_int_equal(c->steps[2].kind, STEP_EXPECT_STATE);
	assert_true(c->steps[2].never);
	assert_int_equal(c->steps[2].state, FW_TCP_LAST_ACK);
	assert_non_null(strstr(c->steps[2].text, "never enters LAST_ACK within 100.0ms"));
	assert_true(case_needs_socket_events(c));
	case_free(c);
	c = load_ok("summary: s\nsteps:\n"
		    "  - {expect: state, host: server, state: LAST_ACK, never: false}\n");
	assert_false(c->steps[0].never);
	assert_false(case_needs_socket_events(c));
	case_free(c);
}

/* connections: N opens a group; close/shutdown and state with count take it
 * whole; faults pick connections by number (connection, every). */
static void test_many_connections(void **state)
{
	struct fw_case *c = load_ok(
	    "summary: s\n"
	    "faults:\n"
	    "  - {name: one, from: client, flags: F., action: drop, connection: 5000}\n"
	    "  - {name: many, from: server, flags: ., action: drop, every: 100, count: 0}\n"
	    "steps:\n"
	    "  - {do: listen, host: server, port: 8080}\n"
	    "  - {do: connect, port: 8080, connections: 10000, within: 20s}\n"
	    "  - {do: accept, host: server, connections: 10000}\n"
	    "  - {do: shutdown}\n"
	    "  - {do: close, host: server}\n"
	    "  - {expect: state, state: TIME_WAIT, count: 100}\n"
	    "  - {expect: state, host: server, state: LAST_ACK, count: 0..10}\n"
	    "  - {do: connect, port: 8080, sock: one}\n"
	    "  - {expect: state, sock: one, state: ESTABLISHED, count: 1}\n"
	    "  - {do: send, sock: one, bytes: 1}\n");

	(void)state;
	assert_int_equal(c->faults[0].conn_nth, 5000);
	assert_int_equal(c->faults[0].conn_every, 0);
	assert_int_equal(c->faults[1].conn_every, 100);
	assert_int_equal(c->faults[1].conn_nth, 0);
	assert_int_equal(c->steps[1].connections, 10000);
	assert_int_equal(c->steps[2].connections, 10000);
	assert_int_equal(c->steps[5].nsock_min, 100);
	assert_int_equal(c->steps[5].nsock_max, 100);
	assert_int_equal(c->steps[6].nsock_min, 0);
	assert_int_equal(c->steps[6].nsock_max, 10);
	assert_int_equal(c->steps[7].connections, 0);
	assert_int_equal(c->steps[8].nsock_max, 1);
	assert_string_equal(c->steps[1].text,
			    "client connects to server port 8080 10000 times ('conn')");
	assert_string_equal(c->steps[2].text, "server accepts 10000 connections ('conn')");
	assert_string_equal(c->steps[5].text,
			    "100 of client's connections 'conn' are TIME_WAIT within 2.000s");
	assert_string_equal(c->steps[6].text,
			    "0 to 10 of server's connections 'conn' are LAST_ACK within 2.000s");
	case_free(c);
	/* a plain state expectation has no count */
	c = load_ok("summary: s\nsteps:\n  - {expect: state, state: TIME_WAIT}\n");
	assert_int_equal(c->steps[0].nsock_min, -1);
	case_free(c);
}

#define M_HEAD "summary: s\nsteps:\n  - {do: connect, port: 8080, connections: 3}\n"

static void test_error_many_connections(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: connect, port: 8080, connections: 10001}\n",
		     "t.yaml:3:44: ", "'connections' must be a number from 0 to 10000, not '10001'");
	expect_error("summary: s\nsteps:\n  - {do: connect, port: 8080, connections: 0}\n",
		     "t.yaml:3:44: ", "'connections' must be from 1 to 10000");
	expect_error("summary: s\nsteps:\n"
		     "  - {do: connect, port: 8080, connections: 2, from_port: 4000}\n",
		     "t.yaml:3:58: ", "one 'from_port' cannot serve 2 connections");
	expect_error("summary: s\nsteps:\n  - {do: close, connections: 2}\n", "t.yaml:3:17: ",
		     "'connections' does not apply to action 'close'");
	expect_error(M_HEAD "  - {do: send, bytes: 1}\n", "t.yaml:4:5: ",
		     "'conn' is 3 connections (line 3): action 'send' works on one socket");
	expect_error(M_HEAD "  - {do: recv, sock: conn, eof: true}\n", "t.yaml:4:22: ",
		     "'conn' is 3 connections (line 3): action 'recv' works on one socket");
	expect_error(M_HEAD "  - {expect: gone}\n", "t.yaml:4:5: ",
		     "'conn' is 3 connections (line 3): expectation 'gone' works on one socket");
	expect_error(M_HEAD "  - {expect: state, state: TIME_WAIT}\n", "t.yaml:4:5: ",
		     "'conn' is 3 connections (line 3): say how many of them with 'count' "
		     "(count: 3 for all)");
	expect_error(M_HEAD "  - {expect: state, state: TIME_WAIT, count: 4}\n", "t.yaml:4:46: ",
		     "'count' goes up to 4, but 'conn' is 3 connection(s)");
	expect_error(M_HEAD "  - {expect: state, state: TIME_WAIT, count: 1, timer: timewait}\n",
		     "t.yaml:4:46: ", "'count' counts states; check timers on one connection");
	expect_error(M_HEAD "  - {expect: state, port: 8080, state: LISTEN, count: 1}\n",
		     "t.yaml:4:55: ", "'count' counts the connections of a named socket");
	expect_error(M_HEAD "  - {expect: state, state: TIME_WAIT, count: 10001}\n",
		     "t.yaml:4:46: ", "'count' must be a number or a range like 3..5, not '10001' (at most 10000)");
	expect_error(M_HEAD "  - {do: fork, proc: child}\n", "t.yaml:4:5: ",
		     "fork shares the host's sockets one by one; 'conn' (line 3) is 3 connections");
	expect_error(F_HEAD "{name: a, from: client, action: drop, connection: 1, every: 2}" F_TAIL,
		     "t.yaml:3:65: ", "give 'connection' (one connection) or 'every'");
	expect_error(F_HEAD "{name: a, from: client, action: drop, every: 0}" F_TAIL,
		     "t.yaml:3:50: ", "'every' must be from 1 to 10000");
	expect_error(F_HEAD "{name: a, from: client, action: drop, connection: 10001}" F_TAIL,
		     "t.yaml:3:55: ", "'connection' must be a number from 0 to 10000, not '10001'");
	expect_error(F_HEAD "{name: a, from: client, action: silence, every: 2}" F_TAIL,
		     "t.yaml:3:53: ", "'every' does not apply to 'silence'");
}

/* Every kind's key list ends with NULL inside its array: a kind that
 * filled it would make the loader read past it (found by fuzzing when
 * 'segment' reached 20 keys in an array of 20). */
static void test_step_kind_keys_end(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < STEP_KIND_COUNT; k++)
		assert_null(step_kinds[k].keys[STEP_MAX_KEYS - 1]);
}

static void test_step_kind_names(void **state)
{
	static const char *const names[STEP_KIND_COUNT] = {
	    "listen",	"connect", "accept",	 "send",   "recv",
	    "shutdown", "close",   "setsockopt", "inject", "arm",
	    "disarm",	"release", "fork",	 "kill",   "wait", "start", "segment",
	    "no_segment", "state", "gone", "counter", "sysctl", "conntrack", "exit", "kmsg",
	    "tcp_info", "retransmits",
	};
	int k;

	(void)state;
	for (k = 0; k < STEP_KIND_COUNT; k++) {
		assert_string_equal(step_kind_name((enum step_kind)k), names[k]);
		assert_int_equal(step_kind_is_expect((enum step_kind)k), k >= STEP_EXPECT_SEGMENT);
	}
	assert_string_equal(step_kind_name((enum step_kind)STEP_KIND_COUNT), "?");
}

/* ---- errors: -EINVAL, "t.yaml:LINE:COL: message" at the offending token ---- */

/* Unknown keys at the top, in a step and in a fault, each listing what is accepted. */
static void test_error_unknown_key(void **state)
{
	(void)state;
	expect_error("summary: s\ncolour: red\nsteps: [{do: close}]\n", "t.yaml:2:1: ",
		     "unknown case key 'colour' (expected name, summary, claims, refs, verdict, "
		     "condition, family, slow, sysctl, matrix, faults, steps, requires, dut)");
	expect_error("summary: s\nsteps:\n  - {do: close, colour: red}\n",
		     "t.yaml:3:17: ", "unknown step key 'colour' (expected do, expect, host,");
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, action: drop, colour: red}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:43: ", "unknown fault key 'colour'");
	expect_error(
	    "summary: s\nsysctl: {router: {net.ipv4.ip_forward: 1}}\nsteps: [{do: close}]\n",
	    "t.yaml:2:10: ", "unknown sysctl block key 'router' (expected client, server, wire, dut)");
}

/* A fault action that is not drop/delay/pass is located at its value and lists the choices. */
static void test_error_unknown_fault_action(void **state)
{
	(void)state;
	expect_error("summary: s\n"
		     "faults:\n"
		     "  - {name: f, from: client, action: dorp}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:37: ", "unknown action 'dorp' (expected drop, delay, hold, reorder, duplicate, rewrite, silence, pass)");
}

/* An unknown step action or expectation lists only the kinds of its own family. */
static void test_error_unknown_step_kind(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: dance}\n", "t.yaml:3:10: ",
		     "unknown action 'dance' (expected listen, connect, accept, send, recv, "
		     "shutdown, close, setsockopt, inject, arm, disarm, release, fork, kill, wait, start)");
	expect_error("summary: s\nsteps:\n  - {expect: close}\n", "t.yaml:3:14: ",
		     "unknown expectation 'close' (expected segment, no_segment, state, gone, counter, sysctl, conntrack, exit, kmsg, tcp_info, retransmits)");
}

/* Hosts: unknown names, "wire" where only an endpoint makes sense, 'to' naming the actor. */
static void test_error_unknown_host(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: close, host: router}\n",
		     "t.yaml:3:23: ", "unknown host 'router' in 'host' (expected client, server)");
	expect_error("summary: s\nsteps:\n  - {do: close, host: wire}\n",
		     "t.yaml:3:23: ", "unknown host 'wire' in 'host'");
	expect_error(
	    "summary: s\nfaults: [{name: f, from: Client, action: drop}]\nsteps: [{do: close}]\n",
	    "t.yaml:2:26: ", "unknown host 'Client' in 'from'");
	expect_error("summary: s\nsteps:\n  - {do: connect, port: 1, to: client}\n",
		     "t.yaml:3:32: ", "'to' must name the other host, not client");
}

/* TCP flags in anything but tcpdump notation are refused where they are written. */
static void test_error_bad_flags(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {expect: segment, from: client, flags: FX}\n",
		     "t.yaml:3:44: ", "bad TCP flags 'FX' (tcpdump notation");
	expect_error("summary: s\nsteps:\n  - {expect: segment, from: client, has: FF}\n",
		     "t.yaml:3:42: ", "bad TCP flags 'FF'");
	expect_error("summary: s\nsteps:\n  - {expect: segment, from: client, flags: F, has: F}\n",
		     "t.yaml:3:52: ", "give either 'flags' (the exact set) or 'has'");
	expect_error("summary: s\nsteps:\n  - {do: inject, seq: 1}\n",
		     "t.yaml:3:5: ", "action 'inject' needs 'flags'");
}

/* A duration needs a unit; a bare number or an unknown unit is refused at its value. */
static void test_error_duration(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {expect: no_segment, from: client, within: 2}\n",
		     "t.yaml:3:48: ", "'within' must be a duration such as 200ms or 2s, not '2'");
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, action: delay, delay: 1h}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:51: ", "'delay' must be a duration such as 200ms or 2s, not '1h'");
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, action: delay}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:5: ", "fault 'f': action 'delay' needs 'delay: <duration>'");
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, action: drop, delay: 1s}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:50: ", "'delay' does not apply to action 'drop'");
}

/* Only per-namespace net.* sysctls, without path tricks, may be set. */
static void test_error_sysctl_not_net(void **state)
{
	(void)state;
	expect_error("summary: s\nsysctl:\n  server: {kernel.panic: 1}\nsteps: [{do: close}]\n",
		     "t.yaml:3:12: ", "sysctl 'kernel.panic' is not a net.* name");
	expect_error(
	    "summary: s\nsysctl:\n  server: {net..kernel.panic: 1}\nsteps: [{do: close}]\n",
	    "t.yaml:3:12: ", "sysctl 'net..kernel.panic' is not a net.* name");
	expect_error(
	    "summary: s\nsysctl:\n  server: {net/../kernel/panic: 1}\nsteps: [{do: close}]\n",
	    "t.yaml:3:12: ", "sysctl 'net/../kernel/panic' is not a net.* name");
	expect_error(
	    "summary: s\nsysctl:\n  server: [net.ipv4.tcp_rfc1337]\nsteps: [{do: close}]\n",
	    "t.yaml:3:11: ", "sysctls of server must be a mapping");
}

/* A key given twice is an error at the second one, at every level. */
static void test_error_duplicate_key(void **state)
{
	(void)state;
	expect_error("summary: a\nsummary: b\nsteps: [{do: close}]\n",
		     "t.yaml:2:1: ", "duplicate key 'summary'");
	expect_error("summary: s\nsteps:\n  - {do: close, host: client, host: server}\n",
		     "t.yaml:3:31: ", "duplicate key 'host'");
	expect_error("summary: s\nfaults: [{name: f, name: g, from: client, action: drop}]\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:2:20: ", "duplicate key 'name'");
}

/* A step is an action or an expectation, never both, never neither. */
static void test_error_do_and_expect(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: close, expect: gone}\n",
		     "t.yaml:3:5: ", "a step has either 'do' or 'expect', not both");
	expect_error("summary: s\nsteps:\n  - {host: client}\n",
		     "t.yaml:3:5: ", "a step needs 'do: <action>' or 'expect: <expectation>'");
	expect_error("summary: s\nsteps:\n  - close\n",
		     "t.yaml:3:5: ", "a step must be a mapping of key: value");
}

/* No steps, an empty list of steps, no summary: located at the document or the list. */
static void test_error_missing_steps(void **state)
{
	(void)state;
	expect_error("summary: s\n", "t.yaml:1:1: ", "the case needs 'steps'");
	expect_error("summary: s\nsteps: []\n",
		     "t.yaml:2:8: ", "'steps' must be a non-empty list of steps");
	expect_error("summary: s\nsteps: {do: close}\n",
		     "t.yaml:2:8: ", "'steps' must be a non-empty list of steps");
	expect_error("steps: [{do: close}]\n",
		     "t.yaml:1:1: ", "the case needs a one-line 'summary'");
}

/* An empty file, or one with only comments, is an error at line 1 like any other. */
static void test_error_empty_file(void **state)
{
	(void)state;
	expect_error("", "t.yaml:1:1: ", "the file is empty");
	expect_error("# nothing here\n\n", "t.yaml:1:1: ", "the file is empty");
	expect_error("just a scalar\n", "t.yaml:1:1: ", "a case must be a mapping of key: value");
}

/* libyaml's syntax errors come out in the same located form. */
static void test_error_yaml_syntax(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: close]\n",
		     "t.yaml:3:15: ", "YAML syntax error: ");
	expect_error("summary: s\n\tsteps: x\n", "t.yaml:2:1: ", "YAML syntax error: ");
}

/* A key every step knows but this kind does not use is an error, not ignored. */
static void test_error_field_not_for_kind(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: close, port: 80}\n",
		     "t.yaml:3:17: ", "'port' does not apply to action 'close'");
	expect_error("summary: s\nsteps:\n  - {expect: gone, flags: F}\n",
		     "t.yaml:3:20: ", "'flags' does not apply to expectation 'gone'");
	expect_error("summary: s\nsteps:\n  - {do: inject, flags: R, has: R}\n",
		     "t.yaml:3:28: ", "'has' does not apply to action 'inject'");
	expect_error("summary: s\nsteps:\n  - {do: send, host: client, from: client, bytes: 1}\n",
		     "t.yaml:3:30: ", "'from' does not apply to action 'send'");
	expect_error("summary: s\nsteps:\n  - {do: listen}\n",
		     "t.yaml:3:5: ", "action 'listen' needs 'port'");
	expect_error("summary: s\nsteps:\n  - {do: recv}\n",
		     "t.yaml:3:5: ", "action 'recv' needs 'bytes: N' or 'eof: true'");
	expect_error("summary: s\nsteps:\n  - {do: setsockopt}\n",
		     "t.yaml:3:5: ", "action 'setsockopt' needs 'opt' and 'value', 'linger' or 'reuseaddr'");
	expect_error("summary: s\nsteps:\n  - {expect: no_segment, from: client}\n",
		     "t.yaml:3:5: ", "expectation 'no_segment' needs 'within'");
}

/* arm/disarm must name a fault declared under 'faults'. */
static void test_error_undeclared_fault(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: arm, fault: nope}\n", "t.yaml:3:22: ",
		     "unknown fault 'nope' (no fault of that name is declared under 'faults')");
	expect_error("summary: s\nfaults: [{name: f, from: client, action: drop}]\n"
		     "steps:\n  - {do: disarm, fault: F}\n",
		     "t.yaml:4:25: ", "unknown fault 'F'");
}

/* Two faults may not share a name: the second is located. */
static void test_error_duplicate_fault(void **state)
{
	(void)state;
	expect_error("summary: s\n"
		     "faults:\n"
		     "  - {name: f, from: client, action: drop}\n"
		     "  - {name: f, from: server, action: pass}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:4:12: ", "a fault named 'f' is already declared");
}

/* Claim ids look like C16: a C and two digits. */
static void test_error_claim_id(void **state)
{
	(void)state;
	expect_error("summary: s\nclaims: [C16, X1]\nsteps: [{do: close}]\n",
		     "t.yaml:2:15: ", "claim 'X1' is not an id like C16");
	expect_error("summary: s\nclaims: [C1]\nsteps: [{do: close}]\n",
		     "t.yaml:2:10: ", "claim 'C1' is not an id like C16");
	expect_error("summary: s\nclaims:\n  - C16\n  - C123\nsteps: [{do: close}]\n",
		     "t.yaml:4:5: ", "claim 'C123' is not an id like C16");
	expect_error("summary: s\nclaims: C16\nsteps: [{do: close}]\n",
		     "t.yaml:2:9: ", "'claims' must be a list");
}

/* nth counts from 1. */
static void test_error_nth_zero(void **state)
{
	(void)state;
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, nth: 0, action: drop}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:34: ", "'nth' counts from 1");
	expect_error("summary: s\nfaults:\n  - {name: f, from: client, nth: -1, action: drop}\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:3:34: ", "'nth' must be a number from 0 to 1000000");
}

/* Ports are 1..65535; a source port of 0 means the kernel's choice but 65536 is refused. */
static void test_error_port_range(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: listen, port: 0}\n",
		     "t.yaml:3:24: ", "'port' must be from 1 to 65535");
	expect_error("summary: s\nsteps:\n  - {do: listen, port: 65536}\n",
		     "t.yaml:3:24: ", "'port' must be a number from 0 to 65535, not '65536'");
	expect_error("summary: s\nsteps:\n  - {do: connect, port: 1, from_port: 65536}\n",
		     "t.yaml:3:39: ", "'from_port' must be a number from 0 to 65535, not '65536'");
	expect_error("summary: s\nsteps:\n  - {do: listen, port: http}\n",
		     "t.yaml:3:24: ", "'port' must be a number from 0 to 65535, not 'http'");
}

/* Other values checked against their tables: result, state, family, payload, booleans, expressions.
 */
static void test_error_bad_values(void **state)
{
	(void)state;
	expect_error("summary: s\nsteps:\n  - {do: connect, port: 1, result: EWHATEVER}\n",
		     "t.yaml:3:36: ", "unknown result 'EWHATEVER' (OK or an errno name");
	expect_error("summary: s\nsteps:\n  - {expect: state, state: TIMEWAIT}\n",
		     "t.yaml:3:28: ", "unknown TCP state 'TIMEWAIT'");
	expect_error("summary: s\nfamily: ipx\nsteps: [{do: close}]\n",
		     "t.yaml:2:9: ", "unknown family 'ipx' (expected ipv4, ipv6, both, or a list)");
	expect_error("summary: s\nfaults: [{name: f, from: client, payload: lots, action: drop}]\n"
		     "steps: [{do: close}]\n",
		     "t.yaml:2:43: ", "unknown payload 'lots' (expected any, none, some)");
	expect_error("summary: s\nsteps:\n  - {do: recv, eof: maybe}\n",
		     "t.yaml:3:21: ", "'eof' must be true or false");
	expect_error("summary: s\nsteps:\n  - {do: inject, flags: R, seq: rcv_nxt*2}\n",
		     "t.yaml:3:33: ", "bad value 'rcv_nxt*2' for 'seq'");
	expect_error("summary: s\nsteps:\n  - {do: send, bytes: [1]}\n",
		     "t.yaml:3:23: ", "'bytes' must be a number");
	expect_error("name: bad name!\nsummary: s\nsteps: [{do: close}]\n",
		     "t.yaml:1:7: ", "name 'bad name!' may use only");
}

/* An error message is cut to the buffer and a NULL buffer is allowed. */
static void test_error_buffer_limits(void **state)
{
	static const char yaml[] = "summary: s\ncolour: red\nsteps: [{do: close}]\n";
	struct fw_case *c = NULL;
	char err[12];

	(void)state;
	assert_int_equal(case_load_string(yaml, strlen(yaml), "t.yaml", "t", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.yaml:2:1:");
	assert_int_equal(case_load_string(yaml, strlen(yaml), "t.yaml", "t", &c, NULL, 0), -EINVAL);
	assert_null(c);
}

/* case_load on a missing file returns -ENOENT with the path in the message. */
static void test_load_missing_file(void **state)
{
	struct fw_case *c = (struct fw_case *)&c;
	char err[FW_ERRLEN] = "";

	(void)state;
	assert_int_equal(case_load("/nonexistent/finwave/x.yaml", "x", &c, err, sizeof(err)),
			 -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/finwave/x.yaml: cannot open"));
}

/* ---- expressions -------------------------------------------------------- */

static void expr_ok(const char *s, enum expr_base base, int64_t offset)
{
	struct fw_expr e;

	if (expr_parse(s, &e) != 0)
		fail_msg("expr_parse(\"%s\") failed", s);
	assert_expr(&e, base, offset);
}

/* Bases with and without offsets, spaces, powers of two, decimal and hex numbers. */
static void test_expr_parse_ok(void **state)
{
	(void)state;
	{
		struct fw_expr w;

		assert_int_equal(expr_parse("rcv_wnd_end-1", &w), 0);
		assert_expr(&w, EXPR_RCV_WND_END, -1);
	}
	expr_ok("rcv_nxt", EXPR_RCV_NXT, 0);
	expr_ok("rcv_nxt+1", EXPR_RCV_NXT, 1);
	expr_ok("rcv_nxt - 1", EXPR_RCV_NXT, -1);
	expr_ok("snd_nxt+2^30", EXPR_SND_NXT, 1 << 30);
	expr_ok("tsval-1", EXPR_TSVAL, -1);
	expr_ok("tsecr", EXPR_TSECR, 0);
	expr_ok("1001", EXPR_NUMBER, 1001);
	expr_ok("0x10", EXPR_NUMBER, 16);
	expr_ok("0", EXPR_NUMBER, 0);
	expr_ok("4294967295", EXPR_NUMBER, 4294967295LL);
	expr_ok("rcv_nxt+2^31", EXPR_RCV_NXT, 2147483648LL);
	expr_ok("own_tsval+1", EXPR_OWN_TSVAL, 1);
	expr_ok("peer_tsval", EXPR_PEER_TSVAL, 0);
	expr_ok("tsval(fin)-3", EXPR_MARK_TSVAL, -3);
	{
		struct fw_expr w;
		char buf[64];

		assert_int_equal(expr_parse(">= own_tsval+1", &w), 0);
		assert_int_equal(w.cmp, EXPR_GE);
		assert_expr(&w, EXPR_OWN_TSVAL, 1);
		expr_format(&w, buf, sizeof(buf));
		assert_string_equal(buf, ">= own_tsval+1");
		assert_int_equal(expr_parse("<peer_tsval", &w), 0);
		assert_int_equal(w.cmp, EXPR_LT);
		assert_int_equal(expr_parse("tsval(fin)", &w), 0);
		assert_string_equal(w.mark, "fin");
		expr_format(&w, buf, sizeof(buf));
		assert_string_equal(buf, "tsval(fin)");
	}
}

/* Empty, unknown words, dangling operators, out-of-range powers, negatives, other operators. */
static void test_expr_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "",		"foo",	      "rcv_nxt+",   "2^33",	  "-5",	 "rcv_nxt*2",
	    "2^32",	"4294967296", "rcv_nxt++1", "rcv_nxt+-1", "3^2", "2^",
	    "rcv_nxtx", "tsval 1",    "1001x",	    "+5",
	    "tsval(", "tsval()", "tsval(a", ">=", "> = 5", "tsval(a)x",
	};
	struct fw_expr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (expr_parse(bad[i], &e) != -EINVAL)
			fail_msg("expr_parse(\"%s\") was accepted", bad[i]);
}

/* Timestamps in segment expectations (absolute, own/peer, a mark's, with a
 * comparison), options and payload on injection, and send's 1 GiB. */
static void test_timestamps_and_inject_options(void **state)
{
	static const char yaml[] =
	    "summary: s\nsteps:\n"
	    "  - {do: send, bytes: 1073741824, within: 5s}\n"
	    "  - {do: inject, flags: S, tsval: 100, tsecr: 0, mss: 536, wscale: 3, sack_ok: true,"
	    " mark: syn}\n"
	    "  - {expect: segment, from: server, flags: S., tsecr: tsval(syn), tsval: \">= own_tsval+1\","
	    " mark: synack}\n"
	    "  - {expect: segment, from: server, flags: ., tsecr: peer_tsval-2, tsval: \"< 4000\"}\n"
	    "  - {do: inject, flags: ., payload: \"GET /\\r\\n\", sack: [[1, 2], [snd_nxt-10, snd_nxt]],"
	    " tsval: tsval(synack)+1}\n";
	struct fw_case *c = load_ok(yaml);
	const struct fw_step *s = c->steps;
	char buf[64];

	(void)state;
	assert_int_equal(s[0].bytes, 1u << 30);
	assert_int_equal(s[0].within_ns, 5 * FW_NS_PER_SEC);
	assert_int_equal(s[1].opt_mss, 536);
	assert_int_equal(s[1].opt_wscale, 3);
	assert_int_equal(s[1].opt_sack_ok, 1);
	assert_true(s[1].ts);
	assert_string_equal(s[1].text, "inject S from client to server, mss 536, wscale 3, sackOK");
	assert_int_equal(s[2].tsecr.base, EXPR_MARK_TSVAL);
	assert_string_equal(s[2].tsecr.mark, "syn");
	assert_int_equal(s[2].tsecr.mark_step, 1);
	assert_int_equal(s[2].tsval.base, EXPR_OWN_TSVAL);
	assert_int_equal(s[2].tsval.cmp, EXPR_GE);
	assert_int_equal(s[2].tsval.offset, 1);
	assert_string_equal(s[2].text,
			    "server sends S. with TSval >= own_tsval+1, TSecr tsval(syn) within 1.000s");
	assert_expr(&s[3].tsecr, EXPR_PEER_TSVAL, -2);
	assert_int_equal(s[3].tsval.base, EXPR_NUMBER);
	assert_int_equal(s[3].tsval.cmp, EXPR_LT);
	expr_format(&s[3].tsval, buf, sizeof(buf));
	assert_string_equal(buf, "< 4000");
	assert_int_equal(s[4].payload_len, 7);
	assert_memory_equal(s[4].payload, "GET /\r\n", 7);
	assert_int_equal(s[4].nsack, 2);
	assert_expr(&s[4].sack[0][0], EXPR_NUMBER, 1);
	assert_expr(&s[4].sack[1][0], EXPR_SND_NXT, -10);
	assert_expr(&s[4].sack[1][1], EXPR_SND_NXT, 0);
	assert_int_equal(s[4].tsval.mark_step, 2);
	assert_int_equal(s[4].opt_mss, -1); /* not carried */
	case_free(c);
}

#define TS_HEAD "summary: s\nsteps:\n  - {do: inject, flags: S, ts: true, mark: m}\n  - "
static void test_error_timestamps_and_options(void **state)
{
	(void)state;
	expect_error(TS_HEAD "{expect: segment, from: server, tsecr: tsval(nope)}\n", "t.yaml:4:44: ",
		     "no earlier step is marked 'nope' (add 'mark: nope' to it)");
	expect_error("summary: s\nsteps:\n  - {do: close, mark: c}\n"
		     "  - {expect: segment, from: server, tsecr: tsval(c)}\n",
		     "t.yaml:4:44: ", "tsval(c) is the TSval of a segment: mark an inject");
	expect_error(TS_HEAD "{expect: segment, from: server, tsecr: rcv_nxt}\n", "t.yaml:4:44: ",
		     "'tsecr' here is a number (absolute), own_tsval");
	expect_error(TS_HEAD "{expect: segment, from: server, ts: false, tsval: 5}\n", "t.yaml:4:41: ",
		     "'ts: false' says there is no timestamp");
	expect_error(TS_HEAD "{expect: segment, from: server, seq: \">= 5\"}\n", "t.yaml:4:42: ",
		     "'seq' of an expectation must be a number");
	expect_error(TS_HEAD "{do: inject, flags: ., tsval: \">= tsval\"}\n", "t.yaml:4:35: ",
		     "'tsval' here is a number, tsval (the sender's last)");
	expect_error(TS_HEAD "{do: inject, flags: ., tsecr: peer_tsval}\n", "t.yaml:4:35: ",
		     "'tsecr' here is a number, tsval");
	expect_error(TS_HEAD "{do: inject, flags: ., seq: tsval(m)}\n", "t.yaml:4:33: ",
		     "'seq' here is a number or rcv_nxt");
	expect_error(TS_HEAD "{do: inject, flags: ., len: 5, payload: abc}\n", "t.yaml:4:45: ",
		     "give 'payload' (the bytes) or 'len' (that many 'x'), not both");
	expect_error(TS_HEAD "{do: inject, flags: ., payload: \"\"}\n", "t.yaml:4:37: ",
		     "'payload' is text of 1 to 255 bytes");
	expect_error(TS_HEAD "{do: inject, flags: ., sack: [[1, 2, 3]]}\n", "t.yaml:4:35: ",
		     "'sack' is a list of at most 4 blocks [left, right]");
	expect_error(TS_HEAD "{do: inject, flags: ., sack: [[rcv_nxt, 2]]}\n", "t.yaml:4:36: ",
		     "'sack' is a list of at most 4 blocks");
	expect_error(TS_HEAD "{do: inject, flags: ., ts: true, sack: [[1,2],[3,4],[5,6],[7,8]]}\n",
		     "t.yaml:4:44: ", "these options take 48 bytes, more than the 40");
	expect_error(TS_HEAD "{do: inject, flags: S, wscale: 15}\n", "t.yaml:4:36: ",
		     "'wscale' must be");
	expect_error(TS_HEAD "{expect: no_segment, from: server, tsval: 5, within: 1s}\n",
		     "t.yaml:4:40: ", "'tsval' does not apply to expectation 'no_segment'");
	expect_error(TS_HEAD "{do: send, bytes: 1073741825}\n", "t.yaml:4:23: ", "'bytes'");
}

/* dut: mode: a box routes unless it says bridge. */
static void test_dut_mode(void **state)
{
	struct fw_case *c;

	(void)state;
	c = load_ok("summary: s\ndut: {setup: 'true'}\nsteps:\n  - {do: listen, host: server, port: 1}\n");
	assert_int_equal(c->dut.mode, DUT_ROUTED);
	case_free(c);
	c = load_ok("summary: s\ndut: {mode: bridge}\nsteps:\n  - {do: listen, host: server, port: 1}\n");
	assert_true(c->dut.present);
	assert_int_equal(c->dut.mode, DUT_BRIDGE);
	case_free(c);
	c = load_ok("summary: s\ndut: {mode: routed, setup: 'true'}\nsteps:\n  - {do: listen, host: server, port: 1}\n");
	assert_int_equal(c->dut.mode, DUT_ROUTED);
	case_free(c);
	c = load_ok("summary: s\ndut: {mode: bridge, interfaces: [a, b]}\nsteps:\n  - {do: listen, host: server, port: 1}\n");
	assert_int_equal(c->dut.mode, DUT_BRIDGE);
	assert_string_equal(c->dut.interfaces[1], "b");
	case_free(c);
	/* a fault acts on wire-a (before the box) unless it names wire-b */
	c = load_ok("summary: s\ndut: {setup: 'true'}\nfaults:\n"
		    "  - {name: a, from: client, action: drop}\n"
		    "  - {name: b, leg: wire-b, from: server, action: drop}\n"
		    "  - {name: c, leg: wire-a, from: server, action: drop}\n"
		    "steps:\n  - {do: listen, host: server, port: 1}\n");
	assert_int_equal(c->nfaults, 3);
	assert_int_equal(c->faults[0].leg, FAULT_LEG_A);
	assert_int_equal(c->faults[1].leg, FAULT_LEG_B);
	assert_int_equal(c->faults[2].leg, FAULT_LEG_A);
	case_free(c);
	/* at: where a wire meets the box; from: dut only there */
	c = load_ok("summary: s\ndut: {setup: 'true'}\nsteps:\n"
		    "  - {expect: segment, from: client, flags: S, at: wire-a}\n"
		    "  - {expect: no_segment, from: dut, at: wire-b, within: 1s}\n"
		    "  - {expect: segment, from: server, arrived: true}\n");
	assert_true(c->steps[0].at_box);
	assert_int_equal(c->steps[0].at, FAULT_LEG_A);
	assert_int_equal(c->steps[1].host, HOST_DUT);
	assert_int_equal(c->steps[1].at, FAULT_LEG_B);
	assert_false(c->steps[2].at_box);
	case_free(c);
	c = load_ok("summary: s\ndut: {setup: 'true'}\nsteps:\n"
		    "  - {do: inject, from: server, flags: R, leg: wire-b}\n");
	assert_true(c->steps[0].at_box);
	assert_int_equal(c->steps[0].at, FAULT_LEG_B);
	case_free(c);
	/* conn: which of a proxy's connections; host: dut reads its sockets */
	c = load_ok("summary: s\ndut: {run: 'haproxy -db', ready_port: 80}\nsteps:\n"
		    "  - {expect: state, host: dut, conn: front, state: CLOSE_WAIT}\n"
		    "  - {expect: gone, host: dut, conn: back}\n"
		    "  - {expect: segment, from: dut, conn: back, flags: F.}\n"
		    "  - {expect: no_segment, from: client, conn: front, within: 1s}\n"
		    "  - {expect: segment, from: server, flags: R}\n"
		    "  - {do: inject, from: client, conn: front, flags: R, seq: rcv_nxt}\n");
	assert_int_equal(c->steps[0].host, HOST_DUT);
	assert_int_equal(c->steps[0].conn, CONN_FRONT);
	assert_int_equal(c->steps[1].conn, CONN_BACK);
	assert_int_equal(c->steps[2].host, HOST_DUT);
	assert_int_equal(c->steps[2].conn, CONN_BACK);
	assert_false(c->steps[2].at_box);
	assert_int_equal(c->steps[3].host, HOST_CLIENT);
	assert_int_equal(c->steps[3].conn, CONN_FRONT);
	assert_int_equal(c->steps[4].conn, CONN_ANY);
	assert_int_equal(c->steps[5].conn, CONN_FRONT);
	assert_non_null(strstr(c->steps[5].text, "to the proxy on the front connection"));
	assert_non_null(strstr(c->steps[0].text, "of the front connection"));
	assert_non_null(strstr(c->steps[2].text, "on the back connection"));
	case_free(c);
}

/* The words added for boxes, programs, clocks, counts and options: each
 * misuse is a located error. */
static void test_error_new_words(void **state)
{
	static const struct {
		const char *yaml, *where, *msg;
	} bad[] = {
		{ "summary: s\nsteps:\n  - {expect: conntrack, state: ESTABLISHED}\n", "t.yaml:3:5: ",
		  "this step names the device under test, but the case has no 'dut:'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: conntrack, state: OPEN}\n",
		  "t.yaml:4:32: ", "unknown conntrack state 'OPEN'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: conntrack, status: [BUSY]}\n",
		  "t.yaml:4:34: ", "unknown conntrack status 'BUSY'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: conntrack, gone: true, state: CLOSE}\n",
		  "t.yaml:4:5: ", "'gone: true' takes no state" },
		{ "summary: s\ndut: {ready_port: 80}\nsteps:\n  - {do: listen, host: server, port: 1}\n",
		  "t.yaml:2:19: ", "'ready_port' is a port from 1 to 65535 the 'run' program listens on" },
		{ "summary: s\ndut: {mode: layer2}\nsteps:\n  - {do: listen, host: server, port: 1}\n",
		  "t.yaml:2:13: ", "'mode' is routed (the default) or bridge, not 'layer2'" },
		{ "summary: s\nfaults:\n  - {name: a, leg: wire-b, from: client, action: drop}\n"
		  "steps:\n  - {do: listen, host: server, port: 1}\n", "t.yaml:3:20: ",
		  "fault 'a': 'leg' names a side of a device under test, and this case has no 'dut:'" },
		{ "summary: s\ndut: {setup: 'true'}\nfaults:\n  - {name: a, leg: wire-c, from: client, action: drop}\n"
		  "steps:\n  - {do: listen, host: server, port: 1}\n", "t.yaml:4:20: ",
		  "fault 'a': leg 'wire-c': say wire-a (client to box) or wire-b (box to server)" },
		{ "summary: s\nsteps:\n  - {do: inject, from: server, flags: R, leg: wire-b}\n", "t.yaml:3:47: ",
		  "'leg' names a side of a device under test, and this case has no 'dut:'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {do: inject, from: server, flags: R, leg: b}\n",
		  "t.yaml:4:47: ", "'leg' is wire-a (client to box) or wire-b (box to server), not 'b'" },
		{ "summary: s\nsteps:\n  - {expect: segment, from: client, at: wire-a}\n", "t.yaml:3:41: ",
		  "'at' is a side of the device under test, and this case has no 'dut:'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: segment, from: client, at: box}\n",
		  "t.yaml:4:41: ", "'at' is wire-a (the box's client side) or wire-b (its server side), not 'box'" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: segment, from: client, arrived: true, at: wire-b}\n",
		  "t.yaml:4:46: ", "'arrived' is at the other host, 'at' at the box: give one" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: segment, from: dut}\n", "t.yaml:4:29: ",
		  "unknown host 'dut' in 'from' (expected client, server)" },
		{ "summary: s\ndut: {setup: 'true'}\nsteps:\n  - {expect: gone, host: dut, conn: back}\n",
		  "t.yaml:4:37: ", "'conn' names one of a proxy's two connections, and this case has no proxy ('dut:' with 'run:')" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: gone, host: dut, conn: middle}\n",
		  "t.yaml:4:37: ", "'conn' is front (client to the proxy) or back (the proxy to the server), not 'middle'" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: gone, host: dut}\n",
		  "t.yaml:4:26: ", "'host: dut' is a proxy's socket: say which connection with 'conn: front' or 'conn: back'" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: gone, host: client, conn: front}\n",
		  "t.yaml:4:40: ", "'conn' names a proxy's own socket: give it with 'host: dut'" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: gone, host: dut, conn: front, sock: a}\n",
		  "t.yaml:4:50: ", "a proxy's socket is named by 'conn', not by 'sock' or 'port'" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: state, host: dut, conn: front, state: LISTEN, never: true}\n",
		  "t.yaml:4:67: ", "'never' is not said of a proxy's socket" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {do: inject, from: client, conn: back, flags: R}\n",
		  "t.yaml:4:38: ", "the client has no segment on the back connection" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: segment, from: server, conn: front}\n",
		  "t.yaml:4:43: ", "the server has no segment on the front connection" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: segment, from: client, arrived: true, conn: front}\n",
		  "t.yaml:4:58: ", "'conn' names the connection, 'arrived' where it was seen: give one" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: segment, from: dut}\n", "t.yaml:4:29: ",
		  "unknown host 'dut' in 'from' (expected client, server)" },
		{ "summary: s\ndut: {run: 'p'}\nsteps:\n  - {expect: counter, host: client, counter: x, delta: 1, conn: back}\n",
		  "t.yaml:4:59: ", "'conn' does not apply to expectation 'counter'" },
		{ "summary: s\nsteps:\n  - {do: listen, host: dut, port: 1}\n", "t.yaml:3:24: ",
		  "unknown host 'dut' in 'host' (expected client, server)" },
		{ "summary: s\nsteps:\n  - {do: close, host: client}\n  - {expect: gone, host: client, since: nowhere}\n",
		  "t.yaml:4:41: ", "no earlier step is marked 'nowhere'" },
		{ "summary: s\nsteps:\n  - {do: close, host: client, mark: a}\n  - {do: close, host: server, mark: a}\n",
		  "t.yaml:4:37: ", "mark 'a' is already used by the step on line 3" },
		{ "summary: s\nsteps:\n  - {do: close, host: client, mark: a, since: a}\n", "t.yaml:3:47: ",
		  "'since' belongs to expectations" },
		{ "summary: s\nsteps:\n  - {expect: segment, from: client, count: 5..3}\n", "t.yaml:3:44: ",
		  "'count' must be a number or a range like 3..5, not '5..3'" },
		{ "summary: s\nsteps:\n  - {expect: segment, from: client, wscale: 15}\n", "t.yaml:3:45: ",
		  "'wscale' must be" },
		{ "summary: s\nsteps:\n  - {expect: segment, from: client, dsack: maybe}\n", "t.yaml:3:44: ",
		  "'dsack' must be" },
		{ "summary: s\nsteps:\n  - {do: wait}\n", "t.yaml:3:5: ", "action 'wait' needs 'for'" },
		{ "summary: s\nsteps:\n  - {do: listen, host: server, port: 1, sock: a}\n"
		  "  - {do: accept, host: server, listener: b}\n", "t.yaml:4:42: ",
		  "no earlier listen step on server names its socket 'b' (give the listen step 'sock: b')" },
		{ "summary: s\nsteps:\n  - {do: listen, host: server, port: 1, sock: a}\n"
		  "  - {do: accept, host: server}\n", "t.yaml:4:5: ",
		  "no earlier listen step on server names its socket 'listen'" },
		{ "summary: s\nsteps:\n  - {do: connect, host: client, port: 1, address: any}\n",
		  "t.yaml:3:51: ", "'address' is host (the peer's) or loopback" },
		{ "summary: s\nsteps:\n  - {do: listen, host: server, port: 1, address: lo}\n",
		  "t.yaml:3:50: ", "'address' is host, any or loopback, not 'lo'" },
		{ "summary: s\nsteps:\n  - {do: connect, host: client, to: server, port: 1, address: loopback}\n",
		  "t.yaml:3:63: ", "a loopback connect goes to its own host: leave out 'to'" },
		{ "summary: s\nsteps:\n  - {expect: tcp_info, host: client, field: rtt, value: 1}\n",
		  "t.yaml:3:45: ", "unknown tcp_info field 'rtt' (expected retransmits, probes, backoff, rto_ms, unacked, lost, total_retrans)" },
		{ "summary: s\nsteps:\n  - {expect: tcp_info, host: client, field: lost, value: 3..1}\n",
		  "t.yaml:3:58: ", "expectation 'tcp_info' needs 'value', a number or a range like 1..3, not '3..1'" },
		{ "summary: s\nsteps:\n  - {expect: tcp_info, host: client, field: lost}\n",
		  "t.yaml:3:5: ", "expectation 'tcp_info' needs 'value'" },
		{ "summary: s\nsteps:\n  - {expect: retransmits, host: client}\n",
		  "t.yaml:3:5: ", "expectation 'retransmits' needs 'count'" },
		{ "summary: s\nsteps:\n  - {expect: retransmits, host: client, count: 2..1}\n",
		  "t.yaml:3:48: ", "'count' must be a number or a range like 3..5, not '2..1'" },
		{ "summary: s\nsteps:\n  - {expect: retransmits, host: client, count: 1, flags: F}\n",
		  "t.yaml:3:51: ", "'flags' does not apply to expectation 'retransmits'" },
		{ "summary: s\nsteps:\n  - {expect: state, host: client, state: CLOSE_WAIT, never: true, timer: off}\n",
		  "t.yaml:3:61: ", "'never' takes no timer" },
		{ "summary: s\nsteps:\n  - {expect: gone, host: client, never: true}\n",
		  "t.yaml:3:34: ", "'never' does not apply to expectation 'gone'" },
		{ "summary: s\nsteps:\n  - {expect: kmsg}\n", "t.yaml:3:5: ",
		  "expectation 'kmsg' needs 'message'" },
		{ "summary: s\nsteps:\n  - {expect: kmsg, message: ''}\n", "t.yaml:3:29: ",
		  "'message' is text the kernel's message contains, not empty" },
		{ "summary: s\nsteps:\n  - {expect: kmsg, message: x, host: client}\n", "t.yaml:3:32: ",
		  "'host' does not apply to expectation 'kmsg'" },
		{ "summary: s\nsteps:\n  - {do: start, host: server}\n", "t.yaml:3:5: ",
		  "action 'start' needs 'run'" },
		{ "summary: s\nsteps:\n  - {expect: exit, proc: p, status: 1, signal: KILL}\n", "t.yaml:3:5: ",
		  "give 'status' (it exited) or 'signal' (it was killed), not both" },
		{ "summary: s\nsteps:\n  - {expect: segment, from: server, flags: ., isn: prev_snd_nxt+1}\n",
		  "t.yaml:3:52: ", "'isn' is a SYN's number in the previous incarnation's terms" },
		{ "summary: s\nsteps:\n  - {do: close, host: server, on: {from: server, flags: F.}}\n",
		  "t.yaml:3:42: ", "'on' waits for a segment reaching server, so 'from' must be the other host" },
		{ "summary: s\nsteps:\n  - {do: close, host: server, on: {flags: F.}}\n", "t.yaml:3:35: ",
		  "'on' needs 'from'" },
		{ "summary: s\nsteps:\n  - {expect: gone, host: server, together: true}\n", "t.yaml:3:34: ",
		  "'together' does not apply to expectation 'gone'" },
		{ "summary: s\ncondition: [a]\nsteps:\n  - {do: close, host: client}\n", "t.yaml:2:12: ",
		  "'condition' must be a single value" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].yaml, bad[i].where, bad[i].msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_case_header),
	    cmocka_unit_test(test_valid_case_faults),
	    cmocka_unit_test(test_valid_case_socket_steps),
	    cmocka_unit_test(test_valid_case_inject_arm),
	    cmocka_unit_test(test_valid_case_expectations),
	    cmocka_unit_test(test_minimal_case_defaults),
	    cmocka_unit_test(test_fault_without_flags),
	    cmocka_unit_test(test_step_kind_names),
	    cmocka_unit_test(test_step_kind_keys_end),
	    cmocka_unit_test(test_matrix_expand),
	    cmocka_unit_test(test_family_choice),
	    cmocka_unit_test(test_error_matrix),
	    cmocka_unit_test(test_fault_language),
	    cmocka_unit_test(test_error_fault_language),
	    cmocka_unit_test(test_error_process_and_options),
	    cmocka_unit_test(test_error_unknown_key),
	    cmocka_unit_test(test_error_unknown_fault_action),
	    cmocka_unit_test(test_error_unknown_step_kind),
	    cmocka_unit_test(test_error_new_words),
	    cmocka_unit_test(test_dut_mode),
	    cmocka_unit_test(test_kmsg_expectation),
	    cmocka_unit_test(test_many_connections),
	    cmocka_unit_test(test_error_many_connections),
	    cmocka_unit_test(test_fault_when),
	    cmocka_unit_test(test_error_unknown_host),
	    cmocka_unit_test(test_error_bad_flags),
	    cmocka_unit_test(test_error_duration),
	    cmocka_unit_test(test_error_sysctl_not_net),
	    cmocka_unit_test(test_error_duplicate_key),
	    cmocka_unit_test(test_error_do_and_expect),
	    cmocka_unit_test(test_error_missing_steps),
	    cmocka_unit_test(test_error_empty_file),
	    cmocka_unit_test(test_error_yaml_syntax),
	    cmocka_unit_test(test_error_field_not_for_kind),
	    cmocka_unit_test(test_error_undeclared_fault),
	    cmocka_unit_test(test_error_duplicate_fault),
	    cmocka_unit_test(test_error_claim_id),
	    cmocka_unit_test(test_error_nth_zero),
	    cmocka_unit_test(test_error_port_range),
	    cmocka_unit_test(test_error_bad_values),
	    cmocka_unit_test(test_error_buffer_limits),
	    cmocka_unit_test(test_load_missing_file),
	    cmocka_unit_test(test_timestamps_and_inject_options),
	    cmocka_unit_test(test_error_timestamps_and_options),
	    cmocka_unit_test(test_expr_parse_ok),
	    cmocka_unit_test(test_expr_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
