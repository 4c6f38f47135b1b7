#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int report_mkdirs(const char *dir, const char *relpath)
{
	char path[1024];
	size_t i, base;

	if (snprintf(path, sizeof(path), "%s/%s", dir, relpath) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	base = strlen(dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (i = base + 1; path[i]; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		path[i] = '/';
	}
	return 0;
}
