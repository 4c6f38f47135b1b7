/* sockev: the tracepoint programs of bpf/sockev.bpf.c, loaded once per
 * process, and each case's ring buffer of its namespaces' events. */
#include "sockev.h"

#include <errno.h>
#include <pthread.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sockev_event.h"
#include "util.h"
#include "vocab.h"

/* The compiled program, built into the binary (CMakeLists.txt compiles
 * bpf/sockev.bpf.c with clang -target bpf first): no file to find at run
 * time, and the program always matches the code that reads its events. */
__asm__(".section .rodata\n"
	".global fw_sockev_obj\n"
	".type fw_sockev_obj, @object\n"
	".balign 8\n"
	"fw_sockev_obj:\n"
	".incbin \"" FW_SOCKEV_OBJ "\"\n"
	".global fw_sockev_obj_end\n"
	"fw_sockev_obj_end:\n"
	".previous\n");
extern const char fw_sockev_obj[], fw_sockev_obj_end[];

/* A socket's events before it has its ports (connect() sets SYN_SENT, then
 * picks the port) wait here for its first event that has them. A group
 * connect starts thousands before their answers come (16 kept 2,512 of
 * 10,000 SYN_SENTs); beyond this bound they are dropped. */
#define SOCKEV_PENDING 65536

#define SOCKEV_MAX_PROGRAMS 8

/* What sockev_load() did, for the whole process and its forked children. */
static struct {
	bool tried;
	int ret;
	char err[FW_ERRLEN];
	struct bpf_object *obj;
	/* the attachments: each holds its tracepoint until the process ends
	 * (kept here, not dropped, so they stay ours to the end) */
	struct bpf_link *links[SOCKEV_MAX_PROGRAMS];
	size_t nlinks;
	int rings_fd, alias_fd, lost_fd;
} loaded;

struct sockev_sub {
	int ring_fd;
	struct ring_buffer *rb;
	uint32_t ids[4];
	size_t nids;
	/* sockev_sub_open_begin(): the namespaces to subscribe, on thread th */
	uint32_t wanted[4];
	size_t nwanted;
	pthread_t th;
	bool threaded;
	int sub_ret;
	char sub_err[FW_ERRLEN];
	void (*cb)(void *ctx, const struct sockev_ev *ev);
	void *cb_ctx;
	int handled;
	struct sockev_ev *pending; /* grown as needed, up to SOCKEV_PENDING */
	size_t npending, pending_cap;
};

/* libbpf prints its own diagnostics to stderr by default; the reason a
 * load failed reaches the user once, through err, instead. */
static int sockev_libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* How many arguments the kernel's tracepoint passes (its btf_trace_NAME
 * typedef: a pointer to the probe's prototype), or -1. */
static int sockev_tracepoint_args(const struct btf *btf, const char *name)
{
	char tname[96];
	const struct btf_type *t;
	int id;

	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* the pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

/* Load the retransmission program that matches the kernel's tracepoint
 * (the verifier refuses a third argument the kernel does not pass). */
static void sockev_pick_programs(struct bpf_object *obj)
{
	struct btf *btf = btf__load_vmlinux_btf();
	/* the probe's first argument is the tracepoint's private pointer */
	bool with_err = btf && sockev_tracepoint_args(btf, "tcp_retransmit_skb") == 4;
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		if (strcmp(bpf_program__name(prog), "sockev_retransmit") == 0)
			bpf_program__set_autoload(prog, !with_err);
		else if (strcmp(bpf_program__name(prog), "sockev_retransmit_err") == 0)
			bpf_program__set_autoload(prog, with_err);
	}
	btf__free(btf);
}

