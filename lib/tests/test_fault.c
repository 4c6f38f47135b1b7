/* Unit tests of fault: rule matching, occurrence windows and counters.
 * Pure logic: no namespaces, no root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fault.h"
#include "vocab.h"

static struct seg test_seg(uint8_t flags, uint32_t len)
{
	struct seg s;

	memset(&s, 0, sizeof(s));
	s.src.family = s.dst.family = AF_INET;
	s.flags = flags;
	s.len = len;
	s.wscale = -1;
	return s;
}

static struct fault_rule test_rule(const char *name, enum fw_host from, uint8_t mask,
				   uint8_t value, unsigned nth, unsigned count,
				   enum fault_action action)
{
	struct fault_rule r;

	memset(&r, 0, sizeof(r));
	strncpy(r.name, name, sizeof(r.name) - 1);
	r.from = from;
	r.flags_mask = mask;
	r.flags_value = value;
	r.payload = FAULT_PAYLOAD_ANY;
	r.nth = nth;
	r.count = count;
	r.action = action;
	r.armed = true;
	return r;
}

static struct fault_set *test_set(const struct fault_rule *rules, size_t n)
{
	struct fault_set *fs = NULL;

	assert_int_equal(fault_set_create(&fs, rules, n), 0);
	assert_non_null(fs);
	return fs;
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(fault_action_name(FAULT_PASS), "pass");
	assert_string_equal(fault_action_name(FAULT_DROP), "drop");
	assert_string_equal(fault_action_name(FAULT_DELAY), "delay");
	assert_string_equal(fault_action_name((enum fault_action)42), "?");
}

static void test_empty_set_and_null(void **state)
{
	struct fault_set *fs = test_set(NULL, 0);
	struct seg s = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_decision d = fault_set_decide(fs, HOST_CLIENT, &s, NULL);

	(void)state;
	assert_int_equal(d.action, FAULT_PASS);
	assert_int_equal(d.rule, -1);
	assert_int_equal(fault_set_count(fs), 0);
	assert_null(fault_set_rule(fs, 0));
	assert_int_equal(fault_set_matched(fs, 0), 0);
	fault_set_free(fs);
	fault_set_free(NULL);
}

/* The classic teardown fault: lose the first two FINs, let the third through. */
static void test_nth_count_window(void **state)
{
	struct fault_rule r = test_rule("fin", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 2, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_decision d;

	(void)state;
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.occurrence, 1);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.occurrence, 2);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_PASS);
	assert_int_equal(d.rule, -1);
	assert_int_equal(fault_set_matched(fs, 0), 3);
	assert_int_equal(fault_set_fired(fs, 0), 2);
	fault_set_free(fs);
}

static void test_window_starts_late(void **state)
{
	struct fault_rule r = test_rule("third", HOST_SERVER, 0, 0, 3, 1, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg ack = test_seg(SEG_ACK, 0);
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		struct fault_decision d = fault_set_decide(fs, HOST_SERVER, &ack, NULL);

		assert_int_equal(d.action, i == 3 ? FAULT_DROP : FAULT_PASS);
		if (i == 3)
			assert_int_equal(d.occurrence, 3);
	}
	assert_int_equal(fault_set_matched(fs, 0), 5);
	assert_int_equal(fault_set_fired(fs, 0), 1);
	fault_set_free(fs);
}

static void test_count_zero_means_all(void **state)
{
	struct fault_rule r = test_rule("all", HOST_CLIENT, 0, 0, 2, 0, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg s = test_seg(SEG_ACK, 100);
	int i;

	(void)state;
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_PASS);
	for (i = 2; i <= 50; i++) {
		struct fault_decision d = fault_set_decide(fs, HOST_CLIENT, &s, NULL);

		assert_int_equal(d.action, FAULT_DROP);
		assert_int_equal(d.occurrence, (unsigned)i);
	}
	assert_int_equal(fault_set_fired(fs, 0), 49);
	fault_set_free(fs);
}

/* A huge count must not wrap nth + count into a tiny window. */
static void test_count_no_overflow(void **state)
{
	struct fault_rule r = test_rule("big", HOST_CLIENT, 0, 0, 2, UINT32_MAX, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg s = test_seg(SEG_ACK, 0);

	(void)state;
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_DROP);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_DROP);
	fault_set_free(fs);
}

