/* engine_fail: failure evidence: expected vs actual, the last segments,
 * every socket's state, and the harness's lateness when it matters. */
#include "engine_int.h"

/* ---- failure reporting -------------------------------------------------------- */

void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* What the evidence lists: what hosts sent, what faults and the injector
 * did, and what the box made itself. */
static bool context_shows(const struct timeline *tl, size_t i)
{
	const struct fw_event *e = &tl->ev[i];

	if (e->kind == EV_SEGMENT)
		return e->sent || (e->leg == HOST_DUT && timeline_box_made(tl, i));
	return e->kind == EV_FAULT || e->kind == EV_INJECT;
}

void append_context(struct engine *E)
{
	struct case_result *r = E->res;
	size_t i, shown = 0, start = r->tl.n;
	char t[32];
	int h;

	while (start > 0 && shown < ENGINE_CONTEXT_SEGMENTS) {
		if (context_shows(&r->tl, --start))
			shown++;
	}
	append(r->message, sizeof(r->message), "\n  last segments:");
	if (!shown)
		append(r->message, sizeof(r->message), " none");
	for (i = start; i < r->tl.n; i++) {
		const struct fw_event *e = &r->tl.ev[i];

		if (context_shows(&r->tl, i)) {
			fw_duration_format(e->t_ns, t, sizeof(t));
			append(r->message, sizeof(r->message), "\n    %9s  %s%s", t,
			       e->kind == EV_SEGMENT && !e->sent ? "made by the box, " : "", e->text);
		}
	}
	append(r->message, sizeof(r->message), "\n  socket states:");
	/* Events keep the states current but not the timers, nor TIME_WAIT's
	 * leaving: the evidence shows a dump made now. */
	for (h = 0; h < HOST_COUNT && events_cover(E); h++) {
		E->outside_known[h] = false; /* evidence: every table walked */
		if (E->probe[h])
			(void)probe_host(E, (enum fw_host)h);
	}
	/* the endpoints', and a proxy's when a step reads them */
	for (h = 0; h < HOST_COUNT; h++) {
		if (!E->probe[h])
			continue;
		if (!E->snap[h].n)
			append(r->message, sizeof(r->message), "\n    %s: no TCP sockets", fw_host_name(h));
		many_census_append(E, (enum fw_host)h, r->message, sizeof(r->message));
		for (i = 0; i < E->snap[h].n; i++) {
			const struct sock_info *si = &E->snap[h].socks[i];

			if (si->state != FW_TCP_LISTEN && conn_sock(E, (enum fw_host)h, si->sport, si->dport))
				continue; /* a group's: in its census above */

			append(r->message, sizeof(r->message), "\n    %s %s :%u > :%u %s",
			       fw_host_name(h), sock_label(E, (enum fw_host)h, si), si->sport,
			       si->dport, tcp_state_name(si->state));
			if (si->timer)
				append(r->message, sizeof(r->message), " (timer %s, %ums left)",
				       sock_timer_name(si->timer), si->expires_ms);
		}
	}
}

/* Which expectations the harness's own lateness can turn into a failure:
 * those judged against a time window. A late queue or release shifts what
 * the kernels see (an inflated RTT, a retransmission, a missed short-lived
 * state); a late event loop can miss a state between two probes but not a
 * segment, which capture stamps in the kernel. Counters and sysctls are
 * values, and an action's result is the kernel's. */
enum late_sense {
	LATE_NONE,
	LATE_WIRE,      /* lateness that changes what reaches the kernels */
	LATE_WIRE_LOOP, /* that, or the event loop's (a probe's) lateness */
	/* A miss whose size is known (a segment that came late, a socket
	 * whose timer had time left): the whole run's wire lateness counts,
	 * since a segment held in the queue early on stretched the kernels'
	 * RTT and so every timer after it, but only up to that size. */
	LATE_WIRE_MEASURED,
};
static const enum late_sense step_late_sense[STEP_KIND_COUNT] = {
	[STEP_EXPECT_SEGMENT] = LATE_WIRE_MEASURED,
	[STEP_EXPECT_NO_SEGMENT] = LATE_WIRE,
	[STEP_EXPECT_GONE] = LATE_WIRE_MEASURED,
	[STEP_EXPECT_STATE] = LATE_WIRE_LOOP,
};

