/* engine_action: the actions of a case: sockets, injections, faults armed
 * and released, forked children and started programs. */
#include "engine_int.h"

/* ---- actions ---------------------------------------------------------------- */

static void sockaddr_of(const struct fw_addr *a, uint16_t port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->bytes, 16);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		*len = sizeof(*s4);
	}
}

/* Where a listen or connect step points: the host's address, or the
 * wildcard or loopback address of the case's family. */
void step_sockaddr(struct engine *E, const struct fw_step *st, enum fw_host h, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct fw_addr a = { .family = E->c->family };

	if (st->address == ADDRESS_HOST)
		a = E->addr[h];
	else if (st->address == ADDRESS_LOOPBACK && a.family == AF_INET6)
		a.bytes[15] = 1; /* ::1 */
	else if (st->address == ADDRESS_LOOPBACK)
		memcpy(a.bytes, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
	sockaddr_of(&a, port, ss, len);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
						  ((const struct sockaddr_in *)ss)->sin_port);
}

static void sock_learn_tuple(struct esock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		s->lport = port_of(&ss);
	len = sizeof(ss);
	if (!s->listener && getpeername(s->fd, (struct sockaddr *)&ss, &len) == 0)
		s->rport = port_of(&ss);
	s->has_tuple = true;
}

int sock_options(const struct fw_step *st, int fd)
{
	if (st->has_opt &&
	    setsockopt(fd, st->opt_level, st->opt_name, &st->opt_value, sizeof(st->opt_value)) < 0)
		return -errno;
	if (st->reuseaddr >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &st->reuseaddr, sizeof(st->reuseaddr)) < 0)
		return -errno;
	if (st->reuseport >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &st->reuseport, sizeof(st->reuseport)) < 0)
		return -errno;
	if (st->linger >= 0) {
		struct linger l = { .l_onoff = 1, .l_linger = st->linger };

		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
			return -errno;
	}
	return 0;
}

struct esock *sock_new(struct engine *E, const struct fw_step *st, int fd)
{
	struct esock *s = sock_find(E, st->host, st->sock);
	uint32_t i;

	if (!s) {
		if (E->nsocks == ENGINE_MAX_SOCKS)
			return NULL;
		s = &E->socks[E->nsocks++];
	} else if (s->n) {
		/* a group the name stood for: its connections stay open, nameless */
		for (i = s->first; i < s->first + s->n; i++)
			E->conns[i].sock = UINT32_MAX;
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	memset(s, 0, sizeof(*s));
	s->host = st->host;
	snprintf(s->name, sizeof(s->name), "%s", st->sock);
	s->fd = fd;
	return s;
}

/* Wait until fd polls for events or the deadline passes; 1 ready, 0 timeout. */
int wait_socket(struct engine *E, int fd, uint32_t events, int64_t deadline)
{
	int ret = watch_socket(E, fd, events, true);

	if (ret < 0)
		return ret;
	int ready;

	while (!E->socket_ready && fw_now_ns() < deadline) {
		ret = pump(E, deadline);
		if (ret < 0)
			break;
	}
	ready = E->socket_ready;
	watch_socket(E, fd, 0, false);
	return ret < 0 ? ret : ready;
}

struct eproc *proc_find(struct engine *E, const char *name)
{
	size_t i;

