from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.grade import Grade
from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookUpdate")


@_attrs_define
class WebhookUpdate:
    """What to change about an endpoint; absent fields stay. Unknown fields: 422.

    Attributes:
        url (str | Unset): Where deliveries are POSTed: an `https` URL (plain `http` only to a host in the server's
            `WEBHOOK_ALLOWED_HOSTS`), without credentials or a fragment. A host that is, or resolves to, a loopback,
            private, link-local or other internal address is refused unless that setting names it; this is checked when the
            URL is set and again at every connection. Stored normalised (`HTTPS://Example.COM` is `https://example.com/`).
        description (str | Unset): What the endpoint is for, for people: up to 500 characters, stored trimmed; may be
            empty.
        events (list[WebhookEventType] | Unset):
        grades (list[Grade] | Unset):
        enabled (bool | Unset): `false` pauses deliveries (the endpoint keeps its place in the feed); `true` resumes
            them from that place, whatever disabled it, and starts the 5-day failing clock again.
    """

    url: str | Unset = UNSET
    description: str | Unset = UNSET
    events: list[WebhookEventType] | Unset = UNSET
    grades: list[Grade] | Unset = UNSET
    enabled: bool | Unset = UNSET

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

        enabled = self.enabled

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
        if description is not UNSET:
            field_dict["description"] = description
        if events is not UNSET:
            field_dict["events"] = events
        if grades is not UNSET:
            field_dict["grades"] = grades
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url", UNSET)

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

        enabled = d.pop("enabled", UNSET)

        webhook_update = cls(
            url=url,
            description=description,
            events=events,
            grades=grades,
            enabled=enabled,
        )

        return webhook_update
