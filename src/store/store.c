/* store.c - picks the backend for a location and frees store result arrays. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ks_store *ks_store_open(const char *location, char *err, size_t errlen)
{
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0) {
        snprintf(err, errlen, "the PostgreSQL store is not built into this version; use a file path");
        return NULL;
    }
    return ks_store_sqlite_open(location, err, errlen);
}

void ks_key_page_free(ks_key_page *p)
{
    for (size_t i = 0; i < p->count; i++)
        ks_key_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

void ks_keys_free(ks_key *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_key_free(&items[i]);
    free(items);
}

void ks_audit_records_free(ks_audit_record *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_audit_record_free(&items[i]);
    free(items);
}

void ks_roles_free(ks_role *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_role_free(&items[i]);
    free(items);
}
