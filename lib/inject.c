/* inject: crafted TCP segments through a libnet raw-IP context.
 * The context's raw socket is created while the thread is inside the sending
 * host's namespace, so the segment is routed by that host's tables and leaves
 * its interface; the kernel does not touch the TCP header of a header-included
 * raw packet, so what libnet builds is exactly what the peer receives. */
/* libnet's header wants _BSD_SOURCE (libnet-config --defines), which glibc
 * warns about, failing -Werror, unless _DEFAULT_SOURCE is already set. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "inject.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <libnet.h>

#include "netns.h"
#include "util.h"

#define INJECT_TTL 64
#define INJECT_WSCALE_MAX 14 /* RFC 7323 2.3 */

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018) */
enum {
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_PERM = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

struct inject {
	libnet_t *ln;
	int family;
	uint8_t *payload; /* payload_cap bytes of 'x', grown on demand */
	uint32_t payload_cap;
};

int inject_open(struct inject **out, int ns_fd, int family, char *err, size_t errlen)
{
	char lerr[LIBNET_ERRBUF_SIZE] = "";
	struct inject *inj = NULL;
	int saved = -1, ret;

	*out = NULL;
	if (family != AF_INET && family != AF_INET6) {
		ret = fw_err(err, errlen, -EAFNOSUPPORT, "inject: family %d is neither IPv4 nor IPv6",
			     family);
		goto out;
	}
	inj = calloc(1, sizeof(*inj));
	if (!inj) {
		ret = fw_err(err, errlen, -ENOMEM, "inject: out of memory");
		goto out;
	}
	inj->family = family;
	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		fw_err(err, errlen, ret, "inject: enter netns: %s", strerror(-ret));
		saved = -1;
		goto out;
	}
	/* libnet opens its raw socket here, so it belongs to ns_fd. */
	inj->ln = libnet_init(family == AF_INET ? LIBNET_RAW4 : LIBNET_RAW6, NULL, lerr);
	ret = netns_leave(saved);
	saved = -1;
	if (ret < 0) {
		fw_err(err, errlen, ret, "inject: leave netns: %s", strerror(-ret));
		goto out;
	}
	if (!inj->ln) {
		/* libnet keeps no errno; a raw socket fails for want of CAP_NET_RAW. */
		ret = fw_err(err, errlen, -EPERM, "inject: libnet_init: %s", lerr);
		goto out;
	}
	*out = inj;
	inj = NULL;
	ret = 0;
out:
	inject_free(inj);
	return ret;
}

void inject_free(struct inject *inj)
{
	if (!inj)
		return;
	if (inj->ln)
		libnet_destroy(inj->ln);
	free(inj->payload);
	free(inj);
}

static int inject_payload_reserve(struct inject *inj, uint32_t len)
{
	uint8_t *p;

	if (len <= inj->payload_cap)
		return 0;
	p = realloc(inj->payload, len);
	if (!p)
		return -ENOMEM;
	memset(p, 'x', len);
	inj->payload = p;
	inj->payload_cap = len;
	return 0;
}

static uint16_t inject_ip_id(void)
{
	uint16_t id = 0;

	/* Not libnet_get_prand(): its seeding calls srandom() and would
	 * disturb every other random() user in the process. */
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)(fw_now_ns() >> 10);
	return id;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

int inject_options_build(const struct inject_spec *spec, uint8_t *out, uint32_t *len, char *err,
			 size_t errlen)
{
	uint8_t buf[64]; /* room for the longest overflow: MSS, TS, WS, four blocks */
	uint32_t n = 0;
	uint8_t i;
	int ret = 0;

	*len = 0;
	if (spec->has_wscale && spec->wscale > INJECT_WSCALE_MAX) {
		ret = fw_err(err, errlen, -EINVAL, "inject: window scale %u is above %d",
			     spec->wscale, INJECT_WSCALE_MAX);
		goto out;
	}
	if (spec->nsack > 4) {
		ret = fw_err(err, errlen, -EMSGSIZE, "inject: %u SACK blocks, at most 4 fit",
			     spec->nsack);
		goto out;
	}
	if (spec->has_mss) {
		buf[n++] = OPT_MSS;
		buf[n++] = 4;
		buf[n++] = (uint8_t)(spec->mss >> 8);
		buf[n++] = (uint8_t)spec->mss;
	}
	if (spec->has_ts) {
		/* SACK-permitted takes the two NOPs' place, as Linux sends it */
		if (spec->sack_ok) {
			buf[n++] = OPT_SACK_PERM;
			buf[n++] = 2;
		} else {
			buf[n++] = OPT_NOP;
			buf[n++] = OPT_NOP;
		}
		buf[n++] = OPT_TS;
		buf[n++] = 10;
		put32(buf + n, spec->tsval);
		put32(buf + n + 4, spec->tsecr);
		n += 8;
	} else if (spec->sack_ok) {
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_SACK_PERM;
		buf[n++] = 2;
	}
	if (spec->has_wscale) {
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_WSCALE;
		buf[n++] = 3;
		buf[n++] = spec->wscale;
	}
	if (spec->nsack) {
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_SACK;
		buf[n++] = (uint8_t)(2 + 8 * spec->nsack);
		for (i = 0; i < spec->nsack; i++) {
			put32(buf + n, spec->sack[i][0]);
			put32(buf + n + 4, spec->sack[i][1]);
			n += 8;
		}
	}
	if (n > INJECT_MAX_OPTLEN) {
		ret = fw_err(err, errlen, -EMSGSIZE,
			     "inject: the options take %u bytes, more than the %d a TCP header holds",
			     n, INJECT_MAX_OPTLEN);
		goto out;
	}
	memcpy(out, buf, n);
	*len = n;
out:
	return ret;
}

