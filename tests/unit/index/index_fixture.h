/*
 * index_fixture.h - what the index's unit tests build their keys from: a
 * key of account acme whose current token (and old one, when `old` is not
 * 0) has a digest of bytes all `current` (`old`), and whose store seq is
 * 100 + `current`.
 */
#ifndef KS_TESTS_INDEX_FIXTURE_H
#define KS_TESTS_INDEX_FIXTURE_H

#include "core/model.h"

#include <stdlib.h>
#include <string.h>

static inline ks_digest digest_of(unsigned char fill)
{
    ks_digest d;
    memset(d.bytes, fill, sizeof d.bytes);
    return d;
}

static inline ks_key key_make(const char *key_id, unsigned char current, unsigned char old)
{
    ks_key k = {0};
    strcpy(k.key_id, key_id);
    strcpy(k.account, "acme");
    k.name = strdup("test key");
    k.active = KS_KEY_ACTIVE;
    k.created_at = 1000;
    k.seq = 100 + current;
    k.slots.current = (ks_token){.present = 1, .hash = digest_of(current), .created_at = 1000};
    if (old)
        k.slots.old = (ks_token){.present = 1, .hash = digest_of(old), .created_at = 900};
    return k;
}

#endif
