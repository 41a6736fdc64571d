/*
 * web_assets.h - the web admin's files (web/), embedded into the binary at
 * build time by scripts/embed_web.py and served at "/" with a strict
 * Content-Security-Policy. The table ends with a NULL path.
 */
#ifndef KS_HTTP_WEB_ASSETS_H
#define KS_HTTP_WEB_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;         /* "/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t size;
} ks_web_asset;

extern const ks_web_asset KS_WEB_ASSETS[];

#endif
