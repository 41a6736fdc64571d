/*
 * verify_inproc.c - in-process verify timing: the core plus the index, no
 * HTTP. Loads the verify index from a store seeded by bench/seed, then times
 * exactly what the HTTP hot path does per request (api_verify.c): the
 * pre-lookup checks, the keyed hash, and the lookup and checks inside a read
 * section, rotating over the sampled credentials.
 *
 *   verify_inproc DB CREDS [CALLS]
 *
 * Prints one JSON line: index load time, RSS growth of the load, per-call
 * median / p99 (each call timed alone, timer cost included) of the
 * measured pass, where every token was verified before (matched by its tag,
 * key_index.h "token tags"), of each token's first verify (in the warm-up
 * pass: proved by its keyed hash) and, for reference, of the keyed BLAKE2b
 * of a token alone.
 */
#include "core/error.h"
#include "core/secret.h"
#include "service/service.h"
#include "store/store.h"
#include "verify/verify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    char key[KS_KEY_ID_MAX + 1];
    char token[KS_TOKEN_LEN + 1];
} cred;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: verify_inproc DB CREDS [CALLS]\n");
        return 2;
    }
    long calls = argc > 3 ? strtol(argv[3], NULL, 10) : 2000000;
    if (sodium_init() < 0 || calls < 1)
        return 1;
    char err[512], path[4096];
    ks_secret secret;
    snprintf(path, sizeof path, "%s.secret", argv[1]);
    if (ks_secret_load(path, 0, &secret, err, sizeof err) != KS_OK) {
        fprintf(stderr, "verify_inproc: %s\n", err);
        return 1;
    }
    FILE *f = fopen(argv[2], "r");
    size_t n = 0, cap = 1024;
    cred *creds = malloc(cap * sizeof *creds);
    while (f && creds && fscanf(f, "%55s %54s", creds[n].key, creds[n].token) == 2)
        if (++n == cap && !(creds = realloc(creds, (cap *= 2) * sizeof *creds)))
            return 1;
    if (f)
        fclose(f);
    if (n == 0) {
        fprintf(stderr, "verify_inproc: no credentials in %s\n", argv[2]);
        return 1;
    }
    ks_store *store = ks_store_open(argv[1], err, sizeof err);
    if (!store) {
        fprintf(stderr, "verify_inproc: %s\n", err);
        return 1;
    }
    long rss0 = rss_kb();
    double t0 = now_s();
    ks_service svc;
    if (ks_service_init(&svc, store, &secret, 1) != KS_OK) {
        fprintf(stderr, "verify_inproc: cannot load the index\n");
        return 1;
    }
    double load_s = now_s() - t0;
    long rss1 = rss_kb();
    size_t total, active;
    ks_index_count(svc.index, &total, &active);

    double *t_verify = malloc((size_t)calls * sizeof *t_verify);
    double *t_hash = malloc((size_t)calls * sizeof *t_hash);
    long firsts = calls < (long)n ? calls : (long)n;
    double *t_first = malloc((size_t)firsts * sizeof *t_first);
    if (!t_verify || !t_hash || !t_first)
        return 1;
    long ok = 0;
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms caches and branch predictors */
        for (long i = 0; i < calls; i++) {
            /* A request's credential is in cache (just read from the socket):
             * copy it out of the big sample array before the clock starts. */
            cred c_local = creds[(size_t)i % n];
            const cred *c = &c_local;
            ks_verify_request req = {c->key, c->token, KS_TOKEN_LEN, NULL, NULL, NULL, NULL, 0, 0};
            struct timespec a, b, d;
            clock_gettime(CLOCK_MONOTONIC, &a);
            if (ks_index_read_lock(svc.index) != 0)
                return 1;
            ks_verify_found found;
            ks_verify_token_in(svc.index, &svc.token_hasher, &req, 1, &found);
            ks_verify_reason reason = found.reason;
            ks_index_read_unlock(svc.index);
            clock_gettime(CLOCK_MONOTONIC, &b);
            ks_digest digest;
            ks_token_hash(&svc.secret, req.token, req.token_len, &digest);
            clock_gettime(CLOCK_MONOTONIC, &d);
            if (pass == 0 && i < firsts)
                t_first[i] = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
            if (pass == 1) {
                ok += reason == KS_VERIFY_OK;
                t_verify[i] = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
                t_hash[i] = (double)(d.tv_sec - b.tv_sec) * 1e9 + (double)(d.tv_nsec - b.tv_nsec);
            }
        }
    }
    qsort(t_verify, (size_t)calls, sizeof *t_verify, compare_double);
    qsort(t_hash, (size_t)calls, sizeof *t_hash, compare_double);
    qsort(t_first, (size_t)firsts, sizeof *t_first, compare_double);
    printf("{\"keys\":%zu,\"load_s\":%.3f,\"load_rss_kb\":%ld,\"calls\":%ld,\"ok\":%ld,"
           "\"verify_median_ns\":%.0f,\"verify_p99_ns\":%.0f,\"first_median_ns\":%.0f,\"first_p99_ns\":%.0f,"
           "\"hash_median_ns\":%.0f,\"hash_p99_ns\":%.0f}\n",
           total, load_s, rss1 - rss0, calls, ok, t_verify[calls / 2], t_verify[calls * 99 / 100],
           t_first[firsts / 2], t_first[firsts * 99 / 100], t_hash[calls / 2], t_hash[calls * 99 / 100]);
    free(t_verify);
    free(t_hash);
    free(t_first);
    free(creds);
    ks_service_close(&svc);
    store->ops->close(store);
    return ok == calls ? 0 : 1;
}
