/*
 * share_links.h - one-time links to hand a new token to an integrator.
 *
 * The link id (32 random bytes, base64url) is the only way to the token: the
 * store keeps the keyed hash of the id and the token sealed (secretbox) with a
 * key derived from the server secret AND the id, so the database plus the
 * secret file alone cannot open it. Revealing erases the sealed token in the
 * same transaction; links expire after 24 h.
 */
#ifndef KS_SERVICE_SHARE_LINKS_H
#define KS_SERVICE_SHARE_LINKS_H

#include "service/service.h"

#define KS_SHARE_ID_MAX 64
#define KS_SHARE_LIFETIME (24 * 3600)
#define KS_SHARE_TOMBSTONE (7 * 24 * 3600) /* how long a dead link still says "gone" */

/* A link ready to store: the keyed hash of its id and the sealed token. */
typedef struct {
    ks_digest id_hash;
    unsigned char sealed[KS_SEALED_MAX];
    size_t sealed_len;
    int64_t created_at, expires_at;
} ks_share_record;

/* Makes a new link id (id_out) and the record that stores `token` under it;
 * nothing is written. KS_OK, or KS_ERR_INVALID for an over-long token. */
int ks_share_seal(const ks_service *svc, const char *token, char id_out[KS_SHARE_ID_MAX], ks_share_record *rec);

/* Writes rec for key_id through the store (inside the caller's batch, if
 * any); on the way, at most once a minute, drops links dead for a week. */
int ks_share_store(ks_service *svc, const char *key_id, const ks_share_record *rec);

/* Both: makes and writes a link for key_id's token; id_out gets the id. */
int ks_share_create(ks_service *svc, const char *key_id, const char *token, char id_out[KS_SHARE_ID_MAX]);

/* Wipes a record (it holds the token, sealed). */
void ks_share_record_wipe(ks_share_record *rec);

/* Reveals once: fills key_out and token_out (wipe it after use).
 * KS_ERR_NOT_FOUND for an unknown id, KS_ERR_GONE when used or expired. */
__attribute__((warn_unused_result))
int ks_share_reveal(ks_service *svc, const char *id, char key_out[KS_KEY_ID_MAX + 1],
                    char token_out[KS_TOKEN_LEN + 1]);

#endif
