# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.direction import Direction, check_direction

T = TypeVar("T", bound="CallEndResponseData")


@_attrs_define
class CallEndResponseData:
    """
    Attributes:
        call_duration (int): The whole call, from start to end, in whole seconds.
        dialog_duration (int): The time spent talking, in whole seconds; never more than `callDuration`. Not in the
            source document: from the first user who joined to the end.
        result (str): The result of the call. Not in the source document, which names no values: the reference server
            answers `answered` when anybody joined the call and `unanswered` otherwise; clients should accept other values.
        direction (Direction): The direction of a call.
    """

    call_duration: int
    dialog_duration: int
    result: str
    direction: Direction
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        call_duration = self.call_duration

        dialog_duration = self.dialog_duration

        result = self.result

        direction: str = self.direction

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "callDuration": call_duration,
                "dialogDuration": dialog_duration,
                "result": result,
                "direction": direction,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        call_duration = d.pop("callDuration")

        dialog_duration = d.pop("dialogDuration")

        result = d.pop("result")

        direction = check_direction(d.pop("direction"))

        call_end_response_data = cls(
            call_duration=call_duration,
            dialog_duration=dialog_duration,
            result=result,
            direction=direction,
        )

        call_end_response_data.additional_properties = d
        return call_end_response_data

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
