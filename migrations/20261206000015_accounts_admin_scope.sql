-- The accounts:admin scope (Scope::AccountsAdmin): who may manage people's accounts.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_known;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_known CHECK (
    cardinality(scopes) > 0
    AND scopes <@ ARRAY['students:read', 'students:write', 'tokens:admin', 'accounts:admin', 'metrics:read']::text[]
);
COMMENT ON COLUMN api_tokens.scopes IS
    'What the token may do: students:read, students:write, tokens:admin, accounts:admin, metrics:read.';
