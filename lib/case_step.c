/* case_step: the step kinds, one row each (what a kind takes and how it is
 * said in words), and the names a step may use (socket options, signals). */
#include "case_int.h"

/* ---- how a step is said in words ------------------------------------------ */

/* What every description uses, worked out once. */
struct step_words {
	const char *h;    /* the step's host */
	char within[32];  /* its window, "2s" */
	char flags[160];  /* its flags, "F." or "any" */
	char sock[48];    /* 'conn', or "on port 8080" for a program's socket */
};

#define SAY(s, ...) snprintf((s)->text, sizeof((s)->text), __VA_ARGS__)

static void say_listen(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s listens on port %u%s", w->h, s->port,
	    s->address == ADDRESS_ANY	     ? " (any address)"
	    : s->address == ADDRESS_LOOPBACK ? " (loopback)"
					     : "");
}

static void say_connect(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char many[64] = "";

	(void)c;
	if (s->connections > 1)
		snprintf(many, sizeof(many), " %u times ('%s')", s->connections, s->sock);
	if (s->address == ADDRESS_LOOPBACK)
		SAY(s, "%s connects to its own loopback port %u%s", w->h, s->port, many);
	else
		SAY(s, "%s connects to %s port %u%s", w->h, fw_host_name(s->peer), s->port, many);
}

static void say_accept(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	bool named = strcmp(s->listener, "listen") != 0;

	(void)c;
	if (s->connections > 1)
		SAY(s, "%s accepts %u connections ('%s')%s%s", w->h, s->connections, s->sock,
		    named ? " from listener " : "", named ? s->listener : "");
	else
		SAY(s, "%s accepts a connection%s%s", w->h, named ? " from listener " : "",
		    named ? s->listener : "");
}

static void say_send(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s sends %u bytes", w->h, s->bytes);
}

static void say_recv(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	if (s->eof)
		SAY(s, "%s reads until end of stream within %s", w->h, w->within);
	else
		SAY(s, "%s reads %u bytes within %s", w->h, s->bytes, w->within);
}

static void say_shutdown(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s calls shutdown(SHUT_WR)", w->h);
}

static void say_close(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s calls close()", w->h);
}

static void say_setsockopt(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	if (s->has_opt)
		SAY(s, "%s sets %s=%d on '%s'", w->h, s->opt_text, s->opt_value, s->sock);
	else
		SAY(s, "%s sets socket options on '%s'", w->h, s->sock);
}

static void say_inject(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char opts[96] = "";
	size_t n = 0;

	(void)c;
	if (s->opt_mss >= 0)
		n += (size_t)snprintf(opts + n, sizeof(opts) - n, ", mss %d", s->opt_mss);
	if (s->opt_wscale >= 0 && n < sizeof(opts))
		n += (size_t)snprintf(opts + n, sizeof(opts) - n, ", wscale %d", s->opt_wscale);
	if (s->opt_sack_ok > 0 && n < sizeof(opts))
		n += (size_t)snprintf(opts + n, sizeof(opts) - n, ", sackOK");
	if (s->nsack && n < sizeof(opts))
		n += (size_t)snprintf(opts + n, sizeof(opts) - n, ", %u SACK block(s)", s->nsack);
	if (s->payload_len && n < sizeof(opts))
		snprintf(opts + n, sizeof(opts) - n, ", %u payload bytes", s->payload_len);
	SAY(s, "inject %s from %s to %s%s%s%s%s", w->flags, w->h,
	    s->conn != CONN_ANY ? "the proxy" : fw_host_name(s->peer), opts,
	    s->at_box ? ", sent from " : "", s->at_box ? fault_leg_name(s->at) : "",
	    s->conn == CONN_FRONT ? " on the front connection" :
	    s->conn == CONN_BACK ? " on the back connection" : "");
}

static void say_fault(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)w;
	if (s->kind == STEP_RELEASE)
		SAY(s, "release what fault '%s' holds", c->faults[s->fault].name);
	else
		SAY(s, "%s fault '%s'", step_kind_name(s->kind), c->faults[s->fault].name);
}

