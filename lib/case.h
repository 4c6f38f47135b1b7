/* case: a case file (YAML) loaded and validated into struct fw_case.
 *
 * Parsing uses libyaml's document API: every node keeps its line and column,
 * so every error, from a YAML syntax error to an unknown host in step 7, is
 * reported as "cases/x.yaml:12:5: message". A table per mapping type lists
 * the keys it accepts; unknown keys, bad enum values, missing fields and
 * fields that do not apply to a step are all rejected before anything runs. */
#ifndef FW_CASE_H
#define FW_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "requires.h"
#include "topo.h"

#define CASE_MAX_NAME 128
#define CASE_MAX_TEXT 256
#define CASE_MAX_LIST 16
#define CASE_MAX_ROWS 32 /* matrix rows: a step's "when" is a bit mask of them */
/* Bounds on what one file may expand to (a 1 MiB file of YAML aliases made
 * 64 runs x 348k steps, 6 GB): the catalog's longest case has 31 steps. */
#define CASE_MAX_STEPS 1000
#define CASE_MAX_FAULTS 256
/* Connections one connect or accept step may open at once ('connections'). */
#define CASE_MAX_CONNECTIONS 10000
#define CASE_MAX_ALIASES 256 /* uses of a YAML anchor (*name), in all */

/* Address families a case runs on (bit mask). */
enum {
	CASE_FAMILY_IPV4 = 1,
	CASE_FAMILY_IPV6 = 2,
};

/* Step kinds: actions ("do:") then expectations ("expect:"). */
enum step_kind {
	STEP_LISTEN,
	STEP_CONNECT,
	STEP_ACCEPT,
	STEP_SEND,
	STEP_RECV,
	STEP_SHUTDOWN,
	STEP_CLOSE,
	STEP_SETSOCKOPT,
	STEP_INJECT,
	STEP_ARM,
	STEP_DISARM,
	STEP_RELEASE, /* let through what a hold fault keeps */
	STEP_FORK,    /* a child process takes copies of the host's sockets */
	STEP_KILL,    /* signal a forked child and wait for it to die */
	STEP_WAIT,    /* let time pass; the next expectations count from its end */
	STEP_START,   /* run a real program (the user's server) in a host's namespace */
	STEP_EXPECT_SEGMENT,
	STEP_EXPECT_NO_SEGMENT,
	STEP_EXPECT_STATE,
	STEP_EXPECT_GONE,
	STEP_EXPECT_COUNTER, /* a namespace counter moved by this much since the case began */
	STEP_EXPECT_SYSCTL,  /* a sysctl reads a value, or does not exist, in a host's namespace */
	STEP_EXPECT_CONNTRACK, /* the box's conntrack entry for the connection (dut:) */
	STEP_EXPECT_EXIT,      /* a started program or forked child ended this way */
	STEP_EXPECT_KMSG,      /* the kernel logged (or did not log) a message since the case began */
	STEP_EXPECT_TCP_INFO,  /* a field of the socket's struct tcp_info (sock_diag) */
	STEP_EXPECT_RETRANSMITS, /* the kernel retransmitted the socket's segments this often (tracepoint) */
};
#define STEP_KIND_COUNT (STEP_EXPECT_RETRANSMITS + 1)

const char *step_kind_name(enum step_kind k); /* "listen", ..., "segment" */
/* Does the case say something only the kernel's socket events can decide
 * (expect retransmits, expect state with never)? Without them (sockev.h)
 * its runs are SKIPped, saying why. */
bool case_needs_socket_events(const struct fw_case *c);
bool step_kind_is_expect(enum step_kind k);
/* The action works on an open socket of its host named by 'sock' (accept:
 * its listener), which must exist when it runs. */
bool step_kind_needs_socket(enum step_kind k);

/* A number taken from what capture has seen, plus an offset:
 * seq/ack of an injected segment, TS values. */
