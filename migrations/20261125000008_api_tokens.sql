-- API tokens (issue 13): who may do what. Only the SHA-256 of a secret is kept; the secret is
-- shown once, when the token is made (src/domain/token.rs has the format).
CREATE TABLE api_tokens (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text        NOT NULL,
    secret_sha256  bytea       NOT NULL,
    display_prefix text        NOT NULL,
    scopes         text[]      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    CONSTRAINT api_tokens_secret_sha256_key UNIQUE (secret_sha256),
    CONSTRAINT api_tokens_secret_sha256_length CHECK (length(secret_sha256) = 32),
    -- The same rules as a student's name (StudentName::STORED_PATTERN, 1-100 characters).
    CONSTRAINT api_tokens_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_tokens_name_visible CHECK (name ~ '^[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u115F\u1160\u3164\uFFA0\u2800\u200C\u200D\u17B4\u17B5\u180B-\u180D\u180F\u0300-\u036F\u0483-\u0489\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE00-\uFE0F\uFE20-\uFE2F\U00016FE4\U000E0020-\U000E007F\U000E0100-\U000E01EF][^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*$'),
    CONSTRAINT api_tokens_name_trimmed CHECK (name = btrim(name)),
    CONSTRAINT api_tokens_display_prefix_format CHECK (display_prefix ~ '^sat_[0-9A-Za-z]{4}$'),
    CONSTRAINT api_tokens_scopes_known CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['students:read', 'students:write', 'tokens:admin', 'metrics:read']::text[]
    ),
    CONSTRAINT api_tokens_expires_at_after_created CHECK (expires_at > created_at)
);

COMMENT ON TABLE api_tokens IS
    'API tokens. A request''s bearer secret is hashed (SHA-256) and looked up in secret_sha256; the secret itself is never stored.';
COMMENT ON COLUMN api_tokens.id IS 'Token id: what lists show, what revoking names, what logs carry.';
COMMENT ON COLUMN api_tokens.name IS 'What the token is for, chosen by whoever made it.';
COMMENT ON COLUMN api_tokens.secret_sha256 IS 'SHA-256 of the secret (sat_ + 28 base62 characters).';
COMMENT ON COLUMN api_tokens.display_prefix IS 'The secret''s first 8 characters, to recognise a token in lists.';
COMMENT ON COLUMN api_tokens.scopes IS 'What the token may do: students:read, students:write, tokens:admin, metrics:read.';
COMMENT ON COLUMN api_tokens.expires_at IS 'After this instant the token is refused; NULL: never expires.';
COMMENT ON COLUMN api_tokens.last_used_at IS 'Roughly when the token was last used: written at most once a minute per token.';
COMMENT ON COLUMN api_tokens.revoked_at IS 'When the token was revoked; a revoked token is refused from then on. Rows are kept for the record.';

-- Every running instance keeps the tokens in memory and reloads them when this fires, so a
-- token revoked here (by the API, the CLI or psql) is refused everywhere within a second.
CREATE FUNCTION api_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_tokens_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();
COMMENT ON FUNCTION api_tokens_changed() IS
    'NOTIFY api_tokens_changed after any change to api_tokens: running instances reload their token cache.';
