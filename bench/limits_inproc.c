/*
 * limits_inproc.c - what per-key limits and usage counting cost on the
 * verify path, in process (the core, the index and the usage counters; no
 * HTTP, no store), each pair measured in the same run:
 *
 *   limits_inproc [KEYS] [CALLS] [BIG_KEYS] [plain|limited|off|on]
 *
 * With a last argument, only that side runs, once (for instruction counts:
 * valgrind --tool=callgrind --toggle-collect=rate, one run per side).
 *
 * - verify of keys with a 3-range allowed_cidrs list and a rate limit that
 *   is not hit, against the same keys without limits (ratio of calls per
 *   second; target >= 0.95); every call of every run reads the monotonic
 *   clock once and hands it to verify, as the HTTP handler does (it reads
 *   the clock for each request's latency; the bucket takes that reading);
 * - verify plus usage counting (ks_usage_count_verify, inside verify's read
 *   section, as api_verify.c does it)
 *   against verify alone (target >= 0.97);
 * - BIG_KEYS keys (default 1,000,000) with limits put into a fresh index:
 *   resident memory per key and the time the puts took (the index part of a
 *   load; targets <= 340 bytes per key, <= 3 s); then as many keys without
 *   limits, for comparison (issue 5's budget is 300 bytes per key for the
 *   whole server, bench/run.py), and the time a usage flush spends walking
 *   those entries for their counts of valid verifies.
 *
 * Prints one line per row with the figures and the ratio.
 */
#include "core/error.h"
#include "core/secret.h"
#include "index/key_index.h"
#include "service/service.h"
#include "core/clock.h"
#include "service/usage.h"
#include "verify/verify.h"

#include <malloc.h>
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

typedef struct {
    char key[KS_KEY_ID_MAX + 1];
    char token[KS_TOKEN_LEN + 1];
} cred;

static const char *const RANGES[] = {"10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"};

static ks_netaddr client; /* 192.0.2.77: in the second range */

/* What the server's callback does: copy the peer's address (read from the
 * connection, not parsed). */
static void client_in_range(void *ctx, ks_netaddr *out)
{
    (void)ctx;
    *out = client;
}

/* ks_index_collect_uses's callback: counts what it is given. */
static void count_found(void *ctx, const char *key_id, size_t key_len, int64_t minute, uint32_t count)
{
    (void)key_id;
    (void)key_len;
    (void)minute;
    *(unsigned long *)ctx += count;
}

static double put_seconds; /* time spent in ks_index_put_key by index_of */

/* n keys of account acme, with or without limits; their credentials in c. */
static ks_index *index_of(const ks_secret *secret, size_t n, int limited, cred *c)
{
    ks_index *idx = ks_index_new();
    ks_settings st = KS_SETTINGS_DEFAULT;
    ks_role owner = {(char *)"Owner", {0}, 1};
    ks_strlist_add(&owner.resources, "view-api-keys");
    if (!idx || ks_index_put_account(idx, "acme", &st, &owner, 1) != KS_OK)
        exit(1);
    ks_strlist_free(&owner.resources);
    for (size_t i = 0; i < n; i++) {
        ks_key k = {0};
        snprintf(k.account, sizeof k.account, "acme");
        if (ks_key_id_generate("acme", k.key_id) != KS_OK)
            exit(1);
        k.name = (char *)"bench";
        k.active = KS_KEY_ACTIVE;
        k.created_at = 1767225600;
        char token[KS_TOKEN_LEN + 1];
        ks_token_generate(token);
        k.slots.current.present = 1;
        k.slots.current.created_at = k.created_at;
        ks_token_hash(secret, token, KS_TOKEN_LEN, &k.slots.current.hash);
        char *roles[] = {(char *)"Owner"};
        k.roles.items = roles;
        k.roles.count = 1;
        char *ranges[] = {(char *)RANGES[0], (char *)RANGES[1], (char *)RANGES[2]};
        if (limited) {
            k.allowed_cidrs.items = ranges;
            k.allowed_cidrs.count = 3;
            k.rate_limit = (ks_rate_limit){1000000000, 1};
        }
        double t0 = now_s();
        if (ks_index_put_key(idx, &k) != KS_OK)
            exit(1);
        put_seconds += now_s() - t0;
        if (c) {
            memcpy(c[i].key, k.key_id, sizeof c[i].key);
            memcpy(c[i].token, token, sizeof c[i].token);
        }
    }
    return idx;
}

