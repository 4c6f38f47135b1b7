/* engine_many: many connections under one name (connect/accept with
 * 'connections: N'): opening and closing a group, counting its states, and
 * the maps that find a segment's or a socket's connection by its ports in
 * O(1), which the fault selectors 'connection' and 'every' use. */
#include "engine_int.h"

#include <sys/resource.h>

/* ---- the port map ------------------------------------------------------------ */

uint64_t conn_key(enum fw_host h, uint16_t lport, uint16_t rport)
{
	/* never 0, the empty slot */
	return ((uint64_t)(h + 1) << 32) | ((uint64_t)lport << 16) | rport;
}

static size_t portmap_slot(const struct portmap *m, uint64_t key)
{
	/* Fibonacci hashing: consecutive ports spread over the table */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
}

static int portmap_grow(struct portmap *m)
{
	struct portmap g = { .cap = m->cap ? m->cap * 2 : 64 };
	size_t i;

	g.keys = calloc(g.cap, sizeof(*g.keys));
	g.vals = calloc(g.cap, sizeof(*g.vals));
	if (!g.keys || !g.vals) {
		portmap_free(&g);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (m->keys[i])
			portmap_put(&g, m->keys[i], m->vals[i]);
	portmap_free(m);
	*m = g;
	return 0;
}

/* Insert or replace (a 4-tuple used again is the newer connection). */
int portmap_put(struct portmap *m, uint64_t key, uint32_t val)
{
	size_t i;
	int ret;

	if ((m->n + 1) * 2 > m->cap && (ret = portmap_grow(m)) < 0)
		return ret;
	for (i = portmap_slot(m, key); m->keys[i] && m->keys[i] != key; i = (i + 1) & (m->cap - 1))
		;
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

bool portmap_get(const struct portmap *m, uint64_t key, uint32_t *val)
{
	size_t i;

	if (!m->cap)
		return false;
	for (i = portmap_slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return true;
		}
	return false;
}

void portmap_free(struct portmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- setup and teardown ------------------------------------------------------ */

/* Each connection of a group holds a descriptor on each side: raise the
 * process's limit (we are root) rather than fail at the 1025th. */
static int many_raise_fd_limit(struct engine *E, rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fw_err(E->err, sizeof(E->err), -errno, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fw_err(E->err, sizeof(E->err), -errno,
			      "the case needs %llu file descriptors and cannot raise its limit: %s",
			      (unsigned long long)need, strerror(errno));
	return 0;
}

/* Sized from the case: a flow per connection it opens (the wire may show
 * a few more: 16 spare), and the file descriptors its groups hold. */
int engine_many_setup(struct engine *E)
{
	size_t i, opened = 0, held = 0;

	for (i = 0; i < E->c->nsteps; i++) {
		const struct fw_step *st = &E->c->steps[i];
		uint32_t n = st->connections > 1 ? st->connections : 1;

		if (st->kind != STEP_CONNECT && st->kind != STEP_ACCEPT)
			continue;
		if (st->kind == STEP_CONNECT)
			opened += n;
		held += n;
		if (st->connections > 1)
			E->many = true;
		if (n > E->max_group)
			E->max_group = n;
	}
	E->flows_cap = ENGINE_MAX_FLOWS + opened;
	E->flows = calloc(E->flows_cap, sizeof(*E->flows));
	if (!E->flows)
		return fw_err(E->err, sizeof(E->err), -ENOMEM, "out of memory");
	return E->many ? many_raise_fd_limit(E, (rlim_t)held + 256) : 0;
}

/* A group's descriptors (a single socket's belongs to its esock). */
void engine_many_teardown(struct engine *E)
{
	size_t i;

	for (i = 0; i < E->nconns; i++)
		if (E->conns[i].fd >= 0)
			close(E->conns[i].fd);
	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].n)
			E->socks[i].fd = -1;
	free(E->conns);
	E->conns = NULL;
	E->nconns = 0;
	portmap_free(&E->conn_map);
	portmap_free(&E->flow_map);
	portmap_free(&E->isn_map);
}

/* ---- connections ------------------------------------------------------------ */

static uint16_t sockname_port(int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		    getsockname(fd, (struct sockaddr *)&ss, &len)) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

/* Remember fd (after its connect() or accept) as a connection of socket
 * sock; numbered: it is the case's next connection (connect). A group
 * owns its descriptors here; a single socket's stays its esock's. Returns
 * its index in E->conns or -errno. */
int conn_add(struct engine *E, enum fw_host h, int fd, uint32_t sock, uint16_t rport,
	     bool numbered)
{
	struct econn *c;
	int ret;

	if (E->nconns == E->conns_cap) {
		size_t cap = E->conns_cap ? E->conns_cap * 2 : 64;
		struct econn *grown = realloc(E->conns, cap * sizeof(*grown));

		if (!grown)
			return fw_err(E->err, sizeof(E->err), -ENOMEM, "out of memory");
		E->conns = grown;
		E->conns_cap = cap;
	}
	c = &E->conns[E->nconns];
	memset(c, 0, sizeof(*c));
	c->fd = E->socks[sock].n ? fd : -1;
	c->host = h;
	c->sock = sock;
	c->lport = sockname_port(fd, false);
	c->rport = rport ? rport : sockname_port(fd, true);
	c->number = numbered ? ++E->nconnected : 0;
	ret = portmap_put(&E->conn_map, conn_key(h, c->lport, c->rport), (uint32_t)E->nconns);
	if (ret < 0)
		return fw_err(E->err, sizeof(E->err), ret, "out of memory");
	return (int)E->nconns++;
}

/* The case's number of the connection a segment belongs to (from either
 * end's view of it), 0 when no connect step of the case opened it. */
unsigned conn_number_of(struct engine *E, enum fw_host from, const struct seg *s)
{
	const struct flow *f;
	uint32_t i;

	if (portmap_get(&E->conn_map, conn_key(from, s->sport, s->dport), &i) &&
	    E->conns[i].number)
		return E->conns[i].number;
	if (portmap_get(&E->conn_map, conn_key(other(from), s->dport, s->sport), &i) &&
	    E->conns[i].number)
		return E->conns[i].number;
	/* under ports a box translated: the opener's socket has the SYN's own */
	f = flow_for(E, from, s, false);
	if (f && f->has_xlat &&
	    portmap_get(&E->conn_map, conn_key(f->opener, f->orig_sport, f->orig_dport), &i) &&
	    E->conns[i].number)
		return E->conns[i].number;
	return 0;
}

/* The group a socket of host h with these ports belongs to, or NULL. */
const struct esock *conn_sock(struct engine *E, enum fw_host h, uint16_t lport, uint16_t rport)
{
	uint32_t i;

	if (!portmap_get(&E->conn_map, conn_key(h, lport, rport), &i) ||
	    E->conns[i].sock >= E->nsocks || !E->socks[E->conns[i].sock].n)
		return NULL;
	return &E->socks[E->conns[i].sock];
}

/* A member of a group connect polled writable: its handshake ended. */
void conn_ready(struct engine *E, uint32_t tag)
{
	size_t i = tag - TAG_CONN_BASE;

	if (i >= E->nconns || !E->conns[i].pending)
		return;
	E->conns[i].pending = false;
	E->conns_pending--;
	epoll_ctl(E->epfd, EPOLL_CTL_DEL, E->conns[i].fd, NULL);
}

/* Serve the queue and captures between batches of calls, so neither
 * overflows while thousands of SYNs or FINs leave at once. */
#define MANY_BATCH 64

/* pump(), then the queue, the captures and the socket events whether or
 * not they were among what it took: it takes 8 ready descriptors at a time,
 * and thousands of connecting sockets are ready at once, ahead of them (the
 * socket-event ring overflowed at 10,000 connections, every run). */
static int many_serve(struct engine *E, int64_t deadline)
{
	int ret = pump(E, deadline);

	if (ret >= 0)
		ret = pump_fd(E, TAG_INTERCEPT);
	if (ret >= 0)
		ret = pump_fd(E, TAG_SOCKEV);
	return ret;
}

/* connect, N times: all started at once, then waited for together; the
 * result is the first failure (or FW_EDEADLINE for one still connecting). */
int act_connect_many(struct engine *E, const struct fw_step *st, struct esock *s,
		     int64_t deadline, int *result)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t i, sock;
	int ret = 0;

	s = sock_new(E, st, -1);
	if (!s)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
	sock = (uint32_t)(s - E->socks);
	s->first = (uint32_t)E->nconns;
	step_sockaddr(E, st, st->address == ADDRESS_LOOPBACK ? st->host : st->peer, st->port, &ss,
		      &len);
	for (i = 0; i < st->connections && ret >= 0; i++) {
		struct epoll_event ev = { .events = EPOLLOUT };
		int fd = netns_socket(topo_ns_fd(E->topo, st->host), E->c->family,
				      SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct econn *c;
		int idx;

		if (fd < 0) {
			ret = fw_err(E->err, sizeof(E->err), fd, "socket %u of %u: %s", i + 1,
				     st->connections, strerror(-fd));
			break;
		}
		s->n++; /* the group owns it from here */
		ret = sock_options(st, fd);
		if (ret == 0 && connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
			ret = -errno;
		idx = conn_add(E, st->host, fd, sock, st->port, true);
		if (idx < 0) {
			close(fd);
			s->n--;
			ret = idx;
			break;
		}
		c = &E->conns[idx];
		if (ret < 0) {
			c->err = -ret;
			ret = 0;
		} else {
			ev.data.u32 = TAG_CONN_BASE + (uint32_t)idx;
			if (epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
				ret = fw_err(E->err, sizeof(E->err), -errno, "epoll: %s",
					     strerror(errno));
				break;
			}
			c->pending = true;
			E->conns_pending++;
		}
		if (i % MANY_BATCH == MANY_BATCH - 1)
			ret = many_serve(E, 0);
	}
	if (s->n) {
		s->fd = E->conns[s->first].fd;
		s->has_tuple = true;
		s->lport = E->conns[s->first].lport;
		s->rport = st->port;
	}
	while (ret >= 0 && E->conns_pending && fw_now_ns() < deadline)
		ret = many_serve(E, deadline);
	for (i = s->first; i < s->first + s->n; i++) {
		struct econn *c = &E->conns[i];

		if (c->pending) {
			conn_ready(E, TAG_CONN_BASE + i); /* stops watching it */
			c->err = FW_EDEADLINE;
		} else if (!c->err) {
			len = sizeof(c->err);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->err, &len);
		}
		if (c->err && !*result)
			*result = c->err;
	}
	return ret < 0 ? ret : 0;
}

/* accept, N times from the listener, as the connections come. */
int act_accept_many(struct engine *E, const struct fw_step *st, struct esock *listener,
		    int64_t deadline, int *result)
{
	int lfd = listener->fd;
	struct esock *s = sock_new(E, st, -1);
	uint32_t sock;

	if (!s)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
	sock = (uint32_t)(s - E->socks);
	s->first = (uint32_t)E->nconns;
	while (s->n < st->connections) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), ret;

		if (fd >= 0) {
			s->n++;
			ret = conn_add(E, st->host, fd, sock, 0, false);
			if (ret < 0) {
				close(fd);
				s->n--;
				return ret;
			}
			continue;
		}
		if (errno != EAGAIN) {
			*result = errno;
			break;
		}
		ret = wait_socket(E, lfd, EPOLLIN, deadline);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			*result = FW_EDEADLINE;
			break;
		}
	}
	if (s->n) {
		s->fd = E->conns[s->first].fd;
		s->has_tuple = true;
		s->lport = E->conns[s->first].lport;
		s->rport = E->conns[s->first].rport;
	}
	return 0;
}

