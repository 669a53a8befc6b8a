"""The facts that openapi.yaml states, read from the file once, for the code downstream of it.

The reference server builds its routes from `operations`, the fuzzer and the tests take their
operation lists, statuses and limits from here: adding an operation to the spec needs no edit
of any hand-kept list. Nothing here interprets what the spec cannot say (state rules, counts);
that is the contract model's job.

    from contract.spec import load
    spec = load()                          # openapi.yaml of this repository, cached
    spec.operations["call.user/invite"]    # Operation(operation_id="callUserInvite", ...)
    spec.max_body_bytes                    # 65536 (info.x-max-request-body-bytes)
    spec.max_skew_seconds                  # 300 (the timestamp scheme's x-max-skew-seconds)
    spec.events["call.user.invited"]       # Event(schema="CallUserInvitedEvent", ...)
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: The contract of this repository.
SPEC_PATH = ROOT / "openapi.yaml"

#: The path parameter that names the team, and the part of every operation's path before its
#: `{method}`.
TEAM_PARAMETER = "teamId"
PATH_PREFIX = f"/{{{TEAM_PARAMETER}}}/"
JSON = "application/json"


class SpecError(ValueError):
    """The spec lacks a fact the code downstream needs; the message names the element."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the contract, as the spec states it."""

    #: The path after `/{teamId}/`, exactly as in the spec (`call.user/invite`).
    method: str
    #: The whole path template (`/{teamId}/call.user/invite`).
    path: str
    #: The HTTP method, upper case (`POST`).
    http_method: str
    operation_id: str
    #: The first tag (`call.user`); the generated client groups operations by it.
    tag: str
    summary: str
    #: The component schema of the request body (`UsersRequest`), or None without a body.
    request_schema: str | None
    #: The documented HTTP statuses, ascending.
    statuses: tuple[int, ...]
    #: The component schema of the success answer (`CallUserInviteResponse`).
    success_schema: str | None
    #: The fields of the success answer's `data`, in the spec's order (empty: no `data`).
    data_fields: tuple[str, ...]
    #: The operationIds that the success answer links to (the stateful phase follows them).
    links: tuple[str, ...]
    #: The request fields that have a `default`, with it (`{"direction": "outgoing"}`).
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """One call event of the contract (a `webhooks` entry), as the spec states it."""

    #: The webhook's name, the event's `eventType` (`call.user.invited`).
    event_type: str
    #: The component schema of its body (`CallUserInvitedEvent`).
    schema: str
    #: Its fields, in the spec's order, and those it requires.
    fields: tuple[str, ...]
    required: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Spec:
    """The facts of one spec file (see `load`)."""

    path: Path
    document: Mapping[str, Any]
    version: str
    #: By `{method}`, in the spec's order.
    operations: Mapping[str, Operation]
    #: The largest request body a server must accept (`info.x-max-request-body-bytes`).
    max_body_bytes: int
    #: The pattern of every id (`components.schemas.ObjectId.pattern`).
    id_pattern: str
    #: The length of every id (its `minLength`, equal to its `maxLength`).
    id_length: int
    #: How far a signed timestamp may be from the server's clock, in seconds (the
    #: `x-max-skew-seconds` of a security scheme); None when no scheme gives one.
    max_skew_seconds: int | None = None
    #: The call events (`webhooks`), by `eventType`, in the spec's order.
    events: Mapping[str, Event] = field(default_factory=dict)

    def operation(self, key: str) -> Operation:
        """The operation by `{method}` or operationId; KeyError names what is known."""
        found = self.operations.get(key) or next(
            (op for op in self.operations.values() if op.operation_id == key), None
        )
        if found is None:
            raise KeyError(
                f"no operation {key!r} in {self.path.name}: {', '.join(self.operations)}"
            )
        return found

    def schema(self, name: str) -> dict[str, Any]:
        """The component schema `name` with every local `$ref` in it replaced by its target."""
        schema = resolve(self.document, {"$ref": f"#/components/schemas/{name}"})
        if not isinstance(schema, dict):
            raise SpecError(f"components.schemas.{name}: not a schema object")
        return schema

    def skew_window(self) -> int:
        """`max_skew_seconds`, for code that checks or makes timestamps; SpecError without it."""
        if self.max_skew_seconds is None:
            raise SpecError(f"{self.path.name}: no security scheme gives x-max-skew-seconds")
        return self.max_skew_seconds

    def id_matches(self, value: str) -> bool:
        return re.fullmatch(self.id_pattern, value) is not None

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations.values())


