/*
 * flush_inproc.c - what the flusher's writes cost the store, in process, on
 * a store seeded by bench/seed, each pair in the same run:
 *
 *   flush_inproc DB [KEYS_USED] [ROUNDS]
 *
 * - last-used times of KEYS_USED (default 70,000) random keys, written as
 *   the flusher writes them (transactions of 4096): as the flusher did
 *   before session 27, in the index's hash order (random for the store),
 *   each row found by key id, against the store's own order, each item
 *   with its key's seq as the index now hands it over (last_used_order
 *   first, its cost counted);
 * - their usage rows of the current hour (one per key, as the flush merges
 *   them), added in random order against key order (the order the flush
 *   sorts them into), after one add that made the rows: later flushes of
 *   an hour update them.
 *
 * Each side runs ROUNDS times (default 2), the sides alternating, with
 * later times each round so every row is written. Prints CPU per key (user
 * + system, getrusage: the system part is the WAL writes and checkpoints)
 * and what was written (/proc/self/io wchar), and the ratios (random over
 * ordered, summed over the rounds), then the same per flush as one JSON
 * line for bench/run.py. It writes to DB: use a copy, or a store whose
 * other measurements are done (run.py runs it last).
 */
#include "core/error.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SLICE 4096 /* rows per transaction, as the flusher (service/flusher.c) */

typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    ks_digest hash;
    int64_t seq;      /* the key's store seq, as the index entry holds it */
} used_key;

typedef struct {
    used_key *keys;
    size_t n, cap;
} key_list;

typedef struct {
    double cpu_s;     /* user + system */
    double sys_s;
    long long written; /* bytes */
} cost;

static int on_key(void *ctx, const ks_key *k)
{
    key_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        used_key *grown = realloc(l->keys, cap * sizeof *grown);
        if (!grown)
            return KS_ERR_NOMEM;
        l->keys = grown;
        l->cap = cap;
    }
    used_key *u = &l->keys[l->n++];
    snprintf(u->key_id, sizeof u->key_id, "%s", k->key_id);
    snprintf(u->account, sizeof u->account, "%s", k->account);
    u->hash = k->slots.current.hash;
    u->seq = k->seq;
    return 0;
}

static long long written_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static cost cost_now(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    double sys = (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
    cost c = {(double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + sys, sys, written_bytes()};
    return c;
}

static void cost_add_since(cost *sum, cost before)
{
    cost after = cost_now();
    sum->cpu_s += after.cpu_s - before.cpu_s;
    sum->sys_s += after.sys_s - before.sys_s;
    sum->written += after.written - before.written;
}

/* A uniformly random permutation of a (Fisher-Yates, rand() seeded once). */
static void shuffle(void *a, size_t n, size_t size)
{
    char tmp[sizeof(ks_usage_row) > sizeof(ks_last_used) ? sizeof(ks_usage_row) : sizeof(ks_last_used)];
    char *p = a;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rand() % i;
        memcpy(tmp, p + (i - 1) * size, size);
        memcpy(p + (i - 1) * size, p + j * size, size);
        memcpy(p + j * size, tmp, size);
    }
}

static int by_key_then_hour(const void *a, const void *b)
{
    const ks_usage_row *x = a, *y = b;
    int c = strcmp(x->key_id, y->key_id);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* One flush of the last-used times of keys (n), at `at`: ordered by the
 * store first, or as they are. KS_OK or the store's error. */
static int last_used_once(ks_store *s, const used_key *keys, size_t n, int64_t at, int ordered, cost *sum)
{
    ks_last_used *items = calloc(n, sizeof *items);
    if (!items)
        return KS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(items[i].key_id, keys[i].key_id, sizeof items[i].key_id);
        items[i].hash = keys[i].hash;
        items[i].last_used_at = at;
        items[i].key_seq = ordered ? keys[i].seq : 0; /* the index's; 0: found by key id */
    }
    cost before = cost_now();
    int rc = ordered ? s->ops->last_used_order(s, items, n) : KS_OK;
    for (size_t done = 0; rc == KS_OK && done < n; done += SLICE)
        rc = s->ops->last_used_flush(s, items + done, n - done < SLICE ? n - done : SLICE);
    cost_add_since(sum, before);
    free(items);
    return rc;
}

/* One usage write of one row per key in the hour of `at`: in key order, or
 * shuffled. */
static int usage_once(ks_store *s, const used_key *keys, size_t n, int64_t at, int ordered, cost *sum)
{
    ks_usage_row *rows = calloc(n, sizeof *rows);
    if (!rows)
        return KS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(rows[i].key_id, keys[i].key_id, sizeof rows[i].key_id);
        memcpy(rows[i].account, keys[i].account, sizeof rows[i].account);
        rows[i].at = at;
        rows[i].counts[KS_USAGE_VALID] = 94; /* about a minute of the bench's load per key */
    }
    if (ordered)
        qsort(rows, n, sizeof *rows, by_key_then_hour);
    else
        shuffle(rows, n, sizeof *rows);
    cost before = cost_now();
    int rc = s->ops->usage_add(s, rows, n);
    cost_add_since(sum, before);
    free(rows);
    return rc;
}

