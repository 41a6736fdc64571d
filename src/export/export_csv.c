/* export_csv.c - CSV export: libcsv quotes every field (RFC 4180), CRLF rows. */
#include "export/export.h"
#include "core/clock.h"
#include "core/error.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_field(FILE *f, const char *value, int first)
{
    if (!first && fputc(',', f) == EOF)
        return -1;
    return csv_fwrite(f, value, strlen(value));
}

static const char *time_text(int64_t t, char buf[KS_TIME_STR_LEN])
{
    if (t == 0)
        return "";
    ks_time_format(t, buf);
    return buf;
}

static int write_row(FILE *f, const ks_export_row *r, int columns)
{
    char created[KS_TIME_STR_LEN], current[KS_TIME_STR_LEN], old[KS_TIME_STR_LEN], used[KS_TIME_STR_LEN];
    char limit[24] = "", period[16] = "";
    if (r->rate_limit > 0) {
        snprintf(limit, sizeof limit, "%lld", (long long)r->rate_limit);
        snprintf(period, sizeof period, "%d", r->rate_period);
    }
    const char *fields[KS_EXPORT_COLUMNS_LIMITS] = {
        r->key, r->name, r->external ? "external" : "generated", r->roles,
        r->active ? "active" : "inactive", time_text(r->created_at, created),
        r->outdated ? "true" : "false", time_text(r->current_created_at, current),
        time_text(r->old_created_at, old), time_text(r->last_used_at, used),
        r->allowed_cidrs, limit, period,
    };
    for (int i = 0; i < columns; i++)
        if (write_field(f, fields[i], i == 0) != 0)
            return -1;
    return fputs("\r\n", f) == EOF ? -1 : 0;
}

int ks_export_csv(const ks_export_rows *generated, const ks_export_rows *external, int columns, char **out,
                  size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return KS_ERR_NOMEM;
    int bad = 0;
    for (int i = 0; i < columns && !bad; i++)
        bad = (i && fputc(',', f) == EOF) || fputs(KS_EXPORT_HEADER[i], f) == EOF;
    bad = bad || fputs("\r\n", f) == EOF;
    for (size_t i = 0; !bad && i < generated->count; i++)
        bad = write_row(f, &generated->rows[i], columns) != 0;
    for (size_t i = 0; !bad && i < external->count; i++)
        bad = write_row(f, &external->rows[i], columns) != 0;
    if (fclose(f) != 0 || bad) {
        free(buf);
        return KS_ERR_NOMEM;
    }
    *out = buf;
    *len = size;
    return KS_OK;
}