static void say_fork(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s forks child '%s', which shares its sockets", w->h, s->proc);
}

static void say_kill(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	(void)w;
	SAY(s, "kill child '%s' with SIG%s", s->proc,
	    sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
}

static void say_wait(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "wait %s", w->within);
}

static void say_start(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s starts '%s' (%.160s)%s", w->h, s->proc, s->run,
	    s->port ? ", which must listen" : "");
}

/* Append the options a segment expectation asks for to its flags: "F. with dsack, mss 1460" */
static void seg_options_text(const struct fw_step *s, char *buf, size_t len)
{
	size_t used = strlen(buf);
	const char *sep = " with ";
	char x[64];

#define SEG_OPT_ADD(cond, ...)                                                                     \
	do {                                                                                       \
		if ((cond) && used < len) {                                                        \
			used += (size_t)snprintf(buf + used, len - used, "%s", sep);               \
			if (used < len)                                                            \
				used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);     \
			sep = ", ";                                                                \
		}                                                                                  \
	} while (0)
	SEG_OPT_ADD(s->win >= 0, "win %d", s->win);
	SEG_OPT_ADD(s->opt_mss >= 0, "mss %d", s->opt_mss);
	SEG_OPT_ADD(s->opt_wscale >= 0, "wscale %d", s->opt_wscale);
	SEG_OPT_ADD(s->opt_sack_ok >= 0, "%ssackOK", s->opt_sack_ok ? "" : "no ");
	SEG_OPT_ADD(s->opt_ts >= 0, "%stimestamps", s->opt_ts ? "" : "no ");
	SEG_OPT_ADD(s->opt_dsack >= 0, "%sD-SACK", s->opt_dsack ? "a " : "no ");
	SEG_OPT_ADD(s->opt_sack_blocks >= 0, "%d SACK block(s)", s->opt_sack_blocks);
	SEG_OPT_ADD(s->isn.set, "ISN %s%+lld",
		    s->isn.base == EXPR_PREV_SND_NXT ? "prev_snd_nxt" : "prev_rcv_nxt",
		    (long long)s->isn.offset);
	expr_format(&s->tsval, x, sizeof(x));
	SEG_OPT_ADD(s->tsval.set, "TSval %s", x);
	expr_format(&s->tsecr, x, sizeof(x));
	SEG_OPT_ADD(s->tsecr.set, "TSecr %s", x);
#undef SEG_OPT_ADD
}

/* " into the box on wire-a", " out of the box on wire-b": where a step with
 * 'at' looks (the sender's side is where its segments go in) */
static const char *say_at(const struct fw_step *s)
{
	static const char *const words[FAULT_LEG_COUNT][2] = {
		[FAULT_LEG_A] = { " out of the box on wire-a", " into the box on wire-a" },
		[FAULT_LEG_B] = { " out of the box on wire-b", " into the box on wire-b" },
	};
	bool into = (s->at == FAULT_LEG_A && s->host == HOST_CLIENT) ||
		    (s->at == FAULT_LEG_B && s->host == HOST_SERVER);

	if (s->conn != CONN_ANY) /* a proxy's connection, not a place */
		return s->conn == CONN_FRONT ? " on the front connection (client to proxy)" :
					       " on the back connection (proxy to server)";
	return s->at_box ? words[s->at][into] : "";
}

static void say_segment(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char flags[sizeof(w->flags)];

	(void)c;
	snprintf(flags, sizeof(flags), "%s", w->flags);
	seg_options_text(s, flags, sizeof(flags));
	if (s->count_min >= 0) {
		char n[32];

		if (s->count_min == s->count_max)
			snprintf(n, sizeof(n), "%d", s->count_min);
		else
			snprintf(n, sizeof(n), "%d to %d", s->count_min, s->count_max);
		SAY(s, "%s %s %s %s segment(s) in %s", w->h, s->arrived ? "has delivered" : "sends",
		    n, flags, w->within);
		return;
	}
	SAY(s, "%s %s %s%s%s%s within %s", s->arrived ? fw_host_name(s->peer) : w->h,
	    s->arrived ? "receives" : "sends",
	    s->has_flags && s->flags_mask != 0xff ? "a segment with " : "", flags,
	    s->arrived ? " from the other host" : "", say_at(s), w->within);
}

