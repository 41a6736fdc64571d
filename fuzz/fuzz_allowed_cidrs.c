/*
 * fuzz_allowed_cidrs.c - a key's allowed_cidrs list as the store keeps it
 * (src/core/key_limits.h): ks_allowed_cidrs_split, _join, _compile.
 *
 * The input, up to its first NUL, is the store's text in a buffer of
 * exactly its length + 1. Properties:
 * - split accepts exactly when the text is 1..32 comma-separated items,
 *   each accepted by ks_cidr_parse (fuzz_cidr checks that parser), and the
 *   whole is at most KS_ALLOWED_CIDRS_TEXT_MAX bytes (or the text is empty);
 * - an accepted list has no duplicate, compiles to as many ranges, each
 *   containing its own address, and joins to text that splits back to the
 *   same list (normalisation is idempotent);
 * - a compiled range matches the address of the first input range that
 *   normalised to it.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/key_limits.h"

static int ref_accepts(const char *s)
{
    size_t len = strlen(s);
    if (len == 0)
        return 1;
    if (len > KS_ALLOWED_CIDRS_TEXT_MAX)
        return 0;
    size_t n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t part = comma ? (size_t)(comma - p) : strlen(p);
        char buf[KS_CIDR_TEXT_MAX];
        if (++n > KS_ALLOWED_CIDRS_MAX || part == 0 || part >= sizeof buf)
            return 0;
        memcpy(buf, p, part);
        buf[part] = '\0';
        ks_cidr c;
        if (ks_cidr_parse(buf, &c) != KS_OK)
            return 0;
        if (!comma)
            return 1;
        p = comma + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = strnlen((const char *)data, size);
    char *s = malloc(len + 1);
    if (!s)
        return 0;
    memcpy(s, data, len);
    s[len] = '\0';
    ks_strlist l;
    int rc = ks_allowed_cidrs_split(s, &l);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID, "rc %d", rc);
    FUZZ_CHECK((rc == KS_OK) == ref_accepts(s), "split said %d for \"%s\"", rc, s);
    if (rc == KS_OK) {
        FUZZ_CHECK(l.count <= KS_ALLOWED_CIDRS_MAX, "%zu ranges", l.count);
        for (size_t i = 0; i < l.count; i++)
            for (size_t j = i + 1; j < l.count; j++)
                FUZZ_CHECK(strcmp(l.items[i], l.items[j]) != 0, "duplicate %s", l.items[i]);
        ks_cidr compiled[KS_ALLOWED_CIDRS_MAX];
        size_t n;
        FUZZ_CHECK(ks_allowed_cidrs_compile(&l, compiled, KS_ALLOWED_CIDRS_MAX, &n) == KS_OK && n == l.count,
                   "compile");
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(ks_cidr_contains(&compiled[i], &compiled[i].addr), "range %zu", i);
        if (l.count > 0) { /* the first input range is the first output range */
            const char *comma = strchr(s, ',');
            char first[KS_CIDR_TEXT_MAX];
            size_t part = comma ? (size_t)(comma - s) : len;
            memcpy(first, s, part);
            first[part] = '\0';
            ks_cidr c;
            FUZZ_CHECK(ks_cidr_parse(first, &c) == KS_OK && ks_cidr_contains(&compiled[0], &c.addr),
                       "first range");
        }
        char *joined = ks_allowed_cidrs_join(&l);
        if (joined) {
            ks_strlist again;
            FUZZ_CHECK(ks_allowed_cidrs_split(joined, &again) == KS_OK && again.count == l.count, "rejoin %s",
                       joined);
            for (size_t i = 0; i < l.count; i++)
                FUZZ_CHECK(strcmp(again.items[i], l.items[i]) == 0, "item %zu", i);
            ks_strlist_free(&again);
            free(joined);
        }
        ks_strlist_free(&l);
    }
    free(s);
    return 0;
}
