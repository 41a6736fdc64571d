/*
 * cli_serve.c - `keystile serve`: reads its settings (flags, KEYSTILE_*
 * environment, --config file; see serve_config.h), opens the store, loads the
 * verify index and the login signing keys, starts the HTTP server and the
 * last-used flusher, and on SIGTERM/SIGINT stops accepting, lets requests in
 * flight finish, flushes and closes.
 */
#include "cli/cli.h"
#include "cli/serve_config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/netaddr.h"
#include "http/server.h"
#include "log/log.h"
#include "service/change_feed.h"
#include "service/heartbeat.h"
#include "service/login_keys.h"
#include "service/oidc.h"
#include "service/service.h"
#include "service/webhooks.h"
#include "service/github_keys.h"
#include "verify/resource_map_live.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PEM_MAX (1024 * 1024)

static void serve_usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile serve [--db PATH] [--listen HOST:PORT] [OPTIONS]\n"
            "\n"
            "Serves the Keystile HTTP API (see docs/API.md) and the web admin at /.\n"
            "\n"
            "  --db PATH|URI           SQLite database file (default keystile.db; created if missing),\n"
            "                          or a postgresql:// URI: several nodes share one database and\n"
            "                          follow each other's writes (within a second)\n"
            "  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080)\n"
            "  --secret-file PATH      32-byte server secret, mode 0600 (default PATH.secret;\n"
            "                          required with PostgreSQL: the same file on every node)\n"
            "  --threads N             HTTP worker threads (default: one per core)\n"
            "  --connection-limit N    most connections at once (default 1024)\n"
            "  --idle-timeout SECONDS  close a connection idle this long, including one that\n"
            "                          sends its request too slowly (default 30)\n"
            "  --public-url URL        base URL of this service as integrators reach it, for\n"
            "                          share links (default: http://<Host header>)\n"
            "  --tls-cert FILE         PEM certificate (chain): serve HTTPS, with --tls-key\n"
            "  --tls-key FILE          PEM private key of --tls-cert\n"
            "  --access-log WHICH      management (default: every call but verify, /healthz and\n"
            "                          /metrics, which /metrics counts), all, or none\n"
            "  --log-format FORMAT     json (default: one JSON object per line) or text\n"
            "  --last-used-flush SECONDS  how often verified tokens' last_used_at times are\n"
            "                          written to the database (default 60 with SQLite, 2 with\n"
            "                          PostgreSQL, whose other nodes read them there). This\n"
            "                          server's answers always show the latest; a clean stop\n"
            "                          writes them all, a crash loses the last 1.5 intervals'\n"
            "  --header-timeout SECONDS  cut a request whose headers have not all arrived this\n"
            "                          long after its first byte, however slowly they trickle\n"
            "                          (default 10; 0 = no deadline)\n"
            "  --per-address-connections N  most connections at once from one client address\n"
            "                          (IPv6: per /64; trusted proxies are not capped; default 128)\n"
            "  --failed-auth-limit N   failed credentials per minute from one client address\n"
            "                          before its failed attempts get 429 rate_limited; valid\n"
            "                          credentials are always answered (default 120; 0 = off)\n"
            "  --trusted-proxy CIDR    a proxy whose X-Forwarded-For is believed: the client\n"
            "                          address is the last hop not in a trusted range (repeat\n"
            "                          for several ranges; a bare address is one host)\n"
            "  --max-staleness SECONDS with PostgreSQL: a node that has not reached the database\n"
            "                          for this long answers verify 503 storage_unavailable and\n"
            "                          /healthz 503 stale (default 300)\n"
            "  --webhook-deny CIDR     never deliver webhooks to addresses in this range (repeatable),\n"
            "                          e.g. 10.0.0.0/8 or fd00::/8; checked on every connection after\n"
            "                          name resolution. Nothing is denied by default\n"
            "  --sweep-interval SECONDS  how often the sweeps run (old-token deadlines, auto-delete,\n"
            "                          renewal notices; default 60; they also run at start)\n"
            "  --oidc-issuer URL       single sign-on with OpenID Connect: the issuer (https://,\n"
            "                          or http:// on a loopback host); people whose verified email\n"
            "                          is a Keystile user's sign in with it (nobody is created)\n"
            "  --oidc-client-id ID     this server's client id at the issuer\n"
            "  --oidc-client-secret-file FILE  the client secret (first line of FILE); the\n"
            "                          issuer must allow the redirect URI\n"
            "                          <public URL>/auth/oidc/callback\n"
            "  --resource-map FILE     verify takes the resource from the request a gateway forwards\n"
            "                          (X-Forwarded-Method/-Uri or X-Original-Method/-URI): lines\n"
            "                          `METHOD PATH-PATTERN RESOURCE`, first match wins, no match is\n"
            "                          403 forbidden; reread on SIGHUP (a bad file keeps the old map)\n"
            "  --github-keys FILE      GitHub secret scanning: the JSON of GitHub's public keys\n"
            "                          (api.github.com/meta/public_keys/secret_scanning) that sign\n"
            "                          POST /api/v1/secret-scanning/github; reread on SIGHUP\n"
            "  --config FILE           read settings from FILE: lines `key = value` with the\n"
            "                          long option names above, e.g. `listen = 0.0.0.0:8080`\n"
            "  --clock-offset-days N   TESTS ONLY: move the server's clock N days ahead (a fraction,\n"
            "                          e.g. 1.5, moves it by hours), to test token durations, renewal\n"
            "                          alerts, notices and auto-delete. Never use in production.\n"
            "\n"
            "Every option but --config and --clock-offset-days can also come from the\n"
            "environment as KEYSTILE_ and its name in capitals with _ for -, e.g.\n"
            "KEYSTILE_LISTEN=0.0.0.0:8080. Flags win over the environment, which wins over\n"
            "the config file. Logs go to stderr; tokens and credentials are never logged.\n");
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

