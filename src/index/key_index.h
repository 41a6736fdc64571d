/*
 * key_index.h - the in-memory verify index: key id -> {status, token hashes
 * and expiry instants, roles}, and account -> {settings, roles -> resources}.
 *
 * Built from the store at start and kept current by the service after each
 * committed write, so verify never touches the disk.
 *
 * Readers never wait and never write shared memory: ks_index_read_lock is an
 * epoch-based read section (index/epoch.h), not a lock. Writers (serialised
 * by a mutex inside the index) build a new immutable entry, publish it with
 * one atomic pointer store and retire the old one, which is freed once no
 * reader can hold it. So a reader sees a key before or after a write, never
 * half of it, and a stream of verifies cannot delay a revocation.
 *
 * Keys live in an open-addressing table of entry pointers (linear probing,
 * tombstones for removals), each tagged with bits of its key's bucket hash
 * so a lookup reads no entry but its key's (index_internal.h); growing
 * builds a new table and swaps it in.
 *
 * Roles: keys with the same role names in the same account share one role
 * set, whose view (the names, the sorted union of their resources, and that
 * grant already rendered as text by the layer above, see
 * ks_index_set_view_text) is rebuilt when the account's roles change, so
 * verify copies bytes instead of building JSON.
 *
 * Old-token deadlines: the entry's old slot carries its ends_at (from the
 * store, like the hash), so verify refuses it from that second on, on
 * every node that loaded the key, without waiting for a sweep.
 *
 * Durations: each token's expiry instant is computed when the entry is built,
 * for the duration the home account had then (entry->months); a change of the
 * account's duration rebuilds the account's entries. A reader that meets an
 * entry built for another duration computes the instant itself.
 *
 * Last use: a successful verify stores the time in the entry's slot (an
 * atomic, only written when it moves forward) and, the first time in a
 * second, the caller's address (API.md last_used_from);
 * ks_index_collect_last_used gathers what changed since the previous call
 * for the service to flush in one store transaction.
 *
 * Per-key limits (allowed ranges, rate limit): index/limits.h, out of the
 * entry, NULL for a key without any.
 *
 * Token tags: a verify proves a token by its keyed BLAKE2b (the slot's
 * hash) once, then remembers the token's tag in the slot, SipHash-128
 * keyed with a key the index draws when it is made (token_tag.c); later
 * verifies of the token compare tags and skip the BLAKE2b.
 *
 * Memory per key: one entry (120 bytes and 96 per token slot: 216, a
 * 224-byte malloc chunk, for a key without an old token) and 8 to 16
 * bytes of table slot; a key with limits adds its limits object (40 bytes
 * + 8 per IPv4 range + 32 per IPv6 range).
 */
#ifndef KS_INDEX_KEY_INDEX_H
#define KS_INDEX_KEY_INDEX_H

#include "core/model.h"
#include "core/token_slots.h"
#include "store/store.h"

#include <stdatomic.h>

typedef struct ks_index ks_index;

/* The grant a role set gives, rendered once; immutable after publication. */
typedef struct {
    const char *json;                 /* its text for verify answers, made by the index's
                                         ks_index_view_text_fn ("" without one) */
    size_t json_len;
    const char *const *roles;         /* role names, in the key's order */
    size_t n_roles;
    const char *const *resources;     /* sorted (strcmp), unique */
    size_t n_resources;
} ks_index_view;

/* Role names shared by keys of one account; its view follows role edits. */
typedef struct ks_index_roleset ks_index_roleset;
const ks_index_view *ks_index_roleset_view(const ks_index_roleset *rs);

/* An account. Never freed while the index lives; readers use the name and
 * the settings only (the rest is the writers'). */
typedef struct ks_index_account ks_index_account;
const char *ks_index_account_name(const ks_index_account *a, size_t *len);
/* 0 when the account is not (yet) known to the index, else 1 and *out. */
int ks_index_account_settings(const ks_index_account *a, ks_settings *out);

typedef struct {
    const ks_index_account *account;   /* the granting account */
    const ks_index_roleset *roles;     /* role names there */
    int active;
} ks_index_grant;

/* A key's allowed ranges and token bucket (index/limits.h). */
typedef struct ks_index_limits ks_index_limits;

/* A token of a key in the index: what verify needs of the core's ks_token
 * (core/token_slots.h; not its notices, its store-side times or its
 * `present`, which is the entry's bit), and the slot's last use. */
