-- Webhooks (issue 30): other services' URLs that every change to a student is sent to, signed
-- (Standard Webhooks), in order per student, at least once. `student_changes` is the outbox:
-- each endpoint keeps the feed position it has reached, and only events that wait (a failed
-- attempt, or an earlier event of the same student still waiting) get a row of their own.

-- The webhooks:admin scope (Scope::WebhooksAdmin): who may manage endpoints.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_known;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_known CHECK (
    cardinality(scopes) > 0
    AND scopes <@ ARRAY['students:read', 'students:write', 'tokens:admin', 'accounts:admin', 'metrics:read', 'webhooks:admin']::text[]
);
COMMENT ON COLUMN api_tokens.scopes IS
    'What the token may do: students:read, students:write, tokens:admin, accounts:admin, metrics:read, webhooks:admin.';

CREATE TABLE webhook_endpoints (
    id                         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                        text        NOT NULL,
    description                text        NOT NULL DEFAULT '',
    events                     text[]      NOT NULL,
    grades                     text[]      NOT NULL DEFAULT '{}',
    enabled                    boolean     NOT NULL DEFAULT true,
    disabled_reason            text,
    disabled_at                timestamptz,
    secret                     text        NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    feed_xid                   bigint      NOT NULL,
    feed_seq                   bigint      NOT NULL,
    failing_since              timestamptz,
    last_delivered_at          timestamptz,
    lease_holder               uuid,
    lease_expires_at           timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),

    -- WebhookUrl::PATTERN; whether it may be called (https, allowed hosts, no private
    -- addresses) is checked when it is set and again at every delivery.
    CONSTRAINT webhook_endpoints_url_valid CHECK (
        char_length(url) <= 2000
        AND url ~ '^https?://[^/?#@\u0001-\u0020\u007F]+([/?][^#\u0001-\u0020\u007F]*)?$'
    ),
    CONSTRAINT webhook_endpoints_description_short CHECK (
        char_length(description) <= 500 AND description !~ '[\u0001-\u001F\u007F-\u009F]'
    ),
    CONSTRAINT webhook_endpoints_events_known CHECK (
        cardinality(events) > 0
        AND events <@ ARRAY['student.created', 'student.updated', 'student.deleted']::text[]
    ),
    CONSTRAINT webhook_endpoints_grades_known CHECK (
        grades <@ ARRAY['A+', 'A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D', 'F']::text[]
    ),
    CONSTRAINT webhook_endpoints_disabled_says_why CHECK (
        enabled = (disabled_reason IS NULL)
        AND (disabled_reason IS NULL) = (disabled_at IS NULL)
        AND (disabled_reason IS NULL OR disabled_reason IN ('paused', 'gone', 'failing'))
    ),
    CONSTRAINT webhook_endpoints_secret_valid CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{43}=$'),
    CONSTRAINT webhook_endpoints_previous_secret_valid CHECK (
        (previous_secret IS NULL) = (previous_secret_expires_at IS NULL)
        AND (previous_secret IS NULL OR previous_secret ~ '^whsec_[A-Za-z0-9+/]{43}=$')
    ),
    CONSTRAINT webhook_endpoints_position_valid CHECK (feed_xid >= 0 AND feed_seq >= 0),
    CONSTRAINT webhook_endpoints_lease_whole CHECK ((lease_holder IS NULL) = (lease_expires_at IS NULL))
);

COMMENT ON TABLE webhook_endpoints IS
    'Where changes to students are sent (POST, Standard Webhooks signatures). Managed with /api/webhooks (webhooks:admin) or `students-api webhook`.';
COMMENT ON COLUMN webhook_endpoints.url IS 'The receiver: https, or http to a host in WEBHOOK_ALLOWED_HOSTS.';
COMMENT ON COLUMN webhook_endpoints.events IS 'Which changes it gets: student.created, student.updated, student.deleted.';
COMMENT ON COLUMN webhook_endpoints.grades IS 'Only changes to students in these grades (before or after the change); empty: all.';
COMMENT ON COLUMN webhook_endpoints.enabled IS 'Whether changes are sent; while false the position stays where it is, and re-enabling resumes from there.';
COMMENT ON COLUMN webhook_endpoints.disabled_reason IS 'paused (by a person), gone (it answered 410), failing (every attempt failed for 5 days).';
COMMENT ON COLUMN webhook_endpoints.secret IS 'Signs every delivery (webhook-signature v1). Shown once, when made or rotated.';
COMMENT ON COLUMN webhook_endpoints.previous_secret IS 'After a rotation, the old secret, which also signs until previous_secret_expires_at (24 h).';
COMMENT ON COLUMN webhook_endpoints.feed_xid IS 'With feed_seq, the feed position (student_changes.feed_xid, seq) up to which every change has been delivered, or queued in webhook_deliveries, or filtered out.';
COMMENT ON COLUMN webhook_endpoints.failing_since IS 'The first failed attempt since the last delivered one; NULL while deliveries succeed.';
COMMENT ON COLUMN webhook_endpoints.lease_holder IS 'The instance delivering to this endpoint (one at a time); another takes over once lease_expires_at passes.';

