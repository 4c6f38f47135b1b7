/* ladder: a case's timeline as an SVG sequence ("ladder") diagram.
 *
 * Time runs down. A vertical line per host (client left, server right) and,
 * when a fault acted, one for the wire in between. Every event of the
 * timeline gets its own row, so nothing drawn at the same moment overlaps;
 * the gap between rows grows with the log of the time between them, so a
 * 200 ms RTO stands out from a 50 us veth hop without pushing the rest off
 * the page. A segment is one arrow from its sent copy to its received copy
 * (both captured), through the wire when a fault acted on it: stopped with
 * a cross when it never arrived, with a bar along the wire while it was
 * held. Socket states are bands beside their host's line, expectations are
 * marks on the line at the moment they were decided.
 *
 * Pure output: no scripts, no external fonts or images, so the page that
 * embeds it renders offline and the same in every browser. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "sockprobe.h"
#include "util.h"

enum {
	SVG_W = 1440,
	TOP = 64, /* y of the first row: room for the host titles */
	ROW = 17, /* least distance between two rows */
	CLIENT_X = 450,
	SERVER_X = 1060,
	WIRE_X = 755,
	/* with a box captured at both sides: a lane per node */
	WIRE_A_X = 600,
	DUT_X = 755,
	WIRE_B_X = 910,
	BAND_W = 8,
	LANE_GAP = 10,	  /* a socket's band beside the previous one's */
	MAX_LANES = 4,	  /* bands per host; more sockets share the last */
	NOTE_GAP = 56,	  /* from a host line to its notes, past the bands */
	NOTE_CHARS = 50,  /* what fits between the time column and a line */
	LABEL_CHARS = 98, /* a segment label: fits between client and server */
};

/* Fill colours of socket-state bands, by state number (tcp_states.h). */
static const char *const state_colors[FW_TCP_STATE_COUNT] = {
    [FW_TCP_CLOSED] = "#9ca3af", /* gone */
    [FW_TCP_ESTABLISHED] = "#16a34a",
    [FW_TCP_SYN_SENT] = "#60a5fa",
    [FW_TCP_SYN_RECV] = "#93c5fd",
    [FW_TCP_FIN_WAIT_1] = "#f59e0b",
    [FW_TCP_FIN_WAIT_2] = "#fbbf24",
    [FW_TCP_TIME_WAIT] = "#7c3aed",
    [FW_TCP_CLOSE] = "#6b7280",
    [FW_TCP_CLOSE_WAIT] = "#ef4444",
    [FW_TCP_LAST_ACK] = "#f97316",
    [FW_TCP_LISTEN] = "#0ea5e9",
    [FW_TCP_CLOSING] = "#db2777",
    [FW_TCP_NEW_SYN_RECV] = "#a5b4fc",
};

const char *report_state_color(int state)
{
	if (state < 0 || (size_t)state >= sizeof(state_colors) / sizeof(state_colors[0]))
		return "#d1d5db";
	return state_colors[state];
}

/* One segment: its sent copy and, when seen, what became of it. With a
 * box, also its copy going into the box and coming out; a segment the box
 * made starts at the box (send is its copy coming out). */
struct arrow {
	size_t send;
	long fault, release, arrive; /* event indexes, -1 when none */
	long into, out;
	bool made;
};

struct ladder {
	const struct timeline *tl;
	double *y; /* row of every event */
	double height;
	bool wire;
	bool box; /* segments were captured at the box: lanes wire-a, dut, wire-b */
	struct arrow *arrows;
	size_t narrows;
	long *extra; /* received copies no sent copy accounts for (duplicates) */
	size_t nextra;
};

static bool seg_same(const struct seg *a, const struct seg *b)
{
	return a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
	       a->ack == b->ack && a->flags == b->flags && a->len == b->len &&
	       a->has_ts == b->has_ts && (!a->has_ts || a->tsval == b->tsval);
}