	for (i = 0; i < E->nprocs; i++)
		if (strcmp(E->procs[i].name, name) == 0)
			return &E->procs[i];
	return NULL;
}

/* The child takes copies of every open socket of the host. */
static int do_fork(struct engine *E, const struct fw_step *st, int *result)
{
	int fds[ENGINE_MAX_SOCKS];
	size_t i, n = 0;
	struct eproc *p;
	int ret;

	if (proc_find(E, st->proc))
		return fw_err(E->err, sizeof(E->err), -EEXIST, "a child named '%s' already exists",
			      st->proc);
	if (E->nprocs == ENGINE_MAX_PROCS)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many children");
	for (i = 0; i < E->nsocks; i++)
		if (E->socks[i].host == st->host && E->socks[i].fd >= 0)
			fds[n++] = E->socks[i].fd;
	p = &E->procs[E->nprocs];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", st->proc);
	p->host = st->host;
	p->prog.log_fd = -1;
	ret = proc_fork(&p->prog.child, fds, n);
	if (ret < 0) {
		*result = -ret;
		return 0;
	}
	E->nprocs++;
	return 0;
}

/* Signal the child and wait (on its pidfd) until it is gone. */
static int do_kill(struct engine *E, const struct fw_step *st, int64_t deadline, int *result)
{
	struct eproc *p = proc_find(E, st->proc);
	char how[64];
	int ret;

	if (!p)
		return fw_err(E->err, sizeof(E->err), -ESRCH,
			      "no child named '%s' (create it with a fork step)", st->proc);
	if (p->prog.child.reaped || kill(p->prog.child.pid, st->signal) < 0) {
		*result = ESRCH;
		return 0;
	}
	while (!proc_reap(&p->prog.child)) {
		if (fw_now_ns() >= deadline) {
			*result = FW_EDEADLINE;
			return 0;
		}
		ret = wait_socket(E, p->prog.child.pidfd, EPOLLIN, deadline);
		if (ret < 0)
			return ret;
	}
	proc_describe(&p->prog.child, how, sizeof(how));
	add_event(E, EV_STEP, fw_now_ns(), p->host, "child '%s' %s", p->name, how);
	return 0;
}

/* The case file's directory: FW_CASE_DIR for a program. */
static void case_dir(const struct fw_case *c, char *buf, size_t len)
{
	const char *slash = strrchr(c->path, '/');

	snprintf(buf, len, "%.*s", slash ? (int)(slash - c->path) : 1, slash ? c->path : ".");
}

/* start: the user's program in the host's namespace, ready when it listens
 * on its port. A program that dies or never listens is the action's result
 * (ECHILD, ETIMEDOUT), with its own words in the timeline. */
static int do_start(struct engine *E, const struct fw_step *st, int64_t deadline, int *result)
{
	char dir[CASE_MAX_PATH], msg[FW_ERRLEN];
	struct eproc *p;
	int ret;

	if (proc_find(E, st->proc))
		return fw_err(E->err, sizeof(E->err), -EEXIST, "a process named '%s' already exists",
			      st->proc);
	if (E->nprocs == ENGINE_MAX_PROCS)
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many processes");
	p = &E->procs[E->nprocs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", st->proc);
	p->host = st->host;
	case_dir(E->c, dir, sizeof(dir));
	ret = program_start(&p->prog, st->proc, topo_ns_fd(E->topo, st->host), st->run,
			    E->c->dut.present && E->c->dut.mode == DUT_BRIDGE, dir,
			    st->port, deadline, msg, sizeof(msg));
	if (ret < 0) {
		*result = ret == -ETIMEDOUT ? FW_EDEADLINE : ECHILD;
		add_event(E, EV_STEP, fw_now_ns(), st->host, "%s", msg);
	}
	return 0;
}

/* At teardown: a program still running is killed; what it wrote goes into
 * the timeline. */
void engine_proc_end(struct engine *E, struct eproc *p)
{
	char report[2600];

	program_stop(&p->prog, report, sizeof(report));
	if (report[0] && p->prog.log_fd < 0 && p->prog.name[0])
		add_event(E, EV_STEP, fw_now_ns(), p->host, "'%s' %s", p->name, report);
}

/* Each action: *result gets its errno (0 = success); the return value is
 * the engine's own error (< 0) or 0. s is the step's socket when its kind
 * needs one (step_kind_needs_socket), else NULL. */
typedef int action_fn(struct engine *E, const struct fw_step *st, struct esock *s,
		      int64_t deadline, int *result);

/* listen and connect: a new socket in the host's namespace */
static int act_open(struct engine *E, const struct fw_step *st, struct esock **out, int *result)
{
	int fd = netns_socket(topo_ns_fd(E->topo, st->host), E->c->family,
			      SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ret;

	*out = NULL;
	if (fd < 0)
		return fw_err(E->err, sizeof(E->err), fd, "socket: %s", strerror(-fd));
	ret = sock_options(st, fd);
	if (ret < 0) {
		close(fd);
		*result = -ret;
		return 0;
	}
	*out = sock_new(E, st, fd);
	if (!*out) {
		close(fd);
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
	}
	return 0;
}

static int act_listen(struct engine *E, const struct fw_step *st, struct esock *s,
		      int64_t deadline, int *result)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ret = act_open(E, st, &s, result);
	/* a group's connections all wait in the queue before accept takes them */
	int backlog = E->max_group > 64 ? (int)E->max_group : 64;

	(void)deadline;
	if (ret < 0 || !s)
		return ret;
	s->listener = true;
	step_sockaddr(E, st, st->host, st->port, &ss, &len);
	if (bind(s->fd, (struct sockaddr *)&ss, len) < 0 || listen(s->fd, backlog) < 0)
		*result = errno;
	else
		sock_learn_tuple(s);
	return 0;
}

static int act_connect(struct engine *E, const struct fw_step *st, struct esock *s,
		       int64_t deadline, int *result)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ret;

	if (st->connections > 1)
		return act_connect_many(E, st, s, deadline, result);
	ret = act_open(E, st, &s, result);
	if (ret < 0 || !s)
		return ret;
	if (st->from_port) {
		step_sockaddr(E, st, st->host, st->from_port, &ss, &len);
		if (bind(s->fd, (struct sockaddr *)&ss, len) < 0) {
			*result = errno;
			return 0;
		}
	}
	step_sockaddr(E, st, st->address == ADDRESS_LOOPBACK ? st->host : st->peer, st->port, &ss,
		      &len);
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		*result = errno;
		return 0;
	}
	/* numbered for the fault selectors before its SYN is judged */
	ret = conn_add(E, st->host, s->fd, (uint32_t)(s - E->socks), st->port, true);
	if (ret >= 0)
		ret = wait_socket(E, s->fd, EPOLLOUT, deadline);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		/* the step's deadline, not the kernel's: the socket stays, still
		 * connecting, for the case to observe */
		*result = FW_EDEADLINE;
		sock_learn_tuple(s);
		s->rport = st->port; /* no peer name before the handshake ends */
		return 0;
	}
	len = sizeof(*result);
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, result, &len);
	if (*result == 0)
		sock_learn_tuple(s);
	return 0;
}

