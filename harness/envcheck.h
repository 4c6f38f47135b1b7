/* envcheck: can this process, in this environment, run cases? Checks the
 * harness makes before anything runs, each a one-line answer with the fix
 * (exit code 3): the open-file limit, a writable /proc/sys. */
#ifndef FW_ENVCHECK_H
#define FW_ENVCHECK_H

#include <stddef.h>

/* Descriptors a case process may need at once (sockets, namespaces,
 * captures, the interceptor's netlink sockets), and the harness besides
 * one pipe per job. Measured: 32 made cases/close/ ERROR with EMFILE. */
#define ENVCHECK_NOFILE_PER_CASE 256

/* Raise RLIMIT_NOFILE's soft limit to its hard limit; refuse (-EMFILE and a
 * message naming the fix) when even that is below what jobs cases need. */
int envcheck_nofile(size_t jobs, char *err, size_t errlen);

/* Cases write sysctls inside their own namespaces: a read-only /proc/sys
 * (a container's default) would make every run ERROR. Writes ip_forward's
 * own value back inside ns_fd (a scratch namespace). 0 or -errno. */
int envcheck_sysctl_writable(int ns_fd, char *err, size_t errlen);

#endif
