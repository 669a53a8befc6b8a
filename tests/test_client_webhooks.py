"""The generated client's webhook receiver (`workonflow_call.webhooks`), against forgeries.

Deliveries are signed here by `contract.signing`, an implementation independent of the
client's; the events are the spec's own examples of its webhooks (`delivered`), so a new
webhook of the spec is tested with no edit. The receiver must return each as the model class
its webhook names, and refuse every forgery and every body that is not an event of the
contract with the error of its kind, naming the header or the field, never the secret key;
and it takes every event the reference server delivers to a real webhook.
"""

from __future__ import annotations

import email.message
import http.server
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")

from workonflow_call.webhooks import (
    BadSignature,
    Headers,
    InvalidTimestamp,
    MalformedEvent,
    MissingHeader,
    SignatureError,
    StaleTimestamp,
    UnknownBot,
    UnknownEventType,
    WebhookReceiver,
    parse_event,
)

from contract import demo
from contract.signing import (
    BOT_ID_HEADER,
    HEADERS,
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
)
from contract.spec import ROOT, follow, load
from reference_server import create_app
from reference_server.testing import serve_in_thread
from testkit.receiver import Receiver
from testkit.signed_requests import BotAuth

NOW = 1_800_000_000
BOT = Bot(demo.BOT_ID, demo.SECRET_KEY)
#: A secret key that is not the bot's.
WRONG_SECRET = "not-the-secret-key-4f1c"
SPEC = load().document


def delivered_examples() -> dict[str, tuple[str, dict[str, Any]]]:
    """Per webhook of the spec: the schema its body names and its `delivered` example."""
    found = {}
    for name, item in SPEC["webhooks"].items():
        content = follow(SPEC, item["post"]["requestBody"])["content"]["application/json"]
        schema = content["schema"]["$ref"].rsplit("/", 1)[-1]
        found[name] = (schema, content["examples"]["delivered"]["value"])
    return found


EXAMPLES = delivered_examples()
CREATED = json.dumps(EXAMPLES["call.created"][1]).encode()


def receiver() -> WebhookReceiver:
    return WebhookReceiver(BOT.bot_id, demo.SECRET_KEY, clock=lambda: NOW)


def signed(body: bytes, bot: Bot = BOT, at: int = NOW) -> dict[str, str]:
    return bot.headers(body, at)


def test_the_spec_has_the_seven_events() -> None:
    assert len(EXAMPLES) == 7


@pytest.mark.parametrize("webhook", sorted(EXAMPLES))
def test_a_signed_event_of_each_type_is_returned_as_its_model(webhook: str) -> None:
    schema, example = EXAMPLES[webhook]
    body = json.dumps(example).encode()
    event = receiver().receive(signed(body), body)
    assert type(event).__name__ == schema
    assert event.event_type == webhook
    assert event.to_dict() == example


@pytest.mark.parametrize("skew", [-(MAX_SKEW_SECONDS - 1), 0, MAX_SKEW_SECONDS - 1])
def test_a_timestamp_inside_the_window_is_accepted(skew: int) -> None:
    assert receiver().receive(signed(CREATED, at=NOW + skew), CREATED).event_type == "call.created"


def test_headers_are_read_in_any_case_and_as_asgi_or_http_server_gives_them() -> None:
    headers = signed(CREATED)
    lower = {name.lower(): value for name, value in headers.items()}
    asgi = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    message = email.message.Message()  # what http.server's `self.headers` is
    for name, value in headers.items():
        message[name.upper()] = value
    forms: tuple[Headers, ...] = (lower, asgi, message)
    for form in forms:
        assert receiver().receive(form, CREATED).event_type == "call.created"


