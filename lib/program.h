/* program: a real program a case runs in one of its namespaces (a proxy as
 * the device under test, the user's own server as an endpoint): started with
 * sh -c 'exec ...' and an environment naming the topology, waited for until
 * it listens on its port, its output kept in a memory file, and killed with
 * the case at the latest. It can never keep a namespace alive. */
#ifndef FW_PROGRAM_H
#define FW_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc.h"

struct program {
	struct proc_child child;
	int log_fd;
	char name[64]; /* the command's first word, for messages */
};

/* What every program and setup command of a case sees: the topology's
 * interfaces and addresses (FW_CLIENT_V4, FW_DUT_IF_A, ...; with a bridged
 * box FW_DUT_BRIDGE and no box addresses) and FW_CASE_DIR. */
void program_env(char *env[], size_t max, char *case_dir_entry, size_t entry_len,
		 const char *case_dir, bool bridged);

/* Start command (sh -c 'exec COMMAND') in ns_fd; when ready_port, wait until
 * a TCP listener on it exists there, up to deadline_ns (monotonic). Returns 0
 * or -errno with err one line ("dut: haproxy exited with 1 before listening
 * on port 8080: <its first line>"); what names the role in messages.
 * p is filled either way once started; end it with program_stop(). */
int program_start(struct program *p, const char *what, int ns_fd, const char *command,
		  bool bridged, const char *case_dir, uint16_t ready_port, int64_t deadline_ns, char *err,
		  size_t errlen);
/* Kill it if it still runs; report "NAME: exited with 0; it wrote: ..." (or
 * "ran until the end of the case"). Accepts a program never started. */
void program_stop(struct program *p, char *report, size_t len);
/* What it wrote so far (the end, at most len - 1 bytes). */
void program_output(const struct program *p, char *buf, size_t len);

#endif
