-- Idempotent creates (the Idempotency-Key header on POST /api/students). A key is written in
-- the same transaction as the student it created, so a retry finds either both or neither.
-- Keys answer for 24 hours; the service deletes older ones in the background.
CREATE TABLE idempotency_keys (
    key        text        PRIMARY KEY
        CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    request    jsonb       NOT NULL,
    response   jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

COMMENT ON TABLE idempotency_keys IS
    'One row per Idempotency-Key of a successful POST /api/students, kept 24 h.';
COMMENT ON COLUMN idempotency_keys.key IS 'The client''s Idempotency-Key header, 1-255 characters.';
COMMENT ON COLUMN idempotency_keys.request IS
    'The normalised body (name, grade, email); a retry must send the same one.';
COMMENT ON COLUMN idempotency_keys.response IS
    'The student row as created (to_jsonb), replayed to every retry as the 201 body.';
COMMENT ON COLUMN idempotency_keys.created_at IS 'When the key was first used; it expires 24 h later.';
