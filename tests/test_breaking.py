"""The breaking-change gate on spec pairs with known answers (tests/specs/) and in git.

The gate's policy is tested with a stand-in differ too, so that it holds for any differ that
replaces Optic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from contract.spec import ROOT
from toolchain import breaking
from toolchain.changes import Change, DiffError, Reason
from toolchain.security import SecurityDiffer, security_changes
from toolchain.webhook_changes import WebhookDiffer

SPECS = ROOT / "tests" / "specs"
BASE = SPECS / "base.yaml"

needs_optic = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "npm" / "node_modules" / "@useoptic").is_dir(),
    reason="needs Node.js and the npm tools (npm ci --prefix npm)",
)

# pair -> (breaking?, gate passes?, the operation, the words the change's line must carry)
KNOWN = {
    "removed-response-field": (
        True,
        False,
        "POST /{teamId}/call/end",
        "data.dialogDuration removed",
    ),
    "retyped-response-field": (True, False, "POST /{teamId}/call/end", "data.callDuration changed"),
    "new-required-request-field": (
        True,
        False,
        "POST /{teamId}/call.audio/play",
        "request body application/json field volume added",
    ),
    "new-optional-request-field": (
        False,
        True,
        "POST /{teamId}/call.audio/play",
        "request body application/json field volume added",
    ),
    "new-response-field": (False, True, "POST /{teamId}/call/end", "data.result added"),
    "new-required-header": (
        True,
        False,
        "POST /{teamId}/call/end",
        "header parameter 'X-Request-Id' added",
    ),
    "removed-response-field-major": (
        True,
        True,
        "POST /{teamId}/call/end",
        "data.dialogDuration removed",
    ),
}


def gate_cli(*args: str, ci: bool = False) -> subprocess.CompletedProcess[str]:
    """The gate's command line, outside CI unless `ci` (the suite itself may run in CI)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": "true"} if ci else {})
    return subprocess.run(
        [sys.executable, "-m", "toolchain.breaking", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class StandIn:
    """A differ that reports the changes it is given: the policy without Optic."""

    name = "stand-in"

    def __init__(self, *changes: Change) -> None:
        self.given = list(changes)

    def changes(self, base: Path, head: Path) -> list[Change]:
        return self.given


def test_the_policy_holds_for_any_differ(tmp_path: Path) -> None:
    removed = Change("POST /{teamId}/call/end", "response 200", "field data.x", "removed")
    removed.reasons.append(Reason("response property removed", "data.x was removed"))
    added = Change("POST /{teamId}/call/end", "response 200", "field data.y", "added")
    major = tmp_path / "major.yaml"
    major.write_text(BASE.read_text().replace("version: 1.0.0", "version: 2.0.0", 1))
    assert breaking.load_spec(major)["info"]["version"] == "2.0.0"

    report = breaking.compare(BASE, BASE, StandIn(added))
    assert breaking.gate(report)[0]
    report = breaking.compare(BASE, BASE, StandIn(added, removed))
    ok, lines = breaking.gate(report)
    assert not ok and "info.version must go from 1.0.0 to 2.0.0" in lines[-1]
    assert "BREAKING    POST /{teamId}/call/end: response 200 field data.x removed" in lines[1]
    assert breaking.gate(breaking.compare(BASE, major, StandIn(removed)))[0]


@needs_optic
@pytest.mark.parametrize("pair", sorted(KNOWN))
def test_known_pair(pair: str) -> None:
    is_breaking, passes, operation, words = KNOWN[pair]
    report = breaking.compare(BASE, SPECS / f"{pair}.yaml")
    assert len(report.changes) == 1, [c.line() for c in report.changes]
    change = report.changes[0]
    assert change.operation == operation
    assert words in change.line()
    assert change.breaking is is_breaking, change.line()
    ok, lines = breaking.gate(report)
    assert ok is passes, "\n".join(lines)


EVENTS = SPECS / "events.yaml"
# Event pairs (webhooks, which Optic does not compare itself), against events.yaml at 2.3.0:
# pair -> (breaking?, the event, the words its line must carry). A bot receives an event as a
# client receives an answer: a removed or retyped field breaks it, a new field does not.
EVENT_PAIRS = {
    "removed-event-field": (True, "webhook call.created", "event body field streamId removed"),
    "retyped-event-field": (
        True,
        "webhook call.created",
        'event body field createdAt changed (type: "integer" -> "string")',
    ),
    "new-optional-event-field": (False, "webhook call.ended", "event body field reason added"),
    "removed-event": (True, "webhook call.ended", "event removed"),
    "new-event": (False, "webhook call.user.held", "event added"),
}


@needs_optic
@pytest.mark.parametrize("pair", sorted(EVENT_PAIRS))
def test_event_pair(pair: str) -> None:
    is_breaking, event, words = EVENT_PAIRS[pair]
    # The events' differ alone (the pairs change nothing else; the whole gate judges one pair
    # below, from its command line).
    report = breaking.compare(EVENTS, SPECS / f"{pair}.yaml", WebhookDiffer())
    assert len(report.changes) == 1, [c.line() for c in report.changes]
    change = report.changes[0]
    assert change.operation == event
    assert words in change.line()
    assert change.breaking is is_breaking, change.line()
    assert change.json_path.startswith(f"/webhooks/{event.split()[1]}/post"), change.json_path
    ok, lines = breaking.gate(report)  # the same info.version: only compatible changes pass
    assert ok is not is_breaking, "\n".join(lines)


@needs_optic
def test_the_cli_fails_on_a_removed_event_field() -> None:
    done = gate_cli("--base-spec", str(EVENTS), "--spec", str(SPECS / "removed-event-field.yaml"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "BREAKING    webhook call.created: event body field streamId removed\n"
        "            - prevent removing response property: cannot remove event property "
        "'streamId'. This is a breaking change." in done.stdout
    )
    assert "info.version must go from 2.3.0 to 3.0.0" in done.stdout


class CountingOptic:
    """Optic's place in WebhookDiffer: counts the runs and reports no change."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, base: Path, head: Path, npm_dir: Path) -> dict[str, object]:
        self.runs += 1
        return {"changelog": {"operations": []}, "results": []}


def test_optic_runs_only_when_the_events_differ(tmp_path: Path) -> None:
    """The gate runs often (CI, tests): the events are compared with `$ref`s followed first."""
    optic = CountingOptic()
    differ = WebhookDiffer(optic=optic)
    assert differ.changes(BASE, SPECS / "removed-response-field.yaml") == []  # no webhooks
    assert differ.changes(EVENTS, EVENTS) == []
    # The same events written without the $refs, and a recursive schema: still the same.
    inlined = yaml.safe_load(EVENTS.read_text())
    schemas = inlined["components"]["schemas"]
    created = inlined["webhooks"]["call.created"]["post"]
    created["requestBody"] = inlined["components"]["requestBodies"].pop("CallCreatedEvent")
    created["requestBody"]["content"]["application/json"]["schema"] = schemas["CallCreatedEvent"]
    schemas["CallCreatedEvent"]["properties"]["threadId"] = dict(schemas["ObjectId"])
    spec = tmp_path / "inlined.yaml"
    spec.write_text(yaml.safe_dump(inlined))
    assert differ.changes(EVENTS, spec) == [] and optic.runs == 0
    recursive = yaml.safe_load(EVENTS.read_text())
    ended = recursive["components"]["schemas"]["CallEndedEvent"]
    ended["properties"]["previous"] = {"$ref": "#/components/schemas/CallEndedEvent"}
    spec.write_text(yaml.safe_dump(recursive))
    assert differ.changes(spec, spec) == [] and optic.runs == 0
    # What differs is Optic's to judge.
    assert differ.changes(EVENTS, spec) == [] and optic.runs == 1
    assert differ.changes(EVENTS, SPECS / "removed-event-field.yaml") == [] and optic.runs == 2


def bad_events(tmp_path: Path) -> tuple[Path, Path]:
    """Two specs whose events cannot be read: a `$ref` to nothing, a list of webhooks."""
    dangling, listed = tmp_path / "dangling.yaml", tmp_path / "listed.yaml"
    document = yaml.safe_load(EVENTS.read_text())
    document["components"]["schemas"]["CallEndedEvent"]["properties"]["x"] = {
        "$ref": "#/components/schemas/Nope"
    }
    dangling.write_text(yaml.safe_dump(document))
    document = yaml.safe_load(EVENTS.read_text())
    document["webhooks"] = ["call.created"]
    listed.write_text(yaml.safe_dump(document))
    return dangling, listed


def test_bad_events_are_named(tmp_path: Path) -> None:
    dangling, listed = bad_events(tmp_path)
    differ = WebhookDiffer(optic=CountingOptic())
    with pytest.raises(
        DiffError, match=r"webhooks: \$ref '#/components/schemas/Nope' names nothing"
    ):
        differ.changes(EVENTS, dangling)
    with pytest.raises(DiffError, match=r"listed\.yaml: webhooks is not a mapping"):
        differ.changes(EVENTS, listed)


@needs_optic
def test_the_cli_names_bad_events(tmp_path: Path) -> None:
    _, listed = bad_events(tmp_path)
    done = gate_cli("--base-spec", str(EVENTS), "--spec", str(listed))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "listed.yaml: webhooks is not a mapping of event names to path items" in done.stderr


BEARER = SPECS / "bearer.yaml"
SIGNATURE_HEADERS = (
    "botId (apiKey header X-Bot-Id) + timestamp (apiKey header X-timestamp) + "
    "signature (apiKey header X-Signature)"
)
# Security pairs (Optic compares no security): base, head -> (breaking?, gate passes?, the
# operations' security change).
SECURITY = {
    ("base", "new-security-requirement"): (
        True,
        False,
        "security changed (no credentials -> botId (apiKey header X-Bot-Id))",
    ),
    ("bearer", "bot-signature-major"): (
        True,
        True,
        f"security changed (bearerAuth (http bearer) -> {SIGNATURE_HEADERS})",
    ),
    ("bearer", "bearer-or-bot-signature"): (
        False,
        True,
        f"security changed (bearerAuth (http bearer) -> bearerAuth (http bearer) or "
        f"{SIGNATURE_HEADERS})",
    ),
}


@needs_optic
@pytest.mark.parametrize(("base", "head"), sorted(SECURITY), ids="->".join)
def test_security_pair(base: str, head: str) -> None:
    is_breaking, passes, words = SECURITY[base, head]
    report = breaking.compare(SPECS / f"{base}.yaml", SPECS / f"{head}.yaml")
    operations = [c for c in report.changes if c.operation != "components"]
    assert [c.operation for c in operations] == [
        "POST /{teamId}/call/end",
        "POST /{teamId}/call.audio/play",
    ], [c.line() for c in report.changes]
    for change in operations:
        assert words in change.line()
        assert change.breaking is is_breaking, change.line()
    schemes = [c for c in report.changes if c.operation == "components"]
    assert schemes and not any(c.breaking for c in schemes), [c.line() for c in schemes]
    ok, lines = breaking.gate(report)
    assert ok is passes, "\n".join(lines)


def test_a_removed_scheme_is_named_and_what_breaks_is_the_requirement() -> None:
    changes = SecurityDiffer().changes(BEARER, SPECS / "bot-signature-major.yaml")
    lines = [c.line() for c in changes]
    assert "compatible  components: securitySchemes bearerAuth (http bearer) removed" in lines
    assert (
        "            - security requirement not met: a request with bearerAuth (http bearer) "
        "is refused" in lines[0]
    )


def test_security_is_compared_on_the_wire_not_by_name() -> None:
    base = yaml.safe_load(BEARER.read_text())
    renamed = yaml.safe_load(BEARER.read_text())
    renamed["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "Bearer"}}
    renamed["security"] = [{"token": []}]
    changes = security_changes(base, renamed)
    assert all(c.operation == "components" and not c.breaking for c in changes), changes
    # An operation that drops its security asks for less: compatible.
    relaxed = yaml.safe_load(BEARER.read_text())
    relaxed["paths"]["/{teamId}/call/end"]["post"]["security"] = []
    (change,) = security_changes(base, relaxed)
    assert change.operation == "POST /{teamId}/call/end" and not change.breaking
    # A header the scheme sends under another name breaks every operation that needs it.
    moved = yaml.safe_load(BEARER.read_text())
    moved["components"]["securitySchemes"]["bearerAuth"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Token",
    }
    changes = security_changes(base, moved)
    assert [c.breaking for c in changes] == [True, True, False]
    assert changes[-1].line() == (
        "compatible  components: securitySchemes bearerAuth changed "
        "(bearerAuth (http bearer) -> bearerAuth (apiKey header X-Token))"
    )


def test_the_2_0_0_contract_breaks_every_operation_of_1_0_0(tmp_path: Path) -> None:
    """Against the last commit of 1.0.0, found from the spec's history (clones may lack tags)."""
    try:
        commit = breaking.commit_of_version(ROOT, ROOT / "openapi.yaml", "1.0.0")
    except breaking.GateError as exc:
        pytest.skip(str(exc))
    shown = subprocess.run(
        ["git", "show", f"{commit}:openapi.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    base = tmp_path / "1.0.0.yaml"
    base.write_text(shown.stdout)
    assert yaml.safe_load(shown.stdout)["info"]["version"] == "1.0.0"
    changes = SecurityDiffer().changes(base, ROOT / "openapi.yaml")
    broken = [c for c in changes if c.breaking]
    assert len(broken) == len(yaml.safe_load(shown.stdout)["paths"]) == 12
    assert all("a request with bearerAuth (http bearer) is refused" in c.line() for c in broken)


@needs_optic
def test_the_cli_prints_every_change_and_fails_without_a_major_bump() -> None:
    done = gate_cli("--base-spec", str(BASE), "--spec", str(SPECS / "removed-response-field.yaml"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "BREAKING    POST /{teamId}/call/end: response 200 application/json field "
        "data.dialogDuration removed" in done.stdout
    )
    assert "info.version must go from 1.0.0 to 2.0.0" in done.stdout


@needs_optic
def test_identical_specs_pass() -> None:
    report = breaking.compare(BASE, BASE)
    assert report.changes == []
    assert breaking.gate(report)[0]


@needs_optic
def test_changelog_must_describe_the_new_version(tmp_path: Path) -> None:
    report = breaking.compare(BASE, SPECS / "removed-response-field-major.yaml")
    log = tmp_path / "CHANGELOG.md"
    log.write_text("# Changelog\n\n## 1.0.0\n\n- First.\n")
    ok, lines = breaking.gate(report, log)
    assert not ok and any("no section `## 2.0.0`" in line for line in lines)
    log.write_text("# Changelog\n\n## 2.0.0 (2026-12-01)\n\n- Removed a field.\n\n## 1.0.0\n")
    ok, lines = breaking.gate(report, log)
    assert not ok and any("BREAKING" in line and "2.0.0" in line for line in lines)
    log.write_text("# Changelog\n\n## 2.0.0 (2026-12-01)\n\n- **BREAKING** removed a field.\n")
    assert breaking.gate(report, log)[0]


def test_bad_input_is_named() -> None:
    done = gate_cli("--base-spec", str(SPECS / "nope.yaml"), "--spec", str(BASE))
    assert done.returncode == 2 and "nope.yaml: cannot read" in done.stderr
    done = gate_cli("--base", "no-such-ref-anywhere")
    assert done.returncode == 2 and "no such git commit" in done.stderr
    done = gate_cli("--frobnicate")
    assert done.returncode == 2 and "unrecognized arguments: --frobnicate" in done.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def one_commit_repo(tmp_path: Path) -> Path:
    """A repository whose one commit holds the base spec; returns the spec's path."""
    repo = tmp_path / "repo"
    repo.mkdir()
    spec = repo / "openapi.yaml"
    _git(repo, "init", "-q")
    shutil.copy(BASE, spec)
    _git(repo, "add", "openapi.yaml")
    _git(repo, "commit", "-qm", "1.0.0")
    return spec


def test_without_a_base_only_ci_fails(tmp_path: Path) -> None:
    """A shallow clone without tags has no base either: in CI the gate must not pass blind."""
    spec = one_commit_repo(tmp_path)
    done = gate_cli("--spec", str(spec))
    assert done.returncode == 0 and "Nothing to compare" in done.stdout, done.stdout + done.stderr
    done = gate_cli("--spec", str(spec), ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL: no release tag and no parent commit" in done.stderr


@needs_optic
def test_git_bases(tmp_path: Path) -> None:
    """One commit: nothing to compare; the last release tag; without tags, the last commit of
    the version before the spec's; explicit bases."""
    spec = one_commit_repo(tmp_path)
    repo = spec.parent
    done = gate_cli("--spec", str(spec))
    assert done.returncode == 0 and "Nothing to compare" in done.stdout, done.stdout + done.stderr

    _git(repo, "tag", "v1.0.0")
    shutil.copy(SPECS / "new-response-field.yaml", spec)
    _git(repo, "commit", "-qam", "1.1.0")
    shutil.copy(SPECS / "removed-response-field.yaml", spec)  # work tree, at 1.0.0 again
    done = gate_cli("--spec", str(spec))
    assert "openapi.yaml at v1.0.0" in done.stdout
    assert done.returncode == 1 and "data.dialogDuration removed" in done.stdout

    done = gate_cli("--spec", str(spec), "--base", "HEAD")
    assert "openapi.yaml at HEAD" in done.stdout
    assert "data.result removed" in done.stdout and done.returncode == 1

    _git(repo, "tag", "-d", "v1.0.0")  # a clone without tags still finds the version's commit
    shutil.copy(SPECS / "new-response-field.yaml", spec)  # 1.1.0, as committed
    done = gate_cli("--spec", str(spec))
    assert "openapi.yaml at 1.0.0, the version before 1.1.0 (commit " in done.stdout, done.stdout
    assert done.returncode == 0 and "compatible" in done.stdout, done.stdout + done.stderr
    shutil.copy(SPECS / "removed-response-field.yaml", spec)
    done = gate_cli("--spec", str(spec), "--base-version", "1.0.0")
    assert "openapi.yaml at 1.0.0 (commit " in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1 and "data.dialogDuration removed" in done.stdout
    done = gate_cli("--spec", str(spec), "--base-version", "9.9.9")
    assert done.returncode == 2 and "no commit of this history has openapi.yaml" in done.stderr
