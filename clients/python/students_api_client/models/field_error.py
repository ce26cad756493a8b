from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FieldError")


@_attrs_define
class FieldError:
    """One thing wrong with a request, precise enough to show next to the input that caused it.

    Attributes:
        location (str): Where: a JSON pointer into the body (`/name`), or `query.<name>`, `path.<name>`,
            `header.<name>`.
        message (str): What is wrong, for people.
        code (str): What is wrong, for programs: `required`, `type`, `too_long`, `invalid_email`, …
        line (int | Unset): The line of an imported file where the bad row starts (counting from 1, the CSV
            header included); only in an import's errors.
        column (int | Unset): With `line`, for a CSV file whose quoting is broken: the column on that line (counting
            characters from 1) where it breaks.
    """

    location: str
    message: str
    code: str
    line: int | Unset = UNSET
    column: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        location = self.location

        message = self.message

        code = self.code

        line = self.line

        column = self.column

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "location": location,
                "message": message,
                "code": code,
            }
        )
        if line is not UNSET:
            field_dict["line"] = line
        if column is not UNSET:
            field_dict["column"] = column

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        location = d.pop("location")

        message = d.pop("message")

        code = d.pop("code")

        line = d.pop("line", UNSET)

        column = d.pop("column", UNSET)

        field_error = cls(
            location=location,
            message=message,
            code=code,
            line=line,
            column=column,
        )

        field_error.additional_properties = d
        return field_error

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