/* nth 0 is read as 1 rather than a window that can never open. */
static void test_nth_zero_is_first(void **state)
{
	struct fault_rule r = test_rule("z", HOST_CLIENT, 0, 0, 0, 1, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg s = test_seg(SEG_ACK, 0);

	(void)state;
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_DROP);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_PASS);
	fault_set_free(fs);
}

/* mask FIN value FIN matches F. and FP.; mask FIN|ACK value FIN only a bare F. */
static void test_flags_mask_vs_exact(void **state)
{
	struct fault_rule rules[2] = {
		test_rule("anyfin", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 0, FAULT_PASS),
		test_rule("barefin", HOST_SERVER, SEG_FIN | SEG_ACK, SEG_FIN, 1, 0, FAULT_DROP),
	};
	struct fault_set *fs = test_set(rules, 2);
	struct seg fin_ack = test_seg(SEG_FIN | SEG_ACK, 0);
	struct seg fin_psh = test_seg(SEG_FIN | SEG_PSH | SEG_ACK, 10);
	struct seg bare_fin = test_seg(SEG_FIN, 0);
	struct seg ack = test_seg(SEG_ACK, 0);
	struct seg syn = test_seg(SEG_SYN, 0);

	(void)state;
	fault_set_decide(fs, HOST_CLIENT, &fin_ack, NULL);
	fault_set_decide(fs, HOST_CLIENT, &fin_psh, NULL);
	fault_set_decide(fs, HOST_CLIENT, &bare_fin, NULL);
	fault_set_decide(fs, HOST_CLIENT, &ack, NULL);
	fault_set_decide(fs, HOST_CLIENT, &syn, NULL);
	assert_int_equal(fault_set_matched(fs, 0), 3);

	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin_ack, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &ack, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &bare_fin, NULL).action, FAULT_DROP);
	assert_int_equal(fault_set_matched(fs, 1), 1);
	fault_set_free(fs);
}

/* mask 0 value 0 matches every segment, flags or not. */
static void test_mask_zero_matches_all(void **state)
{
	struct fault_rule r = test_rule("any", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS);
	struct fault_set *fs = test_set(&r, 1);
	uint8_t flags[] = { 0, SEG_SYN, SEG_SYN | SEG_ACK, SEG_ACK, SEG_RST, SEG_FIN | SEG_ACK };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flags); i++) {
		struct seg s = test_seg(flags[i], 0);

		fault_set_decide(fs, HOST_CLIENT, &s, NULL);
	}
	assert_int_equal(fault_set_matched(fs, 0), sizeof(flags));
	assert_int_equal(fault_set_fired(fs, 0), sizeof(flags));
	fault_set_free(fs);
}

/* A value with bits outside the mask can never match. */
static void test_value_outside_mask(void **state)
{
	struct fault_rule r = test_rule("never", HOST_CLIENT, SEG_FIN, SEG_FIN | SEG_ACK, 1, 0,
					FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg s = test_seg(SEG_FIN | SEG_ACK, 0);

	(void)state;
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_matched(fs, 0), 0);
	fault_set_free(fs);
}

static void test_payload_filter(void **state)
{
	struct fault_rule rules[3] = {
		test_rule("none", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS),
		test_rule("some", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS),
		test_rule("any", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS),
	};
	struct fault_set *fs;
	struct seg empty = test_seg(SEG_ACK, 0);
	struct seg data = test_seg(SEG_ACK | SEG_PSH, 1448);
	struct seg fin_data = test_seg(SEG_FIN | SEG_ACK, 1);

	(void)state;
	rules[0].payload = FAULT_PAYLOAD_NONE;
	rules[1].payload = FAULT_PAYLOAD_SOME;
	fs = test_set(rules, 3);
	fault_set_decide(fs, HOST_CLIENT, &empty, NULL);
	fault_set_decide(fs, HOST_CLIENT, &data, NULL);
	fault_set_decide(fs, HOST_CLIENT, &fin_data, NULL);
	fault_set_decide(fs, HOST_CLIENT, &empty, NULL);
	assert_int_equal(fault_set_matched(fs, 0), 2);
	assert_int_equal(fault_set_matched(fs, 1), 2);
	assert_int_equal(fault_set_matched(fs, 2), 4);
	fault_set_free(fs);
}

