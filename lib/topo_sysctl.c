/* topo_sysctl: a namespace's sysctls read and written from inside it. */
#include "topo_int.h"

/* ---- sysctl ------------------------------------------------------------ */

/* "net.ipv4.tcp_fin_timeout" -> "/proc/sys/net/ipv4/tcp_fin_timeout".
 * Refuse anything that could climb out of /proc/sys or name no sysctl. */
static int sysctl_path(const char *name, char *path, size_t len)
{
	size_t n, i;
	int w;

	if (!name || !*name || name[0] == '.' || strstr(name, "..") || strchr(name, '/'))
		return -EINVAL;
	n = strlen(name);
	if (name[n - 1] == '.')
		return -EINVAL;
	w = snprintf(path, len, "/proc/sys/%s", name);
	if (w < 0 || (size_t)w >= len)
		return -EINVAL;
	for (i = strlen("/proc/sys/"); path[i]; i++)
		if (path[i] == '.')
			path[i] = '/';
	return 0;
}


/* Map an errno to the contract's codes and a message naming the sysctl.
 * Where it happened matters: ENOENT from open() is an unknown name, but from
 * write() it is the handler refusing the value (tcp_congestion_control
 * "nosuch"); EPERM from open() is a read-only file, from write() a value this
 * namespace may not use (tcp_congestion_control "cubic" when cubic is not in
 * the host's tcp_allowed_congestion_control). The contract's "rejected
 * value" is -EINVAL, so every refusal of a value becomes -EINVAL with the
 * kernel's reason in the message. */
static int sysctl_err(int ret, enum sysctl_stage stage, const char *name, const char *path,
		      const char *ns, const char *value, char *err, size_t errlen)
{
	/* A directory opens fine for reading and only read() says EISDIR. */
	if (ret == -EISDIR)
		return fw_err(err, errlen, -ENOENT,
			      "unknown sysctl '%s' (%s is a directory in the %s namespace)", name,
			      path, ns);
	switch (stage) {
	case SYSCTL_OPEN:
		if (ret == -ENOENT)
			return fw_err(err, errlen, ret,
				      "unknown sysctl '%s' (no %s in the %s namespace)", name, path,
				      ns);
		if ((ret == -EACCES || ret == -EPERM) && value)
			return fw_err(err, errlen, ret, "sysctl '%s' is read-only in the %s namespace",
				      name, ns);
		if (ret == -EACCES || ret == -EPERM)
			return fw_err(err, errlen, ret,
				      "sysctl '%s' is write-only in the %s namespace", name, ns);
		break;
	case SYSCTL_READ:
		break;
	case SYSCTL_WRITE:
		if (ret == -EINVAL || ret == -ENOENT || ret == -ERANGE || ret == -EPERM ||
		    ret == -EACCES || ret == -EOVERFLOW || ret == -EBUSY)
			return fw_err(err, errlen, -EINVAL,
				      "sysctl '%s': value '%s' rejected in the %s namespace (%s)%s",
				      name, value, ns, errstr(ret),
				      ret == -EPERM && strstr(name, "congestion_control")
					      ? "; a child namespace may only pick algorithms "
						"listed in the host's "
						"net.ipv4.tcp_allowed_congestion_control"
					      : "");
		break;
	}
	return fw_err(err, errlen, ret, "sysctl '%s' in the %s namespace: %s", name, ns,
		      errstr(ret));
}

/* Open, transfer and close all while the thread is inside the namespace:
 * /proc/sys/net resolves to the opener's netns, and a few handlers look at
 * current's netns again at read/write time rather than at the file's. */
int sysctl_io(int ns_fd, const char *node, const char *name, const char *value,
		     char *buf, size_t blen, char *err, size_t errlen)
{
	char path[TOPO_SYSCTL_PATHLEN];
	int saved = -1, fd = -1, ret;
	char *tmp = NULL;
	ssize_t n;

	ret = sysctl_path(name, path, sizeof(path));
	if (ret < 0) {
		ret = fw_err(err, errlen, ret, "invalid sysctl name '%s'", name ? name : "(null)");
		goto out;
	}
	if (value && !*value) {
		ret = fw_err(err, errlen, -EINVAL, "sysctl '%s': empty value", name);
		goto out;
	}
	ret = netns_enter(ns_fd, &saved);
	if (ret < 0) {
		saved = -1;
		ret = fw_err(err, errlen, ret, "sysctl '%s': enter the %s namespace: %s", name,
			     node, errstr(ret));
		goto out;
	}
	fd = open(path, (value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		ret = sysctl_err(-errno, SYSCTL_OPEN, name, path, node, value, err, errlen);
		goto out;
	}
	if (value) {
		size_t len = strlen(value);

		n = write(fd, value, len);
		if (n < 0) {
			ret = sysctl_err(-errno, SYSCTL_WRITE, name, path, node, value, err, errlen);
			goto out;
		}
		if ((size_t)n != len) {
			ret = fw_err(err, errlen, -EIO,
				     "sysctl '%s': value '%s' only partly written (%zd of %zu bytes)",
				     name, value, n, len);
			goto out;
		}
	} else {
		/* A single read of vlen bytes, one more than the value may hold:
		 * the integer handlers (do_proc_dointvec) answer a read at a
		 * non-zero offset with EOF, so a value read in pieces would be
		 * cut silently. A full read that does not end in the newline the
		 * handlers append means the value did not fit. */
		tmp = malloc(blen);
		if (!tmp) {
			ret = fw_err(err, errlen, -ENOMEM, "sysctl '%s': out of memory", name);
			goto out;
		}
		n = read(fd, tmp, blen);
		if (n < 0) {
			ret = sysctl_err(-errno, SYSCTL_READ, name, path, node, NULL, err, errlen);
			goto out;
		}
		while (n > 0 && tmp[n - 1] == '\n')
			n--;
		if ((size_t)n >= blen) {
			ret = fw_err(err, errlen, -ENOSPC,
				     "sysctl '%s': value longer than %zu bytes", name, blen - 1);
			goto out;
		}
		memcpy(buf, tmp, (size_t)n);
		buf[n] = '\0';
	}
	ret = 0;
out:
	free(tmp);
	if (fd >= 0)
		close(fd);
	if (saved >= 0) {
		int lret = netns_leave(saved);

		/* Staying in the case's namespace would silently move every later
		 * socket of this thread there: that outranks any other error. */
		if (lret < 0)
			ret = fw_err(err, errlen, lret, "sysctl '%s': leave the %s namespace: %s",
				     name, node, errstr(lret));
	}
	return ret;
}

int topo_sysctl_set(struct topo *t, enum fw_host h, const char *name, const char *value,
		    char *err, size_t errlen)
{
	int ns = topo_ns_fd(t, h);

	if (ns < 0 || !value)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or value",
			      name ? name : "(null)");
	return sysctl_io(ns, fw_host_name(h), name, value, NULL, 0, err, errlen);
}

int topo_sysctl_get(struct topo *t, enum fw_host h, const char *name, char *value,
		    size_t vlen, char *err, size_t errlen)
{
	int ns = topo_ns_fd(t, h);

	if (ns < 0 || !value || vlen < 2)
		return fw_err(err, errlen, -EINVAL, "sysctl '%s': no such host or no room",
			      name ? name : "(null)");
	return sysctl_io(ns, fw_host_name(h), name, NULL, value, vlen, err, errlen);
}
