/* pcap: DIR/<case-name>.pcap, every segment once, as its sender put it on
 * the wire (the copy captured on the sender's own leg), in time order.
 * Dropped segments are in it (they were sent); injected ones too. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

struct pcapw {
	struct report_ctx ctx;
};

static int pcapw_begin(const struct report_ctx *ctx, void **state)
{
	struct pcapw *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->ctx = *ctx;
	*state = p;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	const struct fw_event *x = *(const struct fw_event *const *)a;
	const struct fw_event *y = *(const struct fw_event *const *)b;

	return (x->t_real_ns > y->t_real_ns) - (x->t_real_ns < y->t_real_ns);
}

static int pcapw_case(void *state, const struct case_result *r, size_t index)
{
	struct pcapw *p = state;
	const struct fw_event **sent;
	char rel[CASE_MAX_NAME + 8];
	struct report_out o = { 0 };
	pcap_dumper_t *d = NULL;
	pcap_t *dead = NULL;
	char *buf = NULL;
	size_t i, n = 0, len = 0;
	FILE *mem = NULL;
	int ret = -ENOMEM;

	(void)index;
	snprintf(rel, sizeof(rel), "%s.pcap", r->name);
	sent = calloc(r->tl.n + 1, sizeof(*sent));
	if (!sent)
		goto out;
	for (i = 0; i < r->tl.n; i++)
		if (r->tl.ev[i].kind == EV_SEGMENT && r->tl.ev[i].sent && r->tl.ev[i].raw)
			sent[n++] = &r->tl.ev[i];
	qsort(sent, n, sizeof(*sent), cmp_time);
	/* libpcap writes the file into memory (pcap_dump_close closes its FILE
	 * and says nothing of a failed write); the report file gets it whole. */
	mem = open_memstream(&buf, &len);
	dead = mem ? pcap_open_dead(DLT_EN10MB, 65535) : NULL;
	d = dead ? pcap_dump_fopen(dead, mem) : NULL;
	if (!d)
		goto out;
	mem = NULL; /* the dumper's now */
	for (i = 0; i < n; i++) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = sent[i]->t_real_ns / FW_NS_PER_SEC;
		h.ts.tv_usec = (sent[i]->t_real_ns % FW_NS_PER_SEC) / 1000;
		h.caplen = sent[i]->caplen;
		h.len = sent[i]->len;
		pcap_dump((u_char *)d, &h, sent[i]->raw);
	}
	pcap_dump_close(d);
	d = NULL;
	ret = report_open(&p->ctx, true, rel, &o);
	if (ret < 0)
		goto out;
	fwrite(buf, 1, len, o.f);
	ret = report_close(&o);
out:
	if (d)
		pcap_dump_close(d);
	if (mem)
		fclose(mem);
	if (dead)
		pcap_close(dead);
	free(buf);
	free(sent);
	return ret;
}

static int pcapw_end(void *state, const struct report_summary *sum)
{
	(void)sum;
	free(state);
	return 0;
}

const struct report_ops report_pcap = { "pcap", true, pcapw_begin, pcapw_case, pcapw_end };
