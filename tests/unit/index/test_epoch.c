/*
 * test_epoch.c - epoch-based reclamation (src/index/epoch.c) and the index's
 * retire list on top of it (key_index.c):
 *  - read sections nest: the thread stays a reader until its outermost leave;
 *  - a tag taken while another thread reads is not safe until that reader
 *    leaves, and a reader that entered after the tag does not hold it back;
 *  - memory retired by the index is freed only after the readers that could
 *    hold it leave (checked with a counting free function), and an entry
 *    removed while a reader holds it stays readable until it leaves.
 */
#include "unit.h"
#include "core/error.h"
#include "index/epoch.h"
#include "index/index_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

/* ---------------------------------------------- a reader on another thread */

typedef struct {
    ks_index *idx;              /* NULL: a bare epoch section */
    atomic_int inside;          /* 1 once it entered */
    atomic_int may_leave;       /* set by the test */
    pthread_t thread;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    int rc = r->idx ? ks_index_read_lock(r->idx) : ks_epoch_enter();
    if (rc != 0)
        return NULL;
    atomic_store(&r->inside, 1);
    while (!atomic_load(&r->may_leave))
        sched_yield();
    if (r->idx)
        ks_index_read_unlock(r->idx);
    else
        ks_epoch_leave();
    return NULL;
}

static void reader_start(reader *r, ks_index *idx)
{
    r->idx = idx;
    atomic_init(&r->inside, 0);
    atomic_init(&r->may_leave, 0);
    ASSERT_EQ_INT(pthread_create(&r->thread, NULL, reader_main, r), 0);
    while (!atomic_load(&r->inside))
        sched_yield();
}

static void reader_stop(reader *r)
{
    atomic_store(&r->may_leave, 1);
    pthread_join(r->thread, NULL);
}

/* ------------------------------------------------------------------ tests */

static void test_sections_nest(void)
{
    ASSERT_EQ_INT(ks_epoch_enter(), 0);
    ASSERT_EQ_INT(ks_epoch_enter(), 0);
    uint64_t tag = ks_epoch_retire_tag();
    ASSERT_EQ_INT(ks_epoch_safe(tag), 0);
    ks_epoch_leave(); /* inner leave: still inside the outer section */
    ASSERT_EQ_INT(ks_epoch_safe(tag), 0);
    ks_epoch_leave();
    ASSERT_EQ_INT(ks_epoch_safe(tag), 1);
    /* a later section announces a newer epoch: the old tag stays safe */
    ASSERT_EQ_INT(ks_epoch_enter(), 0);
    ASSERT_EQ_INT(ks_epoch_safe(tag), 1);
    ASSERT_EQ_INT(ks_epoch_safe(ks_epoch_retire_tag()), 0);
    ks_epoch_leave();
}

static void test_tags_wait_for_readers(void)
{
    uint64_t before = ks_epoch_retire_tag();
    ASSERT_EQ_INT(ks_epoch_safe(before), 1); /* nobody reads */
    reader early;
    reader_start(&early, NULL);
    uint64_t tag = ks_epoch_retire_tag();
    ASSERT(tag > before);
    reader late; /* entered after the tag: cannot hold what it covers */
    reader_start(&late, NULL);
    int safe_with_early = ks_epoch_safe(tag);
    reader_stop(&early);
    int safe_with_late = ks_epoch_safe(tag);
    uint64_t newer = ks_epoch_retire_tag();
    int newer_with_late = ks_epoch_safe(newer);
    reader_stop(&late);
    ASSERT_EQ_INT(safe_with_early, 0);
    ASSERT_EQ_INT(safe_with_late, 1);
    ASSERT_EQ_INT(newer_with_late, 0);
    ASSERT_EQ_INT(ks_epoch_safe(newer), 1);
}

static void *freed_ptr;
static int freed_count;
static void counting_free(void *p)
{
    freed_ptr = p;
    freed_count++;
    free(p);
}

/* Runs the index's retire pass (collecting last-used times runs it). */
static void retire_pass(ks_index *idx)
{
    ks_last_used *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, KS_LAST_USED_ALL, &items, &n), KS_OK);
    free(items);
}

static void test_index_frees_after_readers_leave(void)
{
    ks_index *idx = ks_index_new();
    ASSERT(idx);
    freed_ptr = NULL;
    freed_count = 0;
    void *p = malloc(64);
    ASSERT(p);
    reader r;
    reader_start(&r, idx);
    ks_index_retire_(idx, p, counting_free);
    retire_pass(idx);
    retire_pass(idx);
    int while_reading = freed_count;
    reader_stop(&r);
    retire_pass(idx);
    int after = freed_count;
    void *which = freed_ptr;
    /* with no reader, retired memory goes at the next pass */
    void *q = malloc(64);
    ks_index_retire_(idx, q, counting_free);
    retire_pass(idx);
    int at_once = freed_count;
    ks_index_free(idx);
    ASSERT_EQ_INT(while_reading, 0);
    ASSERT_EQ_INT(after, 1);
    ASSERT(which == p);
    ASSERT_EQ_INT(at_once, 2);
    ASSERT(freed_ptr == q);
}

/* An entry removed while this thread reads stays readable until it leaves
 * (ASan reports a use after free otherwise). */
static void test_removed_entry_readable_in_section(void)
{
    ks_index *idx = ks_index_new();
    ASSERT(idx);
    ks_settings s = KS_SETTINGS_DEFAULT;
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &s, NULL, 0), KS_OK);
    ks_key k = {0};
    snprintf(k.key_id, sizeof k.key_id, "%s", "kst-acme-aaaaaaaaaa");
    snprintf(k.account, sizeof k.account, "%s", "acme");
    k.active = KS_KEY_ACTIVE;
    k.slots.current.present = 1;
    k.slots.current.created_at = 1000;
    memset(k.slots.current.hash.bytes, 7, sizeof k.slots.current.hash.bytes);
    ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);

    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0); /* nested */
    const ks_index_key *e = ks_index_find_key(idx, k.key_id, strlen(k.key_id));
    ks_index_read_unlock(idx);
    ks_index_remove_key(idx, k.key_id);
    retire_pass(idx);
    const ks_index_key *gone = ks_index_find_key(idx, k.key_id, strlen(k.key_id));
    char seen[KS_KEY_ID_MAX + 1] = "";
    if (e)
        memcpy(seen, e->key_id, sizeof seen);
    unsigned char hash0 = e ? e->slots[KS_SLOT_CURRENT].hash.bytes[0] : 0;
    ks_index_read_unlock(idx);
    retire_pass(idx);
    size_t total = 99, active = 99;
    ks_index_count(idx, &total, &active);
    ks_index_free(idx);
    ASSERT(e);
    ASSERT(!gone);
    ASSERT_EQ_STR(seen, "kst-acme-aaaaaaaaaa");
    ASSERT_EQ_INT(hash0, 7);
    ASSERT_EQ_INT(total, 0);
    ASSERT_EQ_INT(active, 0);
}

int main(void)
{
    RUN(test_sections_nest);
    RUN(test_tags_wait_for_readers);
    RUN(test_index_frees_after_readers_leave);
    RUN(test_removed_entry_readable_in_section);
    return unit_report("epoch");
}
