"""Near-miss requests derived from openapi.yaml: values just outside and just inside each rule.

Random data rarely lands exactly on a boundary: an id with one letter in upper case, a list of
`maxItems + 1` users, `null` for an optional field, a file URL ending in `.mp4`, a JSON body
sent as `text/plain`, a body one byte over the limit. This phase walks the request of every
operation (the path's `teamId`, the body's resolved schema, its media type and the body size of
`info.x-max-request-body-bytes`) and derives, for every constraint it finds, requests that
miss it by as little as possible and requests that meet it at its edge. Nothing is listed by
hand: a constraint added to the spec yields new cases without a change here.

Whether a derived value is inside or outside is not assumed from how it was made: it is
judged by validating the whole body against the operation's schema (`valid`), so that an upper
case `H` in `Https://` (the pattern allows it) is expected to be accepted, and an upper case
letter in an id refused. Each case carries the statuses the contract names for it:

- outside the body's schema: 400; outside the media type: 415; over the size limit: 413;
- a `teamId` outside its schema: 400; a valid id of another team: 403;
- inside: accepted, that is a documented 2xx, or 409 (the thread's state) or 422 where
  documented (`call.audio/play` cannot fetch the file);
- two faults at once: the status of the check that comes first, in the order the reference
  server documents: 401 for the signature headers, 413 (the signature covers the body, so it
  is read first), 401 for the signature, 400 `teamId`, 403, 415, 400 body, 409.

Every case uses a thread of its own (`contract.demo.thread(FIRST_THREAD + i)`), so it meets
no call of another phase. Failures are violations of the check `spec_boundaries`, one per
operation, field and constraint, with a shell snippet that signs the request again and sends it
with curl (`fuzzing.signing.shell`).

Every case is signed by the run's bot over the exact bytes sent, except the forgeries derived
from the security schemes (`forgery_cases`): each signature header left out, an unknown bot, a
wrong signature, a signature over other bytes than those sent, a timestamp 301 s off (401) and
299 s off (accepted). A forgery's violation names it.

    found = boundaries.run(options)        # before schemathesis
    boundaries.merge(found, result)        # into its RunResult
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

from contract import demo
from contract.spec import JSON, Operation, Spec, SpecError, follow, load, resolve
from fuzzing.signing import (
    BOT_ID_HEADER,
    MAX_SKEW_SECONDS,
    PROPER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
    Signing,
    shell,
)

if TYPE_CHECKING:
    from fuzzing.runner import Options, RunResult, Violation

#: The name of the check whose violations this phase reports.
CHECK: Final = "spec_boundaries"
#: The name of the phase in `RunResult.phase_cases`.
PHASE: Final = "boundaries"
#: Case `i` uses the thread `contract.demo.thread(FIRST_THREAD + i)`, which no other phase uses.
FIRST_THREAD: Final = 900_000
#: The body field that names the thread the operation acts on.
THREAD_FIELD: Final = "threadId"
#: The path parameter that names the team the bot acts for.
TEAM_PARAMETER: Final = "teamId"
#: Media types that are not JSON, sent with a valid JSON body.
OTHER_MEDIA_TYPES: Final = ("text/plain", "application/x-www-form-urlencoded")
#: Statuses a valid request may get besides a documented 2xx: the state of the thread (409),
#: an audio file the server could not fetch (422), each where the operation documents it.
ACCEPTED_ERRORS: Final = (409, 422)
#: A valid bot id that no server should know (the forgery "an unknown bot").
UNKNOWN_BOT: Final = "0000000000000000000000b0"
TIMEOUT_SECONDS: Final = 10.0
#: A value longer than this is shortened in a reason.
SHOWN_CHARACTERS: Final = 40

_MISSING: Final = object()
Path = tuple[str | int, ...]


# -- validation: is a value inside the schema? -------------------------------------------------


def _ecma(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMA-262) pattern in Python: `$` at the end matches only the end."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)


_TYPES: Final[dict[str, Callable[[Any], bool]]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _type_ok(schema: Mapping[str, Any], value: Any) -> bool:
    kinds = schema.get("type")
    if kinds is None:
        return True
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    if schema.get("nullable") is True:
        names.append("null")
    return any(_TYPES[name](value) for name in names if name in _TYPES)


def _string_ok(schema: Mapping[str, Any], value: str) -> bool:
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    return "pattern" not in schema or _ecma(schema["pattern"]).search(value) is not None


def _number_ok(schema: Mapping[str, Any], value: float) -> bool:
    checks = (
        ("minimum", lambda bound: value >= bound),
        ("maximum", lambda bound: value <= bound),
        ("exclusiveMinimum", lambda bound: value > bound),
        ("exclusiveMaximum", lambda bound: value < bound),
        ("multipleOf", lambda bound: math.isclose(value / bound, round(value / bound))),
    )
    return all(check(schema[name]) for name, check in checks if name in schema)


def _array_ok(schema: Mapping[str, Any], value: list[Any]) -> bool:
    if "minItems" in schema and len(value) < schema["minItems"]:
        return False
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return False
    if schema.get("uniqueItems") and len({_canonical(v) for v in value}) != len(value):
        return False
    items = schema.get("items")
    return not isinstance(items, Mapping) or all(valid(items, v) for v in value)


def _object_ok(schema: Mapping[str, Any], value: dict[str, Any]) -> bool:
    if any(name not in value for name in schema.get("required", ())):
        return False
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name, item in value.items():
        if name in properties:
            if not valid(properties[name], item):
                return False
            continue
        extra = schema.get("additionalProperties", True)
        if extra is False or (isinstance(extra, Mapping) and not valid(extra, item)):
            return False
    return True


def valid(schema: Any, value: Any) -> bool:
    """Whether `value` is valid for the resolved `schema` (the JSON Schema keywords that
    request schemas use; annotations such as `format` are not assertions)."""
    if schema is True or not isinstance(schema, Mapping):
        return schema is not False
    if not _type_ok(schema, value):
        return False
    if "enum" in schema and _canonical(value) not in {_canonical(v) for v in schema["enum"]}:
        return False
    if "const" in schema and _canonical(value) != _canonical(schema["const"]):
        return False
    kind_checks: tuple[tuple[type | tuple[type, ...], Callable[[Any], bool]], ...] = (
        (str, lambda v: _string_ok(schema, v)),
        (list, lambda v: _array_ok(schema, v)),
        (dict, lambda v: _object_ok(schema, v)),
    )
    for kind, check in kind_checks:
        if isinstance(value, kind) and not check(value):
            return False
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and not _number_ok(schema, value):
        return False
    if "allOf" in schema and not all(valid(s, value) for s in schema["allOf"]):
        return False
    if "anyOf" in schema and not any(valid(s, value) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema and sum(valid(s, value) for s in schema["oneOf"]) != 1:
        return False
    return not ("not" in schema and valid(schema["not"], value))


def nullable(schema: Mapping[str, Any]) -> bool:
    return valid(schema, None)


# -- valid values: the examples of the spec, made distinct where a list needs it --------------

_ALPHABET: Final = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def instance(schema: Mapping[str, Any], where: str, *, full: bool = False) -> Any:
    """A valid value of `schema`: its example, default or first enum value, or one built from
    its parts (required properties only, or with `full` every property). SpecError when none
    can be found: give the schema an example."""
    for branch_key in ("oneOf", "anyOf"):
        if branch_key in schema:
            return instance(schema[branch_key][0], where, full=full)
    candidates: list[Any] = []
    if schema.get("examples"):
        candidates += list(schema["examples"])
    for key in ("example", "default", "const"):
        if key in schema:
            candidates.append(schema[key])
    candidates += list(schema.get("enum", ()))
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part_value = instance(part, where, full=full)
            if isinstance(part_value, dict):
                merged.update(part_value)
        candidates.append(merged)
    kind = _kind(schema)
    if kind == "object":
        properties: Mapping[str, Any] = schema.get("properties", {})
        names = list(properties) if full else list(schema.get("required", ()))
        candidates.insert(
            0, {name: instance(properties[name], f"{where}.{name}", full=full) for name in names}
        )
    elif kind == "array" and isinstance(schema.get("items"), Mapping):
        count = max(int(schema.get("minItems", 1)), 1)
        candidates.append(distinct(schema["items"], count, f"{where}[]"))
    elif kind in ("integer", "number"):
        candidates.append(schema.get("minimum", 0))
    elif kind == "boolean":
        candidates.append(True)
    elif kind == "string" and "pattern" not in schema:
        candidates.append("a" * int(schema.get("minLength", 1)))
    for candidate in candidates:
        if valid(schema, candidate):
            return copy.deepcopy(candidate)
    raise SpecError(f"{where}: no valid value found for {dict(schema)}; give it an example")


def _kind(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if any(key in schema for key in ("pattern", "minLength", "maxLength")):
        return "string"
    return None


def _neighbours(schema: Mapping[str, Any], value: Any) -> Iterator[Any]:
    """Values near `value` (one character or one unit apart) that may also be valid."""
    if isinstance(value, str):
        for position in range(len(value) - 1, -1, -1):
            for char in _ALPHABET:
                yield value[:position] + char + value[position + 1 :]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        for step in itertools.count(1):
            yield value + step
    yield from schema.get("enum", ())


def distinct(schema: Mapping[str, Any], count: int, where: str) -> list[Any]:
    """`count` different valid values of `schema`, starting with its example."""
    first = instance(schema, where)
    found = [first]
    seen = {_canonical(first)}
    for candidate in _neighbours(schema, first):
        if len(found) >= count:
            break
        key = _canonical(candidate)
        if key not in seen and valid(schema, candidate):
            seen.add(key)
            found.append(candidate)
    if len(found) < count:
        raise SpecError(f"{where}: only {len(found)} distinct valid values found, {count} needed")
    return found[:count]


# -- the near misses of one value --------------------------------------------------------------

Transform = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Mutation:
    """A change to one place of a valid body, probing one constraint."""

    path: Path  # where in the body (() is the body itself)
    change: Transform  # the value there (or _MISSING) -> the new value (or _MISSING: left out)
    constraint: str  # `pattern ^[0-9a-f]{24}$`
    label: str  # `one letter upper case`
    full: bool = False  # applied to the body with every field, not the one with required ones


def _const(value: Any) -> Transform:
    if value is _MISSING:
        return lambda _old: _MISSING
    return lambda _old: copy.deepcopy(value)


def _swap_first_letter(value: str) -> str:
    for index, char in enumerate(value):
        if char.swapcase() != char:
            return value[:index] + char.swapcase() + value[index + 1 :]
    return value


def _first_letter_case(value: str) -> str | None:
    """`upper` or `lower`: the case the first letter of `value` gets when swapped."""
    letter = next((char for char in value if char.swapcase() != char), None)
    if letter is None:
        return None
    return "upper" if letter.islower() else "lower"


def _outside_character(pattern: str, value: str) -> str | None:
    """A character that, put in place of the last one of `value`, breaks the pattern."""
    for char in "gzG-_~%":
        if value and not _string_ok({"pattern": pattern}, value[:-1] + char):
            return char
    return None


def _resized(pattern: str | None, value: str, length: int) -> str:
    """`value` made `length` characters long, still matching `pattern` where some position
    allows it (a character repeated, or a run removed, near the middle); else padded or cut."""
    delta = length - len(value)
    if delta == 0 or not value:
        return value + "a" * max(delta, 0)
    middle = len(value) // 2
    for position in sorted(range(1, len(value)), key=lambda p: abs(p - middle)):
        if delta > 0:
            candidate = value[:position] + value[position - 1] * delta + value[position:]
        else:
            candidate = value[:position] + value[position - delta :]
        if len(candidate) == length and (
            pattern is None or _string_ok({"pattern": pattern}, candidate)
        ):
            return candidate
    return value + value[-1] * delta if delta > 0 else value[:length]


def _resize_to(pattern: str | None, length: int) -> Transform:
    return lambda old: _resized(pattern, old, length)


_EXTENSION = re.compile(r"\.([A-Za-z0-9]{2,5})(\?[^/]*)?$")


def _other_extension(extension: str) -> str:
    last = extension[-1]
    other = str((int(last) + 1) % 10) if last.isdigit() else chr((ord(last.lower()) - 96) % 26 + 97)
    return extension[:-1] + other


def _extension_changes(value: str) -> Iterator[tuple[Transform, str]]:
    """For a URL or file name ending in an extension: the extension changed a little."""
    found = _EXTENSION.search(value)
    if found is None:
        return

    def swap(make: Callable[[str, str, str], str]) -> Transform:
        def change(old: Any) -> Any:
            match = _EXTENSION.search(old) if isinstance(old, str) else None
            if match is None:
                return old
            return make(old[: match.start()], match.group(1), match.group(2) or "")

        return change

    extension = found.group(1)
    if extension.upper() != extension:
        yield (
            swap(lambda head, ext, query: f"{head}.{ext.upper()}{query}"),
            f"extension in upper case (.{extension.upper()})",
        )
    yield (
        swap(lambda head, ext, query: f"{head}.{_other_extension(ext)}{query}"),
        f"another extension (.{_other_extension(extension)})",
    )
    yield swap(lambda head, ext, query: f"{head}{query}"), "no extension"
    yield (
        swap(lambda head, ext, query: f"{head}.txt?file=.{ext}"),
        f"the extension only in the query (.{extension})",
    )


def _abridged(text: str, limit: int = 2 * SHOWN_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _string_mutations(schema: Mapping[str, Any], value: str) -> Iterator[Mutation]:
    """The near misses of a valid string `value` of `schema` (the path is set by the caller).

    Each change is a function of the value it is applied to, so that a field whose value
    differs from case to case (the thread) keeps its own value, changed the same way.
    """
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        name = f"pattern {_abridged(pattern)}"
        case = _first_letter_case(value)
        if case is not None:
            yield Mutation((), _swap_first_letter, name, f"one letter {case} case")
        char = _outside_character(pattern, value)
        if char is not None:
            yield Mutation((), lambda old: old[:-1] + char, name, f"last character {char!r}")
        yield Mutation((), lambda old: old + "\n", name, "a trailing newline")
        yield Mutation((), lambda old: " " + old, name, "a leading space")
        yield Mutation((), lambda old: old + old[-1:], name, "one character more")
        yield Mutation((), lambda old: old[:-1], name, "one character less")
        for change, label in _extension_changes(value):
            yield Mutation((), change, name, label)
        if _SCHEME.match(value):
            yield Mutation((), lambda old: _SCHEME.sub("ftp://", old, 1), name, "scheme ftp")
    for key, beyond in (("maxLength", 1), ("minLength", -1)):
        if key in schema:
            bound = int(schema[key])
            for length in (bound, bound + beyond):
                if length >= 0:
                    label = f"{'exactly ' if length == bound else ''}{length} characters"
                    yield Mutation((), _resize_to(pattern, length), f"{key} {bound}", label)
    for key in ("enum", "const"):
        if key not in schema:
            continue
        values = schema[key] if key == "enum" else [schema[key]]
        name = f"{key} {json.dumps(values)}"
        for item in values:
            if not isinstance(item, str):
                continue
            yield Mutation((), _const(item), name, "an allowed value")
            for other in dict.fromkeys((item.upper(), item.capitalize())):
                if other != item:
                    yield Mutation((), _const(other), name, "an allowed value in another case")
            yield Mutation((), _const(item + " "), name, "an allowed value and a space")
    if "pattern" not in schema and "enum" not in schema and "const" not in schema:
        yield Mutation(
            (), _const(""), "minLength 1" if "minLength" in schema else "type string", "empty"
        )


def _number_mutations(schema: Mapping[str, Any]) -> Iterator[Mutation]:
    step = 1 if _kind(schema) == "integer" else 0.5
    for key, outward in (
        ("minimum", -step),
        ("maximum", step),
        ("exclusiveMinimum", 0),
        ("exclusiveMaximum", 0),
    ):
        if key in schema:
            bound = schema[key]
            inward = step if key == "exclusiveMinimum" else -step
            for value, label in (
                (bound, "exactly the bound"),
                (bound + outward if outward else bound + inward, "one step from the bound"),
            ):
                yield Mutation((), _const(value), f"{key} {bound}", label)


def _wrong_type(schema: Mapping[str, Any], value: Any) -> tuple[Any, str] | None:
    kind = _kind(schema)
    if kind == "string":
        return 0, "a number"
    if kind in ("integer", "number"):
        return str(value), "a string"
    if kind == "boolean":
        return "true", "a string"
    if kind == "array":
        return (value[0] if value else "x"), "one item, not in a list"
    if kind == "object":
        return [value], "an object in a list"
    return None


def _at(path: Path, mutation: Mutation, *, full: bool = False) -> Mutation:
    return Mutation(
        (*path, *mutation.path),
        mutation.change,
        mutation.constraint,
        mutation.label,
        full=mutation.full or full,
    )


def mutations(schema: Mapping[str, Any], value: Any, path: Path = ()) -> Iterator[Mutation]:
    """Every near miss of the valid `value` of the resolved `schema`, at `path` of the body."""
    if path:
        if not nullable(schema):
            yield Mutation(path, _const(None), "not nullable", "given as")
        wrong = _wrong_type(schema, value)
        if wrong is not None:
            yield Mutation(path, _const(wrong[0]), f"type {_kind(schema)}", wrong[1])
    if isinstance(value, str):
        for mutation in _string_mutations(schema, value):
            yield _at(path, mutation)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        for mutation in _number_mutations(schema):
            yield _at(path, mutation)
    elif isinstance(value, list):
        yield from _array_mutations(schema, value, path)
    elif isinstance(value, dict):
        yield from _object_mutations(schema, value, path)


def _array_mutations(schema: Mapping[str, Any], value: list[Any], path: Path) -> Iterator[Mutation]:
    items = schema.get("items")
    if not isinstance(items, Mapping):
        return
    where = _field_name(path)
    for key, beyond in (("minItems", -1), ("maxItems", 1)):
        if key in schema:
            bound = int(schema[key])
            for count in (bound, bound + beyond):
                if count >= 0:
                    label = f"{'exactly ' if count == bound else ''}{count} items"
                    made = distinct(items, count, where)
                    yield Mutation(path, _const(made), f"{key} {bound}", label)
    if schema.get("uniqueItems") and value:
        repeated = [value[0], value[0], *value[1:]]
        yield Mutation(path, _const(repeated), "uniqueItems", "a repeated item")
    if value:
        yield from mutations(items, value[0], (*path, 0))


def _other_name(name: str) -> str:
    lower = name.lower()
    return lower if lower != name else name[:1].upper() + name[1:]


def _object_mutations(
    schema: Mapping[str, Any], value: dict[str, Any], path: Path
) -> Iterator[Mutation]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    for name in schema.get("required", ()):
        yield Mutation((*path, name), _const(_MISSING), "required", "left out")
    if schema.get("additionalProperties", True) is False:
        for name in properties:
            typo = _other_name(name)
            if typo not in properties and name in value:
                yield Mutation(
                    (*path, typo),
                    _const(value[name]),
                    "additionalProperties false",
                    f"an unknown field {typo!r} ({name} in another case)",
                    full=True,
                )
    for name, item in value.items():
        if name in properties:
            for mutation in mutations(properties[name], item, (*path, name)):
                yield _at((), mutation, full=name not in required)


# -- the cases of one operation ----------------------------------------------------------------


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


def _show(value: Any) -> str:
    if value is _MISSING:
        return ""
    text = json.dumps(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 4] + '..."'


def _field_name(path: Path) -> str:
    return ".".join(map(str, path)) or "body"


def _has(parent: Any, key: str | int) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and isinstance(parent, list) and 0 <= key < len(parent)


def _value_at(body: Any, path: Path) -> Any:
    node = body
    for key in path:
        if not _has(node, key):
            return _MISSING
        node = node[key]
    return node


def apply(body: Any, mutation: Mutation) -> Any:
    """A copy of `body` with the mutation applied."""
    result = copy.deepcopy(body)
    if not mutation.path:
        return mutation.change(result)
    parent = _value_at(result, mutation.path[:-1])
    last = mutation.path[-1]
    new = mutation.change(parent[last] if _has(parent, last) else _MISSING)
    if new is not _MISSING:
        parent[last] = new
    elif _has(parent, last):
        del parent[last]
    return result


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _padded(body: Any, size: int) -> bytes:
    """The JSON of `body` followed by spaces up to `size` bytes (still valid JSON)."""
    text = _encode(body)
    if len(text) > size:
        raise SpecError(f"a body of {len(text)} bytes does not fit in {size}")
    return text + b" " * (size - len(text))


def _branches(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return [branch for branch in schema[key] if isinstance(branch, Mapping)]
    return [schema]


def accepted(operation: Operation) -> tuple[int, ...]:
    """What a valid request may get: a documented 2xx, or 409/422 where documented."""
    return tuple(
        status for status in operation.statuses if 200 <= status < 300 or status in ACCEPTED_ERRORS
    )


def _operation_node(spec: Spec, operation: Operation) -> tuple[Mapping[str, Any], Any]:
    item = follow(spec.document, spec.document["paths"][operation.path])
    return item, follow(spec.document, item.get(operation.http_method.lower(), {}))


def path_parameters(spec: Spec, operation: Operation) -> dict[str, Any]:
    """The resolved schema of each path parameter of the operation, by name."""
    item, node = _operation_node(spec, operation)
    found: dict[str, Any] = {}
    for node_or_ref in [*item.get("parameters", ()), *node.get("parameters", ())]:
        parameter = follow(spec.document, node_or_ref)
        if parameter.get("in") == "path":
            found[str(parameter["name"])] = resolve(spec.document, parameter.get("schema", {}))
    return found


def media_types(spec: Spec, operation: Operation) -> list[str]:
    """The media types the operation's request body is documented in."""
    _item, node = _operation_node(spec, operation)
    body = follow(spec.document, node.get("requestBody", {}))
    return list(body.get("content", {})) or [JSON]