/* Reads a PEM file (at most 1 MiB) into a NUL-terminated buffer; NULL after
 * printing why. */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = f ? malloc(PEM_MAX + 1) : NULL;
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    if (f)
        fclose(f);
    if (!buf || n == 0 || n > PEM_MAX || !strstr(buf, "-----BEGIN")) {
        fprintf(stderr, "keystile: cannot read a PEM file (at most 1 MiB) from %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

#define TRUSTED_PROXIES_MAX 64

typedef struct {
    const char *db, *secret_file, *tls_cert, *tls_key;
    const char *oidc_issuer, *oidc_client_id, *oidc_secret_file;
    const char *resource_map, *github_keys;
    double offset_days;
    long flush_seconds; /* 0: by backend */
    long max_staleness; /* seconds */
    long sweep_seconds;
    ks_webhook_options webhooks;
    ks_server_options server;
    ks_cidr trusted[TRUSTED_PROXIES_MAX];
} serve_settings;

/* One more --trusted-proxy range; 0 after printing what is wrong. */
static int add_trusted_proxy(serve_settings *s, const char *v)
{
    if (s->server.n_trusted == TRUSTED_PROXIES_MAX) {
        fprintf(stderr, "keystile: at most %d --trusted-proxy ranges\n", TRUSTED_PROXIES_MAX);
        return 0;
    }
    if (ks_cidr_parse(v, &s->trusted[s->server.n_trusted]) != KS_OK) {
        fprintf(stderr, "keystile: --trusted-proxy '%s' is not an IPv4 or IPv6 address or CIDR range "
                        "(e.g. 10.0.0.0/8, 2001:db8::/32, 127.0.0.1)\n", v);
        return 0;
    }
    s->server.n_trusted++;
    s->server.trusted = s->trusted;
    return 1;
}

static int parse_access_log(const char *v, int *out)
{
    static const char *const NAMES[] = {"management", "all", "none"};
    for (int i = 0; i < 3; i++)
        if (strcmp(v, NAMES[i]) == 0) {
            *out = i; /* KS_ACCESS_LOG_* */
            return 1;
        }
    fprintf(stderr, "keystile: --access-log must be management, all or none\n");
    return 0;
}

/* Parses the merged arguments; returns -1 to go on, else an exit code. */
static int parse_settings(int argc, char **argv, const struct option *opts, serve_settings *s)
{
    int c, ok = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': s->db = optarg; break;
        case 'l': s->server.listen = optarg; break;
        case 's': s->secret_file = optarg; break;
        case 't': s->server.threads = (int)parse_long(optarg, "--threads", 1, 256, &ok); break;
        case 'a': ok &= parse_access_log(optarg, &s->server.access_log); break;
        case 'L': s->server.connection_limit = (int)parse_long(optarg, "--connection-limit", 1, 100000, &ok); break;
        case 'T': s->server.timeout_seconds = (int)parse_long(optarg, "--idle-timeout", 1, 3600, &ok); break;
        case 'P': s->server.public_url = optarg; break;
        case 'C': s->tls_cert = optarg; break;
        case 'K': s->tls_key = optarg; break;
        case 'F':
            if (strcmp(optarg, "json") == 0) ks_log_set_format(KS_LOG_JSON);
            else if (strcmp(optarg, "text") == 0) ks_log_set_format(KS_LOG_TEXT);
            else {
                fprintf(stderr, "keystile: --log-format must be json or text\n");
                ok = 0;
            }
            break;
        case 'H': s->server.header_timeout = (int)parse_long(optarg, "--header-timeout", 0, 3600, &ok);
            if (s->server.header_timeout == 0) s->server.header_timeout = -1;
            break;
        case 'A': s->server.per_address = (int)parse_long(optarg, "--per-address-connections", 1, 100000, &ok); break;
        case 'R': s->server.failed_auth_limit = (int)parse_long(optarg, "--failed-auth-limit", 0, 65535, &ok);
            if (s->server.failed_auth_limit == 0) s->server.failed_auth_limit = -1;
            break;
        case 'X': ok &= add_trusted_proxy(s, optarg); break;
        case 'S': s->max_staleness = parse_long(optarg, "--max-staleness", 1, 31536000, &ok); break;
        case 'u': s->flush_seconds = parse_long(optarg, "--last-used-flush", 1, 3600, &ok); break;
        case 'Z': s->sweep_seconds = parse_long(optarg, "--sweep-interval", 1, 3600, &ok); break;
        case 'W':
            if (s->webhooks.n_deny == KS_WEBHOOK_DENY_MAX) {
                fprintf(stderr, "keystile: at most %d --webhook-deny ranges\n", KS_WEBHOOK_DENY_MAX);
                ok = 0;
            } else if (ks_cidr_parse(optarg, &s->webhooks.deny[s->webhooks.n_deny]) != 0) {
                fprintf(stderr, "keystile: --webhook-deny: '%s' is not an IPv4 or IPv6 address or CIDR range\n",
                        optarg);
                ok = 0;
            } else {
                s->webhooks.n_deny++;
            }
            break;
        case 'c': {
            char *end;
            s->offset_days = strtod(optarg, &end);
            if (!*optarg || *end || !(s->offset_days >= -36500 && s->offset_days <= 36500)) {
                fprintf(stderr, "keystile: --clock-offset-days must be a number of days from -36500 to 36500\n");
                ok = 0;
            }
            break;
        }
        case 'I': s->oidc_issuer = optarg; break;
        case 'D': s->oidc_client_id = optarg; break;
        case 'O': s->oidc_secret_file = optarg; break;
        case 'M': s->resource_map = optarg; break;
        case 'G': s->github_keys = optarg; break;
        case 'f': break; /* --config: already read */
        case 'h': serve_usage(stdout); return KS_EXIT_OK;
        default: serve_usage(stderr); return KS_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "keystile: unexpected argument '%s'\n", argv[optind]);
        return KS_EXIT_USAGE;
    }
    if ((s->oidc_issuer || s->oidc_client_id || s->oidc_secret_file) &&
        !(s->oidc_issuer && s->oidc_client_id && s->oidc_secret_file)) {
        fprintf(stderr, "keystile: --oidc-issuer, --oidc-client-id and --oidc-client-secret-file go together\n");
        return KS_EXIT_USAGE;
    }
    if (!s->tls_cert != !s->tls_key) {
        fprintf(stderr, "keystile: --tls-cert and --tls-key go together\n");
        return KS_EXIT_USAGE;
    }
    return ok ? -1 : KS_EXIT_USAGE;
}

