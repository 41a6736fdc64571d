/*
 * export.h - the key export of API.md: one row per generated key and per
 * external key of an account, written as CSV (RFC 4180, libcsv quoting) or
 * as an XLSX workbook (libxlsxwriter) with sheets "Generated" and "External".
 *
 * Columns: key,name,type,roles,status,created_at,outdated,
 *          current_token_created_at,old_token_created_at,last_used_at
 * and, when asked for (include=limits), allowed_cidrs,rate_limit,
 * rate_period_seconds after them, so the contract's ten stay first.
 * roles and allowed_cidrs are joined with ';'; times are RFC 3339 in CSV
 * and real dates in XLSX; last_used_at is the later of the two tokens'.
 * An external key's limits belong to its home account: its cells are
 * empty. Never a token.
 * A text cell (name, roles) that starts with = + - @ tab or CR is written
 * with a leading ' in both formats, so no spreadsheet runs it as a formula
 * (OWASP, CSV injection); the other cells are of fixed shapes.
 */
#ifndef KS_EXPORT_EXPORT_H
#define KS_EXPORT_EXPORT_H

#include "core/model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char key[KS_KEY_ID_MAX + 1];
    char *name;
    int external;              /* type: 0 generated, 1 external */
    char *roles;               /* joined with ';' */
    int active;
    int64_t created_at;
    int outdated;
    int64_t current_created_at;
    int64_t old_created_at;    /* 0 = no old token */
    int64_t last_used_at;      /* 0 = never */
    char *allowed_cidrs;       /* joined with ';', "" = any address (and external keys) */
    int64_t rate_limit;        /* 0 = none */
    int rate_period;           /* seconds, with rate_limit */
} ks_export_row;

typedef struct {
    ks_export_row *rows;
    size_t count;
} ks_export_rows;

#define KS_EXPORT_COLUMNS 10        /* API.md's header */
#define KS_EXPORT_COLUMNS_LIMITS 13 /* with include=limits */
extern const char *const KS_EXPORT_HEADER[KS_EXPORT_COLUMNS_LIMITS];

/* 1 when a cell of text s would be taken for a formula (starts with = +
 * - @ tab or CR): the row gets it with a leading '. */
int ks_export_cell_is_formula(const char *s);

/* Appends the row of a generated key (grant NULL) or of an external key as
 * granted by `grant`, with `months` the key's home duration. KS_OK or NOMEM. */
int ks_export_add(ks_export_rows *rows, const ks_key *key, const ks_grant *grant, int months, int64_t now);
void ks_export_rows_free(ks_export_rows *rows);

/* Writes generated then external rows as CSV into a new malloc'd buffer,
 * with the first `columns` columns (KS_EXPORT_COLUMNS or _LIMITS). */
int ks_export_csv(const ks_export_rows *generated, const ks_export_rows *external, int columns, char **out,
                  size_t *len);

/* Writes the XLSX workbook into a new malloc'd buffer (a temporary file in
 * tmpdir is used and removed), columns as ks_export_csv. KS_OK,
 * KS_ERR_NOMEM or KS_ERR_INTERNAL. */
int ks_export_xlsx(const ks_export_rows *generated, const ks_export_rows *external, int columns, const char *tmpdir,
                   char **out, size_t *len);

#endif