/* s is the listener; the accepted socket takes the step's own name */
static int act_accept(struct engine *E, const struct fw_step *st, struct esock *s,
		      int64_t deadline, int *result)
{
	int fd, ret;

	if (st->connections > 1)
		return act_accept_many(E, st, s, deadline, result);
	ret = wait_socket(E, s->fd, EPOLLIN, deadline);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		*result = FW_EDEADLINE;
		return 0;
	}
	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		*result = errno;
		return 0;
	}
	s = sock_new(E, st, fd);
	if (!s) {
		close(fd);
		return fw_err(E->err, sizeof(E->err), -ENOSPC, "too many sockets");
	}
	sock_learn_tuple(s);
	return 0;
}

/* send: up to 1 GiB, handed to the kernel as it takes it. The socket is
 * non-blocking: each chunk goes as far as the send buffer has room, and
 * between chunks the event loop runs (capture, the queue, probes) until the
 * socket is writable again or the step's deadline passes. The bytes are one
 * 64 KiB block of 'x' sent over and over, never the whole buffer. */
#define SEND_CHUNK (64 * 1024)
static int act_send(struct engine *E, const struct fw_step *st, struct esock *s,
		    int64_t deadline, int *result)
{
	static char fill[SEND_CHUNK];
	uint32_t sent = 0;
	int ret = 0;

	if (!fill[0])
		memset(fill, 'x', sizeof(fill));
	while (sent < st->bytes) {
		size_t chunk = st->bytes - sent < sizeof(fill) ? st->bytes - sent : sizeof(fill);
		ssize_t n = send(s->fd, fill, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			sent += (uint32_t)n;
			continue;
		}
		if (errno != EAGAIN) {
			*result = errno;
			break;
		}
		ret = wait_socket(E, s->fd, EPOLLOUT, deadline);
		if (ret <= 0) {
			*result = ret < 0 ? -ret : FW_EDEADLINE;
			break;
		}
		ret = 0;
	}
	if (sent < st->bytes) /* how far it got, for the timeline */
		snprintf(E->action_note, sizeof(E->action_note), " (%u of %u bytes handed over)",
			 sent, st->bytes);
	return ret < 0 ? ret : 0;
}

