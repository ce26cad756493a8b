-- A restore (POST /api/students/{id}/restore, issue 29) is recorded as its own change: an update
-- of a student that exists, or the create of one that was deleted, that names the version it
-- brought back. The API passes it in a fourth transaction-scoped setting,
-- `students_api.restored_from_version`, beside the actor settings (migration 17), in the
-- restoring statement; every other write leaves it unset, so NULL. Nullable, no default: adding
-- it rewrites nothing.
ALTER TABLE student_changes ADD COLUMN restored_from_version integer
    CONSTRAINT student_changes_restored_from_version_positive CHECK (restored_from_version > 0);
COMMENT ON COLUMN student_changes.restored_from_version IS
    'For a change made by a restore: the version of this student (student_changes.version of an earlier change) whose state it brought back; NULL for every other change. Versions are >= 1, as students_version_positive.';

-- Migration 17's function, with the restored version (never on a delete).
CREATE OR REPLACE FUNCTION students_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token_id   bigint  := nullif(current_setting('students_api.actor_token_id', true), '')::bigint;
    account_id bigint  := nullif(current_setting('students_api.actor_account_id', true), '')::bigint;
    actor      text    := coalesce(nullif(current_setting('students_api.actor', true), ''), session_user);
    restored   integer := nullif(current_setting('students_api.restored_from_version', true), '')::integer;
    changed_id bigint  := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    place      xid8    := pg_current_xact_id();
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
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor, restored_from_version)
        VALUES (place, 'created', NEW.id, NEW.version, to_jsonb(NEW), token_id, account_id, actor, restored);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, previous, actor_token_id, actor_account_id, actor, restored_from_version)
        VALUES (place, 'updated', NEW.id, NEW.version, to_jsonb(NEW), to_jsonb(OLD), token_id, account_id, actor, restored);
    ELSE
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor)
        VALUES (place, 'deleted', OLD.id, OLD.version, to_jsonb(OLD), token_id, account_id, actor);
    END IF;
    RETURN NULL;
END
$$;

-- Migration 17's function, with the restored version: a restore of a deleted student is a
-- create with the id it had.
CREATE OR REPLACE FUNCTION students_record_creates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In id order, so `seq` (the order within the transaction) follows the ids handed out.
    INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor_account_id, actor, restored_from_version)
    SELECT pg_current_xact_id(), 'created', c.id, c.version, to_jsonb(c),
           nullif(current_setting('students_api.actor_token_id', true), '')::bigint,
           nullif(current_setting('students_api.actor_account_id', true), '')::bigint,
           coalesce(nullif(current_setting('students_api.actor', true), ''), session_user),
           nullif(current_setting('students_api.restored_from_version', true), '')::integer
    FROM created c
    ORDER BY c.id;
    RETURN NULL;
END
$$;
