/*
 * resource_map_live.h - the resource map a running server uses (serve
 * --resource-map FILE), reloaded on SIGHUP while verify threads match on it.
 *
 * Swapping under readers (RCU-like, over index/epoch.h): the live map is
 * one atomic pointer. A reader enters an epoch section, loads the pointer,
 * normalises and matches, copies the resource out into its own buffer and
 * leaves: one thread-local store and fence each way, no lock, no
 * allocation, and no pointer into the map survives the section. A reload
 * (one thread at a time: the signal thread) parses the file into a new map
 * first; on any error the old map stays and the error is returned (the
 * caller logs it). Otherwise it publishes the new map with one atomic
 * exchange and puts the old one on a retire list tagged with the epoch:
 * it is freed only once every reader that could have loaded it has left its
 * section (checked at the next reload, without waiting), and at close. So
 * no verify thread ever sees a freed map, and a reload never waits for one.
 *
 * Reading the file is the only I/O; KS_RESOURCE_MAP_FILE_MAX bounds it.
 */
#ifndef KS_VERIFY_RESOURCE_MAP_LIVE_H
#define KS_VERIFY_RESOURCE_MAP_LIVE_H

#include "core/resource_map.h"
#include "core/roles.h"

#include <stddef.h>

/* The resource a request needs when the map has no rule for its method and
 * path: no role can hold it (ks_resource_valid refuses control characters),
 * so verify answers 403 forbidden, after every credential check. */
#define KS_RESOURCE_UNMAPPED "\x01unmapped"

typedef struct ks_resource_map_live ks_resource_map_live;

/* Reads and compiles the map at path. KS_OK with *out; KS_ERR_INVALID with
 * "PATH: line N: why" (or why the file cannot be read) in err; KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_resource_map_live_open(const char *path, ks_resource_map_live **out, char *err, size_t errlen);

/* Reads the file again and swaps it in. KS_OK (*rules = its rule count), or
 * an error as in open, and the map in use stays as it was. Called by one
 * thread at a time. */
__attribute__((warn_unused_result))
int ks_resource_map_live_reload(ks_resource_map_live *live, size_t *rules, char *err, size_t errlen);

/* Frees the live map and every retired one: call when no thread reads. */
void ks_resource_map_live_close(ks_resource_map_live *live);

/* The number of rules of the map in use. */
size_t ks_resource_map_live_rule_count(ks_resource_map_live *live);

/* The resource for method and uri (a forwarded request): KS_OK with it
 * copied into out, or KS_RESOURCE_UNMAPPED copied when no rule matches or
 * the path cannot be read. KS_ERR_NOMEM when this thread's epoch record
 * cannot be made (the caller answers 500). */
__attribute__((warn_unused_result))
int ks_resource_map_live_resolve(ks_resource_map_live *live, const char *method, const char *uri,
                                 char out[KS_RESOURCE_MAX + 1]);

#endif
