-- A token made with a person's sign-in belongs to that person as much as the sign-in does
-- (issue 28): disabling the account, lowering its role or giving it a new password revokes the
-- tokens its sign-ins made (and those they made in turn), not only the sign-ins. Otherwise a
-- disabled admin could keep every scope through a token minted a minute before, and re-enable
-- themself with it.
ALTER TABLE api_tokens ADD COLUMN made_by_account_id bigint REFERENCES accounts (id);
CREATE INDEX api_tokens_made_by_account_id ON api_tokens (made_by_account_id)
    WHERE made_by_account_id IS NOT NULL;
COMMENT ON COLUMN api_tokens.made_by_account_id IS
    'The account whose sign-in made this token (directly or through tokens it made); NULL for tokens made with the CLI or by programs. The account''s revocations revoke it too.';
