/*
 * resource_map.c - parsing, compiling and matching resource maps (see
 * resource_map.h for the format, the normalisation and the trie).
 *
 * Layout: every trie node of every method lives in one array (nodes refer
 * to each other by index, so the array may grow while building); literal
 * segment names and resources live in one text pool, by offset. A node's
 * literal children are kept sorted by name while inserting (binary
 * search). Once built, each node with literal children gets an
 * open-addressing hash table of them (at least twice as many slots as
 * children): a lookup hashes each request segment once (FNV-1a) and
 * usually compares one name. A plain byte of a request path is copied by a
 * table-driven loop; only '%', '/', '\\' and NUL take the slow branch.
 */
#include "core/resource_map.h"
#include "core/error.h"
#include "core/roles.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct {
    uint32_t name_off, name_len; /* the literal segment this node is reached by (pool) */
    uint32_t *children;          /* literal children, sorted by name */
    uint32_t n_children, cap_children;
    uint32_t star;               /* the `*` child, NONE */
    uint32_t end_rule;           /* rule whose pattern ends here, NONE */
    uint32_t rest_rule;          /* rule whose pattern ends here with `**`, NONE */
    uint32_t min_rule;           /* lowest rule in this subtree (set after building) */
    uint32_t name_hash;          /* segment_hash of the name */
    uint32_t *table;             /* open-addressing table of the literal children
                                    (indices, NONE = empty), mask + 1 slots; set after building */
    uint32_t mask;
} map_node;

typedef struct {
    char method[KS_RESOURCE_METHOD_MAX];
    size_t method_len;
    uint32_t root;
} method_trie;

struct ks_resource_map {
    map_node *nodes;
    size_t n_nodes, cap_nodes;
    char *pool;                  /* literal names and resources (resources NUL-terminated) */
    size_t pool_len, pool_cap;
    method_trie *methods;        /* one per method named in the file */
    size_t n_methods;
    uint32_t any_root;           /* rules with method `*` */
    uint32_t *rule_resource;     /* pool offset of each rule's resource */
    size_t n_rules, cap_rules;
};

/* ---- building ---- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return KS_OK;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return KS_ERR_NOMEM;
    *p = q;
    *cap = n;
    return KS_OK;
}

static int pool_add(ks_resource_map *m, const char *s, size_t n, int nul, uint32_t *off)
{
    if (m->pool_len + n + 1 > UINT32_MAX || grow((void **)&m->pool, &m->pool_cap, m->pool_len + n + 1, 1) != KS_OK)
        return KS_ERR_NOMEM;
    memcpy(m->pool + m->pool_len, s, n);
    *off = (uint32_t)m->pool_len;
    m->pool_len += n;
    if (nul)
        m->pool[m->pool_len++] = '\0';
    return KS_OK;
}

static int node_new(ks_resource_map *m, uint32_t *out)
{
    if (m->n_nodes >= NONE - 1 || grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof *m->nodes) != KS_OK)
        return KS_ERR_NOMEM;
    map_node *n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof *n);
    n->star = n->end_rule = n->rest_rule = n->min_rule = NONE;
    *out = (uint32_t)m->n_nodes++;
    return KS_OK;
}

static int name_cmp(const ks_resource_map *m, const map_node *n, const char *s, size_t len)
{
    size_t k = n->name_len < len ? n->name_len : len;
    int c = memcmp(m->pool + n->name_off, s, k);
    if (c)
        return c;
    return n->name_len < len ? -1 : n->name_len > len ? 1 : 0;
}

/* Index in parent's sorted children where a child named s would be; *found
 * says whether it is there. */
