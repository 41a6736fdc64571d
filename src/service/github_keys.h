/*
 * github_keys.h - the GitHub secret scanning keys a running server uses
 * (serve --github-keys FILE, core/secret_scanning.h for the format),
 * reloaded on SIGHUP.
 *
 * The keys sit behind a read-write lock: a signature check (a management
 * thread, once per GitHub call) holds it shared; a reload parses the file
 * first and, only when it is valid, swaps the keys under the lock held
 * exclusively and frees the old ones after. A bad file on reload keeps the
 * keys in use and returns why.
 */
#ifndef KS_SERVICE_GITHUB_KEYS_H
#define KS_SERVICE_GITHUB_KEYS_H

#include <stddef.h>

typedef struct ks_github_keys_live ks_github_keys_live;

/* Reads the keys file at path. KS_OK with *out; KS_ERR_INVALID with
 * "PATH: why" in err; KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_github_keys_live_open(const char *path, ks_github_keys_live **out, char *err, size_t errlen);

/* Rereads the file; KS_OK (*n = its keys) or an error as in open, and then
 * the keys in use stay. One caller at a time. */
__attribute__((warn_unused_result))
int ks_github_keys_live_reload(ks_github_keys_live *live, size_t *n, char *err, size_t errlen);

/* The number of keys in use. */
size_t ks_github_keys_live_count(ks_github_keys_live *live);

/* ks_github_signature_check against the keys in use. */
__attribute__((warn_unused_result))
int ks_github_keys_live_check(ks_github_keys_live *live, const char *key_id, const char *signature_b64,
                              const char *body, size_t len);

/* Frees everything (NULL: nothing): call when no thread checks. */
void ks_github_keys_live_close(ks_github_keys_live *live);

#endif