static double host_x(const struct ladder *L, enum fw_host h)
{
	switch (h) {
	case HOST_CLIENT:
		return CLIENT_X;
	case HOST_SERVER:
		return SERVER_X;
	case HOST_WIRE:
		return L->box ? WIRE_A_X : L->wire ? WIRE_X : (CLIENT_X + SERVER_X) / 2.0;
	case HOST_DUT: /* without captures at the box, its notes go on the wire's line */
		return L->box ? DUT_X : L->wire ? WIRE_X : (CLIENT_X + SERVER_X) / 2.0;
	}
	return CLIENT_X;
}

/* The line of the wire a fault acted in. */
static double wire_x(const struct ladder *L, enum fault_leg side)
{
	if (!L->box)
		return WIRE_X;
	return side == FAULT_LEG_A ? WIRE_A_X : WIRE_B_X;
}

/* The wire on a host's side of the box. */
static enum fault_leg near_side(enum fw_host h)
{
	return h == HOST_SERVER ? FAULT_LEG_B : FAULT_LEG_A;
}

/* The same numbers: a box that translates addresses and ports keeps them. */
static bool seg_same_numbers(const struct seg *a, const struct seg *b)
{
	return a->seq == b->seq && a->ack == b->ack && a->flags == b->flags && a->len == b->len;
}

