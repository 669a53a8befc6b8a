"""The events the receivers check bodies against are the spec's; what they cannot check fails."""

from __future__ import annotations

import copy
import re

import pytest

from contract.spec import SpecError, load
from toolchain.event_schemas import EVENT_UNION, anchored, events

SPEC = load().document


def test_every_member_of_the_union_is_an_event_with_the_checks_of_its_schema() -> None:
    discriminator, members = events(SPEC)
    union = SPEC["components"]["schemas"][EVENT_UNION]
    assert discriminator == union["discriminator"]["propertyName"]
    assert [member.event_type for member in members] == list(union["discriminator"]["mapping"])
    dtmf = next(member for member in members if member.class_name == "CallDtmfEvent")
    key = next(field for field in dtmf.fields if field.name == "dtmfNumber")
    schema = SPEC["components"]["schemas"]["CallDtmfEvent"]["properties"]["dtmfNumber"]
    assert (key.required, key.max_length) == (True, schema["maxLength"])
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


def test_a_union_without_a_discriminator_fails() -> None:
    document = copy.deepcopy(dict(SPEC))
    del document["components"]["schemas"][EVENT_UNION]["discriminator"]
    with pytest.raises(SpecError, match=f"components.schemas.{EVENT_UNION}"):
        events(document)
