/*
 * pg_db.c - the bottom of the PostgreSQL backend: the statement table,
 * parameters and row readers, connecting and reconnecting, running
 * statements, error mapping, transactions and the change-log append. It
 * calls nothing in the other pg_*.c files.
 *
 * Durability is the server's (synchronous_commit as configured there); an
 * acknowledged write is committed. Isolation: READ COMMITTED, with the rows a
 * read-modify-write depends on locked (SELECT ... FOR UPDATE), so two nodes
 * renewing one key serialise instead of losing an update. Multi-statement
 * reads run in REPEATABLE READ READ ONLY transactions (one snapshot).
 */
#include "store/pg_internal.h"
#include "core/clock.h"
#include "store/pg_schema.h"
#include "core/error.h"
#include "store/store_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* The keys of an account (home, or granted there), or all with $1 NULL. */
#define KEYS_OF_ACCOUNT(col) "($1::text IS NULL OR " col " IN (SELECT seq FROM keys WHERE account = $1)" \
                             " OR " col " IN (SELECT key_seq FROM external_grants WHERE account = $1))"

static const char *const SQL[P_COUNT] = {
    [P_AUDIT_INSERT] = "INSERT INTO audit(account, at, actor, action, target, detail, via, address)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    [P_CHANGE_LOCK] = "SELECT pg_advisory_xact_lock(" STR(KS_PG_LOCK_CLASS) ", " STR(KS_PG_LOCK_CHANGES) ")",
    [P_CHANGE_INSERT] = "INSERT INTO changes(kind, account, key_id) VALUES ($1, $2, $3)",
    [P_ACCOUNT_INSERT] = "INSERT INTO accounts(name, token_duration_months, enforce_duration, created_at,"
                         " auto_delete_old_token_hours, renewal_notice_days, leaked_token_action)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [P_ACCOUNT_GET] = "SELECT token_duration_months, enforce_duration, auto_delete_old_token_hours, renewal_notice_days,"
                      " leaked_token_action, deactivate_unused_days FROM accounts WHERE name = $1",
    [P_ACCOUNT_PUT] = "UPDATE accounts SET token_duration_months = $2, enforce_duration = $3,"
                      " auto_delete_old_token_hours = $4, renewal_notice_days = $5, leaked_token_action = $6,"
                      " deactivate_unused_days = $7 WHERE name = $1",
    [P_ACCOUNT_LIST] = "SELECT name FROM accounts ORDER BY name",
    [P_TOKEN_FIND] = "SELECT k.account, k.key_id, t.slot FROM tokens t JOIN keys k ON k.seq = t.key_seq"
                     " WHERE t.hash = $1 ORDER BY t.slot LIMIT 1",
    [P_ROLE_INSERT] = "INSERT INTO roles(account, name, builtin) VALUES ($1, $2, $3)",
    [P_ROLE_RESOURCE_INSERT] = "INSERT INTO role_resources(account, role, pos, resource) VALUES ($1, $2, $3, $4)",
    [P_ROLE_RESOURCES_DELETE] = "DELETE FROM role_resources WHERE account = $1 AND role = $2",
    [P_ROLE_GET] = "SELECT builtin FROM roles WHERE account = $1 AND name = $2",
    [P_ROLE_LOCK] = "SELECT builtin FROM roles WHERE account = $1 AND name = $2 FOR UPDATE",
    [P_ROLE_LIST] = "SELECT r.name, r.builtin, rr.resource FROM roles r"
                    " LEFT JOIN role_resources rr ON rr.account = r.account AND rr.role = r.name"
                    " WHERE r.account = $1 ORDER BY r.builtin DESC, r.created_seq, rr.pos",
    [P_ROLE_RENAME] = "UPDATE roles SET name = $3 WHERE account = $1 AND name = $2",
    [P_ROLE_DELETE] = "DELETE FROM roles WHERE account = $1 AND name = $2",
    [P_ROLE_IN_USE] = "SELECT 1 FROM key_roles WHERE account = $1 AND role = $2"
                      " UNION ALL SELECT 1 FROM membership_roles WHERE account = $1 AND role = $2 LIMIT 1",
    [P_KEY_INSERT] = "INSERT INTO keys(key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period)"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
    [P_KEY_SEQ] = "SELECT seq FROM keys WHERE key_id = $1 AND account = $2",
    [P_KEY_LOCK] = "SELECT seq FROM keys WHERE key_id = $1 AND account = $2 FOR UPDATE",
    [P_KEY_GET] = "SELECT seq, key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period"
                  " FROM keys WHERE seq = $1",
    [P_KEY_LIST] =
        "SELECT k.seq, k.key_id, k.account, k.name, k.active, k.created_at, k.allowed_cidrs, k.rate_limit, k.rate_period"
        " FROM keys k"
        " JOIN accounts a ON a.name = k.account"
        " JOIN tokens t ON t.key_seq = k.seq AND t.slot = 0"
        " WHERE k.account = $1 AND k.seq < $2::bigint"
        " AND ($3::text IS NULL OR strpos(lower(k.name), lower($3)) > 0 OR strpos(k.key_id, lower($3)) > 0)"
        " AND ($4::int < 0 OR k.active = $4::int)"
        " AND ($5::int < 0 OR ($6::bigint > ks_expires_at(t.created_at, a.token_duration_months))::int = $5::int)"
        " ORDER BY k.seq DESC LIMIT $7::int",
    [P_KEY_SET_NAME] = "UPDATE keys SET name = $2 WHERE seq = $1",
    [P_KEY_SET_ACTIVE] = "UPDATE keys SET active = $2 WHERE seq = $1",
    [P_KEY_SET_CIDRS] = "UPDATE keys SET allowed_cidrs = $2 WHERE seq = $1",
    [P_KEY_SET_RATE] = "UPDATE keys SET rate_limit = $2, rate_period = $3 WHERE seq = $1",
    [P_KEY_DELETE] = "DELETE FROM keys WHERE seq = $1",
    [P_OWNER_COUNT] = "SELECT (SELECT count(*) FROM keys k JOIN key_roles kr ON kr.key_seq = k.seq AND kr.account = k.account"
                      " WHERE k.account = $1 AND k.active = 1 AND kr.role = 'Owner')"
                      " + (SELECT count(*) FROM memberships m JOIN membership_roles mr"
                      " ON mr.person_id = m.person_id AND mr.account = m.account"
                      " WHERE m.account = $1 AND m.active = 1 AND mr.role = 'Owner')",
    /* Serialises the writes that may take the account's last Owner away
     * (NO KEY UPDATE: inserts that reference the account still go on). */
    [P_ACCOUNT_LOCK] = "SELECT 1 FROM accounts WHERE name = $1 FOR NO KEY UPDATE",
    [P_KEY_ROLES_DELETE] = "DELETE FROM key_roles WHERE key_seq = $1 AND account = $2",
    [P_KEY_ROLE_INSERT] = "INSERT INTO key_roles(key_seq, account, role, pos) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [P_KEY_ROLES_ALL] = "SELECT account, role FROM key_roles WHERE key_seq = $1 ORDER BY account, pos",
    [P_TOKEN_UPSERT] = "INSERT INTO tokens(key_seq, slot, hash, created_at, last_used_at, ends_at, notices,"
                       " last_used_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                       " ON CONFLICT (key_seq, slot) DO UPDATE SET hash = EXCLUDED.hash,"
                       " created_at = EXCLUDED.created_at, last_used_at = EXCLUDED.last_used_at,"
                       " ends_at = EXCLUDED.ends_at, notices = EXCLUDED.notices,"
                       " last_used_from = EXCLUDED.last_used_from",
    [P_TOKEN_DELETE] = "DELETE FROM tokens WHERE key_seq = $1 AND slot = $2",
    [P_TOKENS_OF] = "SELECT slot, hash, created_at, last_used_at, ends_at, notices, last_used_from FROM tokens"
                    " WHERE key_seq = $1",
    [P_TOKEN_LAST_USED] = "UPDATE tokens SET last_used_at = $3::bigint, last_used_from = $4 WHERE key_seq = (SELECT seq FROM keys WHERE key_id = $1)"
                          " AND hash = $2 AND (last_used_at IS NULL OR last_used_at < $3::bigint)",
    /* Pages of the index load: keys with $2 < seq (<= $3 for the others), in seq order. */
    [P_LOAD_KEYS] = "SELECT seq, key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period"
                    " FROM keys WHERE " KEYS_OF_ACCOUNT("seq")
                    " AND seq > $2::bigint ORDER BY seq LIMIT $3::int",
    [P_LOAD_TOKENS] = "SELECT key_seq, slot, hash, created_at, last_used_at, ends_at, notices, last_used_from"
                      " FROM tokens WHERE "
                      KEYS_OF_ACCOUNT("key_seq")
                      " AND key_seq > $2::bigint AND key_seq <= $3::bigint ORDER BY key_seq",
    [P_LOAD_KEY_ROLES] = "SELECT key_seq, account, role FROM key_roles WHERE " KEYS_OF_ACCOUNT("key_seq")
                         " AND key_seq > $2::bigint AND key_seq <= $3::bigint ORDER BY key_seq, account, pos",
    [P_LOAD_GRANTS] = "SELECT key_seq, account, active, created_at FROM external_grants WHERE " KEYS_OF_ACCOUNT("key_seq")
                      " AND key_seq > $2::bigint AND key_seq <= $3::bigint ORDER BY key_seq, account",
    [P_GRANTS_OF] = "SELECT account, active, created_at FROM external_grants WHERE key_seq = $1 ORDER BY account",
    [P_GRANT_INSERT] = "INSERT INTO external_grants(key_seq, account, active, created_at) VALUES ($1, $2, 1, $3)",
    [P_GRANT_SET_ACTIVE] = "UPDATE external_grants SET active = $3 WHERE key_seq = $1 AND account = $2",
    [P_GRANT_DELETE] = "DELETE FROM external_grants WHERE key_seq = $1 AND account = $2",
    [P_GRANT_EXISTS] = "SELECT 1 FROM external_grants WHERE key_seq = $1 AND account = $2",
    [P_KEY_HOME] = "SELECT seq, account FROM keys WHERE key_id = $1 FOR UPDATE",
    [P_EXTERNAL_LIST] = "SELECT key_seq FROM external_grants WHERE account = $1 ORDER BY seq DESC",
    [P_SESSION_INSERT] = "INSERT INTO sessions(hash, key_id, created_at, last_seen_at, token_hash)"
                         " VALUES ($1, $2, $3, $3, $4)",
    [P_SESSION_GET] = "SELECT key_id, last_seen_at, created_at, token_hash, person_id, via FROM sessions WHERE hash = $1",
    [P_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = $2 WHERE hash = $1",
    [P_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = $1",
    [P_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
    [P_SIGNING_LIST] = "SELECT kid, public_key, sealed_secret, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
    [P_SIGNING_ADD] = "INSERT INTO signing_keys(kid, public_key, sealed_secret, created_at) VALUES ($1, $2, $3, $4)",
    [P_SIGNING_RETIRE] = "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL",
    [P_SHARE_INSERT] = "INSERT INTO share_links(id_hash, key_id, sealed_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    [P_SHARE_GET] = "SELECT key_id, sealed_token, expires_at, revealed_at FROM share_links WHERE id_hash = $1 FOR UPDATE",
    [P_SHARE_BURN] = "UPDATE share_links SET sealed_token = NULL, revealed_at = $2 WHERE id_hash = $1",
    [P_SHARE_PURGE] = "DELETE FROM share_links WHERE expires_at < $1",
#define PERSON_COLS "p.id, p.email, p.password_hash, p.totp_sealed, p.totp_enabled, p.totp_last_step," \
                    " p.created_at, p.last_sign_in_at, p.sso"
    [P_PERSON_GET] = "SELECT " PERSON_COLS " FROM people p WHERE p.email = $1",
    [P_PERSON_GET_ID] = "SELECT " PERSON_COLS " FROM people p WHERE p.id = $1",
    [P_PERSON_INSERT] = "INSERT INTO people(email, created_at) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING",
    [P_MEMBERSHIPS_OF] = "SELECT account, active, created_at FROM memberships WHERE person_id = $1 ORDER BY account",
    [P_MEMBERSHIP_GET] = "SELECT active FROM memberships WHERE person_id = $1 AND account = $2",
    [P_MEMBERSHIP_INSERT] = "INSERT INTO memberships(person_id, account, active, created_at) VALUES ($1, $2, 1, $3)",
    [P_MEMBERSHIP_SET_ACTIVE] = "UPDATE memberships SET active = $3 WHERE person_id = $1 AND account = $2",
    [P_MEMBERSHIP_DELETE] = "DELETE FROM memberships WHERE person_id = $1 AND account = $2",
    [P_MEMBERSHIP_ROLES_OF] = "SELECT role FROM membership_roles WHERE person_id = $1 AND account = $2 ORDER BY pos",
    [P_MEMBERSHIP_ROLES_DELETE] = "DELETE FROM membership_roles WHERE person_id = $1 AND account = $2",
    [P_MEMBERSHIP_ROLE_INSERT] = "INSERT INTO membership_roles(person_id, account, role, pos) VALUES ($1, $2, $3, $4)"
                                 " ON CONFLICT DO NOTHING",
    [P_MEMBER_LIST] = "SELECT " PERSON_COLS ", m.active, m.created_at FROM memberships m JOIN people p ON p.id = m.person_id"
                      " WHERE m.account = $1 ORDER BY p.email",
    [P_MEMBER_GET] = "SELECT " PERSON_COLS ", m.active, m.created_at FROM memberships m JOIN people p ON p.id = m.person_id"
                     " WHERE m.account = $1 AND p.email = $2",
    [P_PERSON_SESSIONS_END] = "DELETE FROM sessions WHERE person_id = $1 AND ($2::bytea IS NULL OR hash <> $2::bytea)",
    [P_PERSON_SESSION_INSERT] = "INSERT INTO sessions(hash, person_id, via, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
    [P_INVITATION_INSERT] = "INSERT INTO invitations(id_hash, person_id, account, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    [P_INVITATION_GET] = "SELECT p.email, i.account, i.person_id, i.expires_at, i.used_at FROM invitations i"
                         " JOIN people p ON p.id = i.person_id WHERE i.id_hash = $1 FOR UPDATE OF i",
    [P_INVITATIONS_USE] = "UPDATE invitations SET used_at = $2 WHERE person_id = $1 AND used_at IS NULL",
    [P_INVITATIONS_PURGE] = "DELETE FROM invitations WHERE expires_at < $1",
    [P_PERSON_SET_PASSWORD] = "UPDATE people SET password_hash = $2 WHERE id = $1",
    [P_PERSON_SET_TOTP] = "UPDATE people SET totp_sealed = $2, totp_enabled = $3::int,"
                          " totp_last_step = CASE WHEN $3::int = 1 THEN totp_last_step ELSE 0 END WHERE id = $1",
    [P_PERSON_TOTP_STEP] = "UPDATE people SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
    [P_PERSON_EXISTS] = "SELECT 1 FROM people WHERE id = $1",
    [P_PERSON_SIGNED_IN] = "UPDATE people SET last_sign_in_at = $2, sso = GREATEST(sso, $3::int) WHERE id = $1",
    [P_SIGNIN_FAILURE_ADD] = "INSERT INTO signin_failures(email_hash, at) VALUES ($1, $2)",
    [P_SIGNIN_FAILURE_PURGE] = "DELETE FROM signin_failures WHERE at < $1",
    [P_SIGNIN_FAILURES] = "SELECT at FROM signin_failures WHERE email_hash = $1 AND at >= $2 ORDER BY at LIMIT $3::int",
    [P_SIGNIN_FAILURES_CLEAR] = "DELETE FROM signin_failures WHERE email_hash = $1",
    [P_AUDIT_LIST] = "SELECT id, at, actor, action, target, detail, via, address FROM audit"
                     " WHERE account = $1 AND id < $2::bigint AND ($3::text IS NULL OR actor = $3)"
                     " AND ($4::text IS NULL OR action = $4) ORDER BY id DESC LIMIT $5::int",
    [P_CHANGES_HEAD] = "SELECT COALESCE(max(seq), 0) FROM changes",
    [P_CHANGES_SINCE] = "SELECT seq, kind, account, key_id FROM changes WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int",
    [P_CHANGES_COMPACT] = "DELETE FROM changes c WHERE EXISTS (SELECT 1 FROM changes n WHERE n.kind = c.kind"
                          " AND n.account = c.account AND n.key_id = c.key_id AND n.seq > c.seq)",
    [P_SECRET_GET] = "SELECT secret_fingerprint FROM cluster WHERE id = 1",
    [P_SECRET_PUT] = "INSERT INTO cluster(id, secret_fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    [P_HOLDS_DATA] = "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM cluster)",
    /* The outbox rows of an event: $6 NULL = every enabled webhook subscribed to $3. */
    [P_OUTBOX_INSERT] = "INSERT INTO webhook_deliveries(webhook_id, account, event_id, event, body, created_at, next_attempt_at)"
                        " SELECT id, account, $2, $3, $4, $5::bigint, $5::bigint FROM webhooks WHERE account = $1"
                        " AND (($6::text IS NULL AND enabled = 1 AND strpos(events, ',' || $3 || ',') > 0) OR id = $6)",
    [P_WEBHOOK_INSERT] = "INSERT INTO webhooks(id, account, url, events, sealed_secret, enabled, created_at)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [P_WEBHOOK_LIST] = "SELECT id, account, url, events, sealed_secret, enabled, created_at FROM webhooks"
                       " WHERE account = $1 ORDER BY created_at DESC, id",
    [P_WEBHOOK_GET] = "SELECT id, account, url, events, sealed_secret, enabled, created_at FROM webhooks"
                      " WHERE account = $1 AND id = $2",
    [P_WEBHOOK_UPDATE] = "UPDATE webhooks SET url = coalesce($3, url), events = coalesce($4, events),"
                         " enabled = CASE WHEN $5::int < 0 THEN enabled ELSE $5::int END WHERE account = $1 AND id = $2",
    [P_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE account = $1 AND id = $2",
#define DELIVERY_COLUMNS "d.id, d.webhook_id, d.account, d.event_id, d.event, d.body, d.status, d.attempts," \
                         " d.response_code, d.created_at, d.last_attempt_at, d.next_attempt_at"
    [P_DELIVERY_LIST] = "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries d"
                        " WHERE d.webhook_id = $1 AND d.account = $2 AND d.id < $3::bigint ORDER BY d.id DESC LIMIT $4::int",
    /* SKIP LOCKED: what another node is taking right now is left to it, and
     * what it took (locked_until ahead) no longer matches once it commits. */
    [P_DELIVERY_CLAIM] = "UPDATE webhook_deliveries d SET locked_until = $2::bigint FROM webhooks w"
                         " WHERE w.id = d.webhook_id AND d.id IN (SELECT x.id FROM webhook_deliveries x"
                         " JOIN webhooks y ON y.id = x.webhook_id WHERE x.status = 0 AND y.enabled = 1"
                         " AND x.next_attempt_at <= $1::bigint AND (x.locked_until IS NULL OR x.locked_until <= $1::bigint)"
                         " ORDER BY x.next_attempt_at, x.id LIMIT $3::int FOR UPDATE OF x SKIP LOCKED)"
                         " RETURNING " DELIVERY_COLUMNS ", w.url, w.sealed_secret",
    [P_DELIVERY_FINISH] = "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, response_code = $3,"
                          " last_attempt_at = $4, next_attempt_at = $5, locked_until = NULL WHERE id = $1",
    [P_OUTBOX_STATS] = "SELECT count(*), coalesce(min(created_at), 0) FROM webhook_deliveries WHERE status = 0",
    [P_DELIVERY_PURGE] = "DELETE FROM webhook_deliveries WHERE status <> 0 AND created_at < $1",
    /* As SQLite's Q_OLD_TOKENS_DUE and Q_NOTICES_DUE: a pass costs what is
     * due (tokens_old_ends, tokens_current_age), not every token. */
    [P_OLD_TOKENS_DUE] =
        "(SELECT k.account, k.key_id, coalesce(a.auto_delete_old_token_hours, 0), o.ends_at"
        " FROM tokens o JOIN keys k ON k.seq = o.key_seq JOIN accounts a ON a.name = k.account"
        " WHERE o.slot = 1 AND o.ends_at <= $1::bigint ORDER BY o.ends_at LIMIT $2::int)"
        " UNION ALL"
        " (SELECT k.account, k.key_id, a.auto_delete_old_token_hours, coalesce(o.ends_at, 0) FROM accounts a"
        " JOIN keys k ON k.account = a.name JOIN tokens o ON o.key_seq = k.seq AND o.slot = 1"
        " JOIN tokens c ON c.key_seq = k.seq AND c.slot = 0"
        " WHERE a.auto_delete_old_token_hours IS NOT NULL AND (o.ends_at IS NULL OR o.ends_at > $1::bigint)"
        " AND c.last_used_at >= c.created_at"
        " AND greatest(coalesce(o.last_used_at, 0), c.created_at) <= $1::bigint - a.auto_delete_old_token_hours * 3600"
        " LIMIT $2::int)"
        " LIMIT $2::int",
    [P_NOTICES_DUE] =
        "SELECT k.account, k.key_id, k.name, t.created_at, t.notices, a.token_duration_months, a.renewal_notice_days"
        " FROM tokens t JOIN keys k ON k.seq = t.key_seq JOIN accounts a ON a.name = k.account"
        " WHERE t.slot = 0 AND t.notices <> 7 AND k.active = 1"
        " AND t.created_at <= $1::bigint - (SELECT min((28 * token_duration_months - 3 - renewal_notice_days) * 86400)"
        " FROM accounts) AND ("
        " ((t.notices & 1) = 0 AND $1::bigint >= ks_expires_at(t.created_at, a.token_duration_months) - a.renewal_notice_days * 86400)"
        " OR ((t.notices & 2) = 0 AND $1::bigint > ks_expires_at(t.created_at, a.token_duration_months))"
        " OR ((t.notices & 4) = 0 AND $1::bigint > ks_expires_at(t.created_at, a.token_duration_months + 3)))"
        " ORDER BY t.created_at LIMIT $2::int",
    [P_NOTICE_SET] = "UPDATE tokens SET notices = notices | $4::int WHERE slot = 0 AND created_at = $3::bigint"
                     " AND (notices & $4::int) = 0 AND key_seq = (SELECT seq FROM keys WHERE account = $1 AND key_id = $2)",
    [P_SWEEP_LOCK] = "SELECT pg_try_advisory_lock(" STR(KS_PG_LOCK_CLASS) ", " STR(KS_PG_LOCK_SWEEPS) ")",
    [P_SWEEP_UNLOCK] = "SELECT pg_advisory_unlock(" STR(KS_PG_LOCK_CLASS) ", " STR(KS_PG_LOCK_SWEEPS) ")",
    [P_UNUSED_DUE] = "SELECT k.account, k.key_id, a.deactivate_unused_days,"
        " coalesce((SELECT max(t.last_used_at) FROM tokens t WHERE t.key_seq = k.seq), 0) AS used"
        " FROM keys k JOIN accounts a ON a.name = k.account"
        " WHERE k.active = 1 AND a.deactivate_unused_days IS NOT NULL"
        " AND coalesce((SELECT max(t.last_used_at) FROM tokens t WHERE t.key_seq = k.seq), k.created_at)"
        " <= $1::bigint - a.deactivate_unused_days * 86400"
        " ORDER BY used, k.seq LIMIT $2::int",
    [P_NODE_BEAT] = "INSERT INTO node_heartbeats(node_id, seen_at) VALUES ($1, $2)"
                    " ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at",
    [P_NODE_LEAVE] = "DELETE FROM node_heartbeats WHERE node_id = $1",
    [P_NODE_PRUNE] = "DELETE FROM node_heartbeats WHERE seen_at < $1",
    [P_USAGE_ADD_H] = "INSERT INTO usage_hours(key_id, account, at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (key_id, at) DO UPDATE SET valid = usage_hours.valid + excluded.valid, invalid_token = usage_hours.invalid_token + excluded.invalid_token, inactive = usage_hours.inactive + excluded.inactive, expired = usage_hours.expired + excluded.expired, forbidden = usage_hours.forbidden + excluded.forbidden, address_not_allowed = usage_hours.address_not_allowed + excluded.address_not_allowed, rate_limited = usage_hours.rate_limited + excluded.rate_limited",
    [P_USAGE_KEY_H] = "SELECT at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited FROM usage_hours WHERE key_id = $1 AND account = $2 AND at >= $3 AND at < $4 ORDER BY at",
    [P_USAGE_ACCOUNT_H] = "SELECT at, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited) FROM usage_hours WHERE account = $1 AND at >= $2 AND at < $3 GROUP BY at ORDER BY at",
    [P_USAGE_TOP_H] = "SELECT key_id, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited), sum(valid + invalid_token + inactive + expired + forbidden + address_not_allowed + rate_limited) AS total FROM usage_hours WHERE account = $1 AND at >= $2 AND at < $3"
        " GROUP BY key_id ORDER BY total DESC, key_id LIMIT $4",
    [P_USAGE_PRUNE_H] = "DELETE FROM usage_hours WHERE at < $1",
    [P_USAGE_ADD_D] = "INSERT INTO usage_days(key_id, account, at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (key_id, at) DO UPDATE SET valid = usage_days.valid + excluded.valid, invalid_token = usage_days.invalid_token + excluded.invalid_token, inactive = usage_days.inactive + excluded.inactive, expired = usage_days.expired + excluded.expired, forbidden = usage_days.forbidden + excluded.forbidden, address_not_allowed = usage_days.address_not_allowed + excluded.address_not_allowed, rate_limited = usage_days.rate_limited + excluded.rate_limited",
    [P_USAGE_KEY_D] = "SELECT at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited FROM usage_days WHERE key_id = $1 AND account = $2 AND at >= $3 AND at < $4 ORDER BY at",
    [P_USAGE_ACCOUNT_D] = "SELECT at, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited) FROM usage_days WHERE account = $1 AND at >= $2 AND at < $3 GROUP BY at ORDER BY at",
    [P_USAGE_TOP_D] = "SELECT key_id, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited), sum(valid + invalid_token + inactive + expired + forbidden + address_not_allowed + rate_limited) AS total FROM usage_days WHERE account = $1 AND at >= $2 AND at < $3"
        " GROUP BY key_id ORDER BY total DESC, key_id LIMIT $4",
    [P_USAGE_PRUNE_D] = "DELETE FROM usage_days WHERE at < $1",
    [P_NODE_COUNT] = "SELECT count(*) FROM node_heartbeats WHERE seen_at >= $1",
};

/* ---- parameters and rows ---- */

void pg_text(pg_params *p, const char *v)
{
    p->values[p->n] = v;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

void pg_int(pg_params *p, int64_t v)
{
    snprintf(p->nums[p->n], sizeof p->nums[p->n], "%" PRId64, v);
    pg_text(p, p->nums[p->n]);
}

void pg_bytes(pg_params *p, const void *b, size_t n)
{
    p->values[p->n] = b;
    p->lengths[p->n] = (int)n;
    p->formats[p->n] = 1;
    p->n++;
}

int64_t pg_get_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void pg_get_str(const PGresult *r, int row, int col, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", PQgetvalue(r, row, col));
}

char *pg_get_strdup(const PGresult *r, int row, int col)
{
    return strdup(PQgetvalue(r, row, col));
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int pg_get_bytes(const PGresult *r, int row, int col, unsigned char *buf, size_t max, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return -1;
    const char *v = PQgetvalue(r, row, col); /* text output of bytea: \x + hex */
    size_t n = strlen(v);
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2 != 0 || (n - 2) / 2 > max)
        return -1;
    for (size_t i = 0; i < (n - 2) / 2; i++) {
        int hi = hex_value(v[2 + 2 * i]), lo = hex_value(v[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        buf[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = (n - 2) / 2;
    return 0;
}

/* ---- connections ---- */

/* Server notices (and a FATAL sent to an idle connection) go to the store
 * logger (ks_store_set_logger). */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    ks_store_logger logger = ks_store_get_logger();
    if (!logger)
        return;
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(message, "\n"), message);
    logger("warn", "postgresql", "{s:s}", "message", line);
}

PGconn *pg_connect(const char *uri, char *err, size_t errlen)
{
    /* Our defaults first; the URI (expanded from dbname) comes last and wins. */
    static const char *const KEYS[] = {"connect_timeout", "keepalives", "keepalives_idle",
                                       "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                                       "application_name", "options", "dbname", NULL};
    const char *values[] = {"3", "1", "5", "2", "3", "10000", "keystile",
                            "-c statement_timeout=30000 -c lock_timeout=10000"
                            " -c idle_in_transaction_session_timeout=60000 -c client_min_messages=warning",
                            uri, NULL};
    PGconn *c = PQconnectdbParams(KEYS, values, 1);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c);
        snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
        PQfinish(c);
        return NULL;
    }
    PQsetErrorVerbosity(c, PQERRORS_DEFAULT);
    PQsetNoticeProcessor(c, on_notice, NULL);
    return c;
}

/* A usable connection, reconnecting (at most once a second). */
static int conn_ensure(pg_store *s, int force)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return KS_OK;
    double now = ks_clock_monotonic();
    if (!force && now < s->next_connect)
        return KS_ERR_STORAGE;
    if (s->conn)
        PQfinish(s->conn);
    memset(s->prepared, 0, sizeof s->prepared);
    s->in_tx = 0;
    s->sweep_locked = 0; /* a session lock dies with its connection */
    char err[256];
    s->conn = pg_connect(s->uri, err, sizeof err);
    if (!s->conn) {
        s->next_connect = now + 1.0;
        return KS_ERR_STORAGE;
    }
    return KS_OK;
}

/* Maps a failed result (or NULL) to a Keystile error. */
static int result_error(pg_store *s, PGresult *r, pg_query q)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state || PQstatus(s->conn) != CONNECTION_OK)
        return KS_ERR_STORAGE; /* the connection is gone: libpq's own error */
    if (strcmp(state, "23505") == 0)
        return KS_ERR_NAME_TAKEN;
    if (strcmp(state, "23503") == 0)
        return KS_ERR_NOT_FOUND;
    if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 || strncmp(state, "22", 2) == 0)
        return KS_ERR_INVALID;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 || strncmp(state, "57", 2) == 0 ||
        strncmp(state, "40", 2) == 0 || strcmp(state, "55P03") == 0 || strcmp(state, "25006") == 0 ||
        strncmp(state, "58", 2) == 0)
        return KS_ERR_STORAGE;
    const char *m = PQresultErrorMessage(r);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(m, "\n"), m);
    ks_store_logger logger = ks_store_get_logger();
    if (logger)
        logger("error", "postgresql statement failed", "{s:i, s:s, s:s}", "statement", (int)q, "sqlstate", state,
             "message", line);
    return KS_ERR_INTERNAL;
}

