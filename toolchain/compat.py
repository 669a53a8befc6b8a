"""The compatibility matrix: does each published artifact work with the tools people use?

    python -m toolchain.compat                  # every client, against dist/ (nox -s compat)
    python -m toolchain.compat --only NAME ...  # some of them (names as printed)

For each client a user might pick, in the client's own language: generate it (from
`dist/openapi.generators.json`, default settings, as a user would), compile or type-check it
(`tsc --strict`, a Python import), and drive the reference server (127.0.0.1, a free port,
throwaway state, stopped at the end) through a whole call and its error cases with the drivers
of `toolchain/compatibility/`, each signing its requests itself. Prints the matrix (client,
generated, compiled, lifecycle, errors) and writes `compatibility.md` and `compatibility.json`
into the dist folder, beside `manifest.json`. A failing cell names its cause: the step and the
first line of the error. A cause listed in `toolchain/compatibility/known.json` shows as known
and does not fail the run; one that no longer occurs is named so that its entry is removed.

Longer than 300 lines on purpose: one table of clients whose columns share the judging and the
server they run against.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import demo
from reference_server.testing import ServerProcess
from toolchain.compatibility import STEPS
from toolchain.publish import DIST, GENERATORS_JSON, ROOT, generator_cli

DRIVERS = Path(__file__).resolve().parent / "compatibility"
KNOWN = DRIVERS / "known.json"
NPM_MODULES = ROOT / "npm" / "node_modules"
TSC = NPM_MODULES / ".bin" / "tsc"
#: The first steps make a whole call; the rest are error cases named by the status they expect.
LIFECYCLE = STEPS[: STEPS.index("end") + 1]
ERRORS = STEPS[len(LIFECYCLE) :]
#: What each lifecycle step must answer (200 and these `data` fields; `...`: present).
EXPECTED: dict[str, dict[str, Any]] = {
    "start": {"direction": "outgoing"},
    "invite userIds": {"invitedUsersCount": 2},
    # userId wins: the third user joins, userIds is ignored.
    "invite userId and userIds": {"invitedUsersCount": 1},
    "pause userId": {"pausedUsersCount": 1},
    "unpause userIds": {"unpausedUsersCount": 1},
    "exclude userId": {"excludedUsersCount": 1},
    "recording start": {},
    "recording stop": {"fileUrl": ...},
    "end": {"result": "answered", "direction": "outgoing"},
}
#: A body the client's types refuse: the client may refuse it too, before sending anything.
CLIENT_MAY_REFUSE = {"400 neither userId nor userIds"}
TS_OPTIONS = {
    "strict": True,
    "target": "es2020",
    "module": "commonjs",
    "moduleResolution": "node",
    "lib": ["es2020", "dom"],
    "types": [],
    "rootDir": ".",
    "outDir": "out",
}


class StepFailed(Exception):
    """A column could not be filled: the message is the cause, its first line shown."""


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


COLUMNS = ("generated", "compiled", "lifecycle", "errors")


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no output)"


def _run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> str:
    """Run a command; its stdout, or StepFailed with the first line of what it said."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StepFailed(f"{argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"{Path(argv[0]).name}: no answer within {timeout} s") from exc
    if done.returncode != 0:
        raise StepFailed(first_line(_error_lines(done.stdout + "\n" + done.stderr)))
    return done.stdout


def _error_lines(output: str) -> str:
    """The line of a tool's output that names its error: a Python traceback's last line, the
    first line that says error or exception, and for openapi-generator's spec validation the
    exception with the first problem it lists."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    keys = ("error", "exception")
    error = next((line for line in lines if any(k in line.lower() for k in keys)), None)
    problem = next((line for line in lines if line.startswith("-attribute")), None)
    if error and problem:
        name = re.search(r"\w+Exception", error)
        count = re.search(r"Error count: (\d+)", output)
        total = f" ({count.group(1)} errors)" if count else ""
        return f"{name.group(0) if name else 'error'}{total}: {problem.lstrip('-')}"
    return error or output


# --- judging ---------------------------------------------------------------------------------


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


def judge(
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


# --- clients ---------------------------------------------------------------------------------


@dataclass
class Context:
    dist: Path
    work: Path
    server_module: str = "reference_server"
    server_args: Sequence[str] = ("--memory",)

    def drive(self, argv: Sequence[str], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Run a driver against a fresh server; the steps it printed."""
        with ServerProcess(self.server_args, module=self.server_module) as server:
            given = {
                "baseUrl": server.base_url,
                "teamId": demo.TEAM,
                "botId": demo.BOT_ID,
                "secretKey": demo.SECRET_KEY,
                "threads": list(demo.THREADS),
                "users": list(demo.USERS),
            }
            out = _run([*argv, json.dumps(given)], cwd=ROOT, env=env, timeout=120)
        try:
            return list(json.loads(out)["steps"])
        except (ValueError, KeyError) as exc:
            raise StepFailed(f"the driver printed no steps: {first_line(out)}") from exc