static void test_sender_filter(void **state)
{
	struct fault_rule r = test_rule("cfin", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 1, FAULT_DROP);
	struct fault_set *fs = test_set(&r, 1);
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_decision d;

	(void)state;
	/* The server's FIN and a wire-originated one are not the client's. */
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_WIRE, &fin, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_matched(fs, 0), 0);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.occurrence, 1);
	fault_set_free(fs);
}

/* A disarmed rule neither counts nor acts; once armed it counts from where it is. */
static void test_disarmed(void **state)
{
	struct fault_rule r = test_rule("later", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 1, FAULT_DROP);
	struct fault_set *fs;
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_decision d;

	(void)state;
	r.armed = false;
	fs = test_set(&r, 1);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_PASS);
	assert_int_equal(d.rule, -1);
	assert_int_equal(fault_set_matched(fs, 0), 0);
	assert_int_equal(fault_set_fired(fs, 0), 0);

	fault_set_arm(fs, 0, true);
	assert_true(fault_set_rule(fs, 0)->armed);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.occurrence, 1);

	fault_set_arm(fs, 0, false);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_matched(fs, 0), 1);
	assert_int_equal(fault_set_fired(fs, 0), 1);
	fault_set_arm(fs, 7, true); /* out of range: ignored */
	fault_set_free(fs);
}

/* Two rules match: the first in order acts, both count; when the first's
 * window is closed, the second acts. */
static void test_first_rule_wins_both_count(void **state)
{
	struct fault_rule rules[2] = {
		test_rule("drop1", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 1, FAULT_DROP),
		test_rule("delay", HOST_CLIENT, SEG_FIN | SEG_ACK, SEG_FIN | SEG_ACK, 1, 0,
			  FAULT_DELAY),
	};
	struct fault_set *fs;
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_decision d;

	(void)state;
	rules[1].delay_ns = 150000000;
	fs = test_set(rules, 2);
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.delay_ns, 0);

	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DELAY);
	assert_int_equal(d.rule, 1);
	assert_int_equal(d.occurrence, 2); /* counted the dropped FIN too */
	assert_int_equal(d.delay_ns, 150000000);

	assert_int_equal(fault_set_matched(fs, 0), 2);
	assert_int_equal(fault_set_matched(fs, 1), 2);
	assert_int_equal(fault_set_fired(fs, 0), 1);
	assert_int_equal(fault_set_fired(fs, 1), 1);
	fault_set_free(fs);
}

static struct fault_rule with_payload(struct fault_rule r, enum fault_payload p)
{
	r.payload = p;
	return r;
}

static struct fault_rule with_seq(struct fault_rule r)
{
	r.match_seq = true;
	return r;
}

/* Whole GSO packets may be queued only when no rule could tell them from
 * the segments the kernel would cut them into. */
