/* case_step: the step kinds (names, keys, hosts) and how a step is said in words. */
#include "case_int.h"

/* ---- steps -------------------------------------------------------------- */

static const char *const step_names[STEP_KIND_COUNT] = {
    [STEP_LISTEN] = "listen",
    [STEP_CONNECT] = "connect",
    [STEP_ACCEPT] = "accept",
    [STEP_SEND] = "send",
    [STEP_RECV] = "recv",
    [STEP_SHUTDOWN] = "shutdown",
    [STEP_CLOSE] = "close",
    [STEP_SETSOCKOPT] = "setsockopt",
    [STEP_INJECT] = "inject",
    [STEP_ARM] = "arm",
    [STEP_DISARM] = "disarm",
    [STEP_RELEASE] = "release",
    [STEP_FORK] = "fork",
    [STEP_KILL] = "kill",
    [STEP_WAIT] = "wait",
    [STEP_START] = "start",
    [STEP_EXPECT_SEGMENT] = "segment",
    [STEP_EXPECT_NO_SEGMENT] = "no_segment",
    [STEP_EXPECT_STATE] = "state",
    [STEP_EXPECT_GONE] = "gone",
    [STEP_EXPECT_COUNTER] = "counter",
    [STEP_EXPECT_SYSCTL] = "sysctl",
    [STEP_EXPECT_CONNTRACK] = "conntrack",
    [STEP_EXPECT_EXIT] = "exit", [STEP_EXPECT_KMSG] = "kmsg",
    [STEP_EXPECT_TCP_INFO] = "tcp_info",
};

const char *step_kind_name(enum step_kind k)
{
	return k < STEP_KIND_COUNT ? step_names[k] : "?";
}

bool step_kind_is_expect(enum step_kind k)
{
	return k >= STEP_EXPECT_SEGMENT;
}

