/* key_limits.c - a key's allowed addresses and rate limit (see key_limits.h). */
#include "core/key_limits.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int ks_allowed_cidrs_normalize(const char *const *items, size_t n, ks_strlist *out, size_t *bad)
{
    memset(out, 0, sizeof *out);
    *bad = 0;
    if (n > KS_ALLOWED_CIDRS_MAX) {
        *bad = n;
        return KS_ERR_INVALID;
    }
    ks_cidr seen[KS_ALLOWED_CIDRS_MAX];
    size_t n_seen = 0;
    for (size_t i = 0; i < n; i++) {
        ks_cidr c;
        if (!items[i] || ks_cidr_parse(items[i], &c) != KS_OK) {
            ks_strlist_free(out);
            *bad = i;
            return KS_ERR_INVALID;
        }
        int dup = 0;
        for (size_t j = 0; j < n_seen && !dup; j++)
            dup = seen[j].prefix == c.prefix && seen[j].addr.family == c.addr.family &&
                  memcmp(seen[j].addr.bytes, c.addr.bytes, sizeof c.addr.bytes) == 0;
        if (dup)
            continue;
        seen[n_seen++] = c;
        char text[KS_CIDR_TEXT_MAX + 8];
        ks_cidr_format(&c, text, sizeof text);
        if (ks_strlist_add(out, text) != KS_OK) {
            ks_strlist_free(out);
            return KS_ERR_NOMEM;
        }
    }
    return KS_OK;
}

int ks_rate_limit_check(int64_t limit, int64_t period_seconds)
{
    if (limit == 0)
        return KS_OK;
    return limit >= 1 && limit <= KS_RATE_LIMIT_MAX && period_seconds >= 1 && period_seconds <= KS_RATE_PERIOD_MAX
               ? KS_OK
               : KS_ERR_INVALID;
}

char *ks_allowed_cidrs_join(const ks_strlist *l)
{
    size_t need = 1;
    for (size_t i = 0; l && i < l->count; i++)
        need += strlen(l->items[i]) + 1;
    char *text = malloc(need), *p = text;
    if (!text)
        return NULL;
    for (size_t i = 0; l && i < l->count; i++) {
        size_t len = strlen(l->items[i]);
        if (i > 0)
            *p++ = ',';
        memcpy(p, l->items[i], len);
        p += len;
    }
    *p = '\0';
    return text;
}

int ks_allowed_cidrs_split(const char *text, ks_strlist *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return KS_OK;
    size_t len = strnlen(text, KS_ALLOWED_CIDRS_TEXT_MAX + 1);
    if (len > KS_ALLOWED_CIDRS_TEXT_MAX)
        return KS_ERR_INVALID;
    char parts[KS_ALLOWED_CIDRS_MAX][KS_CIDR_TEXT_MAX];
    const char *items[KS_ALLOWED_CIDRS_MAX];
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t part = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (n == KS_ALLOWED_CIDRS_MAX || part == 0 || part >= KS_CIDR_TEXT_MAX)
            return KS_ERR_INVALID;
        memcpy(parts[n], p, part);
        parts[n][part] = '\0';
        items[n] = parts[n];
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    size_t bad;
    return ks_allowed_cidrs_normalize(items, n, out, &bad);
}

int ks_allowed_cidrs_compile(const ks_strlist *l, ks_cidr *out, size_t max, size_t *n)
{
    *n = 0;
    if (!l)
        return KS_OK;
    if (l->count > max)
        return KS_ERR_INVALID;
    for (size_t i = 0; i < l->count; i++)
        if (ks_cidr_parse(l->items[i], &out[i]) != KS_OK)
            return KS_ERR_INVALID;
    *n = l->count;
    return KS_OK;
}
