from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.grade import Grade
from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookCreate")


@_attrs_define
class WebhookCreate:
    """An endpoint to make. Unknown fields are refused with 422.

    Example:
        {'url': 'https://billing.example.com/hooks/students', 'description': 'billing sync', 'events':
            ['student.created', 'student.updated', 'student.deleted'], 'grades': []}

    Attributes:
        url (str): Where deliveries are POSTed: an `https` URL (plain `http` only to a host in the server's
            `WEBHOOK_ALLOWED_HOSTS`), without credentials or a fragment. A host that is, or resolves to, a loopback,
            private, link-local or other internal address is refused unless that setting names it; this is checked when the
            URL is set and again at every connection. Stored normalised (`HTTPS://Example.COM` is `https://example.com/`).
        description (str | Unset): Default: empty.
        events (list[WebhookEventType] | Unset): Which changes it receives; default: all three.
        grades (list[Grade] | Unset): Only changes to students in these grades, before or after the change (a student
            moved
            out of a grade is one's last change there); empty or absent: every grade.
    """

    url: str
    description: str | Unset = UNSET
    events: list[WebhookEventType] | Unset = UNSET
    grades: list[Grade] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        description = self.description

        events: list[str] | Unset = UNSET
        if not isinstance(self.events, Unset):
            events = []
            for events_item_data in self.events:
                events_item = events_item_data.value
                events.append(events_item)

        grades: list[str] | Unset = UNSET
        if not isinstance(self.grades, Unset):
            grades = []
            for grades_item_data in self.grades:
                grades_item = grades_item_data.value
                grades.append(grades_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if events is not UNSET:
            field_dict["events"] = events
        if grades is not UNSET:
            field_dict["grades"] = grades

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        description = d.pop("description", UNSET)

        _events = d.pop("events", UNSET)
        events: list[WebhookEventType] | Unset = UNSET
        if _events is not UNSET:
            events = []
            for events_item_data in _events:
                events_item = WebhookEventType(events_item_data)

                events.append(events_item)

        _grades = d.pop("grades", UNSET)
        grades: list[Grade] | Unset = UNSET
        if _grades is not UNSET:
            grades = []
            for grades_item_data in _grades:
                grades_item = Grade(grades_item_data)

                grades.append(grades_item)

        webhook_create = cls(
            url=url,
            description=description,
            events=events,
            grades=grades,
        )

        return webhook_create
