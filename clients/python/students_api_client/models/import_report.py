from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.field_error import FieldError


T = TypeVar("T", bound="ImportReport")


@_attrs_define
class ImportReport:
    """What an import did, or (a dry run) would do.

    Attributes:
        rows (int): Students in the file (its rows, blank lines aside).
        valid (int): Rows that obey every rule: what an import writes.
        invalid (int): Rows that break a rule: left out with `on_error=skip`.
        created (int): Students created; 0 in a dry run.
        errors (list[FieldError]): What is wrong with the invalid rows, the first 1,000 in file order: `location` names
            the row and field (`/rows/17/email`, rows counted from 1), `line` the file's line.
        dry_run (bool): Whether nothing was written because `dry_run` was asked for.
    """

    rows: int
    valid: int
    invalid: int
    created: int
    errors: list[FieldError]
    dry_run: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows

        valid = self.valid

        invalid = self.invalid

        created = self.created

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "rows": rows,
                "valid": valid,
                "invalid": invalid,
                "created": created,
                "errors": errors,
                "dry_run": dry_run,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_error import FieldError  # noqa: PLC0415

        d = dict(src_dict)
        rows = d.pop("rows")

        valid = d.pop("valid")

        invalid = d.pop("invalid")

        created = d.pop("created")

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = FieldError.from_dict(errors_item_data)

            errors.append(errors_item)

        dry_run = d.pop("dry_run")

        import_report = cls(
            rows=rows,
            valid=valid,
            invalid=invalid,
            created=created,
            errors=errors,
            dry_run=dry_run,
        )

        import_report.additional_properties = d
        return import_report

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
