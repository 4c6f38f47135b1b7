/* fuzz_case: the case loader (parser and validator) against hostile input.
 *
 * Every input must end one of two ways: a case that satisfies the invariants
 * the engine relies on (and so does every run case_expand() makes of it), or -EINVAL with no case and a located message
 * ("fuzz.yaml:LINE:COL: why"). Anything else aborts, and so does a crash,
 * a leak (LeakSanitizer), undefined behaviour (UBSan) or a hang (-timeout).
 * The input is not NUL-terminated, so reading past its length is caught too.
 * Built as a libFuzzer target with -DFW_FUZZ=ON (clang); replay.c runs the
 * same checks over the seed corpus in every build. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "util.h"

#define LABEL "fuzz.yaml"

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_case: %s (err: '%s')\n", what, err);
	abort();
}

/* "fuzz.yaml:" then a line >= 1, ':', a column >= 1, ": " and some text. */
static int located(const char *err)
{
	unsigned long line, col;
	int used = 0;

	if (strncmp(err, LABEL ":", sizeof(LABEL)) != 0)
		return 0;
	if (sscanf(err + sizeof(LABEL), "%lu:%lu: %n", &line, &col, &used) != 2 || !used)
		return 0;
	return line >= 1 && col >= 1 && err[sizeof(LABEL) + used] != '\0';
}

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			die("invariant broken: " #cond, ""); \
	} while (0)

/* What the engine takes for granted about a loaded case. */
static void check_case(const struct fw_case *c)
{
	size_t i;

	CHECK(strnlen(c->name, sizeof(c->name)) < sizeof(c->name) && c->name[0]);
	CHECK(strnlen(c->summary, sizeof(c->summary)) < sizeof(c->summary) && c->summary[0]);
	CHECK(strnlen(c->verdict, sizeof(c->verdict)) < sizeof(c->verdict));
	CHECK(c->nclaims <= CASE_MAX_LIST && c->nrefs <= CASE_MAX_LIST);
	for (i = 0; i < c->nclaims; i++)
		CHECK(strnlen(c->claims[i], sizeof(c->claims[i])) < sizeof(c->claims[i]));
	for (i = 0; i < c->nrefs; i++)
		CHECK(strnlen(c->refs[i], sizeof(c->refs[i])) < sizeof(c->refs[i]));
	CHECK(c->family == 2 /* AF_INET */ || c->family == 10 /* AF_INET6 */);
	CHECK(c->nsteps > 0 && c->steps);
	CHECK(c->nsysctls == 0 || c->sysctls);
	CHECK(c->nfaults == 0 || c->faults);
	for (i = 0; i < c->nsysctls; i++) {
		const struct fw_sysctl *s = &c->sysctls[i];

		/* the loader takes 'dut' sysctls only for a device under test in a
		 * namespace of ours (lib/case.c) */
		CHECK(s->host == HOST_CLIENT || s->host == HOST_SERVER || s->host == HOST_WIRE ||
		      (s->host == HOST_DUT && c->dut.present && !c->dut.interfaces[0][0]));
		CHECK(strnlen(s->name, sizeof(s->name)) < sizeof(s->name) && s->name[0]);
		CHECK(strnlen(s->value, sizeof(s->value)) < sizeof(s->value));
		/* a sysctl name becomes a path under /proc/sys: no way out of net.* */
		CHECK(strncmp(s->name, "net.", 4) == 0 && !strstr(s->name, ".."));
		CHECK(!strchr(s->name, '/'));
	}
	for (i = 0; i < c->nfaults; i++) {
		const struct fault_rule *r = &c->faults[i];

		CHECK(strnlen(r->name, sizeof(r->name)) < sizeof(r->name));
		CHECK(r->from == HOST_CLIENT || r->from == HOST_SERVER);
		CHECK(r->nth >= 1);
		CHECK((unsigned)r->action < FAULT_ACTION_COUNT);
		CHECK(r->delay_ns >= 0);
	}
	for (i = 0; i < c->nsteps; i++) {
		const struct fw_step *s = &c->steps[i];

		CHECK((unsigned)s->kind < STEP_KIND_COUNT);
		CHECK(s->line >= 1);
		CHECK((unsigned)s->host < HOST_COUNT && (unsigned)s->peer < HOST_COUNT);
		CHECK(strnlen(s->sock, sizeof(s->sock)) < sizeof(s->sock));
		CHECK(strnlen(s->text, sizeof(s->text)) < sizeof(s->text));
		CHECK(s->within_ns >= 0);
		if (s->kind == STEP_ARM || s->kind == STEP_DISARM)
			CHECK(s->fault >= 0 && (size_t)s->fault < c->nfaults);
	}
}

/* What the catalog does next: one run per family and matrix row, each a
 * case the engine can run, with distinct names. */
static void check_runs(const struct fw_case *c)
{
	struct fw_case **runs = NULL;
	size_t n = 0, i, j;

	if (case_expand(c, &runs, &n) < 0)
		return; /* -ENOMEM only */
	CHECK(n >= 1 && runs);
	for (i = 0; i < n; i++) {
		check_case(runs[i]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(runs[i]->name, runs[j]->name) != 0);
	}
	for (i = 0; i < n; i++)
		case_free(runs[i]);
	free(runs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes on the heap: ASan sees a read past it. */
	char *yaml = malloc(size ? size : 1);
	struct fw_case *c = (struct fw_case *)&yaml; /* must be set to NULL or a case */
	char err[FW_ERRLEN] = "";
	int ret;

	if (!yaml)
		return 0;
	if (size)
		memcpy(yaml, data, size);
	ret = case_load_string(yaml, size, LABEL, "fuzz", &c, err, sizeof(err));
	if (ret == 0) {
		if (!c)
			die("success without a case", err);
		check_case(c);
		check_runs(c);
		case_free(c);
	} else {
		if (c)
			die("a failed load left a case behind", err);
		if (ret != -EINVAL)
			die("an error other than -EINVAL", err);
		if (!located(err))
			die("an error without file:line:col", err);
	}
	free(yaml);
	return 0;
}
