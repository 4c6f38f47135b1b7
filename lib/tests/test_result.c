/* Unit tests of result and timeline: the JSON a case process hands to the
 * harness must come back field for field, and the timeline sorts stably.
 * Pure logic: no namespaces, no root. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "result.h"
#include "timeline.h"
#include "util.h"

static struct fw_addr addr(int family, const char *text)
{
	struct fw_addr a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	assert_int_equal(inet_pton(family, text, a.bytes), 1);
	return a;
}

/* A segment from client to server (or back), with every field the schema carries set. */
static struct seg seg_of(int family, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct fw_addr c =
	    family == AF_INET ? addr(AF_INET, "198.18.1.2") : addr(AF_INET6, "2001:2:0:1::2");
	struct fw_addr s =
	    family == AF_INET ? addr(AF_INET, "198.18.2.2") : addr(AF_INET6, "2001:2:0:2::2");
	struct seg g;

	memset(&g, 0, sizeof(g));
	g.src = from_client ? c : s;
	g.dst = from_client ? s : c;
	g.sport = from_client ? 40000 : 8080;
	g.dport = from_client ? 8080 : 40000;
	g.seq = seq;
	g.ack = ack;
	g.flags = flags;
	g.win = 502;
	g.len = 0;
	g.ttl = 63;
	g.wscale = -1;
	return g;
}

static void add(struct case_result *r, const struct fw_event *e)
{
	assert_non_null(timeline_add(&r->tl, e));
}

static const uint8_t frame_bytes[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x00, 0x00, 0xc6, 0x12,
    0x01, 0x02, 0xc6, 0x12, 0x02, 0x02, 0x9c, 0x40, 0x1f, 0x90, 0xff, 0xff, 0xff, 0xf0,
    0x00, 0x00, 0x00, 0x01, 0x80, 0x11, 0x01, 0xf6, 0xab, 0xcd, 0x00, 0x00, 0x01, 0x01,
    0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x30, 0x39, 0x00, 0xff,
};

/* One event of every kind, with the values most likely to be mangled:
 * 32-bit sequence numbers near the wrap, TS values above 2^31, errno names,
 * text that needs JSON escaping, IPv4 and IPv6, step -1. */