class _Builder:
    """The cases of one operation, each on a thread of its own."""

    def __init__(self, spec: Spec, operation: Operation, team: str, threads: Iterator[int]):
        self.spec = spec
        self.operation = operation
        self.team = team
        self.threads = threads
        self.label = f"{operation.http_method} {operation.path}"
        self.ok = accepted(operation)
        self.root = spec.schema(operation.request_schema or "")
        self.cases: list[Boundary] = []
        self.seen: set[tuple[str, bytes, str | None, bool, Signing]] = set()

    def fresh(self, body: Any) -> Any:
        """`body` on a thread no other case uses."""
        if isinstance(body, dict) and THREAD_FIELD in body:
            return {**body, THREAD_FIELD: demo.thread(next(self.threads))}
        return body

    def add(
        self,
        field_name: str,
        constraint: str,
        label: str,
        shown: str,
        body: Any,
        *,
        raw: bytes | None = None,
        status: int | None = None,
        team: str | None = None,
        content_type: str | None = JSON,
        chunked: bool = False,
        signing: Signing = PROPER,
    ) -> None:
        """One case; its expected statuses follow from validating `body` unless `status`."""
        if status is None:
            inside = valid(self.root, body)
            expected = self.ok if inside else (400,)
        else:
            inside, expected = status in self.ok, (status,)
        encoded = _encode(body) if raw is None else raw
        key = (team or self.team, encoded, content_type, chunked, signing)
        if key in self.seen:
            return
        self.seen.add(key)
        self.cases.append(
            Boundary(
                method=self.operation.method,
                operation=self.label,
                field=field_name,
                constraint=constraint,
                label=label,
                shown=shown,
                expected=expected,
                inside=inside,
                team=team or self.team,
                body=encoded,
                content_type=content_type,
                chunked=chunked,
                json_body=body,
                signing=signing,
            )
        )

    def build(self) -> list[Boundary]:
        for number, branch in enumerate(_branches(self.root)):
            where = f"{self.operation.request_schema}, branch {number}"
            minimal = instance(branch, where)
            full = instance(branch, where, full=True)
            self.add("body", "required", "only the required fields", "", self.fresh(minimal))
            self.add("body", "properties", "every field", "", self.fresh(full))
            for mutation in mutations(branch, full):
                base = self.fresh(full if mutation.full else minimal)
                if _value_at(base, mutation.path[:-1]) is _MISSING:
                    continue
                body = apply(base, mutation)
                shown = _show(_value_at(body, mutation.path))
                self.add(
                    _field_name(mutation.path), mutation.constraint, mutation.label, shown, body
                )
        minimal = instance(_branches(self.root)[0], str(self.operation.request_schema))
        self.body_cases(minimal)
        self.media_cases(minimal)
        self.size_cases(minimal)
        self.team_cases(minimal)
        self.forgery_cases(minimal)
        return self.cases

    def body_cases(self, minimal: Any) -> None:
        kind = f"type {_kind(self.root) or 'object'}"
        for other, label in (([minimal], "a JSON array"), (None, "null"), ("x", "a string")):
            if not valid(self.root, other):
                self.add("body", kind, label, _show(other), other)
        text = _encode(self.fresh(minimal))
        self.add("body", "JSON", "one byte short", _show(text[:-1].decode()), None, raw=text[:-1])
        if text.endswith(b"}"):
            self.add("body", "JSON", "a trailing comma", "", None, raw=text[:-1] + b",}")

    def media_cases(self, minimal: Any) -> None:
        documented = media_types(self.spec, self.operation)
        constraint = f"media type {' or '.join(documented)}"
        for media_type in documented:
            for sent, label in (
                (f"{media_type}; charset=utf-8", "with a charset"),
                (media_type.upper(), "in upper case"),
            ):
                self.add(
                    "Content-Type",
                    constraint,
                    label,
                    json.dumps(sent),
                    self.fresh(minimal),
                    content_type=sent,
                )
        for other in (*OTHER_MEDIA_TYPES, None):
            shown = json.dumps(other) if other else "(none)"
            self.add(
                "Content-Type",
                constraint,
                "another media type",
                shown,
                self.fresh(minimal),
                raw=_encode(self.fresh(minimal)),
                status=415,
                content_type=other,
            )

    def size_cases(self, minimal: Any) -> None:
        limit = self.spec.max_body_bytes
        constraint = f"x-max-request-body-bytes {limit}"
        for size, chunked, label in (
            (limit, False, "exactly the limit"),
            (limit + 1, False, "one byte over"),
            (limit + 1, True, "one byte over, sent chunked"),
        ):
            body = self.fresh(minimal)
            self.add(
                "body",
                constraint,
                f"{label}, valid JSON padded with spaces",
                f"({size} bytes)",
                body,
                raw=_padded(body, size),
                status=None if size <= limit else 413,
                chunked=chunked,
            )
        # Two faults at once: the check that comes first answers (413 before 415 and 400: the
        # body is read, within its limit, before the signature over it can be checked).
        self.add(
            "Content-Type",
            f"{constraint} (413 before 415)",
            "text/plain and one byte over",
            '"text/plain"',
            None,
            raw=_padded(self.fresh(minimal), limit + 1),
            status=413,
            content_type=OTHER_MEDIA_TYPES[0],
        )
        invalid = {**self.fresh(minimal), "x-unknown-field": 1}
        self.add(
            "body",
            f"{constraint} (413 before 400)",
            "an unknown field and one byte over",
            f"({limit + 1} bytes)",
            None,
            raw=_padded(invalid, limit + 1),
            status=413,
        )

    def team_cases(self, minimal: Any) -> None:
        schema = path_parameters(self.spec, self.operation).get(TEAM_PARAMETER)
        if schema is None:
            return
        values = [
            (m.change(self.team), m.constraint, m.label) for m in mutations(schema, self.team)
        ]
        other = next(
            c for c in _neighbours(schema, self.team) if c != self.team and valid(schema, c)
        )
        values.append((other, "the bot's teams", "a valid id of a team the bot is not in"))
        for value, constraint, label in values:
            if not isinstance(value, str) or not value:
                continue  # a path segment is a non-empty string
            if not valid(schema, value):
                status = 400
            elif value != self.team:
                status = 403
            else:
                continue  # the team itself: every other case sends it
            body = self.fresh(minimal)
            self.add(
                TEAM_PARAMETER,
                constraint,
                label,
                _show(value),
                body,
                raw=_encode(body),
                status=status,
                team=value,
            )
            # ... and before the media type is looked at (400 teamId, 403 before 415).
            body = self.fresh(minimal)
            self.add(
                TEAM_PARAMETER,
                f"{constraint} ({status} before 415)",
                f"{label}, sent as text/plain",
                _show(value),
                body,
                raw=_encode(body),
                status=status,
                team=value,
                content_type=OTHER_MEDIA_TYPES[0],
            )

    def forgery_cases(self, minimal: Any) -> None:
        """Requests the bot did not sign as the contract asks: each refused with 401.

        Derived from the operation's security requirement: each of its headers left out;
        then, for the headers of a bot's signature (`contract.signing`), an unknown bot, a
        wrong signature, signatures over other bytes than those sent, timestamps just beyond
        the allowed skew (refused) and just within it (accepted).
        """
        headers = security_headers(self.spec, self.operation)
        if not headers:
            return
        required = "security: every header of the requirement"
        for name in headers:
            self.add(
                name,
                required,
                "left out",
                "",
                self.fresh(minimal),
                status=401,
                signing=Signing(omit=name),
            )
        body = self.fresh(minimal)
        self.add(
            headers[0],
            f"{required} (401 before 400 teamId)",
            "left out, teamId in upper case",
            "",
            body,
            raw=_encode(body),
            status=401,
            team=self.team.upper(),
            signing=Signing(omit=headers[0]),
        )
        if BOT_ID_HEADER in headers:
            self.add(
                BOT_ID_HEADER,
                "security: a known bot",
                "an unknown bot (signed with the run's secret key)",
                _show(UNKNOWN_BOT),
                self.fresh(minimal),
                status=401,
                signing=Signing(bot_id=UNKNOWN_BOT),
            )
        if SIGNATURE_HEADER in headers:
            self.signature_cases(minimal)
        if TIMESTAMP_HEADER in headers:
            constraint = f"security: timestamp within {MAX_SKEW_SECONDS} s"
            beyond, within = MAX_SKEW_SECONDS + 1, MAX_SKEW_SECONDS - 1
            for offset, label, status in (
                (-beyond, f"stale, {beyond} s in the past", 401),
                (beyond, f"{beyond} s in the future", 401),
                (-within, f"{within} s in the past", None),
                (within, f"{within} s in the future", None),
            ):
                self.add(
                    TIMESTAMP_HEADER,
                    constraint,
                    label,
                    "",
                    self.fresh(minimal),
                    status=status,
                    signing=Signing(offset=offset),
                )

    def signature_cases(self, minimal: Any) -> None:
        self.add(
            SIGNATURE_HEADER,
            "security: the bot's signature",
            "a wrong signature (its last digit changed)",
            "",
            self.fresh(minimal),
            status=401,
            signing=Signing(tamper=True),
        )
        constraint = "security: a signature over the exact bytes sent"
        other = _encode(self.fresh(minimal))  # another request's body, on a thread of its own
        forgeries: tuple[tuple[str, Callable[[Any], bytes], Callable[[Any], bytes]], ...] = (
            ("signed over another request's body", lambda _b: other, _encode),
            # the same JSON in other bytes: the signature covers its compact re-serialization
            ("signed over the body re-serialized (compact JSON)", _encode, _indented),
            ("signed over an empty body", lambda _b: b"", _encode),
        )
        for label, signed_over, sent_as in forgeries:
            body = self.fresh(minimal)
            self.add(
                SIGNATURE_HEADER,
                constraint,
                label,
                "",
                body,
                raw=sent_as(body),
                status=401,
                signing=Signing(signed_body=signed_over(body)),
            )


