"""The reference server as a process: SIGKILL and restart, clean stops, the command line."""

from __future__ import annotations

import json
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
from contract.signing import Bot as Signer
from reference_server.testing import ServerProcess
from testkit.signed_requests import DEMO_BOT, BotAuth, signed

TEAM = demo.TEAM
USERS = [demo.user(n) for n in range(8)]
#: Bots for the command-line tests: ids and secrets of their own (not the demo bot's).
ALPHA = Signer(demo.user(801), "alpha-secret-4f1c")
BETA = Signer(demo.user(802), "beta-secret-9d2e")
GAMMA = Signer(demo.user(803), "gamma-secret-77aa")


def post(
    server: ServerProcess,
    method: str,
    body: dict[str, Any],
    *,
    team: str = TEAM,
    bot: Signer = DEMO_BOT,
) -> httpx.Response:
    content = json.dumps(body).encode()
    return httpx.post(
        f"{server.base_url}/{team}/{method}",
        content=content,
        timeout=10,
        headers=signed(content, bot),
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
        with httpx.Client(base_url=server.base_url, auth=BotAuth(), timeout=10) as client:
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
        with httpx.Client(base_url=server.base_url, auth=BotAuth(), timeout=10) as client:
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


def test_bots_come_from_the_environment_and_the_options() -> None:
    other = demo.OTHER_TEAM
    bots = f"{ALPHA.bot_id}={ALPHA.secret_key}:{TEAM} ; {BETA.bot_id}={BETA.secret_key}:{other}"
    gamma = f"{GAMMA.bot_id}={GAMMA.secret_key}:{TEAM},{other}"
    env = {**os.environ, "WORKONFLOW_BOTS": bots}
    with ServerProcess(["--memory", "--bot", gamma], env=env) as server:
        body = {"threadId": USERS[1]}
        assert post(server, "call/start", body).status_code == 401  # the demo bot: not given
        assert post(server, "call/start", body, bot=ALPHA).status_code == 200
        assert post(server, "call/start", body, bot=BETA).status_code == 403
        assert post(server, "call/start", body, team=other, bot=BETA).status_code == 200
        invite = post(server, "call.user/invite", {**body, "userId": USERS[2]}, bot=GAMMA)
        assert invite.status_code == 200
        assert post(server, "call/end", body, team=other, bot=GAMMA).status_code == 200
        forged = Signer(ALPHA.bot_id, "not-alpha's-secret")
        assert post(server, "call/end", body, bot=forged).status_code == 401
        server.stop()  # the access log is written in batches: all of it, once stopped
        output = server.output()
    for bot, teams in ((ALPHA, TEAM), (BETA, other), (GAMMA, f"{TEAM}, {other}")):
        assert f"bot {bot.bot_id} in team {teams}" in output
    # No secret key in the output: not at start, not in the access log, not on a refusal.
    for secret in (ALPHA.secret_key, BETA.secret_key, GAMMA.secret_key, "not-alpha's-secret"):
        assert secret not in output
    assert f'"POST /{TEAM}/call/end" 401' in output


def test_the_demo_bot_is_the_default_and_its_secret_is_not_printed() -> None:
    env = {k: v for k, v in os.environ.items() if k != "WORKONFLOW_BOTS"}
    with ServerProcess(["--memory"], env=env) as server:
        assert post(server, "call/start", {"threadId": USERS[2]}).status_code == 200
        output = server.output()
    assert f"bot {demo.BOT_ID} in team {TEAM} (the demo bot" in output
    assert demo.SECRET_KEY not in output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--bot", "nothing"], "", "BOT_ID=SECRET:TEAM"),
        (["--bot", f"{ALPHA.bot_id}=s3cr3t:{TEAM.upper()}"], "", "team 1 of bot"),
        ([], f"{ALPHA.bot_id}=s3cr3t:team", "WORKONFLOW_BOTS: team 1 of bot"),
        ([], f"not-a-bot=s3cr3t:{TEAM}", "the bot id is not an id"),
        ([], f"s3cr3t:{ALPHA.bot_id}={TEAM}", "BOT_ID=SECRET:TEAM"),
        (["--bot", f"{ALPHA.bot_id}=:{TEAM}"], "", "secret key"),
        (["--memory", "--database", "x.sqlite3"], "", "not allowed with argument"),
        (["--database", "/nonexistent-dir/x.sqlite3"], "", "cannot open the database"),
        (["--port", "99999"], "", "cannot listen"),
    ],
)
def test_bad_options_exit_2_with_a_message(args: list[str], env: str, message: str) -> None:
    environment = {**os.environ, "WORKONFLOW_BOTS": env}
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
    assert "s3cr3t" not in result.stderr + result.stdout  # a secret key is never shown
