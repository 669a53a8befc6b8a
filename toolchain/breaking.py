"""The breaking-change gate: compare `openapi.yaml` with an earlier version of itself.

    python -m toolchain.breaking                      # against the last release tag, else HEAD~1
    python -m toolchain.breaking --base v1.0.0        # against openapi.yaml at a git ref
    python -m toolchain.breaking --base-spec OLD.yaml --spec NEW.yaml   # two files

The two documents are compared with Optic (`@useoptic/optic`, run offline from `npm/`) and its
`breaking-changes` ruleset. Every change is printed on one line: `BREAKING` or `compatible`,
the operation, where in it (parameter, request body, response) and the field. Direction
matters: a new required request field, or a removed or retyped response field, breaks clients
built on the base; a new optional request field or a new response field does not.

Exit status: 0 when there is no breaking change, or when every breaking change comes with a new
major `info.version`; 1 when a breaking change comes without one (or, with `--changelog`, when
the changelog does not describe the new version); 2 for bad arguments or a tool failure.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
NPM_DIR = ROOT / "npm"
OPTIC_SCRIPT = Path(__file__).resolve().parent / "optic_diff.cjs"
# Release tags are `v` followed by the spec version (`v1.0.0`).
RELEASE_TAG_PATTERN = "v[0-9]*"
# Optic's severities: 0 info, 1 warn, 2 error. An error is a breaking change.
SEVERITY_ERROR = 2
# A removed operation violates one rule per response field; show the first few.
MAX_REASONS = 3
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$")


class GateError(Exception):
    """The comparison could not be made; the message says why."""


@dataclass
class Change:
    """One change between the two documents, as Optic groups them."""

    operation: str
    location: str
    field: str
    kind: str
    json_path: str = ""
    param: str = ""
    detail: str = ""
    violations: list[dict] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return bool(self.violations)

    def line(self) -> str:
        verdict = "BREAKING  " if self.breaking else "compatible"
        where = " ".join(part for part in (self.location, self.field) if part)
        text = f"{verdict}  {self.operation}: {where} {self.kind}".rstrip()
        if self.detail:
            text += f" ({self.detail})"
        for violation in self.violations[:MAX_REASONS]:
            text += f"\n            - {violation['name']}: {violation['error']}"
        if len(self.violations) > MAX_REASONS:
            text += f"\n            - and {len(self.violations) - MAX_REASONS} more"
        return text


@dataclass
class Report:
    base_version: str
    head_version: str
    changes: list[Change]
    checks: dict

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


# --- specs -------------------------------------------------------------------------------------


def load_spec(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GateError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise GateError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(document, dict) or "openapi" not in document:
        raise GateError(f"{path}: not an OpenAPI document (no `openapi` key)")
    return document


def spec_version(document: dict, path: Path) -> str:
    version = str((document.get("info") or {}).get("version", ""))
    if not SEMVER.match(version):
        raise GateError(
            f"{path}: info.version {version!r} is not a semantic version MAJOR.MINOR.PATCH"
        )
    return version


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


# --- git ---------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def repository_of(spec: Path) -> Path:
    found = git(spec.resolve().parent, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise GateError(f"{spec} is not in a git repository: give the base with --base-spec FILE")
    return Path(found.stdout.strip())


def default_base(repo: Path) -> str | None:
    """The last release tag reachable from HEAD, else HEAD~1, else None (a single commit)."""
    tag = git(repo, "describe", "--tags", "--abbrev=0", "--match", RELEASE_TAG_PATTERN, "HEAD")
    if tag.returncode == 0 and tag.stdout.strip():
        return tag.stdout.strip()
    if git(repo, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").returncode == 0:
        return "HEAD~1"
    return None


def spec_at(repo: Path, ref: str, spec: Path, into: Path) -> Path | None:
    """Write the spec as it was at `ref` into `into`; None when it did not exist there."""
    if git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise GateError(f"--base {ref}: no such git commit, branch or tag")
    relative = spec.resolve().relative_to(repo.resolve()).as_posix()
    shown = git(repo, "show", f"{ref}:{relative}")
    if shown.returncode != 0:
        return None
    target = into / f"base-{relative.replace('/', '_')}"
    target.write_text(shown.stdout, encoding="utf-8")
    return target


# --- optic -------------------------------------------------------------------------------------


def run_optic(base: Path, head: Path, npm_dir: Path = NPM_DIR) -> dict:
    if shutil.which("node") is None:
        raise GateError("the breaking-change gate needs Node.js 20 or newer: install it")
    if not (npm_dir / "node_modules" / "@useoptic" / "optic").is_dir():
        raise GateError(
            f"@useoptic/optic is not installed in {npm_dir}: run `npm ci --prefix {npm_dir}`"
        )
    env = dict(os.environ, OPTIC_TELEMETRY_LEVEL="off", NO_UPDATE_NOTIFIER="1")
    done = subprocess.run(
        ["node", str(OPTIC_SCRIPT), str(npm_dir), str(base), str(head)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise GateError(f"optic could not compare the specs:\n{done.stderr.strip()}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise GateError(f"optic printed no JSON report: {exc}: {done.stdout[:500]}") from exc


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _field(key: str) -> str:
    """`/schema/properties/data/properties/dialogDuration` -> `data.dialogDuration`."""
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


def _attribute_changes(operation: str, location: str, base_path: str, attrs: list) -> list[Change]:
    out = []
    for attr in attrs:
        key = attr.get("key", "")
        label = _field(key) if key.startswith("/schema") else (key.lstrip("/") or "")
        out.append(
            Change(
                operation, location, label, attr["change"], base_path + key, detail=_detail(attr)
            )
        )
    return out


def _detail(attr: dict) -> str:
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


def _content_changes(operation: str, location: str, base_path: str, entry: dict) -> list[Change]:
    changes = _attribute_changes(operation, location, base_path, entry.get("attributes", []))
    for content in entry.get("contentTypes", []):
        path = f"{base_path}/content/{_pointer_escape(content['name'])}"
        where = f"{location} {content['name']}"
        if content["change"] in ("added", "removed"):
            changes.append(Change(operation, where, "", content["change"], path))
        changes += _attribute_changes(operation, where, path, content.get("attributes", []))
    return changes


def changes_from(optic: dict) -> list[Change]:
    """Flatten Optic's changelog and attach each failed rule to the change it judged."""
    changes: list[Change] = []
    for op in optic["changelog"].get("operations", []):
        name = op["name"]
        method, _, route = name.partition(" ")
        op_path = f"/paths/{_pointer_escape(route)}/{method.lower()}"
        if op["change"] in ("added", "removed"):
            changes.append(Change(name, "operation", "", op["change"], op_path))
            continue
        changes += _attribute_changes(name, "operation", op_path, op.get("attributes", []))
        for param in op.get("parameters", []):
            label = param["name"]  # "query parameter 'trace'"
            pname = label.split("'")[1] if label.count("'") >= 2 else label
            for attr in param.get("attributes", []) or [{"key": "", "change": param["change"]}]:
                detail = attr.get("key", "").lstrip("/")
                changes.append(
                    Change(
                        name,
                        label,
                        detail,
                        attr["change"],
                        f"{op_path}/parameters",
                        param=pname,
                    )
                )
        if op.get("requestBody"):
            changes += _content_changes(
                name, "request body", f"{op_path}/requestBody", op["requestBody"]
            )
        for response in op.get("responses", []):
            status = response["name"].split(" ", 1)[0]
            path = f"{op_path}/responses/{_pointer_escape(status)}"
            where = f"response {status}"
            if response["change"] in ("added", "removed"):
                changes.append(Change(name, where, "", response["change"], path))
                continue
            changes += _content_changes(name, where, path, response)
            for header in response.get("headers", []):
                changes.append(
                    Change(
                        name,
                        f"{where} header {header['name']}",
                        "",
                        header["change"],
                        f"{path}/headers/{_pointer_escape(header['name'])}",
                    )
                )

    for result in optic["results"]:
        if result["passed"] or result["exempted"] or result["severity"] < SEVERITY_ERROR:
            continue
        target = _owner(changes, result)
        if target is None:
            target = Change(result["where"], "", "", "changed", result["jsonPath"])
            changes.append(target)
        target.violations.append(result)
    return changes