static uint32_t child_slot(const ks_resource_map *m, const map_node *parent, const char *s, size_t len, int *found)
{
    uint32_t lo = 0, hi = parent->n_children;
    *found = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(m, &m->nodes[parent->children[mid]], s, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The literal child of node `at` named s, made when missing. */
static int literal_child(ks_resource_map *m, uint32_t at, const char *s, size_t len, uint32_t *out)
{
    int found;
    uint32_t slot = child_slot(m, &m->nodes[at], s, len, &found);
    if (found) {
        *out = m->nodes[at].children[slot];
        return KS_OK;
    }
    uint32_t child, off;
    if (pool_add(m, s, len, 0, &off) != KS_OK || node_new(m, &child) != KS_OK)
        return KS_ERR_NOMEM;
    m->nodes[child].name_off = off;
    m->nodes[child].name_len = (uint32_t)len;
    map_node *p = &m->nodes[at]; /* after node_new: the array may have moved */
    size_t cap = p->cap_children;
    if (grow((void **)&p->children, &cap, (size_t)p->n_children + 1, sizeof *p->children) != KS_OK)
        return KS_ERR_NOMEM;
    p->cap_children = (uint32_t)cap;
    memmove(p->children + slot + 1, p->children + slot, (p->n_children - slot) * sizeof *p->children);
    p->children[slot] = child;
    p->n_children++;
    *out = child;
    return KS_OK;
}

static int star_child(ks_resource_map *m, uint32_t at, uint32_t *out)
{
    if (m->nodes[at].star == NONE) {
        uint32_t child;
        if (node_new(m, &child) != KS_OK)
            return KS_ERR_NOMEM;
        m->nodes[at].star = child;
    }
    *out = m->nodes[at].star;
    return KS_OK;
}

/* The trie root of a method (made when missing). */
static int method_root(ks_resource_map *m, const char *method, size_t len, uint32_t *out)
{
    if (len == 1 && method[0] == '*') {
        *out = m->any_root;
        return KS_OK;
    }
    for (size_t i = 0; i < m->n_methods; i++)
        if (m->methods[i].method_len == len && memcmp(m->methods[i].method, method, len) == 0) {
            *out = m->methods[i].root;
            return KS_OK;
        }
    method_trie *t = realloc(m->methods, (m->n_methods + 1) * sizeof *m->methods);
    if (!t)
        return KS_ERR_NOMEM;
    m->methods = t;
    if (node_new(m, out) != KS_OK)
        return KS_ERR_NOMEM;
    memcpy(t[m->n_methods].method, method, len);
    t[m->n_methods].method_len = len;
    t[m->n_methods].root = *out;
    m->n_methods++;
    return KS_OK;
}

/* FNV-1a of a segment. */
static uint32_t segment_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Builds the children tables of every node. */
static int tables_build(ks_resource_map *m)
{
    for (size_t i = 0; i < m->n_nodes; i++) {
        map_node *n = &m->nodes[i];
        if (n->n_children == 0)
            continue;
        uint32_t size = 4;
        while (size < 2 * n->n_children)
            size *= 2;
        if (!(n->table = malloc(size * sizeof *n->table)))
            return KS_ERR_NOMEM;
        memset(n->table, 0xff, size * sizeof *n->table); /* NONE */
        n->mask = size - 1;
        for (uint32_t c = 0; c < n->n_children; c++) {
            map_node *child = &m->nodes[n->children[c]];
            child->name_hash = segment_hash(m->pool + child->name_off, child->name_len);
            uint32_t at = child->name_hash & n->mask;
            while (n->table[at] != NONE)
                at = (at + 1) & n->mask;
            n->table[at] = n->children[c];
        }
    }
    return KS_OK;
}

/* The literal child of n named s (hash h), NONE when there is none. */
static uint32_t child_find(const ks_resource_map *m, const map_node *n, const char *s, size_t len, uint32_t h)
{
    if (!n->table)
        return NONE;
    for (uint32_t at = h & n->mask;; at = (at + 1) & n->mask) {
        uint32_t c = n->table[at];
        if (c == NONE)
            return NONE;
        const map_node *child = &m->nodes[c];
        if (child->name_hash == h && child->name_len == len && memcmp(m->pool + child->name_off, s, len) == 0)
            return c;
    }
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Sets min_rule over the subtree of node i; depth is bounded by the
 * segments of a pattern. */
static uint32_t subtree_min(ks_resource_map *m, uint32_t i)
{
    uint32_t best = min_u32(m->nodes[i].end_rule, m->nodes[i].rest_rule);
    for (uint32_t c = 0; c < m->nodes[i].n_children; c++)
        best = min_u32(best, subtree_min(m, m->nodes[i].children[c]));
    if (m->nodes[i].star != NONE)
        best = min_u32(best, subtree_min(m, m->nodes[i].star));
    m->nodes[i].min_rule = best;
    return best;
}

/* ---- parsing ---- */

static int fail(char *err, size_t errlen, size_t line, const char *fmt, ...)
{
    if (errlen) {
        int n = snprintf(err, errlen, "line %zu: ", line);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return KS_ERR_INVALID;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 1 when a decoded segment is `.` or `..`, also with a `;parameters`
 * suffix (servlet containers read `..;x` as `..`). */
static int dot_segment(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && s[n] != ';')
        n++;
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Bytes of a request path that need a look: '%', '/', '\\', NUL, and
 * '?' and '#', which end the path. */
static const unsigned char SPECIAL[256] = {['\0'] = 1, ['%'] = 1, ['/'] = 1, ['\\'] = 1, ['?'] = 1, ['#'] = 1};

/* ks_resource_path_normalize; with refuse_dots (patterns), a `.` or `..`
 * segment, also escaped, is an error instead of being resolved. */
static int normalize(const char *uri, size_t len, ks_resource_path *out, int refuse_dots)
{
    out->n = 0;
    if (len == 0 || uri[0] != '/')
        return KS_ERR_INVALID;
    size_t end = len, w = 0, i = 1;
    while (i <= end) {
        size_t start = w;
        while (i < end && uri[i] != '/') {
            unsigned char c = (unsigned char)uri[i];
            if (!SPECIAL[c]) { /* the usual byte: copied as it is */
                if (i >= KS_RESOURCE_PATH_MAX)
                    return KS_ERR_INVALID; /* the path is longer than the limit (w < i) */
                out->buf[w++] = (char)c;
                i++;
                continue;
            }
            if (c == '?' || c == '#') { /* the query or fragment: the path ends here */
                end = i;
                break;
            }
            if (c == '%') {
                if (i + 2 >= end)
                    return KS_ERR_INVALID; /* a cut escape */
                int h = hex_value(uri[i + 1]), l = hex_value(uri[i + 2]);
                if (h < 0 || l < 0)
                    return KS_ERR_INVALID;
                c = (unsigned char)(h * 16 + l);
                i += 3;
            } else {
                i++;
            }
            if (c == '/' || c == '\\' || c == '\0' || i > KS_RESOURCE_PATH_MAX)
                return KS_ERR_INVALID;
            out->buf[w++] = (char)c;
        }
        i++; /* the '/' (or past the end) */
        size_t seg = w - start;
        if (seg == 0)
            continue;
        if (out->buf[start] == '.' && dot_segment(out->buf + start, seg)) {
            if (refuse_dots)
                return KS_ERR_INVALID;
            int up = seg >= 2 && out->buf[start + 1] == '.';
            w = start;
            if (up) {
                if (out->n == 0)
                    return KS_ERR_INVALID; /* above the root */
                out->n--;
                w = out->off[out->n];
            }
            continue;
        }
        if (out->n == KS_RESOURCE_PATH_SEGMENTS_MAX)
            return KS_ERR_INVALID;
        out->off[out->n] = (uint16_t)start;
        out->len[out->n] = (uint16_t)seg;
        out->n++;
    }
    return KS_OK;
}

int ks_resource_path_normalize(const char *uri, size_t len, ks_resource_path *out)
{
    return normalize(uri, len, out, 0);
}

/* Reads a pattern into its decoded segments (a ks_resource_path, with `*`
 * and `**` kept as text). KS_OK or KS_ERR_INVALID with the reason in *why. */
static int pattern_read(const char *s, size_t len, ks_resource_path *p, const char **why)
{
    if (len == 0 || s[0] != '/') {
        *why = "the path pattern must start with '/'";
        return KS_ERR_INVALID;
    }
    if (memchr(s, '?', len) || memchr(s, '#', len)) {
        *why = "a path pattern has no query or fragment ('?', '#')";
        return KS_ERR_INVALID;
    }
    if (normalize(s, len, p, 1) != KS_OK) {
        *why = "the path pattern has a '.' or '..' segment, a bad percent-escape, a segment decoding "
               "to '/', '\\' or NUL, or more than 64 segments";
        return KS_ERR_INVALID;
    }
    for (size_t i = 0; i < p->n; i++) {
        const char *seg = p->buf + p->off[i];
        size_t n = p->len[i];
        if (n == 2 && seg[0] == '*' && seg[1] == '*') {
            if (i + 1 != p->n) {
                *why = "'**' may only be the last segment";
                return KS_ERR_INVALID;
            }
        } else if (memchr(seg, '*', n) && n != 1) {
            *why = "'*' must be a whole segment ('*' or a final '**')";
            return KS_ERR_INVALID;
        }
    }
    return KS_OK;
}

static int add_rule(ks_resource_map *m, const char *method, size_t method_len, const ks_resource_path *p,
                    const char *resource, size_t resource_len)
{
    uint32_t at, rule = (uint32_t)m->n_rules, off;
    if (grow((void **)&m->rule_resource, &m->cap_rules, m->n_rules + 1, sizeof *m->rule_resource) != KS_OK ||
        pool_add(m, resource, resource_len, 1, &off) != KS_OK || method_root(m, method, method_len, &at) != KS_OK)
        return KS_ERR_NOMEM;
    m->rule_resource[m->n_rules++] = off;
    for (size_t i = 0; i < p->n; i++) {
        const char *seg = p->buf + p->off[i];
        size_t n = p->len[i];
        if (n == 2 && seg[0] == '*' && seg[1] == '*') {
            if (m->nodes[at].rest_rule == NONE)
                m->nodes[at].rest_rule = rule;
            return KS_OK;
        }
        int rc = n == 1 && seg[0] == '*' ? star_child(m, at, &at) : literal_child(m, at, seg, n, &at);
        if (rc != KS_OK)
            return rc;
    }
    if (m->nodes[at].end_rule == NONE)
        m->nodes[at].end_rule = rule;
    return KS_OK;
}

/* Splits a line into at most 4 whitespace-separated fields, stopping at a
 * field that starts with '#'. Returns the number of fields. */
static size_t split_fields(const char *s, size_t len, const char *f[4], size_t flen[4])
{
    size_t n = 0, i = 0;
    while (i < len && n < 4) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i == len || s[i] == '#')
            break;
        size_t start = i;
        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            i++;
        f[n] = s + start;
        flen[n++] = i - start;
    }
    return n;
}

static int method_valid(const char *s, size_t n)
{
    if (n == 1 && s[0] == '*')
        return 1;
    if (n == 0 || n >= KS_RESOURCE_METHOD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* One line; KS_OK also for a blank or comment line. */
static int parse_line(ks_resource_map *m, const char *s, size_t len, size_t line, char *err, size_t errlen)
{
    const char *f[4];
    size_t fl[4];
    if (len > KS_RESOURCE_MAP_LINE_MAX)
        return fail(err, errlen, line, "longer than %d bytes", KS_RESOURCE_MAP_LINE_MAX);
    if (memchr(s, '\0', len))
        return fail(err, errlen, line, "holds a NUL byte");
    size_t n = split_fields(s, len, f, fl);
    if (n == 0)
        return KS_OK;
    if (n != 3)
        return fail(err, errlen, line, "expected `METHOD PATH-PATTERN RESOURCE` (3 fields), found %s",
                    n < 3 ? "fewer" : "more");
    if (!method_valid(f[0], fl[0]))
        return fail(err, errlen, line, "the method must be '*' or upper-case letters (GET, POST...)");
    ks_resource_path p;
    const char *why = NULL;
    if (pattern_read(f[1], fl[1], &p, &why) != KS_OK)
        return fail(err, errlen, line, "%s", why);
    char resource[KS_RESOURCE_MAX + 1];
    if (fl[2] > KS_RESOURCE_MAX)
        return fail(err, errlen, line, "the resource is longer than %d bytes", KS_RESOURCE_MAX);
    memcpy(resource, f[2], fl[2]);
    resource[fl[2]] = '\0';
    if (!ks_resource_valid(resource))
        return fail(err, errlen, line, "'%s' is not a resource name (letters, digits and ._:/*-)", resource);
    if (m->n_rules == KS_RESOURCE_MAP_RULES_MAX)
        return fail(err, errlen, line, "more than %d rules", KS_RESOURCE_MAP_RULES_MAX);
    return add_rule(m, f[0], fl[0], &p, resource, fl[2]);
}

int ks_resource_map_parse(const char *text, size_t len, ks_resource_map **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (len > KS_RESOURCE_MAP_FILE_MAX) {
        if (errlen)
            snprintf(err, errlen, "the file is larger than %d bytes", KS_RESOURCE_MAP_FILE_MAX);
        return KS_ERR_INVALID;
    }
    ks_resource_map *m = calloc(1, sizeof *m);
    if (!m || node_new(m, &m->any_root) != KS_OK) {
        ks_resource_map_free(m);
        return KS_ERR_NOMEM;
    }
    size_t line = 0, i = 0;
    int rc = KS_OK;
    while (i < len && rc == KS_OK) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        rc = parse_line(m, text + i, end - i, ++line, err, errlen);
        i = end + 1;
    }
    if (rc != KS_OK) {
        ks_resource_map_free(m);
        return rc;
    }
    if (tables_build(m) != KS_OK) {
        ks_resource_map_free(m);
        return KS_ERR_NOMEM;
    }
    subtree_min(m, m->any_root);
    for (size_t t = 0; t < m->n_methods; t++)
        subtree_min(m, m->methods[t].root);
    *out = m;
    return KS_OK;
}

void ks_resource_map_free(ks_resource_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_nodes; i++) {
        free(m->nodes[i].children);
        free(m->nodes[i].table);
    }
    free(m->nodes);
    free(m->pool);
    free(m->methods);
    free(m->rule_resource);
    free(m);
}

size_t ks_resource_map_rule_count(const ks_resource_map *m)
{
    return m->n_rules;
}

/* ---- matching ---- */

/* Lowers *best to the lowest rule under node i matching the path from
 * segment `depth` on. Each node is reached at one depth only, so this visits
 * each node at most once. */
static void walk(const ks_resource_map *m, uint32_t i, const ks_resource_path *p, const uint32_t *hash,
                 size_t depth, uint32_t *best)
{
    const map_node *n = &m->nodes[i];
    if (n->min_rule >= *best)
        return;
    *best = min_u32(*best, n->rest_rule);
    if (depth == p->n) {
        *best = min_u32(*best, n->end_rule);
        return;
    }
    uint32_t child = child_find(m, n, p->buf + p->off[depth], p->len[depth], hash[depth]);
    if (child != NONE)
        walk(m, child, p, hash, depth + 1, best);
    if (n->star != NONE)
        walk(m, n->star, p, hash, depth + 1, best);
}

const char *ks_resource_map_match(const ks_resource_map *m, const char *method, size_t method_len,
                                  const ks_resource_path *path)
{
    uint32_t best = NONE, hash[KS_RESOURCE_PATH_SEGMENTS_MAX];
    for (size_t i = 0; i < path->n; i++)
        hash[i] = segment_hash(path->buf + path->off[i], path->len[i]);
    for (size_t i = 0; i < m->n_methods; i++)
        if (m->methods[i].method_len == method_len && memcmp(m->methods[i].method, method, method_len) == 0) {
            walk(m, m->methods[i].root, path, hash, 0, &best);
            break;
        }
    walk(m, m->any_root, path, hash, 0, &best);
    return best == NONE ? NULL : m->pool + m->rule_resource[best];
}
