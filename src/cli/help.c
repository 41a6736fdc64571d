/*
 * help.c - renders the command table (commands.c) as terminal help and as
 * the roff man page. Texts are wrapped here: paragraphs in the table are
 * single lines separated by "\n\n"; a single "\n" is a hard break.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_WIDTH 80
#define HELP_OPT_COL 28

/* Prints text wrapped to HELP_WIDTH, every line indented by indent columns;
 * the first line starts at column `at` (the cursor's column, >= 0). */
static void wrap(FILE *out, const char *text, int indent, int at)
{
    int col = at;
    const char *p = text;
    if (col < indent) {
        fprintf(out, "%*s", indent - col, "");
        col = indent;
    }
    int line_empty = 1;
    while (*p) {
        if (*p == '\n') {
            fputc('\n', out);
            p++;
            col = 0;
            if (*p && *p != '\n') {
                fprintf(out, "%*s", indent, "");
                col = indent;
            }
            line_empty = 1;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t n = strcspn(p, " \n");
        if (!line_empty && col + 1 + (int)n > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
            line_empty = 1;
        }
        if (!line_empty) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, n, out);
        col += (int)n;
        p += n;
        line_empty = 0;
    }
    fputc('\n', out);
}

static void print_option(FILE *out, const ks_opt_doc *o)
{
    char label[128];
    int n = snprintf(label, sizeof label, "  %s--%s%s%s%s", strcmp(o->name, "help") == 0 ? "-h, " : "",
                     o->name, o->value ? " " : "", o->value ? o->value : "",
                     (o->flags & KS_OPT_REPEAT) ? "..." : "");
    fputs(label, out);
    if (n + 2 > HELP_OPT_COL) {
        fputc('\n', out);
        n = 0;
    }
    wrap(out, o->help, HELP_OPT_COL, n);
}

/* The sentence-case form of a summary line, with a final period. */
static void print_summary(FILE *out, const char *s)
{
    fputc(toupper((unsigned char)s[0]), out);
    fprintf(out, "%s.\n", s + 1);
}

void ks_help_command(FILE *out, const ks_cmd_doc *cmd)
{
    char title[64];
    ks_cmd_title(cmd, title, sizeof title);
    fprintf(out, "Usage: keystile %s %s\n\n", title, cmd->synopsis);
    print_summary(out, cmd->summary);
    if (!cmd->description)
        return;
    fputc('\n', out);
    wrap(out, cmd->description, 0, 0);
    int has_own = (cmd->opts && cmd->opts[0].name) || (cmd->with & KS_WITH_YES);
    if (has_own) {
        fputs("\nOptions:\n", out);
        for (const ks_opt_doc *o = cmd->opts; o && o->name; o++)
            print_option(out, o);
        if (cmd->with & KS_WITH_YES)
            print_option(out, &KS_OPT_YES);
    }
    if (cmd->run) {
        fputs("\nCommon options:\n", out);
        if (cmd->with & KS_WITH_ACCOUNT)
            print_option(out, &KS_OPT_ACCOUNT);
        if (cmd->with & KS_WITH_JSON)
            print_option(out, &KS_OPT_JSON);
        for (const ks_opt_doc *o = KS_OPTS_CONN; o->name; o++)
            print_option(out, o);
        print_option(out, &KS_OPT_HELP);
    }
    if (cmd->examples) {
        fputs("\nExamples:\n", out);
        wrap(out, cmd->examples, 2, 0);
    }
}

void ks_help_group(FILE *out, const ks_group_doc *g)
{
    fprintf(out, "Usage: keystile %s COMMAND [OPTIONS]\n\n", g->name);
    print_summary(out, g->summary);
    fputc('\n', out);
    wrap(out, g->description, 0, 0);
    fputs("\nCommands:\n", out);
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++) {
        if (strcmp(c->group, g->name) != 0 || !c->name)
            continue;
        char label[64];
        int n = snprintf(label, sizeof label, "  %s", c->name);
        fputs(label, out);
        wrap(out, c->summary, 22, n + 2 > 22 ? 22 : n);
    }
    fprintf(out, "\nRun 'keystile %s COMMAND --help' for details and examples.\n", g->name);
}

