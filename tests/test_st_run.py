"""A plain `st run` with the repository's `schemathesis.toml` works without extra environment.

The file names the demo team and bot, so `st run openapi.yaml --url URL` against the
reference server fuzzes the demo team as the demo bot; `$WORKONFLOW_BOT_ID` and
`$WORKONFLOW_SECRET_KEY` sign as another bot. Only the examples phase runs: what is checked
is that the run is configured and signed, not what fuzzing finds (see test_fuzz.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis", reason="schemathesis is not installed")
pytest.importorskip("httptools", reason="the server's HTTP stack is not installed")

from contract import demo
from reference_server.testing import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).parent / "st"
OTHER_BOT = "65f1c0ffee0000000000c003"
OTHER_SECRET = "other-bot-secret-7d2e"


def plain_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any variable of a run or of a bot."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FUZZ_", "WORKONFLOW_"))
    }
    return {**environment, **extra}


def st_run(base_url: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ST), "run", "openapi.yaml", "--url", base_url, "--phases", "examples"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_plain_st_run_fuzzes_the_demo_team_as_the_demo_bot() -> None:
    with ServerProcess(["--memory", "--quiet"]) as server:
        run = st_run(server.base_url, plain_environment())
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Tested: 12" in output
    assert "Missing environment variable" not in output


def test_a_plain_st_run_fails_when_the_server_does_not_know_the_bot() -> None:
    bots = f"{OTHER_BOT}={OTHER_SECRET}:{demo.TEAM}"
    with ServerProcess(["--memory", "--quiet", "--bot", bots]) as server:
        run = st_run(server.base_url, plain_environment())
    assert run.returncode != 0
    assert "401" in run.stdout + run.stderr


def test_a_plain_st_run_signs_as_the_bot_of_the_environment() -> None:
    bots = f"{OTHER_BOT}={OTHER_SECRET}:{demo.TEAM}"
    environment = plain_environment(WORKONFLOW_BOT_ID=OTHER_BOT, WORKONFLOW_SECRET_KEY=OTHER_SECRET)
    with ServerProcess(["--memory", "--quiet", "--bot", bots]) as server:
        run = st_run(server.base_url, environment)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert OTHER_SECRET not in output