def _owner(changes: list[Change], result: dict) -> Change | None:
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


# --- the gate ----------------------------------------------------------------------------------


def compare(base: Path, head: Path, npm_dir: Path = NPM_DIR) -> Report:
    base_doc, head_doc = load_spec(base), load_spec(head)
    base_version, head_version = spec_version(base_doc, base), spec_version(head_doc, head)
    # Optic waives its breaking-change rules when info.version has a new major; this gate
    # applies that rule itself, after listing every change for what it is. So Optic sees the
    # head under the base's version.
    with tempfile.TemporaryDirectory(prefix="breaking-head-") as tmp:
        judged = Path(tmp) / "head.json"
        head_doc.setdefault("info", {})["version"] = base_version
        judged.write_text(json.dumps(head_doc, default=str), encoding="utf-8")
        optic = run_optic(base, judged, npm_dir)
    return Report(base_version, head_version, changes_from(optic), optic.get("checks", {}))


def changelog_problems(changelog: Path, version: str, breaking: bool) -> list[str]:
    """The changelog must have a `## VERSION` section, marked BREAKING when the change is."""
    try:
        text = changelog.read_text(encoding="utf-8")
    except OSError as exc:
        raise GateError(f"{changelog}: cannot read: {exc.strerror}") from exc
    heading = re.compile(rf"^##\s+\[?{re.escape(version)}\]?(?=[\s(]|$).*$", re.MULTILINE)
    found = heading.search(text)
    if not found:
        return [f"{changelog.name} has no section `## {version}` for the new spec version"]
    following = re.search(r"^##\s", text[found.end() :], re.MULTILINE)
    section = (
        text[found.end() : found.end() + following.start()] if following else text[found.end() :]
    )
    if breaking and "BREAKING" not in section:
        return [
            f"{changelog.name}: section {version} does not mark its breaking change(s) BREAKING"
        ]
    return []


