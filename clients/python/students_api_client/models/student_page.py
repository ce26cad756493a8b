from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.student import Student


T = TypeVar("T", bound="StudentPage")


@_attrs_define
class StudentPage:
    """One page of students, in the order asked for.

    Attributes:
        items (list[Student]):
        next_cursor (None | str): Pass as `cursor`, with the same filter and sort, to get the next page; `null` on the
            last page. The `Link` header holds the whole URL of the next page.
        total (int | Unset): How many students match the filter, across all pages; only with `count=exact`.
        estimated_total (int | Unset): About how many students match the filter, across all pages: the planner's row
            estimate
            (as PostgREST's `count=estimated`), which reads no rows; only with `count=estimated`.
            Ask `count=exact` for the number itself.
    """

    items: list[Student]
    next_cursor: None | str
    total: int | Unset = UNSET
    estimated_total: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        next_cursor: None | str
        next_cursor = self.next_cursor

        total = self.total

        estimated_total = self.estimated_total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "next_cursor": next_cursor,
            }
        )
        if total is not UNSET:
            field_dict["total"] = total
        if estimated_total is not UNSET:
            field_dict["estimated_total"] = estimated_total

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.student import Student  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = Student.from_dict(items_item_data)

            items.append(items_item)

        def _parse_next_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor"))

        total = d.pop("total", UNSET)

        estimated_total = d.pop("estimated_total", UNSET)

        student_page = cls(
            items=items,
            next_cursor=next_cursor,
            total=total,
            estimated_total=estimated_total,
        )

        student_page.additional_properties = d
        return student_page

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
