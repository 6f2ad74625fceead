-- Replies held for the 24-hour window are looked up on every customer
-- message of their conversation; without this index that lookup read every
-- message of the conversation.
CREATE INDEX messages_waiting_window ON messages (conversation_id) WHERE state = 'waiting_window';

---- create above / drop below ----

DROP INDEX messages_waiting_window;
