"""Run `python -m fuzzing` against a faulty variant (or the reference server) in subprocesses.

Used by tests/test_fuzz.py and bench/fuzz.py. Servers listen on 127.0.0.1 on a free port and
are stopped when the block ends (or by themselves after `lifetime` seconds).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reference_server.__main__ import WEBHOOKS_VARIABLE
from reference_server.testing import ServerProcess, serve_in_thread
from testkit.faulty.variants import EVENTS_CHECK, VARIANTS

ROOT = Path(__file__).resolve().parent.parent.parent
#: The tests' fixed seed.
SEED = 20261127
#: Faults that schemathesis's own checks catch need its phases: the default budget of a test.
BUDGET = 8
#: The contract model's walk and the boundary phase run before schemathesis and catch their
#: faults within seconds: these budgets leave a margin of several times the time to the catch.
SHORT_BUDGETS = {"contract_model": 6, "spec_boundaries": 2}


def budget_of(name: str) -> int:
    """The budget of a test's run of the variant `name`, from the check that must catch it."""
    return SHORT_BUDGETS.get(VARIANTS[name].caught_by, BUDGET)


@contextmanager
def serve(
    name: str,
    *,
    lifetime: float = 600.0,
    timeout: float = 20.0,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve the faulty variant `name` in a child process; yield its base URL. `env` is added
    to the child's environment (a bot: `WORKONFLOW_BOT_ID`, `..._SECRET_KEY`), never to this
    process's: fuzz runs started meanwhile from other threads must keep the demo bot."""
    args = [name, "--lifetime", str(lifetime)]
    environment = {**os.environ, **env} if env else None
    with ServerProcess(args, module="testkit.faulty", timeout=timeout, env=environment) as server:
        yield server.base_url


@dataclass
class FuzzRun:
    """The outcome of one `python -m fuzzing` process."""

    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None  # reports/fuzz-result.json, when it was written
    junit: str | None  # reports/fuzz-junit.xml, when it was written
    seconds: float
    files: dict[str, str] = field(default_factory=dict)  # every report file's text, by name

    def checks_failed(self) -> set[str]:
        return {v["check"] for v in (self.result or {}).get("violations", [])}

    def describe(self) -> str:
        """The exit status, each violation and the end of stderr: a failed test's message."""
        violations = (self.result or {}).get("violations", [])
        lines = [f"exit {self.returncode}"] + [
            f"{v['check']} {v['operation']}: {v['reason']}" for v in violations
        ]
        return "\n".join(lines) + ("\n" + self.stderr[-1500:] if self.stderr else "")


def serve_here(name: str, *, timeout: float = 20.0) -> AbstractContextManager[str]:
    """Serve the faulty variant `name` on a thread of this process, as its own process would
    (uvicorn's httptools protocol, not the reference server's limits); the block yields its
    base URL.

    For the many short runs of one variant each (tests/test_fuzz_variants.py): no process to
    start and import the server, and none to stop. The variant gets no environment of its own
    (`serve` gives one), and stops with the block.
    """
    return serve_in_thread(VARIANTS[name].factory(), timeout=timeout, http="httptools")


def fuzz(*args: str, timeout: float = 300.0, env: dict[str, str] | None = None) -> FuzzRun:
    """Run `python -m fuzzing ARGS --quiet` with its reports in a temporary folder (`env`:
    added to its environment)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-reports-") as reports:
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "fuzzing", *args, "--quiet", "--report-dir", reports],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        seconds = time.monotonic() - started
        path = Path(reports) / "fuzz-result.json"
        result = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        junit_path = Path(reports) / "fuzz-junit.xml"
        junit = junit_path.read_text(encoding="utf-8") if junit_path.exists() else None
        files = {
            str(p.relative_to(reports)): p.read_text(encoding="utf-8", errors="replace")
            for p in Path(reports).rglob("*")
            if p.is_file()
        }
    return FuzzRun(
        completed.returncode, completed.stdout, completed.stderr, result, junit, seconds, files
    )


def free_port() -> int:
    """A loopback port free now (for a server to be told of before it listens)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fuzz_variant(name: str, *args: str, budget: int, seed: int, in_thread: bool = False) -> FuzzRun:
    """Serve the variant `name` (`in_thread`: on a thread of this process) and fuzz it with the
    demo team and bot (`args`: more options of `python -m fuzzing`); a variant whose fault is
    in its events delivers them to the run (`--events-listen`), from a process of its own."""
    if VARIANTS[name].caught_by != EVENTS_CHECK:
        served = serve_here(name) if in_thread else serve(name, lifetime=budget + 240)
        with served as url:
            return fuzz("--url", url, "--budget", str(budget), "--seed", str(seed), *args)
    address = f"127.0.0.1:{free_port()}"
    webhook = {WEBHOOKS_VARIABLE: f"http://{address}/events"}
    with serve(name, lifetime=budget + 240, env=webhook) as url:
        return fuzz(
            "--url", url, "--budget", str(budget), "--seed", str(seed),
            "--events-listen", address, *args,
        )  # fmt: skip
