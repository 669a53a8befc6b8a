"""The linters accept the spec, and a spec with a typo fails with the file, line and rule."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testkit.spec import ROOT, SPEC_PATH

NPM_BIN = ROOT / "npm" / "node_modules" / ".bin"
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


def tool(name: str) -> str:
    path = NPM_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `nox -s tests` installs the Node tools (npm ci in npm/)")
    return str(path)


def lint_commands(spec: Path) -> dict[str, list[str]]:
    """The commands of `nox -s lint`, run from the root so that they read its configs."""
    return {
        "redocly": [tool("redocly"), "lint", "--format=codeframe", str(spec)],
        "spectral": [tool("spectral"), "lint", "--fail-severity=warn", "--format=text", str(spec)],
    }


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def typo_spec(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the spec with `type: integer` misspelt on one line; returns it and the line."""
    lines = SPEC_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "type: integer")
    lines[index] = lines[index].replace("integer", "integr")
    path = tmp_path_factory.mktemp("typo") / "openapi.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, index + 1


@pytest.mark.parametrize("linter", ["redocly", "spectral"])
def test_the_spec_is_lint_clean(linter: str) -> None:
    result = run(lint_commands(SPEC_PATH)[linter])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("linter", ["redocly", "spectral"])
def test_a_typo_fails_with_its_line(linter: str, typo_spec: tuple[Path, int]) -> None:
    path, line = typo_spec
    result = run(lint_commands(path)[linter])
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{line}:" in output, f"line {line} not named:\n{output}"


def test_openapi_spec_validator_refuses_the_typo(typo_spec: tuple[Path, int]) -> None:
    result = run(["openapi-spec-validator", str(typo_spec[0])])
    assert result.returncode != 0
    assert "integr" in result.stdout + result.stderr
