/*
 * forwarded_for.h - the client address behind trusted proxies, from
 * X-Forwarded-For.
 *
 * A proxy appends the address it received the request from to
 * X-Forwarded-For; everything left of that came from further away and may
 * be forged. So the client is found by walking the hops from the right,
 * starting at the connection's peer: while the address in hand lies in a
 * trusted range (--trusted-proxy), the hop to its left is taken instead.
 * The first address outside every trusted range is the client. When every
 * hop is trusted, the leftmost is the client; when a hop cannot be read (not
 * an address), the walk stops at the trusted address right of it (the proxy
 * that wrote it is the nearest thing known). A peer outside the trusted
 * ranges is the client whatever the header says.
 *
 * A hop is an IPv4 or IPv6 address, optionally "[v6]" with brackets and an
 * optional ":port" (as some proxies write it), with spaces or tabs around.
 * Several X-Forwarded-For headers read as one list joined by commas, in
 * order. At most KS_FORWARDED_HOPS_MAX hops are walked; the walk stops there
 * with the last address reached.
 */
#ifndef KS_HTTP_FORWARDED_FOR_H
#define KS_HTTP_FORWARDED_FOR_H

#include "core/netaddr.h"

#define KS_FORWARDED_HOPS_MAX 32

/* The client address for a request from `peer` whose X-Forwarded-For
 * headers are values[0..n) (in the order received), with `trusted[0..n_trusted)`
 * the trusted proxy ranges. Never fails: the peer when nothing better is
 * known. */
void ks_forwarded_client(const ks_netaddr *peer, const char *const *values, size_t n, const ks_cidr *trusted,
                         size_t n_trusted, ks_netaddr *out);

/* Parses one hop (the text between two commas, len bytes): KS_OK or
 * KS_ERR_INVALID. */
int ks_forwarded_hop_parse(const char *s, size_t len, ks_netaddr *out);

#endif
