"""Request bodies, validated with the pydantic models generated from openapi.yaml.

The models (`workonflow_call_models`) are the single source of the request rules; this module
only turns a body into plain values, and a `ValidationError` into the `errors` list of the
error envelope (`[{field, message}]`, the field as a dotted path such as `userIds.1`).

Two rules get extra care here. `userIds` holds distinct ids (`uniqueItems`, which a pydantic
model only enforces when its generator adds a validator): the server checks it too, and names
each repeated item (`userIds.2`: repeats `userIds.0`). For `UsersRequest` (a union of
`SingleUserRequest` and `UserListRequest`) the errors reported are those of the branch the
body was meant for: `SingleUserRequest` when it has `userId`, `UserListRequest` otherwise.
No field of the contract is nullable: an explicit `null` is refused even where a model
makes an optional field so.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from workonflow_call_models import (
    CallAudioPlayRequest,
    CallStartRequest,
    ThreadRequest,
    UsersRequest,
)

FieldErrors = list[dict[str, str]]

OBJECT_ID_MESSAGE = "must be 24 lowercase hexadecimal characters"


class InvalidBody(Exception):
    """The body is not valid JSON or does not match the operation's schema (HTTP 400)."""

    def __init__(self, message: str, errors: FieldErrors) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    if isinstance(error, UnicodeDecodeError):
        return f"is not valid UTF-8 (byte {error.start})"
    if isinstance(error, RecursionError):
        return "is nested too deeply"
    return str(error)  # parse_constant's own message: "NaN is not valid JSON"


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (UTF-8, as RFC 8259 asks), or InvalidBody naming the fault."""
    try:
        value = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors; the message names
        # the fault in the JSON, never Python's own wording (codecs, recursion).
        reason = _reason(error)
        raise InvalidBody(
            "The request body is not valid JSON", [{"field": "body", "message": reason}]
        ) from None
    if not isinstance(value, dict):
        raise InvalidBody(
            "Invalid request body", [{"field": "body", "message": "must be a JSON object"}]
        )
    return value


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part != "root"]
    return ".".join(parts) if parts else "body"


_ID_FIELDS = frozenset({"threadId", "userId", "userIds"})
_STRING_SHAPE = frozenset({"string_pattern_mismatch", "string_too_short", "string_too_long"})


def _message(error: ErrorDetails, field: str) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    name = next((part for part in reversed(field.split(".")) if not part.isdigit()), field)
    if kind in _STRING_SHAPE and name in _ID_FIELDS:
        return OBJECT_ID_MESSAGE
    if kind == "string_pattern_mismatch" and name == "fileUrl":
        return "must be an http(s) URL whose path ends in .mp3 or .wav"
    return str(error["msg"])


def _field_errors(errors: list[ErrorDetails], data: dict[str, Any], skip: int = 0) -> FieldErrors:
    result: FieldErrors = []
    for error in errors:
        field = _field(tuple(error["loc"])[skip:])
        user_ids = data.get("userIds")
        if field == "userIds" and error["type"] == "value_error" and isinstance(user_ids, list):
            # A model's own uniqueItems check names the list; name each repeated item instead.
            found = _duplicates(user_ids)
            if found:
                result.extend(entry for entry in found if entry not in result)
                continue
        entry = {"field": field, "message": _message(error, field)}
        if entry not in result:
            result.append(entry)
    return result


def _duplicates(user_ids: list[Any]) -> FieldErrors:
    first: dict[Any, int] = {}
    errors: FieldErrors = []
    for index, user in enumerate(user_ids):
        if not isinstance(user, str):
            continue
        if user in first:
            errors.append(
                {"field": f"userIds.{index}", "message": f"repeats userIds.{first[user]}"}
            )
        else:
            first[user] = index
    return errors


def _invalid(errors: FieldErrors) -> InvalidBody:
    return InvalidBody("Invalid request body", errors)


def _validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        validated = model.model_validate(data)
    except ValidationError as error:
        raise _invalid(_field_errors(error.errors(include_url=False), data)) from None
    _refuse_nulls(data)
    return validated


def _refuse_nulls(data: dict[str, Any]) -> None:
    """No field of the contract is nullable, even where a model makes an optional one so."""
    nulls = [
        {"field": key, "message": "must not be null"}
        for key, value in data.items()
        if value is None
    ]
    if nulls:
        raise _invalid(nulls)


# -- the request bodies of the operations -----------------------------------------------------
#
# Once a model has accepted a body, the values are read from the body itself: they are JSON
# strings and lists that the models check without converting, and this is faster than
# unwrapping the models' root types.


def thread_request(data: dict[str, Any]) -> dict[str, Any]:
    _validate(ThreadRequest, data)
    return data


#: The `direction` of `call/start` when the body has none (the spec's default, as generated).
_DEFAULT_DIRECTION: str = CallStartRequest.model_fields["direction"].default.value


def call_start_request(data: dict[str, Any]) -> dict[str, Any]:
    _validate(CallStartRequest, data)
    return {"threadId": data["threadId"], "direction": data.get("direction", _DEFAULT_DIRECTION)}


def call_audio_play_request(data: dict[str, Any]) -> dict[str, Any]:
    _validate(CallAudioPlayRequest, data)
    return data


def _union_members(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    annotation = model.model_fields["root"].annotation
    return {member.__name__: member for member in typing.get_args(annotation)}


_USERS_MEMBERS = _union_members(UsersRequest)


def users_request(data: dict[str, Any]) -> dict[str, Any]:
    """`threadId` and the list of users (`userId` wins over `userIds`, as the contract says)."""
    try:
        UsersRequest.model_validate(data)
    except ValidationError as error:
        raise _invalid(_users_errors(data, error.errors(include_url=False))) from None
    _refuse_nulls(data)
    user_ids = data.get("userIds")
    if user_ids and len(set(user_ids)) != len(user_ids):
        raise _invalid(_duplicates(user_ids))
    user_id = data.get("userId")
    return {"threadId": data["threadId"], "userIds": [user_id] if user_id else user_ids}


def _users_errors(data: dict[str, Any], errors: list[ErrorDetails]) -> FieldErrors:
    """The errors of the union branch the body was meant for."""
    if "userId" in data:
        branch = "SingleUserRequest"
    elif "userIds" in data:
        branch = "UserListRequest"
    else:
        branch = ""
    by_branch: dict[str, list[ErrorDetails]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        name = str(loc[0]) if loc and loc[0] in _USERS_MEMBERS else ""
        by_branch.setdefault(name, []).append(error)
    if "" in by_branch or not by_branch:  # not a union error: report it as it is
        return _field_errors(errors, data)
    if branch:
        chosen = by_branch.get(branch) or next(iter(by_branch.values()))
        return _field_errors(chosen, data, skip=1)
    # Neither userId nor userIds: report that, then what else is wrong with the body.
    result = [{"field": "userId", "message": "userId or userIds is required"}]
    others = [
        error
        for error in by_branch.get("UserListRequest", [])
        if not (error["type"] == "missing" and tuple(error["loc"])[1:] == ("userIds",))
    ]
    return result + _field_errors(others, data, skip=1)


#: The validator of each request schema, by schema name.
VALIDATORS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ThreadRequest": thread_request,
    "CallStartRequest": call_start_request,
    "CallAudioPlayRequest": call_audio_play_request,
    "UsersRequest": users_request,
}
