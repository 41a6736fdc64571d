/*
 * fuzz_csv.c - the CSV key export (ks_export_csv, src/export/export.h).
 *
 * Input: NUL-separated parts. Part 0 drives the flags and times of the rows
 * (its bytes are read 6 at a time; missing bytes read as zero). The parts
 * after it come in threes: name, roles (free text, ';' is the role
 * separator), key; each three makes one row, at most 16 rows. A row is
 * generated or external by a control bit; generated rows are given to the
 * export first, as the code requires.
 *
 * The export is parsed back twice, and both readings must give the header
 * and then exactly the rows' field values (abort() otherwise):
 *  - by a strict RFC 4180 reader written here: CRLF after every record
 *    (also the last), fields separated by ',', a quoted field closed by a
 *    '"' followed by ',' or CRLF, '""' for a quote inside, an unquoted
 *    field without '"', ',', CR or LF; every data field must be quoted;
 *  - by libcsv in strict mode (csv_parse), with no space trimming.
 * Times are compared with an independent RFC 3339 rendering (gmtime_r and
 * snprintf); a zero time is an empty field.
 */
#include "fuzz_util.h"

#include "core/clock.h"
#include "core/error.h"
#include "export/export.h"

#include <csv.h>
#include <time.h>

#define MAX_ROWS 16
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z: the last time with a 4-digit year */

typedef struct {
    const char *text;
    size_t len;
} field;

/* The expected table: header + rows, each KS_EXPORT_COLUMNS fields. */
typedef struct {
    field cells[MAX_ROWS + 1][KS_EXPORT_COLUMNS];
    char times[MAX_ROWS][4][KS_TIME_STR_LEN];
    size_t n_records;
} expected_table;

/* ---- building the rows ---- */

typedef struct {
    const uint8_t *p;
    size_t n, at;
} control_bytes;

static uint64_t take(control_bytes *c, int nbytes)
{
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v = v << 8 | (c->at < c->n ? c->p[c->at++] : 0);
    return v;
}

/* A time from 6 control bytes: 0 (absent) or a second in [1970, 9999]. */
static int64_t take_time(control_bytes *c)
{
    uint64_t v = take(c, 6);
    if ((v & 0xFF) == 0)
        return 0;
    return (int64_t)(v % (uint64_t)TIME_MAX) + 1;
}

/* The RFC 3339 text of t, computed without ks_time_format. */
static void ref_time(int64_t t, char out[KS_TIME_STR_LEN])
{
    if (t == 0) {
        out[0] = '\0';
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        abort();
    char buf[80];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != KS_TIME_STR_LEN - 1)
        abort(); /* TIME_MAX keeps years at 4 digits */
    memcpy(out, buf, KS_TIME_STR_LEN);
}

static field text(const char *s) { return (field){s, strlen(s)}; }