/* close or shutdown: every connection of the group, the first failure is
 * the result. */
int act_each_conn(struct engine *E, const struct fw_step *st, struct esock *s, int *result)
{
	uint32_t i;
	int ret = 0;

	for (i = s->first; i < s->first + s->n && ret >= 0; i++) {
		struct econn *c = &E->conns[i];

		if (c->fd < 0)
			continue;
		if (st->kind == STEP_CLOSE) {
			if (close(c->fd) < 0 && !*result)
				*result = errno;
			c->fd = -1;
		} else if (shutdown(c->fd, SHUT_WR) < 0 && !*result) {
			*result = errno;
		}
		if ((i - s->first) % MANY_BATCH == MANY_BATCH - 1)
			ret = many_serve(E, 0);
	}
	if (st->kind == STEP_CLOSE)
		s->fd = -1;
	return ret;
}

/* ---- expectation: how many of a group are in a state --------------------------- */

/* Count the group's connections in each state in the last snapshot;
 * returns how many the snapshot shows at all. */
static uint32_t state_census(struct engine *E, const struct esock *s, uint32_t by_state[16])
{
	const struct host_snapshot *snap = &E->snap[s->host];
	uint32_t seen = 0, i;
	size_t k;

	memset(by_state, 0, 16 * sizeof(by_state[0]));
	if (!s->n) {
		const struct sock_info *si = sock_state(E, s);

		if (si)
			by_state[si->state & 15]++;
		return si != NULL;
	}
	for (k = 0; k < snap->n; k++) {
		const struct sock_info *si = &snap->socks[k];

		if (si->state == FW_TCP_LISTEN ||
		    !portmap_get(&E->conn_map, conn_key(s->host, si->sport, si->dport), &i) ||
		    E->conns[i].sock != (uint32_t)(s - E->socks))
			continue;
		by_state[si->state & 15]++;
		seen++;
	}
	return seen;
}

