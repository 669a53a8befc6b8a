# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.direction import Direction, check_direction
from ..types import UNSET, Unset

T = TypeVar("T", bound="CallStartRequest")


@_attrs_define
class CallStartRequest:
    """Start a call in a thread.

    Attributes:
        thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
            of the source document).
        direction (Direction | Unset): The direction of a call.
    """

    thread_id: str
    direction: Direction | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        thread_id = self.thread_id

        direction: str | Unset = UNSET
        if not isinstance(self.direction, Unset):
            direction = self.direction

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "threadId": thread_id,
            }
        )
        if direction is not UNSET:
            field_dict["direction"] = direction

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        thread_id = d.pop("threadId")

        _direction = d.pop("direction", UNSET)
        direction: Direction | Unset
        if isinstance(_direction, Unset):
            direction = UNSET
        else:
            direction = check_direction(_direction)

        call_start_request = cls(
            thread_id=thread_id,
            direction=direction,
        )

        return call_start_request