-- Events waiting for an attempt (a retry, a replay, or behind an earlier event of the same
-- student) and those that failed every attempt. Delivered ones leave; the attempts say so.
CREATE TABLE webhook_deliveries (
    endpoint_id     bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    feed_xid        bigint      NOT NULL,
    feed_seq        bigint      NOT NULL,
    student_id      bigint      NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    queued_at       timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (endpoint_id, feed_xid, feed_seq),
    CONSTRAINT webhook_deliveries_status_valid CHECK (status IN ('pending', 'failed')),
    CONSTRAINT webhook_deliveries_attempts_valid CHECK (attempts >= 0)
);
-- Per student, oldest first: only the first waiting event of a student may go.
CREATE INDEX webhook_deliveries_waiting ON webhook_deliveries (endpoint_id, student_id, feed_xid, feed_seq)
    WHERE status = 'pending';

COMMENT ON TABLE webhook_deliveries IS
    'Events an endpoint has not received yet (status pending: retried at next_attempt_at, or after the same student''s earlier event) or never will (failed: every attempt failed; replay sends it again).';
COMMENT ON COLUMN webhook_deliveries.feed_xid IS 'With feed_seq, the change (student_changes.feed_xid, seq); webhook-id is this position.';
COMMENT ON COLUMN webhook_deliveries.attempts IS 'Attempts made so far (webhook_attempts has each).';

-- The delivery log: every attempt, kept as long as the changes (CHANGE_RETENTION).
CREATE TABLE webhook_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    student_id   bigint,
    attempt      integer     NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  smallint,
    latency_ms   integer     NOT NULL,
    response     text        NOT NULL DEFAULT '',
    error        text,
    outcome      text        NOT NULL,

    CONSTRAINT webhook_attempts_event_type_known CHECK (
        event_type IN ('student.created', 'student.updated', 'student.deleted', 'webhook.test')
    ),
    CONSTRAINT webhook_attempts_attempt_valid CHECK (attempt >= 1),
    CONSTRAINT webhook_attempts_status_valid CHECK (status_code BETWEEN 100 AND 599),
    CONSTRAINT webhook_attempts_latency_valid CHECK (latency_ms >= 0),
    CONSTRAINT webhook_attempts_response_short CHECK (char_length(response) <= 1024),
    CONSTRAINT webhook_attempts_outcome_valid CHECK (outcome IN ('delivered', 'retrying', 'failed')),
    CONSTRAINT webhook_attempts_delivered_is_2xx CHECK (
        outcome <> 'delivered' OR (status_code BETWEEN 200 AND 299 AND error IS NULL)
    )
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id DESC);
CREATE INDEX webhook_attempts_by_event ON webhook_attempts (endpoint_id, event_id);
CREATE INDEX webhook_attempts_by_time ON webhook_attempts USING brin (attempted_at);

COMMENT ON TABLE webhook_attempts IS
    'Every delivery attempt to a webhook endpoint: when, the answer''s status and first 1 KiB, or why there was none. Pruned with the changes (CHANGE_RETENTION).';
COMMENT ON COLUMN webhook_attempts.event_id IS 'The webhook-id header: the change''s feed position (as the feed''s `position`), or test_… for a test event.';
COMMENT ON COLUMN webhook_attempts.status_code IS 'The receiver''s status; NULL when there was no answer (see error).';
COMMENT ON COLUMN webhook_attempts.response IS 'The first 1 KiB of the answer''s body (as text; bytes that are not UTF-8 replaced).';
COMMENT ON COLUMN webhook_attempts.error IS 'Why the attempt failed without an answer (timeout, connection refused, address not allowed), or with one.';
COMMENT ON COLUMN webhook_attempts.outcome IS 'delivered (2xx), retrying (another attempt is due), failed (no more attempts, or the endpoint was disabled).';
