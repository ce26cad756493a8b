import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.count_mode import CountMode
from ...models.grade import Grade
from ...models.problem import Problem
from ...models.student_page import StudentPage
from ...models.student_sort import StudentSort
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    grade: list[Grade] | Unset = UNSET,
    email: str | Unset = UNSET,
    has_email: bool | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: StudentSort | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    count: CountMode | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_grade: list[str] | Unset = UNSET
    if not isinstance(grade, Unset):
        json_grade = []
        for grade_item_data in grade:
            grade_item = grade_item_data.value
            json_grade.append(grade_item)

    params["grade"] = json_grade

    params["email"] = email

    params["has_email"] = has_email

    json_created_after: str | Unset = UNSET
    if not isinstance(created_after, Unset):
        json_created_after = created_after.isoformat()
    params["created_after"] = json_created_after

    json_created_before: str | Unset = UNSET
    if not isinstance(created_before, Unset):
        json_created_before = created_before.isoformat()
    params["created_before"] = json_created_before

    params["q"] = q

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

    params["limit"] = limit

    params["cursor"] = cursor

    json_count: str | Unset = UNSET
    if not isinstance(count, Unset):
        json_count = count.value

    params["count"] = json_count

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/students",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | StudentPage | None:
    if response.status_code == 200:
        response_200 = StudentPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[Problem | StudentPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    grade: list[Grade] | Unset = UNSET,
    email: str | Unset = UNSET,
    has_email: bool | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: StudentSort | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    count: CountMode | Unset = UNSET,
) -> Response[Problem | StudentPage]:
    """List students

     One page of the students matching every filter given, in `sort` order (default `id`).
    Follow `next_cursor` (or the `Link` header's `rel="next"` URL) until it is `null` to walk
    every match exactly once, even while students are added or removed; page 10,000 costs
    what page 1 does. `total` is counted only with `count=exact`, since counting reads
    every match; `count=estimated` gives the planner's estimate instead, as cheap as a page.

    Searches (`q`) and `count=exact` share half of the service's database connections with
    exports; when all of that half is in use the answer is a `503` `busy` problem with
    `Retry-After`, and cheap requests are still served.

    Args:
        grade (list[Grade] | Unset):
        email (str | Unset): E-mail address, stored lower-cased with surrounding whitespace
            trimmed; unique across students, ignoring case. ASCII only: a local part of 1-64
            characters, `@`, and a host name. An internationalised domain is sent in its ASCII
            (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one spelling and
            look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused
            rather than stored beside it.
        has_email (bool | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        q (str | Unset):
        sort (StudentSort | Unset): A field to sort by; `-` first for descending. `name` sorts as
            people read names (case and accents beside their letters), `grade` puts the best grade
            first. Ties are broken by `id` in the same direction.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): Opaque; copy it from `next_cursor`. Valid only with the filter and
            sort of the page it came from.
        count (CountMode | Unset): `count=exact` asks for `total`, `count=estimated` for
            `estimated_total`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StudentPage]
    """

    kwargs = _get_kwargs(
        grade=grade,
        email=email,
        has_email=has_email,
        created_after=created_after,
        created_before=created_before,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
        count=count,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    grade: list[Grade] | Unset = UNSET,
    email: str | Unset = UNSET,
    has_email: bool | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: StudentSort | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    count: CountMode | Unset = UNSET,
) -> Problem | StudentPage | None:
    """List students

     One page of the students matching every filter given, in `sort` order (default `id`).
    Follow `next_cursor` (or the `Link` header's `rel="next"` URL) until it is `null` to walk
    every match exactly once, even while students are added or removed; page 10,000 costs
    what page 1 does. `total` is counted only with `count=exact`, since counting reads
    every match; `count=estimated` gives the planner's estimate instead, as cheap as a page.

    Searches (`q`) and `count=exact` share half of the service's database connections with
    exports; when all of that half is in use the answer is a `503` `busy` problem with
    `Retry-After`, and cheap requests are still served.

    Args:
        grade (list[Grade] | Unset):
        email (str | Unset): E-mail address, stored lower-cased with surrounding whitespace
            trimmed; unique across students, ignoring case. ASCII only: a local part of 1-64
            characters, `@`, and a host name. An internationalised domain is sent in its ASCII
            (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one spelling and
            look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused
            rather than stored beside it.
        has_email (bool | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        q (str | Unset):
        sort (StudentSort | Unset): A field to sort by; `-` first for descending. `name` sorts as
            people read names (case and accents beside their letters), `grade` puts the best grade
            first. Ties are broken by `id` in the same direction.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): Opaque; copy it from `next_cursor`. Valid only with the filter and
            sort of the page it came from.
        count (CountMode | Unset): `count=exact` asks for `total`, `count=estimated` for
            `estimated_total`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StudentPage
    """

    return sync_detailed(
        client=client,
        grade=grade,
        email=email,
        has_email=has_email,
        created_after=created_after,
        created_before=created_before,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
        count=count,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    grade: list[Grade] | Unset = UNSET,
    email: str | Unset = UNSET,
    has_email: bool | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: StudentSort | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    count: CountMode | Unset = UNSET,
) -> Response[Problem | StudentPage]:
    """List students

     One page of the students matching every filter given, in `sort` order (default `id`).
    Follow `next_cursor` (or the `Link` header's `rel="next"` URL) until it is `null` to walk
    every match exactly once, even while students are added or removed; page 10,000 costs
    what page 1 does. `total` is counted only with `count=exact`, since counting reads
    every match; `count=estimated` gives the planner's estimate instead, as cheap as a page.

    Searches (`q`) and `count=exact` share half of the service's database connections with
    exports; when all of that half is in use the answer is a `503` `busy` problem with
    `Retry-After`, and cheap requests are still served.

    Args:
        grade (list[Grade] | Unset):
        email (str | Unset): E-mail address, stored lower-cased with surrounding whitespace
            trimmed; unique across students, ignoring case. ASCII only: a local part of 1-64
            characters, `@`, and a host name. An internationalised domain is sent in its ASCII
            (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one spelling and
            look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused
            rather than stored beside it.
        has_email (bool | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        q (str | Unset):
        sort (StudentSort | Unset): A field to sort by; `-` first for descending. `name` sorts as
            people read names (case and accents beside their letters), `grade` puts the best grade
            first. Ties are broken by `id` in the same direction.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): Opaque; copy it from `next_cursor`. Valid only with the filter and
            sort of the page it came from.
        count (CountMode | Unset): `count=exact` asks for `total`, `count=estimated` for
            `estimated_total`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StudentPage]
    """

    kwargs = _get_kwargs(
        grade=grade,
        email=email,
        has_email=has_email,
        created_after=created_after,
        created_before=created_before,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
        count=count,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    grade: list[Grade] | Unset = UNSET,
    email: str | Unset = UNSET,
    has_email: bool | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: StudentSort | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    count: CountMode | Unset = UNSET,
) -> Problem | StudentPage | None:
    """List students

     One page of the students matching every filter given, in `sort` order (default `id`).
    Follow `next_cursor` (or the `Link` header's `rel="next"` URL) until it is `null` to walk
    every match exactly once, even while students are added or removed; page 10,000 costs
    what page 1 does. `total` is counted only with `count=exact`, since counting reads
    every match; `count=estimated` gives the planner's estimate instead, as cheap as a page.

    Searches (`q`) and `count=exact` share half of the service's database connections with
    exports; when all of that half is in use the answer is a `503` `busy` problem with
    `Retry-After`, and cheap requests are still served.

    Args:
        grade (list[Grade] | Unset):
        email (str | Unset): E-mail address, stored lower-cased with surrounding whitespace
            trimmed; unique across students, ignoring case. ASCII only: a local part of 1-64
            characters, `@`, and a host name. An internationalised domain is sent in its ASCII
            (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one spelling and
            look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused
            rather than stored beside it.
        has_email (bool | Unset):
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        q (str | Unset):
        sort (StudentSort | Unset): A field to sort by; `-` first for descending. `name` sorts as
            people read names (case and accents beside their letters), `grade` puts the best grade
            first. Ties are broken by `id` in the same direction.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): Opaque; copy it from `next_cursor`. Valid only with the filter and
            sort of the page it came from.
        count (CountMode | Unset): `count=exact` asks for `total`, `count=estimated` for
            `estimated_total`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StudentPage
    """

    return (
        await asyncio_detailed(
            client=client,
            grade=grade,
            email=email,
            has_email=has_email,
            created_after=created_after,
            created_before=created_before,
            q=q,
            sort=sort,
            limit=limit,
            cursor=cursor,
            count=count,
        )
    ).parsed