static void print_pair(const char *what, const char *random_name, const char *ordered_name, const cost *c,
                       size_t per_round, int rounds)
{
    double keys = (double)per_round * rounds;
    printf("%s, %zu keys x %d rounds: %s %.2f us CPU per key (%.2f system), %.0f MB written; "
           "%s %.2f us (%.2f system), %.0f MB; ratio %.2f x CPU, %.2f x written\n",
           what, per_round, rounds, random_name, c[0].cpu_s * 1e6 / keys, c[0].sys_s * 1e6 / keys,
           (double)c[0].written / 1e6, ordered_name, c[1].cpu_s * 1e6 / keys, c[1].sys_s * 1e6 / keys,
           (double)c[1].written / 1e6, c[0].cpu_s / c[1].cpu_s, (double)c[0].written / (double)c[1].written);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: flush_inproc DB [KEYS_USED] [ROUNDS]\n"
                        "  DB: a store seeded by bench/seed (it is written to)\n");
        return 2;
    }
    size_t used = argc > 2 ? strtoul(argv[2], NULL, 10) : 70000;
    int rounds = argc > 3 ? atoi(argv[3]) : 2;
    if (used == 0 || rounds <= 0) {
        fprintf(stderr, "flush_inproc: KEYS_USED and ROUNDS must be positive\n");
        return 2;
    }
    char err[256];
    ks_store *s = ks_store_open(argv[1], err, sizeof err);
    if (!s) {
        fprintf(stderr, "flush_inproc: %s\n", err);
        return 1;
    }
    key_list all = {0};
    ks_store_loader loader = {.ctx = &all, .on_key = on_key};
    int rc = s->ops->load_all(s, &loader);
    if (rc != KS_OK || all.n < used) {
        fprintf(stderr, "flush_inproc: %zu keys loaded (rc %d), %zu wanted\n", all.n, rc, used);
        s->ops->close(s);
        free(all.keys);
        return 1;
    }
    srand(20261205);
    shuffle(all.keys, all.n, sizeof *all.keys); /* the first `used` are a random sample */
    int64_t now = (int64_t)time(NULL);
    cost last_used[2] = {{0}}, usage[2] = {{0}}, first = {0};
    int64_t at = now; /* later for each flush: every time is written */
    rc = usage_once(s, all.keys, used, now, 1, &first); /* makes the hour's rows */
    for (int r = 0; rc == KS_OK && r < rounds; r++)
        for (int ordered = 0; rc == KS_OK && ordered < 2; ordered++) {
            int side = r % 2 ? !ordered : ordered; /* alternate which side goes first */
            rc = last_used_once(s, all.keys, used, ++at, side, &last_used[side]);
            if (rc == KS_OK)
                rc = usage_once(s, all.keys, used, now, side, &usage[side]);
        }
    if (rc != KS_OK) {
        fprintf(stderr, "flush_inproc: a write failed (rc %d)\n", rc);
    } else {
        print_pair("last-used flush", "index order", "store order", last_used, used, rounds);
        print_pair("usage write (an hour's rows there)", "random order", "key order", usage, used, rounds);
        printf("usage write making the hour's rows, key order: %.2f us CPU per key, %.0f MB written\n",
               first.cpu_s * 1e6 / (double)used, (double)first.written / 1e6);
        double keys = (double)used * rounds;
        printf("{\"keys_used\":%zu,\"rounds\":%d,"
               "\"last_used_index_us\":%.3f,\"last_used_index_mb\":%.1f,"
               "\"last_used_store_us\":%.3f,\"last_used_store_mb\":%.1f,"
               "\"usage_random_us\":%.3f,\"usage_random_mb\":%.1f,"
               "\"usage_key_us\":%.3f,\"usage_key_mb\":%.1f}\n",
               used, rounds, last_used[0].cpu_s * 1e6 / keys, (double)last_used[0].written / rounds / 1e6,
               last_used[1].cpu_s * 1e6 / keys, (double)last_used[1].written / rounds / 1e6,
               usage[0].cpu_s * 1e6 / keys, (double)usage[0].written / rounds / 1e6,
               usage[1].cpu_s * 1e6 / keys, (double)usage[1].written / rounds / 1e6);
    }
    s->ops->close(s);
    free(all.keys);
    return rc == KS_OK ? 0 : 1;
}
