"""The events the receivers check bodies against are the spec's webhooks; what they cannot
check, or cannot tell apart, fails."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from contract.spec import SPEC_PATH, SpecError, follow, load
from toolchain.event_schemas import anchored, events, receiving

SPEC = load().document


def body_schema(document: dict[str, Any], webhook: str) -> dict[str, Any]:
    media = follow(document, document["webhooks"][webhook]["post"]["requestBody"])
    schema: dict[str, Any] = follow(document, media["content"]["application/json"]["schema"])
    return schema


def test_every_webhook_is_an_event_with_the_checks_of_its_schema() -> None:
    discriminator, members = events(SPEC)
    assert [member.event_type for member in members] == list(SPEC["webhooks"])
    for member in members:
        schema = body_schema(dict(SPEC), member.event_type)
        assert schema["properties"][discriminator]["const"] == member.event_type
        assert [field.name for field in member.fields] == list(schema["properties"])
    dtmf = next(member for member in members if member.class_name == "CallDtmfEvent")
    key = next(field for field in dtmf.fields if field.name == "dtmfNumber")
    schema = SPEC["components"]["schemas"]["CallDtmfEvent"]["properties"]["dtmfNumber"]
    assert (key.required, key.max_length, key.pattern) == (
        True,
        schema["maxLength"],
        schema["pattern"],
    )
    # streamId is an allOf of ObjectId: its pattern is checked too.
    stream = next(field for field in dtmf.fields if field.name == "streamId")
    assert stream.pattern == SPEC["components"]["schemas"]["ObjectId"]["pattern"]


def test_a_pattern_ending_in_dollar_does_not_let_a_final_newline_through() -> None:
    pattern = anchored("^[0-9]$")
    assert re.search(pattern, "1") and not re.search(pattern, "1\n")
    assert anchored("^a\\$") == "^a\\$"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"enum": ["1", "2"]}, "enum"),
        ({"type": "number"}, "'number'"),
    ],
)
def test_a_constraint_the_receiver_cannot_check_fails_naming_schema_and_field(
    change: dict[str, object], named: str
) -> None:
    document = copy.deepcopy(dict(SPEC))
    document["components"]["schemas"]["CallDtmfEvent"]["properties"]["dtmfNumber"].update(change)
    with pytest.raises(SpecError, match=named) as raised:
        events(document)
    assert "components.schemas.CallDtmfEvent.properties.dtmfNumber" in str(raised.value)


def test_an_event_whose_type_is_not_its_webhooks_name_fails() -> None:
    document = copy.deepcopy(dict(SPEC))
    document["components"]["schemas"]["CallDtmfEvent"]["properties"]["eventType"]["const"] = "dtmf"
    with pytest.raises(SpecError, match="CallDtmfEvent: no required property is the constant"):
        events(document)


def test_a_webhook_body_that_is_not_a_named_schema_fails() -> None:
    document = copy.deepcopy(dict(SPEC))
    document["webhooks"]["call.dtmf"]["post"]["requestBody"] = {
        "content": {"application/json": {"schema": {"type": "object"}}}
    }
    with pytest.raises(SpecError, match=re.escape("webhooks.call.dtmf.post.requestBody")):
        events(document)


def test_a_receiver_gets_the_events_and_the_window_of_the_spec_it_is_made_from() -> None:
    facts = receiving(SPEC_PATH)
    assert (facts.discriminator, facts.events) == events(SPEC)
    assert facts.max_skew_seconds == load().skew_window()
