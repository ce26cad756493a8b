from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.change_op import ChangeOp

if TYPE_CHECKING:
    from ..models.change_actor import ChangeActor
    from ..models.field_changes import FieldChanges
    from ..models.student import Student


T = TypeVar("T", bound="StudentChange")


@_attrs_define
class StudentChange:
    """One change to one student, as the feed sends it and the history lists it. `student` is the
    student after the change (before it, for `deleted`); `changes` says what changed, field by
    field: every field set, for `created`; every field the student had, for `deleted`.

        Attributes:
            position (str): Where this change is in the feed: resume after it with `after` or `Last-Event-ID`.
            op (ChangeOp): What a change did.
            student (Student): A student as stored. `id`, `created_at` and `updated_at` are set by the server. Example:
                {'id': 42, 'name': 'Ada Lovelace', 'grade': 'A-', 'email': 'ada@example.com', 'created_at':
                '2026-01-01T00:00:00.000000Z', 'updated_at': '2026-01-01T00:00:00.000000Z'}.
            version (int): The student's version after the change (before it, for `deleted`): its `ETag` is
                `"<version>"`.
            changes (FieldChanges): The fields a change set, altered or removed; a field it left alone is absent.
            actor (ChangeActor): Who made a change.
            changed_at (datetime.datetime): When the writing transaction started.
            restored_from (int | None): For a change made by `restoreStudent`: the version whose state it brought back (an
                `updated` change, or `created` when the student had been deleted); `null` otherwise.
    """

    position: str
    op: ChangeOp
    student: Student
    version: int
    changes: FieldChanges
    actor: ChangeActor
    changed_at: datetime.datetime
    restored_from: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        position = self.position

        op = self.op.value

        student = self.student.to_dict()

        version = self.version

        changes = self.changes.to_dict()

        actor = self.actor.to_dict()

        changed_at = self.changed_at.isoformat()

        restored_from: int | None
        restored_from = self.restored_from

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "position": position,
                "op": op,
                "student": student,
                "version": version,
                "changes": changes,
                "actor": actor,
                "changed_at": changed_at,
                "restored_from": restored_from,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.change_actor import ChangeActor  # noqa: PLC0415
        from ..models.field_changes import FieldChanges  # noqa: PLC0415
        from ..models.student import Student  # noqa: PLC0415

        d = dict(src_dict)
        position = d.pop("position")

        op = ChangeOp(d.pop("op"))

        student = Student.from_dict(d.pop("student"))

        version = d.pop("version")

        changes = FieldChanges.from_dict(d.pop("changes"))

        actor = ChangeActor.from_dict(d.pop("actor"))

        changed_at = datetime.datetime.fromisoformat(d.pop("changed_at"))

        def _parse_restored_from(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        restored_from = _parse_restored_from(d.pop("restored_from"))

        student_change = cls(
            position=position,
            op=op,
            student=student,
            version=version,
            changes=changes,
            actor=actor,
            changed_at=changed_at,
            restored_from=restored_from,
        )

        student_change.additional_properties = d
        return student_change

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
