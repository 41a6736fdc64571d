/* forwarded_for.c - the client address behind trusted proxies (see forwarded_for.h). */
#include "http/forwarded_for.h"
#include "core/error.h"

#include <string.h>

int ks_forwarded_hop_parse(const char *s, size_t len, ks_netaddr *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len > 0 && s[0] == '[') { /* "[v6]" or "[v6]:port" */
        const char *close = memchr(s, ']', len);
        if (!close)
            return ks_netaddr_parse(s, 0, out); /* invalid */
        size_t after = len - (size_t)(close - s) - 1;
        if (after > 0 && (close[1] != ':' || after < 2 || after > 6 ||
                          strspn(close + 2, "0123456789") < after - 1))
            return ks_netaddr_parse(s, 0, out);
        return ks_netaddr_parse(s + 1, (size_t)(close - s) - 1, out);
    }
    const char *colon = memchr(s, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) { /* "v4:port" */
        size_t port = len - (size_t)(colon - s) - 1;
        if (port < 1 || port > 5 || strspn(colon + 1, "0123456789") < port)
            return ks_netaddr_parse(s, 0, out);
        len = (size_t)(colon - s);
    }
    return ks_netaddr_parse(s, len, out);
}

void ks_forwarded_client(const ks_netaddr *peer, const char *const *values, size_t n, const ks_cidr *trusted,
                         size_t n_trusted, ks_netaddr *out)
{
    *out = *peer;
    int hops = 0;
    for (size_t v = n; v-- > 0;) {
        const char *s = values[v];
        if (!s)
            continue;
        size_t end = strlen(s);
        while (1) {
            if (!ks_cidr_list_contains(trusted, n_trusted, out) || hops == KS_FORWARDED_HOPS_MAX)
                return;
            /* the hop ending at `end`: from the comma before it (or the start) */
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            ks_netaddr hop;
            int empty = strspn(s + start, " \t") >= end - start;
            if (!empty) {
                if (ks_forwarded_hop_parse(s + start, end - start, &hop) != KS_OK)
                    return; /* unreadable: the trusted hop right of it stands */
                *out = hop;
                hops++;
            }
            if (start == 0)
                break;
            end = start - 1; /* before the comma */
        }
    }
}
