/* Unit tests of reports/report_dir.c: files planted in the report directory
 * are never followed, a name cannot climb out of it, a file is invisible
 * until committed and replaces the old one whole, a failed write keeps the
 * old file and names its errno (the file's descriptor is pointed at
 * /dev/full, where every write fails with ENOSPC). Root only for the check
 * of a directory another user owns. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report_dir.h"

struct fixture {
	char dir[64];
	char out[128];
	struct report_dir *rd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/fw-test-rdir.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	assert_int_equal(report_dir_open(f->out, &f->rd, NULL, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	report_dir_close(f->rd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static size_t entries(const char *dir)
{
	char cmd[200];
	FILE *p;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	p = popen(cmd, "r");
	while ((c = fgetc(p)) != EOF)
		n += c == '\n';
	pclose(p);
	return n;
}

static void test_planted_symlink_replaced_not_followed(void **state)
{
	struct fixture *f = *state;
	struct report_file rf;
	char victim[128], link[160];
	struct stat st;
	FILE *v;

	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	v = fopen(victim, "w");
	fputs("victim\n", v);
	fclose(v);
	snprintf(link, sizeof(link), "%s/results.tap", f->out);
	assert_int_equal(symlink("../victim", link), 0);
	assert_int_equal(report_file_create(f->rd, "results.tap", &rf), 0);
	fputs("TAP version 13\n", rf.f);
	assert_int_equal(report_file_commit(&rf), 0);
	assert_string_equal(slurp(victim), "victim\n");
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(link), "TAP version 13\n");
}

static void test_symlinked_subdir_refused(void **state)
{
	struct fixture *f = *state;
	struct report_file rf;
	char elsewhere[128], link[160];

	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	snprintf(link, sizeof(link), "%s/cases", f->out);
	assert_int_equal(symlink("../elsewhere", link), 0);
	assert_int_not_equal(report_file_create(f->rd, "cases/close/x.html", &rf), 0);
	assert_int_equal(entries(elsewhere), 0);
	assert_non_null(strstr(report_dir_error(f->rd), "/out/cases: a symbolic link"));
}

static void test_names_cannot_climb_out(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "../x.pcap", "a/../../x.pcap", "/etc/x", "a//b", "a/.",
					   "", "a/" };
	struct report_file rf;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(report_file_create(f->rd, bad[i], &rf), -EINVAL);
	assert_int_equal(entries(f->dir), 1); /* out/ only */
}

static void test_invisible_until_committed(void **state)
{
	struct fixture *f = *state;
	struct report_file rf;
	char path[160];

	snprintf(path, sizeof(path), "%s/results.json", f->out);
	assert_int_equal(report_file_create(f->rd, "results.json", &rf), 0);
	fputs("{\"old\":1}\n", rf.f);
	assert_int_equal(report_file_commit(&rf), 0);
	assert_int_equal(report_file_create(f->rd, "results.json", &rf), 0);
	fputs("{\"new\":", rf.f);
	fflush(rf.f);
	/* half written: the old file is still what a reader (or a kill -9) gets */
	assert_string_equal(slurp(path), "{\"old\":1}\n");
	assert_int_equal(entries(f->out), 1);
	report_file_abort(&rf);
	assert_string_equal(slurp(path), "{\"old\":1}\n");
	assert_int_equal(entries(f->out), 1);
}

/* A write that fails (as on a full disk) keeps the old file and the errno. */
static void test_failed_write_keeps_old_file(void **state)
{
	struct fixture *f = *state;
	struct report_file rf;
	char path[160];
	int full = open("/dev/full", O_WRONLY);

	assert_true(full >= 0);
	snprintf(path, sizeof(path), "%s/results.xml", f->out);
	assert_int_equal(report_file_create(f->rd, "results.xml", &rf), 0);
	fputs("<old/>\n", rf.f);
	assert_int_equal(report_file_commit(&rf), 0);
	assert_int_equal(report_file_create(f->rd, "results.xml", &rf), 0);
	/* the file's descriptor now writes to /dev/full: every write is ENOSPC */
	assert_int_equal(dup2(full, report_file_fd(&rf)), report_file_fd(&rf));
	close(full);
	fputs("<new/>\n", rf.f);
	assert_int_equal(report_file_commit(&rf), -ENOSPC);
	assert_string_equal(slurp(path), "<old/>\n");
	assert_non_null(strstr(report_dir_error(f->rd), "/out/results.xml: No space left on device"));
	assert_int_equal(entries(f->out), 1);
}

static void test_dir_refusals(void **state)
{
	struct fixture *f = *state;
	struct report_dir *rd = NULL;
	char path[160], err[512];

	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink("out", path), 0);
	assert_int_not_equal(report_dir_open(path, &rd, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "is a symbolic link"));
	snprintf(path, sizeof(path), "%s/out/", f->dir); /* a trailing slash is fine */
	assert_int_equal(report_dir_open(path, &rd, err, sizeof(err)), 0);
	report_dir_close(rd);
	snprintf(path, sizeof(path), "%s/link/", f->dir); /* and does not sneak a link through */
	assert_int_not_equal(report_dir_open(path, &rd, err, sizeof(err)), 0);
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/theirs", f->dir);
		assert_int_equal(mkdir(path, 0755), 0);
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_not_equal(report_dir_open(path, &rd, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "belongs to uid 65534, not to you"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_planted_symlink_replaced_not_followed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_subdir_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_cannot_climb_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invisible_until_committed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_keeps_old_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
