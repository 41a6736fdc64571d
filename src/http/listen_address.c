/*
 * listen_address.c - see listen_address.h.
 */
#include "http/listen_address.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

int ks_listen_address_parse(const char *listen, struct sockaddr_storage *addr, socklen_t *len, char *err,
                            size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || strlen(colon + 1) == 0 || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "--listen must be HOST:PORT, got '%s'", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(h, colon + 1, &hints, &ai);
    if (g != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve --listen '%s': %s", listen, gai_strerror(g));
        return -1;
    }
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}