static void test_gso_safe(void **state)
{
	const struct {
		struct fault_rule rule;
		bool safe;
	} cases[] = {
		/* never sees a GSO packet: SYN, RST, no ACK, no payload */
		{ test_rule("syn", HOST_CLIENT, SEG_SYN, SEG_SYN, 2, 1, FAULT_DROP), true },
		{ test_rule("rst", HOST_SERVER, SEG_RST, SEG_RST, 1, 1, FAULT_DROP), true },
		{ test_rule("noack", HOST_SERVER, SEG_ACK, 0, 1, 1, FAULT_DROP), true },
		{ with_payload(test_rule("bare", HOST_CLIENT, 0, 0, 3, 1, FAULT_DROP),
			       FAULT_PAYLOAD_NONE), true },
		/* passes every data segment alike */
		{ test_rule("all", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS), true },
		/* counts them, acts on them, tests FIN/PSH or seq */
		{ test_rule("count", HOST_CLIENT, 0, 0, 1, 5, FAULT_PASS), false },
		{ test_rule("nth", HOST_CLIENT, 0, 0, 4, 0, FAULT_PASS), false },
		{ with_payload(test_rule("drop", HOST_CLIENT, 0, 0, 1, 0, FAULT_DROP),
			       FAULT_PAYLOAD_SOME), false },
		{ test_rule("fin", HOST_CLIENT, SEG_FIN | SEG_ACK, SEG_FIN | SEG_ACK, 1, 1, FAULT_DROP),
		  false },
		{ test_rule("psh", HOST_CLIENT, SEG_PSH, 0, 1, 0, FAULT_PASS), false },
		{ with_seq(test_rule("seq", HOST_CLIENT, 0, 0, 1, 0, FAULT_PASS)), false },
	};
	struct fault_rule mixed[2];
	struct fault_set *fs;
	size_t i;

	(void)state;
	assert_int_equal(fault_set_gso_cut(NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fs = test_set(&cases[i].rule, 1);
		if ((fault_set_gso_cut(fs) == 0) != cases[i].safe)
			fail_msg("rule '%s': uncut should be %d", cases[i].rule.name,
				 cases[i].safe);
		fault_set_free(fs);
	}
	/* one unsafe rule makes the set unsafe, behind a safe one */
	mixed[0] = cases[0].rule;
	mixed[1] = cases[5].rule;
	fs = test_set(mixed, 2);
	assert_int_not_equal(fault_set_gso_cut(fs), 0);
	fault_set_free(fs);
}

/* Which GSO packets are cut: none, those with the flags a rule needs set,
 * or all of them (a count, or a flag a rule needs clear). */
static void test_gso_cut(void **state)
{
	struct fault_rule fin = test_rule("fin", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 1, FAULT_DROP);
	struct fault_rule finpsh = test_rule("fin+psh", HOST_SERVER, SEG_FIN | SEG_PSH,
					     SEG_FIN | SEG_PSH, 2, 0, FAULT_DELAY);
	struct fault_rule nopsh = test_rule("no psh", HOST_CLIENT, SEG_PSH, 0, 1, 0, FAULT_DROP);
	struct fault_rule every = test_rule("count", HOST_CLIENT, 0, 0, 1, 5, FAULT_DROP);
	struct fault_rule syn = test_rule("syn", HOST_CLIENT, SEG_SYN, SEG_SYN, 1, 1, FAULT_DROP);
	struct fault_rule set[3];
	struct fault_set *fs;

	(void)state;
	assert_int_equal(fault_set_gso_cut(NULL), 0);
	fs = test_set(&syn, 1); /* never a GSO packet */
	assert_int_equal(fault_set_gso_cut(fs), 0);
	fault_set_free(fs);
	fs = test_set(&fin, 1);
	assert_int_equal(fault_set_gso_cut(fs), SEG_FIN);
	assert_int_not_equal(fault_set_gso_cut(fs), 0);
	fault_set_free(fs);
	set[0] = fin;
	set[1] = finpsh;
	set[2] = syn;
	fs = test_set(set, 3);
	assert_int_equal(fault_set_gso_cut(fs), SEG_FIN | SEG_PSH);
	fault_set_free(fs);
	set[1] = nopsh; /* needs PSH clear: every piece but the last */
	fs = test_set(set, 2);
	assert_int_equal(fault_set_gso_cut(fs), FAULT_GSO_CUT_ALL);
	fault_set_free(fs);
	set[1] = every; /* counts segments */
	fs = test_set(set, 2);
	assert_int_equal(fault_set_gso_cut(fs), FAULT_GSO_CUT_ALL);
	fault_set_free(fs);
}

static void test_lookup_and_copy(void **state)
{
	struct fault_rule rules[2] = {
		test_rule("a", HOST_CLIENT, 0, 0, 1, 1, FAULT_DROP),
		test_rule("b", HOST_SERVER, 0, 0, 1, 1, FAULT_DROP),
	};
	struct fault_set *fs = test_set(rules, 2);

	(void)state;
	/* The set owns a copy: changing the caller's array changes nothing. */
	strcpy(rules[0].name, "changed");
	assert_int_equal(fault_set_count(fs), 2);
	assert_int_equal(fault_set_find(fs, "a"), 0);
	assert_int_equal(fault_set_find(fs, "b"), 1);
	assert_int_equal(fault_set_find(fs, "changed"), -1);
	assert_int_equal(fault_set_find(fs, ""), -1);
	assert_int_equal(fault_set_find(fs, NULL), -1);
	assert_int_equal(fault_set_rule(fs, 1)->from, HOST_SERVER);
	assert_null(fault_set_rule(fs, 2));
	assert_int_equal(fault_set_fired(fs, 9), 0);
	fault_set_free(fs);
}

static void test_action_parse_round_trip(void **state)
{
	int a;

	(void)state;
	for (a = 0; a < FAULT_ACTION_COUNT; a++)
		assert_int_equal(fault_action_parse(fault_action_name((enum fault_action)a)), a);
	assert_int_equal(fault_action_parse("dorp"), -1);
	assert_int_equal(fault_action_parse("Drop"), -1);
	assert_int_equal(fault_action_parse(NULL), -1);
}

/* "The 2nd FIN" by position in the sequence space: only the segment whose
 * seq is that far from the sender's ISN matches; without a view it cannot. */
static void test_match_relative_seq(void **state)
{
	struct fault_rule r = test_rule("seq", HOST_CLIENT, 0, 0, 1, 0, FAULT_DROP);
	struct fault_view at1 = { .seq_known = true, .rel_seq = 1, .state = -1 };
	struct fault_view at1001 = { .seq_known = true, .rel_seq = 1001, .state = -1 };
	struct fault_view unknown = { .seq_known = false, .rel_seq = 1001, .state = -1 };
	struct seg s = test_seg(SEG_ACK, 0);
	struct fault_set *fs;

	(void)state;
	r.match_seq = true;
	r.seq = 1001;
	fs = test_set(&r, 1);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, &at1).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, &unknown).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &s, &at1001).action, FAULT_DROP);
	assert_int_equal(fault_set_matched(fs, 0), 1);
	assert_false(fault_set_needs_state(fs));
	fault_set_free(fs);
}

