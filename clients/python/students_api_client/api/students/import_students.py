from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.import_report import ImportReport
from ...models.on_error import OnError
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File | File | Unset = UNSET,
    dry_run: bool | Unset = UNSET,
    on_error: OnError | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    params: dict[str, Any] = {}

    params["dry_run"] = dry_run

    json_on_error: str | Unset = UNSET
    if not isinstance(on_error, Unset):
        json_on_error = on_error.value

    params["on_error"] = json_on_error

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/students/import",
        "params": params,
    }

    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "text/csv"
    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/x-ndjson"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ImportReport | Problem | None:
    if response.status_code == 200:
        response_200 = ImportReport.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = ImportReport.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ImportReport | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File | File | Unset = UNSET,
    dry_run: bool | Unset = UNSET,
    on_error: OnError | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[ImportReport | Problem]:
    """Import students

     Creates a student of every row of a CSV or NDJSON file, by exactly the rules of
    `createStudent`; an e-mail address used twice in the file, or by a student, is an error
    too. The file is streamed: it is read as it arrives, up to `IMPORT_MAX_BYTES` (default
    100 MiB), never held whole. CSV: a header row naming the columns (`name`, `grade`,
    `email`; an export's `id`, `created_at` and `updated_at` are read past), RFC 4180
    quoting, an empty `email` for none, and a leading `'` the export put before `=`, `+`,
    `-` or `@` dropped again, so an export imports as it is. NDJSON: one `StudentCreate`
    object a line (an export's lines too).

    All or nothing: when any row breaks a rule nothing is written, and the answer is a
    `422` `invalid-rows` problem naming every bad row and field (`/rows/17/email`, rows
    counted from 1, with the file's `line`), the first 1,000, with the totals in `detail`.
    `on_error=skip` writes the valid rows instead and lists the others in the report.
    `dry_run=true` checks everything and writes nothing (`200`). Imported students appear
    in the change feed, one `created` event each, made by the importing token. An import
    holds one of the connections set aside for expensive work (`503` `busy` when none is
    free).

    Args:
        dry_run (bool | Unset):
        on_error (OnError | Unset): What to do with rows that break a rule.
        idempotency_key (str | Unset):
        body (File):  Example: name,grade,email
            Ada Lovelace,A-,ada@example.com
            Alan Turing,B+,
            .
        body (File):  Example: {"name": "Ada Lovelace", "grade": "A-", "email": "ada@example.com"}
            .

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportReport | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        dry_run=dry_run,
        on_error=on_error,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: File | File | Unset = UNSET,
    dry_run: bool | Unset = UNSET,
    on_error: OnError | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> ImportReport | Problem | None:
    """Import students

     Creates a student of every row of a CSV or NDJSON file, by exactly the rules of
    `createStudent`; an e-mail address used twice in the file, or by a student, is an error
    too. The file is streamed: it is read as it arrives, up to `IMPORT_MAX_BYTES` (default
    100 MiB), never held whole. CSV: a header row naming the columns (`name`, `grade`,
    `email`; an export's `id`, `created_at` and `updated_at` are read past), RFC 4180
    quoting, an empty `email` for none, and a leading `'` the export put before `=`, `+`,
    `-` or `@` dropped again, so an export imports as it is. NDJSON: one `StudentCreate`
    object a line (an export's lines too).

    All or nothing: when any row breaks a rule nothing is written, and the answer is a
    `422` `invalid-rows` problem naming every bad row and field (`/rows/17/email`, rows
    counted from 1, with the file's `line`), the first 1,000, with the totals in `detail`.
    `on_error=skip` writes the valid rows instead and lists the others in the report.
    `dry_run=true` checks everything and writes nothing (`200`). Imported students appear
    in the change feed, one `created` event each, made by the importing token. An import
    holds one of the connections set aside for expensive work (`503` `busy` when none is
    free).

    Args:
        dry_run (bool | Unset):
        on_error (OnError | Unset): What to do with rows that break a rule.
        idempotency_key (str | Unset):
        body (File):  Example: name,grade,email
            Ada Lovelace,A-,ada@example.com
            Alan Turing,B+,
            .
        body (File):  Example: {"name": "Ada Lovelace", "grade": "A-", "email": "ada@example.com"}
            .

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportReport | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        dry_run=dry_run,
        on_error=on_error,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File | File | Unset = UNSET,
    dry_run: bool | Unset = UNSET,
    on_error: OnError | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[ImportReport | Problem]:
    """Import students

     Creates a student of every row of a CSV or NDJSON file, by exactly the rules of
    `createStudent`; an e-mail address used twice in the file, or by a student, is an error
    too. The file is streamed: it is read as it arrives, up to `IMPORT_MAX_BYTES` (default
    100 MiB), never held whole. CSV: a header row naming the columns (`name`, `grade`,
    `email`; an export's `id`, `created_at` and `updated_at` are read past), RFC 4180
    quoting, an empty `email` for none, and a leading `'` the export put before `=`, `+`,
    `-` or `@` dropped again, so an export imports as it is. NDJSON: one `StudentCreate`
    object a line (an export's lines too).

    All or nothing: when any row breaks a rule nothing is written, and the answer is a
    `422` `invalid-rows` problem naming every bad row and field (`/rows/17/email`, rows
    counted from 1, with the file's `line`), the first 1,000, with the totals in `detail`.
    `on_error=skip` writes the valid rows instead and lists the others in the report.
    `dry_run=true` checks everything and writes nothing (`200`). Imported students appear
    in the change feed, one `created` event each, made by the importing token. An import
    holds one of the connections set aside for expensive work (`503` `busy` when none is
    free).

    Args:
        dry_run (bool | Unset):
        on_error (OnError | Unset): What to do with rows that break a rule.
        idempotency_key (str | Unset):
        body (File):  Example: name,grade,email
            Ada Lovelace,A-,ada@example.com
            Alan Turing,B+,
            .
        body (File):  Example: {"name": "Ada Lovelace", "grade": "A-", "email": "ada@example.com"}
            .

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportReport | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        dry_run=dry_run,
        on_error=on_error,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File | File | Unset = UNSET,
    dry_run: bool | Unset = UNSET,
    on_error: OnError | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> ImportReport | Problem | None:
    """Import students

     Creates a student of every row of a CSV or NDJSON file, by exactly the rules of
    `createStudent`; an e-mail address used twice in the file, or by a student, is an error
    too. The file is streamed: it is read as it arrives, up to `IMPORT_MAX_BYTES` (default
    100 MiB), never held whole. CSV: a header row naming the columns (`name`, `grade`,
    `email`; an export's `id`, `created_at` and `updated_at` are read past), RFC 4180
    quoting, an empty `email` for none, and a leading `'` the export put before `=`, `+`,
    `-` or `@` dropped again, so an export imports as it is. NDJSON: one `StudentCreate`
    object a line (an export's lines too).

    All or nothing: when any row breaks a rule nothing is written, and the answer is a
    `422` `invalid-rows` problem naming every bad row and field (`/rows/17/email`, rows
    counted from 1, with the file's `line`), the first 1,000, with the totals in `detail`.
    `on_error=skip` writes the valid rows instead and lists the others in the report.
    `dry_run=true` checks everything and writes nothing (`200`). Imported students appear
    in the change feed, one `created` event each, made by the importing token. An import
    holds one of the connections set aside for expensive work (`503` `busy` when none is
    free).

    Args:
        dry_run (bool | Unset):
        on_error (OnError | Unset): What to do with rows that break a rule.
        idempotency_key (str | Unset):
        body (File):  Example: name,grade,email
            Ada Lovelace,A-,ada@example.com
            Alan Turing,B+,
            .
        body (File):  Example: {"name": "Ada Lovelace", "grade": "A-", "email": "ada@example.com"}
            .

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportReport | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            dry_run=dry_run,
            on_error=on_error,
            idempotency_key=idempotency_key,
        )
    ).parsed
