"""`python -m fuzzing` against a server like a real deployment: the reference server with
`--known-ids` (other ids answered 404) and `--rate-limit` (429 with Retry-After), fuzzed with
`--fixtures`, `--rate-limit` and `--exclude`; faulty variants still caught with fixtures; the one
line naming the cause without fixtures; the calls ended on SIGINT, checked by asking the server.

The runs are slow (a time budget each, and a rate), so they run once per module, two at a time;
no test asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contract import demo
from contract.fixtures import FixturesError, parse, render
from contract.spec import load
from fuzzing.boundaries import HttpTransport
from fuzzing.boundary_cases import derive
from fuzzing.cleanup import Ledger
from fuzzing.ids import IdPlacer
from fuzzing.pace import Pace, retry_after
from fuzzing.request_signing import Bot
from reference_server.testing import ServerProcess
from testkit.faulty.harness import FuzzRun, fuzz, serve
from testkit.faulty.variants import VARIANTS
from testkit.signed_requests import signed
from testkit.spec import ROOT

SEED = 20261207
THREADS = [demo.thread(n) for n in range(1, 7)]
USERS = [demo.user(n) for n in range(1, 9)]
#: The server's limit, and the run's, below it (the boundary phase's two thousand cases take
#: about five seconds at this rate).
SERVER_RATE, RUN_RATE = 500, 400
#: The variant caught by its own check, and by the contract model's walk as well.
MODEL_404 = "user_list_not_found"
#: Variants of each kind of check, fuzzed with fixtures (the sandbox makes any id exist).
CAUGHT_WITH_FIXTURES = [
    "invite_after_end",
    "count_too_high",
    "null_accepted",
    "auth_ignored",
    "wrong_status",
    MODEL_404,
]
LEFT_ALONE = "call.audio/play"


@pytest.fixture(scope="module")
def fixtures_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-fixtures-") as folder:
        path = Path(folder) / "fixtures.toml"
        path.write_text(render(THREADS, USERS), encoding="utf-8")
        yield path


def staging(fixtures: Path, *extra: str) -> ServerProcess:
    """The reference server with the fixtures' ids only (and `extra` options), logging."""
    return ServerProcess(["--memory", "--known-ids", str(fixtures), *extra])


def end_call(url: str, thread: str) -> int:
    """Ask the server to end the call of `thread`: 409 means none is active."""
    body = json.dumps({"threadId": thread}).encode()
    return httpx.post(f"{url}/{demo.TEAM}/call/end", content=body, headers=signed(body)).status_code


def _clean_run(fixtures: Path) -> tuple[FuzzRun, str, dict[str, int]]:
    with staging(fixtures, "--rate-limit", str(SERVER_RATE)) as server:
        run = fuzz(
            "--url", server.base_url, "--fixtures", str(fixtures), "--rate-limit",
            str(RUN_RATE), "--exclude", LEFT_ALONE, "--budget", "6", "--seed", str(SEED),
        )  # fmt: skip
        after = {thread: end_call(server.base_url, thread) for thread in THREADS}
        return run, server.output(), after


def _without_fixtures(fixtures: Path) -> FuzzRun:
    with staging(fixtures, "--quiet") as server:
        return fuzz("--url", server.base_url, "--budget", "2", "--seed", str(SEED))


def _variant(name: str, fixtures: Path, check: str | None = None) -> FuzzRun:
    """The variant fuzzed with fixtures until `check` (by default its own) catches it; the
    budget is only a cap."""
    with serve(name, lifetime=300) as url:
        return fuzz(
            "--url", url, "--fixtures", str(fixtures), "--budget", "120", "--seed", str(SEED),
            "--stop-on", check or VARIANTS[name].caught_by,
        )  # fmt: skip


@dataclass
class Runs:
    clean: FuzzRun
    log: str  # the staging server's log of the clean run
    after: dict[str, int]  # each thread's answer to call/end once the clean run was over
    without: FuzzRun
    variants: dict[str, FuzzRun]
    #: MODEL_404 until the contract model's walk catches it too.
    model_404: FuzzRun


@pytest.fixture(scope="module")
def runs(fixtures_file: Path) -> Runs:
    with ThreadPoolExecutor(max_workers=2) as pool:
        clean = pool.submit(_clean_run, fixtures_file)
        without = pool.submit(_without_fixtures, fixtures_file)
        variants = {
            name: pool.submit(_variant, name, fixtures_file) for name in CAUGHT_WITH_FIXTURES
        }
        model_404 = pool.submit(_variant, MODEL_404, fixtures_file, "contract_model")
        run, log, after = clean.result()
        return Runs(
            run,
            log,
            after,
            without.result(),
            {n: job.result() for n, job in variants.items()},
            model_404.result(),
        )


def describe(run: FuzzRun) -> str:
    violations = (run.result or {}).get("violations", [])
    return "\n".join(
        [f"exit {run.returncode}", *(f"{v['check']}: {v['reason']}" for v in violations)]
    ) + ("\n" + run.stderr[-1500:] if run.stderr else "")