enum expr_base {
	EXPR_NUMBER,  /* relative to the sender's ISN (seq) or the target's (ack) */
	EXPR_RCV_NXT, /* next sequence number the target expects from the sender */
	EXPR_SND_NXT, /* the target's next sequence number (what the sender would ACK) */
	EXPR_TSVAL,   /* last TSval the (spoofed) sender sent */
	EXPR_TSECR,   /* last TSval the target sent (what the sender would echo) */
	EXPR_RCV_WND_END, /* right edge of the target's receive window: rcv_nxt + its
			   * last advertised window, scaled as its SYN said */
	/* the previous incarnation of the same 4-tuple (before a new SYN):
	 * absolute numbers, so a new connection's can be said in the old's */
	EXPR_PREV_SND_NXT, /* expect isn: the sender's / inject: the target's old snd_nxt */
	EXPR_PREV_RCV_NXT, /* expect isn: the sender's / inject: the target's old rcv_nxt */
	/* timestamps in a segment expectation, as of just before that segment */
	EXPR_OWN_TSVAL,  /* the last TSval the same host's kernel sent */
	EXPR_PEER_TSVAL, /* the last TSval the other host's kernel sent */
	EXPR_MARK_TSVAL, /* tsval(NAME): the TSval of the segment the step marked NAME
			  * matched (a segment expectation) or sent (an inject) */
};

/* How a segment expectation's timestamp compares (mod 2^32, as PAWS does). */
enum expr_cmp {
	EXPR_EQ,
	EXPR_GE,
	EXPR_GT,
	EXPR_LE,
	EXPR_LT,
};

struct fw_expr {
	bool set;
	enum expr_base base;
	int64_t offset;
	enum expr_cmp cmp; /* "> own_tsval": only segment expectations' tsval/tsecr */
	char mark[32];     /* EXPR_MARK_TSVAL: the mark's name */
	int mark_step;     /* ... the marked step's index in the file (the engine looks
			    * the name up: a matrix row's run has fewer steps) */
};

enum step_address {
	ADDRESS_HOST,     /* the host's own address on its link (default) */
	ADDRESS_ANY,      /* listen: 0.0.0.0 / :: */
	ADDRESS_LOOPBACK, /* 127.0.0.1 / ::1: listen there, or connect to the host itself */
};

/* Which of a proxy's two connections a step means (conn:): the client's
 * to the box (front) or the box's own to the server (back). */
enum fw_conn {
	CONN_ANY,   /* not said: the only one, or the endpoint's */
	CONN_FRONT, /* client <-> dut */
	CONN_BACK,  /* dut <-> server */
};
const char *fw_conn_name(enum fw_conn c);

/* One step. The members before the union apply to every kind; each member
 * of the union belongs to the kinds named beside it (case_step.c's table
 * says which group a kind uses and sets that group's defaults), so a kind
 * never reads another's fields. */
