/* conntrack: see conntrack.h. */
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#include "netns.h"
#include "util.h"

static const char *const ct_state_names[] = {
	[TCP_CONNTRACK_NONE] = "NONE",
	[TCP_CONNTRACK_SYN_SENT] = "SYN_SENT",
	[TCP_CONNTRACK_SYN_RECV] = "SYN_RECV",
	[TCP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
	[TCP_CONNTRACK_FIN_WAIT] = "FIN_WAIT",
	[TCP_CONNTRACK_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_CONNTRACK_LAST_ACK] = "LAST_ACK",
	[TCP_CONNTRACK_TIME_WAIT] = "TIME_WAIT",
	[TCP_CONNTRACK_CLOSE] = "CLOSE",
	[TCP_CONNTRACK_SYN_SENT2] = "SYN_SENT2",
};
#define CT_STATE_COUNT (sizeof(ct_state_names) / sizeof(ct_state_names[0]))

static const struct {
	const char *name;
	uint32_t bit;
} ct_status_names[] = {
	{ "SEEN_REPLY", IPS_SEEN_REPLY }, { "ASSURED", IPS_ASSURED }, { "CONFIRMED", IPS_CONFIRMED },
	{ "SRC_NAT", IPS_SRC_NAT },	  { "DST_NAT", IPS_DST_NAT }, { "DYING", IPS_DYING },
};
#define CT_STATUS_COUNT (sizeof(ct_status_names) / sizeof(ct_status_names[0]))

const char *conntrack_state_name(int state)
{
	return state >= 0 && (size_t)state < CT_STATE_COUNT ? ct_state_names[state] : "?";
}

int conntrack_state_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < CT_STATE_COUNT; i++)
		if (strcmp(ct_state_names[i], name) == 0)
			return (int)i;
	return -1;
}

uint32_t conntrack_status_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < CT_STATUS_COUNT; i++)
		if (strcmp(ct_status_names[i].name, name) == 0)
			return ct_status_names[i].bit;
	return 0;
}

void conntrack_status_format(uint32_t status, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < CT_STATUS_COUNT && used < len; i++)
		if (status & ct_status_names[i].bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 ct_status_names[i].name);
	if (!buf[0])
		snprintf(buf, len, "-");
}

struct conntrack {
	struct nfct_handle *h;
};

int conntrack_open(struct conntrack **out, int ns_fd, char *err, size_t errlen)
{
	struct conntrack *ct = calloc(1, sizeof(*ct));
	int saved, ret;

	*out = NULL;
	if (!ct)
		return fw_err(err, errlen, -ENOMEM, "conntrack: out of memory");
	/* the netlink socket belongs to the namespace it is created in */
	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		free(ct);
		return fw_err(err, errlen, ret, "conntrack: cannot enter the box's namespace: %s",
			      strerror(-ret));
	}
	ct->h = nfct_open(CONNTRACK, 0);
	ret = ct->h ? 0 : -errno;
	if (netns_leave(saved) < 0 && ret == 0)
		ret = -EIO;
	if (ret < 0) {
		conntrack_free(ct);
		return fw_err(err, errlen, ret, "conntrack: cannot open the table (nf_conntrack netlink): %s",
			      strerror(-ret));
	}
	*out = ct;
	return 0;
}

void conntrack_free(struct conntrack *ct)
{
	if (!ct)
		return;
	if (ct->h)
		nfct_close(ct->h);
	free(ct);
}

struct dump_ctx {
	struct ct_entry *v;
	size_t n, cap;
	bool oom;
};

static void ct_addr(const struct nf_conntrack *c, int family, enum nf_conntrack_attr a4,
		    enum nf_conntrack_attr a6, struct fw_addr *out)
{
	const void *p = nfct_get_attr(c, family == AF_INET ? a4 : a6);

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->family = family;
	memcpy(out->bytes, p, family == AF_INET ? 4 : 16);
}

