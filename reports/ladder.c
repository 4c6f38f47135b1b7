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

/* One segment: its sent copy and, when seen, what became of it. */
struct arrow {
	size_t send;
	long fault, release, arrive; /* event indexes, -1 when none */
};

struct ladder {
	const struct timeline *tl;
	double *y; /* row of every event */
	double height;
	bool wire;
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
	case HOST_DUT: /* notes of the box go on the wire's line */
		return L->wire ? WIRE_X : (CLIENT_X + SERVER_X) / 2.0;
	}
	return CLIENT_X;
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

static bool takes_fault(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	return a->fault < 0 && seg_same(&L->tl->ev[a->send].seg, &e->seg);
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
	return a->arrive < 0 && seg_same(&L->tl->ev[a->send].seg, &e->seg) &&
	       (a->fault < 0 || L->tl->ev[a->fault].action != FAULT_DROP);
}

/* A fault that changed the segment on its way (a rewrite): the copy that
 * arrived differs, so only the connection and the order tie them. */
static bool takes_changed(const struct ladder *L, const struct arrow *a, const struct fw_event *e)
{
	const struct seg *s = &L->tl->ev[a->send].seg;

	return a->arrive < 0 && a->fault >= 0 && s->sport == e->seg.sport &&
	       s->dport == e->seg.dport;
}

static int arrows_pair(struct ladder *L)
{
	const struct timeline *tl = L->tl;
	long *pending;
	size_t i, npending = 0;
	struct arrow *a;

	for (i = 0; i < tl->n; i++)
		if (tl->ev[i].kind == EV_SEGMENT && tl->ev[i].sent)
			L->arrows[L->narrows++] = (struct arrow){i, -1, -1, -1};
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
		} else if (e->kind == EV_SEGMENT && !e->sent && e->leg != HOST_DUT) {
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
static void note_put(FILE *f, const struct ladder *L, enum fw_host h, double y, const char *cls,
		     const char *text)
{
	bool left = h == HOST_CLIENT;
	double x = host_x(L, h) + (h == HOST_WIRE ? 10 : left ? -NOTE_GAP : NOTE_GAP);

	fprintf(f, "<text class=\"note %s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x,
		y + 3.5, left ? "end" : "start");
	text_put(f, text, NOTE_CHARS);
	title_put(f, text);
	fputs("</text>\n", f);
}

/* Fault and release notes keep what precedes the segment ("fault 'x' drop #1"). */
static void fault_note(FILE *f, const struct ladder *L, const struct fw_event *e, double y)
{
	char head[128];

	snprintf(head, sizeof(head), "%.*s", (int)strcspn(e->text, ":"), e->text);
	fprintf(f, "<g class=\"fault\">");
	note_put(f, L, HOST_WIRE, y, e->released ? "release" : "act", head);
	fputs("</g>\n", f);
}

static void arrow_draw(FILE *f, const struct ladder *L, const struct arrow *a)
{
	const struct fw_event *s = &L->tl->ev[a->send];
	double x1 = host_x(L, s->host), x2 = host_x(L, peer_of(s->host));
	double ys = L->y[a->send], yw, dir = x2 > x1 ? 1 : -1;
	bool dropped = a->fault >= 0 && a->arrive < 0;
	bool unseen = a->fault < 0 && a->arrive < 0;
	const struct fw_event *fe = a->fault >= 0 ? &L->tl->ev[a->fault] : NULL;

	fprintf(f, "<g class=\"seg%s%s%s%s\">", s->injected ? " injected" : "",
		dropped ? " dropped" : "", a->release >= 0 ? " held" : "", unseen ? " unseen" : "");
	title_put(f, s->text);
	fprintf(f, "<polyline points=\"%.1f,%.1f", x1, ys);
	if (fe) {
		yw = L->y[a->fault];
		fprintf(f, " %.1f,%.1f", (double)WIRE_X, yw);
		if (a->release >= 0) {
			yw = L->y[a->release];
			fprintf(f, " %.1f,%.1f", (double)WIRE_X, yw);
		}
	}
	if (!dropped)
		fprintf(f, " %.1f,%.1f", x2, a->arrive >= 0 ? L->y[a->arrive] : ys);
	fprintf(f, "\"%s/>", dropped ? "" : " marker-end=\"url(#head)\"");
	if (a->release >= 0) /* the hold, along the wire */
		fprintf(f, "<rect class=\"hold\" x=\"%d\" y=\"%.1f\" width=\"6\" height=\"%.1f\"/>",
			WIRE_X - 3, L->y[a->fault], L->y[a->release] - L->y[a->fault]);
	if (dropped) {
		double yc = L->y[a->fault];

		fprintf(f, "<path class=\"cross\" d=\"M%d,%.1f l10,10 m0,-10 l-10,10\"/>",
			WIRE_X - 5, yc - 5);
	}
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s",
		x1 + 8 * dir, ys - 3, dir > 0 ? "start" : "end", s->injected ? "injected " : "");
	text_put(f, seg_label(s->text), LABEL_CHARS);
	fputs("</text></g>\n", f);
}

/* A received copy that no sent copy accounts for: the wire made it. */
static void extra_draw(FILE *f, const struct ladder *L, long i)
{
	const struct fw_event *e = &L->tl->ev[i];
	double x2 = host_x(L, peer_of(e->host)), y = L->y[i];
	double x1 = L->wire ? WIRE_X : host_x(L, e->host);

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

		if (e->kind != EV_STATE || e->host == HOST_WIRE)
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
	if (L->wire)
		fprintf(f,
			"<text class=\"host\" x=\"%d\" y=\"22\" text-anchor=\"middle\">wire</text>"
			"<text class=\"addr\" x=\"%d\" y=\"38\" text-anchor=\"middle\">NFQUEUE "
			"faults</text>\n",
			WIRE_X, WIRE_X);
	fprintf(f, "<line class=\"host\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>", CLIENT_X,
		CLIENT_X, L->height - 20);
	fprintf(f, "<line class=\"host\" x1=\"%d\" y1=\"46\" x2=\"%d\" y2=\"%.1f\"/>\n", SERVER_X,
		SERVER_X, L->height - 20);
	if (L->wire)
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
