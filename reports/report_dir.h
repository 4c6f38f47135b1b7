/* report_dir: the --report-dir directory, written so that nothing planted in
 * it is followed and nothing in it is lost.
 * - Everything is created under directory fds (openat/mkdirat) with
 *   O_NOFOLLOW: a symlinked DIR/results.tap or DIR/cases is never followed.
 * - DIR and every subdirectory must be a directory the current user owns.
 * - A file is written unnamed (O_TMPFILE, or a new ".name.XXXXXX" made with
 *   O_EXCL where the filesystem has no O_TMPFILE) and only given its name
 *   (rename over the old one) once completely written: a killed run leaves
 *   the previous reports as they were, a write error never leaves half a file.
 * - The first error (file and errno) is kept for the one-line report. */
#ifndef FW_REPORT_DIR_H
#define FW_REPORT_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct report_dir;
struct sink;

/* A file being written: f until report_file_commit() or _abort(). */
struct report_file {
	FILE *f;
	struct sink *sink; /* under f: keeps the errno of a failed write */
	struct report_dir *dir;
	int dirfd;          /* the subdirectory it goes in (owned) */
	char name[256];     /* its final name in dirfd */
	char tmpname[280];  /* its temporary name, "" while unnamed (O_TMPFILE) */
	char relpath[1024]; /* for messages: DIR/relpath */
};

/* Open (creating it, one level, when missing) the report directory path.
 * Refuses a symlink, a non-directory and a directory another user owns,
 * with a one-line message in err. Returns 0 or -errno. */
int report_dir_open(const char *path, struct report_dir **out, char *err, size_t errlen);
void report_dir_close(struct report_dir *d);
/* The first error met while writing into d ("" when none). */
const char *report_dir_error(const struct report_dir *d);

/* Start DIR/relpath ("cases/close/four-way.html"): its parent directories
 * are created as needed. Returns 0 or -errno (recorded in d). */
int report_file_create(struct report_dir *d, const char *relpath, struct report_file *rf);
/* Flush, check every write, close and give the file its name. Returns 0 or
 * -errno (recorded in d; the old file of that name, if any, is kept). */
int report_file_commit(struct report_file *rf);
/* Drop a file being written (nothing of it is left). */
void report_file_abort(struct report_file *rf);

/* The descriptor under rf->f (tests point it at /dev/full). */
int report_file_fd(const struct report_file *rf);

/* Record an error about relpath in d (the first one is kept); returns ret. */
int report_dir_fail(struct report_dir *d, const char *relpath, int ret);

#endif
