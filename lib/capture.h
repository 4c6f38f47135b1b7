/* capture: libpcap on one interface inside one namespace.
 * Immediate mode (buffered capture loses the last segments of a short case
 * when the handle closes), non-blocking, nanosecond timestamps converted to
 * CLOCK_MONOTONIC so they sort with every other timeline event, BPF filter
 * "tcp" so only segments are seen. Snap length CAPTURE_SNAPLEN keeps headers
 * and options, which is all a teardown needs; pcap records the true length. */
#ifndef FW_CAPTURE_H
#define FW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAPTURE_SNAPLEN 256

struct capture;

struct capture_packet {
	int64_t t_ns;        /* CLOCK_MONOTONIC */
	int64_t t_real_ns;   /* the original CLOCK_REALTIME stamp, for pcap files */
	const uint8_t *data; /* Ethernet frame (DLT_EN10MB) */
	uint32_t caplen, len;
};

typedef void (*capture_fn)(void *ctx, const struct capture_packet *p);

/* Open ifname inside ns_fd. Returns 0 or -errno with err filled. */
int capture_open(struct capture **out, int ns_fd, const char *ifname, char *err, size_t errlen);
/* A file descriptor that polls readable when packets wait. */
int capture_fd(const struct capture *c);
/* Deliver every packet waiting now, without blocking. Returns how many, or -errno. */
int capture_dispatch(struct capture *c, capture_fn fn, void *ctx);
/* Packets the kernel dropped for lack of buffer (pcap_stats ps_drop). */
unsigned capture_dropped(struct capture *c);
void capture_free(struct capture *c); /* accepts NULL */

/* The same for n handles at once (at most CAPTURE_MAX_AT_ONCE). Opening a
 * packet socket and closing it each wait for RCU grace periods in the kernel
 * (10-20 ms each, in bind, PACKET_RX_RING and release); handles opened or
 * closed side by side wait for the same ones. On error none is left open
 * and err names the first handle that failed. */
#define CAPTURE_MAX_AT_ONCE 4
int capture_open_all(struct capture **out, const int *ns_fds, const char *const *ifnames,
		     size_t n, char *err, size_t errlen);
void capture_free_all(struct capture **c, size_t n); /* NULL entries are skipped */

/* The same opening on threads while the caller does other work (the other
 * handles of a case): begin starts one thread per handle, end waits for
 * them and returns what capture_open_all() would have. Each begun opening
 * must be ended, error or not; it is freed there. bufsize: each ring's
 * bytes (0: the default, 2 MiB; the kernel allocates and zeroes it, about
 * 1 ms of CPU per MiB per handle here). */
struct capture_opening;
int capture_open_begin(struct capture_opening **op, struct capture **out, const int *ns_fds,
		       const char *const *ifnames, size_t n, size_t bufsize, char *err,
		       size_t errlen);
int capture_open_end(struct capture_opening *op, char *err, size_t errlen);

#endif
