/*
 * mhd_floor.c - libmicrohttpd's own ceiling on this machine, for bench/run.py.
 *
 *   mhd_floor PORT THREADS SECONDS [verify]
 *
 * An HTTP server on 127.0.0.1:PORT with the options `keystile serve` uses
 * (epoll, a thread per core or THREADS, 16 KiB connection memory, suspend and
 * resume allowed) whose handler does nothing: every request gets an empty
 * 204, queued once the request is complete as Keystile does. Whatever
 * verify costs on top of this is Keystile's; the rest is the library and
 * the kernel. Exits by itself after SECONDS (or on SIGTERM/SIGINT).
 *
 * With `verify`, every request gets instead a prebuilt 200 verify answer:
 * the body of a valid key and the headers Keystile sends with it (made
 * once, shared): the library's own work for a verify answer of that size,
 * for instruction counts per part (bench/README.md "Profiling").
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *empty;
static unsigned status = MHD_HTTP_NO_CONTENT;
static const char VERIFY_BODY[] =
    "{\"valid\":true,\"key\":\"kst-bench-r2nzsmikch\",\"account\":\"bench\",\"target_account\":\"bench\","
    "\"token\":\"current\",\"roles\":[\"integration\"],\"resources\":[\"invoices.read\",\"orders.read\","
    "\"orders.write\"],\"outdated\":false}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    if (!*state) {
        *state = conn; /* the headers are in: answer on the next call */
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* drop any body */
        return MHD_YES;
    }
    return MHD_queue_response(conn, status, empty);
}

static long arg(const char *s, long min, long max, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max) {
        fprintf(stderr, "mhd_floor: %s must be %ld..%ld\n", what, min, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "verify") == 0)) {
        fprintf(stderr, "usage: mhd_floor PORT THREADS SECONDS [verify]\n");
        return 2;
    }
    unsigned short port = (unsigned short)arg(argv[1], 1, 65535, "PORT");
    unsigned threads = (unsigned)arg(argv[2], 1, 256, "THREADS");
    unsigned seconds = (unsigned)arg(argv[3], 1, 3600, "SECONDS");
    if (argc == 5) {
        status = MHD_HTTP_OK;
        empty = MHD_create_response_from_buffer(sizeof VERIFY_BODY - 1, (void *)VERIFY_BODY, MHD_RESPMEM_PERSISTENT);
        if (empty && (MHD_add_response_header(empty, "Content-Type", "application/json") != MHD_YES ||
                      MHD_add_response_header(empty, "X-Content-Type-Options", "nosniff") != MHD_YES ||
                      MHD_add_response_header(empty, "Cache-Control", "no-store") != MHD_YES ||
                      MHD_add_response_header(empty, "X-Keystile-Key", "kst-bench-r2nzsmikch") != MHD_YES ||
                      MHD_add_response_header(empty, "X-Keystile-Account", "bench") != MHD_YES))
            return 1;
    } else {
        empty = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME, port, NULL, NULL, answer, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_END);
    if (!empty || !d) {
        fprintf(stderr, "mhd_floor: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    alarm(seconds);
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(empty);
    return 0;
}