static void build_result(struct case_result *r)
{
	struct fw_event e;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "time_wait/rst-in-time-wait");
	snprintf(r->path, sizeof(r->path), "cases/time_wait/rst-in-time-wait.yaml");
	snprintf(r->summary, sizeof(r->summary), "An RST at rcv_nxt \"assassinates\" TIME_WAIT");
	snprintf(r->verdict, sizeof(r->verdict), "RFC 1337 hazard H1 \\ still open");
	snprintf(r->claims[0], sizeof(r->claims[0]), "C16");
	snprintf(r->claims[1], sizeof(r->claims[1]), "C03");
	r->nclaims = 2;
	r->status = CASE_FAIL;
	r->duration_ns = 1234567890123LL;
	snprintf(r->message, sizeof(r->message),
		 "step 3: expected R from server within 200 ms, saw nothing\n\tlast: \"F.\"");

	/* 0: an action that failed with an errno */
	memset(&e, 0, sizeof(e));
	e.kind = EV_STEP;
	e.t_ns = 1000;
	e.step = 1;
	e.host = HOST_CLIENT;
	e.err = ECONNREFUSED;
	snprintf(e.text, sizeof(e.text), "client connects to server port 8080");
	add(r, &e);

	/* 1: an action that succeeded */
	memset(&e, 0, sizeof(e));
	e.kind = EV_STEP;
	e.t_ns = 2000;
	e.step = 2;
	e.host = HOST_SERVER;
	e.err = 0;
	snprintf(e.text, sizeof(e.text), "server calls close()");
	add(r, &e);

	/* 2: a captured segment, sent copy, with its raw frame and a TS option */
	memset(&e, 0, sizeof(e));
	e.kind = EV_SEGMENT;
	e.t_ns = 3000;
	e.step = 2;
	e.host = HOST_CLIENT;
	e.seg = seg_of(AF_INET, true, SEG_FIN | SEG_ACK, 0xfffffff0u, 0x00000001u);
	e.seg.has_ts = true;
	e.seg.tsval = 0xdeadbeefu;
	e.seg.tsecr = 12345;
	e.rel_seq = 1001;
	e.rel_ack = 4294967295u;
	e.leg = HOST_CLIENT;
	e.sent = true;
	e.raw = (uint8_t *)frame_bytes;
	e.caplen = sizeof(frame_bytes);
	e.len = 1514;
	e.t_real_ns = 1700000000123456789LL;
	snprintf(e.text, sizeof(e.text), "client > server F. seq 1001 ack 1");
	add(r, &e);

	/* 3: the received copy on the other leg, crafted by the injector, IPv6, no frame */
	memset(&e, 0, sizeof(e));
	e.kind = EV_SEGMENT;
	e.t_ns = 3500;
	e.step = -1;
	e.host = HOST_SERVER;
	e.seg = seg_of(AF_INET6, false, SEG_RST, 7, 0);
	e.seg.len = 20;
	e.seg.win = 65535;
	e.rel_seq = 2;
	e.rel_ack = 0;
	e.leg = HOST_CLIENT;
	e.sent = false;
	e.injected = true;
	e.flow = 3; /* the connection, under any ports a box translated */
	snprintf(e.text, sizeof(e.text), "server > client R seq 2");
	add(r, &e);

	/* 4: the interceptor dropped a segment */
	memset(&e, 0, sizeof(e));
	e.kind = EV_FAULT;
	e.t_ns = 4000;
	e.step = 3;
	e.host = HOST_CLIENT;
	e.seg = seg_of(AF_INET, true, SEG_FIN | SEG_ACK, 1001, 1);
	e.rel_seq = 1001;
	e.rel_ack = 1;
	e.action = FAULT_DROP;
	e.rule = 0;
	snprintf(e.text, sizeof(e.text), "fault 'lose-fin' drop #1: client > server F.");
	add(r, &e);

	/* 5: a delayed segment released after 200 ms */
	memset(&e, 0, sizeof(e));
	e.kind = EV_FAULT;
	e.t_ns = 5000;
	e.step = 3;
	e.host = HOST_SERVER;
	e.seg = seg_of(AF_INET, false, SEG_ACK | SEG_PSH, 1, 1002);
	e.seg.len = 100;
	e.seg.has_ts = true;
	e.seg.tsval = 0x80000000u;
	e.seg.tsecr = 0xffffffffu;
	e.rel_seq = 1;
	e.rel_ack = 1002;
	e.action = FAULT_DELAY;
	e.rule = 1;
	e.released = true;
	e.held_ns = 200 * FW_NS_PER_MS;
	snprintf(e.text, sizeof(e.text), "fault 'slow' released after 200.0ms");
	add(r, &e);

	/* 6: an injected segment */
	memset(&e, 0, sizeof(e));
	e.kind = EV_INJECT;
	e.t_ns = 6000;
	e.step = 4;
	e.host = HOST_SERVER;
	e.seg = seg_of(AF_INET, false, SEG_RST | SEG_ACK, 0x7fffffffu, 0x80000000u);
	e.seg.has_ts = true;
	e.seg.tsval = 1;
	e.seg.tsecr = 0;
	e.rel_seq = 5;
	e.rel_ack = 1003;
	snprintf(e.text, sizeof(e.text), "inject R. from server to client");
	add(r, &e);

	/* 7: a socket state change with its timer */
	memset(&e, 0, sizeof(e));
	e.kind = EV_STATE;
	e.t_ns = 7000;
	e.step = 5;
	e.host = HOST_CLIENT;
	e.state = 6; /* TCP_TIME_WAIT */
	e.timer = 3;
	e.expires_ms = 59999;
	snprintf(e.text, sizeof(e.text), "client 198.18.1.2:40000 TIME_WAIT");
	add(r, &e);

	/* 8, 9: expectations, one passed, one failed */
	memset(&e, 0, sizeof(e));
	e.kind = EV_EXPECT;
	e.t_ns = 8000;
	e.step = 6;
	e.host = HOST_CLIENT;
	e.pass = true;
	snprintf(e.text, sizeof(e.text), "client's socket 'conn' reaches TIME_WAIT");
	add(r, &e);
	e.t_ns = 9000;
	e.step = 7;
	e.host = HOST_SERVER;
	e.pass = false;
	snprintf(e.text, sizeof(e.text), "server sends R within 200.0ms");
	add(r, &e);
}

