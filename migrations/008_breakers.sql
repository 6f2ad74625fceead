-- Circuit breakers: one row per helpdesk connection ('connection') and per
-- WhatsApp number ('account', Graph for that number), shared by every
-- replica. A row exists once its target failed; none means closed.
--   state          'closed' calls go through, 'open' the target is down and
--                  jobs wait without calling it, 'half_open' one job probes
--   failures       consecutive transient failures (reset by a success)
--   probes         failed probes since the breaker opened (their backoff)
--   down_since     when the breaker opened
--   last_error     the last transient failure, in the connector's words
--   next_probe_at  when an open breaker may be probed again
--   probe_until    when the probe's slot is free again if its job died
CREATE TABLE breakers (
    target        text NOT NULL CHECK (target IN ('connection', 'account')),
    target_id     bigint NOT NULL,
    state         text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
    failures      integer NOT NULL DEFAULT 0,
    probes        integer NOT NULL DEFAULT 0,
    down_since    timestamptz,
    last_error    text NOT NULL DEFAULT '',
    next_probe_at timestamptz,
    probe_until   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, target_id)
);

---- create above / drop below ----

DROP TABLE breakers;
