"""Lint the spec with openapi-spec-validator, Redocly and Spectral, and report each problem once.

    python -m toolchain.lint [SPEC]          # default: openapi.yaml of the work tree

All three tools always run (Redocly and Spectral in parallel, the validator in process), so a
problem one of them finds never hides what the others would say. Every problem prints on one
line, sorted by line, then a count:

    openapi.yaml:824:13: redocly struct: `type` can be one of ... (also: spectral oas3-schema)

openapi-spec-validator names no line: its error's JSON path is mapped to the spec's line with a
walk over the YAML nodes (following local `$ref`s). A problem that two tools report at the same
node under the same or an equivalent rule (`SHARED_RULES`) prints once, naming the others.

Redocly and Spectral need Node.js and `npm ci --prefix npm`. Without them the validator still
runs and the report says which tools were skipped; in CI (`CI` set) that is an error instead.

Exit status: 0 when no tool found a problem, 1 when one did, 2 when a tool could not run.

One module of about 400 lines: the three readers, the YAML locator and the merge make one
report, and each rule of the merge is about what the readers produce.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contract.spec import SPEC_PATH

ROOT = Path(__file__).resolve().parent.parent
NPM_BIN = ROOT / "npm" / "node_modules" / ".bin"
TIMEOUT = 300

# Rules of different tools that check the same thing: problems under rules of one group, at the
# same node, are one problem. A rule not listed here is its own group, so that Redocly and
# Spectral rules of the same name (operation-operationId-unique, ...) merge too.
SHARED_RULES = {
    "structure": {"struct", "spec", "oas3-schema", "schema"},
    "example": {
        "no-invalid-media-type-examples",
        "no-invalid-schema-examples",
        "oas3-valid-media-example",
        "oas3-valid-schema-example",
    },
    "path-params": {"path-parameters-defined", "path-params", "unresolvable-parameter"},
    "operation-operationId-unique": {"operation-operationId-unique", "duplicate-operation-id"},
    "operation-parameters-unique": {"operation-parameters-unique", "operation-parameters"},
}
GROUP_OF = {rule: group for group, rules in SHARED_RULES.items() for rule in rules}
# openapi-spec-validator's own checks, by error class, named like the rules above.
VALIDATOR_RULES = {
    "DuplicateOperationIDError": "duplicate-operation-id",
    "UnresolvableParameterError": "unresolvable-parameter",
    "ParameterDuplicateError": "operation-parameters-unique",
    "ExtraParametersError": "schema",
}
VALIDATOR = "openapi-spec-validator"
# Spectral's severities: 0 error, 1 warning, 2 information, 3 hint. Warnings fail the lint.
SPECTRAL_FAILING = 1


class ToolError(Exception):
    """A linter could not run or printed no report; the message says which and why."""


@dataclass
class Problem:
    """One problem, where it is, and which tools said so."""

    line: int
    column: int
    tool: str
    rule: str
    message: str
    #: The rule group and the node's JSON path with `$ref`s followed: equal keys, one problem.
    key: tuple[str, ...] = ()
    also: list[str] = field(default_factory=list)

    def render(self, name: str) -> str:
        message = " ".join(self.message.split())
        text = f"{name}:{self.line}:{self.column}: {self.tool} {self.rule}: {message}"
        if self.also:
            text += f" (also: {', '.join(self.also)})"
        return text


class Locator:
    """The line and column of a JSON path in a YAML document, following local `$ref`s."""

    def __init__(self, text: str) -> None:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        # An empty file is an empty mapping: the linters then name what it lacks.
        self.root: yaml.Node = root or yaml.MappingNode("tag:yaml.org,2002:map", [])

    @staticmethod
    def _child(node: yaml.Node, part: str) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            return next((value for key, value in node.value if key.value == part), None)
        if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            child: yaml.Node = node.value[int(part)]
            return child
        return None

    def _ref(self, node: yaml.Node) -> tuple[yaml.Node, list[str]] | None:
        ref = self._child(node, "$ref")
        if not isinstance(ref, yaml.ScalarNode) or not str(ref.value).startswith("#/"):
            return None
        parts = split_pointer(str(ref.value)[1:])
        target = self.root
        for part in parts:
            found = self._child(target, part)
            if found is None:
                return None
            target = found
        return target, parts

    def locate(self, parts: Iterable[str]) -> tuple[int, int, tuple[str, ...]]:
        """(line, column) of the node, both from 1, and its path with `$ref`s followed.

        A path that leaves the document stops at the deepest node it reached.
        """
        node = self.root
        resolved: list[str] = []
        for part in parts:
            child = self._child(node, part)
            hops = 0
            while child is None and hops < 32:
                target = self._ref(node)
                if target is None:
                    break
                node, resolved = target[0], list(target[1])
                child = self._child(node, part)
                hops += 1
            if child is None:
                break
            node = child
            resolved.append(part)
        return node.start_mark.line + 1, node.start_mark.column + 1, tuple(resolved)


def split_pointer(pointer: str) -> list[str]:
    """`/paths/~1{teamId}~1call~1end/post` -> ["paths", "/{teamId}/call/end", "post"]."""
    pointer = pointer.removeprefix("#")
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def example_owner(parts: Sequence[str]) -> list[str]:
    """The node that holds an example: tools point at the example, its value or the schema."""
    owner = list(parts)
    if len(owner) >= 3 and owner[-3] == "examples" and owner[-1] == "value":
        return owner[:-3]
    if len(owner) >= 2 and owner[-2] == "examples":
        return owner[:-2]
    if owner and owner[-1] in ("example", "examples", "schema"):
        return owner[:-1]
    return owner


def keyed(
    problem: Problem, parts: Sequence[str], locator: Locator, group: str | None = None
) -> Problem:
    """Set the problem's key from the JSON path it is about."""
    group = group or GROUP_OF.get(problem.rule, problem.rule)
    if group == "example":
        parts = example_owner(parts)
    problem.key = (group, *locator.locate(parts)[2])
    return problem