/* Only lateness since the last action began counts: what an expectation
 * judges is the kernels' answer to that action. */
static bool late_explains(const struct engine *E, const struct fw_step *s)
{
	const struct run_lateness *l = &E->win_late;
	int64_t wire = l->dwell_max_ns, need = ENGINE_LATE_EXPLAINS_NS;

	if (E->fail_margin_ns > need)
		need = E->fail_margin_ns;
	if (l->release_max_ns > wire)
		wire = l->release_max_ns;
	if (l->step_max_ns > wire)
		wire = l->step_max_ns;
	switch (step_late_sense[s->kind]) {
	case LATE_NONE:
		return false;
	case LATE_WIRE_MEASURED:
		if (E->fail_measured && late_wire_run(E) > wire)
			wire = late_wire_run(E);
		return wire >= need;
	case LATE_WIRE:
		return wire >= need;
	case LATE_WIRE_LOOP:
		/* A probe late by L misses only a state that lived less than L:
		 * never TIME_WAIT, which lives its 60 s unless killed. */
		return wire >= need || (l->wake_max_ns >= need && s->state != TCP_TIME_WAIT);
	}
	return false;
}

/* One line of evidence: how late the harness was, at worst, since the
 * action the failed expectation judges, and in the whole run. */
static void append_lateness(struct engine *E)
{
	const struct run_lateness *l = &E->win_late;
	char d[5][32];

	fw_duration_format(l->dwell_max_ns, d[0], sizeof(d[0]));
	fw_duration_format(l->release_max_ns, d[1], sizeof(d[1]));
	fw_duration_format(l->wake_max_ns, d[2], sizeof(d[2]));
	fw_duration_format(l->step_max_ns, d[3], sizeof(d[3]));
	fw_duration_format(run_lateness_max(&E->res->late), d[4], sizeof(d[4]));
	append(E->res->message, sizeof(E->res->message),
	       "\n  harness lateness since the last action (worst): queue dwell %s, release %s, "
	       "event-loop wake-up %s, step start %s (whole run: %s)%s",
	       d[0], d[1], d[2], d[3], d[4],
	       E->res->late_explains ? ": could explain this failure" : "");
}

/* Decide the case as failed at the current step, with expected vs actual. */
int step_fail(struct engine *E, const struct fw_step *s, const char *fmt, ...)
{
	struct case_result *r = E->res;
	char actual[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(actual, sizeof(actual), fmt, ap);
	va_end(ap);
	r->status = CASE_FAIL;
	snprintf(r->message, sizeof(r->message), "%s:%d: step %d: expected %s\n  actual: %s",
		 E->c->path, s->line, E->step + 1, s->text, actual);
	if (step_kind_is_expect(s->kind)) {
		struct fw_event *ev = add_event(E, EV_EXPECT, fw_now_ns(), s->host, "FAIL: %s (%s)",
						s->text, actual);

		if (ev)
			ev->pass = false;
	}
	r->late_explains = late_explains(E, s);
	append_lateness(E);
	append_context(E);
	return 1;
}

/* After step_fail(): something outside the kernels under test could explain
 * the failure, so the harness runs the case again (and says INCONCLUSIVE if
 * it keeps happening), as for the harness's own lateness. */
void fail_explained(struct engine *E, const char *why)
{
	E->res->late_explains = true;
	append(E->res->message, sizeof(E->res->message), "\n  %s: could explain this failure", why);
}

int step_error(struct engine *E, const struct fw_step *s, int ret, const char *what)
{
	E->res->status = CASE_ERROR;
	snprintf(E->res->message, sizeof(E->res->message), "%s:%d: step %d (%s): %s: %s",
		 E->c->path, s->line, E->step + 1, s->text, what, E->err[0] ? E->err : strerror(-ret));
	return 1;
}

void expect_pass(struct engine *E, const struct fw_step *s)
{
	struct fw_event *ev = add_event(E, EV_EXPECT, fw_now_ns(), s->host, "PASS: %s", s->text);

	if (ev)
		ev->pass = true;
}