static int sockev_load_once(char *err, size_t errlen)
{
	const char *off = getenv("FINWAVE_NO_BPF");
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_map *rings;
	int ret;

	if (off && *off && strcmp(off, "0") != 0) {
		ret = fw_err(err, errlen, -ECANCELED, "FINWAVE_NO_BPF is set");
		goto out;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		ret = fw_err(err, errlen, -ENOENT, "this kernel has no BTF (/sys/kernel/btf/vmlinux)");
		goto out;
	}
	if (!getenv("FW_BPF_DEBUG")) libbpf_set_print(sockev_libbpf_quiet);
	obj = bpf_object__open_mem(fw_sockev_obj, (size_t)(fw_sockev_obj_end - fw_sockev_obj), NULL);
	if (!obj) {
		ret = -errno;
		fw_err(err, errlen, ret, "cannot open the BPF object: %s", strerror(-ret));
		goto out;
	}
	sockev_pick_programs(obj);
	ret = bpf_object__load(obj);
	if (ret < 0) {
		fw_err(err, errlen, ret, "the kernel refused the BPF programs: %s%s", strerror(-ret),
		       ret == -EPERM ? " (needs CAP_BPF and CAP_PERFMON, or root)" : "");
		goto out;
	}
	bpf_object__for_each_program(prog, obj) {
		/* The link's fd holds the attachment (forked copies of it too). */
		struct bpf_link *link = NULL;

		if (!bpf_program__autoload(prog))
			continue;
		if (loaded.nlinks == SOCKEV_MAX_PROGRAMS)
			errno = E2BIG;
		else
			link = bpf_program__attach(prog);
		if (!link) {
			ret = -errno;
			fw_err(err, errlen, ret, "cannot attach %s: %s", bpf_program__name(prog),
			       strerror(-ret));
			goto out;
		}
		loaded.links[loaded.nlinks++] = link;
	}
	rings = bpf_object__find_map_by_name(obj, "rings");
	loaded.rings_fd = rings ? bpf_map__fd(rings) : -1;
	loaded.alias_fd = bpf_object__find_map_fd_by_name(obj, "alias");
	loaded.lost_fd = bpf_object__find_map_fd_by_name(obj, "lost");
	if (loaded.rings_fd < 0 || loaded.alias_fd < 0 || loaded.lost_fd < 0) {
		ret = fw_err(err, errlen, -ENOENT, "the BPF object lacks its maps");
		goto out;
	}
	loaded.obj = obj;
	obj = NULL;
	ret = 0;
out:
	while (ret < 0 && loaded.nlinks) /* a failed load leaves nothing attached */
		bpf_link__destroy(loaded.links[--loaded.nlinks]);
	bpf_object__close(obj); /* accepts NULL */
	return ret;
}

int sockev_load(char *err, size_t errlen)
{
	if (!loaded.tried) {
		loaded.tried = true;
		loaded.ret = sockev_load_once(loaded.err, sizeof(loaded.err));
	}
	if (loaded.ret < 0)
		fw_err(err, errlen, loaded.ret, "%s", loaded.err);
	return loaded.ret;
}

bool sockev_loaded(void)
{
	return loaded.tried && loaded.ret == 0;
}

int sockev_netns_id(int ns_fd, uint32_t *id)
{
	struct stat st;

	if (fstat(ns_fd, &st) < 0)
		return -errno;
	*id = (uint32_t)st.st_ino;
	return 0;
}


static const enum sockev_what sockev_what_of[] = {
	[SOCKEV_STATE] = SOCKEV_WHAT_STATE,
	[SOCKEV_RETRANSMIT] = SOCKEV_WHAT_RETRANSMIT,
	[SOCKEV_SEND_RESET] = SOCKEV_WHAT_SEND_RESET,
	[SOCKEV_RECEIVE_RESET] = SOCKEV_WHAT_RECEIVE_RESET,
};

/* A socket's state events without ports wait; its first event with ports
 * gives them theirs and lets them go first. A state event to CLOSE of a
 * socket that never had ports (a socket closed before it connected) is
 * nobody's: its waiting events go with it. */
