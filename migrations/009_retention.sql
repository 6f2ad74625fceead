-- Message retention (RELAYDESK_MESSAGE_RETENTION): a finished message's body
-- and payloads are emptied after the period; the row stays, for order,
-- statuses and counts, marked with when it was redacted.
ALTER TABLE messages ADD COLUMN redacted_at timestamptz;
CREATE INDEX messages_unredacted_created_at ON messages (created_at) WHERE redacted_at IS NULL;

---- create above / drop below ----

DROP INDEX messages_unredacted_created_at;
ALTER TABLE messages DROP COLUMN redacted_at;
