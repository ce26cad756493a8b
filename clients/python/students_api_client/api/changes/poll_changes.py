from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change_page import ChangePage
from ...models.grade import Grade
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: str | Unset = UNSET,
    wait: int | Unset = 30,
    limit: int | Unset = 20,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["wait"] = wait

    params["limit"] = limit

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
        "url": "/api/students/changes/poll",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ChangePage | Problem | None:
    if response.status_code == 200:
        response_200 = ChangePage.from_dict(response.json())

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
) -> Response[ChangePage | Problem]:
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
    wait: int | Unset = 30,
    limit: int | Unset = 20,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
) -> Response[ChangePage | Problem]:
    """Poll for changes (JSON)

     The change feed for clients without server-sent events: the changes after `after`
    (positions as in `streamChanges`), answered as soon as there is at least one, or empty
    after `wait` seconds. Pass `next` as `after` to the next call: it covers every change
    returned or filtered out, so a loop of polls sees every change once, in order. A poll
    whose token is revoked or expires while it waits answers `401` at once.

    Args:
        after (str | Unset):
        wait (int | Unset):  Default: 30.
        limit (int | Unset):  Default: 20.
        grade (list[Grade] | Unset):
        student_id (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePage | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        wait=wait,
        limit=limit,
        grade=grade,
        student_id=student_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    wait: int | Unset = 30,
    limit: int | Unset = 20,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
) -> ChangePage | Problem | None:
    """Poll for changes (JSON)

     The change feed for clients without server-sent events: the changes after `after`
    (positions as in `streamChanges`), answered as soon as there is at least one, or empty
    after `wait` seconds. Pass `next` as `after` to the next call: it covers every change
    returned or filtered out, so a loop of polls sees every change once, in order. A poll
    whose token is revoked or expires while it waits answers `401` at once.

    Args:
        after (str | Unset):
        wait (int | Unset):  Default: 30.
        limit (int | Unset):  Default: 20.
        grade (list[Grade] | Unset):
        student_id (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePage | Problem
    """

    return sync_detailed(
        client=client,
        after=after,
        wait=wait,
        limit=limit,
        grade=grade,
        student_id=student_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    wait: int | Unset = 30,
    limit: int | Unset = 20,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
) -> Response[ChangePage | Problem]:
    """Poll for changes (JSON)

     The change feed for clients without server-sent events: the changes after `after`
    (positions as in `streamChanges`), answered as soon as there is at least one, or empty
    after `wait` seconds. Pass `next` as `after` to the next call: it covers every change
    returned or filtered out, so a loop of polls sees every change once, in order. A poll
    whose token is revoked or expires while it waits answers `401` at once.

    Args:
        after (str | Unset):
        wait (int | Unset):  Default: 30.
        limit (int | Unset):  Default: 20.
        grade (list[Grade] | Unset):
        student_id (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChangePage | Problem]
    """

    kwargs = _get_kwargs(
        after=after,
        wait=wait,
        limit=limit,
        grade=grade,
        student_id=student_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    wait: int | Unset = 30,
    limit: int | Unset = 20,
    grade: list[Grade] | Unset = UNSET,
    student_id: int | Unset = UNSET,
) -> ChangePage | Problem | None:
    """Poll for changes (JSON)

     The change feed for clients without server-sent events: the changes after `after`
    (positions as in `streamChanges`), answered as soon as there is at least one, or empty
    after `wait` seconds. Pass `next` as `after` to the next call: it covers every change
    returned or filtered out, so a loop of polls sees every change once, in order. A poll
    whose token is revoked or expires while it waits answers `401` at once.

    Args:
        after (str | Unset):
        wait (int | Unset):  Default: 30.
        limit (int | Unset):  Default: 20.
        grade (list[Grade] | Unset):
        student_id (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChangePage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            wait=wait,
            limit=limit,
            grade=grade,
            student_id=student_id,
        )
    ).parsed
