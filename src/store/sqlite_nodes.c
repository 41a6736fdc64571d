/*
 * sqlite_nodes.c - node heartbeats of the SQLite backend (store.h
 * node_heartbeat). One process owns a SQLite file, so there is one live
 * node; the table is kept all the same, the shape of PostgreSQL's.
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

struct beat_args {
    const char *node_id;
    int64_t now, live_since, prune_before;
    int *live;
};

static int beat_in_tx(sq_store *s, void *arg)
{
    const struct beat_args *a = arg;
    int rc = KS_OK;
    if (a->node_id && *a->node_id) {
        sqlite3_stmt *st = sq_stmt(s, a->now ? Q_NODE_BEAT : Q_NODE_LEAVE);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, a->node_id, -1, SQLITE_STATIC);
        if (a->now)
            sqlite3_bind_int64(st, 2, a->now);
        if ((rc = sq_exec_stmt(st)) != KS_OK)
            return rc;
    }
    sqlite3_stmt *st = sq_stmt(s, Q_NODE_PRUNE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a->prune_before);
    if ((rc = sq_exec_stmt(st)) != KS_OK)
        return rc;
    if (!(st = sq_stmt(s, Q_NODE_COUNT)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a->live_since);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *a->live = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : sq_error(step);
}

int sq_node_heartbeat(ks_store *base, const char *node_id, int64_t now, int64_t live_since, int64_t prune_before,
                      int *live)
{
    *live = 0;
    struct beat_args a = {node_id, now, live_since, prune_before, live};
    return sq_write_tx((sq_store *)base, beat_in_tx, &a);
}
