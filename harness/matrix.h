/* matrix: the results of several kernels side by side. One column per
 * kernel (named after its release), filled from report directories
 * (DIR/results.json): shards of one kernel join into one column. Written as
 * claims x kernels and cases x kernels on the console, DIR/matrix.json and
 * DIR/matrix.html; a row whose outcome is not the same on every kernel is
 * marked: that is what 'finwave lab' and 'finwave merge' are for. */
#ifndef FW_MATRIX_H
#define FW_MATRIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"

struct matrix_kernel {
	char label[128];   /* the column: the kernel release */
	char version[256]; /* uname -v of the kernel (its build: Debian's package version) */
	char source[512];  /* where the kernel came from ('finwave lab'), or "" */
	char accel[16];    /* 'finwave lab': kvm, tcg or host; "" otherwise */
	char note[512];    /* why results are missing or partial; "" when none */
	int64_t wall_ns;   /* 'lab': boot to power-off; merge: the longest merged run */
	bool interrupted;  /* a merged run was interrupted */
	char **dirs;       /* the report directories merged into this column */
	size_t ndirs;
	struct case_result *res; /* every case's result, sorted by name after matrix_sort() */
	size_t nres;
};

struct matrix {
	struct matrix_kernel *k;
	size_t nk;
};

/* The column called label, created (empty) when there is none yet. NULL
 * when out of memory. */
struct matrix_kernel *matrix_kernel_get(struct matrix *m, const char *label);
/* Add DIR/results.json to the column of the kernel it names (label, when
 * not NULL, overrides it). A case already in that column (overlapping
 * shards) is an error. Returns 0 or -errno with err set (file and reason). */
int matrix_add_dir(struct matrix *m, const char *dir, const char *label, char *err,
		   size_t errlen);
/* Order every column's results as 'finwave run' orders them when given
 * their case files in path order (as one catalog directory gives them): the
 * files named in the results are loaded again for that. */
void matrix_sort(struct matrix *m);
/* Print the tables on out (only the rows that differ or did not pass when
 * quiet) and, when dir is not NULL, write dir/matrix.json and
 * dir/matrix.html. claims_file: the claims list; when it is missing (NULL)
 * or unreadable the claims table is left out, an error if claims_given. Returns 0 or -errno with err set. */
int matrix_write(const struct matrix *m, const char *claims_file, bool claims_given, FILE *out,
		 bool quiet, const char *dir, char *err, size_t errlen);
/* Does any column hold a FAIL or ERROR, or miss results? */
bool matrix_failed(const struct matrix *m);
/* mkdir -p path; the last one must be a directory (not a symlink) the user
 * owns, as report_dir_open() wants. Returns 0 or -errno. */
int matrix_dir_make(const char *path);
void matrix_free(struct matrix *m);

#endif
