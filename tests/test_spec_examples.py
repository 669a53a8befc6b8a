"""Every example in the spec is valid JSON data that validates against its own schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.spec import SpecSchemas, load_spec, pointer


def examples_in(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str, Any]]:
    """(where, pointer to the schema, example value) for every example of the spec.

    Media types and parameters carry `example` or `examples: {name: {value}}` beside their
    `schema`; schemas carry JSON Schema's own `examples: [...]`.
    """
    if isinstance(node, dict):
        if "schema" in node:
            schema_pointer = pointer(*path, "schema")
            if "example" in node:
                yield pointer(*path, "example"), schema_pointer, node["example"]
            for name, example in node.get("examples", {}).items():
                yield pointer(*path, "examples", name), schema_pointer, example["value"]
        if path and path[-1] != "properties" and isinstance(node.get("examples"), list):
            for index, value in enumerate(node["examples"]):
                yield pointer(*path, "examples", str(index)), pointer(*path), value
        for key, value in node.items():
            yield from examples_in(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples_in(value, (*path, str(index)))


EXAMPLES = list(examples_in(load_spec()))


def test_there_are_examples_for_every_request_and_response(spec: dict[str, Any]) -> None:
    where = {location for location, _, _ in EXAMPLES}
    for name, response in spec["components"]["responses"].items():
        if "content" not in response:  # an event's receiver answers with any body or none
            continue
        assert any(w.startswith(pointer("components", "responses", name)) for w in where), name
    for path, item in spec["paths"].items():
        responses = item["post"]["responses"]
        for status, response in responses.items():
            if "$ref" not in response:
                assert (
                    pointer(
                        "paths",
                        path,
                        "post",
                        "responses",
                        status,
                        "content",
                        "application/json",
                        "example",
                    )
                    in where
                ), f"{path} {status}"
        body = item["post"]["requestBody"]
        if "$ref" not in body:
            assert any(w.startswith(pointer("paths", path, "post", "requestBody")) for w in where)


@pytest.mark.parametrize(
    ("location", "schema_pointer", "value"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_example_validates_against_its_schema(
    schemas: SpecSchemas, location: str, schema_pointer: str, value: Any
) -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in schemas.validator(schema_pointer).iter_errors(value)
    ]
    assert not errors, f"{location}: {errors}"


def test_an_invalid_example_would_be_caught(schemas: SpecSchemas) -> None:
    """The check above can fail: a count of -1 breaks the invite response schema."""
    validator = schemas.validator(pointer("components", "schemas", "CallUserInviteResponse"))
    assert not validator.is_valid({"code": 200, "message": "OK", "data": {"invitedUsersCount": -1}})
