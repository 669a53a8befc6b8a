# Generated from openapi.yaml version 2.4.0. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CallUserKickedEvent")


@_attrs_define
class CallUserKickedEvent:
    """`call.user.kicked`: a user was removed from the conference. `contactId` is the id of that user, the id the request
    named as `userId`. Not in the source document: `eventId`, and that a user who hangs up is kicked too.

        Attributes:
            event_type (Literal['call.user.kicked']):
            phone_number (str): The phone number the user is called at or was called at, as the platform writes it (the
                source's example: `89536052307`).
            thread_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            stream_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            contact_id (str): A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example
                of the source document).
            event_id (str | Unset): Not in the source document: the id of one event, the same in every delivery of it (a
                delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery
                carries it; the platform's other channels may not.
    """

    event_type: Literal["call.user.kicked"]
    phone_number: str
    thread_id: str
    stream_id: str
    contact_id: str
    event_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_type = self.event_type

        phone_number = self.phone_number

        thread_id = self.thread_id

        stream_id = self.stream_id

        contact_id = self.contact_id

        event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventType": event_type,
                "phoneNumber": phone_number,
                "threadId": thread_id,
                "streamId": stream_id,
                "contactId": contact_id,
            }
        )
        if event_id is not UNSET:
            field_dict["eventId"] = event_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        event_type = cast(Literal["call.user.kicked"], d.pop("eventType"))
        if event_type != "call.user.kicked":
            raise ValueError(f"eventType must match const 'call.user.kicked', got '{event_type}'")

        phone_number = d.pop("phoneNumber")

        thread_id = d.pop("threadId")

        stream_id = d.pop("streamId")

        contact_id = d.pop("contactId")

        event_id = d.pop("eventId", UNSET)

        call_user_kicked_event = cls(
            event_type=event_type,
            phone_number=phone_number,
            thread_id=thread_id,
            stream_id=stream_id,
            contact_id=contact_id,
            event_id=event_id,
        )

        call_user_kicked_event.additional_properties = d
        return call_user_kicked_event

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