static void sockev_deliver(struct sockev_sub *s, struct sockev_ev *ev)
{
	size_t i, kept = 0;

	if (ev->what == SOCKEV_WHAT_STATE && ev->sk && (!ev->sport || !ev->dport) &&
	    ev->newstate != FW_TCP_LISTEN /* it has no peer port */) {
		if (ev->newstate == FW_TCP_CLOSE) {
			for (i = 0; i < s->npending; i++)
				if (s->pending[i].sk != ev->sk)
					s->pending[kept++] = s->pending[i];
			s->npending = kept;
		} else if (s->npending < SOCKEV_PENDING) {
			if (s->npending == s->pending_cap) {
				size_t cap = s->pending_cap ? 2 * s->pending_cap : 64;
				struct sockev_ev *v = realloc(s->pending, cap * sizeof(*v));

				if (!v)
					return; /* dropped, as beyond the bound */
				s->pending = v;
				s->pending_cap = cap;
			}
			s->pending[s->npending++] = *ev;
		}
		return;
	}
	for (i = 0; i < s->npending; i++) {
		struct sockev_ev *p = &s->pending[i];

		if (p->sk != ev->sk || !ev->sk) {
			s->pending[kept++] = *p;
			continue;
		}
		p->src = ev->src;
		p->dst = ev->dst;
		p->sport = ev->sport;
		p->dport = ev->dport;
		s->cb(s->cb_ctx, p);
		s->handled++;
	}
	s->npending = kept;
	s->cb(s->cb_ctx, ev);
	s->handled++;
}

static int sockev_on_sample(void *ctx, void *data, size_t size)
{
	struct sockev_sub *s = ctx;
	const struct sockev_event *e = data;
	struct sockev_ev ev;

	if (size < sizeof(*e) || e->kind >= sizeof(sockev_what_of) / sizeof(sockev_what_of[0]) ||
	    e->kind == 0)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.what = sockev_what_of[e->kind];
	ev.t_ns = (int64_t)e->t_ns;
	ev.sk = e->sk;
	ev.netns = e->netns;
	ev.oldstate = e->oldstate;
	ev.newstate = e->newstate;
	ev.sport = e->sport;
	ev.dport = e->dport;
	if (e->family) {
		fw_addr_from_socket(&ev.src, e->family, e->saddr);
		fw_addr_from_socket(&ev.dst, e->family, e->daddr);
	}
	sockev_deliver(s, &ev);
	return 0;
}

/* Files the ring under the case's namespaces. An update of a map of maps
 * waits for an RCU grace period (the kernel's maybe_wait_bpf_programs(),
 * 5-20 ms here): on a thread of its own, it waits while the case's other
 * handles open (sockev_sub_open_begin()). */
static void *sockev_sub_subscribe(void *arg)
{
	struct sockev_sub *s = arg;
	size_t i;

	s->sub_ret = 0;
	for (i = 0; i < s->nwanted; i++) {
		const uint32_t *ids = s->wanted;

		/* The ring is filed under the first namespace, the others point
		 * to it. BPF_ANY: a namespace number a killed case left behind
		 * may have been given to this case's new namespace. */
		if (i == 0 ? bpf_map_update_elem(loaded.rings_fd, &ids[0], &s->ring_fd, BPF_ANY) :
			     bpf_map_update_elem(loaded.alias_fd, &ids[i], &ids[0], BPF_ANY)) {
			s->sub_ret = -errno;
			fw_err(s->sub_err, sizeof(s->sub_err), s->sub_ret,
			       "sockev: cannot subscribe namespace %u: %s", ids[i],
			       strerror(-s->sub_ret));
			break;
		}
		s->ids[s->nids++] = ids[i];
		bpf_map_delete_elem(loaded.lost_fd, &ids[i]);
		if (i == 0) /* an alias a killed case left behind */
			bpf_map_delete_elem(loaded.alias_fd, &ids[0]);
	}
	return NULL;
}

