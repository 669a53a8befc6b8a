"""`python -m toolchain.lint`: the spec is clean, and a typo is reported once, with its line.

The three linters (openapi-spec-validator, Redocly, Spectral) all run on every lint; each
problem prints as `FILE:LINE:COL: TOOL RULE: MESSAGE`, sorted by line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract.spec import ROOT, SPEC_PATH
from toolchain import lint

NODE_TOOLS = ("redocly", "spectral")
PROBLEM = re.compile(r"^(?P<file>\S*openapi\.yaml):(?P<line>\d+):(?P<column>\d+): (?P<tool>\S+) ")


def require_node_tools() -> None:
    missing = [t for t in NODE_TOOLS if not (lint.NPM_BIN / t).exists()]
    if shutil.which("node") is None or missing:
        pytest.skip("needs Node.js and the npm tools (`nox -s tests` runs npm ci in npm/)")


@pytest.fixture(scope="module")
def typo_spec(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A copy of the spec with `type: integer` misspelt on one line; returns it and the line."""
    lines = SPEC_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "type: integer")
    lines[index] = lines[index].replace("integer", "integr")
    path = tmp_path_factory.mktemp("typo") / "openapi.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, index + 1


@pytest.fixture(scope="module")
def typo_report(typo_spec: tuple[Path, int]) -> lint.Result:
    """What all the available linters say about the typo (they run once for the module)."""
    return lint.lint(typo_spec[0])


def reporters(problem: lint.Problem) -> list[str]:
    """The tool that reported the problem and the tools it was merged from."""
    return [problem.tool, *(also.split()[0] for also in problem.also)]


def test_the_spec_is_lint_clean() -> None:
    require_node_tools()
    result = lint.lint(SPEC_PATH)
    assert (result.errors, result.skipped) == ([], [])
    assert result.problems == [], [p.render("openapi.yaml") for p in result.problems]


@pytest.mark.parametrize("tool", [lint.VALIDATOR, *NODE_TOOLS])
def test_a_typo_fails_with_its_line(
    tool: str, typo_spec: tuple[Path, int], typo_report: lint.Result
) -> None:
    if tool in NODE_TOOLS:
        require_node_tools()
    at_typo = [p for p in typo_report.problems if p.line == typo_spec[1]]
    assert any(tool in reporters(p) for p in at_typo), [p.render("x") for p in typo_report.problems]


def test_the_typo_is_one_problem_naming_every_tool(
    typo_spec: tuple[Path, int], typo_report: lint.Result
) -> None:
    require_node_tools()
    at_typo = [p for p in typo_report.problems if p.line == typo_spec[1]]
    assert len(at_typo) == 1, [p.render("x") for p in at_typo]
    assert sorted(reporters(at_typo[0])) == sorted([lint.VALIDATOR, *NODE_TOOLS])


def test_the_validator_alone_names_the_line(typo_spec: tuple[Path, int], tmp_path: Path) -> None:
    """openapi-spec-validator gives a JSON path only: the report maps it to the YAML line."""
    path, line = typo_spec
    result = lint.lint(path, npm_bin=tmp_path)  # no Node tools there
    assert result.skipped == list(NODE_TOOLS)
    [problem] = result.problems
    assert (problem.tool, problem.line) == (lint.VALIDATOR, line)
    assert "integr" in problem.message


def test_the_report_names_file_and_line_first(typo_spec: tuple[Path, int]) -> None:
    path, line = typo_spec
    done = subprocess.run(
        [sys.executable, "-m", "toolchain.lint", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    first = PROBLEM.match(lines[0])
    assert first is not None, done.stdout
    assert first["file"].endswith("openapi.yaml")
    problems = [PROBLEM.match(text) for text in lines[:-1]]
    numbers = [int(m["line"]) for m in problems if m is not None]
    assert line in numbers and numbers == sorted(numbers), done.stdout
    assert re.fullmatch(rf".*openapi\.yaml: {len(numbers)} problems? \(.*\)", lines[-1])


def test_without_node_only_ci_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert lint.main([str(SPEC_PATH), "--npm-bin", str(tmp_path)]) == 0
    monkeypatch.setenv("CI", "true")
    assert lint.main([str(SPEC_PATH), "--npm-bin", str(tmp_path)]) == 2


def test_a_yaml_error_is_one_problem_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text("openapi: 3.1.0\ninfo:\n  title: [x\n", encoding="utf-8")
    [problem] = lint.lint(broken).problems
    assert (problem.tool, problem.line) == ("yaml", 4)
