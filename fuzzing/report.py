"""What a person and a CI system read: progress, summary tables, failures, JUnit XML, JSON."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from fuzzing.events import event_lines
from fuzzing.outcome import run_lines
from fuzzing.results import RunResult, Violation
from fuzzing.runner import curl_command

JUNIT_NAME = "fuzz-junit.xml"
JSON_NAME = "fuzz-result.json"
HTML_NAME = "fuzz-report.html"
REPLAY_PATTERN = "replay-{number}.json"


class Progress:
    """One live line: elapsed time, phase, cases, violations.

    On a terminal the line is redrawn in place; elsewhere (CI logs) a line is printed every
    `interval` seconds, so a log stays short.
    """

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 10.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = interval
        self.last: float | None = None
        self.shown = False

    def __call__(self, result: RunResult, phase: str) -> None:
        now = time.monotonic()
        if not self.tty and self.last is not None and now - self.last < self.interval:
            return
        self.last = now
        line = (
            f"fuzz {result.elapsed:5.1f}/{result.budget} s  {phase:<10}  "
            f"{result.cases:6d} cases  {len(result.violations):3d} violations"
        )
        if self.tty:
            self.stream.write("\r" + line)
            self.shown = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                str(c).rjust(w) if str(c).isdigit() else str(c).ljust(w)
                for c, w in zip(row, widths, strict=True)
            )
        )
    return "\n".join(line.rstrip() for line in lines)


def summary(result: RunResult) -> str:
    """The summary: per check, per operation, then each violation with its reproduction."""
    per_check: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_operation: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failing_checks: dict[str, set[str]] = defaultdict(set)
    failing_operations: dict[str, set[str]] = defaultdict(set)
    for (operation, check), (passed, failed) in result.tally.items():
        per_check[check][0] += passed
        per_check[check][1] += failed
        per_operation[operation][0] += passed
        per_operation[operation][1] += failed
    for violation in result.violations:
        failing_checks[violation.check].add(violation.operation)
        failing_operations[violation.operation].add(violation.check)

    phases = ", ".join(
        f"{name} {result.phase_cases.get(name, 0)}"
        for name in ("examples", "coverage", "fuzzing", "stateful")
    )
    out = [""]
    if result.walk is not None:
        out.append(
            f"Walk: {result.walk.steps} model-guided requests in {result.walk.seconds:.1f} s"
        )
    out.append(f"Cases per phase: {phases}")
    if result.left_out_phases:
        out.append(f"Phases left out: {', '.join(result.left_out_phases)} (they never report it)")
    out += ["", "Checks"]
    out.append(
        _table(
            ["check", "passed", "failed", "operations failing"],
            [
                [check, str(p), str(f), str(len(failing_checks[check])) if f else "-"]
                for check, (p, f) in sorted(per_check.items())
            ],
        )
    )
    out += ["", "Operations"]
    out.append(
        _table(
            ["operation", "passed", "failed", "checks failing"],
            [
                [op, str(p), str(f), ", ".join(sorted(failing_operations[op])) or "-"]
                for op, (p, f) in sorted(per_operation.items())
            ],
        )
    )
    out += coverage_lines(result)
    if result.violations:
        out += ["", f"Violations ({len(result.violations)})"]
        for number, violation in enumerate(result.violations, 1):
            out.append(f"{number}. [{violation.check}] {violation.operation}: {violation.reason}")
            if violation.sequence:
                out.append(f"   the sequence on thread {violation.thread} that led to it:")
                out += [f"   {line}" for line in sequence_lines(violation)]
                if violation.replay:
                    out.append(f"   replay: python -m fuzzing replay {violation.replay}")
                continue
            if violation.thread_before:
                before = " -> ".join(violation.thread_before)
                out.append(f"   its thread answered before: {before}")
            for step in violation.steps:
                out.append(f"   after: {step}")
            out += [f"   {line}" for line in violation.curl.splitlines()]
    if result.errors:
        out += ["", f"Errors ({len(result.errors)})"]
        out += [f"- {error}" for error in result.errors]
    verdict = (
        "no violation"
        if not result.violations and not result.errors
        else (f"{len(result.violations)} violation(s), {len(result.errors)} error(s)")
    )
    out += ["", *run_lines(result)]
    out += [
        f"{result.cases} cases in {result.elapsed:.1f} s against {result.url}: {verdict}.",
        f"Seed {result.seed}: rerun with --seed {result.seed} --budget {result.budget}"
        + (f" --passes {result.passes}." if result.passes else "."),
    ]
    if result.violations:
        out.append(
            "The reproductions sign each request again when they run (`python -m fuzzing sign`, "
            "the secret key read from $WORKONFLOW_SECRET_KEY, the demo bot's when unset)."
        )
    return "\n".join(out)


def sequence_lines(violation: Violation) -> list[str]:
    """Each step of a violation's sequence: what was sent and what was answered."""
    lines = []
    for step in violation.sequence:
        data = f" {json.dumps(step['data'])}" if step.get("data") is not None else ""
        body = json.dumps(step["body"])
        lines.append(f"step {step['step']}: {step['method']} {body} -> {step['status']}{data}")
    return lines