void ks_help_main(FILE *out)
{
    fputs("Usage: keystile COMMAND [SUBCOMMAND] [OPTIONS]\n\n", out);
    wrap(out, KS_HELP_INTRO, 0, 0);
    fputs("\nCommands:\n", out);
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++) {
        char label[64], title[48];
        int n = snprintf(label, sizeof label, "  %s", ks_cmd_title(c, title, sizeof title));
        fputs(label, out);
        if (n + 2 > 26) {
            fputc('\n', out);
            n = 0;
        }
        wrap(out, c->summary, 26, n);
    }
    fputs("  help [COMMAND]", out);
    wrap(out, "show help for a command; keystile help keys renew, or --help on any command", 26, 16);
    fputc('\n', out);
    wrap(out, KS_HELP_CLIENT, 0, 0);
    fputs("\nEnvironment:\n", out);
    for (const char *p = KS_HELP_ENV; *p;) {
        size_t name = strcspn(p, "\t"), line = strcspn(p, "\n");
        fprintf(out, "  %.*s", (int)name, p);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(line - name - 1), p + name + 1);
        wrap(out, buf, 18, (int)name + 2);
        p += line + (p[line] == '\n');
    }
    fputs("\n", out);
    wrap(out, "Exit status: 0 success; 1 API error, unreachable server, or an invalid credential for "
              "verify; 2 bad usage. Run 'keystile help COMMAND' for details and examples.",
         0, 0);
}

/* Writes s as roff text: backslashes and minus signs escaped, and a line
 * that would start with '.' or '\'' protected. */
static void roff(FILE *out, const char *s, int at_line_start)
{
    for (; *s; s++) {
        if (at_line_start && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        at_line_start = *s == '\n';
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

/* Paragraphs of text: "\n\n" becomes .PP, "\n" a line break (.br). */
static void roff_paragraphs(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "\n");
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)n, p);
        roff(out, buf, 1);
        fputc('\n', out);
        p += n;
        if (p[0] == '\n' && p[1] == '\n') {
            fputs(".PP\n", out);
            p += 2;
        } else if (p[0] == '\n') {
            fputs(".br\n", out);
            p++;
        }
    }
}

static void roff_option(FILE *out, const ks_opt_doc *o)
{
    fputs(".TP\n", out);
    if (strcmp(o->name, "help") == 0)
        fputs("\\fB\\-h\\fR, ", out);
    fputs("\\fB", out);
    roff(out, "--", 0);
    roff(out, o->name, 0);
    fputs("\\fR", out);
    if (o->value) {
        fputs(" \\fI", out);
        roff(out, o->value, 0);
        fputs("\\fR", out);
    }
    if (o->flags & KS_OPT_REPEAT)
        fputs("...", out);
    fputc('\n', out);
    roff_paragraphs(out, o->help);
}

/* "NAME\tparagraph" lines as tagged paragraphs. */
static void roff_tagged(FILE *out, const char *lines)
{
    for (const char *p = lines; *p;) {
        size_t tag = strcspn(p, "\t"), line = strcspn(p, "\n");
        char buf[1024];
        fputs(".TP\n.B ", out);
        snprintf(buf, sizeof buf, "%.*s", (int)tag, p);
        roff(out, buf, 0);
        fputc('\n', out);
        snprintf(buf, sizeof buf, "%.*s", (int)(line - tag - 1), p + tag + 1);
        roff(out, buf, 1);
        fputc('\n', out);
        p += line + (p[line] == '\n');
    }
}

/* The --help text of serve, account or signing-key, which keep it in their
 * own files (cli_serve.c, cli_account.c, cli_signing_key.c), as a preformatted block: their usage
 * function writes to stdout, so stdout points at a memory stream meanwhile. */
