/*
 * commands.c - the command table of commands.h: every command's synopsis,
 * description, options and examples, and the shared texts. Edit help here;
 * then regenerate the man page: build/keystile help --man > docs/keystile.1
 * (tests/cli checks that the two agree).
 */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

const char KS_HELP_INTRO[] =
    "Keystile is a self-hosted API key and token service. An API key (kst-ACCOUNT-xxxxxxxxxx) is "
    "the public identifier of a credential; its API token (kstt_...) is the secret, shown exactly "
    "once when it is created or renewed. A key holds roles, named sets of resources; gateways ask "
    "Keystile on every request whether a key and token are valid, and for which resources.\n\n"
    "keystile serve runs the HTTP API and keystile account create sets up an account, both on the "
    "database directly: --db PATH, a SQLite file (default keystile.db). The server secret that keys "
    "the token hashes lives in PATH.secret (created 0600) unless --secret-file is given. With "
    "--db postgresql://..., several nodes share one PostgreSQL database and each enforces the "
    "others' writes within a second; --secret-file is then required (the same file on every "
    "node). The other commands are clients of the HTTP API, for admins and their automation.";

const char KS_HELP_CLIENT[] =
    "The client commands (keys, settings, roles, external, users, audit, webhooks, verify) call the server at "
    "$KEYSTILE_URL with the credential in $KEYSTILE_KEY and $KEYSTILE_TOKEN; --url, --key and "
    "--token override them. The account managed is the credential key's own account, read from "
    "the key id kst-ACCOUNT-xxxxxxxxxx, unless --account names another one (where the key must "
    "have been granted roles as an external key).\n\n"
    "Output is a readable table; --json prints the API's JSON instead. Tokens are never printed, "
    "except the one fresh token of keys create and keys renew (and the signing secret of webhooks "
    "create, also shown once). Destructive commands (keys delete, "
    "keys delete-old-token, roles delete, external remove, users remove, webhooks delete) ask for "
    "confirmation on a terminal and "
    "need --yes otherwise.";

const char KS_HELP_EXIT[] =
    "0\tsuccess (for verify: the credential is valid).\n"
    "1\tthe API answered with an error, printed as \"keystile: CODE: MESSAGE\" on standard error "
    "(for verify: the credential is not valid), the server could not be reached, or a "
    "confirmation was declined.\n"
    "2\tbad usage: unknown command or option, missing or malformed argument, missing "
    "configuration, or a destructive command without --yes when standard input is not a terminal.";

const char KS_HELP_ENV[] =
    "KEYSTILE_URL\tBase URL of the Keystile server, e.g. http://127.0.0.1:8080.\n"
    "KEYSTILE_KEY\tAPI key id of the credential the client commands use.\n"
    "KEYSTILE_TOKEN\tAPI token of that key. Prefer it to --token, which other users can see in "
    "the process list.";

const ks_opt_doc KS_OPTS_CONN[] = {
    {"url", "URL", 0, "Base URL of the Keystile server (default: $KEYSTILE_URL)."},
    {"key", "KEY", 0, "API key id to authenticate with (default: $KEYSTILE_KEY)."},
    {"token", "TOKEN", 0,
     "API token of that key (default: $KEYSTILE_TOKEN). Prefer the environment variable: a "
     "token on the command line shows in the process list."},
    {NULL, NULL, 0, NULL},
};
const ks_opt_doc KS_OPT_ACCOUNT = {
    "account", "ACCOUNT", 0,
    "Account to manage (default: the account in the credential's key id). Use it with a key that "
    "another account granted roles to."};
const ks_opt_doc KS_OPT_JSON = {"json", NULL, 0, "Print the API's JSON instead of a table."};
const ks_opt_doc KS_OPT_YES = {
    "yes", NULL, 0,
    "Do not ask for confirmation. Needed when standard input is not a terminal (scripts, CI)."};
const ks_opt_doc KS_OPT_HELP = {"help", NULL, 0, "Show the help of the command."};