# --- the three tools ---------------------------------------------------------------------------


def validator_problems(spec: Path, locator: Locator) -> list[Problem]:
    """openapi-spec-validator through its Python API, each error at its node's line."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV31SpecValidator
    from openapi_spec_validator.readers import read_from_filename

    where: dict[int, tuple[str, ...]] = {}

    def located(keyword: type[Any]) -> type[Any]:
        """The keyword validator, recording the node each error was found under."""

        class Located(keyword):  # type: ignore[misc]
            def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
                node = next((a for a in args if isinstance(a, SchemaPath)), None)
                for error in super().__call__(*args, **kwargs):
                    if node is not None and id(error) not in where:
                        where[id(error)] = tuple(str(part) for part in node.parts)
                    yield error

        return Located

    keywords = OpenAPIV31SpecValidator.keyword_validators.items()
    validator = type(
        "LocatedOpenAPIV31SpecValidator",
        (OpenAPIV31SpecValidator,),
        {"keyword_validators": {name: located(keyword) for name, keyword in keywords}},
    )

    document, base_uri = read_from_filename(str(spec))
    problems = []
    errors = list(validator(document, base_uri=base_uri).iter_errors())
    for error in errors:
        parts = [*where.get(id(error), ()), *(str(part) for part in error.absolute_path)]
        line, column, _ = locator.locate(parts)
        # Of an anyOf's failed branches, the one that lists the allowed values says most.
        best = min(error.context, key=lambda e: e.validator == "type") if error.context else error
        name = type(error).__name__
        if name in VALIDATOR_RULES:
            problem = Problem(line, column, VALIDATOR, VALIDATOR_RULES[name], error.message)
            problems.append(keyed(problem, parts, locator))
        else:  # a JSON Schema keyword failed: a problem of the document's structure
            keyword = str(error.validator) if isinstance(error.validator, str) else "schema"
            problem = Problem(line, column, VALIDATOR, keyword, best.message)
            problems.append(keyed(problem, parts, locator, group="structure"))
    return problems


def node_tool(name: str, npm_bin: Path) -> str | None:
    path = npm_bin / name
    return str(path) if shutil.which("node") and path.exists() else None


def start(command: list[str]) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        REDOCLY_TELEMETRY="off",
        REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
        NO_UPDATE_NOTIFIER="1",
    )
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def report_of(tool: str, process: subprocess.Popen[str]) -> Any:
    """The tool's JSON report; ToolError with its own output when it printed none."""
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.communicate()
        raise ToolError(f"{tool} did not finish within {TIMEOUT} s") from exc
    try:
        return json.loads(out)
    except json.JSONDecodeError as exc:
        said = (err.strip() or out.strip())[-2000:]
        raise ToolError(f"{tool} printed no report (exit {process.returncode}):\n{said}") from exc


