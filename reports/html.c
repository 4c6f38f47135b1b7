/* html: DIR/index.html (one row per case: claims, result, duration, links),
 * DIR/cases/<name>.html (the case, its failure evidence, its ladder diagram
 * and its timeline) and DIR/claims.html (the cases behind each claim).
 * Every page stands alone: inline CSS, inline SVG, no script, no fetch, so
 * it opens from a CI artifact or a mail attachment as it is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "report.h"
#include "sockprobe.h"
#include "util.h"

static const char page_css[] =
    "body{font:14px/1.45 'DejaVu Sans',sans-serif;color:#111827;margin:24px;max-width:1480px}"
    "h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:22px 0 8px}"
    "a{color:#1d4ed8}nav{margin-bottom:14px}nav a{margin-right:14px}"
    "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #e5e7eb;"
    "text-align:left;vertical-align:top}th{background:#f3f4f6}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;font-weight:bold;"
    "font-size:13px}.PASS{background:#16a34a}.FAIL{background:#dc2626}.SKIP{background:#ca8a04}"
    ".ERROR{background:#7c3aed}"
    "pre{background:#fef2f2;border-left:4px solid #dc2626;padding:10px;overflow-x:auto;"
    "font:12px/1.4 'DejaVu Sans Mono',monospace}"
    ".mono,.timeline td{font:12px/1.4 'DejaVu Sans Mono',monospace}"
    ".legend span{display:inline-block;margin-right:14px;font-size:12px}"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}"
    "svg.ladder{max-width:100%;height:auto;border:1px solid #e5e7eb;background:#fff}"
    "svg text{font-family:'DejaVu Sans Mono',monospace;font-size:10px;fill:#374151}"
    "svg text.host{font:bold 14px 'DejaVu Sans',sans-serif;fill:#111827}"
    "svg text.addr,svg text.time{fill:#6b7280}"
    "svg text.label{fill:#111827;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    "svg line.host{stroke:#111827;stroke-width:2}"
    "svg line.wire{stroke:#9ca3af;stroke-width:2;stroke-dasharray:6 4}"
    "svg .seg polyline,svg .extra polyline{fill:none;stroke:#1f2937;stroke-width:1.4}"
    "svg .seg.injected polyline{stroke:#7c3aed;stroke-dasharray:6 3}"
    "svg .seg.injected text.label{fill:#6d28d9}"
    "svg .seg.unseen polyline,svg .extra polyline{stroke-dasharray:2 3}"
    "svg .cross{stroke:#dc2626;stroke-width:3}svg .cross.lost{stroke:#6b7280}"
    "svg rect.hold{fill:#f59e0b}svg .seg.made polyline{stroke:#b45309}"
    "svg .note.rewrite{fill:#b45309}"
    "svg .step circle{fill:#111827}svg .note.step{fill:#111827}"
    "svg .note.inject{fill:#6d28d9}svg .fault .note{fill:#b45309;font-weight:bold}"
    "svg .expect circle{stroke:#fff;stroke-width:1}svg .expect path{stroke:#fff;stroke-width:2;"
    "fill:none}svg .pass circle{fill:#16a34a}svg .fail circle{fill:#dc2626}"
    "svg .note.pass{fill:#15803d}svg .note.fail{fill:#dc2626;font-weight:bold}";

/* The index needs every case's descriptive fields, not its timeline: rows
 * are copies of the results with an empty timeline. */
struct html {
	struct report_dir *rdir;
	struct claim *claims; /* the claims list, when it could be read: its texts */
	size_t nclaims;
	struct case_result *rows;
	size_t n, cap;
};

static int html_begin(const struct report_ctx *ctx, void **state)
{
	struct html *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->rdir = ctx->rdir;
	{
		char err[FW_ERRLEN];

		/* Optional: without the list the page still judges each claim id. */
		if (claims_load(ctx->claims_file ? ctx->claims_file : "docs/claims.md", &h->claims,
				&h->nclaims, err, sizeof(err)) < 0)
			h->nclaims = 0;
	}
	*state = h;
	return 0;
}