const ks_group_doc KS_GROUPS[] = {
    {"serve", "run the HTTP API",
     "Serves the Keystile HTTP API and the verify endpoint from a database. Logs are JSON lines on "
     "standard error; tokens and credentials are never logged."},
    {"account", "create an account and print its Owner key and token (offline)",
     "Works on the database directly, without a running server."},
    {"signing-key", "rotate the key that signs login tokens (offline)",
     "Works on the database directly; running servers pick the new key up within 30 seconds."},
    {"keys", "manage the account's API keys and their tokens",
     "A key has a current token and, after a renewal, at most one old token: both verify until the "
     "old one is deleted, so an integration can switch to the new token without downtime. A token "
     "is outdated when it is older than the account's token duration (see keystile settings)."},
    {"settings", "show or change the token duration and its enforcement",
     "Each account has a token duration of 3 or 6 months. An older token is outdated: its key shows a "
     "renewal alert, and if the account enforces the duration, the token fails with expired."},
    {"roles", "manage roles, the named sets of resources that keys hold",
     "Resources are strings such as orders.read. The built-in management resources are "
     "view-api-keys, edit-api-keys, renew-api-token, edit-api-keys-settings, edit-roles, "
     "view-audit-log, edit-users and edit-webhooks. Every account has the built-in roles Owner "
     "(all of them) and User Administrator - RESTRICTED (the four *-api-* ones and edit-users), "
     "which cannot be changed. Nobody may put a management resource it lacks into a role, or "
     "edit or delete a role holding one."},
    {"external", "grant roles in this account to keys of other accounts",
     "An external key is a key of another account that this account granted roles to. Its home "
     "account keeps its tokens and its own status; this account controls only the grant: which "
     "roles the key holds here and whether the grant is active."},
    {"users", "manage the people who sign in to the web admin",
     "A person signs in to the web admin with email and password (and a TOTP code once enrolled); "
     "keys stay for machines. A person is named by email, may belong to several accounts and holds "
     "roles and a status per account, limited by delegation like keys. Managing people needs the "
     "edit-users resource."},
    {"audit", "read the account's audit log",
     "Every change to keys, roles, settings and external keys is audited, and so are web sign-ins, "
     "login tokens issued, share links revealed and failed authentications of management calls. "
     "An entry says who (actor), what (action, target, detail), how the actor authenticated (via) and "
     "from which client address; it never holds a token."},
    {"webhooks", "send the account's events to your systems, signed",
     "A webhook is a URL that Keystile POSTs the account's events to: key.created, key.deleted, "
     "key.activated, key.deactivated, token.renewed, token.renewal_undone, token.old_deleted, "
     "key.renewal_due, key.renewal_recommended, key.renewal_highly_recommended and token.leaked. Each "
     "delivery is signed as Standard Webhooks specify (headers webhook-id, webhook-timestamp and "
     "webhook-signature, an HMAC-SHA256 under the webhook's secret), is sent at least once, and is "
     "retried with backoff for 24 hours while the receiver does not answer 2xx within 10 seconds. "
     "Bodies never hold a token. Every webhook command needs the edit-webhooks resource."},
    {"verify", "check a key and token the way a gateway does",
     "The call gateways make on every request of an integration."},
    {NULL, NULL, NULL},
};