def test_with_fixtures_below_the_rate_limit_a_run_is_clean(runs: Runs) -> None:
    run = runs.clean
    assert run.returncode == 0, describe(run)
    result = run.result
    assert result is not None
    assert result["ok"] and not result["violations"]
    assert result["waits"]["rate_limit"] == RUN_RATE
    assert result["waits"]["retried"] == {} and result["waits"]["gave_up"] == 0  # no 429
    assert all("429" not in per for per in result["coverage"]["undocumented_statuses"].values())
    assert result["fixtures"]
    # the deliberate unknown ids were answered 404, and only they: 404 is a target here
    assert "404" not in result["coverage"]["not_targets"]
    assert f"Rate: at most {RUN_RATE} requests/s. 429/503 answers waited out and retried: 0" in (
        run.stdout
    )


def test_the_run_leaves_no_call_running(runs: Runs) -> None:
    run, after = runs.clean, runs.after
    assert run.result is not None
    assert run.result["cleanup"]["calls_left_running"] == 0
    assert "calls left running: 0" in run.stdout
    assert set(after.values()) == {409}, after  # asked afterwards: no call is active


def test_an_operation_left_out_is_never_sent_and_not_counted(runs: Runs) -> None:
    run, log = runs.clean, runs.log
    assert f"/{LEFT_ALONE}" not in log
    assert "/call/start" in log  # the log does show the others
    assert run.result is not None
    coverage = run.result["coverage"]
    assert coverage["left_out"] == [LEFT_ALONE]
    assert LEFT_ALONE not in coverage["statuses"]
    assert not any(name.startswith(f"{LEFT_ALONE}:") for name in coverage["transitions"])


def test_without_fixtures_one_line_names_the_cause(runs: Runs) -> None:
    run = runs.without
    assert run.returncode == 2, describe(run)
    assert "most answers were 404 for unknown ids: pass --fixtures" in run.stdout
    assert run.result is not None and run.result["cause"]
    assert not [v for v in run.result["violations"] if v["status"] == 404]
    assert len(run.result["violations"]) < 5, describe(run)


@pytest.mark.parametrize("name", CAUGHT_WITH_FIXTURES)
def test_faulty_variants_are_caught_with_fixtures(runs: Runs, name: str) -> None:
    run = runs.variants[name]
    assert run.result is not None, name
    assert run.returncode == 1, describe(run)
    assert VARIANTS[name].caught_by in run.checks_failed(), describe(run)
    assert run.result["cleanup"]["calls_left_running"] == 0


def test_a_404_for_ids_of_the_fixtures_is_a_model_violation(runs: Runs) -> None:
    """With fixtures the contract model tells a 404 for users that exist from one for users
    that do not: the walk's invitations by `userIds` name only users of the fixtures."""
    run = runs.model_404
    assert "contract_model" in run.checks_failed(), describe(run)
    assert any("known to exist" in v["reason"] for v in (run.result or {})["violations"])


def _wait_for(server: ServerProcess, pattern: str, process: subprocess.Popen[str]) -> None:
    """Until the server's log shows `pattern` (or the fuzzer ended)."""
    while not re.search(pattern, server.output()) and process.poll() is None:
        time.sleep(0.05)


def _interrupted(fixtures: Path, reports: Path, signals: int) -> tuple[int, str, dict[str, int]]:
    """Fuzz the staging server, send SIGINT `signals` times once a call started, then ask the
    server which calls are active."""
    with staging(fixtures) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "fuzzing", "--url", server.base_url, "--fixtures",
             str(fixtures), "--budget", "120", "--quiet", "--report-dir", str(reports)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )  # fmt: skip
        try:
            _wait_for(server, r'"POST /\w+/call/start" 200', process)
            for _ in range(signals):
                process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                # A run that does not stop: SIGABRT makes it print where each thread is.
                process.send_signal(signal.SIGABRT)
                pytest.fail(f"the run did not stop after SIGINT:\n{process.communicate()[0]}")
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        after = {thread: end_call(server.base_url, thread) for thread in THREADS}
    return process.returncode, output, after


def test_sigint_ends_every_call_the_run_started(fixtures_file: Path, tmp_path: Path) -> None:
    status, output, after = _interrupted(fixtures_file, tmp_path, 1)
    assert status == 128 + signal.SIGINT, output
    assert "Interrupted by SIGINT" in output
    assert "calls left running: 0" in output, output
    result = json.loads((tmp_path / "fuzz-result.json").read_text(encoding="utf-8"))
    assert result["interrupted"] == "SIGINT" and result["cleanup"]["calls_left_running"] == 0
    assert set(after.values()) == {409}, after


def test_a_second_sigint_stops_at_once_and_lists_what_was_left(
    fixtures_file: Path, tmp_path: Path
) -> None:
    status, output, after = _interrupted(fixtures_file, tmp_path, 2)
    assert status == 128 + signal.SIGINT, output
    left = json.loads((tmp_path / "fuzz-result.json").read_text(encoding="utf-8"))["cleanup"]
    listed = {entry["thread"] for entry in left["left"]}
    active = {thread for thread, answer in after.items() if answer == 200}
    assert active <= listed, output  # every call still active is listed as left running
    assert all(entry["reason"] == "stopped by a second interrupt" for entry in left["left"])
    assert f"calls left running: {len(listed)}" in output


