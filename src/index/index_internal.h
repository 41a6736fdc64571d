/*
 * index_internal.h - what key_index.c, last_used.c and roleset.c share: the
 * index, its key table, the account and role-set structs and the retire
 * hook. Not for use outside src/index/.
 *
 * Fields marked "writer" are only touched under the index's write lock;
 * readers use the atomics and the immutable name.
 */
#ifndef KS_INDEX_INDEX_INTERNAL_H
#define KS_INDEX_INDEX_INTERNAL_H

#include "index/epoch.h"
#include "index/key_index.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>

#define KS_ACCOUNT_KNOWN 0x80000000u /* settings came from the store */
#define TOMBSTONE ((ks_index_key *)(uintptr_t)1)
#define TABLE_MIN 1024

/* A slot of the key table is one word: 0 (empty), TOMBSTONE, or an entry's
 * address in the low SLOT_ADDR_BITS with, above them, a tag (15 bits of
 * its key's bucket hash, never 0) and SLOT_LIMITED when the entry has
 * limits. A probe passes a slot of another tag without loading that entry:
 * with linear probing about half the lookups pass other keys' slots, and
 * on a large index each such entry is a cache miss. The tag also lets
 * verify fetch the entry's lines while it hashes the token, before it
 * reads the key id (ks_index_key_candidate). Addresses on Linux x86-64 and
 * arm64 have 48 bits (higher ones only for mmap hints, which nothing here
 * gives); an entry at a higher one is not stored (slot_fits). */
#define SLOT_ADDR_BITS 48
#define SLOT_ADDR_MASK ((UINT64_C(1) << SLOT_ADDR_BITS) - 1)
#define SLOT_LIMITED (UINT64_C(1) << 63)
#define SLOT_TAG_MASK (~SLOT_ADDR_MASK & ~SLOT_LIMITED)

typedef struct {
    size_t mask;                        /* slots - 1 (a power of two) */
    size_t used;                        /* writer: live + tombstones */
    size_t live;                        /* writer */
    _Atomic uint64_t slots[];           /* see SLOT_ADDR_BITS */
} key_table;

/* The tag bits of a key whose bucket hash is `hash`. */
static inline uint64_t slot_tag(uint64_t hash)
{
    uint64_t tag = hash & SLOT_TAG_MASK;
    return tag ? tag : UINT64_C(1) << SLOT_ADDR_BITS;
}

/* The entry of slot word w (NULL, TOMBSTONE or an entry). */
static inline ks_index_key *slot_entry(uint64_t w)
{
    return (ks_index_key *)(uintptr_t)(w & SLOT_ADDR_MASK);
}

/* 1 when entry e's address fits a slot word. */
static inline int slot_fits(const ks_index_key *e)
{
    return ((uint64_t)(uintptr_t)e & ~SLOT_ADDR_MASK) == 0;
}

/* The entry in slot i of t. */
static inline ks_index_key *table_entry(const key_table *t, size_t i, memory_order order)
{
    return slot_entry(atomic_load_explicit(&((key_table *)t)->slots[i], order));
}

/* Stores e (an entry that fits, or TOMBSTONE) with tag in slot i of t. */
static inline void table_store(key_table *t, size_t i, const ks_index_key *e, uint64_t tag, memory_order order)
{
    uint64_t w = (uint64_t)(uintptr_t)e;
    if (e != TOMBSTONE)
        w |= tag | (e->limits ? SLOT_LIMITED : 0);
    atomic_store_explicit(&t->slots[i], w, order);
}

typedef struct {
    int64_t day;                        /* days since the epoch */
    int months;                         /* 0 = empty */
    int64_t expires;                    /* that day's midnight + months */
} expiry_memo;

/* A freed entry's count, kept for the next collection (use_count.c). */
typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    size_t key_len;
    int64_t minute;                     /* Unix seconds */
    uint32_t count;
} ks_index_freed_use;

struct ks_index {
    pthread_mutex_t write_lock;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    unsigned char tag_key[crypto_shorthash_siphashx24_KEYBYTES]; /* token tags (token_tag.c) */
    _Atomic(key_table *) keys;
    _Atomic size_t n_total, n_active;
    ks_index_account **accounts;        /* writer: chained by name */
    size_t accounts_mask, n_accounts;
    ks_retire_list retired;             /* writer: freed once no reader holds them */
    expiry_memo memo[64];               /* writer: expiry by creation day */
    ks_index_view_text_fn view_text;    /* writer: makes views' text, NULL = "" */
    _Atomic uint32_t nodes;             /* live nodes sharing rate limits (index/limits.h) */
    ks_index_freed_use *freed_uses;     /* writer: counts of entries freed since the last
                                           collection of uses */
    size_t n_freed_uses, cap_freed_uses;
};

