"""The call events' part of the breaking-change gate: `WebhookDiffer().changes(base, head)`.

Optic compares `paths` only: a field removed from an event of `webhooks`, or an event removed,
showed up as no change at all, although every bot that reads it breaks. This differ reuses
Optic's rules instead of new ones. A bot *receives* an event as a client receives an answer, so
each webhook becomes, in a copy of each spec, an operation (`POST /webhooks/{name}`) whose `200`
response body is the event: a removed or retyped field, or a required field made optional,
breaks; an added field does not; a removed event breaks; a new event does not. `components`
stay, so that `$ref`s resolve. What Optic reports is told back in the gate's words: the
operation `webhook call.created`, the location `event body`, the field as Optic gives it.

The events are compared before Optic is started: when neither spec has any, or when they are
the same in both (their schemas with `$ref`s followed), nothing runs.

Not compared: what a bot answers (the webhooks' `responses`) and the headers an event is sent
with (its `parameters`; the spec declares none, and Optic would judge a removed response header
compatible).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contract import spec
from contract.spec import SpecError
from toolchain.changes import Change, DiffError, Reason, load_document
from toolchain.optic import NPM_DIR, changes_from, run_optic

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: The path of an event's stand-in operation in the copies Optic compares.
PREFIX = "/webhooks/"
#: The media type whose name the event's lines leave out: every event is JSON today.
JSON = "application/json"
#: Optic's words for an answer, in its rule messages, and the gate's for an event.
WORDS = (
    ("response body property", "event property"),
    ("response property", "event property"),
    ("response status code 200", "event body"),
    ("an operation", "an event"),
)

Optic = Callable[[Path, Path, Path], dict[str, Any]]


class WebhookDiffer:
    """Changes to the call events (`webhooks`), judged for the bots that receive them."""

    name = "webhooks"

    def __init__(self, npm_dir: Path = NPM_DIR, optic: Optic = run_optic) -> None:
        self.npm_dir = npm_dir
        self.optic = optic

    def changes(self, base: Path, head: Path) -> list[Change]:
        base_doc, head_doc = load_document(base), load_document(head)
        before, after = events(base_doc, base), events(head_doc, head)
        if followed(base_doc, before, base) == followed(head_doc, after, head):
            return []
        # Optic waives its rules for a new major info.version: both copies carry the base's.
        info = {"title": "call events", "version": str(_info(base_doc).get("version", ""))}
        with tempfile.TemporaryDirectory(prefix="webhooks-") as tmp:
            copies = []
            for side, document, found in (("base", base_doc, before), ("head", head_doc, after)):
                copy = Path(tmp) / f"{side}.json"
                copy.write_text(json.dumps(as_operations(document, found, info), default=str))
                copies.append(copy)
            report = self.optic(copies[0], copies[1], self.npm_dir)
        names = {PREFIX + quote(name, safe=""): name for name in before.keys() | after.keys()}
        return [renamed(change, names) for change in changes_from(report)]


def _info(document: Mapping[str, Any]) -> Mapping[str, Any]:
    info = document.get("info")
    return info if isinstance(info, Mapping) else {}


def follow(document: Mapping[str, Any], node: Any, where: str, path: Path) -> Any:
    """The node a local `$ref` (or a chain of them) names; DiffError, naming the file and the
    place, when it names nothing or is not local (the gate compares single-file specs)."""
    try:
        return spec.follow(document, node)
    except SpecError as error:
        raise DiffError(f"{path}: {where}: {error}") from None


def events(document: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Each webhook's operations by method, each as the content of its request body (the event;
    an empty mapping when it has none)."""
    webhooks = document.get("webhooks") or {}
    if not isinstance(webhooks, Mapping):
        raise DiffError(f"{path}: webhooks is not a mapping of event names to path items")
    found: dict[str, dict[str, Any]] = {}
    for name, given in webhooks.items():
        where = f"webhooks.{name}"
        item = follow(document, given, where, path)
        if not isinstance(item, Mapping):
            raise DiffError(f"{path}: {where} is not a path item (a mapping of methods)")
        found[str(name)] = {}
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if not isinstance(operation, Mapping):
                raise DiffError(f"{path}: {where}.{method} is not an operation")
            body = follow(document, operation.get("requestBody") or {}, where, path)
            content = (body.get("content") if isinstance(body, Mapping) else None) or {}
            if not isinstance(content, Mapping):
                raise DiffError(f"{path}: {where}.{method}.requestBody.content is not a mapping")
            found[str(name)][method] = dict(content)
    return found


def followed(document: Mapping[str, Any], node: Any, path: Path, where: str = "webhooks") -> Any:
    """`node` with every `$ref` in it replaced by its target: what Optic compares. A `$ref` met
    again inside its own target (a recursive schema) stays a `$ref`."""

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in stack:
                return {"$ref": ref}
            target = walk(follow(document, {"$ref": ref}, where, path), (*stack, ref))
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            if siblings and isinstance(target, Mapping):  # OpenAPI 3.1: beside a $ref
                return {**target, **walk(siblings, stack)}
            return target
        if isinstance(node, Mapping):
            return {str(key): walk(value, stack) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, stack) for item in node]
        return node

    return walk(node, ())


def as_operations(
    document: Mapping[str, Any], found: Mapping[str, Mapping[str, Any]], info: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of the spec Optic compares: each event the `200` answer of an operation."""
    paths: dict[str, Any] = {}
    for name, operations in found.items():
        item: dict[str, Any] = {}
        for method, content in operations.items():
            answer = {"description": f"the event {name}", "content": content}
            item[method] = {"responses": {"200": answer} if content else {}}
        paths[PREFIX + quote(name, safe="")] = item
    return {
        "openapi": document.get("openapi", "3.1.0"),
        "info": dict(info),
        "paths": paths,
        "components": document.get("components") or {},
    }


def _words(text: str) -> str:
    for optic, ours in WORDS:
        text = text.replace(optic, ours)
    return text


def renamed(change: Change, names: Mapping[str, str]) -> Change:
    """An Optic change of a stand-in operation, told as a change of the event."""
    method, _, route = change.operation.partition(" ")
    name = names.get(route, route.removeprefix(PREFIX))
    operation = f"webhook {name}" if method == "POST" else f"webhook {name} ({method})"
    location = "event" if change.location == "operation" else change.location
    if location.startswith("response 200"):
        media = location.removeprefix("response 200").strip()
        location = "event body" if media in ("", JSON) else f"event body {media}"
    pointer = "/webhooks/" + name.replace("~", "~0").replace("/", "~1")
    json_path = change.json_path
    stand_in = "/paths/" + route.replace("~", "~0").replace("/", "~1")
    if json_path.startswith(stand_in):
        json_path = pointer + json_path.removeprefix(stand_in)
        json_path = json_path.replace("/responses/200", "/requestBody", 1)
    return Change(
        operation,
        location,
        change.field,
        change.kind,
        json_path,
        param=change.param,
        detail=change.detail,
        reasons=[Reason(reason.rule, _words(reason.message)) for reason in change.reasons],
    )
