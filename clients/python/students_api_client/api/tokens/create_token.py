from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.token_create import TokenCreate
from ...models.token_created import TokenCreated
from ...types import Response


def _get_kwargs(
    *,
    body: TokenCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/tokens",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | TokenCreated | None:
    if response.status_code == 201:
        response_201 = TokenCreated.from_dict(response.json())

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
) -> Response[Problem | TokenCreated]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenCreate,
) -> Response[Problem | TokenCreated]:
    """Create a token

     Makes a token with the scopes given and answers its secret, this once: only its hash
    is stored. A token can give only scopes it holds itself (`403` naming the one it
    lacks), and what it makes expires no later than it does. The new token works on this
    instance at once, on the others within a second. Revoking the maker later does not
    revoke what it made, with one exception: a token made with a person's sign-in (or
    with a token that one made) belongs to the account (`made_by_account_id`), so disabling
    it, lowering its role or a new password revokes the token too.

    Args:
        body (TokenCreate): A token to make. Unknown fields are refused with 422. Example:
            {'name': 'deploy bot', 'scopes': ['students:read', 'students:write'], 'expires_in_days':
            90}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenCreated]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: TokenCreate,
) -> Problem | TokenCreated | None:
    """Create a token

     Makes a token with the scopes given and answers its secret, this once: only its hash
    is stored. A token can give only scopes it holds itself (`403` naming the one it
    lacks), and what it makes expires no later than it does. The new token works on this
    instance at once, on the others within a second. Revoking the maker later does not
    revoke what it made, with one exception: a token made with a person's sign-in (or
    with a token that one made) belongs to the account (`made_by_account_id`), so disabling
    it, lowering its role or a new password revokes the token too.

    Args:
        body (TokenCreate): A token to make. Unknown fields are refused with 422. Example:
            {'name': 'deploy bot', 'scopes': ['students:read', 'students:write'], 'expires_in_days':
            90}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenCreated
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenCreate,
) -> Response[Problem | TokenCreated]:
    """Create a token

     Makes a token with the scopes given and answers its secret, this once: only its hash
    is stored. A token can give only scopes it holds itself (`403` naming the one it
    lacks), and what it makes expires no later than it does. The new token works on this
    instance at once, on the others within a second. Revoking the maker later does not
    revoke what it made, with one exception: a token made with a person's sign-in (or
    with a token that one made) belongs to the account (`made_by_account_id`), so disabling
    it, lowering its role or a new password revokes the token too.

    Args:
        body (TokenCreate): A token to make. Unknown fields are refused with 422. Example:
            {'name': 'deploy bot', 'scopes': ['students:read', 'students:write'], 'expires_in_days':
            90}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TokenCreated]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: TokenCreate,
) -> Problem | TokenCreated | None:
    """Create a token

     Makes a token with the scopes given and answers its secret, this once: only its hash
    is stored. A token can give only scopes it holds itself (`403` naming the one it
    lacks), and what it makes expires no later than it does. The new token works on this
    instance at once, on the others within a second. Revoking the maker later does not
    revoke what it made, with one exception: a token made with a person's sign-in (or
    with a token that one made) belongs to the account (`made_by_account_id`), so disabling
    it, lowering its role or a new password revokes the token too.

    Args:
        body (TokenCreate): A token to make. Unknown fields are refused with 422. Example:
            {'name': 'deploy bot', 'scopes': ['students:read', 'students:write'], 'expires_in_days':
            90}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TokenCreated
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
