"""The reference server as a process: SIGKILL and restart, clean stops, the command line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from contract import demo
from reference_server.testing import ServerProcess

TEAM = demo.TEAM
TOKEN = demo.TOKEN
USERS = [demo.user(n) for n in range(8)]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def post(
    server: ServerProcess,
    method: str,
    body: dict[str, Any],
    *,
    team: str = TEAM,
    token: str = TOKEN,
) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/{team}/{method}",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_killed_server_keeps_every_answered_call(tmp_path: Path) -> None:
    database = tmp_path / "calls.sqlite3"
    thread = demo.THREADS[0]
    # Many threads, each answered once: every one of them must outlive the SIGKILL.
    threads = [demo.thread(n) for n in range(200)]
    with ServerProcess(["--database", str(database), "--quiet"]) as server:
        assert (
            post(server, "call/start", {"threadId": thread, "direction": "incoming"}).status_code
            == 200
        )
        invite = post(server, "call.user/invite", {"threadId": thread, "userIds": USERS[:3]})
        assert invite.json()["data"] == {"invitedUsersCount": 3}
        assert (
            post(server, "call/pause", {"threadId": thread, "userId": USERS[0]}).status_code == 200
        )
        assert post(server, "call.recording/start", {"threadId": thread}).status_code == 200
        assert post(server, "call.stream/start", {"threadId": thread}).status_code == 200
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10) as client:
            for other in threads:
                answer = client.post(f"/{TEAM}/call/start", json={"threadId": other})
                assert answer.status_code == 200
        server.kill()  # right after the last answer: no shutdown, no checkpoint
        assert server.process is not None and server.process.returncode == -signal.SIGKILL

    with ServerProcess(["--database", str(database), "--quiet"]) as server:
        assert post(server, "call/start", {"threadId": thread}).status_code == 409
        again = post(server, "call.user/invite", {"threadId": thread, "userIds": USERS[:4]})
        assert again.json()["data"] == {"invitedUsersCount": 1}
        unpause = post(server, "call/unpause", {"threadId": thread, "userIds": USERS[:3]})
        assert unpause.json()["data"] == {"unpausedUsersCount": 1}
        assert post(server, "call.recording/start", {"threadId": thread}).status_code == 409
        stop = post(server, "call.recording/stop", {"threadId": thread})
        assert stop.status_code == 200
        file_url = stop.json()["data"]["fileUrl"]
        assert file_url.startswith(server.base_url + "/recordings/")
        assert httpx.get(file_url, timeout=10).status_code == 200
        assert post(server, "call.stream/start", {"threadId": thread}).status_code == 409
        end = post(server, "call/end", {"threadId": thread}).json()["data"]
        assert end["result"] == "answered" and end["direction"] == "incoming"
        assert 0 <= end["dialogDuration"] <= end["callDuration"]
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=10) as client:
            lost = [
                other
                for other in threads
                if client.post(f"/{TEAM}/call/start", json={"threadId": other}).status_code != 409
            ]
        assert lost == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_server_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    database = tmp_path / "calls.sqlite3"
    with ServerProcess(["--database", str(database)]) as server:
        assert post(server, "call/start", {"threadId": USERS[0]}).status_code == 200
        assert server.stop(sig) == 0
        output = server.output()
    assert output.rstrip().endswith(f"stopped ({signal.Signals(sig).name})")
    # One log line per request, with its status.
    assert f'"POST /{TEAM}/call/start" 200' in output
    # Closed cleanly: the last connection checkpointed the WAL into the database file.
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (1,)


def test_tokens_come_from_the_environment_and_the_options(tmp_path: Path) -> None:
    other = demo.OTHER_TEAM
    env = {**os.environ, "WORKONFLOW_TOKENS": f"alpha={TEAM}, beta={other}"}
    with ServerProcess(["--memory", "--token", f"gamma={other}"], env=env) as server:
        output = server.output()
        assert f"token alpha -> team {TEAM}" in output
        assert f"token beta -> team {other}" in output
        assert f"token gamma -> team {other}" in output
        assert TOKEN not in output
        assert "in memory" in output
        body = {"threadId": USERS[1]}
        assert post(server, "call/start", body, token=TOKEN).status_code == 401
        assert post(server, "call/start", body, token="alpha").status_code == 200
        assert post(server, "call/start", body, token="beta").status_code == 403
        assert post(server, "call/start", body, team=other, token="gamma").status_code == 200


def test_the_default_token_is_printed_at_start() -> None:
    env = {k: v for k, v in os.environ.items() if k != "WORKONFLOW_TOKENS"}
    with ServerProcess(["--memory"], env=env) as server:
        assert f"token {TOKEN} -> team {TEAM}" in server.output()
        assert post(server, "call/start", {"threadId": USERS[2]}).status_code == 200


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--token", "nothing"], "", "is not TOKEN=TEAM"),
        (["--token", f"tok={TEAM.upper()}"], "", "invalid team id"),
        ([], "tok=team", "invalid team id"),
        ([], f"a b={TEAM}", "invalid token"),
        (["--memory", "--database", "x.sqlite3"], "", "not allowed with argument"),
        (["--database", "/nonexistent-dir/x.sqlite3"], "", "cannot open the database"),
        (["--port", "99999"], "", "cannot listen"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], env: str, message: str) -> None:
    environment = {**os.environ, "WORKONFLOW_TOKENS": env}
    result = subprocess.run(
        [sys.executable, "-m", "reference_server", "--port", "0", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
    )
    assert result.returncode == 2
    assert message in result.stderr
