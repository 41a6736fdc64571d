/* fail_throttle.c - failed attempts per address, lock-free (see fail_throttle.h). */
#include "core/fail_throttle.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* An entry: tag (20 bits, 0 = empty) | minute (12 bits, mod 4096) |
 * previous minute's count (16) | current minute's count (16). */
#define TAG_SHIFT 44
#define MIN_SHIFT 32
#define PREV_SHIFT 16
#define COUNT_MAX 0xffffu

struct ks_fail_throttle {
    unsigned limit;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    _Alignas(64) _Atomic uint64_t entries[KS_THROTTLE_BUCKETS * KS_THROTTLE_WAYS];
};

typedef struct {
    unsigned tag, minute, prev, cur;
} entry;

static entry unpack(uint64_t w)
{
    return (entry){(unsigned)(w >> TAG_SHIFT), (unsigned)(w >> MIN_SHIFT) & 0xfff,
                   (unsigned)(w >> PREV_SHIFT) & 0xffff, (unsigned)w & 0xffff};
}

static uint64_t pack(entry e)
{
    return (uint64_t)e.tag << TAG_SHIFT | (uint64_t)e.minute << MIN_SHIFT | (uint64_t)e.prev << PREV_SHIFT | e.cur;
}

/* e moved to minute `minute`: a minute on, the current count becomes the
 * previous one; two or more on (or a clock far away), both are gone. */
static entry advance(entry e, unsigned minute)
{
    unsigned d = (minute - e.minute) & 0xfff;
    if (d == 1) {
        e.prev = e.cur;
        e.cur = 0;
    } else if (d != 0) {
        e.prev = e.cur = 0;
    }
    e.minute = minute;
    return e;
}

/* The sliding estimate, ms_in milliseconds into the current minute. */
static double estimate(entry e, int64_t ms_in)
{
    return e.prev * (double)(60000 - ms_in) / 60000.0 + e.cur;
}

ks_fail_throttle *ks_fail_throttle_new(unsigned limit)
{
    ks_fail_throttle *t = aligned_alloc(64, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->limit = limit < 1 ? 1 : limit > COUNT_MAX ? COUNT_MAX : limit;
    crypto_shorthash_keygen(t->hash_key);
    return t;
}

void ks_fail_throttle_free(ks_fail_throttle *t)
{
    free(t);
}

static void locate(const ks_fail_throttle *t, uint64_t key, size_t *bucket, unsigned *tag)
{
    unsigned char in[8], out[crypto_shorthash_BYTES];
    memcpy(in, &key, sizeof in);
    crypto_shorthash(out, in, sizeof in, t->hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    *bucket = (size_t)(h % KS_THROTTLE_BUCKETS) * KS_THROTTLE_WAYS;
    *tag = (unsigned)(h >> TAG_SHIFT) & 0xfffff;
    if (*tag == 0)
        *tag = 1;
}

/* The way of the bucket to use for tag: its own, else an empty one, else
 * one not used for two minutes, else the one with the fewest failures. */
static size_t choose_way(ks_fail_throttle *t, size_t bucket, unsigned tag, unsigned minute, int64_t ms_in,
                         int *own)
{
    size_t victim = bucket;
    double fewest = 1e300;
    *own = 0;
    for (size_t i = bucket; i < bucket + KS_THROTTLE_WAYS; i++) {
        entry e = unpack(atomic_load_explicit(&t->entries[i], memory_order_relaxed));
        if (e.tag == tag) {
            *own = 1;
            return i;
        }
        double n = e.tag == 0 ? -1.0 : estimate(advance(e, minute), ms_in); /* stale: 0 */
        if (n < fewest) {
            fewest = n;
            victim = i;
        }
    }
    return victim;
}

/* Seconds until one more failure of e would be within limit again, if
 * nothing fails meanwhile: the estimate must fall to limit - 1. */
static int wait_seconds(entry e, int64_t ms_in, unsigned limit)
{
    double room = (double)limit - 1.0, ms;
    if (e.cur > room) /* into the next minute, where cur weighs as prev */
        ms = (double)(60000 - ms_in) + 60000.0 * (1.0 - room / e.cur);
    else if (e.prev > 0)
        ms = 60000.0 * (1.0 - (room - e.cur) / e.prev) - (double)ms_in;
    else
        ms = 0;
    int s = (int)(ms / 1000.0) + 1;
    return s < 1 ? 1 : s > 120 ? 120 : s;
}

int ks_fail_throttle_record(ks_fail_throttle *t, uint64_t key, int64_t now_ms)
{
    if (!t || key == 0 || now_ms < 0)
        return 0;
    size_t bucket;
    unsigned tag;
    locate(t, key, &bucket, &tag);
    unsigned minute = (unsigned)(now_ms / 60000) & 0xfff;
    int64_t ms_in = now_ms % 60000;
    for (int attempt = 0; attempt < 16; attempt++) {
        int own;
        size_t i = choose_way(t, bucket, tag, minute, ms_in, &own);
        uint64_t old = atomic_load_explicit(&t->entries[i], memory_order_relaxed);
        entry e = unpack(old);
        if (own && e.tag != tag)
            continue; /* taken meanwhile: look again */
        if (e.tag != tag)
            e = (entry){tag, minute, 0, 0};
        else
            e = advance(e, minute);
        if (e.cur < COUNT_MAX)
            e.cur++;
        if (atomic_compare_exchange_weak_explicit(&t->entries[i], &old, pack(e), memory_order_relaxed,
                                                  memory_order_relaxed))
            return estimate(e, ms_in) > t->limit ? wait_seconds(e, ms_in, t->limit) : 0;
    }
    return 0; /* heavy contention on one bucket: let this one through */
}

unsigned ks_fail_throttle_count(ks_fail_throttle *t, uint64_t key, int64_t now_ms)
{
    if (!t || key == 0 || now_ms < 0)
        return 0;
    size_t bucket;
    unsigned tag;
    locate(t, key, &bucket, &tag);
    for (size_t i = bucket; i < bucket + KS_THROTTLE_WAYS; i++) {
        entry e = unpack(atomic_load_explicit(&t->entries[i], memory_order_relaxed));
        if (e.tag == tag)
            return (unsigned)(estimate(advance(e, (unsigned)(now_ms / 60000) & 0xfff), now_ms % 60000) + 0.5);
    }
    return 0;
}
