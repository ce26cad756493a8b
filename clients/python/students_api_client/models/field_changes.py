from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.email_change import EmailChange
    from ..models.grade_change import GradeChange
    from ..models.name_change import NameChange


T = TypeVar("T", bound="FieldChanges")


@_attrs_define
class FieldChanges:
    """The fields a change set, altered or removed; a field it left alone is absent.

    Attributes:
        name (NameChange | Unset): `name` before and after a change (`null`: none, as before a create or after a
            delete).
        grade (GradeChange | Unset): `grade` before and after a change.
        email (EmailChange | Unset): `email` before and after a change (`null`: no address).
    """

    name: NameChange | Unset = UNSET
    grade: GradeChange | Unset = UNSET
    email: EmailChange | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name: dict[str, Any] | Unset = UNSET
        if not isinstance(self.name, Unset):
            name = self.name.to_dict()

        grade: dict[str, Any] | Unset = UNSET
        if not isinstance(self.grade, Unset):
            grade = self.grade.to_dict()

        email: dict[str, Any] | Unset = UNSET
        if not isinstance(self.email, Unset):
            email = self.email.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
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
        from ..models.email_change import EmailChange  # noqa: PLC0415
        from ..models.grade_change import GradeChange  # noqa: PLC0415
        from ..models.name_change import NameChange  # noqa: PLC0415

        d = dict(src_dict)
        _name = d.pop("name", UNSET)
        name: NameChange | Unset
        if isinstance(_name, Unset):
            name = UNSET
        else:
            name = NameChange.from_dict(_name)

        _grade = d.pop("grade", UNSET)
        grade: GradeChange | Unset
        if isinstance(_grade, Unset):
            grade = UNSET
        else:
            grade = GradeChange.from_dict(_grade)

        _email = d.pop("email", UNSET)
        email: EmailChange | Unset
        if isinstance(_email, Unset):
            email = UNSET
        else:
            email = EmailChange.from_dict(_email)

        field_changes = cls(
            name=name,
            grade=grade,
            email=email,
        )

        field_changes.additional_properties = d
        return field_changes

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
