# Generated from openapi.yaml version 2.4.0. Do not edit.
"""Receiving the call events: check a webhook delivery's signature and read its typed event.

The platform delivers each call event as an HTTP `POST` of its JSON object to the bot's
webhook URL, signed as a request is: `X-Bot-Id`, `X-timestamp` (Unix seconds) and
`X-Signature`, the lowercase hex SHA-256 of `botId + secretkey + timestamp + body` over the
body exactly as sent. `WebhookReceiver.receive` checks all three (the bot, the time window of
300 s, the signature, compared in constant time), then the body against the
contract's schema of its event, and returns the event as its model class:

    receiver = WebhookReceiver(bot_id, secret_key)
    try:
        event = receiver.receive(request_headers, request_body_bytes)
    except SignatureError:
        ...  # not from the platform: answer 401
    except UnknownEventType:
        ...  # signed, of a later version of the contract: answer 2xx and ignore it
    except MalformedEvent:
        ...  # signed, but not an event of the contract: answer 400
    if isinstance(event, CallDtmfEvent):
        ...

Each error names what is wrong (the header, the field); none shows the secret key, which
the receiver does not keep as text.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, cast

from .models import (
    CallCreatedEvent,
    CallDtmfEvent,
    CallEndedEvent,
    CallUserHeldEvent,
    CallUserInvitedEvent,
    CallUserKickedEvent,
    CallUserUnheldEvent,
)
from .runtime import BotSignature

__all__ = (
    "EVENT_CLASSES",
    "MAX_SKEW_SECONDS",
    "BadSignature",
    "CallEvent",
    "HeaderItems",
    "Headers",
    "InvalidTimestamp",
    "MalformedEvent",
    "MissingHeader",
    "SignatureError",
    "StaleTimestamp",
    "UnknownBot",
    "UnknownEventType",
    "WebhookError",
    "WebhookReceiver",
    "parse_event",
)

#: How far `X-timestamp` may be from the receiver's clock, as for a request.
MAX_SKEW_SECONDS = 300
BOT_ID_HEADER = "X-Bot-Id"
TIMESTAMP_HEADER = "X-timestamp"
SIGNATURE_HEADER = "X-Signature"
DISCRIMINATOR = "eventType"

CallEvent: TypeAlias = (
    CallCreatedEvent
    | CallEndedEvent
    | CallUserInvitedEvent
    | CallUserKickedEvent
    | CallUserHeldEvent
    | CallUserUnheldEvent
    | CallDtmfEvent
)
"""Any of the call events, told apart by `eventType`."""

#: The model class of each `eventType`.
EVENT_CLASSES: Mapping[str, type[CallEvent]] = {
    "call.created": CallCreatedEvent,
    "call.ended": CallEndedEvent,
    "call.user.invited": CallUserInvitedEvent,
    "call.user.kicked": CallUserKickedEvent,
    "call.user.held": CallUserHeldEvent,
    "call.user.unheld": CallUserUnheldEvent,
    "call.dtmf": CallDtmfEvent,
}

#: The decimal digits of whole seconds: no sign, leading zero, fraction or unit.
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,17}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class WebhookError(ValueError):
    """A webhook delivery that is not a signed event of the contract; the message says why."""


class SignatureError(WebhookError):
    """The delivery is not signed by the bot: not from the platform (answer 401)."""


class MissingHeader(SignatureError):
    """A signature header is missing or empty."""


class UnknownBot(SignatureError):
    """`X-Bot-Id` names another bot than the receiver's."""


class InvalidTimestamp(SignatureError):
    """`X-timestamp` is not whole Unix seconds."""


class StaleTimestamp(SignatureError):
    """`X-timestamp` is too far from the receiver's clock (stale or in the future)."""


class BadSignature(SignatureError):
    """`X-Signature` does not match the body signed with the bot's secret key."""


class MalformedEvent(WebhookError):
    """The signed body is not an event of the contract; `field` names the field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownEventType(WebhookError):
    """A signed event of a type this client does not know (a later contract may add types):
    the contract asks a receiver to take it (answer 2xx) and ignore it."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown {DISCRIMINATOR} {event_type!r}: take it (2xx) and ignore it")
        self.event_type = event_type