typedef struct {
    ks_digest hash;                   /* keyed hash of the token */
    _Atomic uint64_t tag[2];          /* the token's tag in this index once a verify proved
                                         the token (ks_index_remember_tag), else 0 */
    int64_t created_at;               /* when the token was made */
    uint32_t expires_in;              /* its expiry instant - created_at, for the entry's
                                         `months` (at most 255 months: fits) */
    _Atomic uint32_t from_seq;        /* odd while `from` is being written (see last_used.c) */
    _Atomic int64_t last_used;        /* newest successful verify, 0 = never */
    _Atomic int64_t last_flushed;     /* what the store has */
    _Atomic uint64_t from[2];         /* the caller's address of the newest verify that
                                         gave one (ks_netaddr_pack; zero = unknown) */
} ks_index_token;

typedef struct ks_index_key {
    /* what every verify reads first */
    uint8_t key_len;
    uint8_t active;                     /* ks_key_status */
    uint8_t months;                     /* duration the expiry instants use */
    uint8_t present;                    /* bit KS_SLOT_CURRENT / KS_SLOT_OLD: the slot holds a
                                           token; and KS_INDEX_RATE_LIMITED */
    uint32_t n_grants;
    const ks_index_limits *limits;      /* allowed ranges and rate limit, NULL when none; next
                                           to the key id, whose line the lookup loaded */
    char key_id[KS_KEY_ID_MAX + 1];
    const ks_index_account *account;    /* home account */
    const ks_index_roleset *roles;      /* role names in the home account */
    const ks_index_grant *grants;       /* external grants, NULL when none */
    int64_t old_ends_at;                /* the old token's deadline, 0 = none */
    _Atomic uint64_t valid_uses;        /* valid verifies of one minute: its number (Unix
                                           minutes) << 32 | the count (see "Valid uses") */
    int64_t store_seq;                  /* the key's seq in the store (ks_key.seq), for the
                                           last-used flush; 0 when unknown */
    ks_index_token slots[];             /* [KS_SLOT_CURRENT], and [KS_SLOT_OLD] only when the
                                           key has an old token (ks_index_key_size) */
} ks_index_key;

/* A bit of `present`: the key's limits have a rate limit (so verify reads
 * the monotonic clock early, while the entry's memory is still coming in). */
#define KS_INDEX_RATE_LIMITED 4u

/* Bytes of an entry whose slots are `present` (bits). */
static inline size_t ks_index_key_size(unsigned present)
{
    return sizeof(ks_index_key) + ((present & 2) ? 2 : 1) * sizeof(ks_index_token);
}

/* Slot i (KS_SLOT_CURRENT or KS_SLOT_OLD) of key, NULL when it holds no token. */
static inline const ks_index_token *ks_index_slot(const ks_index_key *key, int i)
{
    return (key->present >> i) & 1 ? &key->slots[i] : NULL;
}

/* 1 when the key's old token verifies at `now`: present, and before its
 * deadline if it has one (as ks_token_alive). */
static inline int ks_index_old_alive(const ks_index_key *key, int64_t now)
{
    return (key->present & 2) && (key->old_ends_at == 0 || now < key->old_ends_at);
}

/* ---- Valid uses ----
 * Verifies answered valid are counted in the key's entry, whose lines the
 * verify has just read (service/usage.h counts every other outcome in
 * per-thread tables): one atomic add while the minute stays the same. The
 * word holds one minute; the first valid verify of a later minute takes the
 * earlier minute's count out and hands it to its caller. A collection takes
 * every entry's count (ks_index_collect_uses); a replaced or deleted entry
 * gives what it counted since when it is freed, so every count is taken
 * exactly once. */

#define KS_INDEX_USES_MAX 0xF0000000u /* a count this high (71M a second) goes elsewhere */

/* Counted */
#define KS_INDEX_USE_COUNTED 0
/* Counted, and the entry's earlier minute (*minute, Unix seconds) had
 * *count the caller must count elsewhere */
#define KS_INDEX_USE_ROLLED 1
/* Not counted (the entry holds a later minute, or is full): the caller
 * counts it elsewhere */
#define KS_INDEX_USE_ELSEWHERE (-1)

int ks_index_count_use_slow(const ks_index_key *key, uint32_t minute, int64_t *old_minute, uint32_t *old_count);

/* Counts one valid verify of key at Unix time `now` (inside a read
 * section): KS_INDEX_USE_*. */
