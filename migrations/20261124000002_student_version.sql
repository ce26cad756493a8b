-- Optimistic concurrency. `version` counts real changes; the API sends it as the ETag and checks
-- If-Match against it inside the same UPDATE/DELETE, so of two writers holding the same version
-- exactly one wins and the other gets 412.
ALTER TABLE students
    ADD COLUMN version integer NOT NULL DEFAULT 1
        CONSTRAINT students_version_positive CHECK (version >= 1);

-- The trigger that moves updated_at on a real change now bumps version with it (a no-op PATCH
-- changes neither, so the ETag a client holds stays valid).
CREATE OR REPLACE FUNCTION students_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON COLUMN students.version IS
    'Bumped by trigger students_touch_updated_at on every real change; the API''s ETag ("<version>").';
