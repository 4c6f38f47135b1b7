/* result: JSON (de)serialisation of a case result with jansson. The field
 * names here are the documented schema (docs/results.schema.json, docs/reports.md). */
#include "result.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockprobe.h"
#include "util.h"

static const char *const status_names[] = {
	[CASE_PASS] = "PASS", [CASE_FAIL] = "FAIL", [CASE_SKIP] = "SKIP", [CASE_ERROR] = "ERROR",
	[CASE_INCONCLUSIVE] = "INCONCLUSIVE",
};

const char *case_status_name(enum case_status s)
{
	return s < CASE_STATUS_COUNT ? status_names[s] : "?";
}

int64_t run_lateness_max(const struct run_lateness *l)
{
	int64_t m = l->dwell_max_ns;

	if (l->release_max_ns > m)
		m = l->release_max_ns;
	if (l->wake_max_ns > m)
		m = l->wake_max_ns;
	if (l->step_max_ns > m)
		m = l->step_max_ns;
	return m;
}

void result_init(struct case_result *r, const struct fw_case *c)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", c->name);
	snprintf(r->path, sizeof(r->path), "%s", c->path);
	snprintf(r->summary, sizeof(r->summary), "%s", c->summary);
	snprintf(r->verdict, sizeof(r->verdict), "%s", c->verdict);
	snprintf(r->condition, sizeof(r->condition), "%s", c->condition);
	memcpy(r->claims, c->claims, sizeof(r->claims));
	r->nclaims = c->nclaims;
}

void result_clear(struct case_result *r)
{
	timeline_clear(&r->tl);
}

