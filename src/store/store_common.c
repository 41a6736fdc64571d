/* store_common.c - the backend-neutral logic of the store (store_common.h). */
#include "store/store_common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int ks_key_filter_limit(const ks_key_filter *f)
{
    return f->limit < 1 ? 1 : f->limit;
}

int ks_audit_filter_check(const ks_audit_filter *f)
{
    /* (SQLite would read a negative LIMIT as "no limit".) */
    if (f->limit < 1 || f->limit > KS_AUDIT_PAGE_MAX || f->before_id < 0)
        return KS_ERR_INVALID;
    return KS_OK;
}

int ks_key_page_finish(ks_key_page *out, ks_key *items, size_t n, int limit, int rc)
{
    out->items = items;
    out->count = n;
    out->next_seq = 0;
    if (rc != KS_OK) {
        ks_key_page_free(out);
        return rc;
    }
    if (n > (size_t)limit) {
        ks_key_free(&items[limit]);
        out->count = (size_t)limit;
        out->next_seq = items[limit - 1].seq;
    }
    return KS_OK;
}

int ks_audit_page_finish(ks_audit_page *out, ks_audit_record *items, size_t n, int limit, int rc)
{
    out->items = items;
    out->count = n;
    out->next_id = 0;
    if (rc != KS_OK) {
        ks_audit_page_free(out);
        return rc;
    }
    if (n > (size_t)limit) {
        ks_audit_record_free(&items[limit]);
        out->count = (size_t)limit;
        out->next_id = items[limit - 1].id;
    }
    return KS_OK;
}

int ks_store_load_one_account(ks_store *s, const ks_store_prims *p, const char *account,
                              const ks_store_loader *loader)
{
    ks_settings settings;
    ks_role *roles = NULL;
    size_t n = 0;
    int rc = p->settings_get(s, account, &settings);
    if (rc == KS_OK)
        rc = p->role_list(s, account, &roles, &n);
    if (rc == KS_OK && loader->on_account)
        rc = loader->on_account(loader->ctx, account, &settings, roles, n);
    ks_roles_free(roles, n);
    return rc;
}

int ks_store_apply_slots_tx(ks_store *s, const ks_store_prims *p, const char *account, const char *key_id,
                            const ks_slot_change *change, int64_t now, const ks_audit_entry *audit,
                            ks_key *key)
{
    int64_t seq;
    memset(key, 0, sizeof *key);
    int rc = p->key_read_for_update(s, account, key_id, &seq, key);
    if (rc != KS_OK)
        return rc; /* the read freed what it had */
    /* The renewal rules are the core's: load, apply, write back. */
    if ((rc = ks_slots_change(&key->slots, change, now)) == KS_OK &&
        (rc = p->tokens_write(s, seq, &key->slots)) == KS_OK &&
        (rc = p->audit_insert(s, audit)) == KS_OK && p->change)
        rc = p->change(s, KS_CHANGE_KEY, account, key_id);
    if (rc != KS_OK)
        ks_key_free(key);
    return rc;
}

char *ks_store_events_join(const ks_strlist *events)
{
    size_t len = 2;
    for (size_t i = 0; i < events->count; i++)
        len += strlen(events->items[i]) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    size_t at = 0;
    out[at++] = ',';
    for (size_t i = 0; i < events->count; i++) {
        size_t n = strlen(events->items[i]);
        memcpy(out + at, events->items[i], n);
        at += n;
        out[at++] = ',';
    }
    out[at] = '\0';
    return out;
}

int ks_store_events_split(const char *text, ks_strlist *out)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            char *item = strndup(p, n);
            int rc = item ? ks_strlist_add(out, item) : KS_ERR_NOMEM;
            free(item);
            if (rc != KS_OK) {
                ks_strlist_free(out);
                return rc;
            }
        }
        p += n + (end ? 1 : 0);
    }
    return KS_OK;
}

int ks_store_delivery_claim(ks_store *s, int (*write_tx)(ks_store *s, int (*fn)(ks_store *s, void *arg), void *arg),
                            int (*claim)(ks_store *s, void *arg), int64_t now, int64_t lease_until, size_t max,
                            ks_delivery **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    ks_delivery_claim_args a = {.now = now, .lease_until = lease_until, .max = max};
    if (!(a.items = calloc(max, sizeof *a.items)))
        return KS_ERR_NOMEM;
    int rc = write_tx(s, claim, &a);
    if (rc != KS_OK) {
        ks_deliveries_free(a.items, a.n);
        return rc;
    }
    *out = a.items;
    *n = a.n;
    return KS_OK;
}

int ks_delivery_page_finish(ks_delivery_page *out, ks_delivery *items, size_t n, int limit, int rc)
{
    out->items = items;
    out->count = n;
    out->next_id = 0;
    if (rc != KS_OK) {
        ks_delivery_page_free(out);
        return rc;
    }
    if (n > (size_t)limit) {
        ks_delivery_free(&items[limit]);
        out->count = (size_t)limit;
        out->next_id = items[limit - 1].id;
    }
    return KS_OK;
}

const char *ks_store_netaddr_text(const ks_netaddr *a, char *buf)
{
    if (a->family == 0)
        return NULL;
    ks_netaddr_format(a, buf, KS_NETADDR_TEXT_MAX);
    return buf;
}

void ks_store_netaddr_read(const char *text, ks_netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (text)
        (void)ks_netaddr_parse(text, strnlen(text, KS_NETADDR_TEXT_MAX), out);
}
