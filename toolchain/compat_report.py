"""The compatibility matrix as printed, and as written beside dist/manifest.json
(`compatibility.md`, `compatibility.json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from toolchain.compat_judging import COLUMNS, Row
from toolchain.compatibility import STEPS


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def as_text(rows: Sequence[Row]) -> str:
    """The matrix as printed: long cells cut short, each failing cell's cause in full below."""
    header = ("client", *COLUMNS)
    table = [header, *[(r.client, *(_short(r.cells[c].show()) for c in COLUMNS)) for r in rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    causes = [
        f"{row.client} / {column}: {cell.show()}"
        for row in rows
        for column, cell in row.cells.items()
        if cell.ok is False
    ]
    return "\n".join([*lines, "", *causes] if causes else lines)


def as_markdown(rows: Sequence[Row], version: str, known: list[dict[str, str]]) -> str:
    out = [
        f"# Workonflow Call API {version}: compatibility matrix",
        "",
        "Written by `nox -s compat`: each client generated from `openapi.generators.json` (or",
        "taken from this folder), compiled or type-checked, then driven in its own language",
        "through a whole call on the reference server (start, invite, pause, unpause, exclude,",
        "record, end, and a users body with both `userId` and `userIds`) and its error cases",
        "(409, 401, 400, 415). A failing cell names the step and the first line of the error.",
        "",
        "| client | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for row in rows:
        cells = [row.cells[c].show().replace("|", "\\|") for c in COLUMNS]
        out.append(f"| {row.client} | " + " | ".join(cells) + " |")
    notes = [f"- {row.client}: {note}" for row in rows for note in row.notes]
    if notes:
        out += ["", "What the clients did with the bodies their types refuse:", "", *notes]
    if known:
        out += ["", "Known causes (`KNOWN`, they do not fail the run):", ""]
        out += [f"- {e['client']}, {e['step']}: {e['cause']} ({e['why']})" for e in known]
    return "\n".join(out) + "\n"


def write(rows: Sequence[Row], dist: Path, known: list[dict[str, str]]) -> None:
    version = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))["specVersion"]
    (dist / "compatibility.md").write_text(as_markdown(rows, version, known), encoding="utf-8")
    report = {
        "specVersion": version,
        "steps": list(STEPS),
        "rows": [
            {
                "client": row.client,
                "seconds": round(row.seconds, 1),
                "cells": {
                    c: {"ok": cell.ok, "known": cell.known, "text": cell.text}
                    for c, cell in row.cells.items()
                },
                "notes": row.notes,
            }
            for row in rows
        ],
    }
    (dist / "compatibility.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
