/*
 * resource_map_live.c - the swapped resource map (see resource_map_live.h
 * for why readers never see a freed map).
 */
#include "verify/resource_map_live.h"
#include "core/error.h"
#include "index/epoch.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_resource_map_live {
    _Atomic(ks_resource_map *) map; /* the map in use, never NULL */
    ks_retire_list retired;         /* replaced maps, freed once no reader can hold them */
    char *path;
};

static void map_free(void *p)
{
    ks_resource_map_free(p);
}

/* Reads and parses path into *out; err as in ks_resource_map_live_open. */
static int load(const char *path, ks_resource_map **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return KS_ERR_INVALID;
    }
    char *buf = malloc(KS_RESOURCE_MAP_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, KS_RESOURCE_MAP_FILE_MAX + 1, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (!buf)
        return KS_ERR_NOMEM;
    if (read_error || n > KS_RESOURCE_MAP_FILE_MAX) {
        snprintf(err, errlen, "%s: %s", path,
                 read_error ? "cannot read the file" : "larger than 1 MiB");
        free(buf);
        return KS_ERR_INVALID;
    }
    char why[512];
    int rc = ks_resource_map_parse(buf, n, out, why, sizeof why);
    free(buf);
    if (rc == KS_ERR_INVALID)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

int ks_resource_map_live_open(const char *path, ks_resource_map_live **out, char *err, size_t errlen)
{
    *out = NULL;
    ks_resource_map *map;
    int rc = load(path, &map, err, errlen);
    if (rc != KS_OK)
        return rc;
    ks_resource_map_live *live = calloc(1, sizeof *live);
    if (!live || !(live->path = strdup(path))) {
        free(live);
        ks_resource_map_free(map);
        return KS_ERR_NOMEM;
    }
    atomic_init(&live->map, map);
    *out = live;
    return KS_OK;
}

int ks_resource_map_live_reload(ks_resource_map_live *live, size_t *rules, char *err, size_t errlen)
{
    ks_resource_map *map;
    int rc = load(live->path, &map, err, errlen);
    if (rc != KS_OK)
        return rc;
    *rules = ks_resource_map_rule_count(map);
    ks_resource_map *old = atomic_exchange(&live->map, map);
    ks_retire_list_add(&live->retired, old, map_free);
    ks_retire_list_flush(&live->retired, NULL, NULL); /* tags old; frees earlier maps now safe */
    return KS_OK;
}

void ks_resource_map_live_close(ks_resource_map_live *live)
{
    if (!live)
        return;
    ks_retire_list_free_all(&live->retired);
    ks_resource_map_free(atomic_load(&live->map));
    free(live->path);
    free(live);
}

size_t ks_resource_map_live_rule_count(ks_resource_map_live *live)
{
    if (ks_epoch_enter() != 0)
        return 0;
    size_t n = ks_resource_map_rule_count(atomic_load_explicit(&live->map, memory_order_acquire));
    ks_epoch_leave();
    return n;
}

int ks_resource_map_live_resolve(ks_resource_map_live *live, const char *method, const char *uri,
                                 char out[KS_RESOURCE_MAX + 1])
{
    ks_resource_path path; /* on the stack: nothing allocates */
    const char *found = NULL;
    size_t method_len = strnlen(method, KS_RESOURCE_METHOD_MAX);
    if (ks_resource_path_normalize(uri, strnlen(uri, KS_RESOURCE_PATH_MAX + 1), &path) == KS_OK &&
        method_len < KS_RESOURCE_METHOD_MAX) {
        if (ks_epoch_enter() != 0)
            return KS_ERR_NOMEM;
        const ks_resource_map *map = atomic_load_explicit(&live->map, memory_order_acquire);
        found = ks_resource_map_match(map, method, method_len, &path);
        if (found) {
            size_t n = strnlen(found, KS_RESOURCE_MAX);
            memcpy(out, found, n);
            out[n] = '\0';
        }
        ks_epoch_leave();
    }
    if (!found)
        memcpy(out, KS_RESOURCE_UNMAPPED, sizeof KS_RESOURCE_UNMAPPED);
    return KS_OK;
}