/* The last-used flush interval in ms. SQLite: every 60 s, since with many
 * keys in use each flush rewrites pages all over the tokens table (about
 * 1 s of CPU for 70,000 keys) and this server serves reads from memory;
 * PostgreSQL: every 2 s, since the other nodes read last_used_at there. */
static long flush_ms(const serve_settings *s, const ks_store *store)
{
    if (s->flush_seconds > 0)
        return s->flush_seconds * 1000;
    return strcmp(store->ops->backend, "postgresql") == 0 ? 2000 : 60000;
}

/* Reads the OIDC client secret: the first line of the file, at most
 * KS_OIDC_SECRET_MAX bytes. 0, or -1 after printing why (never the secret). */
static int read_client_secret(const char *path, char out[KS_OIDC_SECRET_MAX + 2])
{
    struct stat st;
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, KS_OIDC_SECRET_MAX + 1, f) : 0;
    int others = f && fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH);
    if (f)
        fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!f || n > KS_OIDC_SECRET_MAX || !*out) {
        fprintf(stderr, "keystile: cannot read a client secret (one line, 1 to %d bytes) from %s\n",
                KS_OIDC_SECRET_MAX, path);
        sodium_memzero(out, KS_OIDC_SECRET_MAX + 2);
        return -1;
    }
    if (others)
        ks_log("warn", "the OIDC client secret file can be read by every user: chmod 600 it", "{s:s}", "file", path);
    return 0;
}

