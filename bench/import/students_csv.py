#!/usr/bin/env python3
"""Writes the import benchmark's CSV files: `--rows` valid students, and optionally the same
file with one bad row (grade `E`) at `--bad-row`.

    bench/import/students_csv.py --rows 1000000 --out students.csv \
        --bad-row 999990 --bad-out students-bad-row.csv

Header `name,grade,email`, `\\n` line ends, RFC 4180 quoting (Python's csv module: only the
fields that need it). Deterministic (a fixed seed), so every run imports the same bytes:

- names: a first and a last name from lists that mix ASCII and non-ASCII (Émile, Zoë, Łukasz,
  Nguyễn, 李, Dvořák, Ólafsdóttir, …); about 1 in 5 has a middle initial, about 1 in 100 a
  ", Jr." suffix (a quoted field) and about 1 in 500 a nickname in double quotes (escaped
  quotes). All are valid `StudentName`s: 1–100 characters, trimmed, visible.
- grades: all 11, weighted towards the middle of the scale.
- e-mail: every 10th row (row % 10 == 7) has none (an empty field: NULL for COPY, "no
  address" for the API); the others are unique, lower-case ASCII (`first.last.<row>@domain`).
"""

import argparse
import csv
import random
import unicodedata

FIRST = [
    "Ada", "Adam", "Adaeze", "Alan", "Barbara", "Björn", "Chloé", "Dmitri", "Edsger", "Émile",
    "Emma", "François", "Grace", "Hiro", "Inês", "José", "Kofi", "Lena", "Łukasz", "Mei",
    "Noah", "Nguyễn", "Olga", "Priya", "Ravi", "Søren", "Tomás", "Yusuf", "Zoë", "Zeynep",
    "李", "Ζωή", "Аня", "Oluwaseun", "Mateo", "Sofía", "Anaïs", "Jürgen", "Ngozi", "Aarav",
]
LAST = [
    "Lovelace", "Noether", "Hopper", "Turing", "Liskov", "Dijkstra", "Zola", "Okafor", "Wang",
    "Iyer", "Petrova", "García", "Demir", "Lopez", "Sato", "Berg", "Nakamura", "Smith", "Jones",
    "Kowalski", "Müller", "Dvořák", "Ólafsdóttir", "Şahin", "O'Brien", "Østergaard", "Nguyễn",
    "王", "Παπαδόπουλος", "Иванова", "van der Berg", "Fernández", "Kim", "Haddad", "Mensah",
    "Costa", "Novák", "Lindqvist", "Rossi", "Adeyemi",
]
GRADES = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"]
GRADE_WEIGHTS = [3, 6, 8, 10, 12, 12, 11, 10, 9, 7, 5]
DOMAINS = ["example.com", "example.org", "school.example.edu", "mail.example.net"]


def ascii_part(text):
    """The ASCII letters of `text` (accents dropped), lower case: an e-mail local part."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def rows(count, seed=20261126):
    rng = random.Random(seed)
    first_ascii = [ascii_part(n) or "student" for n in FIRST]
    last_ascii = [ascii_part(n) or "x" for n in LAST]
    grades = rng.choices(GRADES, weights=GRADE_WEIGHTS, k=count)
    for row in range(1, count + 1):
        f, l = rng.randrange(len(FIRST)), rng.randrange(len(LAST))
        name = FIRST[f]
        roll = rng.random()
        if roll < 0.2:
            name += " " + chr(ord("A") + rng.randrange(26)) + "."
        elif roll < 0.202:
            name += ' "' + FIRST[rng.randrange(len(FIRST))] + '"'
        name += " " + LAST[l]
        if rng.random() < 0.01:
            name += ", Jr."
        email = "" if row % 10 == 7 else f"{first_ascii[f]}.{last_ascii[l]}.{row}@{DOMAINS[row % len(DOMAINS)]}"
        yield [name, grades[row - 1], email]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", required=True, help="the valid file")
    parser.add_argument("--bad-row", type=int, help="the row (counted from 1, the header aside) given grade E in --bad-out")
    parser.add_argument("--bad-out", help="the file with the bad row")
    args = parser.parse_args()
    if (args.bad_row is None) != (args.bad_out is None):
        parser.error("--bad-row and --bad-out go together")
    if args.bad_row is not None and not 1 <= args.bad_row <= args.rows:
        parser.error("--bad-row must be one of the rows")
    outputs = [open(args.out, "w", encoding="utf-8", newline="")]
    if args.bad_out:
        outputs.append(open(args.bad_out, "w", encoding="utf-8", newline=""))
    writers = [csv.writer(out, lineterminator="\n") for out in outputs]
    for writer in writers:
        writer.writerow(["name", "grade", "email"])
    for row, record in enumerate(rows(args.rows), start=1):
        writers[0].writerow(record)
        if len(writers) > 1:
            writers[1].writerow([record[0], "E", record[2]] if row == args.bad_row else record)
    for out in outputs:
        out.close()


if __name__ == "__main__":
    main()
