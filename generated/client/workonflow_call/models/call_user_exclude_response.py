# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.call_user_exclude_response_data import CallUserExcludeResponseData


T = TypeVar("T", bound="CallUserExcludeResponse")


@_attrs_define
class CallUserExcludeResponse:
    """Users were excluded.

    Attributes:
        code (Literal[200]):
        message (Literal['OK']):
        data (CallUserExcludeResponseData):
    """

    code: Literal[200]
    message: Literal["OK"]
    data: CallUserExcludeResponseData
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.call_user_exclude_response_data import CallUserExcludeResponseData  # noqa: PLC0415

        d = dict(src_dict)
        code = cast(Literal[200], d.pop("code"))
        if code != 200:
            raise ValueError(f"code must match const 200, got '{code}'")

        message = cast(Literal["OK"], d.pop("message"))
        if message != "OK":
            raise ValueError(f"message must match const 'OK', got '{message}'")

        data = CallUserExcludeResponseData.from_dict(d.pop("data"))

        call_user_exclude_response = cls(
            code=code,
            message=message,
            data=data,
        )

        call_user_exclude_response.additional_properties = d
        return call_user_exclude_response

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
