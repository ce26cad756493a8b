"""import_students: create a student of every row of a CSV or NDJSON file (`importStudents`).

Written by hand (clients/python/handwritten/imports.py; scripts/generate copies it into the
package). The operation takes two media types, told apart by the `Content-Type`, and the
generated `api.students.import_students` sends every file as `application/x-ndjson`; this sends
the type of the format you name, and returns the report or raises `ImportFailed` with the
problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Literal

import httpx

from .client import AuthenticatedClient, Client
from .models.field_error import FieldError
from .models.import_report import ImportReport
from .models.on_error import OnError
from .models.problem import Problem
from .types import File

_CONTENT_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson"}


class ImportFailed(Exception):
    """The server refused the import: `status` 422 with a `problem` of type
    `urn:students-api:problem:invalid-rows` when rows break the rules (its `errors` name each
    row and field, `/rows/2/grade`, with the file's `line`; nothing was written), or another
    refusal (401/403 the token, 409 an `Idempotency-Key` in use, 413 too big, 503 busy)."""

    def __init__(self, status: int, problem: Problem | None):
        self.status = status
        self.problem = problem
        detail = problem.detail if problem else "no problem details"
        super().__init__(f"{status}: {detail}")

    @property
    def errors(self) -> list[FieldError]:
        """The problem's field errors (for `invalid-rows`: one per bad row and field)."""
        return list(self.problem.errors) if self.problem else []


def import_students(
    client: AuthenticatedClient | Client,
    file: bytes | str | IO[bytes] | Iterable[bytes] | File,
    *,
    format: Literal["csv", "ndjson"] = "csv",
    dry_run: bool = False,
    on_error: OnError | Literal["reject", "skip"] = OnError.REJECT,
    idempotency_key: str | None = None,
    timeout: float = 600.0,
) -> ImportReport:
    """Imports `file` (CSV with a header row `name,grade,email`, or NDJSON: one
    `{"name", "grade", "email"}` object a line) and returns the report: `created` students, or
    with `dry_run=True` what an import would do, writing nothing. `on_error="skip"` writes the
    valid rows and lists the others in the report's `errors`; by default (`"reject"`) one bad
    row writes nothing and raises `ImportFailed` (422). A file object or an iterator of bytes
    is streamed as it is read. `timeout` (seconds) replaces the client's for this request:
    a big file takes a while."""
    if format not in _CONTENT_TYPES:
        raise ValueError(f"format must be 'csv' or 'ndjson', not {format!r}")
    content = file.payload if isinstance(file, File) else file
    headers = {"Content-Type": _CONTENT_TYPES[format]}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    params = {"on_error": OnError(on_error).value}
    if dry_run:
        params["dry_run"] = "true"
    response = client.get_httpx_client().request(
        "POST",
        "/api/students/import",
        params=params,
        headers=headers,
        content=content,
        timeout=httpx.Timeout(timeout),
    )
    if response.status_code in (200, 201):
        return ImportReport.from_dict(response.json())
    problem = None
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        problem = Problem.from_dict(response.json())
    raise ImportFailed(response.status_code, problem)
