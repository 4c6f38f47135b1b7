/* inject: one crafted TCP segment, sent with libnet from a raw socket opened
 * inside the sending host's namespace, so it leaves that host's interface as
 * if its kernel had sent it and crosses the wire like any other segment. */
#ifndef FW_INJECT_H
#define FW_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg.h"

struct inject_spec {
	struct fw_addr src, dst; /* same family */
	uint16_t sport, dport;
	uint32_t seq, ack; /* absolute */
	uint8_t flags;     /* SEG_* */
	uint16_t win;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint32_t payload_len; /* bytes of 'x' */
};

struct inject;

/* Open a libnet context for family (AF_INET / AF_INET6) inside ns_fd. */
int inject_open(struct inject **out, int ns_fd, int family, char *err, size_t errlen);
int inject_send(struct inject *inj, const struct inject_spec *spec, char *err, size_t errlen);
void inject_free(struct inject *inj); /* accepts NULL */

#endif
