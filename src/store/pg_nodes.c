/*
 * pg_nodes.c - node heartbeats of the PostgreSQL backend (store.h
 * node_heartbeat): every node of a cluster writes its row every few
 * seconds; the count of recent rows divides per-key rate limits.
 */
#include "store/pg_internal.h"
#include "core/error.h"

struct beat_args {
    const char *node_id;
    int64_t now, live_since, prune_before;
    int *live;
};

static int beat_in_tx(pg_store *s, void *arg)
{
    const struct beat_args *a = arg;
    int rc = KS_OK;
    if (a->node_id && *a->node_id) {
        pg_params p = {0};
        pg_text(&p, a->node_id);
        if (a->now)
            pg_int(&p, a->now);
        if ((rc = pg_run(s, a->now ? P_NODE_BEAT : P_NODE_LEAVE, &p)) != KS_OK)
            return rc;
    }
    pg_params prune = {0};
    pg_int(&prune, a->prune_before);
    if ((rc = pg_run(s, P_NODE_PRUNE, &prune)) != KS_OK)
        return rc;
    pg_params count = {0};
    pg_int(&count, a->live_since);
    PGresult *r = pg_exec(s, P_NODE_COUNT, &count, &rc);
    if (!r)
        return rc;
    *a->live = PQntuples(r) == 1 ? (int)pg_get_int(r, 0, 0) : 0;
    PQclear(r);
    return KS_OK;
}

int pg_node_heartbeat(ks_store *base, const char *node_id, int64_t now, int64_t live_since, int64_t prune_before,
                      int *live)
{
    *live = 0;
    struct beat_args a = {node_id, now, live_since, prune_before, live};
    return pg_write_tx((pg_store *)base, beat_in_tx, &a);
}
