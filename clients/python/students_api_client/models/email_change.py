from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EmailChange")


@_attrs_define
class EmailChange:
    """`email` before and after a change (`null`: no address).

    Attributes:
        before (None | str): E-mail address, stored lower-cased with surrounding whitespace trimmed; unique across
            students, ignoring case. ASCII only: a local part of 1-64 characters, `@`, and a host name. An internationalised
            domain is sent in its ASCII (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one
            spelling and look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused rather than
            stored beside it.
        after (None | str): E-mail address, stored lower-cased with surrounding whitespace trimmed; unique across
            students, ignoring case. ASCII only: a local part of 1-64 characters, `@`, and a host name. An internationalised
            domain is sent in its ASCII (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one
            spelling and look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused rather than
            stored beside it.
    """

    before: None | str
    after: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        before: None | str
        before = self.before

        after: None | str
        after = self.after

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "before": before,
                "after": after,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_before(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        before = _parse_before(d.pop("before"))

        def _parse_after(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        after = _parse_after(d.pop("after"))

        email_change = cls(
            before=before,
            after=after,
        )

        email_change.additional_properties = d
        return email_change

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
