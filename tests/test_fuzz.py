"""`python -m fuzzing` (behind `nox -s fuzz`) end to end: it gives no false alarm on the
reference server, reports what it finds without the secret key, replays a seed, and fails
clearly when the target cannot be used (tests/test_fuzz_variants.py: it catches each faulty
variant).

The fuzzing runs are slow, so they all run once per module, with fixed seeds, two at a time;
the tests then read their results (in a parallel run this module stays on one worker:
tests/conftest.py). The runs end by themselves (`--passes`, `--stop-on`) or after a budget
that the phase they are read for never needs: none depends on the machine's speed.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree

import pytest

from contract.demo import BOT_ID, SECRET_KEY, TEAM
from contract.spec import load
from fuzzing.embedded import ReferenceServer
from fuzzing.request_signing import Bot
from testkit.faulty.harness import SEED, FuzzRun, budget_of, fuzz, fuzz_variant, serve
from testkit.faulty.variants import VARIANTS
from testkit.spec import ROOT

#: The budget of a run that ends by itself (`--passes`, `--stop-on`): a cap that a slow or
#: loaded machine does not reach, not a measure of its speed.
CAP = 120
SCHEMATHESIS_PHASES = ("examples", "coverage", "fuzzing", "stateful")
#: A variant caught by the contract model: its run is made twice, and its report is read.
REPLAY = "invite_after_end"
#: Variants caught by the boundary phase (a field, a forged signature) whose reports are read.
REPORTED = "null_accepted"
FORGERY = "millisecond_timestamps"
#: A bot and secret key of the test's own: no output or report file may ever show the secret.
CUSTOM_BOT = {"WORKONFLOW_BOT_ID": "c" * 24, "WORKONFLOW_SECRET_KEY": "s3cret-not-for-print"}
SECRET_RUN = "null_accepted"


def _secret_run() -> FuzzRun:
    """A faulty server that knows only the custom bot, fuzzed as that bot (from the variables)."""
    with serve(SECRET_RUN, lifetime=240, env=CUSTOM_BOT) as url:
        return fuzz(
            "--url", url, "--budget", str(CAP), "--seed", str(SEED),
            "--stop-on", VARIANTS[SECRET_RUN].caught_by, env=CUSTOM_BOT,
        )  # fmt: skip


def _fuzz_job(variant: str | None, budget: int, *args: str) -> FuzzRun:
    """Fuzz a faulty variant, or with `None` the reference server that the command starts."""
    if variant == "secret":
        return _secret_run()
    if variant is None:
        return fuzz("--budget", str(budget), "--seed", str(SEED), *args)
    return fuzz_variant(variant, *args, budget=budget, seed=SEED)


@pytest.fixture(scope="module")
def runs() -> dict[str, FuzzRun]:
    # Runs sized by their work, not by the clock: the reference run ends after one pass of
    # every phase, the replayed variant at its first violation; their budgets are only caps.
    # The longest (the reference run) first, so that both threads end at about the same time.
    stop_on = ("--stop-on", VARIANTS[REPLAY].caught_by)
    jobs: dict[str, tuple[str | None, int, tuple[str, ...]]] = {
        "reference": (None, CAP, ("--passes", "1"))
    }
    jobs.update({name: (name, budget_of(name), ()) for name in (REPORTED, FORGERY)})
    jobs["replay"] = (REPLAY, CAP, stop_on)
    jobs["replay-again"] = (REPLAY, CAP, stop_on)
    jobs["secret"] = ("secret", CAP, ())
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_fuzz_job, variant, budget, *args)
            for name, (variant, budget, args) in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_the_reference_server_gives_no_false_alarm(runs: dict[str, FuzzRun]) -> None:
    run = runs["reference"]
    assert run.returncode == 0, run.describe()
    assert run.result is not None
    assert run.result["ok"] and not run.result["violations"] and not run.result["errors"]
    assert run.result["cases"] > 100
    # every phase ran, the stateful one included (it follows the spec's links)
    assert all(
        run.result["phase_cases"].get(phase, 0) > 0
        for phase in ("examples", "coverage", "fuzzing", "stateful")
    ), run.result["phase_cases"]
    assert run.result["phase_cases"].get("boundaries", 0) > 500  # the spec's near misses
    checks = {row["check"] for row in run.result["tally"]}
    assert {
        "contract_model",
        "spec_boundaries",
        "other_team_refused",
        "positive_data_acceptance",
        "negative_data_rejection",
        "response_schema_conformance",
    } <= checks
    assert f"Seed {SEED}: rerun with --seed {SEED}" in run.stdout


def test_passes_end_a_run_after_its_turns_whatever_is_left_of_the_budget(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs["reference"]
    assert run.result is not None
    assert run.result["stop_reason"] == "passes" and run.result["passes"] == 1
    assert run.result["elapsed"] < CAP  # it ended by itself, well within its cap
    # every phase had its turn, and none was cut short
    assert {run.result["phases"][phase] for phase in SCHEMATHESIS_PHASES} == {"success"}
    assert "Ended after 1 pass(es) of fuzzing and stateful (--passes)." in run.stdout
    assert f"rerun with --seed {SEED} --budget {CAP} --passes 1." in run.stdout
    assert "Interrupted" not in run.stdout


def test_stop_on_ends_the_run_at_its_check_without_the_phases_that_never_report_it(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs["replay"]  # --stop-on contract_model: the boundary phase never reports it
    assert run.result is not None
    assert run.result["stop_reason"] == "stop_on" and run.result["stop_on"] == "contract_model"
    assert run.result["left_out_phases"] == ["boundaries"]
    assert "boundaries" not in run.result["phase_cases"]
    assert "Stopped at the first violation of contract_model (--stop-on)." in run.stdout
    assert "Phases left out: boundaries" in run.stdout
    assert not run.result["interrupted"] and "Interrupted" not in run.stdout


def test_junit_report_of_a_clean_run(runs: dict[str, FuzzRun]) -> None:
    run = runs["reference"]
    assert run.junit is not None
    suite = ElementTree.fromstring(run.junit).find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    names = {(case.get("classname"), case.get("name")) for case in suite.iter("testcase")}
    assert ("POST /{teamId}/call/start", "contract_model") in names
    assert ("POST /{teamId}/call/start", "spec_boundaries") in names
    assert len(names) == int(suite.get("tests", "0"))
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["seed"] == str(SEED)


def test_a_violation_is_reported_with_check_operation_reason_and_curl(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs["replay"]  # REPLAY, fuzzed with its budget
    line = next((ln for ln in run.stdout.splitlines() if "[contract_model]" in ln), None)
    assert line is not None, run.stdout
    assert re.match(
        r"\d+\. \[contract_model\] POST /\{teamId\}/call\.user/invite: expected 409, got 200: "
        r"call\.user/invite needs an active call: .*call/end answered 200",
        line,
    ), line
    assert run.result is not None
    violation = next(v for v in run.result["violations"] if v["check"] == "contract_model")
    assert 'eval "$(printf %s "$body" | python -m fuzzing sign --shell' in violation["curl"]
    assert f"/{TEAM}/call.user/invite" in violation["curl"]
    assert SECRET_KEY not in run.stdout  # the secret key is never printed
    suite = ElementTree.fromstring(run.junit or "").find("testsuite")
    assert suite is not None
    failed = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert "contract_model" in failed


def test_a_boundary_violation_names_field_constraint_value_and_reproduces_with_curl(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs[REPORTED]
    lines = run.stdout.splitlines()
    line = next((ln for ln in lines if "[spec_boundaries] POST /{teamId}/call/start" in ln), None)
    assert line is not None, run.stdout
    assert line.endswith(
        "POST /{teamId}/call/start: direction: not nullable, given as null: expected 400, got 200"
    ), line
    snippet = [ln.strip() for ln in lines[lines.index(line) + 1 : lines.index(line) + 4]]
    assert snippet[0].startswith("body=") and '"direction":null' in snippet[0], snippet
    assert snippet[1] == (
        f'eval "$(printf %s "$body" | python -m fuzzing sign --shell --bot-id {BOT_ID})"'
    ), snippet
    assert snippet[2].startswith('curl -X POST -H "X-Bot-Id: $FUZZ_BOT_ID"'), snippet
    assert f"/{TEAM}/call/start" in snippet[2]
    assert SECRET_KEY not in run.stdout


def test_a_forgery_violation_names_header_rule_and_forgery_and_forges_it_again(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs[FORGERY]
    assert run.result is not None, run.describe()
    violation = next(v for v in run.result["violations"] if v["reason"].startswith("X-timestamp"))
    assert violation["reason"].startswith(
        "X-timestamp: security: the time in whole Unix seconds, in milliseconds, signed over "
        "the text sent: expected 401, got 200"
    ), violation["reason"]
    assert f"--bot-id {BOT_ID} --spell=X-timestamp=milliseconds" in violation["curl"]
    # the one class of forgery this server takes, and no other
    assert {v["reason"].split(",")[0] for v in run.result["violations"]} == {
        "X-timestamp: security: the time in whole Unix seconds"
    }
    assert SECRET_KEY not in run.stdout + "".join(run.files.values())


def test_the_secret_key_appears_in_no_output_and_no_report(runs: dict[str, FuzzRun]) -> None:
    run = runs["secret"]
    assert run.returncode == 1, run.describe()  # signed as the custom bot: the fault was found
    assert run.files and "fuzz-result.json" in run.files
    secret = CUSTOM_BOT["WORKONFLOW_SECRET_KEY"]
    for name, text in {"stdout": run.stdout, "stderr": run.stderr, **run.files}.items():
        assert secret not in text, name
    assert CUSTOM_BOT["WORKONFLOW_BOT_ID"] in run.stdout  # the bot is named, its key is not


def test_the_same_seed_replays_the_same_run(runs: dict[str, FuzzRun]) -> None:
    def first(run: FuzzRun) -> tuple[str, str, str]:
        assert run.result is not None
        violation = run.result["violations"][0]
        return (
            violation["check"],
            violation["operation"],
            re.sub(r":\d+/", ":PORT/", violation["curl"]),
        )

    assert runs["replay"].result and runs["replay-again"].result
    assert first(runs["replay"]) == first(runs["replay-again"])


# The target cannot be used: one clear line, exit status 2, no stack trace -----------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fuzzing", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_unreachable_target() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        done = run_cli("--url", f"http://127.0.0.1:{port}", "--budget", "5")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"fuzz: cannot reach http://127.0.0.1:{port}: [Errno 111] Connection refused"
    ]
    assert "Traceback" not in done.stdout + done.stderr


def test_refused_signature_and_wrong_team() -> None:
    with ReferenceServer() as server:
        secret = run_cli("--url", server.url, "--secret-key", "wrong-secret")
        team = run_cli("--url", server.url, "--team", "0" * 24)
    assert secret.returncode == 2 and team.returncode == 2
    assert secret.stderr.strip() == (
        f"fuzz: {server.url}: the server refused the bot's signature (401): check "
        f"--bot-id/--secret-key (bot {BOT_ID})"
    )
    assert "wrong-secret" not in secret.stdout + secret.stderr
    assert team.stderr.strip() == (
        f"fuzz: {server.url}: bot {BOT_ID} is not installed in team {'0' * 24} (403): check --team"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "ABC"], f"'ABC' is not an id of the spec ({load().id_pattern})"),
        (["--budget", "0"], "0 is not at least 1"),
        (["--seed", "x"], "'x' is not an integer"),
        (["--url", "ftp://example"], "--url 'ftp://example' is not an http(s) URL"),
        (["--stop-on", "no_such_check"], "--stop-on 'no_such_check' is not a check of this"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_outer_time_limit_stops_a_run_that_outlives_it() -> None:
    from fuzzing import runner

    with ReferenceServer() as server:
        started = time.monotonic()
        result = runner.run(
            runner.Options(server.url, TEAM, Bot(BOT_ID, SECRET_KEY), budget=60, seed=SEED),
            hard_timeout=1,
        )
        seconds = time.monotonic() - started
    assert result.stalled
    assert result.errors == ["the run outlived its limit of 1 s and was stopped"]
    assert not result.ok
    assert seconds < 1 + 15
