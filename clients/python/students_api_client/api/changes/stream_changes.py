from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.grade import Grade
from ...models.problem import Problem
from ...models.student_change import StudentChange
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: str | Unset = UNSET,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    params["after"] = after

    json_grade: list[str] | Unset = UNSET
    if not isinstance(grade, Unset):
        json_grade = []
        for grade_item_data in grade:
            grade_item = grade_item_data.value
            json_grade.append(grade_item)

    params["grade"] = json_grade

    params["student_id"] = student_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/students/changes",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[StudentChange] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.text
        for response_200_item_data in _response_200:
            response_200_item = StudentChange.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

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
) -> Response[Problem | list[StudentChange]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | list[StudentChange]]:
    """Follow changes (server-sent events)

     Every create, update and delete of a student after a position, in order, then live, as
    `text/event-stream`: each event has `id:` (its position), `event:` (`created`,
    `updated` or `deleted`) and `data:` (a `StudentChange` as JSON). Changes made outside
    the API (in psql) are included, named by their database role. (Swagger UI's "Try it out"
    waits for the end of the answer, which a live stream never sends: try `pollChanges`
    there, or `curl -N`.)

    Where to start: `Last-Event-ID` (what a reconnecting `EventSource` sends) wins over
    `after`; `after=now` starts with the next change; with neither, the stream starts with
    the oldest change kept (`CHANGE_RETENTION`, default 7 days). A position older than that
    is a `410`. To resync: take the feed's position first (`pollChanges` with `after=now`
    and `wait=0`: its `next`), then read the students with `listStudents`, then follow from
    that position (changes made while you listed come again; their `version` tells).

    The order: each student's changes in the order they happened; a change waits until every
    older transaction has finished, so a transaction left open holds back the changes after
    it. The position comes first as an `id:` line without an event, and again with a
    comment every 15 s while nothing happens, so a reconnecting client resumes from where it
    was even before its first change. A client that reads too slowly to keep up is
    disconnected; it resumes from its last id. A stream outlives no token: when the one it
    was opened with is revoked or expires, it ends within a second (on every instance) with
    a comment saying why, and reconnecting with that token is a `401`.

    Args:
        after (str | Unset):
        grade (list[Grade] | Unset):
        student_id (int | Unset):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[StudentChange]]
    """

    kwargs = _get_kwargs(
        after=after,
        grade=grade,
        student_id=student_id,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
    last_event_id: str | Unset = UNSET,
) -> Problem | list[StudentChange] | None:
    """Follow changes (server-sent events)

     Every create, update and delete of a student after a position, in order, then live, as
    `text/event-stream`: each event has `id:` (its position), `event:` (`created`,
    `updated` or `deleted`) and `data:` (a `StudentChange` as JSON). Changes made outside
    the API (in psql) are included, named by their database role. (Swagger UI's "Try it out"
    waits for the end of the answer, which a live stream never sends: try `pollChanges`
    there, or `curl -N`.)

    Where to start: `Last-Event-ID` (what a reconnecting `EventSource` sends) wins over
    `after`; `after=now` starts with the next change; with neither, the stream starts with
    the oldest change kept (`CHANGE_RETENTION`, default 7 days). A position older than that
    is a `410`. To resync: take the feed's position first (`pollChanges` with `after=now`
    and `wait=0`: its `next`), then read the students with `listStudents`, then follow from
    that position (changes made while you listed come again; their `version` tells).

    The order: each student's changes in the order they happened; a change waits until every
    older transaction has finished, so a transaction left open holds back the changes after
    it. The position comes first as an `id:` line without an event, and again with a
    comment every 15 s while nothing happens, so a reconnecting client resumes from where it
    was even before its first change. A client that reads too slowly to keep up is
    disconnected; it resumes from its last id. A stream outlives no token: when the one it
    was opened with is revoked or expires, it ends within a second (on every instance) with
    a comment saying why, and reconnecting with that token is a `401`.

    Args:
        after (str | Unset):
        grade (list[Grade] | Unset):
        student_id (int | Unset):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[StudentChange]
    """

    return sync_detailed(
        client=client,
        after=after,
        grade=grade,
        student_id=student_id,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | list[StudentChange]]:
    """Follow changes (server-sent events)

     Every create, update and delete of a student after a position, in order, then live, as
    `text/event-stream`: each event has `id:` (its position), `event:` (`created`,
    `updated` or `deleted`) and `data:` (a `StudentChange` as JSON). Changes made outside
    the API (in psql) are included, named by their database role. (Swagger UI's "Try it out"
    waits for the end of the answer, which a live stream never sends: try `pollChanges`
    there, or `curl -N`.)

    Where to start: `Last-Event-ID` (what a reconnecting `EventSource` sends) wins over
    `after`; `after=now` starts with the next change; with neither, the stream starts with
    the oldest change kept (`CHANGE_RETENTION`, default 7 days). A position older than that
    is a `410`. To resync: take the feed's position first (`pollChanges` with `after=now`
    and `wait=0`: its `next`), then read the students with `listStudents`, then follow from
    that position (changes made while you listed come again; their `version` tells).

    The order: each student's changes in the order they happened; a change waits until every
    older transaction has finished, so a transaction left open holds back the changes after
    it. The position comes first as an `id:` line without an event, and again with a
    comment every 15 s while nothing happens, so a reconnecting client resumes from where it
    was even before its first change. A client that reads too slowly to keep up is
    disconnected; it resumes from its last id. A stream outlives no token: when the one it
    was opened with is revoked or expires, it ends within a second (on every instance) with
    a comment saying why, and reconnecting with that token is a `401`.

    Args:
        after (str | Unset):
        grade (list[Grade] | Unset):
        student_id (int | Unset):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[StudentChange]]
    """

    kwargs = _get_kwargs(
        after=after,
        grade=grade,
        student_id=student_id,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
    last_event_id: str | Unset = UNSET,
) -> Problem | list[StudentChange] | None:
    """Follow changes (server-sent events)

     Every create, update and delete of a student after a position, in order, then live, as
    `text/event-stream`: each event has `id:` (its position), `event:` (`created`,
    `updated` or `deleted`) and `data:` (a `StudentChange` as JSON). Changes made outside
    the API (in psql) are included, named by their database role. (Swagger UI's "Try it out"
    waits for the end of the answer, which a live stream never sends: try `pollChanges`
    there, or `curl -N`.)

    Where to start: `Last-Event-ID` (what a reconnecting `EventSource` sends) wins over
    `after`; `after=now` starts with the next change; with neither, the stream starts with
    the oldest change kept (`CHANGE_RETENTION`, default 7 days). A position older than that
    is a `410`. To resync: take the feed's position first (`pollChanges` with `after=now`
    and `wait=0`: its `next`), then read the students with `listStudents`, then follow from
    that position (changes made while you listed come again; their `version` tells).

    The order: each student's changes in the order they happened; a change waits until every
    older transaction has finished, so a transaction left open holds back the changes after
    it. The position comes first as an `id:` line without an event, and again with a
    comment every 15 s while nothing happens, so a reconnecting client resumes from where it
    was even before its first change. A client that reads too slowly to keep up is
    disconnected; it resumes from its last id. A stream outlives no token: when the one it
    was opened with is revoked or expires, it ends within a second (on every instance) with
    a comment saying why, and reconnecting with that token is a `401`.

    Args:
        after (str | Unset):
        grade (list[Grade] | Unset):
        student_id (int | Unset):
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[StudentChange]
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            grade=grade,
            student_id=student_id,
            last_event_id=last_event_id,
        )
    ).parsed
