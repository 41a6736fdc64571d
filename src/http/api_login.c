/*
 * api_login.c - POST /api/v1/login: exchange a key and token for a 6 h login
 * token (JWT, EdDSA) that verify and the management API accept as
 * `Authorization: Bearer`; GET /.well-known/jwks.json: the public keys, so
 * gateways can check login tokens offline (they then accept a token of a
 * deactivated key until it expires; Keystile itself refuses it at once).
 * A login token is bound to the token that logged in (login_keys.h): it
 * works in Keystile only while that token verifies.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/login_keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void ks_api_login(ks_http_request *req)
{
    ks_verify_result vr;
    ks_digest token_hash;
    if (ks_http_check_key_and_token_hash(req, &vr, &token_hash)) {
        char *jwt = NULL;
        int64_t expires_at = 0;
        int rc = ks_login_issue(req->svc, vr.key_id, vr.account, &vr.roles, &token_hash, &jwt, &expires_at);
        if (rc == KS_OK)
            ks_http_audit_event(req, vr.key_id, vr.account, "login.issue", vr.key_id);
        if (rc == KS_OK) {
            ks_http_json(req, 200, json_pack("{s:s, s:o}", "token", jwt, "expires_at", ks_time_to_json(expires_at)));
            req->res.secret_body = 1;
            sodium_memzero(jwt, strlen(jwt));
            free(jwt);
        } else {
            ks_http_error(req, rc, NULL);
        }
    }
    sodium_memzero(&token_hash, sizeof token_hash);
    ks_verify_result_free(&vr);
}

void ks_api_jwks(ks_http_request *req)
{
    json_t *jwks = ks_login_jwks(req->svc);
    if (jwks)
        ks_http_json(req, 200, jwks);
    else
        ks_http_error(req, KS_ERR_NOMEM, NULL);
}
