-- Webhook provisioning: relaydesk installs the helpdesk-side webhook of every
-- connection whose connector can (whatever declared the connection) and
-- records the outcome here.
--   webhook_source       where the secret came from: '' none, 'file' the
--                        configuration file, 'installed' relaydesk installed
--                        the webhook, 'manual' entered or generated in the
--                        admin page
--   webhook_state        '' nothing to do or not known, 'pending' an install
--                        is queued or being retried, 'installed', 'failed'
--   webhook_installed_at when the installed webhook was last (re)installed
--   webhook_error        the helpdesk's last refusal, in plain words
--   webhook_endpoint     the callback URL the webhook was installed at
--   webhook_digest       settings_digest at the time of the install
--   settings_digest      what the install depends on (kind, base URL,
--                        settings, sealed credentials): a change means the
--                        webhook must be installed again
ALTER TABLE helpdesk_connections
    ADD COLUMN webhook_source       text NOT NULL DEFAULT ''
        CHECK (webhook_source IN ('', 'file', 'installed', 'manual')),
    ADD COLUMN webhook_state        text NOT NULL DEFAULT ''
        CHECK (webhook_state IN ('', 'pending', 'installed', 'failed')),
    ADD COLUMN webhook_installed_at timestamptz,
    ADD COLUMN webhook_error        text NOT NULL DEFAULT '',
    ADD COLUMN webhook_endpoint     text NOT NULL DEFAULT '',
    ADD COLUMN webhook_digest       text NOT NULL DEFAULT '',
    ADD COLUMN settings_digest      text NOT NULL GENERATED ALWAYS AS (md5(kind || '|' || base_url || '|' ||
        settings::text || '|' || coalesce(encode(credentials, 'hex'), ''))) STORED;

-- Secrets stored before: from the file, installed through the admin page
-- (its audit entries say so), or entered there. Installed ones have no known
-- endpoint, so the provisioning checks them once (adopting the webhook).
UPDATE helpdesk_connections c SET webhook_source = CASE
        WHEN c.managed_by_file THEN 'file'
        WHEN EXISTS (SELECT 1 FROM audit_log a WHERE a.target_type = 'helpdesk' AND a.target_id = c.id
            AND a.action = 'helpdesk.webhook_secret' AND a.detail->>'how' IN ('installed', 'rotated')) THEN 'installed'
        ELSE 'manual' END
WHERE c.webhook_secret IS NOT NULL;

---- create above / drop below ----

ALTER TABLE helpdesk_connections
    DROP COLUMN webhook_source, DROP COLUMN webhook_state, DROP COLUMN webhook_installed_at,
    DROP COLUMN webhook_error, DROP COLUMN webhook_endpoint, DROP COLUMN webhook_digest, DROP COLUMN settings_digest;
