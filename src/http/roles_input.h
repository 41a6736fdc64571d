/*
 * roles_input.h - the request fields that give roles to a holder (a key, an
 * external key's grant, a person's membership), read the same way for all
 * three: role names checked against the account's roles, and the
 * "roles and/or status" body of their PATCH calls.
 *
 * Each call answers the request itself (a 400 naming the field, or the
 * store's error) when it fails, so the handler only stops.
 */
#ifndef KS_HTTP_ROLES_INPUT_H
#define KS_HTTP_ROLES_INPUT_H

#include "http/http.h"
#include "core/model.h"

/* 1 when every role of `roles` exists in the request's account; else 0
 * after a 400 naming the first unknown role (or the store's error). */
int ks_http_roles_exist(ks_http_request *req, const ks_strlist *roles);

/* Reads a PATCH body of "roles" and/or "status" ("active" | "inactive"), at
 * least one of them: *roles filled and *has_roles 1 when roles came, *status
 * KS_KEY_ACTIVE / KS_KEY_INACTIVE or -1 when absent. Returns the parsed
 * body (the caller's to json_decref; *roles the caller's to free in both
 * cases), or NULL after answering the error. */
json_t *ks_http_roles_status_patch(ks_http_request *req, ks_strlist *roles, int *has_roles, int *status);

#endif
