"""`reports/fuzz-report.html`: one self-contained page of a run (no external assets).

The summary, a coverage matrix of operations x documented statuses, the model transitions
(run or never run), and each violation with the sequence that led to it.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING

from fuzzing import coverage
from fuzzing.events import event_lines
from fuzzing.outcome import run_lines

if TYPE_CHECKING:
    from fuzzing.results import RunResult, Violation

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
td.seen { background: #cfc; } td.never { background: #fcc; } td.na { background: #eee; }
.verdict { font-weight: bold; padding: .5em; display: inline-block; }
.ok { background: #cfc; } .bad { background: #fcc; }
pre { background: #f6f6f6; padding: .5em; white-space: pre-wrap; word-break: break-all; }
li.never { color: #a00; }
"""


def _verdict(result: RunResult) -> str:
    if result.ok:
        return '<span class="verdict ok">no violation</span>'
    text = f"{len(result.violations)} violation(s), {len(result.errors)} error(s)"
    return f'<span class="verdict bad">{escape(text)}</span>'


def _matrix(cover: coverage.Coverage) -> str:
    columns = sorted({s for per in cover.statuses.values() for s in per})
    head = "".join(f"<th>{s}</th>" for s in columns)
    rows = []
    for method, per in cover.statuses.items():
        cells = []
        for status in columns:
            if status not in per:
                cells.append('<td class="na"></td>')
            elif per[status]:
                cells.append(f'<td class="seen">{per[status]}</td>')
            else:
                cells.append('<td class="never">never</td>')
        rows.append(f"<tr><th>{escape(method)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th>operation</th>{head}</tr>{''.join(rows)}</table>"


def _violation(number: int, violation: Violation) -> str:
    parts = [
        f'<section class="violation" id="violation-{number}">',
        f"<h3>{number}. [{escape(violation.check)}] {escape(violation.operation)}</h3>",
        f'<p class="reason">{escape(violation.reason)}</p>',
    ]
    if violation.sequence:
        steps = "\n".join(
            f"step {s['step']}: {s['method']} {json.dumps(s['body'])} -> {s['status']}"
            + (f" {json.dumps(s['data'])}" if s.get("data") is not None else "")
            for s in violation.sequence
        )
        parts.append(f"<p>The sequence on thread {escape(violation.thread)}:</p>")
        parts.append(f"<pre>{escape(steps)}</pre>")
        if violation.replay:
            parts.append(f"<pre>python -m fuzzing replay {escape(violation.replay)}</pre>")
    else:
        parts.append(f"<pre>{escape(chr(10).join([*violation.steps, violation.curl]))}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


def _events(result: RunResult, cover: coverage.Coverage) -> str:
    """The call events: judged or not, and each event type with how many came."""
    lines = "".join(f"<p>{escape(line)}</p>" for line in event_lines(result, cover))
    types = "".join(
        f'<li class="{"run" if n else "never"}">{escape(name)}: {n or "never"}</li>'
        for name, n in cover.events.items()
    )
    return f'<h2>Call events</h2>{lines}<ul id="event-types">{types}</ul>' if lines else ""


def render(result: RunResult) -> str:
    """The whole page."""
    cover = result.coverage
    transitions = "".join(
        f'<li class="{"run" if n else "never"}">{escape(name)}: {n or "never"}</li>'
        for name, n in cover.transitions.items()
    )
    phases = ", ".join(f"{escape(k)} {v}" for k, v in result.phase_cases.items())
    violations = "\n".join(_violation(n, v) for n, v in enumerate(result.violations, 1))
    errors = "".join(f"<li>{escape(e)}</li>" for e in result.errors)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Fuzz report: {escape(result.url)}</title><style>{STYLE}</style></head>
<body>
<h1>Fuzz report</h1>
<p>{_verdict(result)}</p>
<table>
<tr><th>target</th><td>{escape(result.url)}</td></tr>
<tr><th>seed</th><td>{result.seed}</td></tr>
<tr><th>cases</th><td>{result.cases} in {result.elapsed:.1f} s (budget {result.budget} s)</td></tr>
<tr><th>walk</th><td>{result.walk.steps if result.walk else 0} requests</td></tr>
<tr><th>phases</th><td>{phases}</td></tr>
<tr><th>coverage</th><td id="coverage">{cover.percent:.1f}%</td></tr>
<tr><th>run</th><td id="run">{"<br>".join(escape(line) for line in run_lines(result))}</td></tr>
</table>
<h2>Violations ({len(result.violations)})</h2>
{violations or "<p>None.</p>"}
{f"<h2>Errors</h2><ul>{errors}</ul>" if errors else ""}
<h2>Documented statuses observed</h2>
{_matrix(cover)}
<h2>Model transitions ({cover.transitions_run} of {len(cover.transitions)} exercised)</h2>
<ul id="transitions">{transitions}</ul>
{_events(result, cover)}
</body></html>
"""
