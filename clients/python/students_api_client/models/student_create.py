from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.grade import Grade
from ..types import UNSET, Unset

T = TypeVar("T", bound="StudentCreate")


@_attrs_define
class StudentCreate:
    """Fields of a new student. Unknown fields, and `id` or timestamps, are refused with 422.

    Example:
        {'name': 'Ada Lovelace', 'grade': 'A-', 'email': 'ada@example.com'}

    Attributes:
        name (str): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON Schema's `maxLength`
            counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji is 2), stored with
            surrounding whitespace trimmed. It must show something: a name of only spaces, fillers, joiners or combining
            marks is blank. Control characters and invisible formatting characters (bidi overrides and isolates, zero-width
            space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name characters beyond the
            Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and hieroglyph format
            controls) are refused by the server all the same. Example: Ada Lovelace.
        grade (Grade): A letter grade, best first.
        email (None | str | Unset): Optional; omit it or send `null` for none.
    """

    name: str
    grade: Grade
    email: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        grade = self.grade.value

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "grade": grade,
            }
        )
        if email is not UNSET:
            field_dict["email"] = email

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        grade = Grade(d.pop("grade"))

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        student_create = cls(
            name=name,
            grade=grade,
            email=email,
        )

        return student_create