static enum fw_host peer_of(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

/* Rows: at least ROW apart, plus a gap that grows with log(time between). */
static void rows_place(struct ladder *L)
{
	const struct timeline *tl = L->tl;
	double y = TOP;
	size_t i;

	for (i = 0; i < tl->n; i++) {
		if (i > 0) {
			double dt_us = (double)(tl->ev[i].t_ns - tl->ev[i - 1].t_ns) / 1000.0;

			y += ROW + 14.0 * log10(1.0 + (dt_us > 0 ? dt_us : 0) / 200.0);
			/* A failed expectation's note takes two lines. */
			if (tl->ev[i - 1].kind == EV_EXPECT && !tl->ev[i - 1].pass)
				y += ROW;
		}
		L->y[i] = y;
	}
	L->height = y + 40 + ROW;
}

/* The first arrow that pred accepts for event e, or NULL. */
typedef bool (*arrow_pred)(const struct ladder *L, const struct arrow *a, const struct fw_event *e);

static struct arrow *arrow_find(struct ladder *L, const struct fw_event *e, arrow_pred pred)
{
	size_t i;

	for (i = 0; i < L->narrows; i++) {
		struct arrow *a = &L->arrows[i];
		const struct fw_event *s = &L->tl->ev[a->send];

		if (s->host == e->host && pred(L, a, e))
			return a;
	}
	return NULL;
}

/* A fault past the box (on the far side) met the copy that came out of it. */
static bool takes_fault(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	const struct fw_event *s = &L->tl->ev[a->send];

	if (a->fault >= 0 || a->made)
		return false;
	if (L->box && e->side != near_side(s->host))
		return a->out >= 0 && seg_same(&L->tl->ev[a->out].seg, &e->seg);
	return seg_same(&s->seg, &e->seg);
}

/* Into the box on the sender's side, unless a fault there dropped it. */
static bool takes_into(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	const struct fw_event *f = a->fault >= 0 ? &L->tl->ev[a->fault] : NULL;

	return !a->made && a->into < 0 && seg_same(&L->tl->ev[a->send].seg, &e->seg) &&
	       !(f && f->action == FAULT_DROP && f->side == e->side);
}

/* One connection, when the harness knew both copies' (a box that
 * translated ports keeps it one flow; results without flows: any). */
static bool same_flow(const struct fw_event *a, const struct fw_event *b)
{
	return !a->flow || !b->flow || a->flow == b->flow;
}

/* Out of the box on the far side, with the numbers it went in with, of
 * the same connection under whatever ports the box gave it. */
static bool takes_out(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	return !a->made && a->into >= 0 && a->out < 0 && L->tl->ev[a->into].side != e->side &&
	       same_flow(&L->tl->ev[a->into], e) && seg_same_numbers(&L->tl->ev[a->into].seg, &e->seg);
}

static bool takes_release(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	return a->fault >= 0 && a->release < 0 && L->tl->ev[a->fault].rule == e->rule &&
	       seg_same(&L->tl->ev[a->fault].seg, &e->seg);
}

/* A dropped copy never arrives: a retransmission identical to it (no
 * timestamps) is what did. */
static bool takes_arrival(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	long from = a->send;

	if (L->box) { /* only what came out of the box can arrive */
		from = a->made ? (long)a->send : a->out;
		if (from < 0)
			return false;
	}
	return a->arrive < 0 && seg_same(&L->tl->ev[from].seg, &e->seg) &&
	       (a->fault < 0 || L->tl->ev[a->fault].action != FAULT_DROP);
}

/* A fault that changed the segment on its way (a rewrite): the copy that
 * arrived differs, so only the connection and the order tie them. */
static bool takes_changed(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	const struct seg *s = &L->tl->ev[a->send].seg;

	return !L->box && a->arrive < 0 && a->fault >= 0 && s->sport == e->seg.sport &&
	       s->dport == e->seg.dport;
}

static int arrows_pair(struct ladder *L)
{
	const struct timeline *tl = L->tl;
	long *pending;
	size_t i, npending = 0;
	struct arrow *a;

	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];

		if (e->kind == EV_SEGMENT && e->leg == HOST_DUT)
			L->box = true;
		if (e->kind == EV_SEGMENT && e->sent)
			L->arrows[L->narrows++] = (struct arrow){i, -1, -1, -1, -1, -1, false};
		else if (e->kind == EV_SEGMENT && e->leg == HOST_DUT && timeline_box_made(tl, i))
			L->arrows[L->narrows++] = (struct arrow){i, -1, -1, -1, -1, -1, true};
	}
	pending = calloc(tl->n + 1, sizeof(*pending));
	if (!pending)
		return -ENOMEM;
	/* In time order, so a retransmission that looks the same as the
	 * original pairs with the later copies. */
	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];

		if (e->kind == EV_FAULT && !e->released) {
			L->wire = true;
			a = arrow_find(L, e, takes_fault);
			if (a)
				a->fault = (long)i;
		} else if (e->kind == EV_FAULT) {
			L->wire = true;
			a = arrow_find(L, e, takes_release);
			if (a)
				a->release = (long)i;
		} else if (e->kind == EV_SEGMENT && e->leg == HOST_DUT) {
			a = arrow_find(L, e, e->into_box ? takes_into : takes_out);
			if (a && e->into_box)
				a->into = (long)i;
			else if (a)
				a->out = (long)i;
		} else if (e->kind == EV_SEGMENT && !e->sent) {
			a = arrow_find(L, e, takes_arrival);
			if (a)
				a->arrive = (long)i;
			else
				pending[npending++] = (long)i;
		}
	}
	for (i = 0; i < npending; i++) {
		a = arrow_find(L, &tl->ev[pending[i]], takes_changed);
		if (a)
			a->arrive = pending[i];
		else
			L->extra[L->nextra++] = pending[i];
	}
	free(pending);
	return 0;
}

/* ---- drawing ----------------------------------------------------------------- */

