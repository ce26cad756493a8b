-- Notify one token at a time, and only when what a token may do changes. Migration 8 notified
-- once per statement with no payload, so every instance reread the whole table on every change
-- (1.2 s with 300,000 tokens), including the `last_used_at` writes made about once a minute
-- per token in use. Now the payload is the token's id and an instance rereads that one row;
-- an empty payload (TRUNCATE) still means "reread everything".
DROP TRIGGER api_tokens_changed ON api_tokens;

CREATE OR REPLACE FUNCTION api_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('api_tokens_changed', '');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('api_tokens_changed', OLD.id::text);
    ELSE
        PERFORM pg_notify('api_tokens_changed', NEW.id::text);
        IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
            PERFORM pg_notify('api_tokens_changed', OLD.id::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api_tokens_changed() IS
    'NOTIFY api_tokens_changed with the id of the token added, removed or changed (empty after TRUNCATE): running instances reread it.';

CREATE TRIGGER api_tokens_changed
    AFTER INSERT OR DELETE OR UPDATE OF id, name, secret_sha256, scopes, expires_at, revoked_at
    ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_changed();
COMMENT ON TRIGGER api_tokens_changed ON api_tokens IS
    'Notifies each token added, removed, revoked, or whose scopes, expiry, name or hash changed (not last_used_at).';

CREATE TRIGGER api_tokens_truncated
    AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_changed();
COMMENT ON TRIGGER api_tokens_truncated ON api_tokens IS
    'Notifies with an empty payload: every token is gone, instances reread the table.';
