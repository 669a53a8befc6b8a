"""What is generated passes mypy --strict and ruff, and both packages install into a fresh venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract import demo
from contract.spec import load

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
PACKAGES = {"client": "workonflow_call", "models": "workonflow_call_models"}


def run(*command: str | Path, cwd: Path = ROOT, timeout: float = 300) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{output}"
    return output


def test_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the generate dependency group")
    paths = [GENERATED / project / package for project, package in PACKAGES.items()]
    output = run(sys.executable, "-m", "mypy", "--strict", "--cache-dir", tmp_path / "mypy", *paths)
    assert "Success: no issues found" in output


@pytest.mark.parametrize("config", ["own", "overrides/ruff.toml"])
def test_ruff_check_and_format(config: str) -> None:
    pytest.importorskip("ruff", reason="ruff is in the generate dependency group")
    options = [] if config == "own" else ["--config", str(ROOT / config)]
    run(sys.executable, "-m", "ruff", "check", "--no-cache", *options, "generated")
    run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *options, "generated")


def test_both_packages_install_into_a_fresh_venv_and_import(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    for project in PACKAGES:  # build from a copy: a build writes *.egg-info into the source
        shutil.copytree(
            GENERATED / project, tmp_path / project, ignore=shutil.ignore_patterns("*.egg-info")
        )
    venv = tmp_path / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(
        uv,
        "pip",
        "install",
        "--quiet",
        "--python",
        python,
        tmp_path / "client",
        tmp_path / "models",
    )
    output = run(
        python,
        "-c",
        "import workonflow_call, workonflow_call_models as m;"
        "from workonflow_call import CallApi, AsyncCallApi, CallApiError;"
        f"print(workonflow_call.__version__, m.CallStartRequest(threadId='{demo.THREADS[0]}'))",
    )
    assert f"{load().version} threadId='{demo.THREADS[0]}'" in output
