from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_attempt_outcome import WebhookAttemptOutcome

T = TypeVar("T", bound="WebhookAttempt")


@_attrs_define
class WebhookAttempt:
    """One delivery attempt.

    Attributes:
        id (int): `before` for the next page.
        event_id (str): The `webhook-id` sent: the change's feed `position`, or `test_…` for a test event.
        event_type (str): `student.created`, `student.updated`, `student.deleted`, or `webhook.test`.
        student_id (int | None):
        attempt (int): 1 for the first attempt at this event.
        attempted_at (datetime.datetime):
        status_code (int | None): The receiver's status; `null`: no answer (see `error`).
        latency_ms (int): From sending the request to the answer's end (or the error).
        response (str): The answer body's first 1 KiB, as text.
        error (None | str): Why there was no (good) answer: a timeout, a refused connection, an address the
            policy refuses; `null` for an answer that came whole.
        outcome (WebhookAttemptOutcome): What became of an attempt.
    """

    id: int
    event_id: str
    event_type: str
    student_id: int | None
    attempt: int
    attempted_at: datetime.datetime
    status_code: int | None
    latency_ms: int
    response: str
    error: None | str
    outcome: WebhookAttemptOutcome
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        event_id = self.event_id

        event_type = self.event_type

        student_id: int | None
        student_id = self.student_id

        attempt = self.attempt

        attempted_at = self.attempted_at.isoformat()

        status_code: int | None
        status_code = self.status_code

        latency_ms = self.latency_ms

        response = self.response

        error: None | str
        error = self.error

        outcome = self.outcome.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "event_id": event_id,
                "event_type": event_type,
                "student_id": student_id,
                "attempt": attempt,
                "attempted_at": attempted_at,
                "status_code": status_code,
                "latency_ms": latency_ms,
                "response": response,
                "error": error,
                "outcome": outcome,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        def _parse_student_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        student_id = _parse_student_id(d.pop("student_id"))

        attempt = d.pop("attempt")

        attempted_at = datetime.datetime.fromisoformat(d.pop("attempted_at"))

        def _parse_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status_code = _parse_status_code(d.pop("status_code"))

        latency_ms = d.pop("latency_ms")

        response = d.pop("response")

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        outcome = WebhookAttemptOutcome(d.pop("outcome"))

        webhook_attempt = cls(
            id=id,
            event_id=event_id,
            event_type=event_type,
            student_id=student_id,
            attempt=attempt,
            attempted_at=attempted_at,
            status_code=status_code,
            latency_ms=latency_ms,
            response=response,
            error=error,
            outcome=outcome,
        )

        webhook_attempt.additional_properties = d
        return webhook_attempt

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
