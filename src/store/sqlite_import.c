/*
 * sqlite_import.c - writes of the SQLite backend that share one
 * transaction: the bulk key import (store.h key_import: one transaction,
 * hence one fsync, for a whole batch, with the rows key_insert writes; meant
 * for seeding, see bench/seed.c), and group commit (batch_begin/batch_end:
 * the writes in between are savepoints, see sq_begin, made durable by one
 * COMMIT).
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

struct import_args {
    const ks_key *keys;
    size_t n;
    const ks_audit_entry *audit;
};

/* The rows of sq_key_import; the first key that fails (as sq_key_insert
 * would) stops the import and its code is returned. */
static int key_import_in_tx(sq_store *s, void *arg)
{
    const struct import_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = sq_key_insert_tx(s, &a->keys[i]);
    return rc == KS_OK ? sq_audit_insert(s, a->audit) : rc;
}

int sq_key_import(ks_store *base, const ks_key *keys, size_t n, const ks_audit_entry *audit)
{
    struct import_args a = {keys, n, audit};
    return sq_write_tx((sq_store *)base, key_import_in_tx, &a);
}

int sq_batch_begin(ks_store *base)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock); /* held until sq_batch_end */
    int rc = sq_begin(s); /* BEGIN IMMEDIATE: not in batch mode yet */
    if (rc != KS_OK) {
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    s->batch = 1;
    s->in_op = 0;
    return KS_OK;
}

int sq_batch_end(ks_store *base, int commit)
{
    sq_store *s = (sq_store *)base;
    s->batch = 0;
    int rc = KS_OK;
    if (sqlite3_get_autocommit(s->db)) {
        rc = KS_ERR_STORAGE; /* the transaction was rolled back under us (I/O error) */
    } else if (!commit) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        rc = sq_commit(s);
        if (rc != KS_OK && rc != KS_ERR_NOMEM)
            rc = KS_ERR_STORAGE;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
