from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.webhook_replay import WebhookReplay
from ...models.webhook_replayed import WebhookReplayed
from ...types import Response


def _get_kwargs(
    id: int,
    *,
    body: WebhookReplay,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/webhooks/{id}/replay".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WebhookReplayed | None:
    if response.status_code == 202:
        response_202 = WebhookReplayed.from_dict(response.json())

        return response_202

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
) -> Response[Problem | WebhookReplayed]:
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
    body: WebhookReplay,
) -> Response[Problem | WebhookReplayed]:
    """Replay webhook events

     Sends again one event (`event_id`), or every event the endpoint gets since a time
    (`since`), as far back as the changes are kept (`CHANGE_RETENTION`, 7 days by
    default). An event already waiting is not queued twice; a failed one starts its
    attempts over. Events the endpoint has not reached yet are not queued: they come
    anyway. An `event_id` at which no change is kept is a 422 (`unknown_event`).

    Args:
        id (int):
        body (WebhookReplay): What to send again: one event, or every event since a time. Exactly
            one of the two.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookReplayed]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient,
    body: WebhookReplay,
) -> Problem | WebhookReplayed | None:
    """Replay webhook events

     Sends again one event (`event_id`), or every event the endpoint gets since a time
    (`since`), as far back as the changes are kept (`CHANGE_RETENTION`, 7 days by
    default). An event already waiting is not queued twice; a failed one starts its
    attempts over. Events the endpoint has not reached yet are not queued: they come
    anyway. An `event_id` at which no change is kept is a 422 (`unknown_event`).

    Args:
        id (int):
        body (WebhookReplay): What to send again: one event, or every event since a time. Exactly
            one of the two.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookReplayed
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient,
    body: WebhookReplay,
) -> Response[Problem | WebhookReplayed]:
    """Replay webhook events

     Sends again one event (`event_id`), or every event the endpoint gets since a time
    (`since`), as far back as the changes are kept (`CHANGE_RETENTION`, 7 days by
    default). An event already waiting is not queued twice; a failed one starts its
    attempts over. Events the endpoint has not reached yet are not queued: they come
    anyway. An `event_id` at which no change is kept is a 422 (`unknown_event`).

    Args:
        id (int):
        body (WebhookReplay): What to send again: one event, or every event since a time. Exactly
            one of the two.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WebhookReplayed]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient,
    body: WebhookReplay,
) -> Problem | WebhookReplayed | None:
    """Replay webhook events

     Sends again one event (`event_id`), or every event the endpoint gets since a time
    (`since`), as far back as the changes are kept (`CHANGE_RETENTION`, 7 days by
    default). An event already waiting is not queued twice; a failed one starts its
    attempts over. Events the endpoint has not reached yet are not queued: they come
    anyway. An `event_id` at which no change is kept is a 422 (`unknown_event`).

    Args:
        id (int):
        body (WebhookReplay): What to send again: one event, or every event since a time. Exactly
            one of the two.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WebhookReplayed
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