@dataclass(frozen=True)
class _Field:
    """What one field of an event must be, from the contract's schema of the event."""

    name: str
    kind: type
    required: bool
    const: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value`, or None."""
        if not isinstance(value, self.kind) or isinstance(value, bool):
            return f"must be a {'string' if self.kind is str else 'whole number'}"
        if self.const is not None and value != self.const:
            return f"must be {self.const!r}"
        if isinstance(value, str):
            if self.min_length is not None and len(value) < self.min_length:
                return f"must be at least {self.min_length} characters long"
            if self.max_length is not None and len(value) > self.max_length:
                return f"must be at most {self.max_length} characters long"
            if self.pattern is not None and re.search(self.pattern, value) is None:
                return f"must match {self.pattern}"
        elif isinstance(value, int):
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {self.maximum}"
        return None


_FIELDS: Mapping[str, tuple[_Field, ...]] = {
    "call.created": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.created",
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "createdAt",
            int,
            required=True,
            minimum=0,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.ended": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.ended",
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.user.invited": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.user.invited",
        ),
        _Field(
            "phoneNumber",
            str,
            required=True,
            min_length=1,
            max_length=32,
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "contactId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.user.kicked": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.user.kicked",
        ),
        _Field(
            "phoneNumber",
            str,
            required=True,
            min_length=1,
            max_length=32,
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "contactId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.user.held": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.user.held",
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "userId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.user.unheld": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.user.unheld",
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "userId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
    "call.dtmf": (
        _Field(
            "eventType",
            str,
            required=True,
            const="call.dtmf",
        ),
        _Field(
            "threadId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "streamId",
            str,
            required=True,
            pattern="^[0-9a-f]{24}\\Z",
            min_length=24,
            max_length=24,
        ),
        _Field(
            "dtmfNumber",
            str,
            required=True,
            pattern="^[0-9*#]\\Z",
            min_length=1,
            max_length=1,
        ),
        _Field(
            "eventId",
            str,
            required=False,
            min_length=1,
            max_length=64,
        ),
    ),
}


def parse_event(body: bytes | str | Mapping[str, Any]) -> CallEvent:
    """The event of a body (JSON text or already decoded), checked against its schema.

    Raises MalformedEvent naming the field at fault, or UnknownEventType. It does not check a
    signature: use `WebhookReceiver.receive` on what comes from the network.
    """
    if isinstance(body, Mapping):
        data: Any = body
    else:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEvent(f"the body is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise MalformedEvent("the body is not a JSON object")
    event_type = data.get(DISCRIMINATOR)
    if not isinstance(event_type, str):
        raise MalformedEvent(f"{DISCRIMINATOR} is missing or not a string", DISCRIMINATOR)
    if event_type not in EVENT_CLASSES:
        raise UnknownEventType(event_type)
    for check in _FIELDS[event_type]:
        if check.name not in data:
            if check.required:
                raise MalformedEvent(f"{event_type}: {check.name} is missing", check.name)
            continue
        problem = check.problem(data[check.name])
        if problem is not None:
            raise MalformedEvent(f"{event_type}: {check.name} {problem}", check.name)
    return EVENT_CLASSES[event_type].from_dict(data)


class HeaderItems(Protocol):
    """Headers with `items()`: a dict, http.server's `self.headers`, a framework's."""

    def items(self) -> Iterable[tuple[str, str]]: ...


#: Headers with `items()`, or pairs of names and values, text or bytes (an ASGI scope's).
Headers: TypeAlias = HeaderItems | Iterable[tuple[str | bytes, str | bytes]]


def _signature_headers(headers: Headers) -> dict[str, str]:
    """The three signature headers by their spelling in the contract (names case-insensitive)."""
    wanted = {name.lower(): name for name in (BOT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}
    pairs: Iterable[tuple[str | bytes, str | bytes]]
    if hasattr(headers, "items"):
        pairs = cast(HeaderItems, headers).items()
    else:
        pairs = headers
    found: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
        shown = wanted.get(name.lower())
        if shown is None:
            continue
        if shown in found and found[shown] != value.strip():
            raise SignatureError(f"the {shown} header is given more than once")
        found[shown] = value.strip()
    for shown in wanted.values():
        if not found.get(shown):
            raise MissingHeader(f"the {shown} header is missing")
    return found


class WebhookReceiver:
    """Checks that webhook deliveries come from the platform for one bot, and reads them.

    Args:
        bot_id: the bot's id (from Workonflow's bot console).
        secret_key: the bot's secret key; it is not kept as text, so no repr or error shows it.
        max_skew: how far `X-timestamp` may be from `clock`, in seconds.
        clock: the time in Unix seconds (`time.time` by default).
    """

    def __init__(
        self,
        bot_id: str,
        secret_key: str,
        *,
        max_skew: int = MAX_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot_id = bot_id
        self._signer = BotSignature(bot_id, secret_key)
        self.max_skew = max_skew
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookReceiver(bot_id={self.bot_id!r})"

    def verify(self, headers: Headers, body: bytes) -> None:
        """Raise SignatureError (naming the header at fault) unless the bot signed `body`."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("body must be the raw bytes of the request, as received")
        found = _signature_headers(headers)
        if not hmac.compare_digest(found[BOT_ID_HEADER].encode(), self.bot_id.encode()):
            raise UnknownBot(f"{BOT_ID_HEADER} names another bot than {self.bot_id}")
        stamp = found[TIMESTAMP_HEADER]
        if not _TIMESTAMP.fullmatch(stamp):
            raise InvalidTimestamp(f"{TIMESTAMP_HEADER} is not whole Unix seconds")
        if abs(int(stamp) - self._clock()) > self.max_skew:
            raise StaleTimestamp(
                f"{TIMESTAMP_HEADER} is more than {self.max_skew} s from this receiver's clock"
            )
        expected = self._signer.signature(stamp, bytes(body)).encode()
        given = found[SIGNATURE_HEADER]
        given_bytes = given.encode() if _SIGNATURE.fullmatch(given) else b""
        if not hmac.compare_digest(expected, given_bytes):
            raise BadSignature(
                f"{SIGNATURE_HEADER} does not match the body signed with the secret key of bot "
                f"{self.bot_id} at {TIMESTAMP_HEADER}"
            )

    def receive(self, headers: Headers, body: bytes) -> CallEvent:
        """The event of a signed delivery; WebhookError (see the module) names what is wrong."""
        self.verify(headers, body)
        return parse_event(bytes(body))