struct ks_index_roleset {
    _Atomic(const ks_index_view *) view; /* current rendering */
    struct ks_index_roleset *next;       /* writer: chain in the account's table */
    size_t refs;                         /* writer: entries (and grants) using it */
    uint64_t hash;                       /* writer: of the names, in order */
    size_t n_names;
    char **names;                        /* role names, in the key's order */
};

struct ks_index_account {
    _Atomic uint32_t settings;           /* KNOWN | enforce << 8 | months */
    size_t name_len;
    char name[KS_ACCOUNT_MAX + 1];
    struct ks_index_account *next;       /* writer: chain in the index's table */
    ks_role *roles;                      /* writer: role definitions (copies) */
    size_t n_roles;
    struct ks_index_roleset **sets;      /* writer: role sets by hash */
    size_t sets_mask;                    /* writer: buckets - 1 */
    size_t n_sets;                       /* writer */
};

/* Hands `p` to the index to free with `free_fn` once no reader can hold it
 * (writer only). Never fails: when out of memory it waits for the readers. */
void ks_index_retire_(ks_index *idx, void *p, void (*free_fn)(void *));
/* Frees what was retired and no reader can hold any more (writer only). */
void ks_index_retire_flush(ks_index *idx);
/* Calls fn for each entry retired and not yet freed (writer only). */
void ks_index_retired_entries(ks_index *idx, void (*fn)(void *ctx, ks_index_key *e), void *ctx);

/* use_count.c: a freed entry's count kept for the next collection (writer
 * only, from the retire hook). */
void ks_index_uses_freed(ks_index *idx, ks_index_key *e);
/* Index in t of the key's slot, or of the slot to insert it at (*found =
 * 0); *tag: the key's slot tag. */
size_t ks_index_table_probe(const ks_index *idx, const key_table *t, const char *key, size_t len, int *found,
                            uint64_t *tag);

/* ---- last_used.c ---- */

/* The index slot of `k` holding the token with `hash`, or -1. */
int ks_index_slot_of_hash(const ks_index_key *k, const ks_digest *hash);
/* A new (unpublished) slot's last use and address, from the store. */
void ks_index_token_init(ks_index_token *t, int64_t last_used, const ks_netaddr *from);
/* The last use, flushed mark and address of src (maybe in use by readers
 * and verifies) into dst, not yet published. */
void ks_index_token_copy_use(ks_index_token *dst, const ks_index_token *src);

/* Raises `to`'s last-used times to those `from` has for the same tokens
 * (matched by hash: a renewal moves the current token to the old slot),
 * and gives `to` their tags (token_tag.c); with flushed, `to` also takes
 * `from`'s flushed marks. */
void ks_index_last_used_pass_on(ks_index_key *to, const ks_index_key *from, int flushed);
/* A replaced entry, now that no reader holds it: a verify that found it
 * just before the replacement may have touched it after the new entry took
 * its times; the key's current entry gets those too (by token hash).
 * Under write_lock, as every retire flush. */
void ks_index_entry_hand_over_last_used(ks_index *idx, const ks_index_key *old);

/* ---- token_tag.c ---- */

/* src's tag (maybe being written by a verify) into dst, a slot of the same
 * token (published or not), when src has one; readers of dst see it whole. */
void ks_index_token_copy_tag(ks_index_token *dst, const ks_index_token *src);

/* ---- roleset.c (all writer only) ---- */

/* The set of `names` (in that order) of account a, made if new, with one
 * more reference. NULL when out of memory. */
ks_index_roleset *ks_roleset_acquire(ks_index *idx, ks_index_account *a, char *const *names, size_t n);
/* Drops a reference; at zero, unlinks the set and retires it. */
void ks_roleset_release(ks_index *idx, ks_index_account *a, ks_index_roleset *rs);
/* Replaces a's role definitions and re-renders every set's view; on NOMEM
 * nothing changes. */
int ks_account_set_roles(ks_index *idx, ks_index_account *a, const ks_role *roles, size_t n_roles);
/* Frees a set and its view at once (index teardown). */
void ks_roleset_free(void *rs);
/* Frees an account's definitions and remaining sets (index teardown). */
void ks_account_free(ks_index_account *a);

#endif
