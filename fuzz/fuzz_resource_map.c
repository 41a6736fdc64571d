/*
 * fuzz_resource_map.c - the resource map parser, the request path
 * normaliser and the trie matcher (core/resource_map.h).
 *
 * Input: MAP '\0' METHOD '\0' URI (missing parts are empty).
 *
 * Properties (abort() when violated):
 *  - parsing returns KS_OK or KS_ERR_INVALID (never anything else for any
 *    bytes under the size limit); an error message names its line
 *    ("line N: ...", N within the file's lines);
 *  - a normalised path has no empty, `.` or `..` segment (also with a
 *    `;` suffix) and no segment holding '/', '\' or NUL; normalising it
 *    again from its percent-encoded text gives the same segments; and
 *    prefixing "/a/.." or inserting "/./" or "/%2e/" after the first '/'
 *    of the URI changes nothing;
 *  - the trie's answer equals a reference: the first line, in file order,
 *    whose rule matches by a plain recursive glob over the pattern's
 *    normalised segments (`*` one segment, final `**` the rest);
 *  - a path that went above the root or had a bad escape matches nothing
 *    (ks_resource_path_normalize fails).
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/resource_map.h"

static int is_dot(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] != ';')
        k++;
    return (k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.');
}

/* Percent-encodes every byte of p's segments into out ("/%61/%62"). */
static size_t encode(const ks_resource_path *p, char *out, size_t cap)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t w = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (w + 1 + 3 * (size_t)p->len[i] > cap)
            return 0;
        out[w++] = '/';
        for (size_t j = 0; j < p->len[i]; j++) {
            unsigned char c = (unsigned char)p->buf[p->off[i] + j];
            out[w++] = '%';
            out[w++] = HEX[c >> 4];
            out[w++] = HEX[c & 15];
        }
    }
    if (w == 0)
        out[w++] = '/';
    return w;
}

static int same_path(const ks_resource_path *a, const ks_resource_path *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->len[i] != b->len[i] || memcmp(a->buf + a->off[i], b->buf + b->off[i], a->len[i]) != 0)
            return 0;
    return 1;
}

/* Reference glob of pattern segments pat[pi..] against path segments from si. */
static int glob(const ks_resource_path *pat, size_t pi, const ks_resource_path *path, size_t si)
{
    if (pi == pat->n)
        return si == path->n;
    const char *ps = pat->buf + pat->off[pi];
    size_t pl = pat->len[pi];
    if (pl == 2 && ps[0] == '*' && ps[1] == '*')
        return 1;
    if (si == path->n)
        return 0;
    if (!(pl == 1 && ps[0] == '*') &&
        (pl != path->len[si] || memcmp(ps, path->buf + path->off[si], pl) != 0))
        return 0;
    return glob(pat, pi + 1, path, si + 1);
}

/* The reference answer: the first line that parses alone and matches. The
 * whole map parsed, so every line does. */
static const char *reference(const char *map, size_t len, const char *method, size_t mlen,
                             const ks_resource_path *path, char *resource)
{
    static ks_resource_path pat;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(map + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - map) : len;
        const char *f[3];
        size_t fl[3], n = 0, j = i;
        while (j < end && n < 3) {
            while (j < end && (map[j] == ' ' || map[j] == '\t' || map[j] == '\r'))
                j++;
            if (j == end || map[j] == '#')
                break;
            f[n] = map + j;
            while (j < end && map[j] != ' ' && map[j] != '\t' && map[j] != '\r')
                j++;
            fl[n] = (size_t)(map + j - f[n]);
            n++;
        }
        i = end + 1;
        if (n != 3)
            continue;
        if (!((fl[0] == 1 && f[0][0] == '*') || (fl[0] == mlen && memcmp(f[0], method, mlen) == 0)))
            continue;
        FUZZ_CHECK(ks_resource_path_normalize(f[1], fl[1], &pat) == KS_OK, "a parsed pattern normalises");
        if (glob(&pat, 0, path, 0)) {
            memcpy(resource, f[2], fl[2]);
            resource[fl[2]] = '\0';
            return resource;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ks_resource_path path, again;
    static char text[3 * KS_RESOURCE_PATH_MAX + 64], resource[4200];
    const char *p = (const char *)data, *end = p + size;
    const char *z1 = memchr(p, '\0', size);
    const char *method = z1 ? z1 + 1 : end;
    const char *z2 = z1 ? memchr(method, '\0', (size_t)(end - method)) : NULL;
    const char *uri = z2 ? z2 + 1 : end;
    size_t map_len = (size_t)((z1 ? z1 : end) - p);
    size_t mlen = (size_t)((z2 ? z2 : end) - method), ulen = (size_t)(end - uri);

    ks_resource_map *map = NULL;
    char err[256];
    int rc = ks_resource_map_parse(p, map_len, &map, err, sizeof err);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID, "parse returned %d", rc);
    if (rc == KS_ERR_INVALID) {
        FUZZ_CHECK(map == NULL, "no map on error");
        size_t lines = 1;
        for (size_t i = 0; i < map_len; i++)
            lines += p[i] == '\n';
        unsigned long line = 0;
        FUZZ_CHECK(sscanf(err, "line %lu:", &line) == 1 && line >= 1 && line <= lines,
                   "error names a line: %s", err);
    }

    rc = ks_resource_path_normalize(uri, ulen, &path);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID, "normalize returned %d", rc);
    if (rc == KS_OK) {
        for (size_t i = 0; i < path.n; i++) {
            const char *s = path.buf + path.off[i];
            FUZZ_CHECK(path.len[i] > 0 && !is_dot(s, path.len[i]), "segment %zu empty or a dot", i);
            for (size_t j = 0; j < path.len[i]; j++)
                FUZZ_CHECK(s[j] != '/' && s[j] != '\\' && s[j] != '\0', "segment %zu holds a separator", i);
        }
        size_t n = encode(&path, text, sizeof text);
        if (n) {
            FUZZ_CHECK(ks_resource_path_normalize(text, n, &again) == KS_OK && same_path(&path, &again),
                       "re-encoded path normalises the same");
        }
        /* Traversal noise that must not change the path. */
        static const char *const PREFIXES[] = {"/a/..", "/.", "/%2e", "/x/%2E%2E", "//"};
        for (size_t k = 0; k < sizeof PREFIXES / sizeof *PREFIXES && ulen + 16 < sizeof text; k++) {
            size_t pl = strlen(PREFIXES[k]);
            memcpy(text, PREFIXES[k], pl);
            memcpy(text + pl, uri, ulen);
            FUZZ_CHECK(ks_resource_path_normalize(text, pl + ulen, &again) == KS_OK && same_path(&path, &again),
                       "prefix %s changed the path", PREFIXES[k]);
        }
    }

    if (map) {
        const char *got = rc == KS_OK ? ks_resource_map_match(map, method, mlen, &path) : NULL;
        const char *want = rc == KS_OK && mlen < KS_RESOURCE_METHOD_MAX
                               ? reference(p, map_len, method, mlen, &path, resource) : NULL;
        if (mlen < KS_RESOURCE_METHOD_MAX)
            FUZZ_CHECK((!got && !want) || (got && want && strcmp(got, want) == 0), "trie %s, reference %s",
                       got ? got : "(none)", want ? want : "(none)");
        ks_resource_map_free(map);
    }
    return 0;
}
