-- relaydesk core schema: WhatsApp accounts, helpdesk connections, routes,
-- contacts, conversations, tickets, messages and raw webhook events.
-- Secrets are bytea columns holding AES-GCM ciphertexts (internal/secret).

CREATE TABLE whatsapp_accounts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE,
    phone_number_id      text NOT NULL UNIQUE,
    waba_id              text NOT NULL,
    display_phone_number text NOT NULL DEFAULT '',
    graph_url            text NOT NULL DEFAULT 'https://graph.facebook.com',
    graph_version        text NOT NULL DEFAULT 'v23.0',
    access_token         bytea NOT NULL,
    app_secret           bytea NOT NULL,
    verify_token         bytea NOT NULL,
    send_rate            integer NOT NULL DEFAULT 80 CHECK (send_rate > 0),
    enabled              boolean NOT NULL DEFAULT true,
    managed_by_file      boolean NOT NULL DEFAULT false,
    health               text NOT NULL DEFAULT 'unknown',
    health_detail        text NOT NULL DEFAULT '',
    health_at            timestamptz,
    verified_at          timestamptz,
    last_inbound_at      timestamptz,
    last_outbound_at     timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE helpdesk_connections (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    kind            text NOT NULL,
    -- public_id names the connection in its webhook URL without exposing row ids.
    public_id       text NOT NULL UNIQUE,
    base_url        text NOT NULL DEFAULT '',
    settings        jsonb NOT NULL DEFAULT '{}',
    credentials     bytea,
    oauth_token     bytea,
    webhook_secret  bytea,
    poll_cursor     text NOT NULL DEFAULT '',
    enabled         boolean NOT NULL DEFAULT true,
    managed_by_file boolean NOT NULL DEFAULT false,
    health          text NOT NULL DEFAULT 'unknown',
    health_detail   text NOT NULL DEFAULT '',
    health_at       timestamptz,
    last_webhook_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id            bigint NOT NULL REFERENCES whatsapp_accounts (id) ON DELETE CASCADE,
    connection_id         bigint NOT NULL REFERENCES helpdesk_connections (id) ON DELETE CASCADE,
    position              integer NOT NULL DEFAULT 0,
    -- match: {"kind":"default"} | {"kind":"country","value":"49"} | {"kind":"keyword","value":"billing"}
    match                 jsonb NOT NULL DEFAULT '{"kind":"default"}',
    reopen_window         interval NOT NULL DEFAULT '72 hours',
    tags                  text[] NOT NULL DEFAULT '{}',
    reengagement_template jsonb,
    managed_by_file       boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, connection_id)
);

CREATE TABLE contacts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id            text NOT NULL UNIQUE,
    profile_name     text NOT NULL DEFAULT '',
    -- set when WhatsApp reports that the customer changed number (system message).
    changed_to_wa_id text,
    changed_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES whatsapp_accounts (id) ON DELETE CASCADE,
    contact_id      bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    -- last_seq is the per-conversation message counter (both directions).
    last_seq        bigint NOT NULL DEFAULT 0,
    last_inbound_at timestamptz,
    -- A direction's "queued" flag is set when new work is stored and a job
    -- enqueued, and cleared by the job before it drains, so at most one job
    -- per direction waits and no message is stranded. The lease keeps one
    -- worker per conversation and direction at a time, across replicas.
    inbound_queued       boolean NOT NULL DEFAULT false,
    inbound_lease_until  timestamptz,
    outbound_queued      boolean NOT NULL DEFAULT false,
    outbound_lease_until timestamptz,
    -- when the route's re-engagement template was last sent (outside the 24-hour window)
    reengaged_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, contact_id)
);

CREATE TABLE tickets (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    connection_id      bigint NOT NULL REFERENCES helpdesk_connections (id) ON DELETE CASCADE,
    route_id           bigint REFERENCES routes (id) ON DELETE SET NULL,
    remote_id          text NOT NULL,
    requester_id       text NOT NULL DEFAULT '',
    url                text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'open',
    -- active marks the ticket the conversation currently feeds.
    active             boolean NOT NULL DEFAULT true,
    previous_ticket_id bigint REFERENCES tickets (id) ON DELETE SET NULL,
    resolved_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connection_id, remote_id)
);
CREATE UNIQUE INDEX tickets_one_active_per_conversation ON tickets (conversation_id) WHERE active;

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    seq             bigint NOT NULL,
    wamid           text UNIQUE,
    kind            text NOT NULL,
    body            text NOT NULL DEFAULT '',
    media           jsonb,
    payload         jsonb,
    -- state is relaydesk's own progress: pending -> done | failed.
    state           text NOT NULL DEFAULT 'pending',
    -- status is WhatsApp's delivery status of an outbound message.
    status          text NOT NULL DEFAULT '',
    status_at       timestamptz,
    error           jsonb,
    ticket_id       bigint REFERENCES tickets (id) ON DELETE SET NULL,
    connection_id   bigint REFERENCES helpdesk_connections (id) ON DELETE SET NULL,
    remote_id       text,
    author          text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    wa_timestamp    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq),
    UNIQUE (connection_id, remote_id)
);
CREATE INDEX messages_pending ON messages (conversation_id, direction, seq) WHERE state = 'pending';

-- Helpdesk events about a ticket relaydesk does not know yet: an agent (or an
-- auto-responder) can answer a new ticket before the job that created it has
-- recorded it. They are adopted when the ticket is recorded, and expire.
CREATE TABLE parked_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id    bigint NOT NULL REFERENCES helpdesk_connections (id) ON DELETE CASCADE,
    remote_ticket_id text NOT NULL,
    event            jsonb NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_events_ticket ON parked_events (connection_id, remote_ticket_id);

-- Token buckets shared by every replica (per-number send rate).
CREATE TABLE rate_buckets (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The order WhatsApp statuses may move in (see whatsapp.StatusRank): a late
-- "delivered" never overwrites "read"; failed ranks above sent only.
CREATE FUNCTION relaydesk_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'sent' THEN 1 WHEN 'failed' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 0 END;

CREATE TABLE webhook_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    account_id  bigint REFERENCES whatsapp_accounts (id) ON DELETE SET NULL,
    outcome     text NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}',
    body        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);

---- create above / drop below ----

DROP TABLE webhook_events;
DROP TABLE rate_buckets;
DROP TABLE parked_events;
DROP FUNCTION relaydesk_status_rank(text);
DROP TABLE messages;
DROP TABLE tickets;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE routes;
DROP TABLE helpdesk_connections;
DROP TABLE whatsapp_accounts;
