"""The spec for its own tests: loaded as YAML, and its schemas as JSON Schema validators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"
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

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (one hop at a time) to the node it names."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node
