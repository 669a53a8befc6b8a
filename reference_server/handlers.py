"""The operations of the contract, one handler each: a validated body in, a result out.

`HANDLERS` maps the operationId of each operation of openapi.yaml to its handler; the
application routes requests to them by the spec's paths (see `reference_server.routes`). No
list of operations is kept here: the handler of `callUserInvite` calls the store's
`call_user_invite` with the fields of the body its request schema's validator answered, and
answers what the store answered (None: an answer without `data`); the application names the
values as the spec names the fields of `data`. Only a recording or stream the store answers
is turned into the URL at which this server serves the file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from contract.spec import load

from .results import CallEnded, CallStarted, Media, RecordingStopped, StreamStarted, UsersChanged
from .store import Store
from .wav import tone

#: The folders of this server's media URLs (`/recordings/<id>.wav`, `/streams/<id>.wav`).
RECORDINGS = "recordings"
STREAMS = "streams"


@dataclass(frozen=True, slots=True)
class Request:
    """What a handler gets: the store, the caller's team, the validated body."""

    store: Store
    team_id: str
    body: Mapping[str, Any]
    #: The address that this server's media URLs start with.
    base_url: str


@dataclass(frozen=True, slots=True)
class MediaLink:
    """The URL at which this server serves a recording or a stream."""

    url: str


Result = CallStarted | CallEnded | UsersChanged | MediaLink | None
Handler = Callable[[Request], Result]


def media_url(base_url: str, folder: str, media_id: str) -> str:
    return f"{base_url}/{folder}/{media_id}.wav"


def media_file(store: Store, folder: str, media_id: str) -> bytes | None:
    """The WAV file of a recording, or of a stream still running (None: no such file)."""
    found: Media | None = (store.recording if folder == RECORDINGS else store.stream)(media_id)
    if found is None or (folder == STREAMS and found.stopped_at is not None):
        return None
    end = found.stopped_at if found.stopped_at is not None else store.clock()
    return tone(int(end - found.started_at))


# -- the handlers, derived from the store -------------------------------------------------------


@functools.cache
def snake_case(name: str) -> str:
    """`callUserInvite` -> `call_user_invite`; `threadId` -> `thread_id`."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


#: Where each kind of media result is served, and the attribute holding its id.
_MEDIA: dict[type, tuple[str, str]] = {
    RecordingStopped: (RECORDINGS, "recording_id"),
    StreamStarted: (STREAMS, "stream_id"),
}


def handler(operation_id: str) -> Handler | None:
    """The handler of an operation: the store's method of the same name (`callUserInvite`:
    `Store.call_user_invite`), given the team and each field of the validated body in
    snake_case (`threadId`: `thread_id`); None when the store has no such method."""
    perform = getattr(Store, snake_case(operation_id), None)
    if perform is None:
        return None

    def handle(request: Request) -> Result:
        arguments = {snake_case(name): value for name, value in request.body.items()}
        result = perform(request.store, request.team_id, **arguments)
        media = _MEDIA.get(type(result))
        if media is not None:
            folder, attribute = media
            return MediaLink(media_url(request.base_url, folder, getattr(result, attribute)))
        return cast(Result, result)

    handle.__name__ = handle.__qualname__ = snake_case(operation_id)
    return handle


#: The handler of each operation of the spec that the store performs, by operationId. An
#: operation of the spec that is not here answers 501 (see `reference_server.routes`).
HANDLERS: dict[str, Handler] = {
    operation.operation_id: found
    for operation in load()
    if (found := handler(operation.operation_id)) is not None
}