static void esc(FILE *f, const char *s)
{
	report_xml_puts(f, s);
}

/* A case name inside a link: percent-encoded but for the characters a path
 * segment may hold as they are (RFC 3986 unreserved, and '/'). */
static void href_put(FILE *f, const char *name)
{
	static const char keep[] = "-._~/";

	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(keep, c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

static void page_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\"><title>",
	      f);
	esc(f, title);
	fprintf(f, "</title><style>%s</style></head>\n<body>\n", page_css);
}

static void badge(FILE *f, enum case_status s)
{
	fprintf(f, "<span class=\"badge %s\">%s</span>", case_status_name(s), case_status_name(s));
}

/* "../" once per directory between DIR and the case page DIR/cases/<name>.html. */
static void up_prefix(const char *name, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	off += (size_t)snprintf(buf, len, "../");
	for (; *name && off + 4 < len; name++)
		if (*name == '/')
			off += (size_t)snprintf(buf + off, len - off, "../");
}

static void legend(FILE *f, const struct timeline *tl)
{
	bool seen[16] = {false};
	size_t i;

	fputs("<p class=\"legend\">", f);
	for (i = 0; i < tl->n; i++) {
		int st = tl->ev[i].state;

		if (tl->ev[i].kind != EV_STATE || st < 0 || st >= 16 || seen[st])
			continue;
		seen[st] = true;
		fprintf(f, "<span><i style=\"background:%s\"></i>%s</span>", report_state_color(st),
			tcp_state_name(st));
	}
	fputs("<span>&#8594; segment (label as tcpdump, numbers relative)</span>"
	      "<span style=\"color:#6d28d9\">- - &#8594; injected</span>"
	      "<span style=\"color:#dc2626\">&#10005; dropped at the wire</span>"
	      "<span style=\"color:#6b7280\">&#10005; seen no further</span>"
	      "<span style=\"color:#b45309\">&#8594; made by the box</span>"
	      "<span><i style=\"background:#f59e0b\"></i>held at the wire</span>"
	      "<span style=\"color:#16a34a\">&#9679; expectation passed</span>"
	      "<span style=\"color:#dc2626\">&#9679; expectation failed</span></p>\n",
	      f);
}

