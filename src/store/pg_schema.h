/*
 * pg_schema.h - the PostgreSQL schema as an ordered list of migrations.
 *
 * Migration i brings the database from keystile_schema.version i to i + 1.
 * The store applies the missing ones at open in one transaction that first
 * takes an advisory lock, so nodes starting together migrate once, one after
 * the other (DDL is transactional in PostgreSQL). Never edit a migration that
 * has shipped: append a new one.
 *
 * The tables mirror the SQLite schema (sqlite_schema.h): times are Unix
 * seconds in bigint, digests bytea. Added: `changes`, the change log that
 * nodes follow (a trigger NOTIFYs keystile_changes on every insert), and
 * `cluster`, which records the server secret's fingerprint.
 */
#ifndef KS_STORE_PG_SCHEMA_H
#define KS_STORE_PG_SCHEMA_H

/* Lock ids (pg_advisory_xact_lock(KS_PG_LOCK_CLASS, n)). */
#define KS_PG_LOCK_CLASS 1801812339 /* "keys" */
#define KS_PG_LOCK_MIGRATE 1
#define KS_PG_LOCK_CHANGES 2
#define KS_PG_LOCK_SWEEPS 3 /* a session lock: the node that sweeps */

static const char *const KS_PG_MIGRATIONS[] = {
    /* 0 -> 1: everything of SQLite's schema version 4, the change log and
     * the secret fingerprint. */
    "CREATE FUNCTION ks_expires_at(created_at bigint, months int) RETURNS bigint"
    "  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    "  $$ SELECT extract(epoch FROM (to_timestamp(created_at) AT TIME ZONE 'UTC')"
    "     + make_interval(months => months))::bigint $$;"
    "CREATE TABLE accounts("
    "  name text PRIMARY KEY,"
    "  token_duration_months int NOT NULL DEFAULT 3 CHECK (token_duration_months IN (3, 6)),"
    "  enforce_duration int NOT NULL DEFAULT 0,"
    "  created_at bigint NOT NULL);"
    "CREATE TABLE roles("
    "  account text NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,"
    "  name text NOT NULL,"
    "  builtin int NOT NULL DEFAULT 0,"
    "  created_seq bigint GENERATED ALWAYS AS IDENTITY,"
    "  PRIMARY KEY (account, name));"
    "CREATE TABLE role_resources("
    "  account text NOT NULL,"
    "  role text NOT NULL,"
    "  pos int NOT NULL,"
    "  resource text NOT NULL,"
    "  PRIMARY KEY (account, role, pos),"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE CASCADE);"
    "CREATE TABLE keys("
    "  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  key_id text NOT NULL UNIQUE,"
    "  account text NOT NULL REFERENCES accounts(name),"
    "  name text NOT NULL,"
    "  active int NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX keys_by_account ON keys(account, seq);"
    "CREATE TABLE tokens("
    "  key_seq bigint NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  slot int NOT NULL CHECK (slot IN (0, 1)),"
    "  hash bytea NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  last_used_at bigint,"
    "  PRIMARY KEY (key_seq, slot));"
    "CREATE TABLE key_roles("
    "  key_seq bigint NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  account text NOT NULL,"
    "  role text NOT NULL,"
    "  pos int NOT NULL,"
    "  PRIMARY KEY (key_seq, account, role),"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE RESTRICT);"
    "CREATE INDEX key_roles_by_role ON key_roles(account, role);"
    "CREATE TABLE audit("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  account text NOT NULL,"
    "  at bigint NOT NULL,"
    "  actor text NOT NULL,"
    "  action text NOT NULL,"
    "  target text NOT NULL,"
    "  detail text NOT NULL);"
    "CREATE INDEX audit_by_account ON audit(account, id);"
    "CREATE TABLE external_grants("
    "  key_seq bigint NOT NULL REFERENCES keys(seq) ON DELETE CASCADE,"
    "  account text NOT NULL REFERENCES accounts(name),"
    "  active int NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  seq bigint GENERATED ALWAYS AS IDENTITY,"
    "  PRIMARY KEY (key_seq, account));"
    "CREATE INDEX external_grants_by_account ON external_grants(account, seq);"
    "CREATE TABLE sessions("
    "  hash bytea PRIMARY KEY,"
    "  key_id text NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
    "  created_at bigint NOT NULL,"
    "  last_seen_at bigint NOT NULL);"
    "CREATE INDEX sessions_by_key ON sessions(key_id);"
    "CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);"
    "CREATE TABLE signing_keys("
    "  kid text PRIMARY KEY,"
    "  public_key bytea NOT NULL,"
    "  sealed_secret bytea NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  retired_at bigint);"
    "CREATE TABLE share_links("
    "  id_hash bytea PRIMARY KEY,"
    "  key_id text NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
    "  sealed_token bytea,"
    "  created_at bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  revealed_at bigint);"
    "CREATE INDEX share_links_by_expiry ON share_links(expires_at);"
    "CREATE INDEX share_links_by_key ON share_links(key_id);"
    "CREATE TABLE changes("
    "  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  kind smallint NOT NULL,"
    "  account text NOT NULL DEFAULT '',"
    "  key_id text NOT NULL DEFAULT '',"
    "  at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX changes_by_subject ON changes(kind, account, key_id, seq);"
    "CREATE FUNCTION ks_changes_notify() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$ BEGIN PERFORM pg_notify('keystile_changes', ''); RETURN NULL; END $$;"
    "CREATE TRIGGER changes_notify AFTER INSERT ON changes"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ks_changes_notify();"
    "CREATE TABLE cluster("
    "  id int PRIMARY KEY CHECK (id = 1),"
    "  secret_fingerprint bytea NOT NULL);",

    /* 1 -> 2: the built-in roles gain edit-users (both) and edit-webhooks
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

    /* 2 -> 3: audit entries record how the actor authenticated and from
     * which client address (NULL on older entries: not recorded). */
    "ALTER TABLE audit ADD COLUMN via text, ADD COLUMN address text;",

    /* 3 -> 4: a
     * web admin session is bound to the API token that signed in, by that
     * token's keyed hash, and ends when the token stops verifying. Earlier
     * sessions name no token, so they end here (sign in again). */
    "DELETE FROM sessions;"
    "ALTER TABLE sessions ADD COLUMN token_hash bytea NOT NULL;"
    "CREATE INDEX sessions_by_created ON sessions(created_at);",

    /* 4 -> 5: people, as SQLite's (sqlite_schema.h): persons, memberships (status
     * and roles per account), invitations, failed sign-ins, and sessions
     * that belong to a key or to a person. */
    "CREATE TABLE people("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  email text NOT NULL UNIQUE,"
    "  password_hash text,"
    "  totp_sealed bytea,"
    "  totp_enabled int NOT NULL DEFAULT 0,"
    "  totp_last_step bigint NOT NULL DEFAULT 0,"
    "  created_at bigint NOT NULL,"
    "  last_sign_in_at bigint,"
    "  sso int NOT NULL DEFAULT 0);"
    "CREATE TABLE memberships("
    "  person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    "  account text NOT NULL REFERENCES accounts(name),"
    "  active int NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  PRIMARY KEY (person_id, account));"
    "CREATE INDEX memberships_by_account ON memberships(account);"
    "CREATE TABLE membership_roles("
    "  person_id bigint NOT NULL,"
    "  account text NOT NULL,"
    "  role text NOT NULL,"
    "  pos int NOT NULL,"
    "  PRIMARY KEY (person_id, account, role),"
    "  FOREIGN KEY (person_id, account) REFERENCES memberships(person_id, account) ON DELETE CASCADE,"
    "  FOREIGN KEY (account, role) REFERENCES roles(account, name)"
    "    ON UPDATE CASCADE ON DELETE RESTRICT);"
    "CREATE INDEX membership_roles_by_role ON membership_roles(account, role);"
    "CREATE TABLE invitations("
    "  id_hash bytea PRIMARY KEY,"
    "  person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,"
    "  account text NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  used_at bigint);"
    "CREATE INDEX invitations_by_person ON invitations(person_id);"
    "CREATE INDEX invitations_by_expiry ON invitations(expires_at);"
    "CREATE TABLE signin_failures("
    "  email_hash bytea NOT NULL,"
    "  at bigint NOT NULL);"
    "CREATE INDEX signin_failures_by_email ON signin_failures(email_hash, at);"
    "CREATE INDEX signin_failures_by_at ON signin_failures(at);"
    "ALTER TABLE sessions ALTER COLUMN key_id DROP NOT NULL,"
    "  ALTER COLUMN token_hash DROP NOT NULL,"
    "  ADD COLUMN person_id bigint REFERENCES people(id) ON DELETE CASCADE,"
    "  ADD COLUMN via text,"
    "  ADD CONSTRAINT sessions_one_principal CHECK ((key_id IS NULL) <> (person_id IS NULL));"
    "CREATE INDEX sessions_by_person ON sessions(person_id);",

    /* 5 -> 6: rotation on autopilot, as SQLite's 10 -> 11: old-token
     * deadlines and renewal notices on tokens, the sweeps' settings,
     * webhooks and their outbox. */
    "ALTER TABLE tokens ADD COLUMN ends_at bigint, ADD COLUMN notices int NOT NULL DEFAULT 0;"
    "CREATE INDEX tokens_old ON tokens(key_seq) WHERE slot = 1;"
    "ALTER TABLE accounts"
    "  ADD COLUMN auto_delete_old_token_hours int CHECK (auto_delete_old_token_hours BETWEEN 1 AND 720),"
    "  ADD COLUMN renewal_notice_days int NOT NULL DEFAULT 14 CHECK (renewal_notice_days BETWEEN 0 AND 60);"
    "CREATE TABLE webhooks("
    "  id text PRIMARY KEY,"
    "  account text NOT NULL REFERENCES accounts(name),"
    "  url text NOT NULL,"
    "  events text NOT NULL,"
    "  sealed_secret bytea NOT NULL,"
    "  enabled int NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX webhooks_by_account ON webhooks(account, created_at);"
    "CREATE TABLE webhook_deliveries("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    "  account text NOT NULL,"
    "  event_id text NOT NULL,"
    "  event text NOT NULL,"
    "  body text NOT NULL,"
    "  status int NOT NULL DEFAULT 0,"
    "  attempts int NOT NULL DEFAULT 0,"
    "  response_code int,"
    "  created_at bigint NOT NULL,"
    "  last_attempt_at bigint,"
    "  next_attempt_at bigint NOT NULL,"
    "  locked_until bigint);"
    "CREATE INDEX deliveries_pending ON webhook_deliveries(next_attempt_at) WHERE status = 0;"
    "CREATE INDEX deliveries_by_webhook ON webhook_deliveries(webhook_id, id);",

    /* 6 -> 7: as SQLite's 11 -> 12, the sweeps' indexes. */
    "CREATE INDEX tokens_old_ends ON tokens(ends_at) WHERE slot = 1 AND ends_at IS NOT NULL;"
    "CREATE INDEX tokens_current_age ON tokens(created_at) WHERE slot = 0 AND notices <> 7;",

    /* 7 -> 8: per-key limits, as SQLite's 12 -> 13: allowed ranges (text joined by ',', ''
     * = any address) and the rate limit (0 = none) */
    "ALTER TABLE keys ADD COLUMN allowed_cidrs text NOT NULL DEFAULT '',"
    "  ADD COLUMN rate_limit bigint NOT NULL DEFAULT 0 CHECK (rate_limit BETWEEN 0 AND 1000000000),"
    "  ADD COLUMN rate_period int NOT NULL DEFAULT 0 CHECK (rate_period BETWEEN 0 AND 86400);"
    "CREATE TABLE node_heartbeats("
    "  node_id text PRIMARY KEY,"
    "  seen_at bigint NOT NULL);"
    "CREATE TABLE usage_hours("
    "  key_id text NOT NULL,"
    "  account text NOT NULL,"
    "  at bigint NOT NULL,"
    "  valid bigint NOT NULL DEFAULT 0, invalid_token bigint NOT NULL DEFAULT 0,"
    "  inactive bigint NOT NULL DEFAULT 0, expired bigint NOT NULL DEFAULT 0,"
    "  forbidden bigint NOT NULL DEFAULT 0, address_not_allowed bigint NOT NULL DEFAULT 0,"
    "  rate_limited bigint NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, at));"
    "CREATE INDEX usage_hours_by_account ON usage_hours(account, at);"
    "CREATE INDEX usage_hours_by_at ON usage_hours(at);"
    "CREATE TABLE usage_days("
    "  key_id text NOT NULL,"
    "  account text NOT NULL,"
    "  at bigint NOT NULL,"
    "  valid bigint NOT NULL DEFAULT 0, invalid_token bigint NOT NULL DEFAULT 0,"
    "  inactive bigint NOT NULL DEFAULT 0, expired bigint NOT NULL DEFAULT 0,"
    "  forbidden bigint NOT NULL DEFAULT 0, address_not_allowed bigint NOT NULL DEFAULT 0,"
    "  rate_limited bigint NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (key_id, at));"
    "CREATE INDEX usage_days_by_account ON usage_days(account, at);"
    "CREATE INDEX usage_days_by_at ON usage_days(at);"
    "ALTER TABLE accounts ADD COLUMN deactivate_unused_days int"
    "  CHECK (deactivate_unused_days BETWEEN 30 AND 730);",
    /* 8 -> 9: leaked tokens, as SQLite's 13 -> 14: settings leaked_token_action, and the
     * index token_find reads. */
    "ALTER TABLE accounts ADD COLUMN leaked_token_action text NOT NULL DEFAULT 'alert'"
    "  CHECK (leaked_token_action IN ('alert', 'revoke'));"
    "CREATE INDEX tokens_by_hash ON tokens(hash);",
    /* 9 -> 10: each token's last caller, as SQLite's 14 -> 15. */
    "ALTER TABLE tokens ADD COLUMN last_used_from text;",
};

#define KS_PG_SCHEMA_VERSION ((int)(sizeof KS_PG_MIGRATIONS / sizeof *KS_PG_MIGRATIONS))

#endif
