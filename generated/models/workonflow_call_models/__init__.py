# Generated from openapi.yaml version 2.4.0. Do not edit.

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

ObjectId: TypeAlias = Annotated[
    str,
    Field(
        examples=["5b0525134c0319001573485e"],
        max_length=24,
        min_length=24,
        pattern="^[0-9a-f]{24}$",
    ),
]
"""
A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
"""


class Direction(StrEnum):
    """
    The direction of a call.
    """

    incoming = "incoming"
    outgoing = "outgoing"


class CallStartRequest(BaseModel):
    """
    Start a call in a thread.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    direction: Direction = Direction.outgoing
    """
    The direction of the call. Not in the source document: `outgoing` when left out.
    """


class ThreadRequest(BaseModel):
    """
    The thread whose call the operation acts on.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """


class SingleUserRequest(BaseModel):
    """
    One user, by `userId`. A `userIds` given beside it is ignored, as the source document says (it must still be a valid list).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    userId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    userIds: Annotated[list[ObjectId] | None, Field(max_length=100, min_length=1)] = None
    """
    Several users, by id. Not in the source document: at least one, at most 100, no id twice.
    """

    @field_validator("userIds")
    @classmethod
    def _userIds_items_are_unique(cls, value: list[ObjectId] | None) -> list[ObjectId] | None:
        """Reject a repeated item: the schema says `uniqueItems`, which pydantic does not check."""
        if value is not None:
            repeated = [item for index, item in enumerate(value) if item in value[:index]]
            if repeated:
                raise ValueError(f"items must be unique, repeated: {repeated[0]!r}")
        return value


class UserListRequest(BaseModel):
    """
    Several users, by `userIds`. A body that also has `userId` is a `SingleUserRequest` (the source document ignores `userIds` then), so this schema says `not` required `userId`: the two branches of `UsersRequest` exclude each other by their own constraints, also for generators that do not honour `additionalProperties: false`.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    userIds: Annotated[list[ObjectId], Field(max_length=100, min_length=1)]
    """
    Several users, by id. Not in the source document: at least one, at most 100, no id twice.
    """

    @field_validator("userIds")
    @classmethod
    def _userIds_items_are_unique(cls, value: list[ObjectId]) -> list[ObjectId]:
        """Reject a repeated item: the schema says `uniqueItems`, which pydantic does not check."""
        if value is not None:
            repeated = [item for index, item in enumerate(value) if item in value[:index]]
            if repeated:
                raise ValueError(f"items must be unique, repeated: {repeated[0]!r}")
        return value


class UsersRequest(RootModel[SingleUserRequest | UserListRequest]):
    root: SingleUserRequest | UserListRequest
    """
    The thread, and either `userId` or `userIds` (the source document requires one of the two). A body with both is a `SingleUserRequest` (and never a `UserListRequest`, which excludes `userId`); a body with neither is invalid.
    """


class CallAudioPlayRequest(BaseModel):
    """
    Play an audio file into the call of a thread.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    fileUrl: Annotated[
        str,
        Field(
            examples=["https://url.to.your/audiofile.mp3"],
            max_length=2048,
            min_length=12,
            pattern='^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/([!-"$->@-~]*/)?[!-"$-.0->@-~]+\\.([Mm][Pp]3|[Ww][Aa][Vv])(\\?[!-"$-~]*)?$',
        ),
    ]
    """
    The http(s) URL of the file to play; its path ends in `.mp3` or `.wav`, in any case. Not in the source document: at most 2048 characters, printable ASCII only (other characters are percent-encoded, as RFC 3986 asks). The pattern names its character ranges instead of using `\\s`, which regex engines read differently.
    """


class OkResponse(BaseModel):
    """
    The envelope of a success that carries no data.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    """
    Always 200, the HTTP status.
    """
    message: Literal["OK"]
    """
    Always `OK`.
    """


class CallStartResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    direction: Direction


class CallEndResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    callDuration: Annotated[int, Field(ge=0)]
    """
    The whole call, from start to end, in whole seconds.
    """
    dialogDuration: Annotated[int, Field(ge=0)]
    """
    The time spent talking, in whole seconds; never more than `callDuration`. Not in the source document: from the first user who joined to the end.
    """
    result: Annotated[str, Field(examples=["answered", "unanswered"], min_length=1)]
    """
    The result of the call. Not in the source document, which names no values: the reference server answers `answered` when anybody joined the call and `unanswered` otherwise; clients should accept other values.
    """
    direction: Direction


class CallUserInviteResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    invitedUsersCount: Annotated[int, Field(ge=0)]
    """
    How many of the named users the operation changed; zero is a valid answer. The source document types the counts as strings but shows numbers: they are integers.
    """


class CallUserInviteResponse(BaseModel):
    """
    Users were invited.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallUserInviteResponseData


class CallUserExcludeResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    excludedUsersCount: Annotated[int, Field(ge=0)]
    """
    How many of the named users the operation changed; zero is a valid answer. The source document types the counts as strings but shows numbers: they are integers.
    """


class CallUserExcludeResponse(BaseModel):
    """
    Users were excluded.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallUserExcludeResponseData


class CallPauseResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    pausedUsersCount: Annotated[int, Field(ge=0)]
    """
    How many of the named users the operation changed; zero is a valid answer. The source document types the counts as strings but shows numbers: they are integers.
    """


class CallPauseResponse(BaseModel):
    """
    Users were put on pause.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallPauseResponseData


class CallUnpauseResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    unpausedUsersCount: Annotated[int, Field(ge=0)]
    """
    How many of the named users the operation changed; zero is a valid answer. The source document types the counts as strings but shows numbers: they are integers.
    """


class CallUnpauseResponse(BaseModel):
    """
    Users were taken off pause.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallUnpauseResponseData


class CallRecordingStopResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    fileUrl: str
    """
    The URL of the recorded file.
    """


class CallRecordingStopResponse(BaseModel):
    """
    A recording stopped.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallRecordingStopResponseData


class CallStreamStartResponseData(BaseModel):
    model_config = ConfigDict(
        extra="allow",
    )
    streamUrl: str
    """
    The URL of the stream.
    """


class CallStreamStartResponse(BaseModel):
    """
    A stream started.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallStreamStartResponseData


class FieldError(BaseModel):
    """
    One field that is wrong.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    field: str
    """
    The field, as a JSON pointer-like dotted path (`userIds.1`), or `body`.
    """
    message: str
    """
    What is wrong with it.
    """


class CallCreatedEvent(BaseModel):
    """
    `call.created`: a call started in the thread. `createdAt` is in milliseconds, as the source's example shows (1539761084401). Not in the source document: `eventId`, and that the event's fields are open (a receiver ignores fields it does not know).
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.created"]
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    createdAt: Annotated[int, Field(ge=0)]
    """
    When the call started, in Unix time in milliseconds (the source types it a number; its example, 1539761084401, is in milliseconds).
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallEndedEvent(BaseModel):
    """
    `call.ended`: the call of the thread ended. The durations and the result are not in it (the source's events page says they come later, in a comment on the call); the answer to `call/end` carries them. Not in the source document: `eventId`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.ended"]
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallUserInvitedEvent(BaseModel):
    """
    `call.user.invited`: a user was called into the conference. `contactId` is the id of that user, the id the request named as `userId` (the source's events page calls it `contactId`, its requests `userId`). Not in the source document: `eventId`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.user.invited"]
    phoneNumber: Annotated[str, Field(examples=["89536052307"], max_length=32, min_length=1)]
    """
    The phone number the user is called at or was called at, as the platform writes it (the source's example: `89536052307`).
    """
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    contactId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallUserKickedEvent(BaseModel):
    """
    `call.user.kicked`: a user was removed from the conference. `contactId` is the id of that user, the id the request named as `userId`. Not in the source document: `eventId`, and that a user who hangs up is kicked too.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.user.kicked"]
    phoneNumber: Annotated[str, Field(examples=["89536052307"], max_length=32, min_length=1)]
    """
    The phone number the user is called at or was called at, as the platform writes it (the source's example: `89536052307`).
    """
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    contactId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallUserHeldEvent(BaseModel):
    """
    `call.user.held`: a user of the call was put on hold. The type is spelled as the source's heading; its example's `call.user.hold` is not sent (a receiver may read it as this event). Not in the source document: `eventId`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.user.held"]
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    userId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallUserUnheldEvent(BaseModel):
    """
    `call.user.unheld`: a user of the call was taken off hold. The type is spelled as the source's heading; its example's `call.user.unhold` is not sent (a receiver may read it as this event). Not in the source document: `eventId`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.user.unheld"]
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    userId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallDtmfEvent(BaseModel):
    """
    `call.dtmf`: a user of the call pressed a key. The field is named as the source's table (`dtmfNumber`, not its example's `dtmf`). Not in the source document: the key is a string of one character, `0`-`9`, `*` or `#` (the table types it a number, which cannot carry `*` or `#`; the example sends the string `'1'`), and `eventId`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    eventType: Literal["call.dtmf"]
    threadId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    A Workonflow id: 24 lowercase hexadecimal characters (a MongoDB ObjectId, as in every example of the source document).
    """
    streamId: Annotated[
        str,
        Field(
            examples=["5b0525134c0319001573485e"],
            max_length=24,
            min_length=24,
            pattern="^[0-9a-f]{24}$",
        ),
    ]
    """
    The stream (Workonflow's container of threads) that the call's thread belongs to; the requests never name it. Not in the source document: every event of a thread carries the same `streamId`.
    """
    dtmfNumber: Annotated[str, Field(max_length=1, min_length=1, pattern="^[0-9*#]$")]
    """
    The key pressed, one of `0123456789*#`.
    """
    eventId: Annotated[
        str | None,
        Field(examples=["0e4c2f3a9b8d7c6e5f4a3b2c1d0e9f8a"], max_length=64, min_length=1),
    ] = None
    """
    Not in the source document: the id of one event, the same in every delivery of it (a delivery that failed is retried), so that a receiver can drop an event it already took. Every webhook delivery carries it; the platform's other channels may not.
    """


class CallStartResponse(BaseModel):
    """
    A call started.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallStartResponseData


class CallEndResponse(BaseModel):
    """
    A call ended.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Literal[200]
    message: Literal["OK"]
    data: CallEndResponseData


class ErrorResponse(BaseModel):
    """
    The envelope of an error. Not in the source document, which shows no errors: the same envelope as a success, `code` equal to the HTTP status, and `errors` naming each field that is wrong.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: Annotated[int, Field(ge=400, le=599)]
    """
    The HTTP status.
    """
    message: Annotated[str, Field(min_length=1)]
    """
    What went wrong, for a person to read.
    """
    errors: list[FieldError] | None = None
