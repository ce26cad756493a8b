from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_attempt_page import WebhookAttemptPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: int,
    *,
    limit: int | Unset = 20,
    before: int | Unset = UNSET,
    event_id: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["before"] = before

    params["event_id"] = event_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/webhooks/{id}/attempts".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookAttemptPage | None:
    if response.status_code == 200:
        response_200 = WebhookAttemptPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[Problem | WebhookAttemptPage]:
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
    limit: int | Unset = 20,
    before: int | Unset = UNSET,
    event_id: str | Unset = UNSET,
) -> Response[Problem | WebhookAttemptPage]:
    """List a webhook endpoint's delivery attempts

     The delivery log, newest first: every attempt's time, status, latency and the
    answer's first 1 KiB, kept as long as the changes (`CHANGE_RETENTION`, 7 days by
    default). Follow `next_before` for older attempts.

    Args:
        id (int):
        limit (int | Unset):  Default: 20.
        before (int | Unset):
        event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookAttemptPage]
    """

    kwargs = _get_kwargs(
        id=id,
        limit=limit,
        before=before,
        event_id=event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    before: int | Unset = UNSET,
    event_id: str | Unset = UNSET,
) -> Problem | WebhookAttemptPage | None:
    """List a webhook endpoint's delivery attempts

     The delivery log, newest first: every attempt's time, status, latency and the
    answer's first 1 KiB, kept as long as the changes (`CHANGE_RETENTION`, 7 days by
    default). Follow `next_before` for older attempts.

    Args:
        id (int):
        limit (int | Unset):  Default: 20.
        before (int | Unset):
        event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookAttemptPage
    """

    return sync_detailed(
        id=id,
        client=client,
        limit=limit,
        before=before,
        event_id=event_id,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    before: int | Unset = UNSET,
    event_id: str | Unset = UNSET,
) -> Response[Problem | WebhookAttemptPage]:
    """List a webhook endpoint's delivery attempts

     The delivery log, newest first: every attempt's time, status, latency and the
    answer's first 1 KiB, kept as long as the changes (`CHANGE_RETENTION`, 7 days by
    default). Follow `next_before` for older attempts.

    Args:
        id (int):
        limit (int | Unset):  Default: 20.
        before (int | Unset):
        event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookAttemptPage]
    """

    kwargs = _get_kwargs(
        id=id,
        limit=limit,
        before=before,
        event_id=event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    before: int | Unset = UNSET,
    event_id: str | Unset = UNSET,
) -> Problem | WebhookAttemptPage | None:
    """List a webhook endpoint's delivery attempts

     The delivery log, newest first: every attempt's time, status, latency and the
    answer's first 1 KiB, kept as long as the changes (`CHANGE_RETENTION`, 7 days by
    default). Follow `next_before` for older attempts.

    Args:
        id (int):
        limit (int | Unset):  Default: 20.
        before (int | Unset):
        event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookAttemptPage
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            limit=limit,
            before=before,
            event_id=event_id,
        )
    ).parsed