PGresult *pg_exec(pg_store *s, pg_query q, const pg_params *p, int *rc)
{
    char name[16];
    snprintf(name, sizeof name, "ks%d", (int)q);
    if (!s->conn) {
        *rc = KS_ERR_STORAGE;
        return NULL;
    }
    if (!s->prepared[q]) {
        PGresult *r = PQprepare(s->conn, name, SQL[q], 0, NULL);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            *rc = result_error(s, r, q);
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        s->prepared[q] = 1;
    }
    PGresult *r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->values : NULL,
                                 p ? p->lengths : NULL, p ? p->formats : NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        *rc = result_error(s, r, q);
        PQclear(r);
        return NULL;
    }
    *rc = KS_OK;
    return r;
}

int pg_run(pg_store *s, pg_query q, const pg_params *p)
{
    int rc;
    PQclear(pg_exec(s, q, p, &rc));
    return rc;
}

int64_t pg_changed(PGresult *r)
{
    const char *n = PQcmdTuples(r);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

/* Runs a statement without parameters (BEGIN, COMMIT, migrations). */
int pg_exec_sql(pg_store *s, const char *sql)
{
    PGresult *r = PQexec(s->conn, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    int rc = ok ? KS_OK : result_error(s, r, P_COUNT);
    PQclear(r);
    return rc;
}

/* Locks s and opens a transaction (read_only: REPEATABLE READ READ ONLY, a
 * consistent snapshot for reads of several statements). On failure s is
 * unlocked again and the error returned. */
static int tx_begin(pg_store *s, int read_only)
{
    const char *sql = read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN";
    pthread_mutex_lock(&s->lock);
    int rc = conn_ensure(s, 0);
    if (rc == KS_OK && (rc = pg_exec_sql(s, sql)) != KS_OK && PQstatus(s->conn) != CONNECTION_OK) {
        /* A connection that died while idle (a database restart): nothing
         * was sent yet, so one fresh attempt is safe. */
        if ((rc = conn_ensure(s, 1)) == KS_OK)
            rc = pg_exec_sql(s, sql);
    }
    if (rc != KS_OK) {
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    s->in_tx = 1;
    s->tx_read_only = read_only;
    s->tx_started = ks_clock_monotonic();
    return KS_OK;
}

/* Ends the transaction begun by tx_begin and unlocks: COMMIT when rc is
 * KS_OK (returning its outcome: KS_ERR_STORAGE when it failed, and telling
 * the write observer how long a write took), else ROLLBACK (returning rc). */
static int tx_end(pg_store *s, int rc)
{
    if (rc == KS_OK) {
        rc = pg_exec_sql(s, "COMMIT");
        if (!s->tx_read_only && s->base.on_write)
            s->base.on_write(ks_clock_monotonic() - s->tx_started);
        if (rc != KS_OK && rc != KS_ERR_NOMEM)
            rc = KS_ERR_STORAGE;
    }
    if (rc != KS_OK && s->conn && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_tx = 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Shared by pg_write_tx and pg_read_tx: begin (reconnecting, with one
 * retry on a dead idle connection), run fn, commit or roll back. A failed
 * begin returns its code without calling fn. */
static int run_tx(pg_store *s, int read_only, int (*fn)(pg_store *, void *), void *arg)
{
    int rc = tx_begin(s, read_only);
    return rc == KS_OK ? tx_end(s, fn(s, arg)) : rc;
}

int pg_write_tx(pg_store *s, int (*fn)(pg_store *, void *), void *arg)
{
    return run_tx(s, 0, fn, arg);
}

int pg_read_tx(pg_store *s, int (*fn)(pg_store *, void *), void *arg)
{
    return run_tx(s, 1, fn, arg);
}

int pg_change(pg_store *s, ks_change_kind kind, const char *account, const char *key_id)
{
    int rc = pg_run(s, P_CHANGE_LOCK, NULL);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_int(&p, kind);
    pg_text(&p, account ? account : "");
    pg_text(&p, key_id ? key_id : "");
    return pg_run(s, P_CHANGE_INSERT, &p);
}

/* pg_write_tx_store: pg_write_tx for a callback written over the
 * neutral ks_store (store_people.c's). */
struct store_tx {
    int (*fn)(ks_store *s, void *arg);
    void *arg;
};

static int store_tx_in_tx(pg_store *s, void *arg)
{
    const struct store_tx *t = arg;
    return t->fn(&s->base, t->arg);
}

int pg_write_tx_store(ks_store *base, int (*fn)(ks_store *s, void *arg), void *arg)
{
    struct store_tx t = {fn, arg};
    return pg_write_tx((pg_store *)base, store_tx_in_tx, &t);
}