static void say_no_segment(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s %s no %s%ssegment%s%s for %s", s->arrived ? fw_host_name(s->peer) : w->h,
	    s->arrived ? "receives" : "sends", s->has_flags ? w->flags : "", s->has_flags ? " " : "",
	    s->arrived ? " from the other host" : "", say_at(s), w->within);
}

static void say_state(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char timer[96] = "", lo[32], hi[32];

	(void)c;
	fw_duration_format(s->timer_min_ns, lo, sizeof(lo));
	fw_duration_format(s->timer_max_ns, hi, sizeof(hi));
	if (s->timer >= 0 || s->timer_min_ns >= 0 || s->timer_max_ns >= 0)
		snprintf(timer, sizeof(timer), " with timer %s%s%s%s%s",
			 s->timer >= 0 ? sock_timer_name(s->timer) : "on",
			 s->timer_min_ns >= 0 ? " >= " : "", s->timer_min_ns >= 0 ? lo : "",
			 s->timer_max_ns >= 0 ? " <= " : "", s->timer_max_ns >= 0 ? hi : "");
	if (s->never)
		SAY(s, "%s's socket %s never enters %s within %s", w->h, w->sock,
		    tcp_state_name(s->state), w->within);
	else if (s->nsock_min >= 0 && s->nsock_min == s->nsock_max)
		SAY(s, "%d of %s's connections %s are %s within %s", s->nsock_min, w->h, w->sock,
		    tcp_state_name(s->state), w->within);
	else if (s->nsock_min >= 0)
		SAY(s, "%d to %d of %s's connections %s are %s within %s", s->nsock_min,
		    s->nsock_max, w->h, w->sock, tcp_state_name(s->state), w->within);
	else
		SAY(s, "%s's socket %s reaches %s%s within %s", w->h, w->sock,
		    tcp_state_name(s->state), timer, w->within);
}

static void say_retransmits(const struct fw_case *c, struct fw_step *s,
			    const struct step_words *w)
{
	char n[32];

	(void)c;
	if (s->count_min == s->count_max)
		snprintf(n, sizeof(n), "%d", s->count_min);
	else
		snprintf(n, sizeof(n), "%d to %d", s->count_min, s->count_max);
	SAY(s, "the kernel retransmits %s time(s) from %s's socket %s within %s", n, w->h, w->sock,
	    w->within);
}

static void say_gone(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s's socket %s is gone within %s", w->h, w->sock, w->within);
}

static void say_counter(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	SAY(s, "%s's counter %s grows by %s%lld%s%s%s within %s", w->h, s->counter,
	    s->delta_is_min ? "at least " : "", (long long)s->delta,
	    s->since[0] ? " since step '" : "", s->since, s->since[0] ? "'" : "", w->within);
}

static void say_sysctl(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	if (s->absent)
		SAY(s, "%s has no sysctl %s", w->h, s->sysctl);
	else
		SAY(s, "%s's sysctl %s reads %s", w->h, s->sysctl, s->equals);
}

