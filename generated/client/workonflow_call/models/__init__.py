# Generated from openapi.yaml version 2.4.0. Do not edit.
"""Contains all the data models used in inputs/outputs"""

from .call_audio_play_request import CallAudioPlayRequest
from .call_created_event import CallCreatedEvent
from .call_dtmf_event import CallDtmfEvent
from .call_end_response import CallEndResponse
from .call_end_response_data import CallEndResponseData
from .call_ended_event import CallEndedEvent
from .call_pause_response import CallPauseResponse
from .call_pause_response_data import CallPauseResponseData
from .call_recording_stop_response import CallRecordingStopResponse
from .call_recording_stop_response_data import CallRecordingStopResponseData
from .call_start_request import CallStartRequest
from .call_start_response import CallStartResponse
from .call_start_response_data import CallStartResponseData
from .call_stream_start_response import CallStreamStartResponse
from .call_stream_start_response_data import CallStreamStartResponseData
from .call_unpause_response import CallUnpauseResponse
from .call_unpause_response_data import CallUnpauseResponseData
from .call_user_exclude_response import CallUserExcludeResponse
from .call_user_exclude_response_data import CallUserExcludeResponseData
from .call_user_held_event import CallUserHeldEvent
from .call_user_invite_response import CallUserInviteResponse
from .call_user_invite_response_data import CallUserInviteResponseData
from .call_user_invited_event import CallUserInvitedEvent
from .call_user_kicked_event import CallUserKickedEvent
from .call_user_unheld_event import CallUserUnheldEvent
from .direction import Direction
from .error_response import ErrorResponse
from .field_error import FieldError
from .ok_response import OkResponse
from .single_user_request import SingleUserRequest
from .thread_request import ThreadRequest
from .user_list_request import UserListRequest

__all__ = (
    "CallAudioPlayRequest",
    "CallCreatedEvent",
    "CallDtmfEvent",
    "CallEndedEvent",
    "CallEndResponse",
    "CallEndResponseData",
    "CallPauseResponse",
    "CallPauseResponseData",
    "CallRecordingStopResponse",
    "CallRecordingStopResponseData",
    "CallStartRequest",
    "CallStartResponse",
    "CallStartResponseData",
    "CallStreamStartResponse",
    "CallStreamStartResponseData",
    "CallUnpauseResponse",
    "CallUnpauseResponseData",
    "CallUserExcludeResponse",
    "CallUserExcludeResponseData",
    "CallUserHeldEvent",
    "CallUserInvitedEvent",
    "CallUserInviteResponse",
    "CallUserInviteResponseData",
    "CallUserKickedEvent",
    "CallUserUnheldEvent",
    "Direction",
    "ErrorResponse",
    "FieldError",
    "OkResponse",
    "SingleUserRequest",
    "ThreadRequest",
    "UserListRequest",
)
