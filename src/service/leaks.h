/*
 * leaks.h - a token reported as leaked (GitHub secret scanning, API.md
 * "Gateways and leaked tokens"): is it ours and does it verify, and then
 * the audit entry, the token.leaked event and the account's
 * leaked_token_action, all in one store transaction.
 *
 * A report is a true positive when the token has our format and checksum,
 * a key holds it (found by its keyed hash: store.h token_find) and it
 * verifies now (the checks of verify without a resource: not inactive, not
 * expired under enforce_duration, not an old token past its deadline; its
 * last use is not recorded). Then, by the key's home account's setting:
 *   alert   the audit entry token.leaked (actor "secret-scanning:github",
 *           via system, the caller's address; detail: slot, url, source,
 *           action) and the event token.leaked (data: slot, url, source,
 *           action), and nothing else;
 *   revoke  the same entry and event, written in the transaction of the
 *           revocation: a leaked old token is deleted (as Delete Old
 *           Token), a leaked current token deactivates its key. A
 *           deactivation that would leave the account without an active
 *           Owner (409 last_owner) is not done: the entry then says
 *           "action":"alert","revoke_refused":"last_owner".
 * The token itself is never written anywhere; the audit entry names the
 * key and the slot.
 */
#ifndef KS_SERVICE_LEAKS_H
#define KS_SERVICE_LEAKS_H

#include "service/service.h"

typedef struct {
    int true_positive;
    char account[KS_ACCOUNT_MAX + 1]; /* true positive: the key's home account */
    char key_id[KS_KEY_ID_MAX + 1];
    ks_slot slot;
    int action;                       /* KS_LEAKED_ALERT or KS_LEAKED_REVOKE, as done */
} ks_leak_outcome;

/* Handles one reported token (len bytes) found at url (may be "") in
 * source (may be ""), reported from address (NULL = none). KS_OK with *out
 * filled (a false positive changes nothing), or the store's error (then
 * nothing was written). */
__attribute__((warn_unused_result))
int ks_service_token_leaked(ks_service *svc, const char *token, size_t len, const char *url, const char *source,
                            const char *address, ks_leak_outcome *out);

#endif