/* Append ", "-separated text to buf. */
static void append_text(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append_text(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used && used + 2 < len) {
		memcpy(buf + used, ", ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* At most max bytes of s, cut on a UTF-8 boundary, "…" when cut. */
static void text_put(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s);
	char buf[512];

	if (n <= max) {
		report_xml_puts(f, s);
		return;
	}
	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	memcpy(buf, s, max);
	buf[max] = '\0';
	report_xml_puts(f, buf);
	fputs("\xe2\x80\xa6", f);
}

static void title_put(FILE *f, const char *s)
{
	fputs("<title>", f);
	report_xml_puts(f, s);
	fputs("</title>", f);
}

/* A segment's text without "[injected ]src > dst ": the arrow says that. */
static const char *seg_label(const char *text)
{
	const char *p = strstr(text, " > ");

	if (!p)
		return text;
	p = strchr(p + 3, ' ');
	return p ? p + 1 : text;
}

/* Notes go on the far side of a host's line: left of the client, right of
 * the server and the wire. */
static void note_at(FILE *f, double x, bool left, double y, const char *cls, const char *text)
{
	fprintf(f, "<text class=\"note %s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x,
		y + 3.5, left ? "end" : "start");
	text_put(f, text, NOTE_CHARS);
	title_put(f, text);
	fputs("</text>\n", f);
}

static void note_put(FILE *f, const struct ladder *L, enum fw_host h, double y, const char *cls,
		     const char *text)
{
	bool left = h == HOST_CLIENT;
	bool mid = h == HOST_WIRE || h == HOST_DUT;

	note_at(f, host_x(L, h) + (mid ? 10 : left ? -NOTE_GAP : NOTE_GAP), left, y, cls, text);
}

/* Fault and release notes keep what precedes the segment ("fault 'x' drop #1"). */
static void fault_note(FILE *f, const struct ladder *L, const struct fw_event *e, double y)
{
	char head[128];

	snprintf(head, sizeof(head), "%.*s", (int)strcspn(e->text, ":"), e->text);
	fprintf(f, "<g class=\"fault\">");
	note_at(f, wire_x(L, e->side) + 10, false, y, e->released ? "release" : "act", head);
	fputs("</g>\n", f);
}

/* What the box changed between the copy that went in and the one that
 * came out ("sport 40001->50000, src 198.18.1.2->198.18.4.2"); "" if nothing. */
static void box_changes(const struct seg *in, const struct seg *out, char *buf, size_t len)
{
	char a[64], b[64];

	buf[0] = '\0';
	if (!fw_addr_equal(&in->src, &out->src)) {
		fw_addr_format(&in->src, a, sizeof(a));
		fw_addr_format(&out->src, b, sizeof(b));
		append_text(buf, len, "src %s->%s", a, b);
	}
	if (!fw_addr_equal(&in->dst, &out->dst)) {
		fw_addr_format(&in->dst, a, sizeof(a));
		fw_addr_format(&out->dst, b, sizeof(b));
		append_text(buf, len, "dst %s->%s", a, b);
	}
	if (in->sport != out->sport)
		append_text(buf, len, "sport %u->%u", in->sport, out->sport);
	if (in->dport != out->dport)
		append_text(buf, len, "dport %u->%u", in->dport, out->dport);
	if (in->win != out->win)
		append_text(buf, len, "win %u->%u", in->win, out->win);
}

/* The points of a segment's way, in order: sender, a fault on the near
 * wire, into the box, out of it, a fault on the far wire, the receiver. */
struct way {
	double x[8], y[8];
	int n;
};

static void way_add(struct way *w, double x, double y)
{
	if (w->n < 8) {
		w->x[w->n] = x;
		w->y[w->n] = y;
		w->n++;
	}
}

static void way_fault(struct way *w, const struct ladder *L, const struct arrow *a)
{
	double x = wire_x(L, L->tl->ev[a->fault].side);

	way_add(w, x, L->y[a->fault]);
	if (a->release >= 0)
		way_add(w, x, L->y[a->release]);
}

static void arrow_draw(FILE *f, const struct ladder *L, const struct arrow *a)
{
	const struct fw_event *s = &L->tl->ev[a->send];
	const struct fw_event *fe = a->fault >= 0 ? &L->tl->ev[a->fault] : NULL;
	double x1 = a->made ? DUT_X : host_x(L, s->host), x2 = host_x(L, peer_of(s->host));
	double ys = L->y[a->send], dir = x2 > x1 ? 1 : -1, stop_x, stop_y;
	bool near_fault = fe && (!L->box || fe->side == near_side(s->host));
	bool arrived = a->arrive >= 0, dropped = fe && fe->action == FAULT_DROP && !arrived;
	bool unseen = !arrived && !dropped;
	struct way w = { .n = 0 };
	char changed[160] = "";
	int i;

	way_add(&w, x1, ys);
	if (near_fault)
		way_fault(&w, L, a);
	if (L->box && !a->made && a->into >= 0) {
		way_add(&w, DUT_X, L->y[a->into]);
		if (a->out >= 0)
			way_add(&w, DUT_X, L->y[a->out]);
	}
	if (fe && !near_fault)
		way_fault(&w, L, a);
	if (arrived) {
		way_add(&w, x2, L->y[a->arrive]);
	} else if (w.n == 1) {
		/* seen nowhere past its sender: drawn to the first line on its way,
		 * never to the receiver */
		way_add(&w, L->box ? wire_x(L, near_side(s->host)) :
			    L->wire ? WIRE_X : (x1 + x2) / 2.0, ys);
	}
	stop_x = w.x[w.n - 1];
	stop_y = w.y[w.n - 1];
	/* "made seg": one arrow per segment a host sent is "seg ..." */
	fprintf(f, "<g class=\"%sseg%s%s%s%s\">", a->made ? "made " : "",
		s->injected ? " injected" : "", dropped ? " dropped" : "",
		a->release >= 0 ? " held" : "", unseen ? " unseen" : "");
	title_put(f, s->text);
	fputs("<polyline points=\"", f);
	for (i = 0; i < w.n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", w.x[i], w.y[i]);
	fprintf(f, "\"%s/>", arrived ? " marker-end=\"url(#head)\"" : "");
	if (a->release >= 0) { /* the hold, along the wire */
		double hx = wire_x(L, fe->side);

		fprintf(f, "<rect class=\"hold\" x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"%.1f\"/>",
			hx - 3, L->y[a->fault], L->y[a->release] - L->y[a->fault]);
	}
	if (!arrived) /* where it stopped: a cross, dropped or never seen further */
		fprintf(f, "<path class=\"cross%s\" d=\"M%.1f,%.1f l10,10 m0,-10 l-10,10\"/>",
			dropped ? "" : " lost", stop_x - 5, stop_y - 5);
	if (L->box && a->into >= 0 && a->out >= 0)
		box_changes(&L->tl->ev[a->into].seg, &L->tl->ev[a->out].seg, changed,
			    sizeof(changed));
	if (changed[0]) {
		char note[200];

		snprintf(note, sizeof(note), "box rewrote: %s", changed);
		note_at(f, DUT_X + 10, false, L->y[a->out], "rewrite", note);
	}
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s%s",
		x1 + 8 * dir, ys - 3, dir > 0 ? "start" : "end", a->made ? "made by the box: " : "",
		s->injected ? "injected " : "");
	text_put(f, seg_label(s->text), LABEL_CHARS);
	fputs("</text></g>\n", f);
}

/* A received copy that no sent copy accounts for: the wire made it. */
static void extra_draw(FILE *f, const struct ladder *L, long i)
{
	const struct fw_event *e = &L->tl->ev[i];
	double x2 = host_x(L, peer_of(e->host)), y = L->y[i];
	double x1 = L->box ? DUT_X : L->wire ? WIRE_X : host_x(L, e->host);

	fprintf(f, "<g class=\"extra\">");
	title_put(f, e->text);
	fprintf(f, "<polyline points=\"%.1f,%.1f %.1f,%.1f\" marker-end=\"url(#head)\"/>", x1,
		y - 8, x2, y);
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
		x1 + (x2 > x1 ? 8 : -8), y - 11, x2 > x1 ? "start" : "end");
	text_put(f, seg_label(e->text), LABEL_CHARS);
	fputs("</text></g>\n", f);
}

struct band_lane {
	enum fw_host host;
	uint16_t sport, dport;
	int state;     /* of the open band; 0 when none is open */
	size_t opened; /* event that opened it */
	int lane;
};

static void band_close(FILE *f, const struct ladder *L, const struct band_lane *b, double y_end)
{
	const struct fw_event *e = &L->tl->ev[b->opened];
	double x = b->host == HOST_CLIENT ? CLIENT_X - 5 - BAND_W - b->lane * LANE_GAP
					  : SERVER_X + 5 + b->lane * LANE_GAP;

	fprintf(
	    f,
	    "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\">",
	    x, L->y[b->opened], BAND_W, y_end - L->y[b->opened], report_state_color(b->state));
	title_put(f, e->text);
	fputs("</rect>\n", f);
}

static int bands_draw(FILE *f, const struct ladder *L)
{
	const struct timeline *tl = L->tl;
	struct band_lane *lanes = calloc(tl->n + 1, sizeof(*lanes));
	int per_host[HOST_COUNT] = {0};
	size_t i, k, n = 0;

	if (!lanes)
		return -ENOMEM;
	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];

		/* the endpoints' sockets only: a proxy's are notes at the box */
		if (e->kind != EV_STATE || e->host == HOST_WIRE || e->host == HOST_DUT)
			continue;
		for (k = 0; k < n; k++)
			if (lanes[k].host == e->host && lanes[k].sport == e->seg.sport &&
			    lanes[k].dport == e->seg.dport)
				break;
		if (k == n) {
			lanes[n] = (struct band_lane){
			    e->host,
			    e->seg.sport,
			    e->seg.dport,
			    0,
			    i,
			    per_host[e->host] < MAX_LANES ? per_host[e->host]++ : MAX_LANES - 1};
			n++;
		}
		if (lanes[k].state)
			band_close(f, L, &lanes[k], L->y[i]);
		lanes[k].state = e->state;
		lanes[k].opened = i;
	}
	for (k = 0; k < n; k++)
		if (lanes[k].state)
			band_close(f, L, &lanes[k], L->height - 24);
	free(lanes);
	return 0;
}