/* Calls per second of verify over c (round robin), with usage counting into svc when count. */
static double rate(ks_index *idx, const ks_token_hasher *hasher, const cred *c, size_t n, long calls, ks_service *svc)
{
    double t0 = now_s();
    long ok = 0;
    for (long i = 0; i < calls; i++) {
        const cred *x = &c[(size_t)i % n];
        /* the clock read the HTTP handler makes for every request (its
         * latency), handed to verify for the bucket as api_verify.c does */
        ks_verify_request req = {x->key, x->token, KS_TOKEN_LEN, NULL, "view-api-keys", client_in_range, NULL,
                                 (int64_t)(ks_clock_monotonic() * 1e9), 0};
        ks_verify_found found;
        if (ks_index_read_lock(idx) != 0)
            exit(1);
        ks_verify_token_in(idx, hasher, &req, 1767225600, &found);
        if (svc && found.key)
            ks_usage_count_verify(svc, found.key, ks_usage_outcome_of(found.reason), 1767225600 + i / 100000);
        ks_index_read_unlock(idx);
        ok += found.reason == KS_VERIFY_OK;
    }
    double took = now_s() - t0;
    if (ok != calls) {
        fprintf(stderr, "limits_inproc: %ld of %ld verifies failed\n", calls - ok, calls);
        exit(1);
    }
    return (double)calls / took;
}

int main(int argc, char **argv)
{
    size_t keys = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 2000000;
    size_t big = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
    if (sodium_init() < 0 || keys == 0 || calls <= 0)
        return 1;
    ks_secret secret;
    randombytes_buf(secret.bytes, sizeof secret.bytes);
    ks_netaddr_parse("192.0.2.77", 10, &client);
    cred *plain_c = calloc(keys, sizeof *plain_c), *limited_c = calloc(keys, sizeof *limited_c);
    if (!plain_c || !limited_c)
        return 1;
    ks_index *plain = index_of(&secret, keys, 0, plain_c);
    ks_index *limited = index_of(&secret, keys, 1, limited_c);
    ks_token_hasher hasher;
    ks_token_hasher_init(&hasher, &secret);
    /* alternate the runs so drift hits both alike; best of three each */
    double best_plain = 0, best_limited = 0, best_off = 0, best_on = 0;
    ks_service svc;
    memset(&svc, 0, sizeof svc);
    if (ks_usage_init(&svc) != KS_OK)
        return 1;
    const char *only = argc > 4 ? argv[4] : NULL;
    if (only) {
        if (strcmp(only, "plain") == 0 || strcmp(only, "off") == 0)
            rate(plain, &hasher, plain_c, keys, calls, NULL);
        else if (strcmp(only, "limited") == 0)
            rate(limited, &hasher, limited_c, keys, calls, NULL);
        else
            rate(plain, &hasher, plain_c, keys, calls, &svc);
        ks_usage_free(&svc);
        ks_index_free(plain);
        ks_index_free(limited);
        free(plain_c);
        free(limited_c);
        return 0;
    }
    for (int round = 0; round < 3; round++) {
        double p = rate(plain, &hasher, plain_c, keys, calls, NULL);
        double l = rate(limited, &hasher, limited_c, keys, calls, NULL);
        double off = rate(plain, &hasher, plain_c, keys, calls, NULL);
        double on = rate(plain, &hasher, plain_c, keys, calls, &svc);
        best_plain = p > best_plain ? p : best_plain;
        best_limited = l > best_limited ? l : best_limited;
        best_off = off > best_off ? off : best_off;
        best_on = on > best_on ? on : best_on;
    }
    printf("verify, 3 ranges + unhit rate limit vs no limits: %.0f vs %.0f calls/s, ratio %.3f (target >= 0.95)\n",
           best_limited, best_plain, best_limited / best_plain);
    printf("verify, usage counting on vs off: %.0f vs %.0f calls/s, ratio %.3f (target >= 0.97)\n", best_on,
           best_off, best_on / best_off);
    ks_usage_free(&svc);
    ks_index_free(plain);
    ks_index_free(limited);
    free(plain_c);
    free(limited_c);
    if (big > 0) {
        malloc_trim(0);
        long before = rss_kb();
        put_seconds = 0;
        ks_index *idx = index_of(&secret, big, 1, NULL);
        double took = put_seconds;
        long after = rss_kb();
        printf("%zu keys with limits: %.0f bytes per key (RSS), index puts %.2f s (targets <= 340 B, <= 3 s)\n",
               big, (double)(after - before) * 1024.0 / (double)big, took);
        ks_index_free(idx);
        malloc_trim(0); /* give the pages back, so the next RSS growth is the new index's */
        before = rss_kb();
        put_seconds = 0;
        idx = index_of(&secret, big, 0, NULL);
        took = put_seconds;
        after = rss_kb();
        printf("%zu keys without limits: %.0f bytes per key (RSS), index puts %.2f s\n", big,
               (double)(after - before) * 1024.0 / (double)big, took);
        /* what every usage flush adds: a walk over the entries for their
         * valid-verify counts (index/use_count.c) */
        unsigned long found = 0;
        double t0 = now_s();
        ks_index_collect_uses(idx, count_found, &found);
        printf("%zu keys: a usage flush's walk over the entries' counts took %.1f ms\n", big,
               (now_s() - t0) * 1000.0);
        ks_index_free(idx);
    }
    return 0;
}