static json_t *addr_json(const struct fw_addr *a)
{
	char buf[64];

	fw_addr_format(a, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *seg_json(const struct fw_event *e)
{
	char flags[16];
	json_t *o;

	seg_flags_format(e->seg.flags, flags, sizeof(flags));
	o = json_pack("{s:o,s:o,s:i,s:i,s:I,s:I,s:I,s:I,s:s,s:i,s:I,s:i}", "src",
		      addr_json(&e->seg.src), "dst", addr_json(&e->seg.dst), "sport", e->seg.sport,
		      "dport", e->seg.dport, "seq", (json_int_t)e->seg.seq, "ack",
		      (json_int_t)e->seg.ack, "rel_seq", (json_int_t)e->rel_seq, "rel_ack",
		      (json_int_t)e->rel_ack, "flags", flags, "win", e->seg.win, "len",
		      (json_int_t)e->seg.len, "ttl", e->seg.ttl);
	if (o && e->seg.has_ts)
		json_object_set_new(o, "ts", json_pack("{s:I,s:I}", "val", (json_int_t)e->seg.tsval,
						       "ecr", (json_int_t)e->seg.tsecr));
	/* SYN options: what a reader needs to tell why a handshake went as it did. */
	if (o && e->seg.has_mss)
		json_object_set_new(o, "mss", json_integer(e->seg.mss));
	if (o && e->seg.wscale >= 0)
		json_object_set_new(o, "wscale", json_integer(e->seg.wscale));
	if (o && e->seg.sack_ok)
		json_object_set_new(o, "sack_ok", json_true());
	return o;
}

/* Text from a case file as a JSON string: jansson refuses bytes that are no
 * UTF-8 (a file name in Latin-1 made a passing case's result unsendable,
 * so an ERROR), and a reader should never meet control characters. */
static json_t *text_json(const char *s)
{
	char *clean = fw_text_clean(s, true);
	json_t *j = clean ? json_string(clean) : NULL;

	free(clean);
	return j;
}

static json_t *event_json(const struct fw_event *e)
{
	json_t *o = json_pack("{s:s,s:I,s:i,s:s,s:o}", "kind", ev_kind_name(e->kind), "t_ns",
			      (json_int_t)e->t_ns, "step", e->step, "host", fw_host_name(e->host),
			      "text", text_json(e->text));

	if (!o)
		return NULL;
	if (e->late_ns)
		json_object_set_new(o, "late_ns", json_integer(e->late_ns));
	switch (e->kind) {
	case EV_STEP:
		json_object_set_new(o, "result", json_string(fw_errno_name(e->err)));
		/* The number too: an errno outside the name table is "E?" above. */
		json_object_set_new(o, "errno", json_integer(e->err < 0 ? -e->err : e->err));
		break;
	case EV_SEGMENT:
		json_object_set_new(o, "leg", json_string(fw_host_name(e->leg)));
		if (e->leg == HOST_DUT) {
			json_object_set_new(o, "side", json_string(fault_leg_name(e->side)));
			json_object_set_new(o, "into_box", json_boolean(e->into_box));
		}
		json_object_set_new(o, "sent", json_boolean(e->sent));
		json_object_set_new(o, "injected", json_boolean(e->injected));
		if (e->flow) /* the connection, under any ports a box translated */
			json_object_set_new(o, "flow", json_integer(e->flow));
		json_object_set_new(o, "segment", seg_json(e));
		if (e->raw) {
			static const char digits[] = "0123456789abcdef";
			char *hex = malloc(e->caplen * 2 + 1);
			uint32_t i;

			if (hex) {
				/* not sprintf per byte: 3 million calls at 10,000 connections */
				for (i = 0; i < e->caplen; i++) {
					hex[2 * i] = digits[e->raw[i] >> 4];
					hex[2 * i + 1] = digits[e->raw[i] & 15];
				}
				hex[2 * e->caplen] = '\0';
				json_object_set_new(o, "frame", json_pack("{s:s,s:I,s:I}", "hex", hex, "len",
									  (json_int_t)e->len, "t_real_ns",
									  (json_int_t)e->t_real_ns));
				free(hex);
			}
		}
		break;
	case EV_FAULT:
		json_object_set_new(o, "action", json_string(fault_action_name(e->action)));
		json_object_set_new(o, "rule", json_integer(e->rule));
		json_object_set_new(o, "released", json_boolean(e->released));
		json_object_set_new(o, "held_ns", json_integer(e->held_ns));
		if (e->side != FAULT_LEG_A) /* wire-a, the only wire without a box, goes unsaid */
			json_object_set_new(o, "side", json_string(fault_leg_name(e->side)));
		json_object_set_new(o, "segment", seg_json(e));
		break;
	case EV_INJECT:
		json_object_set_new(o, "segment", seg_json(e));
		break;
	case EV_STATE:
		json_object_set_new(o, "state", json_integer(e->state));
		json_object_set_new(o, "state_name", json_string(tcp_state_name(e->state)));
		json_object_set_new(o, "sport", json_integer(e->seg.sport));
		json_object_set_new(o, "dport", json_integer(e->seg.dport));
		json_object_set_new(o, "timer", json_integer(e->timer));
		json_object_set_new(o, "expires_ms", json_integer(e->expires_ms));
		break;
	case EV_EXPECT:
		json_object_set_new(o, "pass", json_boolean(e->pass));
		break;
	}
	return o;
}

json_t *result_json(const struct case_result *r)
{
	json_t *o, *claims, *events;
	size_t i;

	claims = json_array();
	for (i = 0; i < r->nclaims; i++)
		json_array_append_new(claims, text_json(r->claims[i]));
	events = json_array();
	for (i = 0; i < r->tl.n; i++)
		json_array_append_new(events, event_json(&r->tl.ev[i]));
	o = json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:I,s:o,s:o}", "schema",
		      RESULT_SCHEMA_VERSION, "name", text_json(r->name), "path", text_json(r->path),
		      "summary", text_json(r->summary), "verdict", text_json(r->verdict), "condition",
		      text_json(r->condition), "claims", claims, "status", case_status_name(r->status),
		      "duration_ns", (json_int_t)r->duration_ns, "message", text_json(r->message),
		      "timeline", events);
	if (o) {
		const struct run_lateness *l = &r->late;

		json_object_set_new(o, "attempts", json_integer(r->attempts ? r->attempts : 1));
		json_object_set_new(
			o, "lateness",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "max_ns",
				  (json_int_t)run_lateness_max(l), "queue_dwell_max_ns",
				  (json_int_t)l->dwell_max_ns, "queued_segments", (json_int_t)l->queued,
				  "release_error_max_ns", (json_int_t)l->release_max_ns,
				  "wake_max_ns", (json_int_t)l->wake_max_ns, "step_start_max_ns",
				  (json_int_t)l->step_max_ns, "explains_failure", r->late_explains));
	}
	return o;
}

