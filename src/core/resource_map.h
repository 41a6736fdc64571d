/*
 * resource_map.h - `serve --resource-map FILE`: which resource a request
 * that a gateway forwards to verify needs, from its method and path.
 *
 * The file has one rule a line, `METHOD PATH-PATTERN RESOURCE`, fields
 * separated by spaces or tabs; `#` starts a comment, blank lines are
 * skipped. METHOD is `*` (any) or upper-case letters (GET, POST...).
 * PATH-PATTERN starts with `/`; each segment is a literal (percent-escapes
 * decoded as in a request path), `*` (exactly one segment) or, as the last
 * segment only, `**` (zero or more segments: `/orders/` followed by `**` matches
 * `/orders`, `/orders/7` and `/orders/7/items`). RESOURCE is a resource name as roles
 * hold them (roles.h). The first rule that matches wins.
 *
 * A request path is normalised before matching (ks_resource_path_normalize):
 * the query and fragment are cut, percent-escapes decoded once, empty
 * segments (`//`, a trailing `/`) and `.` dropped, and `..` takes back the
 * segment before it, so `/orders/../admin` is `/admin` and never matches
 * the pattern `/orders/` `*`; nor does `/orders/%2e%2e/admin`. A path that cannot be read
 * (not starting with `/`, a bad escape, `..` above the root, a segment that
 * decodes to `/`, `\` or NUL, too long or too many segments) matches no
 * rule: verify then answers 403, as for any unmapped path.
 *
 * The map is compiled at parse time into one segment trie per method (and
 * one for `*`). A node's place in its trie fixes how many segments were
 * consumed to reach it, so a lookup visits each node at most once: it walks
 * the literal child (binary search over sorted names) and the `*` child,
 * takes a `**` rule or the end rule where the path allows, and keeps the
 * lowest rule number (first match wins); subtrees whose lowest rule cannot
 * beat the best found are skipped. Nothing allocates, locks or reads the
 * clock after parsing; a map is immutable once made, so any number of
 * threads may match on it at once (resource_map_live.h swaps maps).
 *
 * Pure: no I/O (the caller reads the file); errors are KS_ERR_* codes with a
 * message naming the line.
 */
#ifndef KS_CORE_RESOURCE_MAP_H
#define KS_CORE_RESOURCE_MAP_H

#include <stddef.h>
#include <stdint.h>

#define KS_RESOURCE_MAP_FILE_MAX (1024 * 1024) /* bytes of a map file */
#define KS_RESOURCE_MAP_LINE_MAX 4096          /* bytes of one line */
#define KS_RESOURCE_MAP_RULES_MAX 100000       /* rules in one map */
#define KS_RESOURCE_PATH_MAX 8192              /* bytes of a request path (the URL limit) */
#define KS_RESOURCE_PATH_SEGMENTS_MAX 64       /* segments of a request path or pattern */
#define KS_RESOURCE_METHOD_MAX 32              /* bytes of a method */

typedef struct ks_resource_map ks_resource_map;

/* A normalised request path: segment i is buf[off[i]], len[i] bytes
 * (decoded, may hold any byte but '/', '\\' and NUL). Lives on the caller's
 * stack: normalising allocates nothing. */
typedef struct {
    char buf[KS_RESOURCE_PATH_MAX];
    uint16_t off[KS_RESOURCE_PATH_SEGMENTS_MAX];
    uint16_t len[KS_RESOURCE_PATH_SEGMENTS_MAX];
    size_t n;
} ks_resource_path;

/* Parses and compiles `len` bytes of map text. KS_OK with *out (free with
 * ks_resource_map_free); KS_ERR_INVALID with "line N: why" in err (errlen
 * bytes, always NUL-terminated) and *out NULL; KS_ERR_NOMEM. An empty map
 * (no rule) is valid: nothing matches. */
__attribute__((warn_unused_result))
int ks_resource_map_parse(const char *text, size_t len, ks_resource_map **out, char *err, size_t errlen);

void ks_resource_map_free(ks_resource_map *map);

/* The number of rules. */
size_t ks_resource_map_rule_count(const ks_resource_map *map);

/* Normalises a request URI (path, optionally `?query` / `#fragment`), len
 * bytes, into *out as described above. KS_OK, or KS_ERR_INVALID when the
 * path cannot be read (it must then match nothing). */
__attribute__((warn_unused_result))
int ks_resource_path_normalize(const char *uri, size_t len, ks_resource_path *out);

/* The resource of the first rule matching method (method_len bytes, compared
 * exactly) and path; NULL when none does. The string lives as long as map. */
__attribute__((warn_unused_result))
const char *ks_resource_map_match(const ks_resource_map *map, const char *method, size_t method_len,
                                  const ks_resource_path *path);

#endif
