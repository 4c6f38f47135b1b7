/* util: small shared helpers: time, error buffers, durations.
 * Everything in lib/ reports failure as 0 / -errno plus a message in a
 * caller-provided buffer; fw_err() formats that message and returns ret. */
#ifndef FW_UTIL_H
#define FW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_ERRLEN 512
#define FW_NS_PER_MS 1000000LL
#define FW_NS_PER_SEC 1000000000LL

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t fw_now_ns(void);

/* Offset to add to a CLOCK_REALTIME timestamp (pcap) to get CLOCK_MONOTONIC. */
int64_t fw_realtime_to_mono_offset(void);

/* Format a message into err (may be NULL) and return ret (a negative errno). */
int fw_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse "200ms", "2s", "1.5s", "60s", "500us", "0"; returns 0 or -EINVAL. */
int fw_duration_parse(const char *s, int64_t *ns_out);

/* "1.234s" / "200.0ms" / "15us": fixed decimals so timeline columns line up. */
void fw_duration_format(int64_t ns, char *buf, size_t len);

/* Errno name <-> number for the errors sockets return ("ECONNREFUSED"). */
/* A step's result when its own deadline passed ("DEADLINE"): never an errno
 * the kernel returns, so a case can tell it from the kernel's ETIMEDOUT. */
#define FW_EDEADLINE 4096
const char *fw_errno_name(int err);
int fw_errno_parse(const char *name); /* -1 when unknown */

/* Text from case files (names, summaries, paths) made safe for every report:
 * the next character of s as its code point, *n its length in bytes. An
 * invalid UTF-8 sequence is one byte long and comes back as -1. */
long fw_utf8_next(const char *s, size_t *n);
/* Copy of s (malloc'd; NULL when out of memory) that is valid UTF-8 and
 * holds no character that could inject a line or drive a terminal: invalid
 * bytes become U+FFFD, control characters (C0 but tab and, when newlines,
 * '\n'; DEL; C1) and U+FFFE/U+FFFF become '?'. */
char *fw_text_clean(const char *s, bool newlines);
/* Does fw_text_clean() keep code point cp (-1: an invalid byte) as it is? */
bool fw_text_char_ok(long cp, bool newlines);

#endif
