from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PasswordGrant")


@_attrs_define
class PasswordGrant:
    """A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749 §4.3.2). Parameters it does
    not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).

        Attributes:
            grant_type (str): Always `password`.
            username (str): The account's username, in any case.
            password (str):
            scope (str | Unset): The scopes the token should hold, space-separated, among those the role gives; omit it
                for all of them.
    """

    grant_type: str
    username: str
    password: str
    scope: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        grant_type = self.grant_type

        username = self.username

        password = self.password

        scope = self.scope

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "grant_type": grant_type,
                "username": username,
                "password": password,
            }
        )
        if scope is not UNSET:
            field_dict["scope"] = scope

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grant_type = d.pop("grant_type")

        username = d.pop("username")

        password = d.pop("password")

        scope = d.pop("scope", UNSET)

        password_grant = cls(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
        )

        return password_grant
