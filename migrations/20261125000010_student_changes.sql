-- Every change to a student, written by a trigger in the same transaction as the change: the
-- source of the change feed (GET /api/students/changes) and of each student's history. A change
-- made in psql is recorded too, with the database role as its actor.
--
-- Order: `xid`, the writing transaction's id, then `seq` within it. Transactions commit out of
-- id order, so a reader takes only rows of transactions older than its snapshot's xmin (every
-- one of those has finished): a row can then never appear before a position already read.
CREATE TABLE student_changes (
    xid            xid8        NOT NULL DEFAULT pg_current_xact_id(),
    seq            bigint      GENERATED ALWAYS AS IDENTITY,
    op             text        NOT NULL,
    student_id     bigint      NOT NULL,
    version        integer     NOT NULL,
    student        jsonb       NOT NULL,
    previous       jsonb,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    actor_token_id bigint,
    actor          text        NOT NULL,

    CONSTRAINT student_changes_pkey PRIMARY KEY (xid, seq),
    CONSTRAINT student_changes_op_valid CHECK (op IN ('created', 'updated', 'deleted')),
    CONSTRAINT student_changes_previous_only_for_updates
        CHECK ((op = 'updated') = (previous IS NOT NULL))
);

-- One student's history, newest first.
CREATE INDEX student_changes_by_student ON student_changes (student_id, xid DESC, seq DESC);
-- Retention deletes the oldest first.
CREATE INDEX student_changes_by_time ON student_changes (changed_at);

COMMENT ON TABLE student_changes IS
    'Every create, update and delete of a student, recorded by trigger students_record_change in the writing transaction; pruned after the retention period (CHANGE_RETENTION, default 7 days).';
COMMENT ON COLUMN student_changes.xid IS 'The writing transaction (pg_current_xact_id()); with seq, the change''s position.';
COMMENT ON COLUMN student_changes.seq IS 'Order within the transaction.';
COMMENT ON COLUMN student_changes.op IS 'created, updated or deleted.';
COMMENT ON COLUMN student_changes.student_id IS 'The student changed (no foreign key: a deleted student keeps its history).';
COMMENT ON COLUMN student_changes.version IS 'The student''s version after the change (before it, for a delete).';
COMMENT ON COLUMN student_changes.student IS 'The whole student after the change (before it, for a delete), as to_jsonb(students row).';
COMMENT ON COLUMN student_changes.previous IS 'The whole student before an update; NULL for creates and deletes.';
COMMENT ON COLUMN student_changes.changed_at IS 'When the writing transaction started (now()).';
COMMENT ON COLUMN student_changes.actor_token_id IS 'The API token that made the change; NULL for changes made outside the API.';
COMMENT ON COLUMN student_changes.actor IS 'The token''s name for API writes, else the database role (session_user), e.g. in psql.';

-- The API names its token with two transaction-scoped settings (set_config(..., true)) in the
-- statement that writes; anything else is recorded as the database role. No NOTIFY here: a
-- pg_notify in every writing transaction halved POST throughput (3,456 -> 1,765 req/s in
-- bench/run), since notifying transactions serialise on the notification queue at commit.
CREATE FUNCTION students_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token_id bigint := nullif(current_setting('students_api.actor_token_id', true), '')::bigint;
    actor    text   := coalesce(nullif(current_setting('students_api.actor', true), ''), session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO student_changes (op, student_id, version, student, actor_token_id, actor)
        VALUES ('created', NEW.id, NEW.version, to_jsonb(NEW), token_id, actor);
    ELSIF TG_OP = 'UPDATE' THEN
        -- A no-op update changes nothing (not even the version): nothing to record.
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NULL;
        END IF;
        INSERT INTO student_changes (op, student_id, version, student, previous, actor_token_id, actor)
        VALUES ('updated', NEW.id, NEW.version, to_jsonb(NEW), to_jsonb(OLD), token_id, actor);
    ELSE
        INSERT INTO student_changes (op, student_id, version, student, actor_token_id, actor)
        VALUES ('deleted', OLD.id, OLD.version, to_jsonb(OLD), token_id, actor);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION students_record_change() IS
    'Records each change to students in student_changes (actor from the students_api.actor* settings, else session_user).';

CREATE TRIGGER students_record_change
    AFTER INSERT OR UPDATE OR DELETE ON students
    FOR EACH ROW EXECUTE FUNCTION students_record_change();
