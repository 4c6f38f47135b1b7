/* case_int: what the files of the case loader share. */
#ifndef FW_CASE_INT_H
#define FW_CASE_INT_H

#include "case.h"

#include "conntrack.h"
#include "sockprobe.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct loader {
	const char *label; /* path shown in messages */
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

/* Every error goes through here: "label:line:col: message", -EINVAL. */
int load_fail(struct loader *L, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline yaml_node_t *node_at(struct loader *L, int id)
{
	return yaml_document_get_node(&L->doc, id);
}

static inline const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

struct keyset {
	const char *what; /* "case", "fault", "step" */
	const char *const *keys;
};

/* The hosts a key may name (bit i = enum fw_host i). */
#define HOSTS_ENDPOINTS ((1u << HOST_CLIENT) | (1u << HOST_SERVER))
#define HOSTS_WITH_DUT (HOSTS_ENDPOINTS | (1u << HOST_DUT))

/* Socket options a setsockopt step (and requires: sockopts) may name. */
struct sockopt_name {
	const char *name;
	int level, opt;
	int max;
};
/* ---- the step kinds (case_step.c): one row each ---- */

struct step_words;
/* What a kind cannot check key by key: keys that go together or exclude
 * each other, and references to earlier steps (case_step_load.c). */
typedef int step_check_fn(struct loader *L, struct fw_case *c, yaml_node_t *map,
			  struct fw_step *s);
#define STEP_MAX_KEYS 28
struct step_kind_info {
	const char *name;  /* as written after do: or expect: */
	bool expect;       /* an expectation (expect:), else an action (do:) */
	bool needs_socket; /* works on an open socket of its host ('sock') */
	unsigned hosts;    /* what 'host' may name; 0 = HOSTS_ENDPOINTS */
	/* the keys it takes besides the ones every step takes, ended by NULL:
	 * a kind may name STEP_MAX_KEYS - 1 (test_case checks the end) */
	const char *const keys[STEP_MAX_KEYS];
	const char *required;       /* one key it must have, or NULL */
	int64_t within;             /* its default window (ns), 0 = none */
	void (*init)(struct fw_step *s); /* its union member's defaults */
	step_check_fn *check;            /* or NULL */
	void (*say)(const struct fw_case *c, struct fw_step *s, const struct step_words *w);
};
extern const struct step_kind_info step_kinds[STEP_KIND_COUNT];
step_check_fn check_group_use, check_accept, check_connect, check_recv, check_setsockopt, check_inject,
    check_start, check_segment, check_state, check_counter, check_sysctl, check_conntrack,
    check_exit, check_kmsg, check_tcp_info;

/* ---- shared between the files of the module ---- */

bool key_known(const char *const *keys, const char *k);
int check_keys(struct loader *L, yaml_node_t *map, const struct keyset *ks);
yaml_node_t *map_get(struct loader *L, yaml_node_t *map, const char *key);
int get_str(struct loader *L, yaml_node_t *n, const char *key, char *out, size_t len);
int get_uint(struct loader *L, yaml_node_t *n, const char *key, unsigned long max,
	     unsigned long *out);
int get_bool(struct loader *L, yaml_node_t *n, const char *key, bool *out);
int get_duration(struct loader *L, yaml_node_t *n, const char *key, int64_t *out);
int opt_str(struct loader *L, yaml_node_t *map, const char *key, char *out, size_t len);
int opt_uint(struct loader *L, yaml_node_t *map, const char *key, unsigned long min,
	     unsigned long max, unsigned long *out);
int opt_bool(struct loader *L, yaml_node_t *map, const char *key, bool *out);
int opt_duration(struct loader *L, yaml_node_t *map, const char *key, int64_t *out);
int get_host(struct loader *L, yaml_node_t *n, const char *key, unsigned allowed,
	     enum fw_host *out);
int get_flags(struct loader *L, yaml_node_t *map, bool required, bool *has, uint8_t *mask,
	      uint8_t *value);
int expr_number(const char *s, int64_t *out);
int get_expr(struct loader *L, yaml_node_t *n, const char *key, struct fw_expr *out);
int fault_index(const struct fault_rule *rules, size_t n, const char *name);
int step_kind_lookup(struct loader *L, yaml_node_t *n, bool expect, enum step_kind *out);
int load_sockopt(struct loader *L, yaml_node_t *map, struct fw_step *s);
int load_signal(struct loader *L, yaml_node_t *n, int *out);
enum fw_host other_host(enum fw_host h);
void step_describe(const struct fw_case *c, struct fw_step *s);
int load_when(struct loader *L, const struct fw_case *c, yaml_node_t *n, uint32_t *out);
int load_step(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fw_step *s);
int load_fault(struct loader *L, struct fw_case *c, yaml_node_t *map, struct fault_rule *f);
int load_sysctls(struct loader *L, struct fw_sysctl **arr, size_t *count, yaml_node_t *top);
int load_matrix(struct loader *L, struct fw_case *c, yaml_node_t *n);
const struct sockopt_name *case_sockopt_lookup(const char *name);

#endif
