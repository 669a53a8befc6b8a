# Generated from openapi.yaml version 2.3.0. Do not edit.
"""The API bound to a server, a bot and a team: `CallApi` (blocking) and `AsyncCallApi`,
and `BotSignature`, which signs every request they send."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

import httpx

from ..client import Client
from ..models import (
    CallAudioPlayRequest,
    CallEndResponse,
    CallPauseResponse,
    CallRecordingStopResponse,
    CallStartRequest,
    CallStartResponse,
    CallStreamStartResponse,
    CallUnpauseResponse,
    CallUserExcludeResponse,
    CallUserInviteResponse,
    Direction,
    OkResponse,
    SingleUserRequest,
    ThreadRequest,
    UserListRequest,
)
from ..types import UNSET, Unset
from .call import call_end, call_pause, call_start, call_unpause
from .call_audio import call_audio_play, call_audio_stop
from .call_recording import call_recording_start, call_recording_stop
from .call_stream import call_stream_start, call_stream_stop
from .call_user import call_user_exclude, call_user_invite

BOT_ID_HEADER = "X-Bot-Id"
TIMESTAMP_HEADER = "X-timestamp"
SIGNATURE_HEADER = "X-Signature"


class BotSignature(httpx.Auth):
    """Signs each request as a Workonflow bot, as httpx sends it.

    Sets `X-Bot-Id`, `X-timestamp` (whole Unix seconds, read when the request is sent) and
    `X-Signature`, the lowercase hex SHA-256 of `botId + secretkey + timestamp + body`, `body`
    being the exact bytes of the request. CallApi and AsyncCallApi use it by themselves; give it
    to a plain Client as `Client(base_url, httpx_args={"auth": BotSignature(bot_id, secret_key)})`.

    The secret key is not kept as text: only a SHA-256 state that has absorbed
    `botId + secretkey` is, so no `repr`, log line or exception can show it.

    Args:
        bot_id: the bot's id (from Workonflow's bot console).
        secret_key: the bot's secret key; it is never sent.
        clock: the time in Unix seconds (`time.time` by default).
    """

    requires_request_body = True

    def __init__(
        self, bot_id: str, secret_key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not bot_id:
            raise ValueError("bot_id must be a non-empty string")
        if not secret_key:
            raise ValueError(f"the secret key of bot {bot_id} must be a non-empty string")
        self.bot_id = bot_id
        self._keyed = hashlib.sha256(f"{bot_id}{secret_key}".encode())
        self._clock = clock

    def __repr__(self) -> str:
        return f"BotSignature(bot_id={self.bot_id!r})"

    def signature(self, timestamp: str, body: bytes) -> str:
        """The `X-Signature` of `body` sent at `timestamp`."""
        digest = self._keyed.copy()
        digest.update(timestamp.encode())
        digest.update(body)
        return digest.hexdigest()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = str(int(self._clock()))
        request.headers[BOT_ID_HEADER] = self.bot_id
        request.headers[TIMESTAMP_HEADER] = timestamp
        request.headers[SIGNATURE_HEADER] = self.signature(timestamp, request.content)
        yield request


#: httpx's client arguments that the generated Client takes as fields of its own, by httpx's
#: name: the Client passes them to httpx itself, so they cannot also travel in httpx_args.
CLIENT_FIELDS = {
    "headers": "headers",
    "cookies": "cookies",
    "timeout": "timeout",
    "verify": "verify_ssl",
    "follow_redirects": "follow_redirects",
}
#: Seconds a request may take when no timeout is given.
DEFAULT_TIMEOUT = 10.0


def client_arguments(
    owner: str,
    auth: httpx.Auth,
    timeout: float | httpx.Timeout | None,
    httpx_args: dict[str, Any] | None,
) -> dict[str, Any]:
    """The keywords of `Client` for the options of CallApi or AsyncCallApi (`owner`).

    httpx's own client arguments (`headers`, `cookies`, `timeout`, `verify`,
    `follow_redirects`) may be given in httpx_args as to httpx itself; the others (`transport`,
    `event_hooks`, `limits`, ...) go to httpx as they are. `auth` and `base_url` are the
    API's own, and a timeout given both ways is ambiguous: each raises TypeError.
    """
    extra = dict(httpx_args or {})
    for reserved, why in (("auth", "the bot's signature"), ("base_url", "the base_url argument")):
        if reserved in extra:
            raise TypeError(f"{owner}: httpx_args cannot set {reserved}, which is {why}")
    fields = {field: extra.pop(name) for name, field in CLIENT_FIELDS.items() if name in extra}
    if "timeout" in fields and timeout is not None:
        raise TypeError(f"{owner}: the timeout is given twice, as timeout= and in httpx_args")
    chosen = fields.pop("timeout") if "timeout" in fields else timeout
    if chosen is None and "timeout" not in (httpx_args or {}):
        chosen = DEFAULT_TIMEOUT
    fields["timeout"] = chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen)
    return {**fields, "httpx_args": {**extra, "auth": auth}}


class CallOperations:
    """The `call` operations."""

    def __init__(self, api: CallApi) -> None:
        self._api = api

    def start(
        self,
        *,
        thread_id: str,
        direction: Direction | Unset = UNSET,
    ) -> CallStartResponse:
        """Start a call in a thread (`POST /{team_id}/call/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = CallStartRequest(
            thread_id=thread_id,
            direction=direction,
        )
        return call_start.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def end(
        self,
        *,
        thread_id: str,
    ) -> CallEndResponse:
        """End the call in a thread (`POST /{team_id}/call/end`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_end.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def pause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallPauseResponse:
        """Put users of the call on pause (`POST /{team_id}/call/pause`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("pause() needs one of: user_id, user_ids")
        return call_pause.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def unpause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUnpauseResponse:
        """Take users of the call off pause (`POST /{team_id}/call/unpause`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("unpause() needs one of: user_id, user_ids")
        return call_unpause.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class CallUserOperations:
    """The `call_user` operations."""

    def __init__(self, api: CallApi) -> None:
        self._api = api

    def invite(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserInviteResponse:
        """Invite users into the call (`POST /{team_id}/call.user/invite`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("invite() needs one of: user_id, user_ids")
        return call_user_invite.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def exclude(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserExcludeResponse:
        """Exclude users from the call (`POST /{team_id}/call.user/exclude`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("exclude() needs one of: user_id, user_ids")
        return call_user_exclude.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class CallAudioOperations:
    """The `call_audio` operations."""

    def __init__(self, api: CallApi) -> None:
        self._api = api

    def play(
        self,
        *,
        thread_id: str,
        file_url: str,
    ) -> OkResponse:
        """Play an audio file into the call (`POST /{team_id}/call.audio/play`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = CallAudioPlayRequest(
            thread_id=thread_id,
            file_url=file_url,
        )
        return call_audio_play.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop the audio playing in the call (`POST /{team_id}/call.audio/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_audio_stop.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class CallRecordingOperations:
    """The `call_recording` operations."""

    def __init__(self, api: CallApi) -> None:
        self._api = api

    def start(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Start recording the call (`POST /{team_id}/call.recording/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_recording_start.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> CallRecordingStopResponse:
        """Stop recording the call (`POST /{team_id}/call.recording/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_recording_stop.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class CallStreamOperations:
    """The `call_stream` operations."""

    def __init__(self, api: CallApi) -> None:
        self._api = api

    def start(
        self,
        *,
        thread_id: str,
    ) -> CallStreamStartResponse:
        """Start streaming the call (`POST /{team_id}/call.stream/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_stream_start.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop streaming the call (`POST /{team_id}/call.stream/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return call_stream_stop.sync(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class CallApi:
    """Workonflow Call API, bound to a base URL, a bot and a team.

    `api.call.start(thread_id=...)` sends the request, signed by the bot (BotSignature), and
    returns the success model; any error answer raises errors.CallApiError. Use it as a
    context manager, or call `close()`, to release the connection pool.

    Args:
        base_url: the server, e.g. `https://api.workonflow.com`.
        bot_id: the id of the bot that signs the requests.
        secret_key: the bot's secret key (never sent, never shown).
        team_id: the team whose path every request uses.
        timeout: seconds (or an httpx.Timeout) a request may take; 10 s when not given.
        httpx_args: arguments for the underlying httpx.Client, as httpx
            takes them (`headers`, `cookies`, `verify`, `follow_redirects`, `transport`,
            `event_hooks`, `limits`, ...), merged with the API's own; not `auth` (the bot's
            signature) nor `base_url`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        bot_id: str,
        secret_key: str,
        team_id: str,
        timeout: float | httpx.Timeout | None = None,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        signature = BotSignature(bot_id, secret_key)
        self.base_url = base_url
        self.bot_id = bot_id
        self.team_id = team_id
        self.client = Client(
            base_url=base_url,
            **client_arguments("CallApi", signature, timeout, httpx_args),
        )
        self.call = CallOperations(self)
        self.call_user = CallUserOperations(self)
        self.call_audio = CallAudioOperations(self)
        self.call_recording = CallRecordingOperations(self)
        self.call_stream = CallStreamOperations(self)

    def __repr__(self) -> str:
        return (
            f"CallApi(base_url={self.base_url!r}, bot_id={self.bot_id!r}, team_id={self.team_id!r})"
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.client.get_httpx_client().close()

    def __enter__(self) -> CallApi:
        self.client.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.client.__exit__(exc_type, exc, traceback)


class AsyncCallOperations:
    """The `call` operations (asyncio)."""

    def __init__(self, api: AsyncCallApi) -> None:
        self._api = api

    async def start(
        self,
        *,
        thread_id: str,
        direction: Direction | Unset = UNSET,
    ) -> CallStartResponse:
        """Start a call in a thread (`POST /{team_id}/call/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = CallStartRequest(
            thread_id=thread_id,
            direction=direction,
        )
        return await call_start.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def end(
        self,
        *,
        thread_id: str,
    ) -> CallEndResponse:
        """End the call in a thread (`POST /{team_id}/call/end`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_end.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def pause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallPauseResponse:
        """Put users of the call on pause (`POST /{team_id}/call/pause`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("pause() needs one of: user_id, user_ids")
        return await call_pause.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def unpause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUnpauseResponse:
        """Take users of the call off pause (`POST /{team_id}/call/unpause`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("unpause() needs one of: user_id, user_ids")
        return await call_unpause.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class AsyncCallUserOperations:
    """The `call_user` operations (asyncio)."""

    def __init__(self, api: AsyncCallApi) -> None:
        self._api = api

    async def invite(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserInviteResponse:
        """Invite users into the call (`POST /{team_id}/call.user/invite`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("invite() needs one of: user_id, user_ids")
        return await call_user_invite.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def exclude(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserExcludeResponse:
        """Exclude users from the call (`POST /{team_id}/call.user/exclude`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body: SingleUserRequest | UserListRequest
        if not isinstance(user_id, Unset):
            body = SingleUserRequest(
                thread_id=thread_id,
                user_id=user_id,
                user_ids=user_ids,
            )
        elif not isinstance(user_ids, Unset):
            body = UserListRequest(
                thread_id=thread_id,
                user_ids=user_ids,
            )
        else:
            raise TypeError("exclude() needs one of: user_id, user_ids")
        return await call_user_exclude.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class AsyncCallAudioOperations:
    """The `call_audio` operations (asyncio)."""

    def __init__(self, api: AsyncCallApi) -> None:
        self._api = api

    async def play(
        self,
        *,
        thread_id: str,
        file_url: str,
    ) -> OkResponse:
        """Play an audio file into the call (`POST /{team_id}/call.audio/play`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = CallAudioPlayRequest(
            thread_id=thread_id,
            file_url=file_url,
        )
        return await call_audio_play.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop the audio playing in the call (`POST /{team_id}/call.audio/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_audio_stop.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class AsyncCallRecordingOperations:
    """The `call_recording` operations (asyncio)."""

    def __init__(self, api: AsyncCallApi) -> None:
        self._api = api

    async def start(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Start recording the call (`POST /{team_id}/call.recording/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_recording_start.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> CallRecordingStopResponse:
        """Stop recording the call (`POST /{team_id}/call.recording/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_recording_stop.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class AsyncCallStreamOperations:
    """The `call_stream` operations (asyncio)."""

    def __init__(self, api: AsyncCallApi) -> None:
        self._api = api

    async def start(
        self,
        *,
        thread_id: str,
    ) -> CallStreamStartResponse:
        """Start streaming the call (`POST /{team_id}/call.stream/start`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_stream_start.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop streaming the call (`POST /{team_id}/call.stream/stop`).

        Raises errors.CallApiError when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await call_stream_stop.asyncio(
            team_id=self._api.team_id,
            client=self._api.client,
            body=body,
        )


class AsyncCallApi:
    """Workonflow Call API (asyncio), bound to a base URL, a bot and a team.

    `api.call.start(thread_id=...)` sends the request, signed by the bot (BotSignature), and
    returns the success model; any error answer raises errors.CallApiError. Use it as a
    context manager, or call `aclose()`, to release the connection pool.

    Args:
        base_url: the server, e.g. `https://api.workonflow.com`.
        bot_id: the id of the bot that signs the requests.
        secret_key: the bot's secret key (never sent, never shown).
        team_id: the team whose path every request uses.
        timeout: seconds (or an httpx.Timeout) a request may take; 10 s when not given.
        httpx_args: arguments for the underlying httpx.AsyncClient, as httpx
            takes them (`headers`, `cookies`, `verify`, `follow_redirects`, `transport`,
            `event_hooks`, `limits`, ...), merged with the API's own; not `auth` (the bot's
            signature) nor `base_url`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        bot_id: str,
        secret_key: str,
        team_id: str,
        timeout: float | httpx.Timeout | None = None,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        signature = BotSignature(bot_id, secret_key)
        self.base_url = base_url
        self.bot_id = bot_id
        self.team_id = team_id
        self.client = Client(
            base_url=base_url,
            **client_arguments("AsyncCallApi", signature, timeout, httpx_args),
        )
        self.call = AsyncCallOperations(self)
        self.call_user = AsyncCallUserOperations(self)
        self.call_audio = AsyncCallAudioOperations(self)
        self.call_recording = AsyncCallRecordingOperations(self)
        self.call_stream = AsyncCallStreamOperations(self)

    def __repr__(self) -> str:
        return (
            f"AsyncCallApi(base_url={self.base_url!r}, bot_id={self.bot_id!r}, "
            f"team_id={self.team_id!r})"
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncCallApi:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.client.__aexit__(exc_type, exc, traceback)


__all__ = [
    "AsyncCallApi",
    "BotSignature",
    "CallApi",
]
