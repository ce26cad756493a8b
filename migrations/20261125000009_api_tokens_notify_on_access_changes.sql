-- Notify only when what a token may do changes. `last_used_at` is written about once a minute
-- per token in use; with migration 8's trigger every such write made every instance reload its
-- whole token cache.
DROP TRIGGER api_tokens_changed ON api_tokens;
CREATE TRIGGER api_tokens_changed
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name, secret_sha256, scopes, expires_at, revoked_at
    ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();
COMMENT ON TRIGGER api_tokens_changed ON api_tokens IS
    'NOTIFY api_tokens_changed when a token is added, removed, revoked, or its scopes, expiry or name change (not for last_used_at).';
