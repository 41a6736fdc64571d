/*
 * seed.c - fills a SQLite store with N keys for the benchmarks, fast: keys
 * go in through the store's bulk import (store.h key_import), 50,000 per
 * transaction, not through a million HTTP calls.
 *
 *   seed DB N OUTDIR [SAMPLE [OLD_ENDS_IN]]
 *
 * Makes account "bench" (its Owner key printed to OUTDIR/owner.txt as
 * "KEY TOKEN"), a role "integration" with three resources, and N keys
 * holding that role. SAMPLE keys (default 100000, spread evenly) have their
 * key id and token written to OUTDIR/creds.txt, one "KEY TOKEN" per line, for
 * the load generators. OUTDIR must be a temporary directory: it holds live
 * credentials. Prints one JSON line with the timings. Exit 0 on success.
 *
 * With OLD_ENDS_IN (seconds), every key is in a renewal: it also has an old
 * token (a random one, never written out) whose deadline (ends_at) is the
 * seeding time plus OLD_ENDS_IN, the same second for all of them, so one
 * sweep then deletes them all (bench/rotation.py).
 *
 * With KS_SEED_LIMITS=1 in the environment, every key also has per-key
 * limits (issue 19): allowed_cidrs 127.0.0.0/8, 10.0.0.0/8, 192.168.0.0/16
 * (a loopback client is allowed) and a rate limit of 1,000,000 verifies a
 * minute, which a benchmark does not reach: verify runs the limits' checks
 * and answers with the rate headers.
 *
 * Tokens and key ids come from libsodium's ChaCha20 generator (seeded by the
 * kernel) rather than one getrandom() call per character.
 */
#include "core/clock.h"
#include "core/credential.h"
#include "core/error.h"
#include "core/secret.h"
#include "service/service.h"
#include "store/store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sodium/randombytes_internal_random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 50000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A new file only its owner can read: it holds live credentials. */
static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        perror(path);
    return f;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: seed DB N OUTDIR [SAMPLE [OLD_ENDS_IN]]\n");
        return 2;
    }
    long old_ends_in = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
    const char *db = argv[1], *outdir = argv[3];
    long n = strtol(argv[2], NULL, 10);
    long sample = argc > 4 ? strtol(argv[4], NULL, 10) : 100000;
    if (n < 0 || sample < 0) {
        fprintf(stderr, "seed: N and SAMPLE must be >= 0\n");
        return 2;
    }
    if (sample > n)
        sample = n;
    randombytes_set_implementation(&randombytes_internal_implementation);
    if (sodium_init() < 0)
        return 1;
    double t0 = now_s();
    char err[512], secret_path[4096];
    ks_secret secret;
    snprintf(secret_path, sizeof secret_path, "%s.secret", db);
    if (ks_secret_load(secret_path, 1, &secret, err, sizeof err) != KS_OK) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    ks_store *store = ks_store_open(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    if (!store->ops->key_import) {
        fprintf(stderr, "seed: the %s store has no bulk import\n", store->ops->backend);
        return 1;
    }
    ks_service svc;
    ks_service_init(&svc, store, &secret, 0);
    ks_key owner = {0};
    char owner_token[KS_TOKEN_LEN + 1];
    int rc = ks_service_account_create(&svc, "bench", "bench", &owner, owner_token);
    static char *RESOURCES[] = {"invoices.read", "orders.read", "orders.write"};
    static char *ROLES[] = {"integration"};
    static char *CIDRS[] = {"127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"};
    const char *limits_env = getenv("KS_SEED_LIMITS");
    int limits = limits_env && strcmp(limits_env, "1") == 0;
    ks_role role = {"integration", {RESOURCES, 3}, 0};
    ks_actor who = {.actor = "bench", .account = "bench"};
    if (rc == KS_OK)
        rc = ks_service_role_create(&svc, &who, &role);
    if (rc != KS_OK) {
        fprintf(stderr, "seed: cannot set up account 'bench': %s\n", ks_error_info(rc)->message);
        return 1;
    }
    FILE *fo = open_out(outdir, "owner.txt"), *fc = open_out(outdir, "creds.txt");
    if (!fo || !fc)
        return 1;
    fprintf(fo, "%s %s\n", owner.key_id, owner_token);
    fclose(fo);
    ks_key_free(&owner);

    ks_key *keys = calloc(BATCH, sizeof *keys);
    char (*tokens)[KS_TOKEN_LEN + 1] = calloc(BATCH, sizeof *tokens);
    if (!keys || !tokens)
        return 1;
    long every = sample ? n / sample : 0, written = 0;
    int64_t created = ks_clock_now();
    for (long done = 0; done < n;) {
        size_t batch = (size_t)(n - done < BATCH ? n - done : BATCH);
        for (size_t i = 0; i < batch; i++) {
            ks_key *k = &keys[i];
            memset(k, 0, sizeof *k);
            snprintf(k->account, sizeof k->account, "bench");
            k->name = "bench key";
            k->active = KS_KEY_ACTIVE;
            k->created_at = created;
            k->roles.items = ROLES;
            k->roles.count = 1;
            if (limits) {
                k->allowed_cidrs.items = CIDRS;
                k->allowed_cidrs.count = 3;
                k->rate_limit.limit = 1000000;
                k->rate_limit.period_seconds = 60;
            }
            ks_token_generate(tokens[i]);
            ks_digest hash;
            ks_token_hash(&secret, tokens[i], KS_TOKEN_LEN, &hash);
            ks_slots_init(&k->slots, &hash, created);
            if (old_ends_in > 0) {
                ks_token *old = &k->slots.old;
                old->present = 1;
                randombytes_buf(&old->hash, sizeof old->hash);
                old->created_at = created - 86400;
                old->ends_at = created + old_ends_in;
            }
        }
        rc = KS_ERR_NAME_TAKEN;
        for (int attempt = 0; attempt < 5 && rc == KS_ERR_NAME_TAKEN; attempt++) {
            for (size_t i = 0; i < batch; i++) /* a rare id collision: new ids, again */
                ks_key_id_generate("bench", keys[i].key_id);
            rc = store->ops->key_import(store, keys, batch, NULL);
        }
        if (rc != KS_OK) {
            fprintf(stderr, "seed: import failed: %s\n", ks_error_info(rc)->message);
            return 1;
        }
        for (size_t i = 0; i < batch && written < sample; i++)
            if (every && (done + (long)i) % every == 0 && written++ < sample)
                fprintf(fc, "%s %s\n", keys[i].key_id, tokens[i]);
        done += (long)batch;
    }
    sodium_memzero(tokens, (size_t)BATCH * sizeof *tokens);
    free(tokens);
    free(keys);
    if (fclose(fc) != 0)
        return 1;
    ks_service_close(&svc);
    store->ops->close(store);
    printf("{\"keys\":%ld,\"sample\":%ld,\"seconds\":%.2f}\n", n, written, now_s() - t0);
    return 0;
}
