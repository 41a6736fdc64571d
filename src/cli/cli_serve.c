/*
 * cli_serve.c - `keystile serve`: opens the store, loads the verify index,
 * starts the HTTP server and the last-used flusher, and on SIGTERM/SIGINT
 * stops accepting, lets requests in flight finish, flushes and closes.
 */
#include "cli/cli.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/server.h"
#include "service/login_keys.h"
#include "service/service.h"

#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void serve_usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile serve [--db PATH] [--listen HOST:PORT] [OPTIONS]\n"
            "\n"
            "Serves the Keystile HTTP API (see docs/API.md).\n"
            "\n"
            "  --db PATH               SQLite database file (default keystile.db; created if missing)\n"
            "  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080)\n"
            "  --secret-file PATH      32-byte server secret, mode 0600 (default PATH.secret)\n"
            "  --threads N             HTTP worker threads (default: one per core)\n"
            "  --connection-limit N    most connections at once (default 1024)\n"
            "  --idle-timeout SECONDS  close a connection idle this long, including one that\n"
            "                          sends its request too slowly (default 30)\n"
            "  --public-url URL        base URL of this service as integrators reach it, for\n"
            "                          share links (default: http://<Host header>)\n"
            "  --access-log WHICH      management (default: every call but verify, /healthz and\n"
            "                          /metrics, which /metrics counts), all, or none\n"
            "  --clock-offset-days N   TESTS ONLY: move the server's clock N days ahead, to test\n"
            "                          token durations and renewal alerts. Never use in production.\n"
            "\n"
            "Logs are JSON lines on stderr; tokens and credentials are never logged.\n");
}

static long parse_long(const char *s, const char *what, long min, long max, int *ok)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        fprintf(stderr, "keystile: %s must be an integer from %ld to %ld\n", what, min, max);
        *ok = 0;
    }
    return v;
}

int ks_cli_serve(int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"secret-file", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"access-log", required_argument, NULL, 'a'},
        {"connection-limit", required_argument, NULL, 'L'},
        {"idle-timeout", required_argument, NULL, 'T'},
        {"public-url", required_argument, NULL, 'P'},
        {"clock-offset-days", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "keystile.db", *secret_file = NULL;
    ks_server_options sopts = {"127.0.0.1:8080", 0, 0, 0, KS_ACCESS_LOG_MANAGEMENT, NULL};
    int c, ok = 1;
    long offset_days = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': sopts.listen = optarg; break;
        case 's': secret_file = optarg; break;
        case 't': sopts.threads = (int)parse_long(optarg, "--threads", 1, 256, &ok); break;
        case 'P': sopts.public_url = optarg; break;
        case 'L': sopts.connection_limit = (int)parse_long(optarg, "--connection-limit", 1, 100000, &ok); break;
        case 'T': sopts.timeout_seconds = (int)parse_long(optarg, "--idle-timeout", 1, 3600, &ok); break;
        case 'a':
            if (strcmp(optarg, "management") == 0) sopts.access_log = KS_ACCESS_LOG_MANAGEMENT;
            else if (strcmp(optarg, "all") == 0) sopts.access_log = KS_ACCESS_LOG_ALL;
            else if (strcmp(optarg, "none") == 0) sopts.access_log = KS_ACCESS_LOG_NONE;
            else {
                fprintf(stderr, "keystile: --access-log must be management, all or none\n");
                ok = 0;
            }
            break;
        case 'c': offset_days = parse_long(optarg, "--clock-offset-days", -36500, 36500, &ok); break;
        case 'h': serve_usage(stdout); return KS_EXIT_OK;
        default: serve_usage(stderr); return KS_EXIT_USAGE;
        }
    }
    if (!ok || optind != argc) {
        if (optind != argc)
            fprintf(stderr, "keystile: unexpected argument '%s'\n", argv[optind]);
        return KS_EXIT_USAGE;
    }
    if (offset_days != 0) {
        ks_clock_set_offset_days((int)offset_days);
        fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"CLOCK MOVED %ld DAYS AHEAD by --clock-offset-days: for tests only, never in production\"}\n",
                offset_days);
    }
    /* Signals go to sigwait below, not to the server threads. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    ks_secret secret;
    ks_store *store = ks_cli_open_store(db, secret_file, &secret);
    if (!store)
        return KS_EXIT_FAIL;
    ks_service svc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = ks_service_init(&svc, store, &secret, 1);
    sodium_memzero(&secret, sizeof secret);
    if (rc == KS_OK && (rc = ks_login_keys_load(&svc)) != KS_OK)
        ks_service_close(&svc);
    if (rc != KS_OK) {
        fprintf(stderr, "keystile: cannot load keys from %s: %s\n", db, ks_error_info(rc)->message);
        store->ops->close(store);
        return KS_EXIT_FAIL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t total, active;
    ks_index_count(svc.index, &total, &active);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"index loaded\",\"keys\":%zu,\"active\":%zu,\"ms\":%.1f}\n",
            total, active, (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    char err[512];
    ks_server *srv = ks_server_start(&svc, &sopts, err, sizeof err);
    if (!srv || ks_service_start_flusher(&svc, 2000) != KS_OK) {
        fprintf(stderr, "keystile: %s\n", srv ? "cannot start the last-used flusher" : err);
        ks_server_stop(srv, 0);
        ks_service_close(&svc);
        store->ops->close(store);
        return KS_EXIT_FAIL;
    }
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"listening\",\"address\":\"%s\",\"db\":\"%s\"}\n", sopts.listen, db);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopping\",\"signal\":%d}\n", sig);
    ks_server_stop(srv, 3000);
    ks_service_close(&svc); /* flushes last-used times */
    store->ops->close(store);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
    return KS_EXIT_OK;
}