static void mark_draw(FILE *f, const struct ladder *L, const struct fw_event *e, double y)
{
	double x = host_x(L, e->host);
	const char *actual = e->pass ? NULL : strstr(e->text, " (");
	char line[sizeof(e->text)];

	if (e->pass)
		fprintf(f,
			"<g class=\"expect pass\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6.5\"/>"
			"<path d=\"M%.1f,%.1f l2.5,3 l4.5,-6\"/>",
			x, y, x - 3.5, y);
	else
		fprintf(f,
			"<g class=\"expect fail\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6.5\"/>"
			"<path d=\"M%.1f,%.1f l6,6 m0,-6 l-6,6\"/>",
			x, y, x - 3, y - 3);
	/* "FAIL: expected (actual)": the actual part on a line of its own. */
	snprintf(line, sizeof(line), "%.*s",
		 actual ? (int)(actual - e->text) : (int)strlen(e->text), e->text);
	note_put(f, L, e->host, y, e->pass ? "pass" : "fail", line);
	if (actual)
		note_put(f, L, e->host, y + ROW - 3, "fail", actual + 1);
	fputs("</g>\n", f);
}

/* Where each host is: the first address it sent from. */
static void titles_draw(FILE *f, const struct ladder *L)
{
	static const enum fw_host hosts[] = {HOST_CLIENT, HOST_SERVER};
	char addr[64];
	size_t i, k;

	for (k = 0; k < 2; k++) {
		addr[0] = '\0';
		for (i = 0; i < L->tl->n && !addr[0]; i++)
			if (L->tl->ev[i].kind == EV_SEGMENT && L->tl->ev[i].sent &&
			    !L->tl->ev[i].injected && L->tl->ev[i].host == hosts[k])
				fw_addr_format(&L->tl->ev[i].seg.src, addr, sizeof(addr));
		fprintf(f,
			"<text class=\"host\" x=\"%.1f\" y=\"22\" text-anchor=\"middle\">%s</text>",
			host_x(L, hosts[k]), fw_host_name(hosts[k]));
		fprintf(
		    f,
		    "<text class=\"addr\" x=\"%.1f\" y=\"38\" text-anchor=\"middle\">%s</text>\n",
		    host_x(L, hosts[k]), addr);
	}
	if (L->box) {
		static const struct {
			int x;
			const char *name, *what;
		} lanes[] = { { WIRE_A_X, "wire-a", "box side captured" },
			      { DUT_X, "dut", "device under test" },
			      { WIRE_B_X, "wire-b", "box side captured" } };

		for (k = 0; k < sizeof(lanes) / sizeof(lanes[0]); k++)
			fprintf(f,
				"<text class=\"host\" x=\"%d\" y=\"22\" text-anchor=\"middle\">%s</text>"
				"<text class=\"addr\" x=\"%d\" y=\"38\" text-anchor=\"middle\">%s</text>"
				"<line class=\"wire\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>\n",
				lanes[k].x, lanes[k].name, lanes[k].x, lanes[k].what, lanes[k].x,
				lanes[k].x, L->height - 20);
	} else if (L->wire) {
		fprintf(f,
			"<text class=\"host\" x=\"%d\" y=\"22\" text-anchor=\"middle\">wire</text>"
			"<text class=\"addr\" x=\"%d\" y=\"38\" text-anchor=\"middle\">NFQUEUE "
			"faults</text>\n",
			WIRE_X, WIRE_X);
	}
	fprintf(f, "<line class=\"host\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>", CLIENT_X,
		CLIENT_X, L->height - 20);
	fprintf(f, "<line class=\"host\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>\n", SERVER_X,
		SERVER_X, L->height - 20);
	if (L->wire && !L->box)
		fprintf(f, "<line class=\"wire\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>\n",
			WIRE_X, WIRE_X, L->height - 20);
}