/* "The ACK sent in FIN_WAIT_2" (state 5): other states do not count toward nth. */
static void test_match_sender_state(void **state)
{
	struct fault_rule r = test_rule("st", HOST_CLIENT, 0xff, SEG_ACK, 2, 1, FAULT_DROP);
	struct fault_view est = { .state = 1 }, fw2 = { .state = 5 };
	struct seg ack = test_seg(SEG_ACK, 0);
	struct fault_set *fs;

	(void)state;
	r.state = 5;
	fs = test_set(&r, 1);
	assert_true(fault_set_needs_state(fs));
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &ack, &est).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &ack, &fw2).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &ack, &est).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &ack, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &ack, &fw2).action, FAULT_DROP);
	assert_int_equal(fault_set_matched(fs, 0), 2);
	fault_set_free(fs);
}

/* connection: K matches only the K-th connection, every: K the K-th, 2K-th,
 * ...; a segment whose connection is unknown matches neither; nth/count
 * then count only the chosen connections' segments. */
static void test_match_connection(void **state)
{
	struct fault_rule r[2] = {
	    test_rule("one", HOST_CLIENT, SEG_FIN, SEG_FIN, 1, 0, FAULT_DROP),
	    test_rule("every", HOST_SERVER, SEG_FIN, SEG_FIN, 2, 1, FAULT_DROP),
	};
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0);
	struct fault_view v[6] = {{.state = -1}};
	struct fault_set *fs;
	unsigned k;

	(void)state;
	r[0].conn_nth = 5000;
	r[1].conn_every = 100;
	for (k = 1; k < 6; k++)
		v[k].state = -1;
	v[1].conn = 4999;
	v[2].conn = 5000;
	v[3].conn = 100;
	v[4].conn = 150;
	v[5].conn = 200;
	fs = test_set(r, 2);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, &v[0]).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, NULL).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, &v[1]).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, &v[2]).action, FAULT_DROP);
	assert_int_equal(fault_set_decide(fs, HOST_CLIENT, &fin, &v[2]).action, FAULT_DROP);
	assert_int_equal(fault_set_matched(fs, 0), 2);
	/* every 100th: the 100th is the first match, the 200th the second (nth 2) */
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin, &v[3]).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin, &v[4]).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin, &v[0]).action, FAULT_PASS);
	assert_int_equal(fault_set_decide(fs, HOST_SERVER, &fin, &v[5]).action, FAULT_DROP);
	assert_int_equal(fault_set_matched(fs, 1), 2);
	fault_set_free(fs);
}