static void assert_addr_equal(const struct fw_addr *a, const struct fw_addr *b)
{
	assert_int_equal(a->family, b->family);
	assert_true(fw_addr_equal(a, b));
}

/* The segment fields the schema carries (not mss / wscale / sack_ok, which it leaves out). */
static void assert_seg_equal(const struct fw_event *a, const struct fw_event *b)
{
	assert_addr_equal(&a->seg.src, &b->seg.src);
	assert_addr_equal(&a->seg.dst, &b->seg.dst);
	assert_int_equal(a->seg.sport, b->seg.sport);
	assert_int_equal(a->seg.dport, b->seg.dport);
	assert_int_equal(a->seg.seq, b->seg.seq);
	assert_int_equal(a->seg.ack, b->seg.ack);
	assert_int_equal(a->rel_seq, b->rel_seq);
	assert_int_equal(a->rel_ack, b->rel_ack);
	assert_int_equal(a->seg.flags, b->seg.flags);
	assert_int_equal(a->seg.win, b->seg.win);
	assert_int_equal(a->seg.len, b->seg.len);
	assert_int_equal(a->seg.ttl, b->seg.ttl);
	assert_int_equal(a->seg.has_ts, b->seg.has_ts);
	assert_int_equal(a->seg.tsval, b->seg.tsval);
	assert_int_equal(a->seg.tsecr, b->seg.tsecr);
}

static void assert_event_equal(const struct fw_event *a, const struct fw_event *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->t_ns, b->t_ns);
	assert_int_equal(a->step, b->step);
	assert_int_equal(a->host, b->host);
	assert_string_equal(a->text, b->text);
	switch (a->kind) {
	case EV_STEP:
		assert_int_equal(a->err, b->err);
		break;
	case EV_SEGMENT:
		assert_int_equal(a->leg, b->leg);
		assert_int_equal(a->sent, b->sent);
		assert_int_equal(a->injected, b->injected);
		assert_int_equal(a->flow, b->flow);
		assert_seg_equal(a, b);
		assert_int_equal(a->caplen, b->caplen);
		if (a->raw) {
			assert_non_null(b->raw);
			assert_memory_equal(a->raw, b->raw, a->caplen);
			assert_int_equal(a->len, b->len);
			assert_int_equal(a->t_real_ns, b->t_real_ns);
		} else {
			assert_null(b->raw);
		}
		break;
	case EV_FAULT:
		assert_int_equal(a->action, b->action);
		assert_int_equal(a->rule, b->rule);
		assert_int_equal(a->released, b->released);
		assert_int_equal(a->held_ns, b->held_ns);
		assert_seg_equal(a, b);
		break;
	case EV_INJECT:
		assert_seg_equal(a, b);
		break;
	case EV_STATE:
		assert_int_equal(a->state, b->state);
		assert_int_equal(a->timer, b->timer);
		assert_int_equal(a->expires_ms, b->expires_ms);
		break;
	case EV_EXPECT:
		assert_int_equal(a->pass, b->pass);
		break;
	}
}

