/* store.c - picks the backend for a location, holds the store logger and
 * frees store result arrays. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_store_location_is_pg(const char *location)
{
    return strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0;
}

ks_store *ks_store_open(const char *location, char *err, size_t errlen)
{
    if (ks_store_location_is_pg(location))
        return ks_store_pg_open(location, err, errlen);
    return ks_store_sqlite_open(location, err, errlen);
}

void ks_store_location_redact(const char *location, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (!ks_store_location_is_pg(location)) {
        snprintf(out, outlen, "%s", location);
        return;
    }
    /* user:password@host (the authority ends at the first '/' or '?'), and a
     * password=... query parameter: both become ***. */
    const char *auth = strstr(location, "://") + 3;
    size_t auth_len = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', auth_len);
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    size_t o = 0;
    for (const char *p = location; *p && o + 1 < outlen;) {
        if (colon && p == colon + 1) {
            o += (size_t)snprintf(out + o, outlen - o, "***");
            p = at;
            continue;
        }
        if (p > auth + auth_len && strncmp(p, "password=", 9) == 0 && (p[-1] == '?' || p[-1] == '&')) {
            o += (size_t)snprintf(out + o, outlen - o, "password=***");
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        out[o++] = *p++;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

static ks_store_logger store_logger; /* set once before stores open (store.h) */

void ks_store_set_logger(ks_store_logger logger)
{
    store_logger = logger;
}

ks_store_logger ks_store_get_logger(void)
{
    return store_logger;
}

void ks_store_log_migration(const char *backend, int from, int to)
{
    if (store_logger && from > 0 && from < to)
        store_logger("info", "migrating the database schema (a large database may take minutes)",
                     "{s:s, s:i, s:i}", "backend", backend, "from", from, "to", to);
}

void ks_store_set_write_observer(ks_store *s, ks_store_write_observer on_write)
{
    s->on_write = on_write;
}

void ks_store_secret_fingerprint(const ks_secret *secret, ks_digest *out)
{
    static const char TEXT[] = "keystile secret fingerprint v1";
    ks_token_hash(secret, TEXT, sizeof TEXT - 1, out);
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

void ks_audit_page_free(ks_audit_page *p)
{
    ks_audit_records_free(p->items, p->count);
    memset(p, 0, sizeof *p);
}

void ks_roles_free(ks_role *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_role_free(&items[i]);
    free(items);
}

void ks_notices_due_free(ks_notice_due *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i].name);
    free(items);
}

void ks_deliveries_free(ks_delivery *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        ks_delivery_free(&items[i]);
    free(items);
}

void ks_delivery_page_free(ks_delivery_page *p)
{
    ks_deliveries_free(p->items, p->count);
    p->items = NULL;
    p->count = 0;
}

void ks_webhooks_free(ks_webhook *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        ks_webhook_free(&items[i]);
    free(items);
}
