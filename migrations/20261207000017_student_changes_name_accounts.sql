-- History names people (issue 28): a change made by a signed-in person records the account, and
-- `actor` is then its username (an API token's change keeps the token's name). The API sets
-- `students_api.actor_account_id` beside the other two actor settings; psql sets none, so its
-- changes still name the database role. No foreign key: a history row outlives anything, and a
-- per-row key check would slow bulk imports; accounts are never deleted, only disabled.
ALTER TABLE student_changes ADD COLUMN actor_account_id bigint;
COMMENT ON COLUMN student_changes.actor_account_id IS
    'The account (accounts.id) of the person whose sign-in made the change; NULL for API tokens and changes made outside the API.';
COMMENT ON COLUMN student_changes.actor IS
    'The username for a signed-in person, the token''s name for a program''s API token, else the database role (session_user), e.g. in psql.';

-- Migration 11's function, with the account.
CREATE OR REPLACE FUNCTION students_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token_id   bigint := nullif(current_setting('students_api.actor_token_id', true), '')::bigint;
    account_id bigint := nullif(current_setting('students_api.actor_account_id', true), '')::bigint;
    actor      text   := coalesce(nullif(current_setting('students_api.actor', true), ''), session_user);
    changed_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    place      xid8   := pg_current_xact_id();
    latest     xid8;
BEGIN
    -- A no-op update changes nothing (not even the version): nothing to record.
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NULL;
    END IF;
    -- An update or delete follows the student's latest recorded change (migration 11).
    IF TG_OP <> 'INSERT' THEN
        SELECT c.feed_xid INTO latest FROM student_changes c
        WHERE c.student_id = changed_id ORDER BY c.feed_xid DESC, c.seq DESC LIMIT 1;
        IF latest > place THEN
            place := latest;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor)
        VALUES (place, 'created', NEW.id, NEW.version, to_jsonb(NEW), token_id, account_id, actor);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, previous, actor_token_id, actor_account_id, actor)
        VALUES (place, 'updated', NEW.id, NEW.version, to_jsonb(NEW), to_jsonb(OLD), token_id, account_id, actor);
    ELSE
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor)
        VALUES (place, 'deleted', OLD.id, OLD.version, to_jsonb(OLD), token_id, account_id, actor);
    END IF;
    RETURN NULL;
END
$$;

-- Migration 12's function, with the account.
CREATE OR REPLACE FUNCTION students_record_creates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In id order, so `seq` (the order within the transaction) follows the ids handed out.
    INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor)
    SELECT pg_current_xact_id(), 'created', c.id, c.version, to_jsonb(c),
           nullif(current_setting('students_api.actor_token_id', true), '')::bigint,
           nullif(current_setting('students_api.actor_account_id', true), '')::bigint,
           coalesce(nullif(current_setting('students_api.actor', true), ''), session_user)
    FROM created c
    ORDER BY c.id;
    RETURN NULL;
END
$$;