/* The decision carries each action's own time: delay, gap or deadline. */
static void test_decision_times(void **state)
{
	struct fault_rule rules[4] = {
		test_rule("d", HOST_CLIENT, 0xff, SEG_FIN | SEG_ACK, 1, 1, FAULT_DELAY),
		test_rule("h", HOST_CLIENT, 0xff, SEG_ACK, 1, 1, FAULT_HOLD),
		test_rule("u", HOST_SERVER, 0xff, SEG_FIN | SEG_ACK, 1, 1, FAULT_DUPLICATE),
		test_rule("w", HOST_SERVER, 0xff, SEG_ACK, 1, 1, FAULT_REWRITE),
	};
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0), ack = test_seg(SEG_ACK, 0);
	struct fault_decision d;
	struct fault_set *fs;

	(void)state;
	rules[0].delay_ns = 30;
	rules[1].max_ns = 5000;
	rules[1].delay_ns = 7; /* not the hold's: must not leak into the decision */
	rules[2].delay_ns = 50;
	rules[3].delay_ns = 9;
	fs = test_set(rules, 4);
	assert_true(fault_set_needs_payload(fs));
	d = fault_set_decide(fs, HOST_CLIENT, &fin, NULL);
	assert_int_equal(d.action, FAULT_DELAY);
	assert_int_equal(d.delay_ns, 30);
	d = fault_set_decide(fs, HOST_CLIENT, &ack, NULL);
	assert_int_equal(d.action, FAULT_HOLD);
	assert_int_equal(d.delay_ns, 5000);
	d = fault_set_decide(fs, HOST_SERVER, &fin, NULL);
	assert_int_equal(d.action, FAULT_DUPLICATE);
	assert_int_equal(d.delay_ns, 50);
	d = fault_set_decide(fs, HOST_SERVER, &ack, NULL);
	assert_int_equal(d.action, FAULT_REWRITE);
	assert_int_equal(d.delay_ns, 0);
	fault_set_free(fs);
}

/* What releases a held segment: reorder, any later segment of its sender;
 * hold until a segment, only one that matches sender and flags. */
static void test_release_by_segment(void **state)
{
	struct fault_rule reorder = test_rule("r", HOST_CLIENT, 0, 0, 1, 1, FAULT_REORDER);
	struct fault_rule hold = test_rule("h", HOST_CLIENT, 0, 0, 1, 1, FAULT_HOLD);
	struct fault_rule delay = test_rule("d", HOST_CLIENT, 0, 0, 1, 1, FAULT_DELAY);
	struct seg fin = test_seg(SEG_FIN | SEG_ACK, 0), ack = test_seg(SEG_ACK, 0);

	(void)state;
	assert_true(fault_rule_released_by_segment(&reorder, HOST_CLIENT, &ack));
	assert_false(fault_rule_released_by_segment(&reorder, HOST_SERVER, &ack));
	hold.until = FAULT_UNTIL_SEGMENT;
	hold.until_host = HOST_SERVER;
	hold.until_mask = 0xff;
	hold.until_value = SEG_FIN | SEG_ACK;
	assert_true(fault_rule_released_by_segment(&hold, HOST_SERVER, &fin));
	assert_false(fault_rule_released_by_segment(&hold, HOST_SERVER, &ack));
	assert_false(fault_rule_released_by_segment(&hold, HOST_CLIENT, &fin));
	hold.until = FAULT_UNTIL_STEP;
	assert_false(fault_rule_released_by_segment(&hold, HOST_SERVER, &fin));
	assert_false(fault_rule_released_by_segment(&delay, HOST_CLIENT, &fin));
	assert_false(fault_rule_released_by_segment(NULL, HOST_CLIENT, &fin));
}

/* hold until a state: only that host reaching that state lets go */
/* Each leg's interceptor decides only with its own rules; the set counts
 * each rule's occurrences on its leg alone. */
