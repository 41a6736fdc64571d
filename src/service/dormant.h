/*
 * dormant.h - the sweep that deactivates keys unused for the account's
 * deactivate_unused_days (see dormant.c).
 */
#ifndef KS_SERVICE_DORMANT_H
#define KS_SERVICE_DORMANT_H

#include "service/service.h"

/* How often the sweeper looks for unused keys: the setting counts days, and
 * the look reads every active key of the accounts that set it, so once an
 * hour is plenty (sooner again while a look finds a full batch). */
#define KS_DORMANT_LOOK_EVERY_S 3600

/* One pass at `now`: deactivates the due keys (at most a batch), the count
 * in *deactivated; *full is 1 when the store had a whole batch due (more
 * may wait). KS_OK or the store's error. */
int ks_service_sweep_dormant(ks_service *svc, int64_t now, size_t *deactivated, int *full);

#endif
