/*
 * api_secret_scanning.c - POST /api/v1/secret-scanning/github, GitHub's
 * secret scanning partner call (API.md "Gateways and leaked tokens";
 * docs/secret-scanning.md). Public: the caller is authenticated by the
 * ECDSA signature of the raw body (service/github_keys.h), checked before
 * anything is parsed; a bad or missing signature, or an unknown key id, is
 * 401 and nothing is done (it counts as a failed credential of the client
 * address: past --failed-auth-limit, 429 with Retry-After). Then each item gets its answer, in order:
 * {"token_raw","token_type":"keystile_api_token","label"}, and each true
 * positive its audit entry, event and action (service/leaks.h).
 *
 * The answer echoes the reported tokens (GitHub's protocol): it is marked
 * secret, so it is wiped once sent, and never logged.
 */
#include "http/api.h"
#include "core/error.h"
#include "core/secret_scanning.h"
#include "http/server.h"
#include "service/github_keys.h"
#include "service/leaks.h"

#include <stdio.h>

void ks_api_secret_scanning_github(ks_http_request *req)
{
    ks_github_keys_live *keys = req->server ? ks_server_github_keys(req->server) : NULL;
    if (!keys) {
        ks_http_error(req, KS_ERR_NOT_FOUND, "Secret scanning is off: start the server with --github-keys FILE.");
        return;
    }
    const char *key_id = ks_http_header_get(req, "Github-Public-Key-Identifier");
    const char *signature = ks_http_header_get(req, "Github-Public-Key-Signature");
    int rc = ks_github_keys_live_check(keys, key_id, signature, req->body ? req->body : "", req->body_len);
    if (rc == KS_ERR_UNAUTHENTICATED && ks_http_failed_credential(req))
        return; /* a forged signature is a failed credential: past the limit, 429 */
    if (rc != KS_OK) {
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED
                                   ? "The request is not signed by a GitHub secret scanning key this server "
                                     "knows (Github-Public-Key-Identifier, Github-Public-Key-Signature)."
                                   : NULL);
        return;
    }
    ks_leak_report report;
    char err[256];
    rc = ks_leak_report_parse(req->body ? req->body : "", req->body_len, &report, err, sizeof err);
    if (rc != KS_OK) {
        ks_http_error(req, rc, rc == KS_ERR_INVALID ? err : NULL);
        return;
    }
    json_t *answer = json_array();
    for (size_t i = 0; answer && i < report.n && rc == KS_OK; i++) {
        const ks_leak_item *it = &report.items[i];
        ks_leak_outcome o;
        rc = ks_service_token_leaked(req->svc, it->token, it->token_len, it->url, it->source,
                                     ks_http_client_address(req), &o);
        if (rc == KS_OK &&
            json_array_append_new(answer, json_pack("{s:s%, s:s, s:s}", "token_raw", it->token, it->token_len,
                                                    "token_type", "keystile_api_token", "label",
                                                    o.true_positive ? "true_positive" : "false_positive")) != 0)
            rc = KS_ERR_NOMEM;
    }
    ks_leak_report_free(&report);
    if (!answer || rc != KS_OK) {
        json_decref(answer);
        ks_http_error(req, answer ? rc : KS_ERR_NOMEM, NULL);
        return;
    }
    ks_http_json(req, 200, answer);
    req->res.secret_body = 1;
}
