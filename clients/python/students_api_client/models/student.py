from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.grade import Grade

T = TypeVar("T", bound="Student")


@_attrs_define
class Student:
    """A student as stored. `id`, `created_at` and `updated_at` are set by the server.

    Example:
        {'id': 42, 'name': 'Ada Lovelace', 'grade': 'A-', 'email': 'ada@example.com', 'created_at':
            '2026-01-01T00:00:00.000000Z', 'updated_at': '2026-01-01T00:00:00.000000Z'}

    Attributes:
        id (int): Server-assigned identifier.
        name (str): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON Schema's `maxLength`
            counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji is 2), stored with
            surrounding whitespace trimmed. It must show something: a name of only spaces, fillers, joiners or combining
            marks is blank. Control characters and invisible formatting characters (bidi overrides and isolates, zero-width
            space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name characters beyond the
            Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and hieroglyph format
            controls) are refused by the server all the same. Example: Ada Lovelace.
        grade (Grade): A letter grade, best first.
        email (None | str): E-mail address, stored lower-cased with surrounding whitespace trimmed; unique across
            students, ignoring case. ASCII only: a local part of 1-64 characters, `@`, and a host name. An internationalised
            domain is sent in its ASCII (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address has one
            spelling and look-alike twins (decomposed letters, full-width dots, zero-width spaces) are refused rather than
            stored beside it.
        created_at (datetime.datetime): When the student was created.
        updated_at (datetime.datetime): When any field last changed.
    """

    id: int
    name: str
    grade: Grade
    email: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        grade = self.grade.value

        email: None | str
        email = self.email

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "grade": grade,
                "email": email,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        grade = Grade(d.pop("grade"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        student = cls(
            id=id,
            name=name,
            grade=grade,
            email=email,
            created_at=created_at,
            updated_at=updated_at,
        )

        student.additional_properties = d
        return student

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
