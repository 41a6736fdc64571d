/*
 * fuzz_forwarded_for.c - the X-Forwarded-For reading of
 * src/http/forwarded_for.h: ks_forwarded_hop_parse and ks_forwarded_client.
 *
 * Input: byte 0 picks the peer and the trusted ranges (bit 0: the peer is
 * 10.0.0.1, else 192.0.2.1; bit 1: 10.0.0.0/8 trusted; bit 2: 2001:db8::/32
 * trusted; bit 3: 192.0.2.0/24 trusted), then up to 4 header values
 * separated by '\n'. Properties, against a reference written from the
 * rules (headers joined by ',' in order, hops walked from the right):
 * - a hop parses exactly when, trimmed of spaces and tabs, it is an
 *   address, "[v6]" or "[v6]:port", or "v4:port" (port 1-5 digits; 1-5
 *   after brackets), and to the same address;
 * - the client is the reference's: the peer when untrusted, else the first
 *   hop from the right outside the trusted ranges, stopping at an unreadable
 *   hop (the trusted address right of it stands), at the leftmost hop, or
 *   after KS_FORWARDED_HOPS_MAX hops;
 * - the client is always the peer or one of the hops.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "http/forwarded_for.h"

#include <arpa/inet.h>

#define VALUES_MAX 4

static int pton(const char *s, size_t n, ks_netaddr *out)
{
    char buf[64];
    memset(out, 0, sizeof *out);
    if (n == 0 || n >= 46)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (memchr(buf, '\0', n))
        return 0;
    return ks_netaddr_parse(buf, n, out) == KS_OK; /* netaddr's own parser: fuzz_cidr checks it */
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int ref_hop(const char *s, size_t n, ks_netaddr *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    memset(out, 0, sizeof *out);
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return 0;
        size_t inner = (size_t)(close - s) - 1, after = n - inner - 2;
        if (after && (close[1] != ':' || after < 2 || after > 6 || !all_digits(close + 2, after - 1)))
            return 0;
        return pton(s + 1, inner, out);
    }
    size_t colons = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ':')
            colons++, at = i;
    if (colons == 1) {
        size_t port = n - at - 1;
        if (port < 1 || port > 5 || !all_digits(s + at + 1, port))
            return 0;
        n = at;
    }
    return pton(s, n, out);
}

static int same(const ks_netaddr *a, const ks_netaddr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pick = data[0];
    char *text = fuzz_cstr(data + 1, size - 1);
    /* the header values: split at '\n' */
    const char *values[VALUES_MAX];
    size_t n = 0;
    for (char *p = text; p && n < VALUES_MAX;) {
        values[n++] = p;
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
    }
    ks_cidr trusted[3];
    size_t n_trusted = 0;
    if ((pick & 2) && ks_cidr_parse("10.0.0.0/8", &trusted[n_trusted]) == KS_OK)
        n_trusted++;
    if ((pick & 4) && ks_cidr_parse("2001:db8::/32", &trusted[n_trusted]) == KS_OK)
        n_trusted++;
    if ((pick & 8) && ks_cidr_parse("192.0.2.0/24", &trusted[n_trusted]) == KS_OK)
        n_trusted++;
    ks_netaddr peer;
    const char *peer_text = (pick & 1) ? "10.0.0.1" : "192.0.2.1";
    FUZZ_CHECK(ks_netaddr_parse(peer_text, strlen(peer_text), &peer) == KS_OK, "peer");

    /* the hops, oldest first, as the reference sees them */
    ks_netaddr client;
    ks_forwarded_client(&peer, values, n, trusted, n_trusted, &client);
    ks_netaddr want = peer;
    int hops = 0, stop = 0;
    for (size_t v = n; v-- > 0 && !stop;) {
        const char *s = values[v];
        size_t end = strlen(s);
        while (!stop) {
            if (!ks_cidr_list_contains(trusted, n_trusted, &want) || hops == KS_FORWARDED_HOPS_MAX) {
                stop = 1;
                break;
            }
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            size_t blank = 0;
            while (start + blank < end && (s[start + blank] == ' ' || s[start + blank] == '\t'))
                blank++;
            if (start + blank < end) {
                ks_netaddr hop, code_hop;
                int ok = ref_hop(s + start, end - start, &hop);
                int code_ok = ks_forwarded_hop_parse(s + start, end - start, &code_hop) == KS_OK;
                FUZZ_CHECK(ok == code_ok && (!ok || same(&hop, &code_hop)),
                           "hop parse: code %d, reference %d on '%.*s'", code_ok, ok, (int)(end - start), s + start);
                if (!ok) {
                    stop = 1;
                    break;
                }
                want = hop;
                hops++;
            }
            if (start == 0)
                break;
            end = start - 1;
        }
    }
    FUZZ_CHECK(same(&client, &want), "client differs from the reference");
    if (!ks_cidr_list_contains(trusted, n_trusted, &peer))
        FUZZ_CHECK(same(&client, &peer), "an untrusted peer's header was believed");
    free(text);
    return 0;
}
