"""The spec for its own tests: loaded as YAML, and its schemas as JSON Schema validators."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contract.spec import SPEC_PATH, Spec, read

ROOT = Path(__file__).resolve().parent.parent
SPEC_URI = "urn:workonflow-call-api"


def require_generators() -> None:
    """Skip the calling test module unless the generate dependency group is installed."""
    for module in ("openapi_python_client", "datamodel_code_generator"):
        pytest.importorskip(module, reason="the generate dependency group is not installed")


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def pointer(*parts: str) -> str:
    """A JSON pointer to the given keys, escaped as RFC 6901 asks (`/` becomes `~1`)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class SpecSchemas:
    """Validators for schemas that sit anywhere in the spec, with its `$ref`s resolved."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(SPEC_URI, resource)

    def validator(self, json_pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{json_pointer}"},
            registry=self.registry,
            format_checker=FormatChecker(),
        )

    def request_schema(self, path: str, method: str = "post") -> Draft202012Validator:
        body = self.spec["paths"][path][method]["requestBody"]
        if "$ref" in body:
            name = body["$ref"].rsplit("/", 1)[-1]
            return self.validator(
                pointer(
                    "components", "requestBodies", name, "content", "application/json", "schema"
                )
            )
        return self.validator(
            pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
        )

    def event_errors(self, event: Any) -> list[str]:
        """What is wrong with a call event: its `eventType` names no webhook of the spec, or
        it does not validate against that webhook's schema (empty: a valid event)."""
        kind = event.get("eventType") if isinstance(event, dict) else None
        webhook = self.spec.get("webhooks", {}).get(kind) if isinstance(kind, str) else None
        if webhook is None:
            return [f"eventType {kind!r} names no webhook of the spec"]
        media = self.resolve(webhook["post"]["requestBody"])["content"]["application/json"]
        name = media["schema"]["$ref"].rsplit("/", 1)[-1]
        validator = self.validator(pointer("components", "schemas", name))
        return [error.message for error in validator.iter_errors(event)]

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (one hop at a time) to the node it names."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node


#: The operation that tests add to a copy of the spec (see `add_operation`).
NEW_OPERATION = "call.hold/start"


def spec_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Spec:
    """A copy of openapi.yaml, edited, written to `tmp_path` and read as the tools read it."""
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    edit(document)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    return read(path)


def add_operation(http_method: str = "post") -> Callable[[dict[str, Any]], None]:
    """An edit that adds `NEW_OPERATION`, a thirteenth operation: a copy of `call.audio/stop`
    under another path, operationId and tag."""

    def edit(document: dict[str, Any]) -> None:
        item = copy.deepcopy(document["paths"]["/{teamId}/call.audio/stop"])
        operation = item.pop("post")
        operation.update(operationId="callHoldStart", tags=["call.hold"], summary="Hold the call")
        item[http_method] = operation
        document["paths"]["/{teamId}/" + NEW_OPERATION] = item

    return edit
