/*
 * sqlite_schema.h - the SQLite schema as an ordered list of migrations.
 *
 * Migration i brings the database from PRAGMA user_version i to i + 1; the
 * store applies the missing ones at open, in one transaction. Never edit a
 * migration that has shipped: append a new one.
 */
#ifndef KS_STORE_SQLITE_SCHEMA_H
#define KS_STORE_SQLITE_SCHEMA_H

/* Migration 16 for one usage table (below): copied into a table keyed
 * (at, key_id), in that order, with its key and account indexes. */
#define USAGE_IN_TIME_ORDER(t)                                                                    \
    "CREATE TABLE " t "_new("                                                                     \
    "  key_id TEXT NOT NULL,"                                                                     \
    "  account TEXT NOT NULL,"                                                                    \
    "  at INTEGER NOT NULL,"                                                                      \
    "  valid INTEGER NOT NULL DEFAULT 0, invalid_token INTEGER NOT NULL DEFAULT 0,"               \
    "  inactive INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"                  \
    "  forbidden INTEGER NOT NULL DEFAULT 0, address_not_allowed INTEGER NOT NULL DEFAULT 0,"     \
    "  rate_limited INTEGER NOT NULL DEFAULT 0,"                                                  \
    "  PRIMARY KEY (at, key_id)) WITHOUT ROWID;"                                                  \
    "INSERT INTO " t "_new SELECT key_id, account, at, valid, invalid_token, inactive, expired,"  \
    "  forbidden, address_not_allowed, rate_limited FROM " t " ORDER BY at, key_id;"              \
    "DROP TABLE " t ";"                                                                           \
    "ALTER TABLE " t "_new RENAME TO " t ";"                                                      \
    "CREATE INDEX " t "_by_key ON " t "(key_id, account, at);"                                    \
    "CREATE INDEX " t "_by_account ON " t "(account, at);"