static void roff_native_help(FILE *out, const ks_cmd_doc *c)
{
    char *text = NULL, arg0[32], arg1[] = "--help";
    size_t len = 0;
    snprintf(arg0, sizeof arg0, "%s", c->group);
    char *argv[] = {arg0, arg1, NULL};
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    FILE *saved = stdout;
    fflush(stdout);
    stdout = mem;
    if (strcmp(c->group, "serve") == 0)
        ks_cli_serve(2, argv);
    else if (strcmp(c->group, "signing-key") == 0)
        ks_cli_signing_key(2, argv);
    else
        ks_cli_account(2, argv);
    stdout = saved;
    fclose(mem);
    fputs(".PP\n.nf\n", out);
    roff(out, text ? text : "", 1);
    fputs(".fi\n", out);
    free(text);
}

static void roff_command(FILE *out, const ks_cmd_doc *c)
{
    char title[64];
    ks_cmd_title(c, title, sizeof title);
    if (!c->description) {
        fputs(".SS \"", out);
        roff(out, title, 0);
        fputs("\"\n", out);
        roff_native_help(out, c);
        return;
    }
    fputs(".SS \"", out);
    roff(out, title, 0);
    fputs("\"\n\\fBkeystile ", out);
    roff(out, title, 0);
    fputs("\\fR ", out);
    roff(out, c->synopsis, 0);
    fputs("\n.PP\n", out);
    roff_paragraphs(out, c->description);
    for (const ks_opt_doc *o = c->opts; o && o->name; o++)
        roff_option(out, o);
    if (c->with & KS_WITH_YES)
        roff_option(out, &KS_OPT_YES);
    if (c->examples) {
        fputs(".PP\nExamples:\n.RS\n.nf\n", out);
        roff(out, c->examples, 1);
        fputs(".fi\n.RE\n", out);
    }
}

void ks_help_man(FILE *out)
{
    fputs(".\\\" Generated by \"keystile help --man\" from src/cli/commands.c: edit that file, not this one.\n"
          ".TH KEYSTILE 1 \"\" \"Keystile\" \"User Commands\"\n"
          ".nh\n.ad l\n"
          ".SH NAME\nkeystile \\- self\\-hosted API keys and tokens with zero\\-downtime renewal\n"
          ".SH SYNOPSIS\n.B keystile\n.I COMMAND\n.RI [ SUBCOMMAND ]\n.RI [ OPTIONS ]\n"
          ".SH DESCRIPTION\n",
          out);
    roff_paragraphs(out, KS_HELP_INTRO);
    fputs(".SH CLIENT COMMANDS\n", out);
    roff_paragraphs(out, KS_HELP_CLIENT);
    fputs(".PP\nOptions of every client command:\n", out);
    roff_option(out, &KS_OPT_ACCOUNT);
    roff_option(out, &KS_OPT_JSON);
    for (const ks_opt_doc *o = KS_OPTS_CONN; o->name; o++)
        roff_option(out, o);
    roff_option(out, &KS_OPT_HELP);
    fputs(".PP\nkeys export takes no \\fB\\-\\-json\\fR, verify no \\fB\\-\\-account\\fR of this kind "
          "(its own \\fB\\-\\-account\\fR names the account to check access in).\n",
          out);
    fputs(".SH COMMANDS\n", out);
    for (const ks_group_doc *g = KS_GROUPS; g->name; g++) {
        if (!ks_cmd_find(g->name, NULL) && ks_group_is_client(g->name)) {
            fputs(".SS \"", out);
            roff(out, g->name, 0);
            fputs("\"\n", out);
            roff_paragraphs(out, g->description);
        }
        for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++)
            if (strcmp(c->group, g->name) == 0)
                roff_command(out, c);
    }
    fputs(".SH EXIT STATUS\n", out);
    roff_tagged(out, KS_HELP_EXIT);
    fputs(".SH ENVIRONMENT\n", out);
    roff_tagged(out, KS_HELP_ENV);
    fputs(".SH SEE ALSO\n"
          "docs/API.md in the Keystile sources: the HTTP API these commands speak.\n",
          out);
}
