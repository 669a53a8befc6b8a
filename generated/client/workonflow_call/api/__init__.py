# Generated from openapi.yaml version 2.4.0. Do not edit.
"""The API bound to a server, a bot and a team: `CallApi` (blocking) and `AsyncCallApi`,
and `BotSignature`, which signs every request they send."""

from __future__ import annotations

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
from ..runtime import AsyncApi, BotSignature, SyncApi
from ..types import UNSET, Unset
from .call import call_end, call_pause, call_start, call_unpause
from .call_audio import call_audio_play, call_audio_stop
from .call_recording import call_recording_start, call_recording_stop
from .call_stream import call_stream_start, call_stream_stop
from .call_user import call_user_exclude, call_user_invite


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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = CallStartRequest(
            thread_id=thread_id,
            direction=direction,
        )
        return self._api.send(
            call_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_start._parse_success,
        )

    def end(
        self,
        *,
        thread_id: str,
    ) -> CallEndResponse:
        """End the call in a thread (`POST /{team_id}/call/end`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_end._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_end._parse_success,
        )

    def pause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallPauseResponse:
        """Put users of the call on pause (`POST /{team_id}/call/pause`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return self._api.send(
            call_pause._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_pause._parse_success,
        )

    def unpause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUnpauseResponse:
        """Take users of the call off pause (`POST /{team_id}/call/unpause`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return self._api.send(
            call_unpause._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_unpause._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return self._api.send(
            call_user_invite._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_user_invite._parse_success,
        )

    def exclude(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserExcludeResponse:
        """Exclude users from the call (`POST /{team_id}/call.user/exclude`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return self._api.send(
            call_user_exclude._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_user_exclude._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = CallAudioPlayRequest(
            thread_id=thread_id,
            file_url=file_url,
        )
        return self._api.send(
            call_audio_play._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_audio_play._parse_success,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop the audio playing in the call (`POST /{team_id}/call.audio/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_audio_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_audio_stop._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_recording_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_recording_start._parse_success,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> CallRecordingStopResponse:
        """Stop recording the call (`POST /{team_id}/call.recording/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_recording_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_recording_stop._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_stream_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_stream_start._parse_success,
        )

    def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop streaming the call (`POST /{team_id}/call.stream/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return self._api.send(
            call_stream_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_stream_stop._parse_success,
        )


class CallApi(SyncApi):
    """Workonflow Call API, bound to a base URL, a bot and a team.

    `api.call.start(thread_id=...)` sends the request, signed by the bot
    (BotSignature), and returns the success model; an error answer raises errors.CallApiError
    (a subclass by status); requests the server did not carry out (429, 503, no connection)
    are retried.
    Use it as a context manager, or call `close()`, to release the connection pool;
    `with_options(...)` gives the same API with other options for its calls. The arguments are
    runtime.BoundApi's.
    """

    call: CallOperations
    call_user: CallUserOperations
    call_audio: CallAudioOperations
    call_recording: CallRecordingOperations
    call_stream: CallStreamOperations

    def _bind(self) -> None:
        self.call = CallOperations(self)
        self.call_user = CallUserOperations(self)
        self.call_audio = CallAudioOperations(self)
        self.call_recording = CallRecordingOperations(self)
        self.call_stream = CallStreamOperations(self)


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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = CallStartRequest(
            thread_id=thread_id,
            direction=direction,
        )
        return await self._api.send(
            call_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_start._parse_success,
        )

    async def end(
        self,
        *,
        thread_id: str,
    ) -> CallEndResponse:
        """End the call in a thread (`POST /{team_id}/call/end`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_end._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_end._parse_success,
        )

    async def pause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallPauseResponse:
        """Put users of the call on pause (`POST /{team_id}/call/pause`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return await self._api.send(
            call_pause._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_pause._parse_success,
        )

    async def unpause(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUnpauseResponse:
        """Take users of the call off pause (`POST /{team_id}/call/unpause`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return await self._api.send(
            call_unpause._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_unpause._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return await self._api.send(
            call_user_invite._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_user_invite._parse_success,
        )

    async def exclude(
        self,
        *,
        thread_id: str,
        user_id: str | Unset = UNSET,
        user_ids: list[str] | Unset = UNSET,
    ) -> CallUserExcludeResponse:
        """Exclude users from the call (`POST /{team_id}/call.user/exclude`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
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
        return await self._api.send(
            call_user_exclude._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_user_exclude._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = CallAudioPlayRequest(
            thread_id=thread_id,
            file_url=file_url,
        )
        return await self._api.send(
            call_audio_play._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_audio_play._parse_success,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop the audio playing in the call (`POST /{team_id}/call.audio/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_audio_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_audio_stop._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_recording_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_recording_start._parse_success,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> CallRecordingStopResponse:
        """Stop recording the call (`POST /{team_id}/call.recording/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_recording_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_recording_stop._parse_success,
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

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_stream_start._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_stream_start._parse_success,
        )

    async def stop(
        self,
        *,
        thread_id: str,
    ) -> OkResponse:
        """Stop streaming the call (`POST /{team_id}/call.stream/stop`).

        Raises errors.CallApiError (a subclass by status) when the server answers with an error.
        """
        body = ThreadRequest(
            thread_id=thread_id,
        )
        return await self._api.send(
            call_stream_stop._get_kwargs(
                team_id=self._api.team_id,
                body=body,
            ),
            call_stream_stop._parse_success,
        )


class AsyncCallApi(AsyncApi):
    """Workonflow Call API (asyncio), bound to a base URL, a bot and a team.

    `await api.call.start(thread_id=...)` sends the request, signed by the bot
    (BotSignature), and returns the success model; an error answer raises errors.CallApiError
    (a subclass by status); requests the server did not carry out (429, 503, no connection)
    are retried.
    Use it as an async context manager, or call `aclose()`, to release the connection pool;
    `with_options(...)` gives the same API with other options for its calls. The arguments are
    runtime.BoundApi's.
    """

    call: AsyncCallOperations
    call_user: AsyncCallUserOperations
    call_audio: AsyncCallAudioOperations
    call_recording: AsyncCallRecordingOperations
    call_stream: AsyncCallStreamOperations

    def _bind(self) -> None:
        self.call = AsyncCallOperations(self)
        self.call_user = AsyncCallUserOperations(self)
        self.call_audio = AsyncCallAudioOperations(self)
        self.call_recording = AsyncCallRecordingOperations(self)
        self.call_stream = AsyncCallStreamOperations(self)


__all__ = [
    "AsyncCallApi",
    "BotSignature",
    "CallApi",
]
