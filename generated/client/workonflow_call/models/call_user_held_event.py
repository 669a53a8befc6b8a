# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CallUserHeldEvent")


@_attrs_define
class CallUserHeldEvent:
    """`call.user.held`: a user of the call was put on hold. The type is spelled as the source's heading; its example's
    `call.user.hold` is not sent (a receiver may read it as this event). Not in the source document: `eventId`.

        Attributes:
            event_type (Literal['call.user.held']):
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            stream_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            user_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of
                the source document).
            event_id (str | Unset): Not in the source document: the id of one event, the same in every delivery of it (a
                delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery
                carries it; the platform's other channels may not.
    """

    event_type: Literal["call.user.held"]
    thread_id: str
    stream_id: str
    user_id: str
    event_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        thread_id = self.thread_id

        stream_id = self.stream_id

        user_id = self.user_id

        event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventType": event_type,
                "threadId": thread_id,
                "streamId": stream_id,
                "userId": user_id,
            }
        )
        if event_id is not UNSET:
            field_dict["eventId"] = event_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_type = cast(Literal["call.user.held"], d.pop("eventType"))
        if event_type != "call.user.held":
            raise ValueError(f"eventType must match const 'call.user.held', got '{event_type}'")

        thread_id = d.pop("threadId")

        stream_id = d.pop("streamId")

        user_id = d.pop("userId")

        event_id = d.pop("eventId", UNSET)

        call_user_held_event = cls(
            event_type=event_type,
            thread_id=thread_id,
            stream_id=stream_id,
            user_id=user_id,
            event_id=event_id,
        )

        call_user_held_event.additional_properties = d
        return call_user_held_event

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