struct fw_step {
	enum step_kind kind;
	int line; /* where the step starts in the file */
	enum fw_host host;  /* actor; for segment expectations and inject: the sender */
	enum fw_host peer;  /* connect: the server; inject: the target */
	enum fw_conn conn;  /* a proxy's connection the step means (segment, state, gone) */
	char sock[32];      /* socket name; "" = the host's latest connection */
	uint16_t port;      /* listen / connect destination, state/gone by port, start's ready_port */
	int expect_errno;   /* actions: the result expected, 0 = success */
	bool absent;        /* expect sysctl: this kernel must not have it; kmsg: not logged */
	bool has_flags;     /* segment, no_segment, inject */
	uint8_t flags_mask, flags_value; /* segment match / injected flags (value) */
	int fault;          /* arm/disarm/release: index into faults */
	char mark[32];      /* a name later steps can count time from ('since') */
	bool together;      /* actions: the next action starts right after, nothing in between */
	bool has_trigger;   /* actions: wait until a segment like this arrives, then act at once */
	enum fw_host trig_from;
	uint8_t trig_mask, trig_value;
	char since[32];     /* expectations: count 'within' from that marked step's start */
	int64_t within_ns;  /* deadline of a wait */
	uint32_t when;      /* matrix rows the step belongs to (bit i = row i); 0 = all */
	char text[CASE_MAX_TEXT]; /* the step in words, for reports */
	union {
		struct { /* listen, connect, accept, send, recv, shutdown, close, setsockopt */
			char listener[32];  /* accept: the listening socket it takes from */
			enum step_address address;
			uint16_t from_port; /* connect source port, 0 = kernel's choice */
			uint32_t connections; /* connect/accept: this many sockets under one name (0: 1) */
			uint32_t bytes;     /* send / recv */
			bool eof;           /* recv: expect end of stream */
			int linger;         /* SO_LINGER seconds, -1 = leave alone */
			int reuseaddr;      /* SO_REUSEADDR 0/1, -1 = leave alone */
			int reuseport;      /* SO_REUSEPORT 0/1, -1 = leave alone */
			bool has_opt;       /* setsockopt: a named option */
			int opt_level, opt_name, opt_value;
			char opt_text[32];  /* its name, for reports */
		};
		struct { /* inject, segment, no_segment; retransmits (count) */
			bool arrived; /* as it reached the other host, not as sent */
			/* segment, no_segment: as seen where wire `at` meets the box
			 * (going in or out by the sender; from dut: made by the box);
			 * inject with leg: sent from that wire's namespace */
			bool at_box;
			enum fault_leg at;
			/* expect segment: TCP options and header fields, -1 = any */
			int opt_mss, opt_wscale, opt_sack_ok, opt_ts, opt_dsack, opt_sack_blocks;
			int count_min, count_max; /* how many in the window; -1 = not counted */
			struct fw_expr seq, ack, tsval, tsecr;
			struct fw_expr isn; /* its absolute seq (a SYN's ISN), e.g. prev_snd_nxt+65537 */
			bool ts;     /* inject: add a timestamp option */
			int64_t len; /* payload length to match, -1 = any; inject: payload */
			int win;     /* inject: window (-1 = 65535); segment: -1 = any */
			/* inject: SACK blocks [left, right) (relative to the target's
			 * ISN, or rcv_nxt-like expressions), and payload text */
			uint8_t nsack;
			struct fw_expr sack[4][2];
			char payload[CASE_MAX_TEXT];
			uint32_t payload_len; /* its bytes (YAML escapes may put a NUL in it) */
		};
		struct { /* state, gone */
			int state;
			int timer; /* the socket's timer (sock_diag), -1 = any */
			int64_t timer_min_ns, timer_max_ns; /* time left, -1 = any */
			int nsock_min, nsock_max; /* state: how many of the socket's connections, -1 = all */
			bool never; /* state: the socket did not enter it in the window (events) */
		};
		struct { /* fork, kill, start, exit */
			char proc[32];           /* the process's name */
			char run[CASE_MAX_TEXT]; /* start: the command (sh -c 'exec ...') */
			int signal;              /* kill */
			int exit_status;         /* exit: the exit status, -1 = any */
			int exit_signal;         /* exit: killed by this signal, 0 = not killed */
			char output[128];        /* exit: text its output must contain, "" = any */
		};
		struct { /* sysctl */
			char sysctl[96]; /* its name */
			char equals[64]; /* the value it must read ("" with absent) */
		};
		struct { /* counter */
			char counter[64];  /* "TCPTimeWaitOverflow" or "TcpExt.TWRecycled" */
			int64_t delta;     /* the change since the case began (or 'since') */
			bool delta_is_min; /* ... at least delta ("delta_min") rather than exactly */
		};
		struct { /* conntrack: the entry of the current connection in the box */
			int ct_state;       /* enum tcp_conntrack number, -1 = any */
			bool ct_gone;       /* the entry must be gone */
			uint32_t ct_status; /* IPS_* bits that must be set */
			int64_t ct_timeout_min_ns, ct_timeout_max_ns; /* -1 = any */
		};
		struct { /* kmsg */
			char kmsg[128]; /* text the message contains */
		};
		struct { /* tcp_info */
			int info_field;             /* enum fw_tcp_info_field */
			int64_t info_min, info_max; /* its value lies in [min, max] */
		};
	};
};

struct fw_sysctl {
	enum fw_host host;
	char name[96];
	char value[64];
	int line;
};

/* One row of a matrix: sysctls on top of the case's own, and a name that
 * becomes part of the run's name ("tcp_rfc1337=1"). */
