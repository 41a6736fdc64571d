/* client_buf.c - ks_strbuf, the bounded growable string of client.h. */
#include "cli/client.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_strbuf_init(ks_strbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void ks_strbuf_append(ks_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > b->max || b->len > b->max - n) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        /* Grow by copy, not realloc, so a token in the old block can be wiped. */
        char *p = malloc(cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        if (b->data) {
            memcpy(p, b->data, b->len);
            sodium_memzero(b->data, b->cap);
            free(b->data);
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ks_strbuf_puts(ks_strbuf *b, const char *s)
{
    ks_strbuf_append(b, s, strlen(s));
}

void ks_strbuf_printf(ks_strbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ks_strbuf_append(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ks_strbuf_append(b, big, (size_t)n);
    free(big);
}

const char *ks_strbuf_str(const ks_strbuf *b)
{
    return b->data && !b->failed ? b->data : "";
}

void ks_strbuf_free(ks_strbuf *b)
{
    if (b->data) {
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}