def gate(report: Report, changelog: Path | None = None) -> tuple[bool, list[str]]:
    """Whether the head spec may be released, and the lines that say why."""
    lines = [c.line() for c in report.changes]
    breaking = report.breaking
    summary = (
        f"{len(report.changes)} change(s), {len(breaking)} breaking; "
        f"info.version {report.base_version} -> {report.head_version}"
    )
    if not report.changes:
        summary = f"no changes to the operations; info.version {report.base_version} -> {report.head_version}"
    lines.append(summary)
    ok = True
    if breaking and major(report.head_version) <= major(report.base_version):
        ok = False
        lines.append(
            f"FAIL: breaking change(s) without a new major version: info.version must go from "
            f"{report.base_version} to {major(report.base_version) + 1}.0.0 or later"
        )
    if changelog is not None and report.head_version != report.base_version:
        problems = changelog_problems(changelog, report.head_version, bool(breaking))
        if problems:
            ok = False
            lines += [f"FAIL: {p}" for p in problems]
    if ok and breaking:
        lines.append(
            f"OK: the breaking change(s) come with the new major version {report.head_version}"
        )
    elif ok:
        lines.append("OK: no breaking change")
    return ok, lines


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m toolchain.breaking",
        description="Fail when the spec breaks clients without a new major info.version.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--base",
        metavar="GIT_REF",
        help="compare with openapi.yaml at this git ref (default: the last tag matching "
        f"{RELEASE_TAG_PATTERN!r}, else HEAD~1)",
    )
    source.add_argument("--base-spec", metavar="FILE", type=Path, help="compare with this file")
    parser.add_argument(
        "--spec",
        metavar="FILE",
        type=Path,
        default=SPEC,
        help="the new spec (default: openapi.yaml of the work tree)",
    )
    parser.add_argument(
        "--changelog",
        metavar="FILE",
        type=Path,
        help="also require a section for a new info.version in this changelog",
    )
    parser.add_argument(
        "--npm-dir", metavar="DIR", type=Path, default=NPM_DIR, help=argparse.SUPPRESS
    )
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with tempfile.TemporaryDirectory(prefix="breaking-") as tmp:
            if args.base_spec is not None:
                base, label = args.base_spec, str(args.base_spec)
            else:
                repo = repository_of(args.spec)
                ref = args.base or default_base(repo)
                if ref is None:
                    print("Nothing to compare: the repository has one commit and no release tag.")
                    return 0
                base = spec_at(repo, ref, args.spec, Path(tmp))
                if base is None:
                    print(f"Nothing to compare: {args.spec.name} does not exist at {ref}.")
                    return 0
                label = f"{args.spec.name} at {ref}"
            print(f"Comparing {label} (base) with {args.spec} (head)")
            report = compare(base, args.spec, args.npm_dir)
    except GateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok, lines = gate(report, args.changelog)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
