#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_current_ns(void)
{
	/* thread-self: setns() and unshare() act on the calling thread. */
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_create(void)
{
	int saved, fd;

	saved = open_current_ns();
	if (saved < 0)
		return saved;
	if (unshare(CLONE_NEWNET) < 0) {
		int ret = -errno;

		close(saved);
		return ret;
	}
	fd = open_current_ns();
	if (setns(saved, CLONE_NEWNET) < 0) {
		/* Cannot get back: nothing sane is left to do in this thread. */
		int ret = -errno;

		if (fd >= 0)
			close(fd);
		close(saved);
		return ret;
	}
	close(saved);
	return fd;
}

int netns_create_in(int parent_fd)
{
	int saved, fd, ret;

	if (parent_fd < 0)
		return netns_create();
	ret = netns_enter(parent_fd, &saved);
	if (ret < 0)
		return ret;
	/* unshare() moves this thread into the new namespace: leaving goes
	 * back to where it was before the parent, not to the parent */
	fd = unshare(CLONE_NEWNET) < 0 ? -errno : open_current_ns();
	ret = netns_leave(saved);
	if (ret < 0) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

int netns_enter(int ns_fd, int *saved)
{
	int cur = open_current_ns();

	if (cur < 0)
		return cur;
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		int ret = -errno;

		close(cur);
		return ret;
	}
	*saved = cur;
	return 0;
}

int netns_leave(int saved)
{
	int ret = 0;

	if (setns(saved, CLONE_NEWNET) < 0)
		ret = -errno;
	close(saved);
	return ret;
}

int netns_socket(int ns_fd, int domain, int type, int protocol)
{
	int saved, fd, ret;

	ret = netns_enter(ns_fd, &saved);
	if (ret < 0)
		return ret;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	ret = fd < 0 ? -errno : fd;
	if (netns_leave(saved) < 0 && fd >= 0) {
		close(fd);
		return -EIO;
	}
	return ret;
}
