"""The compatibility matrix: does each published artifact work with the tools people use?

    python -m toolchain.compat                  # every client, against dist/ (nox -s compat)
    python -m toolchain.compat --only NAME ...  # some of them (names as printed)

For each client a user might pick, in the client's own language: generate it (from
`dist/openapi.generators.json`, default settings, as a user would), compile or type-check it
(`tsc --strict`, a Python import, `go build`), and drive the reference server (127.0.0.1, a
free port, throwaway state, stopped at the end) through a whole call and its error cases with
the drivers of `toolchain/compatibility/`, each signing its requests itself. Prints the matrix
(client, generated, compiled, lifecycle, errors) and writes `compatibility.md` and
`compatibility.json` into the dist folder, beside `manifest.json`. A failing cell names its
cause: the step and the first line of the error. A cause listed in
`toolchain/compatibility/known.json` shows as known and does not fail the run; one that no
longer occurs is named so that its entry is removed.

The rows are built in `toolchain.compat_clients`, judged against the contract model's
expectations in `toolchain.compat_judging`, and rendered by `toolchain.compat_report`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from toolchain.compat_clients import CLIENTS, Client, Context, StepFailed
from toolchain.compat_judging import (
    COLUMNS,
    KNOWN,
    Cell,
    Row,
    failed,
    first_line,
    judge_driver_steps,
    load_known,
    stale_known,
)
from toolchain.compat_report import as_text, write
from toolchain.publish import DIST


def fill(ctx: Context, name: str, client: Client, known: list[dict[str, str]]) -> Row:
    row = Row(name)
    started = time.monotonic()
    try:
        steps = client(ctx, row)
        if steps is not None:
            row.cells["lifecycle"], row.cells["errors"], row.notes = judge_driver_steps(
                steps, known, name
            )
    except StepFailed as failure:
        column = next(c for c in COLUMNS if c not in row.cells)
        row.cells[column] = Cell(False, first_line(str(failure)))
    except Exception as failure:  # a server that would not start, a driver that crashed
        column = next(c for c in COLUMNS if c not in row.cells)
        row.cells[column] = Cell(False, f"{type(failure).__name__}: {first_line(str(failure))}")
    for column in COLUMNS:
        row.cells.setdefault(column, Cell(None, "-"))
    row.seconds = time.monotonic() - started
    return row


def matrix(
    dist: Path = DIST,
    only: Sequence[str] = (),
    *,
    server_module: str = "reference_server",
    server_args: Sequence[str] = ("--memory",),
    known: list[dict[str, str]] | None = None,
) -> list[Row]:
    """Fill every row (or those named in `only`) against the artifacts in `dist`."""
    known = load_known() if known is None else known
    chosen = {n: c for n, c in CLIENTS.items() if not only or n in only}
    with tempfile.TemporaryDirectory(prefix="compat-") as work:
        ctx = Context(dist, Path(work), server_module, server_args)
        return [fill(ctx, name, client, known) for name, client in chosen.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.compat", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dist", type=Path, default=DIST, help="the published folder")
    parser.add_argument("--only", nargs="+", default=(), metavar="CLIENT", choices=list(CLIENTS))
    args = parser.parse_args(argv)
    if not (args.dist / "manifest.json").exists():
        print(f"error: {args.dist} holds no manifest.json: run nox -s publish", file=sys.stderr)
        return 1
    known = load_known()
    started = time.monotonic()
    rows = matrix(args.dist, args.only, known=known)
    print(as_text(rows))
    for row in rows:
        for note in row.notes:
            print(f"note: {row.client}: {note}")
    for entry in stale_known(rows, known):
        print(f"note: known cause no longer seen, remove it from {KNOWN.name}: {entry}")
    write(rows, args.dist, known)
    print(
        f"wrote {args.dist / 'compatibility.md'} and compatibility.json "
        f"in {time.monotonic() - started:.0f} s"
    )
    failures = failed(rows)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
