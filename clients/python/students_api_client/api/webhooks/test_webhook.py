from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_attempt import WebhookAttempt
from ...types import Response


def _get_kwargs(
    id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/webhooks/{id}/test".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookAttempt | None:
    if response.status_code == 200:
        response_200 = WebhookAttempt.from_dict(response.json())

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
) -> Response[Problem | WebhookAttempt]:
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
) -> Response[Problem | WebhookAttempt]:
    """Send a test event

     POSTs `{"type": "webhook.test", …}` to the endpoint now, signed like every delivery
    (`webhook-id` starts with `test_`), and answers how the receiver answered, within 8
    seconds (a receiver slower than that is a failed attempt here). Logged
    with the attempts; never retried; it does not count towards the endpoint's health.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookAttempt]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Problem | WebhookAttempt | None:
    """Send a test event

     POSTs `{"type": "webhook.test", …}` to the endpoint now, signed like every delivery
    (`webhook-id` starts with `test_`), and answers how the receiver answered, within 8
    seconds (a receiver slower than that is a failed attempt here). Logged
    with the attempts; never retried; it does not count towards the endpoint's health.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookAttempt
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Problem | WebhookAttempt]:
    """Send a test event

     POSTs `{"type": "webhook.test", …}` to the endpoint now, signed like every delivery
    (`webhook-id` starts with `test_`), and answers how the receiver answered, within 8
    seconds (a receiver slower than that is a failed attempt here). Logged
    with the attempts; never retried; it does not count towards the endpoint's health.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookAttempt]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
) -> Problem | WebhookAttempt | None:
    """Send a test event

     POSTs `{"type": "webhook.test", …}` to the endpoint now, signed like every delivery
    (`webhook-id` starts with `test_`), and answers how the receiver answered, within 8
    seconds (a receiver slower than that is a failed attempt here). Logged
    with the attempts; never retried; it does not count towards the endpoint's health.

    Args:
        id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookAttempt
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
