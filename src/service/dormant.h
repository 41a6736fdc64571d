/*
 * dormant.h - the sweep that deactivates keys unused for the account's
 * deactivate_unused_days (see dormant.c).
 */
#ifndef KS_SERVICE_DORMANT_H
#define KS_SERVICE_DORMANT_H

#include "service/service.h"

/* One pass at `now`: deactivates the due keys (at most a batch), the count
 * in *deactivated. KS_OK or the store's error. */
int ks_service_sweep_dormant(ks_service *svc, int64_t now, size_t *deactivated);

#endif
