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
	/* A prepared case's clock starts at its go (engine_go()): what the
	 * kernel stamped before it (a box's listener) is how things stood at
	 * the start. */
	if (e->t_ns < 0)
		e->t_ns = 0;
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

struct sort_key {
	int64_t t_ns;
	size_t i;
};

static int sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i; /* equal times keep their order */
}

/* Insertion sort: stable, and in place when there is no memory. */
static void timeline_sort_insert(struct timeline *tl)
{
	size_t i, j;

	for (i = 1; i < tl->n; i++) {
		struct fw_event e = tl->ev[i];

		for (j = i; j > 0 && tl->ev[j - 1].t_ns > e.t_ns; j--)
			tl->ev[j] = tl->ev[j - 1];
		tl->ev[j] = e;
	}
}

void timeline_sort(struct timeline *tl)
{
	struct sort_key *k = NULL;
	struct fw_event *sorted = NULL;
	size_t i;

	for (i = 1; i < tl->n && tl->ev[i - 1].t_ns <= tl->ev[i].t_ns; i++)
		;
	if (i >= tl->n)
		goto out; /* in order already */
	/* Capture batches and probes arrive late by up to a batch: at 10,000
	 * connections that was enough for an insertion sort to take a tenth
	 * of the case's CPU. Sort (time, index) keys, then move each event once. */
	k = malloc(tl->n * sizeof(*k));
	sorted = malloc(tl->n * sizeof(*sorted));
	if (!k || !sorted) {
		timeline_sort_insert(tl);
		goto out;
	}
	for (i = 0; i < tl->n; i++)
		k[i] = (struct sort_key){ tl->ev[i].t_ns, i };
	qsort(k, tl->n, sizeof(*k), sort_key_cmp);
	for (i = 0; i < tl->n; i++)
		sorted[i] = tl->ev[k[i].i];
	free(tl->ev);
	tl->ev = sorted;
	tl->cap = tl->n;
	sorted = NULL;
out:
	free(k);
	free(sorted);
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
