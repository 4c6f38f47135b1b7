/* dut: the device under test, brought up in its namespace before a case's
 * first step and taken down with the case: the ruleset (nft -f), the setup
 * command, the program kept running (a proxy), and its readiness. The box's
 * interfaces and addresses reach the setup command and the program as
 * environment variables (FW_DUT_IF_A=a0, FW_DUT_A_V4=198.18.3.2, ...; see
 * docs/middlebox.md), since a ruleset may name them. */
#ifndef FW_DUT_H
#define FW_DUT_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"

struct dut;

/* Load cfg's ruleset (nft -f) into the box in ns_fd, if it has one; 0 or
 * -errno with err naming the file and nft's words. Before dut_start() and
 * before the box's sysctls (the ruleset brings nf_conntrack with them). */
int dut_load_ruleset(const struct fw_dut *cfg, int ns_fd, char *err, size_t errlen);
/* Run the box's setup command and program in ns_fd as cfg says, and wait (up to deadline_ns,
 * monotonic) until its program listens on cfg->ready_port. Returns 0, or
 * -errno with err one line naming the step that failed and the tool's own
 * words ("dut: ruleset cases/x.nft: nft: syntax error, line 3 ..."). *out is
 * set either way when a program was started, so its output can be reported;
 * free with dut_stop(). */
int dut_start(struct dut **out, const struct fw_dut *cfg, int ns_fd, int64_t deadline_ns,
	      char *err, size_t errlen);
/* Kill the program (if any) and say how it ended and what it wrote, in one
 * paragraph ("haproxy: killed by SIGKILL at the end of the case; it wrote: ...").
 * Accepts NULL (report is then ""). */
void dut_stop(struct dut *d, char *report, size_t len);
/* Is the program still running? (1 yes, 0 it ended, -1 no program) */
int dut_running(struct dut *d);

#endif
