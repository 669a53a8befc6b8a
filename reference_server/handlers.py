"""The operations of the contract, one named handler each: a validated body in, a result out.

`HANDLERS` maps the operationId of each operation of openapi.yaml to its handler; the
application routes requests to them by the spec's paths (see `reference_server.routes`). A
handler reads the body its request schema's validator answered, calls the store, and answers
what the store answered (None: an answer without `data`); the application names the values
as the spec names the fields of `data`. Only the recording and stream handlers add to that:
they turn an id into the URL at which this server serves the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .results import CallEnded, CallStarted, Media, UsersChanged
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


# -- the handlers, in the order of the contract's table ------------------------------------------


def call_start(request: Request) -> Result:
    body = request.body
    return request.store.call_start(request.team_id, body["threadId"], body["direction"])


def call_end(request: Request) -> Result:
    return request.store.call_end(request.team_id, request.body["threadId"])


def call_user_invite(request: Request) -> Result:
    body = request.body
    return request.store.call_user_invite(request.team_id, body["threadId"], body["userIds"])


def call_user_exclude(request: Request) -> Result:
    body = request.body
    return request.store.call_user_exclude(request.team_id, body["threadId"], body["userIds"])


def call_pause(request: Request) -> Result:
    body = request.body
    return request.store.call_pause(request.team_id, body["threadId"], body["userIds"])


def call_unpause(request: Request) -> Result:
    body = request.body
    return request.store.call_unpause(request.team_id, body["threadId"], body["userIds"])


def call_audio_play(request: Request) -> Result:
    body = request.body
    request.store.call_audio_play(request.team_id, body["threadId"], body["fileUrl"])
    return None


def call_audio_stop(request: Request) -> Result:
    request.store.call_audio_stop(request.team_id, request.body["threadId"])
    return None


def call_recording_start(request: Request) -> Result:
    request.store.call_recording_start(request.team_id, request.body["threadId"])
    return None


def call_recording_stop(request: Request) -> Result:
    stopped = request.store.call_recording_stop(request.team_id, request.body["threadId"])
    return MediaLink(media_url(request.base_url, RECORDINGS, stopped.recording_id))


def call_stream_start(request: Request) -> Result:
    started = request.store.call_stream_start(request.team_id, request.body["threadId"])
    return MediaLink(media_url(request.base_url, STREAMS, started.stream_id))


def call_stream_stop(request: Request) -> Result:
    request.store.call_stream_stop(request.team_id, request.body["threadId"])
    return None


#: The handler of each operation, by operationId. An operation of the spec that is not here
#: answers 501 (see `reference_server.routes`).
HANDLERS: dict[str, Handler] = {
    "callStart": call_start,
    "callEnd": call_end,
    "callUserInvite": call_user_invite,
    "callUserExclude": call_user_exclude,
    "callPause": call_pause,
    "callUnpause": call_unpause,
    "callAudioPlay": call_audio_play,
    "callAudioStop": call_audio_stop,
    "callRecordingStart": call_recording_start,
    "callRecordingStop": call_recording_stop,
    "callStreamStart": call_stream_start,
    "callStreamStop": call_stream_stop,
}
