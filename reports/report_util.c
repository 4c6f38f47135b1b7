/* report_util: what several writers share: where output goes, XML escaping,
 * the timeline as text, and the tables of writers the harness picks from. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const struct report_ops *const report_stdout_writers[] = {
    &report_console, &report_tap, &report_junit, &report_json, &report_claims, NULL,
};

/* pcap before html: a case page links to its pcap. */
const struct report_ops *const report_dir_writers[] = {
    &report_tap_file, &report_junit_file, &report_json_file, &report_pcap, &report_html, NULL,
};

const struct report_ops *report_stdout_find(const char *name)
{
	size_t i;

	for (i = 0; report_stdout_writers[i]; i++)
		if (strcmp(report_stdout_writers[i]->name, name) == 0)
			return report_stdout_writers[i];
	return NULL;
}

int report_open(const struct report_ctx *ctx, bool to_file, const char *relpath,
		struct report_out *o)
{
	int ret;

	o->f = ctx->out;
	o->own = false;
	if (!to_file)
		return 0;
	if (!ctx->rdir)
		return -EINVAL;
	ret = report_file_create(ctx->rdir, relpath, &o->file);
	if (ret < 0)
		return ret;
	o->f = o->file.f;
	o->own = true;
	return 0;
}

int report_flush(FILE *f)
{
	if (fflush(f) != 0)
		return -errno;
	return ferror(f) ? -EIO : 0; /* an earlier write failed; stdio keeps no errno */
}

int report_close(struct report_out *o)
{
	int ret;

	if (!o->f)
		return 0;
	ret = o->own ? report_file_commit(&o->file) : report_flush(o->f);
	o->f = NULL;
	return ret;
}

void report_abort(struct report_out *o)
{
	if (o->f && o->own)
		report_file_abort(&o->file);
	o->f = NULL;
}

void report_error_print(const struct report_ops *ops, const struct report_ctx *ctx, int ret)
{
	if (ops->to_file && ctx->rdir && report_dir_error(ctx->rdir)[0])
		fprintf(stderr, "finwave: cannot write the %s report: %s\n", ops->name,
			report_dir_error(ctx->rdir));
	else if (ops->to_file)
		fprintf(stderr, "finwave: cannot write the %s report in %s: %s (errno %d)\n",
			ops->name, ctx->dir, strerror(-ret), -ret);
	else
		fprintf(stderr, "finwave: cannot write the %s report to stdout: %s (errno %d)\n",
			ops->name, strerror(-ret), -ret);
}

void report_xml_puts(FILE *f, const char *s)
{
	static const char *const entity[128] = { ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
						  ['"'] = "&quot;" };
	size_t n;

	for (; *s; s += n) {
		long cp = fw_utf8_next(s, &n);

		if (cp >= 0 && cp < 128 && entity[cp])
			fputs(entity[cp], f);
		else if (fw_text_char_ok(cp, true))
			fwrite(s, 1, n, f);
		else /* XML 1.0 forbids it, or it is no UTF-8 at all: the document stays valid */
			fputs(cp < 0 ? "\xef\xbf\xbd" : "?", f);
	}
}

void report_text_puts(FILE *f, const char *s, bool newlines)
{
	size_t n;

	for (; *s; s += n) {
		long cp = fw_utf8_next(s, &n);

		if (fw_text_char_ok(cp, newlines))
			fwrite(s, 1, n, f);
		else
			fputs(cp < 0 ? "\xef\xbf\xbd" : "?", f);
	}
}

void report_timeline_print(FILE *f, const struct timeline *tl, const char *indent)
{
	char t[32];
	size_t i;

	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];

		/* arrivals are implied; at the box, only what it made itself */
		if (e->kind == EV_SEGMENT && !e->sent &&
		    (e->leg != HOST_DUT || !timeline_box_made(tl, i)))
			continue;
		fw_duration_format(e->t_ns, t, sizeof(t));
		fprintf(f, "%s%10s %-7s %s", indent, t, ev_kind_name(e->kind),
			e->kind == EV_SEGMENT && e->leg == HOST_DUT ? "made by the box, " : "");
		report_text_puts(f, e->text, false);
		fputc('\n', f);
	}
}

void report_case_dir(const char *name, char *buf, size_t len)
{
	const char *slash = strrchr(name, '/');

	if (slash)
		snprintf(buf, len, "%.*s", (int)(slash - name), name);
	else
		snprintf(buf, len, "finwave");
}

/* ---- a big timeline's view ---------------------------------------------------- */

/* A connection by its two ports, either way round; 0: none (a listener's
 * state, a step, an expectation). */
