#include "scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "topo.h"
#include "util.h"

#define SCHED_BUDGET_MARGIN_NS (30 * FW_NS_PER_SEC)
#define SCHED_RESULT_GRACE_NS (10 * FW_NS_PER_SEC)
/* Runs of a case whose timing failure the harness's lateness could explain,
 * the first included; after the last it is INCONCLUSIVE. */
#define SCHED_ATTEMPTS 3
/* Adaptive admission: a finished run as late as this halves the number of
 * cases at once; one this punctual lets one more in. */
#define SCHED_LATE_HIGH_NS (20 * FW_NS_PER_MS)
#define SCHED_LATE_LOW_NS (5 * FW_NS_PER_MS)
/* A run counts against the adaptive window (cases at once) for this long:
 * its setup and first steps are when it needs the CPUs; then a case mostly
 * waits on the kernel's timers, some for seconds, and a window held by such
 * runs would leave the CPUs idle while lateness keeps it small. At most
 * --jobs processes all the same. */
#define SCHED_SETTLE_NS (500 * FW_NS_PER_MS)
/* A case process's nice value: about 3 times an ordinary process's CPU share. */
#define SCHED_CASE_NICE (-5)
/* Runs prepared ahead: their processes build the namespaces and open the
 * captures (mostly waiting for the kernel's RCU grace periods, 10-20 ms
 * here) while earlier runs run, and start their steps when a slot takes
 * them. Two keep a slot's next run ready without holding many namespaces. */
#define SCHED_AHEAD 2

/* A case process that has handed in its result and is closing its captures
 * and namespaces (engine_release()): reaped when its pidfd says it ended,
 * killed if it takes longer than SCHED_RESULT_GRACE_NS. */
struct drain {
	pid_t pid;
	int pidfd;
	size_t index;
	int64_t deadline;
};

struct drains {
	struct drain *d;
	size_t n, cap;
};

struct slot {
	pid_t pid;
	int fd;
	int go_fd; /* a byte written here starts the run's steps; -1 once sent */
	size_t index;
	int64_t deadline;
	bool grace; /* the deadline was extended once for a result being written */
	char *buf;
	size_t len, cap;
};

/* Upper bound of a case's run time: every wait at its deadline, plus room
 * for setup and teardown. */
static int64_t case_budget(const struct fw_case *c)
{
	int64_t sum = SCHED_BUDGET_MARGIN_NS;
	size_t i;

	for (i = 0; i < c->nsteps; i++)
		sum += c->steps[i].within_ns + 2 * FW_NS_PER_SEC;
	return sum;
}

/* What a run should take, from its case alone, to start the longest first:
 * a catalog whose longest case starts late ends that case's length after
 * it started. The steps that always wait their whole window (wait,
 * no_segment), plus the longest window of the other expectations: a case
 * that waits for a kernel timer waits in its longest expectation (an
 * action's window is a deadline its call mostly beats: a connect of 1,000
 * connections "within 10s" takes a second). Only an order: the reports keep
 * the catalog's. */
static int64_t case_estimate(const struct fw_case *c)
{
	int64_t fixed = 0, longest = 0;
	size_t i;

	for (i = 0; i < c->nsteps; i++) {
		const struct fw_step *st = &c->steps[i];

		if (st->kind == STEP_WAIT || st->kind == STEP_EXPECT_NO_SEGMENT)
			fixed += st->within_ns;
		else if (step_kind_is_expect(st->kind) && st->within_ns > longest)
			longest = st->within_ns;
	}
	return fixed + longest;
}

struct run_order {
	int64_t estimate;
	size_t index;
};

