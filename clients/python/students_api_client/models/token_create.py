from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.scope import Scope
from ..types import UNSET, Unset

T = TypeVar("T", bound="TokenCreate")


@_attrs_define
class TokenCreate:
    """A token to make. Unknown fields are refused with 422.

    Example:
        {'name': 'deploy bot', 'scopes': ['students:read', 'students:write'], 'expires_in_days': 90}

    Attributes:
        name (str): What the token is for (`deploy bot`, `Ada's laptop`): the rules of a student's name.
        scopes (list[Scope]): What it may do: one or more scopes, each once.
        expires_in_days (int | Unset): Days until it expires, 1–3650; omit it for a token that lasts until revoked.
    """

    name: str
    scopes: list[Scope]
    expires_in_days: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item = scopes_item_data.value
            scopes.append(scopes_item)

        expires_in_days = self.expires_in_days

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "scopes": scopes,
            }
        )
        if expires_in_days is not UNSET:
            field_dict["expires_in_days"] = expires_in_days

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = Scope(scopes_item_data)

            scopes.append(scopes_item)

        expires_in_days = d.pop("expires_in_days", UNSET)

        token_create = cls(
            name=name,
            scopes=scopes,
            expires_in_days=expires_in_days,
        )

        return token_create
