/* test_table.h — what test_table.c (generic tables, workloads) shares with test_table_core.c
 * (the other resources): a fixed clock and row/column expectations. */
#ifndef STSD_TEST_TABLE_H
#define STSD_TEST_TABLE_H

#include <stdint.h>

#include "table.h"

#define NOW 1714564800 /* 2024-05-01T12:00:00Z */

/* An RFC 3339 timestamp secs before NOW (one of 8 rotating static buffers). */
const char *ago(int64_t secs);
/* The row printed for obj_json at NOW has exactly these cells (compact JSON); also checks that
 * the row has one cell per column. */
void expect_cells(const struct api_table_def *def, const char *obj_json, const char *want);
/* The row printed for obj_json has one cell per column, whatever the cells are. */
void expect_cells_any(const struct api_table_def *def, const char *obj_json);
/* The column names, "|"-separated, with "+" before the wide (priority 1) ones. */
void expect_columns(const struct api_table_def *def, const char *want);
/* The tests of test_table_core.c; returns the number of failures. */
int table_core_tests(void);

#endif
