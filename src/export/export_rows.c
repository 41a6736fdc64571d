/* export_rows.c - turning keys into export rows. */
#include "export/export.h"
#include "core/error.h"
#include "core/token_age.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const KS_EXPORT_HEADER[KS_EXPORT_COLUMNS_LIMITS] = {
    "key", "name", "type", "roles", "status", "created_at", "outdated",
    "current_token_created_at", "old_token_created_at", "last_used_at",
    "allowed_cidrs", "rate_limit", "rate_period_seconds",
};

int ks_export_cell_is_formula(const char *s)
{
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

/* A malloc'd copy of s, with a leading ' when a spreadsheet would read it
 * as a formula (OWASP's advice against CSV injection). NULL when out of
 * memory. */
static char *cell_text(const char *s)
{
    int quote = ks_export_cell_is_formula(s);
    size_t n = strlen(s);
    char *out = malloc(n + (size_t)quote + 1);
    if (!out)
        return NULL;
    out[0] = '\'';
    memcpy(out + quote, s, n + 1);
    return out;
}

static char *join_list(const ks_strlist *roles)
{
    size_t len = 1;
    for (size_t i = 0; i < roles->count; i++)
        len += strlen(roles->items[i]) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < roles->count; i++) {
        size_t n = strlen(roles->items[i]);
        if (i)
            out[used++] = ';';
        memcpy(out + used, roles->items[i], n);
        used += n;
    }
    out[used] = '\0';
    return out;
}

int ks_export_add(ks_export_rows *rows, const ks_key *key, const ks_grant *grant, int months, int64_t now)
{
    ks_export_row *grown = realloc(rows->rows, (rows->count + 1) * sizeof *grown);
    if (!grown)
        return KS_ERR_NOMEM;
    rows->rows = grown;
    ks_export_row *r = &grown[rows->count];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key->key_id);
    r->name = cell_text(key->name ? key->name : "");
    char *roles = join_list(grant ? &grant->roles : &key->roles);
    r->roles = roles ? cell_text(roles) : NULL;
    free(roles);
    static const ks_strlist none = {0};
    r->allowed_cidrs = join_list(grant ? &none : &key->allowed_cidrs); /* ranges only: no formula */
    if (!r->name || !r->roles || !r->allowed_cidrs) {
        free(r->name);
        free(r->roles);
        free(r->allowed_cidrs);
        return KS_ERR_NOMEM;
    }
    if (!grant && key->rate_limit.limit > 0) {
        r->rate_limit = key->rate_limit.limit;
        r->rate_period = key->rate_limit.period_seconds;
    }
    r->external = grant != NULL;
    r->active = grant ? grant->active : key->active;
    r->created_at = key->created_at;
    r->current_created_at = key->slots.current.created_at;
    r->outdated = ks_token_outdated(r->current_created_at, months, now);
    r->old_created_at = key->slots.old.present ? key->slots.old.created_at : 0;
    r->last_used_at = key->slots.current.last_used_at;
    if (key->slots.old.present && key->slots.old.last_used_at > r->last_used_at)
        r->last_used_at = key->slots.old.last_used_at;
    rows->count++;
    return KS_OK;
}

void ks_export_rows_free(ks_export_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++) {
        free(rows->rows[i].name);
        free(rows->rows[i].roles);
        free(rows->rows[i].allowed_cidrs);
    }
    free(rows->rows);
    rows->rows = NULL;
    rows->count = 0;
}