static const char *const KS_SQLITE_MIGRATIONS[] = {
    /* 0 -> 1: accounts, roles, keys, tokens, audit */
    "CREATE TABLE accounts("
    "  name TEXT PRIMARY KEY,"
    "  token_duration_months INTEGER NOT NULL DEFAULT 3 CHECK (token_duration_months IN (3, 6)),"
    "  enforce_duration INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE roles("
    "  account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  builtin INTEGER NOT NULL DEFAULT 0,"
    "  created_seq INTEGER NOT NULL,"
    "  PRIMARY KEY (account, name));"
    "CREATE TABLE role_resources("
    "  account TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  PRIMARY KEY (account, role, pos),"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE CASCADE);"
    "CREATE TABLE keys("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key_id TEXT NOT NULL UNIQUE,"
    "  account TEXT NOT NULL REFERENCES accounts(name),"
    "  name TEXT NOT NULL,"
    "  active INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX keys_by_account ON keys(account, seq);"
    "CREATE TABLE tokens("
    "  key_seq INTEGER NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  slot INTEGER NOT NULL CHECK (slot IN (0, 1)),"
    "  hash BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER,"
    "  PRIMARY KEY (key_seq, slot)) WITHOUT ROWID;"
    "CREATE TABLE key_roles("
    "  key_seq INTEGER NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  account TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  PRIMARY KEY (key_seq, account, role),"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE RESTRICT) WITHOUT ROWID;"
    "CREATE INDEX key_roles_by_role ON key_roles(account, role);"
    "CREATE TABLE audit("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE INDEX audit_by_account ON audit(account, id);",

    /* 1 -> 2: external grants (their roles live in key_roles under the
     * granting account) */
    "CREATE TABLE external_grants("
    "  key_seq INTEGER NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  account TEXT NOT NULL REFERENCES accounts(name),"
    "  active INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (key_seq, account)) WITHOUT ROWID;"
    "CREATE INDEX external_grants_by_account ON external_grants(account, seq);",

    /* 2 -> 3: web admin sessions, by keyed hash of the session cookie */
    "CREATE TABLE sessions("
    "  hash BLOB PRIMARY KEY,"
    "  key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_by_key ON sessions(key_id);",

    /* 3 -> 4: login token signing keys (secret half sealed with the server
     * secret) and one-time share links (token sealed with a key only the
     * link itself carries) */
    "CREATE TABLE signing_keys("
    "  kid TEXT PRIMARY KEY,"
    "  public_key BLOB NOT NULL,"
    "  sealed_secret BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  retired_at INTEGER);"
    "CREATE TABLE share_links("
    "  id_hash BLOB PRIMARY KEY,"
    "  key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
    "  sealed_token BLOB,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  revealed_at INTEGER);"
    "CREATE INDEX share_links_by_expiry ON share_links(expires_at);",

    /* 4 -> 5: the built-in roles gain edit-users (both) and edit-webhooks
     * (Owner), as core/roles.c defines them now (built-ins cannot be
     * edited, so their rows are exactly the old lists). */
    "INSERT INTO role_resources(account, role, pos, resource)"
    "  SELECT account, name, 6, 'edit-users' FROM roles WHERE builtin = 1 AND name = 'Owner'"
    "  ON CONFLICT DO NOTHING;"
    "INSERT INTO role_resources(account, role, pos, resource)"
    "  SELECT account, name, 7, 'edit-webhooks' FROM roles WHERE builtin = 1 AND name = 'Owner'"
    "  ON CONFLICT DO NOTHING;"
    "INSERT INTO role_resources(account, role, pos, resource)"
    "  SELECT account, name, 4, 'edit-users' FROM roles"
    "  WHERE builtin = 1 AND name = 'User Administrator - RESTRICTED'"
    "  ON CONFLICT DO NOTHING;",

    /* 5 -> 6: audit entries record how the actor authenticated and from
     * which client address (NULL on older entries: not recorded). */
    "ALTER TABLE audit ADD COLUMN via TEXT;"
    "ALTER TABLE audit ADD COLUMN address TEXT;",

    /* 6 -> 7: a
     * web admin session is bound to the API token that signed in, by that
     * token's keyed hash, and ends when the token stops verifying. Earlier
     * sessions name no token, so they end here (sign in again). */
    "DELETE FROM sessions;"
    "ALTER TABLE sessions ADD COLUMN token_hash BLOB;"
    "CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);"
    "CREATE INDEX sessions_by_created ON sessions(created_at);",

    /* 7 -> 8: the fingerprint of the server secret (a keyed hash, as the
     * PostgreSQL `cluster` table keeps), so the database is never opened
     * with another secret; a database from before records the first one
     * it is opened with. */
    "CREATE TABLE server_secret("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  fingerprint BLOB NOT NULL);",

    /* 8 -> 9: the change log, as PostgreSQL's: every write that changes
     * what verify or login sees appends a row in its own transaction, so a
     * running server sees what `keystile account create` (another process)
     * wrote. seq is AUTOINCREMENT: never reused after a compaction. */
    "CREATE TABLE changes("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind INTEGER NOT NULL,"
    "  account TEXT NOT NULL,"
    "  key_id TEXT NOT NULL);"
    "CREATE INDEX changes_by_subject ON changes(kind, account, key_id, seq);",

    /* 9 -> 10: people: persons (one per lower-cased email, across accounts; the
     * password only as Argon2id, the TOTP secret sealed with a key derived
     * from the server secret), their memberships (status and roles per
     * account), one-time invitations (keyed hash of the id), failed
     * sign-ins (keyed hash of the email), and sessions that belong to a
     * key or to a person (the table is rebuilt: key_id becomes optional). */
    "CREATE TABLE people("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  email TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT,"
    "  totp_sealed BLOB,"
    "  totp_enabled INTEGER NOT NULL DEFAULT 0,"
    "  totp_last_step INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  last_sign_in_at INTEGER,"
    "  sso INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE memberships("
    "  person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    "  account TEXT NOT NULL REFERENCES accounts(name),"
    "  active INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (person_id, account)) WITHOUT ROWID;"
    "CREATE INDEX memberships_by_account ON memberships(account);"
    "CREATE TABLE membership_roles("
    "  person_id INTEGER NOT NULL,"
    "  account TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  PRIMARY KEY (person_id, account, role),"
    "  FOREIGN KEY (person_id, account) REFERENCES memberships(person_id, account) ON DELETE CASCADE,"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE RESTRICT) WITHOUT ROWID;"
    "CREATE INDEX membership_roles_by_role ON membership_roles(account, role);"
    "CREATE TABLE invitations("
    "  id_hash BLOB PRIMARY KEY,"
    "  person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    "  account TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER);"
    "CREATE INDEX invitations_by_person ON invitations(person_id);"
    "CREATE INDEX invitations_by_expiry ON invitations(expires_at);"
    "CREATE TABLE signin_failures("
    "  email_hash BLOB NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX signin_failures_by_email ON signin_failures(email_hash, at);"
    "CREATE INDEX signin_failures_by_at ON signin_failures(at);"
    "CREATE TABLE sessions_people("
    "  hash BLOB PRIMARY KEY,"
    "  key_id TEXT REFERENCES keys(key_id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  token_hash BLOB,"
    "  person_id INTEGER REFERENCES people(id) ON DELETE CASCADE,"
    "  via TEXT,"
    "  CHECK ((key_id IS NULL) <> (person_id IS NULL)));"
    "INSERT INTO sessions_people(hash, key_id, created_at, last_seen_at, token_hash)"
    "  SELECT hash, key_id, created_at, last_seen_at, token_hash FROM sessions;"
    "DROP TABLE sessions;"
    "ALTER TABLE sessions_people RENAME TO sessions;"
    "CREATE INDEX sessions_by_key ON sessions(key_id);"
    "CREATE INDEX sessions_by_person ON sessions(person_id);"
    "CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);"
    "CREATE INDEX sessions_by_created ON sessions(created_at);",

    /* 10 -> 11: rotation on autopilot. An old token's deadline (ends_at) and
     * the renewal notices raised for a token (notices, KS_NOTICE_* bits);
     * the settings of the sweeps; webhooks (the signing secret sealed,
     * events as ",type,type,") and their outbox, one row per event and
     * webhook, written in the transaction of the change that raised it. */
    "ALTER TABLE tokens ADD COLUMN ends_at INTEGER;"
    "ALTER TABLE tokens ADD COLUMN notices INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX tokens_old ON tokens(key_seq) WHERE slot = 1;"
    "ALTER TABLE accounts ADD COLUMN auto_delete_old_token_hours INTEGER"
    "  CHECK (auto_delete_old_token_hours BETWEEN 1 AND 720);"
    "ALTER TABLE accounts ADD COLUMN renewal_notice_days INTEGER NOT NULL DEFAULT 14"
    "  CHECK (renewal_notice_days BETWEEN 0 AND 60);"
    "CREATE TABLE webhooks("
    "  id TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL REFERENCES accounts(name),"
    "  url TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  sealed_secret BLOB NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX webhooks_by_account ON webhooks(account, created_at);"
    "CREATE TABLE webhook_deliveries("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  account TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  response_code INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  last_attempt_at INTEGER,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  locked_until INTEGER);"
    "CREATE INDEX deliveries_pending ON webhook_deliveries(next_attempt_at) WHERE status = 0;"
    "CREATE INDEX deliveries_by_webhook ON webhook_deliveries(webhook_id, id);",

    /* 11 -> 12: the sweeps read what is due, not every token: old tokens by
     * deadline, current tokens by age (those that may still owe a notice). */
    "CREATE INDEX tokens_old_ends ON tokens(ends_at) WHERE slot = 1 AND ends_at IS NOT NULL;"
    "CREATE INDEX tokens_current_age ON tokens(created_at) WHERE slot = 0 AND notices <> 7;",

    /* 12 -> 13: per-key limits (API.md "Per-key limits and usage"): the key's allowed
     * ranges as normalised text joined by ',' ('' = any address) and its
     * rate limit (0 = none) */
    "ALTER TABLE keys ADD COLUMN allowed_cidrs TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE keys ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0"
    "  CHECK (rate_limit BETWEEN 0 AND 1000000000);"
    "ALTER TABLE keys ADD COLUMN rate_period INTEGER NOT NULL DEFAULT 0"
    "  CHECK (rate_period BETWEEN 0 AND 86400);"
    "CREATE TABLE node_heartbeats("
    "  node_id TEXT PRIMARY KEY,"
    "  seen_at INTEGER NOT NULL);"
    "CREATE TABLE usage_hours("
    "  key_id TEXT NOT NULL,"
    "  account TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  valid INTEGER NOT NULL DEFAULT 0, invalid_token INTEGER NOT NULL DEFAULT 0,"
    "  inactive INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"
    "  forbidden INTEGER NOT NULL DEFAULT 0, address_not_allowed INTEGER NOT NULL DEFAULT 0,"
    "  rate_limited INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, at)) WITHOUT ROWID;"
    "CREATE INDEX usage_hours_by_account ON usage_hours(account, at);"
    "CREATE INDEX usage_hours_by_at ON usage_hours(at);"
    "CREATE TABLE usage_days("
    "  key_id TEXT NOT NULL,"
    "  account TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  valid INTEGER NOT NULL DEFAULT 0, invalid_token INTEGER NOT NULL DEFAULT 0,"
    "  inactive INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"
    "  forbidden INTEGER NOT NULL DEFAULT 0, address_not_allowed INTEGER NOT NULL DEFAULT 0,"
    "  rate_limited INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, at)) WITHOUT ROWID;"
    "CREATE INDEX usage_days_by_account ON usage_days(account, at);"
    "CREATE INDEX usage_days_by_at ON usage_days(at);"
    "ALTER TABLE accounts ADD COLUMN deactivate_unused_days INTEGER"
    "  CHECK (deactivate_unused_days BETWEEN 30 AND 730);",
    /* 13 -> 14: leaked tokens (GitHub secret scanning): what a true positive does
     * (settings leaked_token_action), and an index to find the key holding
     * a reported token by its keyed hash (store.h token_find). */
    "ALTER TABLE accounts ADD COLUMN leaked_token_action TEXT NOT NULL DEFAULT 'alert'"
    "  CHECK (leaked_token_action IN ('alert', 'revoke'));"
    "CREATE INDEX tokens_by_hash ON tokens(hash);",
    /* 14 -> 15: each token's last caller (API.md "Per-key limits and usage":
     * last_used_from), written with last_used_at by the last-used flush. */
    "ALTER TABLE tokens ADD COLUMN last_used_from TEXT;",
    /* 15 -> 16: usage rows kept in time order, (at, key_id), the key order
     * an index (key_id, account, at) for a key's reads. Keyed (key_id, at),
     * a key's current hour and day rows sat among its past ones, so every
     * flush rewrote a page per key and table: with a week of history and
     * 70,000 keys in use, about 1 GB through the WAL and the checkpoint and
     * 2-3 s of CPU, every minute. In time order the flush's rows are
     * neighbours (15 MB, 0.3 s); only an hour's (or a day's) first flush
     * inserts into the key index at 70,000 places. The tables are copied
     * once, in the new order (16M rows: 96 s). PostgreSQL's tables stay as
     * they are: its rows live in a heap in the order they were inserted,
     * which the flush's order already makes a time order. */
    USAGE_IN_TIME_ORDER("usage_hours")
    USAGE_IN_TIME_ORDER("usage_days"),
};

#define KS_SQLITE_SCHEMA_VERSION ((int)(sizeof KS_SQLITE_MIGRATIONS / sizeof *KS_SQLITE_MIGRATIONS))

#endif
