/*
 * conformance_util.h - what the files of the store conformance suite share.
 *
 * The suite (store_conformance.h) is spread over files by subject:
 * conformance_accounts.c (accounts, settings, roles, audit),
 * conformance_keys.c (keys, lists and paging, update, delete),
 * conformance_slots.c (token slots, load_all / load_account, last used),
 * conformance_external.c (external grants), conformance_sessions.c (web
 * admin sessions), conformance_people.c (people, memberships,
 * invitations, failed sign-ins, a person's sessions) and conformance_rotation.c
 * (deadlines, sweeps, webhooks and the outbox); store_conformance.c runs their test tables, each test on
 * a fresh, empty store. Only store.h (and the model/core headers it builds
 * on) is used: no SQL, no backend internals.
 *
 * Conventions: accounts "acme" and "beta"; key ids are made deterministically
 * by kid(account, n) (n = 0 is the account's owner key); token digests by
 * tok(key_id, generation); times are fixed (T0 = 2025-01-15T12:00:00Z).
 * Records read back are heap objects released after the test by a deferred-
 * free list, so a failed ASSERT (which leaves the test with longjmp) leaks
 * nothing.
 *
 * The files of tests/unit/store/ but test_*.c are linked into the store tests
 * only, so the helpers have plain names (store, kid, put_key, ...); the few
 * names test_store_*.c define for themselves differ from these (the
 * PostgreSQL test's store-taking make_account_on, put_key_on). Never include
 * this header after a direct "unit.h": it points unit.h's ASSERTs at the
 * suite's one jmp_buf, conf_jmp.
 */
#ifndef KS_TESTS_CONFORMANCE_UTIL_H
#define KS_TESTS_CONFORMANCE_UTIL_H

#include <setjmp.h>

extern jmp_buf conf_jmp; /* where a failed ASSERT of the running test jumps */
#define UNIT_JMP conf_jmp
#include "unit.h"

#include "core/error.h"
#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>

#define T0 ((int64_t)1736942400) /* 2025-01-15T12:00:00Z */
#define DAY ((int64_t)86400)

/* NULL-terminated role / resource lists: R("Owner", "Reader"), R0 = none. */
#define R(...) ((const char *const[]){__VA_ARGS__, NULL})
#define R0 ((const char *const[]){NULL})

/* ------------------------------------------------------------ tests */

/* One test; every file lists its tests in a table ended by {NULL, NULL}. */
typedef struct {
    const char *name;
    void (*fn)(void);
} conf_test;
#define CONF_TEST(fn) {#fn, fn}

extern const conf_test conf_tests_accounts[]; /* conformance_accounts.c */
extern const conf_test conf_tests_keys[];     /* conformance_keys.c */
extern const conf_test conf_tests_slots[];    /* conformance_slots.c */
extern const conf_test conf_tests_changes[];  /* conformance_changes.c */
extern const conf_test conf_tests_external[]; /* conformance_external.c */
extern const conf_test conf_tests_sessions[]; /* conformance_sessions.c */
extern const conf_test conf_tests_audit[];    /* conformance_audit.c */
extern const conf_test conf_tests_people[];   /* conformance_people.c */
extern const conf_test conf_tests_rotation[]; /* conformance_rotation.c */
extern const conf_test conf_tests_limits[];   /* conformance_limits.c */
extern const conf_test conf_tests_leaks[];    /* conformance_leaks.c */

extern ks_store *store;     /* the store of the running test */
extern int64_t audit_clock; /* `at` of the last audit entry made, less T0 */

/* ---------------------------------------------------- deferred frees */

/* Frees p with fn after the test (at once, failing the test, when full). */
void *defer(void *p, void (*fn)(void *));
/* Runs the deferred frees, newest first; the runner calls it after a test. */
void conf_run_deferred(void);
/* A zeroed heap block, freed after the test. */
void *xcalloc(size_t n);

/* ----------------------------------------------------------- fixtures */

/* A deterministic, valid key id: "kst-<account>-" + 10 base32 chars of n.
 * The result stays valid for the next 63 calls. */
