from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role

T = TypeVar("T", bound="AccountCreate")


@_attrs_define
class AccountCreate:
    """An account to make. Unknown fields are refused with 422.

    Attributes:
        username (str): A sign-in name: 3 to 64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit. Sent in any
            case, it is stored lower-cased: `Ada` and `ada` are one account.
        display_name (str): The name shown for the person. Example: Ada Lovelace.
        role (Role): What an account may do: `viewer` reads students (`students:read`), `editor` also writes them
            (`students:write`), `admin` may do everything (every scope).
        password (str): Its first password; the person can change it (changeMyPassword).
    """

    username: str
    display_name: str
    role: Role
    password: str

    def to_dict(self) -> dict[str, Any]:
        username = self.username

        display_name = self.display_name

        role = self.role.value

        password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "username": username,
                "display_name": display_name,
                "role": role,
                "password": password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        username = d.pop("username")

        display_name = d.pop("display_name")

        role = Role(d.pop("role"))

        password = d.pop("password")

        account_create = cls(
            username=username,
            display_name=display_name,
            role=role,
            password=password,
        )

        return account_create
