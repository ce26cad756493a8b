from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.access_token import AccessToken
from ...models.password_grant import PasswordGrant
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: PasswordGrant,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/auth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AccessToken | Problem | None:
    if response.status_code == 200:
        response_200 = AccessToken.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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
) -> Response[AccessToken | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PasswordGrant,
) -> Response[AccessToken | Problem]:
    """Sign in

     OAuth 2.0's password grant (RFC 6749 §4.3): a username and password, form-encoded,
    for a bearer token of the account's role, for `SIGN_IN_LIFETIME` (12 hours unless
    set). Swagger UI's Authorize (`signIn`) sends exactly this. Every refusal of the
    credentials is the same `invalid_grant`, at the same speed (an unknown username costs
    an argon2 check too), so it never tells which usernames exist. Failed sign-ins are
    limited per username and per address (`SIGN_IN_FAILURES_PER_USERNAME`, `…_PER_ADDRESS`,
    in 15 minutes, counted across instances): past them, `429` with `Retry-After`.

    Args:
        body (PasswordGrant): A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749
            §4.3.2). Parameters it does
            not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessToken | Problem]
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
    client: AuthenticatedClient | Client,
    body: PasswordGrant,
) -> AccessToken | Problem | None:
    """Sign in

     OAuth 2.0's password grant (RFC 6749 §4.3): a username and password, form-encoded,
    for a bearer token of the account's role, for `SIGN_IN_LIFETIME` (12 hours unless
    set). Swagger UI's Authorize (`signIn`) sends exactly this. Every refusal of the
    credentials is the same `invalid_grant`, at the same speed (an unknown username costs
    an argon2 check too), so it never tells which usernames exist. Failed sign-ins are
    limited per username and per address (`SIGN_IN_FAILURES_PER_USERNAME`, `…_PER_ADDRESS`,
    in 15 minutes, counted across instances): past them, `429` with `Retry-After`.

    Args:
        body (PasswordGrant): A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749
            §4.3.2). Parameters it does
            not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessToken | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PasswordGrant,
) -> Response[AccessToken | Problem]:
    """Sign in

     OAuth 2.0's password grant (RFC 6749 §4.3): a username and password, form-encoded,
    for a bearer token of the account's role, for `SIGN_IN_LIFETIME` (12 hours unless
    set). Swagger UI's Authorize (`signIn`) sends exactly this. Every refusal of the
    credentials is the same `invalid_grant`, at the same speed (an unknown username costs
    an argon2 check too), so it never tells which usernames exist. Failed sign-ins are
    limited per username and per address (`SIGN_IN_FAILURES_PER_USERNAME`, `…_PER_ADDRESS`,
    in 15 minutes, counted across instances): past them, `429` with `Retry-After`.

    Args:
        body (PasswordGrant): A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749
            §4.3.2). Parameters it does
            not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessToken | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PasswordGrant,
) -> AccessToken | Problem | None:
    """Sign in

     OAuth 2.0's password grant (RFC 6749 §4.3): a username and password, form-encoded,
    for a bearer token of the account's role, for `SIGN_IN_LIFETIME` (12 hours unless
    set). Swagger UI's Authorize (`signIn`) sends exactly this. Every refusal of the
    credentials is the same `invalid_grant`, at the same speed (an unknown username costs
    an argon2 check too), so it never tells which usernames exist. Failed sign-ins are
    limited per username and per address (`SIGN_IN_FAILURES_PER_USERNAME`, `…_PER_ADDRESS`,
    in 15 minutes, counted across instances): past them, `429` with `Retry-After`.

    Args:
        body (PasswordGrant): A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749
            §4.3.2). Parameters it does
            not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessToken | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
