/*
 * sqlite_changes.c - the change feed of the SQLite backend: there is none.
 * One process owns a SQLite file and updates its own index after each write,
 * so no other node needs to hear about it: the head is 0, there are never
 * changes, and waiting only waits (for wake_fd or the timeout).
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <errno.h>
#include <poll.h>

int sq_changes_head(ks_store *base, int64_t *seq)
{
    (void)base;
    *seq = 0;
    return KS_OK;
}

int sq_changes_since(ks_store *base, int64_t after, ks_change *out, size_t max, size_t *n)
{
    (void)base, (void)after, (void)out, (void)max;
    *n = 0;
    return KS_OK;
}

int sq_changes_wait(ks_store *base, int timeout_ms, int wake_fd)
{
    (void)base;
    struct pollfd p = {.fd = wake_fd, .events = POLLIN};
    while (poll(&p, wake_fd >= 0 ? 1 : 0, timeout_ms) < 0 && errno == EINTR)
        ;
    return KS_OK;
}

int sq_changes_compact(ks_store *base)
{
    (void)base;
    return KS_OK;
}
