/* kmsg: the kernel log (/dev/kmsg) from a moment on, for `expect: kmsg`.
 * The log is one for the whole machine, not per network namespace: a case
 * sees every message printed while it runs, its own and other cases'. Each
 * read() of /dev/kmsg returns one record, "prio,seq,usec,flags;text\n". */
#ifndef FW_KMSG_H
#define FW_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMSG_KEEP 512 /* records kept; beyond it the oldest are dropped */

struct kmsg_log {
	int fd;          /* positioned at the end of the log when opened */
	char **text;     /* the message of each record read since */
	size_t n, first; /* a ring of KMSG_KEEP */
	unsigned long lost; /* records the kernel overwrote before we read them */
	/* net_ratelimit() said "N callbacks suppressed" lately (in the
	 * message_cost seconds before the log was opened, or since) */
	bool ratelimited;
};

/* Open the log at its end: only records printed from now on are read (the
 * recent past is only looked at for net_ratelimit's suppression notices).
 * Returns 0 or -errno (err names the fix). */
int kmsg_open(struct kmsg_log *k, char *err, size_t errlen);
/* Read what the kernel logged since the last call (never blocks). */
int kmsg_drain(struct kmsg_log *k, char *err, size_t errlen);
/* The first record since the log was opened whose text contains needle, or NULL. */
const char *kmsg_find(const struct kmsg_log *k, const char *needle);
void kmsg_close(struct kmsg_log *k);

/* net_ratelimit(): one budget for the whole machine (net.core.message_burst
 * messages per net.core.message_cost seconds, 10 per 5 s by default) that
 * most networking messages draw on, "Possible SYN flooding" included. When
 * another program's messages use it up, a message a case waits for is
 * dropped, and the kernel says so ("net_ratelimit: N callbacks suppressed")
 * only at its next message that gets through. */
int64_t kmsg_ratelimit_interval_ns(void);

#endif
