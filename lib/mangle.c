#include "mangle.h"

#include <errno.h>
#include <string.h>

#include "seg.h"

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_TS 8
#define TCP_OPT_TS_LEN 10

/* Where the TCP segment is, and the pseudo-header's addresses. */
struct mangle_view {
	uint8_t *tcp;
	size_t tcp_len, hdr_len;
	const uint8_t *src, *dst;
	size_t addr_len;
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int mangle_locate(uint8_t *pkt, size_t len, struct mangle_view *v)
{
	size_t ip_len, off;

	if (len < 20)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		off = (size_t)(pkt[0] & 0x0f) * 4;
		ip_len = (size_t)pkt[2] << 8 | pkt[3];
		if (off < 20 || pkt[9] != 6 || ip_len < off || ip_len > len)
			return -EINVAL;
		v->src = pkt + 12;
		v->dst = pkt + 16;
		v->addr_len = 4;
		break;
	case 6:
		if (len < 40 || pkt[6] != 6)
			return -EINVAL;
		off = 40;
		ip_len = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
		if (ip_len > len)
			return -EINVAL;
		v->src = pkt + 8;
		v->dst = pkt + 24;
		v->addr_len = 16;
		break;
	default:
		return -EINVAL;
	}
	v->tcp = pkt + off;
	v->tcp_len = ip_len - off;
	if (v->tcp_len < 20)
		return -EINVAL;
	v->hdr_len = (size_t)(v->tcp[12] >> 4) * 4;
	if (v->hdr_len < 20 || v->hdr_len > v->tcp_len)
		return -EINVAL;
	return 0;
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static void mangle_checksum(struct mangle_view *v)
{
	uint8_t tail[8] = { 0 };
	uint32_t acc = 0;

	/* Pseudo-header: addresses, then (IPv4) zero, 6, length or (IPv6) a
	 * 32-bit length and 3 zero bytes before 6; both sum the same way. */
	acc = sum16(acc, v->src, v->addr_len);
	acc = sum16(acc, v->dst, v->addr_len);
	put32(tail, (uint32_t)v->tcp_len);
	tail[7] = 6;
	acc = sum16(acc, tail, sizeof(tail));
	v->tcp[16] = v->tcp[17] = 0;
	acc = sum16(acc, v->tcp, v->tcp_len);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	acc = ~acc & 0xffff;
	v->tcp[16] = (uint8_t)(acc >> 8);
	v->tcp[17] = (uint8_t)acc;
}

/* The TS option's value fields, or NULL when the segment has none. */
static uint8_t *mangle_find_ts(const struct mangle_view *v)
{
	size_t i = 20;

	while (i < v->hdr_len) {
		uint8_t kind = v->tcp[i];

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= v->hdr_len || v->tcp[i + 1] < 2 || i + v->tcp[i + 1] > v->hdr_len)
			break;
		if (kind == TCP_OPT_TS && v->tcp[i + 1] == TCP_OPT_TS_LEN)
			return v->tcp + i + 2;
		i += v->tcp[i + 1];
	}
	return NULL;
}

int mangle_rewrite(uint8_t *pkt, size_t len, const struct fault_rewrite *rw)
{
	struct mangle_view v;
	uint8_t *ts;
	int ret = mangle_locate(pkt, len, &v);

	if (ret < 0)
		return ret;
	if (rw->seq_delta)
		put32(v.tcp + 4, get32(v.tcp + 4) + (uint32_t)rw->seq_delta);
	if (rw->ack_delta)
		put32(v.tcp + 8, get32(v.tcp + 8) + (uint32_t)rw->ack_delta);
	if (rw->set_flags)
		v.tcp[13] = rw->flags;
	if (rw->set_win) {
		v.tcp[14] = (uint8_t)(rw->win >> 8);
		v.tcp[15] = (uint8_t)rw->win;
	}
	ts = mangle_find_ts(&v);
	if (ts && rw->tsval_delta)
		put32(ts, get32(ts) + (uint32_t)rw->tsval_delta);
	if (ts && rw->tsecr_delta)
		put32(ts + 4, get32(ts + 4) + (uint32_t)rw->tsecr_delta);
	mangle_checksum(&v);
	return 0;
}

int mangle_tcp_checksum(uint8_t *pkt, size_t len)
{
	struct mangle_view v;
	int ret = mangle_locate(pkt, len, &v);

	if (ret < 0)
		return ret;
	mangle_checksum(&v);
	return 0;
}