def follow(document: Mapping[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (one after another) to the node they name."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise SpecError(f"cannot follow $ref {ref!r}: only local, non-circular refs")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or key not in target:
                raise SpecError(f"$ref {ref!r} names nothing in the spec")
            target = target[key]
        node = target
    return node


def resolve(document: Mapping[str, Any], node: Any, depth: int = 0) -> Any:
    """A deep copy of `node` with every local `$ref` in it replaced by its target."""
    if depth > 64:
        raise SpecError("$ref nesting deeper than 64 levels (a cycle?)")
    node = follow(document, node)
    if isinstance(node, Mapping):
        return {key: resolve(document, value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(document, item, depth + 1) for item in node]
    return copy.copy(node)


def _ref_name(node: Any) -> str | None:
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None


def _request_schema(
    document: Mapping[str, Any], where: str, operation: Mapping[str, Any]
) -> str | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    content = follow(document, body).get("content", {})
    if JSON not in content:
        raise SpecError(f"{where}: the request body has no {JSON} content")
    name = _ref_name(content[JSON].get("schema"))
    if name is None:
        raise SpecError(f"{where}: the request body's schema is not a $ref to components.schemas")
    return name


def _defaults(document: Mapping[str, Any], schema_name: str | None) -> dict[str, Any]:
    """The `default` of each request field that has one (it stands beside the field's `$ref`,
    so the properties are read before their references are followed)."""
    if schema_name is None:
        return {}
    schema = follow(document, {"$ref": f"#/components/schemas/{schema_name}"})
    alternatives = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return {
        name: node["default"]
        for branch in alternatives
        for name, node in follow(document, branch).get("properties", {}).items()
        if isinstance(node, Mapping) and "default" in node
    }


def _success(
    document: Mapping[str, Any], where: str, responses: Mapping[str, Any]
) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    ok = next((responses[code] for code in ("200", "201", "2XX") if code in responses), None)
    if ok is None:
        raise SpecError(f"{where}: no success (2xx) response is documented")
    ok = follow(document, ok)
    schema_node = ok.get("content", {}).get(JSON, {}).get("schema")
    schema = follow(document, schema_node) if schema_node is not None else {}
    data = follow(document, schema.get("properties", {}).get("data", {}))
    fields = tuple(data.get("properties", {}))
    links = tuple(
        str(follow(document, link).get("operationId", "")) for link in ok.get("links", {}).values()
    )
    return _ref_name(schema_node), fields, links


def _statuses(where: str, responses: Mapping[str, Any]) -> tuple[int, ...]:
    statuses = []
    for code in responses:
        text = str(code)
        if not text.isdigit():
            raise SpecError(f"{where}: response {text!r} is not a single HTTP status")
        statuses.append(int(text))
    return tuple(sorted(statuses))


def _events(document: Mapping[str, Any]) -> dict[str, Event]:
    events = {}
    for name, item in (document.get("webhooks") or {}).items():
        where = f"webhooks.{name}.post"
        operation = item.get("post") if isinstance(item, Mapping) else None
        if not isinstance(operation, Mapping):
            raise SpecError(f"{where}: an event is delivered by POST")
        schema_name = _request_schema(document, where, operation)
        if schema_name is None:
            raise SpecError(f"{where}: an event needs a request body")
        schema = follow(document, {"$ref": f"#/components/schemas/{schema_name}"})
        event_type = follow(document, schema.get("properties", {}).get("eventType", {}))
        if event_type.get("const") != name:
            raise SpecError(f"components.schemas.{schema_name}: eventType must be const {name}")
        events[str(name)] = Event(
            event_type=str(name),
            schema=schema_name,
            fields=tuple(schema.get("properties", {})),
            required=tuple(schema.get("required", ())),
        )
    return events


def parse(document: Mapping[str, Any], path: Path = SPEC_PATH) -> Spec:
    """The facts of an already loaded spec document; SpecError names what is missing."""
    operations: dict[str, Operation] = {}
    for template, item in (document.get("paths") or {}).items():
        if not str(template).startswith(PATH_PREFIX):
            raise SpecError(f"paths.{template}: an operation's path starts with {PATH_PREFIX}")
        method = str(template)[len(PATH_PREFIX) :]
        for verb, operation in item.items():
            if verb in ("parameters", "summary", "description", "servers") or verb.startswith("x-"):
                continue
            where = f"paths.{template}.{verb}"
            if "operationId" not in operation:
                raise SpecError(f"{where}: no operationId")
            responses = operation.get("responses") or {}
            success_schema, data_fields, links = _success(document, where, responses)
            tags = operation.get("tags") or ["default"]
            request_schema = _request_schema(document, where, operation)
            operations[method] = Operation(
                method=method,
                path=str(template),
                http_method=verb.upper(),
                operation_id=str(operation["operationId"]),
                tag=str(tags[0]),
                summary=str(operation.get("summary", "")),
                request_schema=request_schema,
                statuses=_statuses(where, responses),
                success_schema=success_schema,
                data_fields=data_fields,
                links=links,
                defaults=_defaults(document, request_schema),
            )
    info = document.get("info") or {}
    max_body = info.get("x-max-request-body-bytes")
    if not isinstance(max_body, int) or max_body < 1:
        raise SpecError("info.x-max-request-body-bytes: the body limit must be a positive integer")
    object_id = (document.get("components") or {}).get("schemas", {}).get("ObjectId")
    if not isinstance(object_id, Mapping) or "pattern" not in object_id:
        raise SpecError("components.schemas.ObjectId: the ids' schema needs a pattern")
    length = object_id.get("minLength")
    if length is None or length != object_id.get("maxLength"):
        raise SpecError("components.schemas.ObjectId: minLength and maxLength must be equal")
    skews = [
        scheme["x-max-skew-seconds"]
        for scheme in ((document.get("components") or {}).get("securitySchemes") or {}).values()
        if isinstance(scheme, Mapping) and "x-max-skew-seconds" in scheme
    ]
    if len(skews) > 1 or not all(isinstance(s, int) and s > 0 for s in skews):
        raise SpecError(
            "components.securitySchemes: x-max-skew-seconds must be one positive integer"
        )
    return Spec(
        path=path,
        document=document,
        version=str(info.get("version", "")),
        operations=operations,
        max_body_bytes=max_body,
        id_pattern=str(object_id["pattern"]),
        id_length=int(length),
        max_skew_seconds=skews[0] if skews else None,
        events=_events(document),
    )


def read(path: Path | str = SPEC_PATH) -> Spec:
    """Read and parse a spec file (uncached: for a spec other than this repository's)."""
    path = Path(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)  # CSafeLoader or SafeLoader: safe
    if not isinstance(document, Mapping):
        raise SpecError(f"{path}: not a YAML mapping")
    return parse(document, path)


@functools.cache
def load() -> Spec:
    """The facts of this repository's openapi.yaml, read once per process."""
    return read(SPEC_PATH)