/* "the box's conntrack entry is TIME_WAIT with ASSURED, 100s-120s left, within 1s" */
static void say_conntrack(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char status[96] = "", lo[32], hi[32], left[80] = "";

	(void)c;
	if (s->ct_gone) {
		SAY(s, "the box's conntrack entry is gone within %s", w->within);
		return;
	}
	if (s->ct_status)
		conntrack_status_format(s->ct_status, status, sizeof(status));
	fw_duration_format(s->ct_timeout_min_ns, lo, sizeof(lo));
	fw_duration_format(s->ct_timeout_max_ns, hi, sizeof(hi));
	if (s->ct_timeout_min_ns >= 0 || s->ct_timeout_max_ns >= 0)
		snprintf(
		    left, sizeof(left), ", timeout%s%s%s%s",
		    s->ct_timeout_min_ns >= 0 ? " >= " : "", s->ct_timeout_min_ns >= 0 ? lo : "",
		    s->ct_timeout_max_ns >= 0 ? " <= " : "", s->ct_timeout_max_ns >= 0 ? hi : "");
	SAY(s, "the box's conntrack entry is %s%s%s%s within %s",
	    s->ct_state >= 0 ? conntrack_state_name(s->ct_state) : "there", status[0] ? " with " : "",
	    status, left, w->within);
}

static void say_exit(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char how[48] = "ends";

	(void)c;
	if (s->exit_signal)
		snprintf(how, sizeof(how), "is killed by SIG%s",
			 sigabbrev_np(s->exit_signal) ? sigabbrev_np(s->exit_signal) : "?");
	else if (s->exit_status >= 0)
		snprintf(how, sizeof(how), "exits with status %d", s->exit_status);
	SAY(s, "'%s' %s%s%.60s%s within %s", s->proc, how, s->output[0] ? " having written '" : "",
	    s->output, s->output[0] ? "'" : "", w->within);
}

static void say_kmsg(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	(void)c;
	if (s->absent)
		SAY(s, "the kernel logs no message containing '%s' (since the case began)%s%s",
		    s->kmsg, s->within_ns ? " within " : "", s->within_ns ? w->within : "");
	else
		SAY(s, "the kernel logs a message containing '%s' within %s", s->kmsg, w->within);
}

static void say_tcp_info(const struct fw_case *c, struct fw_step *s, const struct step_words *w)
{
	char value[48];

	(void)c;
	if (s->info_min == s->info_max)
		snprintf(value, sizeof(value), "%lld", (long long)s->info_min);
	else
		snprintf(value, sizeof(value), "%lld..%lld", (long long)s->info_min,
			 (long long)s->info_max);
	SAY(s, "%s's socket%s%s tcp_info %s is %s within %s", w->h, s->sock[0] ? " " : "",
	    s->sock, tcp_info_field_name(s->info_field), value, w->within);
}

/* ---- each group's defaults ---------------------------------------------- */

static void init_socket_call(struct fw_step *s)
{
	s->linger = s->reuseaddr = s->reuseport = -1;
	if (s->kind == STEP_ACCEPT)
		strcpy(s->listener, "listen");
}

static void init_segment(struct fw_step *s)
{
	s->opt_mss = s->opt_wscale = s->opt_sack_ok = s->opt_ts = s->opt_dsack = -1;
	s->opt_sack_blocks = -1;
	s->count_min = s->count_max = -1;
	s->len = -1;
	s->win = -1;
}

static void init_state(struct fw_step *s)
{
	s->nsock_min = s->nsock_max = -1;
	s->timer = -1;
	s->timer_min_ns = s->timer_max_ns = -1;
}

static void init_program(struct fw_step *s)
{
	s->signal = SIGKILL;
	s->exit_status = -1;
	if (s->kind == STEP_START)
		strcpy(s->proc, "program");
}

static void init_conntrack(struct fw_step *s)
{
	s->ct_state = -1;
	s->ct_timeout_min_ns = s->ct_timeout_max_ns = -1;
}

static void init_nothing(struct fw_step *s)
{
	(void)s;
}

/* ---- the kinds -------------------------------------------------------------- */

