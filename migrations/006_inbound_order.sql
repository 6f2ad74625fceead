-- Customer messages are posted in the customer's order (WhatsApp's timestamp,
-- then arrival). The delivery job takes a conversation's next pending one in
-- that order, and before each it reads the newest timestamp already posted
-- (to mark a message that arrives after later ones were posted): without
-- these indexes, the first sorted every pending message of the conversation
-- and the second read every message it ever had.
CREATE INDEX messages_pending_inbound ON messages (conversation_id, wa_timestamp, seq)
    WHERE state = 'pending' AND direction = 'in';
CREATE INDEX messages_inbound_time ON messages (conversation_id, wa_timestamp) WHERE direction = 'in';

---- create above / drop below ----

DROP INDEX messages_inbound_time;
DROP INDEX messages_pending_inbound;
