from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="NameChange")


@_attrs_define
class NameChange:
    """`name` before and after a change (`null`: none, as before a create or after a delete).

    Attributes:
        before (None | str): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON Schema's
            `maxLength` counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji is 2),
            stored with surrounding whitespace trimmed. It must show something: a name of only spaces, fillers, joiners or
            combining marks is blank. Control characters and invisible formatting characters (bidi overrides and isolates,
            zero-width space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name characters
            beyond the Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and hieroglyph
            format controls) are refused by the server all the same. Example: Ada Lovelace.
        after (None | str): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON Schema's
            `maxLength` counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji is 2),
            stored with surrounding whitespace trimmed. It must show something: a name of only spaces, fillers, joiners or
            combining marks is blank. Control characters and invisible formatting characters (bidi overrides and isolates,
            zero-width space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name characters
            beyond the Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and hieroglyph
            format controls) are refused by the server all the same. Example: Ada Lovelace.
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

        name_change = cls(
            before=before,
            after=after,
        )

        name_change.additional_properties = d
        return name_change

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