#define SEC FW_NS_PER_SEC
#define SOCKET_CALL .needs_socket = true, .init = init_socket_call
const struct step_kind_info step_kinds[STEP_KIND_COUNT] = {
    [STEP_LISTEN] = {"listen", .init = init_socket_call, .say = say_listen,
		     .keys = {"host", "sock", "port", "address", "reuseaddr", "reuseport", "result"},
		     .required = "port"},
    [STEP_CONNECT] = {"connect", .init = init_socket_call, .say = say_connect, .within = 2 * SEC,
		      .keys = {"host", "to", "address", "sock", "port", "from_port", "reuseaddr",
			       "reuseport", "linger", "result", "within", "connections"},
		      .required = "port", .check = check_connect},
    [STEP_ACCEPT] = {"accept", SOCKET_CALL, .say = say_accept, .within = 2 * SEC,
		     .keys = {"host", "sock", "listener", "result", "within", "connections"},
		     .check = check_accept},
    [STEP_SEND] = {"send", SOCKET_CALL, .say = say_send,
		   .within = 2 * SEC, .keys = {"host", "sock", "bytes", "result", "within"},
		   .required = "bytes"},
    [STEP_RECV] = {"recv", SOCKET_CALL, .say = say_recv, .within = 2 * SEC,
		   .keys = {"host", "sock", "bytes", "eof", "result", "within"},
		   .check = check_recv},
    [STEP_SHUTDOWN] = {"shutdown", SOCKET_CALL, .say = say_shutdown,
		       .keys = {"host", "sock", "result"}},
    [STEP_CLOSE] = {"close", SOCKET_CALL, .say = say_close, .keys = {"host", "sock", "result"}},
    [STEP_SETSOCKOPT] = {"setsockopt", SOCKET_CALL, .say = say_setsockopt,
			 .keys = {"host", "sock", "linger", "reuseaddr", "opt", "value", "result"},
			 .check = check_setsockopt},
    [STEP_INJECT] = {"inject", .init = init_segment, .say = say_inject,
		     .keys = {"from", "to", "flags", "seq", "ack", "win", "ts", "tsval", "tsecr",
			      "len", "payload", "mss", "wscale", "sack_ok", "sack", "leg", "conn"},
		     .required = "flags", .check = check_inject},
    [STEP_ARM] = {"arm", .init = init_nothing, .say = say_fault, .keys = {"fault"},
		  .required = "fault"},
    [STEP_DISARM] = {"disarm", .init = init_nothing, .say = say_fault, .keys = {"fault"},
		     .required = "fault"},
    [STEP_RELEASE] = {"release", .init = init_nothing, .say = say_fault, .keys = {"fault"},
		      .required = "fault"},
    [STEP_FORK] = {"fork", .init = init_program, .say = say_fork,
		   .keys = {"host", "proc", "result"}, .required = "proc"},
    [STEP_KILL] = {"kill", .init = init_program, .say = say_kill, .within = 2 * SEC,
		   .keys = {"proc", "signal", "result", "within"}, .required = "proc"},
    [STEP_WAIT] = {"wait", .init = init_nothing, .say = say_wait, .keys = {"for"},
		   .required = "for"},
    [STEP_START] = {"start", .init = init_program, .say = say_start, .within = 5 * SEC,
		    .keys = {"host", "proc", "run", "ready_port", "result", "within"},
		    .required = "run", .check = check_start},
    [STEP_EXPECT_SEGMENT] = {"segment", .expect = true, .init = init_segment,
			     .say = say_segment, .within = SEC,
			     .keys = {"from", "flags", "has", "seq", "ack", "len", "win", "mss",
				      "wscale", "sack_ok", "ts", "dsack", "sack_blocks", "arrived", "at",
				      "count", "isn", "tsval", "tsecr", "within", "conn"},
			     .required = "from", .check = check_segment},
    [STEP_EXPECT_NO_SEGMENT] = {"no_segment", .expect = true, .init = init_segment,
				.say = say_no_segment,
				.keys = {"from", "flags", "has", "arrived", "at", "within", "conn"},
				.required = "within", .check = check_segment},
    [STEP_EXPECT_STATE] = {"state", .expect = true, .init = init_state, .say = say_state,
			   .within = 2 * SEC, .hosts = HOSTS_WITH_DUT,
			   .keys = {"host", "sock", "port", "state", "timer", "timer_min",
				    "timer_max", "never", "within", "count", "conn"},
			   .required = "state", .check = check_state},
    [STEP_EXPECT_GONE] = {"gone", .expect = true, .init = init_state, .say = say_gone,
			  .within = 2 * SEC, .hosts = HOSTS_WITH_DUT,
			  .keys = {"host", "sock", "port", "within", "conn"},
			  .check = check_state},
    [STEP_EXPECT_COUNTER] = {"counter", .expect = true, .init = init_nothing,
			     .say = say_counter, .within = SEC, .hosts = HOSTS_WITH_DUT,
			     .keys = {"host", "counter", "delta", "delta_min", "within"},
			     .required = "counter", .check = check_counter},
    [STEP_EXPECT_SYSCTL] = {"sysctl", .expect = true, .init = init_nothing, .say = say_sysctl,
			    .hosts = HOSTS_WITH_DUT,
			    .keys = {"host", "sysctl", "equals", "absent"}, .required = "sysctl",
			    .check = check_sysctl},
    [STEP_EXPECT_CONNTRACK] = {"conntrack", .expect = true, .init = init_conntrack,
			       .say = say_conntrack, .within = SEC, .hosts = 1u << HOST_DUT,
			       .keys = {"host", "state", "gone", "status", "timeout_min",
					"timeout_max", "within"},
			       .check = check_conntrack},
    [STEP_EXPECT_EXIT] = {"exit", .expect = true, .init = init_program, .say = say_exit,
			  .within = 2 * SEC,
			  .keys = {"proc", "status", "signal", "output", "within"},
			  .required = "proc", .check = check_exit},
    [STEP_EXPECT_KMSG] = {"kmsg", .expect = true, .init = init_nothing, .say = say_kmsg,
			  .within = SEC, .keys = {"message", "absent", "within"},
			  .required = "message", .check = check_kmsg},
    [STEP_EXPECT_TCP_INFO] = {"tcp_info", .expect = true, .init = init_nothing,
			      .say = say_tcp_info, .within = SEC,
			      .keys = {"host", "sock", "field", "value", "within"},
			      .required = "field", .check = check_tcp_info},
    [STEP_EXPECT_RETRANSMITS] = {"retransmits", .expect = true, .init = init_segment,
				 .say = say_retransmits, .within = 2 * SEC,
				 .keys = {"host", "sock", "count", "within"}, .required = "count"},
};
#undef SOCKET_CALL
#undef SEC

