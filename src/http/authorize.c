/*
 * authorize.c - the one place where management routes are authorised: the
 * router calls ks_http_route_authorize with the route's rule (router.c)
 * before the handler runs, so no handler can forget a check.
 *
 * Order: authenticate (401) and the route's resource in the path's account
 * (403), then the delegation checks of the rule (API.md "Delegation"), each
 * a subset test between the caller's authority there and what the request
 * acts on or gives (service/authority.h). A refusal is 403 `forbidden`
 * naming the first missing resource; nothing has changed yet.
 *
 * What the checks read from the body is read leniently: a body that is not
 * JSON, or a field of the wrong type, gives nothing here and is refused with
 * 400 by the handler, which validates it strictly. Path targets that do not
 * exist pass here and get the handler's 404.
 */
#include "http/auth.h"
#include "core/error.h"
#include "log/log.h"
#include "service/authority.h"

#include <stdio.h>
#include <string.h>


/* The strings of the body's array `field` (others skipped) into *out;
 * nothing when the body or the field is not what the handler accepts. */
static int body_strings(const ks_http_request *req, const char *field, ks_strlist *out)
{
    json_t *body = req->body_len ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    json_t *arr = json_is_object(body) ? json_object_get(body, field) : NULL;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && json_is_array(arr) && i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s)
            rc = ks_strlist_add(out, s);
    }
    json_decref(body);
    return rc;
}

/* Audits a 403 given to an authenticated caller: action "access.denied",
 * target the key or role in the path (else the account), detail the route
 * and the first resource missing. Best effort: a failed write is logged. */
static void audit_denied(ks_http_request *req, const char *missing)
{
    char detail[256];
    snprintf(detail, sizeof detail, "{\"method\":\"%s\",\"missing\":\"%s\",\"route\":\"%s\"}",
             req->method, missing, req->route ? req->route : "");
    ks_actor who;
    ks_http_actor_init(req, &who, ks_http_caller_actor(req), ks_http_account(req));
    const char *target = ks_http_target(req) ? ks_http_target(req) : ks_http_account(req);
    int rc = ks_service_audit_event(req->svc, &who, "access.denied", target, detail);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        ks_log("warn", "audit entry not written", "{s:s}", "action", "access.denied");
}

/* 403 naming `missing`, which `what` holds and the caller lacks; audited. */
static int refuse(ks_http_request *req, const char *what, const char *missing)
{
    ks_http_errorf(req, KS_ERR_FORBIDDEN,
                   "%s holds the resource '%s', which your credential lacks in account '%s'.", what,
                   missing, ks_http_account(req));
    audit_denied(req, missing);
    return 0;
}

/* The authority of the principal or role in the path; 1 to go on (also
 * when it does not exist: the handler says 404), 0 after an error. */
static int target_within(ks_http_request *req, ks_authority_scope *scope, unsigned checks,
                         ks_authority mine)
{
    ks_authority theirs = 0;
    int rc = KS_OK;
    const char *what = NULL;
    if (checks & KS_CHECK_TARGET_KEY) {
        rc = ks_authority_of_key(scope, ks_http_target(req), &theirs);
        what = "The key you act on";
    } else if (checks & KS_CHECK_TARGET_GRANT) {
        rc = ks_authority_of_grant(scope, ks_http_target(req), &theirs);
        what = "The external key's grant you act on";
    } else if (checks & KS_CHECK_TARGET_ROLE) {
        rc = ks_authority_of_role(scope, ks_http_target(req), &theirs);
        what = "The role you act on";
    } else if (checks & KS_CHECK_TARGET_PERSON) {
        rc = ks_authority_of_member(scope, ks_http_target(req), &theirs);
        what = "The person you act on";
    }
    if (rc == KS_ERR_NOT_FOUND)
        return 1;
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return 0;
    }
    const char *missing = ks_authority_missing(mine, theirs);
    return missing ? refuse(req, what, missing) : 1;
}

/* What the body gives (roles, or a role's resources) must be the caller's. */
static int grant_within(ks_http_request *req, ks_authority_scope *scope, unsigned checks,
                        ks_authority mine)
{
    ks_strlist given = {0};
    ks_authority gives = 0;
    const char *what = NULL;
    int rc;
    if (checks & KS_CHECK_GRANTS_ROLES) {
        rc = body_strings(req, "roles", &given);
        if (rc == KS_OK)
            rc = ks_authority_of_roles(scope, &given, &gives);
        what = "A role you give";
    } else {
        rc = body_strings(req, "resources", &given);
        gives = ks_authority_of_resources(&given);
        what = "The role you write";
    }
    ks_strlist_free(&given);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return 0;
    }
    const char *missing = ks_authority_missing(mine, gives);
    return missing ? refuse(req, what, missing) : 1;
}

const char *ks_http_caller_actor(const ks_http_request *req)
{
    return req->actor[0] ? req->actor : req->caller.key_id;
}

int ks_http_route_authorize(ks_http_request *req, const ks_route_rule *rule)
{
    memset(&req->caller, 0, sizeof req->caller);
    req->person_id = 0;
    req->actor[0] = '\0';
    if (rule->access == KS_ACCESS_PUBLIC)
        return 1;
    if (rule->access != KS_ACCESS_MANAGEMENT || !ks_http_account(req)) { /* our bug: a route without a rule */
        ks_http_error(req, KS_ERR_INTERNAL, NULL);
        return 0;
    }
    const char *account = ks_http_account(req);
    if (!ks_http_authorize(req, account, rule->resource, rule->alt_resource, &req->caller)) {
        /* Authenticated, but without the route's resource (or any grant)
         * in the account: audited like the delegation refusals below. */
        if (req->res.status == 403 && *ks_http_caller_actor(req))
            audit_denied(req, rule->resource);
        return 0;
    }
    ks_http_actor_init(req, &req->who, ks_http_caller_actor(req), account);
    unsigned checks = rule->checks;
    if (!checks)
        return 1;
    ks_authority mine = ks_authority_of_resources(&req->caller.resources);
    /* Holding every management resource (an Owner), the caller holds all a
     * target or a gift could need: the checks cannot refuse, so their store
     * reads (a fifth of a renewal's work on the pool) are skipped. */
    if (mine == ks_authority_all())
        return 1;
    ks_authority_scope scope;
    ks_authority_scope_init(&scope, req->svc, account);
    int ok = 1;
    if (checks & (KS_CHECK_TARGET_KEY | KS_CHECK_TARGET_GRANT | KS_CHECK_TARGET_ROLE | KS_CHECK_TARGET_PERSON))
        ok = target_within(req, &scope, checks, mine);
    if (ok && (checks & (KS_CHECK_GRANTS_ROLES | KS_CHECK_GRANTS_RESOURCES)))
        ok = grant_within(req, &scope, checks, mine);
    ks_authority_scope_free(&scope);
    return ok;
}