int sockev_sub_open_begin(struct sockev_sub **out, const uint32_t *ids, size_t n, char *err,
			  size_t errlen)
{
	struct sockev_sub *s = NULL;
	int ret;

	*out = NULL;
	if (!sockev_loaded()) {
		ret = fw_err(err, errlen, -ENODEV, "sockev: the BPF programs are not loaded");
		goto out;
	}
	if (n > sizeof(s->ids) / sizeof(s->ids[0])) {
		ret = fw_err(err, errlen, -E2BIG, "sockev: %zu namespaces for one ring", n);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = fw_err(err, errlen, -ENOMEM, "sockev: out of memory");
		goto out;
	}
	s->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fw_case_ring", 0, 0, SOCKEV_RING_BYTES,
				    NULL);
	if (s->ring_fd < 0) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockev: cannot create a ring buffer: %s", strerror(-ret));
		goto out;
	}
	s->rb = ring_buffer__new(s->ring_fd, sockev_on_sample, s, NULL);
	if (!s->rb) {
		ret = -errno;
		fw_err(err, errlen, ret, "sockev: cannot map the ring buffer: %s", strerror(-ret));
		goto out;
	}
	memcpy(s->wanted, ids, n * sizeof(*ids));
	s->nwanted = n;
	/* without a thread it subscribes in sockev_sub_open_end() */
	s->threaded = pthread_create(&s->th, NULL, sockev_sub_subscribe, s) == 0;
	*out = s;
	s = NULL;
	ret = 0;
out:
	sockev_sub_free(s);
	return ret;
}

int sockev_sub_open_end(struct sockev_sub **sp, char *err, size_t errlen)
{
	struct sockev_sub *s = *sp;
	int ret;

	if (!s)
		return fw_err(err, errlen, -EINVAL, "sockev: no subscription begun");
	if (s->threaded)
		pthread_join(s->th, NULL);
	else
		sockev_sub_subscribe(s);
	s->threaded = false;
	ret = s->sub_ret;
	if (ret < 0) {
		fw_err(err, errlen, ret, "%s", s->sub_err);
		sockev_sub_free(s);
		*sp = NULL;
	}
	return ret;
}

int sockev_sub_open(struct sockev_sub **out, const uint32_t *ids, size_t n, char *err,
		    size_t errlen)
{
	int ret = sockev_sub_open_begin(out, ids, n, err, errlen);

	return ret < 0 ? ret : sockev_sub_open_end(out, err, errlen);
}

int sockev_sub_fd(const struct sockev_sub *s)
{
	return s->ring_fd;
}

int sockev_sub_read(struct sockev_sub *s, void (*cb)(void *ctx, const struct sockev_ev *ev),
		    void *ctx)
{
	int ret;

	s->cb = cb;
	s->cb_ctx = ctx;
	s->handled = 0;
	ret = ring_buffer__consume(s->rb);
	return ret < 0 ? ret : s->handled;
}

uint64_t sockev_sub_lost(const struct sockev_sub *s)
{
	uint64_t sum = 0, v;
	size_t i;

	for (i = 0; i < s->nids; i++)
		if (bpf_map_lookup_elem(loaded.lost_fd, &s->ids[i], &v) == 0)
			sum += v;
	return sum;
}

/* The kernel runs a tracing program at most once per CPU at a time: an
 * event that comes while the same program is already running there (a
 * timer's softirq interrupting a socket call's transition) is skipped, and
 * only counted in the program's recursion_misses. Those are global, not per
 * namespace. */
uint64_t sockev_missed(void)
{
	struct bpf_program *prog;
	uint64_t sum = 0;

	if (!sockev_loaded())
		return 0;
	bpf_object__for_each_program(prog, loaded.obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}

void sockev_sub_free(struct sockev_sub *s)
{
	size_t i;

	if (!s)
		return;
	if (s->threaded) /* begun and never ended: its thread still writes ids */
		pthread_join(s->th, NULL);
	for (i = 0; i < s->nids; i++) {
		bpf_map_delete_elem(i == 0 ? loaded.rings_fd : loaded.alias_fd, &s->ids[i]);
		bpf_map_delete_elem(loaded.lost_fd, &s->ids[i]);
	}
	ring_buffer__free(s->rb);
	free(s->pending);
	if (s->ring_fd > 0)
		close(s->ring_fd);
	free(s);
}
