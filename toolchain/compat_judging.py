"""Judging the compatibility matrix's steps: a driver's report against the answers the
contract model expects, the known causes of failure, and the cells they fill.

The lifecycle's expected answers are not written out: the contract model (`contract.model`)
computes them for the requests of `toolchain.compatibility.LIFECYCLE_REQUESTS`, on a thread
the reference server has never seen (no call, nobody in one), step after step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import demo
from contract.model import Model, Thread
from contract.rules import IDLE, NEW
from toolchain.compatibility import LIFECYCLE_REQUESTS, STEPS

DRIVERS = Path(__file__).resolve().parent / "compatibility"
KNOWN = DRIVERS / "known.json"
#: The first steps make a whole call; the rest are error cases named by the status they expect.
LIFECYCLE = STEPS[: STEPS.index("end") + 1]
ERRORS = STEPS[len(LIFECYCLE) :]
#: A body the client's types refuse: the client may refuse it too, before sending anything.
CLIENT_MAY_REFUSE = {"400 neither userId nor userIds"}
COLUMNS = ("generated", "compiled", "lifecycle", "errors")


def lifecycle_request(name: str) -> tuple[str, dict[str, Any]]:
    """The operation and body of a lifecycle step, with the demo thread and users."""
    method, fields = LIFECYCLE_REQUESTS[name]
    users = demo.USERS

    def user(index: int | list[int]) -> str | list[str]:
        return users[index] if isinstance(index, int) else [users[i] for i in index]

    return method, {"threadId": demo.THREADS[0], **{k: user(v) for k, v in fields.items()}}


def expected_answers() -> dict[str, dict[str, Any]]:
    """What each lifecycle step must answer: 200 and these `data` fields (`...`: present, any
    value the schema allows), as the contract model expects them on a fresh thread."""
    model = Model()
    team = demo.TEAM
    model.threads[(team, demo.THREADS[0])] = Thread(
        flags=frozenset({IDLE}), others=frozenset({NEW})
    )
    expected: dict[str, dict[str, Any]] = {}
    for name in LIFECYCLE:
        method, body = lifecycle_request(name)
        expectation = model.expect(team, method, body)
        if expectation.statuses != {200}:
            raise ValueError(f"the contract model does not expect 200 for {name!r}: {expectation}")
        want = {key: expectation.data.get(key, ...) for key in model.data_kinds[method]}
        expected[name] = want
        answer: dict[str, Any] = {key: expectation.bounds.get(key, (0,))[0] for key in want}
        answer.update((key, "http://127.0.0.1/x") for key in expectation.present)
        answer.update(expectation.data)
        verdict = model.observe(team, method, body, 200, answer or None)
        if verdict.violations:  # the scenario's own answers must agree with the model
            raise ValueError(f"{name!r}: {verdict.violations}")
    return expected


#: What each lifecycle step must answer (200 and these `data` fields; `...`: present).
EXPECTED = expected_answers()


@dataclass
class Cell:
    """One cell: `ok` True (worked), False (failed), None (not applicable); `text` says what."""

    ok: bool | None
    text: str
    known: bool = False

    def show(self) -> str:
        if self.ok is None or self.ok:
            return self.text
        return f"{'KNOWN' if self.known else 'FAIL'}: {self.text}"


@dataclass
class Row:
    client: str
    cells: dict[str, Cell] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no output)"


def _mismatch(name: str, step: dict[str, Any]) -> str | None:
    """Why a lifecycle step failed, or None."""
    if step.get("status") != 200:
        return step.get("error") or f"answered {step.get('status')}, expected 200"
    data = step.get("data") or {}
    for key, want in EXPECTED[name].items():
        if key not in data:
            return f"no {key} in the answer"
        if want is not ... and data[key] != want:
            return f"{key} {data[key]!r}, expected {want!r}"
    return None


def _error_case(name: str, step: dict[str, Any]) -> tuple[str | None, str | None]:
    """(why the error case failed or None, a note on what the client did or None)."""
    expected = int(name.split(maxsplit=1)[0])
    sent = step.get("sent")
    note = f"{name}: sent {sent}" if sent is not None and name in CLIENT_MAY_REFUSE else None
    if step.get("status") is None and step.get("error"):
        if name in CLIENT_MAY_REFUSE:
            return None, f"{name}: refused by the client before sending ({step['error']})"
        return step["error"], note
    if step.get("status") != expected:
        return f"answered {step.get('status')}, expected {expected}", note
    if step.get("code") != expected:
        return f"envelope code {step.get('code')}, expected {expected}", note
    if note:
        note += f", answered {expected}"
    return None, note


def judge_driver_steps(
    steps: list[dict[str, Any]], known: list[dict[str, str]], client: str
) -> tuple[Cell, Cell, list[str]]:
    """The lifecycle and errors cells of a driver's steps, and the notes."""
    by_name = {step["name"]: step for step in steps}
    notes: list[str] = []

    def cell(names: Sequence[str], check: Callable[[str, dict[str, Any]], str | None]) -> Cell:
        failures = []
        for name in names:
            step = by_name.get(name)
            why = "not run (the driver stopped)" if step is None else check(name, step)
            if why:
                failures.append(f"{name}: {first_line(why)}")
        if not failures:
            return Cell(True, f"ok ({len(names)} steps)")
        unknown = [f for f in failures if not _is_known(known, client, f)]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        shown = (unknown or failures)[0]
        return Cell(False, shown + more, known=not unknown)

    def error_check(name: str, step: dict[str, Any]) -> str | None:
        why, note = _error_case(name, step)
        if note:
            notes.append(note)
        return why

    return cell(LIFECYCLE, _mismatch), cell(ERRORS, error_check), notes


def _is_known(known: list[dict[str, str]], client: str, failure: str) -> bool:
    return any(
        entry["client"] == client
        and failure.startswith(entry["step"] + ":")
        and entry["cause"] in failure
        for entry in known
    )


def load_known(path: Path = KNOWN) -> list[dict[str, str]]:
    return list(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else []


def failed(rows: Sequence[Row]) -> list[str]:
    """The cells that failed for a cause not known: `client / column: cause`."""
    return [
        f"{row.client} / {column}: {cell.text}"
        for row in rows
        for column, cell in row.cells.items()
        if cell.ok is False and not cell.known
    ]


def stale_known(rows: Sequence[Row], known: list[dict[str, str]]) -> list[dict[str, str]]:
    """Known causes that no row of this run showed (their entries can go)."""
    shown = {(row.client, cell.text) for row in rows for cell in row.cells.values() if cell.known}
    ran = {row.client for row in rows}
    return [
        entry
        for entry in known
        if entry["client"] in ran
        and not any(c == entry["client"] and entry["cause"] in t for c, t in shown)
    ]
