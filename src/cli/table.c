/* table.c - aligned text tables; see table.h. */
#include "cli/table.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_CELL_MAX 4096 /* longer cells are cut; a table is for reading */

struct ks_table {
    size_t ncols;  /* columns per row */
    size_t ncells; /* cells added, headers included */
    size_t cap;    /* allocated slots in cells */
    char **cells;  /* row-major, each a sanitised copy */
    int failed;    /* an allocation failed: print refuses */
};

size_t ks_text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void ks_text_sanitize(char *dst, size_t n, const char *src)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)src;
    while (*p && o + 1 < n) {
        if (*p < 0x20 || *p == 0x7F) {
            dst[o++] = '?';
            p++;
        } else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* C1 controls */
            dst[o++] = '?';
            p += 2;
        } else {
            dst[o++] = (char)*p++;
        }
    }
    /* Never end inside a multi-byte sequence when cut short. */
    while (*p && o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0x80)
        o--;
    if (*p && o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0xC0)
        o--;
    dst[o] = '\0';
}

ks_table *ks_table_new(size_t ncols, const char *const *headers)
{
    ks_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols ? ncols : 1;
    for (size_t i = 0; headers && i < ncols; i++)
        ks_table_add(t, headers[i]);
    if (t->failed) {
        ks_table_free(t);
        return NULL;
    }
    return t;
}

void ks_table_add(ks_table *t, const char *cell)
{
    if (!t || t->failed)
        return;
    if (t->ncells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **cells = cap > SIZE_MAX / sizeof *cells ? NULL : realloc(t->cells, cap * sizeof *cells);
        if (!cells) {
            t->failed = 1;
            return;
        }
        t->cells = cells;
        t->cap = cap;
    }
    const char *src = cell ? cell : "-";
    size_t n = strlen(src) + 1;
    if (n > TABLE_CELL_MAX)
        n = TABLE_CELL_MAX;
    char *copy = malloc(n);
    if (!copy) {
        t->failed = 1;
        return;
    }
    ks_text_sanitize(copy, n, src);
    t->cells[t->ncells++] = copy;
}

void ks_table_addf(ks_table *t, const char *fmt, ...)
{
    char buf[TABLE_CELL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ks_table_add(t, buf);
}

int ks_table_print(const ks_table *t, FILE *out)
{
    if (!t || t->failed)
        return -1;
    size_t *width = calloc(t->ncols, sizeof *width);
    if (!width)
        return -1;
    for (size_t i = 0; i < t->ncells; i++) {
        size_t w = ks_text_width(t->cells[i]);
        if (w > width[i % t->ncols])
            width[i % t->ncols] = w;
    }
    size_t rows = (t->ncells + t->ncols - 1) / t->ncols;
    for (size_t r = 0; r < rows; r++) {
        /* The last non-empty column of the row ends it: no trailing blanks. */
        size_t last = t->ncols;
        while (last > 0 && (r * t->ncols + last - 1 >= t->ncells))
            last--;
        for (size_t c = 0; c < last; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, out);
            if (c + 1 < last)
                fprintf(out, "%*s", (int)(width[c] - ks_text_width(cell) + 2), "");
        }
        fputc('\n', out);
    }
    free(width);
    return 0;
}

void ks_table_free(ks_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncells; i++) { /* a cell may hold a fresh token */
        sodium_memzero(t->cells[i], strlen(t->cells[i]));
        free(t->cells[i]);
    }
    free(t->cells);
    free(t);
}
