/* scheduler: runs cases, each in a process of its own, up to `jobs` at once.
 * A case process holds its namespaces by fd and dies with the harness
 * (PR_SET_PDEATHSIG), so nothing outlives a killed harness. Its result comes
 * back over a pipe as JSON. A case that overruns its time budget (the sum
 * of its waits plus a margin) is killed and reported as ERROR. A run that
 * failed a timing expectation while the harness itself was late (its result
 * says so) is run again, up to 3 times in all, and is INCONCLUSIVE if every
 * attempt ends that way. */
#ifndef FW_SCHEDULER_H
#define FW_SCHEDULER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "case.h"
#include "result.h"

/* Called once per run, in order, as soon as it and every run before it have
 * finished. A run is (repetition, case): index = (repetition - 1) * n + case,
 * so each repetition is the whole catalog again in catalog order; from the
 * second repetition on, r->name is "<case-name>#<repetition>" so reports keep
 * one entry per run. r is owned by the scheduler. */
typedef void (*sched_done_fn)(void *ctx, size_t index, const struct case_result *r);

/* How often each verdict came out for one case over its repetitions. */
struct sched_tally {
	unsigned counts[CASE_STATUS_COUNT]; /* by enum case_status */
};

struct sched_config {
	size_t jobs;    /* case processes at once, >= 1 (the most, when adaptive) */
	/* Admit cases by the harness's measured lateness: start at 2 per CPU,
	 * halve when a finished run was late, add one when it was punctual. */
	bool adaptive;
	unsigned repeat; /* runs of each case, >= 1 (0 counts as 1) */
	/* Optional, n entries: filled with the verdicts of every case's runs. */
	struct sched_tally *tally;
};

/* Returns 0, or -EINTR when *stop became non-zero: the running cases are
 * killed, then every run that had finished is reported (done() in order, as
 * ever) and every other one as not run: status SKIP, message "not run: ...". */
int sched_run(struct fw_case *const *cases, size_t n, const struct sched_config *cfg,
	      volatile sig_atomic_t *stop, sched_done_fn done, void *ctx);

/* The name of run index of a case (n cases per repetition): the case's
 * name, then "<name>#2", "<name>#3"... for later repetitions. */
void sched_run_name(const char *case_name, size_t index, size_t n, char *out, size_t len);
/* Did this case's verdict change between repetitions? */
bool sched_tally_flipped(const struct sched_tally *t);

#endif
