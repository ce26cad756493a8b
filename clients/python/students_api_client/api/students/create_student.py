from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.student import Student
from ...models.student_create import StudentCreate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: StudentCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/students",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Student | None:
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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Student]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: StudentCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Student]:
    """Create a student

     Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    the stored student and its URL in `Location`. Every invalid field is reported at once.

    Args:
        idempotency_key (str | Unset):
        body (StudentCreate): Fields of a new student. Unknown fields, and `id` or timestamps, are
            refused with 422. Example: {'name': 'Ada Lovelace', 'grade': 'A-', 'email':
            'ada@example.com'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Student]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: StudentCreate,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Student | None:
    """Create a student

     Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    the stored student and its URL in `Location`. Every invalid field is reported at once.

    Args:
        idempotency_key (str | Unset):
        body (StudentCreate): Fields of a new student. Unknown fields, and `id` or timestamps, are
            refused with 422. Example: {'name': 'Ada Lovelace', 'grade': 'A-', 'email':
            'ada@example.com'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Student
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: StudentCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | Student]:
    """Create a student

     Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    the stored student and its URL in `Location`. Every invalid field is reported at once.

    Args:
        idempotency_key (str | Unset):
        body (StudentCreate): Fields of a new student. Unknown fields, and `id` or timestamps, are
            refused with 422. Example: {'name': 'Ada Lovelace', 'grade': 'A-', 'email':
            'ada@example.com'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Student]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: StudentCreate,
    idempotency_key: str | Unset = UNSET,
) -> Problem | Student | None:
    """Create a student

     Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    the stored student and its URL in `Location`. Every invalid field is reported at once.

    Args:
        idempotency_key (str | Unset):
        body (StudentCreate): Fields of a new student. Unknown fields, and `id` or timestamps, are
            refused with 422. Example: {'name': 'Ada Lovelace', 'grade': 'A-', 'email':
            'ada@example.com'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Student
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
