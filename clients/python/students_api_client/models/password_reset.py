from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PasswordReset")


@_attrs_define
class PasswordReset:
    """A password an admin sets for an account. Unknown fields: 422.

    Attributes:
        password (str): A new password (NIST SP 800-63B): 12 to 256 characters of any Unicode but control characters,
            counted after NFKC normalisation, and not one of the 10,000 most common passwords. No other rules: spaces, emoji
            and passphrases are welcome.
    """

    password: str

    def to_dict(self) -> dict[str, Any]:
        password = self.password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "password": password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        password = d.pop("password")

        password_reset = cls(
            password=password,
        )

        return password_reset
