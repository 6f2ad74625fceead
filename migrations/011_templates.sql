-- Template catalogue: each number's message templates as Graph lists them
-- (GET /{waba-id}/message_templates), refreshed by a periodic job and the
-- admin page's button. components is Graph's definition (HEADER, BODY,
-- FOOTER, BUTTONS) as JSON.
CREATE TABLE message_templates (
    account_id       bigint NOT NULL REFERENCES whatsapp_accounts (id) ON DELETE CASCADE,
    name             text NOT NULL,
    language         text NOT NULL,
    template_id      text NOT NULL DEFAULT '',
    status           text NOT NULL,
    category         text NOT NULL DEFAULT '',
    parameter_format text NOT NULL DEFAULT 'POSITIONAL' CHECK (parameter_format IN ('POSITIONAL', 'NAMED')),
    components       jsonb NOT NULL DEFAULT '[]',
    fetched_at       timestamptz NOT NULL,
    PRIMARY KEY (account_id, name, language)
);

---- create above / drop below ----

DROP TABLE message_templates;
