"""The Optic adapter of the breaking-change gate: `OpticDiffer().changes(base, head)`.

Runs `@useoptic/optic` offline from `npm/` (through `optic_diff.cjs`, with its
`breaking-changes` ruleset) and turns its changelog and rule results into `Change`s. Optic
compares `paths` only; `toolchain.webhook_changes` hands it the call events of `webhooks` as
operations of their own and renames what it reports. Optic is archived upstream: only these two
modules know it, so another differ can take its place behind the `toolchain.changes.Differ`
protocol.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from toolchain.changes import Change, DiffError, Reason, load_document

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / "npm"
OPTIC_SCRIPT = Path(__file__).resolve().parent / "optic_diff.cjs"
# Optic's severities: 0 info, 1 warn, 2 error. An error is a breaking change.
SEVERITY_ERROR = 2
TIMEOUT = 300


class OpticDiffer:
    """Optic's differ and its `breaking-changes` rules, offline."""

    name = "optic"

    def __init__(self, npm_dir: Path = NPM_DIR) -> None:
        self.npm_dir = npm_dir

    def changes(self, base: Path, head: Path) -> list[Change]:
        # Optic waives its breaking-change rules when info.version has a new major: it sees
        # the head under the base's version, so that every change is judged on its own.
        base_doc, head_doc = load_document(base), load_document(head)
        with tempfile.TemporaryDirectory(prefix="optic-head-") as tmp:
            judged = Path(tmp) / "head.json"
            head_doc.setdefault("info", {})["version"] = (base_doc.get("info") or {}).get(
                "version", ""
            )
            judged.write_text(json.dumps(head_doc, default=str), encoding="utf-8")
            return changes_from(run_optic(base, judged, self.npm_dir))


def run_optic(base: Path, head: Path, npm_dir: Path = NPM_DIR) -> dict[str, Any]:
    if shutil.which("node") is None:
        raise DiffError("the breaking-change gate needs Node.js 20 or newer: install it")
    if not (npm_dir / "node_modules" / "@useoptic" / "optic").is_dir():
        raise DiffError(
            f"@useoptic/optic is not installed in {npm_dir}: run `npm ci --prefix {npm_dir}`"
        )
    env = dict(os.environ, OPTIC_TELEMETRY_LEVEL="off", NO_UPDATE_NOTIFIER="1")
    done = subprocess.run(
        ["node", str(OPTIC_SCRIPT), str(npm_dir), str(base), str(head)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=TIMEOUT,
    )
    if done.returncode != 0:
        raise DiffError(f"optic could not compare the specs:\n{done.stderr.strip()}")
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise DiffError(f"optic printed no JSON report: {exc}: {done.stdout[:500]}") from exc
    return report


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _field(key: str) -> str:
    """`/schema/properties/data/properties/dialogDuration` -> `field data.dialogDuration`."""
    parts = [p for p in key.split("/") if p]
    if parts and parts[0] == "schema":
        parts = parts[1:]
    names = []
    i = 0
    while i < len(parts):
        if parts[i] == "properties" and i + 1 < len(parts):
            names.append(parts[i + 1].replace("~1", "/").replace("~0", "~"))
            i += 2
        elif parts[i] == "items":
            names.append("[]")
            i += 1
        else:
            names.append(parts[i])
            i += 1
    return "field " + ".".join(names).replace(".[]", "[]") if names else "schema"


def _detail(attr: dict[str, Any]) -> str:
    """What a changed attribute was and became, in short: `type: integer -> string`."""
    before, after = attr.get("before"), attr.get("after")
    if attr.get("change") != "changed":
        return ""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        text = "; ".join(
            f"{k}: {json.dumps(before.get(k))} -> {json.dumps(after.get(k))}" for k in keys
        )
    else:
        text = f"{json.dumps(before)} -> {json.dumps(after)}"
    return text if len(text) <= 100 else text[:97] + "..."


def _attribute_changes(
    operation: str, location: str, base_path: str, attrs: list[dict[str, Any]]
) -> list[Change]:
    out = []
    for attr in attrs:
        key = attr.get("key", "")
        label = _field(key) if key.startswith("/schema") else (key.lstrip("/") or "")
        path = base_path + key
        out.append(Change(operation, location, label, attr["change"], path, detail=_detail(attr)))
    return out


def _content_changes(
    operation: str, location: str, base_path: str, entry: dict[str, Any]
) -> list[Change]:
    changes = _attribute_changes(operation, location, base_path, entry.get("attributes", []))
    for content in entry.get("contentTypes", []):
        path = f"{base_path}/content/{_pointer_escape(content['name'])}"
        where = f"{location} {content['name']}"
        if content["change"] in ("added", "removed"):
            changes.append(Change(operation, where, "", content["change"], path))
        changes += _attribute_changes(operation, where, path, content.get("attributes", []))
    return changes


def _operation_changes(op: dict[str, Any]) -> list[Change]:
    name = op["name"]
    method, _, route = name.partition(" ")
    op_path = f"/paths/{_pointer_escape(route)}/{method.lower()}"
    if op["change"] in ("added", "removed"):
        return [Change(name, "operation", "", op["change"], op_path)]
    changes = _attribute_changes(name, "operation", op_path, op.get("attributes", []))
    for param in op.get("parameters", []):
        label = param["name"]  # "query parameter 'trace'"
        pname = label.split("'")[1] if label.count("'") >= 2 else label
        for attr in param.get("attributes", []) or [{"key": "", "change": param["change"]}]:
            detail = attr.get("key", "").lstrip("/")
            path = f"{op_path}/parameters"
            changes.append(Change(name, label, detail, attr["change"], path, param=pname))
    if op.get("requestBody"):
        body = f"{op_path}/requestBody"
        changes += _content_changes(name, "request body", body, op["requestBody"])
    for response in op.get("responses", []):
        status = response["name"].split(" ", 1)[0]
        path = f"{op_path}/responses/{_pointer_escape(status)}"
        where = f"response {status}"
        if response["change"] in ("added", "removed"):
            changes.append(Change(name, where, "", response["change"], path))
            continue
        changes += _content_changes(name, where, path, response)
        for header in response.get("headers", []):
            header_path = f"{path}/headers/{_pointer_escape(header['name'])}"
            where_header = f"{where} header {header['name']}"
            changes.append(Change(name, where_header, "", header["change"], header_path))
    return changes


def changes_from(optic: dict[str, Any]) -> list[Change]:
    """Flatten Optic's changelog and attach each failed rule to the change it judged."""
    changes: list[Change] = []
    for op in optic["changelog"].get("operations", []):
        changes += _operation_changes(op)
    for result in optic["results"]:
        if result["passed"] or result["exempted"] or result["severity"] < SEVERITY_ERROR:
            continue
        target = _owner(changes, result)
        if target is None:
            target = Change(result["where"], "", "", "changed", result["jsonPath"])
            changes.append(target)
        target.reasons.append(Reason(str(result["name"]), str(result["error"])))
    return changes


def _owner(changes: list[Change], result: dict[str, Any]) -> Change | None:
    """The change a rule result is about: the longest JSON pointer that contains its location."""
    path = result["jsonPath"]
    best: Change | None = None
    for change in changes:
        if change.param:
            # Optic names parameters by index; match them by operation and name instead.
            if path.startswith(change.json_path + "/") and f": {change.param}" in result["where"]:
                return change
            continue
        inside = path == change.json_path or path.startswith(change.json_path + "/")
        if inside and (best is None or len(change.json_path) > len(best.json_path)):
            best = change
    return best
