"""The client's modules that no template of openapi-python-client renders: `webhooks.py`.

openapi-python-client renders a fixed set of files; a module of our own (the receiver of the
call events) is a Jinja template under `overrides/client/modules/`, rendered here into the
client package with what it needs from the contract: the events of the spec's discriminated
union (`components.schemas.CallEvent`: its `eventType` values, their schemas and the checks of
each field), the signature headers and the time window of `contract.signing`. A field
constraint the template cannot check fails the generation, naming the schema and the field,
instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from contract import signing
from contract.spec import SpecError, follow
from toolchain.generated_files import GenerationError

#: The spec's union of the events a bot receives.
EVENT_UNION = "CallEvent"
#: Keywords of a field's schema that say nothing to check.
DESCRIPTIVE = {"description", "examples", "example", "title", "format"}
#: JSON Schema's `type` as the Python type a JSON value of it has.
PYTHON_TYPES = {"string": "str", "integer": "int"}
CHECKED = {"type", "const", "pattern", "minLength", "maxLength", "minimum", "maximum"}


@dataclass(frozen=True)
class FieldCheck:
    """What one field of an event must be, as the template renders it."""

    name: str
    required: bool
    python_type: str
    const: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


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
        raise GenerationError(f"{where}: not a schema object")
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
        raise GenerationError(f"{where}: the webhook receiver cannot check {', '.join(unknown)}")
    kind = schema.get("type")
    if kind not in PYTHON_TYPES:
        raise GenerationError(f"{where}: the webhook receiver cannot check the type {kind!r}")
    pattern = schema.get("pattern")
    return FieldCheck(
        name=name,
        required=required,
        python_type=PYTHON_TYPES[kind],
        const=schema.get("const"),
        pattern=anchored(pattern) if pattern is not None else None,
        min_length=schema.get("minLength"),
        max_length=schema.get("maxLength"),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
    )


def events(document: Mapping[str, Any]) -> tuple[str, tuple[Event, ...]]:
    """The union's discriminating property and its members, in the spec's order."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    union = schemas.get(EVENT_UNION)
    where = f"components.schemas.{EVENT_UNION}"
    if not isinstance(union, Mapping) or not isinstance(union.get("discriminator"), Mapping):
        raise GenerationError(f"{where}: the union of the events needs a discriminator")
    discriminator = union["discriminator"]
    found = []
    for event_type, ref in (discriminator.get("mapping") or {}).items():
        name = str(ref).rsplit("/", 1)[-1]
        member = f"components.schemas.{name}"
        try:
            schema = flatten(document, {"$ref": ref}, member)
        except SpecError as exc:
            raise GenerationError(f"{where}.discriminator.mapping.{event_type}: {exc}") from exc
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
        found.append(Event(str(event_type), name, snake(name), fields))
    if not found:
        raise GenerationError(f"{where}.discriminator: no mapping of event types")
    return str(discriminator["propertyName"]), tuple(found)


def render_modules(spec: Path, modules: Path, package: Path) -> None:
    """Render every `*.py.jinja` of `modules` into `package` (a generated file stays intact)."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    property_name, members = events(document)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(modules),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["py"] = repr
    values = {
        "discriminator": property_name,
        "events": members,
        "union": EVENT_UNION,
        "headers": signing.HEADERS,
        "max_skew_seconds": signing.MAX_SKEW_SECONDS,
    }
    for template in sorted(modules.glob("*.py.jinja")):
        target = package / template.name.removesuffix(".jinja")
        if target.exists():
            raise GenerationError(f"{template} would replace the generated {target.name}")
        target.write_text(environment.get_template(template.name).render(values), "utf-8")