def _indented(body: Any) -> bytes:
    return json.dumps(body, indent=1).encode()


def security_headers(spec: Spec, operation: Operation) -> list[str]:
    """The header names of the operation's (or the spec's default) first security requirement
    whose schemes are all API keys in headers; [] when there is none."""
    _item, node = _operation_node(spec, operation)
    requirements = node.get("security", spec.document.get("security", []))
    schemes = spec.document.get("components", {}).get("securitySchemes", {})
    for requirement in requirements:
        found = [follow(spec.document, schemes.get(name, {})) for name in requirement]
        if found and all(s.get("type") == "apiKey" and s.get("in") == "header" for s in found):
            return [str(s["name"]) for s in found]
    return []


def derive(
    spec: Spec | None = None, team: str = demo.TEAM, *, first_thread: int = FIRST_THREAD
) -> list[Boundary]:
    """Every boundary case of every operation of `spec` (default: this repository's), for the
    bot's `team`; case `i` acts on the thread `contract.demo.thread(first_thread + i)`."""
    spec = spec or load()
    threads = itertools.count(first_thread)
    cases: list[Boundary] = []
    for operation in spec:
        if operation.request_schema is not None:
            cases += _Builder(spec, operation, team, threads).build()
    return cases


# -- sending the cases and judging the answers -------------------------------------------------