/* The single sign-on relying party when --oidc-* are set: *out stays NULL
 * otherwise. 0, or -1 after printing why. */
static int make_oidc(const serve_settings *s, const ks_secret *secret, ks_oidc **out)
{
    char client_secret[KS_OIDC_SECRET_MAX + 2], err[256];
    *out = NULL;
    if (!s->oidc_issuer)
        return 0;
    if (read_client_secret(s->oidc_secret_file, client_secret) != 0)
        return -1;
    ks_oidc_config cfg = {s->oidc_issuer, s->oidc_client_id, client_secret};
    int rc = ks_oidc_create(&cfg, secret, out, err, sizeof err);
    sodium_memzero(client_secret, sizeof client_secret);
    if (rc != KS_OK) {
        fprintf(stderr, "keystile: %s\n", rc == KS_ERR_INVALID ? err : ks_error_info(rc)->message);
        return -1;
    }
    ks_log("info", "single sign-on", "{s:s, s:s}", "issuer", ks_oidc_issuer(*out), "client_id", s->oidc_client_id);
    return 0;
}

/* Loads --resource-map and --github-keys at start: 0, or -1 after printing
 * why (the map's line, the key's position). */
static int open_reloadable_files(serve_settings *s)
{
    char err[768];
    if (s->github_keys) {
        int rc = ks_github_keys_live_open(s->github_keys, &s->server.github_keys, err, sizeof err);
        if (rc != KS_OK) {
            fprintf(stderr, "keystile: --github-keys %s\n", rc == KS_ERR_INVALID ? err : ks_error_info(rc)->message);
            return -1;
        }
        ks_log("info", "secret scanning keys loaded", "{s:s, s:I}", "file", s->github_keys,
               "keys", (json_int_t)ks_github_keys_live_count(s->server.github_keys));
    }
    if (!s->resource_map)
        return 0;
    int rc = ks_resource_map_live_open(s->resource_map, &s->server.resource_map, err, sizeof err);
    if (rc != KS_OK) {
        fprintf(stderr, "keystile: --resource-map %s\n", rc == KS_ERR_INVALID ? err : ks_error_info(rc)->message);
        return -1;
    }
    ks_log("info", "resource map loaded", "{s:s, s:I}", "file", s->resource_map,
           "rules", (json_int_t)ks_resource_map_live_rule_count(s->server.resource_map));
    return 0;
}

