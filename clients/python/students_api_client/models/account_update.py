from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountUpdate")


@_attrs_define
class AccountUpdate:
    """What to change about an account; absent fields stay. A lower `role` revokes the
    account's sign-ins (they hold the old role's scopes). Unknown fields: 422.

        Attributes:
            display_name (str | Unset): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON
                Schema's `maxLength` counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji
                is 2), stored with surrounding whitespace trimmed. It must show something: a name of only spaces, fillers,
                joiners or combining marks is blank. Control characters and invisible formatting characters (bidi overrides and
                isolates, zero-width space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name
                characters beyond the Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and
                hieroglyph format controls) are refused by the server all the same. Example: Ada Lovelace.
            role (Role | Unset): What an account may do: `viewer` reads students (`students:read`), `editor` also writes
                them (`students:write`), `admin` may do everything (every scope).
            disabled (bool | Unset): `true` disables the account (it cannot sign in, its sign-ins are revoked); `false`
                enables it again.
    """

    display_name: str | Unset = UNSET
    role: Role | Unset = UNSET
    disabled: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        display_name = self.display_name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        disabled = self.disabled

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if display_name is not UNSET:
            field_dict["display_name"] = display_name
        if role is not UNSET:
            field_dict["role"] = role
        if disabled is not UNSET:
            field_dict["disabled"] = disabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        display_name = d.pop("display_name", UNSET)

        _role = d.pop("role", UNSET)
        role: Role | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = Role(_role)

        disabled = d.pop("disabled", UNSET)

        account_update = cls(
            display_name=display_name,
            role=role,
            disabled=disabled,
        )

        return account_update