static int act_recv(struct engine *E, const struct fw_step *st, struct esock *s,
		    int64_t deadline, int *result)
{
	char buf[4096];
	uint32_t got = 0;

	for (;;) {
		/* never past the step's bytes: what is left is the next step's */
		size_t want = st->eof || st->bytes - got > sizeof(buf) ? sizeof(buf) : st->bytes - got;
		ssize_t n = recv(s->fd, buf, want, 0);
		int ret;

		if (n > 0) {
			got += (uint32_t)n;
			if (!st->eof && got >= st->bytes)
				return 0;
			continue;
		}
		if (n == 0) {
			if (!st->eof)
				*result = EPIPE; /* the stream ended before the bytes came */
			return 0;
		}
		if (errno != EAGAIN) {
			*result = errno;
			return 0;
		}
		ret = wait_socket(E, s->fd, EPOLLIN | EPOLLRDHUP, deadline);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			*result = FW_EDEADLINE;
			return 0;
		}
	}
}

static int act_shutdown(struct engine *E, const struct fw_step *st, struct esock *s,
			int64_t deadline, int *result)
{
	(void)deadline;
	if (s->n)
		return act_each_conn(E, st, s, result);
	if (shutdown(s->fd, SHUT_WR) < 0)
		*result = errno;
	return 0;
}

static int act_close(struct engine *E, const struct fw_step *st, struct esock *s,
		     int64_t deadline, int *result)
{
	(void)deadline;
	if (s->n)
		return act_each_conn(E, st, s, result);
	if (close(s->fd) < 0)
		*result = errno;
	s->fd = -1;
	return 0;
}

static int act_setsockopt(struct engine *E, const struct fw_step *st, struct esock *s,
			  int64_t deadline, int *result)
{
	int ret = sock_options(st, s->fd);

	(void)E;
	(void)deadline;
	if (ret < 0)
		*result = -ret;
	return 0;
}

static int act_arm(struct engine *E, const struct fw_step *st, struct esock *s,
		   int64_t deadline, int *result)
{
	(void)s;
	(void)deadline;
	(void)result;
	fault_set_arm(E->faults, (size_t)st->fault, st->kind == STEP_ARM);
	return 0;
}

static int act_release(struct engine *E, const struct fw_step *st, struct esock *s,
		       int64_t deadline, int *result)
{
	(void)s;
	(void)deadline;
	(void)result;
	engine_release_rule(E, (size_t)st->fault, INT64_MAX);
	return 0;
}

static int act_fork(struct engine *E, const struct fw_step *st, struct esock *s,
		    int64_t deadline, int *result)
{
	(void)s;
	(void)deadline;
	return do_fork(E, st, result);
}

static int act_kill(struct engine *E, const struct fw_step *st, struct esock *s,
		    int64_t deadline, int *result)
{
	(void)s;
	return do_kill(E, st, deadline, result);
}

static int act_start(struct engine *E, const struct fw_step *st, struct esock *s,
		     int64_t deadline, int *result)
{
	(void)s;
	return do_start(E, st, deadline, result);
}

/* The actions run_action() runs (inject and wait have runners of their own). */
static action_fn *const actions[STEP_KIND_COUNT] = {
    [STEP_LISTEN] = act_listen,
    [STEP_CONNECT] = act_connect,
    [STEP_ACCEPT] = act_accept,
    [STEP_SEND] = act_send,
    [STEP_RECV] = act_recv,
    [STEP_SHUTDOWN] = act_shutdown,
    [STEP_CLOSE] = act_close,
    [STEP_SETSOCKOPT] = act_setsockopt,
    [STEP_ARM] = act_arm,
    [STEP_DISARM] = act_arm,
    [STEP_RELEASE] = act_release,
    [STEP_FORK] = act_fork,
    [STEP_KILL] = act_kill,
    [STEP_START] = act_start,
};

