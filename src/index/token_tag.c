/*
 * token_tag.c - token tags (key_index.h "token tags"): what lets verify
 * skip the keyed BLAKE2b for a token it has proved before.
 *
 * Why it is as safe as the hash: a tag is SipHash-128 (libsodium
 * crypto_shorthash_siphashx24, a pseudorandom function) of the token under
 * a 128-bit key drawn at start and never leaving memory, so a token other
 * than the slot's has the slot's tag with probability 2^-127, as it would
 * guess a 127-bit secret; the tag is only ever written after the token's
 * keyed hash matched the slot's. A wrong token is hashed all the same (a
 * tag that does not match is no proof of anything), so answers to wrong
 * tokens take as long as before, whether the key's tokens were used or not.
 * Cost: about 40 ns against about 340 for the BLAKE2b (bench/README.md).
 *
 * Publication: a slot's tag is written at most once per token (a later
 * write by another verify writes the same words): word 1 first, then word
 * 0, which carries the low bit set, with release; a reader loads word 0
 * with acquire and, when it is set, word 1. So a reader sees the whole tag
 * or none. What is read is compared in constant time.
 */
#include "index/index_internal.h"

#include <sodium.h>

_Static_assert(crypto_shorthash_siphashx24_BYTES == sizeof(ks_index_tag), "a tag is SipHash-128");

void ks_index_tag_of(const ks_index *idx, const char *token, size_t len, ks_index_tag *out)
{
    crypto_shorthash_siphashx24((unsigned char *)out->w, (const unsigned char *)token, len, idx->tag_key);
    out->w[0] |= 1; /* never 0, which is "no tag" */
}

/* Word 0 (0 = none) and word 1 of slot t's tag, whole. */
static uint64_t tag_load(const ks_index_token *t, uint64_t *w1)
{
    ks_index_token *m = (ks_index_token *)t; /* only the atomics are read */
    uint64_t w0 = atomic_load_explicit(&m->tag[0], memory_order_acquire);
    *w1 = w0 ? atomic_load_explicit(&m->tag[1], memory_order_relaxed) : 0;
    return w0;
}

ks_slot ks_index_slots_match_tag(const ks_index_key *key, const ks_index_tag *t)
{
    static const ks_index_token none; /* an absent old slot: compared all the same, never matched */
    unsigned present = key->present;
    const ks_index_token *slot[2] = {&key->slots[0], (present & 2) ? &key->slots[1] : &none};
    int match[2];
    for (int i = 0; i < 2; i++) {
        uint64_t w1, w0 = tag_load(slot[i], &w1);
        /* w0 has the low bit set when a tag is there and t->w[0] always
         * has it: an empty slot never matches */
        uint64_t diff = (w0 ^ t->w[0]) | (w1 ^ t->w[1]);
        match[i] = (int)(((diff | (0 - diff)) >> 63) ^ 1) & (int)((present >> i) & 1);
    }
    if (match[0])
        return KS_SLOT_CURRENT;
    return match[1] ? KS_SLOT_OLD : KS_SLOT_NONE;
}

void ks_index_remember_tag(const ks_index_key *key, ks_slot slot, const ks_index_tag *t)
{
    int i = slot == KS_SLOT_OLD ? 1 : 0;
    if (!ks_index_slot(key, i))
        return;
    ks_index_token *s = (ks_index_token *)&key->slots[i]; /* only the atomics change */
    if (atomic_load_explicit(&s->tag[0], memory_order_relaxed) == t->w[0])
        return; /* remembered already */
    atomic_store_explicit(&s->tag[1], t->w[1], memory_order_relaxed);
    atomic_store_explicit(&s->tag[0], t->w[0], memory_order_release);
}

void ks_index_token_copy_tag(ks_index_token *dst, const ks_index_token *src)
{
    uint64_t w1, w0 = tag_load(src, &w1);
    if (!w0)
        return; /* none yet: dst keeps its own (a copy of src's bytes holds none either: a tag is never unset) */
    atomic_store_explicit(&dst->tag[1], w1, memory_order_relaxed);
    atomic_store_explicit(&dst->tag[0], w0, memory_order_release); /* dst may be published already */
}