def forgeries() -> dict[str, tuple[Mapping[str, str], bytes, type[SignatureError], str]]:
    """Each forgery: its headers, body, the error expected and what its message names."""
    good = signed(CREATED)
    other_body = json.dumps(EXAMPLES["call.ended"][1]).encode()
    cases: dict[str, tuple[Mapping[str, str], bytes, type[SignatureError], str]] = {}
    for header in HEADERS:
        without = {name: value for name, value in good.items() if name != header}
        cases[f"no {header}"] = (without, CREATED, MissingHeader, header)
        cases[f"empty {header}"] = ({**good, header: " "}, CREATED, MissingHeader, header)
    another_bot = Bot(demo.THREADS[0], demo.SECRET_KEY)
    cases["another bot"] = (signed(CREATED, another_bot), CREATED, UnknownBot, BOT_ID_HEADER)
    wrong_key = Bot(BOT.bot_id, WRONG_SECRET)
    cases["wrong secret key"] = (
        signed(CREATED, wrong_key),
        CREATED,
        BadSignature,
        SIGNATURE_HEADER,
    )
    cases["signature of another body"] = (
        signed(other_body),
        CREATED,
        BadSignature,
        SIGNATURE_HEADER,
    )
    reserialized = json.dumps(json.loads(CREATED), indent=1).encode()
    cases["body re-serialized"] = (signed(CREATED), reserialized, BadSignature, SIGNATURE_HEADER)
    cases["signature in upper case"] = (
        {**good, SIGNATURE_HEADER: good[SIGNATURE_HEADER].upper()},
        CREATED,
        BadSignature,
        SIGNATURE_HEADER,
    )
    cases["timestamp changed after signing"] = (
        {**good, TIMESTAMP_HEADER: str(NOW + 1)},
        CREATED,
        BadSignature,
        SIGNATURE_HEADER,
    )
    for skew, label in ((-(MAX_SKEW_SECONDS + 1), "stale"), (MAX_SKEW_SECONDS + 1, "future")):
        cases[f"{label} timestamp"] = (
            signed(CREATED, at=NOW + skew),
            CREATED,
            StaleTimestamp,
            TIMESTAMP_HEADER,
        )
    for stamp in (
        "12a",
        "-5",
        "+1800000000",
        "01800000000",
        "1e9",
        "1800000000.5",
        "١٨٠٠٠٠٠٠٠٠",
        "9" * 40,
    ):
        headers = {**good, TIMESTAMP_HEADER: stamp}
        cases[f"timestamp {stamp!r}"] = (headers, CREATED, InvalidTimestamp, TIMESTAMP_HEADER)
    return cases


FORGERIES = forgeries()


@pytest.mark.parametrize("forgery", FORGERIES)
def test_each_forgery_is_refused_naming_the_header(forgery: str) -> None:
    headers, body, error, named = FORGERIES[forgery]
    with pytest.raises(error) as raised:
        receiver().receive(headers, body)
    assert named in str(raised.value)
    assert demo.SECRET_KEY not in str(raised.value) and WRONG_SECRET not in str(raised.value)


def test_a_signature_header_given_twice_with_two_values_is_refused() -> None:
    headers = [*signed(CREATED).items(), (SIGNATURE_HEADER.lower(), "0" * 64)]
    with pytest.raises(SignatureError, match=SIGNATURE_HEADER):
        receiver().receive(headers, CREATED)


def test_the_secret_key_is_in_no_repr() -> None:
    assert demo.SECRET_KEY not in repr(receiver())
    assert demo.SECRET_KEY not in repr(vars(receiver()))


def test_a_body_decoded_to_text_is_refused_before_any_check() -> None:
    with pytest.raises(TypeError, match="raw bytes"):
        receiver().receive(signed(CREATED), CREATED.decode())  # type: ignore[arg-type]


def malformed() -> dict[str, tuple[Any, str | None]]:
    """Bodies that are no event of the contract, and the field each error must name."""
    created = EXAMPLES["call.created"][1]
    dtmf = EXAMPLES["call.dtmf"][1]
    without_stream = {key: value for key, value in created.items() if key != "streamId"}
    thread = created["threadId"]
    return {
        "not JSON": (b"{eventType: 'call.created'}", None),
        "not UTF-8": (b'{"eventType": "\xff"}', None),
        "a JSON array": (b"[]", None),
        "no eventType": ({"threadId": created["threadId"]}, "eventType"),
        "eventType a number": ({**created, "eventType": 1}, "eventType"),
        "streamId missing": (without_stream, "streamId"),
        "threadId too short": ({**created, "threadId": thread[:-1]}, "threadId"),
        "threadId with a newline": ({**created, "threadId": thread[1:] + "\n"}, "threadId"),
        "threadId in upper case": ({**created, "threadId": thread.upper()}, "threadId"),
        "createdAt a string": ({**created, "createdAt": str(created["createdAt"])}, "createdAt"),
        "createdAt a boolean": ({**created, "createdAt": True}, "createdAt"),
        "createdAt negative": ({**created, "createdAt": -1}, "createdAt"),
        "dtmfNumber a number": ({**dtmf, "dtmfNumber": 1}, "dtmfNumber"),
        "dtmfNumber two keys": ({**dtmf, "dtmfNumber": "12"}, "dtmfNumber"),
        "dtmfNumber not a key": ({**dtmf, "dtmfNumber": "a"}, "dtmfNumber"),
        "eventId empty": ({**created, "eventId": ""}, "eventId"),
    }


MALFORMED = malformed()


@pytest.mark.parametrize("case", MALFORMED)
def test_a_signed_body_that_is_no_event_is_refused_naming_the_field(case: str) -> None:
    data, field = MALFORMED[case]
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(MalformedEvent) as raised:
        receiver().receive(signed(body), body)
    assert raised.value.field == field
    if field is not None:
        assert field in str(raised.value)