/* Serialise and parse back: every field of the result and of every event survives. */
static void test_round_trip(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char err[FW_ERRLEN] = "";
	char *json;
	size_t i;

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	build_result(in);
	assert_int_equal(in->tl.n, 10);
	json = result_to_json(in);
	assert_non_null(json);
	assert_int_equal(result_from_json(json, out, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	assert_string_equal(out->name, in->name);
	assert_string_equal(out->path, in->path);
	assert_string_equal(out->summary, in->summary);
	assert_string_equal(out->verdict, in->verdict);
	assert_int_equal(out->nclaims, in->nclaims);
	for (i = 0; i < in->nclaims; i++)
		assert_string_equal(out->claims[i], in->claims[i]);
	assert_int_equal(out->status, in->status);
	assert_int_equal(out->duration_ns, in->duration_ns);
	assert_string_equal(out->message, in->message);
	assert_int_equal(out->tl.n, in->tl.n);
	for (i = 0; i < in->tl.n; i++)
		assert_event_equal(&in->tl.ev[i], &out->tl.ev[i]);

	/* The parsed raw frame is the parser's own copy, not a pointer into the input. */
	assert_ptr_not_equal(out->tl.ev[2].raw, in->tl.ev[2].raw);

	/* Parsing the same JSON twice gives the same result: nothing depends on *out's old
	 * contents. */
	result_clear(out);
	assert_int_equal(result_from_json(json, out, err, sizeof(err)), 0);
	assert_int_equal(out->tl.n, in->tl.n);

	free(json);
	result_clear(in);
	result_clear(out);
	free(in);
	free(out);
}

/* An empty result (no claims, no events, PASS) round-trips too. */
static void test_round_trip_empty(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char err[FW_ERRLEN] = "";
	char *json;

	(void)state;
	snprintf(in->name, sizeof(in->name), "empty");
	in->status = CASE_SKIP;
	snprintf(in->message, sizeof(in->message), "needs tcp_allowed_congestion_control reno");
	json = result_to_json(in);
	assert_non_null(json);
	assert_int_equal(result_from_json(json, out, err, sizeof(err)), 0);
	assert_string_equal(out->name, "empty");
	assert_int_equal(out->status, CASE_SKIP);
	assert_string_equal(out->message, in->message);
	assert_int_equal(out->nclaims, 0);
	assert_int_equal(out->tl.n, 0);
	free(json);
	result_clear(out);
	free(in);
	free(out);
}

/* Every status survives the round trip under its own name. */
static void test_round_trip_statuses(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char err[FW_ERRLEN];
	int s;

	(void)state;
	for (s = CASE_PASS; s <= CASE_ERROR; s++) {
		char *json;

		in->status = (enum case_status)s;
		json = result_to_json(in);
		assert_non_null(json);
		assert_non_null(strstr(json, case_status_name((enum case_status)s)));
		assert_int_equal(result_from_json(json, out, err, sizeof(err)), 0);
		assert_int_equal(out->status, s);
		result_clear(out);
		free(json);
	}
	free(in);
	free(out);
}

static void expect_reject(const char *json, const char *msg_part)
{
	struct case_result *r = calloc(1, sizeof(*r));
	char err[FW_ERRLEN] = "";

	assert_non_null(r);
	assert_int_equal(result_from_json(json, r, err, sizeof(err)), -EINVAL);
	if (!strstr(err, msg_part))
		fail_msg("error '%s' does not contain '%s'", err, msg_part);
	/* A rejected document leaves no half-built timeline behind. */
	assert_null(r->tl.ev);
	assert_int_equal(r->tl.n, 0);
	free(r);
}

/* A result from another schema version is refused with both versions named. */
static void test_wrong_schema(void **state)
{
	(void)state;
	expect_reject("{\"schema\":2,\"name\":\"x\",\"status\":\"PASS\",\"timeline\":[]}",
		      "result has schema 2, expected 1");
	expect_reject("{\"name\":\"x\",\"status\":\"PASS\",\"timeline\":[]}",
		      "result has schema 0, expected 1");
	expect_reject("{\"schema\":\"1\",\"name\":\"x\",\"status\":\"PASS\"}", "expected 1");
}

/* Text that is not JSON, or JSON that is not a result, is refused with a message. */
static void test_malformed(void **state)
{
	(void)state;
	expect_reject("", "result is not JSON");
	expect_reject("{\"schema\":1,", "result is not JSON");
	expect_reject("not json at all", "result is not JSON");
	expect_reject("[1,2,3]", "schema");
	expect_reject("{\"schema\":1,\"status\":\"MAYBE\",\"timeline\":[]}",
		      "result has an unknown status");
	expect_reject("{\"schema\":1,\"status\":\"PASS\","
		      "\"timeline\":[{\"kind\":\"step\"},{\"kind\":\"teleport\"}]}",
		      "result timeline event 1 is malformed");
	expect_reject("{\"schema\":1,\"timeline\":[]}", "unknown status"); /* no status at all */
	/* a frame whose hex is not hex */
	expect_reject("{\"schema\":1,\"status\":\"FAIL\",\"timeline\":[{\"kind\":\"segment\","
		      "\"frame\":{\"hex\":\"zz\",\"len\":1}}]}",
		      "result timeline event 0 is malformed");
}

/* A malformed event after a good one with a frame frees what was built (checked under ASan). */
static void test_malformed_after_frame(void **state)
{
	(void)state;
	expect_reject("{\"schema\":1,\"status\":\"FAIL\",\"timeline\":["
		      "{\"kind\":\"segment\",\"frame\":{\"hex\":\"0102ff\",\"len\":3}},"
		      "{\"kind\":\"nope\"}]}",
		      "result timeline event 1 is malformed");
}

/* Status and event-kind names, and "?" outside the enums. */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(case_status_name(CASE_PASS), "PASS");
	assert_string_equal(case_status_name(CASE_FAIL), "FAIL");
	assert_string_equal(case_status_name(CASE_SKIP), "SKIP");
	assert_string_equal(case_status_name(CASE_ERROR), "ERROR");
	assert_string_equal(case_status_name((enum case_status)17), "?");
	assert_string_equal(ev_kind_name(EV_STEP), "step");
	assert_string_equal(ev_kind_name(EV_SEGMENT), "segment");
	assert_string_equal(ev_kind_name(EV_FAULT), "fault");
	assert_string_equal(ev_kind_name(EV_INJECT), "inject");
	assert_string_equal(ev_kind_name(EV_STATE), "state");
	assert_string_equal(ev_kind_name(EV_EXPECT), "expect");
	assert_string_equal(ev_kind_name((enum ev_kind)99), "?");
}

/* timeline_add copies the raw frame, so the caller's buffer may go away. */
static void test_timeline_add_copies_raw(void **state)
{
	struct timeline tl = {0};
	struct fw_event e, *got;
	uint8_t buf[4] = {1, 2, 3, 4};

	(void)state;
	memset(&e, 0, sizeof(e));
	e.kind = EV_SEGMENT;
	e.raw = buf;
	e.caplen = sizeof(buf);
	got = timeline_add(&tl, &e);
	assert_non_null(got);
	assert_ptr_not_equal(got->raw, buf);
	buf[0] = 99;
	assert_int_equal(tl.ev[0].raw[0], 1);
	timeline_clear(&tl);
	assert_null(tl.ev);
	assert_int_equal(tl.n, 0);
	timeline_clear(&tl); /* clearing twice is harmless */
}

/* Sorting orders by t_ns and keeps the insertion order of equal times (stable), raw frames
 * included. */
static void test_timeline_sort_stable(void **state)
{
	static const int64_t times[] = {30, 10, 20, 10, 30, 0, 10, 20};
	/* expected order of original indexes after a stable sort */
	static const int order[] = {5, 1, 3, 6, 2, 7, 0, 4};
	struct timeline tl = {0};
	size_t i, n = sizeof(times) / sizeof(times[0]);

	(void)state;
	for (i = 0; i < n; i++) {
		struct fw_event e;
		uint8_t b = (uint8_t)(0xa0 + i);

		memset(&e, 0, sizeof(e));
		e.kind = EV_STEP;
		e.t_ns = times[i];
		e.step = (int)i;
		e.raw = &b;
		e.caplen = 1;
		assert_non_null(timeline_add(&tl, &e));
	}
	timeline_sort(&tl);
	assert_int_equal(tl.n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(tl.ev[i].step, order[i]);
		assert_int_equal(tl.ev[i].t_ns, times[order[i]]);
		assert_int_equal(tl.ev[i].raw[0], 0xa0 + order[i]);
		if (i)
			assert_true(tl.ev[i - 1].t_ns <= tl.ev[i].t_ns);
	}
	timeline_clear(&tl);
}

static struct fw_event box_event(enum fw_host sender, enum fault_leg side, bool into, int64_t t,
				  uint32_t seq, uint8_t flags)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.kind = EV_SEGMENT;
	e.t_ns = t;
	e.host = sender;
	e.leg = HOST_DUT;
	e.side = side;
	e.into_box = into;
	e.seg.seq = seq;
	e.seg.flags = flags;
	e.seg.sport = into ? 40001 : 50000; /* ports a NAT changed do not matter */
	return e;
}

