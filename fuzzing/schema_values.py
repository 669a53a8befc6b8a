"""Whether a value meets a resolved schema, and valid values to start near misses from.

`valid` is the judge of `fuzzing.boundaries`: a derived value is inside or outside by what the
whole schema says of it, not by how it was made. `instance` and `distinct` give valid values
(the spec's examples first), from which the near misses of `fuzzing.mutations` start.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from contract.spec import SpecError

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


def string_ok(schema: Mapping[str, Any], value: str) -> bool:
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
        (str, lambda v: string_ok(schema, v)),
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
    kind = value_kind(schema)
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


def branches(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The alternatives of a schema (`oneOf`/`anyOf`), or the schema itself when it has none."""
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return [branch for branch in schema[key] if isinstance(branch, Mapping)]
    return [schema]


def minimal_values(schema: Mapping[str, Any], where: str) -> list[Any]:
    """The smallest valid value of each alternative of `schema` (`instance` of each branch)."""
    return [instance(branch, f"{where}, branch {n}") for n, branch in enumerate(branches(schema))]


def value_kind(schema: Mapping[str, Any]) -> str | None:
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


def neighbours(schema: Mapping[str, Any], value: Any) -> Iterator[Any]:
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
    for candidate in neighbours(schema, first):
        if len(found) >= count:
            break
        key = _canonical(candidate)
        if key not in seen and valid(schema, candidate):
            seen.add(key)
            found.append(candidate)
    if len(found) < count:
        raise SpecError(f"{where}: only {len(found)} distinct valid values found, {count} needed")
    return found[:count]
