-- The table refuses every value the API refuses (tests/api/rules.rs tries each one here too), so
-- a row written in psql is always a row the API can read.
--
-- Email::ADDRESS (src/domain/student.rs), exactly: a local part of 1-64 characters allowed
-- unquoted by RFC 5322, `@`, a host name of letters, digits and inner hyphens. ASCII only.
ALTER TABLE students ADD CONSTRAINT students_email_format CHECK (
    email ~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
) NOT VALID;

-- StudentName is trimmed of every Unicode white space (Rust's `str::trim`), not only the ASCII
-- spaces btrim() removes (students_name_trimmed); the control characters among them are refused
-- already (students_name_no_control_chars).
ALTER TABLE students ADD CONSTRAINT students_name_unicode_trimmed CHECK (
    name !~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
    AND name !~ '[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
) NOT VALID;

-- Added NOT VALID, so the migration never fails on a table holding rows that break them (such
-- rows could be written with psql before); every new write obeys them from here on. Then each
-- is validated; where old rows break one, it stays NOT VALID with a warning, and the service
-- logs it at every start until the rows are fixed (migrations/README.md says how).
DO $$
DECLARE
    rule text;
BEGIN
    FOREACH rule IN ARRAY ARRAY['students_email_format', 'students_name_unicode_trimmed'] LOOP
        BEGIN
            EXECUTE format('ALTER TABLE students VALIDATE CONSTRAINT %I', rule);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'rows written before migration 5 break %; fix them, then run: ALTER TABLE students VALIDATE CONSTRAINT %', rule, rule;
        END;
    END LOOP;
END
$$;

COMMENT ON CONSTRAINT students_email_format ON students IS
    'Email::ADDRESS in src/domain/student.rs: the form of an address the API accepts.';
COMMENT ON CONSTRAINT students_name_unicode_trimmed ON students IS
    'StudentName is stored without surrounding Unicode white space.';
COMMENT ON COLUMN students.email IS
    'Optional e-mail: ASCII local@host, lower-cased, at most 254 characters, unique ignoring case (students_email_key).';
