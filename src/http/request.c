/* request.c - reading query parameters and headers of a request. */
#include "http/http.h"

#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *ks_http_param_get(const ks_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

const char *ks_http_header_get(const ks_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int ks_http_param_int(ks_http_request *req, const char *name, long min, long max, long def, long *out)
{
    const char *v = ks_http_param_get(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be an integer from %ld to %ld.", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int ks_http_param_enum(ks_http_request *req, const char *name, const char *const *choices, int def)
{
    const char *v = ks_http_param_get(req, name);
    if (!v)
        return def;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0)
            return i;
    ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be %s or %s.", name, choices[0],
                   choices[1] ? choices[1] : "");
    return -2;
}