def test_an_event_type_of_a_later_contract_is_told_apart_to_be_ignored() -> None:
    body = json.dumps({**EXAMPLES["call.created"][1], "eventType": "call.recorded"}).encode()
    with pytest.raises(UnknownEventType) as raised:
        receiver().receive(signed(body), body)
    assert raised.value.event_type == "call.recorded"
    assert not isinstance(raised.value, MalformedEvent | SignatureError)


def test_fields_of_a_later_contract_are_kept() -> None:
    event = parse_event({**EXAMPLES["call.ended"][1], "reason": "hangup"})
    assert event.additional_properties == {"reason": "hangup"}


def test_the_platforms_spelling_hold_is_not_an_event_of_the_contract() -> None:
    # docs/contract.md: the server sends `call.user.held`; `call.user.hold` is not the type.
    with pytest.raises(UnknownEventType):
        parse_event({**EXAMPLES["call.user.held"][1], "eventType": "call.user.hold"})


def readme_receiver() -> str:
    """The README's bot receiving events, without its last line (which serves forever)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(from http\.server import .*?)```", readme, re.DOTALL)
    assert found, "README.md has no example of a bot receiving events"
    code, last = found.group(1).rstrip().rsplit("\n", 1)
    assert last.endswith(".serve_forever()"), last
    return code


def test_the_readme_bot_takes_signed_events_and_refuses_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace: dict[str, Any] = {}
    exec(readme_receiver(), namespace)
    server = http.server.HTTPServer(("127.0.0.1", 0), namespace["Events"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/events"
    dtmf = json.dumps(EXAMPLES["call.dtmf"][1]).encode()
    later = json.dumps({**EXAMPLES["call.ended"][1], "eventType": "call.recorded"}).encode()
    try:
        with httpx.Client(timeout=10) as client:
            statuses = [
                client.post(url, content=body, headers=headers).status_code
                for body, headers in (
                    (CREATED, BOT.headers(CREATED)),
                    (dtmf, BOT.headers(dtmf)),
                    (later, BOT.headers(later)),
                    (CREATED, Bot(BOT.bot_id, WRONG_SECRET).headers(CREATED)),
                    (b"{}", BOT.headers(b"{}")),
                )
            ]
    finally:
        server.shutdown()
        server.server_close()
    assert statuses == [204, 204, 204, 401, 400]
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"call started in thread {EXAMPLES['call.created'][1]['threadId']}",
        f"key pressed: {EXAMPLES['call.dtmf'][1]['dtmfNumber']}",
    ]


def test_every_event_the_sandbox_delivers_is_received_as_its_model() -> None:
    """Real deliveries: the reference server's webhook posts, checked on the real clock."""
    thread, (first, second) = demo.THREADS[0], demo.USERS[:2]
    schemas = {name: schema for name, (schema, _) in EXAMPLES.items()}
    with Receiver() as sink:
        app = create_app(":memory:", webhooks=[sink.url])
        try:
            with (
                serve_in_thread(app) as base_url,
                httpx.Client(base_url=base_url, auth=BotAuth(), timeout=30) as client,
            ):
                for path, body in (
                    ("call/start", {}),
                    ("call.user/invite", {"userIds": [first, second]}),
                    ("call/pause", {"userId": first}),
                    ("call/unpause", {"userId": first}),
                    ("call.user/exclude", {"userId": first}),
                    ("_sandbox/{team}/dtmf", {"dtmfNumber": "#"}),
                    ("_sandbox/{team}/hangup", {"userIds": [second]}),
                    ("call/end", {}),
                ):
                    url = f"/{path}" if path.startswith("_") else f"/{{team}}/{path}"
                    answer = client.post(
                        url.format(team=demo.TEAM), json={"threadId": thread, **body}
                    )
                    assert answer.status_code == 200, answer.text
                sink.wait_for(9)
        finally:
            app.close()
    live = WebhookReceiver(demo.BOT_ID, demo.SECRET_KEY)
    events = [live.receive(attempt.headers, attempt.body) for attempt in sink.taken]
    assert [(event.event_type, type(event).__name__) for event in events] == [
        (name, schemas[name])
        for name in (
            "call.created",
            "call.user.invited",
            "call.user.invited",
            "call.user.held",
            "call.user.unheld",
            "call.user.kicked",
            "call.dtmf",
            "call.user.kicked",
            "call.ended",
        )
    ]
    assert {type(event).__name__ for event in events} == set(schemas.values())
    # A delivery changed by one byte is no longer the platform's.
    attempt = sink.taken[0]
    with pytest.raises(BadSignature):
        live.receive(attempt.headers, attempt.body.replace(b"call.created", b"call.createe"))
