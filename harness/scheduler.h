/* scheduler: runs cases, each in a process of its own, up to `jobs` at once.
 * A case process holds its namespaces by fd and dies with the harness
 * (PR_SET_PDEATHSIG), so nothing outlives a killed harness. Its result comes
 * back over a pipe as JSON. A case that overruns its time budget (the sum
 * of its waits plus a margin) is killed and reported as ERROR. */
#ifndef FW_SCHEDULER_H
#define FW_SCHEDULER_H

#include <signal.h>
#include <stddef.h>

#include "case.h"
#include "result.h"

/* Called once per case, in catalog order, as soon as it and every case
 * before it have finished. r is owned by the scheduler. */
typedef void (*sched_done_fn)(void *ctx, size_t index, const struct case_result *r);

/* Returns 0, or -EINTR when *stop became non-zero (the running cases are
 * killed and the ones not reported yet are not reported). */
int sched_run(struct fw_case *const *cases, size_t n, size_t jobs, volatile sig_atomic_t *stop,
	      sched_done_fn done, void *ctx);

#endif