def coverage_lines(result: RunResult) -> list[str]:
    """Documented statuses never observed, transitions never run, and the overall share."""
    if not result.statuses and not result.transitions:
        return []
    cover = result.coverage
    out = ["", "Coverage"]
    rows = []
    for method, per in cover.statuses.items():
        seen = [str(s) for s, n in per.items() if n]
        never = [str(s) for s, n in per.items() if not n]
        rows.append([method, " ".join(seen) or "-", " ".join(never) or "-"])
    out.append(_table(["operation", "statuses seen", "never seen"], rows))
    for method, per in cover.server_errors.items():
        answered = ", ".join(f"{status} x{n}" for status, n in sorted(per.items()))
        out.append(f"Server errors (failures, not coverage): {method} {answered}")
    for status, why in sorted(cover.not_targets.items()):
        out.append(f"Not a target: {status} ({why})")
    if cover.left_out:
        out.append(f"Left out (--include/--exclude, not counted): {', '.join(cover.left_out)}")
    out.append(f"Model transitions: {cover.transitions_run} of {len(cover.transitions)} exercised")
    out += [f"  never: {name}" for name in cover.never_run()]
    out += event_lines(result, cover)
    out.append(
        f"Coverage {cover.percent:.1f}%: {cover.statuses_seen} of {cover.statuses_documented} "
        f"documented statuses seen, {cover.transitions_run} of {len(cover.transitions)} "
        "transitions exercised"
    )
    return out


def write_replays(result: RunResult, directory: Path) -> list[Path]:
    """One replay file per violation that has a sequence (`python -m fuzzing replay FILE`)."""
    for old in directory.glob(REPLAY_PATTERN.format(number="*")):
        old.unlink()
    written = []
    numbered = [v for v in result.violations if v.sequence]
    for number, violation in enumerate(numbered, 1):
        path = directory / REPLAY_PATTERN.format(number=number)
        violation.replay = str(path)
        document = {
            "about": "python -m fuzzing replay FILE [--url URL]: re-send, signed again, and "
            "re-judge (the secret key from --secret-key or $WORKONFLOW_SECRET_KEY)",
            "url": result.url,
            "team": violation.team or result.team,
            "bot_id": result.bot_id,
            "check": violation.check,
            "operation": violation.operation,
            "reason": violation.reason,
            "expected": violation.expected,
            "steps": violation.sequence,
            "curl": [
                curl_command(
                    result.url,
                    violation.team or result.team,
                    s["method"],
                    s["body"],
                    result.bot_id or None,
                )
                for s in violation.sequence
            ],
        }
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def write_junit(result: RunResult, path: Path) -> None:
    """JUnit XML: a test case per operation and check, failed when a violation was found."""
    by_key = defaultdict(list)
    for violation in result.violations:
        by_key[(violation.operation, violation.check)].append(violation)
    keys = sorted(set(result.tally) | set(by_key))
    suite = ElementTree.Element(
        "testsuite",
        name="fuzz",
        tests=str(len(keys) + len(result.errors)),
        failures=str(sum(1 for key in keys if by_key.get(key))),
        errors=str(len(result.errors)),
        time=f"{result.elapsed:.3f}",
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("seed", result.seed), ("url", result.url), ("cases", result.cases)):
        ElementTree.SubElement(properties, "property", name=name, value=str(value))
    for operation, check in keys:
        case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check)
        for violation in by_key.get((operation, check), []):
            failure = ElementTree.SubElement(case, "failure", message=violation.reason)
            failure.text = "\n".join([*violation.steps, violation.curl])
    for number, error in enumerate(result.errors, 1):
        case = ElementTree.SubElement(suite, "testcase", classname="fuzz", name=f"error {number}")
        ElementTree.SubElement(case, "error", message=error)
    root = ElementTree.Element("testsuites")
    root.append(suite)
    tree = ElementTree.ElementTree(root)
    ElementTree.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_reports(result: RunResult, directory: Path) -> tuple[Path, Path]:
    """Write the JUnit XML, the JSON result, the replay files and the HTML page into
    `directory`; return the paths of the first two."""
    from fuzzing import page

    directory.mkdir(parents=True, exist_ok=True)
    junit, data = directory / JUNIT_NAME, directory / JSON_NAME
    write_replays(result, directory)
    write_junit(result, junit)
    (directory / HTML_NAME).write_text(page.render(result), encoding="utf-8")
    data.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    return junit, data