static inline int ks_index_count_use(const ks_index_key *key, int64_t now, int64_t *old_minute, uint32_t *old_count)
{
    uint32_t minute = (uint32_t)(now >= 0 ? now / 60 : 0);
    _Atomic uint64_t *w = (_Atomic uint64_t *)&key->valid_uses; /* only the atomic changes */
    uint64_t seen = atomic_load_explicit(w, memory_order_relaxed);
    if (__builtin_expect((uint32_t)(seen >> 32) == minute && (uint32_t)seen < KS_INDEX_USES_MAX, 1)) {
        /* a rollover between the load and the add puts this one in the
         * next minute, which had begun: the total stays exact */
        atomic_fetch_add_explicit(w, 1, memory_order_relaxed);
        return KS_INDEX_USE_COUNTED;
    }
    return ks_index_count_use_slow(key, minute, old_minute, old_count);
}

/* Takes the count of every entry: those in the table, those replaced or
 * deleted and not yet freed, and those freed since the last call; fn gets
 * each (key id, minute in Unix seconds, count > 0). Not concurrently with
 * itself (the usage flush is one at a time). */
typedef void (*ks_index_use_fn)(void *ctx, const char *key_id, size_t key_len, int64_t minute, uint32_t count);
void ks_index_collect_uses(ks_index *idx, ks_index_use_fn fn, void *ctx);

/* Which slot holds a token with digest d (as ks_slots_match): both slots
 * are compared in constant time whatever the outcome, an absent old slot
 * against a zero digest, so a key without one takes as long. */
__attribute__((warn_unused_result))
ks_slot ks_index_slots_match(const ks_index_key *key, const ks_digest *d);

/* ---- token tags (token_tag.c) ----
 * A tag stands for a token only inside this index and this process: its
 * key is drawn by ks_index_new, held in memory only, never stored, logged
 * or sent. A slot's tag is 0 until a verify proved the token by its keyed
 * hash and remembered it; then it is that token's tag for the life of the
 * entry (entries are rebuilt, never edited, when a key changes), carried
 * to the key's next entry with the token (by hash, as last-used times). A
 * tag has its low bit set, so 0 is never one: 127 bits a token. A match of
 * tags accepts the token as a match of hashes would; no match proves
 * nothing (the slot may hold no tag yet, or a reader may meet one being
 * written), so the caller then hashes. Compared in constant time. */
typedef struct { uint64_t w[2]; } ks_index_tag;
/* The tag of token[0..len) in idx. */
void ks_index_tag_of(const ks_index *idx, const char *token, size_t len, ks_index_tag *out);
/* Which slot of key remembered tag t (both compared, as ks_index_slots_match). */
ks_slot ks_index_slots_match_tag(const ks_index_key *key, const ks_index_tag *t);
/* Remembers t in slot (whose hash the token's matched): later verifies of
 * the token match by tag. Readers see the tag whole or not at all. */
void ks_index_remember_tag(const ks_index_key *key, ks_slot slot, const ks_index_tag *t);

/* New empty index; NULL when out of memory. */
ks_index *ks_index_new(void);

/* How a view's text is made: from the role names (in the key's order) and
 * the sorted resources, a text in malloc memory of *len bytes, or NULL when
 * out of memory. The index keeps the text beside the view and never reads
 * it; verify answers copy it (verify.h ks_verify_grant_text). */
typedef char *(*ks_index_view_text_fn)(const char *const *roles, size_t n_roles, const char *const *resources,
                                       size_t n_resources, size_t *len);
/* Sets the view text maker; call before the first write (views made
 * before keep the text ""). Without one every text is "". */
void ks_index_set_view_text(ks_index *idx, ks_index_view_text_fn fn);
/* Frees everything; no reader or writer may be active. */
void ks_index_free(ks_index *idx);

/* Fills the index from the store (load_all). KS_OK or the store's error. */
int ks_index_load(ks_index *idx, ks_store *store);

/* Reloads one account's settings and roles from the store, and with
 * with_keys all its keys too (needed after a role rename). */
int ks_index_reload_account(ks_index *idx, ks_store *store, const char *account, int with_keys);

/* Inserts or replaces an account / a key (copies the record). KS_OK or
 * NOMEM (then the index is unchanged). A changed duration rebuilds the
 * account's keys. */
int ks_index_put_account(ks_index *idx, const char *account, const ks_settings *settings,
                         const ks_role *roles, size_t n_roles);
int ks_index_put_key(ks_index *idx, const ks_key *key);
void ks_index_remove_key(ks_index *idx, const char *key_id);

/* Reading: hold a read section around find calls and any use of what they
 * return (entries, accounts' names, role sets and views); sections nest and
 * never block. Lock returns -1 when out of memory (a thread's first section
 * allocates its record): then do not read and do not unlock. */
