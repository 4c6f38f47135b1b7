/* kmsg: records of /dev/kmsg from the moment a case opened it. */
#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define KMSG_SUPPRESSED "net_ratelimit: "
#define KMSG_SUPPRESSED_END "callbacks suppressed"

static bool kmsg_is_suppression(const char *text)
{
	return strstr(text, KMSG_SUPPRESSED) && strstr(text, KMSG_SUPPRESSED_END);
}

int64_t kmsg_ratelimit_interval_ns(void)
{
	FILE *f = fopen("/proc/sys/net/core/message_cost", "r");
	long secs = 5;

	if (f) {
		if (fscanf(f, "%ld", &secs) != 1 || secs < 0 || secs > 3600)
			secs = 5;
		fclose(f);
	}
	return secs * FW_NS_PER_SEC;
}

/* Records already in the log: was net_ratelimit suppressing messages within
 * the last interval? (Its stamp: "prio,seq,usec,flags;text", usec on the
 * kernel's clock since boot, which CLOCK_MONOTONIC follows.) Bounded. */
static void kmsg_look_back(struct kmsg_log *k)
{
	struct timespec now;
	int64_t since_us;
	char rec[8192];
	int i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	since_us = ((int64_t)now.tv_sec * FW_NS_PER_SEC + now.tv_nsec -
		    kmsg_ratelimit_interval_ns()) / 1000;
	for (i = 0; i < 65536; i++) {
		ssize_t got = read(k->fd, rec, sizeof(rec) - 1);
		unsigned long long usec;

		if (got < 0 && errno == EPIPE)
			continue;
		if (got <= 0)
			return;
		rec[got] = '\0';
		if (sscanf(rec, "%*u,%*u,%llu", &usec) == 1 && (int64_t)usec >= since_us &&
		    kmsg_is_suppression(rec))
			k->ratelimited = true;
	}
}

int kmsg_open(struct kmsg_log *k, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return fw_err(err, errlen, -errno,
			      "cannot read the kernel log /dev/kmsg (%s): expect kmsg needs root "
			      "(CAP_SYSLOG) and a kernel with CONFIG_PRINTK",
			      strerror(errno));
	k->text = calloc(KMSG_KEEP, sizeof(*k->text));
	if (k->text)
		kmsg_look_back(k);
	if (!k->text || lseek(k->fd, 0, SEEK_END) < 0) {
		int ret = k->text ? -errno : -ENOMEM;

		kmsg_close(k);
		return fw_err(err, errlen, ret, "cannot position /dev/kmsg at its end");
	}
	return 0;
}

static void kmsg_keep(struct kmsg_log *k, const char *text, size_t len)
{
	size_t slot = (k->first + k->n) % KMSG_KEEP;
	char *copy = strndup(text, len);

	if (!copy)
		return;
	if (k->n == KMSG_KEEP) { /* full: the oldest goes */
		free(k->text[k->first]);
		k->first = (k->first + 1) % KMSG_KEEP;
		k->n--;
	}
	k->text[slot] = copy;
	k->n++;
}

int kmsg_drain(struct kmsg_log *k, char *err, size_t errlen)
{
	char rec[8192];
	int i;

	/* bounded: a log that keeps growing cannot hold the case here */
	for (i = 0; i < 4096; i++) {
		ssize_t got = read(k->fd, rec, sizeof(rec) - 1);
		const char *body, *end;

		if (got < 0 && errno == EPIPE) { /* overwritten before read: skip them */
			k->lost++;
			continue;
		}
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (got < 0)
			return fw_err(err, errlen, -errno, "reading /dev/kmsg: %s", strerror(errno));
		rec[got] = '\0';
		body = strchr(rec, ';');
		if (!body)
			continue;
		body++;
		end = strchr(body, '\n'); /* continuation lines (" KEY=value") follow */
		kmsg_keep(k, body, end ? (size_t)(end - body) : strlen(body));
		k->ratelimited |= kmsg_is_suppression(body);
	}
	return 0;
}

const char *kmsg_find(const struct kmsg_log *k, const char *needle)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		const char *t = k->text[(k->first + i) % KMSG_KEEP];

		if (strstr(t, needle))
			return t;
	}
	return NULL;
}

void kmsg_close(struct kmsg_log *k)
{
	size_t i;

	if (k->text)
		for (i = 0; i < KMSG_KEEP; i++)
			free(k->text[i]);
	free(k->text);
	if (k->fd > 0)
		close(k->fd);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}