/* The box made a segment when nothing with its numbers went into the box
 * on the other side, from the same sender, in the second before. */
static void test_timeline_box_made(void **state)
{
	struct timeline tl = {0};
	struct fw_event e;

	(void)state;
	/* 0: the server's FIN into the box on wire-b; 1: out on wire-a: forwarded */
	e = box_event(HOST_SERVER, FAULT_LEG_B, true, 1000, 7, SEG_FIN | SEG_ACK);
	timeline_add(&tl, &e);
	e = box_event(HOST_SERVER, FAULT_LEG_A, false, 2000, 7, SEG_FIN | SEG_ACK);
	timeline_add(&tl, &e);
	/* 2: an RST out on wire-a that nothing brought in: made */
	e = box_event(HOST_SERVER, FAULT_LEG_A, false, 3000, 0, SEG_RST | SEG_ACK);
	timeline_add(&tl, &e);
	/* 3: the same numbers went in on the same side, not the other: made */
	e = box_event(HOST_SERVER, FAULT_LEG_A, true, 3500, 9, SEG_ACK);
	timeline_add(&tl, &e);
	e = box_event(HOST_SERVER, FAULT_LEG_A, false, 3600, 9, SEG_ACK);
	timeline_add(&tl, &e);
	/* 5: its copy went in more than a second before: made */
	e = box_event(HOST_SERVER, FAULT_LEG_A, false, 1000 + 2 * FW_NS_PER_SEC, 7,
		      SEG_FIN | SEG_ACK);
	timeline_add(&tl, &e);
	assert_false(timeline_box_made(&tl, 0)); /* going in: never the box's */
	assert_false(timeline_box_made(&tl, 1));
	assert_true(timeline_box_made(&tl, 2));
	assert_true(timeline_box_made(&tl, 4));
	assert_true(timeline_box_made(&tl, 5));
	timeline_clear(&tl);
}