bool case_needs_socket_events(const struct fw_case *c)
{
	size_t i;

	for (i = 0; i < c->nsteps; i++)
		if (c->steps[i].kind == STEP_EXPECT_RETRANSMITS ||
		    (c->steps[i].kind == STEP_EXPECT_STATE && c->steps[i].never))
			return true;
	return false;
}

const char *step_kind_name(enum step_kind k)
{
	return k < STEP_KIND_COUNT ? step_kinds[k].name : "?";
}

bool step_kind_is_expect(enum step_kind k)
{
	return k < STEP_KIND_COUNT && step_kinds[k].expect;
}

bool step_kind_needs_socket(enum step_kind k)
{
	return k < STEP_KIND_COUNT && step_kinds[k].needs_socket;
}

int step_kind_lookup(struct loader *L, yaml_node_t *n, bool expect, enum step_kind *out)
{
	const char *s = scalar(n);
	char list[200];
	size_t used = 0;
	int k;

	for (k = 0; k < STEP_KIND_COUNT; k++) {
		if (step_kinds[k].expect != expect)
			continue;
		if (s && strcmp(s, step_kinds[k].name) == 0) {
			*out = k;
			return 0;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
					 step_kinds[k].name);
	}
	return load_fail(L, n, "unknown %s '%s' (expected %s)", expect ? "expectation" : "action",
			 s ? s : "?", list);
}

