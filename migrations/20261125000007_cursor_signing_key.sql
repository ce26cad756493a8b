-- The key that signs list cursors (HMAC-SHA256), so a cursor is accepted only if this service
-- made it. Kept here, not in each process, so every instance on this database signs and checks
-- with the same key, and a restart does not invalidate the cursors clients hold.
--
-- 256 bits from two version-4 UUIDs (244 of them random): gen_random_uuid() is built into
-- PostgreSQL 13+, pgcrypto is not needed.
CREATE TABLE cursor_signing_key (
    only_one   boolean     PRIMARY KEY DEFAULT true CHECK (only_one),
    key        bytea       NOT NULL CHECK (length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO cursor_signing_key (key)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

COMMENT ON TABLE cursor_signing_key IS
    'One row: the secret that signs list cursors. Replacing it invalidates every cursor in clients'' hands (they get a 422 and start the list again).';
COMMENT ON COLUMN cursor_signing_key.only_one IS 'Always true: the table holds one key.';
COMMENT ON COLUMN cursor_signing_key.key IS 'HMAC-SHA256 key, 32 bytes. Secret: whoever reads it can forge cursors (not data).';
