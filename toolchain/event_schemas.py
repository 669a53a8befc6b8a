"""The call events a bot receives, from the spec's `webhooks`, with the checks of each field:
what the clients' webhook receivers (Python and TypeScript) check a body against, and the
members of the union the clients type them with.

Each webhook's `POST` body is one event schema; the property whose `const` is the webhook's name
(`eventType`) tells them apart; each field's checks come from its schema (`$ref`s followed,
`allOf` merged). A constraint a receiver cannot check raises SpecError naming the schema and the
field, instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.spec import SpecError, follow, parse

#: The clients' name of the union of the events (the spec has no schema of it).
EVENT_UNION = "CallEvent"
#: Keywords of a field's schema that say nothing to check.
DESCRIPTIVE = {"description", "examples", "example", "title", "format"}
#: JSON Schema's `type` as the Python type a JSON value of it has.
PYTHON_TYPES = {"string": "str", "integer": "int"}
CHECKED = {"type", "const", "pattern", "minLength", "maxLength", "minimum", "maximum"}


@dataclass(frozen=True)
class FieldCheck:
    """What one field of an event must be, as a receiver checks it."""

    name: str
    required: bool
    #: JSON Schema's `type`: `string` or `integer`.
    json_type: str
    const: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def python_type(self) -> str:
        return PYTHON_TYPES[self.json_type]

    def as_json(self) -> dict[str, Any]:
        """The check as JSON Schema names it, without what it does not constrain."""
        named = {
            "name": self.name,
            "type": self.json_type,
            "required": self.required,
            "const": self.const,
            "pattern": self.pattern,
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }
        return {key: value for key, value in named.items() if value is not None}


@dataclass(frozen=True)
class Event:
    """One member of the union: its `eventType`, model class and module, and field checks."""

    event_type: str
    class_name: str
    module: str
    fields: tuple[FieldCheck, ...]


def snake(name: str) -> str:
    """A schema name as openapi-python-client names its model module (`CallDtmfEvent`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def flatten(document: Mapping[str, Any], node: Any, where: str) -> dict[str, Any]:
    """A field's schema with its `$ref`s followed and its `allOf` parts merged."""
    node = follow(document, node)
    if not isinstance(node, Mapping):
        raise SpecError(f"{where}: not a schema object")
    merged: dict[str, Any] = {}
    for part in node.get("allOf", []):
        merged.update(flatten(document, part, where))
    merged.update({key: value for key, value in node.items() if key != "allOf"})
    return merged


def anchored(pattern: str) -> str:
    r"""A JSON Schema pattern for Python's `re.search`: a final `$` becomes `\Z`.

    In JSON Schema (ECMA-262) `$` matches only at the end; in Python it also matches before a
    final newline, which would let `id\n` through.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def field_check(name: str, schema: Mapping[str, Any], required: bool, where: str) -> FieldCheck:
    unknown = sorted(set(schema) - DESCRIPTIVE - CHECKED)
    if unknown:
        raise SpecError(f"{where}: the webhook receiver cannot check {', '.join(unknown)}")
    kind = schema.get("type")
    if kind not in PYTHON_TYPES:
        raise SpecError(f"{where}: the webhook receiver cannot check the type {kind!r}")
    return FieldCheck(
        name=name,
        required=required,
        json_type=kind,
        const=schema.get("const"),
        pattern=schema.get("pattern"),
        min_length=schema.get("minLength"),
        max_length=schema.get("maxLength"),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
    )


def _event_schema(document: Mapping[str, Any], webhook: str, item: Any) -> tuple[str, Any]:
    """The component name and schema of a webhook's `POST` body."""
    where = f"webhooks.{webhook}.post.requestBody"
    body = follow(document, (item or {}).get("post", {}).get("requestBody"))
    schema = ((body or {}).get("content") or {}).get("application/json", {}).get("schema")
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if not isinstance(ref, str) or not ref.startswith("#/components/schemas/"):
        raise SpecError(f"{where}: the body's schema is not a $ref to components.schemas")
    return ref.rsplit("/", 1)[-1], flatten(document, schema, where)


def events(document: Mapping[str, Any]) -> tuple[str, tuple[Event, ...]]:
    """The property that names each event, and the events, in the order of `webhooks`.

    Each webhook's body is one event; the property whose `const` is the webhook's name
    (`eventType`) tells them apart, and must be the same in every event.
    """
    found = []
    names: set[str] = set()
    for webhook, item in (document.get("webhooks") or {}).items():
        name, schema = _event_schema(document, webhook, item)
        member = f"components.schemas.{name}"
        required = set(schema.get("required", []))
        fields = tuple(
            field_check(
                field,
                flatten(document, node, f"{member}.properties.{field}"),
                field in required,
                f"{member}.properties.{field}",
            )
            for field, node in (schema.get("properties") or {}).items()
        )
        naming = {check.name for check in fields if check.const == webhook and check.required}
        if not naming:
            raise SpecError(f"{member}: no required property is the constant {webhook!r}")
        names |= naming
        found.append(Event(str(webhook), name, snake(name), fields))
    if not found:
        raise SpecError("webhooks: the spec has no events")
    if len(names) != 1:
        raise SpecError(f"webhooks: the events are named by different properties: {sorted(names)}")
    return names.pop(), tuple(found)


@dataclass(frozen=True)
class Receiving:
    """What a receiver of the events needs from a spec."""

    #: The property that names each event (`eventType`).
    discriminator: str
    events: tuple[Event, ...]
    #: How far `X-timestamp` may be from the receiver's clock (`x-max-skew-seconds`).
    max_skew_seconds: int


def receiving(spec: Path) -> Receiving:
    """The events of the spec file `spec` and its time window; SpecError names what lacks."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    if not isinstance(document, Mapping):
        raise SpecError(f"{spec}: not a YAML mapping")
    discriminator, members = events(document)
    return Receiving(discriminator, members, parse(document, spec).skew_window())