const char *kid(const char *account, int n);
/* A deterministic digest for generation `gen` of the token of key_id. */
ks_digest tok(const char *key_id, int gen);
/* A view of a NULL-terminated list (no copy). */
ks_strlist slist(const char *const *items);
/* An audit entry by "cli", at T0 + the next tick of audit_clock. */
ks_audit_entry aud(const char *account, const char *action, const char *target);
/* Fills k (no allocation: it points at the arguments). */
void key_build(ks_key *k, const char *account, int n, const char *name,
               const char *const *roles, int64_t created);
/* account_create with the Owner key kid(account, 0). */
int make_account(const char *account, int months, int enforce);
/* key_insert of kid(account, n) with token tok(kid, 0) made at `created`. */
int put_key(const char *account, int n, const char *name, const char *const *roles,
            int64_t created);
/* The key, or NULL with *rc set (freed after the test). */
ks_key *get_key(const char *account, const char *key_id, int *rc);
/* The key, or the test fails. */
ks_key *must_get_key(const char *account, const char *key_id);
/* key_update of the status only; the test fails unless KS_OK. */
void set_status(const char *account, const char *key_id, int status);
/* key_apply_slots with the audit action of op. */
int apply(const char *account, const char *id, ks_slot_op op, const ks_digest *h,
          int64_t now);
/* role_create / role_update (resources NULL = keep) with their audit. */
int create_role(const char *account, const char *name, const char *const *resources);
int update_role(const char *account, const char *name, const char *new_name,
                const char *const *resources);

typedef struct {
    ks_role *items;
    size_t n;
} role_set;
/* role_list (empty on error, with *rc set); freed after the test. */
role_set *get_roles(const char *account, int *rc);
const ks_role *find_role(const role_set *r, const char *name);

typedef struct {
    ks_audit_record *items;
    size_t n;
} audit_set;
/* The newest `limit` entries by audit_list (paging through as needed), or
 * the test fails; freed after the test. */
audit_set *get_audit(const char *account, int limit);
size_t audit_count(const char *account);
/* The newest audit entry of account is (action, target) and the count grew by one. */
void expect_audit(const char *account, size_t before, const char *action,
                  const char *target);

/* 1 when l holds exactly the strings of the NULL-terminated want, in any order. */
int strlist_same_set(const ks_strlist *l, const char *const *want);
#define ASSERT_SET(list, want)                                                       \
    do {                                                                             \
        if (!strlist_same_set((list), (want)))                                       \
            UNIT_FAIL("%s does not hold exactly %s (count %zu)", #list, #want,       \
                      (size_t)(list)->count);                                        \
    } while (0)

int digest_eq(const ks_digest *a, const ks_digest *b);

/* ---------------------------------------------------------- key lists */

typedef struct {
    int n;
    char ids[128][KS_KEY_ID_MAX + 1];
    int64_t seqs[128];
    int64_t next;
} idlist;

ks_key_filter filter(const char *q, int status, int outdated, int64_t now, int limit);
/* One page into out (appending). Checks newest-first order within the page. */
int list_page(const char *account, const ks_key_filter *f, idlist *out);
/* Every page (following next_seq), with page-size and ordering checks. */
void list_all(const char *account, ks_key_filter f, idlist *out);
int idlist_has(const idlist *l, const char *id);
void assert_unique(const idlist *l);
/* How many keys list_all finds (pages of 500), each once. */
int count_all(const char *account, const char *q, int status, int outdated, int64_t now);

/* ------------------------------------------------------------- loads */

typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    ks_settings settings;
    ks_role *roles;
    size_t n_roles;
} loaded_account;

/* What load_all / load_account passed to the callbacks, deep-copied. */
typedef struct {
    loaded_account accounts[8];
    int n_accounts;
    ks_key keys[64];
    int n_keys;
    int calls;       /* callbacks so far */
    int stop_at;     /* return stop_rc at this call (1-based), 0 = never */
    int stop_rc;
    int overflow;
} collector;

/* An empty collector, freed after the test. */
collector *new_collector(void);
/* The ks_store_loader callbacks; ctx is a collector. */
int collect_account(void *ctx, const char *account, const ks_settings *settings,
                    const ks_role *roles, size_t n_roles);
int collect_key(void *ctx, const ks_key *key);
/* NULL when not loaded; the test fails when loaded twice. */
const loaded_account *loaded_find_account(const collector *c, const char *account);
const ks_key *loaded_find_key(const collector *c, const char *key_id);
const ks_role *loaded_role(const loaded_account *a, const char *name);

#endif