/* "client conn :1 > :2 FIN_WAIT_1" -> "conn :1 > :2 FIN_WAIT_1": the
 * column already says whose. */
static const char *without_host(const struct fw_event *e)
{
	const char *h = fw_host_name(e->host);
	size_t n = strlen(h);

	return strncmp(e->text, h, n) == 0 && e->text[n] == ' ' ? e->text + n + 1 : e->text;
}

static void rows_draw(FILE *f, const struct ladder *L)
{
	const struct timeline *tl = L->tl;
	char t[32];
	size_t i;

	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];
		double y = L->y[i];

		if (e->kind != EV_SEGMENT || e->sent) {
			fw_duration_format(e->t_ns, t, sizeof(t));
			fprintf(f,
				"<text class=\"time\" x=\"62\" y=\"%.1f\" "
				"text-anchor=\"end\">%s</text>\n",
				y + 3.5, t);
		}
		switch (e->kind) {
		case EV_STEP:
			fprintf(f, "<g class=\"step\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>",
				host_x(L, e->host), y);
			note_put(f, L, e->host, y, "step", e->text);
			fputs("</g>\n", f);
			break;
		case EV_INJECT:
			note_put(f, L, e->host, y, "inject", e->text);
			break;
		case EV_STATE:
			note_put(f, L, e->host, y, "state", without_host(e));
			break;
		case EV_FAULT:
			fault_note(f, L, e, y);
			break;
		case EV_EXPECT:
			mark_draw(f, L, e, y);
			break;
		case EV_SEGMENT:
			break;
		}
	}
}

