/* listing: `finwave list` in its formats: text (a line per run) and
 * markdown (a table per topic, one row per case file: docs/catalog.md is
 * generated with it, so the catalog page cannot drift from the cases). */
#ifndef FW_LISTING_H
#define FW_LISTING_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"

bool listing_find(const char *format);       /* is this a list format? */
const char *listing_format_names(void);      /* "text, markdown" */
/* Print the runs of cat; 0, or -EINVAL for an unknown format. */
int listing_print(FILE *f, const char *format, const struct catalog *cat);

#endif
