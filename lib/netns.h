/* netns: anonymous network namespaces held only by file descriptors.
 * No namespace is ever named (no /run/netns entry), so when the process dies,
 * however it dies, the kernel frees the namespace with its last fd. Sockets,
 * netlink handles, pcap and NFQUEUE handles belong to the namespace they were
 * opened in: open them between netns_enter() and netns_leave(). */
#ifndef FW_NETNS_H
#define FW_NETNS_H

/* Create a new network namespace; returns its fd (caller closes) or -errno.
 * The calling thread stays in the namespace it was in. */
int netns_create(void);
/* The same, created from inside parent_fd (netns_create() when it is < 0):
 * what the kernel copies from the creator's namespace comes from the parent
 * (net.ipv4.tcp_child_ehash_entries). */
int netns_create_in(int parent_fd);

/* Switch the calling thread into ns_fd. *saved receives an fd of the namespace
 * it was in; pass it to netns_leave(), which switches back and closes it. */
int netns_enter(int ns_fd, int *saved);
int netns_leave(int saved);

/* socket(2) created inside ns_fd; returns the fd or -errno. */
int netns_socket(int ns_fd, int domain, int type, int protocol);

#endif
