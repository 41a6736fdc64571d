/*
 * index_internal.h - what key_index.c and roleset.c share: the account and
 * role-set structs and the retire hook. Not for use outside src/index/.
 *
 * Fields marked "writer" are only touched under the index's write lock;
 * readers use the atomics and the immutable name.
 */
#ifndef KS_INDEX_INDEX_INTERNAL_H
#define KS_INDEX_INDEX_INTERNAL_H

#include "index/key_index.h"

#include <stdint.h>

#define KS_ACCOUNT_KNOWN 0x80000000u /* settings came from the store */

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

/* ---- roleset.c (all writer only) ---- */

/* The set of `names` (in that order) of account a, made if new, with one
 * more reference. NULL when out of memory. */
ks_index_roleset *ks_roleset_acquire(ks_index_account *a, char *const *names, size_t n);
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
