-- Replies in context, agent reactions and delivery status for agents
-- (issue 16 items 3-5).
-- messages.reply_to: the wamid an outbound message answers (an agent's
-- reply to a customer comment goes with context.message_id) or, for a
-- reaction (kind 'reaction'), the message reacted to.
ALTER TABLE messages ADD COLUMN reply_to text;

-- routes.status_display: how agents see their messages' WhatsApp status in
-- the helpdesk: 'native' (the helpdesk's own message status where it has
-- one, otherwise a ticket tag), 'tag' (always a whatsapp-<status> ticket
-- tag) or 'off'.
ALTER TABLE routes ADD COLUMN status_display text NOT NULL DEFAULT 'native'
    CHECK (status_display IN ('off', 'tag', 'native'));

-- tickets.shown_status: the delivery status last shown on the ticket, so a
-- tag is replaced rather than added and an unchanged status costs nothing.
ALTER TABLE tickets ADD COLUMN shown_status text NOT NULL DEFAULT '';

---- create above / drop below ----

ALTER TABLE tickets DROP COLUMN shown_status;
ALTER TABLE routes DROP COLUMN status_display;
ALTER TABLE messages DROP COLUMN reply_to;
