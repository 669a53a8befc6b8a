"""The compatibility matrix (`python -m toolchain.compat`, `nox -s compat`) can fail, and then
names the cause: a driver against a server that answers wrongly, a spec that breaks a
generator, and the judging of known causes. The matrix itself runs in CI as `nox -s compat`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from contract.spec import ROOT
from toolchain import compat, compat_clients, compat_judging, compat_report
from toolchain.compatibility import STEPS

OURS = "Python client (generated/client, CallApi)"
GENERATOR = "openapi-generator python"


@pytest.mark.parametrize(
    ("variant", "column", "cause"),
    [
        ("media_type_ignored", "errors", "415 text/plain body: answered 200, expected 415"),
        (
            "count_too_high",
            "lifecycle",
            "invite userIds: invitedUsersCount 3, expected 2",
        ),
    ],
)
def test_a_server_that_answers_wrongly_fails_the_cell_that_saw_it(
    tmp_path: Path, variant: str, column: str, cause: str
) -> None:
    rows = compat.matrix(
        tmp_path, [OURS], server_module="testkit.faulty", server_args=[variant], known=[]
    )
    cells = rows[0].cells
    assert cells[column].ok is False and not cells[column].known
    assert cells[column].text.startswith(cause), cells[column].text
    assert cells["compiled"].ok is True
    assert compat_judging.failed(rows) == [f"{OURS} / {column}: {cells[column].text}"]
    printed = compat_report.as_text(rows)
    assert f"{OURS} / {column}: FAIL: {cause}" in printed


def test_the_reference_server_passes_our_client(tmp_path: Path) -> None:
    rows = compat.matrix(tmp_path, [OURS], known=[])
    assert compat_judging.failed(rows) == []
    cells = rows[0].cells
    assert cells["lifecycle"].text == f"ok ({len(compat_judging.LIFECYCLE)} steps)"
    assert cells["errors"].text == f"ok ({len(compat_judging.ERRORS)} steps)"
    # Our client refuses a users body with neither field before sending it.
    assert any("refused by the client" in note for note in rows[0].notes)


def test_a_spec_that_breaks_the_generator_names_the_first_problem(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("openapi-generator needs Java")
    # The full spec, links included, where the spec for generators should be.
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    (tmp_path / "openapi.generators.json").write_text(json.dumps(spec))
    row = compat.matrix(tmp_path, [GENERATOR], known=[])[0]
    generated = row.cells["generated"]
    assert generated.ok is False
    assert generated.text.startswith("SpecValidationException ("), generated.text
    assert "requestBody is not of type `string`" in generated.text
    assert [row.cells[c].text for c in ("compiled", "lifecycle", "errors")] == ["-", "-", "-"]


def _steps(**changes: Mapping[str, object]) -> list[dict[str, object]]:
    """A driver's report in which every step answered as expected, but for `changes`."""
    steps: list[dict[str, object]] = []
    for name in STEPS:
        if name in compat_judging.EXPECTED:
            data = {k: ("x" if v is ... else v) for k, v in compat_judging.EXPECTED[name].items()}
            step = {"status": 200, "code": 200, "data": data, "error": None, "sent": None}
        else:
            status = int(name.split()[0])
            step = {"status": status, "code": status, "data": None, "error": "E", "sent": None}
        steps.append({"name": name, **step, **changes.get(name, {})})
    return steps


def test_a_known_cause_is_shown_but_does_not_fail_and_a_stale_one_is_named() -> None:
    both = "invite userId and userIds"
    known = [{"client": GENERATOR, "step": both, "cause": "Multiple matches", "why": "spec"}]
    failing = _steps(
        **{both: {"status": None, "code": None, "error": "ValueError: Multiple matches found"}}
    )
    lifecycle, errors, _ = compat_judging.judge_driver_steps(failing, known, GENERATOR)
    assert (lifecycle.ok, lifecycle.known, errors.ok) == (False, True, True)
    assert lifecycle.show() == f"KNOWN: {both}: ValueError: Multiple matches found"
    row = compat_judging.Row(GENERATOR, {"lifecycle": lifecycle, "errors": errors})
    assert compat_judging.failed([row]) == []
    assert compat_judging.stale_known([row], known) == []
    # Another cause in the same step is not the known one.
    other = _steps(**{both: {"status": 500, "code": 500, "error": "ServiceException: (500)"}})
    lifecycle, _, _ = compat_judging.judge_driver_steps(other, known, GENERATOR)
    assert lifecycle.ok is False and not lifecycle.known
    # Once the cause is gone, the entry is named as stale.
    lifecycle, errors, _ = compat_judging.judge_driver_steps(_steps(), known, GENERATOR)
    assert lifecycle.ok is True
    assert (
        compat_judging.stale_known([compat_judging.Row(GENERATOR, {"lifecycle": lifecycle})], known)
        == known
    )


def test_the_neither_body_is_shown_as_sent() -> None:
    neither = "400 neither userId nor userIds"
    _, errors, notes = compat_judging.judge_driver_steps(
        _steps(**{neither: {"sent": "{}"}}), [], "typescript-fetch"
    )
    assert errors.ok is True
    assert notes == [f"{neither}: sent {{}}, answered 400"]
    # Accepted with 200: the cell fails and says so.
    accepted = _steps(**{neither: {"status": 200, "code": 200, "sent": "{}"}})
    _, errors, _ = compat_judging.judge_driver_steps(accepted, [], "typescript-fetch")
    assert errors.ok is False and errors.text == f"{neither}: answered 200, expected 400"


def test_the_known_causes_file_names_steps_and_clients_that_exist() -> None:
    for entry in compat_judging.load_known():
        assert entry["client"] in compat_clients.CLIENTS
        assert entry["step"] in STEPS
        assert entry["cause"] and entry["why"]


def test_the_lifecycle_expectations_come_from_the_contract_model() -> None:
    # The model computes what the drivers' steps must answer on a thread never used before;
    # these are the answers the scenario has always expected of it.
    expected = compat_judging.EXPECTED
    assert expected["start"] == {"direction": "outgoing"}
    counts = {name: want for name, want in expected.items() if "Count" in "".join(want)}
    assert counts == {
        "invite userIds": {"invitedUsersCount": 2},
        "invite userId and userIds": {"invitedUsersCount": 1},  # userId wins over userIds
        "pause userId": {"pausedUsersCount": 1},
        "unpause userIds": {"unpausedUsersCount": 1},
        "exclude userId": {"excludedUsersCount": 1},
    }
    assert expected["recording start"] == {} and expected["recording stop"] == {"fileUrl": ...}
    assert expected["end"]["direction"] == "outgoing"
    assert {key for key, want in expected["end"].items() if want is ...} == {
        "callDuration",
        "dialogDuration",
        "result",
    }
    assert list(expected) == list(compat_judging.LIFECYCLE)
