/*
 * conn_guard.h - limits on connections that libmicrohttpd does not have:
 * a deadline for a request's headers, and a cap on the connections of one
 * client address (API.md "Abuse limits": --header-timeout,
 * --per-address-connections).
 *
 * Header deadline. libmicrohttpd's idle timeout restarts with every byte,
 * so a client trickling one header byte per interval would hold its
 * connection for ever. Here one sweeper thread (not a thread per
 * connection) visits every open connection each KS_GUARD_TICK_MS: a
 * connection between two requests whose socket has received bytes since
 * its last request ended (the kernel's TCP_INFO byte count; libmicrohttpd
 * has read them into its buffer, so only the count tells) has a request in
 * progress; when that request's headers are still not complete
 * header_timeout seconds after those first bytes were seen, its socket is
 * shut down, and libmicrohttpd closes the connection at its next read. A
 * connection whose headers are complete (the handler runs, a body uploads,
 * a management call waits in the pool) is left alone, and so is an idle
 * keep-alive connection that sends nothing (the idle timeout is for it).
 * The cut therefore comes between header_timeout and header_timeout plus
 * two ticks after the first byte, whatever the trickle rate.
 *
 * Per-address cap. Connections are counted per client address key
 * (ks_netaddr_limit_key: an IPv4 address, an IPv6 /64) in a table that holds
 * only addresses with open connections, so it is bounded by the server's
 * connection limit. The accept policy refuses a connection whose address
 * has `per_address` open already; the count taken when the connection
 * starts closes the race between threads accepting at once (one over the
 * cap is shut at once). Peers in a trusted proxy range are not capped: many
 * clients share them.
 *
 * Threads: ks_conn_guard_admit, _open and _close run on the libmicrohttpd
 * threads (under a shard lock, once per connection, never per request);
 * the request marks are one relaxed atomic store each, made by the thread
 * that owns the connection. The sweeper shuts a socket only under the lock
 * that _close takes before libmicrohttpd closes the descriptor, so it never
 * touches a reused descriptor.
 */
#ifndef KS_HTTP_CONN_GUARD_H
#define KS_HTTP_CONN_GUARD_H

#include "core/netaddr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define KS_GUARD_TICK_MS 250
#define KS_GUARD_SHARDS 16

/* Embedded in the server's per-connection state. */
typedef struct ks_conn_entry {
    struct ks_conn_entry *prev, *next; /* in its shard's list */
    int fd;
    int shard;
    uint64_t counted_key;              /* the address key counted, 0 = none */
    atomic_uint requests;              /* odd while a request is past its headers */
    /* the sweeper's own (under the shard lock) */
    unsigned seen_requests;            /* `requests` at the sweeper's last look */
    uint64_t bytes_mark;               /* bytes received when that request ended */
    double first_byte_at;              /* when new bytes were seen; 0 = none, -1 = cut */
} ks_conn_entry;

typedef struct ks_conn_guard ks_conn_guard;

/* A guard: header_timeout seconds (0 = no deadline), per_address
 * connections (0 = no cap; connection_limit sizes its table), peers in
 * exempt[0..n_exempt) not capped (copied). NULL when out of memory. */
ks_conn_guard *ks_conn_guard_new(int header_timeout, int per_address, int connection_limit, const ks_cidr *exempt,
                                 size_t n_exempt);
/* Starts the sweeper (when there is a deadline): KS_OK or KS_ERR_INTERNAL. */
int ks_conn_guard_start(ks_conn_guard *g);
/* Stops the sweeper and frees the guard (every connection closed first). */
void ks_conn_guard_free(ks_conn_guard *g);

/* The accept policy: 1 to accept a connection from addr, 0 to refuse. */
int ks_conn_guard_admit(ks_conn_guard *g, const struct sockaddr *addr);
/* A connection started (fd, peer addr): counted and watched. 0, or -1
 * when its address is over the cap (its socket is shut already). */
int ks_conn_guard_open(ks_conn_guard *g, ks_conn_entry *e, int fd, const struct sockaddr *addr);
/* The connection ends: no longer counted or watched. */
void ks_conn_guard_close(ks_conn_guard *g, ks_conn_entry *e);

/* The request's headers are complete / the request has ended (on the
 * connection's thread). */
static inline void ks_conn_guard_headers_done(ks_conn_entry *e)
{
    unsigned r = atomic_load_explicit(&e->requests, memory_order_relaxed);
    if (!(r & 1))
        atomic_store_explicit(&e->requests, r + 1, memory_order_relaxed);
}
static inline void ks_conn_guard_request_done(ks_conn_entry *e)
{
    unsigned r = atomic_load_explicit(&e->requests, memory_order_relaxed);
    atomic_store_explicit(&e->requests, (r | 1) + 1, memory_order_relaxed);
}

#endif