/* Runs an action; returns its errno result (0 = success) in *result, or a
 * negative error of the engine itself. */
static int do_action_call(struct engine *E, const struct fw_step *st, int *result)
{
	struct esock *s = NULL;

	*result = 0;
	if (!actions[st->kind])
		return -EINVAL;
	if (step_kind_needs_socket(st->kind)) {
		/* accept names the socket it creates; it takes from the listener. */
		const char *name = st->kind == STEP_ACCEPT ? st->listener : st->sock;

		s = sock_find(E, st->host, name);
		if (!s || s->fd < 0)
			return fw_err(E->err, sizeof(E->err), -EBADF,
				      "%s has no open socket '%s' (create it with listen, connect "
				      "or accept)",
				      fw_host_name(st->host), name);
	}
	return actions[st->kind](E, st, s, fw_now_ns() + st->within_ns, result);
}

int do_action(struct engine *E, const struct fw_step *st, int *result)
{
	int ret;

	E->acting = true;
	ret = do_action_call(E, st, result);
	E->acting = false;
	/* listen(), bind() and close() have no socket event: the host's next
	 * dump walks the listening and bind tables again */
	E->outside_known[st->host] = false;
	if (st->kind == STEP_START || st->kind == STEP_FORK)
		E->outside_wild[st->host] = true;
	return ret;
}

/* Value of an injection expression from what the wire has shown. */
int expr_value(struct engine *E, const struct flow *f, const struct fw_expr *x,
		      enum fw_host sender, enum fw_host target, uint32_t number_base,
		      uint32_t *out)
{
	const char *missing = NULL;

	switch (x->base) {
	case EXPR_NUMBER:
		*out = number_base + (uint32_t)x->offset;
		return 0;
	case EXPR_RCV_NXT:
		if (!f->has_ack[target])
			missing = "rcv_nxt: the target has sent no ACK yet";
		else
			*out = f->ack[target] + (uint32_t)x->offset;
		break;
	case EXPR_SND_NXT:
		if (!f->has_nxt[target])
			missing = "snd_nxt: the target has sent nothing yet";
		else
			*out = f->snd_nxt[target] + (uint32_t)x->offset;
		break;
	case EXPR_TSVAL:
	case EXPR_OWN_TSVAL: /* as of now (a segment expectation asks the timeline) */
		if (!f->has_ts[sender])
			missing = "tsval: the sender has sent no timestamp option";
		else
			*out = f->tsval[sender] + (uint32_t)x->offset;
		break;
	case EXPR_TSECR:
	case EXPR_PEER_TSVAL:
		if (!f->has_ts[target])
			missing = "tsecr: the target has sent no timestamp option";
		else
			*out = f->tsval[target] + (uint32_t)x->offset;
		break;
	case EXPR_MARK_TSVAL: {
		/* by name: a matrix row's run has only its own steps, so the
		 * index the loader saw may not be this run's */
		const struct step_seg *m = &E->step_seg[E->c->nsteps]; /* never set */
		size_t i;

		for (i = 0; i < E->c->nsteps; i++)
			if (strcmp(E->c->steps[i].mark, x->mark) == 0)
				m = &E->step_seg[i];
		if (!m->set || !m->seg.has_ts) {
			fw_err(E->err, sizeof(E->err), -ENODATA,
			       "tsval(%s): the step marked so %s", x->mark,
			       m->set ? "had a segment without a timestamp" : "has no segment (yet)");
			return -ENODATA;
		}
		*out = m->seg.tsval + (uint32_t)x->offset;
		break;
	}
	case EXPR_PREV_SND_NXT:
		if (!f->has_prev_nxt[target])
			missing = "prev_snd_nxt: no earlier incarnation of this 4-tuple";
		else
			*out = f->prev_snd_nxt[target] + (uint32_t)x->offset;
		break;
	case EXPR_PREV_RCV_NXT:
		if (!f->has_prev_ack[target])
			missing = "prev_rcv_nxt: no earlier incarnation of this 4-tuple";
		else
			*out = f->prev_ack[target] + (uint32_t)x->offset;
		break;
	case EXPR_RCV_WND_END: {
		/* RFC 7323 2.2: the window of a non-SYN segment is scaled only
		 * when both SYNs carried the option. */
		int shift = f->wscale[target] >= 0 && f->wscale[sender] >= 0 ? f->wscale[target] : 0;

		if (!f->has_ack[target])
			missing = "rcv_wnd_end: the target has sent no ACK yet";
		else
			*out = f->ack[target] + ((uint32_t)f->win[target] << shift) +
			       (uint32_t)x->offset;
		break;
	}
	}
	if (missing)
		return fw_err(E->err, sizeof(E->err), -ENODATA, "%s", missing);
	return 0;
}