int report_ladder_write(FILE *f, const struct timeline *tl)
{
	struct ladder L = {.tl = tl};
	int ret = -ENOMEM;
	size_t i;

	L.y = calloc(tl->n + 1, sizeof(*L.y));
	L.arrows = calloc(tl->n + 1, sizeof(*L.arrows));
	L.extra = calloc(tl->n + 1, sizeof(*L.extra));
	if (!L.y || !L.arrows || !L.extra)
		goto out;
	rows_place(&L);
	ret = arrows_pair(&L);
	if (ret < 0)
		goto out;
	fprintf(f,
		"<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"ladder diagram\">\n",
		SVG_W, L.height, SVG_W, L.height);
	fputs("<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
	      "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
	      "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f2937\"/></marker></defs>\n",
	      f);
	titles_draw(f, &L);
	ret = bands_draw(f, &L);
	if (ret < 0)
		goto out;
	rows_draw(f, &L);
	for (i = 0; i < L.narrows; i++)
		arrow_draw(f, &L, &L.arrows[i]);
	for (i = 0; i < L.nextra; i++)
		extra_draw(f, &L, L.extra[i]);
	fputs("</svg>\n", f);
	ret = ferror(f) ? -EIO : 0;
out:
	free(L.extra);
	free(L.arrows);
	free(L.y);
	return ret;
}
