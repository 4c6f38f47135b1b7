/* kmsg: the kernel log (/dev/kmsg) from a moment on, for `expect: kmsg`.
 * The log is one for the whole machine, not per network namespace: a case
 * sees every message printed while it runs, its own and other cases'. Each
 * read() of /dev/kmsg returns one record, "prio,seq,usec,flags;text\n". */
#ifndef FW_KMSG_H
#define FW_KMSG_H

#include <stddef.h>

#define KMSG_KEEP 512 /* records kept; beyond it the oldest are dropped */

struct kmsg_log {
	int fd;          /* positioned at the end of the log when opened */
	char **text;     /* the message of each record read since */
	size_t n, first; /* a ring of KMSG_KEEP */
	unsigned long lost; /* records the kernel overwrote before we read them */
};

/* Open the log at its end: only records printed from now on are read.
 * Returns 0 or -errno (err names the fix). */
int kmsg_open(struct kmsg_log *k, char *err, size_t errlen);
/* Read what the kernel logged since the last call (never blocks). */
int kmsg_drain(struct kmsg_log *k, char *err, size_t errlen);
/* The first record since the log was opened whose text contains needle, or NULL. */
const char *kmsg_find(const struct kmsg_log *k, const char *needle);
void kmsg_close(struct kmsg_log *k);

#endif
