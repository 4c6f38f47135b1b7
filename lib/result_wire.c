/* result_wire: a case result in binary, from the case process to the
 * harness. Both are the same program (the case process is forked, never
 * exec'd), so each field goes as its own bytes in host order; JSON stays the
 * form for readers (result.c, the JSON report). At 10,000 connections a
 * result is ~157,000 timeline events: as JSON it took 7-9.5 s out and back
 * in, most of it jansson's trees, malloc and sscanf of the frames' hex.
 *
 * Fields are written one by one from one list (never a struct image, whose
 * padding bytes are undefined), so encoding and decoding cannot disagree. */
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define WIRE_MAGIC 0x31575746u /* "FWW1" */
#define WIRE_END 0x444e4557u   /* "WEND": a result cut short lacks it */

/* Every fixed-size field of an event; text and raw go after them. */
#define EVENT_FIELDS(X)                                                                      \
	X(kind) X(t_ns) X(step) X(host) X(seg.src.family) X(seg.src.bytes) X(seg.dst.family) \
	X(seg.dst.bytes) X(seg.sport) X(seg.dport) X(seg.seq) X(seg.ack) X(seg.flags)        \
	X(seg.win) X(seg.len) X(seg.has_ts) X(seg.tsval) X(seg.tsecr) X(seg.has_mss)          \
	X(seg.mss) X(seg.wscale) X(seg.sack_ok) X(seg.nsack) X(seg.sack) X(seg.ttl)           \
	X(rel_seq) X(rel_ack) X(leg) X(side) X(into_box) X(sent) X(injected) X(flow) X(action) \
	X(rule) X(released) X(held_ns) X(state) X(timer) X(expires_ms) X(err) X(pass)         \
	X(late_ns) X(caplen) X(len) X(t_real_ns)

#define RESULT_FIELDS(X)                                                                     \
	X(claims) X(nclaims) X(status) X(duration_ns) X(late.dwell_max_ns) X(late.queued)     \
	X(late.release_max_ns) X(late.wake_max_ns) X(late.step_max_ns) X(late_explains)       \
	X(attempts)

#define RESULT_TEXTS(X) X(name) X(path) X(summary) X(verdict) X(condition) X(message)