/* The target's reaction can only be judged once the injected segment has
 * reached it: wait (bounded) until capture sees it on the target's leg. A
 * fault may drop it on the way; then there is nothing more to wait for. */
static int wait_injected_arrival(struct engine *E, const struct seg *q)
{
	int64_t deadline = fw_now_ns() + FW_NS_PER_SEC;
	size_t i;
	int ret;

	for (;;) {
		bool pending = false;

		for (i = 0; i < E->npending_inject; i++)
			if (E->pending_inject[i].seg.seq == q->seq &&
			    E->pending_inject[i].seg.flags == q->flags &&
			    E->pending_inject[i].seg.sport == q->sport)
				pending = true;
		if (!pending || fw_now_ns() >= deadline)
			return 0;
		ret = pump(E, deadline);
		if (ret < 0)
			return ret;
	}
}

/* The segment an inject step sends: addresses and ports of the current
 * flow, its header and options, and its numbers taken from the wire. */
static int inject_spec_build(struct engine *E, const struct fw_step *st, struct inject_spec *out)
{
	static const struct fw_expr def_seq = { .set = true, .base = EXPR_RCV_NXT };
	static const struct fw_expr def_ack = { .set = true, .base = EXPR_SND_NXT };
	static const struct fw_expr def_tsval = { .set = true, .base = EXPR_TSVAL, .offset = 1 };
	static const struct fw_expr def_tsecr = { .set = true, .base = EXPR_TSECR };
	enum fw_host h = st->host, p = st->peer;
	struct inject_spec spec;
	struct flow *f;
	uint8_t i;
	int fi, ret;

	/* The numbers come from what capture has shown: read what it holds
	 * first, or a segment the kernel sent while the steps before polled
	 * sockets would be missed (a stale TSval fails PAWS at the target). */
	ret = drain(E);
	if (ret < 0)
		return ret;
	/* a proxy's connection the step names, else the latest connection */
	fi = st->conn == CONN_ANY ? E->cur_flow : E->leg_flow[st->conn == CONN_FRONT ? HOST_CLIENT : HOST_SERVER];
	if (fi < 0)
		return fw_err(E->err, sizeof(E->err), -ENODATA,
			      "no connection has been seen on the wire to aim at");
	f = &E->flows[fi];
	memset(&spec, 0, sizeof(spec));
	spec.src = E->addr[h];
	spec.dst = E->addr[p];
	spec.sport = f->port[h];
	spec.dport = f->port[p];
	if (f->has_seen[h] && p != HOST_DUT) { /* the peer as h sees it: a NAT between translates it back */
		spec.dst = f->seen_addr[h];
		spec.dport = f->seen_port[h];
	}
	spec.flags = st->flags_value;
	spec.win = st->win >= 0 ? (uint16_t)st->win : 65535;
	spec.payload_len = st->payload_len ? st->payload_len : st->len > 0 ? (uint32_t)st->len : 0;
	spec.payload = st->payload_len ? (const uint8_t *)st->payload : NULL;
	spec.has_mss = st->opt_mss >= 0;
	spec.mss = spec.has_mss ? (uint16_t)st->opt_mss : 0;
	spec.has_wscale = st->opt_wscale >= 0;
	spec.wscale = spec.has_wscale ? (uint8_t)st->opt_wscale : 0;
	spec.sack_ok = st->opt_sack_ok > 0;
	spec.nsack = st->nsack;
	for (i = 0; i < st->nsack; i++) { /* the target's sequence space */
		ret = expr_value(E, f, &st->sack[i][0], h, p, f->isn[p], &spec.sack[i][0]);
		if (ret == 0)
			ret = expr_value(E, f, &st->sack[i][1], h, p, f->isn[p], &spec.sack[i][1]);
		if (ret < 0)
			return ret;
	}
	ret = expr_value(E, f, st->seq.set ? &st->seq : &def_seq, h, p, f->isn[h], &spec.seq);
	if (ret < 0)
		return ret;
	if (spec.flags & SEG_ACK) {
		ret = expr_value(E, f, st->ack.set ? &st->ack : &def_ack, h, p, f->isn[p], &spec.ack);
		if (ret < 0)
			return ret;
	}
	if (st->ts) {
		spec.has_ts = true;
		ret = expr_value(E, f, st->tsval.set ? &st->tsval : &def_tsval, h, p, 0, &spec.tsval);
		if (ret < 0)
			return ret;
		ret = expr_value(E, f, st->tsecr.set ? &st->tsecr : &def_tsecr, h, p, 0, &spec.tsecr);
		if (ret < 0)
			return ret;
	}
	*out = spec;
	return 0;
}

