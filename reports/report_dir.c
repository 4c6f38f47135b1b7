/* report_dir: safe, atomic writes under --report-dir (report_dir.h). */
#include "report_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct report_dir {
	int fd;
	bool created; /* by us: removed again if the run wrote nothing in it */
	char path[1024];
	char err[2 * 1024 + 128];
};

const char *report_dir_error(const struct report_dir *d)
{
	return d->err;
}

int report_dir_fail(struct report_dir *d, const char *relpath, int ret)
{
	if (!d->err[0])
		snprintf(d->err, sizeof(d->err), "%s/%s: %s (errno %d)", d->path, relpath,
			 strerror(-ret), -ret);
	return ret;
}

/* Ours, and a directory: anything else in the report tree is refused. */
static int owned_dir_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return st.st_uid == geteuid() ? 0 : -EPERM;
}

int report_dir_open(const char *path, struct report_dir **out, char *err, size_t errlen)
{
	struct report_dir *d = calloc(1, sizeof(*d));
	struct stat st;
	size_t len;
	int ret = 0;

	*out = NULL;
	if (!d)
		return fw_err(err, errlen, -ENOMEM, "out of memory");
	d->fd = -1;
	if (!*path || strlen(path) >= sizeof(d->path)) {
		ret = fw_err(err, errlen, -EINVAL, "--report-dir needs a directory name");
		goto out;
	}
	/* "out/" would follow a symlink named out: the last component is judged as it is */
	snprintf(d->path, sizeof(d->path), "%s", path);
	for (len = strlen(d->path); len > 1 && d->path[len - 1] == '/'; len--)
		d->path[len - 1] = '\0';
	if (mkdir(d->path, 0755) == 0)
		d->created = true;
	else if (errno != EEXIST) {
		ret = fw_err(err, errlen, -errno, "--report-dir %s: cannot create it: %s", path,
			     strerror(errno));
		goto out;
	}
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		if (lstat(d->path, &st) == 0 && S_ISLNK(st.st_mode))
			fw_err(err, errlen, ret,
			       "--report-dir %s is a symbolic link: finwave does not follow it (give the directory it points to)",
			       path);
		else if (ret == -ENOTDIR)
			fw_err(err, errlen, ret, "--report-dir %s is not a directory", path);
		else
			fw_err(err, errlen, ret, "--report-dir %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = owned_dir_check(d->fd);
	if (ret < 0) {
		fstat(d->fd, &st);
		fw_err(err, errlen, ret,
		       "--report-dir %s belongs to uid %u, not to you (uid %u): finwave writes reports only into a directory you own",
		       path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	*out = d;
	d = NULL;
out:
	report_dir_close(d);
	return ret;
}

void report_dir_close(struct report_dir *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	/* a run refused before writing anything leaves no empty DIR behind
	 * (rmdir removes only an empty directory) */
	if (d->created)
		rmdir(d->path);
	free(d);
}

/* One path component a case name may give: no "", "." or "..". */
static bool component_ok(const char *s, size_t n)
{
	return n > 0 && n < 256 && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* Open (making it when missing) the directory of relpath; *base is the
 * file's own name in it. Returns an fd the caller closes, or -errno. */
static int parent_open(struct report_dir *d, const char *relpath, const char **base)
{
	const char *p = relpath, *slash;
	int fd = dup(d->fd), next;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		char comp[256];
		size_t n = (size_t)(slash - p);
		int ret;

		if (!component_ok(p, n)) {
			close(fd);
			return -EINVAL;
		}
		snprintf(comp, sizeof(comp), "%.*s", (int)n, p);
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			close(fd);
			return ret;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		ret = next < 0 ? -errno : owned_dir_check(next);
		if (ret < 0) {
			struct stat st;
			bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);

			if (next >= 0)
				close(next);
			close(fd);
			if (!d->err[0])
				snprintf(d->err, sizeof(d->err), "%s/%.*s: %s", d->path, (int)(slash - relpath),
					 relpath,
					 link ? "a symbolic link: finwave does not follow links in the report directory (remove it)" :
					 ret == -EPERM ? "owned by another user: finwave writes only into directories you own" :
					 strerror(-ret));
			return ret;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	if (!component_ok(p, strlen(p))) {
		close(fd);
		return -EINVAL;
	}
	*base = p;
	return fd;
}

/* The FILE of a report file writes through this, so the errno of a failed
 * write (ENOSPC, EIO) is kept for the message: stdio keeps none. */
struct sink {
	int fd;
	int err; /* first write error, positive errno */
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(s->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!s->err)
				s->err = n < 0 ? errno : ENOSPC;
			errno = s->err;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int sink_close(void *cookie)
{
	struct sink *s = cookie;
	int ret = close(s->fd);

	free(s);
	return ret;
}

static unsigned tmp_counter;

static void tmp_name(char *buf, size_t len)
{
	uint64_t r = (uint64_t)fw_now_ns() ^ ((uint64_t)getpid() << 32) ^ ++tmp_counter * 2654435761u;

	snprintf(buf, len, ".finwave-%012llx.tmp", (unsigned long long)(r & 0xffffffffffffULL));
}

int report_file_create(struct report_dir *d, const char *relpath, struct report_file *rf)
{
	const char *base = NULL;
	int fd = -1, tries, ret;

	memset(rf, 0, sizeof(*rf));
	rf->dir = d;
	snprintf(rf->relpath, sizeof(rf->relpath), "%s", relpath);
	rf->dirfd = parent_open(d, relpath, &base);
	if (rf->dirfd < 0) {
		ret = rf->dirfd;
		rf->dirfd = -1;
		return report_dir_fail(d, relpath, ret);
	}
	snprintf(rf->name, sizeof(rf->name), "%s", base);
	/* Unnamed until complete: a killed run leaves nothing behind. */
	fd = openat(rf->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		if (tries == 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			break;
		tmp_name(rf->tmpname, sizeof(rf->tmpname));
		fd = openat(rf->dirfd, rf->tmpname, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
			    0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		ret = -errno;
		rf->tmpname[0] = '\0';
		goto fail;
	}
	rf->sink = calloc(1, sizeof(*rf->sink));
	if (rf->sink) {
		rf->sink->fd = fd;
		rf->f = fopencookie(rf->sink, "w", (cookie_io_functions_t){ .write = sink_write,
									     .close = sink_close });
	}
	if (!rf->f) {
		ret = -ENOMEM;
		free(rf->sink);
		rf->sink = NULL;
		close(fd);
		goto fail;
	}
	return 0;
fail:
	if (rf->tmpname[0])
		unlinkat(rf->dirfd, rf->tmpname, 0);
	close(rf->dirfd);
	rf->dirfd = -1;
	return report_dir_fail(d, relpath, ret);
}

/* Give an O_TMPFILE file a (temporary, new) name in its directory. */
static int tmpfile_link(struct report_file *rf)
{
	char proc[64];
	int fd = rf->sink->fd, tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < 100; tries++) {
		tmp_name(rf->tmpname, sizeof(rf->tmpname));
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not */
		if (linkat(fd, "", rf->dirfd, rf->tmpname, AT_EMPTY_PATH) == 0 ||
		    linkat(AT_FDCWD, proc, rf->dirfd, rf->tmpname, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	rf->tmpname[0] = '\0';
	return -errno;
}

int report_file_commit(struct report_file *rf)
{
	int ret = 0;

	if (!rf->f)
		return 0;
	if (fflush(rf->f) != 0 || ferror(rf->f))
		ret = -(rf->sink->err ? rf->sink->err : EIO);
	if (ret == 0 && !rf->tmpname[0])
		ret = tmpfile_link(rf);
	if (fclose(rf->f) != 0 && ret == 0)
		ret = -errno;
	rf->f = NULL;
	rf->sink = NULL; /* freed by fclose */
	/* rename replaces a planted symlink itself, never what it points to */
	if (ret == 0 && renameat(rf->dirfd, rf->tmpname, rf->dirfd, rf->name) < 0)
		ret = -errno;
	if (ret == 0)
		rf->tmpname[0] = '\0';
	report_file_abort(rf);
	return ret < 0 ? report_dir_fail(rf->dir, rf->relpath, ret) : 0;
}

void report_file_abort(struct report_file *rf)
{
	if (rf->f)
		fclose(rf->f);
	rf->f = NULL;
	rf->sink = NULL;
	if (rf->dirfd >= 0 && rf->tmpname[0])
		unlinkat(rf->dirfd, rf->tmpname, 0);
	rf->tmpname[0] = '\0';
	if (rf->dirfd >= 0)
		close(rf->dirfd);
	rf->dirfd = -1;
}

int report_file_fd(const struct report_file *rf)
{
	return rf->sink ? rf->sink->fd : -1;
}
