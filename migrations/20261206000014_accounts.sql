-- People's accounts (src/domain/account.rs has every rule). A password is kept only as its
-- argon2id hash. A person signs in for an API token tied to the account (api_tokens.account_id),
-- so the rest of the API checks one kind of credential.
CREATE TABLE accounts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text        NOT NULL,
    display_name    text        NOT NULL,
    role            text        NOT NULL,
    password_hash   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    last_sign_in_at timestamptz,
    CONSTRAINT accounts_username_key UNIQUE (username),
    -- Username::PATTERN: stored lower-cased, so the unique key is case-blind.
    CONSTRAINT accounts_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    -- The same rules as a student's name (StudentName::STORED_PATTERN, 1-100 characters).
    CONSTRAINT accounts_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 100),
    CONSTRAINT accounts_display_name_visible CHECK (display_name ~ '^[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u115F\u1160\u3164\uFFA0\u2800\u200C\u200D\u17B4\u17B5\u180B-\u180D\u180F\u0300-\u036F\u0483-\u0489\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE00-\uFE0F\uFE20-\uFE2F\U00016FE4\U000E0020-\U000E007F\U000E0100-\U000E01EF][^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*$'),
    CONSTRAINT accounts_display_name_trimmed CHECK (display_name = btrim(display_name)),
    -- ROLES.
    CONSTRAINT accounts_role_valid CHECK (role IN ('viewer', 'editor', 'admin')),
    -- PasswordHash: argon2id in the PHC string format, never anything reversible.
    CONSTRAINT accounts_password_hash_argon2id CHECK (password_hash ~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$'),
    CONSTRAINT accounts_disabled_at_after_created CHECK (disabled_at >= created_at)
);

COMMENT ON TABLE accounts IS
    'People who sign in (students-api account create, or POST /api/accounts). Passwords are kept only as argon2id hashes.';
COMMENT ON COLUMN accounts.id IS 'Account id: what change history and logs name, with the username.';
COMMENT ON COLUMN accounts.username IS 'The sign-in name: 3-64 of a-z, 0-9, ., _, -; stored lower-cased.';
COMMENT ON COLUMN accounts.display_name IS 'The name shown for the person.';
COMMENT ON COLUMN accounts.role IS 'viewer (reads students), editor (and writes them), admin (and tokens, accounts, metrics).';
COMMENT ON COLUMN accounts.password_hash IS 'argon2id hash of the NFKC-normalised password, with its salt and parameters (PHC format).';
COMMENT ON COLUMN accounts.disabled_at IS 'When the account was disabled: it cannot sign in, and its sign-in tokens were revoked. NULL: active.';
COMMENT ON COLUMN accounts.last_sign_in_at IS 'When the account last signed in.';

ALTER TABLE api_tokens ADD COLUMN account_id bigint REFERENCES accounts (id);
CREATE INDEX api_tokens_account_id ON api_tokens (account_id) WHERE account_id IS NOT NULL;
COMMENT ON COLUMN api_tokens.account_id IS
    'The account this token is a sign-in of (its scopes are the role''s), revoked with the account''s password, role or disabling; NULL: a token made for a program.';
