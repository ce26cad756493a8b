-- The change feed's order (GET /api/students/changes), made safe for each student.
--
-- Ordering by the writing transaction's id alone (migration 10) can put one student's changes
-- out of order: transaction 10 may write some other row first, wait for transaction 11's lock
-- on student 5, and update student 5 after 11 commits; by xid, 10's update would come first.
-- So each change gets `feed_xid`: its transaction's id, or the feed_xid of the student's latest
-- recorded change when that one is later. A reader still takes only rows whose feed_xid is
-- below its snapshot's xmin: feed_xid is never below the writer's own xid, so every such row's
-- writer has finished, and no row can later appear below a position already read.
-- Rewrites the table: not bound by the service's 5 s statement timeout.
SET LOCAL statement_timeout = 0;
ALTER TABLE student_changes ADD COLUMN feed_xid xid8;
UPDATE student_changes SET feed_xid = xid;
ALTER TABLE student_changes ALTER COLUMN feed_xid SET NOT NULL;

ALTER TABLE student_changes DROP CONSTRAINT student_changes_pkey;
ALTER TABLE student_changes ADD CONSTRAINT student_changes_pkey PRIMARY KEY (feed_xid, seq);
DROP INDEX student_changes_by_student;
CREATE INDEX student_changes_by_student ON student_changes (student_id, feed_xid DESC, seq DESC);
-- Pruning finds expired changes by time; changes arrive in time order, so a BRIN index (a few
-- pages, next to nothing per insert) serves it where a btree cost every write an entry.
DROP INDEX student_changes_by_time;
CREATE INDEX student_changes_by_time ON student_changes USING brin (changed_at);

COMMENT ON COLUMN student_changes.xid IS 'The writing transaction (pg_current_xact_id()).';
COMMENT ON COLUMN student_changes.feed_xid IS
    'With seq, the change''s position in the feed: xid, or the feed_xid of this student''s previous change when that is later, so each student''s changes keep the order they happened in.';
COMMENT ON COLUMN student_changes.seq IS 'Order among changes of the same feed_xid.';

-- Everything at or before this position has been pruned: a reader resuming from an earlier
-- position has missed changes and must start over from the list (410).
CREATE TABLE student_changes_pruned (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    feed_xid xid8    NOT NULL,
    seq      bigint  NOT NULL
);
INSERT INTO student_changes_pruned (feed_xid, seq) VALUES ('0', 0);
COMMENT ON TABLE student_changes_pruned IS
    'One row: the newest position pruned from student_changes (retention). Feed positions at or before it are gone (410).';

CREATE OR REPLACE FUNCTION students_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    token_id   bigint := nullif(current_setting('students_api.actor_token_id', true), '')::bigint;
    actor      text   := coalesce(nullif(current_setting('students_api.actor', true), ''), session_user);
    changed_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    place      xid8   := pg_current_xact_id();
    latest     xid8;
BEGIN
    -- A no-op update changes nothing (not even the version): nothing to record.
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NULL;
    END IF;
    -- An update or delete follows the student's latest recorded change: in READ COMMITTED
    -- this sees it (the row lock we waited for was released by its commit), so ours sorts
    -- after it. An insert has a new id (`GENERATED ALWAYS`), so nothing to follow, and bulk
    -- inserts skip the lookup.
    IF TG_OP <> 'INSERT' THEN
        SELECT c.feed_xid INTO latest FROM student_changes c
        WHERE c.student_id = changed_id ORDER BY c.feed_xid DESC, c.seq DESC LIMIT 1;
        IF latest > place THEN
            place := latest;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor)
        VALUES (place, 'created', NEW.id, NEW.version, to_jsonb(NEW), token_id, actor);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, previous, actor_token_id, actor)
        VALUES (place, 'updated', NEW.id, NEW.version, to_jsonb(NEW), to_jsonb(OLD), token_id, actor);
    ELSE
        INSERT INTO student_changes (feed_xid, op, student_id, version, student, actor_token_id, actor)
        VALUES (place, 'deleted', OLD.id, OLD.version, to_jsonb(OLD), token_id, actor);
    END IF;
    RETURN NULL;
END
$$;
