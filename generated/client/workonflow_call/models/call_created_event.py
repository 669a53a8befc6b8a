# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CallCreatedEvent")


@_attrs_define
class CallCreatedEvent:
    """`call.created`: a call started in the thread. `createdAt` is in milliseconds, as the source's example shows
    (1539761084401). Not in the source document: `eventId`, and that the event's fields are open (a receiver ignores
    fields it does not know).

        Attributes:
            event_type (Literal['call.created']):
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            stream_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            created_at (int): When the call started, in Unix time in milliseconds (the source types it a number; its
                example, 1539761084401, is in milliseconds).
            event_id (str | Unset): Not in the source document: the id of one event, the same in every delivery of it (a
                delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery
                carries it; the platform's other channels may not.
    """

    event_type: Literal["call.created"]
    thread_id: str
    stream_id: str
    created_at: int
    event_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        thread_id = self.thread_id

        stream_id = self.stream_id

        created_at = self.created_at

        event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventType": event_type,
                "threadId": thread_id,
                "streamId": stream_id,
                "createdAt": created_at,
            }
        )
        if event_id is not UNSET:
            field_dict["eventId"] = event_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_type = cast(Literal["call.created"], d.pop("eventType"))
        if event_type != "call.created":
            raise ValueError(f"eventType must match const 'call.created', got '{event_type}'")

        thread_id = d.pop("threadId")

        stream_id = d.pop("streamId")

        created_at = d.pop("createdAt")

        event_id = d.pop("eventId", UNSET)

        call_created_event = cls(
            event_type=event_type,
            thread_id=thread_id,
            stream_id=stream_id,
            created_at=created_at,
            event_id=event_id,
        )

        call_created_event.additional_properties = d
        return call_created_event

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