int inject_send(struct inject *inj, const struct inject_spec *spec, char *err, size_t errlen)
{
	uint8_t opts[INJECT_MAX_OPTLEN];
	const uint8_t *payload = NULL;
	uint32_t optlen = 0, tcp_len;
	libnet_ptag_t tag;
	int ret, c;

	if (spec->src.family != inj->family || spec->dst.family != inj->family) {
		ret = fw_err(err, errlen, -EAFNOSUPPORT,
			     "inject: segment addresses are not of the context's family");
		goto out;
	}
	ret = inject_options_build(spec, opts, &optlen, err, errlen);
	if (ret < 0)
		goto out;
	/* Both IPv4 total length and IPv6 payload length are 16 bits. */
	if (spec->payload_len > 65535 - LIBNET_IPV4_H - LIBNET_TCP_H - optlen) {
		ret = fw_err(err, errlen, -EMSGSIZE, "inject: payload of %u bytes is too long",
			     spec->payload_len);
		goto out;
	}
	payload = spec->payload;
	if (!payload && spec->payload_len) {
		ret = inject_payload_reserve(inj, spec->payload_len);
		if (ret < 0) {
			fw_err(err, errlen, ret, "inject: out of memory");
			goto out;
		}
		payload = inj->payload;
	}
	libnet_clear_packet(inj->ln);

	/* libnet stacks blocks inside out: options first, then TCP (which
	 * counts the options into its data offset), then IP. */
	if (optlen && libnet_build_tcp_options(opts, optlen, inj->ln, 0) < 0)
		goto libnet_fail;
	tcp_len = LIBNET_TCP_H + optlen + spec->payload_len;
	/* sum 0: libnet fills the checksum over the pseudo-header when writing. */
	tag = libnet_build_tcp(spec->sport, spec->dport, spec->seq, spec->ack, spec->flags,
			       spec->win, 0, 0, (uint16_t)tcp_len,
			       spec->payload_len ? payload : NULL, spec->payload_len, inj->ln,
			       0);
	if (tag < 0)
		goto libnet_fail;
	if (inj->family == AF_INET) {
		uint32_t src, dst;

		memcpy(&src, spec->src.bytes, 4);
		memcpy(&dst, spec->dst.bytes, 4);
		tag = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), 0, inject_ip_id(), 0,
					INJECT_TTL, IPPROTO_TCP, 0, src, dst, NULL, 0, inj->ln, 0);
	} else {
		struct libnet_in6_addr src, dst;

		memcpy(&src, spec->src.bytes, 16);
		memcpy(&dst, spec->dst.bytes, 16);
		/* libnet writes len as is into the payload length field. */
		tag = libnet_build_ipv6(0, 0, (uint16_t)tcp_len, IPPROTO_TCP, INJECT_TTL, src, dst,
					NULL, 0, inj->ln, 0);
	}
	if (tag < 0)
		goto libnet_fail;
	errno = 0;
	c = libnet_write(inj->ln);
	if (c < 0) {
		ret = errno ? -errno : -EIO;
		fw_err(err, errlen, ret, "inject: libnet_write: %s", libnet_geterror(inj->ln));
		goto out;
	}
	ret = 0;
	goto out;
libnet_fail:
	ret = fw_err(err, errlen, -EINVAL, "inject: building the segment: %s",
		     libnet_geterror(inj->ln));
out:
	return ret;
}
