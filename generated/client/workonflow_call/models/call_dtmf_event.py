# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CallDtmfEvent")


@_attrs_define
class CallDtmfEvent:
    """`call.dtmf`: a user of the call pressed a key. The field is named as the source's table (`dtmfNumber`, not its
    example's `dtmf`). Not in the source document: the key is a string of one character, `0`-`9`, `*` or `#` (the table
    types it a number, which cannot carry `*` or `#`; the example sends the string `'1'`), and `eventId`.

        Attributes:
            event_type (Literal['call.dtmf']):
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            stream_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            dtmf_number (str): The key pressed, one of `0123456789*#`.
            event_id (str | Unset): Not in the source document: the id of one event, the same in every delivery of it (a
                delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery
                carries it; the platform's other channels may not.
    """

    event_type: Literal["call.dtmf"]
    thread_id: str
    stream_id: str
    dtmf_number: str
    event_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        thread_id = self.thread_id

        stream_id = self.stream_id

        dtmf_number = self.dtmf_number

        event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventType": event_type,
                "threadId": thread_id,
                "streamId": stream_id,
                "dtmfNumber": dtmf_number,
            }
        )
        if event_id is not UNSET:
            field_dict["eventId"] = event_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_type = cast(Literal["call.dtmf"], d.pop("eventType"))
        if event_type != "call.dtmf":
            raise ValueError(f"eventType must match const 'call.dtmf', got '{event_type}'")

        thread_id = d.pop("threadId")

        stream_id = d.pop("streamId")

        dtmf_number = d.pop("dtmfNumber")

        event_id = d.pop("eventId", UNSET)

        call_dtmf_event = cls(
            event_type=event_type,
            thread_id=thread_id,
            stream_id=stream_id,
            dtmf_number=dtmf_number,
            event_id=event_id,
        )

        call_dtmf_event.additional_properties = d
        return call_dtmf_event

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
