/*
 * fuzz_util.h - small helpers shared by the fuzz targets (header only: the
 * Makefile builds each fuzz/fuzz_*.c as one translation unit).
 *
 * FUZZ_CHECK(cond, ...) is the targets' assert: when a property of the code
 * under test does not hold it prints the message with file and line and
 * calls abort(), which libFuzzer and the replay runner report as a crash.
 * It is never compiled out (no NDEBUG dependence).
 */
#ifndef KS_FUZZ_UTIL_H
#define KS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                      \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* 1 when the environment variable KS_FUZZ_KNOWN_BUGS (a comma-separated
 * list) names bug `id`: a target then tolerates that one known, reported
 * bug in src/ so fuzzing can go on past it. Unset (as in `make test`), every
 * check is strict. The ids are listed in fuzz/README.md. */
static inline int fuzz_known_bug(const char *id)
{
    static const char *list;
    static int read;
    if (!read) {
        list = getenv("KS_FUZZ_KNOWN_BUGS");
        read = 1;
    }
    if (!list)
        return 0;
    size_t n = strlen(id);
    for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

/* A malloc'd NUL-terminated copy of data[0..size) (embedded NULs end the C
 * string early, as they would in a header or a URL). Aborts on NOMEM: a
 * fuzz target has no better answer. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A malloc'd copy of exactly size bytes (no terminator), so that ASan
 * catches any read past the end by a function that takes a length. */
static inline char *fuzz_exact(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    return s;
}

/* Splits data at the first `sep`: *head_len bytes before it, tail after it.
 * Returns 0 when there is no separator (then head is everything). */
static inline int fuzz_split(const uint8_t *data, size_t size, uint8_t sep, size_t *head_len,
                             const uint8_t **tail, size_t *tail_len)
{
    const uint8_t *p = size ? memchr(data, sep, size) : NULL;
    if (!p) {
        *head_len = size;
        *tail = data + size;
        *tail_len = 0;
        return 0;
    }
    *head_len = (size_t)(p - data);
    *tail = p + 1;
    *tail_len = size - *head_len - 1;
    return 1;
}

/* Independent CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), bit by bit:
 * the reference the token checksum is compared with (the code uses zlib). */
static inline uint32_t fuzz_crc32(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

#endif