void step_describe(const struct fw_case *c, struct fw_step *s)
{
	struct step_words w = {.h = fw_host_name(s->host), .flags = "any"};
	size_t used;

	fw_duration_format(s->within_ns, w.within, sizeof(w.within));
	if (s->has_flags)
		seg_flags_format(s->flags_value, w.flags, sizeof(w.flags));
	if (s->conn != CONN_ANY && s->host == HOST_DUT)
		snprintf(w.sock, sizeof(w.sock), "of the %s connection", fw_conn_name(s->conn));
	else if (s->sock[0])
		snprintf(w.sock, sizeof(w.sock), "'%s'", s->sock);
	else
		snprintf(w.sock, sizeof(w.sock), "on port %u", s->port);
	step_kinds[s->kind].say(c, s, &w);
	used = strlen(s->text);
	if (s->has_trigger) {
		char f[16];

		seg_flags_format(s->trig_value, f, sizeof(f));
		used += (size_t)snprintf(s->text + used, sizeof(s->text) - used,
					 " as soon as %s from %s arrives", f,
					 fw_host_name(s->trig_from));
	}
	if (s->together && used < sizeof(s->text))
		snprintf(s->text + used, sizeof(s->text) - used, ", together with the next action");
}

/* Socket options a setsockopt step may name: the ones that change how a
 * connection ends or notices a dead peer. */
static const struct sockopt_name sockopt_names[] = {
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1},
    {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 1 << 24},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 1 << 24},
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1},
    {"TCP_CORK", IPPROTO_TCP, TCP_CORK, 1},
    {"TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK, 1},
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 32767},
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 32767},
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 127},
    {"TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2, 3600},
    {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 3600000},
    {"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, 65535},
};

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
    {"HUP", SIGHUP},   {"SEGV", SIGSEGV}, {"ABRT", SIGABRT},
};

const struct sockopt_name *case_sockopt_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sockopt_names) / sizeof(sockopt_names[0]); i++)
		if (name && strcmp(name, sockopt_names[i].name) == 0)
			return &sockopt_names[i];
	return NULL;
}

int load_sockopt(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *on = map_get(L, map, "opt"), *vn = map_get(L, map, "value");
	const char *name = scalar(on);
	unsigned long v;
	size_t i;
	int ret;

	if (!on && !vn)
		return 0;
	if (!on || !vn)
		return load_fail(L, on ? on : vn,
				 "'opt' and 'value' go together (opt: TCP_KEEPIDLE, value: 1)");
	for (i = 0; i < sizeof(sockopt_names) / sizeof(sockopt_names[0]); i++)
		if (name && strcmp(name, sockopt_names[i].name) == 0)
			break;
	if (i == sizeof(sockopt_names) / sizeof(sockopt_names[0])) {
		char list[400];
		size_t used = 0, k;

		for (k = 0; k < sizeof(sockopt_names) / sizeof(sockopt_names[0]); k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 k ? ", " : "", sockopt_names[k].name);
		return load_fail(L, on, "unknown socket option '%s' (expected %s)",
				 name ? name : "?", list);
	}
	if (sockopt_names[i].max == 1 && scalar(vn) &&
	    (!strcmp(scalar(vn), "true") || !strcmp(scalar(vn), "false"))) {
		v = strcmp(scalar(vn), "true") == 0;
	} else if ((ret = get_uint(L, vn, "value", (unsigned long)sockopt_names[i].max, &v)) < 0) {
		return ret;
	}
	s->has_opt = true;
	s->opt_level = sockopt_names[i].level;
	s->opt_name = sockopt_names[i].opt;
	s->opt_value = (int)v;
	snprintf(s->opt_text, sizeof(s->opt_text), "%s", sockopt_names[i].name);
	return 0;
}

int load_signal(struct loader *L, yaml_node_t *n, int *out)
{
	const char *name = scalar(n);
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (name && strcmp(name, signal_names[i].name) == 0) {
			*out = signal_names[i].sig;
			return 0;
		}
	return load_fail(L, n, "unknown signal '%s' (expected KILL, TERM, INT, HUP, SEGV, ABRT)",
			 name ? name : "?");
}

enum fw_host other_host(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}
