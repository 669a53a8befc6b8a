"""Ids that exist on a server, read from a TOML file: the fuzzer's `--fixtures` and the reference
server's `--known-ids` read the same format.

    threads = ["5b0525134c0319001573485e", "5b0525134c0319001573485f"]   # threads that exist
    users = ["5b4458eb1b2b33001bf213bf", "5b4458eb1b2b33001bf213bc"]     # users that exist
    audio = ["https://files.example.com/tone.wav"]   # optional: files the server can fetch

A server with a fixed set of threads and users answers any other well-formed id with 404
(contract 2.4.0, docs/contract.md); `unknown()` names the fields of a valid body that such a
server refuses. An unknown key, a value that is not a list of strings, a malformed or repeated
id or URL raises `FixturesError`, whose message names the file and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.observations import named_users
from contract.rules import THREAD_FIELD, USER_FIELD, USERS_FIELD
from contract.spec import load

#: The keys of the file: required, then optional.
REQUIRED = ("threads", "users")
OPTIONAL = ("audio",)


class FixturesError(ValueError):
    """The file cannot be used; the message is `FILE:LINE: what is wrong`."""


@dataclass(frozen=True)
class Fixtures:
    """Threads and users that exist on the target, and audio files it can fetch."""

    threads: tuple[str, ...]
    users: tuple[str, ...]
    audio: tuple[str, ...] = ()
    source: str = ""

    def unknown(self, body: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The (field, id) pairs of a valid body that name no thread or user of the fixtures.

        Only the users that count are looked up: `userId` when the body has it (its `userIds`
        is ignored then, as the contract says), else `userIds`.
        """
        found: list[tuple[str, str]] = []
        thread = body.get(THREAD_FIELD)
        if isinstance(thread, str) and thread not in self.threads:
            found.append((THREAD_FIELD, thread))
        field = USER_FIELD if isinstance(body.get(USER_FIELD), str) else USERS_FIELD
        found += [(field, user) for user in named_users(body) if user not in self.users]
        return found


def _line(text: str, pattern: str) -> int:
    """The first line (from 1) that matches `pattern`, else 1."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return number
    return 1


def _audio_pattern() -> re.Pattern[str]:
    """The pattern of a `fileUrl` the spec accepts (the one property that names a file)."""
    for operation in load():
        if operation.request_schema is None:
            continue
        schema = load().schema(operation.request_schema)
        for prop in schema.get("properties", {}).values():
            if isinstance(prop, dict) and "x-max-file-size-bytes" in prop:
                return re.compile(str(prop["pattern"]))
    return re.compile(r"^https?://\S+$")


def _strings(path: Path, text: str, key: str, value: Any) -> list[str]:
    line = _line(text, r"^\s*" + re.escape(key) + r"\s*=")
    where = f"{path}:{line}"
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FixturesError(f"{where}: `{key}` must be a list of strings")
    if key in REQUIRED and not value:
        raise FixturesError(f"{where}: `{key}` is empty: name at least one")
    return value


def parse(text: str, path: Path | str = "<fixtures>") -> Fixtures:
    """The fixtures of a TOML text; FixturesError names the line of what is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = match.group(1) if match else max(1, len(text.splitlines()))  # at its end
        raise FixturesError(f"{path}:{line}: {error}") from None
    for key in raw:
        if key not in REQUIRED + OPTIONAL:
            line = _line(text, rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
            known = ", ".join(REQUIRED + OPTIONAL)
            raise FixturesError(f"{path}:{line}: unknown key `{key}` (known: {known})")
    for key in REQUIRED:
        if key not in raw:
            raise FixturesError(f"{path}:1: `{key}` is missing: the ids that exist on the server")
    spec = load()
    audio_pattern = _audio_pattern()
    lists: dict[str, tuple[str, ...]] = {}
    for key in REQUIRED + OPTIONAL:
        values = _strings(path, text, key, raw.get(key, []))
        for index, value in enumerate(values):
            good = audio_pattern.search(value) if key == "audio" else spec.id_matches(value)
            line = _line(text, re.escape(f'"{value}"') + "|" + re.escape(f"'{value}'"))
            if not good:
                what = "an audio file URL of the spec" if key == "audio" else "an id of the spec"
                raise FixturesError(f"{path}:{line}: {key}[{index}] {value!r} is not {what}")
            if value in values[:index]:
                raise FixturesError(f"{path}:{line}: {key}[{index}] {value!r} is listed twice")
        lists[key] = tuple(values)
    return Fixtures(lists["threads"], lists["users"], lists["audio"], source=str(path))


def read(path: Path | str) -> Fixtures:
    """The fixtures of a TOML file; FixturesError names the file and line of what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FixturesError(f"{path}: cannot read it: {error}") from None
    return parse(text, path)


def render(threads: Sequence[str], users: Sequence[str], audio: Sequence[str] = ()) -> str:
    """The TOML text of a fixtures file (for tests and examples)."""

    def items(values: Sequence[str]) -> str:
        return "[" + ", ".join(f'"{value}"' for value in values) + "]"

    text = f"threads = {items(threads)}\nusers = {items(users)}\n"
    return text + (f"audio = {items(audio)}\n" if audio else "")