# -- the pieces ---------------------------------------------------------------------------------


_T, _U = f'threads = ["{THREADS[0]}"]\n', f'users = ["{USERS[0]}"]\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (_T + _U + "rooms = []\n", 3, "unknown key `rooms`"),
        (f'threads = [\n  "{THREADS[0]}",\n  "5B0525"\n]\n' + _U, 3, "threads[1] '5B0525' is not"),
        (_T + f'\nusers = "{USERS[0]}"\n', 3, "`users` must be a list of strings"),
        (f'threads = ["{THREADS[0]}", "{THREADS[0]}"]\n' + _U, 1, "threads[1] "),
        (_T + _U + 'audio = ["ftp://x/a.ogg"]\n', 3, "is not an audio file URL of the spec"),
        (_T + "users = [\n", 2, ""),
        (_T, 1, "`users` is missing"),
    ],
)
def test_a_bad_fixtures_file_names_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(FixturesError) as error:
        parse(text, "f.toml")
    assert str(error.value).startswith(f"f.toml:{line}: "), error.value
    assert message in str(error.value)


def test_the_command_line_refuses_a_bad_fixtures_file(tmp_path: Path) -> None:
    bad = tmp_path / "fixtures.toml"
    bad.write_text(f'threads = ["{THREADS[0]}"]\nusers = ["{USERS[0]}"]\n[rooms]\n')
    run = fuzz("--url", "http://127.0.0.1:9", "--fixtures", str(bad), "--budget", "1")
    assert run.returncode == 2
    assert f"fuzz: --fixtures {bad}:3: unknown key `rooms`" in run.stderr


def test_ids_take_the_fixtures_place_and_validity_is_kept() -> None:
    fixtures = parse(render(THREADS[:2], USERS[:3]))
    placer = IdPlacer(fixtures)
    outside = [demo.user(100 + n) for n in range(4)]
    body = {"threadId": demo.thread(50), "userIds": [outside[0], outside[1], outside[0]]}
    placed = placer.place(body)
    assert placed["threadId"] in THREADS[:2]
    assert placed["threadId"] == placer.place(body)["threadId"]  # the same thread each time
    a, b, c = placed["userIds"]
    assert a == c != b and {a, b} <= set(USERS[:3])  # a repeat stays, distinct stay distinct
    many = placer.place({"threadId": THREADS[0], "userIds": outside})
    assert len(set(many["userIds"])) == 4 and len(set(many["userIds"]) & set(USERS[:3])) == 3
    assert placer.place({"threadId": "5B", "userId": 7}) == {"threadId": "5B", "userId": 7}


def test_a_rate_limit_answer_is_waited_out_and_retried() -> None:
    answers = iter([(429, "0"), (503, "0"), (503, None)])
    pace = Pace()
    assert pace.send(lambda: next(answers), lambda answer: answer) == (503, None)
    assert pace.retried == {429: 1, 503: 1} and pace.gave_up == 0
    assert retry_after(429, None) == 1.0 and retry_after(200, "5") is None
    assert retry_after(503, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_the_ledger_follows_calls_started_and_ended() -> None:
    ledger = Ledger()
    ledger.note(demo.TEAM, "call/start", {"threadId": THREADS[0]}, 200)
    ledger.note(demo.TEAM, "call/start", {"threadId": THREADS[1]}, None)  # no answer: maybe
    ledger.note(demo.TEAM, "call/start", {"threadId": THREADS[2]}, 409)  # not the run's
    ledger.note(demo.TEAM, "call/end", {"threadId": THREADS[1]}, 200)
    assert ledger.open() == [(demo.TEAM, THREADS[0])]


def test_an_unanswered_case_the_contract_refuses_is_not_put_on_the_ledger() -> None:
    """Interrupted before its answer, a near miss of call/start (a malformed team, say) started
    nothing on a server that keeps the contract, and call/end could not end it there anyway;
    a case meant to be accepted may have started a call, and goes on the ledger."""
    cases = [c for c in derive(load(), demo.TEAM, bot_id=demo.BOT_ID) if c.method == "call/start"]
    refused = next(c for c in cases if not c.inside and c.team != demo.TEAM)
    accepted = next(c for c in cases if c.inside)
    ledger = Ledger()
    transport = HttpTransport(
        "http://127.0.0.1:9", Bot(demo.BOT_ID, demo.SECRET_KEY), ledger=ledger
    )

    def interrupted(case: object) -> tuple[int, str | None]:
        raise KeyboardInterrupt

    transport._send = interrupted  # type: ignore[method-assign]
    for case in (refused, accepted):
        with pytest.raises(KeyboardInterrupt):
            transport(case)
    assert ledger.open() == [(accepted.team, accepted.json_body["threadId"])]