/* The injected segment in the timeline, as the wire would show it. */
static void inject_event(struct engine *E, const struct fw_step *st, const struct inject_spec *sp,
			 struct fw_event *ev)
{
	enum fw_host h = st->host;

	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_INJECT;
	ev->t_ns = fw_now_ns() - E->t0;
	ev->step = E->step;
	ev->host = h;
	ev->rule = -1;
	ev->seg.src = sp->src;
	ev->seg.dst = sp->dst;
	ev->seg.sport = sp->sport;
	ev->seg.dport = sp->dport;
	ev->seg.seq = sp->seq;
	ev->seg.ack = sp->ack;
	ev->seg.flags = sp->flags;
	ev->seg.win = sp->win;
	ev->seg.len = sp->payload_len;
	ev->seg.has_ts = sp->has_ts;
	ev->seg.tsval = sp->tsval;
	ev->seg.tsecr = sp->tsecr;
	ev->seg.has_mss = sp->has_mss;
	ev->seg.mss = sp->mss;
	ev->seg.wscale = sp->has_wscale ? (int8_t)sp->wscale : -1;
	ev->seg.sack_ok = sp->sack_ok;
	ev->seg.nsack = sp->nsack;
	memcpy(ev->seg.sack, sp->sack, sizeof(ev->seg.sack));
	seg_text(E, h, &ev->seg, ev, !st->at_box ? "inject " :
				       st->at == FAULT_LEG_A ? "inject from wire-a: " : "inject from wire-b: ");
}

int do_inject(struct engine *E, const struct fw_step *st)
{
	struct inject_spec spec;
	struct fw_event ev, *added;
	int ret = inject_spec_build(E, st, &spec);

	if (ret < 0)
		return ret;
	/* from a wire (leg): the sender's address, sent where that wire meets the box */
	ret = inject_send(st->at_box ? E->inj_wire[st->at] : E->inj[st->host], &spec, E->err,
			  sizeof(E->err));
	if (ret < 0)
		return ret;
	inject_event(E, st, &spec, &ev);
	E->step_seg[E->step].set = true; /* for a later tsval(MARK) */
	E->step_seg[E->step].seg = ev.seg;
	added = timeline_add(&E->res->tl, &ev);
	if (!added || E->npending_inject == ENGINE_MAX_PENDING_INJECT)
		return 0;
	E->pending_inject[E->npending_inject].seg = ev.seg;
	/* from a wire, no copy crosses the sender's own leg */
	E->pending_inject[E->npending_inject].seen_sent = st->at_box;
	/* to a proxy (conn): it ends there, no copy reaches the other endpoint */
	E->pending_inject[E->npending_inject].seen_arrived = st->conn != CONN_ANY;
	E->npending_inject++;
	return wait_injected_arrival(E, &ev.seg);
}
