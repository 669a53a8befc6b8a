"""The breaking-change gate: compare `openapi.yaml` with an earlier version of itself.

    python -m toolchain.breaking                      # against the last release tag, else the
                                                      # last commit of the version before
    python -m toolchain.breaking --base v1.0.0        # against openapi.yaml at a git ref
    python -m toolchain.breaking --base-version 1.0.0 # against the last commit of that version
    python -m toolchain.breaking --base-spec OLD.yaml --spec NEW.yaml   # two files

This module is the gate's policy; the comparison itself is a differ's job
(`toolchain.changes.Differ`; today `toolchain.optic.OpticDiffer`, Optic run offline from
`npm/`, with `toolchain.security.SecurityDiffer` for the security Optic does not compare and
`toolchain.webhook_changes.WebhookDiffer` for the call events of `webhooks`, which Optic
compares only as stand-in operations). Every change is printed on one line: `BREAKING` or
`compatible`, the operation (or the event, `webhook call.created`), where in it (parameter,
request body, response, event body) and the field. Direction matters: a new required request
field, or a removed or retyped response field, breaks clients built on the base; a new optional
request field or a new response field does not. An event is read as an answer is: a removed or
retyped event field, or a removed event, breaks the bots that receive it; a new field or a new
event does not.

Without a base (a single commit, or a shallow clone without release tags or HEAD~1) there is
nothing to compare: outside CI the gate says so and passes; in CI (`CI` set) it fails, since a
gate that cannot look must not pass silently.

Exit status: 0 when there is no breaking change, or when every breaking change comes with a new
major `info.version`; 1 when a breaking change comes without one (or, with `--changelog`, when
the changelog does not describe the new version, or in CI when there is no base); 2 for bad
arguments or a tool failure.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.spec import SPEC_PATH
from toolchain.changes import Change, Combined, Differ, DiffError
from toolchain.optic import NPM_DIR, OpticDiffer
from toolchain.security import SecurityDiffer
from toolchain.webhook_changes import WebhookDiffer

__all__ = ["Change", "GateError", "Report", "compare", "gate", "main"]

ROOT = Path(__file__).resolve().parent.parent
# Release tags are `v` followed by the spec version (`v1.0.0`).
RELEASE_TAG_PATTERN = "v[0-9]*"
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$")


class GateError(DiffError):
    """The comparison could not be made; the message says why."""


@dataclass
class Report:
    base_version: str
    head_version: str
    changes: list[Change]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


# --- specs -------------------------------------------------------------------------------------


def load_spec(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GateError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise GateError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(document, dict) or "openapi" not in document:
        raise GateError(f"{path}: not an OpenAPI document (no `openapi` key)")
    return document


def spec_version(document: dict[str, Any], path: Path) -> str:
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


def default_base(repo: Path, spec: Path) -> tuple[str, str] | None:
    """What to compare with by default, and how to name it: the last release tag reachable from
    HEAD, else the last commit of the version before the spec's (a clone without tags), else
    HEAD~1, else None (a single commit)."""
    tag = git(repo, "describe", "--tags", "--abbrev=0", "--match", RELEASE_TAG_PATTERN, "HEAD")
    if tag.returncode == 0 and tag.stdout.strip():
        return tag.stdout.strip(), tag.stdout.strip()
    current = spec_version(load_spec(spec), spec)
    found = _newest_commit(repo, spec, lambda version: version != current)
    if found is not None:
        commit, version = found
        return commit, f"{version}, the version before {current} (commit {commit[:12]})"
    if git(repo, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").returncode == 0:
        return "HEAD~1", "HEAD~1"
    return None


def _newest_commit(repo: Path, spec: Path, wanted: Callable[[str], bool]) -> tuple[str, str] | None:
    """The newest commit whose spec has an `info.version` that is `wanted`, and that version."""
    relative = spec.resolve().relative_to(repo.resolve()).as_posix()
    listed = git(repo, "log", "--format=%H", "--", relative)
    for commit in listed.stdout.split():
        shown = git(repo, "show", f"{commit}:{relative}")
        if shown.returncode != 0:
            continue
        try:
            document = yaml.safe_load(shown.stdout)
        except yaml.YAMLError:
            continue
        info = document.get("info") if isinstance(document, dict) else None
        if isinstance(info, dict) and wanted(str(info.get("version"))):
            return commit, str(info.get("version"))
    return None


def commit_of_version(repo: Path, spec: Path, version: str) -> str:
    """The newest commit whose spec has `info.version` `version`: a release found without tags.

    A clone may come without tags (CI systems often fetch branches only); the history of the
    spec still says which commit last published each version.
    """
    found = _newest_commit(repo, spec, lambda seen: seen == version)
    if found is None:
        relative = spec.resolve().relative_to(repo.resolve()).as_posix()
        raise GateError(
            f"--base-version {version}: no commit of this history has {relative} at "
            f"info.version {version} (a shallow clone? `git fetch --unshallow`)"
        )
    return found[0]


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


# --- the gate ----------------------------------------------------------------------------------


def default_differ(npm_dir: Path = NPM_DIR) -> Differ:
    """Optic for operations, parameters, bodies and responses, and (through stand-in
    operations) for the call events; our own for security."""
    return Combined(OpticDiffer(npm_dir), SecurityDiffer(), WebhookDiffer(npm_dir))


def compare(base: Path, head: Path, differ: Differ | None = None) -> Report:
    """Every change from `base` to `head`, judged by the differ (`default_differ()`)."""
    base_version = spec_version(load_spec(base), base)
    head_version = spec_version(load_spec(head), head)
    changes = (differ or default_differ()).changes(base, head)
    return Report(base_version, head_version, changes)


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
        versions = f"{report.base_version} -> {report.head_version}"
        summary = f"no changes to the operations or the call events; info.version {versions}"
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
        f"{RELEASE_TAG_PATTERN!r}, else the last commit of the version before the spec's, "
        "else HEAD~1)",
    )
    source.add_argument(
        "--base-version",
        metavar="VERSION",
        help="compare with openapi.yaml at the newest commit whose info.version is VERSION "
        "(for clones without release tags)",
    )
    source.add_argument("--base-spec", metavar="FILE", type=Path, help="compare with this file")
    parser.add_argument(
        "--spec",
        metavar="FILE",
        type=Path,
        default=SPEC_PATH,
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


def no_base(reason: str) -> int:
    """Outside CI, say that there is nothing to compare and pass; in CI, fail."""
    if os.environ.get("CI"):
        print(
            f"FAIL: {reason}, so the gate cannot compare (in CI it must): fetch the history "
            "and tags (e.g. `git fetch --unshallow --tags`) or give --base GIT_REF",
            file=sys.stderr,
        )
        return 1
    print(f"Nothing to compare: {reason}.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with tempfile.TemporaryDirectory(prefix="breaking-") as tmp:
            if args.base_spec is not None:
                base, label = args.base_spec, str(args.base_spec)
            else:
                repo = repository_of(args.spec)
                ref: str | None
                if args.base_version is not None:
                    ref = commit_of_version(repo, args.spec, args.base_version)
                    where = f"{args.base_version} (commit {ref[:12]})"
                else:
                    chosen = (args.base, args.base) if args.base else default_base(repo, args.spec)
                    if chosen is None:
                        return no_base("no release tag and no parent commit (HEAD~1)")
                    ref, where = chosen
                base = spec_at(repo, ref, args.spec, Path(tmp))
                if base is None:
                    print(f"Nothing to compare: {args.spec.name} does not exist at {ref}.")
                    return 0
                label = f"{args.spec.name} at {where}"
            print(f"Comparing {label} (base) with {args.spec} (head)")
            report = compare(base, args.spec, default_differ(args.npm_dir))
    except DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ok, lines = gate(report, args.changelog)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