/* SIGHUP: rereads the files named by options (--resource-map, --github-keys); a bad file keeps what is in
 * use and logs why. */
static void reload_files(serve_settings *s)
{
    char err[768];
    size_t rules = 0;
    if (s->server.resource_map) {
        int rc = ks_resource_map_live_reload(s->server.resource_map, &rules, err, sizeof err);
        if (rc == KS_OK)
            ks_log("info", "resource map reloaded", "{s:s, s:I}", "file", s->resource_map, "rules", (json_int_t)rules);
        else
            ks_log("error", "resource map not reloaded: the previous map stays in use", "{s:s, s:s}", "file",
                   s->resource_map, "error", rc == KS_ERR_INVALID ? err : ks_error_info(rc)->message);
    }
    if (s->server.github_keys) {
        int rc = ks_github_keys_live_reload(s->server.github_keys, &rules, err, sizeof err);
        if (rc == KS_OK)
            ks_log("info", "secret scanning keys reloaded", "{s:s, s:I}", "file", s->github_keys, "keys",
                   (json_int_t)rules);
        else
            ks_log("error", "secret scanning keys not reloaded: the previous keys stay in use", "{s:s, s:s}",
                   "file", s->github_keys, "error", rc == KS_ERR_INVALID ? err : ks_error_info(rc)->message);
    }
}