int ks_index_read_lock(ks_index *idx);
void ks_index_read_unlock(ks_index *idx);
/* key_id of key_len bytes (no NUL needed); NULL when absent. */
const ks_index_key *ks_index_find_key(const ks_index *idx, const char *key_id, size_t key_len);
/* The same in steps, so the caller can overlap the memory fetches with
 * other work (all inside one read section):
 * 1. ks_index_key_prefetch: the key's bucket hash, and a prefetch of its
 *    table slot;
 * 2. ks_index_key_candidate: the first entry on the key's probe path whose
 *    slot has the key's tag (some bits of that hash), found without reading
 *    any entry: almost always the key's, NULL when the key is absent; to
 *    prefetch. p->limited: the candidate has limits (key->limits != NULL);
 * 3. ks_index_key_confirm: the key's entry (the candidate when its key id
 *    is key_id, else the next of the same tag), NULL when absent. */
typedef struct {
    const void *table;                  /* the table probed */
    size_t at;                          /* the candidate's slot */
    uint64_t tag;
    int limited;
} ks_index_probe;
uint64_t ks_index_key_prefetch(const ks_index *idx, const char *key_id, size_t key_len);
const ks_index_key *ks_index_key_candidate(const ks_index *idx, uint64_t hash, ks_index_probe *p);
const ks_index_key *ks_index_key_confirm(const ks_index_key *cand, ks_index_probe *p, const char *key_id,
                                         size_t key_len);

/* The expiry instant of slot `slot` of key for the home account's current
 * duration `months` (precomputed unless the duration just changed). */
int64_t ks_index_token_expiry_for(const ks_index_key *key, int slot, int months);
static inline int64_t ks_index_token_expiry(const ks_index_key *key, int slot, int months)
{
    if (__builtin_expect(key->months == months, 1))
        return key->slots[slot].created_at + key->slots[slot].expires_in;
    return ks_index_token_expiry_for(key, slot, months);
}

/* 1 when a successful verify of `slot` at `now` moves the slot's last use
 * (its first in this second), so the caller fetches the address to record
 * only then (inside a read section). */
static inline int ks_index_touch_due(const ks_index_key *key, ks_slot slot, int64_t now)
{
    return atomic_load_explicit(&((ks_index_key *)key)->slots[slot].last_used, memory_order_relaxed) < now;
}

/* Records a successful verify of `slot` at `now` (inside a read section),
 * from the caller's address `from` (family 0: a caller without an IP
 * address, recorded as none; NULL: no caller known, in process, then the
 * address recorded before stays). The address is written by the call that
 * moves the time (so at most once per slot and second), never blocks
 * (when another one is being written, this call records the time only),
 * and readers never see half of one. */
void ks_index_touch(const ks_index_key *key, ks_slot slot, int64_t now, const ks_netaddr *from);

/* Which keys' last-used times a collection takes. */
typedef enum {
    KS_LAST_USED_ALL,         /* every key's */
    KS_LAST_USED_RENEWED_KEYS /* only keys that hold an old token (both
                               * tokens'): what auto-delete reads */
} ks_last_used_scope;

/* Collects the last-used times not yet flushed of the keys in scope, each
 * with its address (ks_last_used.from, family 0 when unknown) and the
 * key's store seq (key_seq, 0 when the entry has none), into a new array
 * (*out, free it); also frees retired memory. KS_OK or NOMEM. Nothing is
 * marked: once the store has them, ks_index_mark_flushed does, so a failed
 * flush loses nothing and the next one writes them again. */
int ks_index_collect_last_used(ks_index *idx, ks_last_used_scope scope, ks_last_used **out, size_t *n);

/* Marks items (from ks_index_collect_last_used) as written to the store.
 * Entries replaced or deleted since are skipped (a replacement carries the
 * mark over by token hash). Out of memory: nothing marked. */
void ks_index_mark_flushed(ks_index *idx, const ks_last_used *items, size_t n);

/* Raises the last_used_at of each token of keys (read from the store) to
 * what this node's index has seen, matched by token hash, so reads show
 * verifies not flushed yet; a token so raised takes the index's
 * last_used_from with it. Keys not in the index are left as they are. */
void ks_index_merge_last_used(ks_index *idx, ks_key *keys, size_t n);

/* Number of keys, total and active (for /healthz and metrics); O(1). */
void ks_index_count(ks_index *idx, size_t *total, size_t *active);

#endif