/* "TIME_WAIT 100, gone 900": the group's states in the last snapshot. */
static void census_text(struct engine *E, const struct esock *s, uint32_t by_state[16],
			char *buf, size_t len)
{
	uint32_t seen = state_census(E, s, by_state), total = s->n ? s->n : 1;
	int state;

	buf[0] = '\0';
	for (state = 1; state < 16; state++)
		if (by_state[state])
			append(buf, len, "%s%s %u", buf[0] ? ", " : "", tcp_state_name(state),
			       by_state[state]);
	append(buf, len, "%sgone %u", buf[0] ? ", " : "", total - seen);
}

/* Failure evidence: each group of host h as its census, in place of a line
 * per socket (engine_fail.c leaves the group's sockets out). */
void many_census_append(struct engine *E, enum fw_host h, char *buf, size_t len)
{
	uint32_t by_state[16];
	char census[256];
	size_t i;

	for (i = 0; i < E->nsocks; i++) {
		const struct esock *s = &E->socks[i];

		if (s->host != h || !s->n)
			continue;
		census_text(E, s, by_state, census, sizeof(census));
		append(buf, len, "\n    %s '%s' (%u connections): %s", fw_host_name(h), s->name,
		       s->n, census);
	}
}

int expect_state_count(struct engine *E, const struct fw_step *st, const struct esock *s)
{
	int64_t deadline = E->cursor_t + st->within_ns, next_dump = 0, t;
	uint32_t by_state[16], total = s->n ? s->n : 1, n;
	char census[256];
	bool dumped;
	int ret;

	for (;;) {
		/* With socket events the snapshot follows the kernel between
		 * dumps; a dump (18 ms at 10,000 sockets, 92 of them in one wait)
		 * still covers what no event says (TIME_WAIT, minisockets), at
		 * most a fifth of the time, and always before a verdict of FAIL. */
		t = fw_now_ns();
		dumped = !events_cover(E) || t >= next_dump || t >= deadline;
		ret = dumped ? probe_host(E, st->host) : events_drain(E);
		if (ret < 0)
			return ret;
		if (dumped)
			next_dump = fw_now_ns() + 4 * (fw_now_ns() - t);
		census_text(E, s, by_state, census, sizeof(census));
		n = by_state[st->state & 15];
		if ((int)n >= st->nsock_min && (int)n <= st->nsock_max)
			break;
		if (dumped && fw_now_ns() >= deadline)
			return step_fail(E, st, "%u of %u are %s (%s)", n, total,
					 tcp_state_name(st->state), census);
		/* a dump of thousands of sockets costs milliseconds: pace them */
		ret = pump(E, fw_now_ns() + ENGINE_STATE_POLL_NS < deadline ?
				  fw_now_ns() + ENGINE_STATE_POLL_NS : deadline);
		if (ret < 0)
			return ret;
	}
	expect_pass(E, st);
	return 0;
}

/* ---- probing paced by its cost ------------------------------------------------- */

/* After each capture batch: a case of a few sockets probes every time (a
 * FIN_WAIT_1 lives a round trip); a case with groups dumps thousands of
 * sockets, so it spends at most a fifth of its time dumping. */
int probe_paced(struct engine *E)
{
	int64_t t = fw_now_ns();
	int ret;

	if (E->many && t < E->probe_next)
		return 0;
	ret = probe_all(E);
	if (E->many)
		E->probe_next = fw_now_ns() + 4 * (fw_now_ns() - t);
	return ret;
}
