"""What every operation must carry: errors, security, links that chain a call."""

from __future__ import annotations

from typing import Any

import pytest

from contract.rules import IDLE, RULES
from contract.spec import load
from testkit.spec import SpecSchemas

OPERATIONS = {
    op.operation_id: (op.path, load().document["paths"][op.path][op.http_method.lower()])
    for op in load()
}
#: The operations that need an active call and nothing more (from the contract model): they
#: fail on a thread without a call and succeed on one that just started.
JUST_STARTED = RULES["call/start"].apply(IDLE)
NEEDS_ACTIVE_CALL = {
    load().operation(method).operation_id
    for method, rule in RULES.items()
    if rule.failing_need(IDLE) is not None and rule.failing_need(JUST_STARTED) is None
}
ERRORS = ["400", "401", "403", "404", "409", "413", "415", "429", "500"]


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_error_of_the_contract_is_documented_with_the_envelope(
    schemas: SpecSchemas, operation_id: str
) -> None:
    _, operation = OPERATIONS[operation_id]
    for status in ERRORS:
        response = schemas.resolve(operation["responses"][status])
        media = response["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
        assert media["example"]["code"] == int(status), f"{operation_id} {status}"


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_documents_the_sources_500(schemas: SpecSchemas, operation_id: str) -> None:
    """Workonflow's bot API README lists 500 "Internal server error" among every request's
    answers (docs/source/authorization.md): each operation documents it with the envelope."""
    _, operation = OPERATIONS[operation_id]
    assert "500" in operation["responses"], operation_id
    media = schemas.resolve(operation["responses"]["500"])["content"]["application/json"]
    envelope = schemas.validator("/components/schemas/ErrorResponse")
    assert envelope.is_valid(media["example"])
    assert media["example"] == {"code": 500, "message": "Internal server error"}


#: The signature headers of Workonflow's bot API (docs/source/authorization.md), by scheme.
SIGNATURE_SCHEMES = {"botId": "X-Bot-Id", "timestamp": "X-timestamp", "signature": "X-Signature"}


def test_every_operation_needs_all_three_signature_headers(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == set(SIGNATURE_SCHEMES)
    for name, header in SIGNATURE_SCHEMES.items():
        assert (schemes[name]["type"], schemes[name]["in"], schemes[name]["name"]) == (
            "apiKey",
            "header",
            header,
        )
    together: list[dict[str, list[str]]] = [{name: [] for name in SIGNATURE_SCHEMES}]
    assert spec["security"] == together
    for operation_id, (_, operation) in OPERATIONS.items():
        assert operation.get("security", spec["security"]) == together, operation_id


def test_success_envelopes_pin_code_and_message(spec: dict[str, Any], schemas: SpecSchemas) -> None:
    for operation_id, (_, operation) in OPERATIONS.items():
        response = schemas.resolve(operation["responses"]["200"])
        schema = schemas.resolve(response["content"]["application/json"]["schema"])
        assert schema["properties"]["code"]["const"] == 200, operation_id
        assert schema["properties"]["message"]["const"] == "OK", operation_id


def links_of(schemas: SpecSchemas, operation_id: str) -> dict[str, dict[str, Any]]:
    _, operation = OPERATIONS[operation_id]
    links = operation["responses"]["200"].get("links", {})
    return {name: schemas.resolve(link) for name, link in links.items()}


def test_call_start_links_to_every_operation_that_needs_an_active_call(
    schemas: SpecSchemas,
) -> None:
    targets = {link["operationId"] for link in links_of(schemas, "callStart").values()}
    assert targets == NEEDS_ACTIVE_CALL


@pytest.mark.parametrize(
    ("start", "stop"),
    [
        ("callRecordingStart", "callRecordingStop"),
        ("callStreamStart", "callStreamStop"),
        ("callAudioPlay", "callAudioStop"),
    ],
)
def test_start_operations_link_to_their_stop(schemas: SpecSchemas, start: str, stop: str) -> None:
    assert stop in {link["operationId"] for link in links_of(schemas, start).values()}


def test_every_link_carries_the_thread_and_team_and_targets_an_operation(
    spec: dict[str, Any],
) -> None:
    for name, link in spec["components"]["links"].items():
        assert link["operationId"] in OPERATIONS, name
        assert link["requestBody"] == {"threadId": "$request.body#/threadId"}, name
        assert link["parameters"] == {"teamId": "$request.path.teamId"}, name


def test_elements_beyond_the_source_say_so(spec: dict[str, Any]) -> None:
    """Security, the non-source error statuses and limits are marked as this project's reading."""
    marker = "Not in the source document"
    for scheme in ("timestamp", "signature"):  # the 300 s window, the constant-time comparison
        assert marker in spec["components"]["securitySchemes"][scheme]["description"], scheme
    for name in [
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "Conflict",
        "PayloadTooLarge",
        "TooManyRequests",
        "UnsupportedMediaType",
        "InternalServerError",  # the envelope, and never an answer to a refused request
    ]:
        assert marker in spec["components"]["responses"][name]["description"], name
    assert marker in spec["components"]["schemas"]["UserIds"]["description"]
    assert marker in spec["components"]["headers"]["RetryAfter"]["description"]


def test_an_unknown_id_names_its_field_and_a_rate_limit_says_when_to_retry(
    schemas: SpecSchemas,
) -> None:
    """404 is a well-formed id the server does not know, told apart from a malformed one (400)
    and checked before the call's state (409); 429 carries `Retry-After` in whole seconds."""
    for operation_id, (_, operation) in OPERATIONS.items():
        not_found = schemas.resolve(operation["responses"]["404"])
        example = not_found["content"]["application/json"]["example"]
        assert {error["field"] for error in example["errors"]} <= {"threadId", "userId", "userIds"}
        assert "(`400`)" in not_found["description"] and "(`409`)" in not_found["description"]
        limited = schemas.resolve(operation["responses"]["429"])
        retry = schemas.resolve(limited["headers"]["Retry-After"])
        assert retry["required"] is True, operation_id
        assert retry["schema"] == {"type": "integer", "minimum": 0}, operation_id


def test_the_audio_size_limit_is_a_number(spec: dict[str, Any]) -> None:
    file_url = spec["components"]["schemas"]["CallAudioPlayRequest"]["properties"]["fileUrl"]
    assert file_url["x-max-file-size-bytes"] == 10 * 1024 * 1024


def test_no_null_types(spec: dict[str, Any]) -> None:
    """openapi-generator's Python and TypeScript generators break on `type: 'null'`."""
    assert "'null'" not in repr(spec) and '"null"' not in repr(spec)