/* Longest first; among equals, the catalog's order. */
static int run_order_cmp(const void *a, const void *b)
{
	const struct run_order *x = a, *y = b;

	if (x->estimate != y->estimate)
		return x->estimate > y->estimate ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Shortest first; among equals, the catalog's order. */
static int run_order_cmp_short(const void *a, const void *b)
{
	const struct run_order *x = a, *y = b;

	return x->estimate != y->estimate ? run_order_cmp(b, a) : run_order_cmp(a, b);
}

/* Longest, shortest, second longest, second shortest...: the short runs
 * finish at once and, punctual, widen the admission window (window_update())
 * while the long ones wait on their timers; long runs alone would hold the
 * first slots for seconds with the window at its start. o: longest first.
 * Runs of equal estimates keep the catalog's order (a --repeat of one case
 * starts its runs in order). */
static void run_order_zip(struct run_order *o, size_t n)
{
	struct run_order *z = malloc(n * sizeof(*z)), *up = malloc(n * sizeof(*up));
	bool *taken = calloc(n ? n : 1, sizeof(*taken));
	size_t lo = 0, hi = 0, k = 0;

	if (!z || !up || !taken)
		goto out; /* longest first, which is an order too */
	memcpy(up, o, n * sizeof(*up));
	qsort(up, n, sizeof(*up), run_order_cmp_short);
	while (k < n) {
		while (taken[o[lo].index])
			lo++;
		z[k++] = o[lo];
		taken[o[lo].index] = true;
		if (k == n)
			break;
		while (taken[up[hi].index])
			hi++;
		z[k++] = up[hi];
		taken[up[hi].index] = true;
	}
	memcpy(o, z, n * sizeof(*z));
out:
	free(z);
	free(up);
	free(taken);
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Blocks until the harness says go (a byte), or is gone (EOF). */
static bool wait_go(int go_fd)
{
	char b;
	ssize_t n;

	while ((n = read(go_fd, &b, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

static void run_child(const struct fw_case *c, int fd, int go_fd, pid_t parent)
{
	struct engine *rest = NULL;
	struct case_result r;
	size_t len = 0;
	char *wire;
	bool go;

	/* Die with the harness, however it dies: the namespaces go with us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGINT, SIG_IGN); /* the harness decides; it kills us if needed */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* A case is mostly asleep, but when a segment or a deadline wakes it,
	 * it must run at once: its lateness becomes the kernels' (a held ACK
	 * released late, an RTT inflated by the queue). Ahead of ordinary work
	 * on the machine, not real-time (that starved the kernel's own threads
	 * at high --jobs). Best effort: without the privilege it stays at 0. */
	(void)setpriority(PRIO_PROCESS, 0, SCHED_CASE_NICE);
	if (c->skip[0]) { /* this kernel lacks what the run needs (requires.h) */
		result_init(&r, c);
		r.status = CASE_SKIP;
		snprintf(r.message, sizeof(r.message), "%s", c->skip);
		go = wait_go(go_fd);
	} else if (engine_prepare(c, &r, &rest) < 0) {
		snprintf(r.message, sizeof(r.message), "%s: out of memory", c->path);
		r.status = CASE_ERROR;
		go = wait_go(go_fd);
	} else {
		go = wait_go(go_fd);
		if (go)
			engine_go(rest);
	}
	close(go_fd);
	wire = go ? result_to_wire(&r, &len) : NULL;
	if (wire)
		write_all(fd, wire, len);
	/* The result is out (EOF: unless a forked helper still holds the pipe)
	 * and the harness reports it while this process closes its captures
	 * and namespaces, which is mostly waiting for the kernel. */
	close(fd);
	engine_release(rest);
	result_clear(&r);
	free(wire);
	_exit(wire ? 0 : 1);
}

/* A process for run index of case c, prepared and waiting for slot_go(). */
static int slot_start(struct slot *s, const struct fw_case *c, size_t index)
{
	int p[2], g[2];
	pid_t parent = getpid();

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(g, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0) {
		close(p[0]);
		close(p[1]);
		close(g[0]);
		close(g[1]);
		return -errno;
	}
	if (s->pid == 0) {
		close(p[0]);
		close(g[1]);
		run_child(c, p[1], g[0], parent);
	}
	close(p[1]);
	close(g[0]);
	/* read what is there, never wait: slot_read() drains the pipe */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->fd = p[0];
	s->go_fd = g[1];
	s->index = index;
	s->grace = false;
	s->len = 0;
	return 0;
}

/* The run's steps start now, and so does its time budget. */
static void slot_go(struct slot *s, const struct fw_case *c)
{
	write_all(s->go_fd, "g", 1);
	close(s->go_fd);
	s->go_fd = -1;
	s->deadline = fw_now_ns() + case_budget(c);
}

/* A process that never ran (prepared ahead, or its run ended early): killed,
 * reaped, its descriptors closed. */
static void slot_kill(struct slot *s)
{
	if (s->pid) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
	if (s->go_fd >= 0)
		close(s->go_fd);
	s->go_fd = -1;
}

/* Cases at once when admission adapts: start where the CPUs alone would put
 * it, shrink when finished runs report the harness late, grow when they
 * report it punctual. Lateness measures overload whatever causes it (our
 * own cases, other work on the machine), which a CPU count cannot. */
struct sched_window {
	size_t cur, max;
};

static void window_init(struct sched_window *w, size_t max, bool adaptive)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t start = cpus > 0 ? 2 * (size_t)cpus : 2;

	w->max = max;
	w->cur = adaptive && start < max ? start : max;
	if (!adaptive)
		w->max = w->cur = max;
}

static void window_update(struct sched_window *w, const struct case_result *r, bool adaptive)
{
	int64_t late = run_lateness_max(&r->late);

	if (!adaptive)
		return;
	if (late >= SCHED_LATE_HIGH_NS)
		w->cur = w->cur > 1 ? w->cur / 2 : 1;
	else if (late < SCHED_LATE_LOW_NS && w->cur < w->max)
		w->cur++;
}

/* The last attempt of a run the harness's lateness spoiled every time. */
static void result_inconclusive(struct case_result *r, unsigned attempts)
{
	char msg[sizeof(r->message) + 256];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "inconclusive: %u attempts each failed while something outside the kernels "
		     "under test could explain it (the harness running late, its queue "
		     "overflowing, or the machine's shared log rate limit; not a kernel "
		     "verdict); the last:\n%s",
		     attempts, r->message);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(r->message))
		n = (int)sizeof(r->message) - 1;
	memcpy(r->message, msg, (size_t)n);
	r->message[n] = '\0';
	r->status = CASE_INCONCLUSIVE;
}

static void result_died(struct case_result *r, const struct fw_case *c, const char *why)
{
	result_init(r, c);
	r->status = CASE_ERROR;
	snprintf(r->message, sizeof(r->message), "%s: %s", c->path, why);
}

/* A process that ended after its result: a signal then is worth a word
 * (the result stands: it was whole, and nothing after it could change it). */
static void drain_reaped(const struct fw_case *c, int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		fprintf(stderr, "finwave: %s: the case process died of signal %d (%s) while closing its namespaces, after its result\n",
			c->path, WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Keep pid to be reaped later; without a pidfd (or memory) wait for it now. */
static void drain_add(struct drains *dr, pid_t pid, size_t index, const struct fw_case *c)
{
	int status = 0, fd = pidfd_open(pid, 0);

	if (fd >= 0 && dr->n == dr->cap) {
		size_t cap = dr->cap ? 2 * dr->cap : 16;
		struct drain *grown = realloc(dr->d, cap * sizeof(*grown));

		if (grown) {
			dr->d = grown;
			dr->cap = cap;
		}
	}
	if (fd < 0 || dr->n == dr->cap) {
		if (fd >= 0)
			close(fd);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		drain_reaped(c, status);
		return;
	}
	dr->d[dr->n++] = (struct drain){ pid, fd, index, fw_now_ns() + SCHED_RESULT_GRACE_NS };
}

/* Reap every draining process that has ended; kill one past its deadline.
 * wait: block until all have ended (at the end of the run). */
static void drain_reap(struct drains *dr, struct fw_case *const *cases, size_t n, bool wait)
{
	size_t i = 0;

	while (i < dr->n) {
		struct drain *d = &dr->d[i];
		struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
		int64_t left = d->deadline - fw_now_ns();
		int status = 0, pr;

		pr = poll(&p, 1, wait && left > 0 ? (int)(left / FW_NS_PER_MS) + 1 : 0);
		if (pr < 0 && errno == EINTR)
			continue; /* the deadline still holds */
		if (pr == 0) {
			if (fw_now_ns() < d->deadline) {
				i++;
				continue;
			}
			fprintf(stderr, "finwave: %s: the case process took over %llds to close its namespaces after its result, killed\n",
				cases[d->index % n]->path,
				(long long)(SCHED_RESULT_GRACE_NS / FW_NS_PER_SEC));
			kill(d->pid, SIGKILL);
		}
		while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
			;
		drain_reaped(cases[d->index % n], status);
		close(d->pidfd);
		dr->d[i] = dr->d[--dr->n];
	}
}

/* The case process closed its pipe: collect its result. A whole result is
 * the case's; the process may still be closing its namespaces (run_child),
 * and is reaped later (dr). */
static void slot_finish(struct slot *s, const struct fw_case *c, struct case_result *r,
			bool killed, int64_t started, struct drains *dr)
{
	char why[FW_ERRLEN + 64], err[FW_ERRLEN];
	bool whole = false;
	int status = 0;
	pid_t got;

	close(s->fd);
	s->fd = -1;
	if (!killed && s->buf && s->len > 0) {
		whole = result_from_wire(s->buf, s->len, r, err, sizeof(err)) == 0;
	}
	/* Not whole: wait, the way it ended says why. */
	while ((got = waitpid(s->pid, &status, whole ? WNOHANG : 0)) < 0 && errno == EINTR)
		;
	if (got == 0) {
		drain_add(dr, s->pid, s->index, c);
	} else if (killed) {
		snprintf(why, sizeof(why), "the case overran its time budget and was killed");
		result_died(r, c, why);
	} else if (WIFSIGNALED(status)) {
		if (whole)
			result_clear(r);
		snprintf(why, sizeof(why), "the case process died of signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		result_died(r, c, why);
	} else if (!s->buf || s->len == 0) {
		result_died(r, c, "the case process exited without a result");
	} else if (!whole) {
		snprintf(why, sizeof(why), "unreadable result: %s", err);
		result_died(r, c, why);
	}
	s->pid = 0;
	if (r->duration_ns == 0)
		r->duration_ns = fw_now_ns() - started;
}

/* Everything the case process has written so far: 1 at EOF (it is done),
 * 0 when it may write more, or -errno. */
static int slot_read(struct slot *s)
{
	for (;;) {
		ssize_t n;

		if (s->cap - s->len < 65536) {
			size_t cap = s->cap ? s->cap * 2 : 1 << 20;
			char *grown = realloc(s->buf, cap + 1);

			if (!grown)
				return -ENOMEM;
			s->buf = grown;
			s->cap = cap;
		}
		n = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return 1; /* EOF */
		s->len += (size_t)n;
	}
}

bool sched_tally_flipped(const struct sched_tally *t)
{
	int kinds = 0, k;

	for (k = CASE_PASS; k < CASE_STATUS_COUNT; k++)
		kinds += t->counts[k] > 0;
	return kinds > 1;
}

void sched_run_name(const char *case_name, size_t index, size_t n, char *out, size_t len)
{
	size_t rep = index / n + 1;

	if (rep == 1)
		snprintf(out, len, "%s", case_name);
	else if (snprintf(out, len, "%s#%zu", case_name, rep) < (int)len)
		; /* whole: the catalog keeps run names short enough (CATALOG_MAX_RUN_NAME) */
	else /* a name too long for the suffix is cut, not the suffix */
		snprintf(out, len, "%.*s#%zu", (int)(len > 24 ? len - 24 : 0), case_name, rep);
}

/* Run index -> case: every repetition is the catalog again, in order. */
static void run_label(struct case_result *r, size_t index, size_t n)
{
	char name[CASE_MAX_NAME];

	sched_run_name(r->name, index, n, name, sizeof(name));
	memcpy(r->name, name, sizeof(r->name));
}

/* A stop was asked for: a case process that has already written its whole
 * result is finished, not killed. */
static void harvest_finished(struct slot *slots, size_t jobs, struct fw_case *const *cases, size_t n,
			     struct case_result **results, const int64_t *started,
			     struct drains *dr)
{
	size_t i;

	for (i = 0; i < jobs; i++) {
		struct slot *s = &slots[i];
		struct case_result *res;

		if (!s->pid || slot_read(s) != 1 || !(res = calloc(1, sizeof(*res))))
			continue;
		slot_finish(s, cases[s->index % n], res, false, started[s->index], dr);
		run_label(res, s->index, n);
		results[s->index] = res;
	}
}

/* Interrupted: every run that finished is reported, in order, and every
 * other one as not run (SKIP, "not run: ..."), so reports keep one entry
 * per planned run and lose no obtained result. */
static void report_interrupted(struct fw_case *const *cases, size_t n, size_t total, size_t from,
			       struct case_result **results, sched_done_fn done, void *ctx)
{
	size_t i;

	for (i = from; results && i < total; i++) {
		struct case_result none;

		if (results[i]) {
			done(ctx, i, results[i]);
			continue;
		}
		result_init(&none, cases[i % n]);
		none.status = CASE_SKIP;
		none.not_run = true;
		snprintf(none.message, sizeof(none.message),
			 "not run: the run was interrupted before this case finished");
		run_label(&none, i, n);
		done(ctx, i, &none);
		result_clear(&none);
	}
}

/* What one sched_run() keeps between rounds of its loop. */
struct sched_run_state {
	struct fw_case *const *cases;
	size_t n, jobs, total;
	const struct sched_config *cfg;
	/* Finished runs wait here until every run before them is reported. */
	struct case_result **results;
	int64_t *started;
	struct slot *slots;
	/* the next runs in order, prepared ahead (SCHED_AHEAD), oldest first */
	struct slot ahead[SCHED_AHEAD];
	size_t nahead;
	struct pollfd *pfd;
	size_t pfd_cap;
	struct drains dr;
	/* attempts made per run; runs waiting to be attempted again */
	unsigned *attempts;
	size_t *retry;
	/* the order runs start in (case_estimate()): order[next] is next */
	struct run_order *order;
	size_t next, reported, nretry;
	struct sched_window win;
};

/* Runs that count against the admission window now (those in their first
 * SCHED_SETTLE_NS), and when the earliest of them stops counting. */
static size_t sched_active(const struct sched_run_state *r, int64_t now, int64_t *next_settle)
{
	size_t i, n = 0;

	*next_settle = INT64_MAX;
	for (i = 0; i < r->jobs; i++) {
		int64_t settle;

		if (!r->slots[i].pid)
			continue;
		settle = r->started[r->slots[i].index] + SCHED_SETTLE_NS;
		if (settle <= now)
			continue;
		n++;
		if (settle < *next_settle)
			*next_settle = settle;
	}
	return n;
}

static bool sched_more(const struct sched_run_state *r)
{
	return r->nretry || r->nahead || r->next < r->total;
}

/* A prepared run moves into slot s (which keeps its buffer). */
static void slot_take(struct slot *s, struct sched_run_state *r)
{
	struct slot *a = &r->ahead[0];

	s->pid = a->pid;
	s->fd = a->fd;
	s->go_fd = a->go_fd;
	s->index = a->index;
	s->grace = false;
	s->len = 0;
	r->nahead--;
	memmove(&r->ahead[0], &r->ahead[1], r->nahead * sizeof(r->ahead[0]));
	r->ahead[r->nahead] = (struct slot){ .fd = -1, .go_fd = -1 };
}

/* Free slots take the next runs (retries first), as the window allows. */
static int sched_fill_slots(struct sched_run_state *r)
{
	int64_t now = fw_now_ns(), settle;
	size_t i, active = sched_active(r, now, &settle);
	int ret;

	for (i = 0; i < r->jobs && sched_more(r) && active < r->win.cur; i++) {
		size_t idx;

		if (r->slots[i].pid)
			continue;
		if (!r->nretry && r->nahead) {
			slot_take(&r->slots[i], r);
			idx = r->slots[i].index;
		} else {
			idx = r->nretry ? r->retry[--r->nretry] : r->order[r->next++].index;
			ret = slot_start(&r->slots[i], r->cases[idx % r->n], idx);
			if (ret < 0)
				return ret;
		}
		r->started[idx] = fw_now_ns();
		slot_go(&r->slots[i], r->cases[idx % r->n]);
		active++;
	}
	/* the next runs in order get ready while these run; not a run on an
	 * external box's interfaces: prepared, it would hold them (one case at
	 * a time) while a retry started meanwhile waits for them */
	while (r->nahead < SCHED_AHEAD && r->next < r->total &&
	       !r->cases[r->order[r->next].index % r->n]->dut.interfaces[0][0]) {
		size_t idx = r->order[r->next].index;

		ret = slot_start(&r->ahead[r->nahead], r->cases[idx % r->n], idx);
		if (ret < 0)
			return ret;
		r->next++;
		r->nahead++;
	}
	return 0;
}

/* Waits for a slot's pipe, a draining case's end, or the nearest deadline.
 * Returns poll()'s count, or -errno. */
static int sched_wait(struct sched_run_state *r, int64_t now)
{
	int64_t wait_ns = 1000 * FW_NS_PER_MS, settle;
	size_t i, jobs = r->jobs, nd = r->dr.n;
	int np;

	if (r->pfd_cap < jobs + nd) { /* the slots' pipes, then the draining pidfds */
		struct pollfd *grown = realloc(r->pfd, (jobs + nd) * sizeof(*r->pfd));

		if (!grown)
			return -ENOMEM;
		r->pfd = grown;
		r->pfd_cap = jobs + nd;
	}
	for (i = 0; i < jobs; i++) {
		r->pfd[i].fd = r->slots[i].pid ? r->slots[i].fd : -1;
		r->pfd[i].events = POLLIN;
		if (r->slots[i].pid && r->slots[i].deadline - now < wait_ns)
			wait_ns = r->slots[i].deadline - now;
	}
	/* a full window opens again when one of its runs settles */
	if (sched_more(r) && sched_active(r, now, &settle) >= r->win.cur && settle - now < wait_ns)
		wait_ns = settle - now;
	for (i = 0; i < nd; i++) {
		r->pfd[jobs + i].fd = r->dr.d[i].pidfd;
		r->pfd[jobs + i].events = POLLIN;
		if (r->dr.d[i].deadline - now < wait_ns)
			wait_ns = r->dr.d[i].deadline - now;
	}
	np = poll(r->pfd, jobs + nd, wait_ns > 0 ? (int)(wait_ns / FW_NS_PER_MS) + 1 : 0);
	if (np < 0 && errno != EINTR)
		return -errno;
	return np < 0 ? 0 : np;
}

/* A finished run: kept for reporting in order, or, when its failure is
 * something outside the kernels' doing, attempted again (at most
 * SCHED_ATTEMPTS times, then INCONCLUSIVE). */
static int sched_finished(struct sched_run_state *r, struct slot *s, bool killed)
{
	struct case_result *res = calloc(1, sizeof(*res));

	if (!res)
		return -ENOMEM;
	slot_finish(s, r->cases[s->index % r->n], res, killed, r->started[s->index], &r->dr);
	window_update(&r->win, res, r->cfg->adaptive);
	res->attempts = ++r->attempts[s->index];
	if (res->status == CASE_FAIL && res->late_explains) {
		if (res->attempts < SCHED_ATTEMPTS) {
			result_clear(res);
			free(res);
			r->retry[r->nretry++] = s->index;
			return 0;
		}
		result_inconclusive(res, res->attempts);
	}
	run_label(res, s->index, r->n);
	r->results[s->index] = res;
	return 0;
}

/* Reads what the running cases wrote; a case over its budget is killed,
 * unless its result already waits in the pipe: a harness stopped (SIGSTOP)
 * past the deadline was late, not the case. A result is written only once
 * the case is over, so one begun (larger than the pipe holds) gets a grace
 * to finish. */
static int sched_collect(struct sched_run_state *r, int np)
{
	int64_t now = fw_now_ns();
	size_t i;

	for (i = 0; i < r->jobs; i++) {
		struct slot *s = &r->slots[i];
		bool killed = false;
		int ret = 0;

		if (!s->pid)
			continue;
		if (np > 0 && (r->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			ret = slot_read(s);
		if (ret == 0 && now > s->deadline && (ret = slot_read(s)) == 0) {
			if (s->len > 0 && !s->grace) {
				s->grace = true;
				s->deadline = now + SCHED_RESULT_GRACE_NS;
			} else {
				kill(s->pid, SIGKILL);
				killed = true;
				ret = 1;
			}
		}
		if (ret == 1)
			ret = sched_finished(r, s, killed);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Reports, in order, every run whose predecessors are all reported. */
static void sched_report_ready(struct sched_run_state *r, sched_done_fn done, void *ctx)
{
	while (r->reported < r->total && r->results[r->reported]) {
		struct case_result *res = r->results[r->reported];

		if (r->cfg->tally)
			r->cfg->tally[r->reported % r->n].counts[res->status]++;
		done(ctx, r->reported, res);
		result_clear(res);
		free(res);
		r->results[r->reported] = NULL;
		r->reported++;
	}
}

/* Nothing of the run outlives it: running cases killed, draining ones
 * waited for (they close their namespaces), every buffer freed. */
static void sched_cleanup(struct sched_run_state *r)
{
	size_t i;

	for (i = 0; r->slots && i < r->jobs; i++) {
		slot_kill(&r->slots[i]);
		if (r->slots[i].fd >= 0)
			close(r->slots[i].fd);
		free(r->slots[i].buf);
	}
	for (i = 0; i < r->nahead; i++) {
		slot_kill(&r->ahead[i]);
		close(r->ahead[i].fd);
	}
	r->nahead = 0;
	drain_reap(&r->dr, r->cases, r->n, true);
	free(r->dr.d);
	for (i = 0; r->results && i < r->total; i++) {
		if (r->results[i])
			result_clear(r->results[i]);
		free(r->results[i]);
	}
	free(r->results);
	free(r->attempts);
	free(r->retry);
	free(r->order);
	free(r->started);
	free(r->slots);
	free(r->pfd);
}

int sched_run(struct fw_case *const *cases, size_t n, const struct sched_config *cfg,
	      volatile sig_atomic_t *stop, sched_done_fn done, void *ctx)
{
	struct sched_run_state r = { .cases = cases, .n = n, .cfg = cfg };
	size_t i, slots_size;
	int ret = 0;

	r.jobs = cfg->jobs ? cfg->jobs : 1;
	r.total = n * (cfg->repeat ? cfg->repeat : 1);
	slots_size = r.total ? r.total : 1;
	r.results = calloc(slots_size, sizeof(*r.results));
	r.started = calloc(slots_size, sizeof(*r.started));
	r.slots = calloc(r.jobs, sizeof(*r.slots));
	r.attempts = calloc(slots_size, sizeof(*r.attempts));
	r.retry = calloc(slots_size, sizeof(*r.retry));
	r.order = calloc(slots_size, sizeof(*r.order));
	window_init(&r.win, r.jobs, cfg->adaptive);
	/* one parent namespace for every case's, made before they fork */
	topo_child_hash(true);
	if (!r.results || !r.started || !r.slots || !r.attempts || !r.retry || !r.order) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r.total; i++)
		r.order[i] = (struct run_order){ case_estimate(cases[i % n]), i };
	qsort(r.order, r.total, sizeof(*r.order), run_order_cmp);
	run_order_zip(r.order, r.total);
	if (cfg->tally)
		memset(cfg->tally, 0, n * sizeof(*cfg->tally));
	for (i = 0; i < r.jobs; i++)
		r.slots[i].fd = r.slots[i].go_fd = -1;
	for (i = 0; i < SCHED_AHEAD; i++)
		r.ahead[i] = (struct slot){ .fd = -1, .go_fd = -1 };
	while (r.reported < r.total) {
		int np;

		if (*stop) {
			ret = -EINTR;
			harvest_finished(r.slots, r.jobs, cases, n, r.results, r.started, &r.dr);
			break;
		}
		if ((ret = sched_fill_slots(&r)) < 0 || (np = sched_wait(&r, fw_now_ns())) < 0 ||
		    (ret = sched_collect(&r, np)) < 0) {
			ret = ret < 0 ? ret : np;
			break;
		}
		drain_reap(&r.dr, cases, n, false);
		sched_report_ready(&r, done, ctx);
	}
out:
	/* kill what runs, then report the interrupted runs, then wait for the
	 * last ones to close their namespaces (sched_cleanup) */
	for (i = 0; r.slots && i < r.jobs; i++)
		slot_kill(&r.slots[i]);
	for (i = 0; i < r.nahead; i++)
		slot_kill(&r.ahead[i]);
	if (ret == -EINTR)
		report_interrupted(cases, n, r.total, r.reported, r.results, done, ctx);
	sched_cleanup(&r);
	return ret;
}