#: Sends one case and returns the HTTP status of the answer (an exception: no answer).
Transport = Callable[[Boundary], int]


class HttpTransport:
    """Sends cases to a base URL over one kept-alive connection, each signed (or forged) by
    `bot` when it is sent."""

    def __init__(self, url: str, bot: Bot, timeout: float = TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.bot = bot
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def path(self, case: Boundary) -> str:
        return f"{self.prefix}/{quote(case.team, safe='')}/{case.method}"

    def headers(self, case: Boundary) -> dict[str, str]:
        headers = case.signing.headers(self.bot, case.body)
        if case.content_type is not None:
            headers["Content-Type"] = case.content_type
        if case.chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(len(case.body))
        return headers

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.connection = kind(self.host, self.port, timeout=self.timeout)
        return self.connection

    def __call__(self, case: Boundary) -> int:
        for attempt in (1, 2):
            connection = self._connect()
            try:
                body: bytes | Iterable[bytes] = _chunks(case.body) if case.chunked else case.body
                connection.request(
                    "POST",
                    self.path(case),
                    body=body,
                    headers=self.headers(case),
                    encode_chunked=case.chunked,
                )
                answer = connection.getresponse()
                answer.read()
                if answer.getheader("connection", "").lower() == "close":
                    self.close()
                return answer.status
            except (http.client.HTTPException, OSError):
                # The server may close a connection after refusing a body it did not read.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _chunks(body: bytes, size: int = 16384) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def curl(url: str, case: Boundary, bot_id: str | None = None) -> str:
    """A shell snippet that signs `case` again (or forges it the same way) and sends it."""
    target = f"{url.rstrip('/')}/{quote(case.team, safe='')}/{case.method}"
    return shell(
        target,
        case.body,
        content_type=case.content_type,
        signing=case.signing,
        bot_id=bot_id,
        extra_headers=["Transfer-Encoding: chunked"] if case.chunked else [],
    )


@dataclass
class Found:
    """What the boundary phase found: cases sent, violations, tally per operation."""

    cases: int = 0
    elapsed: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    tally: dict[str, list[int]] = field(default_factory=dict)  # operation -> [passed, failed]
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)  # method -> status -> n