struct wbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct wbuf *b, const void *v, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *grown;

		while (cap - b->len < n)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (!grown) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put_u32(struct wbuf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

/* A NUL-terminated text of an array: its length, then its bytes. */
static void put_text(struct wbuf *b, const char *s, size_t size)
{
	size_t n = strnlen(s, size - 1);

	put_u32(b, (uint32_t)n);
	put(b, s, n);
}

struct rbuf {
	const char *p;
	size_t len, off;
};

static int get(struct rbuf *b, void *v, size_t n)
{
	if (b->len - b->off < n)
		return -EINVAL;
	memcpy(v, b->p + b->off, n);
	b->off += n;
	return 0;
}

static int get_text(struct rbuf *b, char *s, size_t size)
{
	uint32_t n;

	if (get(b, &n, sizeof(n)) < 0 || n >= size || get(b, s, n) < 0)
		return -EINVAL;
	s[n] = '\0';
	return 0;
}

char *result_to_wire(const struct case_result *r, size_t *len)
{
	struct wbuf b = { 0 };
	uint64_t n = r->tl.n;
	size_t i;

#define PUT_R(f) put(&b, &r->f, sizeof(r->f));
#define PUT_T(f) put_text(&b, r->f, sizeof(r->f));
#define PUT_E(f) put(&b, &e->f, sizeof(e->f));
	put_u32(&b, WIRE_MAGIC);
	RESULT_TEXTS(PUT_T)
	RESULT_FIELDS(PUT_R)
	put(&b, &n, sizeof(n));
	for (i = 0; i < r->tl.n; i++) {
		const struct fw_event *e = &r->tl.ev[i];
		uint8_t has_raw = e->raw && e->caplen;

		EVENT_FIELDS(PUT_E)
		put_text(&b, e->text, sizeof(e->text));
		put(&b, &has_raw, 1);
		if (has_raw)
			put(&b, e->raw, e->caplen);
	}
	put_u32(&b, WIRE_END);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

void result_wire_event_cover(uint8_t *covered)
{
	struct fw_event e;

#define COVER_E(f)                                                                   \
	{                                                                            \
		size_t at = (size_t)((const char *)&e.f - (const char *)&e), n = sizeof(e.f); \
		memset(covered + at, 1, n);                                          \
	}
	memset(covered, 0, sizeof(e));
	EVENT_FIELDS(COVER_E)
	COVER_E(text)
	COVER_E(raw) /* carried as the frame's bytes */
}

/* The raw frame is left pointing into the buffer: timeline_add copies it. */
static int event_get(struct rbuf *b, struct fw_event *e)
{
	uint8_t has_raw = 0;
	int ret = 0;

#define GET_E(f) ret = ret < 0 ? ret : get(b, &e->f, sizeof(e->f));
	memset(e, 0, sizeof(*e));
	EVENT_FIELDS(GET_E)
	if (ret < 0 || (unsigned)e->kind > EV_EXPECT || get_text(b, e->text, sizeof(e->text)) < 0 ||
	    get(b, &has_raw, 1) < 0 || (has_raw && (!e->caplen || b->len - b->off < e->caplen))) {
		ret = -EINVAL;
		goto out;
	}
	if (has_raw) {
		e->raw = (uint8_t *)(uintptr_t)(b->p + b->off);
		b->off += e->caplen;
	}
out:
	return ret;
}

/* The fewest bytes an event takes: its fields, a text length, the raw flag. */
static size_t event_min_bytes(void)
{
	struct fw_event e;
	size_t n = sizeof(uint32_t) + 1;

#define SIZE_E(f) n += sizeof(e.f);
	EVENT_FIELDS(SIZE_E)
	return n;
}

int result_from_wire(const char *buf, size_t len, struct case_result *r, char *err,
		     size_t errlen)
{
	struct rbuf b = { buf, len, 0 };
	uint32_t magic = 0, end = 0;
	uint64_t n = 0, i;
	int ret = 0;

#define GET_R(f) ret = ret < 0 ? ret : get(&b, &r->f, sizeof(r->f));
#define GET_T(f) ret = ret < 0 ? ret : get_text(&b, r->f, sizeof(r->f));
	memset(r, 0, sizeof(*r));
	if (get(&b, &magic, sizeof(magic)) < 0 || magic != WIRE_MAGIC) {
		ret = fw_err(err, errlen, -EINVAL, "result is not a finwave result (%zu bytes)",
			     len);
		goto out;
	}
	RESULT_TEXTS(GET_T)
	RESULT_FIELDS(GET_R)
	if (ret < 0 || get(&b, &n, sizeof(n)) < 0 || (unsigned)r->status >= CASE_STATUS_COUNT ||
	    r->nclaims > CASE_MAX_LIST || n > (len - b.off) / event_min_bytes()) {
		ret = fw_err(err, errlen, -EINVAL, "result is cut short or malformed in its header");
		goto out;
	}
	/* the whole timeline at once, not 12 doublings of it */
	r->tl.ev = n ? malloc(n * sizeof(*r->tl.ev)) : NULL;
	if (n && !r->tl.ev) {
		ret = fw_err(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	r->tl.cap = n;
	for (i = 0; i < n; i++) {
		struct fw_event e;

		if (event_get(&b, &e) < 0) {
			ret = fw_err(err, errlen, -EINVAL,
				     "result timeline event %llu of %llu is cut short or malformed",
				     (unsigned long long)i, (unsigned long long)n);
			goto out;
		}
		if (!timeline_add(&r->tl, &e)) {
			ret = fw_err(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (get(&b, &end, sizeof(end)) < 0 || end != WIRE_END || b.off != len)
		ret = fw_err(err, errlen, -EINVAL, "result is cut short or has bytes after its end");
out:
	if (ret < 0)
		result_clear(r);
	return ret;
}
