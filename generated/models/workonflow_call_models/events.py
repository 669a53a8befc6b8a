# Generated from openapi.yaml version 2.4.0. Do not edit.
"""The call events as one type: a pydantic union discriminated by `eventType`.

    event = CallEvent.model_validate_json(body).root   # a CallDtmfEvent, ...

Validation picks the member by `eventType` alone, so an error names the fields of that
event only; an unknown `eventType` is the error `union_tag_invalid`. This does not check a
delivery's signature: the client's `workonflow_call.webhooks` does.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import Field, RootModel

from . import (
    CallCreatedEvent,
    CallDtmfEvent,
    CallEndedEvent,
    CallUserHeldEvent,
    CallUserInvitedEvent,
    CallUserKickedEvent,
    CallUserUnheldEvent,
)

__all__ = ("CallEvent", "CallEventMember")

CallEventMember: TypeAlias = Annotated[
    CallCreatedEvent
    | CallEndedEvent
    | CallUserInvitedEvent
    | CallUserKickedEvent
    | CallUserHeldEvent
    | CallUserUnheldEvent
    | CallDtmfEvent,
    Field(discriminator="eventType"),
]
"""One of the call events, as a field's type."""


class CallEvent(RootModel[CallEventMember]):
    """Any of the call events, told apart by `eventType`; the event is `root`."""

    root: CallEventMember
