"""The call events of the spec (`webhooks`) hold to Workonflow's events page and to the
readings that docs/contract.md pins for its inconsistencies."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from contract.rules import PLATFORM, RULES
from contract.spec import SpecError, load, parse
from testkit.spec import SpecSchemas, pointer

# The events page as docs/contract.md summarises it: each event (heading) and the fields of
# its table. Written here, not read from the spec, so that the spec is checked against it.
SOURCE_EVENTS = {
    "call.created": {"eventType", "threadId", "streamId", "createdAt"},
    "call.ended": {"eventType", "threadId", "streamId"},
    "call.user.invited": {"eventType", "phoneNumber", "threadId", "streamId", "contactId"},
    "call.user.kicked": {"eventType", "phoneNumber", "threadId", "streamId", "contactId"},
    "call.user.held": {"eventType", "threadId", "streamId", "userId"},
    "call.user.unheld": {"eventType", "threadId", "streamId", "userId"},
    "call.dtmf": {"eventType", "threadId", "streamId", "dtmfNumber"},
}
MARKER = "Not in the source document"
THREAD, STREAM, USER = (
    "5b0525134c0319001573485e",
    "5b0525134c0319001573485a",
    "5b4458eb1b2b33001bf213bf",
)


def event_schema_name(spec: dict[str, Any], schemas: SpecSchemas, event: str) -> str:
    body = schemas.resolve(spec["webhooks"][event]["post"]["requestBody"])
    ref: str = body["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def valid(schemas: SpecSchemas, event: dict[str, Any]) -> bool:
    return not schemas.event_errors(event)


def test_the_spec_has_the_seven_events_of_the_source_as_webhooks(spec: dict[str, Any]) -> None:
    assert set(spec["webhooks"]) == set(SOURCE_EVENTS)
    for name, item in spec["webhooks"].items():
        assert set(item) == {"post"}, name
        operation = item["post"]
        assert operation["x-source-title"] == name
        assert operation["tags"] == ["events"]
        assert operation["operationId"].endswith("Event")
        assert {"200", "default"} <= set(operation["responses"]), name


@pytest.mark.parametrize("event", sorted(SOURCE_EVENTS))
def test_each_event_has_the_fields_of_its_table_and_its_type_as_a_constant(
    spec: dict[str, Any], schemas: SpecSchemas, event: str
) -> None:
    schema = spec["components"]["schemas"][event_schema_name(spec, schemas, event)]
    assert set(schema["required"]) == SOURCE_EVENTS[event]
    assert schema["properties"]["eventType"] == {"type": "string", "const": event}
    # Fields beyond the table are optional, and say that they are not in the source.
    beyond = set(schema["properties"]) - SOURCE_EVENTS[event]
    assert beyond == {"eventId"}, event
    assert MARKER in schema["description"], event
    assert MARKER in spec["components"]["schemas"]["EventId"]["description"]
    assert schema.get("additionalProperties", True) is not False, "events stay open"


@pytest.mark.parametrize("event", sorted(SOURCE_EVENTS))
def test_each_event_has_an_example(spec: dict[str, Any], schemas: SpecSchemas, event: str) -> None:
    body = schemas.resolve(spec["webhooks"][event]["post"]["requestBody"])
    examples = body["content"]["application/json"]["examples"]
    assert examples, event
    for example in examples.values():
        assert example["value"]["eventType"] == event
        assert valid(schemas, example["value"]), event


def test_every_event_schema_is_a_webhooks_and_has_no_other_use(
    spec: dict[str, Any], schemas: SpecSchemas
) -> None:
    names = [event_schema_name(spec, schemas, event) for event in SOURCE_EVENTS]
    assert sorted(names) == sorted(n for n in spec["components"]["schemas"] if n.endswith("Event"))


def test_delivery_beyond_the_source_says_so(spec: dict[str, Any]) -> None:
    responses = spec["components"]["responses"]
    for name in ("EventTaken", "EventNotTaken"):
        assert MARKER in responses[name]["description"], name
    assert MARKER in spec["components"]["schemas"]["StreamId"]["description"]
    description = spec["info"]["description"]
    assert f"{MARKER}, which does not say how events reach a\nbot" in description
    assert "signed\nlike a request" in description


# The readings of docs/contract.md ------------------------------------------------------------


def test_created_at_is_in_milliseconds_as_the_sources_example(schemas: SpecSchemas) -> None:
    event = {"eventType": "call.created", "threadId": THREAD, "streamId": STREAM}
    assert valid(schemas, {**event, "createdAt": 1539761084401})
    assert not valid(schemas, {**event, "createdAt": 1539761084.401})


@pytest.mark.parametrize(("written", "sent"), [("hold", "held"), ("unhold", "unheld")])
def test_the_headings_spelling_is_sent_not_the_examples(
    schemas: SpecSchemas, written: str, sent: str
) -> None:
    event = {"threadId": THREAD, "streamId": STREAM, "userId": USER}
    assert valid(schemas, {**event, "eventType": f"call.user.{sent}"})
    assert not valid(schemas, {**event, "eventType": f"call.user.{written}"})
    schema = f"CallUser{sent.capitalize()}Event"
    held = schemas.validator(pointer("components", "schemas", schema))
    assert not held.is_valid({**event, "eventType": f"call.user.{written}"})


def test_a_key_is_named_as_the_table_and_typed_as_the_example(schemas: SpecSchemas) -> None:
    event = {"eventType": "call.dtmf", "threadId": THREAD, "streamId": STREAM}
    assert all(valid(schemas, {**event, "dtmfNumber": key}) for key in "0123456789*#")
    assert not valid(schemas, {**event, "dtmf": "1"})  # the example's name
    assert not valid(schemas, {**event, "dtmfNumber": 1})  # the table's type
    assert not valid(schemas, {**event, "dtmfNumber": "12"})


def test_invited_and_kicked_name_the_user_contact_id(schemas: SpecSchemas) -> None:
    event = {"threadId": THREAD, "streamId": STREAM, "phoneNumber": "89536052307"}
    for event_type in ("call.user.invited", "call.user.kicked"):
        assert valid(schemas, {**event, "eventType": event_type, "contactId": USER})
        assert not valid(schemas, {**event, "eventType": event_type, "userId": USER})


# The contract model's events are the spec's ---------------------------------------------------


def test_every_event_is_caused_by_a_rule_and_every_rule_names_an_event_of_the_spec(
    spec: dict[str, Any], schemas: SpecSchemas
) -> None:
    caused = {
        emits.event_type: emits.user_field
        for rule in [*RULES.values(), *PLATFORM.values()]
        for emits in rule.events
    }
    assert set(caused) == set(spec["webhooks"])
    for event, user_field in caused.items():
        schema = spec["components"]["schemas"][event_schema_name(spec, schemas, event)]
        if user_field is not None:
            assert user_field in schema["required"], event
            assert schema["properties"][user_field] == {"$ref": "#/components/schemas/ObjectId"}


def test_only_the_platform_causes_a_key_press() -> None:
    by_requests = {emits.event_type for rule in RULES.values() for emits in rule.events}
    assert "call.dtmf" not in by_requests


def test_the_spec_reader_knows_each_event_and_its_fields(spec: dict[str, Any]) -> None:
    events = load().events
    assert list(events) == list(spec["webhooks"])
    invited = events["call.user.invited"]
    assert invited.schema == "CallUserInvitedEvent"
    assert set(invited.required) == SOURCE_EVENTS["call.user.invited"]
    assert set(invited.fields) == SOURCE_EVENTS["call.user.invited"] | {"eventId"}


def test_the_spec_reader_names_an_event_whose_type_is_not_its_name(spec: dict[str, Any]) -> None:
    broken = copy.deepcopy(spec)
    broken["components"]["schemas"]["CallUserHeldEvent"]["properties"]["eventType"]["const"] = (
        "call.user.hold"
    )
    with pytest.raises(
        SpecError, match=re.escape("CallUserHeldEvent: eventType must be const call.user.held")
    ):
        parse(broken)
