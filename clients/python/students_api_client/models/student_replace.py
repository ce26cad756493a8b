from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.grade import Grade

T = TypeVar("T", bound="StudentReplace")


@_attrs_define
class StudentReplace:
    """Every writable field of a student, replacing all of them. `email` must be present; `null`
    clears it. Unknown fields are refused with 422.

        Example:
            {'name': 'Ada Lovelace', 'grade': 'B+', 'email': None}

        Attributes:
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
    """

    name: str
    grade: Grade
    email: None | str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        grade = self.grade.value

        email: None | str
        email = self.email

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "grade": grade,
                "email": email,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        grade = Grade(d.pop("grade"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        student_replace = cls(
            name=name,
            grade=grade,
            email=email,
        )

        return student_replace
