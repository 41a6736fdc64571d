/*
 * serve_config.h - where `keystile serve` takes its settings from, lowest
 * priority first: a config file (--config FILE, lines `key = value`, # for
 * comments, keys are the long option names), KEYSTILE_* environment
 * variables (KEYSTILE_DB, KEYSTILE_LISTEN, KEYSTILE_TLS_CERT, ...: the option
 * name in upper case with '-' as '_'), then the command line. They are merged
 * into one argument vector that getopt reads left to right, so later wins.
 */
#ifndef KS_CLI_SERVE_CONFIG_H
#define KS_CLI_SERVE_CONFIG_H

#include <getopt.h>

/* Builds the merged argv (argv[0] first) into *out / *out_argc; free it with
 * ks_serve_args_free. Options in `opts` named in `cli_only` (NULL-terminated)
 * are not read from the file or the environment. Returns 0, or -1 after
 * printing what is wrong with the config file. */
int ks_serve_args_merge(int argc, char **argv, const struct option *opts, const char *const *cli_only,
                        int *out_argc, char ***out);
void ks_serve_args_free(int argc, char **args);

#endif