/* A segment at the box keeps its side and direction through JSON. */
static void test_round_trip_box_event(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char err[FW_ERRLEN] = "";
	struct fw_event e = box_event(HOST_CLIENT, FAULT_LEG_B, false, 5, 1, SEG_SYN);
	char *json;

	(void)state;
	snprintf(in->name, sizeof(in->name), "box");
	in->status = CASE_PASS;
	timeline_add(&in->tl, &e);
	e = box_event(HOST_SERVER, FAULT_LEG_B, true, 6, 1, SEG_SYN | SEG_ACK);
	timeline_add(&in->tl, &e);
	json = result_to_json(in);
	assert_non_null(json);
	assert_int_equal(result_from_json(json, out, err, sizeof(err)), 0);
	assert_int_equal(out->tl.n, 2);
	assert_int_equal(out->tl.ev[0].leg, HOST_DUT);
	assert_int_equal(out->tl.ev[0].side, FAULT_LEG_B);
	assert_false(out->tl.ev[0].into_box);
	assert_true(out->tl.ev[1].into_box);
	free(json);
	result_clear(in);
	result_clear(out);
	free(in);
	free(out);
}

/* Sorting an empty or one-event timeline, and a long reversed one (past the first grow). */
static void test_timeline_sort_edges(void **state)
{
	struct timeline tl = {0};
	struct fw_event e;
	size_t i;

	(void)state;
	timeline_sort(&tl);
	memset(&e, 0, sizeof(e));
	e.t_ns = 5;
	assert_non_null(timeline_add(&tl, &e));
	timeline_sort(&tl);
	assert_int_equal(tl.ev[0].t_ns, 5);
	timeline_clear(&tl);

	for (i = 0; i < 200; i++) {
		e.t_ns = (int64_t)(200 - i / 2); /* pairs of equal times, descending */
		e.step = (int)i;
		assert_non_null(timeline_add(&tl, &e));
	}
	timeline_sort(&tl);
	for (i = 1; i < tl.n; i++) {
		assert_true(tl.ev[i - 1].t_ns <= tl.ev[i].t_ns);
		if (tl.ev[i - 1].t_ns == tl.ev[i].t_ns)
			assert_true(tl.ev[i - 1].step < tl.ev[i].step);
	}
	timeline_clear(&tl);
}