struct fw_matrix_row {
	char name[96];
	struct fw_sysctl *sysctls;
	size_t nsysctls;
	int line;
};

/* The device under test (dut:): the case runs on client -- wire-a -- dut --
 * wire-b -- server, and the box is configured before the first step. */
#define CASE_MAX_PATH 512
enum fw_dut_mode {
	DUT_ROUTED, /* the box routes between 198.18.3.0/24 and 198.18.4.0/24 */
	DUT_BRIDGE, /* the box bridges a0 and b0 (br0): layer 2, no address */
};

struct fw_dut {
	bool present;
	enum fw_dut_mode mode;
	char ruleset[CASE_MAX_PATH]; /* loaded with nft -f in the box (resolved path) */
	char setup[CASE_MAX_TEXT];   /* sh -c in the box, after the ruleset */
	char run[CASE_MAX_TEXT];     /* a program kept running in the box: sh -c 'exec ...' */
	uint16_t ready_port;         /* run: it listens on this TCP port before the steps */
	char interfaces[2][16];      /* an external box: the two real interfaces cabled to it */
	char dir[CASE_MAX_PATH];     /* the case file's directory: FW_CASE_DIR for setup/run */
	int line;
};

struct fw_case {
	char path[512];
	char name[CASE_MAX_NAME];
	char summary[CASE_MAX_TEXT];
	char verdict[CASE_MAX_TEXT];   /* why the claim does not hold, "" when it does */
	char condition[CASE_MAX_TEXT]; /* the condition the claim holds under, "" when none */
	char claims[CASE_MAX_LIST][8];
	size_t nclaims;
	char refs[CASE_MAX_LIST][CASE_MAX_TEXT];
	size_t nrefs;
	int family;        /* the family this run uses: AF_INET or AF_INET6 */
	unsigned families; /* CASE_FAMILY_* the file asks for (default both) */
	bool slow;         /* waits out a real long timer (60 s TIME_WAIT) */
	struct fw_matrix_row *rows;
	size_t nrows;
	struct fw_sysctl *sysctls;
	size_t nsysctls;
	struct fault_rule *faults;
	size_t nfaults;
	struct fw_step *steps;
	size_t nsteps;
	struct fw_requires requires; /* what the kernel must have (requires.h) */
	struct fw_dut dut;
	char skip[CASE_MAX_TEXT];    /* set by the harness: why this run is skipped */
};

/* Load and validate path. default_name is used when the file has no name:
 * (the harness passes the path relative to the catalog root, minus .yaml).
 * Returns 0, or -EINVAL with err = "path:line:col: message" (-errno for I/O).
 * Caller frees with case_free(). */
int case_load(const char *path, const char *default_name, struct fw_case **out, char *err,
	      size_t errlen);
/* Same, from a string (tests, fuzzing); label stands in for the path. */
int case_load_string(const char *yaml, size_t len, const char *label, const char *default_name,
		     struct fw_case **out, char *err, size_t errlen);
void case_free(struct fw_case *c); /* accepts NULL */

/* The runs a loaded case stands for: one per family it names and per matrix
 * row, each a complete case with that family, the row's sysctls added (a row
 * overrides the case's value for the same host and name) and only the steps
 * whose "when" names the row. A single run keeps the case's name; several
 * are named "name[ipv6]", "name[tcp_rfc1337=1]", "name[ipv6,tcp_rfc1337=1]".
 * Returns 0 with *out a malloc'd array of *n cases (free each with
 * case_free(), then the array with free()), or -ENOMEM. */
int case_expand(const struct fw_case *c, struct fw_case ***out, size_t *n);

/* Parse "rcv_nxt+1", "tsval-1", "1001", "rcv_nxt+2^30", ">= own_tsval+1",
 * "tsval(fin)"; 0 or -EINVAL. Which bases and comparisons a key takes is
 * the loader's business. */
int expr_parse(const char *s, struct fw_expr *out);
/* Back into words: ">= own_tsval+1", "tsval(fin)", "1001". */
void expr_format(const struct fw_expr *x, char *buf, size_t len);

#endif
