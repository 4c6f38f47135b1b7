#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t fw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * FW_NS_PER_SEC + ts.tv_nsec;
}

static int64_t fw_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * FW_NS_PER_SEC + ts.tv_nsec;
}

int64_t fw_realtime_to_mono_offset(void)
{
	int64_t best_gap = INT64_MAX, offset = 0;
	int i;

	/* A realtime read between two monotonic ones; a thread preempted in
	 * between (a loaded machine, valgrind) would be off by milliseconds, so
	 * keep the tightest of a few tries. */
	for (i = 0; i < 8; i++) {
		int64_t m1 = fw_clock_ns(CLOCK_MONOTONIC);
		int64_t r = fw_clock_ns(CLOCK_REALTIME);
		int64_t m2 = fw_clock_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			offset = m1 + (m2 - m1) / 2 - r;
		}
	}
	return offset;
}

int fw_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static const struct {
	const char *suffix;
	int64_t scale;
} duration_units[] = {
	{ "us", 1000LL }, { "ms", FW_NS_PER_MS }, { "s", FW_NS_PER_SEC },
};

int fw_duration_parse(const char *s, int64_t *ns_out)
{
	char *end;
	double v;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || !isfinite(v))
		return -EINVAL;
	if (*end == '\0') {
		if (v != 0)
			return -EINVAL; /* a bare number is ambiguous: demand a unit */
		*ns_out = 0;
		return 0;
	}
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(end, duration_units[i].suffix) == 0) {
			double ns = v * (double)duration_units[i].scale;

			if (ns > 86400.0 * FW_NS_PER_SEC)
				return -EINVAL;
			*ns_out = (int64_t)llround(ns);
			return 0;
		}
	}
	return -EINVAL;
}

void fw_duration_format(int64_t ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	if (ns >= FW_NS_PER_SEC)
		snprintf(buf, len, "%.3fs", (double)ns / FW_NS_PER_SEC);
	else if (ns >= FW_NS_PER_MS)
		snprintf(buf, len, "%.1fms", (double)ns / FW_NS_PER_MS);
	else
		snprintf(buf, len, "%lldus", (long long)(ns / 1000));
}

#define ERRNO_ENTRY(e) { e, #e }
static const struct {
	int num;
	const char *name;
} errno_table[] = {
	{ 0, "OK" },
	{ FW_EDEADLINE, "DEADLINE" },
	ERRNO_ENTRY(ECONNREFUSED), ERRNO_ENTRY(ECONNRESET), ERRNO_ENTRY(ECONNABORTED),
	ERRNO_ENTRY(ETIMEDOUT), ERRNO_ENTRY(EADDRINUSE), ERRNO_ENTRY(EADDRNOTAVAIL),
	ERRNO_ENTRY(EPIPE), ERRNO_ENTRY(ENOTCONN), ERRNO_ENTRY(EINPROGRESS),
	ERRNO_ENTRY(EAGAIN), ERRNO_ENTRY(EHOSTUNREACH), ERRNO_ENTRY(ENETUNREACH),
	ERRNO_ENTRY(EINVAL), ERRNO_ENTRY(EPERM), ERRNO_ENTRY(EACCES), ERRNO_ENTRY(EISCONN),
	ERRNO_ENTRY(EALREADY), ERRNO_ENTRY(EBADF), ERRNO_ENTRY(ENOBUFS),
};

const char *fw_errno_name(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (errno_table[i].num == err)
			return errno_table[i].name;
	return "E?";
}

int fw_errno_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (strcmp(errno_table[i].name, name) == 0)
			return errno_table[i].num;
	return -1;
}

long fw_utf8_next(const char *s, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	static const long min[5] = { 0, 0, 0x80, 0x800, 0x10000 }; /* shortest form */
	size_t len, i;
	long cp;

	*n = 1;
	if (u[0] < 0x80)
		return u[0];
	len = u[0] >= 0xf0 && u[0] < 0xf5 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc2 && u[0] < 0xe0 ? 2 : 0;
	if (!len || (len == 3 && u[0] >= 0xf0))
		return -1;
	cp = u[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*n = len;
	return cp;
}

bool fw_text_char_ok(long cp, bool newlines)
{
	if (cp < 0)
		return false;
	if (cp < 0x20)
		return cp == '\t' || (newlines && cp == '\n');
	return !(cp >= 0x7f && cp <= 0x9f) && cp != 0xfffe && cp != 0xffff;
}

char *fw_text_clean(const char *s, bool newlines)
{
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	size_t n;

	if (!out)
		return NULL;
	while (*s) {
		long cp = fw_utf8_next(s, &n);

		if (fw_text_char_ok(cp, newlines)) {
			memcpy(o, s, n);
			o += n;
		} else if (cp < 0) {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
		} else {
			*o++ = '?';
		}
		s += n;
	}
	*o = '\0';
	return out;
}
