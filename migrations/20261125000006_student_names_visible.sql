-- Names that show nothing, or that hide formatting (issue 12): the table refuses what
-- StudentName::STORED_PATTERN (src/domain/student.rs) refuses, character for character: the
-- published pattern plus the few such characters beyond the BMP (\UXXXXXXXX escapes, which
-- JavaScript cannot read in a class but PostgreSQL, Rust and Python do).
--
-- Refused anywhere: control characters, and invisible formatting characters (bidi embeddings,
-- overrides and isolates, zero-width space, word joiner, byte-order mark, soft hyphen, ...).
-- Required: one character that shows something (not white space, a Hangul filler, the blank
-- Braille pattern, a zero-width joiner or a combining mark alone).
ALTER TABLE students ADD CONSTRAINT students_name_visible CHECK (
    name ~ '^[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*[^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u115F\u1160\u3164\uFFA0\u2800\u200C\u200D\u17B4\u17B5\u180B-\u180D\u180F\u0300-\u036F\u0483-\u0489\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE00-\uFE0F\uFE20-\uFE2F\U00016FE4\U000E0020-\U000E007F\U000E0100-\U000E01EF][^\x00-\x1F\x7F-\x9F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001]*$'
) NOT VALID;

-- As in migration 5: validated where the rows allow, else left NOT VALID with a warning (the
-- service logs it at every start until the rows are fixed; migrations/README.md says how).
DO $$
BEGIN
    ALTER TABLE students VALIDATE CONSTRAINT students_name_visible;
EXCEPTION WHEN check_violation THEN
    RAISE WARNING 'rows written before migration 6 break students_name_visible; fix them, then run: ALTER TABLE students VALIDATE CONSTRAINT students_name_visible';
END
$$;

COMMENT ON CONSTRAINT students_name_visible ON students IS
    'StudentName::STORED_PATTERN in src/domain/student.rs: something visible, no control or invisible formatting characters.';
COMMENT ON COLUMN students.name IS
    'Full name, trimmed, 1-100 characters, at least one visible; no control or invisible formatting characters.';
