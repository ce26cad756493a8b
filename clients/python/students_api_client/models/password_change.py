from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PasswordChange")


@_attrs_define
class PasswordChange:
    """A new password for oneself, and the current one to prove it. Unknown fields: 422.

    Attributes:
        current_password (str): The password the account has now.
        new_password (str): A new password (NIST SP 800-63B): 12 to 256 characters of any Unicode but control
            characters, counted after NFKC normalisation, and not one of the 10,000 most common passwords. No other rules:
            spaces, emoji and passphrases are welcome.
    """

    current_password: str
    new_password: str

    def to_dict(self) -> dict[str, Any]:
        current_password = self.current_password

        new_password = self.new_password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "current_password": current_password,
                "new_password": new_password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        current_password = d.pop("current_password")

        new_password = d.pop("new_password")

        password_change = cls(
            current_password=current_password,
            new_password=new_password,
        )

        return password_change
