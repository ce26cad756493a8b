from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.student import Student
from ...models.student_restore import StudentRestore
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: int,
    *,
    body: StudentRestore,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/students/{id}/restore".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Student | None:
    if response.status_code == 200:
        response_200 = Student.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = Student.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Student]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    body: StudentRestore,
    if_match: str | Unset = UNSET,
) -> Response[Problem | Student]:
    """Restore a student to an earlier version

     Gives the student the name, grade and e-mail it had at `version` (one of its history's
    versions, `getStudentHistory`), as a change of its own: the history and the feed record
    it, with `restored_from`. A student that exists is updated (`200`); one that was deleted
    is created again with its id and its first `created_at` (`201`), its version going on
    from its last. This is how a delete is undone. `409` when its e-mail address has since
    been given to another student (nothing changes); `422` naming `version` when the history
    has no such version (changes are kept for the change retention); `404` when no student
    of this id ever was (or its history is gone).

    Args:
        id (int):
        if_match (str | Unset):
        body (StudentRestore): Which version of a student to bring back, from its history.
            Example: {'version': 2}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Student]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
    body: StudentRestore,
    if_match: str | Unset = UNSET,
) -> Problem | Student | None:
    """Restore a student to an earlier version

     Gives the student the name, grade and e-mail it had at `version` (one of its history's
    versions, `getStudentHistory`), as a change of its own: the history and the feed record
    it, with `restored_from`. A student that exists is updated (`200`); one that was deleted
    is created again with its id and its first `created_at` (`201`), its version going on
    from its last. This is how a delete is undone. `409` when its e-mail address has since
    been given to another student (nothing changes); `422` naming `version` when the history
    has no such version (changes are kept for the change retention); `404` when no student
    of this id ever was (or its history is gone).

    Args:
        id (int):
        if_match (str | Unset):
        body (StudentRestore): Which version of a student to bring back, from its history.
            Example: {'version': 2}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Student
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    body: StudentRestore,
    if_match: str | Unset = UNSET,
) -> Response[Problem | Student]:
    """Restore a student to an earlier version

     Gives the student the name, grade and e-mail it had at `version` (one of its history's
    versions, `getStudentHistory`), as a change of its own: the history and the feed record
    it, with `restored_from`. A student that exists is updated (`200`); one that was deleted
    is created again with its id and its first `created_at` (`201`), its version going on
    from its last. This is how a delete is undone. `409` when its e-mail address has since
    been given to another student (nothing changes); `422` naming `version` when the history
    has no such version (changes are kept for the change retention); `404` when no student
    of this id ever was (or its history is gone).

    Args:
        id (int):
        if_match (str | Unset):
        body (StudentRestore): Which version of a student to bring back, from its history.
            Example: {'version': 2}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Student]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    body: StudentRestore,
    if_match: str | Unset = UNSET,
) -> Problem | Student | None:
    """Restore a student to an earlier version

     Gives the student the name, grade and e-mail it had at `version` (one of its history's
    versions, `getStudentHistory`), as a change of its own: the history and the feed record
    it, with `restored_from`. A student that exists is updated (`200`); one that was deleted
    is created again with its id and its first `created_at` (`201`), its version going on
    from its last. This is how a delete is undone. `409` when its e-mail address has since
    been given to another student (nothing changes); `422` naming `version` when the history
    has no such version (changes are kept for the change retention); `404` when no student
    of this id ever was (or its history is gone).

    Args:
        id (int):
        if_match (str | Unset):
        body (StudentRestore): Which version of a student to bring back, from its history.
            Example: {'version': 2}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Student
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