static int dump_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *c, void *data)
{
	struct dump_ctx *d = data;
	int family = nfct_get_attr_u8(c, ATTR_L3PROTO);
	struct ct_entry *e;

	(void)type;
	if (nfct_get_attr_u8(c, ATTR_L4PROTO) != IPPROTO_TCP)
		return NFCT_CB_CONTINUE;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct ct_entry *grown = realloc(d->v, cap * sizeof(*grown));

		if (!grown) {
			d->oom = true;
			return NFCT_CB_STOP;
		}
		d->v = grown;
		d->cap = cap;
	}
	e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	ct_addr(c, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, &e->orig_src);
	ct_addr(c, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, &e->orig_dst);
	ct_addr(c, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, &e->reply_src);
	ct_addr(c, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, &e->reply_dst);
	e->orig_sport = ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_SRC));
	e->orig_dport = ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_DST));
	e->reply_sport = ntohs(nfct_get_attr_u16(c, ATTR_REPL_PORT_SRC));
	e->reply_dport = ntohs(nfct_get_attr_u16(c, ATTR_REPL_PORT_DST));
	e->state = nfct_get_attr_u8(c, ATTR_TCP_STATE);
	e->timeout_s = nfct_get_attr_u32(c, ATTR_TIMEOUT);
	e->status = nfct_get_attr_u32(c, ATTR_STATUS);
	return NFCT_CB_CONTINUE;
}

int conntrack_dump(struct conntrack *ct, int family, struct ct_entry **out, size_t *n, char *err,
		   size_t errlen)
{
	struct dump_ctx d = { 0 };
	uint32_t fam = (uint32_t)family;
	int ret;

	*out = NULL;
	*n = 0;
	nfct_callback_register(ct->h, NFCT_T_ALL, dump_cb, &d);
	ret = nfct_query(ct->h, NFCT_Q_DUMP, &fam) < 0 ? -errno : 0;
	nfct_callback_unregister(ct->h);
	if (ret == 0 && d.oom)
		ret = -ENOMEM;
	if (ret < 0) {
		free(d.v);
		return fw_err(err, errlen, ret, "conntrack: cannot read the table: %s", strerror(-ret));
	}
	*out = d.v;
	*n = d.n;
	return 0;
}

const struct ct_entry *conntrack_find(const struct ct_entry *v, size_t n,
				      const struct fw_addr *src, uint16_t sport, uint16_t dport)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].orig_sport == sport && v[i].orig_dport == dport &&
		    fw_addr_equal(&v[i].orig_src, src))
			return &v[i];
	/* a source NAT that changed the port: the connection as the server
	 * saw it is the entry's reply direction, toward the NAT's port */
	for (i = 0; i < n; i++)
		if (v[i].reply_dport == sport && v[i].reply_sport == dport &&
		    v[i].orig_dport == dport && fw_addr_equal(&v[i].orig_src, src))
			return &v[i];
	return NULL;
}

void conntrack_describe(const struct ct_entry *e, char *buf, size_t len)
{
	char os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN], rs[INET6_ADDRSTRLEN], rd[INET6_ADDRSTRLEN];
	char status[96];

	inet_ntop(e->orig_src.family, e->orig_src.bytes, os, sizeof(os));
	inet_ntop(e->orig_dst.family, e->orig_dst.bytes, od, sizeof(od));
	inet_ntop(e->reply_src.family, e->reply_src.bytes, rs, sizeof(rs));
	inet_ntop(e->reply_dst.family, e->reply_dst.bytes, rd, sizeof(rd));
	conntrack_status_format(e->status, status, sizeof(status));
	snprintf(buf, len, "%s %us %s %s:%u > %s:%u (reply %s:%u > %s:%u)",
		 conntrack_state_name(e->state), e->timeout_s, status, os, e->orig_sport, od,
		 e->orig_dport, rs, e->reply_sport, rd, e->reply_dport);
}