char *result_to_json(const struct case_result *r)
{
	json_t *o = result_json(r);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* ---- parsing back ------------------------------------------------------- */

static void copy_str(json_t *o, const char *key, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(out, len, "%s", s ? s : "");
}

static void addr_parse(const char *s, struct fw_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return;
	if (inet_pton(AF_INET, s, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, a->bytes) == 1)
		a->family = AF_INET6;
}

static void seg_parse_json(json_t *o, struct fw_event *e)
{
	json_t *ts;

	if (!o)
		return;
	addr_parse(json_string_value(json_object_get(o, "src")), &e->seg.src);
	addr_parse(json_string_value(json_object_get(o, "dst")), &e->seg.dst);
	e->seg.sport = (uint16_t)json_integer_value(json_object_get(o, "sport"));
	e->seg.dport = (uint16_t)json_integer_value(json_object_get(o, "dport"));
	e->seg.seq = (uint32_t)json_integer_value(json_object_get(o, "seq"));
	e->seg.ack = (uint32_t)json_integer_value(json_object_get(o, "ack"));
	e->rel_seq = (uint32_t)json_integer_value(json_object_get(o, "rel_seq"));
	e->rel_ack = (uint32_t)json_integer_value(json_object_get(o, "rel_ack"));
	seg_flags_parse(json_string_value(json_object_get(o, "flags")) ?
				json_string_value(json_object_get(o, "flags")) : "none",
			&e->seg.flags);
	e->seg.win = (uint16_t)json_integer_value(json_object_get(o, "win"));
	e->seg.len = (uint32_t)json_integer_value(json_object_get(o, "len"));
	e->seg.ttl = (uint8_t)json_integer_value(json_object_get(o, "ttl"));
	ts = json_object_get(o, "ts");
	if (ts) {
		e->seg.has_ts = true;
		e->seg.tsval = (uint32_t)json_integer_value(json_object_get(ts, "val"));
		e->seg.tsecr = (uint32_t)json_integer_value(json_object_get(ts, "ecr"));
	}
	e->seg.has_mss = json_object_get(o, "mss") != NULL;
	e->seg.mss = (uint16_t)json_integer_value(json_object_get(o, "mss"));
	e->seg.wscale = json_object_get(o, "wscale") ?
				(int8_t)json_integer_value(json_object_get(o, "wscale")) : -1;
	e->seg.sack_ok = json_is_true(json_object_get(o, "sack_ok"));
}

/* By name through fault_action_name(), so a new action needs no change here. */
static enum fault_action action_parse(const char *s)
{
	int a;

	for (a = 0; s && strcmp(fault_action_name((enum fault_action)a), "?") != 0; a++)
		if (strcmp(s, fault_action_name((enum fault_action)a)) == 0)
			return (enum fault_action)a;
	return FAULT_PASS;
}

static int kind_parse(const char *s, enum ev_kind *k)
{
	int i;

	for (i = EV_STEP; i <= EV_EXPECT; i++)
		if (s && strcmp(s, ev_kind_name((enum ev_kind)i)) == 0) {
			*k = (enum ev_kind)i;
			return 0;
		}
	return -EINVAL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *hex, uint8_t **out, uint32_t *len)
{
	size_t n = strlen(hex) / 2, i;
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EINVAL;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = (uint32_t)n;
	return 0;
}

static int event_parse(json_t *o, struct fw_event *e)
{
	json_t *frame;
	enum fw_host h;

	memset(e, 0, sizeof(*e));
	if (kind_parse(json_string_value(json_object_get(o, "kind")), &e->kind) < 0)
		return -EINVAL;
	e->t_ns = json_integer_value(json_object_get(o, "t_ns"));
	e->step = (int)json_integer_value(json_object_get(o, "step"));
	if (fw_host_parse(json_string_value(json_object_get(o, "host")), &h) == 0)
		e->host = h;
	copy_str(o, "text", e->text, sizeof(e->text));
	e->late_ns = json_integer_value(json_object_get(o, "late_ns"));
	switch (e->kind) {
	case EV_STEP:
		e->err = fw_errno_parse(json_string_value(json_object_get(o, "result")) ?
						json_string_value(json_object_get(o, "result")) : "OK");
		if (json_is_integer(json_object_get(o, "errno")))
			e->err = (int)json_integer_value(json_object_get(o, "errno"));
		break;
	case EV_SEGMENT:
		if (fw_host_parse(json_string_value(json_object_get(o, "leg")), &h) == 0)
			e->leg = h;
		if (e->leg == HOST_DUT) {
			int side = fault_leg_parse(json_string_value(json_object_get(o, "side")));

			e->side = side < 0 ? FAULT_LEG_A : (enum fault_leg)side;
			e->into_box = json_is_true(json_object_get(o, "into_box"));
		}
		e->sent = json_is_true(json_object_get(o, "sent"));
		e->injected = json_is_true(json_object_get(o, "injected"));
		e->flow = (uint32_t)json_integer_value(json_object_get(o, "flow"));
		seg_parse_json(json_object_get(o, "segment"), e);
		frame = json_object_get(o, "frame");
		if (frame && json_string_value(json_object_get(frame, "hex"))) {
			if (hex_decode(json_string_value(json_object_get(frame, "hex")), &e->raw,
				       &e->caplen) < 0)
				return -EINVAL;
			e->len = (uint32_t)json_integer_value(json_object_get(frame, "len"));
			e->t_real_ns = json_integer_value(json_object_get(frame, "t_real_ns"));
		}
		break;
	case EV_FAULT:
		e->action = action_parse(json_string_value(json_object_get(o, "action")));
		e->rule = (int)json_integer_value(json_object_get(o, "rule"));
		e->released = json_is_true(json_object_get(o, "released"));
		e->held_ns = json_integer_value(json_object_get(o, "held_ns"));
		{
			int side = fault_leg_parse(json_string_value(json_object_get(o, "side")));

			e->side = side < 0 ? FAULT_LEG_A : (enum fault_leg)side;
		}
		seg_parse_json(json_object_get(o, "segment"), e);
		break;
	case EV_INJECT:
		seg_parse_json(json_object_get(o, "segment"), e);
		break;
	case EV_STATE:
		e->state = (int)json_integer_value(json_object_get(o, "state"));
		e->seg.sport = (uint16_t)json_integer_value(json_object_get(o, "sport"));
		e->seg.dport = (uint16_t)json_integer_value(json_object_get(o, "dport"));
		e->timer = (uint8_t)json_integer_value(json_object_get(o, "timer"));
		e->expires_ms = (uint32_t)json_integer_value(json_object_get(o, "expires_ms"));
		break;
	case EV_EXPECT:
		e->pass = json_is_true(json_object_get(o, "pass"));
		break;
	}
	return 0;
}

int result_from_json(const char *json, struct case_result *r, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o, *arr, *it;
	const char *status;
	size_t i;
	int k, ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	o = json_loads(json, 0, &jerr);
	if (!o)
		return fw_err(err, errlen, -EINVAL, "result is not JSON: %s (line %d)", jerr.text,
			      jerr.line);
	if (json_integer_value(json_object_get(o, "schema")) != RESULT_SCHEMA_VERSION) {
		fw_err(err, errlen, -EINVAL, "result has schema %lld, expected %d",
		       (long long)json_integer_value(json_object_get(o, "schema")),
		       RESULT_SCHEMA_VERSION);
		goto out;
	}
	copy_str(o, "name", r->name, sizeof(r->name));
	copy_str(o, "path", r->path, sizeof(r->path));
	copy_str(o, "summary", r->summary, sizeof(r->summary));
	copy_str(o, "verdict", r->verdict, sizeof(r->verdict));
	copy_str(o, "condition", r->condition, sizeof(r->condition));
	copy_str(o, "message", r->message, sizeof(r->message));
	arr = json_object_get(o, "claims");
	json_array_foreach(arr, i, it) {
		if (r->nclaims < CASE_MAX_LIST)
			snprintf(r->claims[r->nclaims++], sizeof(r->claims[0]), "%s",
				 json_string_value(it) ? json_string_value(it) : "");
	}
	status = json_string_value(json_object_get(o, "status"));
	for (k = CASE_PASS; k < CASE_STATUS_COUNT; k++)
		if (status && strcmp(status, case_status_name((enum case_status)k)) == 0)
			break;
	if (k == CASE_STATUS_COUNT) {
		fw_err(err, errlen, -EINVAL, "result has an unknown status");
		goto out;
	}
	r->status = (enum case_status)k;
	r->duration_ns = json_integer_value(json_object_get(o, "duration_ns"));
	r->attempts = (unsigned)json_integer_value(json_object_get(o, "attempts"));
	{
		json_t *l = json_object_get(o, "lateness");

		r->late.dwell_max_ns = json_integer_value(json_object_get(l, "queue_dwell_max_ns"));
		r->late.queued = (uint32_t)json_integer_value(json_object_get(l, "queued_segments"));
		r->late.release_max_ns = json_integer_value(json_object_get(l, "release_error_max_ns"));
		r->late.wake_max_ns = json_integer_value(json_object_get(l, "wake_max_ns"));
		r->late.step_max_ns = json_integer_value(json_object_get(l, "step_start_max_ns"));
		r->late_explains = json_is_true(json_object_get(l, "explains_failure"));
	}
	arr = json_object_get(o, "timeline");
	json_array_foreach(arr, i, it) {
		struct fw_event e;

		if (event_parse(it, &e) < 0) {
			free(e.raw);
			fw_err(err, errlen, -EINVAL, "result timeline event %zu is malformed", i);
			goto out;
		}
		if (!timeline_add(&r->tl, &e)) {
			free(e.raw);
			fw_err(err, errlen, -ENOMEM, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		free(e.raw);
	}
	ret = 0;
out:
	json_decref(o);
	if (ret < 0)
		result_clear(r);
	return ret;
}
