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

/* Makes a link for key_id's token; id_out receives the link id. */
int ks_share_create(ks_service *svc, const char *key_id, const char *token, char id_out[KS_SHARE_ID_MAX]);

/* Reveals once: fills key_out and token_out (wipe it after use).
 * KS_ERR_NOT_FOUND for an unknown id, KS_ERR_GONE when used or expired. */
int ks_share_reveal(ks_service *svc, const char *id, char key_out[KS_KEY_ID_MAX + 1],
                    char token_out[KS_TOKEN_LEN + 1]);

#endif
