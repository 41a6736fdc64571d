/*
 * cli_account.c - `keystile account create NAME [--owner-email EMAIL]
 * [--db PATH]`: makes an account with its built-in roles and an Owner key,
 * directly on the database, and prints {"account","key","token"} once;
 * with --owner-email, also makes that person an Owner of the account and
 * adds its one-time invitation link (built on --url, the address people
 * reach the server at) as "invite_url".
 */
#include "cli/cli.h"
#include "cli/client.h"
#include "core/error.h"
#include "service/people.h"
#include "service/service.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL "http://127.0.0.1:8080"

static void account_usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile account create NAME [--owner-email EMAIL [--url URL]] [--db PATH]\n"
            "                                    [--secret-file PATH]\n"
            "\n"
            "Creates account NAME (1-40 of a-z 0-9 -, starting with a letter) with the built-in\n"
            "roles and one key holding the Owner role, and prints once, as JSON:\n"
            "  {\"account\": NAME, \"key\": \"kst-NAME-...\", \"token\": \"kstt_...\"}\n"
            "Store the token now: it is never shown again. With --owner-email, the person of\n"
            "EMAIL also becomes an Owner of the account, and the JSON gets \"owner_email\" and,\n"
            "when that person has no password yet, \"invite_url\": a one-time link, valid 72\n"
            "hours, that sets the password (send it to them). Works offline on the database;\n"
            "a running server sees the new account after its next restart (with PostgreSQL,\n"
            "every running node sees it within a second).\n"
            "\n"
            "  --owner-email EMAIL  make the person of EMAIL an Owner and print its invite_url\n"
            "  --url URL            base URL people open the web admin at, for invite_url\n"
            "                       (default $KEYSTILE_URL, else " DEFAULT_URL ")\n"
            "  --db PATH|URI        SQLite database file (default keystile.db), or a\n"
            "                       postgresql:// URI shared by several nodes\n"
            "  --secret-file PATH   server secret (default PATH.secret beside a SQLite database;\n"
            "                       required with PostgreSQL: the same file on every node)\n");
}

typedef struct {
    const char *db, *secret_file, *owner_email, *url;
} account_opts;

/* -1 when the options parsed, else the exit code (after --help or a usage error). */
static int parse(int argc, char **argv, account_opts *o)
{
    static const struct option OPTS[] = {
        {"db", required_argument, NULL, 'd'},
        {"secret-file", required_argument, NULL, 's'},
        {"owner-email", required_argument, NULL, 'e'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 's': o->secret_file = optarg; break;
        case 'e': o->owner_email = optarg; break;
        case 'u': o->url = optarg; break;
        case 'h': account_usage(stdout); return KS_EXIT_OK;
        default: account_usage(stderr); return KS_EXIT_USAGE;
        }
    }
    return -1;
}

/* 1 when url is an http(s) base URL we can put "/invite/<id>" after. */
static int url_valid(const char *url)
{
    size_t n = strlen(url);
    int scheme = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    return scheme && n > 8 && n < 512 && strpbrk(url, " \t\r\n?#") == NULL;
}

/* Makes the person of email an Owner of account; on KS_OK, url_out holds
 * its invitation link ("" when the person has a password already). */
static int owner_invite(ks_service *svc, const char *account, const char *email, const char *base,
                        char *url_out, size_t url_cap)
{
    char *owner[] = {"Owner"};
    ks_strlist roles = {.items = owner, .count = 1};
    ks_actor who = {.actor = "cli", .account = account, .via = NULL, .address = NULL};
    ks_member m;
    char id[KS_INVITE_ID_MAX];
    int rc = ks_people_invite(svc, &who, email, &roles, &m, id);
    url_out[0] = '\0';
    if (rc == KS_OK) {
        ks_member_free(&m);
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/')
            n--;
        if (id[0])
            snprintf(url_out, url_cap, "%.*s/invite/%s", (int)n, base, id);
    }
    sodium_memzero(id, sizeof id);
    return rc;
}

int ks_cli_account(int argc, char **argv)
{
    account_opts o = {.db = "keystile.db"};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2 || strcmp(argv[optind], "create") != 0) {
        account_usage(stderr);
        return KS_EXIT_USAGE;
    }
    const char *name = argv[optind + 1];
    if (!ks_account_name_valid(name)) {
        fprintf(stderr, "keystile: invalid account name '%s': use 1-40 of a-z 0-9 -, starting with a letter\n", name);
        return KS_EXIT_USAGE;
    }
    char email[KS_EMAIL_MAX + 1] = "";
    if (o.owner_email && ks_email_normalize(o.owner_email, email) != KS_OK) {
        fprintf(stderr, "keystile: invalid --owner-email: an email address of at most 254 bytes is needed\n");
        return KS_EXIT_USAGE;
    }
    if (o.url && !o.owner_email) {
        fprintf(stderr, "keystile: --url is only used with --owner-email\n");
        return KS_EXIT_USAGE;
    }
    const char *base = o.url ? o.url : getenv("KEYSTILE_URL");
    if (!base || !*base)
        base = DEFAULT_URL;
    if (o.owner_email && !url_valid(base)) {
        fprintf(stderr, "keystile: invalid --url '%s': give the server's base URL, e.g. %s\n", base, DEFAULT_URL);
        return KS_EXIT_USAGE;
    }
    ks_store *store;
    ks_service svc;
    if (ks_cli_open_offline(o.db, o.secret_file, &store, &svc) != 0)
        return KS_EXIT_FAIL;
    ks_key owner = {0};
    char token[KS_TOKEN_LEN + 1];
    char url[640] = "";
    rc = ks_service_account_create(&svc, name, "cli", &owner, token);
    int invite_rc = KS_OK;
    if (rc == KS_OK && email[0])
        invite_rc = owner_invite(&svc, name, email, base, url, sizeof url);
    if (rc == KS_OK) {
        json_t *out = json_pack("{s:s, s:s, s:s}", "account", name, "key", owner.key_id, "token", token);
        if (out && email[0] && invite_rc == KS_OK) {
            json_object_set_new(out, "owner_email", json_string(email));
            json_object_set_new(out, "invite_url", url[0] ? json_string(url) : json_null());
        }
        char *text = out ? json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text) {
            printf("%s\n", text);
            fflush(stdout);
            sodium_memzero(text, strlen(text));
            free(text);
        } else {
            rc = KS_ERR_NOMEM;
            fprintf(stderr, "keystile: out of memory\n");
        }
        ks_json_wipe_string(out, "token");
        ks_json_wipe_string(out, "invite_url");
        json_decref(out);
        if (rc == KS_OK && email[0] && invite_rc == KS_OK && !url[0])
            fprintf(stderr, "keystile: %s already has a password: they can sign in to account %s now\n", email,
                    name);
        if (invite_rc != KS_OK) {
            fprintf(stderr, "keystile: account '%s' was created, but %s could not be made its Owner: %s\n", name,
                    email, ks_error_info(invite_rc)->message);
            rc = invite_rc;
        }
    } else if (rc == KS_ERR_NAME_TAKEN) {
        fprintf(stderr, "keystile: account '%s' already exists\n", name);
    } else {
        fprintf(stderr, "keystile: cannot create account '%s': %s\n", name, ks_error_info(rc)->message);
    }
    sodium_memzero(token, sizeof token);
    sodium_memzero(url, sizeof url);
    ks_key_free(&owner);
    ks_service_close(&svc);
    store->ops->close(store);
    return rc == KS_OK ? KS_EXIT_OK : KS_EXIT_FAIL;
}