static const ks_opt_doc KEYS_LIST_OPTS[] = {
    {"q", "TEXT", 0, "Only keys whose name or key id contains TEXT (case-insensitive)."},
    {"status", "active|inactive", 0, "Only keys with this status."},
    {"outdated", "true|false", 0,
     "true: only keys whose current token is older than the token duration; false: only the others."},
    {"limit", "N", 0, "Print at most N keys (default: every matching key)."},
    {"page-size", "N", 0, "Keys fetched per request, 1-500 (default 100)."},
    {"cursor", "CURSOR", 0,
     "Start after this position: the next_cursor printed by an earlier --json --limit listing "
     "with the same filters."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc KEYS_USAGE_OPTS[] = {
    {"granularity", "hour|day", 0, "Rows per hour (the last 48 hours, the default) or per day (the last 30 days)."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc KEYS_CREATE_OPTS[] = {
    {"name", "NAME", 0, "Name of the key, 1-100 characters; names need not be unique. Required."},
    {"role", "ROLE", KS_OPT_REPEAT, "Give the key this role; repeat for several. Default: no role."},
    {"allow-cidr", "CIDR", KS_OPT_REPEAT,
     "Accept the key's tokens only from this IPv4 or IPv6 range or address; repeat for several (at most 32). "
     "Default: any address."},
    {"rate-limit", "N", 0, "Let the key verify at most N times per --rate-period (a token bucket). Default: no limit."},
    {"rate-period", "SECONDS", 0, "The period of --rate-limit, 1-86400 seconds."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc KEYS_EDIT_OPTS[] = {
    {"name", "NAME", 0, "New name of the key."},
    {"role", "ROLE", KS_OPT_REPEAT, "Replace the key's roles by these; repeat for several."},
    {"no-roles", NULL, 0, "Remove every role of the key."},
    {"allow-cidr", "CIDR", KS_OPT_REPEAT,
     "Replace the key's allowed ranges by these; repeat for several; --allow-cidr '' allows any address again."},
    {"rate-limit", "N", 0, "Set the key's rate limit to N verifies per --rate-period; 0 removes the limit."},
    {"rate-period", "SECONDS", 0, "The period of --rate-limit, 1-86400 seconds."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc KEYS_RENEW_OPTS[] = {
    {"delete-old", "now|later", 0,
     "later (default): the previous token becomes the old token and keeps verifying. now: it "
     "stops verifying at once."},
    {"old-token-ttl", "DURATION", 0,
     "With later: the old token stops verifying DURATION from now and is then deleted by the "
     "server, as actor system. DURATION is a number and a unit: 90m, 24h, 7d (also s); at most 30 "
     "days. The deadline is computed from this machine's clock and sent as old_token_expires_at."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc KEYS_EXPORT_OPTS[] = {
    {"format", "csv|xlsx", 0, "csv (default) or xlsx."},
    {"include", "limits", 0,
     "Add the per-key limits after the usual columns: allowed_cidrs (joined by ;), rate_limit and "
     "rate_period_seconds (empty for none; external keys' limits belong to their home account and "
     "stay empty)."},
    {"output", "FILE", 0,
     "Write to FILE (replaced if it exists) instead of standard output. Required for xlsx when "
     "standard output is a terminal."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc SETTINGS_SET_OPTS[] = {
    {"months", "3|6", 0, "Token duration in months."},
    {"enforce-duration", "true|false", 0,
     "true: outdated tokens fail with expired, in verify and management calls alike. false: they "
     "keep working and only show a renewal alert."},
    {"auto-delete-old-token-hours", "HOURS|off", 0,
     "Delete an old token by itself (actor system) once the current token has verified since the "
     "renewal and the old one has not verified for HOURS hours, 1-720. off: never (the default)."},
    {"renewal-notice-days", "DAYS", 0,
     "How many days before a token expires the key.renewal_due event is raised, 0-60 (default 14)."},
    {"deactivate-unused-days", "DAYS|off", 0,
     "Deactivate (actor system) a key none of whose tokens verified for DAYS days, 30-730; never the "
     "account's last active Owner. off: never (the default)."},
    {"leaked-token-action", "alert|revoke", 0,
     "What a token reported leaked by GitHub secret scanning does besides its audit entry and the "
     "token.leaked event: alert (the default) does nothing more; revoke deletes a leaked old token "
     "and deactivates the key of a leaked current token."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc LIST_LIMIT_OPTS[] = {
    {"limit", "N", 0, "Print at most N items (default: all)."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc ROLES_CREATE_OPTS[] = {
    {"resource", "RESOURCE", KS_OPT_REPEAT,
     "A resource of the role, 1-128 characters of letters, digits and . _ : / * -; repeat for "
     "several. At least one is required."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc ROLES_EDIT_OPTS[] = {
    {"name", "NEW", 0, "Rename the role; keys holding it keep it under the new name."},
    {"resource", "RESOURCE", KS_OPT_REPEAT, "Replace the role's resources by these; repeat for several."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc EXTERNAL_ADD_OPTS[] = {
    {"role", "ROLE", KS_OPT_REPEAT, "A role of this account to grant; repeat for several. At least one."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc EXTERNAL_EDIT_OPTS[] = {
    {"role", "ROLE", KS_OPT_REPEAT, "Replace the granted roles by these; repeat for several."},
    {"status", "active|inactive", 0, "Switch the grant on or off; the key's home account is not affected."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc USERS_INVITE_OPTS[] = {
    {"role", "ROLE", KS_OPT_REPEAT, "Give the person this role in the account; repeat for several. Default: no role."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc USERS_EDIT_OPTS[] = {
    {"role", "ROLE", KS_OPT_REPEAT, "Replace the person's roles in the account by these; repeat for several."},
    {"no-roles", NULL, 0, "Remove every role of the person in the account."},
    {"status", "active|inactive", 0,
     "inactive: the person can no longer act in this account and its sessions end at once; active: "
     "allowed again. Other accounts of the person are not affected."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc AUDIT_LIST_OPTS[] = {
    {"actor", "KEY", 0,
     "Only entries by this actor, exact match: a key id, or cli, system, unknown (a failed "
     "authentication whose credential named no key) or anonymous (a share link revealed)."},
    {"action", "ACTION", 0, "Only entries of this action, exact match, e.g. key.renew or auth.failed."},
    {"limit", "N", 0, "Print at most N entries, the newest (default: every matching entry)."},
    {"page-size", "N", 0, "Entries fetched per request, 1-500 (default 100)."},
    {"cursor", "CURSOR", 0,
     "Start after this position: the next_cursor printed by an earlier --json --limit listing "
     "with the same filters."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc WEBHOOK_EVENT_OPTS[] = {
    {"events", "E1,E2", KS_OPT_REPEAT,
     "The event types to send, separated by commas, e.g. token.renewed,token.old_deleted (see "
     "keystile help webhooks). Edit replaces the whole list."},
    {"event", "EVENT", KS_OPT_REPEAT, "One event type to send; repeat for several. Adds to --events."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc WEBHOOK_EDIT_OPTS[] = {
    {"endpoint", "URL", 0,
     "The new URL the deliveries are POSTed to (--url is the Keystile server's own URL)."},
    {"events", "E1,E2", KS_OPT_REPEAT,
     "Replace the event types sent by these, separated by commas. Adds to --event."},
    {"event", "EVENT", KS_OPT_REPEAT, "One event type of the new list; repeat for several."},
    {"enabled", "true|false", 0,
     "false: send no new events to it; what was queued waits until it is enabled again (within "
     "24 hours). true: send again."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc WEBHOOK_DELIVERIES_OPTS[] = {
    {"limit", "N", 0, "Print at most N deliveries, the newest (default: every delivery kept, 30 days)."},
    {"page-size", "N", 0, "Deliveries fetched per request, 1-500 (default 100)."},
    {"cursor", "CURSOR", 0,
     "Start after this position: the next_cursor printed by an earlier --json --limit listing."},
    {NULL, NULL, 0, NULL},
};

static const ks_opt_doc VERIFY_OPTS[] = {
    {"resource", "RESOURCE", 0, "Also require that the key's roles in the target account grant RESOURCE."},
    {"account", "ACCOUNT", 0,
     "The account to check access in (default: the key's own account); for an external key, the "
     "account that granted it roles."},
    {NULL, NULL, 0, NULL},
};

#define CLIENT (KS_WITH_CONN | KS_WITH_ACCOUNT | KS_WITH_JSON)

const ks_cmd_doc KS_COMMANDS[] = {
    /* serve, account and signing-key keep their help in cli_serve.c,
     * cli_account.c and cli_signing_key.c; the man page embeds it from there. */
    {"serve", NULL, NULL, "[--db PATH] [--listen HOST:PORT] [OPTIONS]", "run the HTTP API", NULL, NULL, 0,
     NULL, NULL},
    {"account", "create", "NAME", "NAME [--owner-email EMAIL [--url URL]] [--db PATH] [--secret-file PATH]",
     "create an account and print its Owner key and token (offline)", NULL, NULL, 0, NULL, NULL},
    {"signing-key", "rotate", NULL, "[--db PATH] [--secret-file PATH]",
     "retire the login token signing key and make a new one (offline)", NULL, NULL, 0, NULL, NULL},

    {"keys", "list", NULL,
     "[--q TEXT] [--status active|inactive] [--outdated true|false] [--limit N] [OPTIONS]",
     "list the account's keys, newest first",
     "Prints a table with the columns KEY, NAME, ROLES, STATUS, CREATED, OUTDATED, ALERT (the "
     "renewal alert: none, recommended or highly_recommended) and TOKENS (current, or current+old "
     "while a renewal awaits keystile keys delete-old-token).\n\n"
     "It follows the API's next_cursor and prints every matching key unless --limit is given. With "
     "--json it prints {\"items\": [...], \"next_cursor\": ...}: the keys fetched and the cursor "
     "to continue after the last one (null at the end). Needs the view-api-keys resource.",
     KEYS_LIST_OPTS, CLIENT,
     "# every key of the account\n"
     "keystile keys list\n"
     "# active keys that are due for renewal\n"
     "keystile keys list --status active --outdated true\n"
     "# search names and ids, as JSON\n"
     "keystile keys list --q erp --json\n",
     ks_cmd_keys_list},
    {"keys", "usage", "KEY", "KEY [--granularity hour|day] [OPTIONS]", "show how often a key verified, by outcome",
     "Prints the key's verifies per hour (the last 48 hours) or per day (the last 30 days) by outcome: "
     "valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited; only hours "
     "or days with at least one verify. Then a one-line sparkline of its verifies in each of the last "
     "24 hours. With --json the API's answer. Needs view-api-keys.",
     KEYS_USAGE_OPTS, CLIENT,
     "keystile keys usage kst-acme-k3v7q2m7xa\n"
     "keystile keys usage kst-acme-k3v7q2m7xa --granularity day --json\n",
     ks_cmd_keys_usage},
    {"keys", "show", "KEY", "KEY [OPTIONS]", "show one key and the dates of its tokens",
     "Prints the key's name, type, roles, status, creation time, outdated flag and renewal alert, "
     "then for each token (current, and old during a renewal) when it was created, when it expires "
     "and when it was last used. Tokens themselves are never shown again after create or renew. "
     "Needs view-api-keys.",
     NULL, CLIENT,
     "keystile keys show kst-acme-k3v7q2m7xa\n",
     ks_cmd_keys_show},
    {"keys", "create", NULL,
     "--name NAME [--role ROLE]... [--allow-cidr CIDR]... [--rate-limit N --rate-period SECONDS] [OPTIONS]",
     "create a key and print its token once",
     "Creates an active key with a new token and prints the token ONCE, with a warning on standard "
     "error to store it: Keystile keeps only a keyed hash of it and cannot show it again. With "
     "--json the API's answer, token included, is printed instead of the table.\n\n"
     "Roles must exist in the account (keystile roles list). A key without roles is still a valid "
     "credential for verify calls that ask for no resource. Needs edit-api-keys.",
     KEYS_CREATE_OPTS, CLIENT,
     "keystile keys create --name \"ERP sync\" --role \"User Administrator - RESTRICTED\"\n"
     "# keep the token in a file only you can read (needs jq)\n"
     "(umask 077; keystile keys create --name ci --json | jq -r .token > ci.token)\n",
     ks_cmd_keys_create},
    {"keys", "edit", "KEY", "KEY [--name NAME] [--role ROLE]... [--no-roles] [--allow-cidr CIDR]... "
     "[--rate-limit N --rate-period SECONDS] [OPTIONS]",
     "rename a key, replace its roles or change its limits",
     "Changes the key's name, roles, allowed addresses and/or rate limit (PATCH). --role replaces the whole "
     "list of roles with the ones given; --no-roles removes them all. --allow-cidr replaces the allowed "
     "ranges (--allow-cidr '' clears them); --rate-limit 0 removes the rate limit. At least one option is "
     "needed. The key's tokens do not change. Needs edit-api-keys.",
     KEYS_EDIT_OPTS, CLIENT,
     "keystile keys edit kst-acme-k3v7q2m7xa --name \"ERP sync (prod)\"\n"
     "keystile keys edit kst-acme-k3v7q2m7xa --role orders-reader --role orders-writer\n"
     "keystile keys edit kst-acme-k3v7q2m7xa --allow-cidr 203.0.113.0/24 --rate-limit 100 --rate-period 60\n",
     ks_cmd_keys_edit},
    {"keys", "activate", "KEY", "KEY [OPTIONS]", "let an inactive key verify again",
     "Sets the key's status to active: its tokens, kept while it was inactive, verify again. "
     "Needs edit-api-keys.",
     NULL, CLIENT, "keystile keys activate kst-acme-k3v7q2m7xa\n", ks_cmd_keys_activate},
    {"keys", "deactivate", "KEY", "KEY [OPTIONS]", "stop a key from verifying, keeping its tokens",
     "Sets the key's status to inactive: verify refuses both its tokens with reason inactive until "
     "the key is activated again. Nothing is deleted. Deactivating the key you are using is "
     "allowed; you then need another key to undo it. Needs edit-api-keys.",
     NULL, CLIENT, "keystile keys deactivate kst-acme-k3v7q2m7xa\n", ks_cmd_keys_deactivate},
    {"keys", "delete", "KEY", "KEY [--yes] [OPTIONS]", "delete a key with its tokens and grants",
     "Deletes the key for good; verify then answers unknown_key for it. Asks for confirmation on a "
     "terminal; pass --yes in scripts (without a terminal and without --yes it refuses, exit status "
     "2). Needs edit-api-keys.",
     NULL, CLIENT | KS_WITH_YES, "keystile keys delete kst-acme-k3v7q2m7xa --yes\n", ks_cmd_keys_delete},
    {"keys", "renew", "KEY", "KEY [--delete-old now|later] [--old-token-ttl DURATION] [OPTIONS]",
     "give a key a new token (rotation without downtime)",
     "Makes a new current token and prints it ONCE, with a warning on standard error to store it.\n\n"
     "With --delete-old later (the default) the previous token becomes the old token and keeps "
     "verifying, so the integration can switch to the new token without downtime; then retire the "
     "old one with keystile keys delete-old-token KEY, or go back with keystile keys undo-renewal "
     "KEY. With --old-token-ttl (24h, 7d, at most 30 days) the old token stops verifying by "
     "itself at that time, on every server node, and the server deletes it; keys show prints that "
     "deadline under ENDS. With --delete-old now the previous token stops verifying at once.\n\n"
     "Fails with old_token_exists while the key still has an old token. Needs renew-api-token.",
     KEYS_RENEW_OPTS, CLIENT,
     "# 1. a new token; the previous one keeps working\n"
     "keystile keys renew kst-acme-k3v7q2m7xa\n"
     "# 2. once the integration uses the new token, retire the old one\n"
     "keystile keys delete-old-token kst-acme-k3v7q2m7xa --yes\n"
     "# or let the old token end by itself in 24 hours\n"
     "keystile keys renew kst-acme-k3v7q2m7xa --delete-old later --old-token-ttl 24h\n"
     "# a leaked token: replace it at once\n"
     "keystile keys renew kst-acme-k3v7q2m7xa --delete-old now\n",
     ks_cmd_keys_renew},
    {"keys", "delete-old-token", "KEY", "KEY [--yes] [OPTIONS]", "retire the old token after a renewal",
     "Deletes the key's old token for good; it stops verifying at once and only the current token "
     "remains. Asks for confirmation like keys delete. Fails with no_old_token when the key has no "
     "old token. Needs renew-api-token.",
     NULL, CLIENT | KS_WITH_YES, "keystile keys delete-old-token kst-acme-k3v7q2m7xa --yes\n",
     ks_cmd_keys_delete_old_token},
    {"keys", "undo-renewal", "KEY", "KEY [OPTIONS]", "go back to the token before the last renewal",
     "Makes the old token current again; the newer token stops verifying at once. Use it when the "
     "switch to a renewed token went wrong. Fails with no_old_token when there is no old token. "
     "Needs renew-api-token.",
     NULL, CLIENT, "keystile keys undo-renewal kst-acme-k3v7q2m7xa\n", ks_cmd_keys_undo_renewal},
    {"keys", "export", NULL, "[--format csv|xlsx] [--include limits] [--output FILE] [OPTIONS]",
     "export the account's keys as CSV or XLSX",
     "Writes the account's keys, generated and external, as CSV (the default: a header line key, "
     "name, type, roles, status, created_at, outdated, current_token_created_at, "
     "old_token_created_at, last_used_at, roles joined by ;) or as an XLSX workbook with the sheets "
     "Generated and External. An export holds no tokens.\n\n"
     "The output goes to standard output, or to FILE with --output; FILE is written only after the "
     "server answered successfully. XLSX is binary: it needs --output, or standard output "
     "redirected away from the terminal. Needs view-api-keys.",
     KEYS_EXPORT_OPTS, KS_WITH_CONN | KS_WITH_ACCOUNT,
     "keystile keys export > keys.csv\n"
     "keystile keys export --format xlsx --output keys.xlsx\n"
     "keystile keys export --include limits > keys-with-limits.csv\n",
     ks_cmd_keys_export},

    {"settings", "get", NULL, "[OPTIONS]", "show the token duration and whether it is enforced",
     "Prints the account's token duration (3 or 6 months: how old a token may get before its key "
     "is outdated and a renewal is recommended), whether the duration is enforced (outdated "
     "tokens then fail with expired), after how many idle hours an old token is deleted by itself "
     "(off by default) and how many days before expiry key.renewal_due is raised. Needs view-api-keys or edit-api-keys-settings.",
     NULL, CLIENT, "keystile settings get\n", ks_cmd_settings_get},
    {"settings", "set", NULL,
     "[--months 3|6] [--enforce-duration true|false] [--auto-delete-old-token-hours HOURS|off] "
     "[--renewal-notice-days DAYS] [--deactivate-unused-days DAYS|off] [--leaked-token-action alert|revoke] "
     "[OPTIONS]",
     "change the token duration, its enforcement, auto-delete or notices",
     "Changes the settings given; the others keep their value. At least one option is needed. "
     "Careful: --enforce-duration true makes every outdated token fail at once, possibly the one "
     "you are using; renew outdated keys first (keystile keys list --outdated true). Needs "
     "edit-api-keys-settings.",
     SETTINGS_SET_OPTS, CLIENT,
     "keystile settings set --months 6\n"
     "keystile settings set --enforce-duration true\n"
     "# delete old tokens idle for a day once their successor is in use\n"
     "keystile settings set --auto-delete-old-token-hours 24 --renewal-notice-days 30\n"
     "# a key whose token leaks publicly stops working at once\n"
     "keystile settings set --leaked-token-action revoke\n",
     ks_cmd_settings_set},

    {"roles", "list", NULL, "[--limit N] [OPTIONS]", "list the account's roles and their resources",
     "Prints a table with the columns NAME, BUILTIN and RESOURCES, the built-in roles first. Needs "
     "view-api-keys or edit-roles.",
     LIST_LIMIT_OPTS, CLIENT, "keystile roles list\n", ks_cmd_roles_list},
    {"roles", "create", "NAME", "NAME --resource RESOURCE... [OPTIONS]", "create a role",
     "Creates role NAME with the resources given. NAME is 1-100 characters, unique in the account "
     "(name_taken otherwise); quote a name with spaces. Needs edit-roles.",
     ROLES_CREATE_OPTS, CLIENT,
     "keystile roles create orders-reader --resource orders.read\n"
     "keystile roles create \"Order desk\" --resource orders.read --resource orders.write\n",
     ks_cmd_roles_create},
    {"roles", "edit", "NAME", "NAME [--name NEW] [--resource RESOURCE]... [OPTIONS]",
     "rename a role or replace its resources",
     "Renames role NAME and/or replaces its whole list of resources with the ones given. At least "
     "one option is needed. Built-in roles cannot be edited (builtin_role). Needs edit-roles.",
     ROLES_EDIT_OPTS, CLIENT,
     "keystile roles edit orders-reader --resource orders.read --resource invoices.read\n"
     "keystile roles edit \"Order desk\" --name \"Order office\"\n",
     ks_cmd_roles_edit},
    {"roles", "delete", "NAME", "NAME [--yes] [OPTIONS]", "delete a role",
     "Deletes role NAME. Fails with role_in_use while a key holds it, and with builtin_role for a "
     "built-in role. Asks for confirmation on a terminal; pass --yes in scripts. Needs edit-roles.",
     NULL, CLIENT | KS_WITH_YES, "keystile roles delete \"Order office\" --yes\n", ks_cmd_roles_delete},

    {"external", "list", NULL, "[--limit N] [OPTIONS]", "list the keys of other accounts granted roles here",
     "Prints a table with the columns KEY, ACCOUNT (the key's home account), NAME, ROLES (granted "
     "here), STATUS (of the grant), CREATED, OUTDATED and ALERT. Needs view-api-keys.",
     LIST_LIMIT_OPTS, CLIENT, "keystile external list\n", ks_cmd_external_list},
    {"external", "add", "KEY", "KEY --role ROLE... [OPTIONS]", "grant roles here to another account's key",
     "Grants roles of this account to KEY, a key of another account (not_found if it does not "
     "exist; a key of this account gets its roles with keystile keys edit). Its integration then "
     "passes verify with account=THIS-ACCOUNT for the resources of these roles, using its own "
     "token. Needs edit-api-keys.",
     EXTERNAL_ADD_OPTS, CLIENT, "keystile external add kst-partner-a2b3c4d5e6 --role orders-reader\n",
     ks_cmd_external_add},
    {"external", "edit", "KEY", "KEY [--role ROLE]... [--status active|inactive] [OPTIONS]",
     "replace an external key's roles, or switch its grant on or off",
     "Replaces the roles granted to KEY with the ones given, and/or sets the grant's status. At "
     "least one option is needed. Needs edit-api-keys.",
     EXTERNAL_EDIT_OPTS, CLIENT, "keystile external edit kst-partner-a2b3c4d5e6 --status inactive\n",
     ks_cmd_external_edit},
    {"external", "remove", "KEY", "KEY [--yes] [OPTIONS]", "withdraw an external key's grant",
     "Removes the grant: KEY loses its access to this account. The key itself is untouched in its "
     "home account. Asks for confirmation on a terminal; pass --yes in scripts. Needs edit-api-keys.",
     NULL, CLIENT | KS_WITH_YES, "keystile external remove kst-partner-a2b3c4d5e6 --yes\n",
     ks_cmd_external_remove},

    {"users", "list", NULL, "[--limit N] [OPTIONS]", "list the account's people",
     "Prints a table with the columns EMAIL, STATUS (of the person in this account), ROLES (here), "
     "TOTP (whether sign-in needs a code), SSO (signed in by single sign-on at least once), CREATED "
     "(added to the account) and LAST-SIGN-IN (- for never). With --json it prints {\"items\": "
     "[...]}. Needs edit-users.",
     LIST_LIMIT_OPTS, CLIENT, "keystile users list\nkeystile users list --json\n", ks_cmd_users_list},
    {"users", "invite", "EMAIL", "EMAIL [--role ROLE]... [OPTIONS]", "add a person to the account",
     "Adds the person of EMAIL (case-insensitive) to the account with the roles given, creating the "
     "person when new. A person who has no password yet gets a one-time invitation link, valid 72 "
     "hours, printed once (invite_url with --json): send it to them; opening it sets their password. "
     "A person who already has a password (a member of another account) can sign in at once. Fails "
     "with name_taken when the person is already a member. You cannot give roles you do not hold "
     "yourself (delegation). Needs edit-users.",
     USERS_INVITE_OPTS, CLIENT,
     "keystile users invite ada@example.com --role \"User Administrator - RESTRICTED\"\n"
     "keystile users invite ops@example.com --role Owner --json\n",
     ks_cmd_users_invite},
    {"users", "edit", "EMAIL", "EMAIL [--role ROLE]... [--no-roles] [--status active|inactive] [OPTIONS]",
     "change a person's roles or status in the account",
     "Replaces the person's roles in this account with the ones given (--role, or --no-roles for "
     "none) and/or sets its status. Deactivating ends the person's sessions at once, on every node. "
     "At least one option is needed. Fails with last_owner when it would leave the account without "
     "an active Owner (key or person). Needs edit-users.",
     USERS_EDIT_OPTS, CLIENT,
     "keystile users edit ada@example.com --role Owner\n"
     "keystile users edit ada@example.com --status inactive\n",
     ks_cmd_users_edit},
    {"users", "remove", "EMAIL", "EMAIL [--yes] [OPTIONS]", "take a person out of the account",
     "Removes the person from this account and ends its sessions at once; its other accounts stay. "
     "Fails with last_owner when it was the account's last active Owner. Asks for confirmation on a "
     "terminal; pass --yes in scripts. Needs edit-users.",
     NULL, CLIENT | KS_WITH_YES, "keystile users remove ada@example.com --yes\n", ks_cmd_users_remove},

    {"audit", "list", NULL, "[--actor KEY] [--action ACTION] [--limit N] [OPTIONS]",
     "list the account's audit entries, newest first",
     "Prints a table with the columns AT, ACTOR, ACTION, TARGET, VIA (token, session, login, oidc "
     "or system), ADDRESS (the client's IP address, - for the command line) and DETAIL (what "
     "changed, as JSON; - when nothing more).\n\n"
     "The actions are account.create, key.create, key.update, key.delete, key.renew, "
     "key.delete_old_token, key.undo_renewal, role.create, role.update, role.delete, "
     "settings.update, external.add, external.update, external.remove, and the events "
     "session.create (web sign-in), login.issue (login token issued), share.reveal (one-time "
     "link revealed) and auth.failed (a credential failed a management call here; detail gives "
     "the reason).\n\n"
     "It follows the API's next_cursor and prints every matching entry unless --limit is given. "
     "With --json it prints {\"items\": [...], \"next_cursor\": ...}: the entries fetched and the "
     "cursor to continue after the last one (null at the end). Needs the view-audit-log resource.",
     AUDIT_LIST_OPTS, CLIENT,
     "# the whole log of the account\n"
     "keystile audit list\n"
     "# the 20 newest failed authentications\n"
     "keystile audit list --action auth.failed --limit 20\n"
     "# what one key did, as JSON\n"
     "keystile audit list --actor kst-acme-k3v7q2m7xa --json\n",
     ks_cmd_audit_list},

    {"webhooks", "list", NULL, "[--limit N] [OPTIONS]", "list the account's webhooks",
     "Prints a table with the columns ID, URL, EVENTS, ENABLED and CREATED. Secrets are never shown "
     "again after create. Needs edit-webhooks.",
     LIST_LIMIT_OPTS, CLIENT, "keystile webhooks list\nkeystile webhooks list --json\n", ks_cmd_webhooks_list},
    {"webhooks", "create", "URL", "URL (--events E1,E2 | --event E...) [OPTIONS]",
     "add a webhook and print its signing secret once",
     "Creates an enabled webhook that POSTs the events given to URL (http or https with a host, at "
     "most 2048 bytes, no credentials), and prints its signing secret "
     "(whsec_...) ONCE, with a warning on standard error to store it: receivers check each "
     "delivery's webhook-signature with it. With --json the API's answer, secret included, is "
     "printed instead.\n\n"
     "Events: key.created, key.deleted, key.activated, key.deactivated, token.renewed, "
     "token.renewal_undone, token.old_deleted, key.renewal_due, key.renewal_recommended, "
     "key.renewal_highly_recommended, token.leaked. A server started with --webhook-deny refuses "
     "URLs that resolve into a denied range. Needs edit-webhooks.",
     WEBHOOK_EVENT_OPTS, CLIENT,
     "keystile webhooks create https://hooks.example.com/keystile --events token.renewed,token.old_deleted\n"
     "# keep the secret in a file only you can read (needs jq)\n"
     "(umask 077; keystile webhooks create https://hooks.example.com/k --event key.renewal_due --json | jq -r .secret > hook.secret)\n",
     ks_cmd_webhooks_create},
    {"webhooks", "edit", "ID", "ID [--endpoint URL] [--events E1,E2 | --event E...] [--enabled true|false] [OPTIONS]",
     "change a webhook's URL or events, or switch it off and on",
     "Changes what is given (PATCH): the URL (--endpoint), the whole list of events (--events and --event), and "
     "--enabled. At least one is needed. The secret does not change. Needs edit-webhooks.",
     WEBHOOK_EDIT_OPTS, CLIENT,
     "keystile webhooks edit wh_abcdefghijklmnopqrstu --enabled false\n"
     "keystile webhooks edit wh_abcdefghijklmnopqrstu --event token.renewed --event key.deleted\n",
     ks_cmd_webhooks_edit},
    {"webhooks", "delete", "ID", "ID [--yes] [OPTIONS]", "delete a webhook",
     "Deletes the webhook and its queued deliveries. Asks for confirmation on a terminal; pass --yes "
     "in scripts. Needs edit-webhooks.",
     NULL, CLIENT | KS_WITH_YES, "keystile webhooks delete wh_abcdefghijklmnopqrstu --yes\n",
     ks_cmd_webhooks_delete},
    {"webhooks", "deliveries", "ID", "ID [--limit N] [OPTIONS]", "list a webhook's deliveries, newest first",
     "Prints a table with the columns ID (the event id: the webhook-id header the receiver got), "
     "EVENT, STATUS (pending, delivered, or failed after 24 hours of retries), ATTEMPTS, "
     "LAST_ATTEMPT, RESPONSE (the receiver's last HTTP status, - when it did not answer) and "
     "NEXT_ATTEMPT (of a pending one). "
     "Finished deliveries are kept 30 days. With --json it prints {\"items\": [...], "
     "\"next_cursor\": ...}. Needs edit-webhooks.",
     WEBHOOK_DELIVERIES_OPTS, CLIENT,
     "keystile webhooks deliveries wh_abcdefghijklmnopqrstu\n"
     "keystile webhooks deliveries wh_abcdefghijklmnopqrstu --limit 10 --json\n",
     ks_cmd_webhooks_deliveries},
    {"webhooks", "test", "ID", "ID [OPTIONS]", "send a webhook.test event to one webhook",
     "Queues a webhook.test event for this webhook only, whatever events it subscribes to, and prints "
     "its event id; follow it with keystile webhooks deliveries ID. Needs edit-webhooks.",
     NULL, CLIENT, "keystile webhooks test wh_abcdefghijklmnopqrstu\n", ks_cmd_webhooks_test},

    {"verify", NULL, NULL, "[--resource RESOURCE] [--account ACCOUNT] [OPTIONS]",
     "check a key and token the way a gateway does",
     "Calls GET /api/v1/verify with the credential (--key and --token, or $KEYSTILE_KEY and "
     "$KEYSTILE_TOKEN) and prints the verdict. When valid: the key, its home account, the target "
     "account, which token matched (current or old), the roles and resources there, and whether the "
     "token is outdated. When not: the reason (missing_credentials, malformed_token, unknown_key, "
     "invalid_token, inactive, expired or forbidden). Exit status 0 when valid, 1 when not.",
     VERIFY_OPTS, KS_WITH_CONN | KS_WITH_JSON,
     "keystile verify\n"
     "keystile verify --resource orders.read\n"
     "# an integration's credential, passed explicitly\n"
     "KEYSTILE_KEY=kst-partner-a2b3c4d5e6 KEYSTILE_TOKEN=kstt_... keystile verify --account acme\n",
     ks_cmd_verify},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};

const ks_group_doc *ks_group_find(const char *name)
{
    for (const ks_group_doc *g = KS_GROUPS; g->name; g++)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

const ks_cmd_doc *ks_cmd_find(const char *group, const char *name)
{
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++) {
        if (strcmp(c->group, group) != 0)
            continue;
        if ((!name && !c->name) || (name && c->name && strcmp(c->name, name) == 0))
            return c;
    }
    return NULL;
}

int ks_group_is_client(const char *name)
{
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++)
        if (strcmp(c->group, name) == 0 && c->run)
            return 1;
    return 0;
}

const char *ks_cmd_title(const ks_cmd_doc *cmd, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", cmd->group, cmd->name ? " " : "", cmd->name ? cmd->name : "");
    return buf;
}
