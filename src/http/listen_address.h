/*
 * listen_address.h - the --listen option: "HOST:PORT" or "[V6]:PORT" to a
 * socket address, resolved with getaddrinfo (numeric service only).
 */
#ifndef KS_HTTP_LISTEN_ADDRESS_H
#define KS_HTTP_LISTEN_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

/* Fills *addr and *len from `listen`. 0, or -1 with a message in err (a
 * missing port, a name that does not resolve); *addr is then unchanged. */
int ks_listen_address_parse(const char *listen, struct sockaddr_storage *addr, socklen_t *len, char *err,
                            size_t errlen);

#endif
