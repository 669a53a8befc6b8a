"""The near misses of one value: values just outside and just inside each rule of its schema.

`mutations(schema, value)` walks a resolved schema from a valid value and yields, for every
constraint it finds (pattern, length, enum, items, uniqueness, required and unknown fields,
nullability, the file extension of a URL pattern), the smallest changes that miss or meet it.
`fuzzing.boundaries` turns them into requests and judges each with `fuzzing.schema_values`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fuzzing.schema_values import distinct, nullable, string_ok, value_kind

#: A value longer than this is shortened in a reason.
SHOWN_CHARACTERS: Final = 40
MISSING: Final = object()
Path = tuple[str | int, ...]


# -- the near misses of one value --------------------------------------------------------------

Transform = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Mutation:
    """A change to one place of a valid body, probing one constraint."""

    path: Path  # where in the body (() is the body itself)
    change: Transform  # the value there (or MISSING) -> the new value (or MISSING: left out)
    constraint: str  # `pattern ^[0-9a-f]{24}$`
    label: str  # `one letter upper case`
    full: bool = False  # applied to the body with every field, not the one with required ones


def _const(value: Any) -> Transform:
    if value is MISSING:
        return lambda _old: MISSING
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
        if value and not string_ok({"pattern": pattern}, value[:-1] + char):
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
            pattern is None or string_ok({"pattern": pattern}, candidate)
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
    step = 1 if value_kind(schema) == "integer" else 0.5
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
    kind = value_kind(schema)
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
            yield Mutation(path, _const(wrong[0]), f"type {value_kind(schema)}", wrong[1])
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
    where = field_name(path)
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
        yield Mutation((*path, name), _const(MISSING), "required", "left out")
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


def field_name(path: Path) -> str:
    return ".".join(map(str, path)) or "body"
