/* github_keys.c - the reloadable GitHub keys (github_keys.h). */
#include "service/github_keys.h"
#include "core/error.h"
#include "core/secret_scanning.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_github_keys_live {
    pthread_rwlock_t lock;
    ks_github_keys *keys; /* never NULL */
    char *path;
};

static int load(const char *path, ks_github_keys **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return KS_ERR_INVALID;
    }
    char *buf = malloc(KS_GITHUB_KEYS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, KS_GITHUB_KEYS_FILE_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return KS_ERR_NOMEM;
    char why[512] = "cannot read the file";
    int rc = failed ? KS_ERR_INVALID : ks_github_keys_parse(buf, n, out, why, sizeof why);
    free(buf);
    if (rc == KS_ERR_INVALID)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

int ks_github_keys_live_open(const char *path, ks_github_keys_live **out, char *err, size_t errlen)
{
    *out = NULL;
    ks_github_keys *keys;
    int rc = load(path, &keys, err, errlen);
    if (rc != KS_OK)
        return rc;
    ks_github_keys_live *live = calloc(1, sizeof *live);
    if (!live || !(live->path = strdup(path)) || pthread_rwlock_init(&live->lock, NULL) != 0) {
        if (live)
            free(live->path);
        free(live);
        ks_github_keys_free(keys);
        return KS_ERR_NOMEM;
    }
    live->keys = keys;
    *out = live;
    return KS_OK;
}

int ks_github_keys_live_reload(ks_github_keys_live *live, size_t *n, char *err, size_t errlen)
{
    ks_github_keys *keys;
    int rc = load(live->path, &keys, err, errlen);
    if (rc != KS_OK)
        return rc;
    *n = ks_github_keys_count(keys);
    pthread_rwlock_wrlock(&live->lock);
    ks_github_keys *old = live->keys;
    live->keys = keys;
    pthread_rwlock_unlock(&live->lock);
    ks_github_keys_free(old);
    return KS_OK;
}

size_t ks_github_keys_live_count(ks_github_keys_live *live)
{
    pthread_rwlock_rdlock(&live->lock);
    size_t n = ks_github_keys_count(live->keys);
    pthread_rwlock_unlock(&live->lock);
    return n;
}

int ks_github_keys_live_check(ks_github_keys_live *live, const char *key_id, const char *signature_b64,
                              const char *body, size_t len)
{
    pthread_rwlock_rdlock(&live->lock);
    int rc = ks_github_signature_check(live->keys, key_id, signature_b64, body, len);
    pthread_rwlock_unlock(&live->lock);
    return rc;
}

void ks_github_keys_live_close(ks_github_keys_live *live)
{
    if (!live)
        return;
    ks_github_keys_free(live->keys);
    pthread_rwlock_destroy(&live->lock);
    free(live->path);
    free(live);
}
