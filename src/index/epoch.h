/*
 * epoch.h - epoch-based reclamation: readers that never wait, writers that
 * free memory only once no reader can still hold it.
 *
 * A reader brackets its use of shared pointers with ks_epoch_enter/leave:
 * one store and one fence on a cache line owned by its thread, no lock, no
 * shared write. A writer unlinks an object (an atomic pointer store), then
 * calls ks_epoch_retire_tag() and keeps the object on a list with that tag;
 * ks_epoch_safe(tag) says, without waiting, when every reader that could have
 * seen it has left. Nothing here allocates on the read side after a thread's
 * first section (its record is made once and reused after the thread exits).
 *
 * Records are process-wide, so one epoch serves every index in the process.
 * Sections may nest. A reader must not block inside a section for long: it
 * only delays reclamation (never a writer, never another reader).
 */
#ifndef KS_INDEX_EPOCH_H
#define KS_INDEX_EPOCH_H

#include <stddef.h>
#include <stdint.h>

/* Enters / leaves a read section of the calling thread. Enter returns -1
 * only when the thread's record cannot be allocated (out of memory); the
 * caller must then not read (and must not call leave). */
int ks_epoch_enter(void);
void ks_epoch_leave(void);

/* Called by a writer after unlinking objects: advances the global epoch and
 * returns the tag to keep with them. */
uint64_t ks_epoch_retire_tag(void);

/* 1 when no reader that entered before the tag was taken is still inside
 * its section, so objects retired with `tag` may be freed. Never waits. */
int ks_epoch_safe(uint64_t tag);

/* ---- the retire list: objects a writer unlinked, freed once safe ----
 * Used by one writer at a time (the caller serialises). Items are kept
 * oldest first; those added since the last flush share that flush's tag. */
typedef struct {
    void *ptr;
    void (*free_fn)(void *);
    uint64_t tag;                       /* 0: retired by the write in progress */
} ks_retired;

typedef struct {
    ks_retired *items;
    size_t n, cap;
} ks_retire_list;

/* Keeps p to free with free_fn once no reader can hold it (p NULL: nothing).
 * Never fails: when the list cannot grow, it waits for the readers and
 * frees p at once. */
void ks_retire_list_add(ks_retire_list *list, void *p, void (*free_fn)(void *));
/* Tags what was added since the last flush, then frees every item no reader
 * can hold, oldest first, calling before_free(ctx, item) (when not NULL)
 * just before each one is freed. Never waits. */
void ks_retire_list_flush(ks_retire_list *list, void (*before_free)(void *ctx, const ks_retired *item), void *ctx);
/* Frees every item at once and the list's memory (teardown: no reader). */
void ks_retire_list_free_all(ks_retire_list *list);

#endif
