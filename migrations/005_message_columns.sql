-- messages.payload, media and error each held several unrelated shapes.
-- Split them into columns with one meaning each:
--   wa_message  the customer's message as the intake decoded it (whatsapp.Message)
--   wa_raw      Meta's raw JSON of customer messages stored before this
--               migration (SQL cannot decode it; the bridge decodes it with
--               whatsapp.DecodeMessage when wa_message is NULL)
--   media       an inbound message's media reference only (whatsapp.Media,
--               now with snake_case keys)
--   attachments an outbound message's helpdesk files ([]connectors.RemoteAttachment)
--   api_send    what a public-API send asked for (was payload->'api')
--   sent_parts  the parts of a multi-part send WhatsApp accepted (was payload->'parts')
-- error keeps its two shapes ({"code","reason"} or WhatsApp's error array),
-- which the public API shows as they are; a JSON null becomes SQL NULL.
ALTER TABLE messages
    ADD COLUMN wa_message  jsonb,
    ADD COLUMN wa_raw      jsonb,
    ADD COLUMN attachments jsonb,
    ADD COLUMN api_send    jsonb,
    ADD COLUMN sent_parts  jsonb;

UPDATE messages SET wa_raw = payload WHERE direction = 'in' AND payload IS NOT NULL AND payload <> 'null';

UPDATE messages SET api_send = nullif(payload->'api', 'null'), sent_parts = nullif(payload->'parts', 'null')
WHERE direction = 'out' AND payload IS NOT NULL;

UPDATE messages SET attachments = nullif(nullif(media, 'null'), '[]'), media = NULL WHERE direction = 'out';

UPDATE messages SET media = NULL WHERE media = 'null';
UPDATE messages SET media = jsonb_strip_nulls(jsonb_build_object(
        'id', media->'ID', 'mime_type', media->'MimeType', 'sha256', media->'SHA256', 'caption', media->'Caption',
        'filename', media->'Filename', 'voice', media->'Voice', 'animated', media->'Animated'))
WHERE direction = 'in' AND media ? 'ID';

UPDATE messages SET error = NULL WHERE error = 'null';

ALTER TABLE messages DROP COLUMN payload;

---- create above / drop below ----

-- Going down, messages stored after the migration lose their decoded
-- message (wa_message has no equivalent in the old payload column).
ALTER TABLE messages ADD COLUMN payload jsonb;

UPDATE messages SET payload = wa_raw WHERE direction = 'in';

UPDATE messages SET payload = jsonb_strip_nulls(jsonb_build_object('api', api_send, 'parts', sent_parts))
WHERE direction = 'out' AND (api_send IS NOT NULL OR sent_parts IS NOT NULL);

UPDATE messages SET media = attachments WHERE direction = 'out';

UPDATE messages SET media = jsonb_strip_nulls(jsonb_build_object(
        'ID', media->'id', 'MimeType', media->'mime_type', 'SHA256', media->'sha256', 'Caption', media->'caption',
        'Filename', media->'filename', 'Voice', media->'voice', 'Animated', media->'animated'))
WHERE direction = 'in' AND media ? 'id';

ALTER TABLE messages DROP COLUMN wa_message, DROP COLUMN wa_raw, DROP COLUMN attachments, DROP COLUMN api_send,
    DROP COLUMN sent_parts;
