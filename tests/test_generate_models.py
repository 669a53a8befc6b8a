"""The generated pydantic models behave as the contract says."""

from __future__ import annotations

import typing

import pydantic
import pytest

from contract import demo
from contract.spec import follow, load

m = pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

THREAD = demo.THREADS[0]
USER, OTHER = demo.USERS[:2]


def test_class_and_field_names_are_the_spec_s() -> None:
    for name in (
        "CallStartRequest",
        "ThreadRequest",
        "SingleUserRequest",
        "UserListRequest",
        "UsersRequest",
        "CallAudioPlayRequest",
        "OkResponse",
        "CallStartResponse",
        "CallEndResponse",
        "CallUserInviteResponse",
        "ErrorResponse",
        "FieldError",
        "Direction",
    ):
        assert hasattr(m, name), name
    assert set(m.CallStartRequest.model_fields) == {"threadId", "direction"}
    assert set(m.CallEndResponseData.model_fields) == {
        "callDuration",
        "dialogDuration",
        "result",
        "direction",
    }


def test_request_models_reject_unknown_fields() -> None:
    with pytest.raises(pydantic.ValidationError, match="userid"):
        m.SingleUserRequest.model_validate({"threadId": THREAD, "userId": USER, "userid": USER})
    with pytest.raises(pydantic.ValidationError):
        m.CallStartRequest.model_validate({"threadId": THREAD, "extra": 1})


def test_response_models_keep_unknown_fields() -> None:
    answer = {"code": 200, "message": "OK", "data": {"direction": "incoming", "new": 1}, "x": 2}
    parsed = m.CallStartResponse.model_validate(answer)
    assert parsed.model_extra == {"x": 2}
    assert parsed.data.model_extra == {"new": 1}
    assert parsed.model_dump(mode="json") == answer


def test_ids_are_plain_constrained_strings() -> None:
    request = m.UserListRequest(threadId=THREAD, userIds=[USER, OTHER])
    assert request.userIds == [USER, OTHER]
    assert type(request.userIds[0]) is str
    assert typing.get_origin(m.ObjectId) is typing.Annotated
    for bad in ("5B0525134C0319001573485E", THREAD[:-1], THREAD + "0"):
        with pytest.raises(pydantic.ValidationError):
            m.ThreadRequest(threadId=bad)


def test_unique_items_are_enforced() -> None:
    with pytest.raises(pydantic.ValidationError, match="items must be unique, repeated: '"):
        m.UserListRequest(threadId=THREAD, userIds=[USER, OTHER, USER])
    with pytest.raises(pydantic.ValidationError, match="items must be unique"):
        m.SingleUserRequest(threadId=THREAD, userId=USER, userIds=[OTHER, OTHER])
    assert m.SingleUserRequest(threadId=THREAD, userId=USER).userIds is None


def test_users_request_is_one_of_the_two_shapes() -> None:
    one = m.UsersRequest.model_validate({"threadId": THREAD, "userId": USER})
    several = m.UsersRequest.model_validate({"threadId": THREAD, "userIds": [USER]})
    both = m.UsersRequest.model_validate({"threadId": THREAD, "userId": USER, "userIds": [OTHER]})
    assert isinstance(one.root, m.SingleUserRequest)
    assert isinstance(several.root, m.UserListRequest)
    assert isinstance(both.root, m.SingleUserRequest)
    with pytest.raises(pydantic.ValidationError):
        m.UsersRequest.model_validate({"threadId": THREAD})
    with pytest.raises(pydantic.ValidationError):
        m.UsersRequest.model_validate({"threadId": THREAD, "userIds": []})


def test_defaults_and_constraints() -> None:
    assert m.CallStartRequest(threadId=THREAD).direction == "outgoing"
    assert m.CallStartRequest(threadId=THREAD).model_dump(exclude_unset=True) == {
        "threadId": THREAD
    }
    m.CallAudioPlayRequest(threadId=THREAD, fileUrl="https://url.to.your/audiofile.MP3")
    with pytest.raises(pydantic.ValidationError):
        m.CallAudioPlayRequest(threadId=THREAD, fileUrl="https://url.to.your/audiofile.ogg")
    with pytest.raises(pydantic.ValidationError):
        m.ErrorResponse(code=200, message="OK")
    with pytest.raises(pydantic.ValidationError):
        m.CallUserInviteResponse.model_validate(
            {"code": 200, "message": "OK", "data": {"invitedUsersCount": -1}}
        )


def test_call_event_is_a_union_discriminated_by_event_type() -> None:
    from workonflow_call_models.events import CallEvent

    spec = load().document
    for name, item in spec["webhooks"].items():
        content = follow(spec, item["post"]["requestBody"])["content"]["application/json"]
        example = content["examples"]["delivered"]["value"]
        event = CallEvent.model_validate(example).root
        assert type(event).__name__ == content["schema"]["$ref"].rsplit("/", 1)[-1], name
        assert event.model_dump(exclude_none=True) == example
    # The discriminator picks the one member: its error names that member's field alone.
    with pytest.raises(pydantic.ValidationError) as raised:
        CallEvent.model_validate(
            {"eventType": "call.dtmf", "threadId": THREAD, "streamId": THREAD, "dtmfNumber": "12"}
        )
    assert [error["loc"] for error in raised.value.errors()] == [("call.dtmf", "dtmfNumber")]
    with pytest.raises(pydantic.ValidationError, match="union_tag_invalid"):
        CallEvent.model_validate({"eventType": "call.user.hold", "threadId": THREAD})
