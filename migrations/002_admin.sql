-- The admin web page: admin accounts, their sessions, the one-time setup
-- tokens used before the first admin exists, OAuth2 authorization states, and
-- an audit log of every change made through the page or the CLI. Login rate
-- limits use the shared token buckets of rate_buckets (001).

CREATE TABLE admin_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- stored lower-cased; logins compare lower-cased input
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
    -- PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    password_hash text NOT NULL,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A session is named by a random 32-byte token kept only in the browser's
-- cookie; the table holds its SHA-256, so a leaked table opens no session.
CREATE TABLE admin_sessions (
    id_hash      bytea PRIMARY KEY,
    admin_id     bigint NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    -- synchronizer token that every state-changing form must carry
    csrf_token   text NOT NULL,
    -- one message to show on the next page (set by a POST before its redirect)
    flash        jsonb,
    remote_ip    text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- absolute expiry; the idle expiry is last_seen_at + the idle timeout
    expires_at   timestamptz NOT NULL
);
CREATE INDEX admin_sessions_admin_id ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

-- One-time setup tokens (SHA-256) created by `serve` while no admin exists.
-- Every replica may add one; any live token opens the setup page, and
-- creating the first admin deletes them all.
CREATE TABLE admin_setup_tokens (
    token_hash bytea PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

-- OAuth2 authorization-code flows in progress: single use, expiring, bound
-- to the admin session that started them. The PKCE verifier is sealed.
CREATE TABLE oauth_states (
    state_hash    bytea PRIMARY KEY,
    connection_id bigint NOT NULL REFERENCES helpdesk_connections (id) ON DELETE CASCADE,
    session_hash  bytea NOT NULL REFERENCES admin_sessions (id_hash) ON DELETE CASCADE,
    verifier      bytea NOT NULL,
    redirect_url  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);

-- The webhooks page shows each number's last signed delivery.
CREATE INDEX webhook_events_account_received_at ON webhook_events (account_id, received_at) WHERE account_id IS NOT NULL;

-- Every change made through the admin page or the CLI: who, what, when.
-- detail names the fields that changed and never holds a secret value.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    admin_id    bigint REFERENCES admin_users (id) ON DELETE SET NULL,
    -- the admin's email at the time, or "cli" / "setup"
    actor       text NOT NULL,
    remote_ip   text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target_type text NOT NULL DEFAULT '',
    target_id   bigint,
    target_name text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);

---- create above / drop below ----

DROP TABLE audit_log;
DROP INDEX webhook_events_account_received_at;
DROP TABLE oauth_states;
DROP TABLE admin_setup_tokens;
DROP TABLE admin_sessions;
DROP TABLE admin_users;