def _python_env(*paths: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*(str(p) for p in paths), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def _generate(ctx: Context, generator: str, out: Path) -> str:
    spec = ctx.dist / GENERATORS_JSON
    if not spec.exists():
        raise StepFailed(f"{spec.name} is not in {ctx.dist}: run nox -s publish")
    _run([str(generator_cli()), "generate", "-g", generator, "-i", str(spec), "-o", str(out)])
    return "ok (default settings)"


def _typescript(ctx: Context, name: str, driver: str, sources: dict[str, Path]) -> Path:
    """A project of the driver and its sources, type-checked and compiled by tsc --strict."""
    project = ctx.work / name
    project.mkdir(parents=True)
    shutil.copy(DRIVERS / driver, project / "driver.ts")
    shutil.copy(DRIVERS / "steps.ts", project / "steps.ts")
    for target, source in sources.items():
        if source.is_dir():
            shutil.copytree(source, project / target)
        else:
            shutil.copy(source, project / target)
    (project / "node_modules").symlink_to(NPM_MODULES, target_is_directory=True)
    (project / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": TS_OPTIONS, "files": ["driver.ts"]}), encoding="utf-8"
    )
    _run([str(TSC), "-p", str(project)])
    return project


def _node(project: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise StepFailed("node not found")
    return [node, str(project / "out" / "driver.js")]


Client = Callable[[Context, Row], list[dict[str, Any]] | None]


def python_client(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    if not (ROOT / "generated" / "client" / "pyproject.toml").exists():
        raise StepFailed("generated/client is missing: run nox -s generate")
    row.cells["generated"] = Cell(True, "ok (generated/, nox -s check)")
    _run([sys.executable, "-c", "import workonflow_call"], env=_python_env())
    row.cells["compiled"] = Cell(True, "ok (import)")
    return ctx.drive([sys.executable, "-m", "toolchain.compatibility.python_client"])


def python_generator(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    out = ctx.work / "python"
    row.cells["generated"] = Cell(True, _generate(ctx, "python", out))
    env = _python_env(out)
    _run([sys.executable, "-c", "import openapi_client"], env=env)
    row.cells["compiled"] = Cell(True, "ok (import)")
    return ctx.drive([sys.executable, "-m", "toolchain.compatibility.python_generator"], env)


def typescript_fetch(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    out = ctx.work / "typescript-fetch"
    row.cells["generated"] = Cell(True, _generate(ctx, "typescript-fetch", out))
    # Default settings put the sources at the top (`src/` comes with npmName or supportsES6).
    source = out / "src" if (out / "src").is_dir() else out
    project = _typescript(ctx, "ts-fetch-driver", "typescript_fetch.ts", {"client": source})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def published_typescript(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    source = ctx.dist / "clients" / "typescript" / "src"
    if not source.is_dir():
        raise StepFailed(f"{source} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/)")
    project = _typescript(ctx, "published-driver", "typescript_fetch.ts", {"client": source})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def openapi_fetch(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    schema = ctx.dist / "types" / "schema.d.ts"
    if not schema.exists():
        raise StepFailed(f"{schema} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/types, --default-non-nullable false)")
    project = _typescript(ctx, "openapi-fetch-driver", "openapi_fetch.ts", {"schema.d.ts": schema})
    row.cells["compiled"] = Cell(True, "ok (tsc --strict)")
    return ctx.drive(_node(project))


def go(ctx: Context, row: Row) -> list[dict[str, Any]] | None:
    source = ctx.dist / "clients" / "go"
    if not (source / "go.mod").exists():
        raise StepFailed(f"{source} is missing: run nox -s publish")
    row.cells["generated"] = Cell(True, "ok (dist/)")
    if shutil.which("go") is None:
        row.cells["compiled"] = Cell(None, "generated, not built (no Go toolchain here)")
    else:
        _run(["go", "build", "./..."], cwd=source, timeout=600)
        row.cells["compiled"] = Cell(True, "ok (go build)")
    for column in ("lifecycle", "errors"):
        row.cells[column] = Cell(None, "not run (no Go driver)")
    return None


#: The rows of the matrix, in order: name -> how to fill its cells.
CLIENTS: dict[str, Client] = {
    "Python client (generated/client, CallApi)": python_client,
    "openapi-generator python": python_generator,
    "openapi-generator typescript-fetch": typescript_fetch,
    "published TypeScript client (typescript-fetch + botSignature)": published_typescript,
    "openapi-typescript types + openapi-fetch": openapi_fetch,
    "Go client (openapi-generator go)": go,
}


def fill(ctx: Context, name: str, client: Client, known: list[dict[str, str]]) -> Row:
    row = Row(name)
    started = time.monotonic()
    try:
        steps = client(ctx, row)
        if steps is not None:
            row.cells["lifecycle"], row.cells["errors"], row.notes = judge(steps, known, name)
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


# --- the matrix ------------------------------------------------------------------------------


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
