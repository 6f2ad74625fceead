-- Contacts belong to one WhatsApp Business Account (WABA) and are keyed by
-- the business-scoped user id (BSUID, user_id) when WhatsApp sends one, by
-- wa_id otherwise; the phone number (wa_id) is an optional attribute.
--
-- Until now contacts were global (wa_id UNIQUE) and shared by every number,
-- so a delivery signed by one app could change another app's customer. Each
-- contact now gets the WABA of the numbers it talks to; a contact used by
-- numbers of two WABAs is split into one row per WABA, its conversations
-- repointed to the copy of their number's WABA (nothing is lost). A contact
-- without any conversation (a number change noted for a customer relaydesk
-- never talked to) gets the empty WABA: intake never matches it again.
ALTER TABLE contacts
    ADD COLUMN waba_id  text,
    ADD COLUMN user_id  text,
    ADD COLUMN username text NOT NULL DEFAULT '',
    ALTER COLUMN wa_id DROP NOT NULL;
ALTER TABLE contacts DROP CONSTRAINT contacts_wa_id_key;

UPDATE contacts k SET waba_id = f.waba_id
FROM (SELECT DISTINCT ON (c.contact_id) c.contact_id, a.waba_id
      FROM conversations c JOIN whatsapp_accounts a ON a.id = c.account_id
      ORDER BY c.contact_id, c.id) f
WHERE f.contact_id = k.id;

-- One copy per further WABA; the UPDATE's snapshot does not see the copies,
-- so k is always the original row (wa_id was unique).
WITH pairs AS (
    SELECT DISTINCT c.contact_id, a.waba_id
    FROM conversations c
    JOIN whatsapp_accounts a ON a.id = c.account_id
    JOIN contacts k ON k.id = c.contact_id
    WHERE a.waba_id <> k.waba_id
), copies AS (
    INSERT INTO contacts (waba_id, wa_id, profile_name, changed_to_wa_id, changed_at, created_at, updated_at)
    SELECT p.waba_id, k.wa_id, k.profile_name, k.changed_to_wa_id, k.changed_at, k.created_at, now()
    FROM pairs p JOIN contacts k ON k.id = p.contact_id
    RETURNING id, waba_id, wa_id
)
UPDATE conversations c SET contact_id = copies.id, updated_at = now()
FROM copies, contacts k, whatsapp_accounts a
WHERE k.id = c.contact_id AND a.id = c.account_id
    AND k.wa_id = copies.wa_id AND a.waba_id = copies.waba_id;

UPDATE contacts SET waba_id = '' WHERE waba_id IS NULL;
ALTER TABLE contacts
    ALTER COLUMN waba_id SET NOT NULL,
    ADD CONSTRAINT contacts_has_id CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL),
    ADD CONSTRAINT contacts_waba_wa_id_key UNIQUE (waba_id, wa_id),
    ADD CONSTRAINT contacts_waba_user_id_key UNIQUE (waba_id, user_id);
-- Erasure and the API look a customer up by phone or BSUID across WABAs.
CREATE INDEX contacts_wa_id ON contacts (wa_id) WHERE wa_id IS NOT NULL;
CREATE INDEX contacts_user_id ON contacts (user_id) WHERE user_id IS NOT NULL;

---- create above / drop below ----

-- Back to one global contact per wa_id: conversations move to the oldest
-- row of their wa_id, the other rows and the contacts without a phone
-- (BSUID only, which the old schema cannot hold) are deleted with theirs.
UPDATE conversations c SET contact_id = keep.id
FROM contacts k, (SELECT DISTINCT ON (wa_id) id, wa_id FROM contacts WHERE wa_id IS NOT NULL ORDER BY wa_id, id) keep
WHERE k.id = c.contact_id AND k.wa_id = keep.wa_id AND c.contact_id <> keep.id
    AND NOT EXISTS (SELECT 1 FROM conversations o WHERE o.account_id = c.account_id AND o.contact_id = keep.id);
DELETE FROM contacts k WHERE k.wa_id IS NULL
    OR EXISTS (SELECT 1 FROM contacts o WHERE o.wa_id = k.wa_id AND o.id < k.id);
DROP INDEX contacts_user_id;
DROP INDEX contacts_wa_id;
ALTER TABLE contacts
    DROP CONSTRAINT contacts_waba_user_id_key,
    DROP CONSTRAINT contacts_waba_wa_id_key,
    DROP CONSTRAINT contacts_has_id,
    ALTER COLUMN wa_id SET NOT NULL,
    ADD CONSTRAINT contacts_wa_id_key UNIQUE (wa_id),
    DROP COLUMN username,
    DROP COLUMN user_id,
    DROP COLUMN waba_id;
