#include "datapath.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "version.h"

/* What each datum is called in the source tree. */
static const struct {
	const char *what, *in_tree;
} data[] = { { "claims.md", "docs/claims.md" }, { "cases", "cases" },
	     { "lab", "scripts/lab" } }; /* finwave lab: prepare-kernel.sh, the guest init */

static bool readable(char *out, size_t len, const char *dir, const char *name)
{
	if (!dir || !dir[0])
		return false;
	snprintf(out, len, "%s/%s", dir, name);
	return access(out, R_OK) == 0;
}

const char *datapath_find(const char *what)
{
	static char found[sizeof(data) / sizeof(data[0])][PATH_MAX + 64];
	char exe[PATH_MAX], share[PATH_MAX + 32] = "", *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	for (i = 0; i < sizeof(data) / sizeof(data[0]) && strcmp(data[i].what, what); i++)
		;
	if (i == sizeof(data) / sizeof(data[0]))
		return NULL;
	if (n > 0) { /* an installed PREFIX/bin/finwave, wherever PREFIX was moved */
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			*slash = '\0';
			snprintf(share, sizeof(share), "%s/../share/finwave", exe);
		}
	}
	if (readable(found[i], sizeof(found[i]), getenv("FINWAVE_DATA_DIR"), what) ||
	    readable(found[i], sizeof(found[i]), share, what) ||
	    readable(found[i], sizeof(found[i]), FW_SOURCE_DIR, data[i].in_tree) ||
	    readable(found[i], sizeof(found[i]), FW_INSTALL_DATADIR, what))
		return found[i];
	return NULL;
}
