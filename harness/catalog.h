/* catalog: the case files named on the command line, found and loaded.
 * A directory contributes every *.yaml below it, sorted; a case's default
 * name is its path, without ".yaml", below the nearest directory called
 * "cases" of its real path (else below the directory given), however the
 * file was named on the command line. */
#ifndef FW_CATALOG_H
#define FW_CATALOG_H

#include <stddef.h>

#include "case.h"

struct catalog {
	struct fw_case **cases;
	size_t n;
};

/* Loads every case; on the first invalid one returns -EINVAL with err set
 * ("cases/x.yaml:12:5: ..."); an empty selection is -ENOENT. */
int catalog_load(struct catalog *cat, char *const *paths, size_t npaths, char *err, size_t errlen);
/* Keep only cases whose name matches the fnmatch(3) glob. */
void catalog_filter(struct catalog *cat, const char *glob);
/* Parse --shard "K/N" (decimal, 1 <= K <= N <= CATALOG_MAX_SHARDS).
 * Returns 0, or -EINVAL with err = one line saying what is wrong. */
#define CATALOG_MAX_SHARDS 4096
/* Longest run name (case name and [family,row]): "#10000" still fits. */
#define CATALOG_MAX_RUN_NAME (CASE_MAX_NAME - 8)
int catalog_shard_parse(const char *s, unsigned *k, unsigned *n, char *err, size_t errlen);
/* Keep shard k of n: the cases whose rank in case-name order is k-1 modulo n.
 * Shards are disjoint, together hold the whole catalog, differ in size by at
 * most one, and do not depend on the order the paths were given in. The kept
 * cases stay in catalog order. Returns 0 or -ENOMEM (catalog unchanged). */
int catalog_shard(struct catalog *cat, unsigned k, unsigned n);
/* Take out the runs marked slow; returns how many were taken out. */
size_t catalog_drop_slow(struct catalog *cat);
void catalog_free(struct catalog *cat);

#endif
