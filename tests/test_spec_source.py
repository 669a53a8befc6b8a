"""The spec holds to the source document: every operation and every field of it is there."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.source_doc import SourceOperation, read_source
from testkit.spec import SpecSchemas

SOURCE = read_source()
METHODS = sorted({operation.method for operation in SOURCE})

# How docs/contract.md sorts the source's mixed parameter tables: these fields are sent by the
# client; every other field of a table is part of the answer's `data`.
USER_FIELDS = {"threadId", "userId", "userIds"}
REQUEST_FIELDS = {
    "call/start": {"threadId", "direction"},
    "call.user/invite": USER_FIELDS,
    "call.user/exclude": USER_FIELDS,
    "call/pause": USER_FIELDS,
    "call/unpause": USER_FIELDS,
    "call.audio/play": {"threadId", "fileUrl"},
}
SOURCE_TYPES = {"string": "string", "integer": "integer", "array": "array"}


def source_operation(method: str) -> SourceOperation:
    return next(operation for operation in SOURCE if operation.method == method)


def operation(spec: dict[str, Any], method: str) -> dict[str, Any]:
    return spec["paths"][f"/{{teamId}}/{method}"]["post"]


def request_properties(schemas: SpecSchemas, spec: dict[str, Any], method: str) -> dict[str, Any]:
    """The properties a request body may have, over every `oneOf` branch."""
    body = schemas.resolve(operation(spec, method)["requestBody"])
    schema = schemas.resolve(body["content"]["application/json"]["schema"])
    branches = [schemas.resolve(branch) for branch in schema.get("oneOf", [schema])]
    properties: dict[str, Any] = {}
    for branch in branches:
        properties.update(branch["properties"])
    return properties


def response_data_properties(
    schemas: SpecSchemas, spec: dict[str, Any], method: str
) -> dict[str, Any]:
    response = schemas.resolve(operation(spec, method)["responses"]["200"])
    schema = schemas.resolve(response["content"]["application/json"]["schema"])
    data = schemas.resolve(schema["properties"].get("data", {"properties": {}}))
    return data["properties"]


def test_the_source_describes_twelve_operations_one_of_them_twice() -> None:
    assert len(SOURCE) == 13
    assert len(METHODS) == 12
    assert [op.method for op in SOURCE].count("call/unpause") == 2


def test_every_operation_of_the_source_and_nothing_else_is_in_the_spec(
    spec: dict[str, Any],
) -> None:
    assert sorted(path.removeprefix("/{teamId}/") for path in spec["paths"]) == METHODS
    for path, item in spec["paths"].items():
        assert set(item) == {"parameters", "post"}, f"{path}: only POST is an operation"


@pytest.mark.parametrize("method", METHODS)
def test_operation_keeps_the_source_title_tag_and_a_camel_case_id(
    spec: dict[str, Any], method: str
) -> None:
    op = operation(spec, method)
    assert op["x-source-title"] == source_operation(method).title
    assert op["tags"] == [method.split("/", maxsplit=1)[0]]
    family, verb = method.split("/")
    expected_id = "".join(
        part if i == 0 else part[:1].upper() + part[1:]
        for i, part in enumerate([*family.split("."), verb])
    )
    assert op["operationId"] == expected_id
    assert op["summary"] and op["description"]


@pytest.mark.parametrize("method", METHODS)
def test_every_field_of_the_source_is_a_request_or_a_response_field(
    spec: dict[str, Any], schemas: SpecSchemas, method: str
) -> None:
    request = request_properties(schemas, spec, method)
    data = response_data_properties(schemas, spec, method)
    sent = REQUEST_FIELDS.get(method, {"threadId"})
    for name, source_type in source_operation(method).fields.items():
        if name in sent:
            assert name in request, f"{method}: request field {name} missing"
            schema = schemas.resolve(request[name])
            assert schema["type"] == SOURCE_TYPES[source_type], f"{method}: {name}"
        else:
            assert name in data, f"{method}: response field {name} missing from data"
            assert name not in request, f"{method}: {name} is computed by the server"
    assert set(request) == sent, f"{method}: the request has fields the source does not name"


@pytest.mark.parametrize("method", METHODS)
def test_the_response_data_is_what_the_source_example_shows(
    spec: dict[str, Any], schemas: SpecSchemas, method: str
) -> None:
    data = response_data_properties(schemas, spec, method)
    assert sorted(data) == sorted(source_operation(method).response_data_keys)


@pytest.mark.parametrize("method", METHODS)
def test_the_source_body_examples_are_valid_requests(schemas: SpecSchemas, method: str) -> None:
    validator = schemas.request_schema(f"/{{teamId}}/{method}")
    for body in source_operation(method).body_examples:
        errors = [error.message for error in validator.iter_errors(body)]
        assert not errors, f"{method}: {body}: {errors}"


def test_counts_typed_string_in_the_source_are_integers(
    spec: dict[str, Any], schemas: SpecSchemas
) -> None:
    counts = [
        (method, name)
        for source in SOURCE
        for name in source.fields
        if name.endswith("UsersCount")
        for method in [source.method]
    ]
    assert len(counts) == 5  # unpause twice
    for method, name in counts:
        schema = schemas.resolve(response_data_properties(schemas, spec, method)[name])
        assert schema == {**schema, "type": "integer", "minimum": 0}