static uint32_t view_conn(const struct fw_event *e)
{
	uint16_t a = e->seg.sport, b = e->seg.dport;

	if (e->kind != EV_SEGMENT && e->kind != EV_STATE && e->kind != EV_FAULT &&
	    e->kind != EV_INJECT)
		return 0;
	if (!a || !b)
		return 0;
	return a < b ? ((uint32_t)a << 16) | b : ((uint32_t)b << 16) | a;
}

struct view_set {
	uint32_t *keys;
	size_t cap, n;
};

static size_t view_slot(const struct view_set *s, uint32_t k)
{
	return (size_t)((k * 0x9e3779b1u) >> 8) & (s->cap - 1);
}

static bool view_has(const struct view_set *s, uint32_t k)
{
	size_t i;

	for (i = view_slot(s, k); s->keys[i]; i = (i + 1) & (s->cap - 1))
		if (s->keys[i] == k)
			return true;
	return false;
}

static void view_add(struct view_set *s, uint32_t k)
{
	size_t i;

	for (i = view_slot(s, k); s->keys[i] && s->keys[i] != k; i = (i + 1) & (s->cap - 1))
		;
	if (!s->keys[i])
		s->n++;
	s->keys[i] = k;
}

int report_view_make(const struct timeline *tl, struct report_view *v)
{
	struct view_set kept = { 0 }, all = { 0 };
	size_t i, faulted = 0;
	int ret = -ENOMEM;

	memset(v, 0, sizeof(*v));
	v->tl = tl;
	if (tl->n <= REPORT_VIEW_FULL)
		return 0;
	/* at most 2 * (REPORT_VIEW_FIRST + REPORT_VIEW_FAULTED) keys in kept */
	kept.cap = 4 * (REPORT_VIEW_FIRST + REPORT_VIEW_FAULTED);
	for (all.cap = 64; all.cap < 2 * tl->n; all.cap *= 2)
		;
	kept.keys = calloc(kept.cap, sizeof(*kept.keys));
	all.keys = calloc(all.cap, sizeof(*all.keys));
	if (!kept.keys || !all.keys)
		goto out;
	/* the connections a fault acted on or an injection went into, then the first ones */
	for (i = 0; i < tl->n && faulted < REPORT_VIEW_FAULTED; i++) {
		uint32_t k = view_conn(&tl->ev[i]);

		if (k && (tl->ev[i].kind == EV_FAULT || tl->ev[i].kind == EV_INJECT) &&
		    !view_has(&kept, k)) {
			view_add(&kept, k);
			faulted++;
		}
	}
	for (i = 0; i < tl->n && kept.n < faulted + REPORT_VIEW_FIRST; i++) {
		uint32_t k = view_conn(&tl->ev[i]);

		if (k)
			view_add(&kept, k);
	}
	for (i = 0; i < tl->n; i++) {
		uint32_t k = view_conn(&tl->ev[i]);

		if (k && !view_has(&all, k))
			view_add(&all, k);
		v->left_out += k && !view_has(&kept, k);
	}
	/* the view's events only: a copy of all of them was 69 MB at 10,000 */
	v->own.cap = tl->n - v->left_out;
	v->own.ev = calloc(v->own.cap ? v->own.cap : 1, sizeof(*v->own.ev));
	if (!v->own.ev)
		goto out;
	for (i = 0; i < tl->n; i++) {
		uint32_t k = view_conn(&tl->ev[i]);

		if (!k || view_has(&kept, k))
			v->own.ev[v->own.n++] = tl->ev[i]; /* raw stays the result's */
	}
	v->conns = all.n;
	v->conns_shown = kept.n;
	v->tl = &v->own;
	ret = 0;
out:
	free(kept.keys);
	free(all.keys);
	if (ret < 0) {
		free(v->own.ev);
		memset(v, 0, sizeof(*v));
		v->tl = tl; /* without memory, the whole timeline */
	}
	return ret;
}

void report_view_note(FILE *f, const struct report_view *v, const char *indent)
{
	if (!v->left_out)
		return;
	fprintf(f,
		"%s%zu of %zu connections shown (those a fault or an injection touched, and the first %d);"
		" %zu segment and state events of the other %zu left out here: every event is in "
		"results.json (--format json) and every segment in the case's pcap\n",
		indent, v->conns_shown, v->conns, REPORT_VIEW_FIRST, v->left_out,
		v->conns - v->conns_shown);
}

void report_view_free(struct report_view *v)
{
	free(v->own.ev); /* a shallow copy: the events' frames are the result's */
	memset(v, 0, sizeof(*v));
}