static void test_legs(void **state)
{
	struct fault_rule r[2] = { test_rule("a", HOST_CLIENT, 0, 0, 1, 1, FAULT_DROP),
				   test_rule("b", HOST_CLIENT, 0, 0, 2, 1, FAULT_DELAY) };
	struct fault_set *fs;
	struct seg s = test_seg(SEG_ACK, 0);
	struct fault_decision d;

	(void)state;
	r[1].leg = FAULT_LEG_B;
	fs = test_set(r, 2);
	assert_true(fault_set_uses_leg(fs, FAULT_LEG_A));
	assert_true(fault_set_uses_leg(fs, FAULT_LEG_B));
	/* the segment on wire-a: only 'a' sees it */
	d = fault_set_decide_leg(fs, FAULT_LEG_A, HOST_CLIENT, &s, NULL);
	assert_int_equal(d.action, FAULT_DROP);
	assert_int_equal(d.rule, 0);
	assert_int_equal(fault_set_matched(fs, 1), 0);
	/* on wire-b: 'b' counts its first, acts on its second */
	d = fault_set_decide_leg(fs, FAULT_LEG_B, HOST_CLIENT, &s, NULL);
	assert_int_equal(d.action, FAULT_PASS);
	d = fault_set_decide_leg(fs, FAULT_LEG_B, HOST_CLIENT, &s, NULL);
	assert_int_equal(d.action, FAULT_DELAY);
	assert_int_equal(d.rule, 1);
	assert_int_equal(fault_set_matched(fs, 0), 1);
	fault_set_free(fs);
	fs = test_set(r, 1);
	assert_false(fault_set_uses_leg(fs, FAULT_LEG_B));
	fault_set_free(fs);
	assert_string_equal(fault_leg_name(FAULT_LEG_B), "wire-b");
	assert_int_equal(fault_leg_parse("wire-a"), FAULT_LEG_A);
	assert_int_equal(fault_leg_parse("wire"), -1);
}

static void test_release_by_state(void **state)
{
	struct fault_rule hold = test_rule("h", HOST_CLIENT, 0, 0, 1, 1, FAULT_HOLD);
	struct fault_rule delay = test_rule("d", HOST_CLIENT, 0, 0, 1, 1, FAULT_DELAY);

	(void)state;
	hold.until = FAULT_UNTIL_STATE;
	hold.until_host = HOST_SERVER;
	hold.until_state = FW_TCP_CLOSE_WAIT;
	assert_true(fault_rule_released_by_state(&hold, HOST_SERVER, FW_TCP_CLOSE_WAIT));
	assert_false(fault_rule_released_by_state(&hold, HOST_CLIENT, FW_TCP_CLOSE_WAIT));
	assert_false(fault_rule_released_by_state(&hold, HOST_SERVER, FW_TCP_LAST_ACK));
	hold.until = FAULT_UNTIL_STEP;
	assert_false(fault_rule_released_by_state(&hold, HOST_SERVER, FW_TCP_CLOSE_WAIT));
	delay.until_host = HOST_SERVER;
	delay.until_state = FW_TCP_CLOSE_WAIT;
	assert_false(fault_rule_released_by_state(&delay, HOST_SERVER, FW_TCP_CLOSE_WAIT));
	assert_false(fault_rule_released_by_state(NULL, HOST_SERVER, FW_TCP_CLOSE_WAIT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_match_connection),
		cmocka_unit_test(test_empty_set_and_null),
		cmocka_unit_test(test_nth_count_window),
		cmocka_unit_test(test_window_starts_late),
		cmocka_unit_test(test_count_zero_means_all),
		cmocka_unit_test(test_count_no_overflow),
		cmocka_unit_test(test_nth_zero_is_first),
		cmocka_unit_test(test_flags_mask_vs_exact),
		cmocka_unit_test(test_mask_zero_matches_all),
		cmocka_unit_test(test_value_outside_mask),
		cmocka_unit_test(test_payload_filter),
		cmocka_unit_test(test_sender_filter),
		cmocka_unit_test(test_disarmed),
		cmocka_unit_test(test_first_rule_wins_both_count),
		cmocka_unit_test(test_gso_safe),
		cmocka_unit_test(test_gso_cut),
		cmocka_unit_test(test_lookup_and_copy),
		cmocka_unit_test(test_action_parse_round_trip),
		cmocka_unit_test(test_match_relative_seq),
		cmocka_unit_test(test_match_sender_state),
		cmocka_unit_test(test_decision_times),
		cmocka_unit_test(test_release_by_segment),
		cmocka_unit_test(test_release_by_state),
		cmocka_unit_test(test_legs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
