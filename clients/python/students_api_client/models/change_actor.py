from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.actor_account import ActorAccount


T = TypeVar("T", bound="ChangeActor")


@_attrs_define
class ChangeActor:
    """Who made a change.

    Attributes:
        token_id (int | None): The API token that made it; `null` for a change made outside the API (psql).
        name (str): The signed-in person's username, the API token's name, or the database role for a
            change made outside the API.
        account (ActorAccount | None): The account of the signed-in person who made it; `null` for an API token or psql.
    """

    token_id: int | None
    name: str
    account: ActorAccount | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.actor_account import ActorAccount  # noqa: PLC0415

        token_id: int | None
        token_id = self.token_id

        name = self.name

        account: dict[str, Any] | None
        if isinstance(self.account, ActorAccount):
            account = self.account.to_dict()
        else:
            account = self.account

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "token_id": token_id,
                "name": name,
                "account": account,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.actor_account import ActorAccount  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_token_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        token_id = _parse_token_id(d.pop("token_id"))

        name = d.pop("name")

        def _parse_account(data: object) -> ActorAccount | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                account_type_1 = ActorAccount.from_dict(data)

                return account_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ActorAccount | None, data)

        account = _parse_account(d.pop("account"))

        change_actor = cls(
            token_id=token_id,
            name=name,
            account=account,
        )

        change_actor.additional_properties = d
        return change_actor

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
