-- Indexes behind GET /api/students: one per sort order (each ends in id, the tie-breaker, so a
-- cursor page is one index range scan however deep it is), and trigram indexes for `q`.
-- src/db/listing.rs writes the same expressions; EXPLAIN output for each query shape is in
-- bench/README.md.

-- `q` searches names and e-mails by substring (ILIKE '%…%'); trigram indexes serve that.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- sort=grade puts the best grade first; text order would put A before A+.
CREATE FUNCTION student_grade_rank(grade text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT array_position('{A+,A,A-,B+,B,B-,C+,C,C-,D,F}'::text[], grade)::smallint $$;

COMMENT ON FUNCTION student_grade_rank(text) IS
    'Position of a grade in best-first order (A+ = 1, F = 11); the order of sort=grade.';

-- sort=name orders as people read names (ICU root collation: case and accents next to their
-- letters), not by byte value, whatever the database's own locale is.
CREATE INDEX students_name_order ON students ((name COLLATE "und-x-icu"), id);
CREATE INDEX students_grade_order ON students (student_grade_rank(grade), id);
CREATE INDEX students_created_at_order ON students (created_at, id);
CREATE INDEX students_updated_at_order ON students (updated_at, id);

CREATE INDEX students_name_trigrams ON students USING gin (name gin_trgm_ops);
CREATE INDEX students_email_trigrams ON students USING gin (email gin_trgm_ops);
