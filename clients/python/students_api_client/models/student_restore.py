from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="StudentRestore")


@_attrs_define
class StudentRestore:
    """Which version of a student to bring back, from its history.

    Example:
        {'version': 2}

    Attributes:
        version (int): A `version` from the student's history (`getStudentHistory`): the student gets the
            name, grade and e-mail it had then. For a deleted student, its last version is the
            state it was deleted in.
    """

    version: int

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        version = d.pop("version")

        student_restore = cls(
            version=version,
        )

        return student_restore
