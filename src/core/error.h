/*
 * error.h - Keystile's error codes and the one table that maps them to HTTP.
 *
 * Every fallible function returns KS_OK (0) or one of the negative codes below;
 * a failed call changes nothing. ks_error_info() gives, for a code, the HTTP
 * status, the API error code string of API.md and a default human message.
 */
#ifndef KS_CORE_ERROR_H
#define KS_CORE_ERROR_H

typedef enum {
    KS_OK = 0,
    KS_ERR_INVALID = -1,          /* 400 invalid_request */
    KS_ERR_UNAUTHENTICATED = -2,  /* 401 unauthenticated */
    KS_ERR_EXPIRED = -3,          /* 401 expired (enforce_duration) */
    KS_ERR_FORBIDDEN = -4,        /* 403 forbidden */
    KS_ERR_NOT_FOUND = -5,        /* 404 not_found */
    KS_ERR_METHOD = -6,           /* 405 method_not_allowed */
    KS_ERR_OLD_TOKEN_EXISTS = -7, /* 409 old_token_exists */
    KS_ERR_NO_OLD_TOKEN = -8,     /* 409 no_old_token */
    KS_ERR_NAME_TAKEN = -9,       /* 409 name_taken */
    KS_ERR_ROLE_IN_USE = -10,     /* 409 role_in_use */
    KS_ERR_BUILTIN_ROLE = -11,    /* 409 builtin_role */
    KS_ERR_GONE = -12,            /* 410 gone */
    KS_ERR_TOO_LARGE = -13,       /* 413 payload_too_large */
    KS_ERR_MEDIA_TYPE = -14,      /* 415 unsupported_media_type */
    KS_ERR_RATE_LIMITED = -15,    /* 429 rate_limited */
    KS_ERR_INTERNAL = -16,        /* 500 internal */
    KS_ERR_STORAGE = -17,         /* 503 storage_unavailable */
    KS_ERR_NOMEM = -18,           /* 500 internal: out of memory */
    KS_ERR_LAST_OWNER = -19,      /* 409 last_owner */
} ks_err;

typedef struct {
    int http_status;     /* e.g. 409 */
    const char *code;    /* API error code, e.g. "old_token_exists" */
    const char *message; /* default human message, never with a secret */
} ks_error_info_t;

/* The table row of code `err`; an unknown code maps to 500 internal. */
const ks_error_info_t *ks_error_info(int err);

#endif
