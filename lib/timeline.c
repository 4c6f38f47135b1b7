#include "timeline.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct fw_event *timeline_add(struct timeline *tl, const struct fw_event *ev)
{
	struct fw_event *e;

	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 64;
		struct fw_event *grown = realloc(tl->ev, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		tl->ev = grown;
		tl->cap = cap;
	}
	e = &tl->ev[tl->n];
	*e = *ev;
	e->raw = NULL;
	if (ev->raw && ev->caplen) {
		e->raw = malloc(ev->caplen);
		if (!e->raw)
			return NULL;
		memcpy(e->raw, ev->raw, ev->caplen);
	}
	tl->n++;
	return e;
}

void timeline_clear(struct timeline *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		free(tl->ev[i].raw);
	free(tl->ev);
	memset(tl, 0, sizeof(*tl));
}

static const char *const ev_kind_names[] = {
	[EV_STEP] = "step",   [EV_SEGMENT] = "segment", [EV_FAULT] = "fault",
	[EV_INJECT] = "inject", [EV_STATE] = "state",     [EV_EXPECT] = "expect",
};

const char *ev_kind_name(enum ev_kind k)
{
	return k <= EV_EXPECT ? ev_kind_names[k] : "?";
}

void timeline_sort(struct timeline *tl)
{
	size_t i, j;

	/* Insertion sort: stable, and the timeline is nearly sorted already
	 * (only capture batches and probes arrive a little late). */
	for (i = 1; i < tl->n; i++) {
		struct fw_event e = tl->ev[i];

		for (j = i; j > 0 && tl->ev[j - 1].t_ns > e.t_ns; j--)
			tl->ev[j] = tl->ev[j - 1];
		tl->ev[j] = e;
	}
}

bool timeline_box_made(const struct timeline *tl, size_t i)
{
	const struct fw_event *e = &tl->ev[i], *q;
	size_t j;

	if (e->kind != EV_SEGMENT || e->leg != HOST_DUT || e->into_box)
		return false;
	for (j = 0; j < tl->n; j++) {
		q = &tl->ev[j];
		if (q->kind != EV_SEGMENT || q->leg != HOST_DUT || !q->into_box ||
		    q->side == e->side || q->host != e->host || q->t_ns > e->t_ns ||
		    e->t_ns - q->t_ns > FW_NS_PER_SEC)
			continue;
		/* of the same connection, when both are known (flow: under any
		 * ports the box translated) */
		if (q->seg.flags == e->seg.flags && q->seg.seq == e->seg.seq &&
		    q->seg.ack == e->seg.ack && q->seg.len == e->seg.len &&
		    (!q->flow || !e->flow || q->flow == e->flow))
			return false;
	}
	return true;
}