int step_kind_lookup(struct loader *L, yaml_node_t *n, bool expect, enum step_kind *out)
{
	const char *s = scalar(n);
	char list[200];
	size_t used = 0;
	int k;

	for (k = 0; k < STEP_KIND_COUNT; k++) {
		if (step_kind_is_expect(k) != expect)
			continue;
		if (s && strcmp(s, step_names[k]) == 0) {
			*out = k;
			return 0;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
					 step_names[k]);
	}
	return load_fail(L, n, "unknown %s '%s' (expected %s)", expect ? "expectation" : "action",
			 s ? s : "?", list);
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

int load_timer(struct loader *L, yaml_node_t *map, struct fw_step *s)
{
	yaml_node_t *n;
	int t;
	int ret;

	s->timer = -1;
	s->timer_min_ns = s->timer_max_ns = -1;
	if ((n = map_get(L, map, "timer"))) {
		t = sock_timer_parse(scalar(n));
		if (t < 0)
			return load_fail(
			    L, n,
			    "unknown timer '%s' (expected off, on, keepalive, timewait, probe)",
			    scalar(n) ? scalar(n) : "?");
		s->timer = t;
	}
	if ((n = map_get(L, map, "timer_min")) &&
	    (ret = get_duration(L, n, "timer_min", &s->timer_min_ns)) < 0)
		return ret;
	if ((n = map_get(L, map, "timer_max")) &&
	    (ret = get_duration(L, n, "timer_max", &s->timer_max_ns)) < 0)
		return ret;
	if (s->timer_min_ns >= 0 && s->timer_max_ns >= 0 && s->timer_min_ns > s->timer_max_ns)
		return load_fail(L, map_get(L, map, "timer_min"),
				 "'timer_min' is larger than 'timer_max'");
	return 0;
}

enum fw_host other_host(enum fw_host h)
{
	return h == HOST_CLIENT ? HOST_SERVER : HOST_CLIENT;
}

/* Append the options a segment expectation asks for to its flags: "F. with dsack, mss 1460" */
static void seg_options_text(const struct fw_step *s, char *buf, size_t len)
{
	size_t used = strlen(buf);
	const char *sep = " with ";

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
#undef SEG_OPT_ADD
}

/* "the box's conntrack entry is TIME_WAIT with ASSURED, 100s-120s left, within 1s" */
static void step_describe_conntrack(struct fw_step *s, const char *within)
{
	char status[96] = "", lo[32], hi[32], left[80] = "";

	if (s->ct_gone) {
		snprintf(s->text, sizeof(s->text), "the box's conntrack entry is gone within %s",
			 within);
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
	snprintf(s->text, sizeof(s->text), "the box's conntrack entry is %s%s%s%s within %s",
		 s->ct_state >= 0 ? conntrack_state_name(s->ct_state) : "there",
		 status[0] ? " with " : "", status, left, within);
}

void step_describe(const struct fw_case *c, struct fw_step *s)
{
	char sock_label[48]; /* 'conn', or "on port 8080" for a program's socket */
	char within[32], flags[160] = "any";
	const char *h = fw_host_name(s->host);

	fw_duration_format(s->within_ns, within, sizeof(within));
	if (s->has_flags)
		seg_flags_format(s->flags_value, flags, sizeof(flags));
	if (s->sock[0])
		snprintf(sock_label, sizeof(sock_label), "'%s'", s->sock);
	else
		snprintf(sock_label, sizeof(sock_label), "on port %u", s->port);
	switch (s->kind) {
	case STEP_LISTEN:
		snprintf(s->text, sizeof(s->text), "%s listens on port %u%s", h, s->port,
			 s->address == ADDRESS_ANY	 ? " (any address)"
			 : s->address == ADDRESS_LOOPBACK ? " (loopback)"
							  : "");
		break;
	case STEP_CONNECT:
		if (s->address == ADDRESS_LOOPBACK)
			snprintf(s->text, sizeof(s->text), "%s connects to its own loopback port %u", h,
				 s->port);
		else
			snprintf(s->text, sizeof(s->text), "%s connects to %s port %u", h,
				 fw_host_name(s->peer), s->port);
		break;
	case STEP_ACCEPT:
		snprintf(s->text, sizeof(s->text), "%s accepts a connection%s%s", h,
			 strcmp(s->listener, "listen") ? " from listener " : "",
			 strcmp(s->listener, "listen") ? s->listener : "");
		break;
	case STEP_SEND:
		snprintf(s->text, sizeof(s->text), "%s sends %u bytes", h, s->bytes);
		break;
	case STEP_RECV:
		if (s->eof)
			snprintf(s->text, sizeof(s->text), "%s reads until end of stream within %s",
				 h, within);
		else
			snprintf(s->text, sizeof(s->text), "%s reads %u bytes within %s", h,
				 s->bytes, within);
		break;
	case STEP_SHUTDOWN:
		snprintf(s->text, sizeof(s->text), "%s calls shutdown(SHUT_WR)", h);
		break;
	case STEP_CLOSE:
		snprintf(s->text, sizeof(s->text), "%s calls close()", h);
		break;
	case STEP_SETSOCKOPT:
		if (s->has_opt)
			snprintf(s->text, sizeof(s->text), "%s sets %s=%d on '%s'", h, s->opt_text,
				 s->opt_value, s->sock);
		else
			snprintf(s->text, sizeof(s->text), "%s sets socket options on '%s'", h,
				 s->sock);
		break;
	case STEP_RELEASE:
		snprintf(s->text, sizeof(s->text), "release what fault '%s' holds",
			 c->faults[s->fault].name);
		break;
	case STEP_FORK:
		snprintf(s->text, sizeof(s->text), "%s forks child '%s', which shares its sockets",
			 h, s->proc);
		break;
	case STEP_KILL:
		snprintf(s->text, sizeof(s->text), "kill child '%s' with SIG%s", s->proc,
			 sigabbrev_np(s->signal) ? sigabbrev_np(s->signal) : "?");
		break;
	case STEP_INJECT:
		snprintf(s->text, sizeof(s->text), "inject %s from %s to %s", flags, h,
			 fw_host_name(s->peer));
		break;
	case STEP_ARM:
	case STEP_DISARM:
		snprintf(s->text, sizeof(s->text), "%s fault '%s'",
			 s->kind == STEP_ARM ? "arm" : "disarm", c->faults[s->fault].name);
		break;
	case STEP_EXPECT_SEGMENT:
		seg_options_text(s, flags, sizeof(flags));
		if (s->count_min >= 0) {
			char n[32];

			if (s->count_min == s->count_max)
				snprintf(n, sizeof(n), "%d", s->count_min);
			else
				snprintf(n, sizeof(n), "%d to %d", s->count_min, s->count_max);
			snprintf(s->text, sizeof(s->text), "%s %s %s %s segment(s) in %s", h,
				 s->arrived ? "has delivered" : "sends", n, flags, within);
			break;
		}
		snprintf(s->text, sizeof(s->text), "%s %s %s%s%s within %s",
			 s->arrived ? fw_host_name(other_host(s->host)) : h,
			 s->arrived ? "receives" : "sends",
			 s->has_flags && s->flags_mask != 0xff ? "a segment with " : "", flags,
			 s->arrived ? " from the other host" : "", within);
		break;
	case STEP_EXPECT_NO_SEGMENT:
		snprintf(s->text, sizeof(s->text), "%s %s no %s%ssegment%s for %s",
			 s->arrived ? fw_host_name(other_host(s->host)) : h,
			 s->arrived ? "receives" : "sends", s->has_flags ? flags : "",
			 s->has_flags ? " " : "", s->arrived ? " from the other host" : "", within);
		break;
	case STEP_EXPECT_STATE: {
		char timer[96] = "", lo[32], hi[32];

		fw_duration_format(s->timer_min_ns, lo, sizeof(lo));
		fw_duration_format(s->timer_max_ns, hi, sizeof(hi));
		if (s->timer >= 0 || s->timer_min_ns >= 0 || s->timer_max_ns >= 0)
			snprintf(timer, sizeof(timer), " with timer %s%s%s%s%s",
				 s->timer >= 0 ? sock_timer_name(s->timer) : "on",
				 s->timer_min_ns >= 0 ? " >= " : "", s->timer_min_ns >= 0 ? lo : "",
				 s->timer_max_ns >= 0 ? " <= " : "",
				 s->timer_max_ns >= 0 ? hi : "");
		snprintf(s->text, sizeof(s->text), "%s's socket %s reaches %s%s within %s", h,
			 sock_label, tcp_state_name(s->state), timer, within);
		break;
	}
	case STEP_EXPECT_GONE:
		snprintf(s->text, sizeof(s->text), "%s's socket %s is gone within %s", h,
			 sock_label, within);
		break;
	case STEP_EXPECT_TCP_INFO:
		if (s->info_min == s->info_max)
			snprintf(s->text, sizeof(s->text), "%s's socket%s%s tcp_info %s is %lld within %s",
				 h, s->sock[0] ? " " : "", s->sock, tcp_info_field_name(s->info_field),
				 (long long)s->info_min, within);
		else
			snprintf(s->text, sizeof(s->text),
				 "%s's socket%s%s tcp_info %s is %lld..%lld within %s", h,
				 s->sock[0] ? " " : "", s->sock, tcp_info_field_name(s->info_field),
				 (long long)s->info_min, (long long)s->info_max, within);
		break;
	case STEP_EXPECT_KMSG:
		if (s->absent)
			snprintf(s->text, sizeof(s->text),
				 "the kernel logs no message containing '%s' (since the case began)%s%s",
				 s->kmsg, s->within_ns ? " within " : "", s->within_ns ? within : "");
		else
			snprintf(s->text, sizeof(s->text),
				 "the kernel logs a message containing '%s' within %s", s->kmsg, within);
		break;
	case STEP_EXPECT_SYSCTL:
		if (s->absent)
			snprintf(s->text, sizeof(s->text), "%s has no sysctl %s", h, s->sysctl);
		else
			snprintf(s->text, sizeof(s->text), "%s's sysctl %s reads %s", h, s->sysctl,
				 s->equals);
		break;
	case STEP_EXPECT_COUNTER:
		snprintf(s->text, sizeof(s->text), "%s's counter %s grows by %s%lld%s%s%s within %s",
			 h, s->counter, s->delta_is_min ? "at least " : "", (long long)s->delta,
			 s->since[0] ? " since step '" : "", s->since, s->since[0] ? "'" : "",
			 within);
		break;
	case STEP_EXPECT_CONNTRACK:
		step_describe_conntrack(s, within);
		break;
	case STEP_WAIT:
		snprintf(s->text, sizeof(s->text), "wait %s", within);
		break;
	case STEP_START:
		snprintf(s->text, sizeof(s->text), "%s starts '%s' (%.160s)%s", h, s->proc, s->run,
			 s->port ? ", which must listen" : "");
		break;
	case STEP_EXPECT_EXIT: {
		char how[48] = "ends";

		if (s->exit_signal)
			snprintf(how, sizeof(how), "is killed by SIG%s",
				 sigabbrev_np(s->exit_signal) ? sigabbrev_np(s->exit_signal) : "?");
		else if (s->exit_status >= 0)
			snprintf(how, sizeof(how), "exits with status %d", s->exit_status);
		snprintf(s->text, sizeof(s->text), "'%s' %s%s%.60s%s within %s", s->proc, how,
			 s->output[0] ? " having written '" : "", s->output,
			 s->output[0] ? "'" : "", within);
		break;
	}
	}
	if (s->has_trigger) {
		char f[16];
		size_t used = strlen(s->text);

		seg_flags_format(s->trig_value, f, sizeof(f));
		snprintf(s->text + used, sizeof(s->text) - used, " as soon as %s from %s arrives",
			 f, fw_host_name(s->trig_from));
	}
	if (s->together) {
		size_t used = strlen(s->text);

		snprintf(s->text + used, sizeof(s->text) - used, ", together with the next action");
	}
}
