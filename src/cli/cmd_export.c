/*
 * cmd_export.c - `keystile keys export [--format csv|xlsx] [--include limits]
 * [--output FILE]`:
 * writes the body of GET /keys/export (CSV, or an XLSX workbook) to stdout or
 * to FILE. The whole body is read first (at most KS_CLIENT_EXPORT_MAX), so an
 * API error never leaves a half-written FILE; FILE is created only after a
 * successful answer. An export holds no tokens.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes n bytes of data to path ("-" or NULL: stdout). Returns an exit code. */
static int write_body(const char *path, const char *data, size_t n)
{
    int to_stdout = !path || strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    char shown[1024];
    ks_text_sanitize(shown, sizeof shown, to_stdout ? "standard output" : path);
    if (!f) {
        fprintf(stderr, "keystile: cannot write %s: %s\n", shown, strerror(errno));
        return KS_EXIT_FAIL;
    }
    int ok = fwrite(data, 1, n, f) == n;
    ok = (fflush(f) == 0) && ok;
    if (!to_stdout)
        ok = (fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "keystile: cannot write %s: %s\n", shown, strerror(errno));
        return KS_EXIT_FAIL;
    }
    return KS_EXIT_OK;
}

int ks_cmd_keys_export(ks_client *c, const ks_args *a)
{
    static const char *const FORMATS[] = {"csv", "xlsx", NULL};
    static const char *const INCLUDES[] = {"limits", NULL};
    int format = 0, include = -1;
    int rc = ks_args_choice(a, "format", FORMATS, &format);
    if (rc == KS_EXIT_USAGE || (rc = ks_args_choice(a, "include", INCLUDES, &include)) == KS_EXIT_USAGE)
        return rc;
    const char *output = ks_args_value(a, "output");
    if (output && !*output)
        return ks_usage_error(a->cmd, "--output needs a file name");
    int to_stdout = !output || strcmp(output, "-") == 0;
    if (format == 1 && to_stdout && isatty(STDOUT_FILENO))
        return ks_usage_error(a->cmd, "XLSX is binary: pass --output FILE or redirect standard output to a file");
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "keys", NULL);
    ks_strbuf_puts(&path, "/export");
    if (format == 1)
        ks_client_path_query(c, &path, "format", "xlsx");
    if (include >= 0)
        ks_client_path_query(c, &path, "include", INCLUDES[include]);
    ks_response res;
    rc = ks_client_send(c, "GET", ks_strbuf_str(&path), NULL, KS_CLIENT_EXPORT_MAX, &res);
    ks_strbuf_free(&path);
    if (rc == 0 && (res.status < 200 || res.status > 299)) {
        ks_client_print_api_error(c, &res);
        rc = KS_EXIT_FAIL;
    }
    if (rc == 0)
        rc = write_body(output, res.body.data ? res.body.data : "", res.body.len);
    if (rc == 0 && !to_stdout) {
        char shown[1024];
        ks_text_sanitize(shown, sizeof shown, output);
        fprintf(stderr, "Wrote %zu bytes of %s to %s.\n", res.body.len, FORMATS[format], shown);
    }
    ks_response_free(&res);
    return rc;
}