def judge(
    cases: Sequence[Boundary],
    send: Transport,
    url: str,
    *,
    started: float | None = None,
    bot_id: str | None = None,
) -> Found:
    """Send every case and compare its status with the contract's. One violation per field
    and constraint: the first case that failed it, and how many more did, on which operations."""
    from fuzzing.runner import Violation

    started = time.monotonic() if started is None else started
    found = Found()
    first: dict[tuple[str, str], Violation] = {}
    later: dict[tuple[str, str], list[Boundary]] = {}
    for case in cases:
        try:
            status: int | None = send(case)
        except (http.client.HTTPException, OSError):
            status = None
        found.cases += 1
        by_status = found.statuses.setdefault(case.method, {})
        if status is not None:
            by_status[status] = by_status.get(status, 0) + 1
        counts = found.tally.setdefault(case.operation, [0, 0])
        if status is not None and status in case.expected:
            counts[0] += 1
            continue
        counts[1] += 1
        key = (case.field, case.constraint)
        if key in first:
            later.setdefault(key, []).append(case)
            continue
        first[key] = Violation(
            check=CHECK,
            operation=case.operation,
            reason=case.reason(status),
            curl=curl(url, case, bot_id),
            phase=PHASE,
            first_seen=time.monotonic() - started,
            status=status,
            body=case.json_body,
        )
        found.violations.append(first[key])
    for key, others in later.items():
        operations = {case.operation for case in others} - {first[key].operation}
        where = f", {len(operations)} other operation(s)" if operations else ""
        first[key].reason += f" (and {len(others)} more case(s) of this rule{where})"
    found.elapsed = time.monotonic() - started
    return found


