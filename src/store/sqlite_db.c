/*
 * sqlite_db.c - the bottom of the SQLite backend: the statement table,
 * cached prepared statements, error mapping, transactions (sq_write_tx, and
 * group commit: batch_begin/batch_end, whose writes are savepoints of one
 * transaction made durable by one COMMIT) and column readers. It calls
 * nothing in the other sqlite_*.c files.
 */
#include "store/sqlite_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SQL[Q_COUNT] = {
    [Q_AUDIT_INSERT] = "INSERT INTO audit(account, at, actor, action, target, detail, via, address)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_ACCOUNT_INSERT] = "INSERT INTO accounts(name, token_duration_months, enforce_duration, created_at,"
                         " auto_delete_old_token_hours, renewal_notice_days, leaked_token_action)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_ACCOUNT_GET] = "SELECT token_duration_months, enforce_duration, auto_delete_old_token_hours, renewal_notice_days,"
                      " leaked_token_action, deactivate_unused_days FROM accounts WHERE name = ?1",
    [Q_ACCOUNT_PUT] = "UPDATE accounts SET token_duration_months = ?2, enforce_duration = ?3,"
                      " auto_delete_old_token_hours = ?5, renewal_notice_days = ?6, leaked_token_action = ?7,"
                      " deactivate_unused_days = ?8 WHERE name = ?1",
    [Q_ACCOUNT_LIST] = "SELECT name FROM accounts ORDER BY name",
    [Q_ROLE_INSERT] = "INSERT INTO roles(account, name, builtin, created_seq) VALUES (?1, ?2, ?3, "
                      "(SELECT COALESCE(MAX(created_seq), 0) + 1 FROM roles WHERE account = ?1))",
    [Q_ROLE_RESOURCE_INSERT] = "INSERT INTO role_resources(account, role, pos, resource) VALUES (?1, ?2, ?3, ?4)",
    [Q_ROLE_RESOURCES_DELETE] = "DELETE FROM role_resources WHERE account = ?1 AND role = ?2",
    [Q_ROLE_GET] = "SELECT builtin FROM roles WHERE account = ?1 AND name = ?2",
    [Q_ROLE_LIST] = "SELECT name, builtin FROM roles WHERE account = ?1 ORDER BY builtin DESC, created_seq",
    [Q_ROLE_RESOURCES_OF] = "SELECT resource FROM role_resources WHERE account = ?1 AND role = ?2 ORDER BY pos",
    [Q_ROLE_RENAME] = "UPDATE roles SET name = ?3 WHERE account = ?1 AND name = ?2",
    [Q_ROLE_DELETE] = "DELETE FROM roles WHERE account = ?1 AND name = ?2",
    [Q_ROLE_IN_USE] = "SELECT 1 FROM key_roles WHERE account = ?1 AND role = ?2"
                      " UNION ALL SELECT 1 FROM membership_roles WHERE account = ?1 AND role = ?2 LIMIT 1",
    [Q_KEY_INSERT] = "INSERT INTO keys(key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_KEY_SEQ] = "SELECT seq FROM keys WHERE key_id = ?1 AND account = ?2",
    [Q_KEY_GET] = "SELECT seq, key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period"
                  " FROM keys WHERE seq = ?1",
    [Q_TOKEN_FIND] = "SELECT k.account, k.key_id, t.slot FROM tokens t JOIN keys k ON k.seq = t.key_seq"
                     " WHERE t.hash = ?1 ORDER BY t.slot LIMIT 1",
    [Q_KEY_LIST] =
        "SELECT k.seq, k.key_id, k.account, k.name, k.active, k.created_at, k.allowed_cidrs, k.rate_limit, k.rate_period"
        " FROM keys k"
        " JOIN accounts a ON a.name = k.account"
        " JOIN tokens t ON t.key_seq = k.seq AND t.slot = 0"
        " WHERE k.account = ?1 AND k.seq < ?2"
        " AND (?3 IS NULL OR instr(lower(k.name), lower(?3)) > 0 OR instr(k.key_id, lower(?3)) > 0)"
        " AND (?4 < 0 OR k.active = ?4)"
        " AND (?5 < 0 OR (?6 > ks_expires_at(t.created_at, a.token_duration_months)) = ?5)"
        " ORDER BY k.seq DESC LIMIT ?7",
    [Q_KEY_SET_NAME] = "UPDATE keys SET name = ?2 WHERE seq = ?1",
    [Q_KEY_SET_ACTIVE] = "UPDATE keys SET active = ?2 WHERE seq = ?1",
    [Q_KEY_SET_CIDRS] = "UPDATE keys SET allowed_cidrs = ?2 WHERE seq = ?1",
    [Q_KEY_SET_RATE] = "UPDATE keys SET rate_limit = ?2, rate_period = ?3 WHERE seq = ?1",
    [Q_KEY_DELETE] = "DELETE FROM keys WHERE seq = ?1",
    [Q_OWNER_COUNT] = "SELECT (SELECT count(*) FROM keys k JOIN key_roles kr ON kr.key_seq = k.seq AND kr.account = k.account"
                      " WHERE k.account = ?1 AND k.active = 1 AND kr.role = 'Owner')"
                      " + (SELECT count(*) FROM memberships m JOIN membership_roles mr"
                      " ON mr.person_id = m.person_id AND mr.account = m.account"
                      " WHERE m.account = ?1 AND m.active = 1 AND mr.role = 'Owner')",
    [Q_KEY_ROLES_DELETE] = "DELETE FROM key_roles WHERE key_seq = ?1 AND account = ?2",
    [Q_KEY_ROLE_INSERT] = "INSERT OR IGNORE INTO key_roles(key_seq, account, role, pos) VALUES (?1, ?2, ?3, ?4)",
    [Q_KEY_ROLES_OF] = "SELECT role FROM key_roles WHERE key_seq = ?1 AND account = ?2 ORDER BY pos",
    [Q_TOKEN_UPSERT] = "INSERT OR REPLACE INTO tokens(key_seq, slot, hash, created_at, last_used_at, ends_at, notices,"
                       " last_used_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_TOKEN_DELETE] = "DELETE FROM tokens WHERE key_seq = ?1 AND slot = ?2",
    [Q_TOKENS_OF] = "SELECT slot, hash, created_at, last_used_at, ends_at, notices, last_used_from FROM tokens"
                    " WHERE key_seq = ?1",
    [Q_TOKEN_LAST_USED] = "UPDATE tokens SET last_used_at = ?3, last_used_from = ?4 WHERE key_seq = (SELECT seq FROM keys WHERE key_id = ?1)"
                          " AND hash = ?2 AND (last_used_at IS NULL OR last_used_at < ?3)",
    [Q_TOKEN_LAST_USED_AT_SEQ] = "UPDATE tokens SET last_used_at = ?3, last_used_from = ?4 WHERE key_seq = ?1"
                                 " AND hash = ?2 AND (last_used_at IS NULL OR last_used_at < ?3)",
    [Q_KEY_SEQ_OF_ID] = "SELECT seq FROM keys WHERE key_id = ?1",
    /* The load_* queries take the keys of an account (home or granted there), or all with NULL. */
#define KEYS_OF_ACCOUNT(col) "(?1 IS NULL OR " col " IN (SELECT seq FROM keys WHERE account = ?1)" \
                             " OR " col " IN (SELECT key_seq FROM external_grants WHERE account = ?1))"
    [Q_LOAD_KEYS] = "SELECT seq, key_id, account, name, active, created_at, allowed_cidrs, rate_limit, rate_period"
                    " FROM keys WHERE " KEYS_OF_ACCOUNT("seq") " ORDER BY seq",
    [Q_LOAD_TOKENS] = "SELECT key_seq, slot, hash, created_at, last_used_at, ends_at, notices, last_used_from"
                      " FROM tokens WHERE "
                      KEYS_OF_ACCOUNT("key_seq")
                      " ORDER BY key_seq",
    [Q_LOAD_KEY_ROLES] = "SELECT key_seq, account, role FROM key_roles WHERE " KEYS_OF_ACCOUNT("key_seq")
                         " ORDER BY key_seq, account, pos",
    [Q_LOAD_GRANTS] = "SELECT key_seq, account, active, created_at FROM external_grants WHERE " KEYS_OF_ACCOUNT("key_seq")
                      " ORDER BY key_seq, account",
    [Q_GRANTS_OF] = "SELECT account, active, created_at FROM external_grants WHERE key_seq = ?1 ORDER BY account",
    [Q_GRANT_INSERT] = "INSERT INTO external_grants(key_seq, account, active, created_at, seq) VALUES (?1, ?2, 1, ?3,"
                       " (SELECT COALESCE(MAX(seq), 0) + 1 FROM external_grants WHERE account = ?2))",
    [Q_GRANT_SET_ACTIVE] = "UPDATE external_grants SET active = ?3 WHERE key_seq = ?1 AND account = ?2",
    [Q_GRANT_DELETE] = "DELETE FROM external_grants WHERE key_seq = ?1 AND account = ?2",
    [Q_GRANT_EXISTS] = "SELECT 1 FROM external_grants WHERE key_seq = ?1 AND account = ?2",
    [Q_KEY_HOME] = "SELECT seq, account FROM keys WHERE key_id = ?1",
    [Q_SESSION_INSERT] = "INSERT INTO sessions(hash, key_id, created_at, last_seen_at, token_hash)"
                         " VALUES (?1, ?2, ?3, ?3, ?4)",
    [Q_SESSION_GET] = "SELECT key_id, last_seen_at, created_at, token_hash, person_id, via FROM sessions WHERE hash = ?1",
    [Q_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE hash = ?1",
    [Q_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
    [Q_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
    [Q_SIGNING_LIST] = "SELECT kid, public_key, sealed_secret, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
    [Q_SIGNING_ADD] = "INSERT INTO signing_keys(kid, public_key, sealed_secret, created_at) VALUES (?1, ?2, ?3, ?4)",
    [Q_SIGNING_RETIRE] = "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL",
    [Q_SHARE_INSERT] = "INSERT INTO share_links(id_hash, key_id, sealed_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_SHARE_GET] = "SELECT key_id, sealed_token, expires_at, revealed_at FROM share_links WHERE id_hash = ?1",
    [Q_SHARE_BURN] = "UPDATE share_links SET sealed_token = NULL, revealed_at = ?2 WHERE id_hash = ?1",
    [Q_SHARE_PURGE] = "DELETE FROM share_links WHERE expires_at < ?1",
    [Q_SECRET_PUT] = "INSERT OR IGNORE INTO server_secret(id, fingerprint) VALUES (1, ?1)",
    [Q_SECRET_GET] = "SELECT fingerprint FROM server_secret WHERE id = 1",
    [Q_HOLDS_DATA] = "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM server_secret)",
    [Q_CHANGE_INSERT] = "INSERT INTO changes(kind, account, key_id) VALUES (?1, ?2, ?3)",
    [Q_CHANGES_HEAD] = "SELECT COALESCE(max(seq), 0) FROM changes",
    [Q_CHANGES_SINCE] = "SELECT seq, kind, account, key_id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [Q_CHANGES_COMPACT] = "DELETE FROM changes WHERE EXISTS (SELECT 1 FROM changes n WHERE n.kind = changes.kind"
                          " AND n.account = changes.account AND n.key_id = changes.key_id AND n.seq > changes.seq)",
    [Q_EXTERNAL_LIST] = "SELECT key_seq FROM external_grants WHERE account = ?1 ORDER BY seq DESC",
    [Q_AUDIT_LIST] = "SELECT id, at, actor, action, target, detail, via, address FROM audit"
                     " WHERE account = ?1 AND id < ?2 AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR action = ?4)"
                     " ORDER BY id DESC LIMIT ?5",
#define PERSON_COLS "p.id, p.email, p.password_hash, p.totp_sealed, p.totp_enabled, p.totp_last_step," \
                    " p.created_at, p.last_sign_in_at, p.sso"
    [Q_PERSON_GET] = "SELECT " PERSON_COLS " FROM people p WHERE p.email = ?1",
    [Q_PERSON_GET_ID] = "SELECT " PERSON_COLS " FROM people p WHERE p.id = ?1",
    [Q_PERSON_INSERT] = "INSERT INTO people(email, created_at) VALUES (?1, ?2) ON CONFLICT(email) DO NOTHING",
    [Q_MEMBERSHIPS_OF] = "SELECT account, active, created_at FROM memberships WHERE person_id = ?1 ORDER BY account",
    [Q_MEMBERSHIP_GET] = "SELECT active FROM memberships WHERE person_id = ?1 AND account = ?2",
    [Q_MEMBERSHIP_INSERT] = "INSERT INTO memberships(person_id, account, active, created_at) VALUES (?1, ?2, 1, ?3)",
    [Q_MEMBERSHIP_SET_ACTIVE] = "UPDATE memberships SET active = ?3 WHERE person_id = ?1 AND account = ?2",
    [Q_MEMBERSHIP_DELETE] = "DELETE FROM memberships WHERE person_id = ?1 AND account = ?2",
    [Q_MEMBERSHIP_ROLES_OF] = "SELECT role FROM membership_roles WHERE person_id = ?1 AND account = ?2 ORDER BY pos",
    [Q_MEMBERSHIP_ROLES_DELETE] = "DELETE FROM membership_roles WHERE person_id = ?1 AND account = ?2",
    [Q_MEMBERSHIP_ROLE_INSERT] = "INSERT OR IGNORE INTO membership_roles(person_id, account, role, pos) VALUES (?1, ?2, ?3, ?4)",
    [Q_MEMBER_LIST] = "SELECT " PERSON_COLS ", m.active, m.created_at FROM memberships m JOIN people p ON p.id = m.person_id"
                      " WHERE m.account = ?1 ORDER BY p.email",
    [Q_MEMBER_GET] = "SELECT " PERSON_COLS ", m.active, m.created_at FROM memberships m JOIN people p ON p.id = m.person_id"
                     " WHERE m.account = ?1 AND p.email = ?2",
    [Q_PERSON_SESSIONS_END] = "DELETE FROM sessions WHERE person_id = ?1 AND (?2 IS NULL OR hash <> ?2)",
    [Q_PERSON_SESSION_INSERT] = "INSERT INTO sessions(hash, person_id, via, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    [Q_INVITATION_INSERT] = "INSERT INTO invitations(id_hash, person_id, account, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_INVITATION_GET] = "SELECT p.email, i.account, i.person_id, i.expires_at, i.used_at FROM invitations i"
                         " JOIN people p ON p.id = i.person_id WHERE i.id_hash = ?1",
    [Q_INVITATIONS_USE] = "UPDATE invitations SET used_at = ?2 WHERE person_id = ?1 AND used_at IS NULL",
    [Q_INVITATIONS_PURGE] = "DELETE FROM invitations WHERE expires_at < ?1",
    [Q_PERSON_SET_PASSWORD] = "UPDATE people SET password_hash = ?2 WHERE id = ?1",
    [Q_PERSON_SET_TOTP] = "UPDATE people SET totp_sealed = ?2, totp_enabled = ?3,"
                          " totp_last_step = CASE WHEN ?3 = 1 THEN totp_last_step ELSE 0 END WHERE id = ?1",
    [Q_PERSON_TOTP_STEP] = "UPDATE people SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
    [Q_PERSON_EXISTS] = "SELECT 1 FROM people WHERE id = ?1",
    [Q_PERSON_SIGNED_IN] = "UPDATE people SET last_sign_in_at = ?2, sso = MAX(sso, ?3) WHERE id = ?1",
    [Q_SIGNIN_FAILURE_ADD] = "INSERT INTO signin_failures(email_hash, at) VALUES (?1, ?2)",
    [Q_SIGNIN_FAILURE_PURGE] = "DELETE FROM signin_failures WHERE at < ?1",
    [Q_SIGNIN_FAILURES] = "SELECT at FROM signin_failures WHERE email_hash = ?1 AND at >= ?2 ORDER BY at LIMIT ?3",
    [Q_SIGNIN_FAILURES_CLEAR] = "DELETE FROM signin_failures WHERE email_hash = ?1",
    /* The outbox rows of an event: ?6 NULL = every enabled webhook subscribed to ?3. */
    [Q_OUTBOX_INSERT] = "INSERT INTO webhook_deliveries(webhook_id, account, event_id, event, body, created_at, next_attempt_at)"
                        " SELECT id, account, ?2, ?3, ?4, ?5, ?5 FROM webhooks WHERE account = ?1"
                        " AND ((?6 IS NULL AND enabled = 1 AND instr(events, ',' || ?3 || ',') > 0) OR id = ?6)",
    [Q_WEBHOOK_INSERT] = "INSERT INTO webhooks(id, account, url, events, sealed_secret, enabled, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_WEBHOOK_LIST] = "SELECT id, account, url, events, sealed_secret, enabled, created_at FROM webhooks"
                       " WHERE account = ?1 ORDER BY created_at DESC, id",
    [Q_WEBHOOK_GET] = "SELECT id, account, url, events, sealed_secret, enabled, created_at FROM webhooks"
                      " WHERE account = ?1 AND id = ?2",
    [Q_WEBHOOK_UPDATE] = "UPDATE webhooks SET url = coalesce(?3, url), events = coalesce(?4, events),"
                         " enabled = CASE WHEN ?5 < 0 THEN enabled ELSE ?5 END WHERE account = ?1 AND id = ?2",
    [Q_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE account = ?1 AND id = ?2",
#define DELIVERY_COLUMNS "d.id, d.webhook_id, d.account, d.event_id, d.event, d.body, d.status, d.attempts," \
                         " d.response_code, d.created_at, d.last_attempt_at, d.next_attempt_at"
    [Q_DELIVERY_LIST] = "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries d"
                        " WHERE d.webhook_id = ?1 AND d.account = ?2 AND d.id < ?3 ORDER BY d.id DESC LIMIT ?4",
    [Q_DELIVERY_DUE] = "SELECT " DELIVERY_COLUMNS ", w.url, w.sealed_secret FROM webhook_deliveries d"
                       " JOIN webhooks w ON w.id = d.webhook_id"
                       " WHERE d.status = 0 AND w.enabled = 1 AND d.next_attempt_at <= ?1"
                       " AND (d.locked_until IS NULL OR d.locked_until <= ?1)"
                       " ORDER BY d.next_attempt_at, d.id LIMIT ?2",
    [Q_DELIVERY_LOCK] = "UPDATE webhook_deliveries SET locked_until = ?2 WHERE id = ?1",
    [Q_DELIVERY_FINISH] = "UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1, response_code = ?3,"
                          " last_attempt_at = ?4, next_attempt_at = ?5, locked_until = NULL WHERE id = ?1",
    [Q_DELIVERY_RELEASE] = "UPDATE webhook_deliveries SET locked_until = NULL WHERE locked_until IS NOT NULL",
    [Q_OUTBOX_STATS] = "SELECT count(*), min(created_at) FROM webhook_deliveries WHERE status = 0",
    [Q_DELIVERY_PURGE] = "DELETE FROM webhook_deliveries WHERE status <> 0 AND created_at < ?1",
    /* Old tokens past their deadline, or idle long enough while the current
     * one is in use (core/token_slots.c ks_slots_old_due says the same).
     * Two disjoint parts, so a pass costs what is due, not every token: the
     * deadlines through tokens_old_ends; auto-delete walks only the keys of
     * accounts that turned it on (CROSS JOIN keeps that order). */
    [Q_OLD_TOKENS_DUE] =
        "SELECT * FROM (SELECT k.account, k.key_id, coalesce(a.auto_delete_old_token_hours, 0), o.ends_at"
        " FROM tokens o JOIN keys k ON k.seq = o.key_seq JOIN accounts a ON a.name = k.account"
        " WHERE o.slot = 1 AND o.ends_at <= ?1 ORDER BY o.ends_at LIMIT ?2)"
        " UNION ALL"
        " SELECT k.account, k.key_id, a.auto_delete_old_token_hours, coalesce(o.ends_at, 0) FROM accounts a"
        " CROSS JOIN keys k ON k.account = a.name CROSS JOIN tokens o ON o.key_seq = k.seq AND o.slot = 1"
        " CROSS JOIN tokens c ON c.key_seq = k.seq AND c.slot = 0"
        " WHERE a.auto_delete_old_token_hours IS NOT NULL AND (o.ends_at IS NULL OR o.ends_at > ?1)"
        " AND c.last_used_at >= c.created_at"
        " AND max(coalesce(o.last_used_at, 0), c.created_at) <= ?1 - a.auto_delete_old_token_hours * 3600"
        " LIMIT ?2",
    /* Current tokens of active keys owed a notice (core/token_age.h): due
     * within the notice days of expiry, recommended past it, highly
     * recommended 3 months past it. The range on created_at (through
     * tokens_current_age) keeps a pass to the tokens near or past expiry: a
     * token of M months expires at least 28 * M - 3 days after its creation
     * (months of 28 days or more, a day of month clamped by at most 3), so
     * none made later than the bound can owe anything yet. */
    [Q_NOTICES_DUE] =
        "SELECT k.account, k.key_id, k.name, t.created_at, t.notices, a.token_duration_months, a.renewal_notice_days"
        " FROM tokens t JOIN keys k ON k.seq = t.key_seq JOIN accounts a ON a.name = k.account"
        " WHERE t.slot = 0 AND t.notices <> 7 AND k.active = 1"
        " AND t.created_at <= ?1 - (SELECT min((28 * token_duration_months - 3 - renewal_notice_days) * 86400)"
        " FROM accounts) AND ("
        " ((t.notices & 1) = 0 AND ?1 >= ks_expires_at(t.created_at, a.token_duration_months) - a.renewal_notice_days * 86400)"
        " OR ((t.notices & 2) = 0 AND ?1 > ks_expires_at(t.created_at, a.token_duration_months))"
        " OR ((t.notices & 4) = 0 AND ?1 > ks_expires_at(t.created_at, a.token_duration_months + 3)))"
        " ORDER BY t.created_at LIMIT ?2",
    [Q_NOTICE_SET] = "UPDATE tokens SET notices = notices | ?4 WHERE slot = 0 AND created_at = ?3 AND (notices & ?4) = 0"
                     " AND key_seq = (SELECT seq FROM keys WHERE account = ?1 AND key_id = ?2)",
    [Q_UNUSED_DUE] = "SELECT k.account, k.key_id, a.deactivate_unused_days,"
        " coalesce((SELECT max(t.last_used_at) FROM tokens t WHERE t.key_seq = k.seq), 0) AS used"
        " FROM keys k JOIN accounts a ON a.name = k.account"
        " WHERE k.active = 1 AND a.deactivate_unused_days IS NOT NULL"
        " AND coalesce((SELECT max(t.last_used_at) FROM tokens t WHERE t.key_seq = k.seq), k.created_at)"
        " <= ?1 - a.deactivate_unused_days * 86400"
        " ORDER BY used, k.seq LIMIT ?2",
    [Q_NODE_BEAT] = "INSERT INTO node_heartbeats(node_id, seen_at) VALUES (?1, ?2)"
                    " ON CONFLICT(node_id) DO UPDATE SET seen_at = excluded.seen_at",
    [Q_NODE_LEAVE] = "DELETE FROM node_heartbeats WHERE node_id = ?1",
    [Q_NODE_PRUNE] = "DELETE FROM node_heartbeats WHERE seen_at < ?1",
    [Q_NODE_COUNT] = "SELECT count(*) FROM node_heartbeats WHERE seen_at >= ?1",
    [Q_USAGE_ADD_H] = "INSERT INTO usage_hours(key_id, account, at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (at, key_id) DO UPDATE SET valid = usage_hours.valid + excluded.valid, invalid_token = usage_hours.invalid_token + excluded.invalid_token, inactive = usage_hours.inactive + excluded.inactive, expired = usage_hours.expired + excluded.expired, forbidden = usage_hours.forbidden + excluded.forbidden, address_not_allowed = usage_hours.address_not_allowed + excluded.address_not_allowed, rate_limited = usage_hours.rate_limited + excluded.rate_limited",
    [Q_USAGE_KEY_H] = "SELECT at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited FROM usage_hours WHERE key_id = ?1 AND account = ?2 AND at >= ?3 AND at < ?4 ORDER BY at",
    [Q_USAGE_ACCOUNT_H] = "SELECT at, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited) FROM usage_hours WHERE account = ?1 AND at >= ?2 AND at < ?3 GROUP BY at ORDER BY at",
    [Q_USAGE_TOP_H] = "SELECT key_id, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited), sum(valid + invalid_token + inactive + expired + forbidden + address_not_allowed + rate_limited) AS total FROM usage_hours WHERE account = ?1 AND at >= ?2 AND at < ?3"
        " GROUP BY key_id ORDER BY total DESC, key_id LIMIT ?4",
    [Q_USAGE_PRUNE_H] = "DELETE FROM usage_hours WHERE at < ?1",
    [Q_USAGE_ADD_D] = "INSERT INTO usage_days(key_id, account, at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (at, key_id) DO UPDATE SET valid = usage_days.valid + excluded.valid, invalid_token = usage_days.invalid_token + excluded.invalid_token, inactive = usage_days.inactive + excluded.inactive, expired = usage_days.expired + excluded.expired, forbidden = usage_days.forbidden + excluded.forbidden, address_not_allowed = usage_days.address_not_allowed + excluded.address_not_allowed, rate_limited = usage_days.rate_limited + excluded.rate_limited",
    [Q_USAGE_KEY_D] = "SELECT at, valid, invalid_token, inactive, expired, forbidden, address_not_allowed, rate_limited FROM usage_days WHERE key_id = ?1 AND account = ?2 AND at >= ?3 AND at < ?4 ORDER BY at",
    [Q_USAGE_ACCOUNT_D] = "SELECT at, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited) FROM usage_days WHERE account = ?1 AND at >= ?2 AND at < ?3 GROUP BY at ORDER BY at",
    [Q_USAGE_TOP_D] = "SELECT key_id, sum(valid), sum(invalid_token), sum(inactive), sum(expired), sum(forbidden), sum(address_not_allowed), sum(rate_limited), sum(valid + invalid_token + inactive + expired + forbidden + address_not_allowed + rate_limited) AS total FROM usage_days WHERE account = ?1 AND at >= ?2 AND at < ?3"
        " GROUP BY key_id ORDER BY total DESC, key_id LIMIT ?4",
    [Q_USAGE_PRUNE_D] = "DELETE FROM usage_days WHERE at < ?1",
    [Q_TX_BEGIN] = "BEGIN IMMEDIATE",
    [Q_TX_BEGIN_READ] = "BEGIN",
    [Q_TX_COMMIT] = "COMMIT",
    [Q_TX_SAVEPOINT] = "SAVEPOINT ks_write",
    [Q_TX_RELEASE] = "RELEASE ks_write",
};

sqlite3_stmt *sq_stmt(sq_store *s, sq_query q)
{
    if (!s->stmts[q]) {
        if (sqlite3_prepare_v3(s->db, SQL[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[q], NULL) != SQLITE_OK) {
            fprintf(stderr, "keystile: sqlite prepare failed: %s\n", sqlite3_errmsg(s->db));
            return NULL;
        }
    }
    sqlite3_reset(s->stmts[q]);
    sqlite3_clear_bindings(s->stmts[q]);
    return s->stmts[q];
}

int sq_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return KS_OK;
    case SQLITE_NOMEM: return KS_ERR_NOMEM;
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED:
    case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PROTOCOL:
        return KS_ERR_STORAGE;
    default: return KS_ERR_INTERNAL;
    }
}

int sq_insert_error(int rc)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return KS_ERR_NOT_FOUND;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return KS_ERR_NAME_TAKEN;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return KS_ERR_INVALID; /* a CHECK: a value out of range */
    return sq_error(rc);
}

int sq_exec_sql(sq_store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "keystile: sqlite: %s\n", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return sq_error(rc);
}

/* Runs one transaction-control statement, prepared once (parsing them
 * was a tenth of a renewal's instructions). */
static int exec_tx(sq_store *s, sq_query q)
{
    sqlite3_stmt *st = sq_stmt(s, q);
    if (!st)
        return KS_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return KS_OK;
    fprintf(stderr, "keystile: sqlite: %s: %s\n", sqlite3_sql(st), sqlite3_errstr(rc));
    return sq_error(rc);
}

/* Inside a batch (sq_batch_begin) a write is a savepoint of the batch's
 * transaction: its commit releases the savepoint, its rollback undoes it
 * alone, and the batch's COMMIT makes them durable together. */
int sq_begin(sq_store *s)
{
    if (s->batch) {
        if (sqlite3_get_autocommit(s->db))
            return KS_ERR_STORAGE; /* SQLite rolled the batch back after an I/O error */
        int rc = exec_tx(s, Q_TX_SAVEPOINT);
        s->in_op = rc == KS_OK;
        return rc;
    }
    s->tx_started = ks_clock_monotonic();
    return exec_tx(s, Q_TX_BEGIN);
}

int sq_commit(sq_store *s)
{
    if (s->batch) {
        int rc = exec_tx(s, Q_TX_RELEASE);
        if (rc != KS_OK) {
            sq_rollback(s);
            return rc == KS_ERR_NOMEM ? rc : KS_ERR_STORAGE;
        }
        s->in_op = 0;
        return KS_OK;
    }
    int rc = exec_tx(s, Q_TX_COMMIT);
    if (s->base.on_write)
        s->base.on_write(ks_clock_monotonic() - s->tx_started);
    if (rc != KS_OK) {
        sq_rollback(s);
        return rc == KS_ERR_NOMEM ? rc : KS_ERR_STORAGE;
    }
    return KS_OK;
}

void sq_rollback(sq_store *s)
{
    if (s->batch) {
        if (s->in_op && !sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK TO ks_write; RELEASE ks_write", NULL, NULL, NULL);
        s->in_op = 0;
        return;
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Takes s->lock (recursive: a batch already holds it), begins, runs fn and
 * commits when it returns KS_OK, else rolls back. A failed begin returns its
 * code without calling fn; a failed commit has rolled back already. */
int sq_write_tx(sq_store *s, int (*fn)(sq_store *, void *), void *arg)
{
    pthread_mutex_lock(&s->lock);
    int rc = sq_begin(s);
    if (rc != KS_OK)
        goto out;
    rc = fn(s, arg);
    if (rc == KS_OK)
        rc = sq_commit(s);
    else
        sq_rollback(s);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_read_tx(sq_store *s, int (*fn)(sq_store *, void *), void *arg)
{
    pthread_mutex_lock(&s->lock);
    int began = sqlite3_get_autocommit(s->db) && exec_tx(s, Q_TX_BEGIN_READ) == KS_OK;
    int rc = fn(s, arg);
    if (began && !sqlite3_get_autocommit(s->db) && exec_tx(s, Q_TX_COMMIT) != KS_OK)
        sq_rollback(s); /* not in a batch: it began, so none was open */
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Runs the parameterless one-row query q under s->lock, its first column
 * into *out (0 on error): KS_OK, or the error of the step. */
int sq_query_int(sq_store *s, sq_query q, int64_t *out)
{
    *out = 0;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, q);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = KS_OK;
        } else {
            rc = sq_error(step);
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_exec_stmt(sqlite3_stmt *st)
{
    if (!st)
        return KS_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KS_OK : sq_error(rc);
}

char *sq_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}


/* Steps sq_write_one's statement: NOT_FOUND for a missing key, NAME_TAKEN
 * for a duplicate (sq_insert_error). */
static int write_one_in_tx(sq_store *s, void *arg)
{
    sqlite3_stmt *st = arg;
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? KS_OK : sq_insert_error(step);
}

int sq_write_one(sq_store *s, sqlite3_stmt *st)
{
    return sq_write_tx(s, write_one_in_tx, st);
}

int sq_batch_begin(ks_store *base)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock); /* held until sq_batch_end */
    int rc = sq_begin(s); /* BEGIN IMMEDIATE: not in batch mode yet */
    if (rc != KS_OK) {
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    s->batch = 1;
    s->in_op = 0;
    return KS_OK;
}

int sq_batch_end(ks_store *base, int commit)
{
    sq_store *s = (sq_store *)base;
    s->batch = 0;
    int rc = KS_OK;
    if (sqlite3_get_autocommit(s->db)) {
        rc = KS_ERR_STORAGE; /* the transaction was rolled back under us (I/O error) */
    } else if (!commit) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        rc = sq_commit(s);
        if (rc != KS_OK && rc != KS_ERR_NOMEM)
            rc = KS_ERR_STORAGE;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* sq_write_tx_store: sq_write_tx for a callback written over the
 * neutral ks_store (store_people.c's). */
struct store_tx {
    int (*fn)(ks_store *s, void *arg);
    void *arg;
};

static int store_tx_in_tx(sq_store *s, void *arg)
{
    const struct store_tx *t = arg;
    return t->fn(&s->base, t->arg);
}

int sq_write_tx_store(ks_store *base, int (*fn)(ks_store *s, void *arg), void *arg)
{
    struct store_tx t = {fn, arg};
    return sq_write_tx((sq_store *)base, store_tx_in_tx, &t);
}

int sq_due_list(sq_store *s, sq_query q, int64_t now, size_t max, size_t size,
                int (*row)(sqlite3_stmt *st, void *item), void (*release_n)(void *items, size_t n), void **out,
                size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    unsigned char *items = calloc(max, size);
    if (!items)
        return KS_ERR_NOMEM;
    size_t got = 0;
    int rc = KS_ERR_INTERNAL, step = SQLITE_DONE;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, q);
    if (st) {
        rc = KS_OK;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        while (rc == KS_OK && got < max && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = row(st, items + size * got++);
        if (rc == KS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        if (release_n)
            release_n(items, got);
        else
            free(items);
        return rc;
    }
    *out = items;
    *n = got;
    return KS_OK;
}