/* ---- the binary form, case process to harness (result_wire.c) ------------- */

/* Every field survives, the ones JSON does not carry too (SACK blocks, the
 * condition, the lateness), and the frame is the parser's own copy. */
static void test_wire_round_trip(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char err[FW_ERRLEN] = "", *wire, *json_in, *json_out;
	size_t i, len = 0;

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	build_result(in);
	snprintf(in->condition, sizeof(in->condition), "tcp_rfc1337=0");
	in->late.dwell_max_ns = 12345;
	in->late.queued = 7;
	in->late.release_max_ns = 999;
	in->late.wake_max_ns = 4242;
	in->late.step_max_ns = 77;
	in->late_explains = true;
	in->attempts = 3;
	in->tl.ev[2].seg.nsack = 2;
	in->tl.ev[2].late_ns = 5555;
	in->tl.ev[2].seg.sack[1][1] = 0xfffffff0u;
	wire = result_to_wire(in, &len);
	assert_non_null(wire);
	assert_int_equal(result_from_wire(wire, len, out, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(out->condition, in->condition);
	assert_memory_equal(&out->late, &in->late, sizeof(in->late));
	assert_true(out->late_explains);
	assert_int_equal(out->attempts, 3);
	assert_int_equal(out->tl.n, in->tl.n);
	for (i = 0; i < in->tl.n; i++) {
		assert_event_equal(&in->tl.ev[i], &out->tl.ev[i]);
		assert_int_equal(out->tl.ev[i].seg.nsack, in->tl.ev[i].seg.nsack);
		assert_memory_equal(out->tl.ev[i].seg.sack, in->tl.ev[i].seg.sack,
				    sizeof(in->tl.ev[i].seg.sack));
		assert_string_equal(out->tl.ev[i].text, in->tl.ev[i].text);
		assert_int_equal(out->tl.ev[i].late_ns, in->tl.ev[i].late_ns);
	}
	assert_non_null(out->tl.ev[2].raw);
	assert_memory_equal(out->tl.ev[2].raw, in->tl.ev[2].raw, in->tl.ev[2].caplen);
	assert_true((const char *)out->tl.ev[2].raw < wire ||
		    (const char *)out->tl.ev[2].raw >= wire + len);
	/* what a reader gets is the same whichever way the result came */
	json_in = result_to_json(in);
	json_out = result_to_json(out);
	assert_non_null(json_in);
	assert_non_null(json_out);
	assert_string_equal(json_out, json_in);
	free(json_in);
	free(json_out);
	free(wire);
	result_clear(in);
	result_clear(out);
	free(in);
	free(out);
}

static void expect_wire_reject(const char *buf, size_t len, const char *msg_part)
{
	struct case_result *r = calloc(1, sizeof(*r));
	char err[FW_ERRLEN] = "";

	assert_non_null(r);
	assert_int_equal(result_from_wire(buf, len, r, err, sizeof(err)), -EINVAL);
	if (!strstr(err, msg_part))
		fail_msg("error '%s' does not contain '%s'", err, msg_part);
	assert_null(r->tl.ev); /* nothing half-built is left */
	assert_int_equal(r->tl.n, 0);
	free(r);
}

/* A result cut short anywhere (the case process killed while writing), with
 * a byte after its end, not a result at all, or with an event of no known
 * kind is refused, saying which. */
static void test_wire_malformed(void **state)
{
	struct case_result *in = calloc(1, sizeof(*in));
	char *wire, *longer;
	size_t cut, len = 0;
	uint32_t bad_kind = 99;

	(void)state;
	assert_non_null(in);
	build_result(in);
	wire = result_to_wire(in, &len);
	assert_non_null(wire);
	expect_wire_reject(wire, 0, "not a finwave result");
	expect_wire_reject("{\"schema\":1}", 13, "not a finwave result");
	for (cut = 4; cut < len; cut++)
		expect_wire_reject(wire, cut, "cut short");
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, wire, len);
	longer[len] = 0;
	expect_wire_reject(longer, len + 1, "bytes after its end");
	free(longer);
	/* the first event's kind is the first field after the event count,
	 * where a result without events has its end marker */
	{
		struct case_result *head = calloc(1, sizeof(*head));
		size_t hlen = 0;
		char *h;

		assert_non_null(head);
		memcpy(head, in, sizeof(*head));
		memset(&head->tl, 0, sizeof(head->tl));
		h = result_to_wire(head, &hlen); /* no events: the header and the end */
		assert_non_null(h);
		memcpy(wire + hlen - sizeof(uint32_t), &bad_kind, sizeof(bad_kind));
		expect_wire_reject(wire, len, "event 0 of 10");
		free(h);
		free(head);
	}
	free(wire);
	result_clear(in);
	free(in);
}

/* Every byte of an event that is not padding is in the binary form: a field
 * added to struct fw_event and forgotten in result_wire.c's list fails here
 * (found once by hand: a segment's flow). Padding is told apart with GCC's
 * __builtin_clear_padding; other compilers check the count only. */
static void test_wire_covers_every_field(void **state)
{
	uint8_t covered[sizeof(struct fw_event)];
	size_t i, n = 0;

	(void)state;
	result_wire_event_cover(covered);
	for (i = 0; i < sizeof(covered); i++)
		n += covered[i];
	/* at most 7 padding bytes after each of the event's ~50 fields */
	assert_true(n > sizeof(covered) / 2);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
	{
		struct fw_event e;
		const uint8_t *b = (const uint8_t *)&e;

		memset(&e, 0xa5, sizeof(e));
		__builtin_clear_padding(&e);
		for (i = 0; i < sizeof(e); i++)
			if (b[i] && !covered[i])
				fail_msg("byte %zu of struct fw_event is a field the binary result "
					 "(lib/result_wire.c EVENT_FIELDS) does not carry", i);
	}
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_round_trip_empty),
	    cmocka_unit_test(test_round_trip_statuses),
	    cmocka_unit_test(test_wrong_schema),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_malformed_after_frame),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_timeline_add_copies_raw),
	    cmocka_unit_test(test_timeline_sort_stable),
	    cmocka_unit_test(test_timeline_sort_edges),
	    cmocka_unit_test(test_timeline_box_made),
	    cmocka_unit_test(test_round_trip_box_event),
	    cmocka_unit_test(test_wire_round_trip),
	    cmocka_unit_test(test_wire_malformed),
	    cmocka_unit_test(test_wire_covers_every_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
