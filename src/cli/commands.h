/*
 * commands.h - the command table: one entry per command with its synopsis,
 * summary, description, options and examples. It is the single source of the
 * help text: `keystile help ...`, every `--help`, the usage errors and the man
 * page (`keystile help --man` > docs/keystile.1) are rendered from it, and the
 * argument parser accepts exactly the options it lists.
 *
 * Texts are plain paragraphs separated by "\n\n"; renderers wrap them.
 * Examples are lines: "# comment" or a command line.
 */
#ifndef KS_CLI_COMMANDS_H
#define KS_CLI_COMMANDS_H

#include "cli/client.h"

#include <stdio.h>

#define KS_OPT_REPEAT 1u /* the option may be given more than once */

typedef struct ks_opt_doc {
    const char *name;  /* long name without the dashes: "role" */
    const char *value; /* placeholder of its value ("ROLE"), NULL for a flag */
    unsigned flags;    /* KS_OPT_REPEAT */
    const char *help;  /* one paragraph */
} ks_opt_doc;

/* Options shared by the client commands, chosen per command. */
enum {
    KS_WITH_CONN = 1u,    /* --url, --key, --token */
    KS_WITH_ACCOUNT = 2u, /* --account: the account managed */
    KS_WITH_JSON = 4u,    /* --json */
    KS_WITH_YES = 8u,     /* --yes: destructive command */
};

typedef int (*ks_cmd_run)(ks_client *c, const ks_args *a);

typedef struct ks_cmd_doc {
    const char *group;       /* first word: "keys" */
    const char *name;        /* second word: "list"; NULL when the group is the command */
    const char *pos_name;    /* the one positional argument ("KEY"), NULL for none */
    const char *synopsis;    /* what follows the command words in a usage line */
    const char *summary;     /* one line, lower case, no final period */
    const char *description; /* paragraphs; NULL when the help lives in the command's own file */
    const ks_opt_doc *opts;  /* own options, ended by {NULL}; NULL for none */
    unsigned with;           /* KS_WITH_* */
    const char *examples;    /* lines */
    ks_cmd_run run;          /* NULL: served elsewhere (serve, account: cli_serve.c, cli_account.c) */
} ks_cmd_doc;

typedef struct ks_group_doc {
    const char *name;        /* "keys" */
    const char *summary;     /* one line */
    const char *description; /* paragraphs */
} ks_group_doc;

extern const ks_group_doc KS_GROUPS[];   /* ended by {NULL} */
extern const ks_cmd_doc KS_COMMANDS[];   /* ended by {NULL} */
extern const ks_opt_doc KS_OPTS_CONN[];  /* --url --key --token, ended by {NULL} */
extern const ks_opt_doc KS_OPT_ACCOUNT;
extern const ks_opt_doc KS_OPT_JSON;
extern const ks_opt_doc KS_OPT_YES;
extern const ks_opt_doc KS_OPT_HELP;
extern const char KS_HELP_INTRO[];       /* what keystile is */
extern const char KS_HELP_CLIENT[];      /* how client commands find server and credential */
extern const char KS_HELP_EXIT[];        /* exit status */
extern const char KS_HELP_ENV[];         /* environment, as "NAME\tparagraph" lines */

/* Lookups; NULL when unknown. name NULL finds a group's own command. */
const ks_group_doc *ks_group_find(const char *name);
const ks_cmd_doc *ks_cmd_find(const char *group, const char *name);
/* 1 when name is a group whose commands speak the HTTP API. */
int ks_group_is_client(const char *name);
/* "keys list" or "verify" into buf. */
const char *ks_cmd_title(const ks_cmd_doc *cmd, char *buf, size_t size);

/* help.c: renderers of the table. */
void ks_help_main(FILE *out);
void ks_help_group(FILE *out, const ks_group_doc *g);
void ks_help_command(FILE *out, const ks_cmd_doc *cmd);
void ks_help_man(FILE *out);

/* client_main.c: entry points called by main.c. argv[0] is the group. */
int ks_cli_client(int argc, char **argv);
/* `keystile help ...` for the client groups and --man; argv[0] is "help". */
int ks_cli_help(int argc, char **argv);

/* The commands (cmd_*.c). Each returns an exit code. */
int ks_cmd_keys_list(ks_client *c, const ks_args *a);
int ks_cmd_keys_show(ks_client *c, const ks_args *a);
int ks_cmd_keys_usage(ks_client *c, const ks_args *a); /* cmd_usage.c */
int ks_cmd_keys_create(ks_client *c, const ks_args *a);
int ks_cmd_keys_edit(ks_client *c, const ks_args *a);
int ks_cmd_keys_activate(ks_client *c, const ks_args *a);
int ks_cmd_keys_deactivate(ks_client *c, const ks_args *a);
int ks_cmd_keys_delete(ks_client *c, const ks_args *a);
int ks_cmd_keys_renew(ks_client *c, const ks_args *a);
int ks_cmd_keys_delete_old_token(ks_client *c, const ks_args *a);
int ks_cmd_keys_undo_renewal(ks_client *c, const ks_args *a);
int ks_cmd_keys_export(ks_client *c, const ks_args *a);
int ks_cmd_settings_get(ks_client *c, const ks_args *a);
int ks_cmd_settings_set(ks_client *c, const ks_args *a);
int ks_cmd_roles_list(ks_client *c, const ks_args *a);
int ks_cmd_roles_create(ks_client *c, const ks_args *a);
int ks_cmd_roles_edit(ks_client *c, const ks_args *a);
int ks_cmd_roles_delete(ks_client *c, const ks_args *a);
int ks_cmd_external_list(ks_client *c, const ks_args *a);
int ks_cmd_external_add(ks_client *c, const ks_args *a);
int ks_cmd_external_edit(ks_client *c, const ks_args *a);
int ks_cmd_external_remove(ks_client *c, const ks_args *a);
int ks_cmd_users_list(ks_client *c, const ks_args *a);
int ks_cmd_users_invite(ks_client *c, const ks_args *a);
int ks_cmd_users_edit(ks_client *c, const ks_args *a);
int ks_cmd_users_remove(ks_client *c, const ks_args *a);
int ks_cmd_audit_list(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_list(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_create(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_edit(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_delete(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_deliveries(ks_client *c, const ks_args *a);
int ks_cmd_webhooks_test(ks_client *c, const ks_args *a);
int ks_cmd_verify(ks_client *c, const ks_args *a);

#endif