def run(options: Options, spec: Spec | None = None) -> Found:
    """The boundary phase against `options.url`, with its team and bot."""
    started = time.monotonic()
    if spec is None:
        from contract.spec import read

        spec = load() if options.spec.resolve() == load().path.resolve() else read(options.spec)
    try:
        cases = derive(spec, options.team)
    except SpecError as error:
        from fuzzing.runner import ConfigurationError

        raise ConfigurationError(f"cannot derive the boundary cases: {error}") from None
    transport = HttpTransport(options.url, options.bot)
    try:
        return judge(cases, transport, options.url, started=started, bot_id=options.bot.bot_id)
    finally:
        transport.close()


def merge(found: Found, result: RunResult) -> None:
    """Put the phase's findings first into the run's result (the phase ran before it)."""
    for violation in result.violations:
        violation.first_seen += found.elapsed
    result.violations[:0] = found.violations
    result.cases += found.cases
    result.phase_cases[PHASE] = found.cases
    result.elapsed += found.elapsed
    for operation, (passed, failed) in found.tally.items():
        result.tally[(operation, CHECK)] = [passed, failed]
    result.errors[:0] = found.errors
    seen = getattr(result, "statuses", None)  # what the run's coverage counts, where it does
    if isinstance(seen, dict):
        for method, counts in found.statuses.items():
            for status, count in counts.items():
                seen.setdefault(method, {})
                seen[method][status] = seen[method].get(status, 0) + count
