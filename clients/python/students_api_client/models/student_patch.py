from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.grade import Grade
from ..types import UNSET, Unset

T = TypeVar("T", bound="StudentPatch")


@_attrs_define
class StudentPatch:
    """A partial update (JSON merge patch): an absent field is left as it is, `"email": null` clears
    the e-mail, and `null` for `name` or `grade` is refused. Unknown fields are refused with 422.

        Example:
            {'grade': 'A', 'email': None}

        Attributes:
            name (str | Unset): Full name: 1–100 characters as sent, counted as Unicode code points (as JSON Schema's
                `maxLength` counts; JavaScript's `length` and HTML's `maxlength` count UTF-16 units, in which an emoji is 2),
                stored with surrounding whitespace trimmed. It must show something: a name of only spaces, fillers, joiners or
                combining marks is blank. Control characters and invisible formatting characters (bidi overrides and isolates,
                zero-width space, byte-order mark) are refused. `pattern` must work in JavaScript, which cannot name characters
                beyond the Basic Multilingual Plane in a class; the few such invisible ones (tags alone, musical and hieroglyph
                format controls) are refused by the server all the same. Example: Ada Lovelace.
            grade (Grade | Unset): A letter grade, best first.
            email (None | str | Unset): E-mail address, stored lower-cased with surrounding whitespace trimmed; unique
                across students, ignoring case. ASCII only: a local part of 1-64 characters, `@`, and a host name. An
                internationalised domain is sent in its ASCII (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every
                address has one spelling and look-alike twins (decomposed letters, full-width dots, zero-width spaces) are
                refused rather than stored beside it.
    """

    name: str | Unset = UNSET
    grade: Grade | Unset = UNSET
    email: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        grade: str | Unset = UNSET
        if not isinstance(self.grade, Unset):
            grade = self.grade.value

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if grade is not UNSET:
            field_dict["grade"] = grade
        if email is not UNSET:
            field_dict["email"] = email

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _grade = d.pop("grade", UNSET)
        grade: Grade | Unset
        if isinstance(_grade, Unset):
            grade = UNSET
        else:
            grade = Grade(_grade)

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        student_patch = cls(
            name=name,
            grade=grade,
            email=email,
        )

        return student_patch