def redocly_problems(report: Any, locator: Locator) -> list[Problem]:
    problems = []
    for item in report.get("problems", []):
        location = (item.get("location") or [{}])[0]
        begin = location.get("start") or {}
        parts = split_pointer(location.get("pointer", ""))
        line, column, _ = locator.locate(parts)
        problem = Problem(
            int(begin.get("line", line)),
            int(begin.get("col", column)),
            "redocly",
            str(item.get("ruleId", "")),
            str(item.get("message", "")),
        )
        if problem.rule in SHARED_RULES["example"] and item.get("from"):
            parts = split_pointer(item["from"].get("pointer", "")) or parts
        problems.append(keyed(problem, parts, locator))
    return problems


def spectral_problems(report: Any, locator: Locator) -> list[Problem]:
    problems = []
    for item in report:
        if int(item.get("severity", 0)) > SPECTRAL_FAILING:
            continue
        begin = (item.get("range") or {}).get("start") or {}
        parts = [str(part) for part in item.get("path", [])]
        problem = Problem(
            int(begin.get("line", 0)) + 1,  # Spectral counts lines and characters from 0
            int(begin.get("character", 0)) + 1,
            "spectral",
            str(item.get("code", "")),
            str(item.get("message", "")),
        )
        problems.append(keyed(problem, parts, locator))
    return problems


def merge(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once: one that another tool already reported at its key is named there."""
    kept: list[Problem] = []
    first: dict[tuple[str, ...], Problem] = {}
    for problem in problems:
        earlier = first.get(problem.key)
        if earlier is not None and earlier.tool != problem.tool:
            label = f"{problem.tool} {problem.rule}"
            if label not in earlier.also:
                earlier.also.append(label)
            continue
        first.setdefault(problem.key, problem)
        kept.append(problem)
    return sorted(kept, key=lambda p: (p.line, p.column, p.tool, p.rule))


@dataclass
class Result:
    problems: list[Problem]
    #: The tools that ran, and those skipped for want of Node.js or the npm tools.
    ran: list[str]
    skipped: list[str]
    errors: list[str]


def lint(spec: Path, npm_bin: Path = NPM_BIN) -> Result:
    """Run the three tools on `spec` and merge what they found."""
    try:
        locator = Locator(spec.read_text(encoding="utf-8"))
    except OSError as exc:
        return Result([], [], [], [f"cannot read {spec}: {exc.strerror}"])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = Problem(line, column, "yaml", "syntax", str(exc.problem or exc))
        return Result([problem], ["yaml"], [], [])
    commands = {
        "redocly": ["lint", "--format=json", str(spec)],
        "spectral": ["lint", "--format=json", "--quiet", "--fail-severity=warn", str(spec)],
    }
    running: dict[str, subprocess.Popen[str]] = {}
    skipped = []
    for tool, arguments in commands.items():
        executable = node_tool(tool, npm_bin)
        if executable is None:
            skipped.append(tool)
        else:
            running[tool] = start([executable, *arguments])
    found: list[Problem] = []
    errors: list[str] = []
    try:
        found += validator_problems(spec, locator)
    except Exception as exc:  # any failure of the tool is reported with the others
        errors.append(f"openapi-spec-validator could not run: {exc!r}")
    readers = {"redocly": redocly_problems, "spectral": spectral_problems}
    for tool in ("redocly", "spectral"):
        if tool in running:
            try:
                found = readers[tool](report_of(tool, running[tool]), locator) + found
            except ToolError as exc:
                errors.append(str(exc))
    # Redocly first, then Spectral, then the validator: the first tool's wording is kept.
    order = {"redocly": 0, "spectral": 1}
    found.sort(key=lambda p: order.get(p.tool, 2))
    return Result(merge(found), [VALIDATOR, *running], skipped, errors)


def display_name(spec: Path) -> str:
    try:
        return spec.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(spec)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.lint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "spec", nargs="?", type=Path, default=SPEC_PATH, help="the OpenAPI document"
    )
    parser.add_argument("--npm-bin", type=Path, default=NPM_BIN, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    result = lint(args.spec, args.npm_bin)
    name = display_name(args.spec)
    for problem in result.problems:
        print(problem.render(name))
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    status = 2 if result.errors else 1 if result.problems else 0
    if result.skipped:
        tools = " and ".join(result.skipped)
        why = f"{tools} not run: they need Node.js 20+ and `npm ci --prefix npm`"
        if os.environ.get("CI"):
            print(f"error: {why} (CI must run every linter)", file=sys.stderr)
            status = 2
        else:
            print(f"skipped: {why}", file=sys.stderr)
    count = len(result.problems)
    print(f"{name}: {count} problem{'s' if count != 1 else ''} ({', '.join(result.ran)})")
    return status


if __name__ == "__main__":
    sys.exit(main())
