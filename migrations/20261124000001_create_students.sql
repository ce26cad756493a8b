-- The students table. Each CHECK mirrors a rule of the API's types (src/domain/student.rs),
-- so a row written by hand in psql obeys the same contract as one written through the API.

CREATE TABLE students (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    grade      text        NOT NULL,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),

    -- StudentName: trimmed, 1–100 characters, no control characters.
    CONSTRAINT students_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT students_name_trimmed CHECK (name = btrim(name)),
    CONSTRAINT students_name_no_control_chars CHECK (name !~ '[[:cntrl:]]'),
    -- Grade: the letter grades, best first.
    CONSTRAINT students_grade_valid
        CHECK (grade IN ('A+', 'A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D', 'F')),
    -- Email: at most 254 characters, stored lower-cased.
    CONSTRAINT students_email_length CHECK (char_length(email) <= 254),
    CONSTRAINT students_email_lower_case CHECK (email = lower(email)),
    CONSTRAINT students_email_no_control_chars CHECK (email !~ '[[:cntrl:]]')
);

-- E-mail addresses are unique ignoring case; the API answers 409 when this index refuses a row.
CREATE UNIQUE INDEX students_email_key ON students (lower(email));

-- updated_at moves only when a column really changed, so a no-op PATCH leaves it alone.
CREATE FUNCTION students_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER students_touch_updated_at
    BEFORE UPDATE ON students
    FOR EACH ROW EXECUTE FUNCTION students_touch_updated_at();

COMMENT ON TABLE students IS 'Students managed by students-api (/api/students). Rules mirror the API schema.';
COMMENT ON COLUMN students.id IS 'Server-assigned identifier; the {id} in /api/students/{id}.';
COMMENT ON COLUMN students.name IS 'Full name, trimmed, 1-100 characters, no control characters.';
COMMENT ON COLUMN students.grade IS 'Letter grade: A+ A A- B+ B B- C+ C C- D F.';
COMMENT ON COLUMN students.email IS 'Optional e-mail, lower-cased, unique ignoring case (students_email_key).';
COMMENT ON COLUMN students.created_at IS 'When the row was inserted (UTC).';
COMMENT ON COLUMN students.updated_at IS 'When any column last changed (trigger students_touch_updated_at).';
