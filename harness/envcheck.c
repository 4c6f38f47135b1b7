/* envcheck: environment checks before a run (envcheck.h). */
#include "envcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

int envcheck_nofile(size_t jobs, char *err, size_t errlen)
{
	rlim_t need = (rlim_t)jobs + ENVCHECK_NOFILE_PER_CASE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fw_err(err, errlen, -errno, "cannot read the open-file limit: %s",
			      strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = was;
	}
	if (rl.rlim_cur >= need)
		return 0;
	return fw_err(err, errlen, -EMFILE,
		      "the open-file limit is %llu (hard limit %llu) and %zu case(s) at once need %llu: raise it (ulimit -n %llu, as root) or give a lower --jobs",
		      (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, jobs,
		      (unsigned long long)need, (unsigned long long)need);
}

int envcheck_sysctl_writable(int ns_fd, char *err, size_t errlen)
{
	static const char path[] = "/proc/sys/net/ipv4/ip_forward";
	char value[16] = "";
	int saved = -1, fd = -1, ret;
	ssize_t n;

	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		saved = -1;
		goto out;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, value, sizeof(value) - 1)) <= 0 ||
	    pwrite(fd, value, (size_t)n, 0) != n)
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		netns_leave(saved);
	if (ret < 0)
		fw_err(err, errlen, ret,
		       "cannot write sysctls in a network namespace (%s: %s): finwave sets them inside the namespaces it makes; run it where /proc/sys is writable (a container: --privileged, or /proc/sys mounted read-write)",
		       path, strerror(-ret));
	return ret;
}
