"""What the breaking-change gate needs from a spec differ: a list of changes, each judged.

The gate (`toolchain.breaking`) decides what a breaking change requires (a new major version,
a changelog section); a differ only says what changed and whether it breaks clients built on
the base. Optic (`toolchain.optic`) is the differ today, for the operations and (through
`toolchain.webhook_changes`) the call events; it is archived upstream, so anything that returns
`Change`s through the `Differ` protocol can replace it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

# A removed operation violates one rule per response field; show the first few.
MAX_REASONS = 3
# Every differ reads both specs: libyaml's parser (the same safe constructor) reads the spec
# about ten times faster than the pure-Python one, where PyYAML was built with it.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DiffError(Exception):
    """The differ could not compare the two specs; the message says why."""


@dataclass(frozen=True)
class Reason:
    """Why a change breaks clients: the differ's rule and its explanation."""

    rule: str
    message: str


@dataclass
class Change:
    """One change between two specs, in the words a reader of the gate's output needs."""

    #: The operation (`POST /{teamId}/call/end`), or where the change is when not in one.
    operation: str
    #: Where in the operation: `operation`, `request body application/json`, `response 200`...
    location: str
    #: The field or attribute (`field data.dialogDuration`), empty for the whole location.
    field: str
    #: `added`, `removed` or `changed`.
    kind: str
    #: The JSON pointer of the change in the spec that has it.
    json_path: str = ""
    #: For a parameter: its name.
    param: str = ""
    #: A short before -> after for a changed attribute.
    detail: str = ""
    #: Empty for a compatible change; the broken rules for a breaking one.
    reasons: list[Reason] = dataclasses.field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return bool(self.reasons)

    def line(self) -> str:
        verdict = "BREAKING  " if self.breaking else "compatible"
        where = " ".join(part for part in (self.location, self.field) if part)
        text = f"{verdict}  {self.operation}: {where} {self.kind}".rstrip()
        if self.detail:
            text += f" ({self.detail})"
        for reason in self.reasons[:MAX_REASONS]:
            text += f"\n            - {reason.rule}: {reason.message}"
        if len(self.reasons) > MAX_REASONS:
            text += f"\n            - and {len(self.reasons) - MAX_REASONS} more"
        return text


class Differ(Protocol):
    """Compares two spec files. `head`'s info.version may differ from `base`'s: a differ must
    judge every change on its own (not waive its rules for a new major version); the gate
    applies the version rule itself."""

    name: str

    def changes(self, base: Path, head: Path) -> list[Change]: ...


class Combined:
    """Several differs as one: the changes of each, in turn (each covers its own part)."""

    def __init__(self, *differs: Differ) -> None:
        self.differs = differs
        self.name = "+".join(differ.name for differ in differs)

    def changes(self, base: Path, head: Path) -> list[Change]:
        return [change for differ in self.differs for change in differ.changes(base, head)]


def load_document(path: Path) -> dict[str, Any]:
    """A spec file as a mapping; DiffError names the file when it cannot be read."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise DiffError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(document, dict):
        raise DiffError(f"{path}: not a YAML mapping")
    return document
