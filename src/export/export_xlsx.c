/*
 * export_xlsx.c - XLSX export with libxlsxwriter: sheets "Generated" and
 * "External", a bold header row, times as real spreadsheet dates (UTC), and
 * column widths fitted to the longest value. libxlsxwriter 1.1 writes only to
 * files, so the workbook goes to a temporary file that is read back and removed.
 */
#include "export/export.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define WIDTH_MAX 60.0
#define DATE_WIDTH 20.0

typedef struct {
    lxw_format *bold;
    lxw_format *date;
} sheet_formats;

static void write_time(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t t, lxw_format *date)
{
    if (t)
        worksheet_write_unixtime(ws, row, col, t, date);
}

static void fit(double *width, const char *text)
{
    double w = (double)strlen(text) + 2.0;
    if (w > *width)
        *width = w > WIDTH_MAX ? WIDTH_MAX : w;
}

static void write_sheet(lxw_workbook *wb, const char *name, const ks_export_rows *rows, int columns,
                        const sheet_formats *fmt)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, name);
    double width[KS_EXPORT_COLUMNS_LIMITS];
    for (lxw_col_t c = 0; c < (lxw_col_t)columns; c++) {
        worksheet_write_string(ws, 0, c, KS_EXPORT_HEADER[c], fmt->bold);
        width[c] = 0;
        fit(&width[c], KS_EXPORT_HEADER[c]);
    }
    for (size_t i = 0; i < rows->count; i++) {
        const ks_export_row *r = &rows->rows[i];
        lxw_row_t row = (lxw_row_t)(i + 1);
        const char *text[5] = {r->key, r->name, r->external ? "external" : "generated", r->roles,
                               r->active ? "active" : "inactive"};
        for (lxw_col_t c = 0; c < 5; c++) {
            worksheet_write_string(ws, row, c, text[c], NULL);
            fit(&width[c], text[c]);
        }
        write_time(ws, row, 5, r->created_at, fmt->date);
        worksheet_write_boolean(ws, row, 6, r->outdated, NULL);
        write_time(ws, row, 7, r->current_created_at, fmt->date);
        write_time(ws, row, 8, r->old_created_at, fmt->date);
        write_time(ws, row, 9, r->last_used_at, fmt->date);
        if (columns > KS_EXPORT_COLUMNS) {
            worksheet_write_string(ws, row, 10, r->allowed_cidrs, NULL);
            fit(&width[10], r->allowed_cidrs);
            if (r->rate_limit > 0) { /* numbers, left empty when there is no limit */
                worksheet_write_number(ws, row, 11, (double)r->rate_limit, NULL);
                worksheet_write_number(ws, row, 12, r->rate_period, NULL);
            }
        }
    }
    for (lxw_col_t c = 0; c < (lxw_col_t)columns; c++) {
        double w = (c == 5 || (c >= 7 && c <= 9)) && width[c] < DATE_WIDTH ? DATE_WIDTH : width[c];
        worksheet_set_column(ws, c, c, w, NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return KS_ERR_INTERNAL;
    struct stat st;
    int rc = KS_ERR_INTERNAL;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) &&
        fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        *out = buf;
        *len = (size_t)st.st_size;
        buf = NULL;
        rc = KS_OK;
    }
    free(buf);
    fclose(f);
    return rc;
}

int ks_export_xlsx(const ks_export_rows *generated, const ks_export_rows *external, int columns, const char *tmpdir,
                   char **out, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/keystile-export-XXXXXX", tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return KS_ERR_INTERNAL;
    close(fd);
    lxw_workbook_options opts = {.constant_memory = LXW_FALSE, .tmpdir = (char *)(tmpdir ? tmpdir : "/tmp")};
    lxw_workbook *wb = workbook_new_opt(path, &opts);
    if (!wb) {
        unlink(path);
        return KS_ERR_NOMEM;
    }
    sheet_formats fmt = {workbook_add_format(wb), workbook_add_format(wb)};
    format_set_bold(fmt.bold);
    format_set_num_format(fmt.date, "yyyy-mm-dd hh:mm:ss");
    write_sheet(wb, "Generated", generated, columns, &fmt);
    write_sheet(wb, "External", external, columns, &fmt);
    int rc = workbook_close(wb) == LXW_NO_ERROR ? read_file(path, out, len) : KS_ERR_INTERNAL;
    unlink(path);
    return rc;
}
