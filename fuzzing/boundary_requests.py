"""One boundary case, and what the spec says of an operation's request that the cases need:
the statuses a valid request may get, its path parameters, media types and the headers of its
security scheme. `fuzzing.boundary_cases` derives the cases, `fuzzing.boundaries` sends them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from contract.spec import JSON, Operation, Spec, SpecError, follow, resolve
from fuzzing.mutations import MISSING, SHOWN_CHARACTERS, Mutation, Path
from fuzzing.request_signing import PROPER, Signing

#: Statuses a valid request may get besides a documented 2xx: the state of the thread (409),
#: an audio file the server could not fetch (422), each where the operation documents it.
#: The name of the check whose violations the boundary phase reports.
CHECK: Final = "spec_boundaries"
#: The name of the phase in `RunResult.phase_cases`.
PHASE: Final = "boundaries"
ACCEPTED_ERRORS: Final = (409, 422)


@dataclass(frozen=True, slots=True)
class Boundary:
    """One near-miss request and the statuses the contract allows for it."""

    method: str  # the operation's `{method}`
    operation: str  # its label, as schemathesis names it: `POST /{teamId}/call/start`
    field: str  # what was changed: `threadId`, `userIds.0`, `teamId`, `Content-Type`, `body`
    constraint: str  # which rule it probes: `pattern ^[0-9a-f]{24}$`
    label: str  # how: `one letter upper case`
    shown: str  # the value, as the reason shows it
    expected: tuple[int, ...]
    inside: bool  # meets every rule: expected to be accepted
    team: str
    body: bytes
    content_type: str | None = JSON
    chunked: bool = False
    json_body: Any = None  # the body as JSON (None when it is not)
    #: How the case is signed: properly by default, or one forgery.
    signing: Signing = PROPER

    def reason(self, got: int | None) -> str:
        answer = "no answer" if got is None else str(got)
        shown = f" {self.shown}" if self.shown else ""
        return (
            f"{self.field}: {self.constraint}, {self.label}{shown}: "
            f"expected {' or '.join(map(str, self.expected))}, got {answer}"
        )


def show(value: Any) -> str:
    if value is MISSING:
        return ""
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 4] + '..."'


def has(parent: Any, key: str | int) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and isinstance(parent, list) and 0 <= key < len(parent)


def value_at(body: Any, path: Path) -> Any:
    node = body
    for key in path:
        if not has(node, key):
            return MISSING
        node = node[key]
    return node


def apply(body: Any, mutation: Mutation) -> Any:
    """A copy of `body` with the mutation applied."""
    result = copy.deepcopy(body)
    if not mutation.path:
        return mutation.change(result)
    parent = value_at(result, mutation.path[:-1])
    last = mutation.path[-1]
    new = mutation.change(parent[last] if has(parent, last) else MISSING)
    if new is not MISSING:
        parent[last] = new
    elif has(parent, last):
        del parent[last]
    return result


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def padded(body: Any, size: int) -> bytes:
    """The JSON of `body` followed by spaces up to `size` bytes (still valid JSON)."""
    text = encode(body)
    if len(text) > size:
        raise SpecError(f"a body of {len(text)} bytes does not fit in {size}")
    return text + b" " * (size - len(text))


def accepted(operation: Operation) -> tuple[int, ...]:
    """What a valid request may get: a documented 2xx, or 409/422 where documented."""
    return tuple(
        status for status in operation.statuses if 200 <= status < 300 or status in ACCEPTED_ERRORS
    )


def operation_node(spec: Spec, operation: Operation) -> tuple[Mapping[str, Any], Any]:
    item = follow(spec.document, spec.document["paths"][operation.path])
    return item, follow(spec.document, item.get(operation.http_method.lower(), {}))


def path_parameters(spec: Spec, operation: Operation) -> dict[str, Any]:
    """The resolved schema of each path parameter of the operation, by name."""
    item, node = operation_node(spec, operation)
    found: dict[str, Any] = {}
    for node_or_ref in [*item.get("parameters", ()), *node.get("parameters", ())]:
        parameter = follow(spec.document, node_or_ref)
        if parameter.get("in") == "path":
            found[str(parameter["name"])] = resolve(spec.document, parameter.get("schema", {}))
    return found


def media_types(spec: Spec, operation: Operation) -> list[str]:
    """The media types the operation's request body is documented in."""
    _item, node = operation_node(spec, operation)
    body = follow(spec.document, node.get("requestBody", {}))
    return list(body.get("content", {})) or [JSON]


def indented(body: Any) -> bytes:
    return json.dumps(body, indent=1).encode()


def security_headers(spec: Spec, operation: Operation) -> list[str]:
    """The header names of the operation's (or the spec's default) first security requirement
    whose schemes are all API keys in headers; [] when there is none."""
    _item, node = operation_node(spec, operation)
    requirements = node.get("security", spec.document.get("security", []))
    schemes = spec.document.get("components", {}).get("securitySchemes", {})
    for requirement in requirements:
        found = [follow(spec.document, schemes.get(name, {})) for name in requirement]
        if found and all(s.get("type") == "apiKey" and s.get("in") == "header" for s in found):
            return [str(s["name"]) for s in found]
    return []
