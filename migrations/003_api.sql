-- The public API (/api/v1): relaydesk as an OAuth 2.0 authorization server
-- for third-party applications, idempotent sends, and signed event
-- subscriptions. Every secret is kept as a SHA-256 (client secrets, codes,
-- tokens: 32 random bytes each, so a plain hash is enough) or sealed with
-- the keyring (subscription signing secrets, which must be read back).

-- An application registered by an admin.
CREATE TABLE api_clients (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the public client_id, random
    client_id      text NOT NULL UNIQUE,
    name           text NOT NULL UNIQUE CHECK (name <> ''),
    secret_hash    bytea NOT NULL,
    redirect_uris  text[] NOT NULL DEFAULT '{}',
    scopes         text[] NOT NULL,
    grant_types    text[] NOT NULL,
    -- the WhatsApp numbers the application may reach; empty means all
    account_ids    bigint[] NOT NULL DEFAULT '{}',
    -- may call the introspection endpoint for any token (RFC 7662)
    can_introspect boolean NOT NULL DEFAULT false,
    -- requests per minute (token bucket refilling at rate/60 per second)
    rate_limit     integer NOT NULL DEFAULT 600 CHECK (rate_limit > 0),
    enabled        boolean NOT NULL DEFAULT true,
    created_by     bigint REFERENCES admin_users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A grant: what an admin approved for an application (authorization code)
-- or what a client-credentials request obtained. Every token belongs to one;
-- revoking the grant revokes the whole token family at once.
CREATE TABLE api_grants (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    admin_id    bigint REFERENCES admin_users (id) ON DELETE SET NULL,
    grant_type  text NOT NULL,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at  timestamptz,
    revoked_why text NOT NULL DEFAULT ''
);
CREATE INDEX api_grants_client ON api_grants (client_id);

-- Authorization codes: single use, short-lived, bound to the client, the
-- redirect URI and the PKCE challenge (S256).
CREATE TABLE api_auth_codes (
    code_hash      bytea PRIMARY KEY,
    client_id      bigint NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    admin_id       bigint NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    -- the authorization request named redirect_uri (then the token request must repeat it)
    redirect_given boolean NOT NULL,
    scopes         text[] NOT NULL,
    code_challenge text NOT NULL,
    expires_at     timestamptz NOT NULL,
    -- set at the first exchange; a second use revokes this grant
    grant_id       bigint REFERENCES api_grants (id) ON DELETE CASCADE,
    used_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_auth_codes_expires_at ON api_auth_codes (expires_at);

-- Access and refresh tokens. A refresh token is rotated at each use
-- (used_at set); presenting a used one again revokes its grant.
CREATE TABLE api_tokens (
    token_hash bytea PRIMARY KEY,
    grant_id   bigint NOT NULL REFERENCES api_grants (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('access', 'refresh')),
    scopes     text[] NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_grant ON api_tokens (grant_id);
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);

-- Idempotency-Key records of POST requests, kept 24 hours: the same key and
-- body answer the stored response; the same key with another body is refused.
CREATE TABLE api_idempotency (
    client_id    bigint NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX api_idempotency_created_at ON api_idempotency (created_at);

-- Event subscriptions: an application's HTTPS endpoint and the events it
-- wants. The signing secret is sealed (it signs every delivery).
CREATE TABLE api_subscriptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id       bigint NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    url             text NOT NULL,
    events          text[] NOT NULL,
    secret          bytea NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    -- first failure of the current run of failures; cleared by a success
    failing_since   timestamptz,
    last_success_at timestamptz,
    last_failure_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    disabled_at     timestamptz,
    disabled_reason text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_subscriptions_enabled ON api_subscriptions (client_id) WHERE enabled;

-- Events emitted by the bridge, with the payload as the API shows it.
CREATE TABLE api_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type            text NOT NULL,
    account_id      bigint REFERENCES whatsapp_accounts (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL,
    -- one event per fact: "received:<message>", "status:<message>:<status>", "ticket:<ticket>"
    dedupe_key      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_events_created_at ON api_events (created_at);

-- One delivery per subscription and event (one River job each).
CREATE TABLE api_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES api_subscriptions (id) ON DELETE CASCADE,
    event_id        bigint NOT NULL REFERENCES api_events (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX api_deliveries_subscription ON api_deliveries (subscription_id, id DESC);

-- The chats list filters by last update.
CREATE INDEX conversations_updated_at ON conversations (updated_at, id);

---- create above / drop below ----

DROP INDEX conversations_updated_at;
DROP TABLE api_deliveries;
DROP TABLE api_events;
DROP TABLE api_subscriptions;
DROP TABLE api_idempotency;
DROP TABLE api_tokens;
DROP TABLE api_auth_codes;
DROP TABLE api_grants;
DROP TABLE api_clients;
