/* datapath: where finwave's data lives (the claims list, the default
 * catalog), whether finwave runs from its build directory, installed
 * (PREFIX/share/finwave), or with FINWAVE_DATA_DIR pointing elsewhere. */
#ifndef FW_DATAPATH_H
#define FW_DATAPATH_H

/* "claims.md" or "cases": the first that exists of $FINWAVE_DATA_DIR/WHAT,
 * <the binary's dir>/../share/finwave/WHAT (installed), the source tree's
 * (docs/claims.md, cases/: a build directory's binary uses its own tree), and
 * the configured prefix's share/finwave/WHAT.
 * Returns a static string, or NULL when none exists. */
const char *datapath_find(const char *what);

#endif
