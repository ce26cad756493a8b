from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookReplay")


@_attrs_define
class WebhookReplay:
    """What to send again: one event, or every event since a time. Exactly one of the two.

    Attributes:
        event_id (str | Unset): The event's `webhook-id` (its feed `position`).
        since (datetime.datetime | Unset): Every event the endpoint gets whose change was made at or after this time.
    """

    event_id: str | Unset = UNSET
    since: datetime.datetime | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        since: str | Unset = UNSET
        if not isinstance(self.since, Unset):
            since = self.since.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if since is not UNSET:
            field_dict["since"] = since

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_id = d.pop("event_id", UNSET)

        _since = d.pop("since", UNSET)
        since: datetime.datetime | Unset
        if isinstance(_since, Unset):
            since = UNSET
        else:
            since = datetime.datetime.fromisoformat(_since)

        webhook_replay = cls(
            event_id=event_id,
            since=since,
        )

        return webhook_replay