/* Runs the server until SIGTERM/SIGINT. */
static int run(serve_settings *s)
{
    if (s->offset_days != 0) {
        ks_clock_set_offset_seconds((int64_t)(s->offset_days * 86400.0));
        ks_log("warn", "CLOCK MOVED AHEAD by --clock-offset-days: for tests only, never in production",
               "{s:f}", "days", s->offset_days);
    }
    /* Signals go to sigwait below, not to the server threads. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP); /* reload the files of --resource-map */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error, not death */

    if (open_reloadable_files(s) != 0)
        return KS_EXIT_FAIL;
    char *cert = s->tls_cert ? read_pem(s->tls_cert) : NULL;
    char *key = s->tls_key ? read_pem(s->tls_key) : NULL;
    if ((s->tls_cert && !cert) || (s->tls_key && !key)) {
        free(cert);
        free(key);
        return KS_EXIT_FAIL;
    }
    s->server.tls_cert_pem = cert;
    s->server.tls_key_pem = key;
    ks_secret secret;
    ks_store *store = ks_cli_open_store(s->db, s->secret_file, &secret);
    if (!store) {
        free(cert);
        free(key);
        return KS_EXIT_FAIL;
    }
    char db_shown[1024]; /* the database, without a password, for messages */
    ks_store_location_redact(s->db, db_shown, sizeof db_shown);
    ks_service svc;
    double t0 = ks_clock_monotonic();
    int rc = ks_service_init(&svc, store, &secret, 1);
    sodium_memzero(&secret, sizeof secret);
    if (strcmp(store->ops->backend, "postgresql") == 0) /* one process owns a SQLite file: never stale */
        svc.max_staleness_ms = (int)(s->max_staleness * 1000 > 2000000000 ? 2000000000 : s->max_staleness * 1000);
    if (rc == KS_OK && ((rc = ks_login_keys_load(&svc)) != KS_OK || (rc = ks_change_feed_start(&svc)) != KS_OK))
        ks_service_close(&svc);
    if (rc != KS_OK) {
        fprintf(stderr, "keystile: cannot load keys from %s: %s\n", db_shown, ks_error_info(rc)->message);
        store->ops->close(store);
        free(cert);
        free(key);
        return KS_EXIT_FAIL;
    }
    ks_oidc *oidc = NULL;
    if (make_oidc(s, &svc.secret, &oidc) != 0) {
        ks_service_close(&svc);
        store->ops->close(store);
        free(cert);
        free(key);
        return KS_EXIT_FAIL;
    }
    s->server.oidc = oidc;
    double t1 = ks_clock_monotonic();
    size_t total, active;
    ks_index_count(svc.index, &total, &active);
    ks_log("info", "index loaded", "{s:I, s:I, s:f}", "keys", (json_int_t)total, "active", (json_int_t)active,
           "ms", (t1 - t0) * 1e3);
    char err[512];
    ks_server *srv = ks_server_start(&svc, &s->server, err, sizeof err);
    const char *failed = !srv ? err
                         : ks_service_start_flusher(&svc, (int)flush_ms(s, store)) != KS_OK
                             ? "cannot start the last-used flusher"
                         : ks_webhook_worker_start(&svc, &s->webhooks) != KS_OK ? "cannot start the webhook worker"
                         : ks_sweeper_start(&svc, (int)s->sweep_seconds) != KS_OK ? "cannot start the sweeps"
                         : ks_heartbeat_start(&svc) != KS_OK ? "cannot start the node heartbeat"
                                                             : NULL;
    if (failed) {
        fprintf(stderr, "keystile: %s\n", failed);
        ks_server_stop(srv, 0);
        ks_service_close(&svc);
        ks_oidc_free(oidc);
        store->ops->close(store);
        free(cert);
        free(key);
        return KS_EXIT_FAIL;
    }
    ks_log("info", "listening", "{s:s, s:s, s:s, s:b}", "address", s->server.listen, "db", db_shown,
           "store", store->ops->backend, "tls", cert != NULL);
    int sig = 0;
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP)
        reload_files(s);
    ks_log("info", "stopping", "{s:i}", "signal", sig);
    ks_server_stop(srv, 3000);
    ks_service_close(&svc); /* flushes last-used times */
    ks_oidc_free(oidc);
    store->ops->close(store);
    if (key)
        sodium_memzero(key, strlen(key));
    free(cert);
    free(key);
    ks_log("info", "stopped", NULL);
    return KS_EXIT_OK;
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
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"log-format", required_argument, NULL, 'F'},
        {"last-used-flush", required_argument, NULL, 'u'},
        {"header-timeout", required_argument, NULL, 'H'},
        {"per-address-connections", required_argument, NULL, 'A'},
        {"failed-auth-limit", required_argument, NULL, 'R'},
        {"trusted-proxy", required_argument, NULL, 'X'},
        {"max-staleness", required_argument, NULL, 'S'},
        {"webhook-deny", required_argument, NULL, 'W'},
        {"sweep-interval", required_argument, NULL, 'Z'},
        {"oidc-issuer", required_argument, NULL, 'I'},
        {"oidc-client-id", required_argument, NULL, 'D'},
        {"oidc-client-secret-file", required_argument, NULL, 'O'},
        {"resource-map", required_argument, NULL, 'M'},
        {"github-keys", required_argument, NULL, 'G'},
        {"config", required_argument, NULL, 'f'},
        {"clock-offset-days", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const CLI_ONLY[] = {"config", "clock-offset-days", NULL};
    serve_settings s = {.db = "keystile.db", .max_staleness = 300, .server = {.listen = "127.0.0.1:8080"}};
    int merged_argc;
    char **merged;
    if (ks_serve_args_merge(argc, argv, OPTS, CLI_ONLY, &merged_argc, &merged) != 0)
        return KS_EXIT_USAGE;
    int rc = parse_settings(merged_argc, merged, OPTS, &s);
    if (rc < 0)
        rc = run(&s);
    ks_resource_map_live_close(s.server.resource_map); /* the server has stopped: no reader */
    ks_github_keys_live_close(s.server.github_keys);
    ks_serve_args_free(merged_argc, merged);
    return rc;
}
