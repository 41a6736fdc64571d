/*
 * table.h - aligned text tables for the client commands' default output.
 *
 * Cells are copied on add, with control characters (C0, DEL, C1) replaced by
 * '?' so a key name cannot move the cursor or recolour the terminal. Columns
 * are as wide as their widest cell, counted in UTF-8 code points (wide CJK
 * glyphs would misalign: left out on purpose), separated by two spaces; the
 * last column is not padded. A table made with headers prints them as its
 * first row. Out of memory is sticky: the add calls then do nothing and
 * ks_table_print returns -1, so a caller checks once.
 */
#ifndef KS_CLI_TABLE_H
#define KS_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct ks_table ks_table;

/* A table of ncols columns; headers is NULL or ncols strings. NULL when out of memory. */
ks_table *ks_table_new(size_t ncols, const char *const *headers);

/* Appends one cell (NULL prints as "-"); rows fill left to right. */
void ks_table_add(ks_table *t, const char *cell);

/* Like ks_table_add with printf formatting. */
void ks_table_addf(ks_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the table; a last incomplete row is padded with empty cells.
 * Returns 0, or -1 (printing nothing) when an earlier add ran out of memory. */
int ks_table_print(const ks_table *t, FILE *out);

/* Frees the table and its cells; NULL is fine. */
void ks_table_free(ks_table *t);

/* Copies src into dst (size n, n > 0) with control characters replaced by '?'. */
void ks_text_sanitize(char *dst, size_t n, const char *src);

/* Number of UTF-8 code points in s. */
size_t ks_text_width(const char *s);

#endif