static void timeline_table(FILE *f, const struct timeline *tl)
{
	char t[32];
	size_t i;

	fputs("<table "
	      "class=\"timeline\"><tr><th>time</th><th>event</th><th>host</th><th>what</th></tr>\n",
	      f);
	for (i = 0; i < tl->n; i++) {
		const struct fw_event *e = &tl->ev[i];

		fw_duration_format(e->t_ns, t, sizeof(t));
		fprintf(f, "<tr><td>%s</td><td>%s</td><td>%s</td><td>", t, ev_kind_name(e->kind),
			fw_host_name(e->host));
		esc(f, e->text);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void claims_put(FILE *f, const char claims[][8], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fputs(i ? " " : "", f);
		esc(f, claims[i]);
	}
}

static int case_page(const struct html *h, const struct case_result *r)
{
	char rel[CASE_MAX_NAME + 16], up[256], dur[32], title[CASE_MAX_NAME + 32];
	struct report_ctx ctx = {.rdir = h->rdir};
	struct report_view view;
	struct report_out o;
	int ret;

	snprintf(rel, sizeof(rel), "cases/%s.html", r->name);
	ret = report_open(&ctx, true, rel, &o);
	if (ret < 0)
		return ret;
	up_prefix(r->name, up, sizeof(up));
	fw_duration_format(r->duration_ns, dur, sizeof(dur));
	snprintf(title, sizeof(title), "%s %s - finwave", r->name, case_status_name(r->status));
	page_head(o.f, title);
	fprintf(o.f, "<nav><a href=\"%sindex.html\">all cases</a><a href=\"%s", up, up);
	href_put(o.f, r->name);
	fprintf(o.f, ".pcap\">pcap</a><a href=\"%sresults.json\">results.json</a></nav>\n<h1>", up);
	esc(o.f, r->name);
	fputs(" ", o.f);
	badge(o.f, r->status);
	fputs("</h1>\n<p>", o.f);
	esc(o.f, r->summary);
	fputs("</p>\n<table><tr><th>claims</th><td>", o.f);
	claims_put(o.f, r->claims, r->nclaims);
	fputs("</td></tr><tr><th>case file</th><td class=\"mono\">", o.f);
	esc(o.f, r->path);
	fprintf(o.f, "</td></tr><tr><th>duration</th><td>%s</td></tr>", dur);
	if (r->verdict[0]) {
		fputs("<tr><th>verdict</th><td>", o.f);
		esc(o.f, r->verdict);
		fputs("</td></tr>", o.f);
	}
	if (r->condition[0]) {
		fputs("<tr><th>condition</th><td>", o.f);
		esc(o.f, r->condition);
		fputs("</td></tr>", o.f);
	}
	fputs("</table>\n", o.f);
	if (r->status != CASE_PASS && r->message[0]) {
		fputs("<h2>Expected vs actual</h2>\n<pre class=\"message\">", o.f);
		esc(o.f, r->message);
		fputs("</pre>\n", o.f);
	}
	(void)report_view_make(&r->tl, &view); /* without memory: all of it */
	if (view.left_out) {
		fputs("<p class=\"note\">", o.f);
		report_view_note(o.f, &view, "");
		fputs("</p>\n", o.f);
	}
	fputs("<h2>Ladder</h2>\n", o.f);
	legend(o.f, view.tl);
	ret = report_ladder_write(o.f, view.tl);
	fputs("<h2>Timeline</h2>\n", o.f);
	timeline_table(o.f, view.tl);
	report_view_free(&view);
	fputs("</body></html>\n", o.f);
	if (ret == 0 || ferror(o.f)) /* a failed write: the close names its errno */
		return report_close(&o);
	report_abort(&o);
	return ret;
}

static int html_case(void *state, const struct case_result *r, size_t index)
{
	struct html *h = state;
	struct case_result *row;

	(void)index;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 32;
		struct case_result *grown = realloc(h->rows, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		h->rows = grown;
		h->cap = cap;
	}
	row = &h->rows[h->n++];
	*row = *r;
	memset(&row->tl, 0, sizeof(row->tl));
	return case_page(h, r);
}

static void case_link(FILE *f, const char *name)
{
	fputs("<a href=\"cases/", f);
	href_put(f, name);
	fputs(".html\">", f);
	esc(f, name);
	fputs("</a>", f);
}

static int index_page(const struct html *h, const struct report_summary *sum)
{
	struct report_ctx ctx = {.rdir = h->rdir};
	struct report_out o;
	char dur[32];
	size_t i;
	int ret;

	ret = report_open(&ctx, true, "index.html", &o);
	if (ret < 0)
		return ret;
	page_head(o.f, "finwave results");
	fw_duration_format(sum->wall_ns, dur, sizeof(dur));
	fprintf(o.f,
		"<h1>finwave results</h1>\n<p>%s%zu passed, %zu failed, %zu skipped, %zu errors in "
		"%s</p>\n"
		"<nav><a href=\"claims.html\">claims</a><a href=\"results.json\">results.json</a>"
		"<a href=\"results.xml\">results.xml (JUnit)</a><a "
		"href=\"results.tap\">results.tap</a></nav>\n",
		sum->interrupted ? "interrupted: " : "", sum->counts[CASE_PASS],
		sum->counts[CASE_FAIL], sum->counts[CASE_SKIP], sum->counts[CASE_ERROR], dur);
	fputs("<table class=\"cases\"><tr><th>case</th><th>claims</th><th>result</th>"
	      "<th>duration</th><th>links</th><th>summary</th></tr>\n",
	      o.f);
	for (i = 0; i < h->n; i++) {
		const struct case_result *r = &h->rows[i];

		fw_duration_format(r->duration_ns, dur, sizeof(dur));
		fputs("<tr><td>", o.f);
		case_link(o.f, r->name);
		fputs("</td><td>", o.f);
		claims_put(o.f, r->claims, r->nclaims);
		fputs("</td><td>", o.f);
		badge(o.f, r->status);
		fprintf(o.f, "</td><td>%s</td><td>", dur);
		case_link(o.f, r->name);
		fputs(" <a href=\"", o.f);
		href_put(o.f, r->name);
		fputs(".pcap\">pcap</a></td><td>", o.f);
		esc(o.f, r->summary);
		fputs("</td></tr>\n", o.f);
	}
	fputs("</table>\n</body></html>\n", o.f);
	return report_close(&o);
}

static int claim_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each claim once, in order, with the cases that check it. */
static int claims_page(const struct html *h)
{
	struct report_ctx ctx = {.rdir = h->rdir};
	const char **ids = NULL;
	struct report_out o;
	size_t i, k, n = 0;
	int ret;

	ids = calloc(h->n * CASE_MAX_LIST + 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < h->n; i++)
		for (k = 0; k < h->rows[i].nclaims; k++)
			ids[n++] = h->rows[i].claims[k];
	qsort(ids, n, sizeof(*ids), claim_cmp);
	ret = report_open(&ctx, true, "claims.html", &o);
	if (ret < 0)
		goto out;
	page_head(o.f, "finwave claims");
	fputs("<nav><a href=\"index.html\">all cases</a></nav>\n<h1>What this kernel says of "
	      "each claim</h1>\n<table class=\"claims\"><tr><th>claim</th><th>on this kernel</th>"
	      "<th>why, or under which condition</th></tr>\n",
	      o.f);
	for (k = 0; k < n; k++) {
		const char *reason, *text = "";
		enum claim_status st;

		if (k > 0 && strcmp(ids[k], ids[k - 1]) == 0)
			continue;
		st = claims_judge(ids[k], h->rows, h->n, &reason);
		for (i = 0; i < h->nclaims; i++)
			if (strcmp(h->claims[i].id, ids[k]) == 0)
				text = h->claims[i].text;
		fprintf(o.f, "<tr class=\"claim-%s\"><td>",
			st == CLAIM_HOLDS || st == CLAIM_HOLDS_IF ? "holds" :
			st == CLAIM_DOES_NOT_HOLD		  ? "not" :
								    "open");
		esc(o.f, ids[k]);
		fputs("</td><td><b>", o.f);
		esc(o.f, claim_status_name(st));
		fputs("</b> ", o.f);
		esc(o.f, text);
		fputs("</td><td>", o.f);
		esc(o.f, reason ? reason : "");
		fputs("</td></tr>\n", o.f);
	}
	fputs("</table>\n", o.f);
	fputs(
	    "<h1>Claims and the cases that check "
	    "them</h1>\n<table><tr><th>claim</th><th>case</th><th>result</th><th>what the case "
	    "checks</th><th>verdict</th></tr>\n",
	    o.f);
	for (k = 0; k < n; k++) {
		if (k > 0 && strcmp(ids[k], ids[k - 1]) == 0)
			continue;
		for (i = 0; i < h->n; i++) {
			const struct case_result *r = &h->rows[i];
			size_t c;

			for (c = 0; c < r->nclaims && strcmp(r->claims[c], ids[k]) != 0; c++)
				;
			if (c == r->nclaims)
				continue;
			fputs("<tr><td>", o.f);
			esc(o.f, ids[k]);
			fputs("</td><td>", o.f);
			case_link(o.f, r->name);
			fputs("</td><td>", o.f);
			badge(o.f, r->status);
			fputs("</td><td>", o.f);
			esc(o.f, r->summary);
			fputs("</td><td>", o.f);
			esc(o.f, r->verdict[0] ? r->verdict : r->condition);
			fputs("</td></tr>\n", o.f);
		}
	}
	fputs("</table>\n</body></html>\n", o.f);
	ret = report_close(&o);
out:
	free(ids);
	return ret;
}

static int html_end(void *state, const struct report_summary *sum)
{
	struct html *h = state;
	int ret, ret2;

	ret = index_page(h, sum);
	ret2 = claims_page(h);
	free(h->claims);
	free(h->rows);
	free(h);
	return ret < 0 ? ret : ret2;
}

const struct report_ops report_html = {"html", true, html_begin, html_case, html_end};
