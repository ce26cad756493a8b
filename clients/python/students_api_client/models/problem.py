from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field_error import FieldError


T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An RFC 9457 problem details object. `type` is a stable URN per kind of problem.

    Attributes:
        type_ (str): Identifies the kind of problem; stable, safe to switch on (the API's description lists
            them all).
        title (str): Short summary of the kind of problem.
        status (int): The HTTP status code.
        detail (str): What happened in this occurrence.
        errors (list[FieldError]): One entry per bad field or parameter (validation and conflict problems), the first
            1,000; else empty.
        request_id (str): This request's id, as in the `X-Request-Id` header and the server's log; quote it when
            reporting a problem.
        error (str | Unset): Only from the sign-in (`POST /api/auth/token`): the OAuth 2.0 error code (RFC 6749
            §5.2), for OAuth clients: `invalid_request`, `invalid_grant`, `invalid_scope` or
            `unsupported_grant_type`.
        error_description (str | Unset): With `error`: what was wrong, for people (the same as `detail`).
    """

    type_: str
    title: str
    status: int
    detail: str
    errors: list[FieldError]
    request_id: str
    error: str | Unset = UNSET
    error_description: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        request_id = self.request_id

        error = self.error

        error_description = self.error_description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
                "errors": errors,
                "request_id": request_id,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if error_description is not UNSET:
            field_dict["error_description"] = error_description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_error import FieldError  # noqa: PLC0415

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = FieldError.from_dict(errors_item_data)

            errors.append(errors_item)

        request_id = d.pop("request_id")

        error = d.pop("error", UNSET)

        error_description = d.pop("error_description", UNSET)

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            errors=errors,
            request_id=request_id,
            error=error,
            error_description=error_description,
        )

        problem.additional_properties = d
        return problem

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