/* Fills rows (generated first, then external) and the table they must give. */
static void build(const uint8_t *data, size_t size, ks_export_rows *generated, ks_export_rows *external,
                  expected_table *want)
{
    size_t n0;
    const uint8_t *rest;
    size_t rest_len;
    fuzz_split(data, size, 0, &n0, &rest, &rest_len);
    control_bytes c = {data, n0, 0};
    for (int i = 0; i < KS_EXPORT_COLUMNS; i++)
        want->cells[0][i] = text(KS_EXPORT_HEADER[i]);
    want->n_records = 1;

    ks_export_row *rows = calloc(MAX_ROWS, sizeof *rows);
    generated->rows = calloc(MAX_ROWS, sizeof *generated->rows);
    external->rows = calloc(MAX_ROWS, sizeof *external->rows);
    if (!rows || !generated->rows || !external->rows)
        abort();
    int is_external[MAX_ROWS] = {0};
    size_t n = 0;
    while (rest_len > 0 && n < MAX_ROWS) {
        char *parts[3];
        for (int k = 0; k < 3; k++) {
            size_t len;
            const uint8_t *next;
            size_t next_len;
            fuzz_split(rest, rest_len, 0, &len, &next, &next_len);
            parts[k] = fuzz_cstr(rest, len);
            rest = next;
            rest_len = next_len;
        }
        ks_export_row *r = &rows[n];
        r->name = parts[0];
        r->roles = parts[1];
        snprintf(r->key, sizeof r->key, "%s", parts[2]);
        free(parts[2]);
        uint64_t flags = take(&c, 1);
        is_external[n] = flags & 1;
        r->external = is_external[n];
        r->active = (flags >> 1) & 1;
        r->outdated = (flags >> 2) & 1;
        r->created_at = take_time(&c);
        r->current_created_at = take_time(&c);
        r->old_created_at = take_time(&c);
        r->last_used_at = take_time(&c);
        n++;
    }
    /* Split into the two lists, preserving order; expected records follow. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (is_external[i] != pass)
                continue;
            ks_export_rows *list = pass ? external : generated;
            list->rows[list->count] = rows[i];
            const ks_export_row *r = &list->rows[list->count++];
            size_t rec = want->n_records++;
            char (*t)[KS_TIME_STR_LEN] = want->times[rec - 1];
            ref_time(r->created_at, t[0]);
            ref_time(r->current_created_at, t[1]);
            ref_time(r->old_created_at, t[2]);
            ref_time(r->last_used_at, t[3]);
            field *f = want->cells[rec];
            f[0] = text(r->key);
            f[1] = text(r->name);
            f[2] = text(r->external ? "external" : "generated");
            f[3] = text(r->roles);
            f[4] = text(r->active ? "active" : "inactive");
            f[5] = text(t[0]);
            f[6] = text(r->outdated ? "true" : "false");
            f[7] = text(t[1]);
            f[8] = text(t[2]);
            f[9] = text(t[3]);
        }
    }
    free(rows);
}

static void free_rows(ks_export_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        free(rows->rows[i].name);
        free(rows->rows[i].roles);
    }
    free(rows->rows);
}

/* ---- the strict RFC 4180 reader ---- */

/* Reads the field at *at into out (decoded, malloc'd by the caller: cap >=
 * remaining bytes). Returns the byte after it (',' or CR) or -1 on a
 * violation; *quoted tells whether it was quoted. */
static int read_field(const char *csv, size_t len, size_t *at, char *out, size_t *out_len, int *quoted)
{
    size_t i = *at, n = 0;
    *quoted = i < len && csv[i] == '"';
    if (*quoted) {
        for (i++;; i++) {
            if (i >= len)
                return -1; /* unterminated quote */
            if (csv[i] == '"') {
                if (i + 1 < len && csv[i + 1] == '"') {
                    out[n++] = '"';
                    i++;
                    continue;
                }
                i++;
                break;
            }
            out[n++] = csv[i];
        }
    } else {
        while (i < len && csv[i] != ',' && csv[i] != '\r') {
            if (csv[i] == '"' || csv[i] == '\n')
                return -1; /* quote or bare LF in an unquoted field */
            out[n++] = csv[i++];
        }
    }
    if (i >= len)
        return -1; /* every record ends with CRLF */
    if (csv[i] == ',') {
        *at = i + 1;
    } else if (csv[i] == '\r' && i + 1 < len && csv[i + 1] == '\n') {
        *at = i + 2;
    } else {
        return -1; /* junk after a closing quote, or CR without LF */
    }
    *out_len = n;
    return (unsigned char)csv[i];
}

static void check_strict(const char *csv, size_t len, const expected_table *want)
{
    char *buf = malloc(len + 1);
    if (!buf)
        abort();
    size_t at = 0;
    for (size_t rec = 0; rec < want->n_records; rec++) {
        for (int col = 0; col < KS_EXPORT_COLUMNS; col++) {
            size_t n = 0;
            int quoted;
            int end = read_field(csv, len, &at, buf, &n, &quoted);
            FUZZ_CHECK(end >= 0, "not RFC 4180 in record %zu field %d (byte %zu)", rec, col, at);
            FUZZ_CHECK(end == (col == KS_EXPORT_COLUMNS - 1 ? '\r' : ','), "record %zu has %s fields", rec,
                       end == '\r' ? "too few" : "too many");
            FUZZ_CHECK(rec == 0 || quoted, "record %zu field %d is not quoted", rec, col);
            const field *f = &want->cells[rec][col];
            FUZZ_CHECK(n == f->len && memcmp(buf, f->text, n) == 0, "record %zu field %d reads '%.*s', want '%s'",
                       rec, col, (int)n, buf, f->text);
        }
    }
    FUZZ_CHECK(at == len, "%zu bytes after the last record", len - at);
    free(buf);
}

/* ---- the libcsv reading ---- */

typedef struct {
    const expected_table *want;
    size_t rec;
    int col;
} libcsv_state;

static void on_field(void *s, size_t n, void *data)
{
    libcsv_state *st = data;
    FUZZ_CHECK(st->rec < st->want->n_records && st->col < KS_EXPORT_COLUMNS, "libcsv: extra field at %zu/%d",
               st->rec, st->col);
    const field *f = &st->want->cells[st->rec][st->col];
    FUZZ_CHECK(n == f->len && (n == 0 || memcmp(s, f->text, n) == 0), "libcsv: record %zu field %d is '%.*s', want '%s'",
               st->rec, st->col, (int)n, (const char *)s, f->text);
    st->col++;
}

static void on_record(int c, void *data)
{
    libcsv_state *st = data;
    FUZZ_CHECK(st->col == KS_EXPORT_COLUMNS, "libcsv: record %zu has %d fields", st->rec, st->col);
    st->rec++;
    st->col = 0;
}

static int no_space(unsigned char c) { return 0; }

static void check_libcsv(const char *csv, size_t len, const expected_table *want)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        abort();
    csv_set_space_func(&p, no_space);
    libcsv_state st = {want, 0, 0};
    size_t used = csv_parse(&p, csv, len, on_field, on_record, &st);
    FUZZ_CHECK(used == len, "libcsv stops at byte %zu of %zu: %s", used, len, csv_strerror(csv_error(&p)));
    FUZZ_CHECK(csv_fini(&p, on_field, on_record, &st) == 0, "libcsv: unterminated export");
    FUZZ_CHECK(st.rec == want->n_records && st.col == 0, "libcsv read %zu records, want %zu", st.rec,
               want->n_records);
    csv_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    ks_export_rows generated = {0}, external = {0};
    expected_table *want = calloc(1, sizeof *want);
    if (!want)
        abort();
    build(data, size, &generated, &external, want);
    char *csv = NULL;
    size_t len = 0;
    int rc = ks_export_csv(&generated, &external, KS_EXPORT_COLUMNS, &csv, &len);
    FUZZ_CHECK(rc == KS_OK, "ks_export_csv returned %d", rc);
    FUZZ_CHECK(csv && strlen(csv) == len, "export length %zu, but %zu bytes to the NUL", len, csv ? strlen(csv) : 0);
    check_strict(csv, len, want);
    check_libcsv(csv, len, want);
    free(csv);
    free_rows(&generated);
    free_rows(&external);
    free(want);
    return 0;
}
