-- The 2026 WhatsApp platform (issue 15 items 3-6):
--   messages.echo         an outbound row WhatsApp reported rather than
--                         relaydesk sent (smb_message_echoes: the business
--                         wrote from the WhatsApp Business app); never sent.
--   messages.pricing_*    pricing.category / billable / type / pricing_model
--                         of an outbound message, from its status webhooks.
--   conversations.ai_holds  Meta's AI agent holds the conversation (standby).
--   whatsapp_accounts.coexistence  the number is also used in the WhatsApp
--                         Business app: sends are capped at 20 per second.
--   whatsapp_accounts.read_policy  'off', or 'on_reply': mark the customer's
--                         last message read with the typing indicator before
--                         an agent's reply is sent.
--   graph_version         new numbers default to v26.0 (Graph changelog).
--   relaydesk_status_rank "played" (voice notes) ranks after "read".
ALTER TABLE messages
    ADD COLUMN echo             boolean NOT NULL DEFAULT false,
    ADD COLUMN pricing_category text,
    ADD COLUMN pricing_billable boolean,
    ADD COLUMN pricing_type     text,
    ADD COLUMN pricing_model    text;
CREATE INDEX messages_pricing ON messages (conversation_id) WHERE pricing_category IS NOT NULL;

ALTER TABLE conversations ADD COLUMN ai_holds boolean NOT NULL DEFAULT false;

ALTER TABLE whatsapp_accounts
    ADD COLUMN coexistence boolean NOT NULL DEFAULT false,
    ADD COLUMN read_policy text NOT NULL DEFAULT 'off' CHECK (read_policy IN ('off', 'on_reply')),
    ALTER COLUMN graph_version SET DEFAULT 'v26.0';

CREATE OR REPLACE FUNCTION relaydesk_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'sent' THEN 1 WHEN 'failed' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4
        WHEN 'played' THEN 5 ELSE 0 END;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION relaydesk_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'sent' THEN 1 WHEN 'failed' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 0 END;
UPDATE messages SET status = 'read' WHERE status = 'played';
ALTER TABLE whatsapp_accounts
    ALTER COLUMN graph_version SET DEFAULT 'v23.0',
    DROP COLUMN read_policy,
    DROP COLUMN coexistence;
ALTER TABLE conversations DROP COLUMN ai_holds;
DROP INDEX messages_pricing;
ALTER TABLE messages
    DROP COLUMN pricing_model,
    DROP COLUMN pricing_type,
    DROP COLUMN pricing_billable,
    DROP COLUMN pricing_category,
    DROP COLUMN echo;
